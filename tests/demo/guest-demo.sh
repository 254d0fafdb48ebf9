#!/usr/bin/env bash
# Runs inside the test VM for scripts/demo.sh.
set -euo pipefail
export PATH=$RVS_TOP/target/release:$PATH
run() { echo; echo "# $*"; "$@"; }
echo "== rvs demo on $(uname -r), $(nproc) CPUs"
run rvsadm -L -n || true
run insmod "$RVS_TOP/rvs.ko"
run rvsadm --version
run rvsadm -L -n
run rmmod rvs
run rvsadm -L -n || true
