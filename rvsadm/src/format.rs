//! Output formatting for `rvsadm`, byte-for-byte identical to ipvsadm 1.31.
//!
//! All functions are pure: they take kernel data (see `model`) and return
//! the exact text ipvsadm writes to stdout.  Name resolution for the
//! non-numeric formats goes through a [`NameService`].

use std::net::{IpAddr, Ipv4Addr};

use crate::addr;
use crate::model::{
    self, AddressFamily, Conn, Daemon, Dest, FwdMethod, Info, Protocol, Service, Timeouts,
};
use crate::names::NameService;
use crate::sort;

/// ipvsadm's FMT_* flags.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FormatFlags {
    /// -n
    pub numeric: bool,
    /// -S (rules)
    pub rule: bool,
    /// --stats
    pub stats: bool,
    /// --rate
    pub rate: bool,
    /// --thresholds
    pub thresholds: bool,
    /// --persistent-conn
    pub persistent_conn: bool,
    /// --nosort
    pub nosort: bool,
    /// --exact
    pub exact: bool,
    /// --tun-info
    pub tun_info: bool,
    /// --json (rvsadm extension, not in ipvsadm): print the listing as one
    /// JSON document (see `json.rs`) instead of ipvsadm's text.  The other
    /// flags then only select what is listed, not how.
    pub json: bool,
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn truncate(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

/// ipvsadm's `print_largenum`: 9-column numbers with K/M/G/T suffixes, or
/// exact values with `--exact`.
pub fn largenum(i: u64, exact: bool) -> String {
    if exact {
        let len = i.to_string().len();
        let width = if len <= 8 { 9 } else { len + 1 };
        return format!("{:>width$}", i, width = width);
    }
    if i < 100_000_000 {
        format!("{:>9}", i)
    } else if i < 1_000_000_000 {
        format!("{:>8}K", i / 1000)
    } else if i < 100_000_000_000 {
        format!("{:>8}M", i / 1_000_000)
    } else if i < 100_000_000_000_000 {
        format!("{:>8}G", i / 1_000_000_000)
    } else {
        format!("{:>8}T", i / 1_000_000_000_000)
    }
}

/// ipvsadm's `addrport_to_anyname`: "addr:port", "[v6]:port", or with
/// names when not numeric.  Limited to 59 bytes like the C buffer.
pub fn addrport_to_anyname(
    addr: &IpAddr,
    port: u16,
    proto: Protocol,
    numeric: bool,
    names: &dyn NameService,
) -> String {
    let (open, close) = match addr {
        IpAddr::V4(_) => ("", ""),
        IpAddr::V6(_) => ("[", "]"),
    };
    let s = if numeric {
        format!("{}{}{}:{}", open, addr::inet_ntop(addr), close, port)
    } else {
        let host = names
            .addr_to_host(addr)
            .unwrap_or_else(|| addr::inet_ntop(addr));
        let serv = match proto {
            Protocol::Tcp | Protocol::Udp | Protocol::Sctp => names.port_to_service(port, proto),
            Protocol::Other(_) => None,
        }
        .unwrap_or_else(|| port.to_string());
        format!("{}{}{}:{}", open, host, close, serv)
    };
    truncate(s, 59)
}

/// ipvsadm's `print_sched_flags` text (may be empty even when flag bits
/// are set, e.g. flag-3 with "sh").
pub fn sched_flags_text(svc: &Service) -> String {
    let mut v: Vec<&str> = Vec::new();
    match svc.sched_name.as_str() {
        "sh" => {
            if svc.flags & model::IP_VS_SVC_F_SCHED_SH_FALLBACK != 0 {
                v.push("sh-fallback");
            }
            if svc.flags & model::IP_VS_SVC_F_SCHED_SH_PORT != 0 {
                v.push("sh-port");
            }
        }
        "mh" => {
            if svc.flags & model::IP_VS_SVC_F_SCHED_MH_FALLBACK != 0 {
                v.push("mh-fallback");
            }
            if svc.flags & model::IP_VS_SVC_F_SCHED_MH_PORT != 0 {
                v.push("mh-port");
            }
        }
        _ => {
            if svc.flags & model::IP_VS_SVC_F_SCHED1 != 0 {
                v.push("flag-1");
            }
            if svc.flags & model::IP_VS_SVC_F_SCHED2 != 0 {
                v.push("flag-2");
            }
            if svc.flags & model::IP_VS_SVC_F_SCHED3 != 0 {
                v.push("flag-3");
            }
        }
    }
    v.join(",")
}

fn tun_name(t: u8) -> Option<&'static str> {
    match t {
        model::IP_VS_CONN_F_TUNNEL_TYPE_IPIP => Some("ipip"),
        model::IP_VS_CONN_F_TUNNEL_TYPE_GUE => Some("gue"),
        model::IP_VS_CONN_F_TUNNEL_TYPE_GRE => Some("gre"),
        _ => None,
    }
}

fn tun_flags_short(f: u16) -> &'static str {
    match f {
        0 => "-c",
        1 => "+c",
        2 => "r+c",
        _ => "",
    }
}

fn tun_flags_opt(f: u16) -> &'static str {
    match f {
        0 => "--tun-nocsum",
        1 => "--tun-csum",
        2 => "--tun-remcsum",
        _ => "",
    }
}

