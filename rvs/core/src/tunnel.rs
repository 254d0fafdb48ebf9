// SPDX-License-Identifier: GPL-2.0

//! The TUN forwarding method's encapsulations, as IPVS's tunnel transmit
//! (`ip_vs_tunnel_xmit`, `_v6`) builds them: the packet inside an outer
//! IPv4 or IPv6 header to the real server, directly (IPIP, ip6ip6, and
//! across families: IPv4 in IPv6, IPv6 in IPv4), inside UDP to the real
//! server's tunnel port with a GUE header (version 0), or inside GRE.
//!
//! Here are a real server's tunnel settings with IPVS's rules, and the
//! bytes of the headers rvs writes. Checksums that cover the payload
//! (GUE's UDP checksum, GRE's) are the kernel's: computed or offloaded
//! when the packet is sent, as for IPVS.

use super::abi::{tun_flags, tun_type};
use super::packet::{
    put_array, Family, IPPROTO_GRE, IPPROTO_IPIP, IPPROTO_IPV6, IPPROTO_UDP, IPV4_HDR_LEN,
    IPV4_SADDR, IPV6_HDR_LEN, IPV6_SADDR, UDP_HDR_LEN,
};

/// How a tunnelled real server's packets are encapsulated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encap {
    /// The packet directly in the outer IP header.
    Ipip,
    /// UDP to the tunnel port, then a GUE header.
    Gue,
    /// A GRE header.
    Gre,
}

/// Why tunnel settings are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TunnelError {
    /// A tunnel type IPVS does not define.
    UnknownType,
    /// GUE without a port to send to.
    NoPort,
    /// Flags other than the checksum options.
    UnknownFlags,
    /// Remote checksum offload is GUE's alone.
    RemcsumNotGue,
}

/// A real server's tunnel settings (`IPVS_DEST_ATTR_TUN_*`), kept as
/// given so that they are listed back as they were set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TunnelConf {
    pub encap: Encap,
    /// The UDP destination port of GUE, host order (kept, unused, for the
    /// other types, as IPVS keeps it).
    pub port: u16,
    /// [`tun_flags`] bits.
    pub flags: u16,
}

/// Length of a GUE header without options.
pub const GUE_HDR_LEN: usize = 4;
/// GUE's private flags field and the remote checksum option's two
/// offsets, when remote checksum offload is used.
pub const GUE_REMCSUM_LEN: usize = 8;
/// GUE header flag: a private flags field follows.
const GUE_FLAG_PRIV: u16 = 1;
/// GUE private flag: the remote checksum offload option is present.
const GUE_PFLAG_REMCSUM: u32 = 1 << 31;
/// GRE header without options, and its checksum option.
pub const GRE_HDR_LEN: usize = 4;
pub const GRE_CSUM_LEN: usize = 4;
/// Longest encapsulation between the outer IP header and the packet.
pub const MAX_ENCAP_LEN: usize = UDP_HDR_LEN + GUE_HDR_LEN + GUE_REMCSUM_LEN;

impl TunnelConf {
    /// What a real server added without tunnel attributes has.
    pub const IPIP: Self = Self {
        encap: Encap::Ipip,
        port: 0,
        flags: tun_flags::NOCSUM,
    };

    /// Settings from the attributes' values (absent ones as IPVS's
    /// defaults), with IPVS's rule that GUE needs a port. rvs refuses
    /// what IPVS would take and then ignore: an unknown type or flag, and
    /// remote checksum offload on anything but GUE.
    pub fn new(
        kind: Option<u8>,
        port: Option<u16>,
        flags: Option<u16>,
    ) -> Result<Self, TunnelError> {
        let encap = match kind.unwrap_or(tun_type::IPIP) {
            tun_type::IPIP => Encap::Ipip,
            tun_type::GUE => Encap::Gue,
            tun_type::GRE => Encap::Gre,
            _ => return Err(TunnelError::UnknownType),
        };
        let (port, flags) = (port.unwrap_or(0), flags.unwrap_or(tun_flags::NOCSUM));
        if flags & !tun_flags::ALL != 0 {
            return Err(TunnelError::UnknownFlags);
        }
        if encap == Encap::Gue && port == 0 {
            return Err(TunnelError::NoPort);
        }
        if encap != Encap::Gue && flags & tun_flags::REMCSUM != 0 {
            return Err(TunnelError::RemcsumNotGue);
        }
        Ok(Self { encap, port, flags })
    }

