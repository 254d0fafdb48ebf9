# timeout: 600
# What rvs's sync adds to IPVS's, each against ip_vs in the same VM:
# - Failback: after a failover to sdir2, sdir1 comes back empty (a new
#   namespace: a rebooted director), starts its backup daemon and takes
#   the VIP back a few seconds later. With rvs on both directors every
#   session carries on: sdir1's backup asked for a full resync when it
#   started, and sdir2's master sent its whole table. With ip_vs on both,
#   sdir1 knows only the sessions that reached a sync trigger (client
#   packet 53, 103, ...) meanwhile, and the others break (a figure).
# - Idle connections: with a 20 s ESTABLISHED timeout, sessions that send a
#   line every 4 s stay alive on the master (each packet restarts its
#   timer) but reach no sync trigger after packet 3 for minutes, and
#   sessions that only connected never reach packet 3 at all. rvs's
#   backup lists every one as long as the master does (the refresh walk);
#   ip_vs's backup loses the first kind and never has the second (a
#   figure).
. "$RVS_TOP/tests/vm/lib.sh"
. "$RVS_TOP/tests/vm/synclan.bash"
lsmod | grep -q '^rvs ' || load_rvs
modprobe ip_vs; modprobe ip_vs_rr
VIP=${SL_VIPS[0]}
N=10

daemon() { # IMPL NS master|backup
	sl_adm "$1" "$2" --start-daemon "$3" --mcast-interface eth0 --syncid 5
}

# failback IMPL: sets FAILBACK to the sessions that survived, "N/TOTAL".
failback() {
	local impl=$1 f f1 f2
	sl_dir 1; sl_dir 2
	daemon $impl sdir1 master; daemon $impl sdir2 backup
	sl_services $impl sdir1; sl_services $impl sdir2
	sl_takeover sdir1
	rm -f /tmp/sl-stop
	sl_sessions $VIP 7000 $N 0.5 /tmp/fb-7000.out
	sl_sessions $VIP 7001 $N 0.5 /tmp/fb-7001.out
	wait_for 60 "$impl: sessions open" eval 'grep -q open /tmp/fb-7000.out && grep -q open /tmp/fb-7001.out'
	sleep 3
	# Failover to sdir2, whose daemon turns master.
	ip -n sdir1 link set eth0 down
	sl_takeover sdir2
	sl_adm $impl sdir2 --stop-daemon backup
	daemon $impl sdir2 master
	sleep 3
	# sdir1 reboots: a new namespace, empty tables, the same services, its
	# backup daemon (keepalived would do the same).
	sl_dir_del 1; sl_dir 1
	sl_services $impl sdir1
	daemon $impl sdir1 backup
	sleep 3
	echo "$impl: sdir1 knows $(sl_entries $impl sdir1 7000)+$(sl_entries $impl sdir1 7001) sessions, sdir2 $(sl_entries $impl sdir2 7000)+$(sl_entries $impl sdir2 7001)"
	if [ $impl = rvs ]; then sl_adm rvs sdir1 -L --daemon --stats; sl_adm rvs sdir2 -L --daemon --stats; fi
	# Failback: sdir2 goes, sdir1 takes the VIP and turns master.
	ip -n sdir2 link set eth0 down
	sl_takeover sdir1
	sl_adm $impl sdir1 --stop-daemon backup
	daemon $impl sdir1 master
	sleep 4
	sl_stop /tmp/fb-7000.out /tmp/fb-7001.out
	f1=$(sl_failures /tmp/fb-7000.out); f2=$(sl_failures /tmp/fb-7001.out)
	f=$((f1 + f2))
	FAILBACK="$((2 * N - f))/$((2 * N))"
	sl_dir_del 1; sl_dir_del 2
}

# idle IMPL: sets IDLE and IDLE_COUNTS: what master and backup list of the
# silent sessions after 12 s and of the slow talkers after 30 s.
idle() {
	local impl=$1 n=6 quiet=4 q mq bq mt bt
	sl_dir 1; sl_dir 2
	for d in sdir1 sdir2; do sl_adm $impl $d --set 20 20 20; done
	daemon $impl sdir1 master; daemon $impl sdir2 backup
	sl_services $impl sdir1; sl_services $impl sdir2
	sl_takeover sdir1
	rm -f /tmp/sl-stop
	sl_sessions $VIP 7000 $n 4 /tmp/idle-talk.out
	in_ns sclient python3 -S -c '
import os, socket, sys, time
s = [socket.create_connection((sys.argv[1], 7001), timeout=10) for _ in range(int(sys.argv[2]))]
print("open", flush=True)
while not os.path.exists("/tmp/sl-stop"):
    time.sleep(0.5)
' $VIP $quiet >/tmp/idle-quiet.out 2>&1 &
	q=$!
	wait_for 30 "$impl: idle sessions open" eval 'grep -q open /tmp/idle-talk.out && grep -q open /tmp/idle-quiet.out'
	# The silent ones, well before their 20 s on the master run out.
	sleep 12
	mq=$(sl_entries $impl sdir1 7001); bq=$(sl_entries $impl sdir2 7001)
	# The slow talkers, after their copies from packet 3 would have expired.
	sleep 18
	mt=$(sl_entries $impl sdir1 7000); bt=$(sl_entries $impl sdir2 7000)
	sl_stop /tmp/idle-talk.out
	wait $q || true
	IDLE="silent: master $mq, backup $bq of $quiet after 12 s; slow: master $mt, backup $bt of $n after 30 s"
	IDLE_COUNTS="$mq $bq $mt $bt"
	sl_dir_del 1; sl_dir_del 2
}

# The ip_vs halves only give figures to compare with and run no rvs code:
# the debug kernel runs rvs's alone.
with_ipvs=$(long_or 1 1 0)
not_run="not run on the debug kernel"
sl_topo
failback rvs; rvs_fb=$FAILBACK
ipvs_fb=$not_run; if [ $with_ipvs = 1 ]; then failback ipvs; ipvs_fb=$FAILBACK; fi
figure sync-failback "sessions surviving a failover, then a failback to an emptied director: rvs $rvs_fb, ip_vs $ipvs_fb"
expect_eq "rvs: every session survives the failback" "$((2 * N))/$((2 * N))" "$rvs_fb"
idle rvs; rvs_idle=$IDLE; rvs_counts=$IDLE_COUNTS
ipvs_idle=$not_run; if [ $with_ipvs = 1 ]; then idle ipvs; ipvs_idle=$IDLE; fi
figure sync-idle "ESTABLISHED entries of idle sessions (20 s timeout): rvs $rvs_idle; ip_vs $ipvs_idle"
expect_eq "rvs: master and backup both list every idle session" "4 4 6 6" "$rvs_counts"
sl_del
