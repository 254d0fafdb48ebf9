# Helpers for VM tests; each test sources this file. Tests run as root in
# the guest; all traffic stays between network namespaces they create.
set -euo pipefail
RVS_KO=$RVS_TOP/rvs.ko
# nap SECONDS: sleeps without starting a process. Under emulation a
# `sleep` per poll costs an exec, most of what a poll costs; this is a
# read with a timeout on a pipe that nothing writes to.
exec {RVS_NAP_FD}<> <(:)
nap() { read -rt "$1" -u "$RVS_NAP_FD" || :; }
# Under RVS_VM_XTRACE=1 (runner.sh), each traced line carries its time.
if [ "${RVS_VM_XTRACE:-0}" = 1 ] && [ -e /dev/fd/7 ]; then
	PS4='+ ${EPOCHREALTIME} ${BASHPID} ${BASH_SOURCE##*/}:${LINENO}: ' BASH_XTRACEFD=7
fi

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
# load_rvs [PARAM=VALUE...]: rvs loaded. Without parameters, rvs already
# loaded as it is (the runner's parallel lanes share one) will do; with
# parameters the test must load it itself (`# lane: serial`).
load_rvs() {
	if [ $# = 0 ] && lsmod | grep -q '^rvs '; then return 0; fi
	insmod "$RVS_KO" "$@"
}

# rvs_abi_loaded: rvs is loaded with ipvs_abi=1 (it, not ip_vs, serves
# /proc/net/ip_vs).
rvs_abi_loaded() { lsmod | grep -q '^rvs ' && ! lsmod | grep -q '^ip_vs ' && [ -e /proc/net/ip_vs ]; }
# abi_run FUNC: the IPVS-ABI tests' two halves: FUNC rvs with rvs loaded
# with ipvs_abi=1 (and no ip_vs), then FUNC ipvs with the kernel's ip_vs
# (the reference). RVS_ABI_BACKEND=rvs or ipvs runs one half only, with
# the module as the runner left it: its `# lane: ipvs-abi` phase has rvs
# loaded with ipvs_abi=1; its parallel lanes have ip_vs loaded.
abi_run() {
	local f=$1 b=${RVS_ABI_BACKEND:-both}
	case $b in both|rvs|ipvs) ;; *) fail "RVS_ABI_BACKEND='$b': not both, rvs or ipvs" ;; esac
	if [ "$b" != ipvs ]; then
		if ! rvs_abi_loaded; then
			unload_ip_vs
			load_rvs ipvs_abi=1
		fi
		$f rvs
	fi
	if [ "$b" != rvs ]; then
		if rvs_abi_loaded; then rmmod rvs; fi
		modprobe ip_vs; modprobe ip_vs_rr
		$f ipvs
	fi
}
unload_rvs() { rmmod rvs; }
# genl_family_registered NAME: is a generic netlink family of that name known?
genl_family_registered() {
	python3 -S "$RVS_TOP/tests/vm/genl_families.py" | grep -qx "$1"
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
# in_ns NS COMMAND...: COMMAND in network namespace NS, for every command
# that reads neither /sys nor /etc/netns (all but tcpdump, keepalived and
# /sys readers, which keep `ip netns exec`): nsrun (tests/vm/nsrun.c, built
# static by `make tools`) only joins the namespace and execs COMMAND, where
# `ip netns exec` also makes a mount namespace and mounts /sys in it. On
# the debug kernel a command costs about 170 ms to start, nsrun 70 ms more,
# nsenter (dynamic, with libselinux) 225 ms more, `ip netns exec` 340 ms.
# A background command whose PID is kept uses `nsrun NS` directly (a
# function would leave a subshell between).
# (The VM runner puts target/release on PATH; the benchmarks, the demo and
# the injection tests source this file too.)
command -v nsrun >/dev/null || PATH=$RVS_TOP/target/release:$PATH
command -v nsrun >/dev/null || fail "nsrun is not built: make tools"
in_ns() { nsrun "$@"; }

# --- without a process (each start costs a quarter of a second of CPU on
# the debug kernel under emulation; these are bash alone) ---

# module_loaded NAME: module NAME is loaded (/proc/modules, which lsmod
# lists).
module_loaded() {
	local m r
	while read -r m r; do [ "$m" != "$1" ] || return 0; done </proc/modules
	return 1
}
# slurp VAR FILE: FILE's contents in VAR without its trailing newlines, as
# "$(cat FILE)" has them.
slurp() {
	local -n slurp_into=$1
	slurp_into=
	IFS= read -rd '' slurp_into <"$2" || :
	while [[ $slurp_into == *$'\n' ]]; do slurp_into=${slurp_into%$'\n'}; done
}
# line_in FILE GLOB: a line of FILE matches GLOB (a poll on a log).
line_in() {
	local l
	[ -r "$1" ] || return 1
	while IFS= read -r l || [ -n "$l" ]; do [[ $l == $2 ]] && return 0; done <"$1"
	return 1
}
# ns_pids NS: the processes in namespace NS, as `ip netns pids NS` finds
# them (their /proc/PID/ns/net is NS's), in array NS_PIDS.
ns_pids() {
	local p
	NS_PIDS=()
	for p in /proc/[0-9]*; do [[ $p/ns/net -ef /run/netns/$1 ]] && NS_PIDS+=("${p#/proc/}"); done
	return 0
}
# ns_gone NS...: the processes in the namespaces killed, then the
# namespaces deleted (one `ip` for all).
ns_gone() {
	local ns p
	for ns; do
		ns_pids "$ns"
		for p in "${NS_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	done
	for ns; do echo "netns del $ns"; done | ip -batch -
}

# --- topologies (all inside the VM, between namespaces made here) ---

# http_server NS NAME PORT: busybox httpd in NS answering "NAME" on PORT.
http_server() {
	local ns=$1 name=$2 port=${3:-80} dir=/tmp/www-$1-$3
	mkdir -p "$dir"; echo "$name" >"$dir/index.html"
	# The same 1 MB blob on every server, to check transfers end to end.
	[ -f /tmp/blob.src ] || head -c 1000000 /dev/urandom >/tmp/blob.src
	cp /tmp/blob.src "$dir/blob"
	in_ns "$ns" busybox httpd -p "$port" -h "$dir"
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
# (Topologies are made with one `ip -batch` per namespace, not one `ip`
# per change: under emulation each process costs, a quarter of a second of
# CPU on the debug kernel.)
topo_nat() {
	local n=${1:-2} i
	{
		echo "netns add client"; echo "netns add director"
		echo "link add eth0 netns client type veth peer name d0 netns director"
		for ((i = 1; i <= n; i++)); do
			echo "netns add rs$i"
			echo "link add rs$i-port netns director type veth peer name eth0 netns rs$i"
		done
	} | ip -batch -
	printf '%s\n' "link set lo up" "link set eth0 up" "addr add 192.168.10.6/24 dev eth0" | ip -n client -batch -
	{
		echo "link set lo up"; echo "link set d0 up"
		echo "addr add 192.168.10.100/24 dev d0"
		echo "link add br0 type bridge"; echo "link set br0 up"
		echo "addr add 10.0.0.8/24 dev br0"
		for ((i = 1; i <= n; i++)); do echo "link set rs$i-port up"; echo "link set rs$i-port master br0"; done
	} | ip -n director -batch -
	in_ns director sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.send_redirects=0
	for ((i = 1; i <= n; i++)); do
		printf '%s\n' "link set lo up" "link set eth0 up" "addr add ${RS_IPS[$((i - 1))]}/24 dev eth0" \
			"route add default via 10.0.0.8" | ip -n rs$i -batch -
		http_server rs$i rs$i 80
	done
	# Let neighbours and the bridge settle before traffic.
	in_ns client ping -c1 -W2 192.168.10.100 >/dev/null
	for ((i = 1; i <= n; i++)); do in_ns director ping -c1 -W2 ${RS_IPS[$((i - 1))]} >/dev/null; done
}

# ns_lines NS PREFIX COMMAND...: for each line of stdin, COMMAND with the
# line's words added, in NS (one shell there for all the lines); line i's
# output and "exit RC" go to file PREFIXi.
ns_lines() {
	local ns=$1 prefix=$2; shift 2
	in_ns "$ns" bash -c 'p=$1; shift; i=0
		while IFS= read -r line; do
			i=$((i + 1)); rc=0
			"$@" $line >"$p$i" 2>&1 || rc=$?
			echo "exit $rc" >>"$p$i"
		done' ns_lines "$prefix" "$@"
}

# get URL from the client namespace; prints the body.
cget() { in_ns client curl -s --max-time 5 "$@"; }
# rvsadm in the director namespace.
dadm() { in_ns director rvsadm "$@"; }
# vip_entries NS VIP:PORT: how many connection entries rvs in NS lists
# for that virtual service.
vip_entries() { in_ns "$1" rvsadm -L -n -c | awk -v v="$2" '$5 == v { n++ } END { print n + 0 }'; }

# topo_lan N: client 192.168.20.2, director 192.168.20.10 holding the VIP
# 192.168.20.100, and N real servers 192.168.20.21.. on one bridged LAN
# (the seeds' DR and TUN networks, without the router).
VIP=192.168.20.100
LAN_RS=(192.168.20.21 192.168.20.22 192.168.20.23)
topo_lan() {
	local n=${1:-2} i ns all=(client director)
	for ((i = 1; i <= n; i++)); do all+=(rs$i); done
	{
		echo "netns add lan"
		for ns in "${all[@]}"; do
			[ -e "/run/netns/$ns" ] || echo "netns add $ns"
			echo "link add p-$ns netns lan type veth peer name eth0 netns $ns"
		done
	} | ip -batch -
	{
		echo "link set lo up"; echo "link add br0 type bridge"; echo "link set br0 up"
		for ns in "${all[@]}"; do echo "link set p-$ns up"; echo "link set p-$ns master br0"; done
	} | ip -n lan -batch -
	printf '%s\n' "link set lo up" "link set eth0 up" "addr add 192.168.20.2/24 dev eth0" | ip -n client -batch -
	printf '%s\n' "link set lo up" "link set eth0 up" "addr add 192.168.20.10/24 dev eth0" \
		"addr add $VIP/24 dev eth0" | ip -n director -batch -
	for ((i = 1; i <= n; i++)); do
		printf '%s\n' "link set lo up" "link set eth0 up" "addr add ${LAN_RS[$((i - 1))]}/24 dev eth0" |
			ip -n rs$i -batch -
	done
	in_ns client ping -c1 -W2 $VIP >/dev/null
	for ((i = 1; i <= n; i++)); do in_ns director ping -c1 -W2 ${LAN_RS[$((i - 1))]} >/dev/null; done
}

# rs_dr I: real server I answers for the VIP on lo and keeps quiet about it
# on the LAN (seed 000's arp_ignore=1, arp_announce=2).
rs_dr() {
	local ns=rs$1
	ip -n $ns addr add $VIP/32 dev lo
	in_ns $ns sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 \
		net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2
}

# rs_tun I: real server I takes IPIP packets on tunl0 holding the VIP
# (seed 004: rp_filter off, ARP quiet).
rs_tun() {
	local ns=rs$1
	printf '%s\n' "link set tunl0 up" "addr add $VIP/32 dev tunl0" | ip -n $ns -batch -
	in_ns $ns sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.tunl0.rp_filter=0 \
		net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2
}

# udp_server NS NAME PORT [BIND]: answers every datagram with NAME. (-t 5:
# the child for a datagram waits up to 5 s for the answer, not socat's
# 0.5 s, which a busy debug VM does not always meet.)
udp_server() {
	local bind=${4:+,bind=$4}
	nsrun "$1" socat -t 5 UDP4-RECVFROM:"$3",reuseaddr,fork$bind SYSTEM:"echo $2" &
	listening "$1" u "$3"
}
# listening NS t|u PORT: waits (up to 10 s) until a TCP or UDP socket is
# bound to PORT in NS: a fixed sleep is too short on a busy machine.
listening() {
	local i
	for ((i = 0; i < 50; i++)); do
		[ -n "$(in_ns "$1" ss -Hn -l -"$2" "sport = :$3" 2>/dev/null)" ] && return 0
		nap 0.2
	done
	echo "warning: nothing listening on $2 port $3 in $1 after 10 s" >&2
}

# uget ADDR PORT: one UDP query from the client; prints the answer (or
# nothing after 5 s). It returns as soon as the answer comes: socat would
# wait its half-close time (0.5 s) and no longer, too short for a busy VM.
# (head, not bash's read: read takes a byte at a time, and on a datagram
# socket the first byte takes the whole datagram.)
uget() {
	in_ns client bash -c 'exec 3<>"/dev/udp/$0/$1" && echo q >&3 &&
		timeout 5 head -n 1 <&3' "$1" "$2" 2>/dev/null || true
}

# echo_server NS PORT: a TCP echo service.
echo_server() {
	nsrun "$1" socat TCP-LISTEN:"$2",fork,reuseaddr EXEC:cat &
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
	local pid i
	pid=$(cat /tmp/ka-$1.main 2>/dev/null) || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || return 0; nap 0.2; done
	kill -KILL "$pid" 2>/dev/null || true
}
# poll_for SECONDS COMMAND...: polls COMMAND every 0.2 s, or after as long
# as the check itself took (up to 1 s): a check that starts processes costs
# about a second of CPU on the debug kernel under emulation, CPU that what
# it waits for needs too. Returns 1 after SECONDS; sets POLL_TOOK to how
# long it took ("1.2s").
poll_for() {
	local limit=$(($1 * 1000000)) start=${EPOCHREALTIME/[.,]/} now t0 d; shift
	while t0=${EPOCHREALTIME/[.,]/}; ! "$@" >/dev/null 2>&1; do
		now=${EPOCHREALTIME/[.,]/}
		[ $((now - start)) -lt $limit ] || return 1
		d=$((now - t0)); [ $d -ge 200000 ] || d=200000; [ $d -le 1000000 ] || d=1000000
		printf -v d '%d.%03d' $((d / 1000000)) $((d / 1000 % 1000))
		nap "$d"
	done
	now=${EPOCHREALTIME/[.,]/}
	POLL_TOOK=$(((now - start) / 1000000)).$(((now - start) / 100000 % 10))s
}
# wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND as poll_for;
# prints the seconds it took, fails the test after SECONDS.
wait_for() {
	local limit=$1 what=$2; shift 2
	poll_for "$limit" "$@" || fail "$what: not within ${limit}s"
	echo "ok: $what after $POLL_TOOK"
}
# httpd_pid NS: the busybox httpd serving in NS (the first, its parent;
# the children it forks per request come and go meanwhile); fails when
# there is none.
httpd_pid() {
	local p
	for p in $(ip netns pids "$1"); do
		if grep -q httpd "/proc/$p/cmdline" 2>/dev/null; then echo "$p"; return 0; fi
	done
	echo "no httpd in $1" >&2
	return 1
}

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
	local left=$(($1 - EPOCHSECONDS))
	[ "$left" -gt 0 ] || return 0
	in_ns client rvsfuzz synflood --dst 192.168.10.100 --port 80 \
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
	for i in 1 2 3; do nap 2; echo scan >$f; done
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
	in_ns "$1" awk '/^Tcp:/ { if (h) { print $10; exit } h = 1 }' /proc/net/snmp
}

# --- connection sync failover (440, 450) ---
# Two directors dir1 and dir2 on one LAN with the same services; dir1 holds
# the VIP and runs the master sync daemon, dir2 the backup one; the client
# (20 addresses) keeps TCP sessions and UDP flows open through the VIP
# while dir1 dies and dir2 takes the VIP over. Each director runs rvs or
# ip_vs (both modules loaded at once: rvs with its own `rvs` family and
# rvsadm; ip_vs with ipvsadm), so one scenario covers every pairing. Each
# variant has a network of its own (namespaces lan_K, client_K, rs1_K..,
# dir1_K, dir2_K), so that variants run side by side.

IPVSADM=${IPVSADM:-/usr/sbin/ipvsadm}
declare -A SYNC_IMPL=()
# director_impl NS rvs|ipvs: which implementation `adm NS` drives.
director_impl() {
	case $2 in rvs|ipvs) SYNC_IMPL[$1]=$2 ;; *) fail "director_impl: '$2' is not rvs or ipvs" ;; esac
}
# adm NS ARGS...: rvsadm or ipvsadm (the director's implementation) in NS.
adm() {
	local ns=$1; shift
	case ${SYNC_IMPL[$ns]:-} in
	rvs) in_ns "$ns" rvsadm "$@" ;;
	ipvs) in_ns "$ns" "$IPVSADM" "$@" ;;
	*) fail "adm: no implementation for $ns (director_impl $ns rvs|ipvs)" ;;
	esac
}
# net_down: every namespace gone, with the processes in it.
net_down() {
	local ns i
	for ns in $(ip netns list | awk '{print $1}'); do
		for i in $(ip netns pids $ns); do kill "$i" 2>/dev/null || true; done
	done
	for ns in $(ip netns list | awk '{print $1}'); do ip netns del $ns; done
}
# director_knob NAME VALUE: the director's knob, net.rvs or net.ipv4.vs as
# its implementation (director_impl) has it.
director_knob() {
	case ${SYNC_IMPL[director]:-} in
	rvs) in_ns director sh -c "echo '$2' >/proc/sys/net/rvs/$1" ;;
	ipvs) in_ns director sh -c "echo '$2' >/proc/sys/net/ipv4/vs/$1" ;;
	*) fail "director_knob: no implementation for the director" ;;
	esac
}
# director_knob_is NAME VALUE: it reads VALUE.
director_knob_is() {
	local d=/proc/sys/net/rvs
	[ "${SYNC_IMPL[director]:-}" = ipvs ] && d=/proc/sys/net/ipv4/vs
	[ "$(in_ns director cat $d/$1)" = "$2" ]
}
# sync_load_both: rvs (its own family, no IPVS ABI) and ip_vs side by side.
sync_load_both() {
	lsmod | grep -q '^rvs ' || load_rvs
	modprobe ip_vs; modprobe ip_vs_rr
}