    /// The [`tun_type`] number.
    pub const fn kind(self) -> u8 {
        match self.encap {
            Encap::Ipip => tun_type::IPIP,
            Encap::Gue => tun_type::GUE,
            Encap::Gre => tun_type::GRE,
        }
    }

    /// All of it in one word, for a real server to keep in one atomic.
    pub const fn pack(self) -> u64 {
        (self.kind() as u64) << 32 | (self.port as u64) << 16 | self.flags as u64
    }

    /// The inverse of [`pack`](Self::pack); IPIP for a word no
    /// `pack` made.
    pub const fn unpack(v: u64) -> Self {
        let encap = match (v >> 32) as u8 {
            tun_type::GUE => Encap::Gue,
            tun_type::GRE => Encap::Gre,
            _ => Encap::Ipip,
        };
        Self {
            encap,
            port: (v >> 16) as u16,
            flags: v as u16,
        }
    }

    /// The outer checksum is computed (GUE's UDP checksum, GRE's option).
    pub const fn csum(self) -> bool {
        self.flags & tun_flags::CSUM != 0
    }

    /// GUE with remote checksum offload asked for.
    pub const fn remcsum(self) -> bool {
        matches!(self.encap, Encap::Gue) && self.flags & tun_flags::REMCSUM != 0
    }

    /// GUE's UDP checksum is filled in: with either checksum option, as
    /// IPVS (remote checksum offload needs a valid outer checksum).
    pub const fn udp_csum(self) -> bool {
        self.flags & (tun_flags::CSUM | tun_flags::REMCSUM) != 0
    }

    /// Bytes between the outer IP header and the packet; `remcsum` when
    /// this packet carries the remote checksum option (its transport
    /// checksum is left to the receiver, [`remcsum`](Self::remcsum)).
    pub const fn encap_len(self, remcsum: bool) -> usize {
        match self.encap {
            Encap::Ipip => 0,
            Encap::Gue if remcsum => UDP_HDR_LEN + GUE_HDR_LEN + GUE_REMCSUM_LEN,
            Encap::Gue => UDP_HDR_LEN + GUE_HDR_LEN,
            Encap::Gre if self.csum() => GRE_HDR_LEN + GRE_CSUM_LEN,
            Encap::Gre => GRE_HDR_LEN,
        }
    }

    /// The outer header's protocol for a packet of family `inner`.
    pub const fn outer_protocol(self, inner: Family) -> u8 {
        match self.encap {
            Encap::Ipip => inner_protocol(inner),
            Encap::Gue => IPPROTO_UDP,
            Encap::Gre => IPPROTO_GRE,
        }
    }
}

/// The protocol number that names a packet of family `inner` inside
/// another header (IPIP's and GUE's next protocol).
pub const fn inner_protocol(inner: Family) -> u8 {
    match inner {
        Family::Inet => IPPROTO_IPIP,
        Family::Inet6 => IPPROTO_IPV6,
    }
}

/// Length of the outer IP header of family `outer`.
pub const fn outer_len(outer: Family) -> usize {
    match outer {
        Family::Inet => IPV4_HDR_LEN,
        Family::Inet6 => IPV6_HDR_LEN,
    }
}

/// The ECN bits of a DS field.
const ECN_MASK: u8 = 3;
/// ECN "congestion experienced", and "ECN-capable transport (0)".
const ECN_CE: u8 = 3;
const ECN_ECT_0: u8 = 2;

/// The outer DS field for an inner one: the same, except that congestion
/// already experienced is not claimed again outside (`INET_ECN_encapsulate`).
pub const fn outer_dsfield(inner: u8) -> u8 {
    let ecn = if inner & ECN_MASK == ECN_CE {
        ECN_ECT_0
    } else {
        inner & ECN_MASK
    };
    (inner & !ECN_MASK) | ecn
}

/// What the outer header takes from the packet: its DS field and TTL (hop
/// limit), and, from IPv4, its DF bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InnerFields {
    pub dsfield: u8,
    pub ttl: u8,
    pub dont_fragment: bool,
}

