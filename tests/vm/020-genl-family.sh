# timeout: 60
# lane: serial (loads and unloads rvs)
# The generic netlink family "rvs" exists exactly while the module is loaded,
# in every network namespace.
. "$RVS_TOP/tests/vm/lib.sh"
check "no rvs family before insmod" bash -c '! python3 -S $RVS_TOP/tests/vm/genl_families.py | grep -qx rvs'
load_rvs
check "rvs family registered" genl_family_registered rvs
ip netns add famtest
check "family visible in another netns" bash -c 'ip netns exec famtest python3 -S $RVS_TOP/tests/vm/genl_families.py | grep -qx rvs'
ip netns del famtest
unload_rvs
check "rvs family gone after rmmod" bash -c '! python3 -S $RVS_TOP/tests/vm/genl_families.py | grep -qx rvs'
