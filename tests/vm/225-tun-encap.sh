# timeout: 300
# TUN's encapsulations (issue 14), each against ip_vs in the same VM: IPIP,
# GUE to port 6080 (no checksum, checksum, remote checksum offload) and
# GRE (with and without its checksum), IPv4 and IPv6 outer headers, and
# across families (an IPv4 service to an IPv6 real server and back). One
# service per case, all on one real server (rs1) that decapsulates every
# kind (tunl0, sit0, gre0, ip6gre0, ip6tnl devices, FOU ports for GUE)
# and holds both VIPs on lo. A GRE device takes only packets whose
# checksum option matches its own (ip_tunnel_rcv), so GRE with checksums
# goes to a second address of the real server's, whose devices have icsum. The client sends 300 kB over TCP (100 kB on debug; segments
# large enough to be split after encapsulation) and a UDP datagram to
# each; the real server answers with what it got. The director's link
# computes checksums in software (tx offload off) so that a capture on
# the real server's link, decoded by tests/vm/tunnels.py (written from the
# RFCs), sees the checksums as sent, and checks them.
#
# rvs: every case's traffic arrives whole, every case's packets are
# encapsulated as asked, their outer checksums valid (or zero for
# nocsum). Against ip_vs (base kernel only; the debug kernel runs rvs's
# half): the same answers, the same decoded header forms (every field but
# lengths, ids, the flow's source port and checksum values) and the same
# `-S -n` listing from rvsadm as from ipvsadm.
. "$RVS_TOP/tests/vm/lib.sh"
PY="python3 -S"
TUN="$RVS_TOP/tests/vm/tunnels.py"
# 300 kB up each case (100 kB on the debug kernel: still segments split
# after encapsulation, at a third of the cost).
export TUN_BLOB=$(long_or 300000 300000 100000)
OUT=/tmp/tun-encap
mkdir -p $OUT
sync_load_both
VIP6=2001:db8:20::100
RS4=${LAN_RS[0]} RS6=2001:db8:20::21 RS4C=192.168.20.31 RS6C=2001:db8:20::31

# PORT SERVICE-FAMILY REAL-SERVER TUNNEL-OPTIONS (ipvsadm 1.31's)
CASES=(
	"8101 4 $RS4 --tun-type ipip"
	"8102 4 $RS4 --tun-type gue --tun-port 6080 --tun-nocsum"
	"8103 4 $RS4 --tun-type gue --tun-port 6080 --tun-csum"
	"8104 4 $RS4 --tun-type gue --tun-port 6080 --tun-remcsum"
	"8105 4 $RS4 --tun-type gre --tun-nocsum"
	"8106 4 $RS4C --tun-type gre --tun-csum"
	"8107 6 $RS6 --tun-type gue --tun-port 6080 --tun-csum"
	"8108 6 $RS6C --tun-type gre --tun-csum"
	"8109 4 $RS6 --tun-type ipip"
	"8110 6 $RS4 --tun-type ipip"
	"8111 4 $RS6 --tun-type gue --tun-port 6080 --tun-nocsum"
	"8112 6 $RS4 --tun-type gre --tun-nocsum"
)
ports() { local c f=$1; for c in "${CASES[@]}"; do set -- $c; [ "$2" = "$f" ] && echo -n "$1 "; done; }
PORTS4=$(ports 4) PORTS6=$(ports 6)

# net_up: the LAN with both families, rs1 able to take every encapsulation.
net_up() {
	topo_lan 1
	for ns in client director rs1; do in_ns $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=0; done
	ip -n client addr add 2001:db8:20::2/64 dev eth0 nodad
	ip -n director addr add 2001:db8:20::10/64 dev eth0 nodad
	# Deprecated: never the director's source address (real servers holding
	# the VIP refuse tunnelled packets from it).
	ip -n director addr add $VIP6/128 dev eth0 nodad preferred_lft 0
	in_ns director ethtool -K eth0 tx off >/dev/null
	ip -n rs1 addr add $RS6/64 dev eth0 nodad
	ip -n rs1 addr add $RS4C/24 dev eth0
	ip -n rs1 addr add $RS6C/64 dev eth0 nodad
	ip -n rs1 link add grec type gre local $RS4C icsum
	ip -n rs1 link add grec6 type ip6gre local $RS6C icsum
	ip -n rs1 addr add $VIP/32 dev lo
	ip -n rs1 addr add $VIP6/128 dev lo
	ip -n rs1 link add t46 type ip6tnl mode any local $RS6
	for dev in tunl0 sit0 gre0 ip6gre0 ip6tnl0 t46 grec grec6; do ip -n rs1 link set $dev up; done
	in_ns rs1 sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2
	for dev in all tunl0 gre0 grec; do in_ns rs1 sysctl -qw net.ipv4.conf.$dev.rp_filter=0; done
	ip -n rs1 fou add port 6080 gue
	ip -n rs1 fou add port 6080 gue -6
	in_ns client ping -6 -c1 -W2 $VIP6 >/dev/null
	in_ns director ping -6 -c1 -W2 $RS6 >/dev/null
	in_ns director ping -6 -c1 -W2 $RS6C >/dev/null
	in_ns director ping -c1 -W2 $RS4C >/dev/null
}

net_down() {
	local ns i
	for ns in client director rs1; do
		for i in $(ip netns pids $ns); do kill "$i" 2>/dev/null || true; done
	done
	for ns in client director rs1 lan; do ip netns del $ns; done
}

