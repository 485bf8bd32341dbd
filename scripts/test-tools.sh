#!/usr/bin/env bash
# Installs the Debian packages the tests use beside the emulator (run as
# root; .ci/run calls it): a real OCI registry (docker-registry) for the
# image tests, and bubblewrap, busybox-static and dnsmasq for the
# supervisor's tests in a root filesystem without a C library
# (supervisor/tests/any_image). Without them, outside CI, those tests show
# as ignored with their reason; under CI=true they fail.
set -euo pipefail
need=()
for pkg in docker-registry bubblewrap busybox-static dnsmasq-base openssl; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
done
if [ "${#need[@]}" -gt 0 ]; then
  echo "installing: ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
echo "test tools: $(command -v docker-registry) $(command -v bwrap) $(command -v dnsmasq) busybox-static"
