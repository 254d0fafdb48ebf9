# timeout: 600
# timeout-long: 1800
# lane: serial (unloads rvs under sync traffic, reads the kernel log)
# Sync fuzzing (tools/rvsfuzz sync): a backup sync daemon takes random,
# valid (version 1 and 0) and mutated sync datagrams on IPVS's wire format,
# multicast from another namespace over a veth pair, while listings walk
# the table it writes. Entries stay in small address ranges (so they meet
# again and update each other), and a quarter of them belong to the
# backup's service (TCP 10.98.0.1:80, real server 10.97.0.1:80), so they
# are bound to it. No oops and no sanitizer or lockdep report (the runner
# checks dmesg); afterwards the backup still takes datagrams, its counters
# parse and show drops, every -Lnc entry is well-formed, the real server's
# PersistConn + ActiveConn + InActConn equal the entries bound to it, a
# backup with a sync id drops the others' datagrams, the daemon stops, and
# the module unloads with a master and a backup running under sync traffic
# both ways. CI runs RVS_SYNC_FUZZ_COUNT datagrams (default 20,000, 2,000
# on the debug kernel; --long 100,000) at
# RVS_SYNC_FUZZ_RATE a second (5,000; 1,000 on the debug kernel).
. "$RVS_TOP/tests/vm/lib.sh"
count=${RVS_SYNC_FUZZ_COUNT:-$(long_or 100000 20000 2000)}
rate=${RVS_SYNC_FUZZ_RATE:-$(long_or 5000 5000 1000)}
seed=${RVS_SYNC_FUZZ_SEED:-$(date +%s)}
VIP=10.98.0.1
RS=10.97.0.1

load_rvs
new_netns fuzzer
new_netns backup
veth_pair fuzzer f0 backup b0
ip -n fuzzer addr add 10.96.0.1/24 dev f0
ip -n backup addr add 10.96.0.2/24 dev b0
# The real servers are reachable (a unicast route), so rvs takes them.
ip -n backup route add 10.97.0.0/24 via 10.96.0.1
in_ns fuzzer ping -c1 -W2 10.96.0.2 >/dev/null

badm() { in_ns backup rvsadm "$@"; }
badm -A -t $VIP:80 -s rr
badm -a -t $VIP:80 -r $RS -g
badm --start-daemon backup --mcast-interface b0 --syncid 0
expect_contains "backup daemon runs" "backup sync daemon (mcast=b0, syncid=0" "$(badm -L --daemon)"

# read_counters: the backup's counters (rvsadm -L --daemon --stats) into
# c_received c_entries c_bad_dgram c_bad_entry c_syncid c_no_room c_lost.
read_counters() {
	local out line re='received ([0-9]+) datagrams, ([0-9]+) entries; dropped: bad datagram ([0-9]+), bad entry ([0-9]+), syncid ([0-9]+), no room ([0-9]+); lost ([0-9]+)'
	out=$(badm -L --daemon --stats) || fail "rvsadm -L --daemon --stats failed"
	line=$(grep -E '^ +received ' <<<"$out") || fail "no backup counters in: $out"
	[[ $line =~ $re ]] || fail "backup counters do not parse: $line"
	c_received=${BASH_REMATCH[1]} c_entries=${BASH_REMATCH[2]}
	c_bad_dgram=${BASH_REMATCH[3]} c_bad_entry=${BASH_REMATCH[4]}
	c_syncid=${BASH_REMATCH[5]} c_no_room=${BASH_REMATCH[6]} c_lost=${BASH_REMATCH[7]}
	c_taken=$((c_received + c_bad_dgram + c_syncid))
}
# settle: until the backup has taken what was sent (its counters stop).
settle() {
	local last=-1 i
	for i in $(seq 1 60); do
		read_counters
		[ "$c_taken" = "$last" ] && return 0
		last=$c_taken
		sleep 1
	done
	fail "the backup's counters still move after 60 s"
}
# fuzz OUT ARGS...: rvsfuzz sync from the fuzzer namespace; prints the
# number of datagrams that left (sent minus send errors).
fuzz() {
	local out=$1 n errs; shift
	in_ns fuzzer rvsfuzz sync --dev f0 --group 224.0.0.81 --port 8848 "$@" >"$out" ||
		fail "rvsfuzz sync $* failed: $(cat "$out")"
	n=$(sed -n 's/^sync-fuzz: \([0-9]*\) datagrams (.*/\1/p' "$out")
	errs=$(sed -n 's/.*; send errors \([0-9]*\).*/\1/p' "$out")
	[ -n "$n" ] && [ -n "$errs" ] || fail "rvsfuzz sync: no summary in: $(cat "$out")"
	echo $((n - errs))
}
udp_rcvbuf_errors() {
	in_ns backup awk '/^Udp:/ { if (!h) { for (i = 1; i <= NF; i++) col[$i] = i; h = 1 }
		else { print $col["RcvbufErrors"] + 0; exit } }' /proc/net/snmp
}