impl InnerFields {
    /// Reads them from the start of the packet, of family `inner`.
    pub fn read(inner: Family, head: &[u8]) -> Option<Self> {
        match inner {
            Family::Inet => {
                let h = head.get(..IPV4_HDR_LEN)?;
                Some(Self {
                    dsfield: h[1],
                    ttl: h[8],
                    dont_fragment: h[6] & 0x40 != 0,
                })
            }
            Family::Inet6 => {
                let h = head.get(..8)?;
                Some(Self {
                    dsfield: (h[0] << 4) | (h[1] >> 4),
                    ttl: h[7],
                    dont_fragment: false,
                })
            }
        }
    }
}

/// The outer IP header, as IPVS writes it: of family `outer`, carrying
/// `protocol` and `payload_len` bytes after it (encapsulation and packet),
/// from `saddr` to `daddr` (IPv4 in their first 4 bytes). The DS field
/// and TTL come from the packet (ECN as [`outer_dsfield`]), the DF bit
/// from an IPv4 packet; an IPv6 header's flow label is zero. An IPv4
/// header's id and checksum are left zero for the sender to fill.
/// `None` if the result is too long for IP.
pub fn outer_header(
    outer: Family,
    protocol: u8,
    inner: InnerFields,
    payload_len: usize,
    saddr: &[u8; 16],
    daddr: &[u8; 16],
) -> Option<([u8; IPV6_HDR_LEN], usize)> {
    let mut h = [0u8; IPV6_HDR_LEN];
    let ds = outer_dsfield(inner.dsfield);
    match outer {
        Family::Inet => {
            let total = u16::try_from(payload_len.checked_add(IPV4_HDR_LEN)?).ok()?;
            let [t0, t1] = total.to_be_bytes();
            let df = if inner.dont_fragment { 0x40 } else { 0 };
            put_array(
                &mut h,
                0,
                &[0x45, ds, t0, t1, 0, 0, df, 0, inner.ttl, protocol],
            )?;
            put_array(
                &mut h,
                IPV4_SADDR,
                &[saddr[0], saddr[1], saddr[2], saddr[3]],
            )?;
            put_array(
                &mut h,
                IPV4_SADDR + 4,
                &[daddr[0], daddr[1], daddr[2], daddr[3]],
            )?;
            Some((h, IPV4_HDR_LEN))
        }
        Family::Inet6 => {
            let [p0, p1] = u16::try_from(payload_len).ok()?.to_be_bytes();
            put_array(
                &mut h,
                0,
                &[0x60 | (ds >> 4), ds << 4, 0, 0, p0, p1, protocol, inner.ttl],
            )?;
            put_array(&mut h, IPV6_SADDR, saddr)?;
            put_array(&mut h, IPV6_SADDR + 16, daddr)?;
            Some((h, IPV6_HDR_LEN))
        }
    }
}

/// Where the receiver is to put a transport checksum left to it (GUE's
/// remote checksum offload): offsets from the start of the packet inside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoteCsum {
    /// Where the checksummed part starts.
    pub start: u16,
    /// Where the checksum field is.
    pub field: u16,
}

