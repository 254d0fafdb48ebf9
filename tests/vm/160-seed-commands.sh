# timeout: 180
# Every ipvsadm command line of seeds 000, 001 and 002, verbatim, run with
# rvsadm (on rvs) and ipvsadm (on the C IPVS) in two namespaces: the same
# exit status and output for each, and the same table after each seed.
# All succeed but one: seed 000's "-D -t ... -s wrr", which ipvsadm 1.31
# itself refuses ("Illegal 'scheduler' option"), and so does rvsadm.
. "$RVS_TOP/tests/vm/lib.sh"
modprobe ip_vs; modprobe ip_vs_wrr; modprobe ip_vs_rr
load_rvs
new_netns c_ipvs; new_netns rust_rvs
seed000=(
	"-C"
	"--set 30 6 60"
	"-A -t 192.168.128.181:80 -s wrr -p 20"
	"-a -t 192.168.128.181:80 -r 192.168.128.131:80 -g -w 1"
	"-a -t 192.168.128.181:80 -r 192.168.128.132:80 -g -w 1"
	"-L -n"
	"-D -t 192.168.128.181:80 -s wrr"
	"-d -t 192.168.128.181:80 -r 192.168.128.131:80"
	"--help"
)
seed001=(
	"-C"
	"-A -t 192.168.6.100:http -s rr"
	"-a -t 192.168.6.100:http -r 192.188.1.1:http -m -w 1"
	"-a -t 192.168.6.100:http -r 192.188.1.2:http -m -w 1"
	"-a -t 192.168.6.100:http -r 192.188.1.3:http -m -w 1"
	"-Lcn"
)
seed002=(
	"-A -t 192.168.10.100:80 -s wrr"
	"-a -t 192.168.10.100:80 -r 10.0.0.7:80 -m"
	"-a -t 192.168.10.100:80 -r 10.0.0.17:80 -m"
	"-ln"
)
run_seed() {
	local name=$1; shift
	local line co ro cr rr
	for line in "$@"; do
		co=$(in_ns c_ipvs ipvsadm $line 2>&1) && cr=0 || cr=$?
		ro=$(in_ns rust_rvs rvsadm $line 2>&1) && rr=0 || rr=$?
		if [ "$line" = "-D -t 192.168.128.181:80 -s wrr" ]; then
			[ $rr != 0 ] || fail "$name: '$line' should be refused, as ipvsadm does"
		else
			[ $rr = 0 ] || fail "$name: 'rvsadm $line' failed: $ro"
		fi
		[ "$line" = "--help" ] && { co=${co//ipvsadm/rvsadm}; co=${co//v1.31 2019\/12\/24 (compiled with popt and IPVS v1.2.1)/}; ro=${ro//v1.31 2019\/12\/24 (compiled with popt and IPVS v1.2.1)/}; }
		expect_eq "$name: exit status of '$line'" "$cr" "$rr"
		expect_eq "$name: output of '$line'" "$(sed 's/(size=[0-9]*)/(size=N)/' <<<"${co//ipvsadm/rvsadm}")" "$(sed 's/(size=[0-9]*)/(size=N)/' <<<"$ro")"
	done
	expect_eq "$name: same table" "$(in_ns c_ipvs ipvsadm -S -n)" "$(in_ns rust_rvs rvsadm -S -n)"
}
run_seed "seed 000" "${seed000[@]}"
run_seed "seed 001" "${seed001[@]}"
run_seed "seed 002" "${seed002[@]}"
