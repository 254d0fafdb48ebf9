// SPDX-License-Identifier: GPL-2.0

//! IPVS's socket-option interface (`IP_VS_SO_SET_*`, `IP_VS_SO_GET_*` in
//! include/uapi/linux/ip_vs.h): the command numbers, the layouts of its
//! structures, and their parsing and encoding with IPVS's rules. Older
//! tools speak it (collectd's ipvs plugin; ipvsadm falls back to it when
//! the `IPVS` netlink family is missing). It knows IPv4 services only, as
//! in IPVS; the kernel side serves it over the same tables as netlink.

use core::fmt::Write;

use super::abi::{cmd, fwd, svc_flags, IPVS_VERSION_CODE, SCHED_NAME_MAXLEN};
use super::ctl::{
    check_dest_conf, errno, is_contiguous_netmask, CtlError, DestConf, DestKey, DestSpec,
    ServiceConf, ServiceKey, ServiceSpec, TimeoutsUpdate, AF_INET, FWMARK_PROTOCOL, IPPROTO_SCTP,
    IPPROTO_TCP, IPPROTO_UDP, MAX_TIMEOUT_SECS,
};
use super::est::{Counters, Rates};
use super::sched::SchedKind;
use super::sync::cflags;
use super::tunnel::TunnelConf;

/// The first command number of both ranges (`IP_VS_BASE_CTL`).
pub const BASE_CTL: i32 = 64 + 1024 + 64;

/// `struct ip_vs_service_user`.
pub const SERVICE_USER_LEN: usize = 44;
/// `struct ip_vs_dest_user`.
pub const DEST_USER_LEN: usize = 24;
/// `struct ip_vs_timeout_user`.
pub const TIMEOUT_USER_LEN: usize = 12;
/// `struct ip_vs_daemon_user`.
pub const DAEMON_USER_LEN: usize = 24;
/// `struct ip_vs_getinfo`.
pub const GETINFO_LEN: usize = 12;
/// `struct ip_vs_stats_user` (padded to its 8-byte alignment).
pub const STATS_USER_LEN: usize = 56;
/// `struct ip_vs_service_entry`.
pub const SERVICE_ENTRY_LEN: usize = 104;
/// `struct ip_vs_dest_entry`.
pub const DEST_ENTRY_LEN: usize = 96;
/// `struct ip_vs_get_services` without its entries.
pub const GET_SERVICES_LEN: usize = 8;
/// `struct ip_vs_get_dests` without its entries.
pub const GET_DESTS_LEN: usize = 24;
/// The buffer GET_VERSION asks for at least.
pub const VERSION_LEN: usize = 64;
/// Interface names, with their NUL (`IP_VS_IFNAME_MAXLEN`).
pub const IFNAME_MAXLEN: usize = 16;
pub use super::abi::daemon_state::{BACKUP as STATE_BACKUP, MASTER as STATE_MASTER};

/// The command numbered `cmd` of a range that starts at [`BASE_CTL`].
fn numbered<T: Copy>(all: &[T], cmd: i32) -> Option<T> {
    all.get(usize::try_from(cmd.checked_sub(BASE_CTL)?).ok()?)
        .copied()
}

/// The changing commands (`IP_VS_SO_SET_*`), numbered from [`BASE_CTL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetCmd {
    None,
    Insert,
    Add,
    Edit,
    Del,
    Flush,
    List,
    AddDest,
    DelDest,
    EditDest,
    Timeout,
    StartDaemon,
    StopDaemon,
    Restore,
    Save,
    Zero,
}

impl SetCmd {
    const ALL: [SetCmd; 16] = [
        SetCmd::None,
        SetCmd::Insert,
        SetCmd::Add,
        SetCmd::Edit,
        SetCmd::Del,
        SetCmd::Flush,
        SetCmd::List,
        SetCmd::AddDest,
        SetCmd::DelDest,
        SetCmd::EditDest,
        SetCmd::Timeout,
        SetCmd::StartDaemon,
        SetCmd::StopDaemon,
        SetCmd::Restore,
        SetCmd::Save,
        SetCmd::Zero,
    ];
    /// The last command number, plus one (what netfilter's range takes).
    pub const END: i32 = BASE_CTL + Self::ALL.len() as i32;

    pub fn from_raw(cmd: i32) -> Option<Self> {
        numbered(&Self::ALL, cmd)
    }

    /// The netlink command that does the same to a service or real server.
    fn netlink_cmd(self) -> Option<u8> {
        Some(match self {
            SetCmd::Add => cmd::NEW_SERVICE,
            SetCmd::Edit => cmd::SET_SERVICE,
            SetCmd::Del => cmd::DEL_SERVICE,
            SetCmd::Zero => cmd::ZERO,
            SetCmd::AddDest => cmd::NEW_DEST,
            SetCmd::EditDest => cmd::SET_DEST,
            SetCmd::DelDest => cmd::DEL_DEST,
            _ => return None,
        })
    }

    /// The exact length of the command's argument (IPVS's `set_arglen`);
    /// 0 for the numbers IPVS has no argument, and no command, for.
    pub fn arg_len(self) -> usize {
        match self {
            SetCmd::Add | SetCmd::Edit | SetCmd::Del | SetCmd::Zero => SERVICE_USER_LEN,
            SetCmd::AddDest | SetCmd::DelDest | SetCmd::EditDest => {
                SERVICE_USER_LEN + DEST_USER_LEN
            }
            SetCmd::Timeout => TIMEOUT_USER_LEN,
            SetCmd::StartDaemon | SetCmd::StopDaemon => DAEMON_USER_LEN,
            _ => 0,
        }
    }
}

