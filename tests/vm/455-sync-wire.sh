# timeout: 300
# Sync on the wire, rvs against ip_vs: one boot with both modules loaded
# (rvs in its own `rvs` family, ip_vs in IPVS's), the same LAN built twice
# (same namespace names, recreated between the runs), a director running
# the master sync daemon (syncid 9) with a DR TCP rr service, a DR TCP
# persistent (-p 60) one and a DR UDP one, one real server each (so the
# real server is compared too), and the same traffic from fixed client
# addresses and ports: 6 TCP connections of 5 echoed lines (past client
# packet 3, the sync threshold) closed by the client, 2 UDP flows of 5
# datagrams. The sync datagrams the director multicasts (udp port 8848 on
# its eth0) are captured and decoded by tests/vm/syncdecode.py, a decoder
# written from the kernel's ip_vs_sync.c that shares nothing with rvs.
# The two sets of decoded entries (client ports masked, then not) must be
# equal; every rvs datagram carries the rvs trailer and no ip_vs one does;
# the sync id is 9 in every header.
. "$RVS_TOP/tests/vm/lib.sh"
# python3 -S: no site scan, a faster start under TCG (stdlib only here).
PY="python3 -S"
DECODE="$PY $RVS_TOP/tests/vm/syncdecode.py"
IPVSADM=/usr/sbin/ipvsadm
CLIENT1=192.168.20.2 CLIENT2=192.168.20.3
OUT=/tmp/sync-wire
mkdir -p $OUT

load_rvs
modprobe ip_vs; modprobe ip_vs_rr
lsmod | grep -q '^rvs ' || fail "rvs is not loaded"
lsmod | grep -q '^ip_vs ' || fail "ip_vs is not loaded"

# The client's side, one process for all the traffic (a Python start is
# slow under TCG): each FLOW is tcp|udp,SRC,SPORT,DST,DPORT,N. A TCP
# connection sends N lines, each echoed before the next (so each is a
# segment of its own), then closes and waits for the server's FIN; a UDP
# flow sends N datagrams, each answered.
cat >$OUT/client.py <<'PY'
import socket, sys
for flow in sys.argv[1:]:
    mode, src, sport, dst, dport, n = flow.split(",")
    sport, dport, n = int(sport), int(dport), int(n)
    if mode == "tcp":
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((src, sport))
        s.settimeout(5)
        s.connect((dst, dport))
        f = s.makefile("rb")
        for i in range(n):
            msg = b"line %d from %s:%d\n" % (i, src.encode(), sport)
            s.sendall(msg)
            if f.readline() != msg:
                sys.exit("tcp %s: bad echo" % flow)
        s.shutdown(socket.SHUT_WR)
        if f.read() != b"":
            sys.exit("tcp %s: data after the echoes" % flow)
        s.close()
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((src, sport))
        s.settimeout(2)
        got = 0
        for i in range(n):
            msg = b"datagram %d from %s:%d" % (i, src.encode(), sport)
            s.sendto(msg, (dst, dport))
            try:
                data, _ = s.recvfrom(2048)
                got += data == msg
            except socket.timeout:
                pass
        s.close()
        if got != n:
            sys.exit("udp %s: %d of %d answers" % (flow, got, n))
    print("ok: %s" % flow)
PY

# run IMPL CTL...: the LAN, the services and the master daemon with CTL
# in the director namespace, the traffic, the capture in $OUT/IMPL.pcap.
run() {
	local impl=$1 i; shift
	local ctl=(ip netns exec director "$@") t0=$SECONDS
	topo_lan 3
	ip -n client addr add $CLIENT2/24 dev eth0
	for i in 1 2 3; do rs_dr $i; done
	echo_server rs1 7000
	echo_server rs2 7001
	nsrun rs3 $PY "$RVS_TOP/tests/vm/udpecho.py" serve $VIP 7002 &
	listening rs3 u 7002
	"${ctl[@]}" -A -t $VIP:7000 -s rr
	"${ctl[@]}" -a -t $VIP:7000 -r ${LAN_RS[0]}:7000 -g
	"${ctl[@]}" -A -t $VIP:7001 -s rr -p 60
	"${ctl[@]}" -a -t $VIP:7001 -r ${LAN_RS[1]}:7001 -g
	"${ctl[@]}" -A -u $VIP:7002 -s rr
	"${ctl[@]}" -a -u $VIP:7002 -r ${LAN_RS[2]}:7002 -g
	"${ctl[@]}" --start-daemon master --mcast-interface eth0 --syncid 9
	expect_contains "$impl: master daemon runs" "master sync daemon (mcast=eth0, syncid=9" \
		"$("${ctl[@]}" -L --daemon)"

	rm -f $OUT/$impl.pcap
	ip netns exec director tcpdump -i eth0 -n -U -s 0 -Z root -w $OUT/$impl.pcap udp port 8848 \
		2>$OUT/$impl.tcpdump &
	local dump=$!
	for i in $(seq 1 50); do grep -q 'listening on' $OUT/$impl.tcpdump && break; sleep 0.2; done
	grep -q 'listening on' $OUT/$impl.tcpdump || fail "$impl: tcpdump did not start: $(cat $OUT/$impl.tcpdump)"

	# 3 connections to each TCP service, alternating the two client
	# addresses (two persistence templates on 7001), one after the other;
	# then a UDP flow from each address.
	local flows=() port=41001 svc src
	for svc in 7000 7000 7000 7001 7001 7001; do
		src=$([ $((port % 2)) = 1 ] && echo $CLIENT1 || echo $CLIENT2)
		flows+=(tcp,$src,$port,$VIP,$svc,5)
		port=$((port + 1))
	done
	flows+=(udp,$CLIENT1,42001,$VIP,7002,5 udp,$CLIENT2,42002,$VIP,7002,5)
	in_ns client $PY $OUT/client.py "${flows[@]}" | sed "s/^/$impl: /" ||
		fail "$impl: the client's traffic failed"
	echo "$impl: traffic done after $((SECONDS - t0))s"
	echo "$impl: connections (director):"
	"${ctl[@]}" -L -n -c | sed 's/^/  /'
	# IPVS sends a partly filled buffer once it is 2 s old, checked every
	# second: 5 s covers it.
	sleep 5
	kill -INT $dump; wait $dump || true
	"${ctl[@]}" --stop-daemon master
	"${ctl[@]}" -C
	for ns in client director rs1 rs2 rs3; do
		for i in $(ip netns pids $ns); do kill "$i" 2>/dev/null || true; done
	done
	for ns in client director rs1 rs2 rs3 lan; do ip netns del $ns; done
	echo "$impl: run took $((SECONDS - t0))s; $(cat $OUT/$impl.tcpdump | grep -E 'packets (captured|dropped by kernel)' | tr '\n' ' ')"
}

