# timeout: 300
# Every change needs CAP_NET_ADMIN in the user namespace owning the
# network namespace: an unprivileged user gets EPERM on each and changes
# nothing; root of a new user namespace may change only its own netns.
. "$RVS_TOP/tests/vm/lib.sh"
load_rvs
rvsadm -A -t 192.168.10.100:80 -s wrr
rvsadm -a -t 192.168.10.100:80 -r 10.0.0.7 -m
before=$(rvsadm -S -n)
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }
changes=(
	"-A -t 10.1.0.1:80"
	"-E -t 192.168.10.100:80 -s rr"
	"-D -t 192.168.10.100:80"
	"-a -t 192.168.10.100:80 -r 10.0.0.8 -m"
	"-e -t 192.168.10.100:80 -r 10.0.0.7 -m -w 5"
	"-d -t 192.168.10.100:80 -r 10.0.0.7"
	"-C"
	"-Z"
	"--set 1 1 1"
	"--start-daemon master --mcast-interface lo"
	"--stop-daemon master"
	"--resync-daemon master"
)
for args in "${changes[@]}" "-L -n"; do
	set +e
	out=$(nobody "$RVS_TOP/target/release/rvsadm" $args 2>&1); rc=$?
	set -e
	[ $rc != 0 ] || fail "unprivileged '$args' succeeded"
	expect_contains "unprivileged '$args' gets EPERM" "Permission denied" "$out"
done
expect_eq "tables unchanged by unprivileged users" "$before" "$(rvsadm -S -n)"
# Root of a fresh user namespace: not privileged over the initial netns ...
set +e
out=$(unshare -U -r "$RVS_TOP/target/release/rvsadm" -A -t 10.1.0.2:80 2>&1); rc=$?
set -e
[ $rc != 0 ] || fail "userns root changed the initial netns"
expect_contains "userns root gets EPERM in the initial netns" "Permission denied" "$out"
# ... but owns the netns it creates along with it, whose tables are its own.
inner=$(unshare -U -r -n bash -c "ip link set lo up; '$RVS_TOP/target/release/rvsadm' -A -t 10.1.0.3:80 -s rr && '$RVS_TOP/target/release/rvsadm' -S -n")
expect_eq "userns root manages its own netns" "-A -t 10.1.0.3:80 -s rr" "$inner"
expect_eq "initial netns untouched" "$before" "$(rvsadm -S -n)"
# ... including sync daemons, which live in that netns only.
rvsadm=$RVS_TOP/target/release/rvsadm
inner=$(unshare -U -r -n bash -c "ip link set lo up; ip link add d0 type dummy; ip link set d0 up
	ip addr add 10.9.9.1/24 dev d0
	'$rvsadm' --start-daemon master --mcast-interface d0 --syncid 3 && '$rvsadm' -L --daemon")
expect_eq "userns root starts a sync daemon in its own netns" \
	"master sync daemon (mcast=d0, syncid=3, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)" "$inner"
expect_eq "no daemon in the initial netns" "" "$(rvsadm -L --daemon)"
# Every command of the family, sent raw (request and dump): EPERM for an
# unprivileged user and for root of a user namespace not owning the netns.
nobody /usr/bin/python3 -S "$RVS_TOP/tests/vm/rawgenl.py" eperm-all
unshare -U -r /usr/bin/python3 -S "$RVS_TOP/tests/vm/rawgenl.py" eperm-all
# The fuzzer as an unprivileged user: nothing it sends changes anything.
nobody "$RVS_TOP/target/release/rvsfuzz" fuzz --count 5000 --seed 7
expect_eq "tables unchanged by unprivileged fuzzing" "$before" "$(rvsadm -S -n)"