SYNC_CLIENTS=(192.168.20.{200..219})
SYNC_GW=10.0.0.1
# TCP sessions per service (two services); fewer on the debug kernel, where
# every segment costs several times the CPU and the sync code they drive is
# the same for 10 as for 30.
SYNC_SESSIONS=${SYNC_SESSIONS:-$(long_or 30 30 10)}
SYNC_UDP=${SYNC_UDP:-3}              # UDP flows
SYNC_INTERVAL=${SYNC_INTERVAL:-1}    # seconds between a session's lines
SYNC_WAIT=${SYNC_WAIT:-5}            # seconds of traffic before the failover
SYNC_AFTER=${SYNC_AFTER:-5}          # and after it
SYNC_NRS=3
# The debug kernel under emulation is several times slower: longer waits.
SYNC_SLOW=1; [ "${RVS_KERNEL:-base}" != debug ] || SYNC_SLOW=4

# sync_say MESSAGE: MESSAGE with the seconds since the variant started.
sync_say() {
	local now=${EPOCHREALTIME/[.,]/}
	printf '[%3d.%d] %s\n' $(((now - SYNC_T0) / 1000000)) $(((now - SYNC_T0) / 100000 % 10)) "$*"
}
# sync_first_line FILE PATTERN: the file's first line matches PATTERN (a
# glob), without a process.
sync_first_line() { local l; read -r l <"$1" 2>/dev/null && [[ $l == $2 ]]; }

