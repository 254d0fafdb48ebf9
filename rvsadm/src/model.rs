//! What ipvsadm's listings and commands are about: services, real
//! servers, timeouts, sync daemons and connections, as plain data shared
//! by the command-line parser, the output formatters and the netlink
//! layer.
//!
//! The types mirror what ipvsadm 1.31 / libipvs keep in their C structs
//! (`ipvs_service_entry_t`, `ipvs_dest_entry_t`, `ipvs_timeout_t`,
//! `ipvs_daemon_t`, `struct ip_vs_getinfo`) and the connection table's
//! entries.  They carry host-order values; byte-order conversions belong
//! to the netlink layer.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

// The numbers shared with the module are defined once, in rvs-core; the
// names here are ipvsadm's (linux/ip_vs.h).
use rvs_core::abi::{fwd, svc_flags};
use rvs_core::ctl as kctl;

// ---------------------------------------------------------------------------
// Constants (values as in linux/ip_vs.h and ipvsadm 1.31)
// ---------------------------------------------------------------------------

/// Address family numbers as used by the kernel.
pub const AF_INET: u16 = kctl::AF_INET;
pub const AF_INET6: u16 = kctl::AF_INET6;

/// IP protocol numbers.
pub const IPPROTO_IP: u16 = 0;
pub const IPPROTO_TCP: u16 = kctl::IPPROTO_TCP;
pub const IPPROTO_UDP: u16 = kctl::IPPROTO_UDP;
pub const IPPROTO_SCTP: u16 = kctl::IPPROTO_SCTP;

/// Virtual service flags.
pub const IP_VS_SVC_F_PERSISTENT: u32 = svc_flags::PERSISTENT;
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
pub const IP_VS_CONN_F_TUNNEL_TYPE_IPIP: u8 = rvs_core::abi::tun_type::IPIP;
pub const IP_VS_CONN_F_TUNNEL_TYPE_GUE: u8 = rvs_core::abi::tun_type::GUE;
pub const IP_VS_CONN_F_TUNNEL_TYPE_GRE: u8 = rvs_core::abi::tun_type::GRE;

/// Tunnel encapsulation flags (`IPVS_DEST_ATTR_TUN_FLAGS`).
pub const IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM: u16 = rvs_core::abi::tun_flags::NOCSUM;
pub const IP_VS_TUNNEL_ENCAP_FLAG_CSUM: u16 = rvs_core::abi::tun_flags::CSUM;
pub const IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM: u16 = rvs_core::abi::tun_flags::REMCSUM;

/// Sync daemon states.
pub const IP_VS_STATE_MASTER: u32 = rvs_core::abi::daemon_state::MASTER;
pub const IP_VS_STATE_BACKUP: u32 = rvs_core::abi::daemon_state::BACKUP;

/// Name length limits (the C buffers include the terminating NUL).
pub const IP_VS_SCHEDNAME_MAXLEN: usize = rvs_core::abi::SCHED_NAME_MAXLEN;
pub const IP_VS_PENAME_MAXLEN: usize = 16;
pub const IP_VS_IFNAME_MAXLEN: usize = 16;

/// Version code ipvsadm 1.31 was compiled with (1.2.1).
pub const IP_VS_VERSION_CODE: u32 = rvs_core::abi::IPVS_VERSION_CODE;

/// Default persistence timeout used by `-p` without a value
/// (libipvs `IPVS_SVC_PERSISTENT_TIMEOUT`, 6 minutes).
pub const IPVS_SVC_PERSISTENT_TIMEOUT: u32 = 6 * 60;
/// Maximum timeout accepted by `-p` and `--set` (31 days).
pub const MAX_TIMEOUT: u32 = 86400 * 31;
/// Default scheduler.
pub const DEF_SCHED: &str = "wlc";
/// Default multicast interface for `--start-daemon`.
pub const DEF_MCAST_IFN: &str = "eth0";

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

/// One entry of the connection table (a line of ipvsadm's `-c`).
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_counters_empty() {
        assert!(SyncCounters::default().is_empty());
        let c = SyncCounters {
            last_seq: Some(0),
            ..SyncCounters::default()
        };
        assert!(!c.is_empty());
    }
}