# --- the fuzz, with listings walking the table meanwhile ---
rcvbuf0=$(udp_rcvbuf_errors)
rm -f /tmp/sync-fuzz.done /tmp/sync-fuzz-dump-errors
(
	d=0
	while [ ! -e /tmp/sync-fuzz.done ]; do
		badm -L -n -c >/dev/null || echo "-Lnc failed" >>/tmp/sync-fuzz-dump-errors
		badm -L -n --persistent-conn >/dev/null || echo "-Ln failed" >>/tmp/sync-fuzz-dump-errors
		badm -L --daemon --stats >/dev/null || echo "--daemon failed" >>/tmp/sync-fuzz-dump-errors
		d=$((d + 1))
	done
	echo $d >/tmp/sync-fuzz-dumps
) &
dumper=$!
start=$(date +%s)
sent=$(fuzz /tmp/sync-fuzz.out --count "$count" --rate "$rate" --secs $((count / 100 + 300)) --seed "$seed" --syncid 0)
took=$(($(date +%s) - start))
touch /tmp/sync-fuzz.done
wait $dumper
cat /tmp/sync-fuzz.out
[ ! -s /tmp/sync-fuzz-dump-errors ] || fail "listings failed during the fuzz: $(sort /tmp/sync-fuzz-dump-errors | uniq -c)"
[ "$sent" -ge $((count * 99 / 100)) ] || fail "only $sent of $count datagrams sent"
settle
rcvbuf=$(($(udp_rcvbuf_errors) - rcvbuf0))
echo "backup: $(badm -L --daemon --stats | tail -1)"
echo "backup: UDP receive-buffer drops $rcvbuf"

check "the backup received datagrams" [ "$c_received" -gt 0 ]
check "the backup took entries" [ "$c_entries" -gt 0 ]
check "the backup dropped bad datagrams" [ "$c_bad_dgram" -gt 0 ]
check "the backup dropped bad entries" [ "$c_bad_entry" -gt 0 ]
check "the backup took no more than was sent" [ "$c_taken" -le $((sent + 10)) ]
# Whatever reached the namespace was taken or dropped at the socket.
check "the backup kept up (taken + socket drops >= half the sent)" \
	[ $((c_taken + rcvbuf)) -ge $((sent / 2)) ]
figure sync-fuzz "$(grep '^sync-fuzz: ' /tmp/sync-fuzz.out) (kernel ${RVS_KERNEL:-?}, ${took}s)"
figure sync-fuzz-backup "received $c_received of $sent datagrams ($c_entries entries); dropped: bad datagram $c_bad_dgram, bad entry $c_bad_entry, syncid $c_syncid, no room $c_no_room; lost $c_lost; UDP receive-buffer drops $rcvbuf; $(cat /tmp/sync-fuzz-dumps) listing rounds meanwhile"

# Still alive: a few more datagrams are taken.
before=$c_taken
fuzz /tmp/sync-fuzz-probe.out --count 200 --rate 1000 --seed $((seed + 1)) >/dev/null
settle
check "the backup still takes datagrams ($before -> $c_taken)" [ "$c_taken" -gt "$before" ]

