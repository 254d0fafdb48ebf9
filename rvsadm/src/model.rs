//! Plain data types shared by the command-line parser, the output
//! formatter and the netlink layer of `rvsadm`.
//!
//! The types mirror what ipvsadm 1.31 / libipvs keep in their C structs
//! (`ipvs_service_entry_t`, `ipvs_dest_entry_t`, `ipvs_timeout_t`,
//! `ipvs_daemon_t`, `struct ip_vs_getinfo`) and the text lines of
//! `/proc/net/ip_vs_conn`.  They carry host-order values; byte-order
//! conversions belong to the netlink layer.

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

// ---------------------------------------------------------------------------
// Constants (values as in linux/ip_vs.h and ipvsadm 1.31)
// ---------------------------------------------------------------------------

/// Address family numbers as used by the kernel.
// The numbers shared with the module are defined once, in rvs-core; the
// names here are ipvsadm's.
use rvs_core::abi::{fwd, svc_flags};
use rvs_core::ctl as kctl;

pub const AF_UNSPEC: u16 = 0;
pub const AF_INET: u16 = kctl::AF_INET;
pub const AF_INET6: u16 = kctl::AF_INET6;

/// IP protocol numbers.
pub const IPPROTO_IP: u16 = 0;
pub const IPPROTO_TCP: u16 = kctl::IPPROTO_TCP;
pub const IPPROTO_UDP: u16 = kctl::IPPROTO_UDP;
pub const IPPROTO_SCTP: u16 = kctl::IPPROTO_SCTP;

/// Virtual service flags.
pub const IP_VS_SVC_F_PERSISTENT: u32 = svc_flags::PERSISTENT;
pub const IP_VS_SVC_F_HASHED: u32 = svc_flags::HASHED;
pub const IP_VS_SVC_F_ONEPACKET: u32 = svc_flags::ONEPACKET;
pub const IP_VS_SVC_F_SCHED1: u32 = svc_flags::SCHED1;
pub const IP_VS_SVC_F_SCHED2: u32 = svc_flags::SCHED2;
pub const IP_VS_SVC_F_SCHED3: u32 = svc_flags::SCHED3;
pub const IP_VS_SVC_F_SCHED_SH_FALLBACK: u32 = svc_flags::SH_FALLBACK;
pub const IP_VS_SVC_F_SCHED_SH_PORT: u32 = svc_flags::SH_PORT;
pub const IP_VS_SVC_F_SCHED_MH_FALLBACK: u32 = svc_flags::MH_FALLBACK;
pub const IP_VS_SVC_F_SCHED_MH_PORT: u32 = svc_flags::MH_PORT;
/// All three scheduler flag bits.
pub const IP_VS_SVC_F_SCHED_MASK: u32 =
    IP_VS_SVC_F_SCHED1 | IP_VS_SVC_F_SCHED2 | IP_VS_SVC_F_SCHED3;

/// Destination forwarding methods (low bits of `conn_flags`).
pub const IP_VS_CONN_F_FWD_MASK: u32 = fwd::MASK;
pub const IP_VS_CONN_F_MASQ: u32 = fwd::MASQ;
pub const IP_VS_CONN_F_LOCALNODE: u32 = fwd::LOCALNODE;
pub const IP_VS_CONN_F_TUNNEL: u32 = fwd::TUNNEL;
pub const IP_VS_CONN_F_DROUTE: u32 = fwd::DROUTE;

/// Tunnel types (`IPVS_DEST_ATTR_TUN_TYPE`).
pub const IP_VS_CONN_F_TUNNEL_TYPE_IPIP: u8 = 0;
pub const IP_VS_CONN_F_TUNNEL_TYPE_GUE: u8 = 1;
pub const IP_VS_CONN_F_TUNNEL_TYPE_GRE: u8 = 2;

/// Tunnel encapsulation flags (`IPVS_DEST_ATTR_TUN_FLAGS`).
pub const IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM: u16 = 0;
pub const IP_VS_TUNNEL_ENCAP_FLAG_CSUM: u16 = 1 << 0;
pub const IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM: u16 = 1 << 1;

/// Sync daemon states.
pub const IP_VS_STATE_NONE: u32 = 0;
pub const IP_VS_STATE_MASTER: u32 = 1;
pub const IP_VS_STATE_BACKUP: u32 = 2;

/// Name length limits (the C buffers include the terminating NUL).
pub const IP_VS_SCHEDNAME_MAXLEN: usize = rvs_core::abi::SCHED_NAME_MAXLEN;
pub const IP_VS_PENAME_MAXLEN: usize = 16;
pub const IP_VS_IFNAME_MAXLEN: usize = 16;

/// Version code ipvsadm 1.31 was compiled with (1.2.1).
pub const IP_VS_VERSION_CODE: u32 = rvs_core::abi::IPVS_VERSION_CODE;
/// Oldest kernel IPVS version ipvsadm accepts without a warning (1.1.4).
pub const MINIMUM_IPVS_VERSION: u32 = 0x010104;

/// Default persistence timeout used by `-p` without a value
/// (libipvs `IPVS_SVC_PERSISTENT_TIMEOUT`, 6 minutes).
pub const IPVS_SVC_PERSISTENT_TIMEOUT: u32 = 6 * 60;
/// Maximum timeout accepted by `-p` and `--set` (31 days).
pub const MAX_TIMEOUT: u32 = 86400 * 31;
/// Default scheduler.
pub const DEF_SCHED: &str = "wlc";
/// Default multicast interface for `--start-daemon`.
pub const DEF_MCAST_IFN: &str = "eth0";
/// The connection table ipvsadm reads for `-Lc`.
pub const CONN_PROC_FILE: &str = "/proc/net/ip_vs_conn";

// ---------------------------------------------------------------------------
// Small enums
// ---------------------------------------------------------------------------

/// Address family of a service or destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum AddressFamily {
    #[default]
    Inet,
    Inet6,
}

