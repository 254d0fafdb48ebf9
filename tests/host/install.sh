#!/usr/bin/env bash
# Host test of installing rvs (issue 16): `make install` / `make uninstall`
# into scratch DESTDIRs (file lists, conffiles, depmod), the modprobe files
# (parsed by kmod itself, every IPVS module name covered), rvs-modprobe and
# rvs-service against stand-in modprobe and rvsadm, the systemd unit
# (systemd-analyze verify), the man page (rendered, every rvsadm option in
# it), dkms.conf, and the demo's labels. Needs `make all`'s rvs.ko and
# target/release/rvsadm (scripts/test.sh runs it after the build). Nothing
# outside its scratch directories is touched, and no module is loaded.
# Ends with `N passed, N failed`; exits 1 on any failure.
set -euo pipefail
. "$(dirname "$0")/../../scripts/common.sh"
cd "$RVS_TOP"
PATH=$PATH:/usr/sbin:/sbin

passed=0 failed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
bad() { echo "FAIL: $*"; failed=$((failed + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
# same WHAT EXPECTED ACTUAL
same() {
	if [ "$2" = "$3" ]; then ok "$1"; else
		bad "$1"; echo "--- expected"; printf '%s\n' "$2"; echo "--- actual"; printf '%s\n' "$3"
	fi
}
skip() { echo "SKIP (not checked here): $*"; }
files() { (cd "$1" && find . \( -type f -o -type l \) | sed 's/^\.//' | sort); }
# kernel_in DIR: DIR/lib/modules/<release> as an installed kernel's, with no modules.
kernel_in() {
	mkdir -p "$1/lib/modules/$rel"
	(cd "$1/lib/modules/$rel" && : >modules.order && : >modules.builtin && : >modules.builtin.modinfo)
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
kdir=$(kernel_build_dir base)
if ! [ -f rvs.ko ] || ! [ -x target/release/rvsadm ]; then
	bad "rvs.ko and target/release/rvsadm built (run make all first)"; echo "$passed passed, $failed failed"; exit 1
fi
[ -r "$kdir/include/config/kernel.release" ] || { bad "the test kernel at $kdir"; echo "$passed passed, $failed failed"; exit 1; }
rel=$(cat "$kdir/include/config/kernel.release")
# minst DESTDIR [VAR=VALUE...]: make install there (never without DESTDIR).
minst() { local d=$1; shift; [ -n "$d" ] && make -s install DESTDIR="$d" KDIR="$kdir" "$@" >"$tmp/out" 2>&1; }
muninst() { local d=$1; shift; [ -n "$d" ] && make -s uninstall DESTDIR="$d" "$@" >"$tmp/out" 2>&1; }

echo "== make install / make uninstall (DESTDIR, PREFIX=/usr/local)"
d=$tmp/d1
check "make install" minst "$d" || cat "$tmp/out"
want="/etc/default/rvs
/etc/modprobe.d/rvs.conf
/lib/modules/$rel/extra/rvs.ko
/usr/local/lib/rvs/rvs-modprobe
/usr/local/lib/rvs/rvs-service
/usr/local/lib/systemd/system/rvs.service
/usr/local/sbin/rvsadm
/usr/local/share/man/man8/rvsadm.8
/usr/local/share/rvs/installed-files
/usr/local/share/rvs/rvs-ipvs.conf"
same "installed files" "$want" "$(files "$d")"
same "the manifest lists them all" "$(grep -v installed-files <<<"$want")" \
	"$(awk '{print $2}' "$d/usr/local/share/rvs/installed-files" | sort)"
check "rvs.ko is the built one" cmp -s rvs.ko "$d/lib/modules/$rel/extra/rvs.ko"
check "rvsadm is the built one" cmp -s target/release/rvsadm "$d/usr/local/sbin/rvsadm"
check "programs are executable" test -x "$d/usr/local/sbin/rvsadm" -a -x "$d/usr/local/lib/rvs/rvs-service" -a -x "$d/usr/local/lib/rvs/rvs-modprobe"
check "no placeholder left" bash -c "! grep -rl '@[A-Z]*@' '$d/etc' '$d/usr/local/lib' '$d/usr/local/share'"
check "the unit runs the installed helper" grep -qx 'ExecStart=/usr/local/lib/rvs/rvs-service start' "$d/usr/local/lib/systemd/system/rvs.service"
check "the helper runs the installed rvsadm" grep -q 'RVSADM:-/usr/local/sbin/rvsadm}' "$d/usr/local/lib/rvs/rvs-service"
check "no depmod into a DESTDIR without that kernel" test ! -e "$d/lib/modules/$rel/modules.dep"
check "make uninstall" muninst "$d" || cat "$tmp/out"
same "nothing left but directories" "" "$(files "$d")"
check "the package's own directories removed" test ! -e "$d/usr/local/lib/rvs" -a ! -e "$d/usr/local/share/rvs"
check "uninstall with nothing installed fails" bash -c "! make -s uninstall DESTDIR='$d' 2>/dev/null"

echo "== PREFIX=/usr"
d=$tmp/d2
check "make install PREFIX=/usr" minst "$d" PREFIX=/usr || cat "$tmp/out"
same "installed files" "/etc/default/rvs
/etc/modprobe.d/rvs.conf
/lib/modules/$rel/extra/rvs.ko
/usr/lib/rvs/rvs-modprobe
/usr/lib/rvs/rvs-service
/usr/lib/systemd/system/rvs.service
/usr/sbin/rvsadm
/usr/share/man/man8/rvsadm.8
/usr/share/rvs/installed-files
/usr/share/rvs/rvs-ipvs.conf" "$(files "$d")"
check "rvs-ipvs.conf runs /usr/lib/rvs/rvs-modprobe" grep -q '^install ip_vs /usr/lib/rvs/rvs-modprobe ip_vs ' "$d/usr/share/rvs/rvs-ipvs.conf"
cp "$d/usr/share/rvs/rvs-ipvs.conf" "$d/etc/modprobe.d/ipvs-is-rvs.conf"
check "make uninstall PREFIX=/usr" muninst "$d" PREFIX=/usr || cat "$tmp/out"
check "it warns of an operator's copy of rvs-ipvs.conf" grep -q "ipvs-is-rvs.conf still sends ip_vs to rvs-modprobe" "$tmp/out"
same "nothing left but that copy" "/etc/modprobe.d/ipvs-is-rvs.conf" "$(files "$d")"

echo "== install builds nothing and says what is missing"
check "make -n install runs no build" bash -c "! make -n install DESTDIR=/nonexistent KDIR='$kdir' | grep -E 'cargo|modules|KBUILD'"
mkdir -p "$tmp/tree/scripts"
cp scripts/install.sh "$tmp/tree/scripts/"
cp -r packaging "$tmp/tree/"
if out=$(KDIR=$kdir DESTDIR=$tmp/d3 "$tmp/tree/scripts/install.sh" install 2>&1); then bad "install without rvs.ko fails"; else
	check "install without rvs.ko fails, saying so" grep -q 'no rvs.ko' <<<"$out"
fi
mkdir -p "$tmp/k/include/config" && echo 9.9.9-other >"$tmp/k/include/config/kernel.release"
if out=$(make -s install DESTDIR="$tmp/d3" KDIR="$tmp/k" 2>&1); then bad "install against another kernel's KDIR fails"; else
	check "install against another kernel's KDIR fails, saying so" grep -q "built for kernel '$rel'" <<<"$out"
fi
check "nothing installed by the failures" test ! -e "$tmp/d3"
cp rvs.ko "$tmp/tree/"
mkdir -p "$tmp/tree/target/release" && cp target/release/rvsadm "$tmp/tree/target/release/"
rm "$tmp/tree/packaging/rvs-service"
if KDIR=$kdir DESTDIR=$tmp/d3 "$tmp/tree/scripts/install.sh" install >/dev/null 2>&1; then bad "an install failing part way fails"; else
	check "an install failing part way lists what it put" grep -q ' /usr/local/lib/rvs/rvs-modprobe$' "$tmp/d3/usr/local/share/rvs/installed-files"
	DESTDIR=$tmp/d3 "$tmp/tree/scripts/install.sh" uninstall >/dev/null 2>&1
	same "so that uninstall removes it all" "" "$(files "$tmp/d3")"
fi
rm -rf "$tmp/d3"
d=$tmp/d3
check "without KDIR, make install takes the cached test kernel" bash -c "make -s install DESTDIR='$d' >/dev/null 2>&1 && test -f '$d/lib/modules/$rel/extra/rvs.ko'"
muninst "$d"
RVS_CACHE=$tmp/none make -s install DESTDIR="$d" >"$tmp/out" 2>&1 || true
check "with no cached kernel either (sudo), rvs.ko's own release" grep -q "installing for rvs.ko's kernel, $rel" "$tmp/out"
check "and it is installed for it" test -f "$d/lib/modules/$rel/extra/rvs.ko"
muninst "$d"

echo "== conffiles (as Debian's)"
d=$tmp/d4
minst "$d"
echo 'DAEMON="master"' >>"$d/etc/default/rvs"
mine=$(cat "$d/etc/default/rvs")
# rvs.conf as an older version of ours, unchanged since: the manifest has its sum.
echo "# an older rvs.conf" >"$d/etc/modprobe.d/rvs.conf"
m=$d/usr/local/share/rvs/installed-files
sed -i "s|^[0-9a-f]*  /etc/modprobe.d/rvs.conf\$|$(sha256sum <"$d/etc/modprobe.d/rvs.conf" | cut -d' ' -f1)  /etc/modprobe.d/rvs.conf|" "$m"
check "install over them" minst "$d" || cat "$tmp/out"
same "a changed conffile is kept" "$mine" "$(cat "$d/etc/default/rvs")"
check "its new version goes next to it" cmp -s packaging/rvs.default <(sed 's|/etc/rvs/rules|@SYSCONFDIR@/rvs/rules|; s|/usr/local/lib/rvs|@LIBEXECDIR@|' "$d/etc/default/rvs.rvs-new")
check "install says so" grep -q 'kept /etc/default/rvs' "$tmp/out"
check "an unchanged older conffile is upgraded" cmp -s packaging/rvs.conf "$d/etc/modprobe.d/rvs.conf"
muninst "$d"
same "uninstall keeps only the changed conffile" "/etc/default/rvs" "$(files "$d")"
check "uninstall says so" grep -q "kept $d/etc/default/rvs" "$tmp/out"

echo "== depmod where the kernel is installed"
d=$tmp/d5
kernel_in "$d"
check "make install" minst "$d" || cat "$tmp/out"
check "modules.dep lists rvs" grep -q "^extra/rvs.ko:" "$d/lib/modules/$rel/modules.dep"
check "modprobe finds rvs" bash -c "modprobe -C '$d/etc/modprobe.d' -d '$d' -S '$rel' --show-depends rvs | grep -q 'insmod $d/lib/modules/$rel/extra/rvs.ko'"
check "make uninstall" muninst "$d" || cat "$tmp/out"
check "modules.dep no longer lists rvs" bash -c "! grep -q rvs '$d/lib/modules/$rel/modules.dep'"
same "only the kernel's module index is left" "" "$(files "$d" | grep -v "^/lib/modules/$rel/modules\.")"

echo "== modprobe.d files (rvs.conf, rvs-ipvs.conf)"
d=$tmp/d6
minst "$d"
kernel_in "$d" && depmod -b "$d" "$rel"
conf=$tmp/modprobe.d
mkdir -p "$conf"
cp "$d/etc/modprobe.d/rvs.conf" "$conf/"
ln -s "$d/usr/local/share/rvs/rvs-ipvs.conf" "$conf/rvs-ipvs.conf"
kmod() { modprobe -C "$conf" -d "$d" -S "$rel" "$@"; }
kmod -c >/dev/null 2>"$tmp/err" || true
same "kmod parses both files without a warning" "" "$(cat "$tmp/err")"
# Every scheduler: rvs's (rvs/core/src/sched/mod.rs) and IPVS's (the
# kernel's net/netfilter/ipvs/Makefile).
rvs_scheds=$(sed -n 's/^ *Self::[A-Za-z]* => "\([a-z]*\)",$/\1/p' rvs/core/src/sched/mod.rs | sort -u)
if [ "$(wc -l <<<"$rvs_scheds")" -ge 14 ]; then ok "rvs's schedulers read ($(tr '\n' ' ' <<<"$rvs_scheds"))"; else bad "rvs's schedulers read: '$rvs_scheds'"; fi
mk=$KERNEL_SRC/net/netfilter/ipvs/Makefile
if [ -f "$mk" ]; then
	ipvs_mods=$(sed -n 's/^obj-\$(CONFIG_IP_VS[A-Z_]*) += \(ip_vs[a-z_]*\)\.o$/\1/p' "$mk" | sort -u)
	if [ "$(wc -l <<<"$ipvs_mods")" -ge 15 ]; then ok "IPVS's modules read ($(tr '\n' ' ' <<<"$ipvs_mods"))"; else bad "IPVS's modules read: '$ipvs_mods'"; fi
else
	skip "no kernel source at $KERNEL_SRC: IPVS's module list not checked, rvs's schedulers only"
	ipvs_mods=ip_vs
fi
names=$(printf '%s\n' "$ipvs_mods" "$(sed 's/^/ip_vs_/' <<<"$rvs_scheds")" ip_vs ip_vs_ftp ip_vs_pe_sip | sort -u)
for n in $names; do
	out=$(kmod --show-depends "$n" 2>&1 || true)
	case $out in
	"install /usr/local/lib/rvs/rvs-modprobe $n "*) ok "modprobe $n runs rvs-modprobe $n" ;;
	*) bad "modprobe $n runs rvs-modprobe $n (kmod: $out)" ;;
	esac
done
out=$(kmod --show-depends net-pf-16-proto-16-family-IPVS 2>&1 || true)
case $out in "install /usr/local/lib/rvs/rvs-modprobe ip_vs "*) ok "the kernel's request for the IPVS family runs rvs-modprobe ip_vs" ;;
*) bad "the IPVS family alias (kmod: $out)" ;; esac
same "rvs-ipvs.conf has exactly these install lines" "$names" "$(awk '$1 == "install" {print $2}' "$conf/rvs-ipvs.conf" | sort)"
check "rvs-ipvs.conf's lines name their own module" awk '$1 == "install" && $4 != $2 { exit 1 }' "$conf/rvs-ipvs.conf"
out=$(kmod --show-depends rvs 2>&1 || true)
check "rvs itself loads as itself" grep -q "^insmod $d/lib/modules/$rel/extra/rvs.ko" <<<"$out"
rm "$conf/rvs-ipvs.conf"
out=$(kmod --show-depends ip_vs 2>&1 || true)
check "without rvs-ipvs.conf, ip_vs is not rvs's" bash -c "! grep -q rvs-modprobe <<<'$out'"
helper_scheds=$(sed -n 's/^schedulers=" \(.*\) "$/\1/p' packaging/rvs-modprobe | tr ' ' '\n' | sort)
same "rvs-modprobe knows every scheduler" "$(printf '%s\n' "$rvs_scheds" "$(sed -n 's/^ip_vs_//p' <<<"$ipvs_mods" | grep -vx 'ftp\|pe_sip')" | sort -u)" "$helper_scheds"

