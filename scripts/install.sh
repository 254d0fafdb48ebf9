#!/usr/bin/env bash
# `make install` / `make uninstall`: puts what `make all` built (rvs.ko,
# rvsadm) and packaging/ in place, and takes exactly that away again.
# Usage: scripts/install.sh install|uninstall, with DESTDIR, KDIR (when
# given; else make's default, or rvs.ko's own kernel), VARIANT, PREFIX,
# SBINDIR, MANDIR, LIBEXECDIR, DATADIR, UNITDIR and SYSCONFDIR from the
# Makefile. It builds nothing, and does not source common.sh, which needs
# the build's Rust toolchain (absent under sudo, or on a staging host).
#
# Every installed file goes into a manifest, DATADIR/installed-files
# (sha256 and path, without DESTDIR), merged over installs for several
# kernels; uninstall removes the files it lists. The files under
# SYSCONFDIR are configuration, handled as Debian's conffiles: install
# does not overwrite one changed since it was installed (the new version
# goes next to it as FILE.rvs-new), uninstall keeps a changed one.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
# depmod and modinfo, also for a user whose PATH lacks the sbin dirs.
PATH=$PATH:/usr/sbin:/sbin
say() { printf '\033[1m[rvs]\033[0m %s\n' "$*" >&2; }
die() { printf '[rvs] error: %s\n' "$*" >&2; exit 1; }

