# timeout: 400
# Listing conformance, 12 configurations: each is applied with ipvsadm to
# the C IPVS and with rvsadm to rvs (two namespaces), and -Ln, -Ln --stats,
# --rate, --thresholds, --persistent-conn and -S -n must agree byte for
# byte (the table size in the header aside). Together they cover every
# scheduler and forwarding method, persistence with netmasks, IPv6,
# firewall marks, UDP, weights 0 and 65535, thresholds, and NAT ports that
# differ from the virtual port.
. "$RVS_TOP/tests/vm/lib.sh"
modprobe ip_vs
for s in rr wrr lc wlc lblc lblcr dh sh sed nq mh fo ovf twos; do modprobe ip_vs_$s; done
load_rvs
new_netns c_ipvs; new_netns rust_rvs
configs=(
	"-A -t 192.168.10.100:80 -s rr|-a -t 192.168.10.100:80 -r 10.0.0.7 -m|-a -t 192.168.10.100:80 -r 10.0.0.17 -m"
	"-A -t 192.168.10.100:80 -s wrr|-a -t 192.168.10.100:80 -r 10.0.0.7:8080 -m -w 3|-a -t 192.168.10.100:80 -r 10.0.0.17:9090 -m -w 1"
	"-A -t 10.0.0.10:80 -s wrr -p 20|-a -t 10.0.0.10:80 -r 10.0.0.21 -g -w 1|-a -t 10.0.0.10:80 -r 10.0.0.22 -g -w 1"
	"-A -t 10.0.0.11:443 -s lc -p 300 -M 255.255.255.0|-a -t 10.0.0.11:443 -r 10.0.1.1 -i -w 0|-a -t 10.0.0.11:443 -r 10.0.1.2 -i -w 65535"
	"-A -u 10.0.0.12:53 -s sh -b sh-fallback,sh-port -o|-a -u 10.0.0.12:53 -r 10.0.0.31:53 -g|-a -u 10.0.0.12:53 -r 10.0.0.32:5353 -m"
	"-A -f 1 -s mh -b mh-fallback,mh-port|-a -f 1 -r 10.0.0.41 -g -w 2|-a -f 1 -r 10.0.0.42 -i"
	"-A -f 2 -6 -s dh|-a -f 2 -6 -r [2001:db8::41]:80 -g"
	"-A -t [2001:db8::1]:443 -s sed -p 100 -M 64|-a -t [2001:db8::1]:443 -r [2001:db8::10]:8443 -m -w 100 -x 100 -y 50|-a -t [2001:db8::1]:443 -r [2001:db8::11]:443 -g"
	"-A -u [2001:db8::2]:53 -s nq|-a -u [2001:db8::2]:53 -r [2001:db8::20]:53 -i -w 7"
	"-A -t 10.0.0.13:80 -s lblc|-a -t 10.0.0.13:80 -r 10.0.2.1 -g -x 10|-A -t 10.0.0.14:80 -s lblcr|-a -t 10.0.0.14:80 -r 10.0.2.2 -g -y 0 -x 20"
	"-A -t 10.0.0.15:80 -s fo|-a -t 10.0.0.15:80 -r 10.0.3.1 -g -w 5|-a -t 10.0.0.15:80 -r 10.0.3.2 -g -w 10|-A -t 10.0.0.16:80 -s ovf|-a -t 10.0.0.16:80 -r 10.0.3.3 -m -w 2"
	"-A -t 10.0.0.17:0 -s twos -p 60|-a -t 10.0.0.17:0 -r 10.0.4.1 -g|-A -u 10.0.0.18:500 -s wlc|-a -u 10.0.0.18:500 -r 10.0.4.2:4500 -m -w 0"
)
views=("-L -n" "-L -n --stats" "-L -n --rate" "-L -n --thresholds" "-L -n --persistent-conn" "-S -n")
out=$(mktemp -d)
# run_configs NS ADM: in one shell in NS (a process start is what costs on
# the debug kernel), for each configuration in turn: clear the tables,
# apply its commands one by one with ADM (any failure fails the test), and
# write each view to $out/ADM.CONFIG.VIEW.
run_configs() {
	printf '%s\n' "${configs[@]}" | in_ns "$1" bash -ec '
		adm=$1 out=$2; shift 2; n=0
		while IFS= read -r cfg; do
			n=$((n + 1)); $adm -C
			IFS="|" read -ra cmds <<<"$cfg"
			for c in "${cmds[@]}"; do $adm $c; done
			v=0
			for view in "$@"; do v=$((v + 1)); $adm $view >"$out/$adm.$n.$v"; done
		done' run_configs "$2" "$out" "${views[@]}" || fail "applying or listing with $2 failed"
}
run_configs c_ipvs ipvsadm
run_configs rust_rvs rvsadm
# listing VAR ADM N V: view V of configuration N listed by ADM, the table
# size masked, into VAR (no subshell).
listing() {
	local -n into=$1
	slurp "$1" "$out/$2.$3.$4"
	[[ $into =~ \(size=[0-9]+\) ]] && into=${into/"${BASH_REMATCH[0]}"/(size=N)}
	return 0
}
compared=0
for ((n = 1; n <= ${#configs[@]}; n++)); do
	for ((v = 1; v <= ${#views[@]}; v++)); do
		[ -e "$out/ipvsadm.$n.$v" ] && [ -e "$out/rvsadm.$n.$v" ] || fail "config $n: ${views[v - 1]} not listed"
		listing c ipvsadm $n $v; listing r rvsadm $n $v
		expect_eq "config $n: ${views[v - 1]}" "$c" "$r"
	done
	compared=$n
done
expect_eq "12 configurations compared" 12 "$compared"
