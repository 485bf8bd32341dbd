#!/usr/bin/env bash
# The README's quickstart: on a fresh machine, start the local AWS emulator
# and run validate -> plan -> apply -> ls -> plan (no changes) -> destroy on an
# example workflow, showing each output.
#   scripts/quickstart.sh [EXAMPLE]     (default: manifests/examples/uppercase)
#
# It builds in debug mode exactly what the test command (scripts/test.sh,
# `cargo test --workspace --locked`) builds, so the tests afterwards reuse
# it instead of compiling everything again with other features. No release
# build: the emulator never runs the supervisor, so the layer it gets is
# zipped from the debug `scar-supervisor` (the release layer for AWS is
# supervisor/build-layer.sh's, which .ci/run builds and checks).
set -euo pipefail
cd "$(dirname "$0")/.."
example="${1:-manifests/examples/uppercase}"
port="${SCAR_QUICKSTART_PORT:-5000}"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*" >&2; }
say() { printf '%s\n' "$*" >&2; }

# What it needs, checked before anything takes time.
missing=()
for tool in cargo python3 curl zip cc; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ! -x .emulator/venv/bin/python ] && ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
  missing+=("python3 venv module")
fi
if [ "${#missing[@]}" -gt 0 ]; then
  say "error: missing: ${missing[*]}"
  say "hint: on Debian/Ubuntu: sudo apt-get install build-essential python3 python3-venv curl zip; Rust 1.85 or newer from https://rustup.rs"
  exit 1
fi

fresh=yes
[ -x target/debug/scar ] && [ -x target/debug/scar-supervisor ] && fresh=no
say "scripts/quickstart.sh will:"
say "  1. install moto (the AWS emulator, pinned) into .emulator/ with pip, once (about 1 minute);"
if [ "$fresh" = yes ]; then
  say "  2. compile scar, the supervisor and the test suite in debug mode (cargo test --no-run):"
  say "     about 310 crates, roughly 8-10 minutes on a 2-core machine the first time, seconds"
  say "     afterwards; scripts/test.sh then reuses this build;"
else
  say "  2. bring the debug build up to date (cargo test --no-run; seconds if nothing changed);"
fi
say "  3. start the emulator on 127.0.0.1:$port and run validate, plan, apply, ls, plan, destroy on $example."

step "scripts/emulator.sh install"
scripts/emulator.sh install

step "cargo test --workspace --locked --no-run   # the debug build scripts/test.sh reuses"
cargo test --workspace --locked --no-run

# The emulator's supervisor layer: the debug binary as `bootstrap` (moto
# stores the layer, it never runs it). Same layout as build-layer.sh's.
layer="$PWD/target/debug/supervisor-layer-emulator.zip"
step "zip the debug scar-supervisor into $layer   # the emulator never runs it"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
install -m 0755 target/debug/scar-supervisor "$stage/bootstrap"
touch -d '2020-01-01 00:00:00 UTC' "$stage/bootstrap"
rm -f "$layer"
(cd "$stage" && TZ=UTC zip -q -X "$layer" bootstrap)
export SCAR_SUPERVISOR_LAYER="$layer"

scar=target/debug/scar
eval "$(scripts/emulator.sh start "$port")"
trap 'rm -rf "$stage"; scripts/emulator.sh stop' EXIT

step "scar validate -f $example"
$scar validate -f "$example"
step "scar plan -f $example"
$scar plan -f "$example"
step "scar apply --auto-approve -f $example"
$scar apply --auto-approve -f "$example"
step "scar ls -f $example   # what is deployed, and whether it matches"
$scar ls -f "$example"
step "scar plan --detailed-exitcode -f $example   # exit 0: no changes"
$scar plan --detailed-exitcode -f "$example"
step "scar destroy --auto-approve -f $example"
$scar destroy --auto-approve -f "$example"
