// SPDX-License-Identifier: GPL-2.0

//! Parsing and validation of control-plane requests, with IPVS's rules.
//!
//! The kernel handlers call these on the attribute payloads of a request
//! before changing anything, so every bad input is refused with an errno
//! and an extack message, and a refused command changes nothing.

use super::abi::{dest_attr, fwd, svc_attr, svc_flags};
use super::nla;
use super::sched::SchedKind;
use super::tunnel::{TunnelConf, TunnelError};

/// Address families.
pub const AF_INET: u16 = 2;
pub const AF_INET6: u16 = 10;
/// IP protocols a virtual service can have (the attribute is 16 bits wide).
pub const IPPROTO_TCP: u16 = super::packet::IPPROTO_TCP as u16;
pub const IPPROTO_UDP: u16 = super::packet::IPPROTO_UDP as u16;
pub const IPPROTO_SCTP: u16 = super::packet::IPPROTO_SCTP as u16;
/// The protocol a firewall-mark service's key carries, as IPVS's: the
/// mark alone selects the service, whatever the packet's protocol.
pub const FWMARK_PROTOCOL: u16 = IPPROTO_TCP;

/// Kernel errno values used by the control plane.
pub mod errno {
    pub const ENOENT: i32 = 2;
    pub const ESRCH: i32 = 3;
    pub const ENOMEM: i32 = 12;
    pub const EEXIST: i32 = 17;
    pub const EINVAL: i32 = 22;
    pub const ERANGE: i32 = 34;
    pub const EPROTONOSUPPORT: i32 = 93;
    pub const EAFNOSUPPORT: i32 = 97;
    pub const EBUSY: i32 = 16;
    pub const ENODEV: i32 = 19;
}

/// A refused request: errno and a message for extack. Messages are
/// NUL-terminated because the kernel hands them to netlink as C strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CtlError {
    pub errno: i32,
    pub msg: &'static str,
}

impl CtlError {
    /// The message without its terminating NUL.
    pub fn text(&self) -> &'static str {
        self.msg.trim_end_matches('\0')
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

/// An address as IPVS keeps it: 16 bytes, IPv4 in the first four.
pub type Addr = [u8; 16];

/// What identifies a virtual service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServiceKey {
    pub af: u16,
    /// TCP for firewall-mark services, as IPVS stores them.
    pub protocol: u16,
    pub addr: Addr,
    /// Host order.
    pub port: u16,
    /// Non-zero for a firewall-mark service; then addr and port are zero.
    pub fwmark: u32,
}

/// The settings of a service that NEW_SERVICE and SET_SERVICE carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceConf {
    pub sched: SchedKind,
    /// The new flags are `(old & !mask) | (flags & mask)`.
    pub flags: u32,
    pub flags_mask: u32,
    /// Persistence timeout, seconds.
    pub timeout: u32,
    /// IPv4: a netmask in network order as a u32 read from the wire;
    /// IPv6: a prefix length.
    pub netmask: u32,
}

impl ServiceConf {
    /// The flags of a service after applying this change to `old`.
    pub fn apply_flags(&self, old: u32) -> u32 {
        // HASHED is the kernel's own bookkeeping, never the user's.
        ((old & !self.flags_mask) | (self.flags & self.flags_mask)) & !svc_flags::HASHED
    }
}

/// A parsed SERVICE attribute set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceSpec {
    pub key: ServiceKey,
    /// Present when the request was parsed as a full entry.
    pub conf: Option<ServiceConf>,
}

fn addr_from(p: &[u8], af: u16) -> Result<Addr, CtlError> {
    let need = if af == AF_INET { 4 } else { 16 };
    if p.len() < need {
        return Err(err!(EINVAL, "address attribute too short for its family"));
    }
    let mut a = [0u8; 16];
    a[..need].copy_from_slice(&p[..need]);
    Ok(a)
}

