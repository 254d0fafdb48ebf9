#!/usr/bin/env bash
# The test command: set-up (idempotent), build, host unit and property
# tests, the harness self-check, then every VM test on the base kernel and
# again on the debug kernel (KASAN, lockdep, kmemleak, Rust debug
# assertions and overflow checks), the short versions of the reliability
# tests included, then the benchmarks' smoke runs (wall time, and
# deterministic: instructions under QEMU's icount). Ends with one line
# `N passed, N failed` over all of them; exits non-zero on any failure.
#
# RVS_DEBUG_PASS=0 leaves out the debug-kernel pass (quick local runs).
# Each pass is one boot: the tests marked `# lane: serial` one at a time,
# the others in parallel lanes (tests/vm/runner.sh; RVS_VM_LANES=1 runs
# them all serially). The debug pass runs every VM test but three
# (RVS_DEBUG_SKIP, a regex of test names; RVS_DEBUG_SKIP= runs them all,
# RVS_DEBUG_ONLY narrows the pass): the debug kernel costs about 3-4 times
# the base kernel's CPU per test, so the reliability, sync and transfer
# tests run lighter there (tests/vm/lib.sh long_or), each test's time
# bound is 4 times longer, and three tests whose kernel paths the others
# run there stay out for CI's time: 115 (listing formats: the dumps it
# formats run in 110, 120, 160, 170), 400 (the IPVS ABI against ip_vs,
# alone: rvs's side of the ABI runs in 405, 406, 430 and the rvs halves
# of 410, 420, 460) and 407 (installing, alone: the loads, options and
# keepalived's modprobe run in 010, 310, 430, 410).
# Documentation/reliability.md has the measured times.
set -uo pipefail
. "$(dirname "$0")/common.sh"
cd "$RVS_TOP"

debug_pass=${RVS_DEBUG_PASS:-1}
debug_only=${RVS_DEBUG_ONLY-}
debug_skip=${RVS_DEBUG_SKIP-^(115|400|407)-}
"$RVS_TOP/scripts/setup.sh" || die "set-up failed"
if [ "$debug_pass" = 1 ] && [ ! -f "$(kernel_build_dir debug)/.rvs-built" ]; then
	"$RVS_TOP/scripts/build-kernel.sh" debug || die "building the debug kernel failed"
fi
say "building rvs.ko and rvsadm"
make -s all || die "build failed"

passed=0 failed=0
count() { # count NAME PASSED FAILED
	passed=$((passed + $2)); failed=$((failed + $3))
	say "$1: $2 passed, $3 failed"
}

say "host tests (cargo test)"
cargo test --workspace 2>&1 | tee /tmp/rvs-host-tests.log
rc=${PIPESTATUS[0]}
hp=$(awk '/^test result:/ {s += $4} END {print s + 0}' /tmp/rvs-host-tests.log)
hf=$(awk '/^test result:/ {s += $6} END {print s + 0}' /tmp/rvs-host-tests.log)
[ "$rc" = 0 ] || [ "$hf" != 0 ] || hf=1
count "host" "$hp" "$hf"

say "install test (tests/host/install.sh: make install/uninstall, modprobe files, service, man page, dkms.conf)"
"$RVS_TOP/tests/host/install.sh" >/tmp/rvs-install-test.log 2>&1
rc=$?
instp=$(awk '/^[0-9]+ passed, [0-9]+ failed$/ {p = $1} END {print p + 0}' /tmp/rvs-install-test.log)
instf=$(awk '/^[0-9]+ passed, [0-9]+ failed$/ {f = $3} END {print f + 0}' /tmp/rvs-install-test.log)
[ "$rc" = 0 ] || [ "$instf" != 0 ] || instf=1
[ "$rc" = 0 ] || tail -40 /tmp/rvs-install-test.log
grep "^SKIP" /tmp/rvs-install-test.log || true
count "install" "$instp" "$instf"