impl AddressFamily {
    /// Kernel number (2 or 10).
    pub fn raw(self) -> u16 {
        match self {
            AddressFamily::Inet => AF_INET,
            AddressFamily::Inet6 => AF_INET6,
        }
    }
    /// From the kernel number; anything but AF_INET6 is treated as IPv4,
    /// as ipvsadm does when printing.
    pub fn from_raw(af: u16) -> AddressFamily {
        if af == AF_INET6 {
            AddressFamily::Inet6
        } else {
            AddressFamily::Inet
        }
    }
    pub fn of(addr: &IpAddr) -> AddressFamily {
        match addr {
            IpAddr::V4(_) => AddressFamily::Inet,
            IpAddr::V6(_) => AddressFamily::Inet6,
        }
    }
    /// The unspecified address of this family.
    pub fn unspecified(self) -> IpAddr {
        match self {
            AddressFamily::Inet => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            AddressFamily::Inet6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        }
    }
}

/// Transport protocol of a virtual service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Protocol {
    #[default]
    Tcp,
    Udp,
    Sctp,
    /// Any other number, including 0 (IPPROTO_IP), which is what fwmark
    /// services report over netlink.
    Other(u16),
}

impl Protocol {
    pub fn raw(self) -> u16 {
        match self {
            Protocol::Tcp => IPPROTO_TCP,
            Protocol::Udp => IPPROTO_UDP,
            Protocol::Sctp => IPPROTO_SCTP,
            Protocol::Other(n) => n,
        }
    }
    pub fn from_raw(n: u16) -> Protocol {
        match n {
            IPPROTO_TCP => Protocol::Tcp,
            IPPROTO_UDP => Protocol::Udp,
            IPPROTO_SCTP => Protocol::Sctp,
            n => Protocol::Other(n),
        }
    }
    /// Name as printed in listings ("TCP", "UDP", "SCTP", "?").
    pub fn display_name(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
            Protocol::Other(_) => "?",
        }
    }
    /// Name used for /etc/services look-ups ("tcp", "udp", "sctp").
    pub fn services_name(self) -> Option<&'static str> {
        match self {
            Protocol::Tcp => Some("tcp"),
            Protocol::Udp => Some("udp"),
            Protocol::Sctp => Some("sctp"),
            Protocol::Other(_) => None,
        }
    }
    /// The service-selection switch used by `-S` ("-t", "-u",
    /// "--sctp-service").
    pub fn save_switch(self) -> Option<&'static str> {
        match self {
            Protocol::Tcp => Some("-t"),
            Protocol::Udp => Some("-u"),
            Protocol::Sctp => Some("--sctp-service"),
            Protocol::Other(_) => None,
        }
    }
}

/// Forwarding method of a real server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FwdMethod {
    Masq,
    Local,
    Tunnel,
    Route,
    /// A value outside 0..=3 (only possible with a misbehaving kernel).
    Other(u32),
}

impl Default for FwdMethod {
    /// ipvsadm's default for `-a`/`-e` is direct routing (`-g`).
    fn default() -> Self {
        FwdMethod::Route
    }
}

impl FwdMethod {
    pub fn raw(self) -> u32 {
        match self {
            FwdMethod::Masq => IP_VS_CONN_F_MASQ,
            FwdMethod::Local => IP_VS_CONN_F_LOCALNODE,
            FwdMethod::Tunnel => IP_VS_CONN_F_TUNNEL,
            FwdMethod::Route => IP_VS_CONN_F_DROUTE,
            FwdMethod::Other(n) => n,
        }
    }
    /// From `conn_flags` (only the forwarding bits are looked at).
    pub fn from_conn_flags(flags: u32) -> FwdMethod {
        match flags & IP_VS_CONN_F_FWD_MASK {
            IP_VS_CONN_F_MASQ => FwdMethod::Masq,
            IP_VS_CONN_F_LOCALNODE => FwdMethod::Local,
            IP_VS_CONN_F_TUNNEL => FwdMethod::Tunnel,
            IP_VS_CONN_F_DROUTE => FwdMethod::Route,
            n => FwdMethod::Other(n),
        }
    }
    /// Name in listings ("Masq", "Local", "Tunnel", "Route"); ipvsadm would
    /// print "(null)" for anything else.
    pub fn display_name(self) -> &'static str {
        match self {
            FwdMethod::Masq => "Masq",
            FwdMethod::Local => "Local",
            FwdMethod::Tunnel => "Tunnel",
            FwdMethod::Route => "Route",
            FwdMethod::Other(_) => "(null)",
        }
    }
    /// Switch used by `-S` ("-m", "-i", "-g"; Local is saved as "-g").
    pub fn save_switch(self) -> &'static str {
        match self {
            FwdMethod::Masq => "-m",
            FwdMethod::Tunnel => "-i",
            FwdMethod::Local | FwdMethod::Route => "-g",
            FwdMethod::Other(_) => "(null)",
        }
    }
}

// ---------------------------------------------------------------------------
// Kernel objects
// ---------------------------------------------------------------------------

/// `IPVS_CMD_GET_INFO` result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Info {
    /// e.g. 0x010201 for 1.2.1
    pub version: u32,
    /// connection hash table size
    pub conn_tab_size: u32,
}

impl Default for Info {
    fn default() -> Self {
        Info {
            version: IP_VS_VERSION_CODE,
            conn_tab_size: 4096,
        }
    }
}

impl Info {
    /// (major, minor, patch) as ipvsadm's NVERSION macro splits it.
    pub fn version_triple(&self) -> (u32, u32, u32) {
        (
            (self.version >> 16) & 0xff,
            (self.version >> 8) & 0xff,
            self.version & 0xff,
        )
    }
}

/// Counters and rates.  ipvsadm 1.31 always prints the 64-bit set
/// (`stats64`); when the kernel only sends the 32-bit set, the netlink layer
/// should widen it into this struct (libipvs does the same).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Stats {
    pub conns: u64,
    pub inpkts: u64,
    pub outpkts: u64,
    pub inbytes: u64,
    pub outbytes: u64,
    pub cps: u64,
    pub inpps: u64,
    pub outpps: u64,
    pub inbps: u64,
    pub outbps: u64,
}

/// A virtual service, as listed by the kernel or as built by the parser for
/// add/edit/delete commands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    pub af: AddressFamily,
    /// Protocol; for fwmark services whatever the kernel reports (ipvsadm's
    /// parser sets TCP for `-f`).
    pub protocol: Protocol,
    /// Virtual address (unspecified for fwmark services).
    pub addr: IpAddr,
    /// Virtual port, host order.
    pub port: u16,
    /// Firewall mark, 0 when the service is addressed by addr/port.
    pub fwmark: u32,
    pub sched_name: String,
    /// IP_VS_SVC_F_* bits.
    pub flags: u32,
    /// Persistence timeout in seconds.
    pub timeout: u32,
    /// Persistence granularity.  For IPv4 the mask as a host-order u32
    /// whose bytes, most significant first, are the dotted quad
    /// (`u32::from(Ipv4Addr)`; default 0xffff_ffff).  For IPv6 the prefix
    /// length (default 128).  Note the kernel attribute
    /// IPVS_SVC_ATTR_NETMASK carries the IPv4 mask in network byte order.
    pub netmask: u32,
    /// Persistence engine name ("" when none).
    pub pe_name: String,
    /// Number of real servers (informational).
    pub num_dests: u32,
    pub stats: Stats,
}

