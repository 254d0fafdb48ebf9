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
modprobe -a ip_vs_lblc ip_vs_lblcr
# The table runs in one shell inside the namespace, reading and writing
# /proc/sys with builtins and no command substitution: a process per
# access costs a third of a second under emulation, a subshell a tenth.
# r NAME, c NAME: rvs's, ip_vs's value of the knob in R, C (empty when
# it cannot be read).
r() { R=; read -r R </proc/sys/net/rvs/$1; }
c() { C=; read -r C </proc/sys/net/ipv4/vs/$1; }
rw() { echo "$2" 2>/tmp/rw.err >/proc/sys/net/rvs/$1; }
cw() { echo "$2" 2>/dev/null >/proc/sys/net/ipv4/vs/$1; }
# alike WHAT NAME: both read the same value.
alike() { c $2; r $2; expect_eq "$1" "$C" "$R"; }
# rw_err_has WHAT TEXT: rvs's refusal (rw's error) says TEXT (as
# expect_contains, without grep).
rw_err_has() {
	local err=
	IFS= read -r -d '' err </tmp/rw.err || :
	if [[ $err == *"$2"* ]]; then echo "ok: $1"; else
		while [[ $err == *$'\n' ]]; do err=${err%$'\n'}; done
		echo "--- expected to contain: $2"; echo "--- in:"; printf '%s\n' "$err"
		fail "$1"
	fi
}
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
		alike "$name: IPVS's default" $name
		for v in $values; do
			printf -v v %b "$v"
			cw $name "$v" || fail "ip_vs refused $name=$v"
			rw $name "$v" || fail "rvs refused $name=$v: $(cat /tmp/rw.err)"
			alike "$name=$v reads back alike" $name
		done
	done
	# sync_qlen_max's default is a share of free memory (different between
	# the two modules' load times): both take a write.
	cw sync_qlen_max 1000 && rw sync_qlen_max 1000 && alike "sync_qlen_max" sync_qlen_max

	# The defence modes are 0 to 3: both refuse the rest, nothing changes.
	for k in "drop_entry 4" "drop_packet -1" "secure_tcp 7"; do
		read -r name bad <<<"$k"
		if cw $name $bad; then fail "ip_vs took $name=$bad"; fi
		if rw $name $bad; then fail "rvs took $name=$bad"; fi
		rw_err_has "$name=$bad refused as invalid" "Invalid argument"
		alike "$name unchanged" $name
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
	r debug_level; expect_eq "debug_level: taken" 3 "$R"
	rw debug_level 0
}
new_netns knobs
export -f knob_table r c rw cw alike rw_err_has fail check expect_eq
# (in_ns: /proc/sys/net is the opener's namespace's; no /sys is read.)
in_ns knobs bash -c knob_table || exit 1
ip netns del knobs

# --- run_estimation: 0 stops the estimator, its rates stay ---
topo_nat 1
dadm -A -u 192.168.10.100:53 -s rr
dadm -a -u 192.168.10.100:53 -r 10.0.0.7 -m
# The real server answers every datagram from one process (socat's
# udp_server forks a child and a shell per datagram: hundreds of process
# starts per burst).
nsrun rs1 python3 -S "$RVS_TOP/tests/vm/udpecho.py" serve 0.0.0.0 53 &
listening rs1 u 53
# inpps: the service's InPPS (-L --rate's 4th field on its UDP line) in
# PPS, one line per such line, as awk '$1 == "UDP" {print $4}' would.
inpps() {
	local l f
	PPS=
	l=$(dadm -L -n --rate -u 192.168.10.100:53) || :
	while read -r -a f; do
		[ "${f[0]:-}" != UDP ] || PPS+=${f[3]:-}$'\n'
	done <<<"$l"
	while [[ $PPS == *$'\n' ]]; do PPS=${PPS%$'\n'}; done
}
burst() { in_ns client python3 -S -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
end = time.time() + float(__import__("sys").argv[1])
while time.time() < end:
    s.sendto(b"q", ("192.168.10.100", 53)); time.sleep(0.01)' "$1"; }
in_ns director sysctl -qw net.rvs.run_estimation=0
burst 3
inpps; expect_eq "run_estimation=0: no rate estimated" 0 "$PPS"
in_ns director sysctl -qw net.rvs.run_estimation=1
burst 3
inpps; rate=$PPS
check "run_estimation=1: the rate is estimated again ($rate packets/s)" [ "${rate:-0}" -gt 0 ]

# --- pmtu_disc: a DF datagram too big for the tunnel ---
# (One ip for the three namespaces' processes, one for deleting them.)
for i in $(ip -batch - <<<$'netns pids client\nnetns pids director\nnetns pids rs1'); do
	kill "$i" 2>/dev/null || true
done
ip -batch - <<<$'netns del client\nnetns del director\nnetns del rs1'
topo_lan 1
rs_tun 1
udp_server rs1 rs1 5353
dadm -A -u $VIP:5353 -s rr
dadm -a -u $VIP:5353 -r ${LAN_RS[0]} -i
# 1472 bytes of payload: a 1500-byte packet, which IPIP makes 1520.
big() { in_ns client python3 -S -c '
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
# has FILE TEXT: a line of FILE holds TEXT (grep -qF, without a process).
has() {
	local l
	while IFS= read -r l || [ -n "$l" ]; do [[ $l != *"$2"* ]] || return 0; done <"$1"
	return 1
}
ip netns exec rs1 tcpdump -i eth0 -n -v -c 1 -Q in "ip proto 4" >/tmp/outer.txt 2>/tmp/outer.err &
dump=$!
# tcpdump says "listening on" once it captures (no fixed sleep).
poll_for 30 has /tmp/outer.err "listening on" || fail "tcpdump did not start: $(cat /tmp/outer.err)"
got=$(big)
expect_eq "pmtu_disc=0: the datagram crosses the tunnel fragmented" "rs1" "$got"
poll_for 5 has /tmp/outer.txt IPIP || true
kill $dump 2>/dev/null || true; wait $dump 2>/dev/null || true
mapfile -t dumped </tmp/outer.txt
[ ${#dumped[@]} = 0 ] || printf '%s\n' "${dumped[@]}"
# The outer header's line (tcpdump -v prints the inner one after it).
outer=
for l in "${dumped[@]}"; do [[ $l != *"proto IPIP"* ]] || outer+=${outer:+$'\n'}$l; done
df_clear() { [ -n "$outer" ] && [[ $outer != *"flags [DF"* ]]; }
check "pmtu_disc=0: the outer packet has DF clear" df_clear
in_ns director sysctl -qw net.rvs.pmtu_disc=1
got=$(big)
expect_eq "pmtu_disc=1: the director answers fragmentation needed" "refused: EMSGSIZE" "$got"
