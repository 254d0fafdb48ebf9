# timeout: 60
# lane: serial (loads and unloads rvs)
# insmod registers rvs; rmmod removes every trace (module, family, sysfs).
. "$RVS_TOP/tests/vm/lib.sh"
check "rvs not loaded at start" bash -c '! lsmod | grep -q "^rvs "'
load_rvs
check "lsmod shows rvs" bash -c 'lsmod | grep -q "^rvs "'
check "sysfs has the module" test -d /sys/module/rvs
check "load message in dmesg" bash -c 'dmesg | grep -q "rvs 0.1.0 loaded: connection table 4096 buckets"'
unload_rvs
check "lsmod no longer shows rvs" bash -c '! lsmod | grep -q "^rvs "'
check "sysfs entry gone" test ! -e /sys/module/rvs
# A second cycle must work just as well (nothing leaked or left registered).
load_rvs
unload_rvs
check "reload cycle clean" test ! -e /sys/module/rvs