impl Default for Service {
    fn default() -> Self {
        Service {
            af: AddressFamily::Inet,
            protocol: Protocol::Tcp,
            addr: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            port: 0,
            fwmark: 0,
            sched_name: String::new(),
            flags: 0,
            timeout: 0,
            netmask: 0xffff_ffff,
            pe_name: String::new(),
            num_dests: 0,
            stats: Stats::default(),
        }
    }
}

impl Service {
    pub fn is_persistent(&self) -> bool {
        self.flags & IP_VS_SVC_F_PERSISTENT != 0
    }
    pub fn is_one_packet(&self) -> bool {
        self.flags & IP_VS_SVC_F_ONEPACKET != 0
    }
    /// The IPv4 persistence mask as an address (meaningful for IPv4 only).
    pub fn netmask_v4(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.netmask)
    }
}

/// A real server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dest {
    pub af: AddressFamily,
    pub addr: IpAddr,
    /// Port, host order.
    pub port: u16,
    pub fwd_method: FwdMethod,
    pub weight: i32,
    pub u_threshold: u32,
    pub l_threshold: u32,
    pub active_conns: u32,
    pub inact_conns: u32,
    pub persist_conns: u32,
    /// IP_VS_CONN_F_TUNNEL_TYPE_* (meaningful for Tunnel only).
    pub tun_type: u8,
    /// Tunnel destination port, host order (GUE only).
    pub tun_port: u16,
    /// IP_VS_TUNNEL_ENCAP_FLAG_* value.
    pub tun_flags: u16,
    pub stats: Stats,
}

impl Default for Dest {
    fn default() -> Self {
        Dest {
            af: AddressFamily::Inet,
            addr: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            port: 0,
            fwd_method: FwdMethod::Route,
            weight: 1,
            u_threshold: 0,
            l_threshold: 0,
            active_conns: 0,
            inact_conns: 0,
            persist_conns: 0,
            tun_type: IP_VS_CONN_F_TUNNEL_TYPE_IPIP,
            tun_port: 0,
            tun_flags: IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM,
            stats: Stats::default(),
        }
    }
}

/// Connection timeouts (seconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Timeouts {
    pub tcp: u32,
    pub tcp_fin: u32,
    pub udp: u32,
}

/// Connection-sync daemon configuration or state.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Daemon {
    /// IP_VS_STATE_MASTER or IP_VS_STATE_BACKUP (0 = not running).
    pub state: u32,
    pub mcast_ifn: String,
    pub syncid: u32,
    /// 0 = not set.
    pub sync_maxlen: u16,
    /// Multicast group, None = not set (AF_UNSPEC).
    pub mcast_group: Option<IpAddr>,
    /// 0 = not set.
    pub mcast_port: u16,
    /// 0 = not set.
    pub mcast_ttl: u8,
    /// rvs extension: the daemon's counters, from the rvs-only attributes
    /// of GET_DAEMON replies (all `None` from a kernel that sends none).
    pub counters: SyncCounters,
}

/// The counters of a running sync daemon (rvs's GET_DAEMON attributes
/// `daemon_attr::DATAGRAMS` ..= `RESYNC_PENDING`).  Each is `None` when the
/// kernel did not send it; some apply to a master only, some to a backup
/// only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct SyncCounters {
    /// Datagrams sent (master) or received (backup).
    pub datagrams: Option<u64>,
    /// Entries sent (master) or received (backup).
    pub entries: Option<u64>,
    /// Master: entries dropped because the send queue was full.
    pub drop_queue_full: Option<u64>,
    /// Master: entries dropped because a send failed.
    pub drop_send_error: Option<u64>,
    /// Backup: malformed datagrams dropped.
    pub drop_bad_datagram: Option<u64>,
    /// Backup: invalid entries dropped.
    pub drop_bad_entry: Option<u64>,
    /// Backup: datagrams of another sync id dropped.
    pub drop_syncid: Option<u64>,
    /// Backup: entries the connection table had no room for.
    pub drop_no_room: Option<u64>,
    /// Backup: datagrams missing from an rvs master's sequence.
    pub lost_datagrams: Option<u64>,
    /// Last sequence number sent (master) or seen (backup).
    pub last_seq: Option<u32>,
    /// Full resyncs sent (master) or requested (backup).
    pub resyncs: Option<u64>,
    /// Master: entries still to send in the running full resync.
    pub resync_pending: Option<u32>,
}

impl SyncCounters {
    /// true when the kernel sent none of the counters.
    pub fn is_empty(&self) -> bool {
        *self == SyncCounters::default()
    }
}

/// One entry of the connection table (a line of /proc/net/ip_vs_conn).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conn {
    /// Protocol name exactly as in the table ("TCP", "UDP", "SCTP", "IP"...).
    pub protocol: String,
    pub caddr: IpAddr,
    pub cport: u16,
    pub vaddr: IpAddr,
    pub vport: u16,
    pub daddr: IpAddr,
    pub dport: u16,
    /// State name ("ESTABLISHED", "SYN_RECV", ...).
    pub state: String,
    pub expires_secs: u32,
    /// Persistence engine name and data, printed with --persistent-conn.
    pub pe_name: Option<String>,
    pub pe_data: Option<String>,
}

impl Conn {
    /// Protocol number as ipvsadm derives it from the name (for port-name
    /// look-ups).
    pub fn protocol_number(&self) -> Protocol {
        match self.protocol.as_str() {
            "TCP" => Protocol::Tcp,
            "UDP" => Protocol::Udp,
            "SCTP" => Protocol::Sctp,
            _ => Protocol::Other(0),
        }
    }
}

// ---------------------------------------------------------------------------
// libipvs error texts
// ---------------------------------------------------------------------------