/// Parses a SERVICE attribute set. `full` asks for the settings too
/// (NEW_SERVICE, SET_SERVICE), otherwise only what identifies the service.
pub fn parse_service(buf: Option<&[u8]>, full: bool) -> Result<ServiceSpec, CtlError> {
    let buf = buf.ok_or(err!(EINVAL, "missing service attribute"))?;
    let t = nla::parse::<{ svc_attr::MAX as usize + 1 }>(buf)
        .map_err(|_| err!(EINVAL, "malformed service attributes"))?;
    let af = t[svc_attr::AF as usize]
        .and_then(nla::get_u16)
        .ok_or(err!(EINVAL, "service address family missing"))?;
    if af != AF_INET && af != AF_INET6 {
        return Err(err!(EAFNOSUPPORT, "service address family not supported"));
    }
    let key = if let Some(p) = t[svc_attr::FWMARK as usize] {
        let fwmark = nla::get_u32(p).ok_or(err!(EINVAL, "bad firewall mark"))?;
        if fwmark == 0 {
            return Err(err!(EINVAL, "firewall mark must not be zero"));
        }
        ServiceKey {
            af,
            protocol: FWMARK_PROTOCOL,
            addr: [0; 16],
            port: 0,
            fwmark,
        }
    } else {
        let (Some(proto), Some(addr), Some(port)) = (
            t[svc_attr::PROTOCOL as usize],
            t[svc_attr::ADDR as usize],
            t[svc_attr::PORT as usize],
        ) else {
            return Err(err!(
                EINVAL,
                "service needs protocol, address and port, or a firewall mark"
            ));
        };
        let protocol = nla::get_u16(proto).ok_or(err!(EINVAL, "bad service protocol"))?;
        if !matches!(protocol, IPPROTO_TCP | IPPROTO_UDP | IPPROTO_SCTP) {
            return Err(err!(
                EPROTONOSUPPORT,
                "service protocol must be TCP, UDP or SCTP"
            ));
        }
        ServiceKey {
            af,
            protocol,
            addr: addr_from(addr, af)?,
            port: nla::get_be16(port).ok_or(err!(EINVAL, "bad service port"))?,
            fwmark: 0,
        }
    };
    if !full {
        return Ok(ServiceSpec { key, conf: None });
    }
    let (Some(sched), Some(flags), Some(timeout), Some(netmask)) = (
        t[svc_attr::SCHED_NAME as usize],
        t[svc_attr::FLAGS as usize],
        t[svc_attr::TIMEOUT as usize],
        t[svc_attr::NETMASK as usize],
    ) else {
        return Err(err!(
            EINVAL,
            "service needs scheduler, flags, timeout and netmask"
        ));
    };
    let sched_name = nla::get_str(sched).ok_or(err!(EINVAL, "bad scheduler name"))?;
    let sched = SchedKind::from_name(sched_name).ok_or(err!(ENOENT, "scheduler not found"))?;
    if flags.len() != 8 {
        return Err(err!(EINVAL, "bad service flags"));
    }
    let f = nla::get_u32(&flags[..4]).unwrap_or(0);
    let mask = nla::get_u32(&flags[4..]).unwrap_or(0);
    if let Some(pe) = t[svc_attr::PE_NAME as usize] {
        if nla::get_str(pe).is_some_and(|s| !s.is_empty()) {
            return Err(err!(ENOENT, "persistence engine not supported"));
        }
    }
    let timeout = nla::get_u32(timeout).ok_or(err!(EINVAL, "bad persistence timeout"))?;
    let netmask = nla::get_u32(netmask).ok_or(err!(EINVAL, "bad netmask"))?;
    if af == AF_INET6 {
        if !(1..=128).contains(&netmask) {
            return Err(err!(
                EINVAL,
                "IPv6 persistence prefix length must be 1..128"
            ));
        }
    } else if !is_contiguous_netmask(u32::from_be(netmask)) {
        return Err(err!(EINVAL, "persistence netmask is not contiguous"));
    }
    Ok(ServiceSpec {
        key,
        conf: Some(ServiceConf {
            sched,
            flags: f,
            flags_mask: mask,
            timeout,
            netmask,
        }),
    })
}

/// Whether `m` (host order) is a run of ones followed by zeros.
pub fn is_contiguous_netmask(m: u32) -> bool {
    m.leading_ones() + m.trailing_zeros() == 32
}

