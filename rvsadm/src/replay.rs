//! The recorded ipvsadm 1.31 runs (tests/fixtures/*_cases.txt), replayed
//! through rvsadm's own [`run`]: each case's arguments and stdin go in,
//! and its stdout, stderr, exit status and the changes it made to the
//! kernel must come out byte for byte. The kernel side is a
//! [`RecordedKernel`], the fake kernel the case was recorded against (a
//! scenario file), answering rvs's netlink requests as attributes.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::*;
use model::{Conn, Stats, SyncCounters};
use netlink::ConnAttr;
use rvs_core::abi::{conn_attr as ca, daemon_attr as da};

/// A fake kernel loaded from a scenario: its tables, and the changes asked
/// of it, logged as the recording shim logged ipvsadm's.
pub(crate) struct RecordedKernel {
    info: Info,
    services: Vec<(Service, Vec<Dest>)>,
    timeouts: Timeouts,
    conns: Vec<Conn>,
    daemons: Vec<Daemon>,
    /// The errno every change fails with, after it is logged.
    errno: Option<i32>,
    /// true: Debian's binary on the sockopt interface, which has no IPv6
    /// and no persistence engines; false: the source build against an
    /// address-family-aware fake.
    v4_only: bool,
    log: String,
}

fn refuse(errno: i32) -> Error {
    Error::Kernel { errno, msg: None }
}

const EOPNOTSUPP: i32 = 95;

impl RecordedKernel {
    /// The service a request names, found as the shim finds it.
    fn find(&self, attrs: &[Attr]) -> Result<&(Service, Vec<Dest>), Error> {
        let key = request_service(attrs).ok_or(refuse(errno::EINVAL))?;
        if self.v4_only && key.af == AddressFamily::Inet6 {
            return Err(refuse(errno::EAFNOSUPPORT));
        }
        self.services
            .iter()
            .find(|(s, _)| {
                if !self.v4_only && s.af != key.af {
                    false
                } else if key.fwmark != 0 {
                    s.fwmark == key.fwmark
                } else {
                    s.fwmark == 0
                        && s.protocol == key.protocol
                        && s.addr == key.addr
                        && s.port == key.port
                }
            })
            .ok_or(refuse(errno::ESRCH))
    }

