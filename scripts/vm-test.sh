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
for v in RVS_FUZZ_COUNT RVS_FUZZ_SEED RVS_FUZZ_FAMILIES RVS_VM_SHOW_LOGS RVS_SYNC_FUZZ_COUNT RVS_SYNC_FUZZ_RATE SYNC_VARIANTS SYNC_MODES SYNC_JOBS; do
	[ -z "${!v:-}" ] || knobs+="$v=$(printf %q "${!v}") "
done
cmd="${knobs}RVS_TOP=$RVS_TOP RVS_LONG=$long RVS_KERNEL=$variant bash $RVS_TOP/tests/vm/runner.sh $out/results \$(cat $out/tests); echo \$? >$out/rc"
# virtme-ng shares the host's root read-only; $out is the one writable
# directory. Without --network the guest gets no network device at all.
# --verbose: the guest's output reaches us through the console (kernel log
# lines are filtered from the display, kept in $out/console).
# When virtiofsd does not start and the 9p fallback leaves the guest
# without a root file system (seen on busy machines), the guest panics
# before running anything: boot again, up to four times.
set +e
for boot in 1 2 3 4 5; do
	timeout -k 10 "${RVS_VM_TIMEOUT:-3600}" \
		vng --verbose --run "$kdir" --disable-kvm --disable-microvm --cpus 2 --memory 2G \
		--rwdir "$out" --cwd "$RVS_TOP" \
		--exec "$cmd" 2>&1 | tee "$out/console" | grep --line-buffered -v -E '^\[ *[0-9]+\.[0-9]+\] |^\s*$'
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
cp "$out/results" "${RVS_VM_RESULTS:-/dev/null}" 2>/dev/null || true
# RVS_VM_CONSOLE=FILE keeps the whole console (kernel log included).
cp "$out/console" "${RVS_VM_CONSOLE:-/dev/null}" 2>/dev/null || true
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
