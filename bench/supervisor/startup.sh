#!/usr/bin/env bash
# Process start-up cost of one or more supervisor binaries: the median (and
# min/max) wall time of RUNS fresh `BIN --version` processes, run alternately,
# plus each file's size. `--version` exits before any AWS work, so this is the
# cost of loading the executable (dynamic loader and relocations included).
#   bench/supervisor/startup.sh [-n RUNS] BIN [BIN ...]     # default 200 runs
set -euo pipefail
runs=200
if [ "${1:-}" = "-n" ]; then runs="$2"; shift 2; fi
[ "$#" -ge 1 ] || { echo "usage: startup.sh [-n RUNS] BIN [BIN ...]" >&2; exit 2; }
python3 - "$runs" "$@" <<'PY'
import os, statistics, subprocess, sys, time
runs, bins = int(sys.argv[1]), sys.argv[2:]
times = {b: [] for b in bins}
for b in bins:  # one warm-up each: page cache
    subprocess.run([b, "--version"], stdout=subprocess.DEVNULL, check=True)
for _ in range(runs):
    for b in bins:
        t = time.perf_counter()
        subprocess.run([b, "--version"], stdout=subprocess.DEVNULL, check=True)
        times[b].append(time.perf_counter() - t)
print(f"{'binary':<70} {'size (bytes)':>13} {'median ms':>10} {'min-max ms':>14}")
for b in bins:
    t = sorted(times[b])
    print(f"{b:<70} {os.path.getsize(b):>13} {statistics.median(t)*1e3:>10.2f} {t[0]*1e3:>6.2f}-{t[-1]*1e3:.2f}")
PY
