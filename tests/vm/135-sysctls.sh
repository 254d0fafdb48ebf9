# timeout: 300
# The knobs (issue 14), table-driven against ip_vs in the same namespace
# (rvs's net.rvs.* next to ip_vs's net.ipv4.vs.*): every knob both have
# reads the same default, the same valid writes read back the same, the same invalid
# ones are refused and change nothing, and every knob ip_vs has is there.
# Then what some knobs do: run_estimation=0 freezes the rates,
# pmtu_disc=0 lets a DF datagram too big for the tunnel through (the outer
# packet fragmented, its DF clear) where pmtu_disc=1 answers
# "fragmentation needed". (conntrack: 236; cache_bypass, schedule_icmp:
# 237; the defence: 238.)
. "$RVS_TOP/tests/vm/lib.sh"
sync_load_both
modprobe ip_vs_lblc; modprobe ip_vs_lblcr
# The table runs in one shell inside the namespace, reading and writing
# /proc/sys with builtins: a process per access costs a third of a
# second under emulation.
r() { local v; read -r v </proc/sys/net/rvs/$1 && echo "$v"; }
c() { local v; read -r v </proc/sys/net/ipv4/vs/$1 && echo "$v"; }
rw() { echo "$2" 2>/tmp/rw.err >/proc/sys/net/rvs/$1; }
cw() { echo "$2" 2>/dev/null >/proc/sys/net/ipv4/vs/$1; }
knob_table() {
	# KNOB VALUE...: values both must take and read back alike (seconds for
	# the jiffies knobs).
	KNOBS=(
		"expire_nodest_conn 1 0"
		"conn_reuse_mode 0 2 3 1"
		"expire_quiescent_template 1 0"
		"sloppy_tcp 1 0"
		"sloppy_sctp 1 0"
		"nat_icmp_send 1 0"
		"snat_reroute 0 1"
		"sync_threshold 5\t20 3\t50"
		"sync_refresh_period 10 0"
		"sync_retries 3 0"
		"sync_persist_mode 1 0"
		"sync_version 0 1"
		"sync_ports 4 1"
		"sync_sock_size 65536 0"
		"backup_only 1 0"
		"pmtu_disc 0 1"
		"run_estimation 0 1"
		"lblc_expiration 3600 86400"
		"lblcr_expiration 60 86400"
		"conntrack 1 2 -1 0"
		"cache_bypass 1 2 0"
		"schedule_icmp 1 0"
		"ignore_tunneled 1 0"
		"am_droprate 20 -3 10"
		"drop_packet 3 1 0"
		"secure_tcp 3 1 0"
		"amemthresh 2048 1024"
		"drop_entry 3 1 0"
	)
	for k in "${KNOBS[@]}"; do
		read -r name values <<<"$k"
		expect_eq "$name: IPVS's default" "$(c $name)" "$(r $name)"
		for v in $values; do
			v=$(printf "%b" "$v")
			cw $name "$v" || fail "ip_vs refused $name=$v"
			rw $name "$v" || fail "rvs refused $name=$v: $(cat /tmp/rw.err)"
			expect_eq "$name=$v reads back alike" "$(c $name)" "$(r $name)"
		done
	done
	# sync_qlen_max's default is a share of free memory (different between
	# the two modules' load times): both take a write.
	cw sync_qlen_max 1000 && rw sync_qlen_max 1000 && expect_eq "sync_qlen_max" "$(c sync_qlen_max)" "$(r sync_qlen_max)"

	# The defence modes are 0 to 3: both refuse the rest, nothing changes.
	for k in "drop_entry 4" "drop_packet -1" "secure_tcp 7"; do
		read -r name bad <<<"$k"
		if cw $name $bad; then fail "ip_vs took $name=$bad"; fi
		if rw $name $bad; then fail "rvs took $name=$bad"; fi
		expect_contains "$name=$bad refused as invalid" "Invalid argument" "$(cat /tmp/rw.err)"
		expect_eq "$name unchanged" "$(c $name)" "$(r $name)"
	done
	# Every knob ip_vs has, rvs has (IPVS 7.3's hash-table and estimator
	# thread knobs aside: Documentation/ipvs-abi.md).
	for f in /proc/sys/net/ipv4/vs/*; do
		name=${f##*/}
		case $name in conn_lfactor|svc_lfactor|conn_max|est_cpulist|est_nice) continue ;; esac
		[ -e /proc/sys/net/rvs/$name ] || fail "ip_vs has $name, rvs has not"
	done
	# IPVS has debug_level only when built with CONFIG_IP_VS_DEBUG; rvs
	# takes it (it writes no such log).
	rw debug_level 3 || fail "debug_level=3 refused"
	expect_eq "debug_level: taken" 3 "$(r debug_level)"
	rw debug_level 0
}
new_netns knobs
export -f knob_table r c rw cw fail check expect_eq expect_contains
ip netns exec knobs bash -c knob_table || exit 1
ip netns del knobs

