# timeout: 600
# 100 MB in each direction through NAT arrive byte-identical; an upload
# through the IPIP tunnel (where the director's encapsulation exceeds the
# link MTU and "fragmentation needed" must reach the client) too. On the
# debug kernel, 20 MB each way through NAT (the same code, a fifth of
# the packets).
. "$RVS_TOP/tests/vm/lib.sh"
load_rvs
topo_nat 1
mb=$(long_or 100 100 20)
head -c ${mb}000000 /dev/urandom >/tmp/big
sum=$(md5sum </tmp/big)
dadm -A -t 192.168.10.100:9000 -s rr
dadm -a -t 192.168.10.100:9000 -r 10.0.0.7 -m
dadm -A -t 192.168.10.100:9001 -s rr
dadm -a -t 192.168.10.100:9001 -r 10.0.0.7 -m
# Upload: client -> VIP -> rs1.
nsrun rs1 socat -u TCP-LISTEN:9000,reuseaddr CREATE:/tmp/up.got &
listening rs1 t 9000
s=$(date +%s); in_ns client socat -u FILE:/tmp/big TCP:192.168.10.100:9000; echo "upload took $(( $(date +%s) - s )) s"
wait
expect_eq "$mb MB upload through NAT" "$sum" "$(md5sum </tmp/up.got)"
# Download: rs1 -> VIP -> client.
nsrun rs1 socat -u FILE:/tmp/big TCP-LISTEN:9001,reuseaddr &
listening rs1 t 9001
in_ns client socat -u TCP:192.168.10.100:9001 CREATE:/tmp/down.got
wait
expect_eq "$mb MB download through NAT" "$sum" "$(md5sum </tmp/down.got)"
dadm -L -n --stats --exact | tee /tmp/st
for ns in client director rs1; do ip netns del $ns; done

# TUN: 10 MB upload; the outer header makes full-size packets too big.
topo_lan 1
rs_tun 1
dadm -A -t $VIP:9000 -s rr
dadm -a -t $VIP:9000 -r 192.168.20.21 -i
head -c 10000000 /tmp/big >/tmp/ten
nsrun rs1 socat -u TCP-LISTEN:9000,reuseaddr CREATE:/tmp/tun.got &
listening rs1 t 9000
in_ns client timeout 120 socat -u FILE:/tmp/ten TCP:$VIP:9000
wait
expect_eq "10 MB upload through TUN (path MTU discovery)" "$(md5sum </tmp/ten)" "$(md5sum </tmp/tun.got)"
