# timeout: 300
# Scale-out on BGP and ECMP (Documentation/scale-out.md): three active
# directors announce the VIP with BIRD to a router that runs BIRD too and
# spreads flows over them by ECMP with an L4 hash. Every director has the
# same mh services (DR on 7000, TUN with mh-port on 7001) to four real
# servers; the configurations are Documentation/examples/scale-out/'s,
# used verbatim (on the debug kernel, BIRD's timers five times longer:
# with every lane busy there, BFD's and BGP's packets come late enough to
# declare a live peer down, and the flows its route moved would fail the
# spread check).
#
# Per variant, on a network of its own:
# - spread: the client's long-lived TCP sessions (300; 90 on the debug
#   kernel) are spread over all three directors, each at least 20% (10%
#   of the debug kernel's 90, where 20% would be 2.7 standard deviations
#   of the hash's spread below the mean, and fail one run in a hundred);
# - director loss: dir2's link goes down, BFD and BGP withdraw its route,
#   and its flows move to dir1 and dir3; then it comes back, takes its
#   share of a new batch of sessions, and flows move back to it;
# - rvs: sloppy_tcp=1 on every director (rvs): every session survives on
#   its real server (no reset, no move);
# - mixed: the same with dir1 running the kernel's ip_vs (ipvsadm, the
#   same rules file): every session survives;
# - control: sloppy_tcp=0: a director that gets a flow in the middle
#   resets it, so sessions break.
#
# SO_VARIANTS selects variants (default "rvs mixed control"; on the debug
# kernel "rvs", with 150 sessions instead of 450).
. "$RVS_TOP/tests/vm/lib.sh"
EXAMPLES=$RVS_TOP/Documentation/examples/scale-out
SO_VIP=192.0.2.10
# Long-lived sessions per service (7000 DR, 7001 TUN), and the batch
# opened after the director comes back.
SO_DR=$(long_or 200 200 60)
SO_TUN=$(long_or 100 100 30)
SO_NEW=$(long_or 150 150 60)
SO_MIN_SHARE=$(long_or 20 20 10) # % of the sessions each director must hold
SO_SLOW=1; [ "${RVS_KERNEL:-base}" != debug ] || SO_SLOW=4
SO_AFTER=${SO_AFTER:-5} # seconds of traffic after each change

# so_topo: the router (eth0 10.30.0.1/16 to the client, eth1 10.20.0.1 on
# the LAN), the client (10.30.0.2, batch addresses 10.30.1.1-20 and
# 10.30.2.1-20), dir1-3 (10.20.0.11-13, the VIP on dummy "vip", default
# route via the router, as a director's own traffic needs) and real
# servers rs1-4 (10.20.0.21-24: the VIP on lo for DR, tunl0 up for TUN,
# default route via the router, tagecho.py on 7000 and 7001), all on
# bridge br0 in lan$SX.
so_topo() {
	local i d ns
	{
		for ns in lan router client dir1 dir2 dir3 rs1 rs2 rs3 rs4; do echo "netns add $ns$SX"; done
		echo "link add p-router netns lan$SX type veth peer name eth1 netns router$SX"
		echo "link add eth0 netns router$SX type veth peer name eth0 netns client$SX"
		for ns in dir1 dir2 dir3 rs1 rs2 rs3 rs4; do
			echo "link add p-$ns netns lan$SX type veth peer name eth0 netns $ns$SX"
		done
	} | ip -batch -
	{
		echo "link set lo up"; echo "link add br0 type bridge"; echo "link set br0 up"
		for ns in router dir1 dir2 dir3 rs1 rs2 rs3 rs4; do echo "link set p-$ns master br0 up"; done
	} | ip -n lan$SX -batch -
	ip -n router$SX -batch - <<-EOF
		link set lo up
		link set eth0 up
		link set eth1 up
		addr add 10.30.0.1/16 dev eth0
		addr add 10.20.0.1/24 dev eth1
	EOF
	in_ns router$SX sysctl -qw net.ipv4.ip_forward=1 net.ipv4.fib_multipath_hash_policy=1
	{
		echo "link set lo up"; echo "link set eth0 up"
		echo "addr add 10.30.0.2/16 dev eth0"
		for i in $(seq 1 20); do echo "addr add 10.30.1.$i/16 dev eth0"; echo "addr add 10.30.2.$i/16 dev eth0"; done
		echo "route add default via 10.30.0.1"
	} | ip -n client$SX -batch -
	for d in 1 2 3; do director_vip dir$d$SX 10.20.0.1$d/24 $SO_VIP 10.20.0.1; done
	for i in 1 2 3 4; do
		ns=rs$i$SX
		ip -n $ns -batch - <<-EOF
			link set lo up
			link set eth0 up
			link set tunl0 up
			addr add 10.20.0.2$i/24 dev eth0
			addr add $SO_VIP/32 dev lo
			route add default via 10.20.0.1
		EOF
		in_ns $ns sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 \
			net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2 \
			net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.tunl0.rp_filter=0
	done
	SYNC_SLOW=$SO_SLOW tagecho_start /tmp/so$SX-rs.out "$SX" 4 7000 7001
}