/// Whether IPVS takes an IPv6 real server address as unicast by its form
/// alone: not unspecified, not multicast, not link-local. (A local
/// address is accepted even if this says no.)
pub fn ipv6_is_unicast(a: &Addr) -> bool {
    let unspecified = a.iter().all(|&b| b == 0);
    let multicast = a[0] == 0xff;
    let link_local = a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
    !(unspecified || multicast || link_local)
}

/// What identifies a real server within a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DestKey {
    pub af: u16,
    pub addr: Addr,
    /// Host order.
    pub port: u16,
}

/// The settings of a real server that NEW_DEST and SET_DEST carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DestConf {
    /// One of [`fwd`].
    pub fwd: u32,
    pub weight: i32,
    pub u_threshold: u32,
    pub l_threshold: u32,
    pub tunnel: TunnelConf,
}

/// A parsed DEST attribute set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DestSpec {
    pub key: DestKey,
    pub conf: Option<DestConf>,
}

/// Largest weight: IPVS takes any non-negative int (upstream ipvsadm
/// stops at 65535, Debian's at INT_MAX).
pub const MAX_WEIGHT: i32 = i32::MAX;

/// Parses a DEST attribute set for a service of family `svc_af`. `full`
/// asks for the settings too (NEW_DEST, SET_DEST).
pub fn parse_dest(buf: Option<&[u8]>, svc_af: u16, full: bool) -> Result<DestSpec, CtlError> {
    let buf = buf.ok_or(err!(EINVAL, "missing real server attribute"))?;
    let t = nla::parse::<{ dest_attr::MAX as usize + 1 }>(buf)
        .map_err(|_| err!(EINVAL, "malformed real server attributes"))?;
    let (Some(addr), Some(port)) = (t[dest_attr::ADDR as usize], t[dest_attr::PORT as usize])
    else {
        return Err(err!(EINVAL, "real server needs address and port"));
    };
    let af = match t[dest_attr::ADDR_FAMILY as usize] {
        Some(p) => nla::get_u16(p).ok_or(err!(EINVAL, "bad real server address family"))?,
        None => svc_af,
    };
    let af = if af == 0 { svc_af } else { af };
    if af != AF_INET && af != AF_INET6 {
        return Err(err!(
            EAFNOSUPPORT,
            "real server address family not supported"
        ));
    }
    let key = DestKey {
        af,
        addr: addr_from(addr, af)?,
        port: nla::get_be16(port).ok_or(err!(EINVAL, "bad real server port"))?,
    };
    if !full {
        return Ok(DestSpec { key, conf: None });
    }
    let (Some(fwd_m), Some(weight), Some(u), Some(l)) = (
        t[dest_attr::FWD_METHOD as usize],
        t[dest_attr::WEIGHT as usize],
        t[dest_attr::U_THRESH as usize],
        t[dest_attr::L_THRESH as usize],
    ) else {
        return Err(err!(
            EINVAL,
            "real server needs forwarding method, weight and thresholds"
        ));
    };
    let fwd_m = nla::get_u32(fwd_m).ok_or(err!(EINVAL, "bad forwarding method"))? & fwd::MASK;
    let weight = nla::get_u32(weight).ok_or(err!(EINVAL, "bad weight"))? as i32;
    let u_threshold = nla::get_u32(u).ok_or(err!(EINVAL, "bad upper threshold"))?;
    let l_threshold = nla::get_u32(l).ok_or(err!(EINVAL, "bad lower threshold"))?;
    check_dest_conf(fwd_m, weight, u_threshold, l_threshold)?;
    let tunnel = parse_tunnel(&t)?;
    if af != svc_af && fwd_m != fwd::TUNNEL {
        return Err(err!(
            EINVAL,
            "a real server of another address family needs tunnelling"
        ));
    }
    Ok(DestSpec {
        key,
        conf: Some(DestConf {
            fwd: fwd_m,
            weight,
            u_threshold,
            l_threshold,
            tunnel,
        }),
    })
}

