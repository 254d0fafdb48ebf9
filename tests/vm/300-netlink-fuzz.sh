# timeout: 900
# timeout-long: 14400
# lane: serial (reloads rvs with ipvs_abi=1 and reads the kernel log)
# Netlink fuzzing (tools/rvsfuzz): random and mutated requests to the rvs
# family, driven by the policy the kernel reports for it, from both vCPUs
# at once. No oops and no sanitizer or lockdep report (the runner checks
# dmesg); afterwards the tables are consistent: -S parses and restores to
# the same listing, -C empties them. The IPVS family too when the module
# offers it (ipvs_abi=1). CI runs RVS_FUZZ_COUNT (default 100,000 per
# family, 30,000 on the debug kernel); --long runs 1,000,000 per family.
# RVS_FUZZ_FAMILIES picks the families (default "rvs IPVS").
. "$RVS_TOP/tests/vm/lib.sh"
count=${RVS_FUZZ_COUNT:-$(long_or 1000000 100000 30000)}
seed=${RVS_FUZZ_SEED:-$(date +%s)}

consistent() { # consistent FAMILY: the tables after fuzzing make sense
	local saved
	saved=$(rvsadm -S -n) || fail "$1: rvsadm -S failed after fuzzing"
	echo "$1: $(grep -c '^-A' <<<"$saved") services, $(grep -c '^-a' <<<"$saved") real servers left"
	rvsadm -L -n >/dev/null || fail "$1: rvsadm -L failed after fuzzing"
	rvsadm -L -n -c >/dev/null || fail "$1: rvsadm -Lnc failed after fuzzing"
	rvsadm -L --timeout >/dev/null || fail "$1: rvsadm --timeout failed after fuzzing"
	# What -S printed restores to the same tables.
	rvsadm -C
	rvsadm -R <<<"$saved" || fail "$1: the saved tables do not restore"
	expect_eq "$1: save, flush, restore round trip" "$saved" "$(rvsadm -S -n)"
	rvsadm -C
	expect_eq "$1: -C empties the tables" "" "$(rvsadm -S -n)"
	expect_eq "$1: nothing listed" 0 "$(rvsadm -L -n | grep -c -E '^(TCP|UDP|SCTP|FWM)' || true)"
}

fuzz_family() { # fuzz_family NAME
	rvsadm -A -t 10.99.0.1:80 -s wrr
	rvsadm -a -t 10.99.0.1:80 -r 10.98.0.1:80 -m -w 2
	rvsadm -A -u 10.99.0.2:81 -s sh
	rvsfuzz fuzz --family "$1" --count "$count" --jobs 2 --seed "$seed" | tee /tmp/fuzz-$1.out
	local sent
	sent=$(sed -n 's/.*sent \([0-9]*\) messages.*/\1/p' /tmp/fuzz-$1.out)
	[ "${sent:-0}" -ge "$count" ] || fail "$1: sent ${sent:-0} of $count messages"
	figure "fuzz-$1" "$(tail -1 /tmp/fuzz-$1.out) (kernel ${RVS_KERNEL:-?}, seed $seed)"
	consistent "$1"
}

families=${RVS_FUZZ_FAMILIES:-rvs IPVS}
if [[ " $families " == *" rvs "* ]]; then
	load_rvs
	fuzz_family rvs
	unload_rvs
fi
if [[ " $families " != *" IPVS "* ]]; then
	echo "(IPVS family not asked for: RVS_FUZZ_FAMILIES=$families)"
elif modinfo -F parm "$RVS_KO" | grep -q '^ipvs_abi:'; then
	unload_ip_vs
	load_rvs ipvs_abi=1
	genl_family_registered IPVS || fail "ipvs_abi=1 did not register the IPVS family"
	fuzz_family IPVS
	unload_rvs
else
	fail "this rvs.ko has no ipvs_abi parameter: the IPVS family cannot be fuzzed"
fi
