# timeout: 900
# The trigger for the injected-bug demonstration (Documentation/
# reliability.md): many short-lived UDP connections expire every second
# (udp timeout 1 s) while the packet path looks them up and rvsadm -Lnc
# walks the table, both lock-free under RCU. With correct code: no
# report. With an entry freed without a grace period, a reader walks
# freed memory: KASAN reports a use-after-free.
# Run: scripts/vm-test.sh --debug --dir tests/inject
. "$RVS_TOP/tests/vm/lib.sh"
load_rvs conn_tab_bits=8
topo_nat 2
udp_server rs1 rs1 53
udp_server rs2 rs2 53
dadm -A -u 192.168.10.100:53 -s rr
dadm -a -u 192.168.10.100:53 -r 10.0.0.7 -m
dadm -a -u 192.168.10.100:53 -r 10.0.0.17 -m
dadm --set 0 0 1
sender() { # a datagram from a new port each time, for $1 seconds
	ip netns exec client python3 -c '
import socket, sys, time
end = time.time() + float(sys.argv[1]); n = 0
while time.time() < end:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(b"q", ("192.168.10.100", 53)); s.close(); n += 1
print("sent", n)' "$1"
}
sender 60 & s1=$!
sender 60 & s2=$!
dumps=0
while kill -0 $s1 2>/dev/null; do dadm -L -n -c >/dev/null; dumps=$((dumps + 1)); done
wait $s1 $s2
echo "$dumps connection dumps while entries expired"
