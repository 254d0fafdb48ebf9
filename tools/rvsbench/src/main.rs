//! rvsbench: the small load generators and sinks that `scripts/bench.sh`
//! runs inside the test VM, between network namespaces.
//!
//! ```text
//! rvsbench serve PORT [--threads N]                 HTTP/1.0 server: "/" answers
//!                                                   a short body, "/bytes/N" N bytes
//! rvsbench cps ADDRS [--secs S] [--conc C] [--rate R]
//!                                                   one GET per connection; closed
//!                                                   loop, or open loop at R req/s
//! rvsbench bulk ADDRS [--secs S] [--conc C]         bulk download throughput
//! rvsbench udpflood ADDRS [--secs S] [--flows F] [--size B]
//!                                                   UDP datagrams as fast as possible
//! rvsbench udpsink PORT [--secs MAX] [--idle MS]    counts datagrams until idle
//! rvsbench udpback PORT [--secs S] [--prime MS]     the reply direction's sender: learns
//!                                                   its peers from their first datagrams,
//!                                                   then, MS after the last new one (or
//!                                                   at --at), sends to them as fast as
//!                                                   possible for S s
//! rvsbench udpcatch ADDRS [--flows F] [--secs MAX] [--idle MS]
//!                                                   the reply direction's receiver: one
//!                                                   datagram from each of F sockets, then
//!                                                   counts what comes back until idle
//! rvsbench spray IP:PORT --count N [--start I] [--src A.B.C.D] [--ports P]
//!                                                   one UDP datagram from each of N
//!                                                   spoofed source address/port pairs
//!                                                   (pair i: src + i/P, port 1024 + i%P)
//! ```
//!
//! ADDRS is a comma-separated list of `addr:port` (IPv6 as `[addr]:port`),
//! used round robin. Servers and sinks listen on both families.
//! Every measuring command prints one JSON object on stdout. The loads
//! (cps, bulk, udpflood, udpback) take `--at NS`, the guest realtime in ns
//! (`date +%s%N`) at which to start, so that loads in several processes
//! share one window, and report the window's "secs" and "busy_ns" (its
//! length less the time every CPU was idle, from /proc/stat).

use std::collections::{HashMap, HashSet};
use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const USAGE: &str =
    "usage: rvsbench serve|cps|bulk|udpflood|udpsink|udpback|udpcatch|spray ... (see the source's header)";

fn die(msg: &str) -> ! {
    eprintln!("rvsbench: {msg}");
    std::process::exit(2)
}

/// Positional arguments and `--name value` options.
struct Args {
    pos: Vec<String>,
    opts: HashMap<String, String>,
}

impl Args {
    fn parse(args: impl Iterator<Item = String>) -> Args {
        let mut pos = Vec::new();
        let mut opts = HashMap::new();
        let mut it = args;
        while let Some(a) = it.next() {
            if let Some(name) = a.strip_prefix("--") {
                let v = it
                    .next()
                    .unwrap_or_else(|| die(&format!("--{name} needs a value")));
                opts.insert(name.to_string(), v);
            } else {
                pos.push(a);
            }
        }
        Args { pos, opts }
    }
    fn num<T: std::str::FromStr>(&self, name: &str, default: T) -> T {
        match self.opts.get(name) {
            None => default,
            Some(v) => v
                .parse()
                .unwrap_or_else(|_| die(&format!("bad --{name} '{v}'"))),
        }
    }
    fn pos(&self, i: usize, what: &str) -> &str {
        self.pos
            .get(i)
            .map(String::as_str)
            .unwrap_or_else(|| die(&format!("missing {what}; {USAGE}")))
    }
}

fn addrs(list: &str) -> Vec<SocketAddr> {
    let v: Vec<SocketAddr> = list
        .split(',')
        .map(|a| {
            a.parse()
                .unwrap_or_else(|_| die(&format!("bad address '{a}'")))
        })
        .collect();
    if v.is_empty() {
        die("no address");
    }
    v
}

