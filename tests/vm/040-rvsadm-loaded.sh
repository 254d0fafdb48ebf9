# timeout: 60
# lane: serial (unloads rvs)
# rvsadm talks to the loaded module: --version and an ipvsadm-style -L -n.
. "$RVS_TOP/tests/vm/lib.sh"
load_rvs
expect_eq "rvsadm -L -n header" "IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn" "$(rvsadm -L -n)"
check "rvsadm --version exits 0" rvsadm --version
check "first --version line names rvsadm" bash -c 'rvsadm --version | head -1 | grep -q "^rvsadm v0.1.0"'
# ipvsadm's listing header against the C IPVS, for the same kernel. The
# table size differs by design: the C IPVS of this kernel sizes its table
# on demand and reports 0 while it is empty.
modprobe ip_vs
mask_size() { sed 's/(size=[0-9]*)/(size=N)/'; }
expect_eq "same header as ipvsadm -L -n" "$(ipvsadm -L -n | mask_size)" "$(rvsadm -L -n | mask_size)"
rmmod ip_vs
unload_rvs
