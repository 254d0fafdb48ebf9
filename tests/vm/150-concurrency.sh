# timeout: 300
# Several rvsadm processes changing the tables at once (and others listing
# them) leave consistent tables: exactly what the sum of their commands
# says, each service with its own real servers.
. "$RVS_TOP/tests/vm/lib.sh"
load_rvs
worker() { # worker N: 30 services with 2 real servers each, then delete the odd ones
	local n=$1 i
	for i in $(seq 1 30); do
		rvsadm -A -t 10.$n.0.$i:80 -s rr
		rvsadm -a -t 10.$n.0.$i:80 -r 10.200.$n.$i:8080 -m -w $i
		rvsadm -a -t 10.$n.0.$i:80 -r 10.201.$n.$i:8080 -m -w 1
	done
	for i in $(seq 1 2 30); do rvsadm -D -t 10.$n.0.$i:80; done
}
lister() { local k; for k in $(seq 1 40); do rvsadm -L -n >/dev/null || exit 1; done; }
pids=()
for n in 1 2 3 4; do worker $n & pids+=($!); done
lister & lpid=$!
for p in "${pids[@]}"; do wait "$p" || fail "a worker failed"; done
wait $lpid || fail "listing failed while the tables changed"
expect_eq "services left" 60 "$(rvsadm -S -n | grep -c '^-A')"
expect_eq "real servers left" 120 "$(rvsadm -S -n | grep -c '^-a')"
for n in 1 2 3 4; do
	for i in $(seq 2 2 30); do
		got=$(rvsadm -S -n | grep -- "-t 10.$n.0.$i:80 " | sort)
		want=$(printf '%s\n' "-A -t 10.$n.0.$i:80 -s rr" \
			"-a -t 10.$n.0.$i:80 -r 10.200.$n.$i:8080 -m -w $i" \
			"-a -t 10.$n.0.$i:80 -r 10.201.$n.$i:8080 -m -w 1" | sort)
		[ "$got" = "$want" ] || { expect_eq "service 10.$n.0.$i" "$want" "$got"; }
	done
done
echo "ok: every remaining service has exactly its own two real servers"
# Parallel restores of disjoint halves add up.
rvsadm -C
( for i in $(seq 1 100); do echo "-A -u 10.50.0.$i:53 -s sh"; done ) >/tmp/half1
( for i in $(seq 101 200); do echo "-A -u 10.50.0.$i:53 -s sh"; done ) >/tmp/half2
rvsadm -R </tmp/half1 & a=$!
rvsadm -R </tmp/half2 & b=$!
wait $a; wait $b
expect_eq "parallel restores" 200 "$(rvsadm -S -n | grep -c '^-A -u 10.50.0')"
