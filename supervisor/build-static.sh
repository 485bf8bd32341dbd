#!/usr/bin/env bash
# Builds scar-supervisor as one static executable (glibc linked in, no
# interpreter, no shared libraries), so it runs in any Linux image: glibc of
# any version, musl (Alpine), or none at all (busybox-static, distroless).
# Prints the binary's path on stdout; cargo's progress goes to stderr.
#   supervisor/build-static.sh [release|dev]      # default release
# Env: CARGO_TARGET_DIR (default target).
#
# The explicit --target matters: with it, the target rustflags below apply to
# the supervisor and its dependencies only, not to build scripts and
# proc-macros (host artifacts, which a static glibc cannot dlopen), and the
# output lands in target/x86_64-unknown-linux-gnu/, beside but apart from the
# normal dynamic builds, so neither rebuilds the other.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
profile="${1:-release}"
case "$profile" in
  release) dir=release ;;
  dev) dir=debug ;;
  *) echo "usage: build-static.sh [release|dev]" >&2; exit 2 ;;
esac
triple=x86_64-unknown-linux-gnu
target="${CARGO_TARGET_DIR:-$root/target}"
cd "$root"
CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS="-C target-feature=+crt-static" \
  cargo build --locked --profile "$profile" --target "$triple" -p scar-supervisor --bin scar-supervisor >&2
echo "$target/$triple/$dir/scar-supervisor"