# --- the table ---
# table_check WHEN: -Lnc well-formed; the real server's counters equal the
# entries bound to it.
table_check() {
	local when=$1 listing bad n1 t1 n2 t2 p a i try
	listing=$(badm -L -n -c) || fail "$when: rvsadm -Lnc failed"
	[ "$(head -1 <<<"$listing")" = "IPVS connection entries" ] || fail "$when: -Lnc title: $(head -1 <<<"$listing")"
	grep -q '^pro expire state ' <<<"$listing" || fail "$when: -Lnc header: $(sed -n 2p <<<"$listing")"
	table=$(tail -n +3 <<<"$listing" | grep -c . || true)
	bad=$(tail -n +3 <<<"$listing" | awk '
		# ADDR:PORT, IPv4 or [IPv6] (IPv4-mapped ones with dots)
		function ap(s,   p) {
			if (s !~ /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+:[0-9]+$/ && s !~ /^\[[0-9a-f:.]+\]:[0-9]+$/) return 0
			p = s; sub(/.*:/, "", p); return p + 0 <= 65535
		}
		{
			ok = (NF == 6 || NF == 8) && $1 ~ /^(IP|TCP|UDP|SCTP|ICMP|ICMPv6|IP_[0-9]+)$/ &&
				$2 ~ /^[0-9]+:[0-5][0-9]$/ && $3 ~ /^([A-Z][A-Z0-9_-]*|ERR!)$/ && ap($4) && ap($5) && ap($6) &&
				($4 ~ /^\[/) == ($5 ~ /^\[/) && ($4 ~ /^\[/) == ($6 ~ /^\[/)
			if (!ok) print
		}')
	[ -z "$bad" ] || { echo "$bad" | head -20; fail "$when: $(grep -c . <<<"$bad") malformed -Lnc entries"; }
	echo "ok: $when: $table -Lnc entries, all well-formed"
	# Bound entries: TCP, VIP:80, RS:80 (templates among those in state
	# NONE). Entries expire meanwhile: retry until two listings around the
	# counters agree.
	bound() {
		badm -L -n -c | awk -v v="$VIP:80" -v d="$RS:80" \
			'$1 == "TCP" && $5 == v && $6 == d { n++; if ($3 == "NONE" || $3 == "ASSURED") t++ } END { print n + 0, t + 0 }'
	}
	for try in $(seq 1 20); do
		read -r n1 t1 <<<"$(bound)" || true
		read -r p a i <<<"$(badm -L -n --persistent-conn | awk -v d="$RS:80" '$1 == "->" && $2 == d { print $4, $5, $6 }')" || true
		read -r n2 t2 <<<"$(bound)" || true
		[ "$n1 $t1" = "$n2 $t2" ] && break
		sleep 0.5
	done
	[ "$n1 $t1" = "$n2 $t2" ] || fail "$when: the table kept changing under the listings"
	[ -n "${p:-}" ] && [ -n "${a:-}" ] && [ -n "${i:-}" ] || fail "$when: no counters for $RS:80 in -Ln --persistent-conn"
	echo "$when: $n1 entries bound to $RS:80 ($t1 in state NONE); PersistConn $p ActiveConn $a InActConn $i"
	expect_eq "$when: PersistConn + ActiveConn + InActConn = entries bound to the real server" "$n1" "$((p + a + i))"
	check "$when: PersistConn ($p) within the NONE-state entries ($t1)" [ "$p" -le "$t1" ]
	check "$when: ActiveConn + InActConn ($((a + i))) cover the other entries ($((n1 - t1)))" [ $((a + i)) -ge $((n1 - t1)) ]
	bound_n=$n1 bound_p=$p bound_a=$a bound_i=$i
}
table_check "after fuzzing"
check "connections were bound to the real server" [ $((bound_a + bound_i)) -gt 0 ]
check "templates were bound to the real server" [ "$bound_p" -gt 0 ]
saved=$(badm -S -n)
expect_contains "the service is intact" "-A -t $VIP:80 -s rr" "$saved"
expect_contains "the real server is intact" "-a -t $VIP:80 -r $RS:80 -g -w 1" "$saved"
figure sync-fuzz-table "$table entries after fuzzing; $bound_n bound to $RS:80 (PersistConn $bound_p, ActiveConn $bound_a, InActConn $bound_i)"

# --- a backup with a sync id drops the other ids' datagrams ---
badm --stop-daemon backup
expect_eq "backup daemon stopped" "" "$(badm -L --daemon)"
badm --start-daemon backup --mcast-interface b0 --syncid 7
expect_contains "backup daemon runs with syncid 7" "backup sync daemon (mcast=b0, syncid=7" "$(badm -L --daemon)"
n7=$((count / 10))
sent7=$(fuzz /tmp/sync-fuzz-7.out --count "$n7" --rate "$rate" --seed $((seed + 2)) --syncid 7)
settle
check "syncid 7: datagrams of sync id 7 taken" [ "$c_received" -gt 0 ]
check "syncid 7: others dropped" [ "$c_syncid" -gt 0 ]
figure sync-fuzz-syncid "backup with syncid 7: received $c_received of $sent7 ($c_entries entries), dropped for syncid $c_syncid, bad datagram $c_bad_dgram, bad entry $c_bad_entry"

# --- stop, check again with no writer, flush, unload ---
badm --stop-daemon backup
expect_eq "backup daemon stopped" "" "$(badm -L --daemon)"
set +e
out=$(badm --stop-daemon backup 2>&1); rc=$?
set -e
check "stopping it again fails ($rc: $out)" [ "$rc" -ne 0 ]
table_check "after stopping"
badm -C
expect_eq "flushed" "" "$(badm -S -n)"
badm -L -n -c >/dev/null || fail "-Lnc after the flush"

# --- unloading with both daemons running, under sync traffic both ways ---
# The fuzzer's namespace gets rvs state too: a master daemon there sends
# the entries its own table holds (a full resync, unasked), while the
# fuzzer keeps sending to the backup, which also runs a master of its own.
badm --start-daemon backup --mcast-interface b0 --syncid 0
badm --start-daemon master --mcast-interface b0 --syncid 0
in_ns fuzzer rvsadm --start-daemon master --mcast-interface f0 --syncid 0
nsrun fuzzer rvsfuzz sync --dev f0 --group 224.0.0.81 --port 8848 --count 100000 --secs 60 \
	--rate "$rate" --seed $((seed + 3)) --syncid 0 >/dev/null 2>&1 &
bg=$!
sleep 3
badm --resync-daemon master
in_ns fuzzer rvsadm --resync-daemon master
sleep 2
check "both daemons run in the backup's namespace" [ "$(badm -L --daemon | wc -l)" = 2 ]
unload_rvs
kill $bg 2>/dev/null || true
wait $bg 2>/dev/null || true
check "rvs unloaded with its daemons running" bash -c '! lsmod | grep -q "^rvs "'