    /// A changing request: logged, then refused with the scenario's errno
    /// if it has one.
    fn change(&mut self, cmd: u8, attrs: &[Attr]) -> Result<(), Error> {
        let svc = request_service(attrs);
        let dest = attrs.iter().find_map(|a| match a {
            Attr::Dest(d) => Some(dest_from(AddressFamily::Inet, d)),
            _ => None,
        });
        let daemon = attrs.iter().find_map(|a| match a {
            Attr::Daemon(d) => Some(d.as_slice()),
            _ => None,
        });
        let unsupported = svc
            .as_ref()
            .is_some_and(|s| s.af == AddressFamily::Inet6 || !s.pe_name.is_empty())
            || dest.as_ref().is_some_and(|d| d.af == AddressFamily::Inet6);
        if unsupported {
            return Err(refuse(errno::EAFNOSUPPORT));
        }
        let svc_text = || svc.as_ref().map(svc_log).unwrap_or_default();
        let dest_text = || dest.as_ref().map(dest_log).unwrap_or_default();
        let line = match cmd {
            cmd::NEW_SERVICE => format!("SET ADD{}", svc_text()),
            cmd::SET_SERVICE => format!("SET EDIT{}", svc_text()),
            cmd::DEL_SERVICE => format!("SET DEL{}", svc_text()),
            cmd::FLUSH => "SET FLUSH".to_string(),
            // Zeroing everything passes a zeroed service.
            cmd::ZERO => format!(
                "SET ZERO{}",
                svc_log(&svc.unwrap_or(Service {
                    protocol: Protocol::Other(0),
                    ..Service::default()
                }))
            ),
            cmd::NEW_DEST => format!("SET ADDDEST{}{}", svc_text(), dest_text()),
            cmd::SET_DEST => format!("SET EDITDEST{}{}", svc_text(), dest_text()),
            cmd::DEL_DEST => format!("SET DELDEST{}{}", svc_text(), dest_text()),
            cmd::SET_CONFIG => {
                let mut t = Timeouts::default();
                for a in attrs {
                    match a {
                        Attr::TimeoutTcp(v) => t.tcp = *v,
                        Attr::TimeoutTcpFin(v) => t.tcp_fin = *v,
                        Attr::TimeoutUdp(v) => t.udp = *v,
                        _ => {}
                    }
                }
                format!("SET TIMEOUT {} {} {}", t.tcp, t.tcp_fin, t.udp)
            }
            cmd::NEW_DAEMON => {
                let d = daemon_from(daemon.unwrap_or_default())?;
                format!(
                    "SET STARTDAEMON state={} ifn={} syncid={}",
                    d.state, d.mcast_ifn, d.syncid
                )
            }
            // The sockopt interface passes the state alone.
            cmd::DEL_DAEMON | cmd::RESYNC_DAEMON => {
                let state = daemon
                    .unwrap_or_default()
                    .iter()
                    .find_map(|a| match a {
                        DaemonAttr::State(s) => Some(*s),
                        _ => None,
                    })
                    .unwrap_or(0);
                if cmd == cmd::DEL_DAEMON {
                    format!("SET STOPDAEMON state={state} ifn= syncid=0")
                } else {
                    format!("SET RESYNCDAEMON state={state}")
                }
            }
            _ => return Err(refuse(EOPNOTSUPP)),
        };
        self.log.push_str(&line);
        self.log.push('\n');
        self.errno.map_or(Ok(()), |e| Err(refuse(e)))
    }
}

impl Kernel for RecordedKernel {
    fn info(&mut self) -> Result<netlink::Info, Error> {
        Ok(netlink::Info {
            version: self.info.version,
            conn_tab_size: self.info.conn_tab_size,
            module_version: "0.0.0-recorded".to_string(),
        })
    }

    fn call(&mut self, cmd: u8, attrs: &[Attr]) -> Result<Vec<Vec<Attr>>, Error> {
        match cmd {
            cmd::GET_SERVICE => {
                let (s, _) = self.find(attrs)?;
                Ok(vec![vec![Attr::Service(svc_reply(s))]])
            }
            cmd::GET_CONFIG => Ok(vec![vec![
                Attr::TimeoutTcp(self.timeouts.tcp),
                Attr::TimeoutTcpFin(self.timeouts.tcp_fin),
                Attr::TimeoutUdp(self.timeouts.udp),
            ]]),
            _ => self.change(cmd, attrs).map(|()| Vec::new()),
        }
    }

    fn dump(&mut self, cmd: u8, attrs: &[Attr]) -> Result<Vec<Vec<Attr>>, Error> {
        let entries: Vec<Attr> = match cmd {
            cmd::GET_SERVICE => self
                .services
                .iter()
                .map(|(s, _)| Attr::Service(svc_reply(s)))
                .collect(),
            cmd::GET_DEST => {
                let (_, dests) = self.find(attrs)?;
                dests.iter().map(|d| Attr::Dest(dest_reply(d))).collect()
            }
            cmd::GET_DAEMON => self
                .daemons
                .iter()
                .filter(|d| d.state != 0)
                .map(|d| Attr::Daemon(daemon_reply(d)))
                .collect(),
            cmd::GET_CONN => self
                .conns
                .iter()
                .map(|c| Attr::Conn(conn_reply(c)))
                .collect(),
            _ => return Err(refuse(EOPNOTSUPP)),
        };
        Ok(entries.into_iter().map(|a| vec![a]).collect())
    }

    fn batch(&mut self, requests: &[(u8, &[Attr])]) -> Result<Vec<Result<(), Error>>, Error> {
        Ok(requests
            .iter()
            .map(|(cmd, attrs)| self.change(*cmd, attrs))
            .collect())
    }
}

