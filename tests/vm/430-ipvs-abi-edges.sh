# timeout: 300
# lane: serial (loads and unloads rvs and ip_vs, reads the kernel log)
# The IPVS ABI's edges: loading with ipvs_abi=1 while ip_vs holds the IPVS
# family fails cleanly, and the net.ipv4.vs knobs rvs honours do what
# IPVS's do: sloppy_tcp, nat_icmp_send, snat_reroute.
. "$RVS_TOP/tests/vm/lib.sh"
unload_ip_vs

# --- clash with ip_vs: a clear message, nothing half loaded ---
modprobe ip_vs
rc=0; insmod "$RVS_KO" ipvs_abi=1 2>/tmp/insmod.err || rc=$?
[ $rc != 0 ] || fail "rvs loaded with ipvs_abi=1 although ip_vs holds the IPVS family"
dmesg | tail -5 | grep -q "IPVS netlink family is taken; unload ip_vs first" || fail "no clear message in dmesg"
lsmod | grep -q '^rvs ' && fail "rvs half loaded"
genl_family_registered rvs && fail "the rvs family stayed registered"
echo "ok: refused while ip_vs is loaded: $(cat /tmp/insmod.err)"
# Without the ABI, rvs and ip_vs coexist (different families and files).
load_rvs
check "rvs without the ABI loads next to ip_vs" genl_family_registered rvs
rmmod rvs
modprobe -r ip_vs
rc=0; insmod "$RVS_KO" ipvs_abi=2 2>/dev/null || rc=$?
[ $rc != 0 ] || fail "ipvs_abi=2 accepted"
lsmod | grep -q '^rvs ' && fail "rvs loaded with ipvs_abi=2"
echo "ok: ipvs_abi=2 refused"

load_rvs ipvs_abi=1
topo_nat 2
vs() { in_ns director sysctl -n net.ipv4.vs.$1; }
expect_eq "IPVS's defaults" "0 0 1 0 1 0" \
	"$(vs expire_nodest_conn) $(vs sloppy_tcp) $(vs conn_reuse_mode) $(vs nat_icmp_send) $(vs snat_reroute) $(vs expire_quiescent_template)"
expect_eq "one knob, two names" "$(in_ns director sysctl -n net.rvs.conn_reuse_mode)" "$(vs conn_reuse_mode)"
in_ns director sysctl -qw net.ipv4.vs.conn_reuse_mode=2
expect_eq "written through net.ipv4.vs" 2 "$(in_ns director sysctl -n net.rvs.conn_reuse_mode)"
if in_ns director sysctl -qw net.ipv4.vs.sloppy_tcp=2 2>/dev/null; then fail "sloppy_tcp=2 accepted"; fi
dadm -A -t 192.168.10.100:80 -s rr
dadm -a -t 192.168.10.100:80 -r 10.0.0.7 -m

# --- sloppy_tcp: only a SYN starts a connection, unless it is set ---
conns() { dadm -L -n -c | grep -c "192.168.10.6:4444" || true; }
ip netns exec client hping3 -q -A -s 4444 -k -p 80 -c 1 192.168.10.100 >/dev/null 2>&1 || true
expect_eq "sloppy_tcp=0: a lone ACK makes no connection" 0 "$(conns)"
in_ns director sysctl -qw net.ipv4.vs.sloppy_tcp=1
ip netns exec client hping3 -q -A -s 4444 -k -p 80 -c 1 192.168.10.100 >/dev/null 2>&1 || true
expect_eq "sloppy_tcp=1: a lone ACK makes a connection" 1 "$(conns)"

# --- nat_icmp_send: a real server's packet that matches no connection ---
# rs1 sends from its UDP service port 10.0.0.7:80 to the client, unasked.
dadm -A -u 192.168.10.100:80 -s rr
dadm -a -u 192.168.10.100:80 -r 10.0.0.7 -m
stray() {
	ip netns exec rs1 tcpdump -l -n -i eth0 -c 1 "icmp[icmptype] = icmp-unreach" >/tmp/unreach.txt 2>/dev/null &
	local dump=$!
	sleep 1
	in_ns client sh -c 'nstat -n; true'
	ip netns exec rs1 hping3 -q -2 -s 80 -k -p 5555 -c 2 192.168.10.6 >/dev/null 2>&1 || true
	sleep 1
	kill $dump 2>/dev/null || true; wait $dump 2>/dev/null || true
	in_ns client nstat 2>/dev/null | awk '/^UdpNoPorts|^IcmpOutDestUnreachs/ {print $1, $2}' | sort
}
out=$(stray)
expect_contains "nat_icmp_send=0: the stray datagram is forwarded" "UdpNoPorts 2" "$out"
in_ns director sysctl -qw net.ipv4.vs.nat_icmp_send=1
out=$(stray)
case $out in *"UdpNoPorts 2"*) fail "nat_icmp_send=1: the stray datagram still reached the client" ;; esac
grep -q "unreachable" /tmp/unreach.txt || fail "nat_icmp_send=1: rs1 got no port unreachable"
echo "ok: nat_icmp_send=1: dropped, and rs1 told: $(head -1 /tmp/unreach.txt)"

# --- snat_reroute: NAT replies work with it on (default) and off ---
for v in 1 0; do
	in_ns director sysctl -qw net.ipv4.vs.snat_reroute=$v
	expect_eq "snat_reroute=$v: NAT answers" rs1 "$(cget http://192.168.10.100/)"
done