fn main() {
    let mut argv = std::env::args().skip(1);
    let cmd = argv.next().unwrap_or_else(|| die(USAGE));
    let a = Args::parse(argv);
    match cmd.as_str() {
        "serve" => serve(&a),
        "cps" => cps(&a),
        "bulk" => bulk(&a),
        "udpflood" => udpflood(&a),
        "udpsink" => udpsink(&a),
        "udpback" => udpback(&a),
        "udpcatch" => udpcatch(&a),
        "spray" => spray(&a),
        _ => die(USAGE),
    }
}

// --- HTTP server ---

const SHORT_BODY: &[u8] = b"rvs bench\n";

fn serve(a: &Args) {
    let port: u16 = a.pos(0, "PORT").parse().unwrap_or_else(|_| die("bad PORT"));
    let threads: usize = a.num("threads", 4);
    let l = TcpListener::bind(("::", port)).unwrap_or_else(|e| die(&format!("bind: {e}")));
    // A deeper accept queue than std's default, for bursts of SYNs.
    // SAFETY: listen() on a socket we own, with a plain integer backlog.
    unsafe { libc::listen(l.as_raw_fd(), 4096) };
    let mut hs = Vec::new();
    for _ in 0..threads {
        let l = l.try_clone().unwrap_or_else(|e| die(&format!("{e}")));
        hs.push(thread::spawn(move || loop {
            if let Ok((s, _)) = l.accept() {
                let _ = answer(s);
            }
        }));
    }
    for h in hs {
        let _ = h.join();
    }
}

/// Reads one request, answers it, closes the connection.
fn answer(mut s: TcpStream) -> std::io::Result<()> {
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut buf = [0u8; 2048];
    let mut n = 0;
    while !buf[..n].windows(4).any(|w| w == b"\r\n\r\n") {
        if n == buf.len() {
            return Ok(());
        }
        let got = s.read(&mut buf[n..])?;
        if got == 0 {
            return Ok(());
        }
        n += got;
    }
    let req = String::from_utf8_lossy(&buf[..n]);
    let path = req.split_whitespace().nth(1).unwrap_or("/");
    if let Some(len) = path.strip_prefix("/bytes/") {
        let mut left: u64 = len.parse().unwrap_or(0);
        s.write_all(format!("HTTP/1.0 200 OK\r\nContent-Length: {left}\r\n\r\n").as_bytes())?;
        let zeros = vec![0u8; 64 * 1024];
        while left > 0 {
            let k = left.min(zeros.len() as u64) as usize;
            s.write_all(&zeros[..k])?;
            left -= k as u64;
        }
    } else {
        let mut r = format!(
            "HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n",
            SHORT_BODY.len()
        )
        .into_bytes();
        r.extend_from_slice(SHORT_BODY);
        s.write_all(&r)?;
    }
    Ok(())
}

// --- connections per second and latency ---

/// One short request on a new connection; true if answered 200.
fn one_request(addr: &SocketAddr) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(addr, Duration::from_secs(3)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(3)));
    let _ = s.set_nodelay(true);
    if s.write_all(b"GET / HTTP/1.0\r\n\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 512];
    let mut n = 0;
    loop {
        match s.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => {
                n += k;
                if n == buf.len() {
                    break;
                }
            }
            Err(_) => return false,
        }
    }
    buf[..n].starts_with(b"HTTP/1.0 200") && buf[..n].ends_with(SHORT_BODY)
}

fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn cps(a: &Args) {
    let targets = Arc::new(addrs(a.pos(0, "ADDRS")));
    let secs: f64 = a.num("secs", 5.0);
    let conc: usize = a.num("conc", 8);
    let rate: f64 = a.num("rate", 0.0);
    let w = Window::open(start_at(a));
    let start = w.start;
    let end = start + Duration::from_secs_f64(secs);
    let next = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let mut hs = Vec::new();
    for w in 0..conc {
        let (targets, next, errors) = (targets.clone(), next.clone(), errors.clone());
        hs.push(thread::spawn(move || {
            let mut lat: Vec<u32> = Vec::new();
            loop {
                let i = next.fetch_add(1, Relaxed);
                // Open loop: request i is due at start + i/rate, and its
                // latency counts from then (queueing included).
                let due = if rate > 0.0 {
                    let due = start + Duration::from_secs_f64(i as f64 / rate);
                    if due >= end {
                        break;
                    }
                    let now = Instant::now();
                    if due > now {
                        thread::sleep(due - now);
                    }
                    due
                } else {
                    let now = Instant::now();
                    if now >= end {
                        break;
                    }
                    now
                };
                let t = &targets[(i as usize + w) % targets.len()];
                if one_request(t) {
                    lat.push(due.elapsed().as_micros().min(u32::MAX as u128) as u32);
                } else {
                    errors.fetch_add(1, Relaxed);
                }
            }
            lat
        }));
    }
    let mut lat: Vec<u32> = hs.into_iter().flat_map(|h| h.join().unwrap()).collect();
    let (el, window) = w.close();
    lat.sort_unstable();
    println!(
        "{{\"ok\":{},\"errors\":{},{window},\"cps\":{:.1},\"p50_us\":{},\"p99_us\":{}}}",
        lat.len(),
        errors.load(Relaxed),
        lat.len() as f64 / el,
        percentile(&lat, 0.50),
        percentile(&lat, 0.99)
    );
}

// --- bulk TCP throughput ---

fn bulk(a: &Args) {
    let targets = Arc::new(addrs(a.pos(0, "ADDRS")));
    let secs: f64 = a.num("secs", 5.0);
    let conc: usize = a.num("conc", 2);
    let w = Window::open(start_at(a));
    let end = w.start + Duration::from_secs_f64(secs);
    let bytes = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let mut hs = Vec::new();
    for w in 0..conc {
        let (targets, bytes, errors) = (targets.clone(), bytes.clone(), errors.clone());
        hs.push(thread::spawn(move || {
            let mut buf = vec![0u8; 256 * 1024];
            let mut i = w;
            while Instant::now() < end {
                let t = &targets[i % targets.len()];
                i += 1;
                let Ok(mut s) = TcpStream::connect_timeout(t, Duration::from_secs(3)) else {
                    errors.fetch_add(1, Relaxed);
                    thread::sleep(Duration::from_millis(100));
                    continue;
                };
                let _ = s.set_read_timeout(Some(Duration::from_secs(3)));
                if s.write_all(b"GET /bytes/1000000000000 HTTP/1.0\r\n\r\n")
                    .is_err()
                {
                    errors.fetch_add(1, Relaxed);
                    continue;
                }
                while Instant::now() < end {
                    match s.read(&mut buf) {
                        Ok(0) => break,
                        Ok(k) => {
                            bytes.fetch_add(k as u64, Relaxed);
                        }
                        Err(_) => {
                            errors.fetch_add(1, Relaxed);
                            break;
                        }
                    }
                }
            }
        }));
    }
    for h in hs {
        let _ = h.join();
    }
    let (el, window) = w.close();
    let b = bytes.load(Relaxed);
    println!(
        "{{\"bytes\":{},\"errors\":{},{window},\"mbit_s\":{:.2}}}",
        b,
        errors.load(Relaxed),
        b as f64 * 8.0 / el / 1e6
    );
}

// --- UDP packets per second ---

fn udpflood(a: &Args) {
    let targets = addrs(a.pos(0, "ADDRS"));
    let secs: f64 = a.num("secs", 5.0);
    let flows: usize = a.num("flows", 64);
    let size: usize = a.num("size", 64);
    let socks: Vec<UdpSocket> = (0..flows)
        .map(|i| {
            let s = udp_socket_for(&targets[i % targets.len()]);
            s.connect(targets[i % targets.len()])
                .unwrap_or_else(|e| die(&format!("connect: {e}")));
            s
        })
        .collect();
    let payload = vec![0x5au8; size];
    let (sent, errors, el, window) =
        flood_for(secs, start_at(a), socks.len(), |i| socks[i].send(&payload));
    println!(
        "{{\"sent\":{},\"errors\":{},{window},\"pps\":{:.1}}}",
        sent,
        errors,
        sent as f64 / el
    );
}