echo "== rvs-modprobe (stand-in modprobe, sysfs and procfs)"
f=$tmp/fake
mkdir -p "$f/bin"
cat >"$f/bin/modprobe" <<'EOF'
#!/bin/bash
# Stand-in: logs its arguments; `--ignore-install rvs ...` "loads" rvs;
# a dry run (-n) prints FAKE/dry-run.
if [ "$1" = -n ]; then cat "$FAKE/dry-run" 2>/dev/null; exit 0; fi
echo "$*" >>"$FAKE/log"
if [ "$1 $2" = "--ignore-install rvs" ] || [ "$1" = rvs ]; then
	mkdir -p "$RVS_SYSFS/module/rvs"
	case " $* " in *" ipvs_abi=1 "*) mkdir -p "$RVS_PROCFS/net"; : >"$RVS_PROCFS/net/ip_vs" ;; esac
fi
EOF
chmod +x "$f/bin/modprobe"
export FAKE=$f RVS_SYSFS=$f/sys RVS_PROCFS=$f/proc
reset() { rm -rf "${f:?}/sys" "$f/proc" "$f/log"; mkdir -p "$f/sys/module" "$f/proc/net"; : >"$f/log"; }
mp() { PATH=$f/bin:$PATH "$d/usr/local/lib/rvs/rvs-modprobe" "$@"; }
reset
check "ip_vs with nothing loaded" mp ip_vs conn_tab_bits=14
same "it loads rvs with ipvs_abi=1 and ip_vs's options" "--ignore-install rvs ipvs_abi=1 conn_tab_bits=14" "$(cat "$f/log")"
check "ip_vs_rr with rvs loaded" mp ip_vs_rr
same "then nothing more is loaded" "--ignore-install rvs ipvs_abi=1 conn_tab_bits=14" "$(cat "$f/log")"
if mp ip_vs_ftp 2>"$tmp/err"; then bad "ip_vs_ftp fails"; else check "ip_vs_ftp fails, saying why" grep -q 'no FTP helper' "$tmp/err"; fi
if mp ip_vs_nosuch 2>/dev/null; then bad "an unknown ip_vs_ name fails"; else ok "an unknown ip_vs_ name fails"; fi
rm "$f/proc/net/ip_vs"
if mp ip_vs 2>"$tmp/err"; then bad "ip_vs with rvs loaded without the ABI fails"; else
	check "ip_vs with rvs loaded without the ABI fails, saying so" grep -q 'without ipvs_abi=1' "$tmp/err"
