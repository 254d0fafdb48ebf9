# timeout: 200
# IPv6 direct routing (VIP on the real servers' lo) and tunnelling
# (ip6ip6 to the real servers' ip6tnl0), on the bridged LAN.
. "$RVS_TOP/tests/vm/lib.sh"
load_rvs
topo_lan 2
VIP6=2001:db8:20::100
for ns in client director rs1 rs2; do in_ns $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=0; done
ip -n client addr add 2001:db8:20::2/64 dev eth0 nodad
ip -n director addr add 2001:db8:20::10/64 dev eth0 nodad
# The VIP is deprecated (preferred_lft 0) so that the director never picks
# it as a source address: a tunnelled packet from the VIP would be refused
# by real servers that hold the VIP themselves (ip6_tnl_rcv_ctl).
ip -n director addr add $VIP6/128 dev eth0 nodad preferred_lft 0
ip -n rs1 addr add 2001:db8:20::21/64 dev eth0 nodad
ip -n rs2 addr add 2001:db8:20::22/64 dev eth0 nodad
for i in 1 2; do http_server rs$i rs$i 80; done
in_ns client ping -6 -c1 -W2 $VIP6 >/dev/null
for i in 1 2; do in_ns director ping -6 -c1 -W2 2001:db8:20::2$i >/dev/null; done

# DR: the VIP on lo of each real server.
for i in 1 2; do ip -n rs$i addr add $VIP6/128 dev lo; done
dadm -A -t [$VIP6]:80 -s rr
dadm -a -t [$VIP6]:80 -r [2001:db8:20::21]:80 -g
dadm -a -t [$VIP6]:80 -r [2001:db8:20::22]:80 -g
got=$(for i in 1 2 3 4; do cget -g "http://[$VIP6]/"; done | sort | uniq -c)
expect_eq "IPv6 DR reaches both" "      2 rs1
      2 rs2" "$got"

# TUN: the same servers take ip6ip6 on the fallback tunnel ip6tnl0.
dadm -C
for i in 1 2; do
	ip -n rs$i addr del $VIP6/128 dev lo
	ip -n rs$i link set ip6tnl0 up
	ip -n rs$i addr add $VIP6/128 dev ip6tnl0 nodad
done
dadm -A -t [$VIP6]:80 -s rr
dadm -a -t [$VIP6]:80 -r [2001:db8:20::21]:80 -i
dadm -a -t [$VIP6]:80 -r [2001:db8:20::22]:80 -i
got=$(for i in 1 2 3 4; do cget -g "http://[$VIP6]/"; done | sort | uniq -c)
expect_eq "IPv6 TUN reaches both" "      2 rs1
      2 rs2" "$got"
in_ns client curl -s -g --max-time 60 -o /tmp/blob6.got "http://[$VIP6]/blob"
expect_eq "1 MB transfer through ip6ip6" "$(md5sum </tmp/blob.src)" "$(md5sum </tmp/blob6.got)"

# A routing change takes effect at the next packet (IPv6 routes are looked
# up per packet; 200 and 210 check the cached IPv4 ones).
ip -n director -6 route add unreachable 2001:db8:20::21/128
ip -n director -6 route add unreachable 2001:db8:20::22/128
check "no IPv6 route to the real servers: no answer" [ -z "$(cget -g "http://[$VIP6]/" || true)" ]
ip -n director -6 route del unreachable 2001:db8:20::21/128
ip -n director -6 route del unreachable 2001:db8:20::22/128
[ -n "$(cget -g "http://[$VIP6]/")" ] || fail "no IPv6 answer once the routes are back"
echo "ok: IPv6 answered again once the routes are back"
