#!/usr/bin/env bash
# The benchmarks' entry point in the test VM (scripts/bench.sh boots it).
# Usage: run.sh OUT RUNS SECS FILL SERVICES WHAT...
#   WHAT: any of dp, scale (tests/bench/data.sh), restore (restore.sh),
#         sync (sync.sh)
set -euo pipefail
out=$1 runs=$2 secs=$3 fill=$4 services=$5; shift 5
# The control plane first: it is the shortest.
case " $* " in *" restore "*) bash "$RVS_TOP/tests/bench/restore.sh" "$out" "$services" "$runs" ;; esac
dpw=
for w in "$@"; do case $w in dp|scale) dpw="$dpw $w" ;; esac; done
case " $* " in *" sync "*) bash "$RVS_TOP/tests/bench/sync.sh" "$out" "$runs" "$secs" ;; esac
if [ -n "$dpw" ]; then bash "$RVS_TOP/tests/bench/data.sh" "$out" "$runs" "$secs" "$fill" $dpw; fi
echo "# benchmarks done" >&2