/// The service a request's SERVICE attribute describes.
fn request_service(attrs: &[Attr]) -> Option<Service> {
    attrs.iter().find_map(|a| match a {
        Attr::Service(s) => Some(service_from(s)),
        _ => None,
    })
}

fn stats_reply(s: &Stats) -> Vec<StatsAttr> {
    use stats_attr::*;
    [
        (CONNS, s.conns),
        (INPKTS, s.inpkts),
        (OUTPKTS, s.outpkts),
        (INBYTES, s.inbytes),
        (OUTBYTES, s.outbytes),
        (CPS, s.cps),
        (INPPS, s.inpps),
        (OUTPPS, s.outpps),
        (INBPS, s.inbps),
        (OUTBPS, s.outbps),
    ]
    .into_iter()
    .map(|(k, v)| StatsAttr(k, v))
    .collect()
}

/// A service as the kernel lists it: its settings and counters.
fn svc_reply(s: &Service) -> Vec<SvcAttr> {
    let mut v = svc_attrs(s, true);
    v.push(SvcAttr::Stats64(stats_reply(&s.stats)));
    v
}

/// A real server as the kernel lists it.
fn dest_reply(d: &Dest) -> Vec<DestAttr> {
    let mut v = dest_attrs(d, true);
    v.extend([
        DestAttr::ActiveConns(d.active_conns),
        DestAttr::InactConns(d.inact_conns),
        DestAttr::PersistConns(d.persist_conns),
        DestAttr::TunType(d.tun_type),
        DestAttr::TunPort(d.tun_port),
        DestAttr::TunFlags(d.tun_flags),
        DestAttr::Stats64(stats_reply(&d.stats)),
    ]);
    v
}

/// A running daemon as rvs lists it: its settings, then the counters it
/// has.
fn daemon_reply(d: &Daemon) -> Vec<DaemonAttr> {
    let c = &d.counters;
    let counters = [
        (da::DATAGRAMS, c.datagrams),
        (da::ENTRIES, c.entries),
        (da::DROP_QUEUE_FULL, c.drop_queue_full),
        (da::DROP_SEND_ERROR, c.drop_send_error),
        (da::DROP_BAD_DATAGRAM, c.drop_bad_datagram),
        (da::DROP_BAD_ENTRY, c.drop_bad_entry),
        (da::DROP_SYNCID, c.drop_syncid),
        (da::DROP_NO_ROOM, c.drop_no_room),
        (da::LOST_DATAGRAMS, c.lost_datagrams),
        (da::LAST_SEQ, c.last_seq.map(u64::from)),
        (da::RESYNCS, c.resyncs),
        (da::RESYNC_PENDING, c.resync_pending.map(u64::from)),
    ];
    let mut v = daemon_start_attrs(d);
    v.extend(
        counters
            .into_iter()
            .filter_map(|(k, n)| n.map(|n| DaemonAttr::Counter(k, n))),
    );
    v
}

/// A connection as rvs's GET_CONN dump sends it.
fn conn_reply(c: &Conn) -> Vec<ConnAttr> {
    let af = |a: &IpAddr| match a {
        IpAddr::V4(_) => AddressFamily::Inet.raw(),
        IpAddr::V6(_) => AddressFamily::Inet6.raw(),
    };
    let u16_attr = |k, v: u16| ConnAttr(k, v.to_ne_bytes().to_vec());
    let port_attr = |k, v: u16| ConnAttr(k, v.to_be_bytes().to_vec());
    vec![
        u16_attr(ca::AF, af(&c.caddr)),
        u16_attr(ca::PROTOCOL, c.protocol_number().raw()),
        ConnAttr(ca::CADDR, addr_bytes(&c.caddr)),
        port_attr(ca::CPORT, c.cport),
        ConnAttr(ca::VADDR, addr_bytes(&c.vaddr)),
        port_attr(ca::VPORT, c.vport),
        ConnAttr(ca::DADDR, addr_bytes(&c.daddr)),
        port_attr(ca::DPORT, c.dport),
        u16_attr(ca::DEST_AF, af(&c.daddr)),
        ConnAttr(ca::STATE, [c.state.as_bytes(), b"\0"].concat()),
        ConnAttr(
            ca::EXPIRES_MS,
            (c.expires_secs * 1000).to_ne_bytes().to_vec(),
        ),
    ]
}

