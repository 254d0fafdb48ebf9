# timeout: 300
# timeout-long: 900
# One UDP flow from both vCPUs at once through a one-packet-scheduling
# (-o) NAT service: every datagram gets its own connection entry, which
# goes again as soon as the datagram is sent, while the same flow's
# datagram on the other vCPU may have found that very entry and still be
# transmitting with it. The real servers have no listener, so their ICMP
# port-unreachable errors come back through the director and look the
# entries up too. This is the case RCU's grace period is for: on the
# debug kernel, an entry freed too early is a KASAN use-after-free (the
# runner fails the test; tests/inject/ shows it). Checks: no report, the
# datagrams are spread over both servers, and no one-packet entry stays.
. "$RVS_TOP/tests/vm/lib.sh"
secs=$(long_or 120 15)
load_rvs
topo_nat 2
dadm -A -u 192.168.10.100:9 -s rr -o
dadm -a -u 192.168.10.100:9 -r 10.0.0.7 -m
dadm -a -u 192.168.10.100:9 -r 10.0.0.17 -m
# The datagrams a real server refused (no listener): Udp NoPorts.
noports() { in_ns "$1" awk '/^Udp:/ {n++} n == 2 && /^Udp:/ {print $3; exit}' /proc/net/snmp; }
n1=$(noports rs1) n2=$(noports rs2)
# One socket, one source port; after fork, a sender on each vCPU.
in_ns client python3 -S -c '
import os, socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("192.168.10.6", 40009))
end = time.time() + float(sys.argv[1])
child = os.fork()
os.sched_setaffinity(0, {0 if child else 1})
n = 0
while time.time() < end:
    try:
        s.sendto(b"x" * 64, ("192.168.10.100", 9)); n += 1
    except OSError:
        pass
print("sender", "parent" if child else "child", n, flush=True)
if child:
    os.waitpid(child, 0)' "$secs" | tee /tmp/ops.out
sent=$(awk '{s += $3} END {print s + 0}' /tmp/ops.out)
sleep 1
r1=$(( $(noports rs1) - n1 )) r2=$(( $(noports rs2) - n2 ))
dadm -L -n --stats | tee /tmp/ops.stats
conns=$(awk '$1 == "UDP" {print $3}' /tmp/ops.stats)
inpkts=$(awk '$1 == "UDP" {print $4}' /tmp/ops.stats)
figure one-flow "$sent datagrams of one flow from both vCPUs in ${secs}s; the service counted $inpkts packets and $conns connections; rs1 got $r1, rs2 $r2 (kernel ${RVS_KERNEL:-?})"
[ "$sent" -gt 100 ] || fail "only $sent datagrams sent"
[ "$inpkts" -gt 0 ] || fail "the service saw no packet"
# Each datagram is scheduled on its own (a concurrent one may share an
# entry): round robin spreads them.
[ "$r1" -gt $(( (r1 + r2) / 4 )) ] && [ "$r2" -gt $(( (r1 + r2) / 4 )) ] ||
	fail "datagrams not spread over the servers: $r1 and $r2"
echo "ok: spread over both servers ($r1, $r2)"
expect_eq "no one-packet entry left" 0 "$(dadm -L -n -c | grep -c '^UDP' || true)"
