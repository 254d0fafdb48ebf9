#!/usr/bin/env bash
# Benchmarks inside the test VM: rvs, the kernel's C IPVS (ip_vs.ko, built
# as modules of the same test kernel) and plain routing with no balancer,
# side by side in one boot, alternating runs (rvs, IPVS, plain, rvs, ...).
#
# Usage: scripts/bench.sh MODE [--runs N] [--secs S] [--fill N]
#                         [--services N] [--out DIR] [--doc]
# MODE:
#   all      figures 1-6, 5 runs, 4 s per measurement, 1,000,000 entries,
#            10,000 services (the full run; about 50 minutes under TCG)
#   smoke    every figure once, briefly, 2 real servers (what scripts/test.sh
#            runs; a few minutes under TCG): checks
#            that each figure is produced, asserts nothing about timings
#   dp       figures 1-4 only: CPS (NAT, DR), UDP pps (NAT, DR), bulk TCP
#            (NAT), latency p50/p99 at a fixed rate
#   scale    figure 5 only: memory per connection with --fill entries, and
#            CPS with them present against an empty table
#   restore  figure 6 only: rvsadm -R against ipvsadm -R
#   profile  perf profile of the packet path (cpu-clock, all CPUs), rvs then
#            IPVS, under NAT UDP datagrams, new NAT connections and a bulk
#            NAT download; no figures. --loads "udp cps bulk drudp drcps
#            idle" picks loads (dr*: through the DR VIP), --bits N loads
#            both modules with conn_tab_bits=N
#   exact    the deterministic figures (tests/bench/exact.sh): the guest
#            boots on one vCPU with `-icount shift=0,sleep=off`, so its
#            clock counts instructions; instructions per datagram (UDP
#            NAT both ways, DR, TUN; IPv4 and IPv6), per TCP connection
#            (NAT, DR), per MB (NAT), per connection with --fill entries,
#            and rvs's and IPVS's own share from a profile. 3 runs, 3
#            guest-seconds per figure. Then two boots on 2 vCPUs
#            (tests/bench/exact_scale.sh): UDP NAT from one and from two
#            senders, in instructions (icount) and in datagrams/s (real
#            time). About an hour
#   exact-smoke  the same, every figure once, briefly (what
#            scripts/test.sh runs): fails when a figure is missing
#   sync     connection sync, rvs against ip_vs (both loaded at once, a
#            master and a backup director each): sync lag idle and under
#            a load, and the highest new-connection rate at which the
#            backup keeps >= 99% of the master's entries
#            (tests/bench/sync.sh; default 3 runs, --secs 3 per rate)
# exact's --figures REGEX measures only the figures whose names match (and
# profiles only matching loads), --impls "rvs ipvs" only those: a quick
# check of one change, not a result for the documentation.
# --doc writes the results into Documentation/perf/ (results.jsonl,
# summary.json, table.md, ratios.png); otherwise they stay in --out
# (default: a new /tmp/rvs-bench.* directory), whose path is printed.
set -euo pipefail
. "$(dirname "$0")/common.sh"
mode=${1:-}; shift || true
runs=5 secs=4 fill=1000000 services=10000 out= doc=0 limit=14400 nrs=3 bits= loads=
figures= impls='rvs ipvs plain'
case $mode in
all) what="dp scale restore" ;;
smoke) what="dp scale restore" runs=1 secs=1 fill=5000 services=100 limit=900 nrs=2 ;;
dp|scale|restore) what=$mode ;;
profile) what=profile secs=20 limit=1200 ;;
sync) what=sync runs=3 secs=3 limit=1500 ;;
exact) what=exact runs=3 secs=3 limit=3600 ;;
exact-smoke) what=exact runs=1 secs=0.3 fill=5000 limit=900 ;;
*) die "usage: $0 all|smoke|dp|scale|restore|profile|sync|exact|exact-smoke [--runs N] [--secs S] [--fill N] [--services N] [--out DIR] [--doc] [--figures REGEX] [--impls LIST]" ;;
esac
while [ $# -gt 0 ]; do
	case $1 in
	--runs) runs=$2; shift ;;
	--secs) secs=$2; shift ;;
	--fill) fill=$2; shift ;;
	--services) services=$2; shift ;;
	--out) out=$2; shift ;;
	--doc) doc=1 ;;
	--bits) bits=$2; shift ;;
	--loads) loads=$2; shift ;;
	--figures) figures=$2; shift ;;
	--impls) impls=$2; shift ;;
	*) die "unknown option '$1'" ;;
	esac
	shift
done

"$RVS_TOP/scripts/setup.sh" >&2
make -C "$RVS_TOP" -s all >/dev/null
(cd "$RVS_TOP" && cargo build -q --release -p rvsbench)
kdir=$(kernel_build_dir base)
if [ -n "$out" ]; then mkdir -p "$out"; out=$(cd "$out" && pwd); else out=$(mktemp -d /tmp/rvs-bench.XXXXXX); fi
if [ "$what" = exact ]; then
	: >"$out/exact.jsonl"
	guest="EXACT_FIGURES='$figures' EXACT_IMPLS='$impls' bash $RVS_TOP/tests/bench/exact.sh $out/exact.jsonl $runs $secs $fill"
