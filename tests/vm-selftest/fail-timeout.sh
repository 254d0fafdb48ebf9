# timeout: 3
# Harness self-check: a test that overruns its time bound fails.
sleep 30