# so_conf NAME: the path of the example's BIRD configuration NAME, or on
# the debug kernel a copy with BFD's intervals and BGP's hold and keepalive
# times five times longer.
so_conf() {
	if [ "${RVS_KERNEL:-base}" != debug ]; then echo "$EXAMPLES/$1"; return; fi
	sed -e 's/interval 200 ms;/interval 1000 ms;/' -e 's/hold time 3;/hold time 15;/' \
		-e 's/keepalive time 1;/keepalive time 5;/' "$EXAMPLES/$1" >/tmp/so$SX-$1
	[ "$(grep -c -e 'interval 1000 ms;' -e 'hold time 15;' -e 'keepalive time 5;' /tmp/so$SX-$1)" = 4 ] ||
		fail "$1: BIRD's timers were not found to lengthen for the debug kernel"
	echo /tmp/so$SX-$1
}
# so_bird NS CONF: BIRD in NS with CONF, its control socket
# /tmp/so$SX-NS.ctl, what it says in /tmp/so$SX-NS.log.
so_bird() {
	nsrun $1$SX bird -c "$2" -s /tmp/so$SX-$1.ctl -P /tmp/so$SX-$1.pid >>/tmp/so$SX-$1.log 2>&1 ||
		fail "bird did not start in $1$SX"
}
# so_nexthops: how many directors the router's route to the VIP goes to.
so_nexthops() {
	local r
	r=$(ip -n router$SX route show $SO_VIP/32)
	if [ -z "$r" ]; then echo 0
	elif [[ $r == *nexthop* ]]; then grep -c nexthop <<<"$r"
	else echo 1; fi
}
so_nexthops_are() { [ "$(so_nexthops)" = "$1" ]; }
# so_bgp_state: the router's view of its three BGP sessions, for a failure.
so_bgp_state() {
	in_ns router$SX birdc -s /tmp/so$SX-router.ctl show protocols | awk 'NR > 2' | tr -s ' ' || true
	ip -n router$SX route show $SO_VIP/32
}
# so_dir2 down|up N LIMIT: dir2's link goes down (it dies) or up (it comes
# back); waits up to LIMIT s (times 4 on debug) until the router's route
# to the VIP goes to N directors (POLL_TOOK: how long that took).
so_dir2() {
	sync_say "dir2's link goes $1"
	ip -n dir2$SX link set eth0 $1
	poll_for $(($3 * SO_SLOW)) so_nexthops_are $2 ||
		fail "dir2's link $1, the router's route does not go to $2 directors: $(so_bgp_state)"
	sync_say "ok: the router's route goes to $2 directors $POLL_TOOK after dir2's link went $1"
}
# so_share D PREFIX PORT: dir D's connection entries for VIP:PORT from
# client addresses starting with PREFIX.
so_share() {
	adm dir$1$SX -L -n -c |
		awk -v p="$2" -v v="$SO_VIP:$3" 'index($4, p) == 1 && $5 == v { n++ } END { print n + 0 }'
}
# so_sessions NAME SRC_PREFIX PORT N: N tagged sessions from the client's
# addresses PREFIX1-20 to VIP:PORT, a line a second, until
# /tmp/so$SX-stop; waits until they are open.
SO_PIDS=()
so_sessions() {
	local srcs
	srcs=$(seq -s, -f "$2%g" 1 20)
	nsrun client$SX python3 -S "$RVS_TOP/tests/vm/sessions.py" --tagged --src "$srcs" \
		--timeout $((10 * SO_SLOW)) --stop-file /tmp/so$SX-stop $SO_VIP $3 $4 600 1 >/tmp/so$SX-$1.out 2>&1 &
	SO_PIDS+=($!)
	poll_for $((60 * SO_SLOW)) sync_first_line /tmp/so$SX-$1.out 'sessions: * open' ||
		fail "the $1 sessions did not open: $(cat /tmp/so$SX-$1.out)"
}
# so_failures NAME: the failures the sessions reported at their end.
so_failures() {
	local l n=
	while read -r l; do
		[[ $l =~ ^sessions:\ .*,\ ([0-9]+)\ failures$ ]] && n=${BASH_REMATCH[1]}
	done </tmp/so$SX-$1.out
	[ -n "$n" ] || fail "the $1 sessions did not finish: $(tail -5 /tmp/so$SX-$1.out)"
	echo "$n"
}

