# timeout: 120
# -S, then -C, then -R round-trips exactly, and -R accepts what ipvsadm -S
# writes (and the other way round).
. "$RVS_TOP/tests/vm/lib.sh"
load_rvs
rvsadm -A -t 192.168.10.100:80 -s wrr
rvsadm -a -t 192.168.10.100:80 -r 10.0.0.7 -m -w 3
rvsadm -a -t 192.168.10.100:80 -r 10.0.0.17:8080 -m -w 1
rvsadm -A -t 10.0.0.10:80 -s wrr -p 20 -M 255.255.255.0
rvsadm -a -t 10.0.0.10:80 -r 10.0.0.21 -g -w 0 -x 100 -y 10
rvsadm -A -u 10.0.0.12:53 -s sh -b sh-fallback,sh-port -o
rvsadm -a -u 10.0.0.12:53 -r 10.0.0.31 -i
rvsadm -A -f 7 -s mh -b mh-port
rvsadm -A -f 8 -6 -s lc
rvsadm -A -t [2001:db8::1]:443 -s sed -p 100 -M 64
rvsadm -a -t [2001:db8::1]:443 -r [2001:db8::10]:8443 -m -w 65535
before=$(rvsadm -S -n)
listing=$(rvsadm -L -n)
rvsadm -C
expect_eq "cleared" "" "$(rvsadm -S -n)"
rvsadm -R <<<"$before"
expect_eq "save after restore" "$before" "$(rvsadm -S -n)"
expect_eq "listing after restore" "$listing" "$(rvsadm -L -n)"
# The C IPVS takes rvs's save, and rvs takes ipvsadm's.
modprobe ip_vs
for s in wrr sh mh lc sed; do modprobe ip_vs_$s; done
new_netns c_ipvs
in_ns c_ipvs ipvsadm -R <<<"$before"
expect_eq "ipvsadm -S of rvs's save" "$before" "$(in_ns c_ipvs ipvsadm -S -n)"
rvsadm -C
rvsadm -R < <(in_ns c_ipvs ipvsadm -S -n)
expect_eq "rvs restores ipvsadm's save" "$before" "$(rvsadm -S -n)"