/// The reading commands (`IP_VS_SO_GET_*`), numbered from [`BASE_CTL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GetCmd {
    Version,
    Info,
    Services,
    Service,
    Dests,
    /// Numbered, never answered (IPVS: "not used now").
    Dest,
    Timeout,
    Daemon,
}

impl GetCmd {
    const ALL: [GetCmd; 8] = [
        GetCmd::Version,
        GetCmd::Info,
        GetCmd::Services,
        GetCmd::Service,
        GetCmd::Dests,
        GetCmd::Dest,
        GetCmd::Timeout,
        GetCmd::Daemon,
    ];
    /// The last command number, plus one.
    pub const END: i32 = BASE_CTL + Self::ALL.len() as i32;

    pub fn from_raw(cmd: i32) -> Option<Self> {
        numbered(&Self::ALL, cmd)
    }

    /// The least length of the caller's buffer, which is also what is
    /// read from it (IPVS's `get_arglen`).
    pub fn arg_len(self) -> usize {
        match self {
            GetCmd::Version => VERSION_LEN,
            GetCmd::Info => GETINFO_LEN,
            GetCmd::Services => GET_SERVICES_LEN,
            GetCmd::Service => SERVICE_ENTRY_LEN,
            GetCmd::Dests => GET_DESTS_LEN,
            GetCmd::Dest => 0,
            GetCmd::Timeout => TIMEOUT_USER_LEN,
            GetCmd::Daemon => 2 * DAEMON_USER_LEN,
        }
    }
}

macro_rules! err {
    ($e:ident, $m:literal) => {
        CtlError {
            errno: errno::$e,
            msg: concat!($m, "\0"),
        }
    };
}

/// EFAULT: what IPVS answers a service of another protocol with.
const EFAULT: i32 = 14;

fn u16_at(b: &[u8], o: usize) -> u16 {
    let mut v = [0u8; 2];
    v.copy_from_slice(b.get(o..o + 2).unwrap_or(&[0; 2]));
    u16::from_ne_bytes(v)
}

fn u32_at(b: &[u8], o: usize) -> u32 {
    let mut v = [0u8; 4];
    v.copy_from_slice(b.get(o..o + 4).unwrap_or(&[0; 4]));
    u32::from_ne_bytes(v)
}

fn put(b: &mut [u8], o: usize, v: &[u8]) {
    if let Some(d) = b.get_mut(o..o + v.len()) {
        d.copy_from_slice(v);
    }
}

/// The length of a NUL-terminated name in a fixed field, if it has a NUL.
fn c_name_len(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == 0)
}

/// What a changing command asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetRequest {
    Flush,
    Timeouts(TimeoutsUpdate),
    StartDaemon {
        state: u32,
        /// NUL-terminated, not empty.
        ifname: [u8; IFNAME_MAXLEN],
        syncid: u32,
    },
    StopDaemon {
        state: u32,
    },
    /// ZERO without a service: every counter.
    ZeroAll,
    /// ADD, EDIT, DEL and ZERO of one service (`conf` for ADD and EDIT),
    /// as the netlink command `cmd` that does the same.
    Service {
        cmd: u8,
        spec: ServiceSpec,
    },
    /// ADDDEST, EDITDEST and DELDEST (`conf` for the first two). A bad
    /// real server is refused only once the service is found, as IPVS.
    /// `cmd` as Service's.
    Dest {
        cmd: u8,
        svc: ServiceKey,
        dest: Result<DestSpec, CtlError>,
    },
}