# so_scenario MODE VARIANT (MODE is unused: one topology).
so_scenario() {
	local v=$2 d impl sloppy=1 n1 n2 n3 total took_down took_up share f fails=0 spread="" err=
	SYNC_T0=${EPOCHREALTIME/[.,]/}
	[ "$v" != control ] || sloppy=0
	so_topo
	for d in 1 2 3; do
		impl=rvs; [ "$v" != mixed ] || [ $d != 1 ] || impl=ipvs
		director_impl dir$d$SX $impl
		adm dir$d$SX -R <"$EXAMPLES/director.rules" || fail "dir$d ($impl): the rules file was refused"
		if [ $impl = rvs ]; then
			in_ns dir$d$SX sysctl -q -p "$EXAMPLES/director-sysctl.conf" >/dev/null
			in_ns dir$d$SX sysctl -qw net.rvs.sloppy_tcp=$sloppy
		else
			in_ns dir$d$SX sysctl -qw net.ipv4.vs.sloppy_tcp=$sloppy net.ipv4.vs.sloppy_sctp=$sloppy
		fi
		so_bird dir$d "$(so_conf director-bird.conf)"
	done
	so_bird router "$(so_conf router-bird.conf)"
	poll_for $((30 * SO_SLOW)) so_nexthops_are 3 ||
		fail "the router has no route to the VIP over the three directors: $(so_bgp_state)"
	sync_say "ok: the router's route to the VIP goes to all three directors after $POLL_TOOK"
	rm -f /tmp/so$SX-stop
	so_sessions dr 10.30.1. 7000 $SO_DR
	so_sessions tun 10.30.1. 7001 $SO_TUN
	total=$((SO_DR + SO_TUN))
	for d in 1 2 3; do
		n1=$(($(so_share $d 10.30.1. 7000) + $(so_share $d 10.30.1. 7001)))
		spread+=" dir$d $n1"
		[ $((n1 * 100)) -ge $((total * SO_MIN_SHARE)) ] ||
			err="${err:+$err; }dir$d has $n1 of $total flows (under $SO_MIN_SHARE%)"
	done
	sync_say "spread of $total sessions:$spread"
	[ -z "$err" ] || fail "$v: $err"
	[ $(($(echo $spread | awk '{print $2 + $4 + $6}'))) = $total ] ||
		fail "$v: the directors list$spread entries for $total sessions"
	nap $SO_AFTER
	so_dir2 down 2 20; took_down=$POLL_TOOK
	nap $SO_AFTER
	so_dir2 up 3 40; took_up=$POLL_TOOK
	so_sessions new 10.30.2. 7000 $SO_NEW
	share=$(so_share 2 10.30.2. 7000)
	sync_say "dir2 took $share of $SO_NEW new sessions"
	[ $((share * 100)) -ge $((SO_NEW * 15)) ] || fail "$v: dir2, back, took $share of $SO_NEW new sessions (under 15%)"
	nap $SO_AFTER
	touch /tmp/so$SX-stop
	for f in "${SO_PIDS[@]}"; do wait $f 2>/dev/null || true; done
	for f in dr tun new; do
		n1=$(so_failures $f)
		echo "--- $f sessions: $(grep -E '^(sessions|servers):' /tmp/so$SX-$f.out | tr '\n' ' ')"
		grep -m5 'failed at' /tmp/so$SX-$f.out || true
		fails=$((fails + n1))
	done
	for d in 1 2 3; do sync_say "dir$d ($(adm dir$d$SX -L -n -c | grep -c "$SO_VIP") entries)"; done
	total=$((total + SO_NEW))
	# How the broken ones broke: "N reset", "N no echo", "N moved".
	local how
	how=$(cat /tmp/so$SX-{dr,tun,new}.out | sed -n 's/.* failed at line .* s in: //p' |
		sed 's/.*reset.*/reset/; s/^no echo.*/no echo/; s/^moved.*/moved/' | sort | uniq -c | xargs)
	figure "scale-out-$v" "$((total - fails))/$total sessions survived${how:+ ($how)} (sloppy_tcp=$sloppy; spread$spread;" \
		"route withdrawn $took_down after the link went down, back $took_up after it came up; dir2 back took $share/$SO_NEW new)"
	if [ $sloppy = 1 ]; then
		[ $fails = 0 ] || fail "$v: $fails of $total sessions broke or moved"
		echo "ok: $v: every session survived on its real server"
	else
		[ $fails -gt 0 ] || fail "$v: with sloppy_tcp=0 no session broke (the control controls nothing)"
		echo "ok: $v: with sloppy_tcp=0 $fails of $total sessions broke"
	fi
}

sync_load_both
modprobe ip_vs_mh
# On the debug kernel the rvs variant alone (the others drive the same
# rvs code; the control and ip_vs add nothing to check there).
sync_variants one "${SO_VARIANTS:-$(long_or "rvs mixed control" "rvs mixed control" rvs)}" so_scenario