/// An unbound UDP socket of the target's family.
fn udp_socket_for(target: &SocketAddr) -> UdpSocket {
    let any = if target.is_ipv6() {
        "[::]:0"
    } else {
        "0.0.0.0:0"
    };
    UdpSocket::bind(any).unwrap_or_else(|e| die(&format!("bind: {e}")))
}

/// A UDP socket on PORT of both families, with a deep receive buffer.
fn udp_listen(port: u16) -> UdpSocket {
    let s = UdpSocket::bind(("::", port)).unwrap_or_else(|e| die(&format!("bind: {e}")));
    let big: libc::c_int = 8 << 20;
    // SAFETY: setsockopt on our socket with a pointer to a live c_int.
    unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUFFORCE,
            &big as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    s
}

/// Each CPU's idle and iowait time so far, in ns, from /proc/stat (in
/// USER_HZ ticks; 100 a second on Linux).
fn cpu_idle_ns() -> Vec<u64> {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    stat.lines()
        .filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
        .map(|l| {
            let f: Vec<u64> = l
                .split_whitespace()
                .skip(1)
                .map(|x| x.parse().unwrap_or(0))
                .collect();
            (f.get(3).copied().unwrap_or(0) + f.get(4).copied().unwrap_or(0)) * 10_000_000
        })
        .collect()
}

/// The guest time a load ran, and how much of it the system was busy.
/// Under QEMU's `-icount shift=0,sleep=off` (scripts/bench.sh exact) the
/// guest's clock counts executed instructions and skips idle time, so
/// `busy_ns` is the instructions the whole system spent on the load.
struct Window {
    start: Instant,
    idle: Vec<u64>,
}

impl Window {
    /// Opens the window at guest realtime `at` ns (`date +%s%N`) when
    /// given, so that loads in several processes share one window.
    fn open(at: Option<u128>) -> Self {
        if let Some(at) = at {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            // udpback reaches its --at by polling, a few ms late at most.
            if now >= at + 50_000_000 {
                eprintln!(
                    "rvsbench: start time passed {} ms ago",
                    (now - at) / 1_000_000
                );
            } else if now < at {
                thread::sleep(Duration::from_nanos((at - now) as u64));
            }
        }
        Window {
            start: Instant::now(),
            idle: cpu_idle_ns(),
        }
    }

    /// "secs" and "busy_ns" as JSON fields: busy is the elapsed time less
    /// the time every CPU was idle (at most the least idle CPU's).
    fn close(&self) -> (f64, String) {
        let el = self.start.elapsed();
        let all_idle = cpu_idle_ns()
            .iter()
            .zip(&self.idle)
            .map(|(b, a)| b.saturating_sub(*a))
            .min()
            .unwrap_or(0);
        let busy = (el.as_nanos() as u64).saturating_sub(all_idle);
        (
            el.as_secs_f64(),
            format!("\"secs\":{:.3},\"busy_ns\":{busy}", el.as_secs_f64()),
        )
    }
}

/// `--at NS`: the guest realtime at which a load starts.
fn start_at(a: &Args) -> Option<u128> {
    let at: u128 = a.num("at", 0);
    (at > 0).then_some(at)
}

/// Sends to each of `n` targets in turn (`send(i)`) as fast as possible
/// for `secs` from `at`: (sent, errors, seconds taken, window JSON fields).
fn flood_for(
    secs: f64,
    at: Option<u128>,
    n: usize,
    mut send: impl FnMut(usize) -> std::io::Result<usize>,
) -> (u64, u64, f64, String) {
    let w = Window::open(at);
    let end = w.start + Duration::from_secs_f64(secs);
    let (mut sent, mut errors) = (0u64, 0u64);
    'run: loop {
        for _ in 0..16 {
            for i in 0..n {
                match send(i) {
                    Ok(_) => sent += 1,
                    Err(_) => errors += 1,
                }
            }
            if Instant::now() >= end {
                break 'run;
            }
        }
    }
    let (el, window) = w.close();
    (sent, errors, el, window)
}

