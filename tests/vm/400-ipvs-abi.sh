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

# The configurations of 115 plus the edits and errors of 110, in ipvsadm's
# words; each line is one ipvsadm invocation.
script='-A -t 192.168.10.100:80 -s rr
-a -t 192.168.10.100:80 -r 10.0.0.7 -m
-a -t 192.168.10.100:80 -r 10.0.0.17 -m
-A -t 10.0.0.10:80 -s wrr -p 20
-a -t 10.0.0.10:80 -r 10.0.0.21 -g -w 1
-a -t 10.0.0.10:80 -r 10.0.0.22 -g -w 2
-A -t 10.0.0.11:443 -s lc -p 300 -M 255.255.255.0
-a -t 10.0.0.11:443 -r 10.0.1.1 -i -w 0
-a -t 10.0.0.11:443 -r 10.0.1.2 -i -w 65535
-A -u 10.0.0.12:53 -s sh -b sh-fallback,sh-port -o
-a -u 10.0.0.12:53 -r 10.0.0.31:53 -g
-a -u 10.0.0.12:53 -r 10.0.0.32:5353 -m
-A -f 1 -s mh -b mh-fallback,mh-port
-a -f 1 -r 10.0.0.41 -g -w 2
-A -t [2001:db8::1]:443 -s sed -p 100 -M 64
-a -t [2001:db8::1]:443 -r [2001:db8::10]:8443 -m -w 100 -x 100 -y 50
-A -u [2001:db8::2]:53 -s nq
-a -u [2001:db8::2]:53 -r [2001:db8::20]:53 -i -w 7
-A -t 10.0.0.13:80 -s lblc
-A -t 10.0.0.15:80 -s fo
-A -t 10.0.0.17:0 -s twos -p 60
-E -t 10.0.0.10:80 -s wlc -p 40
-e -t 10.0.0.10:80 -r 10.0.0.22 -g -w 5
-d -t 10.0.0.10:80 -r 10.0.0.21
-D -t 10.0.0.15:80
-A -t 192.168.10.100:80 -s rr
-a -t 192.168.10.100:80 -r 10.0.0.7 -m
-D -t 10.9.9.9:80
-d -t 192.168.10.100:80 -r 10.9.9.9
-e -t 192.168.10.100:80 -r 10.9.9.9 -m
-a -t 10.9.9.9:80 -r 10.0.0.1
-A -t 10.0.0.30:80 -s nosuch
-E -t 10.9.9.9:80 -s rr
-a -t 192.168.10.100:80 -r 224.0.0.1 -m
--set 900 120 300
--set 100 30 60
-Z
-Z -t 192.168.10.100:80
-Z -t 10.9.9.9:80
--start-daemon master --mcast-interface d0 --syncid 7
--start-daemon master --mcast-interface d0
--start-daemon backup --mcast-interface nosuch
--start-daemon backup --mcast-interface d0 --syncid 9 --mcast-group 224.0.0.90 --mcast-port 9000 --mcast-ttl 2 --sync-maxlen 1400'
# After the views (which list the daemons): stopping them, and errors.
stops='--stop-daemon master
-L -n --daemon
--stop-daemon master
--stop-daemon backup
--stop-daemon backup
-L -n --daemon'
views='-L -n
-L -n --stats
-L -n --rate
-L -n --thresholds
-L -n --persistent-conn
-L -n --timeout
-L -n --daemon
-S -n
-L -n -t 192.168.10.100:80
-L -n -t 10.9.9.9:80'

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
