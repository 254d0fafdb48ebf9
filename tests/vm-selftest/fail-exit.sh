# timeout: 20
# Harness self-check: a failing test must be counted as failed.
exit 3