say "harness self-check: failing tests must fail the run"
RVS_VM_RESULTS=/tmp/rvs-selftest.results "$RVS_TOP/scripts/vm-test.sh" --no-build --dir tests/vm-selftest >/tmp/rvs-selftest.log 2>&1
src=$?
want="pass pass
fail fail-serial
fail fail-exit
fail fail-kernel-report
fail fail-timeout"
got=$(awk '{print $1, $2}' /tmp/rvs-selftest.results 2>/dev/null | sort -k2)
if [ "$src" != 0 ] && [ "$got" = "$(sort -k2 <<<"$want")" ] && tail -1 /tmp/rvs-selftest.log | grep -qx '1 passed, 4 failed'; then
	count "harness self-check" 1 0
else
	cat /tmp/rvs-selftest.log
	say "harness self-check: exit $src, results: $got"
	count "harness self-check" 0 1
fi

say "VM tests"
RVS_VM_RESULTS=/tmp/rvs-vm.results RVS_VM_TIMING=/tmp/rvs-vm.timing.md "$RVS_TOP/scripts/vm-test.sh" --no-build "$@"
vp=$(grep -c '^pass ' /tmp/rvs-vm.results 2>/dev/null); vf=$(grep -c '^fail ' /tmp/rvs-vm.results 2>/dev/null)
vp=${vp:-0} vf=${vf:-0}
[ "$((vp + vf))" -gt 0 ] || vf=1
count "vm" "$vp" "$vf"

if [ "$debug_pass" = 1 ]; then
	say "VM tests on the debug kernel (${debug_only:-all of them}${debug_skip:+ but $debug_skip})"
	start=$(date +%s)
	if make -s VARIANT=debug module; then
		RVS_VM_RESULTS=/tmp/rvs-vm-debug.results RVS_VM_TIMING=/tmp/rvs-vm-debug.timing.md \
			"$RVS_TOP/scripts/vm-test.sh" --debug --no-build \
			${debug_only:+--only "$debug_only"} ${debug_skip:+--skip "$debug_skip"}
		dp=$(grep -c '^pass ' /tmp/rvs-vm-debug.results 2>/dev/null); df=$(grep -c '^fail ' /tmp/rvs-vm-debug.results 2>/dev/null)
		dp=${dp:-0} df=${df:-0}
		[ "$((dp + df))" -gt 0 ] || df=1
	else
		dp=0 df=1
	fi
	say "debug pass took $(( ($(date +%s) - start) / 60 )) min"
	count "vm (debug kernel)" "$dp" "$df"
	# Leave rvs.ko built for the base kernel, as `make` does.
	make -s module || true
fi

# The benchmarks' smoke run: every figure once, briefly, for rvs, IPVS and
# plain routing. It counts as one test that passes when every figure was
# produced; it asserts nothing about timings. RVS_BENCH_SMOKE=0 skips it.
if [ "${RVS_BENCH_SMOKE:-1}" != 0 ]; then
	say "benchmark smoke run (scripts/bench.sh smoke)"
	rm -rf /tmp/rvs-bench-smoke
	if "$RVS_TOP/scripts/bench.sh" smoke --out /tmp/rvs-bench-smoke >/tmp/rvs-bench-smoke.log 2>&1; then
		tail -n +1 /tmp/rvs-bench-smoke/table.md
		count "bench smoke" 1 0
	else
		tail -40 /tmp/rvs-bench-smoke.log
		count "bench smoke" 0 1
	fi
	# The deterministic (icount) figures' smoke run: one more test, which
	# fails when a figure cannot be produced, never for a slow one.
	say "deterministic benchmark smoke run (scripts/bench.sh exact-smoke)"
	rm -rf /tmp/rvs-bench-exact-smoke
	if "$RVS_TOP/scripts/bench.sh" exact-smoke --out /tmp/rvs-bench-exact-smoke >/tmp/rvs-bench-exact-smoke.log 2>&1; then
		tail -n +1 /tmp/rvs-bench-exact-smoke/table.md
		count "bench exact smoke" 1 0
	else
		tail -40 /tmp/rvs-bench-exact-smoke.log
		count "bench exact smoke" 0 1
	fi
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