/// Parses a changing command `cmd` with its argument, with IPVS's checks
/// in IPVS's order (`do_ip_vs_set_ctl`); what IPVS leaves to the tables
/// (does the service exist) is the caller's.
pub fn parse_set(cmd: i32, arg: &[u8]) -> Result<SetRequest, CtlError> {
    let cmd = SetCmd::from_raw(cmd).ok_or(err!(EINVAL, "unknown command"))?;
    if arg.len() != cmd.arg_len() {
        return Err(err!(EINVAL, "argument of the wrong length for the command"));
    }
    match cmd {
        SetCmd::StartDaemon => {
            let name = arg.get(4..4 + IFNAME_MAXLEN).unwrap_or(&[]);
            let Some(len @ 1..) = c_name_len(name) else {
                return Err(err!(EINVAL, "multicast interface name empty or too long"));
            };
            let mut ifname = [0u8; IFNAME_MAXLEN];
            ifname[..len].copy_from_slice(&name[..len]);
            return Ok(SetRequest::StartDaemon {
                state: u32_at(arg, 0),
                ifname,
                syncid: u32_at(arg, 20),
            });
        }
        SetCmd::StopDaemon => {
            return Ok(SetRequest::StopDaemon {
                state: u32_at(arg, 0),
            })
        }
        SetCmd::Flush => return Ok(SetRequest::Flush),
        SetCmd::Timeout => return parse_timeouts(arg).map(SetRequest::Timeouts),
        _ => {}
    }
    let netlink_cmd = cmd
        .netlink_cmd()
        .ok_or(err!(EINVAL, "command without an argument"))?;
    let svc: &[u8; SERVICE_USER_LEN] = arg
        .get(..SERVICE_USER_LEN)
        .and_then(|s| s.try_into().ok())
        .ok_or(err!(EINVAL, "argument of the wrong length for the command"))?;
    let protocol = u16_at(svc, 0);
    let addr = [svc[4], svc[5], svc[6], svc[7]];
    let port = u16::from_be_bytes([svc[8], svc[9]]);
    let fwmark = u32_at(svc, 12);
    if cmd == SetCmd::Zero && fwmark == 0 && addr == [0; 4] && port == 0 {
        return Ok(SetRequest::ZeroAll);
    }
    let sched_name = &svc[16..16 + SCHED_NAME_MAXLEN];
    let full = matches!(cmd, SetCmd::Add | SetCmd::Edit);
    let name_len = c_name_len(sched_name);
    if full && name_len.is_none() {
        return Err(err!(EINVAL, "scheduler name not terminated"));
    }
    if !matches!(protocol, IPPROTO_TCP | IPPROTO_UDP | IPPROTO_SCTP) {
        return Err(CtlError {
            errno: EFAULT,
            msg: "service protocol must be TCP, UDP or SCTP\0",
        });
    }
    let key = if fwmark != 0 {
        // IPVS finds a firewall-mark service by its mark, then wants the
        // protocol it was added with: rvs keeps every mark service TCP,
        // without address or port, as IPVS's netlink interface makes it.
        // So an ADD with another protocol, an address or a port, which
        // IPVS would keep and list, is refused.
        if cmd == SetCmd::Add && (protocol != FWMARK_PROTOCOL || addr != [0; 4] || port != 0) {
            return Err(err!(
                EINVAL,
                "a firewall-mark service is TCP, without address or port"
            ));
        }
        if protocol != FWMARK_PROTOCOL {
            return Err(err!(ESRCH, "no such service"));
        }
        ServiceKey {
            af: AF_INET,
            protocol: FWMARK_PROTOCOL,
            addr: [0; 16],
            port: 0,
            fwmark,
        }
    } else {
        let mut a = [0u8; 16];
        a[..4].copy_from_slice(&addr);
        ServiceKey {
            af: AF_INET,
            protocol,
            addr: a,
            port,
            fwmark: 0,
        }
    };
    let conf = match (full, name_len) {
        (true, Some(n)) => Some(service_conf(svc, &sched_name[..n])?),
        _ => None,
    };
    if let Some(d) = arg.get(SERVICE_USER_LEN..) {
        if !d.is_empty() {
            return Ok(SetRequest::Dest {
                cmd: netlink_cmd,
                svc: key,
                dest: parse_dest_user(d, cmd != SetCmd::DelDest),
            });
        }
    }
    Ok(SetRequest::Service {
        cmd: netlink_cmd,
        spec: ServiceSpec { key, conf },
    })
}

/// The settings of ADD and EDIT: the flags replace the service's (the
/// structure has no mask).
fn service_conf(svc: &[u8], sched_name: &[u8]) -> Result<ServiceConf, CtlError> {
    let sched =
        SchedKind::from_name_bytes(sched_name).ok_or(err!(ENOENT, "scheduler not found"))?;
    let netmask = u32_at(svc, 40);
    if !is_contiguous_netmask(u32::from_be(netmask)) {
        return Err(err!(EINVAL, "persistence netmask is not contiguous"));
    }
    Ok(ServiceConf {
        sched,
        flags: u32_at(svc, 32),
        flags_mask: u32::MAX,
        timeout: u32_at(svc, 36),
        netmask,
    })
}

/// `struct ip_vs_dest_user`: an IPv4 real server, tunnelled (if at all)
/// over IPIP, as IPVS takes it from this interface.
fn parse_dest_user(d: &[u8], full: bool) -> Result<DestSpec, CtlError> {
    let d: &[u8; DEST_USER_LEN] = d
        .try_into()
        .map_err(|_| err!(EINVAL, "argument of the wrong length for the command"))?;
    let mut addr = [0u8; 16];
    addr[..4].copy_from_slice(&d[..4]);
    let key = DestKey {
        af: AF_INET,
        addr,
        port: u16::from_be_bytes([d[4], d[5]]),
    };
    if !full {
        return Ok(DestSpec { key, conf: None });
    }
    let conn_flags = u32_at(d, 8);
    // IPVS keeps two more of the flags per real server; rvs has neither
    // (IPVS ignores the rest).
    if conn_flags & (cflags::ONE_PACKET | cflags::NFCT) != 0 {
        return Err(err!(
            EINVAL,
            "per-server one-packet or conntrack flags not supported"
        ));
    }
    let fwd_m = conn_flags & fwd::MASK;
    let weight = u32_at(d, 12) as i32;
    let (u_threshold, l_threshold) = (u32_at(d, 16), u32_at(d, 20));
    check_dest_conf(fwd_m, weight, u_threshold, l_threshold)?;
    Ok(DestSpec {
        key,
        conf: Some(DestConf {
            fwd: fwd_m,
            weight,
            u_threshold,
            l_threshold,
            tunnel: TunnelConf::IPIP,
        }),
    })
}