# sync_topo dr|nat: this variant's network (suffix $SX on every
# namespace): the LAN, bridge br0 in lan$SX, with client$SX (192.168.20.2
# and its aliases 192.168.20.200-219), dir1$SX (eth0 192.168.20.11) and
# dir2$SX (.12). DR: real servers rs1$SX.. 192.168.20.21-23 on the LAN,
# VIP on lo, arp_ignore=1, arp_announce=2. NAT: real servers 10.0.0.7,
# .17, .27 on a second bridge br1, where the directors have eth1 (10.0.0.2,
# .3) and the real servers' default gateway is the floating 10.0.0.1.
# Every real server runs tagecho.py on TCP 7000, 7001 and UDP 7000. No
# director holds the VIP yet.
sync_topo() {
	local mode=$1 i d rs ns
	local L=lan$SX C=client$SX
	{
		for ns in $L $C $(seq -f "rs%g$SX" 1 $SYNC_NRS) dir1$SX dir2$SX; do echo "netns add $ns"; done
		echo "link add p-client netns $L type veth peer name eth0 netns $C"
		for i in $(seq 1 $SYNC_NRS); do echo "link add p-rs$i netns $L type veth peer name eth0 netns rs$i$SX"; done
		for d in 1 2; do
			echo "link add p-dir$d netns $L type veth peer name eth0 netns dir$d$SX"
			[ "$mode" = dr ] || echo "link add q-dir$d netns $L type veth peer name eth1 netns dir$d$SX"
		done
	} | ip -batch -
	{
		echo "link set lo up"
		echo "link add br0 type bridge"; echo "link set br0 up"
		[ "$mode" = dr ] || { echo "link add br1 type bridge"; echo "link set br1 up"; }
		for i in p-client p-dir1 p-dir2; do echo "link set $i master br0 up"; done
		for i in $(seq 1 $SYNC_NRS); do echo "link set p-rs$i master $([ "$mode" = dr ] && echo br0 || echo br1) up"; done
		[ "$mode" = dr ] || for i in q-dir1 q-dir2; do echo "link set $i master br1 up"; done
	} | ip -n $L -batch -
	{
		echo "link set lo up"; echo "link set eth0 up"
		echo "addr add 192.168.20.2/24 dev eth0"
		for i in "${SYNC_CLIENTS[@]}"; do echo "addr add $i/24 dev eth0"; done
	} | ip -n $C -batch -
	for d in 1 2; do
		{
			echo "link set lo up"; echo "link set eth0 up"
			echo "addr add 192.168.20.1$d/24 dev eth0"
			[ "$mode" = dr ] || { echo "link set eth1 up"; echo "addr add 10.0.0.$((d + 1))/24 dev eth1"; }
		} | ip -n dir$d$SX -batch -
		[ "$mode" = dr ] || in_ns dir$d$SX sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.send_redirects=0
	done
	for i in $(seq 1 $SYNC_NRS); do
		ns=rs$i$SX
		if [ "$mode" = dr ]; then rs=${LAN_RS[$((i - 1))]}; else rs=${RS_IPS[$((i - 1))]}; fi
		{
			echo "link set lo up"; echo "link set eth0 up"
			echo "addr add $rs/24 dev eth0"
			if [ "$mode" = dr ]; then echo "addr add $VIP/32 dev lo"; else echo "route add default via $SYNC_GW"; fi
		} | ip -n $ns -batch -
		if [ "$mode" = dr ]; then
			in_ns $ns sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 \
				net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2
		fi
	done
	local bind=()
	[ "$mode" != dr ] || bind=(--udp-bind $VIP)
	tagecho_start /tmp/sync$SX-rs.out "$SX" $SYNC_NRS "${bind[@]}" 7000 7001
}
# tagecho_start OUT SUFFIX N [--udp-bind ADDR] PORT...: one tagecho.py
# serving as rs1..rsN in namespaces rs1SUFFIX..rsNSUFFIX, its output to
# OUT; waits until it listens.
tagecho_start() {
	local out=$1 sx=$2 n=$3 i ns=(); shift 3
	for i in $(seq 1 "$n"); do ns+=(--ns "rs$i$sx=rs$i"); done
	nsrun rs1$sx python3 -S "$RVS_TOP/tests/vm/tagecho.py" "${ns[@]}" "$@" >"$out" 2>&1 &
	poll_for $((60 * ${SYNC_SLOW:-1})) sync_first_line "$out" 'tagecho: * listening *' ||
		fail "the real servers' echo service did not start: $(cat "$out")"
}
# director_vip NS ADDR/PREFIX VIP [GATEWAY]: director NS with eth0 at
# ADDR and the VIP on the dummy interface "vip" (so a routing daemon can
# announce it, Documentation/examples/scale-out/), its default route via
# GATEWAY if given.
director_vip() {
	{
		echo "link set lo up"; echo "link set eth0 up"; echo "addr add $2 dev eth0"
		echo "link add vip type dummy"; echo "link set vip up"; echo "addr add $3/32 dev vip"
		[ -z "${4:-}" ] || echo "route add default via $4"
	} | ip -n "$1" -batch -
}
# sync_topo_del: this variant's namespaces (every one whose name ends in
# $SX) and the processes in them.
sync_topo_del() {
	local ns p list
	[ -n "${SX:-}" ] || return 0
	list=$(ip netns list | awk -v s="$SX" '{ if (substr($1, length($1) - length(s) + 1) == s) print $1 }')
	for ns in $list; do
		for p in $(ip netns pids $ns 2>/dev/null); do kill "$p" 2>/dev/null || true; done
	done
	for ns in $list; do echo "netns del $ns"; done | ip -force -batch - 2>/dev/null || true
}

