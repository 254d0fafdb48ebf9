# timeout: 300
# LVS-DR as in seeds 000/003: real servers hold the VIP on lo with
# arp_ignore=1/arp_announce=2 and answer the client directly; wrr with
# persistence keeps a client on one server, and once the persistence and
# connection entries expire the client is rebalanced.
. "$RVS_TOP/tests/vm/lib.sh"
load_rvs
topo_lan 2
for i in 1 2; do rs_dr $i; http_server rs$i rs$i 80; done
dadm --set 30 6 60
dadm -A -t $VIP:80 -s wrr -p 20
dadm -a -t $VIP:80 -r 192.168.20.21 -g -w 1
dadm -a -t $VIP:80 -r 192.168.20.22 -g -w 1
first=$(cget http://$VIP/)
[ -n "$first" ] || fail "no answer through DR"
for i in 1 2 3 4 5; do expect_eq "persistent request $i" "$first" "$(cget http://$VIP/)"; done
dadm -L -n | tee /tmp/l
expect_contains "listing shows persistence" "wrr persistent 20" "$(cat /tmp/l)"
expect_contains "Route forwarding" "Route" "$(cat /tmp/l)"
dadm -L -n -c | tee /tmp/c
expect_contains "the template is listed, assured by its connection (IPVS)" "ASSURED" "$(cat /tmp/c)"
# Replies bypassed the director: it counted no outgoing packets.
out=$(dadm -L -n --stats | awk '/^TCP/ {print $5}')
expect_eq "no packets out through the director" 0 "$out"
# A big transfer through DR arrives intact.
in_ns client curl -s --max-time 60 -o /tmp/blob.got http://$VIP/blob
expect_eq "1 MB transfer through DR" "$(md5sum </tmp/blob.src)" "$(md5sum </tmp/blob.got)"

# Rebalancing after expiry, quickly: UDP persistence with short timeouts.
for i in 1 2; do udp_server rs$i rs$i 5353 $VIP; done
dadm --set 0 0 2
# Persistence of 6 s leaves room for a slow guest (the debug kernel in a
# parallel lane) between the two requests.
dadm -A -u $VIP:5353 -s rr -p 6
dadm -a -u $VIP:5353 -r 192.168.20.21 -g
dadm -a -u $VIP:5353 -r 192.168.20.22 -g
t0=${EPOCHREALTIME/[.,]/}
a=$(uget $VIP 5353)
[ -n "$a" ] || fail "no UDP answer through DR"
a2=$(uget $VIP 5353)
t1=${EPOCHREALTIME/[.,]/}
echo "the two UDP requests took $(((t1 - t0) / 1000)) ms"
expect_eq "UDP sticks while persistent" "$a" "$a2"
# The connections expire after 2 s, then the template after its 6 s; the
# next datagram is then scheduled afresh (rr: the other server).
udp_entries_gone() { ! dadm -L -n -c | grep -q "$VIP:5353"; }
dadm -L -n -c
wait_for 40 "the UDP connection and template entries expired" udp_entries_gone
b=$(uget $VIP 5353)
[ -n "$b" ] && [ "$b" != "$a" ] || fail "not rebalanced after expiry: $a then $b"
echo "ok: rebalanced from $a to $b after the entries expired"

# Routes to real servers are cached per CPU (IPVS's dest_dst; for direct
# routing the kernel itself caches none); a routing change still takes
# effect at the next packet.
for rs in ${LAN_RS[@]:0:2}; do ip -n director route add unreachable $rs/32; done
check "no route to the real servers: no answer" [ -z "$(uget $VIP 5353 || true)" ]
for rs in ${LAN_RS[@]:0:2}; do ip -n director route del unreachable $rs/32; done
[ -n "$(uget $VIP 5353)" ] || fail "no answer once the routes are back"
echo "ok: answered again once the routes are back"