elif [ "$what" = profile ]; then
	guest="BENCH_BITS=$bits BENCH_LOADS='$loads' bash $RVS_TOP/tests/bench/profile.sh $out $secs"
else
	: >"$out/results.jsonl"
	guest="bash $RVS_TOP/tests/bench/run.sh $out/results.jsonl $runs $secs $fill $services $what"
fi
# boot TAG CPUS GUEST [QEMU-OPTION]: one VM run of GUEST (4 GiB: a million
# connection entries of either module fit easily); dies if it fails.
boot() {
	local tag=$1 n=$2 cmd=$3 rc
	shift 3
	say "benchmark '$mode'${tag:+ ($tag)} in the test VM (results in $out)"
	rm -f "$out/rc$tag"
	set +e
	timeout -k 10 "$limit" vng --verbose --run "$kdir" --disable-kvm --disable-microvm "${VNG_ROOT[@]}" --cpus "$n" --memory 4G "$@" \
		--rwdir "$out" --cwd "$RVS_TOP" \
		--exec "RVS_TOP=$RVS_TOP NRS=$nrs $cmd 2>$out/guest$tag.log; echo \$? >$out/rc$tag" >"$out/console$tag" 2>&1
	set -e
	rc=$(cat "$out/rc$tag" 2>/dev/null || echo none)
	if [ "$rc" != 0 ]; then
		tail -30 "$out/guest$tag.log" 2>/dev/null || true
		tail -30 "$out/console$tag"
		die "benchmark run failed in the guest (exit $rc); see $out"
	fi
}
# The clock of a VM under icount counts its instructions (1 ns each) and
# skips idle time instead of sleeping through it.
icount=(--qemu-opts="-icount shift=0,sleep=off")
if [ "$what" = exact ]; then
	boot "" 1 "$guest" "${icount[@]}"
	if [ "$mode" = exact ] && [ -z "$figures" ]; then
		: >"$out/scale.jsonl"
		boot -icount 2 "bash $RVS_TOP/tests/bench/exact_scale.sh $out/scale.jsonl $runs $secs icount" "${icount[@]}"
		boot -wall 2 "bash $RVS_TOP/tests/bench/exact_scale.sh $out/scale.jsonl $runs $secs wall"
	fi
else
	boot "" 2 "$guest"
fi
if [ "$what" = profile ]; then
	for f in "$out"/perf-*.data; do
		b=$(basename "$f" .data)
		say "$b: by module"; grep % "$out/profile-${b#perf-}-dso.txt" | head -5
		say "$b: top symbols"; grep -v '^#' "$out/profile-${b#perf-}-sym.txt" | grep -v '^$' | head -15
		case $b in *-rvs-*)
			python3 "$RVS_TOP/tests/bench/modsyms.py" "$f" "$RVS_TOP/rvs.ko" >"$out/${b#perf-}-rvs-functions.txt"
			say "$b: rvs's functions"; head -16 "$out/${b#perf-}-rvs-functions.txt" ;;
		esac
	done
	say "profiles in $out"
	exit 0
fi
if [ "$what" = exact ]; then
	for f in "$out"/perf-exact-rvs-*.data; do
		[ -e "$f" ] || continue
		b=$(basename "$f" .data)
		python3 "$RVS_TOP/tests/bench/modsyms.py" "$f" "$RVS_TOP/rvs.ko" >"$out/${b#perf-}-functions.txt" || true
		rm -f "$f"
	done
	python3 "$RVS_TOP/tests/bench/exact_report.py" "$out" --runs "$runs" --secs "$secs" --fill "$fill"
	if [ $doc = 1 ]; then
		mkdir -p "$RVS_TOP/Documentation/perf/exact"
		cp "$out"/exact.jsonl "$out"/summary.json "$out"/table.md "$out"/ratios.png "$out"/exact-profile-*.txt "$out"/exact-rvs-*-functions.txt "$RVS_TOP/Documentation/perf/exact/"
		[ ! -s "$out/scale.jsonl" ] || cp "$out/scale.jsonl" "$RVS_TOP/Documentation/perf/exact/"
		say "results copied into Documentation/perf/exact/"
	fi
	say "results in $out"
	exit 0
fi
python3 "$RVS_TOP/tests/bench/report.py" "$out" --what "$what" --runs "$runs" --secs "$secs" \
	--fill "$fill" --services "$services"
if [ $doc = 1 ]; then
	mkdir -p "$RVS_TOP/Documentation/perf"
	cp "$out/results.jsonl" "$out/summary.json" "$out/table.md" "$out/ratios.png" "$RVS_TOP/Documentation/perf/"
	say "results copied into Documentation/perf/"
fi
say "results in $out"