# run IMPL: the cases with IMPL on the director; results in $OUT/IMPL.*.
run() {
	local impl=$1 c port sf ra opts svc rs t0=$SECONDS
	net_up
	director_impl director $impl
	nsrun rs1 $PY "$TUN" serve rs1 $PORTS4 $PORTS6 >$OUT/$impl.serve 2>&1 &
	ip netns exec rs1 tcpdump -i eth0 -Q in -n -U -s 0 -Z root -w $OUT/$impl.pcap ip or ip6 2>$OUT/$impl.tcpdump &
	local dump=$!
	poll_for 30 grep -q listening $OUT/$impl.serve || fail "$impl: the real server did not start: $(cat $OUT/$impl.serve)"
	poll_for 30 grep -q 'listening on' $OUT/$impl.tcpdump || fail "$impl: tcpdump did not start: $(cat $OUT/$impl.tcpdump)"
	for c in "${CASES[@]}"; do
		read -r port sf ra opts <<<"$c"
		if [ $sf = 4 ]; then svc=$VIP:$port; else svc=[$VIP6]:$port; fi
		if [[ $ra == *:* ]]; then rs=[$ra]:$port; else rs=$ra:$port; fi
		adm director -A -t $svc -s rr
		adm director -A -u $svc -s rr
		adm director -a -t $svc -r $rs -i $opts
		adm director -a -u $svc -r $rs -i $opts
	done
	adm director -S -n >$OUT/$impl.save
	{
		in_ns client $PY "$TUN" probe $VIP $PORTS4
		in_ns client $PY "$TUN" probe $VIP6 $PORTS6
	} | sort >$OUT/$impl.probe
	# tcpdump writes each packet as it comes (-U), given a moment.
	sleep "$(long_or 1 1 3)"
	kill -INT $dump; wait $dump || true
	$PY "$TUN" decode $OUT/$impl.pcap >$OUT/$impl.forms || fail "$impl: decoding the capture failed"
	net_down
	echo "$impl: run took $((SECONDS - t0))s"
}

run rvs
echo "--- rvs: answers"; cat $OUT/rvs.probe
echo "--- rvs: header forms seen on the real server's link"; cat $OUT/rvs.forms
want=$(for p in $PORTS4 $PORTS6; do echo "$p tcp rs1"; echo "$p udp rs1"; done | sort)
expect_eq "rvs: every case's TCP and UDP traffic arrives whole" "$want" "$(cat $OUT/rvs.probe)"
for c in "${CASES[@]}"; do
	read -r port sf ra opts <<<"$c"
	rf=4; [[ $ra != *:* ]] || rf=6
	forms=$(grep "^$port " $OUT/rvs.forms || true)
	[ -n "$forms" ] || fail "rvs: no tunnelled packet seen for $c"
	case $opts in
	*ipip*) want="encap=ip" ;;
	*gue*) want="encap=udp" ;;
	*gre*) want="encap=gre" ;;
	esac
	check "rvs: $port ($opts) is encapsulated as asked" \
		bash -c '! grep -v -- "$1" <<<"$2" | grep -q .' _ "$want" "$forms"
	check "rvs: $port's outer header is IPv$rf" bash -c '! grep -v -- "outer=ipv$1" <<<"$2" | grep -q .' _ $rf "$forms"
	check "rvs: no bad checksum for $port" bash -c '! grep -q "csum=bad" <<<"$1"' _ "$forms"
	# Fragments of the outer packet carry no checksum to check.
	whole=$(grep -v "csum=frag" <<<"$forms" || true)
	case $opts in
	*gue*--tun-nocsum) check "rvs: $port's UDP checksum is zero" bash -c '! grep -v "csum=zero" <<<"$1" | grep -q .' _ "$whole" ;;
	*gue*) check "rvs: $port's UDP checksum is filled" bash -c 'grep -q "csum=ok" <<<"$1" && ! grep -q "csum=zero" <<<"$1"' _ "$whole" ;;
	*gre*--tun-csum) check "rvs: $port carries GRE's checksum" grep -q "csum=ok" <<<"$whole" ;;
	esac
	check "rvs: $port's UDP datagram was seen tunnelled" grep -q "inner=ipv$sf/udp" <<<"$forms"
done
check "rvs: remote checksum offload is used for offloaded checksums" grep -q "^8104 .*remcsum=" $OUT/rvs.forms
echo "--- rvs: rvsadm -S -n"; cat $OUT/rvs.save
expect_contains "rvs: -S lists GUE with its port and checksum" \
	"--tun-type gue --tun-port 6080 --tun-csum" "$(cat $OUT/rvs.save)"

if [ "$(long_or 1 1 0)" = 1 ]; then
	run ipvs
	same=1
	diff -u --label ip_vs $OUT/ipvs.probe --label rvs $OUT/rvs.probe || same=0
	diff -u --label ip_vs $OUT/ipvs.forms --label rvs $OUT/rvs.forms || same=0
	diff -u --label "ipvsadm on ip_vs" $OUT/ipvs.save --label "rvsadm on rvs" $OUT/rvs.save || same=0
	figure tun-encap "$(wc -l <$OUT/rvs.forms) header forms from rvs, $(wc -l <$OUT/ipvs.forms) from ip_vs, over ${#CASES[@]} cases"
	check "rvs and ip_vs answer, encapsulate and list every case alike" [ $same = 1 ]
else
	echo "ip_vs's half (the comparison) does not run on the debug kernel"
fi