# sync_services NS dr|nat: the same services on each director (one
# restore): TCP 7000 rr, TCP 7001 rr persistent 60 s, UDP 7000 rr, each to
# the three real servers.
sync_services() {
	local ns=$1 mode=$2 rs m=-g s i
	[ "$mode" = dr ] || m=-m
	{
		echo "-A -t $VIP:7000 -s rr"
		echo "-A -t $VIP:7001 -s rr -p 60"
		echo "-A -u $VIP:7000 -s rr"
		for i in $(seq 1 $SYNC_NRS); do
			if [ "$mode" = dr ]; then rs=${LAN_RS[$((i - 1))]}; else rs=${RS_IPS[$((i - 1))]}; fi
			for s in "-t $VIP:7000" "-t $VIP:7001" "-u $VIP:7000"; do echo "-a $s -r $rs $m"; done
		done
	} | adm $ns -R
}

# sync_takeover NS dr|nat: NS takes the VIP (and, for NAT, the real
# servers' gateway address) over.
sync_takeover() {
	{
		echo "addr add $VIP/32 dev eth0"
		[ "$2" = dr ] || echo "addr add $SYNC_GW/32 dev eth1"
	} | ip -n "$1" -batch -
}
# sync_flush_neigh: the client, then the real servers, forget the MACs
# they knew (the VIP's; for NAT, the gateway's), as a gratuitous ARP would
# make them learn the new ones.
sync_flush_neigh() {
	local i
	ip -n client$SX neigh flush dev eth0
	for i in $(seq 1 $SYNC_NRS); do ip -n rs$i$SX neigh flush dev eth0; done
}