DESTDIR=${DESTDIR:-}
PREFIX=${PREFIX:-/usr/local}
SBINDIR=${SBINDIR:-$PREFIX/sbin}
MANDIR=${MANDIR:-$PREFIX/share/man}
LIBEXECDIR=${LIBEXECDIR:-$PREFIX/lib/rvs}
DATADIR=${DATADIR:-$PREFIX/share/rvs}
UNITDIR=${UNITDIR:-$PREFIX/lib/systemd/system}
SYSCONFDIR=${SYSCONFDIR:-/etc}
manifest=$DATADIR/installed-files
for d in "$PREFIX" "$SBINDIR" "$MANDIR" "$LIBEXECDIR" "$DATADIR" "$UNITDIR" "$SYSCONFDIR"; do
	case $d in /*) ;; *) die "install directories must be absolute paths ('$d' is not)" ;; esac
done

sum() { sha256sum "$1" | cut -d' ' -f1; }
is_conffile() { case $1 in "$SYSCONFDIR"/*) return 0 ;; *) return 1 ;; esac; }

# depmod_for RELEASE: refreshes modules.dep where that kernel's modules
# are (a kernel installed under DESTDIR, or on this system). A staging
# DESTDIR holding only rvs.ko gets none: its package runs depmod.
depmod_for() {
	local dir=$DESTDIR/lib/modules/$1
	if ! command -v depmod >/dev/null; then
		say "no depmod here: run 'depmod $1' where the kernel is installed"
	elif [ -e "$dir/modules.order" ] || [ -e "$dir/modules.dep" ]; then
		if [ -n "$DESTDIR" ]; then depmod -b "$DESTDIR" "$1"; else depmod "$1"; fi
		say "depmod $1${DESTDIR:+ (under $DESTDIR)}"
	else
		say "depmod not run: no kernel $1 in $DESTDIR/lib/modules (its modules.order)"
	fi
}

reload_systemd() {
	if [ -z "$DESTDIR" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
		systemctl daemon-reload || say "systemctl daemon-reload failed"
	fi
}

# write_manifest: this install's list, with the entries of earlier ones
# it did not replace (rvs.ko for another kernel), as DATADIR/installed-files.
write_manifest() {
	if [ -f "$old" ]; then
		awk 'NR == FNR { seen[substr($0, 67)] = 1; next } !(substr($0, 67) in seen)' "$new" "$old" >"$stage/kept"
		cat "$stage/kept" >>"$new"
	fi
	install -D -m 644 "$new" "$DESTDIR$manifest"
}

# install_exit: a failure part way (a full disk) still lists what was put,
# for uninstall.
install_exit() {
	local rc=$?
	[ $rc = 0 ] || [ ! -s "$new" ] || write_manifest
	rm -rf "$stage"
	exit $rc
}

do_install() {
	local ko=$top/rvs.ko adm=$top/target/release/rvsadm kdir=${KDIR:-} release='' vermagic=''
	[ -f "$ko" ] || die "no rvs.ko: run 'make' (as the user who builds) before 'make install'"
	[ -x "$adm" ] || die "no target/release/rvsadm: run 'make' before 'make install'"
	if command -v modinfo >/dev/null; then
		vermagic=$(modinfo -F vermagic "$ko" | awk '{print $1}')
	fi
	if [ -z "$kdir" ]; then
		# make's default KDIR, the cached test kernel, if this user has it
		# (root under sudo has its own cache, and maybe no toolchain).
		kdir=$(bash -c '. "$1/scripts/common.sh" && kernel_build_dir "$2"' - "$top" "${VARIANT:-base}" 2>/dev/null || true)
		[ -r "$kdir/include/config/kernel.release" ] || kdir=
	elif ! [ -r "$kdir/include/config/kernel.release" ]; then
		die "no $kdir/include/config/kernel.release: KDIR must be the kernel build tree rvs.ko was built against"
	fi
	if [ -n "$kdir" ]; then
		release=$(cat "$kdir/include/config/kernel.release")
		[ -z "$vermagic" ] || [ "$vermagic" = "$release" ] ||
			die "rvs.ko was built for kernel '$vermagic', KDIR ($kdir) is '$release': rebuild, or pass the right KDIR"
	else
		[ -n "$vermagic" ] || die "no KDIR, and no modinfo to read rvs.ko's kernel: pass KDIR=<the kernel build tree rvs.ko was built against>"
		release=$vermagic
		say "no KDIR (nor a cached test kernel for this user): installing for rvs.ko's kernel, $release"
	fi

	stage=$(mktemp -d)
	new=$stage/manifest
	old=$DESTDIR$manifest
	: >"$new"
	trap install_exit EXIT
	# put MODE SRC DEST: installs SRC as DEST, placeholders filled in
	# when SRC is text from packaging/.
	put() {
		local mode=$1 src=$2 dest=$3 f
		f=$src
		case $src in "$top"/packaging/*)
			f=$stage/$(basename "$dest")
			sed -e "s|@SBINDIR@|$SBINDIR|g" -e "s|@LIBEXECDIR@|$LIBEXECDIR|g" \
				-e "s|@DATADIR@|$DATADIR|g" -e "s|@SYSCONFDIR@|$SYSCONFDIR|g" "$src" >"$f"
			;;
		esac
		if is_conffile "$dest" && [ -e "$DESTDIR$dest" ] && ! cmp -s "$f" "$DESTDIR$dest"; then
			# Ours, unchanged since the last install: replace it. Else keep it.
			if ! [ -f "$old" ] || ! grep -qxF "$(sum "$DESTDIR$dest")  $dest" "$old"; then
				install -D -m "$mode" "$f" "$DESTDIR$dest.rvs-new"
				printf '%s  %s\n' "$(sum "$f")" "$dest.rvs-new" >>"$new"
				say "kept $dest (changed since installed); the new version is $dest.rvs-new"
				return
			fi
		fi
		install -D -m "$mode" "$f" "$DESTDIR$dest"
		printf '%s  %s\n' "$(sum "$f")" "$dest" >>"$new"
		echo "  $DESTDIR$dest"
	}
	say "installing into ${DESTDIR:-/} (kernel $release)"
	put 644 "$ko" "/lib/modules/$release/extra/rvs.ko"
	put 755 "$adm" "$SBINDIR/rvsadm"
	put 644 "$top/packaging/rvsadm.8" "$MANDIR/man8/rvsadm.8"
	put 644 "$top/packaging/rvs.conf" "$SYSCONFDIR/modprobe.d/rvs.conf"
	put 644 "$top/packaging/rvs-ipvs.conf" "$DATADIR/rvs-ipvs.conf"
	put 755 "$top/packaging/rvs-modprobe" "$LIBEXECDIR/rvs-modprobe"
	put 755 "$top/packaging/rvs-service" "$LIBEXECDIR/rvs-service"
	put 644 "$top/packaging/rvs.default" "$SYSCONFDIR/default/rvs"
	put 644 "$top/packaging/rvs.service" "$UNITDIR/rvs.service"
	write_manifest
	depmod_for "$release"
	reload_systemd
	say "installed; 'make uninstall' removes it (list: $DESTDIR$manifest)"
}

do_uninstall() {
	local m=$DESTDIR$manifest s path f releases=()
	[ -f "$m" ] || die "nothing to uninstall: no $m (were PREFIX, DATADIR and DESTDIR the same at install?)"
	# An enabled unit would leave its symlinks behind (it is not stopped:
	# that would save and clear the table).
	if [ -z "$DESTDIR" ] && command -v systemctl >/dev/null &&
		systemctl --quiet is-enabled rvs.service 2>/dev/null; then
		systemctl disable rvs.service || say "systemctl disable rvs.service failed"
	fi
	while read -r s path; do
		f=$DESTDIR$path
		[ -e "$f" ] || [ -L "$f" ] || continue
		if is_conffile "$path" && [ "$(sum "$f")" != "$s" ]; then
			say "kept $f (changed since installed)"
			continue
		fi
		rm -f "$f"
		echo "  removed $f"
		case $path in /lib/modules/*/extra/rvs.ko)
			path=${path#/lib/modules/}
			releases+=("${path%%/*}")
			;;
		esac
	done <"$m"
	rm -f "$m"
	rmdir "$DESTDIR$LIBEXECDIR" "$DESTDIR$DATADIR" 2>/dev/null || true
	for r in ${releases[@]+"${releases[@]}"}; do
		rmdir "$DESTDIR/lib/modules/$r/extra" 2>/dev/null || true
		depmod_for "$r"
	done
	reload_systemd
	# The operator's own copy of rvs-ipvs.conf would now make modprobe ip_vs fail.
	for f in "$DESTDIR$SYSCONFDIR"/modprobe.d/*.conf; do
		[ -f "$f" ] && grep -q "^install .*$LIBEXECDIR/rvs-modprobe" "$f" &&
			say "warning: $f still sends ip_vs to rvs-modprobe, which is gone: remove it"
	done
	say "uninstalled from ${DESTDIR:-/}"
}

# Into the system, a half-done install (no manifest yet) could not be
# undone: refuse at once what could only fail on the way.
if [ -z "$DESTDIR" ] && [ "$(id -u)" != 0 ]; then
	die "make ${1:-install} into the system needs root (sudo make ${1:-install}), or DESTDIR=<staging dir>"
fi
case ${1:-} in
install) do_install ;;
uninstall) do_uninstall ;;
*) die "usage: $0 install|uninstall" ;;
esac