/// The TunnelInfo column of `--tun-info` (None prints as "n/a").
pub fn tun_info_text(d: &Dest) -> Option<String> {
    if d.fwd_method != FwdMethod::Tunnel {
        return None;
    }
    match d.tun_type {
        model::IP_VS_CONN_F_TUNNEL_TYPE_IPIP => Some("ipip".to_string()),
        model::IP_VS_CONN_F_TUNNEL_TYPE_GUE => Some(truncate(
            format!("gue:{}:{}", d.tun_port, tun_flags_short(d.tun_flags)),
            15,
        )),
        model::IP_VS_CONN_F_TUNNEL_TYPE_GRE => Some(truncate(
            format!("gre:{}", tun_flags_short(d.tun_flags)),
            15,
        )),
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// Listing
// ---------------------------------------------------------------------------

/// "IP Virtual Server version 1.2.1 (size=4096)\n"
pub fn header(info: &Info) -> String {
    let (a, b, c) = info.version_triple();
    format!(
        "IP Virtual Server version {}.{}.{} (size={})\n",
        a, b, c, info.conn_tab_size as i32
    )
}

/// The two column-title lines (empty for `-S`).
pub fn title(fmt: &FormatFlags) -> String {
    if fmt.stats {
        format!(
            "{:<33} {:>8} {:>8} {:>8} {:>8} {:>8}\n  -> RemoteAddress:Port\n",
            "Prot LocalAddress:Port", "Conns", "InPkts", "OutPkts", "InBytes", "OutBytes"
        )
    } else if fmt.rate {
        format!(
            "{:<33} {:>8} {:>8} {:>8} {:>8} {:>8}\n  -> RemoteAddress:Port\n",
            "Prot LocalAddress:Port", "CPS", "InPPS", "OutPPS", "InBPS", "OutBPS"
        )
    } else if fmt.thresholds {
        format!(
            "{:<33} {:<10} {:<10} {:<10} {:<10}\n  -> RemoteAddress:Port\n",
            "Prot LocalAddress:Port", "Uthreshold", "Lthreshold", "ActiveConn", "InActConn"
        )
    } else if fmt.persistent_conn {
        format!(
            "{:<33} {:<9} {:<11} {:<10} {:<10}\n  -> RemoteAddress:Port\n",
            "Prot LocalAddress:Port", "Weight", "PersistConn", "ActiveConn", "InActConn"
        )
    } else if fmt.tun_info {
        "Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n".to_string()
    } else if !fmt.rule {
        "Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n".to_string()
    } else {
        String::new()
    }
}

/// The service part of a line: "TCP  1.2.3.4:80", "FWM  7", "-t 1.2.3.4:80",
/// "-f 7 -6" ...
pub fn service_name(svc: &Service, fmt: &FormatFlags, names: &dyn NameService) -> String {
    let v6 = svc.af == AddressFamily::Inet6;
    if svc.fwmark != 0 {
        let m = svc.fwmark as i32;
        return match (fmt.rule, v6) {
            (true, true) => format!("-f {} -6", m),
            (true, false) => format!("-f {}", m),
            (false, true) => format!("FWM  {} IPv6", m),
            (false, false) => format!("FWM  {}", m),
        };
    }
    let vname = addrport_to_anyname(&svc.addr, svc.port, svc.protocol, fmt.numeric, names);
    if fmt.rule {
        let stype = svc.protocol.save_switch().unwrap_or("--xxx-service");
        format!("{} {}", stype, vname)
    } else {
        let s = format!("{:<4} {}", svc.protocol.display_name(), vname);
        if v6 {
            s
        } else {
            truncate(s, 33)
        }
    }
}

fn mask_text(svc: &Service) -> Option<String> {
    match svc.af {
        AddressFamily::Inet => {
            if svc.netmask != 0xffff_ffff {
                Some(Ipv4Addr::from(svc.netmask).to_string())
            } else {
                None
            }
        }
        AddressFamily::Inet6 => {
            if svc.netmask != 128 {
                Some((svc.netmask as i32).to_string())
            } else {
                None
            }
        }
    }
}

/// One service line followed by its destination lines (`print_service_entry`).
/// Destinations are sorted like ipvsadm unless `fmt.nosort`.
pub fn service_entry(
    svc: &Service,
    dests: &[Dest],
    fmt: &FormatFlags,
    names: &dyn NameService,
) -> String {
    let mut out = String::new();
    let svc_name = service_name(svc, fmt, names);
    let has_sched_flags = svc.flags & model::IP_VS_SVC_F_SCHED_MASK != 0;

    if fmt.rule {
        out.push_str(&format!("-A {} -s {}", svc_name, svc.sched_name));
        if svc.is_persistent() {
            out.push_str(&format!(" -p {}", svc.timeout));
            if let Some(m) = mask_text(svc) {
                out.push_str(&format!(" -M {}", m));
            }
        }
        if !svc.pe_name.is_empty() {
            out.push_str(&format!(" --pe {}", svc.pe_name));
        }
        if svc.is_one_packet() {
            out.push_str(" -o");
        }
        if has_sched_flags {
            out.push_str(" -b ");
            out.push_str(&sched_flags_text(svc));
        }
    } else if fmt.stats || fmt.rate {
        out.push_str(&format!("{:<33}", svc_name));
        let s = &svc.stats;
        let values = if fmt.stats {
            [s.conns, s.inpkts, s.outpkts, s.inbytes, s.outbytes]
        } else {
            [s.cps, s.inpps, s.outpps, s.inbps, s.outbps]
        };
        for v in values {
            out.push_str(&largenum(v, fmt.exact));
        }
    } else {
        out.push_str(&format!("{} {}", svc_name, svc.sched_name));
        if has_sched_flags {
            out.push_str(&format!(" ({})", sched_flags_text(svc)));
        }
        if svc.is_persistent() {
            out.push_str(&format!(" persistent {}", svc.timeout));
            if let Some(m) = mask_text(svc) {
                out.push_str(&format!(" mask {}", m));
            }
            if !svc.pe_name.is_empty() {
                out.push_str(&format!(" pe {}", svc.pe_name));
            }
        }
        if svc.is_one_packet() {
            out.push_str(" ops");
        }
    }
    out.push('\n');

    let mut sorted: Vec<Dest> = dests.to_vec();
    if !fmt.nosort {
        sort::sort_dests(&mut sorted);
    }
    for e in &sorted {
        out.push_str(&dest_line(svc, &svc_name, e, fmt, names));
    }
    out
}

/// One destination line (with its newline) under service `svc` whose
/// printed name is `svc_name` (from [`service_name`]).
pub fn dest_line(
    svc: &Service,
    svc_name: &str,
    e: &Dest,
    fmt: &FormatFlags,
    names: &dyn NameService,
) -> String {
    let mut dname = addrport_to_anyname(&e.addr, e.port, svc.protocol, fmt.numeric, names);
    if !fmt.rule && !matches!(e.addr, IpAddr::V6(_)) {
        dname = truncate(dname, 28);
    }
    if fmt.rule {
        let sw = e.fwd_method.save_switch();
        if e.fwd_method == FwdMethod::Tunnel {
            return match (e.tun_type, tun_name(e.tun_type)) {
                (model::IP_VS_CONN_F_TUNNEL_TYPE_GRE, Some(n)) => format!(
                    "-a {} -r {} {} -w {} --tun-type {} {}\n",
                    svc_name,
                    dname,
                    sw,
                    e.weight,
                    n,
                    tun_flags_opt(e.tun_flags)
                ),
                (model::IP_VS_CONN_F_TUNNEL_TYPE_GUE, Some(n)) => format!(
                    "-a {} -r {} {} -w {} --tun-type {} --tun-port {} {}\n",
                    svc_name,
                    dname,
                    sw,
                    e.weight,
                    n,
                    e.tun_port,
                    tun_flags_opt(e.tun_flags)
                ),
                (model::IP_VS_CONN_F_TUNNEL_TYPE_IPIP, Some(n)) => format!(
                    "-a {} -r {} {} -w {} --tun-type {}\n",
                    svc_name, dname, sw, e.weight, n
                ),
                _ => format!("-a {} -r {} {} -w {}\n", svc_name, dname, sw, e.weight),
            };
        }
        return format!("-a {} -r {} {} -w {}\n", svc_name, dname, sw, e.weight);
    }
    if fmt.stats {
        let s = &e.stats;
        let mut out = format!("  -> {:<28}", dname);
        for v in [s.conns, s.inpkts, s.outpkts, s.inbytes, s.outbytes] {
            out.push_str(&largenum(v, fmt.exact));
        }
        out.push('\n');
        return out;
    }
    if fmt.rate {
        let s = &e.stats;
        let mut out = format!(
            "  -> {:<28} {:>8} {:>8} {:>8}",
            dname, s.cps, s.inpps, s.outpps
        );
        out.push_str(&largenum(s.inbps, fmt.exact));
        out.push_str(&largenum(s.outbps, fmt.exact));
        out.push('\n');
        return out;
    }
    if fmt.thresholds {
        return format!(
            "  -> {:<28} {:<10} {:<10} {:<10} {:<10}\n",
            dname, e.u_threshold, e.l_threshold, e.active_conns, e.inact_conns
        );
    }
    if fmt.persistent_conn {
        return format!(
            "  -> {:<28} {:<9} {:<11} {:<10} {:<10}\n",
            dname, e.weight as u32, e.persist_conns, e.active_conns, e.inact_conns
        );
    }
    if fmt.tun_info {
        let ti = tun_info_text(e).unwrap_or_else(|| "n/a".to_string());
        return format!(
            "  -> {:<28} {:<7} {:<13} {:<6} {:<10} {:<10}\n",
            dname,
            e.fwd_method.display_name(),
            ti,
            e.weight,
            e.active_conns,
            e.inact_conns
        );
    }
    format!(
        "  -> {:<28} {:<7} {:<6} {:<10} {:<10}\n",
        dname,
        e.fwd_method.display_name(),
        e.weight,
        e.active_conns,
        e.inact_conns
    )
}

/// `ipvsadm -L [options]` / `ipvsadm -S`: header (not for rules), title and
/// every service with its destinations, sorted unless `fmt.nosort`.
/// `services` pairs each service with its destinations, in kernel order.
pub fn list_all(
    info: &Info,
    services: &[(Service, Vec<Dest>)],
    fmt: &FormatFlags,
    names: &dyn NameService,
) -> String {
    let mut out = String::new();
    if !fmt.rule {
        out.push_str(&header(info));
    }
    let mut sorted: Vec<(Service, Vec<Dest>)> = services.to_vec();
    if !fmt.nosort {
        sort::glibc_qsort(&mut sorted, &|a, b| sort::cmp_services(&a.0, &b.0));
    }
    out.push_str(&title(fmt));
    for (s, d) in &sorted {
        out.push_str(&service_entry(s, d, fmt, names));
    }
    out
}

/// `ipvsadm -S [-n]` (rules; `numeric` selects -n).
pub fn save(services: &[(Service, Vec<Dest>)], numeric: bool, names: &dyn NameService) -> String {
    let fmt = FormatFlags {
        rule: true,
        numeric,
        ..FormatFlags::default()
    };
    list_all(&Info::default(), services, &fmt, names)
}

/// `ipvsadm -L -t addr:port [options]`: title and the one service (no
/// version header).
pub fn list_service(
    svc: &Service,
    dests: &[Dest],
    fmt: &FormatFlags,
    names: &dyn NameService,
) -> String {
    let mut out = title(fmt);
    out.push_str(&service_entry(svc, dests, fmt, names));
    out
}

/// `ipvsadm -L --timeout`
pub fn timeout_line(t: &Timeouts) -> String {
    format!(
        "Timeout (tcp tcpfin udp): {} {} {}\n",
        t.tcp as i32, t.tcp_fin as i32, t.udp as i32
    )
}

/// `ipvsadm -L --daemon` (one line per running daemon; ipvsadm looks at
/// the first two entries only).  With `fmt.stats` (rvsadm extension,
/// `-L --daemon --stats`) each daemon line the kernel sent counters for is
/// followed by [`daemon_stats_line`]; without it the text is ipvsadm's.
pub fn daemon_lines(daemons: &[Daemon], fmt: &FormatFlags) -> String {
    let mut out = String::new();
    for d in daemons.iter().take(2) {
        let master = d.state & model::IP_VS_STATE_MASTER != 0;
        let kind = if master {
            "master"
        } else if d.state & model::IP_VS_STATE_BACKUP != 0 {
            "backup"
        } else {
            continue;
        };
        out.push_str(&format!(
            "{} sync daemon (mcast={}, syncid={}",
            kind, d.mcast_ifn, d.syncid as i32
        ));
        if d.sync_maxlen != 0 {
            out.push_str(&format!(", maxlen={}", d.sync_maxlen));
        }
        if let Some(g) = &d.mcast_group {
            out.push_str(&format!(", group={}", addr::inet_ntop(g)));
        }
        if d.mcast_port != 0 {
            out.push_str(&format!(", port={}", d.mcast_port));
        }
        if d.mcast_ttl != 0 {
            out.push_str(&format!(", ttl={}", d.mcast_ttl));
        }
        out.push_str(")\n");
        if fmt.stats && !d.counters.is_empty() {
            out.push_str(&daemon_stats_line(d, master));
        }
    }
    out
}

/// The counters of one daemon (rvsadm's `-L --daemon --stats`), one
/// indented line; a counter the kernel did not send counts as 0.
///
/// ```text
///   sent 12 datagrams, 340 entries; dropped: queue full 0, send error 0; seq 11; resyncs 1 (0 pending)
///   received 12 datagrams, 340 entries; dropped: bad datagram 0, bad entry 0, syncid 0, no room 0; lost 0; seq 11; resyncs 1
/// ```
pub fn daemon_stats_line(d: &Daemon, master: bool) -> String {
    let c = &d.counters;
    let n = |v: Option<u64>| v.unwrap_or(0);
    if master {
        format!(
            "  sent {} datagrams, {} entries; dropped: queue full {}, send error {}; seq {}; resyncs {} ({} pending)\n",
            n(c.datagrams),
            n(c.entries),
            n(c.drop_queue_full),
            n(c.drop_send_error),
            c.last_seq.unwrap_or(0),
            n(c.resyncs),
            c.resync_pending.unwrap_or(0),
        )
    } else {
        format!(
            "  received {} datagrams, {} entries; dropped: bad datagram {}, bad entry {}, syncid {}, no room {}; lost {}; seq {}; resyncs {}\n",
            n(c.datagrams),
            n(c.entries),
            n(c.drop_bad_datagram),
            n(c.drop_bad_entry),
            n(c.drop_syncid),
            n(c.drop_no_room),
            n(c.lost_datagrams),
            c.last_seq.unwrap_or(0),
            n(c.resyncs),
        )
    }
}

// ---------------------------------------------------------------------------
// Connection listing (-Lc)
// ---------------------------------------------------------------------------

/// The two header lines of `-Lc`.
pub fn conn_header(fmt: &FormatFlags) -> String {
    let mut out = String::from("IPVS connection entries\n");
    if fmt.persistent_conn {
        out.push_str(&format!(
            "pro expire {:<11} {:<18} {:<18} {:<18} {:<16} {}\n",
            "state", "source", "virtual", "destination", "pe name", "pe_data"
        ));
    } else {
        out.push_str(&format!(
            "pro expire {:<11} {:<18} {:<18} {}\n",
            "state", "source", "virtual", "destination"
        ));
    }
    out
}

/// One `-Lc` line.
pub fn conn_line(c: &Conn, fmt: &FormatFlags, names: &dyn NameService) -> String {
    let proto = c.protocol_number();
    let cname = addrport_to_anyname(&c.caddr, c.cport, proto, fmt.numeric, names);
    let vname = addrport_to_anyname(&c.vaddr, c.vport, proto, fmt.numeric, names);
    let dname = addrport_to_anyname(&c.daddr, c.dport, proto, fmt.numeric, names);
    let expire = format!("{:02}:{:02}", c.expires_secs / 60, c.expires_secs % 60);
    match (&c.pe_name, &c.pe_data) {
        (Some(pn), Some(pd)) if fmt.persistent_conn => format!(
            "{:<3} {:<6} {:<11} {:<18} {:<18} {:<16} {:<18} {}\n",
            c.protocol, expire, c.state, cname, vname, dname, pn, pd
        ),
        _ => format!(
            "{:<3} {:<6} {:<11} {:<18} {:<18} {}\n",
            c.protocol, expire, c.state, cname, vname, dname
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{family, masq, master_counters, mixed_services, s6_daemons, wlc};
    use crate::model::Stats;
    use crate::names::Names;
    use crate::replay::parse_proc_conn_line;

    fn none() -> Names {
        Names::default()
    }

    fn sys() -> Names {
        Names::from_texts(
            include_str!("../tests/fixtures/services"),
            "127.0.0.1 localhost\n10.0.0.99 a-really-long-host-name.example.org\n2001:db8::1 v6host\n",
        )
    }

    fn num() -> FormatFlags {
        FormatFlags {
            numeric: true,
            ..FormatFlags::default()
        }
    }

    fn rule() -> FormatFlags {
        FormatFlags {
            rule: true,
            ..FormatFlags::default()
        }
    }

    fn rule_num() -> FormatFlags {
        FormatFlags {
            numeric: true,
            ..rule()
        }
    }

    fn tcp(addr: &str, port: u16, sched: &str) -> Service {
        let addr: IpAddr = addr.parse().unwrap();
        Service {
            af: family(&addr),
            addr,
            netmask: if addr.is_ipv6() { 128 } else { 0xffff_ffff },
            port,
            sched_name: sched.into(),
            ..Service::default()
        }
    }

    #[test]
    fn seed_listing() {
        let svc = tcp("192.168.10.100", 80, "wrr");
        // kernel order: .17 before .7; ipvsadm sorts them.
        let dests = vec![masq("10.0.0.17", 80, 1), masq("10.0.0.7", 80, 1)];
        let out = list_all(&Info::default(), &[(svc, dests)], &num(), &none());
        assert_eq!(
            out,
            "IP Virtual Server version 1.2.1 (size=4096)\n\
             Prot LocalAddress:Port Scheduler Flags\n\
             \x20 -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n\
             TCP  192.168.10.100:80 wrr\n\
             \x20 -> 10.0.0.7:80                  Masq    1      0          0         \n\
             \x20 -> 10.0.0.17:80                 Masq    1      0          0         \n"
        );
    }

    #[test]
    fn seed_save() {
        let svc = tcp("192.168.10.100", 80, "wrr");
        let dests = vec![masq("10.0.0.7", 80, 1), masq("10.0.0.17", 80, 1)];
        assert_eq!(
            save(&[(svc, dests)], true, &none()),
            "-A -t 192.168.10.100:80 -s wrr\n\
             -a -t 192.168.10.100:80 -r 10.0.0.7:80 -m -w 1\n\
             -a -t 192.168.10.100:80 -r 10.0.0.17:80 -m -w 1\n"
        );
    }

    #[test]
    fn header_and_titles() {
        assert_eq!(
            header(&Info {
                version: 0x010201,
                conn_tab_size: 65536
            }),
            "IP Virtual Server version 1.2.1 (size=65536)\n"
        );
        let t = |f: FormatFlags| title(&f);
        let d = FormatFlags::default();
        assert_eq!(t(FormatFlags { stats: true, ..d }),
            "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n  -> RemoteAddress:Port\n");
        assert_eq!(t(FormatFlags { rate: true, ..d }),
            "Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n  -> RemoteAddress:Port\n");
        assert_eq!(t(FormatFlags { thresholds: true, ..d }),
            "Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn \n  -> RemoteAddress:Port\n");
        assert_eq!(t(FormatFlags { persistent_conn: true, ..d }),
            "Prot LocalAddress:Port            Weight    PersistConn ActiveConn InActConn \n  -> RemoteAddress:Port\n");
        assert_eq!(t(FormatFlags { tun_info: true, ..d }),
            "Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n");
        assert_eq!(t(d),
            "Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n");
        // --stats wins over --rate etc., as in ipvsadm.
        assert_eq!(
            t(FormatFlags {
                stats: true,
                rate: true,
                ..d
            }),
            t(FormatFlags { stats: true, ..d })
        );
        assert_eq!(t(FormatFlags { rule: true, ..d }), "");
    }

    #[test]
    fn largenum_suffixes() {
        let cases: &[(u64, &str, &str)] = &[
            (0, "        0", "        0"),
            (99_999_999, " 99999999", " 99999999"),
            (100_000_000, "  100000K", " 100000000"),
            (999_999_999, "  999999K", " 999999999"),
            (1_000_000_000, "    1000M", " 1000000000"),
            (99_999_999_999, "   99999M", " 99999999999"),
            (100_000_000_000, "     100G", " 100000000000"),
            (99_999_999_999_999, "   99999G", " 99999999999999"),
            (100_000_000_000_000, "     100T", " 100000000000000"),
            (u64::MAX, "18446744T", " 18446744073709551615"),
        ];
        for (n, k, e) in cases {
            assert_eq!(largenum(*n, false), *k, "{}", n);
            assert_eq!(largenum(*n, true), *e, "{}", n);
        }
    }

    #[test]
    fn service_line_variants() {
        let entry = |s: &Service, fmt: FormatFlags| service_entry(s, &[], &fmt, &none());
        let mut s = tcp("10.1.1.1", 53, "rr");
        s.protocol = Protocol::Udp;
        s.flags = model::IP_VS_SVC_F_PERSISTENT;
        s.timeout = 600;
        s.netmask = 0xffff_ff00;
        assert_eq!(
            entry(&s, num()),
            "UDP  10.1.1.1:53 rr persistent 600 mask 255.255.255.0\n"
        );
        assert_eq!(
            entry(&s, rule_num()),
            "-A -u 10.1.1.1:53 -s rr -p 600 -M 255.255.255.0\n"
        );
        s.pe_name = "sip".into();
        s.flags |= model::IP_VS_SVC_F_ONEPACKET | rvs_core::abi::svc_flags::HASHED;
        assert_eq!(
            entry(&s, num()),
            "UDP  10.1.1.1:53 rr persistent 600 mask 255.255.255.0 pe sip ops\n"
        );
        assert_eq!(
            entry(&s, rule_num()),
            "-A -u 10.1.1.1:53 -s rr -p 600 -M 255.255.255.0 --pe sip -o\n"
        );

        let mut f = Service {
            fwmark: 7,
            sched_name: "sh".into(),
            flags: 0x19,
            timeout: 300,
            ..Service::default()
        };
        assert_eq!(
            entry(&f, num()),
            "FWM  7 sh (sh-fallback,sh-port) persistent 300\n"
        );
        assert_eq!(
            entry(&f, rule()),
            "-A -f 7 -s sh -p 300 -b sh-fallback,sh-port\n"
        );
        // flag-3 alone means nothing to "sh": ipvsadm prints empty parentheses.
        f.flags = model::IP_VS_SVC_F_SCHED3;
        assert_eq!(entry(&f, num()), "FWM  7 sh ()\n");
        assert_eq!(entry(&f, rule()), "-A -f 7 -s sh -b \n");
        f.af = AddressFamily::Inet6;
        f.flags = model::IP_VS_SVC_F_PERSISTENT;
        f.netmask = 64;
        f.sched_name = "mh".into();
        assert_eq!(entry(&f, num()), "FWM  7 IPv6 mh persistent 300 mask 64\n");
        assert_eq!(entry(&f, rule()), "-A -f 7 -6 -s mh -p 300 -M 64\n");
        f.fwmark = 3_000_000_000;
        assert_eq!(service_name(&f, &num(), &none()), "FWM  -1294967296 IPv6");

        let mut m = tcp("10.0.0.1", 80, "mh");
        m.protocol = Protocol::Sctp;
        m.flags = model::IP_VS_SVC_F_SCHED_MH_FALLBACK | model::IP_VS_SVC_F_SCHED_MH_PORT;
        assert_eq!(
            entry(&m, num()),
            "SCTP 10.0.0.1:80 mh (mh-fallback,mh-port)\n"
        );
        assert_eq!(
            entry(&m, rule_num()),
            "-A --sctp-service 10.0.0.1:80 -s mh -b mh-fallback,mh-port\n"
        );
        m.sched_name = "wlc".into();
        assert_eq!(entry(&m, num()), "SCTP 10.0.0.1:80 wlc (flag-1,flag-2)\n");
    }

    #[test]
    fn ipv6_lines() {
        let mut s = tcp("2001:db8::1", 80, "wrr");
        s.flags = model::IP_VS_SVC_F_PERSISTENT;
        s.timeout = 360;
        s.netmask = 48;
        let d = vec![
            masq("2001:db8::20", 80, 1),
            Dest {
                fwd_method: FwdMethod::Tunnel,
                ..masq("10.0.0.1", 80, 5)
            },
        ];
        assert_eq!(
            service_entry(&s, &d, &num(), &none()),
            "TCP  [2001:db8::1]:80 wrr persistent 360 mask 48\n\
             \x20 -> 10.0.0.1:80                  Tunnel  5      0          0         \n\
             \x20 -> [2001:db8::20]:80            Masq    1      0          0         \n"
        );
        assert_eq!(
            service_entry(&s, &d, &rule_num(), &none()),
            "-A -t [2001:db8::1]:80 -s wrr -p 360 -M 48\n\
             -a -t [2001:db8::1]:80 -r 10.0.0.1:80 -i -w 5 --tun-type ipip\n\
             -a -t [2001:db8::1]:80 -r [2001:db8::20]:80 -m -w 1\n"
        );
        // Long IPv6 names are not cut, and push the columns right.
        let l = tcp("2001:db8:1234:5678:9abc:def0:1234:5678", 53, "rr");
        assert_eq!(
            service_entry(&l, &[], &FormatFlags { stats: true, numeric: true, ..Default::default() }, &none()),
            "TCP  [2001:db8:1234:5678:9abc:def0:1234:5678]:53        0        0        0        0        0\n"
        );
        assert_eq!(
            service_name(&tcp("::1.2.3.4", 443, "rr"), &num(), &none()),
            "TCP  [::1.2.3.4]:443"
        );
    }

    #[test]
    fn dest_line_variants() {
        let svc = tcp("10.0.0.1", 80, "wlc");
        let mut d = Dest {
            addr: "10.20.30.41".parse().unwrap(),
            port: 8080,
            fwd_method: FwdMethod::Route,
            weight: -5,
            u_threshold: 100,
            l_threshold: 10,
            active_conns: 1,
            inact_conns: 2,
            persist_conns: 3,
            stats: Stats {
                conns: 1,
                inpkts: 2,
                outpkts: 3,
                inbytes: 123_456_789,
                outbytes: 9_876_543_210,
                cps: 123_456_789,
                inpps: 7,
                outpps: 8,
                inbps: 123_456_789,
                outbps: 10,
            },
            ..Dest::default()
        };
        let f = |d: &Dest, x: FormatFlags| {
            dest_line(&svc, &service_name(&svc, &x, &none()), d, &x, &none())
        };
        let n = num();
        assert_eq!(
            f(&d, n),
            "  -> 10.20.30.41:8080             Route   -5     1          2         \n"
        );
        assert_eq!(
            f(&d, FormatFlags { stats: true, ..n }),
            "  -> 10.20.30.41:8080                    1        2        3  123456K    9876M\n"
        );
        assert_eq!(
            f(
                &d,
                FormatFlags {
                    stats: true,
                    exact: true,
                    ..n
                }
            ),
            "  -> 10.20.30.41:8080                    1        2        3 123456789 9876543210\n"
        );
        // --rate prints the first three rates without K/M suffixes.
        assert_eq!(
            f(&d, FormatFlags { rate: true, ..n }),
            "  -> 10.20.30.41:8080             123456789        7        8  123456K       10\n"
        );
        assert_eq!(
            f(
                &d,
                FormatFlags {
                    thresholds: true,
                    ..n
                }
            ),
            "  -> 10.20.30.41:8080             100        10         1          2         \n"
        );
        assert_eq!(
            f(
                &d,
                FormatFlags {
                    persistent_conn: true,
                    ..n
                }
            ),
            "  -> 10.20.30.41:8080             4294967291 3           1          2         \n"
        );
        assert_eq!(f(&d, FormatFlags { tun_info: true, ..n }),
            "  -> 10.20.30.41:8080             Route   n/a           -5     1          2         \n");
        assert_eq!(
            f(&d, FormatFlags { rule: true, ..n }),
            "-a -t 10.0.0.1:80 -r 10.20.30.41:8080 -g -w -5\n"
        );
        d.fwd_method = FwdMethod::Local;
        assert_eq!(
            f(&d, n),
            "  -> 10.20.30.41:8080             Local   -5     1          2         \n"
        );
        assert_eq!(
            f(&d, FormatFlags { rule: true, ..n }),
            "-a -t 10.0.0.1:80 -r 10.20.30.41:8080 -g -w -5\n"
        );
        d.fwd_method = FwdMethod::Tunnel;
        d.tun_type = model::IP_VS_CONN_F_TUNNEL_TYPE_GUE;
        d.tun_port = 6080;
        d.tun_flags = model::IP_VS_TUNNEL_ENCAP_FLAG_CSUM;
        assert_eq!(f(&d, FormatFlags { tun_info: true, ..n }),
            "  -> 10.20.30.41:8080             Tunnel  gue:6080:+c   -5     1          2         \n");
        assert_eq!(f(&d, FormatFlags { rule: true, ..n }),
            "-a -t 10.0.0.1:80 -r 10.20.30.41:8080 -i -w -5 --tun-type gue --tun-port 6080 --tun-csum\n");
        d.tun_type = model::IP_VS_CONN_F_TUNNEL_TYPE_GRE;
        d.tun_flags = model::IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM;
        assert_eq!(f(&d, FormatFlags { tun_info: true, ..n }),
            "  -> 10.20.30.41:8080             Tunnel  gre:-c        -5     1          2         \n");
        assert_eq!(
            f(&d, FormatFlags { rule: true, ..n }),
            "-a -t 10.0.0.1:80 -r 10.20.30.41:8080 -i -w -5 --tun-type gre --tun-nocsum\n"
        );
    }

    #[test]
    fn names_and_truncation() {
        let svc = tcp("10.0.0.99", 8080, "rr");
        let d = vec![masq("10.0.0.99", 80, 1), masq("127.0.0.1", 443, 2)];
        assert_eq!(
            service_entry(&svc, &d, &FormatFlags::default(), &sys()),
            "TCP  a-really-long-host-name.exam rr\n\
             \x20 -> a-really-long-host-name.exam Masq    1      0          0         \n\
             \x20 -> localhost:https              Masq    2      0          0         \n"
        );
        assert_eq!(
            service_entry(&svc, &d, &rule(), &sys()),
            "-A -t a-really-long-host-name.example.org:http-alt -s rr\n\
             -a -t a-really-long-host-name.example.org:http-alt -r a-really-long-host-name.example.org:http -m -w 1\n\
             -a -t a-really-long-host-name.example.org:http-alt -r localhost:https -m -w 2\n"
        );
        assert_eq!(
            addrport_to_anyname(
                &"2001:db8::1".parse().unwrap(),
                53,
                Protocol::Udp,
                false,
                &sys()
            ),
            "[v6host]:domain"
        );
        // No SCTP entry for port 80 in /etc/services.
        assert_eq!(
            addrport_to_anyname(
                &"10.0.0.1".parse().unwrap(),
                80,
                Protocol::Sctp,
                false,
                &sys()
            ),
            "10.0.0.1:80"
        );
    }

    #[test]
    fn sort_order_matches_ipvsadm() {
        // Kernel order and result recorded from ipvsadm 1.31 (the libipvs
        // comparator wraps around for addresses 2^31 apart).
        let mut input = mixed_services();
        input.push((wlc(Protocol::Tcp, "10.1.1.3", 8080, 0), vec![]));
        input.push((wlc(Protocol::Tcp, "200.1.1.3", 8080, 0), vec![]));
        let fmt = FormatFlags {
            numeric: true,
            rule: true,
            ..Default::default()
        };
        assert_eq!(
            list_all(&Info::default(), &input, &fmt, &none()),
            "-A -t 192.168.10.100:80 -s wlc\n-A -t 200.1.1.3:8080 -s wlc\n-A -t 10.1.1.3:8080 -s wlc\n\
             -A -u 10.1.1.1:53 -s wlc\n-A --sctp-service 10.1.1.2:80 -s wlc\n-A -f 7 -s wlc\n"
        );
        let fmt = FormatFlags {
            nosort: true,
            ..fmt
        };
        assert!(list_all(&Info::default(), &input, &fmt, &none())
            .starts_with("-A -t 192.168.10.100:80 -s wlc\n-A -u 10.1.1.1:53"));
    }

    #[test]
    fn timeout_and_daemon() {
        assert_eq!(
            timeout_line(&Timeouts {
                tcp: 900,
                tcp_fin: 120,
                udp: 300
            }),
            "Timeout (tcp tcpfin udp): 900 120 300\n"
        );
        let ds = s6_daemons();
        let plain = FormatFlags::default();
        assert_eq!(daemon_lines(&ds, &plain),
            "master sync daemon (mcast=eth0, syncid=5, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n\
             backup sync daemon (mcast=eth1, syncid=7, group=ff02::1234)\n");
        assert_eq!(daemon_lines(&[Daemon::default()], &plain), "");
        // No counters from the kernel: --stats adds nothing.
        let stats = FormatFlags {
            stats: true,
            ..plain
        };
        assert_eq!(daemon_lines(&ds, &stats), daemon_lines(&ds, &plain));
    }

    #[test]
    fn daemon_stats() {
        use crate::model::SyncCounters;
        let master = Daemon {
            state: model::IP_VS_STATE_MASTER,
            mcast_ifn: "eth0".into(),
            syncid: 38,
            sync_maxlen: 1472,
            mcast_group: Some("224.0.0.81".parse().unwrap()),
            mcast_port: 8848,
            mcast_ttl: 1,
            counters: master_counters(),
        };
        let backup = Daemon {
            state: model::IP_VS_STATE_BACKUP,
            mcast_ifn: "eth1".into(),
            syncid: 38,
            counters: SyncCounters {
                datagrams: Some(12),
                entries: Some(340),
                drop_bad_datagram: Some(1),
                drop_bad_entry: Some(2),
                drop_syncid: Some(3),
                drop_no_room: Some(4),
                lost_datagrams: Some(5),
                last_seq: Some(u32::MAX),
                resyncs: Some(u64::MAX),
                ..SyncCounters::default()
            },
            ..Daemon::default()
        };
        let ds = [master.clone(), backup.clone()];
        let plain = FormatFlags::default();
        let stats = FormatFlags {
            stats: true,
            ..plain
        };
        // Without --stats: ipvsadm's lines, counters or not.
        assert_eq!(
            daemon_lines(&ds, &plain),
            "master sync daemon (mcast=eth0, syncid=38, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n\
             backup sync daemon (mcast=eth1, syncid=38)\n"
        );
        assert_eq!(
            daemon_lines(&ds, &stats),
            "master sync daemon (mcast=eth0, syncid=38, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n\
             \x20 sent 12 datagrams, 340 entries; dropped: queue full 0, send error 0; seq 11; resyncs 1 (0 pending)\n\
             backup sync daemon (mcast=eth1, syncid=38)\n\
             \x20 received 12 datagrams, 340 entries; dropped: bad datagram 1, bad entry 2, syncid 3, no room 4; lost 5; seq 4294967295; resyncs 18446744073709551615\n"
        );
        // A counter the kernel left out counts as 0; one is enough for the line.
        let only_seq = Daemon {
            counters: SyncCounters {
                last_seq: Some(7),
                ..SyncCounters::default()
            },
            ..master.clone()
        };
        assert_eq!(
            daemon_stats_line(&only_seq, true),
            "  sent 0 datagrams, 0 entries; dropped: queue full 0, send error 0; seq 7; resyncs 0 (0 pending)\n"
        );
        // --exact and -n change nothing.
        let all = FormatFlags {
            exact: true,
            numeric: true,
            ..stats
        };
        assert_eq!(daemon_lines(&ds, &all), daemon_lines(&ds, &stats));
        // Only the first two entries, as ipvsadm.
        let three = [Daemon::default(), backup.clone(), master.clone()];
        assert!(daemon_lines(&three, &stats).starts_with("backup sync daemon"));
        assert!(!daemon_lines(&three, &stats).contains("master"));
    }

    const PROC: &str = "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n\
TCP C0A80A01 D431 C0A80A64 0050 0A000007 0050 ESTABLISHED     899\n\
UDP 0A000001 0035 0A010101 0035 0A000002 0035 UDP             283 sip abcdef\n\
TCP 2001:0db8:0000:0000:0000:0000:0000:0001 1F90 2001:0db8:0000:0000:0000:0000:0000:0002 0050 2001:0db8:0000:0000:0000:0000:0000:0003 0050 SYN_RECV         59\n";

    /// `-Lc`: the header, then a line per connection.
    fn conn_listing(fmt: &FormatFlags, names: &Names) -> String {
        let mut out = conn_header(fmt);
        for line in PROC.lines().skip(1) {
            out.push_str(&conn_line(&parse_proc_conn_line(line).unwrap(), fmt, names));
        }
        out
    }

    #[test]
    fn connection_listing() {
        assert_eq!(
            conn_listing(&num(), &none()),
            "IPVS connection entries\n\
             pro expire state       source             virtual            destination\n\
             TCP 14:59  ESTABLISHED 192.168.10.1:54321 192.168.10.100:80  10.0.0.7:80\n\
             UDP 04:43  UDP         10.0.0.1:53        10.1.1.1:53        10.0.0.2:53\n\
             TCP 00:59  SYN_RECV    [2001:db8::1]:8080 [2001:db8::2]:80   [2001:db8::3]:80\n"
        );
        let out = conn_listing(
            &FormatFlags {
                persistent_conn: true,
                ..num()
            },
            &none(),
        );
        assert_eq!(
            out.lines().nth(1).unwrap(),
            "pro expire state       source             virtual            destination        pe name          pe_data"
        );
        assert_eq!(
            out.lines().nth(3).unwrap(),
            "UDP 04:43  UDP         10.0.0.1:53        10.1.1.1:53        10.0.0.2:53      sip                abcdef"
        );
        let out = conn_listing(&FormatFlags::default(), &sys());
        assert_eq!(
            out.lines().nth(2).unwrap(),
            "TCP 14:59  ESTABLISHED 192.168.10.1:54321 192.168.10.100:http 10.0.0.7:http"
        );
        let c = parse_proc_conn_line(
            "SCTP C0A80A01 0001 C0A80A64 0002 0A000007 0003 ESTABLISHED    3601",
        )
        .unwrap();
        assert_eq!(
            conn_line(&c, &num(), &none()),
            "SCTP 60:01  ESTABLISHED 192.168.10.1:1     192.168.10.100:2   10.0.0.7:3\n"
        );
        assert_eq!(c.caddr, "192.168.10.1".parse::<IpAddr>().unwrap());
        assert_eq!(c.expires_secs, 3601);
    }
}
