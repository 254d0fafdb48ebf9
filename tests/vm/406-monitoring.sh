# timeout: 400
# lane: serial (swaps ip_vs and rvs (ipvs_abi=1))
# Monitoring that exists reads rvs as it reads IPVS: Prometheus
# node_exporter's ipvs collector (it parses /proc/net/ip_vs and
# /proc/net/ip_vs_stats) and collectd's ipvs plugin (socket options:
# GET_INFO, GET_SERVICES, GET_DESTS), both from Debian. For the same
# configuration (UDP and TCP NAT services, a firewall mark, an IPv6
# service) and the same traffic (6 UDP queries, counted alike by both),
# every metric and value must be ip_vs's. On the debug kernel only rvs's
# half runs, checked by the values it must show.
. "$RVS_TOP/tests/vm/lib.sh"
debug=0; [ "${RVS_KERNEL:-base}" = debug ] && debug=1
unload_ip_vs
IPVSADM=/usr/sbin/ipvsadm
NODE_EXPORTER=/usr/bin/prometheus-node-exporter
out=/tmp/mon; rm -rf $out; mkdir -p $out
[ -x $NODE_EXPORTER ] || fail "no node_exporter (scripts/setup.sh installs prometheus-node-exporter)"
[ -e /usr/lib/collectd/ipvs.so ] || fail "no collectd ipvs plugin (scripts/setup.sh installs collectd-core)"

config='-A -u 192.168.10.100:53 -s rr
-a -u 192.168.10.100:53 -r 10.0.0.7:53 -m
-a -u 192.168.10.100:53 -r 10.0.0.17:53 -m -w 2
-A -t 192.168.10.100:80 -s wlc
-a -t 192.168.10.100:80 -r 10.0.0.7:80 -m
-A -f 5 -s sh
-a -f 5 -r 10.0.0.17:0 -g -w 3
-A -t [2001:db8::1]:80 -s rr
-a -t [2001:db8::1]:80 -r [2001:db8::10]:80 -m'

# total_conns_are N: /proc/net/ip_vs_stats counts N connections (ip_vs
# folds its per-CPU counters in on its estimator's 2 s tick).
total_conns_are() { [ "$(in_ns director awk 'NR == 3 {print $1}' /proc/net/ip_vs_stats)" = "$(printf '%X' "$1")" ]; }
# collectd_rounds IMPL N: collectd's CSV files hold N values each.
collectd_rounds() {
	local f n=0
	for f in $(find $out/$1.csv -type f 2>/dev/null); do
		[ "$(wc -l <"$f")" -gt "$2" ] || return 1
		n=$((n + 1))
	done
	[ $n -gt 0 ]
}

# run IMPL: the configuration and traffic; then each agent's view of it.
run() {
	topo_nat 2
	ns_lines director $out/$1.config $IPVSADM <<<"$config"
	for i in $out/$1.config*; do grep -qx 'exit 0' "$i" || fail "$1: $(cat "$i")"; done
	udp_server rs1 rs1 53; udp_server rs2 rs2 53
	for i in 1 2 3 4 5 6; do expect_contains "$1: UDP query $i answered" rs "$(uget 192.168.10.100 53)"; done
	wait_for 20 "$1 counts 6 connections" total_conns_are 6

	nsrun director $NODE_EXPORTER --collector.disable-defaults --collector.ipvs \
		--web.listen-address=127.0.0.1:9100 >$out/$1.node_exporter.log 2>&1 &
	local ne=$!
	wait_for 60 "$1: node_exporter answers" in_ns director curl -sf -o $out/$1.metrics http://127.0.0.1:9100/metrics
	kill $ne; wait $ne 2>/dev/null || true
	grep -E '^node_ipvs|^node_scrape_collector_success\{collector="ipvs"\}' $out/$1.metrics >$out/$1.node_ipvs || true

	cat >$out/$1.collectd.conf <<-EOF
	Hostname "director"
	FQDNLookup false
	BaseDir "$out"
	PIDFile "$out/$1.collectd.pid"
	Interval 1
	LoadPlugin ipvs
	LoadPlugin csv
	<Plugin csv>
	  DataDir "$out/$1.csv"
	  StoreRates false
	</Plugin>
	EOF
	nsrun director collectd -f -C $out/$1.collectd.conf >$out/$1.collectd.log 2>&1 &
	local cd=$!
	wait_for 60 "$1: collectd wrote two rounds" collectd_rounds $1 2
	kill $cd; wait $cd 2>/dev/null || true
	# One line per value: file (without its date), then the newest values.
	(cd $out/$1.csv && for f in $(find . -type f | sort); do
		echo "${f%-[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]}: $(tail -1 "$f" | cut -d, -f2-)"
	done) >$out/$1.collectd
	for ns in client director rs1 rs2; do ip netns del $ns; done
}