/// The libipvs operation that failed; selects the message of
/// [`ipvs_strerror`] (libipvs keys its table on the last called function).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Init,
    GetInfo,
    Flush,
    AddService,
    UpdateService,
    DelService,
    ZeroService,
    AddDest,
    UpdateDest,
    DelDest,
    SetTimeout,
    StartDaemon,
    StopDaemon,
    /// rvs extension: `--resync-daemon`.
    ResyncDaemon,
    GetServices,
    GetService,
    GetDests,
    GetTimeout,
    GetDaemon,
}

pub const EPERM: i32 = 1;
pub const ENOENT: i32 = 2;
pub const ESRCH: i32 = 3;
pub const ENOMEM: i32 = 12;
pub const EEXIST: i32 = 17;
pub const EINVAL: i32 = 22;
pub const EMSGSIZE: i32 = 90;
pub const ENOPROTOOPT: i32 = 92;
pub const EOPNOTSUPP: i32 = 95;
pub const EAFNOSUPPORT: i32 = 97;

/// Message ipvsadm prints (followed by a newline) when a libipvs call fails
/// with `errno` (a positive errno value), e.g. "Service not defined".
pub fn ipvs_strerror(op: Op, errno: i32) -> String {
    use Op::*;
    let specific: &[(Op, i32, &str)] = &[
        (AddService, EEXIST, "Service already exists"),
        (
            AddService,
            ENOENT,
            "Scheduler or persistence engine not found",
        ),
        (UpdateService, ESRCH, "No such service"),
        (
            UpdateService,
            ENOENT,
            "Scheduler or persistence engine not found",
        ),
        (DelService, ESRCH, "No such service"),
        (ZeroService, ESRCH, "No such service"),
        (AddDest, ESRCH, "Service not defined"),
        (AddDest, EEXIST, "Destination already exists"),
        (UpdateDest, ESRCH, "Service not defined"),
        (UpdateDest, ENOENT, "No such destination"),
        (DelDest, ESRCH, "Service not defined"),
        (DelDest, ENOENT, "No such destination"),
        (StartDaemon, EEXIST, "Daemon has already run"),
        (StopDaemon, ESRCH, "No daemon is running"),
        // rvs extension: as `--stop-daemon`.
        (ResyncDaemon, ESRCH, "No daemon is running"),
        (GetServices, ESRCH, "No such service"),
        (GetDests, ESRCH, "No such service"),
        (GetService, ESRCH, "No such service"),
    ];
    for (o, e, m) in specific {
        if *o == op && *e == errno {
            return (*m).to_string();
        }
    }
    let generic: &[(i32, &str)] = &[
        (EPERM, "Permission denied (you must be root)"),
        (
            EINVAL,
            "Invalid operation.  Possibly wrong module version, address not unicast, ...",
        ),
        (ENOPROTOOPT, "Protocol not available"),
        (ENOMEM, "Memory allocation problem"),
        (EOPNOTSUPP, "Operation not supported with IPv6"),
        (
            EAFNOSUPPORT,
            "Operation not supported with specified address family",
        ),
        (EMSGSIZE, "Module is wrong version"),
    ];
    for (e, m) in generic {
        if *e == errno {
            return (*m).to_string();
        }
    }
    strerror(errno)
}

/// The C library's `strerror` text for `errno`.
pub fn strerror(errno: i32) -> String {
    let s = std::io::Error::from_raw_os_error(errno).to_string();
    // std formats "Message (os error N)".
    let suffix = format!(" (os error {})", errno);
    match s.strip_suffix(&suffix) {
        Some(m) => m.to_string(),
        None => s,
    }
}

// ---------------------------------------------------------------------------
// Sorting exactly like ipvsadm (libipvs comparators + glibc qsort)
// ---------------------------------------------------------------------------

/// Address words as libipvs compares them: IPv4 as one host-order word,
/// IPv6 as four.
fn addr_words(addr: &IpAddr) -> ([u32; 4], usize) {
    match addr {
        IpAddr::V4(a) => ([u32::from(*a), 0, 0, 0], 1),
        IpAddr::V6(a) => {
            let o = a.octets();
            let mut w = [0u32; 4];
            for (i, wi) in w.iter_mut().enumerate() {
                *wi = u32::from_be_bytes([o[4 * i], o[4 * i + 1], o[4 * i + 2], o[4 * i + 3]]);
            }
            (w, 4)
        }
    }
}

/// libipvs compares addresses by subtracting unsigned words and using the
/// result as a signed int, so addresses more than 2^31 apart compare
/// "backwards".  Reproduced on purpose.
fn cmp_addr(af: AddressFamily, a: &IpAddr, b: &IpAddr) -> i32 {
    let (wa, _) = addr_words(a);
    let (wb, _) = addr_words(b);
    if af == AddressFamily::Inet6 {
        let mut r = 0i32;
        let mut i = 0;
        while r == 0 && i < 4 {
            r = wa[i].wrapping_sub(wb[i]) as i32;
            i += 1;
        }
        r
    } else {
        wa[0].wrapping_sub(wb[0]) as i32
    }
}

/// `ipvs_cmp_services`.
pub fn cmp_services(s1: &Service, s2: &Service) -> i32 {
    let r = s1.fwmark.wrapping_sub(s2.fwmark) as i32;
    if r != 0 {
        return r;
    }
    let r = s1.af.raw() as i32 - s2.af.raw() as i32;
    if r != 0 {
        return r;
    }
    let r = s1.protocol.raw() as i32 - s2.protocol.raw() as i32;
    if r != 0 {
        return r;
    }
    let r = cmp_addr(s1.af, &s1.addr, &s2.addr);
    if r != 0 {
        return r;
    }
    s1.port as i32 - s2.port as i32
}

/// `ipvs_cmp_dests`.
pub fn cmp_dests(d1: &Dest, d2: &Dest) -> i32 {
    let r = cmp_addr(d1.af, &d1.addr, &d2.addr);
    if r != 0 {
        return r;
    }
    d1.port as i32 - d2.port as i32
}

