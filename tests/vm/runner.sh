#!/usr/bin/env bash
# Runs inside the test VM: every test script given, each in its own process
# with a time bound, checking the kernel log after each one. Ends with
# `N passed, N failed` and exits non-zero on any failure.
# Usage: runner.sh RESULTS_FILE TEST...
#
# Lanes: a test whose header says `# lane: serial (why)` (it loads or
# unloads modules, reads the kernel log or global counters) runs alone.
# The others run RVS_VM_LANES at a time (default: the vCPUs plus one: the
# parallel tests keep the vCPUs busy, and more lanes would only slow each
# test down), each in namespaces of its own: a network namespace
# (its rvs and ip_vs tables, sysctls), a mount namespace with its own /tmp
# and /run/netns (so `ip netns add client` names never collide; the test
# script is opened before, so it may live in /tmp), and a PID
# namespace (its daemons end with it). rvs and ip_vs stay loaded while
# they run. A `# lane: ipvs-abi` test (lib.sh abi_run) runs as two jobs:
# its ip_vs half (NAME-ipvs) with the parallel tests, its rvs half
# (NAME-rvs) in a last phase where rvs is loaded with ipvs_abi=1, again in
# parallel lanes; on the debug kernel only its rvs half runs (the ip_vs
# half checks the kernel's IPVS, which the base pass covers).
# RVS_VM_LANES=1 runs every test whole and alone, with no
# namespaces of its own, in name order.
#
# RVS_VM_XTRACE=1 runs every test under `bash -x`, its trace apart from its
# log (BASH_XTRACEFD), each line headed by the time and the shell's PID;
# after each test the runner prints the script lines that took longest
# (each line's time runs until the next traced line of any of the test's
# shells, so background loops blur it): where a test spends its time.
# RVS_VM_PROFILE=1 samples the whole VM (perf, cpu-clock) while the tests
# run and prints at the end where its CPU went, by command and by binary.
#
# For the host's timing table (scripts/vm-test.sh) each job's start and end
# show on the console as `@@rvs start|end NAME @@` lines; TIMES_FILE gets
# "NAME SECONDS CPU_SECONDS LANE" (CPU of the test's own processes; LANE
# alone or parallel).
set -u
results=$1; shift
export RVS_TOP=${RVS_TOP:?} RVS_LONG=${RVS_LONG:-0} RVS_KERNEL=${RVS_KERNEL:-base}
export PATH=$RVS_TOP/target/release:$PATH
times_file=${RVS_VM_TIMES_FILE:-/dev/null}
bash_flags=-e
if [ "${RVS_VM_XTRACE:-0}" = 1 ]; then
	bash_flags=-ex
	# lib.sh points the trace at fd 7 and sets PS4 (bash running as root
	# takes no PS4 from the environment).
fi
# xtrace_top NAME: the 15 script lines of the test's trace that took
# longest, summed over each time they ran.
xtrace_top() {
	awk '$1 ~ /^\++$/ && $2 ~ /^[0-9]+[.,][0-9]+$/ {
			t = $2; sub(",", ".", t)
			if (last != "") spent[where] += t - last
			last = t; where = $4
		}
		END { for (w in spent) printf "%8.1f s  %s\n", spent[w], w }' "/tmp/test-$1.xtrace" 2>/dev/null |
		sort -rn | head -15
}
: >"$results"; : >"$times_file"

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

ncpu=$(nproc)
lanes=${RVS_VM_LANES:-$((ncpu + 1))}
[[ $lanes =~ ^[1-9][0-9]*$ ]] || { echo "RVS_VM_LANES='$lanes' is not a positive number"; exit 2; }