# sync_entries NS: the director's connection entries for the VIP, one
# "protocol state client virtual destination" line each, sorted.
sync_entries() {
	adm "$1" -L -n -c | awk -v v="$VIP:" 'index($5, v) == 1 {print $1, $3, $4, $5, $6}' | sort
}
# sync_services_list NS: the director's services and real servers with
# their active and inactive connection counts (-L -n without its header).
sync_services_list() { adm "$1" -L -n | tail -n +2; }
# sync_same_entries: dir2 lists the same entries as dir1, and dir1 one for
# every session and flow; and dir2 counts them on the same real servers
# (the backup binds synced entries to its services). Sets SYNC_E1, SYNC_E2
# (the entries) and SYNC_S1, SYNC_S2 (the services).
sync_same_entries() {
	local want=$((2 * SYNC_SESSIONS + SYNC_UDP)) n=0 l
	SYNC_E1=$(sync_entries dir1$SX); SYNC_E2=$(sync_entries dir2$SX)
	SYNC_S1=$(sync_services_list dir1$SX); SYNC_S2=$(sync_services_list dir2$SX)
	while read -r l; do [[ $l == "TCP ESTABLISHED "* || $l == "UDP UDP "* ]] && n=$((n + 1)); done <<<"$SYNC_E1"
	[ $n -ge $want ] && [ "$SYNC_E1" = "$SYNC_E2" ] && [ "$SYNC_S1" = "$SYNC_S2" ]
}
# sync_count ENTRIES: "N PROTO STATE" per kind of entry, or "none".
sync_count() {
	if [ -z "$1" ]; then echo none; else awk '{print $1, $2}' <<<"$1" | sort | uniq -c | xargs; fi
}

