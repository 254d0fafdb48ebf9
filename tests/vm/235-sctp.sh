# timeout: 300
# SCTP services (issue 14), each half against ip_vs in the same VM: real
# SCTP associations (tests/vm/sctpcheck.py, the kernel's SCTP on both
# ends) through NAT with a port change, DR and TUN, rr over two real
# servers.
#
# rvs: associations alternate between the servers and their data arrives
# intact; every SCTP packet the director sent on, captured on the client's
# and the real server's links, carries a valid CRC32c (NAT rewrites the
# port, so the CRC is computed again); `-Lnc` shows IPVS's SCTP state
# names (ESTABLISHED for a held association with its 15-minute timer,
# CLOSED after a shutdown with at most 61 s left, REJECTED for an INIT
# answered with ABORT), and a REJECTED entry expires on its 4-second
# timeout; ActiveConn counts the held association only.
# Against ip_vs (base kernel only): the same answers and the same states.
# The debug kernel runs the rvs half through NAT.
. "$RVS_TOP/tests/vm/lib.sh"
PY="python3 -S"
SC="$RVS_TOP/tests/vm/sctpcheck.py"
OUT=/tmp/sctp
rm -rf $OUT; mkdir -p $OUT
sync_load_both
NVIP=192.168.10.100
SIZE=30000


# sctp_server NS NAME ADDR PORT...: the association server, started and
# listening.
sctp_server() {
	local ns=$1; shift
	nsrun $ns $PY "$SC" serve "$@" >$OUT/serve.$ns 2>&1 &
	poll_for 30 grep -q listening $OUT/serve.$ns || fail "no SCTP server in $ns: $(cat $OUT/serve.$ns)"
}

# conns: `-Lnc` as protocol, state, virtual and real address, counted.
conns() { adm director -L -n -c | awk 'NR > 2 {print $1, $3, $5, $6}' | sort | uniq -c; }
# settled N STATE...: N entries, all in one of STATEs (closing
# associations finish their shutdown after the client process is gone).
settled() {
	local n=$1; shift
	adm director -L -n -c | awk -v n=$n -v ok=" $* " 'NR > 2 {c++; if (index(ok, " " $3 " ") == 0) bad = 1}
		END {exit !(c == n && !bad)}'
}
no_rejected() { ! adm director -L -n -c | grep -q REJECTED; }

# run_nat IMPL: NAT VIP:9000 -> RIP:9100, and VIP:9001 -> RIP:9101 where
# nothing listens; results in $OUT/IMPL.*.
run_nat() {
	local impl=$1 t0=$SECONDS dumps=""
	topo_nat 2
	director_impl director $impl
	for d in d0 br0 rs1-port rs2-port; do in_ns director ethtool -K $d tx off >/dev/null; done
	sctp_server rs1 rs1 10.0.0.7 9100
	sctp_server rs2 rs2 10.0.0.17 9100
	ip netns exec client tcpdump -i eth0 -Q in -n -U -s 0 -Z root -w $OUT/$impl.client.pcap sctp 2>$OUT/$impl.client.tcpdump &
	dumps="$dumps $!"
	ip netns exec rs1 tcpdump -i eth0 -Q in -n -U -s 0 -Z root -w $OUT/$impl.rs1.pcap sctp 2>$OUT/$impl.rs1.tcpdump &
	dumps="$dumps $!"
	poll_for 30 grep -q 'listening on' $OUT/$impl.client.tcpdump || fail "$impl: tcpdump did not start"
	poll_for 30 grep -q 'listening on' $OUT/$impl.rs1.tcpdump || fail "$impl: tcpdump did not start"
	adm director -A --sctp-service $NVIP:9000 -s rr
	adm director -a --sctp-service $NVIP:9000 -r 10.0.0.7:9100 -m
	adm director -a --sctp-service $NVIP:9000 -r 10.0.0.17:9100 -m
	adm director -A --sctp-service $NVIP:9001 -s rr
	adm director -a --sctp-service $NVIP:9001 -r 10.0.0.7:9101 -m
	in_ns client $PY "$SC" probe $NVIP $SIZE 4 9000 >$OUT/$impl.nat.probe
	# One association held open while the table is listed.
	rm -f $OUT/release
	in_ns client $PY "$SC" hold $NVIP 9000 $OUT/release >$OUT/$impl.hold &
	local holder=$!
	poll_for 30 grep -q . $OUT/$impl.hold || fail "$impl: the held association got no answer"
	poll_for 10 settled 5 CLOSED ESTABLISHED || echo "$impl: the entries did not settle in 10 s"
	adm director -L -n -c >$OUT/$impl.nat.lnc
	conns >$OUT/$impl.nat.conns
	adm director -L -n >$OUT/$impl.nat.ln
	touch $OUT/release; wait $holder
	# An INIT the real server answers with ABORT (nothing listens).
	in_ns client $PY "$SC" probe $NVIP 10 1 9001 >$OUT/$impl.rejected.probe
	conns >$OUT/$impl.rejected.conns
	if poll_for 20 no_rejected; then echo "$POLL_TOOK"; else echo never; fi >$OUT/$impl.rejected.gone
	sleep "$(long_or 1 1 3)"
	kill -INT $dumps; wait $dumps || true
	net_down
	echo "$impl: NAT took $((SECONDS - t0))s"
}

