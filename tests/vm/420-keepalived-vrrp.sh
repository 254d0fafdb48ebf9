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

has_vip() { ip -n "$1" -4 addr show dev eth0 | grep -q " $VIP/"; }
has_servers() { [ "$(ip netns exec "$1" $IPVSADM -L -n -t $VIP:80 | grep -c Route)" = 2 ]; }
balanced() { # NS: its service counted at least 6 connections
	[ "$(ip netns exec "$1" $IPVSADM -L -n --stats -t $VIP:80 | awk '/^TCP/ {print $3}')" -ge 6 ]
}
answers() { # N requests through the VIP; prints how many succeeded
	local ok=0 i
	for i in $(seq 1 "$1"); do cget http://$VIP/ >/dev/null && ok=$((ok + 1)); done
	echo $ok
}

run() { # BACKEND
	local b=$1
	topo_lan 2
	# topo_lan gives the director the VIP; here keepalived owns it.
	ip -n director addr del $VIP/24 dev eth0
	ip netns exec director ip link set eth0 down
	new_netns dir1; new_netns dir2
	for d in dir1 dir2; do
		veth_pair lan p-$d $d eth0
		ip -n lan link set p-$d master br0
	done
	ip -n dir1 addr add 192.168.20.11/24 dev eth0
	ip -n dir2 addr add 192.168.20.12/24 dev eth0
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
	for ns in client director dir1 dir2 rs1 rs2 lan; do ip netns del $ns; done
}

abi_run run
