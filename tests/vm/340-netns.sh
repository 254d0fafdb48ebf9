# timeout: 600
# timeout-long: 1200
# lane: serial (unloads rvs after deleting namespaces, scans for leaks)
# Network namespaces: services in one are neither visible from nor
# reachable through another; deleting a namespace that has services and
# connections, while traffic flows, frees everything (rmmod succeeds,
# kmemleak is clean).
. "$RVS_TOP/tests/vm/lib.sh"
rounds=$(long_or 10 3 1)
load_rvs
topo_nat 2
dadm -A -t 192.168.10.100:80 -s rr
dadm -a -t 192.168.10.100:80 -r 10.0.0.7 -m
dadm -A -u 192.168.10.100:53 -s sh
expect_contains "service answers" "rs" "$(cget http://192.168.10.100/)"

# Another namespace sees none of it.
new_netns other
expect_eq "other netns: no services" "" "$(in_ns other rvsadm -S -n)"
expect_eq "other netns: no connections" "" "$(in_ns other rvsadm -L -n -c | tail -n +3)"
expect_eq "initial netns: no services" "" "$(rvsadm -S -n)"
# ... and cannot reach it: the same VIP, locally in the other namespace,
# is just a local address there (connection refused, not forwarded).
ip -n other addr add 192.168.10.100/32 dev lo
ip -n other addr add 10.0.0.8/32 dev lo
before=$(dadm -L -n --stats | awk '/^TCP/ {print $3, $4}')
set +e
out=$(in_ns other curl -s --max-time 3 http://192.168.10.100/ 2>&1); rc=$?
set -e
expect_eq "other netns: VIP is refused locally (curl exit 7)" 7 "$rc"
expect_eq "director's counters untouched by the other netns" "$before" "$(dadm -L -n --stats | awk '/^TCP/ {print $3, $4}')"
# Changes in the other namespace do not show in the director's.
in_ns other rvsadm -A -t 192.168.10.100:80 -s wlc
expect_eq "director keeps its own rr service" 1 "$(dadm -S -n | grep -c -- '-A -t 192.168.10.100:80 -s rr')"
in_ns other rvsadm -C
expect_eq "flush in the other netns leaves the director's" 2 "$(dadm -S -n | grep -c '^-A')"
ip netns del other

# Deleting the director's namespace while traffic flows, several times.
for r in $(seq 1 "$rounds"); do
	(
		urls=$(for i in $(seq 1 30); do printf 'http://192.168.10.100/ '; done)
		while :; do in_ns client curl -s --max-time 2 $urls >/dev/null 2>&1 || true; done
	) &
	load=$!
	wait_for 60 "round $r: the load's connections in the director's table" eval \
		'[ $(vip_entries director 192.168.10.100:80) -ge 10 ]'
	n=$(dadm -L -n -c | tail -n +3 | wc -l)
	echo "round $r: deleting the director's namespace with $n connection entries"
	ip netns del director
	sleep 2
	kill $load 2>/dev/null || true
	wait $load 2>/dev/null || true
	for ns in client rs1 rs2; do ip netns del $ns; done
	if [ "$r" -lt "$rounds" ]; then
		topo_nat 2
		dadm -A -t 192.168.10.100:80 -s rr
		dadm -a -t 192.168.10.100:80 -r 10.0.0.7 -m
		dadm -a -t 192.168.10.100:80 -r 10.0.0.17 -m
		expect_contains "round $r: new director answers" "rs" "$(cget http://192.168.10.100/)"
	fi
done
# Namespaces go away asynchronously; rmmod waits for them.
unload_rvs
kmemleak_check
figure netns "$rounds namespace deletions with services and traffic: rmmod clean, kmemleak clean (kernel ${RVS_KERNEL:-?})"