# run_lan IMPL: DR (VIP:9000) and TUN (VIP:9002) to two real servers that
# hold the VIP on lo and take IPIP on tunl0.
run_lan() {
	local impl=$1 t0=$SECONDS i
	topo_lan 2
	director_impl director $impl
	for i in 1 2; do
		rs_dr $i
		ip -n rs$i link set tunl0 up
		in_ns rs$i sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.tunl0.rp_filter=0
		sctp_server rs$i rs$i $VIP 9000 9002
	done
	adm director -A --sctp-service $VIP:9000 -s rr
	adm director -A --sctp-service $VIP:9002 -s rr
	for i in 0 1; do
		adm director -a --sctp-service $VIP:9000 -r ${LAN_RS[$i]} -g
		adm director -a --sctp-service $VIP:9002 -r ${LAN_RS[$i]} -i
	done
	in_ns client $PY "$SC" probe $VIP $SIZE 4 9000 9002 >$OUT/$impl.lan.probe
	poll_for 10 settled 8 CLOSED || echo "$impl: the entries did not settle in 10 s"
	conns >$OUT/$impl.lan.conns
	adm director -S -n >$OUT/$impl.lan.save
	net_down
	echo "$impl: DR and TUN took $((SECONDS - t0))s"
}

# DR and TUN forward SCTP by the code TCP and UDP take (210, 220 on the
# debug kernel); on debug this test runs the SCTP-specific NAT half.
lan=$(long_or 1 1 0)
run_nat rvs
[ $lan = 0 ] || run_lan rvs
for f in nat.probe lan.probe; do [ ! -f $OUT/rvs.$f ] || { echo "--- rvs: $f"; cat $OUT/rvs.$f; }; done
echo "--- rvs: -Lnc with one association held"; cat $OUT/rvs.nat.lnc
echo "--- rvs: -Ln"; cat $OUT/rvs.nat.ln
# alt FILE PORT: the answers to PORT, counted.
alt() { awk -v p=$2 '$1 == p {print $2, $3}' "$1" | sort | uniq -c | awk '{print $1, $2, $3}'; }
for f in "nat 9000 nat" "dr 9000 lan" "tun 9002 lan"; do
	set -- $f
	[ $3 = nat ] || [ $lan = 1 ] || continue
	expect_eq "rvs: $1 associations alternate, data intact" "2 rs1 ok
