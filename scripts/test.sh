#!/usr/bin/env bash
# The project's test command (README "Tests"; .ci/run calls it too).
# Installs the pinned AWS emulator (moto) into .emulator/ if it is missing;
# the test harness starts its own emulator servers on free loopback ports.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/emulator.sh install
cargo test --workspace --locked "$@"
