# timeout: 300
# Connection sync failover (seed 003's lvs_sync_daemon between two
# directors): dir1 runs the master sync daemon (224.0.0.81:8848 on eth0,
# syncid 5), dir2 the backup, both with the same services (TCP rr, TCP rr
# persistent 60 s, UDP rr) over three real servers. The client holds 60
# TCP sessions from 20 addresses and 3 UDP flows through the VIP on dir1,
# each sending a line every 0.5 s; after 5 s dir2 must list dir1's
# entries; then dir1's links go down and dir2 takes the VIP (and, for NAT,
# the real servers' gateway) over, and every session and flow must go on
# on the same real server (tagecho.py names the server in each answer).
# The control, without sync daemons, must lose sessions: dir2 has no entry
# for them and answers their next segment with a reset (sloppy_tcp=0).
#
# Variants, in DR and NAT: rvs-rvs, the reference ipvs-ipvs (the kernel's
# ip_vs on both directors), and the controls control-rvs, control-ipvs.
# Select with SYNC_VARIANTS="ipvs-ipvs control-rvs ..." and SYNC_MODES="dr"
# (scripts/vm-test.sh passes both to the guest); any MASTER-BACKUP pair of
# rvs/ipvs, or control-IMPL[-IMPL], is accepted. On the debug kernel the
# default is rvs-rvs alone (both modes): the reference and the controls
# run no rvs code the base pass has not checked them against.
. "$RVS_TOP/tests/vm/lib.sh"
sync_load_both
all="rvs-rvs ipvs-ipvs control-rvs control-ipvs"
sync_variants "${SYNC_MODES:-dr nat}" "${SYNC_VARIANTS:-$(long_or "$all" "$all" rvs-rvs)}"
