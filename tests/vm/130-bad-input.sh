# timeout: 480
# Bad input, table-driven: every line below must fail with a message and
# leave the tables exactly as they were (-S -n and --timeout compared before
# and after). Then the raw-netlink table (tests/vm/rawgenl.py) sends
# malformed requests straight to the kernel: errno plus extack, no change.
. "$RVS_TOP/tests/vm/lib.sh"
load_rvs
rvsadm -A -t 192.168.10.100:80 -s wrr
rvsadm -a -t 192.168.10.100:80 -r 10.0.0.7 -m
rvsadm -A -u 10.0.0.12:53 -s sh
rvsadm -A -f 5 -s rr
rvsadm -A -t [2001:db8::1]:443 -s lc
rvsadm --set 30 6 60
# The tables and the timeouts (-S -n, then -L --timeout) from one rvsadm,
# the two listings read as a restore: a process per bad line fewer. That
# it is the two listings is checked once here.
snapshot=$'-S -n\n-L --timeout'
before=$(rvsadm -R <<<"$snapshot")
expect_eq "the snapshot is -S -n and -L --timeout" "$(rvsadm -S -n; rvsadm -L --timeout)" "$before"

bad=(
	# unknown or malformed commands and options
	"-X"
	"--nosuch"
	"-A -t"
	"-A"
	"-a"
	"-D"
	"-E"
	"-d -t 192.168.10.100:80"
	"-A -t 192.168.10.100:80 -t 10.0.0.1:80"
	"-A -t 192.168.10.100:80 -u 10.0.0.1:80"
	"-A -t 10.0.0.1:80 -r 10.0.0.2"
	"-D -t 192.168.10.100:80 -s rr"
	"-C -t 192.168.10.100:80"
	"-L -r 10.0.0.1"
	"-A -L"
	"-Z -r 10.0.0.7"
	"-R -t 10.0.0.1:80"
	# addresses, ports, marks
	"-A -t 300.1.1.1:80"
	"-A -t 10.0.0.1:99999"
	"-A -t 10.0.0.1:-1"
	"-A -t 10.0.0.1:http0"
	"-A -t 10.0.0.1"
	"-A -t :80"
	"-A -t [2001:db8::1:80"
	"-A -t [zz::1]:80"
	"-A -t 2001:db8::1:80:"
	"-A -f 0"
	"-A -f abc"
	"-A -f -5"
	"-A -f 4294967296"
	"-A -t 10.0.0.1:80 -6"
	# schedulers, persistence, netmasks, flags
	"-A -t 10.0.0.1:80 -s nosuch"
	"-A -t 10.0.0.1:80 -s"
	"-A -t 10.0.0.1:80 -s rrrrrrrrrrrrrrrrrrrrrrrr"
	"-A -t 10.0.0.1:80 -p abc"
	"-A -t 10.0.0.1:80 -p -5"
	"-A -t 10.0.0.1:80 -p 0"
	"-A -t 10.0.0.1:80 -M 255.0.255.0"
	"-A -t 10.0.0.1:80 -M 300.0.0.0"
	"-A -t 10.0.0.1:80 -M abc"
	"-A -t [2001:db8::2]:80 -M 129"
	"-A -t [2001:db8::2]:80 -M 0"
	"-A -t 10.0.0.1:80 -b nosuch-flag"
	"-A -t 10.0.0.1:80 -b"
	"-A -t 10.0.0.1:80 --pe sip"
	"-A -t 10.0.0.1:80 --pe nosuch"
	"-A -t 10.0.0.1:80 -o"
	"-A -t 192.168.10.100:80"
	"-A -u 10.0.0.12:53 -s rr"
	"-A -f 5"
	"-E -t 10.55.0.1:80 -s rr"
	"-E -t 192.168.10.100:80 -s nosuch"
	"-D -t 10.55.0.1:80"
	"-D -u 192.168.10.100:80"
	"-D -f 6"
	"-D -f 5 -6"
	# real servers
	"-a -t 192.168.10.100:80 -r 10.0.0.8 -w 2147483648"
	"-a -t 192.168.10.100:80 -r 10.0.0.8 -w -1"
	"-a -t 192.168.10.100:80 -r 10.0.0.8 -w abc"
	"-a -t 192.168.10.100:80 -r 10.0.0.8 -x 5 -y 10"
	"-a -t 192.168.10.100:80 -r 10.0.0.8 -x -1"
	"-a -t 192.168.10.100:80 -r 10.0.0.8 -y abc"
	"-a -t 192.168.10.100:80 -r 10.0.0.8 -x 2147483648"
	"-a -t 192.168.10.100:80 -r 224.0.0.1"
	"-a -t 192.168.10.100:80 -r 255.255.255.255"
	"-a -t 192.168.10.100:80 -r 0.0.0.0"
	"-a -t 192.168.10.100:80 -r 10.0.0.300"
	"-a -t 192.168.10.100:80 -r 10.0.0.8:99999 -m"
	"-a -t 192.168.10.100:80 -r 10.0.0.8 -m -g"
	"-a -t 192.168.10.100:80 -r 10.0.0.8 -m -i"
	"-a -t 192.168.10.100:80 -r 10.0.0.7 -m"
	"-a -t 192.168.10.100:80 -r [2001:db8::9] -m"
	"-a -t 192.168.10.100:80"
	"-a -t 10.55.0.1:80 -r 10.0.0.8"
	"-a -t [2001:db8::1]:443 -r [ff02::1]:443 -m"
	"-a -t [2001:db8::1]:443 -r [fe80::1]:443 -m"
	"-a -t [2001:db8::1]:443 -r [::]:443 -m"
	"-e -t 192.168.10.100:80 -r 10.0.0.99 -m"
	"-e -t 192.168.10.100:80 -r 10.0.0.7 -m -w 2147483648"
	"-e -t 192.168.10.100:80 -r 10.0.0.7 -m -x 1 -y 2"
	"-e -t 10.55.0.1:80 -r 10.0.0.7 -m"
	"-d -t 192.168.10.100:80 -r 10.0.0.99"
	"-d -t 10.55.0.1:80 -r 10.0.0.7"
	"-d -t 192.168.10.100:80 -r 10.0.0.7 -w 3"
	# timeouts, counters, listing, daemons
	"--set 1 2"
	"--set a b c"
	"--set 1 2 3 4"
	"--set -1 2 3"
	"--set 99999999999 1 1"
	"--set 4294967295 1 1"
	"-Z -t 10.55.0.1:80"
	"-L -t 10.55.0.1:80"
	"-L -n -t 192.168.10.100:81"
	"--start-daemon master"
	"--start-daemon nosuch"
	"--stop-daemon master"
	"--stop-daemon"
	"-L --nosuch"
	"-S -t 192.168.10.100:80"
)

