# timeout: 300
# LVS-TUN as in seed 004: IPIP to three real servers with the VIP on
# tunl0; all three serve the VIP and answer the client directly.
. "$RVS_TOP/tests/vm/lib.sh"
load_rvs
topo_lan 3
for i in 1 2 3; do rs_tun $i; http_server rs$i rs$i 80; done
dadm -A -t $VIP:80 -s rr
for i in 1 2 3; do dadm -a -t $VIP:80 -r ${LAN_RS[$((i - 1))]} -i; done
got=$(for i in 1 2 3 4 5 6; do cget http://$VIP/; done | sort | uniq -c)
echo "$got"
expect_eq "three servers, two requests each" "      2 rs1
      2 rs2
      2 rs3" "$got"
dadm -L -n | grep -c Tunnel | { read n; expect_eq "three Tunnel servers" 3 "$n"; }
in_ns client curl -s --max-time 60 -o /tmp/blob.got http://$VIP/blob
expect_eq "1 MB transfer through TUN" "$(md5sum </tmp/blob.src)" "$(md5sum </tmp/blob.got)"
# UDP through the tunnel too.
for i in 1 2 3; do udp_server rs$i rs$i 5353 $VIP; done
dadm -A -u $VIP:5353 -s rr
for i in 1 2 3; do dadm -a -u $VIP:5353 -r ${LAN_RS[$((i - 1))]} -i; done
got=$(for i in 1 2 3; do uget $VIP 5353; done | sort | tr '\n' ' ')
expect_eq "UDP through TUN reaches all three" "rs1 rs2 rs3 " "$got"