fi
reset
mkdir "$f/sys/module/ip_vs"
check "ip_vs_wrr with the kernel's ip_vs loaded" mp ip_vs_wrr
same "it loads the kernel's ip_vs_wrr" "--ignore-install ip_vs_wrr" "$(cat "$f/log")"
reset
for s in $rvs_scheds; do mp "ip_vs_$s" || bad "ip_vs_$s"; done
same "every scheduler name loads rvs once" "--ignore-install rvs ipvs_abi=1" "$(cat "$f/log")"

echo "== rvs-service (stand-in modprobe and rvsadm)"
cat >"$f/bin/rvsadm" <<'EOF'
#!/bin/bash
# Stand-in rvsadm: the table is a file of -S lines; -R applies each line,
# refusing those with "bogus", and exits with the last line's status.
t=$FAKE/table
case $1 in
-C) : >"$t" ;;
-R)
	rc=0
	while IFS= read -r l; do
		[ -n "$l" ] || continue
		case $l in *bogus*) echo "Illegal virtual service: $l" >&2; rc=2 ;; *) echo "$l" >>"$t"; rc=0 ;; esac
	done
	exit $rc
	;;
-S) cat "$t" ;;
-L) cat "$FAKE/daemons" 2>/dev/null || true ;;
--start-daemon) echo "$2 sync daemon ($*)" >>"$FAKE/daemons" ;;
--stop-daemon) sed -i "/^$2 sync daemon/d" "$FAKE/daemons" ;;
*) exit 9 ;;
esac
EOF
chmod +x "$f/bin/rvsadm"
cat >"$f/default" <<EOF
AUTO=true
RULES=$f/etc/rules
IPVS_ABI=true
DAEMON=both
IFACE=dummy0
SYNCID=7
SYNC_OPTS="--mcast-port 8849"
EOF
# svc COMMAND: rvs-service COMMAND, its output in $tmp/out and $tmp/err.
svc() { PATH=$f/bin:$PATH RVSADM=$f/bin/rvsadm RVS_DEFAULTS=$f/default "$d/usr/local/lib/rvs/rvs-service" "$@" >"$tmp/out" 2>"$tmp/err"; }
table="-A -t 10.0.0.1:80 -s rr
-a -t 10.0.0.1:80 -r 10.0.0.2:80 -m -w 1
-A -u 10.0.0.1:53 -s wrr"
reset
rm -rf "${f:?}/etc" "$f/daemons"
: >"$f/table"
check "start without a rules file" svc start
check "it says the table starts empty" grep -q "no $f/etc/rules yet" "$tmp/out"
same "it loads rvs with ipvs_abi=1" "rvs ipvs_abi=1" "$(cat "$f/log")"
check "it notes that modprobe ip_vs would not load rvs" grep -q "rvs-ipvs.conf is not in /etc/modprobe.d" "$tmp/out"
same "it starts both daemons" "master sync daemon (--start-daemon master --mcast-interface dummy0 --syncid 7 --mcast-port 8849)
backup sync daemon (--start-daemon backup --mcast-interface dummy0 --syncid 7 --mcast-port 8849)" "$(cat "$f/daemons")"
printf '%s\n' "$table" >"$f/table"
check "stop" svc stop
same "stop saves the table" "$table" "$(cat "$f/etc/rules")"
same "stop clears the table" "" "$(cat "$f/table")"
same "stop stops the daemons" "" "$(cat "$f/daemons")"
check "start" svc start
same "start restores the saved table" "$table" "$(cat "$f/table")"
check "start again (restart) with the daemons running" svc start
same "the table is restored once, not twice" "$table" "$(cat "$f/table")"
same "the daemons are not started twice" 2 "$(wc -l <"$f/daemons")"
printf '# a comment\n%s\n' "$table" >"$f/etc/rules"
check "restore skips comment lines" svc restore
same "restore restores" "$table" "$(cat "$f/table")"
printf '%s\n-A -t bogus\n-A -t 10.0.0.9:80\n' "$table" >"$f/etc/rules"
cp "$f/etc/rules" "$tmp/broken"
if svc restore; then bad "restore of a broken file fails"; else ok "restore of a broken file fails"; fi
same "a broken file leaves the table empty" "" "$(cat "$f/table")"
check "and says so, with rvsadm's message" grep -q "did not restore.*left empty" "$tmp/err"
check "rvsadm's message is passed on" grep -q "Illegal virtual service: -A -t bogus" "$tmp/err"
check "the broken file is left as it is" cmp -s "$tmp/broken" "$f/etc/rules"
reset
rm -f "$f/daemons"
echo "install $d/usr/local/lib/rvs/rvs-modprobe ip_vs" >"$f/dry-run"
if svc start; then bad "start (boot) with a broken file fails"; else ok "start (boot) with a broken file fails"; fi
check "no note with rvs-ipvs.conf in place" bash -c "! grep -q 'rvs-ipvs.conf is not' '$tmp/out'"
check "it leaves rvs loaded" test -d "$f/sys/module/rvs"
same "with an empty table" "" "$(cat "$f/table")"
same "and the daemons started" 2 "$(wc -l <"$f/daemons")"
reset
if svc stop; then bad "stop with rvs not loaded fails"; else
	check "stop with rvs not loaded says nothing was saved" grep -q "nothing saved" "$tmp/err"
