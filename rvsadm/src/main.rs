//! rvsadm: administration of rvs, the Rust Linux Virtual Server, with the
//! command line and output formats of ipvsadm 1.31.

mod cli;
mod format;
mod json;
mod model;
mod netlink;

use std::io::{Read, Write};
use std::net::IpAddr;
use std::process::ExitCode;

use cli::{Command, ListTarget};
use format::FormatFlags;
use model::{
    ipvs_strerror, AddressFamily, Dest, FwdMethod, Info, NameService, Op, Protocol, Service, Stats,
    SystemNames, Timeouts,
};
use netlink::{Attr, Client, DestAttr, Error, StatsAttr, SvcAttr};
use rvs_core::abi::{self, cmd, stats_attr};

const RVSADM_VERSION: &str = env!("CARGO_PKG_VERSION");

fn version_string(code: u32) -> String {
    let (a, b, c) = abi::version_parts(code);
    format!("{a}.{b}.{c}")
}

/// What a failed command prints and how rvsadm exits, as ipvsadm.
struct Failure {
    message: String,
    code: u8,
}

impl Failure {
    fn kernel(op: Op, e: Error) -> Self {
        match e {
            Error::Kernel { errno, msg } => {
                // ipvsadm's words first, so scripts matching them keep
                // working; the kernel's extack detail after, when it adds
                // something.
                let mut m = ipvs_strerror(op, errno);
                if let Some(x) = msg.filter(|x| !x.eq_ignore_ascii_case(&m)) {
                    m.push_str(&format!(" ({x})"));
                }
                Self {
                    message: m + "\n",
                    code: 255,
                }
            }
            other => Self::from(other),
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Self {
            message: format!("{e}\n"),
            code: 1,
        }
    }
}

fn addr_bytes(a: &IpAddr) -> Vec<u8> {
    let mut v = vec![0u8; 16];
    match a {
        IpAddr::V4(a) => v[..4].copy_from_slice(&a.octets()),
        IpAddr::V6(a) => v.copy_from_slice(&a.octets()),
    }
    v
}

fn addr_from(af: AddressFamily, b: &[u8]) -> IpAddr {
    if af == AddressFamily::Inet6 && b.len() >= 16 {
        let mut o = [0u8; 16];
        o.copy_from_slice(&b[..16]);
        IpAddr::from(o)
    } else {
        let mut o = [0u8; 4];
        o.copy_from_slice(&b[..4.min(b.len())]);
        IpAddr::from(o)
    }
}

/// The attributes that identify `svc`, plus its settings if `full`.
fn svc_attrs(svc: &Service, full: bool) -> Vec<SvcAttr> {
    let mut v = vec![SvcAttr::Af(svc.af.raw())];
    if svc.fwmark != 0 {
        v.push(SvcAttr::Fwmark(svc.fwmark));
    } else {
        v.push(SvcAttr::Protocol(svc.protocol.raw()));
        v.push(SvcAttr::Addr(addr_bytes(&svc.addr)));
        v.push(SvcAttr::Port(svc.port));
    }
    if full {
        v.push(SvcAttr::SchedName(svc.sched_name.clone()));
        v.push(SvcAttr::Flags {
            flags: svc.flags,
            mask: u32::MAX,
        });
        v.push(SvcAttr::Timeout(svc.timeout));
        // IPv4 masks travel in network order; IPv6 as a prefix length.
        let nm = if svc.af == AddressFamily::Inet6 {
            svc.netmask
        } else {
            u32::from_ne_bytes(svc.netmask.to_be_bytes())
        };
        v.push(SvcAttr::Netmask(nm));
        if !svc.pe_name.is_empty() {
            v.push(SvcAttr::PeName(svc.pe_name.clone()));
        }
    }
    v
}

fn dest_attrs(d: &Dest, full: bool) -> Vec<DestAttr> {
    let mut v = vec![
        DestAttr::Addr(addr_bytes(&d.addr)),
        DestAttr::Port(d.port),
        DestAttr::AddrFamily(d.af.raw()),
    ];
    if full {
        v.push(DestAttr::FwdMethod(d.fwd_method.raw()));
        v.push(DestAttr::Weight(d.weight as u32));
        v.push(DestAttr::UThresh(d.u_threshold));
        v.push(DestAttr::LThresh(d.l_threshold));
    }
    v
}

fn stats_from(set: &[StatsAttr]) -> Stats {
    let mut s = Stats::default();
    for StatsAttr(k, v) in set {
        let v = *v;
        match *k {
            stats_attr::CONNS => s.conns = v,
            stats_attr::INPKTS => s.inpkts = v,
            stats_attr::OUTPKTS => s.outpkts = v,
            stats_attr::INBYTES => s.inbytes = v,
            stats_attr::OUTBYTES => s.outbytes = v,
            stats_attr::CPS => s.cps = v,
            stats_attr::INPPS => s.inpps = v,
            stats_attr::OUTPPS => s.outpps = v,
            stats_attr::INBPS => s.inbps = v,
            stats_attr::OUTBPS => s.outbps = v,
            _ => {}
        }
    }
    s
}

fn service_from(attrs: &[SvcAttr]) -> Service {
    let mut s = Service::default();
    let mut addr: Vec<u8> = Vec::new();
    let mut stats32 = None;
    let mut stats64 = None;
    for a in attrs {
        match a {
            SvcAttr::Af(v) => s.af = AddressFamily::from_raw(*v),
            SvcAttr::Protocol(v) => s.protocol = Protocol::from_raw(*v),
            SvcAttr::Addr(v) => addr = v.clone(),
            SvcAttr::Port(v) => s.port = *v,
            SvcAttr::Fwmark(v) => s.fwmark = *v,
            SvcAttr::SchedName(v) => s.sched_name = v.clone(),
            SvcAttr::Flags { flags, .. } => s.flags = *flags,
            SvcAttr::Timeout(v) => s.timeout = *v,
            SvcAttr::Netmask(v) => s.netmask = *v,
            SvcAttr::PeName(v) => s.pe_name = v.clone(),
            SvcAttr::Stats(v) => stats32 = Some(v),
            SvcAttr::Stats64(v) => stats64 = Some(v),
            SvcAttr::Other(_) => {}
        }
    }
    s.addr = if s.fwmark != 0 {
        s.af.unspecified()
    } else {
        addr_from(s.af, &addr)
    };
    if s.af != AddressFamily::Inet6 {
        s.netmask = u32::from_be_bytes(s.netmask.to_ne_bytes());
    }
    if let Some(st) = stats64.or(stats32) {
        s.stats = stats_from(st);
    }
    s
}

fn dest_from(svc_af: AddressFamily, attrs: &[DestAttr]) -> Dest {
    let mut d = Dest {
        af: svc_af,
        ..Dest::default()
    };
    let mut addr = Vec::new();
    let mut stats32 = None;
    let mut stats64 = None;
    for a in attrs {
        match a {
            DestAttr::Addr(v) => addr = v.clone(),
            DestAttr::Port(v) => d.port = *v,
            DestAttr::FwdMethod(v) => d.fwd_method = FwdMethod::from_conn_flags(*v),
            DestAttr::Weight(v) => d.weight = *v as i32,
            DestAttr::UThresh(v) => d.u_threshold = *v,
            DestAttr::LThresh(v) => d.l_threshold = *v,
            DestAttr::ActiveConns(v) => d.active_conns = *v,
            DestAttr::InactConns(v) => d.inact_conns = *v,
            DestAttr::PersistConns(v) => d.persist_conns = *v,
            DestAttr::AddrFamily(v) => d.af = AddressFamily::from_raw(*v),
            DestAttr::TunType(v) => d.tun_type = *v,
            DestAttr::TunPort(v) => d.tun_port = *v,
            DestAttr::TunFlags(v) => d.tun_flags = *v,
            DestAttr::Stats(v) => stats32 = Some(v),
            DestAttr::Stats64(v) => stats64 = Some(v),
            DestAttr::Other(_) => {}
        }
    }
    d.addr = addr_from(d.af, &addr);
    if let Some(st) = stats64.or(stats32) {
        d.stats = stats_from(st);
    }
    d
}

/// One connection-table entry, as ipvsadm shows `/proc/net/ip_vs_conn`.
fn conn_from(attrs: &[netlink::ConnAttr]) -> model::Conn {
    use rvs_core::abi::conn_attr as ca;
    use rvs_core::nla;
    let get = |k: u16| attrs.iter().find(|a| a.0 == k).map(|a| a.1.as_slice());
    let af = AddressFamily::from_raw(get(ca::AF).and_then(nla::get_u16).unwrap_or(2));
    let daf = AddressFamily::from_raw(get(ca::DEST_AF).and_then(nla::get_u16).unwrap_or(2));
    let addr = |k, f| addr_from(f, get(k).unwrap_or(&[0; 16]));
    let port = |k| get(k).and_then(nla::get_be16).unwrap_or(0);
    let proto = get(ca::PROTOCOL).and_then(nla::get_u16).unwrap_or(0);
    let protocol = match proto {
        6 => "TCP",
        17 => "UDP",
        132 => "SCTP",
        _ => "IP",
    };
    model::Conn {
        protocol: protocol.to_string(),
        caddr: addr(ca::CADDR, af),
        cport: port(ca::CPORT),
        vaddr: addr(ca::VADDR, af),
        vport: port(ca::VPORT),
        daddr: addr(ca::DADDR, daf),
        dport: port(ca::DPORT),
        state: get(ca::STATE)
            .and_then(nla::get_str)
            .unwrap_or("NONE")
            .to_string(),
        expires_secs: get(ca::EXPIRES_MS).and_then(nla::get_u32).unwrap_or(0) / 1000,
        pe_name: None,
        pe_data: None,
    }
}

fn get_info(c: &mut Client) -> Result<Info, Failure> {
    let i = c.info().map_err(|e| Failure::kernel(Op::GetInfo, e))?;
    Ok(Info {
        version: i.version,
        conn_tab_size: i.conn_tab_size,
    })
}

fn get_dests(c: &mut Client, svc: &Service) -> Result<Vec<Dest>, Failure> {
    let entries = c
        .dump_attrs(cmd::GET_DEST, &[Attr::Service(svc_attrs(svc, false))])
        .map_err(|e| Failure::kernel(Op::GetDests, e))?;
    Ok(entries
        .iter()
        .flatten()
        .filter_map(|a| match a {
            Attr::Dest(d) => Some(dest_from(svc.af, d)),
            _ => None,
        })
        .collect())
}

fn get_services(c: &mut Client) -> Result<Vec<(Service, Vec<Dest>)>, Failure> {
    let entries = c
        .dump_attrs(cmd::GET_SERVICE, &[])
        .map_err(|e| Failure::kernel(Op::GetServices, e))?;
    let mut out = Vec::new();
    for a in entries.iter().flatten() {
        if let Attr::Service(s) = a {
            let mut svc = service_from(s);
            let dests = get_dests(c, &svc)?;
            svc.num_dests = dests.len() as u32;
            out.push((svc, dests));
        }
    }
    Ok(out)
}

fn get_service(c: &mut Client, key: &Service) -> Result<(Service, Vec<Dest>), Failure> {
    let replies = c
        .call(cmd::GET_SERVICE, &[Attr::Service(svc_attrs(key, false))])
        .map_err(|e| Failure::kernel(Op::GetService, e))?;
    let svc = replies
        .iter()
        .flatten()
        .find_map(|a| match a {
            Attr::Service(s) => Some(service_from(s)),
            _ => None,
        })
        .ok_or_else(|| Failure {
            message: "No such service\n".into(),
            code: 255,
        })?;
    let dests = get_dests(c, &svc)?;
    Ok((svc, dests))
}

fn get_timeouts(c: &mut Client) -> Result<Timeouts, Failure> {
    let replies = c
        .call(cmd::GET_CONFIG, &[])
        .map_err(|e| Failure::kernel(Op::GetTimeout, e))?;
    let mut t = Timeouts::default();
    for a in replies.iter().flatten() {
        match a {
            Attr::TimeoutTcp(v) => t.tcp = *v,
            Attr::TimeoutTcpFin(v) => t.tcp_fin = *v,
            Attr::TimeoutUdp(v) => t.udp = *v,
            _ => {}
        }
    }
    Ok(t)
}

/// The netlink request a changing command sends: its ipvsadm operation
/// (for error messages), command and attributes. `None` for commands that
/// only read.
fn change_request(command: &Command) -> Option<(Op, u8, Vec<Attr>)> {
    let svc = |s: &Service, full| Attr::Service(svc_attrs(s, full));
    let dest = |d: &Dest, full| Attr::Dest(dest_attrs(d, full));
    Some(match command {
        Command::AddService(s) => (Op::AddService, cmd::NEW_SERVICE, vec![svc(s, true)]),
        Command::EditService(s) => (Op::UpdateService, cmd::SET_SERVICE, vec![svc(s, true)]),
        Command::DelService(s) => (Op::DelService, cmd::DEL_SERVICE, vec![svc(s, false)]),
        Command::Flush => (Op::Flush, cmd::FLUSH, vec![]),
        Command::Zero(None) => (Op::ZeroService, cmd::ZERO, vec![]),
        Command::Zero(Some(s)) => (Op::ZeroService, cmd::ZERO, vec![svc(s, false)]),
        Command::AddDest(s, d) => (
            Op::AddDest,
            cmd::NEW_DEST,
            vec![svc(s, false), dest(d, true)],
        ),
        Command::EditDest(s, d) => (
            Op::UpdateDest,
            cmd::SET_DEST,
            vec![svc(s, false), dest(d, true)],
        ),
        Command::DelDest(s, d) => (
            Op::DelDest,
            cmd::DEL_DEST,
            vec![svc(s, false), dest(d, false)],
        ),
        Command::SetTimeout(t) => (
            Op::SetTimeout,
            cmd::SET_CONFIG,
            vec![
                Attr::TimeoutTcp(t.tcp),
                Attr::TimeoutTcpFin(t.tcp_fin),
                Attr::TimeoutUdp(t.udp),
            ],
        ),
        Command::StartDaemon(_) => (Op::StartDaemon, cmd::NEW_DAEMON, vec![]),
        Command::StopDaemon(_) => (Op::StopDaemon, cmd::DEL_DAEMON, vec![]),
        _ => return None,
    })
}

/// Runs one parsed command and returns what it prints on stdout.
fn run(c: &mut Client, command: Command, names: &dyn NameService) -> Result<String, Failure> {
    if let Some((op, cmd, attrs)) = change_request(&command) {
        return c
            .call(cmd, &attrs)
            .map(|_| String::new())
            .map_err(|e| Failure::kernel(op, e));
    }
    match command {
        Command::Help => Ok(cli::usage_text()),
        Command::Version => Ok(cli::version_text()),
        Command::Restore => restore(c, names),
        Command::Save { format } => {
            let services = get_services(c)?;
            if format.json {
                return Ok(json::services(&get_info(c)?, &services));
            }
            Ok(format::save(&services, format.numeric, names))
        }
        Command::List { target, format } => list(c, target, &format, names),
        // Every change was handled by `change_request` above.
        _ => Ok(String::new()),
    }
}

fn list(
    c: &mut Client,
    target: ListTarget,
    fmt: &FormatFlags,
    names: &dyn NameService,
) -> Result<String, Failure> {
    match target {
        ListTarget::All => {
            let info = get_info(c)?;
            let services = get_services(c)?;
            if fmt.json {
                return Ok(json::services(&info, &services));
            }
            Ok(format::list_all(&info, &services, fmt, names))
        }
        ListTarget::Service(key) => {
            let (svc, dests) = get_service(c, &key)?;
            if fmt.json {
                return Ok(json::one_service(&svc, &dests));
            }
            Ok(format::list_service(&svc, &dests, fmt, names))
        }
        ListTarget::Timeout => {
            let t = get_timeouts(c)?;
            if fmt.json {
                return Ok(json::timeouts(&t));
            }
            Ok(format::timeout_line(&t))
        }
        ListTarget::Daemon => {
            c.dump_attrs(cmd::GET_DAEMON, &[])
                .map_err(|e| Failure::kernel(Op::GetDaemon, e))?;
            if fmt.json {
                return Ok(json::daemons(&[]));
            }
            Ok(String::new())
        }
        ListTarget::Connections => {
            let entries = c
                .dump_attrs(cmd::GET_CONN, &[])
                .map_err(|e| Failure::kernel(Op::GetServices, e))?;
            let conns: Vec<model::Conn> = entries
                .iter()
                .flatten()
                .filter_map(|a| match a {
                    Attr::Conn(ca) => Some(conn_from(ca)),
                    _ => None,
                })
                .collect();
            if fmt.json {
                return Ok(json::conns(&conns));
            }
            let mut out = format::conn_header(fmt);
            for c in &conns {
                out.push_str(&format::conn_line(c, fmt, names));
            }
            Ok(out)
        }
    }
}

/// Changes a restore sends to the kernel in one go (one send, then the
/// acknowledgements): ipvsadm's one round trip per line is what makes
/// large restores slow.
const RESTORE_BATCH: usize = 256;

/// `-R`: every line of stdin is one command, as ipvsadm reads them; a
/// failing line is reported and the rest still run (each command is still
/// applied on its own, in order). Runs of changes go to the kernel in
/// batches. The exit status is the last command's.
fn restore(c: &mut Client, names: &dyn NameService) -> Result<String, Failure> {
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .map_err(|e| Failure {
            message: format!("rvsadm: reading stdin: {e}\n"),
            code: 1,
        })?;
    let mut last: Result<(), Failure> = Ok(());
    let mut out = std::io::stdout().lock();
    let mut pending: Vec<(Op, u8, Vec<Attr>)> = Vec::new();
    let flush =
        |c: &mut Client, pending: &mut Vec<(Op, u8, Vec<Attr>)>, last: &mut Result<(), Failure>| {
            if pending.is_empty() {
                return;
            }
            let batch: Vec<_> = pending.drain(..).collect();
            let msgs = batch
                .iter()
                .map(|(_, cmd, attrs)| netlink::RvsMessage::request(*cmd, attrs))
                .collect();
            match c.batch(msgs) {
                Ok(results) => {
                    for ((op, _, _), r) in batch.iter().zip(results) {
                        *last = match r {
                            Ok(()) => Ok(()),
                            Err(e) => {
                                let f = Failure::kernel(*op, e);
                                eprint!("{}", f.message);
                                Err(Failure {
                                    message: String::new(),
                                    code: f.code,
                                })
                            }
                        };
                    }
                }
                Err(e) => {
                    let f = Failure::from(e);
                    eprint!("{}", f.message);
                    *last = Err(Failure {
                        message: String::new(),
                        code: f.code,
                    });
                }
            }
        };
    for args in cli::restore_lines(&input) {
        let parsed = cli::parse_restore_args(cli::PROGRAM, &args, names);
        if let Ok(cmd) = &parsed {
            if let Some(req) = change_request(cmd) {
                pending.push(req);
                if pending.len() >= RESTORE_BATCH {
                    flush(c, &mut pending, &mut last);
                }
                continue;
            }
        }
        flush(c, &mut pending, &mut last);
        last = match parsed {
            Err(e) => {
                eprint!("{}", e.message);
                if e.fatal {
                    return Err(Failure {
                        message: String::new(),
                        code: e.exit_code as u8,
                    });
                }
                Err(Failure {
                    message: String::new(),
                    code: e.exit_code as u8,
                })
            }
            Ok(Command::Restore) => Ok(()),
            Ok(cmd) => match run(c, cmd, names) {
                Ok(text) => {
                    let _ = out.write_all(text.as_bytes());
                    Ok(())
                }
                Err(f) => {
                    eprint!("{}", f.message);
                    Err(Failure {
                        message: String::new(),
                        code: f.code,
                    })
                }
            },
        };
    }
    flush(c, &mut pending, &mut last);
    last.map(|()| String::new())
}

fn print_version() -> ExitCode {
    println!(
        "rvsadm v{RVSADM_VERSION} (ipvsadm 1.31 compatible, IPVS v{})",
        version_string(abi::IPVS_VERSION_CODE)
    );
    match Client::connect().and_then(|mut c| c.info()) {
        Ok(info) => {
            println!(
                "rvs module v{}, IPVS protocol v{}, connection table {} buckets",
                info.module_version,
                version_string(info.version),
                info.conn_tab_size
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    // Die quietly on a closed pipe (`rvsadm -Ln | head`), as C tools do.
    // SAFETY: Restoring the default disposition of SIGPIPE at start-up,
    // before any thread exists, has no other effect.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    let args: Vec<String> = std::env::args().skip(1).collect();
    if matches!(args.as_slice(), [a] if a == "--version" || a == "-v") {
        return print_version();
    }
    let names = SystemNames::load();
    let command = match cli::parse_with(cli::PROGRAM, &args, &names) {
        Ok(c) => c,
        Err(e) => {
            eprint!("{}", e.message);
            return ExitCode::from(e.exit_code as u8);
        }
    };
    if let Command::Help = command {
        print!("{}", cli::usage_text());
        return ExitCode::SUCCESS;
    }
    let mut client = match Client::connect() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    match run(&mut client, command, &names) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(f) => {
            eprint!("{}", f.message);
            ExitCode::from(f.code)
        }
    }
}