# sync_sessions_start: the client's 2 x SYNC_SESSIONS TCP sessions (to
# 7000 and 7001, spread over its 20 addresses) and SYNC_UDP UDP flows (to
# 7000, one address each), a line every SYNC_INTERVAL s, until
# /tmp/sync$SX-stop exists. Their pids go to SYNC_PIDS.
SYNC_PIDS=()
sync_sessions_start() {
	local srcs port
	srcs=$(IFS=,; echo "${SYNC_CLIENTS[*]}")
	rm -f /tmp/sync$SX-stop
	for port in 7000 7001; do
		nsrun client$SX python3 -S "$RVS_TOP/tests/vm/sessions.py" --tagged --src "$srcs" \
			--timeout $((10 * SYNC_SLOW)) --stop-file /tmp/sync$SX-stop $VIP $port $SYNC_SESSIONS 300 $SYNC_INTERVAL \
			>/tmp/sync$SX-tcp$port.out 2>&1 &
		SYNC_PIDS+=($!)
	done
	nsrun client$SX python3 -S "$RVS_TOP/tests/vm/sessions.py" --tagged --udp --src "$srcs" \
		--max-gap $((8 * SYNC_SLOW)) --stop-file /tmp/sync$SX-stop $VIP 7000 $SYNC_UDP 300 $SYNC_INTERVAL >/tmp/sync$SX-udp.out 2>&1 &
	SYNC_PIDS+=($!)
	local f
	for f in tcp7000 tcp7001 udp; do
		poll_for $((60 * SYNC_SLOW)) sync_first_line /tmp/sync$SX-$f.out 'sessions: * open' ||
			fail "the $f sessions did not open: $(cat /tmp/sync$SX-$f.out)"
	done
}
# sync_sessions_stop: stops them and waits for their reports; sets
# SYNC_TCP_FAILED and SYNC_UDP_FAILED.
sync_sessions_stop() {
	local f p l n
	touch /tmp/sync$SX-stop
	for p in "${SYNC_PIDS[@]}"; do wait $p 2>/dev/null || true; done
	SYNC_PIDS=()
	SYNC_TCP_FAILED=0 SYNC_UDP_FAILED=0
	for f in tcp7000 tcp7001 udp; do
		echo "--- $f sessions:"
		n=
		while read -r l; do
			echo "$l"
			[[ $l =~ ^sessions:\ .*,\ ([0-9]+)\ failures$ ]] && n=${BASH_REMATCH[1]}
		done </tmp/sync$SX-$f.out
		[ -n "$n" ] || fail "the $f sessions did not finish"
		if [ $f = udp ]; then SYNC_UDP_FAILED=$n; else SYNC_TCP_FAILED=$((SYNC_TCP_FAILED + n)); fi
	done
}
# sync_servers tcp7000|tcp7001|udp: how the live sessions were spread.
sync_servers() {
	local l
	while read -r l; do [[ $l == servers:* ]] && l=${l#servers:} && echo "${l# }"; done </tmp/sync$SX-$1.out
	return 0
}

# sync_scenario dr|nat VARIANT: one failover on this variant's network.
# VARIANT is MASTER-BACKUP (each rvs or ipvs: dir1's and dir2's
# implementation, sync daemons on), or control-IMPL[-IMPL] (no daemons:
# the sessions must break).
sync_scenario() {
	local mode=$1 v=$2 m b sync=1 total=$((2 * SYNC_SESSIONS)) err=
	SYNC_SEEN=
	local D1=dir1$SX D2=dir2$SX
	SYNC_T0=${EPOCHREALTIME/[.,]/}
	case $v in
	control-*) sync=0; v=${v#control-} ;;
	esac
	m=${v%%-*}; b=${v#*-}
	director_impl $D1 $m; director_impl $D2 $b
	sync_topo $mode
	sync_say "network up"
	if [ $sync = 1 ]; then
		adm $D1 --start-daemon master --mcast-interface eth0 --syncid 5 ||
			fail "dir1 ($m): --start-daemon master failed"
		adm $D2 --start-daemon backup --mcast-interface eth0 --syncid 5 ||
			fail "dir2 ($b): --start-daemon backup failed"
		echo "dir1 ($m): $(adm $D1 -L -n --daemon)"
		echo "dir2 ($b): $(adm $D2 -L -n --daemon)"
	fi
	sync_services $D1 $mode; sync_services $D2 $mode
	sync_takeover $D1 $mode
	sync_say "directors configured; dir1 ($m) holds the VIP"
	sync_sessions_start
	sync_say "sessions and flows open"
	local open=${EPOCHREALTIME/[.,]/} left
	# The backup has the entries 2-3 s after the sessions' third packets
	# (ip_vs sends a partly filled buffer once it is 2 s old); a little
	# more under emulation. The failover comes SYNC_WAIT s after the
	# sessions opened, or once the backup has them all.
	if [ $sync = 1 ]; then
		if poll_for $((SYNC_WAIT + 10 * SYNC_SLOW)) sync_same_entries; then
			SYNC_SEEN=$POLL_TOOK
			sync_say "ok: dir2 ($b) lists the same entries as dir1 ($m) $POLL_TOOK after the sessions opened: $(sync_count "$SYNC_E2")"
			sync_say "ok: and counts them on the same real servers:"
			echo "$SYNC_S2"
		else
			sync_say "FAIL: dir2 ($b) does not list dir1's ($m) entries, or counts them otherwise"
			echo "dir1: $(sync_count "$SYNC_E1")"; echo "dir2: $(sync_count "$SYNC_E2")"
			echo "entries, dir1 < > dir2:"
			diff <(echo "$SYNC_E1") <(echo "$SYNC_E2") | head -20 || true
			echo "services, dir1 < > dir2:"
			diff <(echo "$SYNC_S1") <(echo "$SYNC_S2") || true
			err="dir2 does not list dir1's connections or counts them otherwise"
		fi
	fi
	left=$((SYNC_WAIT * 1000000 - (${EPOCHREALTIME/[.,]/} - open)))
	[ $left -le 0 ] || nap $((left / 1000000)).$(printf %06d $((left % 1000000)))
	if [ $sync = 0 ]; then
		sync_say "dir1: $(sync_count "$(sync_entries $D1)"); dir2: $(sync_count "$(sync_entries $D2)")"
	fi
	# dir1 dies; dir2 takes over as keepalived would: the VIP, the
	# gateway; then its sync daemon turns master.
	sync_say "failover: dir1's links down"
	if [ "$mode" = dr ]; then ip -n $D1 link set eth0 down; else ip -n $D1 -batch - <<<$'link set eth0 down\nlink set eth1 down'; fi
	sync_takeover $D2 $mode
	sync_flush_neigh $mode
	sync_say "failover: dir2 holds the VIP$([ "$mode" = dr ] || echo " and the gateway"); neighbours flushed"
	if [ $sync = 1 ]; then
		adm $D2 --stop-daemon backup || fail "dir2 ($b): --stop-daemon backup failed"
		adm $D2 --start-daemon master --mcast-interface eth0 --syncid 5 ||
			fail "dir2 ($b): --start-daemon master failed"
		sync_say "dir2: $(adm $D2 -L -n --daemon)"
	fi
	nap $SYNC_AFTER
	sync_sessions_stop
	sync_say "sessions stopped"
	adm $D2 -L -n
	local fig="$((total - SYNC_TCP_FAILED))/$total TCP sessions and"
	fig+=" $((SYNC_UDP - SYNC_UDP_FAILED))/$SYNC_UDP UDP flows survived on their real server"
	fig+=" (tcp 7000: $(sync_servers tcp7000); tcp 7001: $(sync_servers tcp7001); udp: $(sync_servers udp))"
	[ -z "$SYNC_SEEN" ] || fig+="; dir2 had every entry $SYNC_SEEN after they opened"
	figure "sync-$mode-$2" "$fig"
	if [ $sync = 1 ]; then
		[ "$SYNC_TCP_FAILED" = 0 ] || err="${err:+$err; }$SYNC_TCP_FAILED of $total TCP sessions broke"
		[ "$SYNC_UDP_FAILED" = 0 ] || err="${err:+$err; }$SYNC_UDP_FAILED of $SYNC_UDP UDP flows broke or moved"
		[ -z "$err" ] || fail "$mode $2: $err"
		echo "ok: $mode $2: every session and flow survived on its real server"
	else
		[ "$SYNC_TCP_FAILED" -gt 0 ] || fail "$mode $2: without sync no session broke (the control controls nothing)"
		echo "ok: $mode $2: without sync $SYNC_TCP_FAILED of $total TCP sessions broke"
	fi
}

# sync_variants "MODES" "VARIANTS" [SCENARIO]: SCENARIO (default
# sync_scenario) of every variant in every mode (lists
# separated by spaces or commas), SYNC_JOBS (default 4; 2 on the debug
# kernel) at a time, each on
# its own network and in its own subshell, so that one failing does not
# hide the others. Prints each one's log as it ends; fails at the end
# naming those that failed.
sync_variants() {
	local mode v k=0 pid rc failed= running=0 jobs=${SYNC_JOBS:-$((SYNC_SLOW > 1 ? 2 : 4))}
	local -A name=() start=() log=()
	rm -f /tmp/sync_*
	# Killed (the runner's time limit) or failing: the variants still
	# running stop too, and clean up after themselves.
	trap 'kill "${SYNC_JOB_PIDS[@]}" 2>/dev/null || true; wait' EXIT
	for mode in ${1//,/ }; do
		for v in ${2//,/ }; do
			if [ $running -ge $jobs ]; then sync_reap; fi
			k=$((k + 1))
			(
				SX=_$k
				trap 'kill "${SYNC_PIDS[@]}" 2>/dev/null || true; sync_topo_del' EXIT
				set -e
				${3:-sync_scenario} $mode $v
			) >/tmp/sync_$k.log 2>&1 &
			name[$!]="$mode $v" start[$!]=$EPOCHSECONDS log[$!]=/tmp/sync_$k.log
			SYNC_JOB_PIDS+=($!)
			running=$((running + 1))
		done
	done
	while [ $running -gt 0 ]; do sync_reap; done
	trap - EXIT
	[ $k -gt 0 ] || echo "no variant selected"
	[ -z "$failed" ] || fail "failed variants:$failed"
}
SYNC_JOB_PIDS=()
# (sync_variants' helper) waits for one variant, prints its log.
sync_reap() {
	local pid rc=0
	wait -n -p pid || rc=$?
	running=$((running - 1))
	echo "=== ${name[$pid]} ($((EPOCHSECONDS - ${start[$pid]}))s, exit $rc)"
	cat ${log[$pid]} || true
	if [ $rc = 0 ]; then echo "=== ok: ${name[$pid]}"; else echo "=== FAIL: ${name[$pid]}"; failed="$failed ${name[$pid]/ /:}"; fi
}
