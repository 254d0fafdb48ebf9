# timeout: 900
# timeout-long: 3600
# lane: serial (unloads rvs under load)
# rmmod under load: the client pushes NAT and DR traffic (two request
# loops, one per vCPU) while rvsadm changes the configuration, and rvs is
# unloaded; rmmod either succeeds or is refused while in use, never
# breaks. Reloading and restoring the saved configuration brings the
# service back. Several rounds; kmemleak clean at the end.
. "$RVS_TOP/tests/vm/lib.sh"
rounds=$(long_or 10 3 1)
load_rvs
topo_nat 2
# DR on the same network: VIP 10.0.0.100 on the director's bridge side,
# held quietly by the real servers on lo; the client routes to it.
ip -n director addr add 10.0.0.100/32 dev br0
ip -n client route add 10.0.0.0/24 via 192.168.10.100
# The real servers' DR replies (source: the VIP) come back through the
# director, which holds the VIP too: let it route them (accept_local).
in_ns director sysctl -qw net.ipv4.conf.all.accept_local=1 net.ipv4.conf.br0.accept_local=1
for i in 1 2; do
	ip -n rs$i addr add 10.0.0.100/32 dev lo
	in_ns rs$i sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2
	in_ns rs$i sysctl -qw net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2
done
setup() {
	dadm -A -t 192.168.10.100:80 -s rr
	dadm -a -t 192.168.10.100:80 -r 10.0.0.7 -m
	dadm -a -t 192.168.10.100:80 -r 10.0.0.17 -m
	dadm -A -t 10.0.0.100:80 -s wrr
	dadm -a -t 10.0.0.100:80 -r 10.0.0.7 -g -w 2
	dadm -a -t 10.0.0.100:80 -r 10.0.0.17 -g -w 1
}
setup
expect_contains "NAT works" "rs" "$(cget http://192.168.10.100/)"
expect_contains "DR works" "rs" "$(cget http://10.0.0.100/)"
saved=$(dadm -S -n)

# Load: two request loops (NAT, DR), each one curl process per 50
# requests; failures are expected while rvs is away.
traffic() { # traffic URL
	local urls
	urls=$(for i in $(seq 1 50); do printf '%s ' "$1"; done)
	while :; do in_ns client curl -s --max-time 2 $urls >/dev/null 2>&1 || true; done
}
changer() { # re-weights, adds and removes a third server, ignoring errors
	local w=1
	while :; do
		w=$((w % 9 + 1))
		dadm -e -t 192.168.10.100:80 -r 10.0.0.7 -m -w $w 2>/dev/null || true
		dadm -a -t 10.0.0.100:80 -r 10.0.0.27 -g 2>/dev/null || true
		dadm -d -t 10.0.0.100:80 -r 10.0.0.27 2>/dev/null || true
	done
}
traffic http://192.168.10.100/ & t1=$!
traffic http://10.0.0.100/ & t2=$!
changer & ch=$!
cleanup() { kill $t1 $t2 $ch 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT

unloads=0 refused=0
for r in $(seq 1 "$rounds"); do
	# rvs goes with the load's connections in its table: at least 10 of
	# each service's since it was (re)loaded.
	wait_for 60 "round $r: the load's connections in the table" eval \
		'[ $(vip_entries director 192.168.10.100:80) -ge 10 ] && [ $(vip_entries director 10.0.0.100:80) -ge 10 ]'
	echo "round $r: $(dadm -L -n -c 2>/dev/null | tail -n +3 | wc -l) connection entries"
	ok=0
	for try in $(seq 1 20); do
		if out=$(rmmod rvs 2>&1); then ok=1; break; fi
		case $out in
		*"in use"*|*busy*|*Busy*) refused=$((refused + 1)); echo "round $r: rmmod refused: $out"; sleep 0.5 ;;
		*) fail "round $r: rmmod failed: $out" ;;
		esac
	done
	[ $ok = 1 ] || fail "round $r: rmmod refused 20 times in a row"
	lsmod | grep -q '^rvs ' && fail "round $r: rvs still loaded after rmmod"
	unloads=$((unloads + 1))
	sleep 1
	load_rvs
	dadm -R <<<"$saved" || fail "round $r: restore failed"
	# The changer may race the restore; the two services must be back.
	got=""
	for i in $(seq 1 10); do got=$(cget http://192.168.10.100/ || true); [ -n "$got" ] && break; sleep 0.5; done
	expect_contains "round $r: NAT service back after reload" "rs" "$got"
	got=""
	for i in $(seq 1 10); do got=$(cget http://10.0.0.100/ || true); [ -n "$got" ] && break; sleep 0.5; done
	expect_contains "round $r: DR service back after reload" "rs" "$got"
done
cleanup
trap - EXIT
expect_eq "both services restored" 2 "$(dadm -S -n | grep -c '^-A')"
expect_eq "their four servers restored" 4 "$(dadm -S -n | grep -c -E -- '-r 10.0.0.(7|17):80')"
figure unload "$unloads unloads under NAT+DR load and configuration changes, $refused refusals (kernel ${RVS_KERNEL:-?})"
for n in client director rs1 rs2; do ip netns del $n; done
unload_rvs
kmemleak_check
