# timeout: 600
# lane: ipvs-abi
# Seed 003 with keepalived (ipvs_abi=1): two directors master/master, two
# VRRP instances (bl_one: VIP 192.168.20.100, master on dir1; bl_two:
# 192.168.20.110, master on dir2), `lvs_sync_daemon_interface eth0` in
# both, DR, rr, persistence_timeout 50. keepalived starts the sync daemons
# itself (`ipvsadm -L --daemon` on both). The client holds sessions to
# both VIPs; dir1 dies (its link goes down), dir2 takes bl_one's VIP over,
# and every session through sdir1 carries on. Then the same against ip_vs:
# the reference.
. "$RVS_TOP/tests/vm/lib.sh"
. "$RVS_TOP/tests/vm/synclan.bash"
VIP=${SL_VIPS[0]} VIP2=${SL_VIPS[1]}
N=12

write_conf() { # NAME PRIO_ONE PRIO_TWO
	local s1=BACKUP s2=BACKUP v rs
	[ "$2" -gt "$3" ] && s1=MASTER || s2=MASTER
	{
		cat <<CONF
global_defs { router_id $1 }
vrrp_instance bl_one {
    state $s1
    interface eth0
    lvs_sync_daemon_interface eth0
    virtual_router_id 38
    priority $2
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass 1111
    }
    virtual_ipaddress {
        $VIP/24 dev eth0
    }
}
vrrp_instance bl_two {
    state $s2
    interface eth0
    lvs_sync_daemon_interface eth0
    virtual_router_id 48
    priority $3
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass 1111
    }
    virtual_ipaddress {
        $VIP2/24 dev eth0
    }
}
CONF
		for v in $VIP $VIP2; do
			echo "virtual_server $v 7000 {"
			echo "    delay_loop 3"
			echo "    lb_algo rr"
			echo "    lb_kind DR"
			echo "    persistence_timeout 50"
			echo "    protocol TCP"
			for rs in 192.168.20.21 192.168.20.22; do
				echo "    real_server $rs 7000 {"
				echo "        weight 1"
				echo "        TCP_CHECK {"
				echo "            connect_port 7000"
				echo "            connect_timeout 3"
				echo "        }"
				echo "    }"
			done
			echo "}"
		done
	} >/tmp/ka-$1.conf
}

poll_ok() { # SECONDS COMMAND...: true once COMMAND succeeds
	local i
	for i in $(seq 1 $(($1 * 5))); do "${@:2}" >/dev/null 2>&1 && return 0; sleep 0.2; done
	return 1
}
has_vip() { ip -n "$1" -4 addr show dev eth0 | grep -q " $2/"; }
has_servers() { [ "$(ip netns exec "$1" $IPVSADM -L -n -t "$2":7000 | grep -c Route)" = 2 ]; }
daemons() { ip netns exec "$1" $IPVSADM -L --daemon; }

run() { # BACKEND
	local b=$1 f1 f2
	sl_topo
	sl_dir 1; sl_dir 2
	write_conf $b-sdir1 150 120
	write_conf $b-sdir2 120 150
	KA_NS=sdir1 keepalived_start $b-sdir1 /tmp/ka-$b-sdir1.conf
	KA_NS=sdir2 keepalived_start $b-sdir2 /tmp/ka-$b-sdir2.conf
	wait_for 30 "$b: sdir1 holds $VIP" has_vip sdir1 $VIP
	wait_for 30 "$b: sdir2 holds $VIP2" has_vip sdir2 $VIP2
	if ! poll_ok 40 eval "has_servers sdir1 $VIP && has_servers sdir2 $VIP && has_servers sdir1 $VIP2 && has_servers sdir2 $VIP2"; then
		ip netns exec sdir1 $IPVSADM -L -n; ip netns exec sdir2 $IPVSADM -L -n; tail -30 /tmp/ka-$b-sdir1.log
		fail "$b: both directors have the real servers: not within 40 s"
	fi
	wait_for 20 "$b: keepalived started the sync daemons" eval '[ -n "$(daemons sdir1)" ] && [ -n "$(daemons sdir2)" ]'
	echo "sdir1: $(daemons sdir1)"; echo "sdir2: $(daemons sdir2)"
	rm -f /tmp/sl-stop
	sl_sessions $VIP 7000 $N 0.5 /tmp/ka-s1.out
	sl_sessions $VIP2 7000 $N 0.5 /tmp/ka-s2.out
	wait_for 60 "$b: sessions open" eval 'grep -q open /tmp/ka-s1.out && grep -q open /tmp/ka-s2.out'
	sleep 5
	echo "$b: sdir1 lists $(ip netns exec sdir1 $IPVSADM -L -n -c | grep -c ESTABLISHED) connections, sdir2 $(ip netns exec sdir2 $IPVSADM -L -n -c | grep -c ESTABLISHED)"
	# sdir1 dies.
	ip -n sdir1 link set eth0 down
	wait_for 20 "$b: $VIP moved to sdir2" has_vip sdir2 $VIP
	sleep 4
	sl_stop /tmp/ka-s1.out /tmp/ka-s2.out
	f1=$(sl_failures /tmp/ka-s1.out); f2=$(sl_failures /tmp/ka-s2.out)
	echo "sdir2 after: $(daemons sdir2)"
	figure "sync-keepalived-$b" "sessions through the failed director: $((N - f1))/$N survived; through the other: $((N - f2))/$N"
	KA_RESULT="$f1 $f2"
	keepalived_stop $b-sdir1
	keepalived_stop $b-sdir2
	grep -iE 'sync' /tmp/ka-$b-sdir2.log | head -5 || true
	sl_del
}

scenario() { # BACKEND
	run "$1"
	[ "$1" != rvs ] || expect_eq "rvs: every session survives sdir1's death" "0 0" "$KA_RESULT"
}
abi_run scenario
