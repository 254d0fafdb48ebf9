#!/usr/bin/env bash
# Runs inside the test VM for scripts/demo.sh: seed 002's LVS-NAT network
# (client, director with rvs, two real servers running an HTTP server), all
# in network namespaces of the VM.
set -euo pipefail
export PATH=$RVS_TOP/target/release:$PATH
. "$RVS_TOP/tests/vm/lib.sh"
run() { echo; echo "# $*"; "$@"; }
# rvsadm in the director's namespace, labelled as the operator would type it.
director_rvsadm() { echo; echo "# rvsadm $*   (on the director)"; dadm "$@"; }
echo "== rvs demo on Linux $(uname -r), $(nproc) CPUs"
run insmod "$RVS_TOP/rvs.ko"
run rvsadm --version
echo; echo "# network: client 192.168.10.6 -> director VIP 192.168.10.100 -> rs1 10.0.0.7, rs2 10.0.0.17"
topo_nat 2
director_rvsadm -A -t 192.168.10.100:80 -s rr
director_rvsadm -a -t 192.168.10.100:80 -r 10.0.0.7 -m
director_rvsadm -a -t 192.168.10.100:80 -r 10.0.0.17 -m
director_rvsadm -L -n
echo; echo "# ten requests from the client: curl http://192.168.10.100/"
for i in $(seq 1 10); do printf '  %2d: %s\n' "$i" "$(cget http://192.168.10.100/)"; done
director_rvsadm -L -n --stats
director_rvsadm -L -n -c
