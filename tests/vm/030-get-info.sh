# timeout: 90
# lane: serial (loads rvs with module parameters and reads the kernel log)
# GET_INFO reports the IPVS protocol version, the connection table size
# (from conn_tab_bits, clamped as IPVS clamps it) and the module version.
# A namespace's connection table is allocated with its first service:
# namespaces without services cost no table.
. "$RVS_TOP/tests/vm/lib.sh"
load_rvs
expect_eq "default table: 4096 buckets" \
	"rvs module v0.1.0, IPVS protocol v1.2.1, connection table 4096 buckets" \
	"$(rvsadm --version | sed -n 2p)"
unload_rvs
load_rvs conn_tab_bits=16
expect_eq "conn_tab_bits=16: 65536 buckets" "65536" \
	"$(rvsadm --version | sed -n 's/.*connection table \([0-9]*\) buckets/\1/p')"
unload_rvs
load_rvs conn_tab_bits=30
expect_eq "conn_tab_bits=30 clamps to 2^20" "1048576" \
	"$(rvsadm --version | sed -n 's/.*connection table \([0-9]*\) buckets/\1/p')"
check "clamping is logged" bash -c 'dmesg | grep -q "conn_tab_bits 30 out of range"'
unload_rvs
vmalloc_kb() { awk '/^VmallocUsed:/ { print $2 }' /proc/meminfo; }
load_rvs conn_tab_bits=20
base_kb=$(vmalloc_kb)
for i in 1 2 3 4 5 6 7 8; do ip netns add lazy$i; done
spare_kb=$(vmalloc_kb)
# Eight tables of 2^20 buckets would be 128 MiB.
check "8 namespaces without services hold no tables (vmalloc +$((spare_kb - base_kb)) kB)" \
	test $((spare_kb - base_kb)) -lt 8192
in_ns lazy1 rvsadm -A -t 10.9.9.9:80 -s rr
used_kb=$(vmalloc_kb)
figure "vmalloc, conn_tab_bits=20" "8 namespaces without services +$((spare_kb - base_kb)) kB;" \
	"their first service +$((used_kb - spare_kb)) kB"
check "the first service allocates its namespace's table (vmalloc +$((used_kb - spare_kb)) kB)" \
	test $((used_kb - spare_kb)) -ge 8000
expect_eq "the table reports its size before and after" "1048576 1048576" \
	"$(in_ns lazy2 rvsadm --version | sed -n 's/.*connection table \([0-9]*\) buckets/\1/p') $(in_ns lazy1 rvsadm --version | sed -n 's/.*connection table \([0-9]*\) buckets/\1/p')"
for i in 1 2 3 4 5 6 7 8; do ip netns del lazy$i; done
unload_rvs
