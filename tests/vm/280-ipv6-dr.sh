# timeout: 200
# IPv6 direct routing (VIP on the real servers' lo), on the bridged LAN.
# (ip6ip6 tunnelling is implemented but not yet shown to work end to end:
# the real servers' ip6tnl0 does not take the packets in this setup.)
. "$RVS_TOP/tests/vm/lib.sh"
load_rvs
topo_lan 2
VIP6=2001:db8:20::100
for ns in client director rs1 rs2; do ip netns exec $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=0; done
ip -n client addr add 2001:db8:20::2/64 dev eth0 nodad
ip -n director addr add 2001:db8:20::10/64 dev eth0 nodad
ip -n director addr add $VIP6/64 dev eth0 nodad
ip -n rs1 addr add 2001:db8:20::21/64 dev eth0 nodad
ip -n rs2 addr add 2001:db8:20::22/64 dev eth0 nodad
for i in 1 2; do http_server rs$i rs$i 80; done
ip netns exec client ping -6 -c1 -W2 $VIP6 >/dev/null
for i in 1 2; do ip netns exec director ping -6 -c1 -W2 2001:db8:20::2$i >/dev/null; done

# DR: the VIP on lo of each real server.
for i in 1 2; do ip -n rs$i addr add $VIP6/128 dev lo; done
dadm -A -t [$VIP6]:80 -s rr
dadm -a -t [$VIP6]:80 -r [2001:db8:20::21]:80 -g
dadm -a -t [$VIP6]:80 -r [2001:db8:20::22]:80 -g
got=$(for i in 1 2 3 4; do cget -g "http://[$VIP6]/"; done | sort | uniq -c)
expect_eq "IPv6 DR reaches both" "      2 rs1
      2 rs2" "$got"
