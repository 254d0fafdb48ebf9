# timeout: 180
# The same ipvsadm command sequences against the C IPVS (ipvsadm, in one
# namespace) and against rvs (rvsadm, in another) give byte-identical
# listings, saves, timeouts and single-service listings.
. "$RVS_TOP/tests/vm/lib.sh"
shopt -s extglob # (result and mask below)
# The schedulers, with one modprobe.
mods=(ip_vs)
for s in rr wrr lc wlc lblc lblcr dh sh sed nq mh fo ovf twos; do mods+=(ip_vs_$s); done
modprobe -a "${mods[@]}"
load_rvs
new_netns c_ipvs
new_netns rust_rvs
# The steps below are only noted; then every command runs, in order, in
# one shell per namespace (ns_lines, after the last step), and the outputs
# are checked step by step: under emulation a process per command rather
# than three (entering the namespace, the command, sed) is most of the test's time.
kinds=() whats=() steps=()
step() { # step KIND WHAT ARGS...: ARGS one line (no argument has a blank)
	local a
	for a in "${@:3}"; do [[ $a != *[[:space:]]* ]] || fail "step: blank in '$a'"; done
	kinds+=("$1") whats+=("$2") steps+=("${*:3}")
}
# both ARGS...: the command succeeds in both.
both() { step both "$*" "$@"; }
# compare WHAT ARGS...: the same output (stdout and stderr, the table size
# masked).
compare() { step same "$@"; }
# compare_err WHAT ARGS...: same exit code; rvsadm's message starts with
# ipvsadm's (it may add the kernel's extack detail in parentheses).
compare_err() { step err "$@"; }