fi
check "and leaves the rules file" cmp -s "$tmp/broken" "$f/etc/rules"
mkdir "$f/sys/module/ip_vs"
if svc start; then bad "start with IPVS_ABI=true next to ip_vs fails"; else
	check "start with IPVS_ABI=true next to ip_vs says why" grep -q "kernel's ip_vs is loaded" "$tmp/err"
fi
reset
sed -i 's/^DAEMON=both/DAEMON=sideways/' "$f/default"
if svc start; then bad "a bad DAEMON fails"; else ok "a bad DAEMON fails"; fi
svc frobnicate && rc=0 || rc=$?
same "an unknown command exits 2" 2 "$rc"

echo "== systemd unit"
if command -v systemd-analyze >/dev/null; then
	# verify wants the unit's programs where it says; point it into the DESTDIR.
	sed "s|/usr/local/lib/rvs/|$d/usr/local/lib/rvs/|" "$d/usr/local/lib/systemd/system/rvs.service" >"$tmp/rvs.service"
	if MANPATH=$d/usr/local/share/man systemd-analyze verify "$tmp/rvs.service" >"$tmp/out" 2>&1; then
		ok "systemd-analyze verify rvs.service (and its man page is found)"
	else
		bad "systemd-analyze verify rvs.service"; cat "$tmp/out"
	fi