/// `struct ip_vs_timeout_user`: three signed second counts, 0 for
/// unchanged; IPVS refuses a negative one.
fn parse_timeouts(arg: &[u8]) -> Result<TimeoutsUpdate, CtlError> {
    let v = |o| {
        let s = u32_at(arg, o) as i32;
        match u32::try_from(s) {
            Ok(v) if v <= MAX_TIMEOUT_SECS => Ok(Some(v)),
            Ok(_) => Err(err!(EINVAL, "timeout too large")),
            Err(_) => Err(err!(EINVAL, "timeout is negative")),
        }
    };
    Ok(TimeoutsUpdate {
        tcp: v(0)?,
        tcp_fin: v(4)?,
        udp: v(8)?,
    })
}

/// What GET_SERVICE and GET_DESTS name: a firewall mark, or protocol,
/// address and port (the start of both structures).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Query {
    pub key: Option<ServiceKey>,
    /// GET_DESTS: the entries the caller has room for.
    pub num_dests: u32,
}

/// Parses the service a GET_SERVICE or GET_DESTS asks for; `key` is
/// `None` for one that cannot exist (a protocol rvs has no services of).
pub fn parse_query(arg: &[u8]) -> Query {
    let protocol = u16_at(arg, 0);
    let fwmark = u32_at(arg, 12);
    let mut addr = [0u8; 16];
    addr[..4].copy_from_slice(arg.get(4..8).unwrap_or(&[0; 4]));
    let port = u16::from_be_bytes([
        arg.get(8).copied().unwrap_or(0),
        arg.get(9).copied().unwrap_or(0),
    ]);
    // IPVS finds a firewall-mark service by its mark alone.
    let key = if fwmark != 0 {
        Some(ServiceKey {
            af: AF_INET,
            protocol: FWMARK_PROTOCOL,
            addr: [0; 16],
            port: 0,
            fwmark,
        })
    } else if matches!(protocol, IPPROTO_TCP | IPPROTO_UDP | IPPROTO_SCTP) {
        Some(ServiceKey {
            af: AF_INET,
            protocol,
            addr,
            port,
            fwmark: 0,
        })
    } else {
        None
    };
    Query {
        key,
        num_dests: u32_at(arg, 16),
    }
}

/// GET_SERVICES: the entries the caller has room for.
pub fn services_asked(arg: &[u8]) -> u32 {
    u32_at(arg, 0)
}

/// The exact length GET_SERVICES and GET_DESTS must be called with for
/// `n` entries (None if it does not fit an `int`, as no caller's can).
pub fn list_len(header: usize, entry: usize, n: u32) -> Option<usize> {
    let len = (n as usize).checked_mul(entry)?.checked_add(header)?;
    i32::try_from(len).ok().map(|_| len)
}

/// A small `fmt::Write` over a byte buffer that stops at its end.
struct Buf<'a> {
    b: &'a mut [u8],
    n: usize,
}

impl Write for Buf<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let end = self.n + s.len();
        let d = self.b.get_mut(self.n..end).ok_or(core::fmt::Error)?;
        d.copy_from_slice(s.as_bytes());
        self.n = end;
        Ok(())
    }
}

/// GET_VERSION's answer, NUL included, and its length: IPVS's string.
pub fn version(conn_tab_size: u32) -> ([u8; VERSION_LEN], usize) {
    let mut b = [0u8; VERSION_LEN];
    let (x, y, z) = super::abi::version_parts(IPVS_VERSION_CODE);
    let mut w = Buf { b: &mut b, n: 0 };
    // It fits: the longest is 56 bytes.
    let _ = write!(
        w,
        "IP Virtual Server version {x}.{y}.{z} (size={conn_tab_size})"
    );
    let n = w.n + 1;
    (b, n)
}

/// GET_INFO's `struct ip_vs_getinfo`: the IPv4 services only.
pub fn info(conn_tab_size: u32, ipv4_services: u32) -> [u8; GETINFO_LEN] {
    let mut b = [0u8; GETINFO_LEN];
    put(&mut b, 0, &IPVS_VERSION_CODE.to_ne_bytes());
    put(&mut b, 4, &conn_tab_size.to_ne_bytes());
    put(&mut b, 8, &ipv4_services.to_ne_bytes());
    b
}

/// `struct ip_vs_stats_user` at `o`: the packet counters truncated to 32
/// bits, the byte counters whole, as IPVS exports them.
fn put_stats(b: &mut [u8], o: usize, (c, r): &(Counters, Rates)) {
    put(b, o, &(c.conns as u32).to_ne_bytes());
    put(b, o + 4, &(c.inpkts as u32).to_ne_bytes());
    put(b, o + 8, &(c.outpkts as u32).to_ne_bytes());
    put(b, o + 16, &c.inbytes.to_ne_bytes());
    put(b, o + 24, &c.outbytes.to_ne_bytes());
    for (i, v) in [r.cps, r.inpps, r.outpps, r.inbps, r.outbps]
        .into_iter()
        .enumerate()
    {
        put(b, o + 32 + 4 * i, &(v as u32).to_ne_bytes());
    }
}

