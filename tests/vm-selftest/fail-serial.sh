# timeout: 20
# lane: serial
# Harness self-check: a failing test in the serial lane fails the run.
exit 3
