# timeout: 600
# The trigger for the injected-bug demonstration (Documentation/
# reliability.md), made likely: a SYN flood from both vCPUs keeps a
# small capped table (max_conns=256, 256 buckets) full, so entries are
# freed all the time (a new SYN takes the place of a stale half-open
# entry; with drop_entry=1 the sweeper drops half-open ones too) while
# lock-free readers walk the same chains: the packet path's lookups,
# `rvsadm -Lnc` dumps and /proc/net/ip_vs_conn reads, which format each
# entry while holding it. With correct code: no report. With an entry
# freed without a grace period, a reader sooner or later touches freed
# memory and KASAN reports a use-after-free (the runner fails the test).
# Run: scripts/vm-test.sh --debug --dir tests/inject --only 020
. "$RVS_TOP/tests/vm/lib.sh"
secs=${RVS_INJECT_SECS:-120}
load_rvs max_conns=256 conn_tab_bits=8 ipvs_abi=1 drop_entry=1
topo_nat 2
dadm -A -t 192.168.10.100:80 -s rr
dadm -a -t 192.168.10.100:80 -r 10.0.0.7 -m
dadm -a -t 192.168.10.100:80 -r 10.0.0.17 -m
end=$(( $(date +%s) + secs ))
syn_flood_until $end 1 >/tmp/inj-flood1 2>&1 & f1=$!
syn_flood_until $end 2 >/tmp/inj-flood2 2>&1 & f2=$!
# One long-lived reader of /proc/net/ip_vs_conn (no process start-up
# between walks: it is inside the table most of its time), and rvsadm
# dumps.
ip netns exec director python3 -c '
import sys, time
end = time.time() + float(sys.argv[1]); n = 0
while time.time() < end:
    with open("/proc/net/ip_vs_conn") as f:
        f.read()
    n += 1
print(n)' "$secs" >/tmp/inj-reads &
reader=$!
dumps=0
while kill -0 $f1 2>/dev/null; do dadm -L -n -c >/dev/null; dumps=$((dumps + 1)); done
wait $f1 $f2 $reader
sent=$(cat /tmp/inj-flood1 /tmp/inj-flood2 | awk '/SYNs sent/ {s += $3} END {print s + 0}')
echo "$sent SYNs in ${secs}s; $dumps dumps and $(cat /tmp/inj-reads) /proc reads meanwhile"
dmesg | grep -E 'rvs: (connection table full|drop_entry (in force|no longer))' | tail -3 || true
