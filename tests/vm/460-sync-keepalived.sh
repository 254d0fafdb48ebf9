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

# (Each check one process through in_ns, its output matched in bash.)
has_vip() { [[ $(ip -n "$1" -4 addr show dev eth0) == *" $2/"* ]]; }
# servers_listed: each director lists two real servers ("Route" lines)
# under each VIP's service (one -L -n listing per director).
servers_listed() {
	local d v l svc
	local -A n=()
	for d in 1 2; do
		svc=
		while IFS= read -r l; do
			[[ $l == [A-Z]* ]] && { read -r _ svc _ <<<"$l"; continue; }
			[[ $l != *Route* ]] || n[$svc]=$((${n[$svc]-0} + 1))
		done <<<"$(in_ns sdir$d $IPVSADM -L -n)"
		for v in $VIP $VIP2; do [ "${n[$v:7000]-0}" = 2 ] || return 1; done
		n=()
	done
}
# daemons: both directors list sync daemons (-L --daemon), in DAEMONS[N].
declare -A DAEMONS=()
daemons() {
	local d
	for d in 1 2; do DAEMONS[$d]=$(in_ns sdir$d $IPVSADM -L --daemon) || DAEMONS[$d]=; done
	[ -n "${DAEMONS[1]}" ] && [ -n "${DAEMONS[2]}" ]
}
# established NS: how many ESTABLISHED lines NS lists (-L -n -c).
established() {
	local l n=0
	while IFS= read -r l; do [[ $l != *ESTABLISHED* ]] || n=$((n + 1)); done <<<"$(in_ns "$1" $IPVSADM -L -n -c)"
	echo $n
}

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
	if ! poll_for 40 servers_listed; then
		ip netns exec sdir1 $IPVSADM -L -n; ip netns exec sdir2 $IPVSADM -L -n; tail -30 /tmp/ka-$b-sdir1.log
		fail "$b: both directors have the real servers: not within 40 s"
	fi
	wait_for 20 "$b: keepalived started the sync daemons" daemons
	echo "sdir1: ${DAEMONS[1]}"; echo "sdir2: ${DAEMONS[2]}"
	rm -f /tmp/sl-stop
	sl_sessions $VIP 7000 $N 0.5 /tmp/ka-s1.out
	sl_sessions $VIP2 7000 $N 0.5 /tmp/ka-s2.out
	wait_for 60 "$b: sessions open" eval 'line_in /tmp/ka-s1.out "*open*" && line_in /tmp/ka-s2.out "*open*"'
	nap 5
	echo "$b: sdir1 lists $(established sdir1) connections, sdir2 $(established sdir2)"
	# sdir1 dies.
	ip -n sdir1 link set eth0 down
	wait_for 20 "$b: $VIP moved to sdir2" has_vip sdir2 $VIP
	nap 4
	sl_stop /tmp/ka-s1.out /tmp/ka-s2.out
	f1=$(sl_failures /tmp/ka-s1.out); f2=$(sl_failures /tmp/ka-s2.out)
	echo "sdir2 after: $(in_ns sdir2 $IPVSADM -L --daemon)"
	figure "sync-keepalived-$b" "sessions through the failed director: $((N - f1))/$N survived; through the other: $((N - f2))/$N"
	KA_RESULT="$f1 $f2"
	keepalived_stop $b-sdir1
	keepalived_stop $b-sdir2
	local l n=0
	# (grep -i sync | head -5)
	[ ! -r /tmp/ka-$b-sdir2.log ] ||
		while IFS= read -r l && [ $n -lt 5 ]; do [[ ${l,,} != *sync* ]] || { echo "$l"; n=$((n + 1)); }; done </tmp/ka-$b-sdir2.log
	sl_del
}

scenario() { # BACKEND
	run "$1"
	[ "$1" != rvs ] || expect_eq "rvs: every session survives sdir1's death" "0 0" "$KA_RESULT"
}
abi_run scenario
