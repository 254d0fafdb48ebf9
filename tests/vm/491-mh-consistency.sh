# timeout: 300
# The scale-out cross-checks (Documentation/scale-out.md): directors that
# share flows through ECMP must each send a flow to the same real server.
# Four directors with the same services to ten real servers (DR, UDP):
# dir1 the kernel's ip_vs and dir2 rvs with the servers added in one
# order (A), dir3 ip_vs and dir4 rvs with them added in another (B). A
# client on the LAN sends the same flows (fixed source addresses and
# ports) through each director in turn and records which server answers.
#
# - mh, mh with mh-port, mh with mh-fallback (one server overloaded by its
#   connection threshold, so flows fall back) and sh: rvs sends every flow
#   where ip_vs does, in both orders (a fleet may mix them);
# - the orders: the share of flows that another order sends elsewhere is
#   a figure (IPVS's mh and sh fill their tables in the servers' list
#   order, so directors must add servers in one order);
# - a real-server change: one of the ten removed on every director moves
#   that server's flows and few others with mh, the same flows for rvs and
#   ip_vs; sh's share is the figure to compare.
. "$RVS_TOP/tests/vm/lib.sh"
VIPC=192.0.2.10
NFLOWS=$(long_or 150 150 60)
ORDER_A=(1 2 3 4 5 6 7 8 9 10)
ORDER_B=(10 3 7 1 5 9 2 8 4 6)
# service PORT: its scheduler and flags (one per UDP port).
declare -A SCHED=([7000]="-s mh" [7001]="-s mh -b mh-port" [7002]="-s mh -b mh-fallback" [7003]="-s sh")
OVERLOADED=3 # the server with an upper connection threshold of 1 on 7002

topo() {
	local i ns all=(cli dir1 dir2 dir3 dir4 rs{1..10})
	{
		echo "netns add lan"
		for ns in "${all[@]}"; do echo "netns add $ns"; done
		for ns in "${all[@]}"; do echo "link add p-$ns netns lan type veth peer name eth0 netns $ns"; done
	} | ip -batch -
	{
		echo "link set lo up"; echo "link add br0 type bridge"; echo "link set br0 up"
		for ns in "${all[@]}"; do echo "link set p-$ns master br0 up"; done
	} | ip -n lan -batch -
	{
		echo "link set lo up"; echo "link set eth0 up"; echo "addr add 10.20.0.2/16 dev eth0"
		for ((i = 1; i <= NFLOWS; i++)); do echo "addr add 10.20.$((1 + (i - 1) / 250)).$(((i - 1) % 250 + 1))/16 dev eth0"; done
	} | ip -n cli -batch -
	for i in 1 2 3 4; do director_vip dir$i 10.20.0.1$i/16 $VIPC; done
	for i in {1..10}; do
		ip -n rs$i -batch - <<-EOF
			link set lo up
			link set eth0 up
			addr add 10.20.0.$((20 + i))/16 dev eth0
			addr add $VIPC/32 dev lo
		EOF
	done
	for i in {1..10}; do
		in_ns rs$i sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 \
			net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2
	done
	SYNC_SLOW=2 tagecho_start /tmp/mh-rs.out "" 10 --udp-bind $VIPC 7000 7001 7002 7003
}

# rules ORDER...: the four services, servers added in the order given;
# server $OVERLOADED on 7002 takes one connection at most.
rules() {
	local port i x
	for port in 7000 7001 7002 7003; do
		echo "-A -u $VIPC:$port ${SCHED[$port]}"
		for i in "$@"; do
			x=; [ $port != 7002 ] || [ $i != $OVERLOADED ] || x=" -x 1"
			echo "-a -u $VIPC:$port -r 10.20.0.$((20 + i)) -g -w 1$x"
		done
	done
}

