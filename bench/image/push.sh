#!/usr/bin/env bash
# Image push benchmark: scar's daemonless assemble-and-push
# (examples/bench_push.rs: Registries::resolve, image::build, Registries::push)
# vs Debian's `skopeo copy` pushing the same final image, side by side in one
# run, each push a fresh process timed from outside.
#
#   bench/image/push.sh [RUNS]        # default 5 runs, after 1 warm-up run
#
# Once: a source registry gets a base of ~100 MiB of incompressible data in 5
# gzip layers (`bench_push seed`). Then per run, with two EMPTY destination
# registries started fresh (own storage folders, free 127.0.0.1 ports):
#   scar 1st     resolve the base, assemble (supervisor + config + script v1
#                into a fresh layer cache), push to registry A (empty)
#   scar 2nd     the same after a script change (v2), to registry A again
#   skopeo 1st   skopeo copy A's v2 image (the final image scar built) into
#                registry B (empty)
#   skopeo 2nd   skopeo copy A's v1 image into B (differs from what B has in
#                its one layer, config and manifest: the same delta as scar's)
# Fairness: one machine; every registry is the same docker-registry binary on
# loopback over plain HTTP (--src/dest-tls-verify=false for skopeo, a
# registries.conf marking them insecure for scar); each side reads every base
# layer from one registry and writes it to another; the images are the same
# bytes (the script checks that skopeo's manifests in B have the digests
# scar's report gave, and that both registries' storage grew alike). scar's
# time also includes resolving the base and writing its layer (gzip of the
# supervisor), which skopeo, copying a finished image, does not do.
# skopeo copies layers in parallel (its default); scar pushes one at a time.
#
# Prints the median (min-max) of wall time, CPU time (user+sys) and peak RSS
# (GNU time's %M) per push, bytes sent (scar: its push report; skopeo: the
# blob and manifest bytes its destination stored), bytes stored (growth of the
# destination registry's blob store, both sides), and scar/skopeo ratios.
# Env: BENCH_PUSH_BIN (default target/release/examples/bench_push),
#      SUPERVISOR_BIN (default: the static release build the layer ships,
#      from supervisor/build-static.sh release), BASE_MIB (100), BASE_LAYERS (5).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
runs="${1:-5}"
missing=()
command -v skopeo >/dev/null || missing+=(skopeo)
command -v docker-registry >/dev/null || missing+=(docker-registry)
[ -x /usr/bin/time ] || missing+=(time)
command -v python3 >/dev/null || missing+=(python3)
if [ ${#missing[@]} -gt 0 ]; then
  echo "missing: ${missing[*]}; install with: apt-get install ${missing[*]}" >&2
  exit 1
fi
bin="${BENCH_PUSH_BIN:-$root/target/release/examples/bench_push}"
[ -x "$bin" ] || { echo "$bin is missing; build it with: cargo build --release --example bench_push" >&2; exit 1; }
if [ -z "${SUPERVISOR_BIN:-}" ]; then
  SUPERVISOR_BIN="$("$root/supervisor/build-static.sh" release)"
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

python3 - "$runs" "$bin" "$SUPERVISOR_BIN" "$work" "${BASE_MIB:-100}" "${BASE_LAYERS:-5}" <<'PY'
import hashlib, json, os, socket, statistics, subprocess, sys, time, urllib.request

runs, bench, supervisor, work = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
base_mib, base_layers = int(sys.argv[5]), int(sys.argv[6])
MANIFEST_TYPES = ",".join([
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json"])
procs = []

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def start_registry(name):
    """A fresh docker-registry on a free port; returns (host, storage dir, process)."""
    d = os.path.join(work, name); storage = os.path.join(d, "storage")
    os.makedirs(storage)
    port = free_port()
    cfg = os.path.join(d, "config.yml")
    with open(cfg, "w") as f:
        f.write(f"version: 0.1\nlog: {{level: error}}\nstorage: {{filesystem: {{rootdirectory: {storage}}}}}\n"
                f"http: {{addr: 127.0.0.1:{port}}}\n")
    p = subprocess.Popen(["docker-registry", "serve", cfg], stdin=subprocess.DEVNULL,
                         stdout=open(os.path.join(d, "log"), "w"), stderr=subprocess.STDOUT)
    procs.append(p)
    for _ in range(200):
        if p.poll() is not None:
            sys.exit(f"docker-registry {name} exited: " + open(os.path.join(d, "log")).read())
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1).status == 200:
                return f"127.0.0.1:{port}", storage, p
        except OSError:
            time.sleep(0.05)
    sys.exit(f"docker-registry {name} did not answer on 127.0.0.1:{port}")

def stop(p):
    p.terminate(); p.wait(); procs.remove(p)

def stored_bytes(storage):
    """Bytes in the registry's blob store (layers, configs, manifests)."""
    total = 0
    for dirpath, _, files in os.walk(os.path.join(storage, "docker/registry/v2/blobs")):
        total += sum(os.path.getsize(os.path.join(dirpath, f)) for f in files if f == "data")
    return total

def manifest_digest(host, repo, tag):
    req = urllib.request.Request(f"http://{host}/v2/{repo}/manifests/{tag}", headers={"Accept": MANIFEST_TYPES})
    return "sha256:" + hashlib.sha256(urllib.request.urlopen(req, timeout=10).read()).hexdigest()

def timed(name, argv):
    """Runs argv as a fresh process under GNU time: (wall s, cpu s, peak RSS MiB, stdout)."""
    rss = os.path.join(work, name + ".time")
    t0 = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-f", "%M %U %S", "-o", rss] + argv,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"{name} failed ({' '.join(argv)}):\n{r.stderr}")
    kib, user, sys_ = open(rss).read().split()[-3:]
    return wall, float(user) + float(sys_), float(kib) / 1024.0, r.stdout

src, src_storage, _ = start_registry("src")
seeded = json.loads(subprocess.run([bench, "seed", "--registry", src, "--mib", str(base_mib),
                                    "--layers", str(base_layers)],
                                   check=True, stdout=subprocess.PIPE, text=True).stdout)
base_bytes = seeded["layer_bytes"]
scripts = {}
for v in ("v1", "v2"):
    d = os.path.join(work, "script-" + v); os.makedirs(d)
    scripts[v] = os.path.join(d, "run.sh")
    with open(scripts[v], "w") as f:
        f.write(f"#!/bin/sh\n# {v}\nconvert \"$INPUT_FILE_PATH\" -resize 50% \"$TMP_OUTPUT_DIR/out.png\"\n")

rows = {k: [] for k in ("scar1", "scar2", "skopeo1", "skopeo2")}
phases = []
digests = set()
for run in range(runs + 1):  # run 0 is the warm-up (page cache, binaries)
    a, a_storage, pa = start_registry(f"a{run}")
    b, b_storage, pb = start_registry(f"b{run}")
    conf = os.path.join(work, f"registries{run}.conf")
    with open(conf, "w") as f:
        for h in (src, a, b):
            f.write(f'[[registry]]\nlocation = "{h}"\ninsecure = true\n\n')
    cache = os.path.join(work, f"cache{run}")
    res = {}
    for n, v in (("scar1", "v1"), ("scar2", "v2")):
        before = stored_bytes(a_storage)
        wall, cpu, rss, out = timed(f"{n}-{run}", [bench, "push", "--registries-conf", conf,
            "--base", f"{src}/grycap/base:latest", "--dest", f"{a}/bench/fn",
            "--supervisor", supervisor, "--script", scripts[v], "--cache", cache, "--tag", v])
        rep = json.loads(out)
        res[n] = dict(wall=wall, cpu=cpu, rss=rss, sent=rep["bytes_sent"],
                      stored=stored_bytes(a_storage) - before, digest=rep["digest"], report=rep)
        if manifest_digest(a, "bench/fn", v) != rep["digest"]:
            sys.exit(f"{n}: registry A's bench/fn:{v} is not the digest scar reported")
    for n, v in (("skopeo1", "v2"), ("skopeo2", "v1")):
        before = stored_bytes(b_storage)
        wall, cpu, rss, _ = timed(f"{n}-{run}", ["skopeo", "copy", "--quiet", "--preserve-digests",
            "--src-tls-verify=false", "--dest-tls-verify=false",
            f"docker://{a}/bench/fn:{v}", f"docker://{b}/bench/fn:{v}"])
        grew = stored_bytes(b_storage) - before
        res[n] = dict(wall=wall, cpu=cpu, rss=rss, sent=grew, stored=grew)
        want = res["scar1" if v == "v1" else "scar2"]["digest"]
        if manifest_digest(b, "bench/fn", v) != want:
            sys.exit(f"{n}: skopeo stored another image than scar's {want}")
    if res["scar1"]["stored"] != res["skopeo1"]["stored"] + res["skopeo2"]["stored"] - res["scar2"]["stored"]:
        sys.exit(f"the registries stored different bytes: {res}")
    stop(pa); stop(pb)
    digests.add((res["scar1"]["digest"], res["scar2"]["digest"]))
    if run == 0:
        continue
    for k in rows:
        rows[k].append(res[k])
    phases.append(res["scar1"]["report"])
for p in list(procs):
    stop(p)
if len(digests) != 1:
    sys.exit(f"scar's image digests differ between runs (the layer is not reproducible): {digests}")

def med(k, f):
    return statistics.median(r[f] for r in rows[k])

def cell(k, f, fmt):
    v = [r[f] for r in rows[k]]
    return f"{fmt.format(statistics.median(v))} ({fmt.format(min(v))}-{fmt.format(max(v))})"

r0 = phases[0]
print(f"image push, median of {runs} runs (min-max), each push a fresh process; base: {base_layers} layers, "
      f"{base_bytes / 1e6:.1f} MB of gzip blobs (incompressible); scar's new layer {r0['new_layer_bytes'] / 1e6:.2f} MB "
      f"(supervisor {os.path.getsize(supervisor) / 1e6:.2f} MB before gzip)")
print("| metric | scar 1st push | skopeo copy, empty dest | scar/skopeo | scar 2nd push (script changed) | skopeo copy, 2nd | scar/skopeo |")
print("|---|---|---|---|---|---|---|")
for label, f, fmt in [("wall (s)", "wall", "{:.3f}"), ("CPU user+sys (s)", "cpu", "{:.3f}"),
                      ("peak RSS (MiB)", "rss", "{:.1f}")]:
    print(f"| {label} | {cell('scar1', f, fmt)} | {cell('skopeo1', f, fmt)} | {med('scar1', f) / med('skopeo1', f):.2f}x "
          f"| {cell('scar2', f, fmt)} | {cell('skopeo2', f, fmt)} | {med('scar2', f) / med('skopeo2', f):.2f}x |")
for label, f in [("bytes sent", "sent"), ("bytes stored (dest growth)", "stored")]:
    print(f"| {label} | {med('scar1', f):.0f} | {med('skopeo1', f):.0f} | {med('scar1', f) / med('skopeo1', f):.3f}x "
          f"| {med('scar2', f):.0f} | {med('skopeo2', f):.0f} | {med('scar2', f) / med('skopeo2', f):.3f}x |")
print("scar 1st push phases, median (s): " + ", ".join(
    f"{p} {statistics.median(r[p + '_s'] for r in phases):.3f}" for p in ("resolve", "assemble", "push")))
print(f"scar 2nd push: uploaded {rows['scar2'][0]['report']['uploaded']}, skipped {rows['scar2'][0]['report']['skipped']} blobs")
ratio = med("scar1", "wall") / med("skopeo1", "wall")
second = med("scar2", "sent") / base_bytes
print(f"goals: 1st push within 1.2x of skopeo: {ratio:.2f}x {'met' if ratio <= 1.2 else 'MISSED'}; "
      f"2nd push under 1% of the base's bytes: {100 * second:.2f}% {'met' if second < 0.01 else 'MISSED'}; "
      f"peak RSS under 64 MiB: {med('scar1', 'rss'):.1f} MiB {'met' if med('scar1', 'rss') < 64 else 'MISSED'}")
PY
