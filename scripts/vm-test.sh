#!/usr/bin/env bash
# Boots the test kernel under QEMU (TCG, 2 vCPUs, no network device) with the
# host's userspace via virtme-ng, and runs the VM tests in the guest.
#
# Usage: scripts/vm-test.sh [--debug] [--long] [--only REGEX] [--skip REGEX] [--dir DIR] [--no-build]
#   --debug       use the debug kernel (KASAN, lockdep, kmemleak, ...)
#   --long        the long versions of the reliability tests (RVS_LONG=1)
#   --skip REGEX  leave out the tests whose file name matches REGEX
#   --only REGEX  run only the tests whose file name matches REGEX
#   --dir DIR     run the tests in DIR instead of tests/vm
#   --no-build    do not rebuild rvs.ko and rvsadm first
# Ends with `N passed, N failed`; exits non-zero on any failure.
set -euo pipefail
. "$(dirname "$0")/common.sh"

variant=base only= skip= dir=$RVS_TOP/tests/vm build=1 long=0
while [ $# -gt 0 ]; do
	case $1 in
	--debug) variant=debug ;;
	--only) only=$2; shift ;;
	--skip) skip=$2; shift ;;
	--long) long=1 ;;
	--dir) dir=$(cd "$2" && pwd); shift ;;
	--no-build) build=0 ;;
	*) die "usage: $0 [--debug] [--long] [--only REGEX] [--skip REGEX] [--dir DIR] [--no-build]" ;;
	esac
	shift
done

kdir=$(kernel_build_dir "$variant")
# The debug kernel gets 1 GiB: kmemleak scans (three at the end of every
# run, more in tests) take time in proportion to memory, 13.5 s each with
# 2 GiB and 6-8 s with 1 GiB under TCG, and the tests use far less.
mem=2G
[ "$variant" = base ] || mem=1G
[ -f "$kdir/.rvs-built" ] || "$RVS_TOP/scripts/build-kernel.sh" "$variant"
if [ $build = 1 ]; then
	say "building rvs.ko ($variant kernel) and rvsadm"
	make -C "$RVS_TOP" -s VARIANT="$variant" module rvsadm tools >/dev/null
fi

