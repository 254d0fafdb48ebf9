# timeout: 200
# IPv6 NAT, and clients on the director itself (LOCAL_OUT).
. "$RVS_TOP/tests/vm/lib.sh"
load_rvs
topo_nat 2
for ns in client director rs1 rs2; do in_ns $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=0; done
ip -n client addr add 2001:db8:10::6/64 dev eth0 nodad
ip -n director addr add 2001:db8:10::100/64 dev d0 nodad
ip -n director addr add 2001:db8::8/64 dev br0 nodad
ip -n rs1 addr add 2001:db8::7/64 dev eth0 nodad
ip -n rs2 addr add 2001:db8::17/64 dev eth0 nodad
ip -n rs1 -6 route add default via 2001:db8::8
ip -n rs2 -6 route add default via 2001:db8::8
in_ns director sysctl -qw net.ipv6.conf.all.forwarding=1
dadm -A -t [2001:db8:10::100]:80 -s rr
dadm -a -t [2001:db8:10::100]:80 -r [2001:db8::7]:80 -m
dadm -a -t [2001:db8:10::100]:80 -r [2001:db8::17]:80 -m
sleep 1
got=$(for i in 1 2 3 4; do cget -g "http://[2001:db8:10::100]/"; done | sort | uniq -c)
expect_eq "IPv6 NAT alternates" "      2 rs1
      2 rs2" "$got"
dadm -L -n -c | grep -q '\[2001:db8:10::6\]' && echo "ok: IPv6 connection listed" || fail "no IPv6 connection listed"

# A client on the director reaching the VIP (LOCAL_OUT hooks).
dadm -A -t 192.168.10.100:80 -s rr
dadm -a -t 192.168.10.100:80 -r 10.0.0.7 -m
dadm -a -t 192.168.10.100:80 -r 10.0.0.17 -m
got=$(for i in 1 2 3 4; do in_ns director curl -s --max-time 5 http://192.168.10.100/; done | sort | uniq -c)
expect_eq "local client through the VIP" "      2 rs1
      2 rs2" "$got"
