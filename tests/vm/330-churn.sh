# timeout: 600
# timeout-long: 1200
# Configuration churn under load: real servers added, removed and
# re-weighted about 100 times a second (tools/rvsfuzz churn) while the
# client makes requests and keeps long-lived sessions open. Sessions to
# the server that stays (only re-weighted) never break; once the churned
# servers' deletion has returned, nothing reaches them (rvs, like IPVS
# with expire_nodest_conn off, drops their connections' packets).
. "$RVS_TOP/tests/vm/lib.sh"
secs=$(long_or 60 20 10)
load_rvs
topo_nat 3
for i in 1 2 3; do echo_server rs$i 7777; done
dadm -A -t 192.168.10.100:80 -s wrr
dadm -a -t 192.168.10.100:80 -r 10.0.0.7 -m
dadm -A -t 192.168.10.100:7777 -s rr
dadm -a -t 192.168.10.100:7777 -r 10.0.0.7 -m
# Long-lived sessions, all to rs1 (the only server of the echo service
# when they open), one line each per second throughout.
nsrun client python3 -S "$RVS_TOP/tests/vm/sessions.py" 192.168.10.100 7777 4 $((secs + 20)) 1 \
	>/tmp/sessions.out 2>&1 &
sess=$!
for i in $(seq 1 120); do grep -q 'open' /tmp/sessions.out 2>/dev/null && break; sleep 0.5; done
grep -q 'open' /tmp/sessions.out || fail "the sessions did not open"
expect_eq "all four sessions on rs1" 4 "$(dadm -L -n -c | grep -c '192.168.10.100:7777 *10.0.0.7:7777')"
# Requests all along, each a new connection.
(
	urls=$(for i in $(seq 1 20); do printf 'http://192.168.10.100/ '; done)
	while :; do
		in_ns client curl -s -o /dev/null --max-time 3 -w '%{http_code}\n' $urls 2>/dev/null || true
	done
) >/tmp/churn-requests &
load=$!
trap 'kill $load 2>/dev/null || true' EXIT
# Churn both services: rs1 is only re-weighted, rs2 and rs3 come and go.
nsrun director rvsfuzz churn --service tcp:192.168.10.100:80 --keep 10.0.0.7 \
	--churn 10.0.0.17 --churn 10.0.0.27 --rate 70 --secs "$secs" --seed 1 | tee /tmp/churn1.out &
c1=$!
nsrun director rvsfuzz churn --service tcp:192.168.10.100:7777 --keep 10.0.0.7 \
	--churn 10.0.0.17 --churn 10.0.0.27 --rate 30 --secs "$secs" --seed 2 | tee /tmp/churn2.out &
c2=$!
wait $c1 || fail "churn of the HTTP service failed"
wait $c2 || fail "churn of the echo service failed"
# Both have returned: rs2 and rs3 are deleted from both services.
dadm -S -n
expect_eq "only rs1 left" 2 "$(dadm -S -n | grep -c '^-a')"
expect_eq "and it is rs1" 2 "$(dadm -S -n | grep -c -- '-r 10.0.0.7:')"
seg2=$(tcp_in_segs rs2) seg3=$(tcp_in_segs rs3)
sleep 5
expect_eq "nothing reaches rs2 after its deletion returned" "$seg2" "$(tcp_in_segs rs2)"
expect_eq "nothing reaches rs3 after its deletion returned" "$seg3" "$(tcp_in_segs rs3)"
kill $load 2>/dev/null || true
wait $load 2>/dev/null || true
trap - EXIT
if ! wait $sess; then
	cat /tmp/sessions.out
	dadm -L -n -c
	in_ns client ss -tn
	fail "a session to the remaining server broke"
fi
cat /tmp/sessions.out
ops=$(( $(sed -n 's/.*: \([0-9]*\) operations.*/\1/p' /tmp/churn1.out) + $(sed -n 's/.*: \([0-9]*\) operations.*/\1/p' /tmp/churn2.out) ))
ok=$(grep -c '^200' /tmp/churn-requests || true)
total=$(wc -l </tmp/churn-requests)
figure churn "$ops operations in ${secs}s ($(( ops / secs ))/s) on two services: $(tail -1 /tmp/sessions.out); $ok of $total requests answered (kernel ${RVS_KERNEL:-?})"
expect_contains "the service still answers" "rs1" "$(cget http://192.168.10.100/)"