/// glibc's `qsort` (a top-down stable merge sort; the element taken from the
/// left run when `cmp(left, right) <= 0`).  Because the libipvs comparators
/// are not transitive, the exact algorithm matters for the output order.
pub fn glibc_qsort<T: Clone>(v: &mut [T], cmp: &dyn Fn(&T, &T) -> i32) {
    let n = v.len();
    if n <= 1 {
        return;
    }
    let n1 = n / 2;
    {
        let (b1, b2) = v.split_at_mut(n1);
        glibc_qsort(b1, cmp);
        glibc_qsort(b2, cmp);
    }
    let mut tmp: Vec<T> = Vec::with_capacity(n);
    let (mut i, mut j) = (0usize, n1);
    while i < n1 && j < n {
        if cmp(&v[i], &v[j]) <= 0 {
            tmp.push(v[i].clone());
            i += 1;
        } else {
            tmp.push(v[j].clone());
            j += 1;
        }
    }
    while i < n1 {
        tmp.push(v[i].clone());
        i += 1;
    }
    // Remaining right-run elements are already in place.
    let k = tmp.len();
    v[..k].clone_from_slice(&tmp);
}

/// Sort services the way `ipvsadm -L` does (unless `--nosort`).
pub fn sort_services(v: &mut [Service]) {
    glibc_qsort(v, &|a, b| cmp_services(a, b));
}

/// Sort destinations the way `ipvsadm -L` does (unless `--nosort`).
pub fn sort_dests(v: &mut [Dest]) {
    glibc_qsort(v, &|a, b| cmp_dests(a, b));
}

// ---------------------------------------------------------------------------
// Name look-ups (what ipvsadm gets from gethostbyname/getservbyname & co.)
// ---------------------------------------------------------------------------

/// The name services ipvsadm uses: host and service (port) names in both
/// directions.  `SystemNames` is the real thing; tests use `StaticNames`.
pub trait NameService {
    /// `gethostbyname`: first IPv4 address of a host name.
    fn host_to_ipv4(&self, name: &str) -> Option<Ipv4Addr>;
    /// `getservbyname(name, proto)`.
    fn service_to_port(&self, name: &str, proto: Protocol) -> Option<u16>;
    /// `gethostbyaddr`: the host's official name.
    fn addr_to_host(&self, addr: &IpAddr) -> Option<String>;
    /// `getservbyport(port, proto)`.
    fn port_to_service(&self, port: u16, proto: Protocol) -> Option<String>;
}

/// Parsed `/etc/services`: (name, aliases, port, proto) in file order.
#[derive(Clone, Debug, Default)]
pub struct ServicesDb {
    entries: Vec<(Vec<String>, u16, String)>,
}

impl ServicesDb {
    pub fn parse(text: &str) -> ServicesDb {
        let mut entries = Vec::new();
        for line in text.lines() {
            let line = match line.find('#') {
                Some(i) => &line[..i],
                None => line,
            };
            let mut it = line.split_whitespace();
            let name = match it.next() {
                Some(n) => n,
                None => continue,
            };
            let pp = match it.next() {
                Some(p) => p,
                None => continue,
            };
            let (port, proto) = match pp.split_once('/') {
                Some((p, pr)) => (p, pr),
                None => continue,
            };
            let port: u16 = match port.parse() {
                Ok(p) => p,
                Err(_) => continue,
            };
            let mut names = vec![name.to_string()];
            names.extend(it.map(|s| s.to_string()));
            entries.push((names, port, proto.to_string()));
        }
        ServicesDb { entries }
    }
    /// Load /etc/services (empty when unreadable).
    pub fn load() -> ServicesDb {
        ServicesDb::parse(&std::fs::read_to_string("/etc/services").unwrap_or_default())
    }
    pub fn port_by_name(&self, name: &str, proto: &str) -> Option<u16> {
        self.entries
            .iter()
            .find(|(names, _, p)| p == proto && names.iter().any(|n| n == name))
            .map(|(_, port, _)| *port)
    }
    pub fn name_by_port(&self, port: u16, proto: &str) -> Option<String> {
        self.entries
            .iter()
            .find(|(_, pt, p)| *pt == port && p == proto)
            .map(|(names, _, _)| names[0].clone())
    }
}

/// Parsed `/etc/hosts`: (address, names) in file order.
#[derive(Clone, Debug, Default)]
pub struct HostsDb {
    entries: Vec<(IpAddr, Vec<String>)>,
}

impl HostsDb {
    pub fn parse(text: &str) -> HostsDb {
        let mut entries = Vec::new();
        for line in text.lines() {
            let line = match line.find('#') {
                Some(i) => &line[..i],
                None => line,
            };
            let mut it = line.split_whitespace();
            let addr = match it.next().and_then(|a| a.parse::<IpAddr>().ok()) {
                Some(a) => a,
                None => continue,
            };
            let names: Vec<String> = it.map(|s| s.to_string()).collect();
            if names.is_empty() {
                continue;
            }
            entries.push((addr, names));
        }
        HostsDb { entries }
    }
    pub fn load() -> HostsDb {
        HostsDb::parse(&std::fs::read_to_string("/etc/hosts").unwrap_or_default())
    }
    pub fn name_by_addr(&self, addr: &IpAddr) -> Option<String> {
        self.entries
            .iter()
            .find(|(a, _)| a == addr)
            .map(|(_, n)| n[0].clone())
    }
    pub fn addr_by_name(&self, name: &str) -> Option<Ipv4Addr> {
        self.entries.iter().find_map(|(a, names)| match a {
            IpAddr::V4(v4) if names.iter().any(|n| n == name) => Some(*v4),
            _ => None,
        })
    }
}

/// Name service backed by /etc/services, /etc/hosts and (for forward host
/// look-ups) the system resolver via `std::net::ToSocketAddrs`.
/// Reverse host look-ups only consult /etc/hosts (std has no PTR API); an
/// address not found there is printed numerically, as ipvsadm does when
/// gethostbyaddr fails.
#[derive(Clone, Debug, Default)]
pub struct SystemNames {
    pub services: ServicesDb,
    pub hosts: HostsDb,
    /// Use the system resolver for forward look-ups not in /etc/hosts.
    pub use_resolver: bool,
}

impl SystemNames {
    pub fn load() -> SystemNames {
        SystemNames {
            services: ServicesDb::load(),
            hosts: HostsDb::load(),
            use_resolver: true,
        }
    }
}

