# timeout: 300
# The defence against memory exhaustion (issue 14), rvs against ip_vs in
# the same VM, through NAT:
#
# - drop_packet=3 with am_droprate=3: of 9 new UDP flows, the 1st, 4th and
#   7th are refused (6 answers);
# - drop_packet=1 follows memory: with amemthresh above the free memory
#   the knob turns to 2 within seconds and every new flow is refused; with
#   amemthresh back down it turns to 1 and flows are answered again;
# - backup_only=1: with a backup sync daemon running, the director
#   forwards nothing; 0: it does;
# - secure_tcp=3: a connection whose client completed the handshake but
#   whose server has not spoken yet stays SYNACK (IPVS's cautious table)
#   where it is ESTABLISHED with secure_tcp=0;
# - drop_entry=3: of 600 spoofed SYNs' half-open entries, the periodic
#   pass drops some every second (a 32nd of the table at a time), where
#   with drop_entry=0 they stay.
. "$RVS_TOP/tests/vm/lib.sh"
sync_load_both
OUT=/tmp/defense
rm -rf $OUT; mkdir -p $OUT
NVIP=192.168.10.100

# flows N: N new UDP flows to the VIP, one after another; the answers.
flows() {
	in_ns client python3 -S -c '
import socket, sys, time
n, vip = int(sys.argv[1]), sys.argv[2]
socks = []
for i in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(b"q", (vip, 53))
    socks.append(s)
    time.sleep(0.05)
got = 0
end = time.time() + 3
for s in socks:
    s.settimeout(max(0.01, end - time.time()))
    try:
        s.recv(100); got += 1
    except socket.timeout:
        pass
print(got)' $1 $NVIP
}
half_open() { adm director -L -n -c | grep -c SYN_RECV || true; }
at_most_half_open() { [ "$(half_open)" -le "$1" ]; }
# hold: a connection to port 7 that sends nothing (the echo server says
# nothing either); its client port in $OUT/held.
hold() {
	rm -f $OUT/held
	in_ns client python3 -S -c '
import socket, sys, time
s = socket.create_connection(("'$NVIP'", 7))
open(sys.argv[1], "w").write("%d\n" % s.getsockname()[1])
time.sleep(8)' $OUT/held &
	HOLDER=$!
}
# state_of_held: the held connection's state.
state_of_held() {
	local port
	read -r port <$OUT/held 2>/dev/null || return 0
	adm director -L -n -c | awk -v p=":$port" '$1 == "TCP" && substr($4, length($4) - length(p) + 1) == p {print $3}'
}
held_settled() { local s; s=$(state_of_held); [ -n "$s" ] && [ "$s" != SYN_RECV ]; }

run() {
	local impl=$1 c0 c1 st
	topo_nat 1
	director_impl director $impl
	udp_server rs1 rs1 53
	echo_server rs1 7
	adm director -A -u $NVIP:53 -s rr
	adm director -a -u $NVIP:53 -r 10.0.0.7 -m
	adm director -A -t $NVIP:7 -s rr
	adm director -a -t $NVIP:7 -r 10.0.0.7 -m
	adm director -A -t $NVIP:80 -s rr
	adm director -a -t $NVIP:80 -r 10.0.0.7 -m

	# drop_packet=3: one new flow in am_droprate is refused.
	director_knob am_droprate 3
	director_knob drop_packet 3
	flows 9 >$OUT/$impl.droprate
	expect_eq "$impl, drop_packet=3, am_droprate=3: 6 of 9 flows answered" 6 "$(cat $OUT/$impl.droprate)"
	director_knob drop_packet 0
	expect_eq "$impl, drop_packet=0: all answered" 3 "$(flows 3)"

	# drop_packet=1: on while memory is short.
	director_knob amemthresh 2147483647
	director_knob drop_packet 1
	wait_for 10 "$impl: drop_packet turned to 2 (memory short)" director_knob_is drop_packet 2
	expect_eq "$impl, drop_packet=2: every new flow refused" 0 "$(flows 3)"
	director_knob amemthresh 1024
	wait_for 10 "$impl: drop_packet back to 1" director_knob_is drop_packet 1
	expect_eq "$impl, drop_packet=1, memory fine: answered" 3 "$(flows 3)"
	director_knob drop_packet 0

	# backup_only: a director whose backup sync daemon runs forwards
	# nothing (the datagrams reach the director itself, where nothing
	# listens).
	adm director --start-daemon backup --mcast-interface d0 --syncid 9
	director_knob backup_only 1
	expect_eq "$impl, backup_only=1, backup daemon running: nothing forwarded" 0 "$(flows 3)"
	director_knob backup_only 0
	expect_eq "$impl, backup_only=0: forwarded" 3 "$(flows 3)"
	adm director --stop-daemon backup

	# secure_tcp: the server has not spoken yet.
	for mode in 0 3; do
		director_knob secure_tcp $mode
		hold
		poll_for 30 test -s $OUT/held || true
		poll_for 20 held_settled || true
		st=$(state_of_held)
		echo "secure_tcp=$mode: $st" >>$OUT/$impl.secure
		kill $HOLDER 2>/dev/null || true; wait $HOLDER 2>/dev/null || true
	done
	director_knob secure_tcp 0
	cat $OUT/$impl.secure
	expect_eq "$impl: secure_tcp keeps an unanswered handshake SYNACK" \
		"secure_tcp=0: ESTABLISHED secure_tcp=3: SYNACK" "$(xargs <$OUT/$impl.secure)"

	# drop_entry: spoofed SYNs' half-open entries.
	director_knob drop_entry 0
	in_ns client rvsfuzz synflood --dst $NVIP --port 80 --count 600 --secs 10 --seed 7 >/dev/null
	sleep 1
	c0=$(half_open)
	sleep 4
	c1=$(half_open)
	echo "drop_entry=0: $c0 then $c1 half-open entries 4 s later"
	check "$impl, drop_entry=0: the half-open entries stay ($c0, $c1)" test "$c0" -ge 300 -a "$c1" -ge $((c0 - 5))
	director_knob drop_entry 3
	wait_for 20 "$impl, drop_entry=3: the pass drops half-open entries" at_most_half_open $((c1 - 40))
	figure "drop_entry_$impl" "$c1 half-open entries, $(half_open) after $POLL_TOOK with drop_entry=3"
	director_knob drop_entry 0
	net_down
}

run rvs
if [ "${RVS_KERNEL:-base}" != debug ]; then
	run ipvs
	for f in droprate secure; do
		expect_eq "$f: as ip_vs" "$(cat $OUT/ipvs.$f)" "$(cat $OUT/rvs.$f)"
	done
fi
echo "defense: ok"
