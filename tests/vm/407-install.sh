# timeout: 400
# lane: serial (installs rvs where modprobe finds it; loads and unloads rvs and ip_vs)
# rvs installed as an operator installs it, into the guest's writable
# overlay of / (virtme-ng's: nothing reaches the host): `make install`
# (with its depmod), then `modprobe rvs` with the installed rvs.conf's
# options; with rvs-ipvs.conf linked into /etc/modprobe.d, Debian's
# keepalived, started with no module loaded, loads rvs by itself (its
# `modprobe ip_vs`), configures it and health-checks a real server out
# and back in; with the kernel's ip_vs loaded, `modprobe ip_vs_rr` loads
# the kernel's. The boot service's helper (what rvs.service runs): start
# restores a saved table byte for byte, stop saves it, a broken rules
# file leaves rvs loaded with an empty table and a clear message. `make
# uninstall` then takes it all away.
. "$RVS_TOP/tests/vm/lib.sh"
kver=$(uname -r)
mods=/lib/modules/$kver
orig=$(readlink -f "$mods")
[ -e "$orig/modules.dep" ] || fail "no module tree for $kver at $mods"
ADM=/usr/local/sbin/rvsadm
SERVICE=/usr/local/lib/rvs/rvs-service

unload_all() {
	rmmod rvs 2>/dev/null || true
	unload_ip_vs
}
# The guest's module tree is a link to the host's, read-only: a writable
# tree of links to it stands in (put back on exit, as is the rest).
cleanup() {
	keepalived_stop inst 2>/dev/null || true
	rm -f /etc/modprobe.d/rvs-ipvs.conf
	make -s -C "$RVS_TOP" uninstall >/dev/null 2>&1 || true
	rm -rf /etc/rvs /etc/default/rvs /etc/modprobe.d/rvs.conf
	rmmod rvs 2>/dev/null || true
	if [ -d "$mods" ] && [ ! -L "$mods" ]; then rm -rf "$mods" && ln -s "$orig" "$mods"; fi
}
trap cleanup EXIT
unload_all
rm "$mods"
mkdir "$mods"
cp -rs "$orig"/. "$mods"/

# --- make install ---
make -s -C "$RVS_TOP" install VARIANT="${RVS_KERNEL:-base}" >/tmp/inst.log 2>&1 ||
	fail "make install: $(cat /tmp/inst.log)"
for f in $mods/extra/rvs.ko /etc/modprobe.d/rvs.conf $ADM $SERVICE /usr/local/share/rvs/rvs-ipvs.conf \
	/usr/local/lib/systemd/system/rvs.service /etc/default/rvs; do
	[ -e "$f" ] || fail "make install did not put $f: $(cat /tmp/inst.log)"
done
expect_eq "depmod found the installed module" "$mods/extra/rvs.ko" "$(modinfo -n rvs)"
MANWIDTH=80 man --warnings -l /usr/local/share/man/man8/rvsadm.8 >/tmp/man.txt 2>/tmp/man.err || fail "man -l rvsadm.8: $(cat /tmp/man.err)"
[ ! -s /tmp/man.err ] || fail "man -l rvsadm.8 warned: $(cat /tmp/man.err)"
expect_contains "the installed man page renders" "DIFFERENCES FROM IPVSADM" "$(cat /tmp/man.txt)"
installed=$(awk '{print $2}' /usr/local/share/rvs/installed-files)
echo "ok: make install put $(wc -l <<<"$installed") files (its manifest)"

# --- modprobe rvs, with the installed rvs.conf's options ---
echo "options rvs conn_tab_bits=13" >>/etc/modprobe.d/rvs.conf
modprobe rvs || fail "modprobe rvs failed"
expect_contains "rvs.conf's conn_tab_bits applied" "(size=8192)" "$($ADM -L -n | head -1)"
modprobe -r rvs || fail "modprobe -r rvs failed"
sed -i '$d' /etc/modprobe.d/rvs.conf

