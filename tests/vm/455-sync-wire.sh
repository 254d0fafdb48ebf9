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

module_loaded rvs || load_rvs
modprobe -a ip_vs ip_vs_rr
module_loaded rvs || fail "rvs is not loaded"
module_loaded ip_vs || fail "ip_vs is not loaded"

# The client's side, one process for all the traffic (a Python start is
# slow under TCG): each FLOW is tcp|udp,SRC,SPORT,DST,DPORT,N. A TCP
# connection sends N lines, each echoed (tagecho.py's "NAME line") before
# the next (so each is a segment of its own), then closes and waits for
# the server's FIN; a UDP flow sends N datagrams, each answered.
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
            if f.readline().partition(b" ")[2] != msg:
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
                got += data.partition(b" ")[2] == msg
            except socket.timeout:
                pass
        s.close()
        if got != n:
            sys.exit("udp %s: %d of %d answers" % (flow, got, n))
    print("ok: %s" % flow)
PY

# run IMPL CTL: the LAN, the services and the master daemon with CTL
# (rvsadm or ipvsadm) in the director namespace, the traffic, the capture
# in $OUT/IMPL.pcap.
run() {
	local impl=$1 c=$2 i l t0=$SECONDS
	topo_lan 3
	ip -n client addr add $CLIENT2/24 dev eth0
	# rs_dr's VIP on lo here, its ARP settings by tagecho.py: one process
	# serves the three real servers (TCP 7000 on rs1, 7001 on rs2 and UDP
	# 7002 on rs3 are the ones their services use).
	for i in 1 2 3; do ip -n rs$i addr add $VIP/32 dev lo; done
	tagecho_start $OUT/$impl.rs "" 3 --udp-bind $VIP \
		--sysctl net.ipv4.conf.all.arp_ignore=1 --sysctl net.ipv4.conf.all.arp_announce=2 \
		--sysctl net.ipv4.conf.eth0.arp_ignore=1 --sysctl net.ipv4.conf.eth0.arp_announce=2 7000 7001 7002
	# One shell in the director for the commands (each still a CTL run of
	# its own; the first that fails fails the test).
	in_ns director bash -e <<-EOF
		$c -A -t $VIP:7000 -s rr
		$c -a -t $VIP:7000 -r ${LAN_RS[0]}:7000 -g
		$c -A -t $VIP:7001 -s rr -p 60
		$c -a -t $VIP:7001 -r ${LAN_RS[1]}:7001 -g
		$c -A -u $VIP:7002 -s rr
		$c -a -u $VIP:7002 -r ${LAN_RS[2]}:7002 -g
		$c --start-daemon master --mcast-interface eth0 --syncid 9
		$c -L --daemon >$OUT/$impl.daemon
	EOF
	slurp l $OUT/$impl.daemon
	if [[ $l == *"master sync daemon (mcast=eth0, syncid=9"* ]]; then echo "ok: $impl: master daemon runs"
	else expect_contains "$impl: master daemon runs" "master sync daemon (mcast=eth0, syncid=9" "$l"; fi

	rm -f $OUT/$impl.pcap
	ip netns exec director tcpdump -i eth0 -n -U -s 0 -Z root -w $OUT/$impl.pcap udp port 8848 \
		2>$OUT/$impl.tcpdump &
	local dump=$!
	poll_for 30 line_in $OUT/$impl.tcpdump '*listening on*' ||
		fail "$impl: tcpdump did not start: $(<$OUT/$impl.tcpdump)"

	# 3 connections to each TCP service, alternating the two client
	# addresses (two persistence templates on 7001), one after the other;
	# then a UDP flow from each address.
	local flows=() port=41001 svc src
	for svc in 7000 7000 7000 7001 7001 7001; do
		if ((port % 2)); then src=$CLIENT1; else src=$CLIENT2; fi
		flows+=(tcp,$src,$port,$VIP,$svc,5)
		port=$((port + 1))
	done
	flows+=(udp,$CLIENT1,42001,$VIP,7002,5 udp,$CLIENT2,42002,$VIP,7002,5)
	in_ns client $PY $OUT/client.py "${flows[@]}" | while IFS= read -r l; do echo "$impl: $l"; done ||
		fail "$impl: the client's traffic failed"
	echo "$impl: traffic done after $((SECONDS - t0))s"
	echo "$impl: connections (director):"
	in_ns director $c -L -n -c | while IFS= read -r l; do echo "  $l"; done
	# IPVS sends a partly filled buffer once it is 2 s old, checked every
	# second: 5 s covers it.
	nap 5
	kill -INT $dump; wait $dump || true
	in_ns director $c --stop-daemon master
	in_ns director $c -C
	ns_gone client director rs1 rs2 rs3 lan
	l=
	while IFS= read -r i; do [[ $i =~ packets\ (captured|dropped\ by\ kernel) ]] && l+="$i "; done <$OUT/$impl.tcpdump
	echo "$impl: run took $((SECONDS - t0))s; $l"
}

run rvs rvsadm
run ipvs $IPVSADM
t0=$SECONDS

# One decoder run for both captures and all their outputs: IMPL.full, its
# --summary IMPL.sum and IMPL.sum-ports (--summary --mask '').
$DECODE --write $OUT/rvs.pcap $OUT/ipvs.pcap || fail "syncdecode failed"
# What the checks below need from each IMPL.full and IMPL.sum, read once
# in bash (a grep per check costs more than all the decoding).
declare -A DG EN ERRS ERR_LINES BAD_ID BAD_V NO_TRAILER TAIL DISTINCT MISSING
# What the traffic must have synced, whoever sends it (extended regular
# expressions).
WANT=('proto=tcp flags=0x0083 state=ESTABLISHED\(1\) cport=\* vport=7000'
	'proto=tcp flags=0x1[0-9a-f]* state=[A-Z]*\([01]\) cport=0 vport=7001'
	'proto=udp .* vport=7002 dport=7002')