/// A number of a scenario line: decimal (a negative one as its two's
/// complement) or hex after "0x".
fn num(s: &str) -> u64 {
    if let Some(h) = s.strip_prefix("0x") {
        u64::from_str_radix(h, 16).unwrap()
    } else if let Some(n) = s.strip_prefix('-') {
        (-(n.parse::<i64>().unwrap())) as u64
    } else {
        s.parse::<u64>().unwrap()
    }
}

/// Up to ten counters and rates in `Stats` order; a missing one is 0.
fn load_stats(f: &[&str]) -> Stats {
    let mut v = [0u64; 10];
    for (i, x) in f.iter().take(10).enumerate() {
        v[i] = num(x);
    }
    Stats {
        conns: v[0],
        inpkts: v[1],
        outpkts: v[2],
        inbytes: v[3],
        outbytes: v[4],
        cps: v[5],
        inpps: v[6],
        outpps: v[7],
        inbps: v[8],
        outbps: v[9],
    }
}

/// What the sockopt interface the recordings' shim faked carries: 32-bit
/// counters and rates, 64-bit byte counts.
fn sockopt_stats(s: Stats) -> Stats {
    let low = |v: u64| u64::from(v as u32);
    Stats {
        conns: low(s.conns),
        inpkts: low(s.inpkts),
        outpkts: low(s.outpkts),
        cps: low(s.cps),
        inpps: low(s.inpps),
        outpps: low(s.outpps),
        inbps: low(s.inbps),
        outbps: low(s.outbps),
        ..s
    }
}

/// An address of family `af`; in an IPv6 field, an IPv4 one stands for ::.
fn load_addr(af: AddressFamily, s: &str) -> IpAddr {
    match af {
        AddressFamily::Inet6 => match s.parse::<Ipv4Addr>() {
            Ok(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            Err(_) => IpAddr::V6(s.parse().unwrap()),
        },
        AddressFamily::Inet => IpAddr::V4(s.parse().unwrap()),
    }
}

/// A `svc` line's fields from the protocol on: protocol, address, port,
/// fwmark, scheduler, flags, timeout and netmask.
fn load_service(af: AddressFamily, f: &[&str]) -> Service {
    Service {
        af,
        protocol: Protocol::from_raw(num(f[0]) as u16),
        addr: load_addr(af, f[1]),
        port: num(f[2]) as u16,
        fwmark: num(f[3]) as u32,
        sched_name: f[4].to_string(),
        flags: num(f[5]) as u32,
        timeout: num(f[6]) as u32,
        netmask: match af {
            AddressFamily::Inet => u32::from(f[7].parse::<Ipv4Addr>().unwrap()),
            AddressFamily::Inet6 => num(f[7]) as u32,
        },
        ..Service::default()
    }
}

/// A `dest` line's fields from the address on: address, port, forwarding
/// method, weight, thresholds, and active, inactive and persistent
/// connections.
fn load_dest(af: AddressFamily, f: &[&str]) -> Dest {
    Dest {
        af,
        addr: load_addr(af, f[0]),
        port: num(f[1]) as u16,
        fwd_method: FwdMethod::from_conn_flags(num(f[2]) as u32),
        weight: num(f[3]) as i32,
        u_threshold: num(f[4]) as u32,
        l_threshold: num(f[5]) as u32,
        active_conns: num(f[6]) as u32,
        inact_conns: num(f[7]) as u32,
        persist_conns: num(f[8]) as u32,
        ..Dest::default()
    }
}

/// The fake kernel of scenario `name` (a file of tests/fixtures; the
/// connection table is `conn.txt`, except for "noconn").
fn scenario(name: &str) -> RecordedKernel {
    let text = match name {
        "s1" => include_str!("../tests/fixtures/s1.txt"),
        "s2" => include_str!("../tests/fixtures/s2.txt"),
        "empty" => include_str!("../tests/fixtures/empty.txt"),
        "s6" => include_str!("../tests/fixtures/s6.txt"),
        "sync" => include_str!("../tests/fixtures/sync.txt"),
        _ => "",
    };
    let conns = if name == "noconn" {
        Vec::new()
    } else {
        include_str!("../tests/fixtures/conn.txt")
            .lines()
            .skip(1)
            .filter_map(parse_proc_conn_line)
            .collect()
    };
    let mut k = RecordedKernel {
        info: Info::default(),
        services: Vec::new(),
        timeouts: Timeouts {
            tcp: 900,
            tcp_fin: 120,
            udp: 300,
        },
        conns,
        errno: None,
        log: String::new(),
        v4_only: !matches!(name, "s6" | "sync"),
        daemons: Vec::new(),
    };
    let v2 = matches!(name, "s6" | "sync");
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.is_empty() {
            continue;
        }
        if f[0] == "info" {
            k.info = Info {
                version: num(f[1]) as u32,
                conn_tab_size: num(f[2]) as u32,
            };
        } else if v2 {
            load_v2_line(&mut k, &f);
        } else {
            load_v1_line(&mut k, &f);
        }
    }
    k
}

