# timeout: 60
# lane: serial (needs rvs not loaded)
# Without the module, rvsadm says so clearly and exits 1.
. "$RVS_TOP/tests/vm/lib.sh"
set +e
out=$(rvsadm -L -n 2>&1); rc=$?
set -e
expect_eq "exit code without module" 1 "$rc"
expect_contains "message names the module" "rvs kernel module is not loaded" "$out"
expect_contains "message says how to load it" "insmod rvs.ko" "$out"
set +e
out=$(rvsadm -A -t 10.1.1.1:80 2>&1); rc=$?
set -e
expect_eq "a change without the module exits 1" 1 "$rc"
expect_contains "and says why" "rvs kernel module is not loaded" "$out"
