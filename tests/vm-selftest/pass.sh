# timeout: 20
# lane: serial (so that the kernel report of a parallel self-check test
# cannot be blamed on it)
exit 0
