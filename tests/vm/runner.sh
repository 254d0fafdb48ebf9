#!/usr/bin/env bash
# Runs inside the test VM: every test script given, each in its own process
# with a time bound, checking the kernel log after each one. Ends with
# `N passed, N failed` and exits non-zero on any failure.
# Usage: runner.sh RESULTS_FILE TEST...
set -u
results=$1; shift
export RVS_TOP=${RVS_TOP:?} RVS_LONG=${RVS_LONG:-0} RVS_KERNEL=${RVS_KERNEL:-base}
export PATH=$RVS_TOP/target/release:$PATH
: >"$results"

# What a kernel report looks like in dmesg: oops, WARN, BUG, sanitizers,
# lockdep, RCU checks, Rust panics, kmemleak.
report_re='Oops|WARNING:|------------\[ cut here \]|BUG:|kernel BUG|KASAN|UBSAN|KMSAN|general protection fault|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|lock held when returning|panicked at|unreferenced object|Kernel panic|hung_task|soft lockup|rcu_sched detected stalls|rcu: INFO'

# kmemleak (debug kernel): what leaked before the first test (the kernel's
# own boot) is cleared, so the scan after the last test sees only what the
# tests left behind.
kmemleak=/sys/kernel/debug/kmemleak
[ -e /sys/kernel/debug/kmemleak ] || mount -t debugfs none /sys/kernel/debug 2>/dev/null
if [ -w $kmemleak ]; then
	echo scan >$kmemleak 2>/dev/null; echo clear >$kmemleak 2>/dev/null
else
	kmemleak=
fi

passed=0 failed=0
dmesg_seen=$(dmesg | wc -l)
for t in "$@"; do
	name=$(basename "$t" .sh)
	limit=$(sed -n 's/^# timeout: *\([0-9]*\).*/\1/p' "$t" | head -1)
	limit=${limit:-120}
	# The long versions (RVS_LONG=1) may say how long they need.
	if [ "${RVS_LONG:-0}" = 1 ]; then
		long=$(sed -n 's/^# timeout-long: *\([0-9]*\).*/\1/p' "$t" | head -1)
		limit=${long:-$limit}
	fi
	# The debug kernel (KASAN, lockdep) runs several times slower.
	[ "$RVS_KERNEL" = debug ] && limit=$((limit * 4))
	echo "=== $name (limit ${limit}s)"
	start=$(date +%s)
	timeout -k 5 "$limit" bash "$t" >/tmp/test-$name.log 2>&1
	rc=$?
	took=$(( $(date +%s) - start ))
	# Leave no module or namespace behind for the next test.
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do ip netns del "$ns" 2>/dev/null; done
	lsmod 2>/dev/null | grep -q '^rvs ' && rmmod rvs 2>/dev/null
	new=$(dmesg | tail -n +$((dmesg_seen + 1)))
	dmesg_seen=$(dmesg | wc -l)
	verdict=pass why=
	if [ $rc = 124 ] || [ $rc = 137 ]; then verdict=fail why="timed out after ${limit}s"
	elif [ $rc != 0 ]; then verdict=fail why="exit $rc"
	fi
	if echo "$new" | grep -Eq "$report_re"; then
		verdict=fail why="${why:+$why; }kernel report in dmesg"
	fi
	if [ $verdict = pass ]; then
		passed=$((passed + 1))
		echo "ok   $name (${took}s)"
		# Measured figures (tests/vm/lib.sh `figure`) show either way.
		grep '^FIGURE ' /tmp/test-$name.log | sed 's/^/    /'
		[ "${RVS_VM_SHOW_LOGS:-0}" = 0 ] || sed 's/^/    | /' /tmp/test-$name.log
	else
		failed=$((failed + 1))
		echo "FAIL $name (${took}s): $why"
		# The failed checks first (a CI excerpt may show only the top),
		# then the end of the log for context.
		grep -E '^(FAIL|not ok)' /tmp/test-$name.log | head -20 | sed 's/^/    > /'
		sed 's/^/    | /' /tmp/test-$name.log | tail -60
		if echo "$new" | grep -Eq "$report_re"; then
			echo "    kernel log:"
			echo "$new" | tail -80 | sed 's/^/    ! /'
		fi
	fi
	echo "$verdict $name $took $why" >>"$results"
done
# The final leak check, as a test of its own: kmemleak needs an object to
# stay unreferenced across scans before it reports it, so scan a few times.
if [ -n "$kmemleak" ]; then
	echo "=== kmemleak"
	start=$(date +%s)
	for i in 1 2 3; do sleep 2; echo scan >$kmemleak; done
	leaks=$(cat $kmemleak)
	took=$(( $(date +%s) - start ))
	if [ -z "$leaks" ]; then
		passed=$((passed + 1)); echo "ok   kmemleak (${took}s)"
		echo "pass kmemleak $took" >>"$results"
	else
		failed=$((failed + 1))
		echo "FAIL kmemleak (${took}s): $(grep -c 'unreferenced object' <<<"$leaks") unreferenced objects"
		echo "$leaks" | head -120 | sed 's/^/    ! /'
		echo "fail kmemleak $took unreferenced objects" >>"$results"
	fi
fi
echo "vm: $passed passed, $failed failed"
[ $failed = 0 ]
