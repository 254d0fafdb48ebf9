#!/usr/bin/env bash
# The demo: sets everything up, boots the test kernel, loads rvs.ko and
# shows it working. Usage: scripts/demo.sh
set -euo pipefail
. "$(dirname "$0")/common.sh"
"$RVS_TOP/scripts/setup.sh"
say "building rvs.ko and rvsadm"
make -C "$RVS_TOP" -s all >/dev/null
kdir=$(kernel_build_dir base)
say "booting the test kernel (software emulation, no network device)"
# --verbose: the guest's output reaches us through the console; kernel log
# lines are filtered out.
vng --verbose --run "$kdir" --disable-kvm --disable-microvm "${VNG_ROOT[@]}" --cpus 2 --memory 2G \
	--cwd "$RVS_TOP" --exec "RVS_TOP=$RVS_TOP bash $RVS_TOP/tests/demo/guest-demo.sh" 2>&1 |
	grep --line-buffered -v -E '^\[ *[0-9]+\.[0-9]+\] |^virtme|^fuse: |^\s*$'
