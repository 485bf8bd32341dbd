#!/usr/bin/env bash
# The README's quickstart: on a fresh machine, start the local AWS emulator
# and run validate -> plan -> apply -> plan (no changes) -> destroy on an
# example workflow, showing each output.
#   scripts/quickstart.sh [EXAMPLE]     (default: manifests/examples/uppercase)
set -euo pipefail
cd "$(dirname "$0")/.."
example="${1:-manifests/examples/uppercase}"
port="${SCAR_QUICKSTART_PORT:-5000}"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*" >&2; }

scripts/emulator.sh install
step "supervisor/build-layer.sh   # the supervisor layer zip (release build, once)"
[ -f target/supervisor-layer.zip ] || supervisor/build-layer.sh
cargo build -q --bin scar
scar=target/debug/scar
eval "$(scripts/emulator.sh start "$port")"
trap 'scripts/emulator.sh stop' EXIT

step "scar validate -f $example"
$scar validate -f "$example"
step "scar plan -f $example"
$scar plan -f "$example"
step "scar apply --auto-approve -f $example"
$scar apply --auto-approve -f "$example"
step "scar plan --detailed-exitcode -f $example   # exit 0: no changes"
$scar plan --detailed-exitcode -f "$example"
step "scar destroy --auto-approve -f $example"
$scar destroy --auto-approve -f "$example"
