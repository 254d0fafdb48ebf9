# timeout: 300
# lane: serial (swaps ip_vs and rvs (ipvs_abi=1))
# IPVS's socket options under ipvs_abi=1: the interface ipvsadm falls back
# to without the IPVS netlink family, and that collectd's ipvs plugin
# reads. sockopt.py drives every IP_VS_SO_* command with IPVS's
# structures, good and bad (and, as a user without CAP_NET_ADMIN, some
# that must fail with EPERM); Debian's ipvsadm, kept off netlink by a
# shim (nogenl.c), runs commands, errors and listings over them. Each
# output must be the kernel's ip_vs's, in the same VM. On the debug kernel
# only rvs's half runs, sockopt.py's calls, checked by their answers; the
# comparisons with ip_vs and ipvsadm's runs are the base pass's.
. "$RVS_TOP/tests/vm/lib.sh"
debug=0; [ "${RVS_KERNEL:-base}" = debug ] && debug=1
unload_ip_vs
IPVSADM=/usr/sbin/ipvsadm
out=/tmp/sockopt; rm -rf $out; mkdir -p $out
# clang-19: scripts/setup.sh installs it (for the kernel build).
clang-19 -shared -fPIC -o $out/nogenl.so "$RVS_TOP/tests/vm/nogenl.c" || fail "building the netlink shim"

. "$RVS_TOP/tests/vm/ipvsadm-lines.bash"
lines=$script$'\n'$views$'\n'$stops

# run IMPL: both drivers in a namespace of their own, one output each.
run() {
	new_netns sodir
	ip -n sodir link add d0 type dummy
	ip -n sodir link set d0 multicast on up
	ip -n sodir addr add 10.9.0.1/24 dev d0
	in_ns sodir python3 -S "$RVS_TOP/tests/vm/sockopt.py" >$out/$1.table 2>&1 ||
		fail "$1: sockopt.py failed: $(tail -3 $out/$1.table)"
	in_ns sodir setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		python3 -S "$RVS_TOP/tests/vm/sockopt.py" --unprivileged >$out/$1.unprivileged 2>&1 ||
		fail "$1: sockopt.py --unprivileged failed: $(tail -3 $out/$1.unprivileged)"
	[ $debug = 0 ] || { ip netns del sodir; return 0; }
	LD_PRELOAD=$out/nogenl.so ns_lines sodir $out/$1.adm $IPVSADM <<<"$lines"
	sed -i 's/(size=[0-9]*)/(size=N)/' $out/$1.adm*
	ip netns del sodir
}

# --- rvs ---
load_rvs ipvs_abi=1
run rvs
rmmod rvs
expect_eq "rvs's connection table size, in VERSION and INFO" "size: 4096 size: 4096 size: 4096" \
	"$(grep '^size:' $out/rvs.table | head -3 | tr '\n' ' ' | sed 's/ $//')"
expect_eq "every unprivileged call refused" 4 "$(grep -c ': EPERM$' $out/rvs.unprivileged)"
for want in "set ADD tcp rr: OK" "set ADD again: EEXIST" "set ADD icmp: EFAULT" "set ADDDEST to a missing service: ESRCH" \
	"set ADDDEST negative weight: ERANGE" "set STARTDAEMON backup: OK" "get DEST: EINVAL" "set FLUSH with an argument: EINVAL"; do
	grep -qx "$want" $out/rvs.table || fail "sockopt.py: no '$want' in: $(cat $out/rvs.table)"
done
echo "ok: $(grep -c ': OK' $out/rvs.table) calls answered OK, $(grep -c ': E' $out/rvs.table) refused"
if [ $debug = 1 ]; then
	echo "debug kernel: the comparisons with ip_vs run on the base kernel"
	exit 0
fi
grep -q 'Protocol not available\|Operation not permitted' $out/rvs.adm1 && fail "ipvsadm found no socket options: $(cat $out/rvs.adm1)"
expect_eq "ipvsadm went over the socket options" 1 \
	"$(grep -c '^TCP  192.168.10.100:80 rr' $out/rvs.adm$(grep -n '^-L -n$' <<<"$lines" | head -1 | cut -d: -f1))"

# --- the reference: ip_vs ---
modprobe ip_vs
for s in rr wrr lc wlc lblc lblcr dh sh sed nq mh fo ovf twos; do modprobe ip_vs_$s; done
run ipvs
unload_ip_vs

grep -v '^size:' $out/rvs.table >$out/rvs.cmp; grep -v '^size:' $out/ipvs.table >$out/ipvs.cmp
diff $out/ipvs.cmp $out/rvs.cmp >$out/table.diff || fail "socket options answered otherwise than by ip_vs (< ip_vs, > rvs):
$(cat $out/table.diff)"
echo "ok: every socket option as ip_vs answers it ($(wc -l <$out/rvs.cmp) calls)"
expect_eq "the unprivileged calls as ip_vs answers them" "$(cat $out/ipvs.unprivileged)" "$(cat $out/rvs.unprivileged)"
n=0
for f in $(cd $out && ls ipvs.adm*); do
	n=$((n + 1))
	expect_eq "ipvsadm over socket options, as with ip_vs: ${f#ipvs.} ($(sed -n "${f#ipvs.adm}p" <<<"$lines"))" \
		"$(cat $out/$f)" "$(cat $out/rvs.${f#ipvs.})"
done
echo "$n ipvsadm outputs compared"
[ "$n" -ge 50 ] || fail "too few ipvsadm outputs compared ($n)"
