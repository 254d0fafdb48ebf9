# timeout: 300
# Several rvsadm processes changing the tables at once (and others listing
# them) leave consistent tables: exactly what the sum of their commands
# says, each service with its own real servers. On the debug kernel each
# worker makes 12 services instead of 30 (the same races, fewer rounds).
. "$RVS_TOP/tests/vm/lib.sh"
load_rvs
per=$(long_or 30 30 12)
worker() { # worker N: $per services with 2 real servers each, then delete the odd ones
	local n=$1 i
	for ((i = 1; i <= per; i++)); do
		rvsadm -A -t 10.$n.0.$i:80 -s rr
		rvsadm -a -t 10.$n.0.$i:80 -r 10.200.$n.$i:8080 -m -w $i
		rvsadm -a -t 10.$n.0.$i:80 -r 10.201.$n.$i:8080 -m -w 1
	done
	for ((i = 1; i <= per; i += 2)); do rvsadm -D -t 10.$n.0.$i:80; done
}
lister() { local k; for ((k = 1; k <= 40; k++)); do rvsadm -L -n >/dev/null || exit 1; done; }
pids=()
for n in 1 2 3 4; do worker $n & pids+=($!); done
lister & lpid=$!
for p in "${pids[@]}"; do wait "$p" || fail "a worker failed"; done
wait $lpid || fail "listing failed while the tables changed"
# One dump, checked in bash (a process per check costs on the debug kernel).
declare -A group=() size=()
nA=0 na=0
while IFS= read -r line; do
	case $line in -A*) nA=$((nA + 1)) ;; -a*) na=$((na + 1)) ;; esac
	key=${line#* -t }; key=${key%% *}
	group[$key]+="$line"$'\n'; size[$key]=$((${size[$key]:-0} + 1))
done < <(rvsadm -S -n)
expect_eq "services left" $((4 * per / 2)) "$nA"
expect_eq "real servers left" $((4 * per)) "$na"
for n in 1 2 3 4; do
	for ((i = 2; i <= per; i += 2)); do
		k=10.$n.0.$i:80 got=${group[10.$n.0.$i:80]:-}
		want=("-A -t $k -s rr" "-a -t $k -r 10.200.$n.$i:8080 -m -w $i" "-a -t $k -r 10.201.$n.$i:8080 -m -w 1")
		ok=1
		[ "${size[$k]:-0}" = 3 ] || ok=0
		for w in "${want[@]}"; do [[ $'\n'$got == *$'\n'"$w"$'\n'* ]] || ok=0; done
		[ $ok = 1 ] || expect_eq "service $k" "$(printf '%s\n' "${want[@]}")" "$got"
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
restored=0
while IFS= read -r line; do [[ $line == "-A -u 10.50.0."* ]] && restored=$((restored + 1)); done < <(rvsadm -S -n)
expect_eq "parallel restores" 200 "$restored"