# A job is a test file, or FILE@rvs / FILE@ipvs for one half of an
# IPVS-ABI test. The runner's own work per job starts no process it can do
# without (bash builtins, not basename, sed, date or awk): under emulation
# every exec costs, a quarter of a second of CPU on the debug kernel.
# job_vars JOB: sets J_FILE and J_NAME.
job_vars() {
	J_FILE=${1%@*}
	J_NAME=${J_FILE##*/}; J_NAME=${J_NAME%.sh}
	case $1 in *@*) J_NAME=$J_NAME-${1##*@} ;; esac
}
# The header lines a test declares, the first of each kind in its file:
# `# timeout: SECONDS`, `# timeout-long: SECONDS`, `# lane: KIND`.
# read_headers FILE...: reads them into hdr_timeout, hdr_long, hdr_lane.
declare -A hdr_timeout=() hdr_long=() hdr_lane=()
read_headers() {
	local f l
	for f in "$@"; do
		while IFS= read -r l; do
			if [ -z "${hdr_timeout[$f]+set}" ] && [[ $l =~ ^#\ timeout:\ *([0-9]*) ]]; then
				hdr_timeout[$f]=${BASH_REMATCH[1]}
			elif [ -z "${hdr_long[$f]+set}" ] && [[ $l =~ ^#\ timeout-long:\ *([0-9]*) ]]; then
				hdr_long[$f]=${BASH_REMATCH[1]}
			elif [ -z "${hdr_lane[$f]+set}" ] && [[ $l =~ ^#\ lane:\ *([a-z-]*) ]]; then
				hdr_lane[$f]=${BASH_REMATCH[1]}
			fi
		done <"$f"
	done
}

# test_limit JOB ISOLATED: sets J_LIMIT, its time bound in seconds.
test_limit() {
	local f=${1%@*}
	J_LIMIT=${hdr_timeout[$f]:-120}
	# The long versions (RVS_LONG=1) may say how long they need.
	if [ "$RVS_LONG" = 1 ]; then J_LIMIT=${hdr_long[$f]:-$J_LIMIT}; fi
	# The debug kernel (KASAN, lockdep) runs several times slower, and a
	# test sharing the VM with others in parallel lanes is slower too.
	[ "$RVS_KERNEL" != debug ] || J_LIMIT=$((J_LIMIT * 4))
	[ "$2" != 1 ] || J_LIMIT=$((J_LIMIT * 2))
}

# children_cpu: sets J_CPU to the user + system seconds of this shell's
# reaped children (the second line of the builtin `times`, called here,
# not in a subshell, whose own children would be none), e.g. "12.3".
children_cpu() {
	local u s ms=0 x
	times >/tmp/rvs-run/times.$BASHPID
	{ read -r _; read -r u s; } </tmp/rvs-run/times.$BASHPID
	rm -f /tmp/rvs-run/times.$BASHPID
	for x in "$u" "$s"; do
		[[ $x =~ ^([0-9]+)m([0-9]+)[.,]([0-9]{3}) ]] || continue
		ms=$((ms + 10#${BASH_REMATCH[1]} * 60000 + 10#${BASH_REMATCH[2]} * 1000 + 10#${BASH_REMATCH[3]}))
	done
	J_CPU=$((ms / 1000)).$((ms % 1000 / 100))
}

# What a parallel test's namespaces get before it starts: its own
# /run/netns and /tmp (the tree under test, when it lives in /tmp, is
# bound back in: moved through the new /run/netns while /tmp is
# covered), and loopback up.
isolate='mount -t tmpfs rvs-netns /run/netns &&
	case $RVS_TOP/ in /tmp/*) mkdir /run/netns/.top && mount --bind "$RVS_TOP" /run/netns/.top ;; esac &&
	mount -t tmpfs rvs-tmp /tmp &&
	case $RVS_TOP/ in /tmp/*) mkdir -p "$RVS_TOP" && mount --move /run/netns/.top "$RVS_TOP" &&
		rmdir /run/netns/.top ;; esac &&
	ip link set lo up'

# run_test JOB ISOLATED: runs one job (in namespaces of its own when
# ISOLATED is 1) with its time bound; writes its exit code, time, limit,
# CPU and lane to /tmp/rvs-run/NAME.done.
run_test() {
	local job=$1 isolated=$2 t name limit start rc backend= lane=alone
	job_vars "$job"; t=$J_FILE name=$J_NAME
	case $job in *@*) backend=${job##*@} ;; esac
	test_limit "$job" "$isolated"; limit=$J_LIMIT
	[ "$isolated" != 1 ] || lane=parallel
	# A line of its own, closed by ` @@`, however the console interleaves.
	printf '\n@@rvs start %s @@\n' "$name"
	start=$EPOCHSECONDS
	# bash -e: a test whose first line (sourcing lib.sh, which sets -e)
	# fails stops there, instead of running on without its helpers.
	if [ "$isolated" = 1 ]; then
		RVS_ABI_BACKEND=$backend timeout -k 5 "$limit" \
			unshare --net --mount --pid --fork --kill-child --mount-proc \
			bash -c "$isolate"' && exec bash '$bash_flags' /dev/fd/3' 3<"$t" >/tmp/test-$name.log 2>&1 7>/tmp/test-$name.xtrace
	else
		timeout -k 5 "$limit" bash $bash_flags "$t" >/tmp/test-$name.log 2>&1 7>/tmp/test-$name.xtrace
	fi
	rc=$?
	printf '\n@@rvs end %s @@\n' "$name"
	children_cpu
	echo "$rc $((EPOCHSECONDS - start)) $limit $J_CPU $lane" >/tmp/rvs-run/$name.done
}

passed=0 failed=0
# check_kernel_log: sets `report` to the kernel log since the last call if
# it holds a report, else to nothing.
dmesg_seen=0
check_kernel_log() {
	local -a lines
	local new
	mapfile -t lines < <(dmesg)
	report=
	[ ${#lines[@]} -gt "$dmesg_seen" ] || return 0
	printf -v new '%s\n' "${lines[@]:dmesg_seen}"
	dmesg_seen=${#lines[@]}
	if [[ $new =~ $report_re ]]; then report=${new%$'\n'}; fi
}
check_kernel_log; report=

# verdict JOB [KERNEL_REPORT]: counts and prints one finished job.
verdict() {
	local report=${2:-} name rc took limit cpu lane verdict=pass why= l
	job_vars "$1"; name=$J_NAME
	read -r rc took limit cpu lane </tmp/rvs-run/$name.done
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then verdict=fail why="timed out after ${limit}s"
	elif [ "$rc" != 0 ]; then verdict=fail why="exit $rc"
	fi
	[ -z "$report" ] || { verdict=fail why="${why:+$why; }kernel report in dmesg"; }
	echo "$name $took $cpu $lane" >>"$times_file"
	if [ $verdict = pass ]; then
		passed=$((passed + 1))
		echo "ok   $name (${took}s)"
		# Measured figures (tests/vm/lib.sh `figure`) show either way.
		while IFS= read -r l; do [[ $l != 'FIGURE '* ]] || echo "    $l"; done </tmp/test-$name.log
		[ "${RVS_VM_SHOW_LOGS:-0}" = 0 ] || sed 's/^/    | /' /tmp/test-$name.log
	else
		failed=$((failed + 1))
		echo "FAIL $name (${took}s): $why"
		# The failed checks first (a CI excerpt may show only the top),
		# then the end of the log for context.
		grep -E '^(FAIL|not ok)' /tmp/test-$name.log | head -20 | sed 's/^/    > /'
		sed 's/^/    | /' /tmp/test-$name.log | tail -60
		if [ -n "$report" ]; then
			echo "    kernel log:"
			echo "$report" | tail -80 | sed 's/^/    ! /'
		fi
	fi
	[ "${RVS_VM_XTRACE:-0}" = 0 ] || xtrace_top "$name" | sed 's/^/    ~ /'
	echo "$verdict $name $took $why" >>"$results"
}

# Leave no module or namespace behind for the next test.
clean_up() {
	local ns m
	for ns in /run/netns/*; do [ ! -e "$ns" ] || ip netns del "${ns##*/}" 2>/dev/null; done
	while read -r m _; do [ "$m" != rvs ] || rmmod rvs 2>/dev/null; done </proc/modules
	return 0
}

# parallel_phase JOB...: the jobs in parallel lanes, each in namespaces of
# its own.
parallel_phase() {
	local -a jobs=("$@")
	local -A running=() blamed=()
	local next=0 job pid p
	while [ $next -lt ${#jobs[@]} ] || [ ${#running[@]} -gt 0 ]; do
		while [ $next -lt ${#jobs[@]} ] && [ ${#running[@]} -lt "$lanes" ]; do
			job=${jobs[$next]}; next=$((next + 1))
			job_vars "$job"; test_limit "$job" 1
			echo "=== $J_NAME (limit ${J_LIMIT}s, in a parallel lane)"
			run_test "$job" 1 &
			running[$!]=$job
		done
		wait -n -p pid
		check_kernel_log
		# A kernel report during parallel tests fails every test that
		# was running when it came.
		if [ -n "$report" ]; then
			for p in "${!running[@]}"; do blamed[$p]=$report; done
		fi
		job=${running[$pid]}; unset "running[$pid]"
		verdict "$job" "${blamed[$pid]:-}"
		unset "blamed[$pid]"
	done
	clean_up
	check_kernel_log
	if [ -n "$report" ]; then
		failed=$((failed + 1))
		echo "FAIL parallel lanes: kernel report after the last parallel test"
		echo "$report" | tail -80 | sed 's/^/    ! /'
		echo "fail parallel-lanes 0 kernel report in dmesg" >>"$results"
	fi
}
unload_ip_vs() {
	local m
	for m in $(lsmod | awk '$1 ~ /^ip_vs_/ {print $1}'); do rmmod "$m"; done
	lsmod | grep -q '^ip_vs ' && rmmod ip_vs
	return 0
}

rm -rf /tmp/rvs-run; mkdir -p /tmp/rvs-run /run/netns
profiler=
if [ "${RVS_VM_PROFILE:-0}" = 1 ]; then
	perf record -q -a -e cpu-clock -F 49 -o /tmp/rvs-run/suite.perf >/tmp/rvs-run/perf.log 2>&1 &
	profiler=$!
fi
read_headers "$@"
serial=() parallel=() abi=()
for t in "$@"; do
	if [ "$lanes" = 1 ]; then serial+=("$t"); continue; fi
	case ${hdr_lane[$t]:-} in
	serial) serial+=("$t") ;;
	ipvs-abi)
		# The ip_vs half checks the kernel's own IPVS, which the base
		# pass covers; the debug kernel is there for rvs's code.
		[ "${RVS_KERNEL:-base}" = debug ] || parallel+=("$t@ipvs")
		abi+=("$t@rvs") ;;
	*) parallel+=("$t") ;;
	esac
done
# Longest first (by their time bounds), so that no long test starts last
# and runs on alone.
by_limit() {
	local j
	for j in "$@"; do test_limit "$j" 1; echo "$J_LIMIT $j"; done | sort -s -k1,1nr | cut -d' ' -f2-
}
if [ ${#parallel[@]} -gt 0 ]; then mapfile -t parallel < <(by_limit "${parallel[@]}"); fi
if [ ${#abi[@]} -gt 0 ]; then mapfile -t abi < <(by_limit "${abi[@]}"); fi
echo "runner: ${#serial[@]} tests alone, then ${#parallel[@]} and ${#abi[@]} (rvs with ipvs_abi=1) in $lanes parallel lanes ($ncpu vCPUs)"

for t in "${serial[@]}"; do
	job_vars "$t"; test_limit "$t" 0
	echo "=== $J_NAME (limit ${J_LIMIT}s)"
	(run_test "$t" 0)
	clean_up
	check_kernel_log
	verdict "$t" "$report"
done

if [ ${#parallel[@]} -gt 0 ]; then
	# What the parallel tests share: rvs and ip_vs with its schedulers,
	# loaded once (lib.sh's load_rvs accepts rvs already loaded as it is).
	insmod "$RVS_TOP/rvs.ko" || echo "warning: insmod rvs.ko failed before the parallel lanes"
	for m in ip_vs ip_vs_rr ip_vs_wrr; do modprobe $m 2>/dev/null; done
	parallel_phase "${parallel[@]}"
fi
if [ ${#abi[@]} -gt 0 ]; then
	unload_ip_vs
	insmod "$RVS_TOP/rvs.ko" ipvs_abi=1 || echo "warning: insmod rvs.ko ipvs_abi=1 failed before the IPVS-ABI lanes"
	parallel_phase "${abi[@]}"
fi
unload_ip_vs

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
if [ -n "$profiler" ]; then
	kill -INT $profiler; wait $profiler
	echo "=== where the VM's CPU went (perf, cpu-clock samples)"
	for key in comm dso comm,dso; do
		perf report -i /tmp/rvs-run/suite.perf --stdio --sort $key 2>/dev/null | grep -v '^#' | grep . | head -40
	done
	echo "=== the kernel's functions"
	perf report -i /tmp/rvs-run/suite.perf --stdio --dsos '[kernel.vmlinux]' --sort sym 2>/dev/null |
		grep -v '^#' | grep . | head -60
fi
echo "vm: $passed passed, $failed failed"
[ $failed = 0 ]
