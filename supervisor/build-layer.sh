#!/usr/bin/env bash
# Builds the supervisor layer: target/supervisor-layer.zip with `bootstrap`
# at its root (Lambda mounts layers at /opt, and the provided.al2023 runtime
# starts /opt/bootstrap). The binary is the static build (build-static.sh):
# it needs nothing from the image it lands in, which the check below proves.
#   supervisor/build-layer.sh            # writes target/supervisor-layer.zip
# Env: CARGO_TARGET_DIR (default target), LAYER_ZIP (default target/supervisor-layer.zip).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
zip_out="${LAYER_ZIP:-$root/target/supervisor-layer.zip}"
bin="$("$root/supervisor/build-static.sh" release)"
"$root/supervisor/check-glibc.sh" --static "$bin"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
install -m 0755 "$bin" "$stage/bootstrap"
# Fixed timestamps: the same binary gives the same zip (and layer content hash).
touch -d '2020-01-01 00:00:00 UTC' "$stage/bootstrap"
mkdir -p "$(dirname "$zip_out")"
rm -f "$zip_out"
(cd "$stage" && TZ=UTC zip -q -X "$zip_out" bootstrap)
# The layer must hold exactly one executable file, `bootstrap`, at its root.
listing="$(zipinfo "$zip_out")"
grep -Eq '^-rwxr-xr-x .* bootstrap$' <<<"$listing" && [ "$(zipinfo -1 "$zip_out")" = bootstrap ] || {
  echo "unexpected layer content:" >&2; echo "$listing" >&2; exit 1; }
echo "layer: $zip_out ($(stat -c %s "$zip_out") bytes; bootstrap $(stat -c %s "$bin") bytes)"