else
	skip "no systemd-analyze on this host: rvs.service not verified"
fi

echo "== man page"
if command -v man >/dev/null; then
	MANWIDTH=80 man --warnings -l packaging/rvsadm.8 >"$tmp/man" 2>"$tmp/err" || true
	same "man -l renders it without a warning" "" "$(cat "$tmp/err")"
	check "it has its name line" grep -q 'rvsadm - administer rvs' "$tmp/man"
	check "man finds the installed page" bash -c "MANWIDTH=80 man -M '$d/usr/local/share/man' rvsadm 2>/dev/null | grep -q 'DIFFERENCES FROM IPVSADM'"
else
	bad "man (man-db) installed (scripts/setup.sh installs it)"
fi
missing=
for o in $(sed -n 's/^ *o("\([a-z0-9-]*\)", .*/\1/p' rvsadm/src/cli.rs); do
	grep -qF -- "\\-\\-${o//-/\\-}" packaging/rvsadm.8 || missing="$missing --$o"
done
for o in $(sed -n "s/^ *o(\"[a-z0-9-]*\", b'\\(.\\)'.*/\\1/p" rvsadm/src/cli.rs); do
	grep -qF -- "\\fB\\-$o\\fR" packaging/rvsadm.8 || missing="$missing -$o"
done
same "every rvsadm option is in the man page" "" "${missing# }"

