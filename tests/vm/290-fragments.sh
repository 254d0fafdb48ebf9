# timeout: 240
# Fragmented datagrams through rvs: 4000-byte UDP datagrams in both
# directions, IPv4 and IPv6, through NAT (replies fragmented by the real
# servers reach the director at FORWARD) and DR. Fragments must be
# gathered before the connection lookup, as only the first has ports.
. "$RVS_TOP/tests/vm/lib.sh"
ECHO="python3 -S $RVS_TOP/tests/vm/udpecho.py"
load_rvs
topo_nat 2
for ns in client director rs1 rs2; do in_ns $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=0; done
ip -n client addr add 2001:db8:10::6/64 dev eth0 nodad
ip -n director addr add 2001:db8:10::100/64 dev d0 nodad
ip -n director addr add 2001:db8::8/64 dev br0 nodad
ip -n rs1 addr add 2001:db8::7/64 dev eth0 nodad
ip -n rs2 addr add 2001:db8::17/64 dev eth0 nodad
for i in 1 2; do ip -n rs$i -6 route add default via 2001:db8::8; done
in_ns director sysctl -qw net.ipv6.conf.all.forwarding=1
for i in 1 2; do
	nsrun rs$i $ECHO serve 0.0.0.0 7000 &
	nsrun rs$i $ECHO serve :: 7000 &
done
for i in 1 2; do listening rs$i u 7000; done

dadm -A -u 192.168.10.100:7000 -s rr
dadm -a -u 192.168.10.100:7000 -r 10.0.0.7 -m
dadm -a -u 192.168.10.100:7000 -r 10.0.0.17 -m
got=$(in_ns client $ECHO send 192.168.10.100 7000 4000 10)
expect_eq "IPv4 NAT: 10 fragmented datagrams echoed intact" 10 "$got"
got=$(in_ns client $ECHO send 192.168.10.100 7000 200 5)
expect_eq "IPv4 NAT: small datagrams still fine" 5 "$got"

dadm -A -u [2001:db8:10::100]:7000 -s rr
dadm -a -u [2001:db8:10::100]:7000 -r [2001:db8::7]:7000 -m
dadm -a -u [2001:db8:10::100]:7000 -r [2001:db8::17]:7000 -m
got=$(in_ns client $ECHO send 2001:db8:10::100 7000 4000 10)
expect_eq "IPv6 NAT: 10 fragmented datagrams echoed intact" 10 "$got"
# Both servers took part (rr over two client sockets' connections).
in_ns client $ECHO send 2001:db8:10::100 7000 4000 1 >/dev/null
n=$(dadm -L -n -c | grep -c '2001:db8::\(7\|17\)\]:7000')
expect_eq "IPv6 NAT: both servers have connections" 2 "$n"

# The counters saw whole datagrams, not fragments: 10 in and 10 out for
# the first IPv4 client socket's 4000-byte exchange, plus the 5 small.
stats=$(dadm -L -n --stats -u 192.168.10.100:7000 | awk '/^UDP/ {print $4, $5}')
expect_eq "IPv4 NAT: packets counted once per datagram" "15 15" "$stats"
dadm -C

# DR: fragments from the client reach LOCAL_IN reassembled; the director
# sends the whole datagram on, fragmented again.
pkill -f udpecho.py; ip netns del client; ip netns del director
for i in 1 2; do ip netns del rs$i; done
topo_lan 2
for i in 1 2; do
	rs_dr $i
	nsrun rs$i $ECHO serve $VIP 7000 &
done
for i in 1 2; do listening rs$i u 7000; done
dadm -A -u $VIP:7000 -s rr
for i in 1 2; do dadm -a -u $VIP:7000 -r ${LAN_RS[$((i - 1))]} -g; done
got=$(in_ns client $ECHO send $VIP 7000 4000 10)
expect_eq "IPv4 DR: 10 fragmented datagrams echoed intact" 10 "$got"
pkill -f udpecho.py