/// What a `struct ip_vs_service_entry` shows of an IPv4 service.
pub struct ServiceEntry<'a> {
    pub key: &'a ServiceKey,
    pub sched: &'a str,
    pub flags: u32,
    /// Persistence timeout, seconds.
    pub timeout: u32,
    /// Network order, as read from the wire.
    pub netmask: u32,
    pub num_dests: u32,
    pub stats: (Counters, Rates),
}

/// The entry written over `base`: IPVS's GET_SERVICE fills in the
/// caller's own question, so its padding and the bytes after the
/// scheduler name's NUL are the caller's (GET_SERVICES starts from zeros).
pub fn service_entry(
    base: [u8; SERVICE_ENTRY_LEN],
    e: &ServiceEntry<'_>,
) -> [u8; SERVICE_ENTRY_LEN] {
    let mut b = base;
    let k = e.key;
    put(&mut b, 0, &k.protocol.to_ne_bytes());
    put(&mut b, 4, &k.addr[..4]);
    put(&mut b, 8, &k.port.to_be_bytes());
    put(&mut b, 12, &k.fwmark.to_ne_bytes());
    let name = e.sched.as_bytes();
    let n = name.len().min(SCHED_NAME_MAXLEN - 1);
    put(&mut b, 16, &name[..n]);
    put(&mut b, 16 + n, &[0]);
    // IPVS marks every listed service hashed.
    put(&mut b, 32, &(e.flags | svc_flags::HASHED).to_ne_bytes());
    put(&mut b, 36, &e.timeout.to_ne_bytes());
    put(&mut b, 40, &e.netmask.to_ne_bytes());
    put(&mut b, 44, &e.num_dests.to_ne_bytes());
    put_stats(&mut b, 48, &e.stats);
    b
}

/// What a `struct ip_vs_dest_entry` shows of a real server.
pub struct DestEntry {
    pub addr: [u8; 4],
    /// Host order.
    pub port: u16,
    /// One of [`fwd`].
    pub fwd: u32,
    pub weight: i32,
    pub u_threshold: u32,
    pub l_threshold: u32,
    pub active: u32,
    pub inactive: u32,
    pub persistent: u32,
    pub stats: (Counters, Rates),
}

/// A real server's connection flags as IPVS keeps them: the method, not
/// established (the flags new connections start with), and no output
/// for every method but NAT.
pub fn dest_conn_flags(fwd_m: u32) -> u32 {
    let noout = if fwd_m == fwd::MASQ {
        0
    } else {
        cflags::NOOUTPUT
    };
    fwd_m | cflags::INACTIVE | noout
}

pub fn dest_entry(e: &DestEntry) -> [u8; DEST_ENTRY_LEN] {
    let mut b = [0u8; DEST_ENTRY_LEN];
    put(&mut b, 0, &e.addr);
    put(&mut b, 4, &e.port.to_be_bytes());
    put(&mut b, 8, &dest_conn_flags(e.fwd).to_ne_bytes());
    put(&mut b, 12, &e.weight.to_ne_bytes());
    put(&mut b, 16, &e.u_threshold.to_ne_bytes());
    put(&mut b, 20, &e.l_threshold.to_ne_bytes());
    put(&mut b, 24, &e.active.to_ne_bytes());
    put(&mut b, 28, &e.inactive.to_ne_bytes());
    put(&mut b, 32, &e.persistent.to_ne_bytes());
    put_stats(&mut b, 40, &e.stats);
    b
}

/// GET_TIMEOUT's `struct ip_vs_timeout_user`, seconds.
pub fn timeouts(tcp: u32, tcp_fin: u32, udp: u32) -> [u8; TIMEOUT_USER_LEN] {
    let mut b = [0u8; TIMEOUT_USER_LEN];
    put(&mut b, 0, &tcp.to_ne_bytes());
    put(&mut b, 4, &tcp_fin.to_ne_bytes());
    put(&mut b, 8, &udp.to_ne_bytes());
    b
}

/// A running daemon as GET_DAEMON shows it.
pub struct Daemon<'a> {
    /// Up to its NUL, if it has one.
    pub ifname: &'a [u8],
    pub syncid: u32,
}