/// The UDP and GUE headers in front of a packet of family `inner` and
/// `inner_len` bytes: from `sport` to the real server's `dport`, GUE
/// version 0 naming the packet's protocol, and with `remcsum` its
/// private flags and the remote checksum option. The UDP checksum is left
/// zero (the kernel fills it or leaves it zero, as the settings say).
/// `None` if the UDP length overflows.
pub fn gue_headers(
    inner: Family,
    inner_len: usize,
    sport: u16,
    dport: u16,
    remcsum: Option<RemoteCsum>,
) -> Option<([u8; MAX_ENCAP_LEN], usize)> {
    let mut h = [0u8; MAX_ENCAP_LEN];
    let opt = if remcsum.is_some() {
        GUE_REMCSUM_LEN
    } else {
        0
    };
    let len = UDP_HDR_LEN + GUE_HDR_LEN + opt;
    let [u0, u1] = u16::try_from(inner_len.checked_add(len)?)
        .ok()?
        .to_be_bytes();
    let [s0, s1] = sport.to_be_bytes();
    let [d0, d1] = dport.to_be_bytes();
    put_array(&mut h, 0, &[s0, s1, d0, d1, u0, u1, 0, 0])?;
    // Version 0, no control message, option length in 32-bit words.
    let hlen = (opt / 4) as u8;
    let flags = if remcsum.is_some() { GUE_FLAG_PRIV } else { 0 };
    let [f0, f1] = flags.to_be_bytes();
    put_array(&mut h, UDP_HDR_LEN, &[hlen, inner_protocol(inner), f0, f1])?;
    if let Some(r) = remcsum {
        let at = UDP_HDR_LEN + GUE_HDR_LEN;
        put_array(&mut h, at, &GUE_PFLAG_REMCSUM.to_be_bytes())?;
        put_array(&mut h, at + 4, &r.start.to_be_bytes())?;
        put_array(&mut h, at + 6, &r.field.to_be_bytes())?;
    }
    Some((h, len))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn settings_follow_ipvs_rules() {
        assert_eq!(TunnelConf::new(None, None, None), Ok(TunnelConf::IPIP));
        let gue = TunnelConf::new(Some(tun_type::GUE), Some(6080), Some(tun_flags::CSUM)).unwrap();
        assert_eq!(
            (gue.encap, gue.port, gue.csum(), gue.remcsum()),
            (Encap::Gue, 6080, true, false)
        );
        assert_eq!(
            TunnelConf::new(Some(tun_type::GUE), None, None),
            Err(TunnelError::NoPort)
        );
        assert_eq!(
            TunnelConf::new(Some(tun_type::GUE), Some(0), None),
            Err(TunnelError::NoPort)
        );
        assert_eq!(
            TunnelConf::new(Some(3), None, None),
            Err(TunnelError::UnknownType)
        );
        assert_eq!(
            TunnelConf::new(None, None, Some(4)),
            Err(TunnelError::UnknownFlags)
        );
        assert_eq!(
            TunnelConf::new(Some(tun_type::GRE), None, Some(tun_flags::REMCSUM)),
            Err(TunnelError::RemcsumNotGue)
        );
        // GRE keeps a port it does not use, as IPVS lists it back.
        let gre = TunnelConf::new(Some(tun_type::GRE), Some(7), Some(tun_flags::CSUM)).unwrap();
        assert_eq!((gre.port, gre.encap_len(false)), (7, 8));
        let rem = TunnelConf::new(Some(tun_type::GUE), Some(1), Some(tun_flags::REMCSUM)).unwrap();
        assert!(rem.udp_csum() && rem.remcsum() && !rem.csum());
        assert_eq!((rem.encap_len(false), rem.encap_len(true)), (12, 20));
        assert_eq!(TunnelConf::IPIP.encap_len(true), 0);
    }

    #[test]
    fn protocols() {
        let c = |k| TunnelConf::new(Some(k), Some(1), None).unwrap();
        assert_eq!(c(tun_type::IPIP).outer_protocol(Family::Inet), 4);
        assert_eq!(c(tun_type::IPIP).outer_protocol(Family::Inet6), 41);
        assert_eq!(c(tun_type::GUE).outer_protocol(Family::Inet6), 17);
        assert_eq!(c(tun_type::GRE).outer_protocol(Family::Inet), 47);
    }

    #[test]
    fn ecn_on_encapsulation() {
        assert_eq!(outer_dsfield(0xb8), 0xb8); // EF, not ECN-capable
        assert_eq!(outer_dsfield(0x01), 0x01); // ECT(1)
        assert_eq!(outer_dsfield(0x02), 0x02); // ECT(0)
        assert_eq!(outer_dsfield(0x2b), 0x2a); // CE becomes ECT(0)
    }

    fn addrs() -> ([u8; 16], [u8; 16]) {
        let (mut sa, mut da) = ([0u8; 16], [0u8; 16]);
        sa[..4].copy_from_slice(&[10, 0, 0, 2]);
        da[..4].copy_from_slice(&[10, 0, 1, 5]);
        (sa, da)
    }

    #[test]
    fn outer_ipv4_header() {
        let (sa, da) = addrs();
        let mut inner = [0u8; 20];
        inner[0] = 0x45;
        inner[1] = 0x13; // DSCP 4, CE
        inner[6] = 0x40; // DF
        inner[8] = 63;
        let f = InnerFields::read(Family::Inet, &inner).unwrap();
        assert_eq!(
            f,
            InnerFields {
                dsfield: 0x13,
                ttl: 63,
                dont_fragment: true
            }
        );
        let (h, n) = outer_header(Family::Inet, 4, f, 100, &sa, &da).unwrap();
        assert_eq!(n, 20);
        assert_eq!(
            h[..20],
            [0x45, 0x12, 0, 120, 0, 0, 0x40, 0, 63, 4, 0, 0, 10, 0, 0, 2, 10, 0, 1, 5]
        );
        assert!(InnerFields::read(Family::Inet, &inner[..19]).is_none());
        assert!(outer_header(Family::Inet, 4, f, 65_516, &sa, &da).is_none());
        assert!(outer_header(Family::Inet, 4, f, 65_515, &sa, &da).is_some());
    }

    #[test]
    fn outer_ipv6_header_around_either_family() {
        let (sa6, da6) = ([0x20; 16], [0x30; 16]);
        // Traffic class 0xab, flow label 0xcdef1, hop limit 9.
        let six = [0x6a, 0xbc, 0xde, 0xf1, 0, 0, 17, 9];
        let f = InnerFields::read(Family::Inet6, &six).unwrap();
        assert_eq!(
            f,
            InnerFields {
                dsfield: 0xab,
                ttl: 9,
                dont_fragment: false
            }
        );
        let (h, n) = outer_header(Family::Inet6, 41, f, 1000, &sa6, &da6).unwrap();
        assert_eq!(n, 40);
        // The flow label is not carried over; CE (0xab & 3 == 3) becomes ECT(0).
        assert_eq!(h[..8], [0x6a, 0xa0, 0, 0, 0x03, 0xe8, 41, 9]);
        assert_eq!(h[8..24], sa6);
        assert_eq!(h[24..40], da6);
        assert!(outer_header(Family::Inet6, 41, f, 65_536, &sa6, &da6).is_none());
        // IPv4 inside IPv6: the packet's TOS and TTL; no DF outside.
        let mut four = [0u8; 20];
        four[0] = 0x45;
        four[1] = 0x20;
        four[6] = 0x40;
        four[8] = 64;
        let f = InnerFields::read(Family::Inet, &four).unwrap();
        let (h, _) = outer_header(Family::Inet6, 4, f, 60, &sa6, &da6).unwrap();
        assert_eq!(h[..8], [0x62, 0x00, 0, 0, 0, 60, 4, 64]);
    }

    #[test]
    fn gue_layout() {
        let (h, n) = gue_headers(Family::Inet, 100, 0xc000, 6080, None).unwrap();
        assert_eq!(n, 12);
        assert_eq!(h[..12], [0xc0, 0, 0x17, 0xc0, 0, 112, 0, 0, 0, 4, 0, 0]);
        let r = RemoteCsum {
            start: 20,
            field: 36,
        };
        let (h, n) = gue_headers(Family::Inet6, 100, 1, 2, Some(r)).unwrap();
        assert_eq!(n, 20);
        assert_eq!(
            h[..20],
            [0, 1, 0, 2, 0, 120, 0, 0, 2, 41, 0, 1, 0x80, 0, 0, 0, 0, 20, 0, 36]
        );
        assert!(gue_headers(Family::Inet, 65_524, 1, 2, None).is_none());
        assert!(gue_headers(Family::Inet, 65_523, 1, 2, None).is_some());
    }

    proptest! {
        #[test]
        fn settings_are_kept_or_refused_for_a_reason(kind in 0u8..4, port: u16, flags in 0u16..8) {
            match TunnelConf::new(Some(kind), Some(port), Some(flags)) {
                Ok(c) => {
                    prop_assert_eq!(TunnelConf::unpack(c.pack()), c);
                    prop_assert_eq!((c.kind(), c.port, c.flags), (kind, port, flags));
                    prop_assert!(c.encap_len(true) <= MAX_ENCAP_LEN);
                }
                Err(e) => {
                    let why = match e {
                        TunnelError::UnknownType => kind > tun_type::GRE,
                        TunnelError::UnknownFlags => flags & !tun_flags::ALL != 0,
                        TunnelError::NoPort => kind == tun_type::GUE && port == 0,
                        TunnelError::RemcsumNotGue => {
                            kind != tun_type::GUE && flags & tun_flags::REMCSUM != 0
                        }
                    };
                    prop_assert!(why, "{:?} refused as {:?}", (kind, port, flags), e);
                }
            }
        }
    }
}