fn udpsink(a: &Args) {
    let port: u16 = a.pos(0, "PORT").parse().unwrap_or_else(|_| die("bad PORT"));
    let max: f64 = a.num("secs", 60.0);
    let idle = Duration::from_millis(a.num("idle", 1000));
    let s = udp_listen(port);
    s.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let start = Instant::now();
    let mut buf = [0u8; 2048];
    let (mut n, mut first, mut last) = (0u64, None::<Instant>, start);
    while start.elapsed().as_secs_f64() < max {
        match s.recv(&mut buf) {
            Ok(_) => {
                n += 1;
                last = Instant::now();
                first.get_or_insert(last);
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::TimedOut => {
                if first.is_some() && last.elapsed() >= idle {
                    break;
                }
            }
            Err(_) => {}
        }
    }
    let span = first.map_or(0.0, |f| (last - f).as_secs_f64());
    println!("{{\"received\":{n},\"secs\":{span:.3}}}");
}

// --- UDP in the reply direction (real server to client) ---

fn udpback(a: &Args) {
    let port: u16 = a.pos(0, "PORT").parse().unwrap_or_else(|_| die("bad PORT"));
    let secs: f64 = a.num("secs", 5.0);
    let prime = Duration::from_millis(a.num("prime", 300));
    let size: usize = a.num("size", 64);
    let s = udp_listen(port);
    let at = start_at(a);
    let poll = if at.is_some() { 2 } else { 20 };
    s.set_read_timeout(Some(Duration::from_millis(poll)))
        .unwrap();
    let (mut seen, mut peers) = (HashSet::new(), Vec::new());
    let mut buf = [0u8; 2048];
    let mut last_new = Instant::now();
    let learning = |last_new: Instant| match at {
        Some(at) => {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
                < at
        }
        None => last_new.elapsed() < prime,
    };
    // Learn the peers (until --at, or --prime after the last new one): the
    // client's first datagrams made the balancer's entries, so replies to
    // them take its reply path.
    while peers.is_empty() || learning(last_new) {
        if let Ok((_, from)) = s.recv_from(&mut buf) {
            if seen.insert(from) {
                peers.push(from);
                last_new = Instant::now();
            }
        }
    }
    let payload = vec![0xa5u8; size];
    let (sent, errors, _, window) =
        flood_for(secs, at, peers.len(), |i| s.send_to(&payload, peers[i]));
    println!(
        "{{\"peers\":{},\"sent\":{sent},\"errors\":{errors},{window}}}",
        peers.len()
    );
}

fn udpcatch(a: &Args) {
    let targets = addrs(a.pos(0, "ADDRS"));
    let flows: usize = a.num("flows", 64);
    let max: f64 = a.num("secs", 60.0);
    let idle = Duration::from_millis(a.num("idle", 500));
    let socks: Vec<UdpSocket> = (0..flows)
        .map(|i| {
            let t = &targets[i % targets.len()];
            let s = udp_socket_for(t);
            s.connect(t)
                .unwrap_or_else(|e| die(&format!("connect: {e}")));
            s.set_nonblocking(true).unwrap();
            s
        })
        .collect();
    // Three rounds, in case a first datagram waits for neighbour resolution.
    for _ in 0..3 {
        for s in &socks {
            let _ = s.send(b"hello");
        }
        thread::sleep(Duration::from_millis(20));
    }
    let mut fds: Vec<libc::pollfd> = socks
        .iter()
        .map(|s| libc::pollfd {
            fd: s.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    let start = Instant::now();
    let mut buf = [0u8; 2048];
    let (mut n, mut first, mut last) = (0u64, None::<Instant>, start);
    while start.elapsed().as_secs_f64() < max {
        // SAFETY: poll on a live array of pollfd of the length given.
        let r = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, 100) };
        if r <= 0 {
            if first.is_some() && last.elapsed() >= idle {
                break;
            }
            continue;
        }
        for (s, f) in socks.iter().zip(&fds) {
            if f.revents & libc::POLLIN == 0 {
                continue;
            }
            while s.recv(&mut buf).is_ok() {
                n += 1;
            }
        }
        last = Instant::now();
        first.get_or_insert(last);
    }
    let span = first.map_or(0.0, |f| (last - f).as_secs_f64());
    println!("{{\"received\":{n},\"secs\":{span:.3}}}");
}

// --- filling the connection table ---

fn csum16(data: &[u8]) -> u16 {
    let mut s: u32 = 0;
    for c in data.chunks(2) {
        s += u32::from(c[0]) << 8 | u32::from(*c.get(1).unwrap_or(&0));
    }
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    !(s as u16)
}

fn spray(a: &Args) {
    let dst: SocketAddrV4 = a
        .pos(0, "IP:PORT")
        .parse()
        .unwrap_or_else(|_| die("bad IP:PORT"));
    let count: u64 = a.num("count", 1000);
    let src: Ipv4Addr = a.num("src", Ipv4Addr::new(172, 20, 0, 0));
    let ports: u64 = a.num("ports", 16);
    let first: u64 = a.num("start", 0);
    // SAFETY: plain socket(2) call; the descriptor is closed at exit.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_RAW) };
    if fd < 0 {
        die(&format!("raw socket: {}", std::io::Error::last_os_error()));
    }
    let sin = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: 0,
        sin_addr: libc::in_addr {
            s_addr: u32::from(*dst.ip()).to_be(),
        },
        sin_zero: [0; 8],
    };
    let mut pkt = [0u8; 36];
    pkt[0] = 0x45;
    pkt[2..4].copy_from_slice(&36u16.to_be_bytes());
    pkt[8] = 64;
    pkt[9] = 17;
    pkt[16..20].copy_from_slice(&dst.ip().octets());
    pkt[22..24].copy_from_slice(&dst.port().to_be_bytes());
    pkt[24..26].copy_from_slice(&16u16.to_be_bytes());
    let base = u32::from(src);
    let start = Instant::now();
    let mut retries = 0u64;
    for i in first..first + count {
        let s = base.wrapping_add((i / ports) as u32);
        let sport = 1024 + (i % ports) as u16;
        pkt[4..6].copy_from_slice(&(i as u16).to_be_bytes());
        pkt[10..12].copy_from_slice(&[0, 0]);
        pkt[12..16].copy_from_slice(&s.to_be_bytes());
        pkt[20..22].copy_from_slice(&sport.to_be_bytes());
        let c = csum16(&pkt[..20]);
        pkt[10..12].copy_from_slice(&c.to_be_bytes());
        loop {
            // SAFETY: sendto from a live buffer to a live sockaddr_in.
            let r = unsafe {
                libc::sendto(
                    fd,
                    pkt.as_ptr() as *const libc::c_void,
                    pkt.len(),
                    0,
                    &sin as *const libc::sockaddr_in as *const libc::sockaddr,
                    std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
                )
            };
            if r >= 0 {
                break;
            }
            retries += 1;
            thread::sleep(Duration::from_micros(200));
        }
    }
    println!(
        "{{\"sent\":{count},\"retries\":{retries},\"secs\":{:.3}}}",
        start.elapsed().as_secs_f64()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_header_checksum() {
        // A header with a known checksum (0xb861), checksum field zeroed.
        let h = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert_eq!(csum16(&h), 0xb861);
    }

    #[test]
    fn percentiles() {
        let v: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile(&v, 0.5), 51);
        assert_eq!(percentile(&v, 0.99), 99);
        assert_eq!(percentile(&[], 0.5), 0);
    }
}