/// GET_DAEMON's two `struct ip_vs_daemon_user`: the master's, then the
/// backup's; a daemon that does not run is all zeros.
pub fn daemons(
    master: Option<Daemon<'_>>,
    backup: Option<Daemon<'_>>,
) -> [u8; 2 * DAEMON_USER_LEN] {
    let mut b = [0u8; 2 * DAEMON_USER_LEN];
    for (i, (state, d)) in [(STATE_MASTER, master), (STATE_BACKUP, backup)]
        .into_iter()
        .enumerate()
    {
        let Some(d) = d else { continue };
        let o = i * DAEMON_USER_LEN;
        put(&mut b, o, &state.to_ne_bytes());
        let n = c_name_len(d.ifname)
            .unwrap_or(d.ifname.len())
            .min(IFNAME_MAXLEN - 1);
        put(&mut b, o + 4, &d.ifname[..n]);
        put(&mut b, o + 20, &d.syncid.to_ne_bytes());
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc_user(
        protocol: u16,
        addr: [u8; 4],
        port: u16,
        fwmark: u32,
        sched: &str,
    ) -> [u8; SERVICE_USER_LEN] {
        let mut b = [0u8; SERVICE_USER_LEN];
        b[0..2].copy_from_slice(&protocol.to_ne_bytes());
        b[4..8].copy_from_slice(&addr);
        b[8..10].copy_from_slice(&port.to_be_bytes());
        b[12..16].copy_from_slice(&fwmark.to_ne_bytes());
        b[16..16 + sched.len()].copy_from_slice(sched.as_bytes());
        b[40..44].copy_from_slice(&0xffff_ffffu32.to_be_bytes());
        b
    }

    fn with_dest(
        s: [u8; SERVICE_USER_LEN],
        addr: [u8; 4],
        port: u16,
        flags: u32,
        weight: i32,
        u: u32,
        l: u32,
    ) -> [u8; 68] {
        let mut b = [0u8; 68];
        b[..44].copy_from_slice(&s);
        b[44..48].copy_from_slice(&addr);
        b[48..50].copy_from_slice(&port.to_be_bytes());
        b[52..56].copy_from_slice(&flags.to_ne_bytes());
        b[56..60].copy_from_slice(&weight.to_ne_bytes());
        b[60..64].copy_from_slice(&u.to_ne_bytes());
        b[64..68].copy_from_slice(&l.to_ne_bytes());
        b
    }

    fn raw(c: SetCmd) -> i32 {
        BASE_CTL + SetCmd::ALL.iter().position(|&x| x == c).unwrap() as i32
    }

    #[test]
    fn command_numbers_are_ipvs() {
        assert_eq!(BASE_CTL, 1152);
        assert_eq!(SetCmd::END, 1152 + 16);
        assert_eq!(GetCmd::END, 1152 + 8);
        assert_eq!(SetCmd::from_raw(1154), Some(SetCmd::Add));
        assert_eq!(SetCmd::from_raw(1167), Some(SetCmd::Zero));
        assert_eq!(SetCmd::from_raw(1168), None);
        assert_eq!(SetCmd::from_raw(1151), None);
        assert_eq!(SetCmd::from_raw(i32::MIN), None);
        assert_eq!(GetCmd::from_raw(1156), Some(GetCmd::Dests));
        assert_eq!(GetCmd::from_raw(1159), Some(GetCmd::Daemon));
        assert_eq!(GetCmd::from_raw(1160), None);
    }

    #[test]
    fn lengths_are_ipvs_set_and_get_arglen() {
        let set: [(SetCmd, usize); 16] = [
            (SetCmd::None, 0),
            (SetCmd::Insert, 0),
            (SetCmd::Add, 44),
            (SetCmd::Edit, 44),
            (SetCmd::Del, 44),
            (SetCmd::Flush, 0),
            (SetCmd::List, 0),
            (SetCmd::AddDest, 68),
            (SetCmd::DelDest, 68),
            (SetCmd::EditDest, 68),
            (SetCmd::Timeout, 12),
            (SetCmd::StartDaemon, 24),
            (SetCmd::StopDaemon, 24),
            (SetCmd::Restore, 0),
            (SetCmd::Save, 0),
            (SetCmd::Zero, 44),
        ];
        for (c, n) in set {
            assert_eq!(c.arg_len(), n, "{c:?}");
        }
        let get = [64, 12, 8, 104, 24, 0, 12, 48];
        for (c, n) in GetCmd::ALL.iter().zip(get) {
            assert_eq!(c.arg_len(), n, "{c:?}");
        }
    }

    #[test]
    fn add_service_parses_like_netlink() {
        let s = svc_user(IPPROTO_TCP, [10, 0, 0, 1], 80, 0, "wlc");
        let r = parse_set(raw(SetCmd::Add), &s).unwrap();
        let SetRequest::Service { cmd, spec } = r else {
            panic!("{r:?}")
        };
        assert_eq!(cmd, cmd::NEW_SERVICE);
        assert_eq!(spec.key.port, 80);
        assert_eq!(&spec.key.addr[..4], &[10, 0, 0, 1]);
        let conf = spec.conf.unwrap();
        assert_eq!(conf.sched, SchedKind::from_name("wlc").unwrap());
        assert_eq!(conf.flags_mask, u32::MAX);
        // Without a scheduler of that name: ENOENT, as IPVS.
        let s = svc_user(IPPROTO_TCP, [10, 0, 0, 1], 80, 0, "nosuch");
        assert_eq!(
            parse_set(raw(SetCmd::Add), &s).unwrap_err().errno,
            errno::ENOENT
        );
    }

    #[test]
    fn ipvs_errors() {
        let s = svc_user(IPPROTO_TCP, [10, 0, 0, 1], 80, 0, "rr");
        // Wrong length, unknown or argument-less command: EINVAL.
        assert_eq!(
            parse_set(raw(SetCmd::Add), &s[..43]).unwrap_err().errno,
            errno::EINVAL
        );
        assert_eq!(parse_set(1151, &s).unwrap_err().errno, errno::EINVAL);
        for c in [
            SetCmd::None,
            SetCmd::Insert,
            SetCmd::List,
            SetCmd::Restore,
            SetCmd::Save,
        ] {
            assert_eq!(
                parse_set(raw(c), &[]).unwrap_err().errno,
                errno::EINVAL,
                "{c:?}"
            );
        }
        assert_eq!(parse_set(raw(SetCmd::Flush), &[]), Ok(SetRequest::Flush));
        assert_eq!(
            parse_set(raw(SetCmd::Flush), &[0]).unwrap_err().errno,
            errno::EINVAL
        );
        // Another protocol: EFAULT, even with a mark.
        let bad = svc_user(1, [10, 0, 0, 1], 80, 0, "rr");
        assert_eq!(parse_set(raw(SetCmd::Del), &bad).unwrap_err().errno, 14);
        let bad = svc_user(47, [0; 4], 0, 5, "rr");
        assert_eq!(parse_set(raw(SetCmd::Add), &bad).unwrap_err().errno, 14);
        // A scheduler name that fills its field: EINVAL for ADD and EDIT.
        let mut long = s;
        long[16..32].copy_from_slice(b"abcdefghijklmnop");
        assert_eq!(
            parse_set(raw(SetCmd::Edit), &long).unwrap_err().errno,
            errno::EINVAL
        );
        assert!(parse_set(raw(SetCmd::Del), &long).is_ok());
    }

    #[test]
    fn zero_without_service_is_zero_all() {
        let s = svc_user(0, [0; 4], 0, 0, "");
        assert_eq!(parse_set(raw(SetCmd::Zero), &s), Ok(SetRequest::ZeroAll));
        let s = svc_user(IPPROTO_UDP, [10, 0, 0, 1], 53, 0, "");
        assert!(matches!(
            parse_set(raw(SetCmd::Zero), &s),
            Ok(SetRequest::Service { .. })
        ));
    }

    #[test]
    fn fwmark_services_are_tcp() {
        let s = svc_user(IPPROTO_TCP, [0; 4], 0, 7, "rr");
        let Ok(SetRequest::Service { spec, .. }) = parse_set(raw(SetCmd::Add), &s) else {
            panic!()
        };
        assert_eq!(spec.key.fwmark, 7);
        assert_eq!(spec.key.protocol, FWMARK_PROTOCOL);
        let s = svc_user(IPPROTO_UDP, [0; 4], 0, 7, "rr");
        assert_eq!(
            parse_set(raw(SetCmd::Add), &s).unwrap_err().errno,
            errno::EINVAL
        );
        assert_eq!(
            parse_set(raw(SetCmd::Del), &s).unwrap_err().errno,
            errno::ESRCH
        );
        let s = svc_user(IPPROTO_TCP, [10, 0, 0, 1], 0, 7, "rr");
        assert_eq!(
            parse_set(raw(SetCmd::Add), &s).unwrap_err().errno,
            errno::EINVAL
        );
    }

    #[test]
    fn dests() {
        let s = svc_user(IPPROTO_TCP, [10, 0, 0, 1], 80, 0, "rr");
        let d = with_dest(s, [192, 168, 1, 2], 8080, fwd::DROUTE, 3, 10, 5);
        let Ok(SetRequest::Dest {
            cmd,
            svc,
            dest: Ok(dest),
        }) = parse_set(raw(SetCmd::AddDest), &d)
        else {
            panic!()
        };
        assert_eq!(cmd, cmd::NEW_DEST);
        assert_eq!(svc.port, 80);
        assert_eq!(dest.key.port, 8080);
        let conf = dest.conf.unwrap();
        assert_eq!(
            (conf.fwd, conf.weight, conf.u_threshold, conf.l_threshold),
            (fwd::DROUTE, 3, 10, 5)
        );
        assert_eq!(conf.tunnel, TunnelConf::IPIP);
        // IPVS ignores the flags it does not keep; rvs refuses the two it
        // would have to honour.
        let d = with_dest(
            s,
            [192, 168, 1, 2],
            80,
            fwd::MASQ | cflags::INACTIVE,
            1,
            0,
            0,
        );
        assert!(parse_set(raw(SetCmd::AddDest), &d).is_ok());
        let dest_err = |c, d: &[u8]| match parse_set(raw(c), d) {
            Ok(SetRequest::Dest { dest: Err(e), .. }) => e.errno,
            r => panic!("{r:?}"),
        };
        let d = with_dest(s, [192, 168, 1, 2], 80, cflags::ONE_PACKET, 1, 0, 0);
        assert_eq!(dest_err(SetCmd::AddDest, &d), errno::EINVAL);
        let d = with_dest(s, [192, 168, 1, 2], 80, 5, 1, 0, 0);
        assert_eq!(dest_err(SetCmd::AddDest, &d), errno::EINVAL);
        let d = with_dest(s, [192, 168, 1, 2], 80, 0, -1, 0, 0);
        assert_eq!(dest_err(SetCmd::EditDest, &d), errno::ERANGE);
        let d = with_dest(s, [192, 168, 1, 2], 80, 0, 1, 1, 2);
        assert_eq!(dest_err(SetCmd::AddDest, &d), errno::ERANGE);
        // DELDEST needs only the address.
        let d = with_dest(s, [192, 168, 1, 2], 80, 5, -1, 1, 2);
        let Ok(SetRequest::Dest { dest: Ok(dest), .. }) = parse_set(raw(SetCmd::DelDest), &d)
        else {
            panic!()
        };
        assert_eq!(dest.conf, None);
    }

    #[test]
    fn timeouts_and_daemons() {
        let mut t = [0u8; 12];
        t[0..4].copy_from_slice(&900i32.to_ne_bytes());
        t[8..12].copy_from_slice(&300i32.to_ne_bytes());
        let Ok(SetRequest::Timeouts(u)) = parse_set(raw(SetCmd::Timeout), &t) else {
            panic!()
        };
        assert_eq!((u.tcp, u.tcp_fin, u.udp), (Some(900), Some(0), Some(300)));
        t[4..8].copy_from_slice(&(-1i32).to_ne_bytes());
        assert_eq!(
            parse_set(raw(SetCmd::Timeout), &t).unwrap_err().errno,
            errno::EINVAL
        );
        let mut d = [0u8; 24];
        d[0..4].copy_from_slice(&STATE_MASTER.to_ne_bytes());
        assert_eq!(
            parse_set(raw(SetCmd::StartDaemon), &d).unwrap_err().errno,
            errno::EINVAL
        );
        d[4..8].copy_from_slice(b"eth0");
        d[20..24].copy_from_slice(&5u32.to_ne_bytes());
        let Ok(SetRequest::StartDaemon {
            state,
            ifname,
            syncid,
        }) = parse_set(raw(SetCmd::StartDaemon), &d)
        else {
            panic!()
        };
        assert_eq!(
            (state, &ifname[..5], syncid),
            (STATE_MASTER, &b"eth0\0"[..], 5)
        );
        d[4..20].copy_from_slice(b"0123456789abcdef");
        assert_eq!(
            parse_set(raw(SetCmd::StartDaemon), &d).unwrap_err().errno,
            errno::EINVAL
        );
        let b = daemons(
            None,
            Some(Daemon {
                ifname: b"eth1",
                syncid: 9,
            }),
        );
        assert_eq!(&b[..24], &[0; 24]);
        assert_eq!(u32_at(&b, 24), STATE_BACKUP);
        assert_eq!(&b[28..33], b"eth1\0");
        assert_eq!(u32_at(&b, 44), 9);
    }

    #[test]
    fn replies() {
        let (v, n) = version(4096);
        assert_eq!(&v[..n], b"IP Virtual Server version 1.2.1 (size=4096)\0");
        let i = info(4096, 3);
        assert_eq!(
            (u32_at(&i, 0), u32_at(&i, 4), u32_at(&i, 8)),
            (0x010201, 4096, 3)
        );
        let key = ServiceKey {
            af: AF_INET,
            protocol: IPPROTO_UDP,
            addr: [10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            port: 53,
            fwmark: 0,
        };
        let stats = (
            Counters {
                conns: 1 << 33 | 5,
                inpkts: 6,
                outpkts: 7,
                inbytes: 1 << 40,
                outbytes: 9,
            },
            Rates {
                cps: 1,
                inpps: 2,
                outpps: 3,
                inbps: 4,
                outbps: 5,
            },
        );
        let e = service_entry(
            [0; SERVICE_ENTRY_LEN],
            &ServiceEntry {
                key: &key,
                sched: "rr",
                flags: svc_flags::PERSISTENT,
                timeout: 300,
                netmask: 0xffff_ffff,
                num_dests: 2,
                stats,
            },
        );
        assert_eq!(u16_at(&e, 0), IPPROTO_UDP);
        assert_eq!(&e[4..10], &[10, 0, 0, 1, 0, 53]);
        assert_eq!(&e[16..19], b"rr\0");
        assert_eq!(u32_at(&e, 32), svc_flags::PERSISTENT | svc_flags::HASHED);
        assert_eq!((u32_at(&e, 36), u32_at(&e, 44)), (300, 2));
        assert_eq!(u32_at(&e, 48), 5, "conns truncated to 32 bits");
        assert_eq!(&e[64..72], &(1u64 << 40).to_ne_bytes());
        assert_eq!((u32_at(&e, 80), u32_at(&e, 96)), (1, 5));
        // Over the caller's question: its padding and name tail stay.
        let q = service_entry(
            [0xaa; SERVICE_ENTRY_LEN],
            &ServiceEntry {
                key: &key,
                sched: "rr",
                flags: 0,
                timeout: 0,
                netmask: 0,
                num_dests: 0,
                stats,
            },
        );
        assert_eq!(&q[2..4], &[0xaa, 0xaa]);
        assert_eq!(&q[16..20], b"rr\0\xaa");
        assert_eq!(u16_at(&q, 0), IPPROTO_UDP);
        let d = dest_entry(&DestEntry {
            addr: [192, 168, 1, 2],
            port: 8080,
            fwd: fwd::DROUTE,
            weight: 3,
            u_threshold: 0,
            l_threshold: 0,
            active: 4,
            inactive: 5,
            persistent: 6,
            stats,
        });
        assert_eq!(&d[..6], &[192, 168, 1, 2, 0x1f, 0x90]);
        assert_eq!(u32_at(&d, 8), 0x183);
        assert_eq!((u32_at(&d, 24), u32_at(&d, 28), u32_at(&d, 32)), (4, 5, 6));
        assert_eq!(u32_at(&d, 40), 5);
        assert_eq!(dest_conn_flags(fwd::MASQ), 0x100);
        let q = parse_query(&e);
        assert_eq!(q.key, Some(key));
        assert_eq!(list_len(GET_SERVICES_LEN, SERVICE_ENTRY_LEN, 2), Some(216));
        assert_eq!(list_len(GET_DESTS_LEN, DEST_ENTRY_LEN, u32::MAX), None);
    }
}
