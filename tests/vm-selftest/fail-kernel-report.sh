# timeout: 20
# Harness self-check: a test in a parallel lane that exits 0 but leaves a
# kernel report ("BUG:" in the kernel log) must be counted as failed.
echo "<3>BUG: rvs harness self-check, not a real bug" >/dev/kmsg
exit 0