impl NameService for SystemNames {
    fn host_to_ipv4(&self, name: &str) -> Option<Ipv4Addr> {
        if name.is_empty() {
            return None;
        }
        if let Some(a) = self.hosts.addr_by_name(name) {
            return Some(a);
        }
        if !self.use_resolver {
            return None;
        }
        use std::net::ToSocketAddrs;
        let addrs = (name, 0u16).to_socket_addrs().ok()?;
        for a in addrs {
            if let std::net::SocketAddr::V4(v4) = a {
                return Some(*v4.ip());
            }
        }
        None
    }
    fn service_to_port(&self, name: &str, proto: Protocol) -> Option<u16> {
        self.services.port_by_name(name, proto.services_name()?)
    }
    fn addr_to_host(&self, addr: &IpAddr) -> Option<String> {
        self.hosts.name_by_addr(addr)
    }
    fn port_to_service(&self, port: u16, proto: Protocol) -> Option<String> {
        self.services.name_by_port(port, proto.services_name()?)
    }
}

/// A fixed, in-memory name service (for tests and for fully numeric use).
#[derive(Clone, Debug, Default)]
pub struct StaticNames {
    pub services: ServicesDb,
    pub hosts: HostsDb,
    /// Extra forward host entries.
    pub forward: HashMap<String, Ipv4Addr>,
}

impl StaticNames {
    /// No names at all: everything stays numeric and only numeric input
    /// parses.
    pub fn empty() -> StaticNames {
        StaticNames::default()
    }
    pub fn new(services_text: &str, hosts_text: &str) -> StaticNames {
        StaticNames {
            services: ServicesDb::parse(services_text),
            hosts: HostsDb::parse(hosts_text),
            forward: HashMap::new(),
        }
    }
}

impl NameService for StaticNames {
    fn host_to_ipv4(&self, name: &str) -> Option<Ipv4Addr> {
        self.forward
            .get(name)
            .copied()
            .or_else(|| self.hosts.addr_by_name(name))
    }
    fn service_to_port(&self, name: &str, proto: Protocol) -> Option<u16> {
        self.services.port_by_name(name, proto.services_name()?)
    }
    fn addr_to_host(&self, addr: &IpAddr) -> Option<String> {
        self.hosts.name_by_addr(addr)
    }
    fn port_to_service(&self, port: u16, proto: Protocol) -> Option<String> {
        self.services.name_by_port(port, proto.services_name()?)
    }
}

// ---------------------------------------------------------------------------
// C-compatible address text conversions
// ---------------------------------------------------------------------------

/// glibc `inet_aton`: accepts 1-4 parts, each decimal, octal (leading 0) or
/// hex (0x); trailing text is allowed after a whitespace character.
pub fn inet_aton(s: &str) -> Option<Ipv4Addr> {
    let b = s.as_bytes();
    let mut pos = 0usize;
    let mut parts: Vec<u32> = Vec::new();
    let val: u64;
    loop {
        if pos >= b.len() || !b[pos].is_ascii_digit() {
            return None;
        }
        // strtoul(cp, &end, 0)
        let (v, consumed) = strtoul_base0(&b[pos..])?;
        pos += consumed;
        let c = b.get(pos).copied();
        if c == Some(b'.') {
            if parts.len() > 2 || v > 0xff {
                return None;
            }
            parts.push(v as u32);
            pos += 1;
        } else {
            val = v;
            break;
        }
    }
    if let Some(&c) = b.get(pos) {
        if !(c == b' ' || (b'\t'..=b'\r').contains(&c)) {
            return None;
        }
    }
    let max: [u64; 4] = [0xffff_ffff, 0xff_ffff, 0xffff, 0xff];
    if val > max[parts.len()] {
        return None;
    }
    let mut word: u32 = 0;
    for (i, p) in parts.iter().enumerate() {
        word |= p << (24 - 8 * i);
    }
    word |= val as u32;
    Some(Ipv4Addr::from(word))
}

/// `strtoul(s, &end, 0)` on a string starting with a digit.  Returns the
/// value (None on overflow beyond u32 range) and the bytes consumed.
fn strtoul_base0(b: &[u8]) -> Option<(u64, usize)> {
    let (base, start) = if b.len() >= 2 && b[0] == b'0' && (b[1] == b'x' || b[1] == b'X') {
        if b.len() >= 3 && b[2].is_ascii_hexdigit() {
            (16u64, 2usize)
        } else {
            // "0x" without hex digits: strtoul parses just the "0".
            return Some((0, 1));
        }
    } else if b[0] == b'0' {
        (8, 0)
    } else {
        (10, 0)
    };
    let mut v: u64 = 0;
    let mut i = start;
    let mut overflow = false;
    while i < b.len() {
        let d = match (b[i] as char).to_digit(base as u32) {
            Some(d) => d as u64,
            None => break,
        };
        v = v.saturating_mul(base).saturating_add(d);
        if v > 0xffff_ffff {
            overflow = true;
        }
        i += 1;
    }
    if overflow {
        return None;
    }
    Some((v, i))
}

/// glibc `inet_pton(AF_INET, ...)`: strict dotted quad, no leading zeros.
pub fn inet_pton4(s: &str) -> Option<Ipv4Addr> {
    let b = s.as_bytes();
    let mut out = [0u8; 4];
    let mut octets = 0usize;
    let mut saw_digit = false;
    let mut cur: u32 = 0;
    for &ch in b {
        if ch.is_ascii_digit() {
            let new = cur * 10 + (ch - b'0') as u32;
            if saw_digit && cur == 0 {
                return None;
            }
            if new > 255 {
                return None;
            }
            cur = new;
            if !saw_digit {
                octets += 1;
                if octets > 4 {
                    return None;
                }
                saw_digit = true;
            }
            out[octets - 1] = cur as u8;
        } else if ch == b'.' && saw_digit {
            if octets == 4 {
                return None;
            }
            cur = 0;
            saw_digit = false;
        } else {
            return None;
        }
    }
    if octets < 4 {
        return None;
    }
    Some(Ipv4Addr::from(out))
}