# What each agent must show, whichever module it reads.
shows() {
	local impl=$1
	echo "--- $impl: node_exporter's ipvs samples, then collectd's values:"
	cat $out/$impl.node_ipvs $out/$impl.collectd
	grep -qx 'node_ipvs_connections_total 6' $out/$impl.node_ipvs ||
		fail "$impl: node_exporter does not count 6 connections: $(cat $out/$impl.node_ipvs)"
	grep -q 'node_ipvs_backend_connections_inactive{local_address="192.168.10.100",local_mark="",local_port="53",proto="UDP",remote_address="10.0.0.7",remote_port="53"} 3' \
		$out/$impl.node_ipvs || fail "$impl: node_exporter does not show rs1's 3 UDP connections: $(cat $out/$impl.node_ipvs)"
	grep -q 'local_mark="00000005"' $out/$impl.node_ipvs || fail "$impl: node_exporter does not show the firewall-mark service"
	grep -q 'local_address="2001:db8::1"' $out/$impl.node_ipvs || fail "$impl: node_exporter does not show the IPv6 service"
	grep -q '^./director/ipvs-192.168.10.100_UDP53/connections-10.0.0.7_53: 3$' $out/$impl.collectd ||
		fail "$impl: collectd does not count rs1's 3 connections: $(cat $out/$impl.collectd)"
	grep -q '^./director/ipvs-192.168.10.100_UDP53/connections-total: 6$' $out/$impl.collectd ||
		fail "$impl: collectd does not count the service's 6 connections"
	echo "ok: $impl: node_exporter shows $(wc -l <$out/$impl.node_ipvs) ipvs samples, collectd $(wc -l <$out/$impl.collectd) values"
}

load_rvs ipvs_abi=1
run rvs
rmmod rvs
shows rvs
if [ $debug = 1 ]; then
	echo "debug kernel: the comparison with ip_vs runs on the base kernel"
	exit 0
fi

modprobe ip_vs
for s in rr wlc sh; do modprobe ip_vs_$s; done
run ipvs
# ip_vs lets go of its schedulers an RCU grace period after the flush.
ip_vs_gone() { unload_ip_vs 2>/dev/null; ! lsmod | grep -q '^ip_vs'; }
wait_for 30 "ip_vs unloaded" ip_vs_gone
shows ipvs
diff $out/ipvs.node_ipvs $out/rvs.node_ipvs >$out/node.diff ||
	fail "node_exporter reads rvs otherwise than ip_vs (< ip_vs, > rvs): $(cat $out/node.diff)"
echo "ok: node_exporter's $(wc -l <$out/rvs.node_ipvs) ipvs samples as with ip_vs"
diff $out/ipvs.collectd $out/rvs.collectd >$out/collectd.diff ||
	fail "collectd reads rvs otherwise than ip_vs (< ip_vs, > rvs): $(cat $out/collectd.diff)"
echo "ok: collectd's $(wc -l <$out/rvs.collectd) ipvs values as with ip_vs"
