# Helpers for VM tests; each test sources this file. Tests run as root in
# the guest; all traffic stays between network namespaces they create.
set -euo pipefail
RVS_KO=$RVS_TOP/rvs.ko

fail() { echo "FAIL: $*" >&2; exit 1; }
# check DESCRIPTION COMMAND...: runs COMMAND, fails the test if it fails.
check() { local d=$1; shift; if "$@"; then echo "ok: $d"; else fail "$d"; fi; }
# expect_eq WHAT EXPECTED ACTUAL
expect_eq() {
	if [ "$2" = "$3" ]; then echo "ok: $1"; else
		echo "--- expected"; printf '%s\n' "$2"; echo "--- actual"; printf '%s\n' "$3"
		fail "$1"
	fi
}
load_rvs() { insmod "$RVS_KO" "$@"; }
unload_rvs() { rmmod rvs; }
# genl_family_registered NAME: is a generic netlink family of that name known?
genl_family_registered() {
	python3 "$RVS_TOP/tests/vm/genl_families.py" | grep -qx "$1"
}
# expect_contains WHAT NEEDLE HAYSTACK
expect_contains() {
	if grep -qF -- "$2" <<<"$3"; then echo "ok: $1"; else
		echo "--- expected to contain: $2"; echo "--- in:"; printf '%s\n' "$3"
		fail "$1"
	fi
}
# new_netns NAME: a namespace with loopback up (so it has a local routing
# table: IPVS and rvs refuse real servers whose address type is unknown).
new_netns() { ip netns add "$1"; ip -n "$1" link set lo up; }

# --- topologies (all inside the VM, between namespaces made here) ---

# http_server NS NAME PORT: busybox httpd in NS answering "NAME" on PORT.
http_server() {
	local ns=$1 name=$2 port=${3:-80} dir=/tmp/www-$1-$3
	mkdir -p "$dir"; echo "$name" >"$dir/index.html"
	# The same 1 MB blob on every server, to check transfers end to end.
	[ -f /tmp/blob.src ] || head -c 1000000 /dev/urandom >/tmp/blob.src
	cp /tmp/blob.src "$dir/blob"
	ip netns exec "$ns" busybox httpd -p "$port" -h "$dir"
}

# veth_pair NS_A IF_A NS_B IF_B
veth_pair() {
	ip link add "$2" netns "$1" type veth peer name "$4" netns "$3"
	ip -n "$1" link set "$2" up; ip -n "$3" link set "$4" up
}

# topo_nat [N]: seed 002's network. Client 192.168.10.6 -- director
# (192.168.10.100 = VIP, and 10.0.0.8 on a bridge) -- real servers
# 10.0.0.7, 10.0.0.17, 10.0.0.27 whose gateway is the director.
RS_IPS=(10.0.0.7 10.0.0.17 10.0.0.27)
topo_nat() {
	local n=${1:-2} i
	new_netns client; new_netns director
	veth_pair client eth0 director d0
	ip -n client addr add 192.168.10.6/24 dev eth0
	ip -n director addr add 192.168.10.100/24 dev d0
	ip -n director link add br0 type bridge; ip -n director link set br0 up
	ip -n director addr add 10.0.0.8/24 dev br0
	ip netns exec director sysctl -qw net.ipv4.ip_forward=1
	ip netns exec director sysctl -qw net.ipv4.conf.all.send_redirects=0
	for i in $(seq 1 "$n"); do
		new_netns rs$i
		veth_pair director rs$i-port rs$i eth0
		ip -n director link set rs$i-port master br0
		ip -n rs$i addr add ${RS_IPS[$((i - 1))]}/24 dev eth0
		ip -n rs$i route add default via 10.0.0.8
		http_server rs$i rs$i 80
	done
	# Let neighbours and the bridge settle before traffic.
	ip netns exec client ping -c1 -W2 192.168.10.100 >/dev/null
	for i in $(seq 1 "$n"); do ip netns exec director ping -c1 -W2 ${RS_IPS[$((i - 1))]} >/dev/null; done
}

