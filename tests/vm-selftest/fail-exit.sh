# timeout: 20
# Harness self-check: a failing test in a parallel lane must be counted
# as failed.
exit 3