tests=()
for t in "$dir"/*.sh; do
	case $(basename "$t") in lib.sh|runner.sh) continue ;; esac
	if [ -n "$only" ] && ! basename "$t" | grep -Eq -- "$only"; then continue; fi
	if [ -n "$skip" ] && basename "$t" | grep -Eq -- "$skip"; then continue; fi
	tests+=("$t")
done
[ ${#tests[@]} -gt 0 ] || die "no tests selected in $dir"

# timing_table VARIANT TOTAL_SECONDS: per test, its wall time and the
# VM's CPU time over it (seen from the host: QEMU's, so it includes what
# tests in other lanes did at the same time), the CPU of the test's own
# processes (seen in the guest), and whether it ran alone.
timing_table() {
	echo "| test ($1 kernel) | lane | wall s | VM CPU s | VM CPU % | test's CPU s |"
	echo "| --- | --- | ---: | ---: | ---: | ---: |"
	awk -v tck="$tck" -v total="$2" '
		FILENAME ~ /marks$/ {
			if ($1 == "start") { t0[$2] = $3; c0[$2] = $4; order[++n] = $2 }
			else if ($1 == "end") { t1[$2] = $3; c1[$2] = $4 }
			if (first == "") { first = $3; cfirst = $4 }
			last = $3; clast = $4
			next
		}
		FILENAME ~ /times$/ { took[$1] = $2; cpu[$1] = $3; lane[$1] = $4; next }
		END {
			for (i = 1; i <= n; i++) {
				k = order[i]
				if (!(k in t1) && (k in took)) {
					# The end mark was lost on the console: the seconds
					# the guest counted, no VM CPU.
					sw += took[k]
					printf "| %s | %s | %d (guest) | | | %s |\n", k, lane[k], took[k], cpu[k]
					continue
				}
				if (!(k in t1)) { printf "| %s | %s | (did not end) | | | |\n", k, lane[k]; continue }
				w = t1[k] - t0[k]; c = (c1[k] - c0[k]) / tck
				sw += w; sc += c
				printf "| %s | %s | %.0f | %.0f | %.0f | %s |\n", k, lane[k], w, c, (w > 0 ? 100 * c / w : 0), cpu[k]
			}
			printf "| sum of the tests (parallel ones overlap) | | %.0f | %.0f | | |\n", sw, sc
			if (n) printf "| first start to last end | | %.0f | %.0f | %.0f | |\n", last - first, (clast - cfirst) / tck, (last > first ? 100 * (clast - cfirst) / tck / (last - first) : 0)
			printf "| whole VM run, boot included | | %.0f | | | |\n", total
		}' "$out/marks" "$out/times" || true
}

out=$(mktemp -d /tmp/rvs-vm.XXXXXX)
trap 'rm -rf "$out"' EXIT
say "booting the $variant test kernel: ${#tests[@]} tests"
# The list goes through a file: the kernel command line that carries the
# command is too short for a long list of test paths (a truncated command
# line is also what made guests "find no root file system").
printf '%s\n' "${tests[@]}" >"$out/tests"
# Test knobs set on the host (RVS_FUZZ_*, RVS_SYNC_FUZZ_*, and
# RVS_VM_SHOW_LOGS=1 to print every test's log) reach the guest's tests.
knobs=
for v in RVS_FUZZ_COUNT RVS_FUZZ_SEED RVS_FUZZ_FAMILIES RVS_VM_SHOW_LOGS RVS_SYNC_FUZZ_COUNT RVS_SYNC_FUZZ_RATE SYNC_VARIANTS SYNC_MODES SYNC_JOBS RVS_VM_LANES RVS_VM_XTRACE RVS_VM_PROFILE; do
	[ -z "${!v:-}" ] || knobs+="$v=$(printf %q "${!v}") "
done
cmd="${knobs}RVS_VM_TIMES_FILE=$out/times RVS_TOP=$RVS_TOP RVS_LONG=$long RVS_KERNEL=$variant bash $RVS_TOP/tests/vm/runner.sh $out/results \$(cat $out/tests); echo \$? >$out/rc"
# virtme-ng shares the host's root read-only; $out is the one writable
# directory. Without --network the guest gets no network device at all.
# --verbose: the guest's output reaches us through the console (kernel log
# lines are filtered from the display, kept in $out/console).
# When virtiofsd does not start and the 9p fallback leaves the guest
# without a root file system (seen on busy machines), the guest panics
# before running anything: boot again, up to four times.
#
# The console also carries the runner's `@@rvs start|end NAME @@` lines
# (kernel messages may share their console line): for
# each, the host notes the time and QEMU's CPU time (utime + stime, both
# vCPUs and QEMU's own work) in $out/marks, for the timing table.
tck=$(getconf CLK_TCK)
qemu_cpu() { # qemu_cpu PID: QEMU's utime + stime in clock ticks
	local stat
	read -r stat <"/proc/$1/stat" 2>/dev/null || { echo 0; return; }
	set -- ${stat##*) }
	echo $((${12} + ${13}))
}
console_filter() {
	local line qpid=
	while IFS= read -r line; do
		line=${line%$'\r'}
		case $line in
		*'@@rvs '*)
			[ -n "$qpid" ] && [ -e "/proc/$qpid" ] || qpid=$(pgrep -n -f qemu-system) || qpid=
			line=${line#*@@rvs }
			echo "${line%% @@*} ${EPOCHREALTIME/,/.} $(qemu_cpu "${qpid:-0}")" >>"$out/marks" ;;
		'['*']'*|'') ;;
		*) printf '%s\n' "$line" ;;
		esac
	done
}
boot_start=$EPOCHREALTIME
set +e
for boot in 1 2 3 4 5; do
	: >"$out/marks"
	timeout -k 10 "${RVS_VM_TIMEOUT:-3600}" \
		vng --verbose --run "$kdir" --disable-kvm --disable-microvm "${VNG_ROOT[@]}" --cpus 2 --memory $mem \
		--rwdir "$out" --cwd "$RVS_TOP" \
		--exec "$cmd" 2>&1 | tee "$out/console" | console_filter
	[ ! -s "$out/results" ] && grep -q 'Unable to mount root fs' "$out/console" || break
	say "the guest found no root file system (boot $boot); booting again"
done
set -e
passed=$(grep -c '^pass ' "$out/results" 2>/dev/null || true)
failed=$(grep -c '^fail ' "$out/results" 2>/dev/null || true)
ran=$((passed + failed))
if [ "$ran" -lt ${#tests[@]} ]; then
	# The guest died or hung before finishing: the rest count as failed.
	say "only $ran of ${#tests[@]} tests reported; the VM did not finish cleanly; its console ends:"
	tail -40 "$out/console" >&2
	failed=$((${#tests[@]} - passed))
fi
if grep -Eq 'Kernel panic|Oops|BUG:|WARNING:' "$out/console" && [ "$failed" = 0 ]; then
	say "kernel report on the console"; failed=1
fi
timing_table "$variant" "$(awk -v a="$boot_start" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.0f", b - a}')" \
	>"$out/timing.md"
cat "$out/timing.md"
cp "$out/timing.md" "${RVS_VM_TIMING:-/dev/null}" 2>/dev/null || true
cp "$out/results" "${RVS_VM_RESULTS:-/dev/null}" 2>/dev/null || true
# RVS_VM_CONSOLE=FILE keeps the whole console (kernel log included).
cp "$out/console" "${RVS_VM_CONSOLE:-/dev/null}" 2>/dev/null || true
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
