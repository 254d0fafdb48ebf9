# timeout: 200
# Deleting a real server with connections open, as IPVS: without
# expire_nodest_conn its packets are dropped and the connection survives
# (and resumes when the server is added back); with it, the connection is
# expired at once. A quiescent server (weight 0) keeps its connections.
. "$RVS_TOP/tests/vm/lib.sh"
load_rvs
topo_nat 2
echo_server rs1 7777
echo_server rs2 7777
dadm -A -t 192.168.10.100:7777 -s rr
dadm -a -t 192.168.10.100:7777 -r 10.0.0.7 -m
conns() { dadm -L -n -c | tail -n +3; }
# say LINE [SECS]: sends LINE, prints the echo (empty if none within SECS,
# 10 by default: the first line also waits for the connection, seconds on
# a busy machine; 3 where no echo is expected).
say() { echo "$1" >&"${ECHO[1]}"; local l=""; read -r -t "${2:-10}" l <&"${ECHO[0]}" || true; echo "$l"; }

expect_eq "expire_nodest_conn defaults to 0" 0 "$(in_ns director sysctl -n net.rvs.expire_nodest_conn)"
coproc ECHO { ip netns exec client socat - TCP:192.168.10.100:7777; }
expect_eq "echo before" one "$(say one)"
dadm -e -t 192.168.10.100:7777 -r 10.0.0.7 -m -w 0
expect_eq "quiescent server keeps its connection" two "$(say two)"
dadm -d -t 192.168.10.100:7777 -r 10.0.0.7
expect_eq "deleted server: packets dropped" "" "$(say three 3)"
expect_contains "deleted server: connection kept" "10.0.0.7:7777" "$(conns)"
dadm -a -t 192.168.10.100:7777 -r 10.0.0.7 -m
line=""; read -r -t 8 line <&"${ECHO[0]}" || true
expect_eq "re-added server: the connection resumes" three "$line"
expect_eq "and carries on" four "$(say four)"
kill "$ECHO_PID" 2>/dev/null || true; wait "$ECHO_PID" 2>/dev/null || true

in_ns director sysctl -qw net.rvs.expire_nodest_conn=1
coproc ECHO { ip netns exec client socat - TCP:192.168.10.100:7777; }
expect_eq "echo before" five "$(say five)"
dadm -d -t 192.168.10.100:7777 -r 10.0.0.7
sleep 2.5
expect_eq "expire_nodest_conn: connection expired" "" "$(conns | grep 10.0.0.7:7777 || true)"
kill "$ECHO_PID" 2>/dev/null || true; wait "$ECHO_PID" 2>/dev/null || true
