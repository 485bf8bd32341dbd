#!/usr/bin/env bash
# Deploys the same N S3-triggered functions (default 20) with `scar apply`
# and with Python SCAR 4.3.1 (`../shared/bench/scar-python-baseline.sh`),
# against the same moto server started here on loopback, in one run, and
# prints wall time, CPU time and AWS requests per function for each, with
# the ratio.
#
#   bench/reconcile/scar-vs-python.sh [N]
#
# Each function is SCAR's imagemagick example shape: input s3 <name>/input,
# output s3 <name>/output. SCAR deploys it with its container image (udocker
# at run time); scar deploys the script on its supervisor, so scar's
# manifest has no `container.image` (scar does not deploy images yet). The
# AWS resources are the same: function, log group, buckets, permission,
# notification. AWS requests are counted from moto's request log.
set -euo pipefail
n="${1:-20}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
shared="$root/../shared"
work="$(mktemp -d)"
trap 'kill "$moto_pid" 2>/dev/null || true; rm -rf "$work"' EXIT

"$root/scripts/emulator.sh" install >/dev/null
cargo build -q --release --bin scar --manifest-path "$root/Cargo.toml"
scar="$root/target/release/scar"
# A stand-in layer: moto never runs code; the real one is supervisor/build-layer.sh's.
layer="$work/layer.zip"
python3 -c "import zipfile; z=zipfile.ZipFile('$layer','w'); z.writestr('bootstrap','#!/bin/sh\n'); z.close()"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$root/.emulator/venv/bin/python" "$root/scripts/moto_server.py" -H 127.0.0.1 -p "$port" 2>"$work/moto.log" &
moto_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/moto-api/" >/dev/null && break; sleep 0.1; done
export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
  AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true SCAR_CACHE_DIR="$work/cache"
requests() { grep -c '" [0-9][0-9][0-9] ' "$work/moto.log" || true; }

# --- scar ---------------------------------------------------------------
mkdir -p "$work/wf"
{
  echo "workflow: bench-rs"
  echo "functions:"
  echo "  aws:"
  for i in $(seq -w 1 "$n"); do
    cat <<YAML
  - lambda:
      name: scar-rs-bench-$i
      init_script: grayify-image.sh
      input:
      - storage_provider: s3
        path: scar-rs-bench-$i/input
      output:
      - storage_provider: s3
        path: scar-rs-bench-$i/output
YAML
  done
} > "$work/wf/scar.yaml"
printf '#!/bin/sh\nconvert "$INPUT_FILE_PATH" -type Grayscale "$TMP_OUTPUT_DIR/$(basename "$INPUT_FILE_PATH")"\n' > "$work/wf/grayify-image.sh"
before=$(requests)
/usr/bin/time -f '%e %U %S' -o "$work/time.txt" \
  "$scar" apply --auto-approve --supervisor-layer "$layer" -f "$work/wf" >"$work/apply.out" 2>"$work/apply.err"
after=$(requests)
read -r rs_wall rs_user rs_sys < "$work/time.txt"
rs_cpu=$(python3 -c "print(round($rs_user+$rs_sys,3))")
rs_req=$((after - before))
grep -q "Apply complete!" "$work/apply.out" || { cat "$work/apply.out" "$work/apply.err"; exit 1; }

# --- Python SCAR 4.3.1 ------------------------------------------------------
LS_RM=0 MOTO_LOG="$work/moto.log" bash "$shared/bench/scar-python-baseline.sh" "$n" > "$work/py.out" 2>"$work/py.err" || {
  cat "$work/py.err" >&2; exit 1; }
line=$(grep '^step=deploy' "$work/py.out" | head -1)
get() { echo "$line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
py_wall=$(get wall_s); py_cpu=$(get cpu_s); py_req=$(get aws_requests); py_ok=$(get ok)

python3 - "$n" "$rs_wall" "$rs_cpu" "$rs_req" "$py_wall" "$py_cpu" "$py_req" "$py_ok" <<'PY'
import sys
n, rw, rc, rr, pw, pc, pr, pok = sys.argv[1:]
n = int(n); rw, rc, pw, pc = map(float, (rw, rc, pw, pc)); rr, pr = int(rr), int(pr)
print(f"deploying {n} S3-triggered functions against moto (SCAR deployed {pok} of {n})")
print(f"{'':28} | {'scar apply':>12} | {'SCAR 4.3.1':>12} | {'ratio':>7}")
print(f"{'-'*28}-+-{'-'*12}-+-{'-'*12}-+-{'-'*7}")
rows = [("wall time, total (s)", rw, pw), ("wall time per function (s)", rw/n, pw/n),
        ("CPU time, total (s)", rc, pc), ("AWS requests per function", rr/n, pr/n)]
for name, a, b in rows:
    ratio = b / a if a else float('inf')
    print(f"{name:28} | {a:12.3f} | {b:12.3f} | {ratio:6.1f}x")
PY
