#!/usr/bin/env bash
# The AWS emulator harness: installs a pinned moto server into an ignored
# folder and starts it on 127.0.0.1 with Docker-free Lambda and Batch.
#
#   scripts/emulator.sh install        # venv + pinned moto in .emulator/venv
#   scripts/emulator.sh start [PORT]   # start in the background, wait until ready,
#                                      # print the export lines for the AWS env
#   scripts/emulator.sh stop           # stop the server started by `start`
#   scripts/emulator.sh env [PORT]     # print the export lines only
#
# The Rust test harness (crate `testkit`) starts its own servers through the
# same wrapper (`scripts/moto_server.py`) on free ports; it only needs `install`.
set -euo pipefail

MOTO_VERSION="5.2.5"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$root/.emulator"
venv="$dir/venv"
py="$venv/bin/python"

install() {
  if [ -x "$py" ] && "$py" -c "import moto,sys; sys.exit(0 if moto.__version__ == '$MOTO_VERSION' else 1)" 2>/dev/null; then
    echo "moto $MOTO_VERSION already installed in $venv" >&2
    return 0
  fi
  mkdir -p "$dir"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
  echo "installed moto $MOTO_VERSION in $venv" >&2
}

env_lines() {
  local port="$1"
  cat <<ENV
export AWS_ENDPOINT_URL=http://127.0.0.1:$port
export AWS_ACCESS_KEY_ID=testing
export AWS_SECRET_ACCESS_KEY=testing
export AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
ENV
}

start() {
  local port="${1:-5000}"
  [ -x "$py" ] || install
  if [ -f "$dir/moto.pid" ] && kill -0 "$(cat "$dir/moto.pid")" 2>/dev/null; then
    echo "moto already running (pid $(cat "$dir/moto.pid"))" >&2
  else
    "$py" "$root/scripts/moto_server.py" -H 127.0.0.1 -p "$port" >"$dir/moto.log" 2>&1 &
    echo $! >"$dir/moto.pid"
    echo "$port" >"$dir/moto.port"
  fi
  for _ in $(seq 1 100); do
    if curl -sf "http://127.0.0.1:$port/moto-api/" >/dev/null 2>&1; then
      echo "moto ready on 127.0.0.1:$port (pid $(cat "$dir/moto.pid"), log $dir/moto.log)" >&2
      env_lines "$port"
      return 0
    fi
    sleep 0.1
  done
  echo "error: moto did not answer on 127.0.0.1:$port within 10 s; see $dir/moto.log" >&2
  return 1
}

stop() {
  if [ -f "$dir/moto.pid" ]; then
    kill "$(cat "$dir/moto.pid")" 2>/dev/null || true
    rm -f "$dir/moto.pid"
  fi
}

cmd="${1:-}"
shift || true
case "$cmd" in
  install) install ;;
  start) start "$@" ;;
  stop) stop ;;
  env) env_lines "${1:-$(cat "$dir/moto.port" 2>/dev/null || echo 5000)}" ;;
  *) echo "usage: $0 install|start [PORT]|stop|env [PORT]" >&2; exit 1 ;;
esac
