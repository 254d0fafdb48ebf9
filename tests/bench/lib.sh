# Helpers for the benchmarks in the test VM (sourced by data.sh and
# profile.sh). One routed topology serves every figure:
#
#   client 192.168.10.6 --- d0: director :br0 10.0.0.8 --- rs1 10.0.0.7
#                               192.168.10.100 (NAT VIP)  +- rs2 10.0.0.17
#                               192.168.10.200 (DR VIP)   +- rs3 10.0.0.27
#
# The real servers' gateway is the director, so NAT replies return through
# it, and plain routing (client straight to a real server's address) takes
# the same path with no balancer. DR real servers hold the DR VIP on lo
# (ARP quiet) and answer from it through the director, which routes the
# replies back (accept_local: their source is one of its own addresses).
. "$RVS_TOP/tests/vm/lib.sh"
export PATH=$RVS_TOP/target/release:$PATH
VIP_NAT=192.168.10.100 VIP_DR=192.168.10.200
BRS=(10.0.0.7 10.0.0.17 10.0.0.27)
NRS=${NRS:-3}
# Every load generator and server on vCPU 0: under TCG a vCPU that halts
# waits for the host to wake its thread, and with other guests sharing the
# host that wait, not the packet path, would set the pace. On one vCPU the
# figures measure CPU cost. BENCH_PIN= (empty) runs unpinned.
PIN=${BENCH_PIN-taskset -c 0}

bench_topo() {
	local i ns
	sysctl -qw net.core.netdev_max_backlog=100000
	new_netns client; new_netns director
	veth_pair client eth0 director d0
	ip -n client addr add 192.168.10.6/24 dev eth0
	ip -n client route add 10.0.0.0/24 via $VIP_NAT
	ip netns exec client sysctl -qw net.ipv4.ip_local_port_range="1024 65535"
	ip -n director addr add $VIP_NAT/24 dev d0
	ip -n director addr add $VIP_DR/32 dev d0
	ip -n director link add br0 type bridge; ip -n director link set br0 up
	ip -n director addr add 10.0.0.8/24 dev br0
	# Where the table-filling service's "real servers" 10.0.1.x are: a
	# dummy device that drops what it is given, so that filling the table
	# costs nothing past the balancer.
	ip -n director link add fill0 type dummy; ip -n director link set fill0 up
	ip -n director route add 10.0.1.0/24 dev fill0
	ip netns exec director sysctl -qw net.ipv4.ip_forward=1 \
		net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.d0.rp_filter=0 \
		net.ipv4.conf.br0.rp_filter=0 net.ipv4.conf.all.accept_local=1 \
		net.ipv4.conf.br0.accept_local=1
	for i in $(seq 1 "$NRS"); do
		ns=rs$i
		new_netns $ns
		veth_pair director $ns-port $ns eth0
		ip -n director link set $ns-port master br0
		ip -n $ns addr add ${BRS[$((i - 1))]}/24 dev eth0
		ip -n $ns route add default via 10.0.0.8
		ip -n $ns addr add $VIP_DR/32 dev lo
		ip netns exec $ns sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 \
			net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2
		in_ns $ns $PIN rvsbench serve 80 --threads 4 &
	done
	sleep 0.5
	in_ns client ping -c1 -W2 $VIP_NAT >/dev/null
	for i in $(seq 1 "$NRS"); do
		in_ns director ping -c1 -W2 ${BRS[$((i - 1))]} >/dev/null
		in_ns client ping -c1 -W2 ${BRS[$((i - 1))]} >/dev/null
	done
}

# impl_load IMPL [CONN_TAB_BITS]: rvs, ipvs or plain (nothing loaded).
# Sets ADM to the admin tool.
impl_load() {
	case $1 in
	rvs) insmod "$RVS_KO" ${2:+conn_tab_bits=$2}; ADM=rvsadm ;;
	ipvs) modprobe ip_vs ${2:+conn_tab_bits=$2}; modprobe ip_vs_rr; ADM=ipvsadm ;;
	plain) ADM= ;;
	esac
}
impl_unload() {
	case $1 in
	rvs) in_ns director rvsadm -C; rmmod rvs ;;
	ipvs) in_ns director ipvsadm -C; rmmod ip_vs_rr ip_vs ;;
	esac
}
adm() { in_ns director "$ADM" "$@"; }

# services: the NAT and DR VIPs, TCP 80 and UDP 5000, rr over every real
# server; and UDP 6000 (NAT to 10.0.1.x on fill0) for filling the table.
services() {
	local vip fwd p proto port i
	for vip in $VIP_NAT $VIP_DR; do
		fwd=-m; [ $vip = $VIP_DR ] && fwd=-g
		for p in "-t 80" "-u 5000"; do
			proto=${p% *} port=${p#* }
			adm -A $proto $vip:$port -s rr
			for i in $(seq 1 "$NRS"); do adm -a $proto $vip:$port -r ${BRS[$((i - 1))]}:$port $fwd; done
		done
	done
	adm -A -u $VIP_NAT:6000 -s rr
	for i in $(seq 1 "$NRS"); do adm -a -u $VIP_NAT:6000 -r 10.0.1.$i:6000 -m; done
}

# targets IMPL VIP PORT: where the client sends: the VIP, or for plain
# routing every real server's address in turn.
targets() {
	if [ "$1" = plain ]; then
		local i t=
		for i in $(seq 1 "$NRS"); do t=$t${t:+,}${BRS[$((i - 1))]}:$3; done
		echo "$t"
	else
		echo "$2:$3"
	fi
}

# jget FIELD: a number field from the one-line JSON on stdin.
jget() { sed -nE "s/.*\"$1\":([0-9.]+).*/\1/p"; }

# calc EXPR [DECIMALS]: floating-point arithmetic, JSON-friendly output
calc() { awk "BEGIN { printf \"%.${2:-1}f\", $1 }"; }
