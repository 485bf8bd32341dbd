#!/usr/bin/env bash
# Fails if BINARY needs a glibc symbol version newer than MAX (default 2.34,
# Amazon Linux 2023, the provided.al2023 Lambda runtime) or a shared library
# outside glibc and libgcc_s.
#   supervisor/check-glibc.sh target/release/scar-supervisor [2.34]
set -euo pipefail
bin="${1:?usage: check-glibc.sh BINARY [MAX_GLIBC]}"
max="${2:-2.34}"
if command -v objdump >/dev/null; then
  syms="$(objdump -T "$bin")"
else
  syms="$(readelf --dyn-syms -W "$bin")"
fi
needed_max="$(grep -o 'GLIBC_[0-9][0-9.]*' <<<"$syms" | sed 's/GLIBC_//' | sort -uV | tail -1)"
if [ -z "$needed_max" ]; then
  echo "glibc check: $bin needs no versioned glibc symbol (static?)"; exit 0
fi
newest="$(printf '%s\n%s\n' "$needed_max" "$max" | sort -V | tail -1)"
if [ "$newest" != "$max" ]; then
  echo "glibc check FAILED: $bin needs GLIBC_$needed_max, newer than GLIBC_$max:" >&2
  grep "GLIBC_$needed_max" <<<"$syms" >&2 || true
  exit 1
fi
libs="$(readelf -d "$bin" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p')"
for lib in $libs; do
  case "$lib" in
    libc.so.6|libm.so.6|libgcc_s.so.1|libpthread.so.0|libdl.so.2|librt.so.1|ld-linux-x86-64.so.2|ld-linux-aarch64.so.1) ;;
    *) echo "glibc check FAILED: $bin needs $lib, which Amazon Linux 2023 may not have" >&2; exit 1 ;;
  esac
done
echo "glibc check: $bin needs at most GLIBC_$needed_max (limit $max); libraries: $(echo $libs)"