2 rs2 ok" "$(alt $OUT/rvs.$3.probe $2)"
done
# rr's fifth pick is its first.
first=$(awk '{print $2; exit}' $OUT/rvs.nat.probe)
if [ "$first" = rs1 ]; then fip=10.0.0.7 oip=10.0.0.17; else fip=10.0.0.17 oip=10.0.0.7; fi
expect_eq "rvs: the held association went to rr's next pick" "$first" "$(cat $OUT/rvs.hold)"
for side in client rs1; do
	r=$($PY "$SC" crc $OUT/rvs.$side.pcap)
	echo "rvs: SCTP packets the director sent to the $side: $r"
	check "rvs: every SCTP packet to the $side has a valid CRC32c" bash -c '[[ $1 == *", 0 bad" && $1 != "0 packets"* ]]' _ "$r"
done
expect_eq "rvs: -Lnc states through NAT" "      2 SCTP CLOSED $NVIP:9000 10.0.0.17:9100
      2 SCTP CLOSED $NVIP:9000 10.0.0.7:9100
      1 SCTP ESTABLISHED $NVIP:9000 $fip:9100" "$(cat $OUT/rvs.nat.conns)"
est=$(awk '$3 == "ESTABLISHED" {print $2}' $OUT/rvs.nat.lnc)
check "rvs: the held association's timer is ESTABLISHED's 15 minutes ($est)" bash -c '[[ $1 == 14:* || $1 == 15:00 ]]' _ "$est"
check "rvs: CLOSED entries expire within 61 s" bash -c '! awk '"'"'$3 == "CLOSED" {split($2, t, ":"); if (t[1] * 60 + t[2] > 61) bad = 1} END {exit !bad}'"'"' "$1"' _ $OUT/rvs.nat.lnc
expect_eq "rvs: ActiveConn and InActConn per server" "$fip:9100 1 2
$oip:9100 0 2" "$(awk '$1 == "->" && $2 ~ /:9100$/ {print $2, $5, $6}' $OUT/rvs.nat.ln | sort -k2,2r)"
expect_eq "rvs: an INIT answered with ABORT is refused" "9001 refused" "$(cat $OUT/rvs.rejected.probe)"
expect_contains "rvs: ... and listed REJECTED" "SCTP REJECTED $NVIP:9001 10.0.0.7:9101" "$(cat $OUT/rvs.rejected.conns)"
check "rvs: the REJECTED entry expired on its 4 s timeout (after $(cat $OUT/rvs.rejected.gone))" \
	bash -c '[[ $1 != never ]]' _ "$(cat $OUT/rvs.rejected.gone)"
if [ $lan = 1 ]; then
	expect_eq "rvs: -Lnc states through DR and TUN" "      2 SCTP CLOSED $VIP:9000 ${LAN_RS[0]}:9000
      2 SCTP CLOSED $VIP:9000 ${LAN_RS[1]}:9000
      2 SCTP CLOSED $VIP:9002 ${LAN_RS[0]}:9002
      2 SCTP CLOSED $VIP:9002 ${LAN_RS[1]}:9002" "$(cat $OUT/rvs.lan.conns)"
else
	echo "DR and TUN, and ip_vs's half (the comparison), do not run on the debug kernel"
fi

if [ $lan = 1 ]; then
	run_nat ipvs
	run_lan ipvs
	same=1
	for f in nat.probe lan.probe hold nat.conns rejected.probe rejected.conns lan.conns lan.save; do
		diff -u --label "ip_vs $f" $OUT/ipvs.$f --label "rvs $f" $OUT/rvs.$f || same=0
	done
	diff -u --label "ip_vs -Ln" <(sed 1d $OUT/ipvs.nat.ln) --label "rvs -Ln" <(sed 1d $OUT/rvs.nat.ln) || same=0
	for side in client rs1; do echo "ip_vs: SCTP packets to the $side: $($PY "$SC" crc $OUT/ipvs.$side.pcap)"; done
	figure sctp "REJECTED entry gone after $(cat $OUT/rvs.rejected.gone) with rvs, $(cat $OUT/ipvs.rejected.gone) with ip_vs"
	check "rvs and ip_vs answer, list and keep SCTP states alike" [ $same = 1 ]
fi
