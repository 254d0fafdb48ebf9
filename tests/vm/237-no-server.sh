# timeout: 300
# What IPVS does with a flow it cannot give to a real server, and with an
# ICMP error about a flow it never saw (issue 14), rvs against ip_vs in the
# same VM:
#
# - a service whose only server has weight 0 answers a new connection
#   with ICMP port unreachable at once (curl: connection refused), as
#   IPVS's ip_vs_leave;
# - cache_bypass: a firewall-mark service (a transparent cache in front of
#   10.0.0.7, marked by nftables and delivered locally by policy routing)
#   whose cache servers are all down sends the flow on to 10.0.0.7 itself
#   when the knob is set (the answer comes from the origin, -Lnc lists the
#   bypass entry with no real server); when it is clear the flow gets no
#   answer (the port unreachable IPVS sends would come from 10.0.0.7,
#   which is not the director's, so the kernel does not send it);
# - schedule_icmp: an ICMP "fragmentation needed" from the client about a
#   DR flow the director has no entry for (as when ECMP sent the flow
#   through another director) is dropped when the knob is clear; when set
#   it makes that flow's connection (client port 40000) and reaches a real
#   server.
. "$RVS_TOP/tests/vm/lib.sh"
sync_load_both
OUT=/tmp/noserver
rm -rf $OUT; mkdir -p $OUT
NVIP=192.168.10.100

# fetch URL [SECS]: curl's verdict on one request ("refused" for ICMP
# port unreachable, "timeout" for no answer in SECS, 5 by default).
fetch() {
	local rc=0 body
	body=$(in_ns client curl -s --max-time ${2:-5} "$1") || rc=$?
	case $rc in 0) echo "$body" ;; 7) echo refused ;; 28) echo timeout ;; *) echo "curl $rc" ;; esac
}
# lnc: the connection entries without their timers.
lnc() { adm director -L -n -c | awk 'NR > 2 {print $1, $3, $4, $5, $6}' | sort; }

# run_nat IMPL: no server, then cache_bypass.
run_nat() {
	local impl=$1
	topo_nat 2
	director_impl director $impl
	adm director -A -t $NVIP:80 -s rr
	adm director -a -t $NVIP:80 -r 10.0.0.17 -m -w 0
	fetch http://$NVIP/ >$OUT/$impl.noserver
	expect_eq "$impl: no server: the client is refused at once" refused "$(cat $OUT/$impl.noserver)"

	# A transparent cache for 10.0.0.7:80: marked, delivered locally.
	ip -n client route add 10.0.0.0/24 via $NVIP
	in_ns director nft -f - <<-'NFT'
	table ip cache {
		chain pre {
			type filter hook prerouting priority mangle;
			ip daddr 10.0.0.7 tcp dport 80 meta mark set 1
		}
	}
	NFT
	ip -n director rule add fwmark 1 lookup 100
	ip -n director route add local 0.0.0.0/0 dev lo table 100
	adm director -A -f 1 -s rr
	adm director -a -f 1 -r 10.0.0.17 -m -w 0
	fetch http://10.0.0.7/ 3 >$OUT/$impl.bypass0
	expect_eq "$impl, cache_bypass=0: the cache is down, no answer" timeout "$(cat $OUT/$impl.bypass0)"
	director_knob cache_bypass 1
	fetch http://10.0.0.7/ >$OUT/$impl.bypass1
	expect_eq "$impl, cache_bypass=1: the origin answers" rs1 "$(cat $OUT/$impl.bypass1)"
	lnc | awk '$4 == "10.0.0.7:80" {print $1, $4, $5}' | sort -u >$OUT/$impl.bypass.lnc
	cat $OUT/$impl.bypass.lnc
	expect_eq "$impl: the bypass entry, with no real server" "TCP 10.0.0.7:80 0.0.0.0:0" "$(cat $OUT/$impl.bypass.lnc)"
	net_down
}

# icmp_in NS: ICMP "destination unreachable" messages NS received.
icmp_in() {
	ip netns exec $1 awk '/^Icmp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "InDestUnreachs") c = i; h = 1 } else print $c }' /proc/net/snmp
}
icmp_in_rs() { echo $(( $(icmp_in rs1) + $(icmp_in rs2) )); }
# frag_needed: the client's "fragmentation needed" about VIP:80 -> client:40000.
frag_needed() {
	in_ns client python3 -S -c '
import socket, struct, sys
vip, cli = sys.argv[1], sys.argv[2]
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 1, 0x4000, 64, 6, 0, socket.inet_aton(vip), socket.inet_aton(cli))
ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
tcp = struct.pack("!HHI", 80, 40000, 1)
msg = struct.pack("!BBHHH", 3, 4, 0, 0, 1300) + ip + tcp
msg = msg[:2] + struct.pack("!H", csum(msg)) + msg[4:]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.sendto(msg, (vip, 0))' $VIP 192.168.20.2
}

# entry_seen FILE: the entries (protocol, state, client, virtual) in FILE,
# true when there is one.
entry_seen() { lnc | awk '{print $1, $2, $3, $4}' >"$1"; [ -s "$1" ]; }

# run_lan IMPL: schedule_icmp, DR.
run_lan() {
	local impl=$1 before
	topo_lan 2
	rs_dr 1; rs_dr 2
	director_impl director $impl
	adm director -A -t $VIP:80 -s rr
	adm director -a -t $VIP:80 -r ${LAN_RS[0]} -g
	adm director -a -t $VIP:80 -r ${LAN_RS[1]} -g
	before=$(icmp_in_rs)
	frag_needed
	sleep 1
	expect_eq "$impl, schedule_icmp=0: no entry for the error" "" "$(lnc)"
	expect_eq "$impl, schedule_icmp=0: no real server got it" "$before" "$(icmp_in_rs)"
	director_knob schedule_icmp 1
	frag_needed
	# The entry lives 3 s (a new entry's first timeout): read it at once.
	poll_for 3 entry_seen $OUT/$impl.icmp.lnc || true
	cat $OUT/$impl.icmp.lnc
	wait_for 5 "$impl, schedule_icmp=1: a real server got the error" bash -c "[ \$(( \$(icmp_in rs1) + \$(icmp_in rs2) )) -gt $before ]"
	expect_eq "$impl, schedule_icmp=1: the flow's entry" "TCP NONE 192.168.20.2:40000 $VIP:80" "$(cat $OUT/$impl.icmp.lnc)"
	net_down
}

export -f in_ns icmp_in
run_nat rvs
run_lan rvs
if [ "${RVS_KERNEL:-base}" != debug ]; then
	run_nat ipvs
	run_lan ipvs
	for f in noserver bypass0 bypass1 bypass.lnc icmp.lnc; do
		expect_eq "$f: as ip_vs" "$(cat $OUT/ipvs.$f)" "$(cat $OUT/rvs.$f)"
	done
fi
echo "no server: ok"
