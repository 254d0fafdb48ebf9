# Helpers for VM tests; each test sources this file. Tests run as root in
# the guest; all traffic stays between network namespaces they create.
set -euo pipefail
RVS_KO=$RVS_TOP/rvs.ko

fail() { echo "FAIL: $*" >&2; exit 1; }
# check DESCRIPTION COMMAND...: runs COMMAND, fails the test if it fails.
check() { local d=$1; shift; if "$@"; then echo "ok: $d"; else fail "$d"; fi; }
# expect_eq WHAT EXPECTED ACTUAL
expect_eq() {
	if [ "$2" = "$3" ]; then echo "ok: $1"; else
		echo "--- expected"; printf '%s\n' "$2"; echo "--- actual"; printf '%s\n' "$3"
		fail "$1"
	fi
}
load_rvs() { insmod "$RVS_KO" "$@"; }
unload_rvs() { rmmod rvs; }
# genl_family_registered NAME: is a generic netlink family of that name known?
genl_family_registered() {
	python3 "$RVS_TOP/tests/vm/genl_families.py" | grep -qx "$1"
}
# expect_contains WHAT NEEDLE HAYSTACK
expect_contains() {
	if grep -qF -- "$2" <<<"$3"; then echo "ok: $1"; else
		echo "--- expected to contain: $2"; echo "--- in:"; printf '%s\n' "$3"
		fail "$1"
	fi
}
# new_netns NAME: a namespace with loopback up (so it has a local routing
# table: IPVS and rvs refuse real servers whose address type is unknown).
new_netns() { ip netns add "$1"; ip -n "$1" link set lo up; }