# Seeds 000-004: NAT and DR farms, persistence, the scheduler list.
both -A -t 192.168.10.100:80 -s wrr
both -a -t 192.168.10.100:80 -r 10.0.0.7 -m
both -a -t 192.168.10.100:80 -r 10.0.0.17 -m
both -A -t 10.0.0.10:80 -s wrr -p 20
both -a -t 10.0.0.10:80 -r 10.0.0.21 -g -w 1
both -a -t 10.0.0.10:80 -r 10.0.0.22 -g -w 3
both -a -t 10.0.0.10:80 -r 10.0.0.23 -i -w 2
both -A -t 10.0.0.11:80 -s rr -p 50
both -A -u 10.0.0.12:53 -s sh -b sh-fallback,sh-port -o
both -a -u 10.0.0.12:53 -r 10.0.0.31:53 -g -w 0
both -A -f 1 -s mh -b mh-port
both -a -f 1 -r 10.0.0.41 -g -w 65535
both -A -f 2 -6 -s lc
both -A -t [2001:db8::1]:443 -s sed -p 100 -M 64
both -a -t [2001:db8::1]:443 -r [2001:db8::10]:8443 -m -w 100 -x 100 -y 50
both -A -t 192.168.10.100:8080 -s nq -p -M 255.255.255.0
both -a -t 192.168.10.100:8080 -r 10.0.0.7:8080 -m -x 10 -y 5
both -a -t 192.168.10.100:8080 -r 10.0.0.8:9090 -m -w 7
# One address per scheduler (the first three digits of its name's cksum,
# modulo 200, plus 20).
for sn in lblc:168 lblcr:158 dh:166 fo:187 ovf:43 twos:195; do
	s=${sn%:*} n=${sn#*:}
	both -A -t 10.9.0.$n:80 -s $s
	both -a -t 10.9.0.$n:80 -r 10.9.1.$n -g -w 2
done
both -A -t 1.2.3.4:0 -p 60
both --set 30 6 60

compare "listing -L -n" -L -n
compare "listing -Ln --stats" -L -n --stats
compare "listing -Ln --rate" -L -n --rate
compare "listing -Ln --thresholds" -L -n --thresholds
compare "listing -Ln --persistent-conn" -L -n --persistent-conn
compare "listing -Ln --exact --stats" -L -n --exact --stats
compare "save -S -n" -S -n
compare "timeouts" -L --timeout
compare "one service" -L -n -t 10.0.0.10:80
compare "one fwmark service" -L -n -f 1
compare "IPv6 service" -L -n -t [2001:db8::1]:443

# Edits and deletions.
both -E -t 10.0.0.11:80 -s wlc
both -E -t 10.0.0.10:80 -s wrr -p 300 -M 255.255.0.0
both -e -t 10.0.0.10:80 -r 10.0.0.22 -g -w 0
# IPVS takes weights above 65535 (any non-negative int).
both -e -t 10.0.0.10:80 -r 10.0.0.21 -g -w 70000
both -e -t 192.168.10.100:8080 -r 10.0.0.7:8080 -m -x 0 -y 0 -w 9
both -d -t 10.0.0.10:80 -r 10.0.0.21
both -D -u 10.0.0.12:53
both -D -f 2 -6
both --set 0 0 90
compare "listing after edits" -L -n
compare "save after edits" -S -n
compare "timeouts after a partial --set" -L --timeout

# Zeroing counters and failing commands give the same answers.
both -Z
both -Z -t 10.0.0.10:80
compare_err "duplicate service" -A -t 10.0.0.10:80
compare_err "missing service" -D -t 10.99.0.1:80
compare_err "dest on missing service" -a -t 10.99.0.1:80 -r 10.0.0.1
compare_err "duplicate dest" -a -t 192.168.10.100:80 -r 10.0.0.7 -m
compare_err "edit missing dest" -e -t 192.168.10.100:80 -r 10.0.0.99 -m
compare_err "delete missing dest" -d -t 192.168.10.100:80 -r 10.0.0.99
compare_err "unknown scheduler" -A -t 10.0.0.50:80 -s nosuch
compare "listing after failures" -L -n

both -C
compare "empty after -C" -L -n

# The steps' commands, then their checks.
printf -v lines '%s\n' "${steps[@]}"
ns_lines c_ipvs /tmp/ctl.c. ipvsadm <<<"${lines%$'\n'}"
ns_lines rust_rvs /tmp/ctl.r. rvsadm <<<"${lines%$'\n'}"
# result FILE: an ns_lines file's output in OUT (its trailing newlines
# dropped, as $(...) drops them) and exit code in RC.
result() {
	local all=
	IFS= read -r -d '' all <"$1" || :
	[[ $all =~ ^(.*)exit\ ([0-9]+)$'\n'$ ]] || fail "$1: no exit code in: $all"
	OUT=${BASH_REMATCH[1]} RC=${BASH_REMATCH[2]}
	OUT=${OUT%%+($'\n')}
}
# mask TEXT: TEXT in MASKED, each line's first table size masked as
# sed 's/(size=[0-9]*)/(size=N)/' does.
mask() {
	local l
	MASKED=
	while IFS= read -r l; do MASKED+=${l/"(size="*([0-9])")"/"(size=N)"}$'\n'; done <<<"$1"
	MASKED=${MASKED%$'\n'}
}
for i in "${!steps[@]}"; do
	what=${whats[i]}
	result /tmp/ctl.c.$((i + 1)); co=$OUT cr=$RC
	result /tmp/ctl.r.$((i + 1)); ro=$OUT rr=$RC
	case ${kinds[i]} in
	both)
		[ -z "$co" ] || printf 'ipvsadm %s: %s\n' "$what" "$co"
		[ -z "$ro" ] || printf 'rvsadm %s: %s\n' "$what" "$ro"
		[ "$cr" = 0 ] || fail "ipvsadm $what: exit $cr"
		[ "$rr" = 0 ] || fail "rvsadm $what: exit $rr" ;;
	same)
		mask "$co"; co=$MASKED
		mask "$ro"
		expect_eq "$what" "$co" "$MASKED" ;;
	err)
		expect_eq "$what: exit code" "$cr" "$rr"
		[ -n "$co" ] || fail "$what: ipvsadm printed no error"
		case $ro in "$co"*) echo "ok: $what: $ro" ;; *) expect_eq "$what: message" "$co" "$ro" ;; esac ;;
	esac
done
