# timeout: 60
# GET_INFO reports the IPVS protocol version, the connection table size
# (from conn_tab_bits, clamped as IPVS clamps it) and the module version.
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
