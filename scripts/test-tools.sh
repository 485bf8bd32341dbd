#!/usr/bin/env bash
# Installs the Debian packages the tests use beside the emulator (run as
# root; .ci/run calls it): a real OCI registry (docker-registry) for the
# image tests. Without them, outside CI, those tests show as ignored with
# their reason; under CI=true they fail.
set -euo pipefail
need=()
command -v docker-registry >/dev/null || need+=(docker-registry)
if [ "${#need[@]}" -gt 0 ]; then
  echo "installing: ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
echo "test tools: docker-registry $(command -v docker-registry)"
