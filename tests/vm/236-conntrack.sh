# timeout: 300
# Conntrack integration (issue 14), rvs against ip_vs in the same VM: the
# "full NAT" set-up kube-proxy and Docker build, a NAT service next to an
# nftables MASQUERADE rule on the director's real-server side.
#
# conntrack=0 (the default): NAT works through the director as the real
# servers' gateway, and the balanced traffic leaves no conntrack entry.
# Then the real servers lose their route back to the client (their only
# route is their link), so without conntrack the service stops answering.
# conntrack=1: the MASQUERADE rule applies to balanced traffic, the real
# servers see the director's address and answer it, rr alternates, a 1 MB
# download is byte-identical, and `conntrack -L` shows the entries with
# the reply from the real server to the director's address. A UDP
# connection's conntrack entry goes with the connection when it expires
# (6 s, where conntrack alone keeps it 30 s). ip_vs shows the same
# entries.
# DR and TUN, with conntrack active on the director (an nftables rule that
# reads connection states): conntrack=0 leaves no entry of the client's
# flows (a tunnel's outer packets are tracked on their own, as IPVS's);
# conntrack=1 keeps the DR flow's entry and confirms the TUN flow's before
# it goes into the tunnel. The same entries as ip_vs's.
. "$RVS_TOP/tests/vm/lib.sh"
sync_load_both
OUT=/tmp/nfct
rm -rf $OUT; mkdir -p $OUT
NVIP=192.168.10.100


# entries PROTO PORT: the director's conntrack entries of PROTO whose
# original destination port is PORT, without timers and client ports.
entries() {
	in_ns director conntrack -L -p $1 --orig-port-dst $2 2>/dev/null | awk -v p=$2 '{
		out = $1
		for (i = 4; i <= NF; i++) {
			if ($i ~ /^(sport|dport)=/ && $i != "sport=" p && $i != "dport=" p) continue
			if ($i ~ /^(mark|use|zone|id)=/ || $i ~ /^[A-Z_]+$/) continue
			out = out " " $i
		}
		print out }' | sort | uniq -c
}
# balanced: every conntrack entry of traffic to the VIP or the real servers.
balanced() { in_ns director conntrack -L 2>/dev/null | grep -cE 'src=(192\.168\.10\.100|10\.0\.0\.(7|17)) ' || true; }

