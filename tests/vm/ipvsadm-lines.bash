# (Not a test: sourced, hence not .sh.) The ipvsadm command lines tests
# 400 (over the IPVS netlink family) and 405 (over IPVS's socket options)
# run against rvs and against ip_vs: script (configurations, edits,
# errors and the sync daemons), views (the listings) and stops (stopping
# the daemons, and its errors). Each line is one ipvsadm invocation in a
# namespace with an interface d0.
# The configurations of 115 plus the edits and errors of 110, in ipvsadm's
# words; each line is one ipvsadm invocation.
script='-A -t 192.168.10.100:80 -s rr
-a -t 192.168.10.100:80 -r 10.0.0.7 -m
-a -t 192.168.10.100:80 -r 10.0.0.17 -m
-A -t 10.0.0.10:80 -s wrr -p 20
-a -t 10.0.0.10:80 -r 10.0.0.21 -g -w 1
-a -t 10.0.0.10:80 -r 10.0.0.22 -g -w 2
-A -t 10.0.0.11:443 -s lc -p 300 -M 255.255.255.0
-a -t 10.0.0.11:443 -r 10.0.1.1 -i -w 0
-a -t 10.0.0.11:443 -r 10.0.1.2 -i -w 65535
-A -u 10.0.0.12:53 -s sh -b sh-fallback,sh-port -o
-a -u 10.0.0.12:53 -r 10.0.0.31:53 -g
-a -u 10.0.0.12:53 -r 10.0.0.32:5353 -m
-A -f 1 -s mh -b mh-fallback,mh-port
-a -f 1 -r 10.0.0.41 -g -w 2
-A -t [2001:db8::1]:443 -s sed -p 100 -M 64
-a -t [2001:db8::1]:443 -r [2001:db8::10]:8443 -m -w 100 -x 100 -y 50
-A -u [2001:db8::2]:53 -s nq
-a -u [2001:db8::2]:53 -r [2001:db8::20]:53 -i -w 7
-A -t 10.0.0.13:80 -s lblc
-A -t 10.0.0.15:80 -s fo
-A -t 10.0.0.17:0 -s twos -p 60
-E -t 10.0.0.10:80 -s wlc -p 40
-e -t 10.0.0.10:80 -r 10.0.0.22 -g -w 5
-d -t 10.0.0.10:80 -r 10.0.0.21
-D -t 10.0.0.15:80
-A -t 192.168.10.100:80 -s rr
-a -t 192.168.10.100:80 -r 10.0.0.7 -m
-D -t 10.9.9.9:80
-d -t 192.168.10.100:80 -r 10.9.9.9
-e -t 192.168.10.100:80 -r 10.9.9.9 -m
-a -t 10.9.9.9:80 -r 10.0.0.1
-A -t 10.0.0.30:80 -s nosuch
-E -t 10.9.9.9:80 -s rr
-a -t 192.168.10.100:80 -r 224.0.0.1 -m
--set 900 120 300
--set 100 30 60
-Z
-Z -t 192.168.10.100:80
-Z -t 10.9.9.9:80
--start-daemon master --mcast-interface d0 --syncid 7
--start-daemon master --mcast-interface d0
--start-daemon backup --mcast-interface nosuch
--start-daemon backup --mcast-interface d0 --syncid 9 --mcast-group 224.0.0.90 --mcast-port 9000 --mcast-ttl 2 --sync-maxlen 1400'
# After the views (which list the daemons): stopping them, and errors.
stops='--stop-daemon master
-L -n --daemon
--stop-daemon master
--stop-daemon backup
--stop-daemon backup
-L -n --daemon'
views='-L -n
-L -n --stats
-L -n --rate
-L -n --thresholds
-L -n --persistent-conn
-L -n --timeout
-L -n --daemon
-S -n
-L -n -t 192.168.10.100:80
-L -n -t 10.9.9.9:80'