run rvs rvsadm
run ipvs $IPVSADM
t0=$SECONDS

for impl in rvs ipvs; do
	$DECODE $OUT/$impl.pcap >$OUT/$impl.full || fail "$impl: syncdecode failed"
	$DECODE --summary $OUT/$impl.pcap >$OUT/$impl.sum 2>$OUT/$impl.sumerr || fail "$impl: syncdecode --summary failed"
	# The same as --summary --mask '', one Python start less.
	grep '^entry ' $OUT/$impl.full | sort -u >$OUT/$impl.sum-ports || true
	echo "--- $impl: decoded datagrams (first 20 lines)"
	head -20 $OUT/$impl.full
done

echo "(decoding took $((SECONDS - t0))s)"
count() { grep -c "$1" "$2" || true; }
rvs_dg=$(count '^dgram ' $OUT/rvs.full); ipvs_dg=$(count '^dgram ' $OUT/ipvs.full)
rvs_en=$(count '^entry ' $OUT/rvs.full); ipvs_en=$(count '^entry ' $OUT/ipvs.full)
figure sync-wire "rvs: $rvs_dg datagrams, $rvs_en entries ($(wc -l <$OUT/rvs.sum) distinct); ip_vs: $ipvs_dg datagrams, $ipvs_en entries ($(wc -l <$OUT/ipvs.sum) distinct)"

check "rvs sent sync datagrams" [ "$rvs_dg" -gt 0 ]
check "ip_vs sent sync datagrams" [ "$ipvs_dg" -gt 0 ]
for impl in rvs ipvs; do
	if grep -q '^error' $OUT/$impl.full; then
		grep '^error' $OUT/$impl.full | head; fail "$impl: datagrams the decoder finds faulty"
	fi
	check "$impl: every header says syncid 9" \
		[ "$(grep '^dgram ' $OUT/$impl.full | grep -vc ' syncid=9 ')" = 0 ]
	check "$impl: every datagram is version 1" \
		[ "$(grep '^dgram ' $OUT/$impl.full | grep -vc ' v1 syncid=')" = 0 ]
	# What the traffic must have synced, whoever sends it.
	for want in 'proto=tcp flags=0x0083 state=ESTABLISHED(1) cport=\* vport=7000' \
		'proto=tcp flags=0x1[0-9a-f]* state=[A-Z]*([01]) cport=0 vport=7001' \
		'proto=udp .* vport=7002 dport=7002'; do
		grep -q -- "$want" $OUT/$impl.sum || fail "$impl: no entry like '$want'"
	done
done
check "every rvs datagram carries the rvs trailer" \
	[ "$(grep '^dgram ' $OUT/rvs.full | grep -vc ' trailer kind=sync seq=')" = 0 ]
check "no ip_vs datagram has anything after its entries" \
	[ "$(grep '^dgram ' $OUT/ipvs.full | grep -c ' trailer \| extra=')" = 0 ]
seqs=$(sed -n 's/.* trailer kind=sync seq=\([0-9]*\) .*/\1/p' $OUT/rvs.full | tr '\n' ' ')
echo "rvs trailer sequence numbers: $seqs"
prev= consecutive=1
for n in $seqs; do
	[ -z "$prev" ] || [ "$n" = $((prev + 1)) ] || consecutive=0
	prev=$n
done
check "the rvs trailer's sequence numbers follow each other" [ $consecutive = 1 ]

echo "--- rvs: distinct entries (client ports masked)"; cat $OUT/rvs.sum
echo "--- ip_vs: distinct entries (client ports masked)"; cat $OUT/ipvs.sum
same=1
echo "--- diff of the distinct entries, client ports masked (- ip_vs, + rvs)"
diff -u --label ip_vs $OUT/ipvs.sum --label rvs $OUT/rvs.sum || same=0
# The client ports are fixed here: the sets must match with them too.
echo "--- diff of the distinct entries with client ports (- ip_vs, + rvs)"
diff -u --label ip_vs $OUT/ipvs.sum-ports --label rvs $OUT/rvs.sum-ports || same=0
[ $same = 1 ] || fail "the entries rvs syncs differ from ip_vs's (diffs above: - ip_vs, + rvs)"
echo "ok: rvs syncs the same entries as ip_vs, client ports included"