# run IMPL: results in $OUT/IMPL.*.
run() {
	local impl=$1 i body
	topo_nat 2
	director_impl director $impl
	udp_server rs1 rs1 53; udp_server rs2 rs2 53
	in_ns director nft -f - <<-'NFT'
	table ip fullnat {
		chain post {
			type nat hook postrouting priority srcnat;
			oifname "br0" masquerade
		}
	}
	NFT
	adm director -A -t $NVIP:80 -s rr
	adm director -a -t $NVIP:80 -r 10.0.0.7 -m
	adm director -a -t $NVIP:80 -r 10.0.0.17 -m
	adm director -A -u $NVIP:53 -s rr
	adm director -a -u $NVIP:53 -r 10.0.0.7 -m
	adm director -a -u $NVIP:53 -r 10.0.0.17 -m
	adm director --set 0 0 6

	# conntrack=0: plain NAT, no entries.
	for i in 1 2; do cget http://$NVIP/; done >$OUT/$impl.off
	expect_eq "$impl, conntrack=0: rr through NAT" "rs1 rs2" "$(sort $OUT/$impl.off | xargs)"
	expect_eq "$impl, conntrack=0: the balanced traffic left no conntrack entry" 0 "$(balanced)"

	# The real servers' only route is their link: no way back but the
	# director's address.
	ip -n rs1 route del default; ip -n rs2 route del default
	body=$(in_ns client curl -s --max-time 3 http://$NVIP/ || true)
	expect_eq "$impl, conntrack=0, no route back: no answer" "" "$body"

	director_knob conntrack 1
	for i in 1 2 3 4; do cget http://$NVIP/; done >$OUT/$impl.on
	expect_eq "$impl, conntrack=1: rr through MASQUERADE" "rs1 rs1 rs2 rs2" "$(sort $OUT/$impl.on | xargs)"
	# (Base only: on debug the rest covers the same code in a tenth of
	# the time.)
	if [ "${RVS_KERNEL:-base}" != debug ]; then
		in_ns client curl -s --max-time 60 -o $OUT/$impl.blob http://$NVIP/blob
		check "$impl, conntrack=1: a 1 MB download is byte-identical" cmp -s $OUT/$impl.blob /tmp/blob.src
	fi
	entries tcp 80 >$OUT/$impl.tcp
	cat $OUT/$impl.tcp
	check "$impl: the entries' replies come from the real servers to the director" \
		grep -q "src=10.0.0.7 dst=10.0.0.8 sport=80" $OUT/$impl.tcp

	# UDP: the entry goes with the connection (6 s), not conntrack's 30 s.
	body=$(uget $NVIP 53)
	check "$impl, conntrack=1: a UDP answer ($body)" [ -n "$body" ]
	entries udp 53 >$OUT/$impl.udp
	cat $OUT/$impl.udp
	check "$impl: the UDP entry's reply comes from the real server to the director" \
		grep -qE "src=10.0.0.(7|17) dst=10.0.0.8 sport=53" $OUT/$impl.udp
	wait_for 25 "$impl: the UDP conntrack entry went with the connection" \
		bash -c "! in_ns director conntrack -L -p udp --orig-port-dst 53 2>/dev/null | grep -q src="
	net_down
}

# lan_entries: the director's conntrack entries of the LAN's traffic, as
# protocol, addresses, the services' ports and flags.
lan_entries() {
	in_ns director conntrack -L 2>/dev/null | awk '{
		out = $1
		for (i = 2; i <= NF; i++)
			if ($i ~ /^(src|dst)=/ || $i ~ /^(sport|dport)=(80|8080)$/ || $i ~ /^\[/) out = out " " $i
		print out }' | grep -E '192\.168\.20\.' | sort | uniq -c
}
# run_lan IMPL: DR to rs1 (VIP:80) and TUN to rs2 (VIP:8080).
run_lan() {
	local impl=$1 mode
	topo_lan 2
	rs_dr 1; rs_tun 2
	http_server rs1 rs1 80; http_server rs2 rs2 8080
	director_impl director $impl
	in_ns director nft -f - <<-'NFT'
	table ip watch {
		chain out {
			type filter hook output priority 0;
			ct state invalid counter
		}
	}
	NFT
	adm director -A -t $VIP:80 -s rr
	adm director -a -t $VIP:80 -r ${LAN_RS[0]} -g
	adm director -A -t $VIP:8080 -s rr
	adm director -a -t $VIP:8080 -r ${LAN_RS[1]} -i
	for mode in 0 1; do
		director_knob conntrack $mode
		expect_eq "$impl, DR, conntrack=$mode: answered" rs1 "$(in_ns client curl -s --max-time 20 http://$VIP/)"
		expect_eq "$impl, TUN, conntrack=$mode: answered" rs2 "$(in_ns client curl -s --max-time 20 http://$VIP:8080/)"
		lan_entries >$OUT/$impl.lan$mode
		echo "conntrack=$mode:"; cat $OUT/$impl.lan$mode
		in_ns director conntrack -F >/dev/null 2>&1 || true
	done
	check "$impl, DR and TUN, conntrack=0: no entry of the client's flows" \
		bash -c "! grep -q 'dst=$VIP' $OUT/$impl.lan0"
	check "$impl, conntrack=1: the DR flow's entry" grep -q "tcp src=192.168.20.2 dst=$VIP dport=80 " $OUT/$impl.lan1
	check "$impl, conntrack=1: the TUN flow's entry" grep -q "tcp src=192.168.20.2 dst=$VIP dport=8080 " $OUT/$impl.lan1
	net_down
}

export -f in_ns
run rvs
run_lan rvs
if [ "${RVS_KERNEL:-base}" != debug ]; then
	run ipvs
	run_lan ipvs
	expect_eq "the TCP entries are IPVS's" "$(cat $OUT/ipvs.tcp)" "$(cat $OUT/rvs.tcp)"
	expect_eq "the UDP entries are IPVS's" "$(cat $OUT/ipvs.udp)" "$(cat $OUT/rvs.udp)"
	expect_eq "DR and TUN, conntrack=0: the entries are IPVS's" "$(cat $OUT/ipvs.lan0)" "$(cat $OUT/rvs.lan0)"
	expect_eq "DR and TUN, conntrack=1: the entries are IPVS's" "$(cat $OUT/ipvs.lan1)" "$(cat $OUT/rvs.lan1)"
fi
dmesg | grep -iE 'rvs|ip_vs' | tail -5
echo "conntrack: ok"