/// A real server's method, weight and thresholds, with IPVS's checks
/// (and rvs's: a method it knows, an upper threshold that fits an int).
pub fn check_dest_conf(
    fwd_m: u32,
    weight: i32,
    u_threshold: u32,
    l_threshold: u32,
) -> Result<(), CtlError> {
    if !matches!(
        fwd_m,
        fwd::MASQ | fwd::LOCALNODE | fwd::TUNNEL | fwd::DROUTE
    ) {
        return Err(err!(EINVAL, "unknown forwarding method"));
    }
    if !(0..=MAX_WEIGHT).contains(&weight) {
        return Err(err!(ERANGE, "weight must not be negative"));
    }
    if l_threshold > u_threshold {
        return Err(err!(
            ERANGE,
            "lower threshold is higher than upper threshold"
        ));
    }
    if u_threshold > i32::MAX as u32 {
        return Err(err!(EINVAL, "upper threshold too large"));
    }
    Ok(())
}

/// The tunnel attributes of a DEST set, absent ones as IPVS's defaults.
fn parse_tunnel(t: &[Option<&[u8]>]) -> Result<TunnelConf, CtlError> {
    let get = |a: u16| t.get(usize::from(a)).copied().flatten();
    let kind = match get(dest_attr::TUN_TYPE) {
        Some(p) => Some(nla::get_u8(p).ok_or(err!(EINVAL, "bad tunnel type"))?),
        None => None,
    };
    let port = match get(dest_attr::TUN_PORT) {
        Some(p) => Some(nla::get_be16(p).ok_or(err!(EINVAL, "bad tunnel port"))?),
        None => None,
    };
    let flags = match get(dest_attr::TUN_FLAGS) {
        Some(p) => Some(nla::get_u16(p).ok_or(err!(EINVAL, "bad tunnel flags"))?),
        None => None,
    };
    TunnelConf::new(kind, port, flags).map_err(|e| match e {
        TunnelError::UnknownType => err!(EINVAL, "unknown tunnel type"),
        TunnelError::NoPort => err!(EINVAL, "tunnel port is zero"),
        TunnelError::UnknownFlags => err!(EINVAL, "unknown tunnel flags"),
        TunnelError::RemcsumNotGue => {
            err!(EINVAL, "remote checksum offload is for GUE tunnels only")
        }
    })
}

/// Timeouts of SET_CONFIG, in seconds; zero leaves a value unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TimeoutsUpdate {
    pub tcp: Option<u32>,
    pub tcp_fin: Option<u32>,
    pub udp: Option<u32>,
}

/// Which timeout a SET_CONFIG value sets, as `ipvsadm --set tcp tcpfin
/// udp`: TCP's ESTABLISHED and FIN_WAIT states, and UDP's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutTarget {
    Tcp(super::proto::TcpState),
    Udp,
}

impl TimeoutsUpdate {
    /// What the update changes: each non-zero value with its target.
    pub fn changes(&self) -> impl Iterator<Item = (TimeoutTarget, u32)> {
        use super::proto::TcpState;
        [
            (TimeoutTarget::Tcp(TcpState::Established), self.tcp),
            (TimeoutTarget::Tcp(TcpState::FinWait), self.tcp_fin),
            (TimeoutTarget::Udp, self.udp),
        ]
        .into_iter()
        .filter_map(|(t, v)| v.filter(|&v| v != 0).map(|v| (t, v)))
    }
}

/// Longest timeout accepted, in seconds: what fits in jiffies at HZ=1000
/// within an `i32`, so the expiry arithmetic never overflows.
pub const MAX_TIMEOUT_SECS: u32 = (i32::MAX as u32) / 1000;