/// glibc `inet_pton(AF_INET6, ...)`.
pub fn inet_pton6(s: &str) -> Option<Ipv6Addr> {
    let b = s.as_bytes();
    let mut tmp = [0u8; 16];
    let mut tp = 0usize;
    let mut colonp: Option<usize> = None;
    if b.is_empty() {
        return None;
    }
    let mut i = 0usize;
    if b[0] == b':' {
        i = 1;
        if i >= b.len() || b[i] != b':' {
            return None;
        }
    }
    let mut curtok = i;
    let mut xdigits_seen = 0usize;
    let mut val: u32 = 0;
    let mut done_v4 = false;
    while i < b.len() {
        let ch = b[i];
        i += 1;
        if let Some(d) = (ch as char).to_digit(16) {
            if xdigits_seen == 4 {
                return None;
            }
            val = (val << 4) | d;
            if val > 0xffff {
                return None;
            }
            xdigits_seen += 1;
            continue;
        }
        if ch == b':' {
            curtok = i;
            if xdigits_seen == 0 {
                if colonp.is_some() {
                    return None;
                }
                colonp = Some(tp);
                continue;
            } else if i == b.len() {
                return None;
            }
            if tp + 2 > 16 {
                return None;
            }
            tmp[tp] = (val >> 8) as u8;
            tmp[tp + 1] = val as u8;
            tp += 2;
            xdigits_seen = 0;
            val = 0;
            continue;
        }
        if ch == b'.' && tp + 4 <= 16 {
            if let Some(v4) = std::str::from_utf8(&b[curtok..]).ok().and_then(inet_pton4) {
                tmp[tp..tp + 4].copy_from_slice(&v4.octets());
                tp += 4;
                xdigits_seen = 0;
                done_v4 = true;
                break;
            }
        }
        return None;
    }
    if !done_v4 && xdigits_seen > 0 {
        if tp + 2 > 16 {
            return None;
        }
        tmp[tp] = (val >> 8) as u8;
        tmp[tp + 1] = val as u8;
        tp += 2;
    }
    if let Some(cp) = colonp {
        if tp == 16 {
            return None;
        }
        let n = tp - cp;
        let mut out = [0u8; 16];
        out[..cp].copy_from_slice(&tmp[..cp]);
        out[16 - n..].copy_from_slice(&tmp[cp..tp]);
        tmp = out;
        tp = 16;
    }
    if tp != 16 {
        return None;
    }
    Some(Ipv6Addr::from(tmp))
}

/// glibc `inet_ntop(AF_INET6, ...)` text (differs from Rust's Display for
/// IPv4-compatible addresses such as `::1.2.3.4`).
pub fn inet_ntop6(a: &Ipv6Addr) -> String {
    let words = a.segments();
    // Find the longest run of zero words (length >= 2, leftmost on ties).
    let (mut best_base, mut best_len) = (usize::MAX, 0usize);
    let (mut cur_base, mut cur_len) = (usize::MAX, 0usize);
    for (i, w) in words.iter().enumerate() {
        if *w == 0 {
            if cur_base == usize::MAX {
                cur_base = i;
                cur_len = 1;
            } else {
                cur_len += 1;
            }
        } else if cur_base != usize::MAX {
            if best_base == usize::MAX || cur_len > best_len {
                best_base = cur_base;
                best_len = cur_len;
            }
            cur_base = usize::MAX;
        }
    }
    if cur_base != usize::MAX && (best_base == usize::MAX || cur_len > best_len) {
        best_base = cur_base;
        best_len = cur_len;
    }
    if best_base != usize::MAX && best_len < 2 {
        best_base = usize::MAX;
    }
    let mut out = String::new();
    let mut i = 0usize;
    while i < 8 {
        if best_base != usize::MAX && i >= best_base && i < best_base + best_len {
            if i == best_base {
                out.push(':');
            }
            i += 1;
            continue;
        }
        if i != 0 {
            out.push(':');
        }
        if i == 6 && best_base == 0 && (best_len == 6 || (best_len == 5 && words[5] == 0xffff)) {
            let o = a.octets();
            out.push_str(&format!("{}.{}.{}.{}", o[12], o[13], o[14], o[15]));
            break;
        }
        out.push_str(&format!("{:x}", words[i]));
        i += 1;
    }
    if best_base != usize::MAX && best_base + best_len == 8 {
        out.push(':');
    }
    out
}

