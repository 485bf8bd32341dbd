#!/usr/bin/env bash
# The project's test command (README "Tests"; .ci/run calls it too).
# Installs the pinned AWS emulator (moto) into .emulator/ if it is missing;
# the test harness starts its own emulator servers on free loopback ports.
# scripts/quickstart.sh builds with `cargo test --workspace --locked --no-run`,
# the same command and so the same features and profile: after it, this
# compiles nothing. (A `cargo build --bin scar` would not do: without the
# dev-dependencies, shared crates such as serde, libc, tracing and
# futures-util get other features, and nearly the whole tree compiles twice.)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/emulator.sh install
cargo test --workspace --locked "$@"