# --- run_estimation: 0 stops the estimator, its rates stay ---
topo_nat 1
dadm -A -u 192.168.10.100:53 -s rr
dadm -a -u 192.168.10.100:53 -r 10.0.0.7 -m
udp_server rs1 rs1 53
inpps() { dadm -L -n --rate -u 192.168.10.100:53 | awk '$1 == "UDP" {print $4}'; }
burst() { ip netns exec client python3 -S -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
end = time.time() + float(__import__("sys").argv[1])
while time.time() < end:
    s.sendto(b"q", ("192.168.10.100", 53)); time.sleep(0.01)' "$1"; }
in_ns director sysctl -qw net.rvs.run_estimation=0
burst 3
expect_eq "run_estimation=0: no rate estimated" 0 "$(inpps)"
in_ns director sysctl -qw net.rvs.run_estimation=1
burst 3
rate=$(inpps)
check "run_estimation=1: the rate is estimated again ($rate packets/s)" [ "${rate:-0}" -gt 0 ]

# --- pmtu_disc: a DF datagram too big for the tunnel ---
for ns in client director rs1; do
	for i in $(ip netns pids $ns); do kill "$i" 2>/dev/null || true; done
	ip netns del $ns
done
topo_lan 1
rs_tun 1
udp_server rs1 rs1 5353
dadm -A -u $VIP:5353 -s rr
dadm -a -u $VIP:5353 -r ${LAN_RS[0]} -i
# 1472 bytes of payload: a 1500-byte packet, which IPIP makes 1520.
big() { ip netns exec client python3 -S -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, 10, 2)  # IP_MTU_DISCOVER: IP_PMTUDISC_DO
s.settimeout(3)
for attempt in range(2):
    try:
        s.sendto(b"x" * 1472, ("'$VIP'", 5353))
        print(s.recv(100).decode().strip())
        break
    except socket.timeout:
        continue
    except OSError as e:
        # The path MTU the director reported is now the socket'"'"'s.
        print("refused: EMSGSIZE" if e.errno == 90 else "refused: %s" % e)
        break
else:
    print("no answer")'; }
# pmtu_disc=0 first: a "fragmentation needed" would leave the client a
# smaller path MTU for the VIP.
in_ns director sysctl -qw net.rvs.pmtu_disc=0
ip netns exec rs1 tcpdump -i eth0 -n -v -c 1 -Q in "ip proto 4" >/tmp/outer.txt 2>/dev/null &
dump=$!
sleep 1
got=$(big)
expect_eq "pmtu_disc=0: the datagram crosses the tunnel fragmented" "rs1" "$got"
poll_for 5 grep -q IPIP /tmp/outer.txt || true
kill $dump 2>/dev/null || true; wait $dump 2>/dev/null || true
cat /tmp/outer.txt
# The outer header's line (tcpdump -v prints the inner one after it).
outer=$(grep "proto IPIP" /tmp/outer.txt || true)
check "pmtu_disc=0: the outer packet has DF clear" bash -c '[ -n "$1" ] && [[ $1 != *"flags [DF"* ]]' _ "$outer"
in_ns director sysctl -qw net.rvs.pmtu_disc=1
got=$(big)
expect_eq "pmtu_disc=1: the director answers fragmentation needed" "refused: EMSGSIZE" "$got"
