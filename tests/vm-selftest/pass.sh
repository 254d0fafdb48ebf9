# timeout: 20
exit 0
