# timeout: 900
# lane: ipvs-abi
# keepalived 2.2.7 (Debian's, unmodified) manages rvs through the IPVS ABI
# and health-checks the real servers, in the style of seeds 003 (DR, rr,
# persistence_timeout, HTTP_GET on /index.html) and 004 (TUN, three real
# servers, TCP_CHECK, alpha), plus an inhibit_on_failure variant. For each:
# the real servers appear; stopping one server's HTTP server removes it
# (or sets its weight to 0) within the checker's delay; a client loop then
# sees no failed request; restarting it brings the server back. The same
# scenarios run against the kernel's ip_vs afterwards: the reference.
. "$RVS_TOP/tests/vm/lib.sh"
IPVSADM=/usr/sbin/ipvsadm
conf=/tmp/ka-health.conf

# The checker runs every second, and gives up after one failed retry.
write_conf() { # KIND CHECK EXTRA
	local kind=$1 check=$2 extra=$3 i rs
	{
		echo "global_defs { router_id rvs_test }"
		echo "virtual_server $VIP 80 {"
		echo "    delay_loop 1"
		echo "    lb_algo rr"
		echo "    lb_kind $kind"
		echo "    protocol TCP"
		echo "    $extra"
		for rs in "${RS_LIST[@]}"; do
			echo "    real_server $rs 80 {"
			echo "        weight 1"
			if [ "$check" = HTTP_GET ]; then
				echo "        HTTP_GET { url { path /index.html status_code 200 }"
			else
				echo "        TCP_CHECK { connect_port 80"
			fi
			echo "            connect_timeout 1 retry 1 delay_before_retry 1 }"
			echo "    }"
		done
		echo "}"
	} >$conf
}

# weights: every real server's weight on $VIP:80 as listed (one listing
# for all of them), in W (address => weight); a server not listed is
# "absent" (${W[$rs]-absent}).
declare -A W=()
weights() {
	local l a b c d
	W=()
	l=$(in_ns director $IPVSADM -L -n -t $VIP:80) || l=
	while read -r a b c d _; do [[ $b != *:80 ]] || W[${b%:80}]=$d; done <<<"$l"
}
all_up() {
	local rs
	weights
	for rs in "${RS_LIST[@]}"; do [ "${W[$rs]-absent}" = 1 ] || return 1; done
}
is_down() { # RS GONE_STATE (absent or 0)
	weights
	[ "${W[$1]-absent}" = "$2" ]
}
# client_loop N: N requests, each a new connection, from one curl (a
# process start costs more than the requests); prints the failures (a
# request that failed, or that did not connect anew).
client_loop() {
	local i out l ok=0 args=()
	for ((i = 0; i < $1; i++)); do args+=(-o /dev/null http://$VIP/); done
	out=$(in_ns client curl -s --max-time 3 -w '%{exitcode} %{num_connects}\n' "${args[@]}") || :
	while read -r l; do [ "$l" != "0 1" ] || ok=$((ok + 1)); done <<<"$out"
	echo $(($1 - ok))
}
# httpd_of NS: the busybox httpd serving in NS (httpd_pid's: the lowest
# pid, its parent), in HTTPD; fails when there is none.
httpd_of() {
	local p args
	HTTPD=
	ns_pids "$1"
	for p in "${NS_PIDS[@]}"; do
		mapfile -d '' -t args 2>/dev/null <"/proc/$p/cmdline" || continue
		[[ ${args[*]-} == *httpd* ]] || continue
		[ -n "$HTTPD" ] && [ "$HTTPD" -lt "$p" ] || HTTPD=$p
	done
	[ -n "$HTTPD" ] || { echo "no httpd in $1" >&2; return 1; }
}

# scenario NAME KIND CHECK EXTRA DOWN_STATE: one run against the loaded backend.
scenario() {
	local name=$1 kind=$2 check=$3 extra=$4 down=$5 victim pid fails
	write_conf "$kind" "$check" "$extra"
	keepalived_start $name $conf -C
	wait_for 30 "$name: real servers up" all_up
	victim=${RS_LIST[1]}
	httpd_of rs2; kill "$HTTPD"
	# delay_loop 1 + connect_timeout 1 + one retry after 1 s: ~3-4 s.
	wait_for 15 "$name: rs2 taken out ($down)" is_down $victim $down
	fails=$(client_loop 12)
	expect_eq "$name: no failed request after rs2 is out" 0 "$fails"
	in_ns rs2 busybox httpd -p 80 -h /tmp/www-rs2-80
	wait_for 15 "$name: rs2 back" all_up
	# Without persistence (which pins this one client), rr reaches all.
	if [[ $extra != *persistence* ]]; then
		# One curl for the requests; their answers sorted in bash.
		local urls=() want= got= answers=() a i j
		for ((i = 1; i <= ${#RS_LIST[@]}; i++)); do urls+=(http://$VIP/); want+="rs$i "; done
		a=$(cget "${urls[@]}") || :
		[ -z "$a" ] || mapfile -t answers <<<"$a"
		for ((i = 1; i < ${#answers[@]}; i++)); do
			for ((j = i; j > 0; j--)); do
				[[ ${answers[j - 1]} > ${answers[j]} ]] || break
				a=${answers[j]}; answers[j]=${answers[j - 1]}; answers[j - 1]=$a
			done
		done
		for a in "${answers[@]}"; do got+="$a "; done
		expect_eq "$name: every server answers again" "$want" "$got"
	fi
	keepalived_stop $name
	in_ns director $IPVSADM -C
}

run_all() { # BACKEND
	local b=$1
	# Seed 003: DR, HTTP_GET, persistence (short: persistence keeps a
	# client on the removed server only until keepalived removes it).
	topo_lan 2
	for i in 1 2; do rs_dr $i; http_server rs$i rs$i 80; done
	RS_LIST=(${LAN_RS[0]} ${LAN_RS[1]})
	scenario $b-dr DR HTTP_GET "persistence_timeout 2" absent
	# The same with inhibit_on_failure: weight 0 instead of removal. As
	# keepalived's documentation advises, persistence templates of a
	# quiescent server expire, or the client would stick to it.
	in_ns director sysctl -qw net.ipv4.vs.expire_quiescent_template=1
	scenario $b-dr-inhibit DR HTTP_GET "persistence_timeout 2
    inhibit_on_failure" 0
	printf 'netns del %s\n' client director rs1 rs2 lan | ip -batch -
	# Seed 004: TUN, three servers, TCP_CHECK, alpha.
	topo_lan 3
	for i in 1 2 3; do rs_tun $i; http_server rs$i rs$i 80; done
	RS_LIST=(${LAN_RS[0]} ${LAN_RS[1]} ${LAN_RS[2]})
	scenario $b-tun TUN TCP_CHECK "alpha" absent
	printf 'netns del %s\n' client director rs1 rs2 rs3 lan | ip -batch -
}

abi_run run_all
