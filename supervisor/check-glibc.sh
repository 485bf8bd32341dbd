#!/usr/bin/env bash
# Checks what BINARY needs from the system to start.
#   supervisor/check-glibc.sh --static BINARY
#       fails unless BINARY is static: no program interpreter (PT_INTERP) and
#       no shared library (DT_NEEDED), so it starts in any image (glibc of any
#       version, musl, or no C library). The layer's bootstrap must pass this.
#   supervisor/check-glibc.sh BINARY [MAX_GLIBC]
#       for a dynamic build: fails if it needs a glibc symbol version newer
#       than MAX (default 2.34, Amazon Linux 2023, the provided.al2023 Lambda
#       runtime) or a shared library outside glibc and libgcc_s.
set -euo pipefail
if [ "${1:-}" = "--static" ]; then
  bin="${2:?usage: check-glibc.sh --static BINARY}"
  [ -f "$bin" ] || { echo "static check FAILED: $bin does not exist" >&2; exit 1; }
  headers="$(readelf -lW "$bin")" || { echo "static check FAILED: $bin is not an ELF file" >&2; exit 1; }
  interp="$(sed -n 's/.*\[Requesting program interpreter: \(.*\)\]/\1/p' <<<"$headers")"
  libs="$(readelf -dW "$bin" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p')"
  if [ -n "$interp" ] || [ -n "$libs" ]; then
    echo "static check FAILED: $bin is dynamically linked (interpreter: ${interp:-none}; libraries: $(echo ${libs:-none}))" >&2
    echo "hint: build it with supervisor/build-static.sh (it sets -C target-feature=+crt-static; RUSTFLAGS, if set, overrides that)" >&2
    exit 1
  fi
  echo "static check: $bin has no interpreter and needs no shared library"
  exit 0
fi
bin="${1:?usage: check-glibc.sh BINARY [MAX_GLIBC] | check-glibc.sh --static BINARY}"
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