/// Scenario lines of the ipvsadm recordings (IPv4, no persistence
/// engines or tunnels, the sockopt interface's stats).
fn load_v1_line(k: &mut RecordedKernel, f: &[&str]) {
    match f[0] {
        "svc" => {
            let s = Service {
                stats: sockopt_stats(load_stats(&f[9..])),
                ..load_service(AddressFamily::Inet, &f[1..])
            };
            k.services.push((s, Vec::new()));
        }
        "dest" => {
            let d = Dest {
                stats: sockopt_stats(load_stats(&f[10..])),
                ..load_dest(AddressFamily::Inet, &f[1..])
            };
            k.services.last_mut().unwrap().1.push(d);
        }
        _ => {}
    }
}

/// Scenario lines of the upstream-source oracle (with address families,
/// persistence engines, tunnels, 64-bit stats and daemons).
fn load_v2_line(k: &mut RecordedKernel, f: &[&str]) {
    let af = |s: &str| {
        if s == "6" {
            AddressFamily::Inet6
        } else {
            AddressFamily::Inet
        }
    };
    match f[0] {
        "daemon" => {
            let g = if f[6] == "-" {
                None
            } else {
                Some(f[6].parse::<IpAddr>().unwrap())
            };
            k.daemons.push(Daemon {
                state: num(f[2]) as u32,
                mcast_ifn: f[3].to_string(),
                syncid: num(f[4]) as u32,
                sync_maxlen: num(f[5]) as u16,
                mcast_group: g,
                mcast_port: num(f[7]) as u16,
                mcast_ttl: num(f[8]) as u8,
                counters: sync_counters(&f[9..]),
            });
        }
        "svc" => {
            let s = Service {
                pe_name: if f[10] == "-" {
                    String::new()
                } else {
                    f[10].to_string()
                },
                stats: load_stats(&f[11..]),
                ..load_service(af(f[1]), &f[2..])
            };
            k.services.push((s, Vec::new()));
        }
        "dest" => {
            let d = Dest {
                tun_type: num(f[11]) as u8,
                tun_port: num(f[12]) as u16,
                tun_flags: num(f[13]) as u16,
                stats: load_stats(&f[14..]),
                ..load_dest(af(f[1]), &f[2..])
            };
            k.services.last_mut().unwrap().1.push(d);
        }
        _ => {}
    }
}

