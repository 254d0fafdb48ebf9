# timeout: 120
# ICMP errors about NAT connections are translated: a real server's "port
# unreachable" for a UDP query reaches the client as coming from the VIP,
# quoting the packet the client sent, so the client's socket sees it.
. "$RVS_TOP/tests/vm/lib.sh"
load_rvs
topo_nat 1
dadm -A -u 192.168.10.100:6000 -s rr
dadm -a -u 192.168.10.100:6000 -r 10.0.0.7 -m
out=$(in_ns client python3 -S - <<'PY'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.connect(("192.168.10.100", 6000))
s.send(b"anyone there?")
try:
    s.recv(100)
    print("answer")
except ConnectionRefusedError:
    print("refused")
except socket.timeout:
    print("timeout")
PY
)
expect_eq "client's socket gets the translated port unreachable" refused "$out"
