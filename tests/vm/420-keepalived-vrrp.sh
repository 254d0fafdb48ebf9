# timeout: 600
# lane: ipvs-abi
# keepalived VRRP failover as in seed 004: two directors (dir1 MASTER,
# dir2 BACKUP) on one LAN, each with its own rvs tables (one namespace
# each), both running keepalived with the same DR virtual_server. Stopping
# the master moves the VIP to the backup, and new client connections
# succeed through it. Then the same against ip_vs: the reference.
. "$RVS_TOP/tests/vm/lib.sh"
IPVSADM=/usr/sbin/ipvsadm

write_conf() { # NAME STATE PRIORITY
	cat >/tmp/ka-$1.conf <<CONF
global_defs { router_id $1 }
vrrp_instance VI_1 {
    state $2
    interface eth0
    virtual_router_id 51
    priority $3
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass 1111
    }
    virtual_ipaddress {
        $VIP/24 dev eth0
    }
}
virtual_server $VIP 80 {
    delay_loop 2
    lb_algo rr
    lb_kind DR
    protocol TCP
    real_server ${LAN_RS[0]} 80 {
        weight 1
        TCP_CHECK { connect_port 80 connect_timeout 2 }
    }
    real_server ${LAN_RS[1]} 80 {
        weight 1
        TCP_CHECK { connect_port 80 connect_timeout 2 }
    }
}
CONF
}

# (Each check one process, its output matched in bash.)
has_vip() { [[ $(ip -n "$1" -4 addr show dev eth0) == *" $VIP/"* ]]; }
has_servers() { # NS: its service lists two real servers ("Route" lines)
	local l n=0
	while IFS= read -r l; do [[ $l != *Route* ]] || n=$((n + 1)); done <<<"$(in_ns "$1" $IPVSADM -L -n -t $VIP:80)"
	[ $n = 2 ]
}
balanced() { # NS: its service counted at least 6 connections
	local l f=() n=
	while IFS= read -r l; do
		[[ $l == TCP* ]] && read -ra f <<<"$l" && n=${f[2]-}
	done <<<"$(in_ns "$1" $IPVSADM -L -n --stats -t $VIP:80)"
	[ "$n" -ge 6 ]
}
answers() { # N requests through the VIP, each a new connection, from one curl; prints how many succeeded
	local i l ok=0 args=()
	for ((i = 0; i < $1; i++)); do args+=(-o /dev/null http://$VIP/); done
	while read -r l; do [ "$l" != "0 1" ] || ok=$((ok + 1)); done \
		<<<"$(in_ns client curl -s --max-time 5 -w '%{exitcode} %{num_connects}\n' "${args[@]}")"
	echo $ok
}

run() { # BACKEND
	local b=$1
	topo_lan 2
	# topo_lan gives the director the VIP; here keepalived owns it.
	ip -n director -batch - <<<"addr del $VIP/24 dev eth0"$'\n'"link set eth0 down"
	# dir1 and dir2 on the LAN, one ip batch per namespace.
	printf '%s\n' "netns add dir1" "netns add dir2" \
		"link add p-dir1 netns lan type veth peer name eth0 netns dir1" \
		"link add p-dir2 netns lan type veth peer name eth0 netns dir2" | ip -batch -
	printf '%s\n' "link set p-dir1 master br0 up" "link set p-dir2 master br0 up" | ip -n lan -batch -
	for d in 1 2; do
		printf '%s\n' "link set lo up" "link set eth0 up" "addr add 192.168.20.1$d/24 dev eth0" | ip -n dir$d -batch -
	done
	for i in 1 2; do rs_dr $i; http_server rs$i rs$i 80; done
	write_conf $b-dir1 MASTER 100
	write_conf $b-dir2 BACKUP 99
	KA_NS=dir1 keepalived_start $b-dir1 /tmp/ka-$b-dir1.conf
	KA_NS=dir2 keepalived_start $b-dir2 /tmp/ka-$b-dir2.conf
	wait_for 30 "$b: dir1 holds the VIP" has_vip dir1
	wait_for 30 "$b: both directors have the real servers" eval "has_servers dir1 && has_servers dir2"
	has_vip dir2 && fail "$b: the backup holds the VIP too"
	expect_eq "$b: requests through the master" 6 "$(answers 6)"
	# ip_vs folds its per-CPU counters into the listing every 2 s.
	wait_for 10 "$b: the master counted them" balanced dir1
	keepalived_stop $b-dir1
	wait_for 20 "$b: the VIP moved to dir2" has_vip dir2
	has_vip dir1 && fail "$b: the stopped master kept the VIP"
	expect_eq "$b: new connections through the backup" 6 "$(answers 6)"
	wait_for 10 "$b: the backup counted them" balanced dir2
	keepalived_stop $b-dir2
	printf 'netns del %s\n' client director dir1 dir2 rs1 rs2 lan | ip -batch -
}

abi_run run