/// rvs's daemon counters after a scenario's daemon line (rvsadm's own
/// scenarios only), in `SyncCounters` order, "-" for one not sent.
fn sync_counters(f: &[&str]) -> SyncCounters {
    let v = |i: usize| {
        f.get(i)
            .filter(|x| **x != "-")
            .map(|x| x.parse::<u64>().unwrap())
    };
    SyncCounters {
        datagrams: v(0),
        entries: v(1),
        drop_queue_full: v(2),
        drop_send_error: v(3),
        drop_bad_datagram: v(4),
        drop_bad_entry: v(5),
        drop_syncid: v(6),
        drop_no_room: v(7),
        lost_datagrams: v(8),
        last_seq: v(9).map(|x| x as u32),
        resyncs: v(10),
        resync_pending: v(11).map(|x| x as u32),
    }
}

fn svc_log(s: &Service) -> String {
    let addr = match s.addr {
        IpAddr::V4(a) => a,
        IpAddr::V6(_) => Ipv4Addr::UNSPECIFIED,
    };
    format!(
        " svc proto={} addr={} port={} fwmark={} sched={} flags=0x{:x} timeout={} netmask={}",
        s.protocol.raw(),
        addr,
        s.port,
        s.fwmark,
        s.sched_name,
        s.flags,
        s.timeout,
        Ipv4Addr::from(s.netmask)
    )
}

fn dest_log(d: &Dest) -> String {
    format!(
        " dest addr={} port={} conn_flags={} weight={} u={} l={}",
        d.addr,
        d.port,
        d.fwd_method.raw(),
        d.weight,
        d.u_threshold,
        d.l_threshold
    )
}

/// /proc/net/ip_vs_conn, which the recordings read, turned into the
/// connections rvs would list.

/// `sscanf("%hX")`-like hex u16 (wrapping like the C conversion).
fn scan_hex16(s: &str) -> Option<u16> {
    let t = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    let digits: String = t.chars().take_while(|c| c.is_ascii_hexdigit()).collect();
    if digits.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for ch in digits.chars() {
        v = v
            .wrapping_mul(16)
            .wrapping_add(ch.to_digit(16).unwrap() as u64);
    }
    Some(v as u16)
}

/// `strtoul(s, NULL, 16)` truncated to 32 bits.
fn hex_u32(s: &str) -> u32 {
    let t = s.trim_start();
    let t = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .unwrap_or(t);
    let mut v: u64 = 0;
    for ch in t.chars() {
        match ch.to_digit(16) {
            Some(d) => {
                v = v.saturating_mul(16).saturating_add(d as u64);
            }
            None => break,
        }
    }
    if v > u32::MAX as u64 {
        u32::MAX
    } else {
        v as u32
    }
}

