# timeout: 300
# LVS-NAT as in seeds 001/002: rr alternates between real servers, wrr 3:1
# splits 400 requests 300/100, a real server on port 8080 behind VIP port
# 80 works, and the listings show the connections and counters.
. "$RVS_TOP/tests/vm/lib.sh"
load_rvs
topo_nat 2
dadm -A -t 192.168.10.100:80 -s rr
dadm -a -t 192.168.10.100:80 -r 10.0.0.7 -m
dadm -a -t 192.168.10.100:80 -r 10.0.0.17 -m
got=""
for i in 1 2 3 4 5 6; do got="$got $(cget http://192.168.10.100/)"; done
echo "rr answers:$got"
case "$got" in
" rs2 rs1 rs2 rs1 rs2 rs1"|" rs1 rs2 rs1 rs2 rs1 rs2") echo "ok: rr alternates" ;;
*) fail "rr does not alternate: $got" ;;
esac
dadm -L -n -c | tee /tmp/conns
expect_contains "connection listing header" "IPVS connection entries" "$(cat /tmp/conns)"
expect_contains "a TCP connection to rs1" "10.0.0.7:80" "$(cat /tmp/conns)"
dadm -L -n --stats | tee /tmp/stats
conns=$(awk '/^TCP/ {print $3}' /tmp/stats)
expect_eq "service counted 6 connections" 6 "$conns"
# A big transfer arrives intact through NAT.
in_ns client curl -s --max-time 60 -o /tmp/blob.got http://192.168.10.100/blob
expect_eq "1 MB transfer intact" "$(md5sum </tmp/blob.src)" "$(md5sum </tmp/blob.got)"

# wrr 3:1 over 400 requests: exactly 300/100.
dadm -C
dadm -A -t 192.168.10.100:80 -s wrr
dadm -a -t 192.168.10.100:80 -r 10.0.0.7 -m -w 3
dadm -a -t 192.168.10.100:80 -r 10.0.0.17 -m -w 1
# One curl process, 400 URLs: a new connection each (busybox httpd closes
# them), without 400 process starts under emulation.
cget $(for i in $(seq 1 400); do printf 'http://192.168.10.100/ '; done) | sort | uniq -c | tee /tmp/split
expect_eq "wrr 3:1 split" "    300 rs1
    100 rs2" "$(cat /tmp/split)"

# NAT to a different port: VIP:80 -> 10.0.0.7:8080.
http_server rs1 rs1-8080 8080
dadm -C
dadm -A -t 192.168.10.100:80 -s rr
dadm -a -t 192.168.10.100:80 -r 10.0.0.7:8080 -m
expect_eq "port 80 -> 8080" "rs1-8080" "$(cget http://192.168.10.100/)"

# Routes to real servers are cached per CPU (IPVS's dest_dst); a routing
# change still takes effect at the next packet.
ip -n director route add unreachable 10.0.0.7/32
check "no route to the real server: no answer" [ -z "$(cget http://192.168.10.100/ || true)" ]
ip -n director route del unreachable 10.0.0.7/32
expect_eq "the route is back: answered again" "rs1-8080" "$(cget http://192.168.10.100/)"
