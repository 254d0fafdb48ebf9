# timeout: 600
# timeout-long: 1800
# lane: serial (loads rvs with module parameters, reads the kernel log and the VM's free memory)
# A SYN flood from random spoofed sources at a NAT VIP, inside the guest:
# `rvsfuzz synflood` (a raw-socket generator in this repo, one process
# sending until the time is up), one flood per vCPU, while
# connection dumps walk the table. The table is capped by max_conns and
# small (conn_tab_bits=8: several entries per chain), so once it is full
# every new SYN replaces an idle half-open entry in its bucket, and
# drop_entry=1 (in force once the table is 7/8 full) drops half-open
# entries every second, while the
# other CPU and the dumps read the same chains lock-free: the case the
# RCU grace period exists for. The table stays within the cap, memory
# stays bounded, no OOM, the kernel stays quiet, and a legitimate client
# keeps getting answers. Reports the flood rate, the memory it peaked at,
# and the client's success rate and latency.
. "$RVS_TOP/tests/vm/lib.sh"
max=${RVS_FLOOD_MAX_CONNS:-1000}
secs=$(long_or 120 30)
requests=$(long_or 200 40)
load_rvs max_conns=$max conn_tab_bits=8 drop_entry=1
topo_nat 2
dadm -A -t 192.168.10.100:80 -s rr
dadm -a -t 192.168.10.100:80 -r 10.0.0.7 -m
dadm -a -t 192.168.10.100:80 -r 10.0.0.17 -m
expect_contains "service answers before the flood" "rs" "$(cget http://192.168.10.100/)"
# The table's size, from the real servers' connection counters (kept
# with each insert and removal): a dump of the table racing the flood's
# inserts and removals can list an entry twice as it resumes.
entries() { dadm -L -n | awk '$1 == "->" {n += $5 + $6} END {print n + 0}'; }

base_kb=$(mem_available_kb)
rx0=$(ip netns exec director cat /sys/class/net/d0/statistics/rx_packets)
# The flood: two at once until the time is up.
end=$(( $(date +%s) + secs ))
( syn_flood_until $end 1 & syn_flood_until $end 2 & wait ) >/tmp/flood.out 2>&1 &
flood=$!
# Memory and table size while it runs.
(
	while kill -0 $flood 2>/dev/null; do
		echo "$(mem_available_kb) $(entries)"
		sleep 2
	done
) >/tmp/flood-samples &
sampler=$!
# Lock-free readers besides the packet path: connection dumps, back to back.
(
	d=0
	while kill -0 $flood 2>/dev/null; do dadm -L -n -c >/dev/null; d=$((d + 1)); done
	echo $d >/tmp/flood-dumps
) &
dumper=$!
sleep 3
# The legitimate client: one request a second or so, each its own
# connection (one curl process, many URLs).
urls=$(for i in $(seq 1 "$requests"); do printf -- '-o /dev/null http://192.168.10.100/ '; done)
in_ns client curl -s --max-time 5 --retry 0 \
	-w '%{http_code} %{time_total}\n' $urls >/tmp/legit.out 2>/dev/null || true
wait $flood || true
wait $sampler || true
wait $dumper || true
rx1=$(ip netns exec director cat /sys/class/net/d0/statistics/rx_packets)
tail -2 /tmp/flood.out
sent=$(awk '/SYNs sent/ {s += $3} END {print s + 0}' /tmp/flood.out)
arrived=$((rx1 - rx0))
min_kb=$(awk 'NR == 1 || $1 < m { m = $1 } END { print m }' /tmp/flood-samples)
peak=$(awk '$2 > m { m = $2 } END { print m + 0 }' /tmp/flood-samples)
ok=$(grep -c '^200 ' /tmp/legit.out || true)
total=$(grep -c -E '^[0-9]{3} ' /tmp/legit.out || true)
lat=$(awk '$1 == 200 { s += $2; n++; if ($2 > m) m = $2 } END { if (n) printf "mean %.3f s, max %.3f s", s / n, m }' /tmp/legit.out)
echo "samples (MemAvailable kB, entries):"; cat /tmp/flood-samples
figure flood "${sent:-?} SYNs sent in ${secs}s (~$(( ${sent:-0} / secs ))/s), $arrived packets reached the director; max_conns $max, table peaked at $peak entries; MemAvailable $base_kb kB before, lowest $min_kb kB (peak use $(( (base_kb - min_kb) / 1024 )) MB); $(cat /tmp/flood-dumps) connection dumps meanwhile (kernel ${RVS_KERNEL:-?})"
figure flood-client "legitimate client: $ok of $total requests answered during the flood; $lat"
dmesg | grep -q -E 'Out of memory|oom-kill' && fail "OOM during the flood"
# The cap holds (two vCPUs may each race one entry past it).
[ "$peak" -le $((max + 2)) ] || fail "table grew to $peak entries, above max_conns $max"
[ "$total" -gt 0 ] || fail "the legitimate client did not run"
[ "$ok" -gt 0 ] || fail "the legitimate client got no answer during the flood"
# Memory stays bounded: the table's worth, not the flood's.
[ $(( (base_kb - min_kb) / 1024 )) -lt 400 ] || fail "memory use grew by more than 400 MB"
dmesg | grep -E 'rvs: (connection table full|drop_entry (in force|no longer))' | tail -5 || true
# Enough of the flood arrived to fill the table: a defence must have
# acted, the cap or (at 7/8 of it) the pressure drop of stale entries.
if [ "$arrived" -ge $((3 * max)) ]; then
	dmesg | grep -q -E 'rvs: (connection table full|drop_entry in force)' ||
		fail "$arrived SYNs arrived but neither max_conns nor drop_entry acted"
fi
# After the flood, the service is fine and the table drains.
sleep 2
got=""
for i in 1 2 3 4 5; do got=$(cget http://192.168.10.100/ || true); [ -n "$got" ] && break; done
expect_contains "service answers after the flood" "rs" "$got"
dadm -C
expect_eq "flushed" "" "$(dadm -S -n)"