/// Validates SET_CONFIG timeouts.
pub fn check_timeouts(t: &TimeoutsUpdate) -> Result<(), CtlError> {
    for v in [t.tcp, t.tcp_fin, t.udp].into_iter().flatten() {
        if v > MAX_TIMEOUT_SECS {
            return Err(err!(ERANGE, "timeout too large"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::{tun_flags, tun_type};

    #[test]
    fn timeout_changes() {
        use crate::proto::TcpState;
        let u = TimeoutsUpdate {
            tcp: Some(900),
            tcp_fin: Some(0),
            udp: Some(60),
        };
        let got: std::vec::Vec<_> = u.changes().collect();
        assert_eq!(
            got,
            [
                (TimeoutTarget::Tcp(TcpState::Established), 900),
                (TimeoutTarget::Udp, 60)
            ]
        );
        let u = TimeoutsUpdate {
            tcp: None,
            tcp_fin: Some(30),
            udp: None,
        };
        let got: std::vec::Vec<_> = u.changes().collect();
        assert_eq!(got, [(TimeoutTarget::Tcp(TcpState::FinWait), 30)]);
        assert_eq!(TimeoutsUpdate::default().changes().count(), 0);
    }
    use std::vec;
    use std::vec::Vec;

    struct B(Vec<u8>);
    impl B {
        fn new() -> Self {
            Self(Vec::new())
        }
        fn put(mut self, kind: u16, p: &[u8]) -> Self {
            let len = (nla::HDRLEN + p.len()) as u16;
            self.0.extend_from_slice(&len.to_ne_bytes());
            self.0.extend_from_slice(&kind.to_ne_bytes());
            self.0.extend_from_slice(p);
            while self.0.len() % 4 != 0 {
                self.0.push(0);
            }
            self
        }
    }

    fn tcp_svc() -> B {
        B::new()
            .put(svc_attr::AF, &AF_INET.to_ne_bytes())
            .put(svc_attr::PROTOCOL, &IPPROTO_TCP.to_ne_bytes())
            .put(
                svc_attr::ADDR,
                &[192, 168, 10, 100, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            )
            .put(svc_attr::PORT, &80u16.to_be_bytes())
    }

    fn full(b: B, sched: &[u8], netmask: u32) -> B {
        let mut flags = Vec::new();
        flags.extend_from_slice(&0u32.to_ne_bytes());
        flags.extend_from_slice(&u32::MAX.to_ne_bytes());
        b.put(svc_attr::SCHED_NAME, sched)
            .put(svc_attr::FLAGS, &flags)
            .put(svc_attr::TIMEOUT, &300u32.to_ne_bytes())
            .put(svc_attr::NETMASK, &netmask.to_ne_bytes())
    }

    #[test]
    fn parses_a_tcp_service() {
        let b = full(tcp_svc(), b"wrr\0", u32::MAX);
        let s = parse_service(Some(&b.0), true).unwrap();
        assert_eq!(s.key.port, 80);
        assert_eq!(&s.key.addr[..4], &[192, 168, 10, 100]);
        assert_eq!(s.conf.unwrap().sched, SchedKind::Wrr);
    }

    #[test]
    fn refuses_bad_services() {
        let cases: Vec<(B, i32)> = vec![
            (B::new(), errno::EINVAL),
            (
                B::new().put(svc_attr::AF, &7u16.to_ne_bytes()),
                errno::EAFNOSUPPORT,
            ),
            (
                B::new()
                    .put(svc_attr::AF, &AF_INET.to_ne_bytes())
                    .put(svc_attr::FWMARK, &0u32.to_ne_bytes()),
                errno::EINVAL,
            ),
            (full(tcp_svc(), b"nosuch\0", u32::MAX), errno::ENOENT),
            (
                full(tcp_svc(), b"rr\0", 0x00ff_00ffu32.to_be()),
                errno::EINVAL,
            ),
            (tcp_svc(), errno::EINVAL), // full entry without settings
        ];
        for (i, (b, e)) in cases.into_iter().enumerate() {
            let full = i >= 3 || i == 5;
            assert_eq!(
                parse_service(Some(&b.0), full).unwrap_err().errno,
                e,
                "case {i}"
            );
        }
        let udp_bad_proto = B::new()
            .put(svc_attr::AF, &AF_INET.to_ne_bytes())
            .put(svc_attr::PROTOCOL, &1u16.to_ne_bytes())
            .put(svc_attr::ADDR, &[0; 16])
            .put(svc_attr::PORT, &80u16.to_be_bytes());
        assert_eq!(
            parse_service(Some(&udp_bad_proto.0), false)
                .unwrap_err()
                .errno,
            errno::EPROTONOSUPPORT
        );
    }

    #[test]
    fn dest_rules_follow_ipvs() {
        let d = |w: u32, u: u32, l: u32, f: u32| {
            B::new()
                .put(
                    dest_attr::ADDR,
                    &[10, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
                )
                .put(dest_attr::PORT, &8080u16.to_be_bytes())
                .put(dest_attr::FWD_METHOD, &f.to_ne_bytes())
                .put(dest_attr::WEIGHT, &w.to_ne_bytes())
                .put(dest_attr::U_THRESH, &u.to_ne_bytes())
                .put(dest_attr::L_THRESH, &l.to_ne_bytes())
        };
        let ok = parse_dest(Some(&d(65535, 0, 0, fwd::MASQ).0), AF_INET, true).unwrap();
        assert_eq!(ok.key.port, 8080);
        assert_eq!(ok.conf.unwrap().weight, 65535);
        // As IPVS: any int that is not negative.
        let ok = parse_dest(Some(&d(0x7fff_ffff, 0, 0, fwd::MASQ).0), AF_INET, true).unwrap();
        assert_eq!(ok.conf.unwrap().weight, i32::MAX);
        let e = |b: B| parse_dest(Some(&b.0), AF_INET, true).unwrap_err().errno;
        assert_eq!(e(d(0x8000_0000, 0, 0, 0)), errno::ERANGE);
        assert_eq!(e(d(u32::MAX, 0, 0, 0)), errno::ERANGE);
        assert_eq!(e(d(1, 5, 10, 0)), errno::ERANGE);
        assert_eq!(e(d(1, u32::MAX, 0, 0)), errno::EINVAL);
        assert_eq!(e(d(1, 0, 0, 5)), errno::EINVAL);
        // Tunnel settings: absent is IPIP; GUE needs a port; unknown
        // types and flags are refused, not ignored.
        assert_eq!(ok.conf.unwrap().tunnel, TunnelConf::IPIP);
        let gue = d(1, 0, 0, fwd::TUNNEL)
            .put(dest_attr::TUN_TYPE, &[tun_type::GUE])
            .put(dest_attr::TUN_PORT, &6080u16.to_be_bytes())
            .put(dest_attr::TUN_FLAGS, &tun_flags::CSUM.to_ne_bytes());
        let t = parse_dest(Some(&gue.0), AF_INET, true)
            .unwrap()
            .conf
            .unwrap()
            .tunnel;
        assert_eq!(
            (t.kind(), t.port, t.flags),
            (tun_type::GUE, 6080, tun_flags::CSUM)
        );
        let with = |a: u16, v: &[u8]| e(d(1, 0, 0, fwd::TUNNEL).put(a, v));
        assert_eq!(with(dest_attr::TUN_TYPE, &[tun_type::GUE]), errno::EINVAL);
        assert_eq!(with(dest_attr::TUN_TYPE, &[9]), errno::EINVAL);
        assert_eq!(with(dest_attr::TUN_TYPE, &[0, 0]), errno::EINVAL);
        assert_eq!(
            with(dest_attr::TUN_FLAGS, &8u16.to_ne_bytes()),
            errno::EINVAL
        );
        assert_eq!(with(dest_attr::TUN_PORT, &[1]), errno::EINVAL);
    }

    #[test]
    fn ipv6_unicast_forms() {
        let mut a = [0u8; 16];
        assert!(!ipv6_is_unicast(&a));
        a[15] = 1;
        assert!(ipv6_is_unicast(&a)); // ::1
        a[0] = 0xff;
        assert!(!ipv6_is_unicast(&a));
        a[0] = 0xfe;
        a[1] = 0x80;
        assert!(!ipv6_is_unicast(&a));
        a[0] = 0x20;
        a[1] = 0x01;
        assert!(ipv6_is_unicast(&a));
    }

    #[test]
    fn netmask_contiguity() {
        assert!(is_contiguous_netmask(0xffff_ff00));
        assert!(is_contiguous_netmask(u32::MAX));
        assert!(is_contiguous_netmask(0));
        assert!(!is_contiguous_netmask(0xff00_ff00));
    }

    #[test]
    fn flags_apply_with_mask() {
        let c = ServiceConf {
            sched: SchedKind::Wlc,
            flags: svc_flags::PERSISTENT,
            flags_mask: svc_flags::PERSISTENT | svc_flags::ONEPACKET,
            timeout: 300,
            netmask: u32::MAX,
        };
        let old = svc_flags::ONEPACKET | svc_flags::SCHED1 | svc_flags::HASHED;
        assert_eq!(
            c.apply_flags(old),
            svc_flags::PERSISTENT | svc_flags::SCHED1
        );
    }
}