# get URL from the client namespace; prints the body.
cget() { ip netns exec client curl -s --max-time 5 "$@"; }
# rvsadm in the director namespace.
dadm() { ip netns exec director rvsadm "$@"; }

# topo_lan N: client 192.168.20.2, director 192.168.20.10 holding the VIP
# 192.168.20.100, and N real servers 192.168.20.21.. on one bridged LAN
# (the seeds' DR and TUN networks, without the router).
VIP=192.168.20.100
LAN_RS=(192.168.20.21 192.168.20.22 192.168.20.23)
topo_lan() {
	local n=${1:-2} i ns
	new_netns lan
	ip -n lan link add br0 type bridge; ip -n lan link set br0 up
	for ns in client director $(for i in $(seq 1 "$n"); do echo rs$i; done); do
		[ "$ns" = client ] || [ "$ns" = director ] || true
		ip netns list | grep -qw "$ns" || new_netns "$ns"
		veth_pair lan p-$ns "$ns" eth0
		ip -n lan link set p-$ns master br0
	done
	ip -n client addr add 192.168.20.2/24 dev eth0
	ip -n director addr add 192.168.20.10/24 dev eth0
	ip -n director addr add $VIP/24 dev eth0
	for i in $(seq 1 "$n"); do
		ip -n rs$i addr add ${LAN_RS[$((i - 1))]}/24 dev eth0
	done
	ip netns exec client ping -c1 -W2 $VIP >/dev/null
	for i in $(seq 1 "$n"); do ip netns exec director ping -c1 -W2 ${LAN_RS[$((i - 1))]} >/dev/null; done
}

# rs_dr I: real server I answers for the VIP on lo and keeps quiet about it
# on the LAN (seed 000's arp_ignore=1, arp_announce=2).
rs_dr() {
	local ns=rs$1
	ip -n $ns addr add $VIP/32 dev lo
	ip netns exec $ns sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2
	ip netns exec $ns sysctl -qw net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2
}

# rs_tun I: real server I takes IPIP packets on tunl0 holding the VIP
# (seed 004: rp_filter off, ARP quiet).
rs_tun() {
	local ns=rs$1
	ip -n $ns link set tunl0 up
	ip -n $ns addr add $VIP/32 dev tunl0
	ip netns exec $ns sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.tunl0.rp_filter=0
	ip netns exec $ns sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2
}

# udp_server NS NAME PORT [BIND]: answers every datagram with NAME.
udp_server() {
	local bind=${4:+,bind=$4}
	ip netns exec "$1" socat UDP4-RECVFROM:"$3",reuseaddr,fork$bind SYSTEM:"echo $2" &
	listening "$1" u "$3"
}
# listening NS t|u PORT: waits (up to 10 s) until a TCP or UDP socket is
# bound to PORT in NS: a fixed sleep is too short on a busy machine.
listening() {
	local i
	for i in $(seq 1 50); do
		[ -n "$(ip netns exec "$1" ss -Hn -l -"$2" "sport = :$3" 2>/dev/null)" ] && return 0
		sleep 0.2
	done
	echo "warning: nothing listening on $2 port $3 in $1 after 10 s" >&2
}

# uget ADDR PORT: one UDP query from the client; prints the answer.
uget() { echo q | ip netns exec client socat -T2 - UDP4:"$1":"$2"; }

# echo_server NS PORT: a TCP echo service.
echo_server() {
	ip netns exec "$1" socat TCP-LISTEN:"$2",fork,reuseaddr EXEC:cat &
	listening "$1" t "$2"
}

# --- keepalived (the IPVS ABI tests) ---