passed=0 failed=0
for args in "${bad[@]}"; do
	set +e
	out=$(rvsadm $args 2>&1 >/dev/null); rc=$?
	set -e
	after=$(rvsadm -R <<<"$snapshot")
	why=
	[ $rc != 0 ] || why="exit 0"
	[ -n "$out" ] || why="${why:+$why; }no message"
	[ "$after" = "$before" ] || why="${why:+$why; }tables changed"
	if [ -z "$why" ]; then
		passed=$((passed + 1)); echo "ok   rvsadm $args -> [$rc] ${out%%$'\n'*}"
	else
		failed=$((failed + 1)); echo "FAIL rvsadm $args: $why"
		[ "$after" = "$before" ] || { diff <(echo "$before") <(echo "$after") || true; before=$after; }
	fi
done
echo "rvsadm: $passed passed, $failed failed (${#bad[@]} bad command lines)"

# The same restore input with a bad line in the middle: the good lines
# around it apply (as ipvsadm -R does), the bad one is reported.
set +e
out=$(printf '%s\n' "-A -t 10.77.0.1:80 -s rr" "-A -t 10.77.0.2:80 -s nosuch" "-A -t 10.77.0.3:80" | rvsadm -R 2>&1); rc=$?
set -e
expect_contains "restore reports the bad line" "Scheduler or persistence engine not found" "$out"
saved=$(rvsadm -S -n) n=0 re='^-A -t 10.77.0'
while IFS= read -r l; do [[ ! $l =~ $re ]] || n=$((n + 1)); done <<<"$saved"
expect_eq "restore applies the good lines" "2" "$n"
rvsadm -D -t 10.77.0.1:80
rvsadm -D -t 10.77.0.3:80

python3 -S "$RVS_TOP/tests/vm/rawgenl.py" bad-inputs
[ "$failed" = 0 ]
