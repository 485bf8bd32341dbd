#!/usr/bin/env bash
# Per-invocation cost of scar-supervisor vs faas-supervisor (PyPI 1.5.8, the
# Python peer), side by side on the same S3 event against the same moto
# emulator, each as a fresh process: download input/in.txt, run a one-line
# script that copies it to the output folder, upload it, answer.
#
#   bench/supervisor/bench.sh [RUNS]        # default 10 runs per side, after 1 warm-up each
#
# Prints median (and min/max) wall time, CPU seconds (user+sys of the process
# and all it waited for, from wait4) and peak RSS (GNU time's %M) per
# invocation, and the
# ratio python/scar. Every run is checked: the output object must appear.
# Env: FS_VENV (default target/faas-supervisor-venv; created if missing),
#      SUPERVISOR_BIN (default: the static release build that the layer ships,
#      from supervisor/build-static.sh release),
#      BASELINE (default ../shared/bench/faas-supervisor-baseline.sh).
set -euo pipefail
[ -x /usr/bin/time ] || { echo "needs GNU time at /usr/bin/time (apt-get install time)" >&2; exit 1; }
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
runs="${1:-10}"
here="$root/bench/supervisor"
fs_venv="${FS_VENV:-$root/target/faas-supervisor-venv}"
baseline="${BASELINE:-$root/../shared/bench/faas-supervisor-baseline.sh}"
moto_py="$root/.emulator/venv/bin/python"
[ -f "$baseline" ] || { echo "baseline script $baseline is missing" >&2; exit 1; }
[ -x "$moto_py" ] || "$root/scripts/emulator.sh" install

if [ -z "${SUPERVISOR_BIN:-}" ]; then
  SUPERVISOR_BIN="$("$root/supervisor/build-static.sh" release)"
fi
export SUPERVISOR_BIN

# faas-supervisor 1.5.8's metadata has a broken requirement
# ("webdavclient3==3.14.6requests"), so it is installed without deps and its
# imports (boto3, requests, PyYAML, webdavclient3) are installed beside it.
if [ ! -x "$fs_venv/bin/python" ] || ! "$fs_venv/bin/python" -c 'import faassupervisor.supervisor' 2>/dev/null; then
  echo "installing faas-supervisor 1.5.8 into $fs_venv" >&2
  python3 -m venv "$fs_venv"
  "$fs_venv/bin/pip" install -q --disable-pip-version-check --no-deps faas-supervisor==1.5.8
  "$fs_venv/bin/pip" install -q --disable-pip-version-check boto3 requests PyYAML webdavclient3==3.14.6
fi
export FS_VENV="$fs_venv"

port="$("$moto_py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
log="$(mktemp)"
"$moto_py" "$root/scripts/moto_server.py" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
moto_pid=$!
work="$(mktemp -d)"
cleanup() { kill "$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true; rm -rf "$work" "$log"; }
trap cleanup EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/moto-api/" >/dev/null && break; sleep 0.1; done
export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true \
  AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
unset AWS_PROFILE AWS_SESSION_TOKEN

# One Python driver: runs each side as a fresh process, takes wall time from a
# monotonic clock and CPU time and peak RSS from wait4()'s rusage (the process
# and everything it waited for, microsecond resolution), and checks the output.
"$moto_py" - "$runs" "$baseline" "$here/run-scar-supervisor.sh" "$work" <<'PY'
import os, statistics, subprocess, sys, time
import boto3
runs, baseline, ours, work = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
s3 = boto3.client("s3", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
s3.create_bucket(Bucket="bench")
s3.put_object(Bucket="bench", Key="input/in.txt", Body=b"hello\n")

def run(name, script):
    s3.delete_object(Bucket="bench", Key="output/in.txt")
    t0 = time.perf_counter()
    # GNU time sits between this (large) Python process and the measured
    # one: a child spawned from here inherits this process's RSS high-water
    # mark at exec, so its own ru_maxrss would be wrong; time's %M is not.
    pid = os.posix_spawn("/usr/bin/time", ["time", "-f", "%M", "-o", f"{work}/{name}.rss", "bash", script],
                         dict(os.environ),
                         file_actions=[(os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0),
                                       (os.POSIX_SPAWN_OPEN, 2, f"{work}/{name}.err", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)])
    _, status, ru = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{name} failed:\n" + open(f"{work}/{name}.err").read())
    body = s3.get_object(Bucket="bench", Key="output/in.txt")["Body"].read()
    if body != b"hello\n":
        sys.exit(f"{name} uploaded {body!r}")
    rss_kib = float(open(f"{work}/{name}.rss").read().split()[-1])
    return wall, ru.ru_utime + ru.ru_stime, rss_kib / 1024.0

results = {"python": [], "scar": []}
run("python", baseline); run("scar", ours)  # one warm-up each (page cache, .pyc files)
for _ in range(runs):
    results["python"].append(run("python", baseline))
    results["scar"].append(run("scar", ours))

print(f"per invocation: median of {runs} fresh processes per side (min-max); same S3 event, same moto server")
print("| metric | faas-supervisor 1.5.8 (Python) | scar-supervisor (Rust) | ratio |")
print("|---|---|---|---|")
for label, i, fmt in [("wall time (s)", 0, "{:.3f}"), ("CPU time, user+sys (s)", 1, "{:.3f}"), ("peak RSS (MiB)", 2, "{:.1f}")]:
    p = [r[i] for r in results["python"]]; r = [x[i] for x in results["scar"]]
    mp, mr = statistics.median(p), statistics.median(r)
    f = fmt.format
    print(f"| {label} | {f(mp)} ({f(min(p))}-{f(max(p))}) | {f(mr)} ({f(min(r))}-{f(max(r))}) | {mp / mr:.1f}x |")
PY