# --- keepalived loads rvs through modprobe ip_vs ---
ln -s /usr/local/share/rvs/rvs-ipvs.conf /etc/modprobe.d/rvs-ipvs.conf
expect_contains "modprobe ip_vs would run rvs-modprobe" "rvs-modprobe ip_vs" "$(modprobe -n -v ip_vs 2>&1)"
topo_nat 2
conf=/tmp/ka-install.conf
{
	echo "global_defs { router_id rvs_install }"
	echo "virtual_server 192.168.10.100 80 {"
	echo "    delay_loop 1"
	echo "    lb_algo wlc"
	echo "    lb_kind NAT"
	echo "    protocol TCP"
	for rs in 10.0.0.7 10.0.0.17; do
		echo "    real_server $rs 80 {"
		echo "        weight 1"
		echo "        HTTP_GET { url { path /index.html status_code 200 }"
		echo "            connect_timeout 1 retry 1 delay_before_retry 1 }"
		echo "    }"
	done
	echo "}"
} >$conf
lsmod | grep -q '^rvs \|^ip_vs' && fail "a module is loaded before keepalived starts: $(lsmod)"
KA_NS=director keepalived_start inst $conf -C
wait_for 60 "keepalived loaded rvs with ipvs_abi=1 (modprobe ip_vs)" rvs_abi_loaded
masq() { in_ns director $ADM -L -n | grep -c 'Masq' || true; }
masq_is() { [ "$(masq)" = "$1" ]; }
wait_for 60 "keepalived put both real servers in" masq_is 2
expect_eq "the kernel's ip_vs stayed out" "" "$(lsmod | awk '$1 ~ /^ip_vs/')"
answers=$(for i in 1 2 3 4; do cget http://192.168.10.100/; done | sort | uniq -c | xargs)
expect_eq "both real servers answer through the VIP" "2 rs1 2 rs2" "$answers"
kill "$(httpd_pid rs1)"
wait_for 30 "keepalived took rs1 out when its check failed" masq_is 1
http_server rs1 rs1 80
wait_for 30 "keepalived put rs1 back" masq_is 2
keepalived_stop inst
for ns in client director rs1 rs2; do ip netns del $ns; done
rmmod rvs

# --- the kernel's ip_vs loaded: its modules load as if rvs-ipvs.conf were not there ---
modprobe --ignore-install ip_vs
modprobe ip_vs_rr || fail "modprobe ip_vs_rr next to the kernel's ip_vs failed"
lsmod | grep -q '^ip_vs_rr ' || fail "modprobe ip_vs_rr did not load the kernel's ip_vs_rr"
lsmod | grep -q '^rvs ' && fail "rvs loaded next to the kernel's ip_vs"
echo "ok: with the kernel's ip_vs loaded, modprobe ip_vs_rr loads the kernel's"
unload_ip_vs
rm /etc/modprobe.d/rvs-ipvs.conf

# --- the boot service's helper ---
modprobe rvs
for l in "-A -t 10.1.0.1:80 -s wrr -p 60" "-a -t 10.1.0.1:80 -r 10.2.0.1:8080 -m -w 3" \
	"-a -t 10.1.0.1:80 -r 10.2.0.2:8080 -g -w 1" "-A -u [2001:db8::1]:53 -s sh" "-A -f 7 -s mh"; do
	$ADM $l || fail "rvsadm $l"
done
$ADM -S -n >/tmp/saved.rules
modprobe -r rvs
mkdir -p /etc/rvs
cp /tmp/saved.rules /etc/rvs/rules
$SERVICE start >/tmp/svc.out 2>&1 || fail "rvs-service start: $(cat /tmp/svc.out)"
expect_eq "start: the saved table restored byte for byte" "$(cat /tmp/saved.rules)" "$($ADM -S -n)"
$ADM -a -u [2001:db8::1]:53 -r [2001:db8::53]:53 -g
want=$($ADM -S -n)
$SERVICE stop >/tmp/svc.out 2>&1 || fail "rvs-service stop: $(cat /tmp/svc.out)"
expect_eq "stop: the table saved" "$want" "$(cat /etc/rvs/rules)"
expect_eq "stop: the table cleared" "" "$($ADM -S -n)"
rmmod rvs
echo "-A -t 10.1.0.1:80 -s nosuch" >/etc/rvs/rules
rc=0; $SERVICE start >/tmp/svc.out 2>&1 || rc=$?
lsmod | grep -q '^rvs ' || fail "a broken rules file: rvs not loaded"
expect_eq "a broken rules file: the table empty" "" "$($ADM -S -n)"
expect_contains "a broken rules file: a clear message" "did not restore" "$(cat /tmp/svc.out)"
echo "ok: a broken rules file (start exit $rc): $(head -1 /tmp/svc.out)"
rmmod rvs
rm /etc/rvs/rules
$SERVICE start >/tmp/svc.out 2>&1 || fail "rvs-service start without rules: $(cat /tmp/svc.out)"
expect_contains "no rules file: an empty table, said so" "starting with an empty table" "$(cat /tmp/svc.out)"
rmmod rvs

# --- make uninstall ---
make -s -C "$RVS_TOP" uninstall >/tmp/uninst.log 2>&1 || fail "make uninstall: $(cat /tmp/uninst.log)"
for f in $installed /usr/local/share/rvs/installed-files; do
	[ ! -e "$f" ] || fail "make uninstall left $f"
done
modinfo -n rvs >/dev/null 2>&1 && fail "modprobe still finds rvs after make uninstall"
echo "ok: make uninstall took rvs away"