SEQS=()
for impl in rvs ipvs; do
	mapfile -t full <$OUT/$impl.full
	mapfile -t sum <$OUT/$impl.sum
	echo "--- $impl: decoded datagrams (first 20 lines)"
	[ ${#full[@]} = 0 ] || printf '%s\n' "${full[@]:0:20}"
	dg=0 en=0 errs=0 err_lines= bad_id=0 bad_v=0 no_trailer=0 tail=0
	for l in "${full[@]}"; do
		case $l in
		'dgram '*)
			dg=$((dg + 1))
			[[ $l == *' syncid=9 '* ]] || bad_id=$((bad_id + 1))
			[[ $l == *' v1 syncid='* ]] || bad_v=$((bad_v + 1))
			[[ $l == *' trailer kind=sync seq='* ]] || no_trailer=$((no_trailer + 1))
			[[ $l != *' trailer '* && $l != *' extra='* ]] || tail=$((tail + 1))
			;;
		'entry '*) en=$((en + 1)) ;;
		error*) errs=$((errs + 1)); [ $errs -gt 10 ] || err_lines+="$l"$'\n' ;;
		esac
		# (sed's greedy 's/.* trailer kind=sync seq=\([0-9]*\) .*/\1/p')
		if [ $impl = rvs ] && [[ $l =~ ^.*\ trailer\ kind=sync\ seq=([0-9]*)\  ]] && [ -n "${BASH_REMATCH[1]}" ]; then
			SEQS+=("${BASH_REMATCH[1]}")
		fi
	done
	missing=
	for want in "${WANT[@]}"; do
		found=0
		for l in "${sum[@]}"; do [[ $l =~ $want ]] && { found=1; break; }; done
		[ $found = 1 ] || missing+="${missing:+, }'$want'"
	done
	DG[$impl]=$dg EN[$impl]=$en ERRS[$impl]=$errs ERR_LINES[$impl]=$err_lines BAD_ID[$impl]=$bad_id
	BAD_V[$impl]=$bad_v NO_TRAILER[$impl]=$no_trailer TAIL[$impl]=$tail DISTINCT[$impl]=${#sum[@]}
	MISSING[$impl]=$missing
done

echo "(decoding took $((SECONDS - t0))s)"
figure sync-wire "rvs: ${DG[rvs]} datagrams, ${EN[rvs]} entries (${DISTINCT[rvs]} distinct); ip_vs: ${DG[ipvs]} datagrams, ${EN[ipvs]} entries (${DISTINCT[ipvs]} distinct)"

check "rvs sent sync datagrams" [ "${DG[rvs]}" -gt 0 ]
check "ip_vs sent sync datagrams" [ "${DG[ipvs]}" -gt 0 ]
for impl in rvs ipvs; do
	if [ "${ERRS[$impl]}" != 0 ]; then
		printf '%s' "${ERR_LINES[$impl]}"; fail "$impl: datagrams the decoder finds faulty"
	fi
	check "$impl: every header says syncid 9" [ "${BAD_ID[$impl]}" = 0 ]
	check "$impl: every datagram is version 1" [ "${BAD_V[$impl]}" = 0 ]
	[ -z "${MISSING[$impl]}" ] || fail "$impl: no entry like ${MISSING[$impl]}"
done
check "every rvs datagram carries the rvs trailer" [ "${NO_TRAILER[rvs]}" = 0 ]
check "no ip_vs datagram has anything after its entries" [ "${TAIL[ipvs]}" = 0 ]
seqs=${SEQS[*]}
echo "rvs trailer sequence numbers: $seqs${seqs:+ }"
prev= consecutive=1
for n in "${SEQS[@]}"; do
	[ -z "$prev" ] || [ "$n" = $((prev + 1)) ] || consecutive=0
	prev=$n
done
check "the rvs trailer's sequence numbers follow each other" [ $consecutive = 1 ]

# same_file A B: the two files hold the same bytes (diff only to show how
# they differ).
same_file() {
	local a= b=
	[ -f "$1" ] && [ -f "$2" ] || return 1
	IFS= read -rd '' a <"$1" || :
	IFS= read -rd '' b <"$2" || :
	[ "$a" = "$b" ]
}
echo "--- rvs: distinct entries (client ports masked)"; mapfile -t l <$OUT/rvs.sum; [ ${#l[@]} = 0 ] || printf '%s\n' "${l[@]}"
echo "--- ip_vs: distinct entries (client ports masked)"; mapfile -t l <$OUT/ipvs.sum; [ ${#l[@]} = 0 ] || printf '%s\n' "${l[@]}"
same=1
echo "--- diff of the distinct entries, client ports masked (- ip_vs, + rvs)"
same_file $OUT/ipvs.sum $OUT/rvs.sum || { diff -u --label ip_vs $OUT/ipvs.sum --label rvs $OUT/rvs.sum || same=0; }
# The client ports are fixed here: the sets must match with them too.
echo "--- diff of the distinct entries with client ports (- ip_vs, + rvs)"
same_file $OUT/ipvs.sum-ports $OUT/rvs.sum-ports || { diff -u --label ip_vs $OUT/ipvs.sum-ports --label rvs $OUT/rvs.sum-ports || same=0; }
[ $same = 1 ] || fail "the entries rvs syncs differ from ip_vs's (diffs above: - ip_vs, + rvs)"
echo "ok: rvs syncs the same entries as ip_vs, client ports included"