echo "== dkms.conf"
version=$(sed -n 's/^pub(crate) const MODULE_VERSION: &CStr = c"\(.*\)";$/\1/p' rvs/rvs_main.rs)
ws_version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml)
dk=$(kernel_source_dir=$kdir dkms_tree=/var/lib/dkms bash -c '. ./dkms.conf
	printf "%s\n" "$PACKAGE_NAME" "$PACKAGE_VERSION" "${BUILT_MODULE_NAME[0]}" "${DEST_MODULE_LOCATION[0]}" "$AUTOINSTALL" "${MAKE[0]}"')
same "dkms.conf: name, version (the module's), module, location, autoinstall" \
	"rvs $version rvs /extra yes" "$(head -5 <<<"$dk" | tr '\n' ' ' | sed 's/ $//')"
same "the module's version is the workspace's" "$version" "$ws_version"
make0=$(tail -1 <<<"$dk")
case $make0 in
"make -C $kdir M=/var/lib/dkms/rvs/$version/build LLVM=1 "*" modules") ok "dkms builds with the Kbuild against the kernel, LLVM=1 ($make0)" ;;
*) bad "dkms's make command: $make0" ;;
esac
if command -v dkms >/dev/null; then
	# add and build with a stand-in make (no compiling here): dkms's own
	# reading of dkms.conf and where it puts the module.
	mkdir -p "$tmp/dkms/src/rvs-$version" "$tmp/dkms/tree" "$tmp/dkms/bin"
	cp Kbuild dkms.conf "$tmp/dkms/src/rvs-$version/"
	printf '#!/bin/bash\necho "$*" >>%q\nfor a; do case $a in M=*) m=${a#M=} ;; esac; done\ncase " $* " in *" modules "*) cp %q "$m/rvs.ko" ;; esac\n' \
		"$tmp/dkms/make.log" "$RVS_TOP/rvs.ko" >"$tmp/dkms/bin/make"
	chmod +x "$tmp/dkms/bin/make"
	dk_opts=(--sourcetree "$tmp/dkms/src" --dkmstree "$tmp/dkms/tree")
	if dkms add -m rvs -v "$version" "${dk_opts[@]}" >"$tmp/out" 2>&1 &&
		PATH=$tmp/dkms/bin:$PATH dkms build -m rvs -v "$version" -k "$rel" --kernelsourcedir "$kdir" "${dk_opts[@]}" >>"$tmp/out" 2>&1; then
		check "dkms build puts rvs.ko in its tree" test -f "$tmp/dkms/tree/rvs/$version/$rel/$(uname -m)/module/rvs.ko"
		check "dkms ran the make command of dkms.conf" grep -q -- "-C $kdir M=$tmp/dkms/tree/rvs/$version/build LLVM=1 .* modules" "$tmp/dkms/make.log"
	else
		bad "dkms add and build (stand-in make)"; cat "$tmp/out"
	fi
	# Then dkms really builds rvs, from the committed sources, against the
	# test kernel's build tree (a few seconds; RVS_DKMS_BUILD=0 skips it).
	if [ "${RVS_DKMS_BUILD:-1}" = 1 ]; then
		mkdir -p "$tmp/dkr/src/rvs-$version" "$tmp/dkr/tree"
		git -C "$RVS_TOP" archive HEAD Kbuild dkms.conf rvs | tar -x -C "$tmp/dkr/src/rvs-$version"
		dk_opts=(--sourcetree "$tmp/dkr/src" --dkmstree "$tmp/dkr/tree")
		start=$SECONDS
		if dkms add -m rvs -v "$version" "${dk_opts[@]}" >"$tmp/out" 2>&1 &&
			dkms build -m rvs -v "$version" -k "$rel" --kernelsourcedir "$kdir" "${dk_opts[@]}" >>"$tmp/out" 2>&1; then
			ko=$tmp/dkr/tree/rvs/$version/$rel/$(uname -m)/module/rvs.ko
			ok "dkms build compiled rvs against $rel in $((SECONDS - start)) s"
			same "its rvs.ko is for that kernel" "$rel" "$(modinfo -F vermagic "$ko" | cut -d' ' -f1)"
		else
			bad "dkms build (real)"; cat "$tmp/out"; cat "$tmp/dkr/tree/rvs/$version/build/make.log" 2>/dev/null | tail -30
		fi
	fi
else
	skip "no dkms on this host: dkms.conf read by bash only"
fi

echo "== the demo labels its commands rvsadm"
check "no command is shown as dadm" bash -c "! grep -nE 'run dadm|# dadm' tests/demo/guest-demo.sh"
check "rvsadm labels" grep -q 'echo "# rvsadm \$\*' tests/demo/guest-demo.sh

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