/// `inet_ntop` for either family.
pub fn inet_ntop(addr: &IpAddr) -> String {
    match addr {
        IpAddr::V4(a) => a.to_string(),
        IpAddr::V6(a) => inet_ntop6(a),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inet_aton_forms() {
        assert_eq!(inet_aton("1.2.3.4"), Some(Ipv4Addr::new(1, 2, 3, 4)));
        assert_eq!(inet_aton("010.0.0.1"), Some(Ipv4Addr::new(8, 0, 0, 1)));
        assert_eq!(inet_aton("0x7f.1"), Some(Ipv4Addr::new(127, 0, 0, 1)));
        assert_eq!(inet_aton("10.1"), Some(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(inet_aton("1.2.3"), Some(Ipv4Addr::new(1, 2, 0, 3)));
        assert_eq!(inet_aton("64"), Some(Ipv4Addr::new(0, 0, 0, 64)));
        assert_eq!(
            inet_aton("4294967295"),
            Some(Ipv4Addr::new(255, 255, 255, 255))
        );
        assert_eq!(inet_aton("4294967296"), None);
        assert_eq!(inet_aton("1.2.3.4 junk"), Some(Ipv4Addr::new(1, 2, 3, 4)));
        assert_eq!(inet_aton("1.2.3.4x"), None);
        assert_eq!(inet_aton("08"), None);
        assert_eq!(inet_aton("0x"), None);
        assert_eq!(inet_aton("1.2.3.256"), None);
        assert_eq!(inet_aton("256.1"), None);
        assert_eq!(inet_aton("1.2.3.4.5"), None);
        assert_eq!(inet_aton(""), None);
        assert_eq!(inet_aton("a.b"), None);
        assert_eq!(inet_aton("1..2"), None);
    }

    #[test]
    fn inet_pton_forms() {
        assert_eq!(inet_pton4("1.2.3.4"), Some(Ipv4Addr::new(1, 2, 3, 4)));
        assert_eq!(inet_pton4("01.2.3.4"), None);
        assert_eq!(inet_pton4("1.2.3"), None);
        assert_eq!(inet_pton4("0.0.0.0"), Some(Ipv4Addr::UNSPECIFIED));
        assert_eq!(inet_pton6("::1"), Some(Ipv6Addr::LOCALHOST));
        assert_eq!(
            inet_pton6("fe80::1:80"),
            Some("fe80::1:80".parse().unwrap())
        );
        assert_eq!(
            inet_pton6("::ffff:1.2.3.4"),
            Some("::ffff:1.2.3.4".parse().unwrap())
        );
        assert_eq!(
            inet_pton6("1::2:3:4:5:6:7"),
            Some("1:0:2:3:4:5:6:7".parse().unwrap())
        );
        assert_eq!(inet_pton6("1:2:3:4:5:6:7::8"), None);
        assert_eq!(inet_pton6(":1"), None);
        assert_eq!(inet_pton6("1:"), None);
        assert_eq!(inet_pton6("12345::"), None);
        assert_eq!(inet_pton6("::"), Some(Ipv6Addr::UNSPECIFIED));
        assert_eq!(inet_pton6("1.2.3.4"), None);
        assert_eq!(inet_pton6(""), None);
        assert_eq!(
            inet_pton6("2001:0db8:0000:0000:0000:0000:0000:0001"),
            Some("2001:db8::1".parse().unwrap())
        );
    }

    #[test]
    fn inet_ntop6_like_glibc() {
        let t = |s: &str| inet_ntop6(&s.parse().unwrap());
        assert_eq!(t("::"), "::");
        assert_eq!(t("::1"), "::1");
        assert_eq!(t("2001:db8::1"), "2001:db8::1");
        assert_eq!(t("::ffff:1.2.3.4"), "::ffff:1.2.3.4");
        assert_eq!(t("::1.2.3.4"), "::1.2.3.4");
        assert_eq!(t("1:0:0:2:0:0:0:3"), "1:0:0:2::3");
        assert_eq!(t("1:0:0:2:0:0:3:4"), "1::2:0:0:3:4");
        assert_eq!(t("1:2:3:4:5:6:7:0"), "1:2:3:4:5:6:7:0");
        assert_eq!(t("1:2:3:4:5:6:0:0"), "1:2:3:4:5:6::");
        assert_eq!(t("fe80::"), "fe80::");
    }

    #[test]
    fn strerror_texts() {
        assert_eq!(ipvs_strerror(Op::AddDest, ESRCH), "Service not defined");
        assert_eq!(ipvs_strerror(Op::DelService, ESRCH), "No such service");
        assert_eq!(
            ipvs_strerror(Op::AddService, EEXIST),
            "Service already exists"
        );
        assert_eq!(
            ipvs_strerror(Op::AddDest, ENOMEM),
            "Memory allocation problem"
        );
        assert_eq!(
            ipvs_strerror(Op::Flush, EPERM),
            "Permission denied (you must be root)"
        );
        assert_eq!(ipvs_strerror(Op::Flush, ESRCH), "No such process");
        assert_eq!(ipvs_strerror(Op::UpdateDest, ENOENT), "No such destination");
        assert_eq!(
            ipvs_strerror(Op::Flush, ENOENT),
            "No such file or directory"
        );
        assert_eq!(
            ipvs_strerror(Op::AddService, EAFNOSUPPORT),
            "Operation not supported with specified address family"
        );
    }

    #[test]
    fn strerror_daemon_texts() {
        // libipvs keys these two on ipvs_start_daemon / ipvs_stop_daemon;
        // rvs's --resync-daemon says what --stop-daemon says.
        assert_eq!(
            ipvs_strerror(Op::StartDaemon, EEXIST),
            "Daemon has already run"
        );
        assert_eq!(ipvs_strerror(Op::StopDaemon, ESRCH), "No daemon is running");
        assert_eq!(
            ipvs_strerror(Op::ResyncDaemon, ESRCH),
            "No daemon is running"
        );
        // Everything else is libipvs's generic table or strerror().
        assert_eq!(ipvs_strerror(Op::StartDaemon, ESRCH), "No such process");
        assert_eq!(ipvs_strerror(Op::StopDaemon, EEXIST), "File exists");
        assert_eq!(ipvs_strerror(Op::ResyncDaemon, EEXIST), "File exists");
        assert_eq!(
            ipvs_strerror(Op::StartDaemon, 19 /* ENODEV */),
            "No such device"
        );
        for op in [Op::StartDaemon, Op::StopDaemon, Op::ResyncDaemon] {
            assert_eq!(
                ipvs_strerror(op, EINVAL),
                "Invalid operation.  Possibly wrong module version, address not unicast, ..."
            );
            assert_eq!(
                ipvs_strerror(op, EPERM),
                "Permission denied (you must be root)"
            );
            assert_eq!(ipvs_strerror(op, ENOMEM), "Memory allocation problem");
            assert_eq!(
                ipvs_strerror(op, EOPNOTSUPP),
                "Operation not supported with IPv6"
            );
        }
    }

    #[test]
    fn sync_counters_empty() {
        assert!(SyncCounters::default().is_empty());
        let c = SyncCounters {
            last_seq: Some(0),
            ..SyncCounters::default()
        };
        assert!(!c.is_empty());
    }

    #[test]
    fn services_db() {
        let db = ServicesDb::parse(
            "# c\nhttp\t\t80/tcp\t\twww\t\t# WorldWideWeb HTTP\ndomain 53/tcp\ndomain 53/udp\nhttp-alt 8080/tcp webcache\n",
        );
        assert_eq!(db.port_by_name("http", "tcp"), Some(80));
        assert_eq!(db.port_by_name("www", "tcp"), Some(80));
        assert_eq!(db.port_by_name("http", "udp"), None);
        assert_eq!(db.name_by_port(53, "udp"), Some("domain".to_string()));
        assert_eq!(db.name_by_port(8080, "tcp"), Some("http-alt".to_string()));
        assert_eq!(db.name_by_port(80, "sctp"), None);
    }

    #[test]
    fn merge_sort_matches_glibc_on_cyclic_comparator() {
        // Three IPv4 addresses forming a cycle under libipvs' comparator.
        let mk = |a: [u8; 4]| Dest {
            addr: IpAddr::V4(Ipv4Addr::from(a)),
            ..Dest::default()
        };
        let a = mk([0, 0, 0, 1]);
        let b = mk([96, 0, 0, 1]);
        let c = mk([192, 0, 0, 1]);
        assert!(cmp_dests(&a, &b) < 0);
        assert!(cmp_dests(&b, &c) < 0);
        assert!(cmp_dests(&c, &a) < 0);
        let mut v = vec![c.clone(), b.clone(), a.clone()];
        sort_dests(&mut v);
        // msort: [c] + merge([b],[a]) = [a? ...] computed by hand:
        // right half [b, a] -> cmp(b,a) > 0 -> [a, b]; merge [c] with [a, b]:
        // cmp(c,a) < 0 -> c first, then a, b.
        assert_eq!(v, vec![c, a, b]);
    }
}
