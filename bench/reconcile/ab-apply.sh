#!/usr/bin/env bash
# A/B: `scar apply` of N S3-triggered functions, binary A vs binary B
# alternately (e.g. a build of main and one of an older commit), against one
# moto server started here,
# reset before each run; prints each run and the medians.
#   bench/reconcile/ab-apply.sh N RUNS BINARY_A BINARY_B
set -euo pipefail
n="${1:-20}"; runs="${2:-5}"; A="$3"; B="$4"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"; work="$(mktemp -d)"
trap 'kill "$moto_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
layer="$work/layer.zip"
python3 -c "import zipfile; z=zipfile.ZipFile('$layer','w'); z.writestr('bootstrap','#!/bin/sh\n'); z.close()"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$root/.emulator/venv/bin/python" "$root/scripts/moto_server.py" -H 127.0.0.1 -p "$port" 2>"$work/moto.log" &
moto_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/moto-api/" >/dev/null && break; sleep 0.1; done
export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
  AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true SCAR_CACHE_DIR="$work/cache"
mkdir -p "$work/wf"
{ echo "workflow: bench-rs"; echo "functions:"; echo "  aws:"
  for i in $(seq -w 1 "$n"); do cat <<YAML
  - lambda:
      name: scar-rs-bench-$i
      init_script: s.sh
      input:
      - storage_provider: s3
        path: scar-rs-bench-$i/input
      output:
      - storage_provider: s3
        path: scar-rs-bench-$i/output
YAML
  done; } > "$work/wf/scar.yaml"
printf '#!/bin/sh\necho hi\n' > "$work/wf/s.sh"
for r in $(seq "$runs"); do
  for which in A B; do
    bin=$A; [ $which = B ] && bin=$B
    curl -sf -X POST "http://127.0.0.1:$port/moto-api/reset" >/dev/null
    /usr/bin/time -f '%e %U %S' -o "$work/t" "$bin" apply --auto-approve --supervisor-layer "$layer" -f "$work/wf" >"$work/o" 2>"$work/e"
    grep -q "Apply complete!" "$work/o" || { cat "$work/o" "$work/e"; exit 1; }
    read -r w u s < "$work/t"; echo "$which run$r wall=$w cpu=$(python3 -c "print(round($u+$s,3))")"
  done
done | tee "$work/all"
python3 - "$work/all" <<'PY'
import sys,statistics as st
rows=[l.split() for l in open(sys.argv[1])]
for k in "AB":
    w=[float(r[2].split('=')[1]) for r in rows if r[0]==k]; c=[float(r[3].split('=')[1]) for r in rows if r[0]==k]
    print(f"{k}: median wall {st.median(w):.3f} s  median cpu {st.median(c):.3f} s  (wall {min(w):.3f}-{max(w):.3f})")
PY