# keepalived_start NAME CONF [ARGS...]: keepalived in the director
# namespace (or the one named by KA_NS), logging to /tmp/ka-NAME.log, with
# its own pid files so that several can run at once.
keepalived_start() {
	local name=$1 conf=$2; shift 2
	ip netns exec "${KA_NS:-director}" keepalived -n -l -D -G -f "$conf" \
		-p /tmp/ka-$name.pid -r /tmp/ka-$name-vrrp.pid -c /tmp/ka-$name-check.pid \
		"$@" >/tmp/ka-$name.log 2>&1 &
	echo $! >/tmp/ka-$name.main
}
keepalived_stop() {
	local pid
	pid=$(cat /tmp/ka-$1.main 2>/dev/null) || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
	kill -KILL "$pid" 2>/dev/null || true
}
# wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.2 s;
# prints the seconds it took, fails the test after SECONDS.
wait_for() {
	local limit=$1 what=$2 start=$(date +%s.%N); shift 2
	while ! "$@" >/dev/null 2>&1; do
		if [ "$(echo "$(date +%s.%N) - $start > $limit" | bc)" = 1 ]; then
			fail "$what: not within ${limit}s"
		fi
		sleep 0.2
	done
	echo "ok: $what after $(echo "$(date +%s.%N) - $start" | bc | xargs printf '%.1f')s"
}
# httpd_pid NS: the busybox httpd serving in NS.
httpd_pid() { ip netns pids "$1" | while read -r p; do
	grep -q httpd /proc/$p/cmdline 2>/dev/null && echo "$p"; done | head -1; }

# unload_ip_vs: the kernel's IPVS out of the way (earlier tests load it;
# rvs's IPVS ABI needs the IPVS family free).
unload_ip_vs() {
	local m
	for m in $(lsmod | awk '$1 ~ /^ip_vs_/ {print $1}'); do rmmod "$m"; done
	if lsmod | grep -q '^ip_vs '; then rmmod ip_vs; fi
}

# --- reliability helpers ---

# long_or LONG SHORT [DEBUG]: the long version's value of a reliability
# test (RVS_LONG=1, scripts/vm-test.sh --long), else the short one's;
# DEBUG, if given, is the short value on the debug kernel (several times
# slower: CI's debug pass runs a lighter version).
long_or() {
	if [ "${RVS_LONG:-0}" = 1 ]; then echo "$1"
	elif [ "${RVS_KERNEL:-base}" = debug ] && [ -n "${3:-}" ]; then echo "$3"
	else echo "$2"; fi
}

# syn_flood_until END SEED: spoofed SYNs from the client at the NAT VIP
# (rvsfuzz synflood, one process) until the epoch second END; run one per
# vCPU with different seeds.
syn_flood_until() {
	local left=$(($1 - $(date +%s)))
	[ "$left" -gt 0 ] || return 0
	ip netns exec client rvsfuzz synflood --dst 192.168.10.100 --port 80 \
		--count 100000000 --secs "$left" --seed "$2"
}

# figure NAME VALUE...: one measured figure, collected for
# Documentation/reliability.md (grep '^FIGURE' in the test's output).
figure() { local n=$1; shift; echo "FIGURE $n: $*"; }

# kmemleak_check: on kernels with kmemleak, scan (several times: an object
# must stay unreferenced across scans) and fail on any suspected leak.
kmemleak_check() {
	local f=/sys/kernel/debug/kmemleak leaks i
	[ -w $f ] || { echo "(no kmemleak on this kernel)"; return 0; }
	for i in 1 2 3; do sleep 2; echo scan >$f; done
	leaks=$(cat $f)
	if [ -n "$leaks" ]; then
		echo "$leaks" | head -80
		echo clear >$f
		fail "kmemleak: $(grep -c 'unreferenced object' <<<"$leaks") suspected leaks"
	fi
	echo "ok: kmemleak clean"
}

# mem_available_kb: MemAvailable of the whole VM.
mem_available_kb() { awk '/^MemAvailable:/ {print $2}' /proc/meminfo; }

# tcp_in_segs NS: TCP segments received by namespace NS so far.
tcp_in_segs() {
	ip netns exec "$1" awk '/^Tcp:/ { if (h) { print $10; exit } h = 1 }' /proc/net/snmp
}