# (The files mhprobe.py writes are read in bash, once each: a process per
# question would cost more than the probing.)
# names FILE: the server of each flow in FILE (the second word of its
# lines, "-" for none), in array NAMES.
names() {
	mapfile -t NAMES <"$1"
	NAMES=("${NAMES[@]#* }")
}
# names_text FILE: those, one a line, in NAMES_TEXT (as awk '{print $2}').
names_text() {
	names "$1"
	printf -v NAMES_TEXT '%s\n' "${NAMES[@]}"
	NAMES_TEXT=${NAMES_TEXT%$'\n'}
}
# count_of FILE NAME: how many flows FILE sends to NAME, in COUNT.
count_of() {
	local n
	names "$1"
	COUNT=0
	for n in "${NAMES[@]}"; do [ "$n" != "$2" ] || COUNT=$((COUNT + 1)); done
}
# probe JOB...: each JOB (D:PORT:PORT_BASE[:serial]) the flows through dir
# D to PORT from ports PORT_BASE+i, to file /tmp/mh-D-PORT-PORT_BASE; every
# flow must be answered.
probe() {
	local j d p b
	in_ns cli python3 -S "$RVS_TOP/tests/vm/mhprobe.py" --timeout 3 10.20.1. "$NFLOWS" $VIPC 10.20.0.1 /tmp/mh "$@"
	for j in "$@"; do
		IFS=: read -r d p b _ <<<"$j"
		count_of /tmp/mh-$d-$p-$b -
		[ $COUNT = 0 ] || fail "$j: flows without an answer: $COUNT"
	done
}
# differ FILE FILE: how many flows the two files send to different
# servers, in DIFFER.
differ() {
	local a b i
	names "$1"; a=("${NAMES[@]}")
	names "$2"; b=("${NAMES[@]}")
	DIFFER=0
	for ((i = 0; i < (${#a[@]} > ${#b[@]} ? ${#a[@]} : ${#b[@]}); i++)); do
		[ "${a[i]-}" = "${b[i]-}" ] || DIFFER=$((DIFFER + 1))
	done
}
# servers FILE: how the flows spread, "rs1=N rs2=N ...", in SERVERS.
servers() {
	local n i
	local -A c=()
	names "$1"
	for n in "${NAMES[@]}"; do c[$n]=$((${c[$n]-0} + 1)); done
	SERVERS=
	for i in {1..10}; do
		[ -z "${c[rs$i]-}" ] || SERVERS+="rs$i=${c[rs$i]} "
		unset "c[rs$i]"
	done
	for n in "${!c[@]}"; do SERVERS+="$n=${c[$n]} "; done
}
# pct N: N as a percentage of the flows, in PCT.
pct() { PCT="$(($1 * 1000 / NFLOWS / 10)).$(($1 * 1000 / NFLOWS % 10))%"; }

module_loaded rvs || load_rvs
modprobe -a ip_vs ip_vs_rr ip_vs_mh ip_vs_sh
topo
director_impl dir1 ipvs; director_impl dir2 rvs; director_impl dir3 ipvs; director_impl dir4 rvs
rules "${ORDER_A[@]}" | adm dir1 -R
rules "${ORDER_A[@]}" | adm dir2 -R
rules "${ORDER_B[@]}" | adm dir3 -R
rules "${ORDER_B[@]}" | adm dir4 -R
# list D: dirD's services and real servers, -L -n without its first line
# (sync_services_list, with one process less), in LIST[D].
declare -A LIST=()
list() {
	local l
	l=$(adm dir$1 -L -n)
	if [[ $l == *$'\n'* ]]; then LIST[$1]=${l#*$'\n'}; else LIST[$1]=; fi
}
for d in 1 2 3 4; do list $d; done
expect_eq "rvs lists order A's services as ip_vs does" "${LIST[1]}" "${LIST[2]}"
expect_eq "rvs lists order B's services as ip_vs does" "${LIST[3]}" "${LIST[4]}"

probe {1,2,3,4}:{7000,7001}:40000 {1,2,3,4}:7002:40000:serial {1,2,3,4}:7003:40000
for port in 7000 7001 7002 7003; do
	name="${SCHED[$port]#-s }"
	slurp f1 /tmp/mh-1-$port-40000; slurp f2 /tmp/mh-2-$port-40000
	slurp f3 /tmp/mh-3-$port-40000; slurp f4 /tmp/mh-4-$port-40000
	expect_eq "$name, order A: rvs sends every flow where ip_vs does" "$f1" "$f2"
	expect_eq "$name, order B: rvs sends every flow where ip_vs does" "$f3" "$f4"
	differ /tmp/mh-1-$port-40000 /tmp/mh-3-$port-40000; n=$DIFFER
	pct $n; servers /tmp/mh-2-$port-40000
	figure "order-$port" "$name: servers added in another order send $n of $NFLOWS flows ($PCT) elsewhere," \
		"rvs and ip_vs alike (order A: $SERVERS)"
done
# With the threshold reached, rs3 kept its one flow and the flows the
# table gives it fell back to other servers (every flow was answered).
# Which flows those were: the same table without the threshold, on rvs,
# with new flows from the same addresses.
count_of /tmp/mh-2-7002-40000 rs$OVERLOADED; over=$COUNT
[ "$over" = 1 ] || fail "mh-fallback: rs$OVERLOADED, with an upper threshold of 1, took $over flows"
adm dir2 -e -u $VIPC:7002 -r 10.20.0.$((20 + OVERLOADED)) -g -w 1 -x 0
probe 2:7002:42000
count_of /tmp/mh-2-7002-42000 rs$OVERLOADED; n=$COUNT
figure mh-fallback "rs$OVERLOADED, its threshold reached, kept 1 flow; $((n - 1)) more that the table gives it fell back to other servers"
[ "$n" -ge 2 ] || fail "mh-fallback: the table gives rs$OVERLOADED $n flows, so none fell back"

# A real server leaves every director; new flows from the same addresses
# (new source ports: the old flows keep their entries) to mh and sh.
for d in 1 2 3 4; do printf -- '-d -u %s -r 10.20.0.30\n' $VIPC:7000 $VIPC:7003 | adm dir$d -R; done
probe {1,2,3,4}:{7000,7003}:41000
for port in 7000 7003; do
	name="${SCHED[$port]#-s }"
	names_text /tmp/mh-1-$port-41000; f1=$NAMES_TEXT; names_text /tmp/mh-2-$port-41000; f2=$NAMES_TEXT
	names_text /tmp/mh-3-$port-41000; f3=$NAMES_TEXT; names_text /tmp/mh-4-$port-41000; f4=$NAMES_TEXT
	expect_eq "$name, order A, rs10 gone: rvs sends every flow where ip_vs does" "$f1" "$f2"
	expect_eq "$name, order B, rs10 gone: rvs sends every flow where ip_vs does" "$f3" "$f4"
	for d in 2 4; do
		count_of /tmp/mh-$d-$port-40000 rs10; had=$COUNT
		differ /tmp/mh-$d-$port-40000 /tmp/mh-$d-$port-41000; moved=$DIFFER
		order=A; [ $d = 2 ] || order=B
		pct $moved; m=$PCT; pct $had
		figure "remove-$port-$order" "$name, order $order: rs10 gone, $moved of $NFLOWS flows ($m) moved;" \
			"rs10 had $had ($PCT)"
		if [ $port = 7000 ]; then
			[ $((moved - had)) -le $((NFLOWS / 20)) ] ||
				fail "mh, order $order: removing rs10 moved $((moved - had)) flows that were not on it"
		fi
	done
done
ns_gone lan cli dir{1..4} rs{1..10}
