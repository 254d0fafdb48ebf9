#!/usr/bin/env bash
# Builds the test kernel (tinyconfig + qemu/*.config fragments) with LLVM=1
# into the cache, keyed by kernel version and fragment hash; reuses it if built.
# Usage: scripts/build-kernel.sh [base|debug]
set -euo pipefail
. "$(dirname "$0")/common.sh"
variant=${1:-base}
out=$(kernel_build_dir "$variant")
if [ -f "$out/.rvs-built" ]; then
	say "test kernel ($variant): cached at $out"
	exit 0
fi
[ -f "$KERNEL_SRC/Makefile" ] || die "no kernel source; run scripts/setup.sh"
mkdir -p "$out"
kmake() { make -C "$KERNEL_SRC" O="$out" LLVM=1 -j"$(nproc)" "$@"; }
say "configuring the $variant test kernel in $out"
kmake tinyconfig >/dev/null
"$KERNEL_SRC/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" $(kernel_fragments "$variant") >/dev/null
kmake olddefconfig >/dev/null
# Every requested option must have survived olddefconfig (a missing
# dependency silently drops it); report the ones that did not.
bad=0
for f in $(kernel_fragments "$variant"); do
	while IFS= read -r line; do
		case $line in CONFIG_*=*) ;; *) continue ;; esac
		key=${line%%=*} val=${line#*=}
		if [ "$val" = n ]; then
			grep -q "^$key=" "$out/.config" && { say "config: $key should be off"; bad=1; }
		elif ! grep -qx "$line" "$out/.config"; then
			say "config: $line did not stick ($(grep "^$key=" "$out/.config" || echo unset))"; bad=1
		fi
	done <"$f"
done
[ $bad = 0 ] || die "the kernel config is missing requested options (see above)"
# progress WHAT [LAST_COUNT [COUNT_FILE]]: passes on make's errors, Rust
# warnings and vmlinux links, and says at least every 30 s how many build
# steps (CC, RUSTC, LD, ...) are done, also while a long step prints
# nothing, and with LAST_COUNT (the last build's) about what share; the
# count goes to COUNT_FILE at the end. It ends when make's output does;
# the pipeline's status is make's (pipefail).
progress() {
	local n=0 last=$SECONDS line part='' rc wait pct prev=${2:-}
	case $prev in '' | 0 | *[!0-9]*) prev= ;; esac
	while :; do
		# 29: SECONDS counts whole seconds, so reports come 29-30 s apart.
		wait=$((29 - (SECONDS - last)))
		[ $wait -ge 1 ] || wait=1
		rc=0
		IFS= read -r -t "$wait" line || rc=$?
		if [ $rc -gt 128 ]; then
			part+=$line # timed out within a line: keep its start
		else
			line=$part$line part=
			case $line in "  "[A-Z]*" "*) n=$((n + 1)) ;; esac
			case $line in
			"  LD "*vmlinux* | "  AR "*vmlinux* | *error* | *"warning: "*rust*) printf '%s\n' "$line" ;;
			esac
			[ $rc = 0 ] || break # the end of make's output
		fi
		if [ $((SECONDS - last)) -ge 29 ]; then
			if [ -n "$prev" ]; then
				pct=$((n * 100 / prev))
				[ $pct -le 99 ] || pct=99
				say "$1: $n build steps done (about $pct% of the last build's $prev), $((SECONDS - start)) s"
			else
				say "$1: $n build steps done, $((SECONDS - start)) s"
			fi
			last=$SECONDS
		fi
	done
	say "$1: $n build steps, $((SECONDS - start)) s"
	[ -z "${3:-}" ] || echo "$n" >"$3"
}
say "building the $variant test kernel (several minutes on 2 cores; progress every 30 s)"
start=$SECONDS
# The last complete build's count of steps, for a percentage.
steps=$RVS_CACHE/kernel/$variant.steps
kmake 2>&1 | progress "kernel ($variant)" "$(cat "$steps" 2>/dev/null || true)" "$out/.rvs-steps" || true
[ -f "$out/arch/x86/boot/bzImage" ] || { kmake 2>&1 | tail -40; die "kernel build failed"; }
kmake modules 2>&1 | progress "modules ($variant)"
cp "$out/.rvs-steps" "$steps"
touch "$out/.rvs-built"
say "test kernel ($variant) built in $((SECONDS - start)) s: $out"
