#!/usr/bin/env bash
# Installs scar and its supervisor side by side, which is all an installed
# scar needs: it finds `scar-supervisor` beside itself, puts it into the
# function images, and makes the supervisor layer zip from it.
#   scripts/install.sh            # into ~/.cargo/bin (CARGO_HOME/bin)
#   scripts/install.sh PREFIX     # into PREFIX/bin
# The supervisor is the static build (it needs no C library from an image,
# and starts on provided.al2023 whatever this machine's glibc), checked.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prefix="${1:-${CARGO_HOME:-$HOME/.cargo}}"
cargo install --locked --path "$root" --root "$prefix" --bin scar
bin="$("$root/supervisor/build-static.sh" release)"
"$root/supervisor/check-glibc.sh" --static "$bin"
install -m 0755 "$bin" "$prefix/bin/scar-supervisor"
echo "installed: $prefix/bin/scar and $prefix/bin/scar-supervisor"
