# timeout: 600
# lane: serial (swaps ip_vs and rvs (ipvs_abi=1))
# The IPVS ABI (ipvs_abi=1): Debian's own ipvsadm drives rvs through the
# IPVS generic netlink family and /proc, and gets the same listings and the
# same errors as from the kernel's ip_vs in the same VM. Every command and
# listing is run twice, once against rvs and once against ip_vs, and the
# outputs compared (only what differs by nature is masked: the table size,
# client ports, expiry times, and byte/packet counts).
. "$RVS_TOP/tests/vm/lib.sh"
unload_ip_vs
IPVSADM=/usr/sbin/ipvsadm
out=/tmp/abi; rm -rf $out; mkdir -p $out

. "$RVS_TOP/tests/vm/ipvsadm-lines.bash"

# run NAME: the script and the views, one output file each.
run() {
	ns_lines director $out/$1.cmd $IPVSADM <<<"$script"
	ns_lines director $out/$1.view $IPVSADM <<<"$views"
	sed -i 's/(size=[0-9]*)/(size=N)/' $out/$1.view*
	ns_lines director $out/$1.stop $IPVSADM <<<"$stops"
	# Traffic through the first service, then the connection listing.
	for j in 1 2 3 4; do cget http://192.168.10.100/ >/dev/null; done
	# ip_vs folds its per-CPU counters into what it reports only on the
	# estimator's 2 s tick, so wait until both count the 4 connections.
	wait_for 20 "$1 counts 4 connections" service_conns_are 4
	in_ns director $IPVSADM -L -n -c | mask_conn >$out/$1.conns
	in_ns director $IPVSADM -L -n --stats -t 192.168.10.100:80 | mask_counts >$out/$1.stats
	in_ns director $IPVSADM -L -c | mask_conn >$out/$1.conns_names
	# The /proc files themselves (listing order is the hash's: sorted).
	in_ns director cat /proc/net/ip_vs_conn | awk 'NR > 1 {$3 = "P"; $9 = "E"} {print}' | sort >$out/$1.proc_conn
	in_ns director cat /proc/net/ip_vs | sed 's/(size=[0-9]*)/(size=N)/' | sort >$out/$1.proc_services
	in_ns director cat /proc/net/ip_vs_stats | sed -n '1,2p;4p;5p' >$out/$1.proc_stats
	in_ns director $IPVSADM -C
	in_ns director $IPVSADM -L -n | sed 's/(size=[0-9]*)/(size=N)/' >$out/$1.cleared
}
service_conns_are() {
	in_ns director $IPVSADM -L -n --stats -t 192.168.10.100:80 |
		awk -v n="$1" '$1 == "TCP" && $3 == n {found = 1} END {exit !found}'
}
# Client ports and expiry vary run to run; the rest must match.
mask_conn() { sed -E 's/192\.168\.10\.6:[0-9]+/CLIENT/; s/ [0-9]{2}:[0-9]{2} / MM:SS /' | sort; }
# Packet and byte counts depend on TCP's timing; connections must match.
mask_counts() { awk '/^(TCP|  ->)/ {$4 = $5 = $6 = $7 = "N"} {print}'; }

# --- rvs ---
load_rvs ipvs_abi=1
check "the IPVS family is registered" genl_family_registered IPVS
topo_nat 2
run rvs
for f in ip_vs ip_vs_conn ip_vs_stats; do
	check "/proc/net/$f in the director" in_ns director test -r /proc/net/$f
done
for k in expire_nodest_conn expire_quiescent_template conn_reuse_mode sloppy_tcp sloppy_sctp nat_icmp_send snat_reroute \
	sync_threshold sync_refresh_period sync_retries sync_persist_mode sync_version sync_ports \
	sync_qlen_max sync_sock_size backup_only; do
	check "net.ipv4.vs.$k" in_ns director test -w /proc/sys/net/ipv4/vs/$k
done
# The knobs' checks are IPVS's: a bad value is refused and changes nothing.
for kv in "sync_threshold=50 50" "sync_threshold=-1 50" "sync_ports=3" "sync_ports=128" "sync_retries=4" "sync_version=2"; do
	k=${kv%%=*} v=${kv#*=}
	before=$(in_ns director cat /proc/sys/net/ipv4/vs/$k)
	if in_ns director sh -c "echo '$v' >/proc/sys/net/ipv4/vs/$k" 2>/dev/null; then fail "$k=$v accepted"; fi
	expect_eq "$k=$v refused, unchanged" "$before" "$(in_ns director cat /proc/sys/net/ipv4/vs/$k)"
done
expect_eq "sync_threshold default" "$(printf '3\t50')" "$(in_ns director cat /proc/sys/net/ipv4/vs/sync_threshold)"
for ns in client director rs1 rs2; do ip netns del $ns; done
rmmod rvs

# --- the reference: ip_vs ---
modprobe ip_vs
for s in rr wrr lc wlc lblc lblcr dh sh sed nq mh fo ovf twos; do modprobe ip_vs_$s; done
topo_nat 2
run ipvs
for ns in client director rs1 rs2; do ip netns del $ns; done

n=0
for f in $(cd $out && ls ipvs.* | sed 's/^ipvs\.//'); do
	n=$((n + 1))
	expect_eq "same as ip_vs: $f" "$(cat $out/ipvs.$f)" "$(cat $out/rvs.$f)"
done
echo "$n outputs compared"
[ "$n" -ge 50 ] || fail "too few outputs compared ($n)"
