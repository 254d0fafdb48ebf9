# timeout: 200
# Connection sync between different implementations, in DR (the scenario
# of 440-sync-failover.sh): the kernel's ip_vs as master on dir1 and rvs as
# backup on dir2, then rvs as master and ip_vs as backup. Both modules are
# loaded at once, each driving its own director namespace (rvs through its
# own `rvs` family and rvsadm, ip_vs through ipvsadm). Every session and
# flow must survive the failover on its real server.
#
# Variants: ipvs-rvs, rvs-ipvs. Select with SYNC_VARIANTS (e.g. the mixed
# controls "control-ipvs-rvs control-rvs-ipvs", which need no sync) and
# SYNC_MODES (default dr; nat works too).
. "$RVS_TOP/tests/vm/lib.sh"
sync_load_both
sync_variants "${SYNC_MODES:-dr}" "${SYNC_VARIANTS:-ipvs-rvs rvs-ipvs}"
