#!/usr/bin/env bash
# Builds scar-supervisor as one static executable (glibc linked in, no
# interpreter, no shared libraries), so it runs in any Linux image: glibc of
# any version, musl (Alpine), or none at all (busybox-static, distroless).
# Prints the binary's path on stdout; cargo's progress goes to stderr.
#   supervisor/build-static.sh [release|dev]      # default release
# `release` is the root Cargo.toml's `release-supervisor` profile (size-
# optimized, fat LTO: the shipped binary), so the output is
# <target>/x86_64-unknown-linux-gnu/release-supervisor/scar-supervisor.
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
  release) profile=release-supervisor dir=release-supervisor ;;
  dev) dir=debug ;;
  *) echo "usage: build-static.sh [release|dev]" >&2; exit 2 ;;
esac
triple=x86_64-unknown-linux-gnu
target="${CARGO_TARGET_DIR:-$root/target}"
cd "$root"
# `-z pack-relative-relocs` (DT_RELR, glibc 2.36+, applied by the static
# binary's own start-up code): a static-pie applies its ~35,000 relative
# relocations itself at start, and as classic RELA entries (24 bytes each)
# their table alone is ~850 KB that every run reads, so it counted in the
# supervisor's peak RSS; packed, it is a few KB. Passed to the final link
# only (cargo rustc), so dependencies are built as before and stay cached.
CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS="-C target-feature=+crt-static" \
  cargo rustc --locked --profile "$profile" --target "$triple" -p scar-supervisor --bin scar-supervisor \
  -- -C link-arg=-Wl,-z,pack-relative-relocs >&2
echo "$target/$triple/$dir/scar-supervisor"
