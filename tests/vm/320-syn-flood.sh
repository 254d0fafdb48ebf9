# timeout: 600
# timeout-long: 1800
# A SYN flood from random spoofed sources (hping3 --rand-source, inside
# the guest) at a NAT VIP, with the connection table capped by
# max_conns: the table stays within the cap, memory stays bounded, no OOM,
# the kernel stays quiet, and a legitimate client keeps getting answers.
# Reports the flood rate, the memory it peaked at, and the client's
# success rate and latency.
. "$RVS_TOP/tests/vm/lib.sh"
command -v hping3 >/dev/null || fail "hping3 is not installed (scripts/setup.sh installs it)"
max=${RVS_FLOOD_MAX_CONNS:-1000}
secs=$(long_or 120 30)
requests=$(long_or 200 40)
load_rvs max_conns=$max
topo_nat 2
dadm -A -t 192.168.10.100:80 -s rr
dadm -a -t 192.168.10.100:80 -r 10.0.0.7 -m
dadm -a -t 192.168.10.100:80 -r 10.0.0.17 -m
expect_contains "service answers before the flood" "rs" "$(cget http://192.168.10.100/)"
entries() { dadm -L -n -c | tail -n +3 | wc -l; }

base_kb=$(mem_available_kb)
rx0=$(ip netns exec director cat /sys/class/net/d0/statistics/rx_packets)
# The flood: SIGINT makes hping3 print how many packets it sent.
timeout -s INT "$secs" ip netns exec client hping3 -q -S -p 80 --flood --rand-source 192.168.10.100 \
	>/tmp/hping.out 2>&1 &
flood=$!
# Memory and table size while it runs.
(
	while kill -0 $flood 2>/dev/null; do
		echo "$(mem_available_kb) $(entries)"
		sleep 2
	done
) >/tmp/flood-samples &
sampler=$!
sleep 3
# The legitimate client: one request a second or so, each its own
# connection (one curl process, many URLs).
urls=$(for i in $(seq 1 "$requests"); do printf -- '-o /dev/null http://192.168.10.100/ '; done)
ip netns exec client curl -s --max-time 5 --retry 0 \
	-w '%{http_code} %{time_total}\n' $urls >/tmp/legit.out 2>/dev/null || true
wait $flood || true
wait $sampler || true
rx1=$(ip netns exec director cat /sys/class/net/d0/statistics/rx_packets)
cat /tmp/hping.out
sent=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' /tmp/hping.out | tail -1)
arrived=$((rx1 - rx0))
min_kb=$(awk 'NR == 1 || $1 < m { m = $1 } END { print m }' /tmp/flood-samples)
peak=$(awk '$2 > m { m = $2 } END { print m + 0 }' /tmp/flood-samples)
ok=$(grep -c '^200 ' /tmp/legit.out || true)
total=$(grep -c -E '^[0-9]{3} ' /tmp/legit.out || true)
lat=$(awk '$1 == 200 { s += $2; n++; if ($2 > m) m = $2 } END { if (n) printf "mean %.3f s, max %.3f s", s / n, m }' /tmp/legit.out)
echo "samples (MemAvailable kB, entries):"; cat /tmp/flood-samples
figure flood "${sent:-?} SYNs sent in ${secs}s (~$(( ${sent:-0} / secs ))/s), $arrived packets reached the director; max_conns $max, table peaked at $peak entries; MemAvailable $base_kb kB before, lowest $min_kb kB (peak use $(( (base_kb - min_kb) / 1024 )) MB) (kernel ${RVS_KERNEL:-?})"
figure flood-client "legitimate client: $ok of $total requests answered during the flood; $lat"
dmesg | grep -q -E 'Out of memory|oom-kill' && fail "OOM during the flood"
# The cap holds (two vCPUs may each race one entry past it).
[ "$peak" -le $((max + 2)) ] || fail "table grew to $peak entries, above max_conns $max"
[ "$total" -gt 0 ] || fail "the legitimate client did not run"
[ "$ok" -gt 0 ] || fail "the legitimate client got no answer during the flood"
# Memory stays bounded: the table's worth, not the flood's.
[ $(( (base_kb - min_kb) / 1024 )) -lt 400 ] || fail "memory use grew by more than 400 MB"
dmesg | grep -E 'rvs: (connection table full|under pressure|pressure over)' | tail -5 || true
# After the flood, the service is fine and the table drains.
sleep 2
got=""
for i in 1 2 3 4 5; do got=$(cget http://192.168.10.100/ || true); [ -n "$got" ] && break; done
expect_contains "service answers after the flood" "rs" "$got"
dadm -C
expect_eq "flushed" "" "$(dadm -S -n)"