/// Parse one line of /proc/net/ip_vs_conn (as ipvsadm's print_conn does
/// with sscanf).  Returns None for lines that do not carry the nine
/// mandatory fields.
pub(crate) fn parse_proc_conn_line(line: &str) -> Option<Conn> {
    let f: Vec<&str> = line.split_ascii_whitespace().collect();
    if f.len() < 9 {
        return None;
    }
    let cport = scan_hex16(f[2])?;
    let vport = scan_hex16(f[4])?;
    let dport = scan_hex16(f[6])?;
    let expires = {
        let s = f[8];
        let (neg, d) = match s.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, s.strip_prefix('+').unwrap_or(s)),
        };
        let digits: String = d.chars().take_while(|c| c.is_ascii_digit()).collect();
        if digits.is_empty() {
            return None;
        }
        let v: i64 = digits.parse::<i64>().unwrap_or(i64::MAX);
        let v = if neg { -v } else { v };
        v as i32 as u32
    };
    let (caddr, vaddr) = if let Some(c6) = addr::inet_pton6(f[1]) {
        let v6 = addr::inet_pton6(f[3]).unwrap_or(std::net::Ipv6Addr::UNSPECIFIED);
        (IpAddr::V6(c6), IpAddr::V6(v6))
    } else if let Some(c4) = addr::inet_pton4(f[1]) {
        let v4 = addr::inet_pton4(f[3]).unwrap_or(Ipv4Addr::UNSPECIFIED);
        (IpAddr::V4(c4), IpAddr::V4(v4))
    } else {
        (
            IpAddr::V4(Ipv4Addr::from(hex_u32(f[1]))),
            IpAddr::V4(Ipv4Addr::from(hex_u32(f[3]))),
        )
    };
    let daddr = if let Some(d6) = addr::inet_pton6(f[5]) {
        IpAddr::V6(d6)
    } else if let Some(d4) = addr::inet_pton4(f[5]) {
        IpAddr::V4(d4)
    } else {
        IpAddr::V4(Ipv4Addr::from(hex_u32(f[5])))
    };
    let (pe_name, pe_data) = if f.len() >= 11 {
        (Some(f[9].to_string()), Some(f[10].to_string()))
    } else {
        (None, None)
    };
    Some(Conn {
        protocol: f[0].to_string(),
        caddr,
        cport,
        vaddr,
        vport,
        daddr,
        dport,
        state: f[7].to_string(),
        expires_secs: expires,
        pe_name,
        pe_data,
    })
}

