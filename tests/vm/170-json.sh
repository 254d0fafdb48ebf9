# timeout: 120
# --json on every listing: valid JSON carrying what the text listing shows.
. "$RVS_TOP/tests/vm/lib.sh"
load_rvs
rvsadm -A -t 192.168.10.100:80 -s wrr -p 20
rvsadm -a -t 192.168.10.100:80 -r 10.0.0.7 -m -w 3
rvsadm -a -t 192.168.10.100:80 -r 10.0.0.17:8080 -m -w 1 -x 10 -y 5
rvsadm -A -f 5 -6 -s mh -b mh-port
rvsadm --set 30 6 60
check_json() { # check_json WHAT PYTHON-ASSERTIONS ARGS...
	local what=$1 asserts=$2; shift 2
	rvsadm "$@" | python3 -S -c "import json,sys; d=json.load(sys.stdin); $asserts" ||
		fail "$what: $(rvsadm "$@")"
	echo "ok: $what"
}
check_json "-L -n --json" '
s=[x for x in d["services"] if x["port"]==80][0]
assert d["version"]=="1.2.1" and d["conn_tab_size"]==4096
assert s["protocol"]=="TCP" and s["address"]=="192.168.10.100" and s["scheduler"]=="wrr"
assert "persistent" in s["flags"] and s["persistent_timeout"]==20
rs={r["address"]:r for r in s["real_servers"]}
assert rs["10.0.0.7"]["weight"]==3 and rs["10.0.0.7"]["forward"]=="Masq"
assert rs["10.0.0.17"]["port"]==8080 and rs["10.0.0.17"]["upper_threshold"]==10
f=[x for x in d["services"] if x["fwmark"]==5][0]
assert f["af"]=="inet6" and f["scheduler"]=="mh"
' -L -n --json
check_json "one service" 'assert len(d["services"])==1' -L -n -t 192.168.10.100:80 --json
check_json "timeouts" 'assert d=={"tcp":30,"tcpfin":6,"udp":60}' -L --timeout --json
check_json "connections" 'assert d["connections"]==[]' -L -n -c --json
check_json "save" 'assert len(d["services"])==2' -S --json
set +e
out=$(rvsadm -A -t 10.0.0.1:80 --json 2>&1); rc=$?
set -e
[ $rc != 0 ] || fail "--json with -A accepted"
expect_contains "--json refused with -A" "Illegal 'json' option" "$out"
