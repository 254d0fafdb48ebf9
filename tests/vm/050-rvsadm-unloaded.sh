# timeout: 60
# Without the module, rvsadm says so clearly and exits 1.
. "$RVS_TOP/tests/vm/lib.sh"
set +e
out=$(rvsadm -L -n 2>&1); rc=$?
set -e
expect_eq "exit code without module" 1 "$rc"
check "message names the module" bash -c "grep -q 'rvs kernel module is not loaded' <<<'$out'"
check "message says how to load it" bash -c "grep -q 'insmod rvs.ko' <<<'$out'"