fn unesc(s: &str) -> String {
    let mut out = String::new();
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some('\\') => out.push('\\'),
                Some(o) => {
                    out.push('\\');
                    out.push(o)
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

struct Case {
    scenario: String,
    errno: Option<i32>,
    args: Vec<String>,
    stdin: String,
    rc: i32,
    stdout: String,
    stderr: String,
    kernel: String,
}

fn cases(text: &str) -> Vec<Case> {
    let mut v = Vec::new();
    for block in text.split("\n\n") {
        let mut c = Case {
            scenario: String::new(),
            errno: None,
            args: Vec::new(),
            stdin: String::new(),
            rc: 0,
            stdout: String::new(),
            stderr: String::new(),
            kernel: String::new(),
        };
        let mut any = false;
        for line in block.lines() {
            let (key, val) = match line.split_once('\t') {
                Some(x) => x,
                None => continue,
            };
            match key {
                "S" => {
                    c.scenario = val.to_string();
                    any = true
                }
                "X" => c.errno = Some(val.parse().unwrap()),
                "A" => c.args.push(unesc(val)),
                "I" => c.stdin = unesc(val),
                "R" => c.rc = val.parse().unwrap(),
                "O" => c.stdout = unesc(val),
                "E" => c.stderr = unesc(val),
                "K" => c.kernel = unesc(val),
                _ => {}
            }
        }
        if any {
            v.push(c);
        }
    }
    v
}

/// Why rvsadm does not print what ipvsadm printed in a case, where it
/// does not: each one a difference Documentation/rvsadm.md states.
fn divergence(c: &Case) -> Option<&'static str> {
    let args: Vec<&str> = c.args.iter().map(String::as_str).collect();
    if c.rc == 139 {
        Some("ipvsadm segfaults on `-b ,`; rvsadm reports the flag")
    } else if matches!(args.as_slice(), ["-v"] | ["--version"]) {
        Some("--version alone prints rvsadm's and the module's versions")
    } else if c.scenario == "noconn" {
        Some("an empty /proc/net/ip_vs_conn: rvsadm reads connections over netlink")
    } else if c.stdout.contains(" pe_data\n") {
        Some("rvs has no persistence engines: no pe data in `-c --persistent-conn`")
    } else {
        None
    }
}

/// rvsadm run with `args` and `stdin` against `kernel`: (stdout,
/// stderr, exit status).
fn rvsadm(
    kernel: &mut RecordedKernel,
    args: &[&str],
    stdin: &str,
    posix: bool,
) -> (String, String, i32) {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let rc = run(
        &args,
        posix,
        &Names::recorded(),
        || Ok(kernel),
        &mut Stdio {
            stdin: &mut stdin.as_bytes(),
            stdout: &mut stdout,
            stderr: &mut stderr,
        },
    );
    (
        String::from_utf8(stdout).unwrap(),
        String::from_utf8(stderr).unwrap(),
        i32::from(rc),
    )
}

/// One case through `run`: (stdout, stderr, exit status, kernel log).
fn replay(c: &Case) -> (String, String, i32, String) {
    let mut kernel = scenario(&c.scenario);
    kernel.errno = c.errno;
    let args: Vec<&str> = c.args.iter().map(String::as_str).collect();
    let (out, err, rc) = rvsadm(&mut kernel, &args, &c.stdin, false);
    (out, err, rc, kernel.log)
}

/// Replays the `count` cases of fixture `text`, of which exactly
/// `diverging` are known differences.
fn check_cases(text: &str, count: usize, diverging: usize) {
    let all = cases(text);
    assert_eq!(all.len(), count, "fixture not loaded");
    let mut failures = Vec::new();
    let mut skipped = 0;
    for c in &all {
        if divergence(c).is_some() {
            skipped += 1;
            continue;
        }
        let (o, e, rc, log) = replay(c);
        if o != c.stdout || e != c.stderr || rc != c.rc || log != c.kernel {
            failures.push(format!(
                "args={:?} stdin={:?}\n  want rc={} out={:?}\n       err={:?} k={:?}\n  got  rc={} out={:?}\n       err={:?} k={:?}",
                c.args, c.stdin, c.rc, c.stdout, c.stderr, c.kernel, rc, o, e, log
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
    assert_eq!(skipped, diverging, "known differences");
}

/// Every case recorded from Debian's ipvsadm 1.31.
#[test]
fn oracle_cases() {
    check_cases(include_str!("../tests/fixtures/ipvsadm_cases.txt"), 320, 6);
}

/// Listings recorded from ipvsadm 1.31 built from source against an
/// in-memory libipvs (IPv6, 64-bit counters, tunnels, pe names).
#[test]
fn oracle_source_cases() {
    check_cases(
        include_str!("../tests/fixtures/ipvsadm_src_cases.txt"),
        26,
        0,
    );
}

/// rvsadm's own cases (its extensions: `--resync-daemon`,
/// `-L --daemon --stats`), written by hand in the recordings' format.
#[test]
fn rvsadm_extension_cases() {
    check_cases(
        include_str!("../tests/fixtures/rvsadm_ext_cases.txt"),
        20,
        0,
    );
}

/// POSIXLY_CORRECT (popt's POSIX mode: the first non-option ends the
/// options) applies alike to the command line and to `-R` lines, as in
/// ipvsadm, where both go through the same popt code.
#[test]
fn posixly_correct_on_command_line_and_restore() {
    let set = ["--set", "1", "2", "3", "-n"];
    for (posix, message) in [
        (true, "unexpected argument -n\n"),
        (false, "Illegal 'numeric' option with the 'set' command\n"),
    ] {
        let mut k = scenario("s1");
        let line = rvsadm(&mut k, &set, "", posix);
        let restored = rvsadm(&mut k, &["-R"], &(set.join(" ") + "\n"), posix);
        assert_eq!(line, (String::new(), message.to_string(), 2), "{posix}");
        assert_eq!(restored, line, "{posix}");
        assert_eq!(k.log, "", "{posix}");
    }
}

/// `--version` alone: rvsadm's version, then the module's from GET_INFO.
#[test]
fn version_names_the_module() {
    let mut k = scenario("s1");
    let (out, err, rc) = rvsadm(&mut k, &["--version"], "", false);
    assert_eq!((err.as_str(), rc), ("", 0));
    assert_eq!(
        out,
        format!(
            "rvsadm v{RVSADM_VERSION} (ipvsadm 1.31 compatible, IPVS v1.2.1)\n\
             rvs module v0.0.0-recorded, IPVS protocol v1.2.1, connection table 4096 buckets\n"
        )
    );
}
