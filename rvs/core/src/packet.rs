// SPDX-License-Identifier: GPL-2.0

//! Header parsing over byte slices: IPv4, IPv6 (with its extension
//! headers), TCP, UDP, ICMP and ICMPv6, including the IP header quoted in
//! an ICMP error.
//!
//! Every function takes the packet as a slice and absolute offsets into
//! it, returns absolute offsets, and answers garbage or truncated input
//! with a [`PacketError`], never a panic. Nothing is modified: the data
//! path writes through the offsets it gets back (see the `*_CHECK`
//! constants for where checksums live).
//!
//! What is accepted follows what IPVS sees after the kernel's own input
//! checks (`ip_rcv_core`, `ipv6_rcv`) and what IPVS itself requires
//! (`ip_vs_fill_iph_skb`, `ipv6_find_hdr`, `ip_vs_in_icmp`).

#![warn(missing_docs)]

use super::proto::TcpFlags;

/// Internet Control Message Protocol.
pub const IPPROTO_ICMP: u8 = 1;
/// IP in IP (IPVS tunnelling).
pub const IPPROTO_IPIP: u8 = 4;
/// Transmission Control Protocol.
pub const IPPROTO_TCP: u8 = 6;
/// User Datagram Protocol.
pub const IPPROTO_UDP: u8 = 17;
/// IPv6 in IP.
pub const IPPROTO_IPV6: u8 = 41;
/// Generic Routing Encapsulation.
pub const IPPROTO_GRE: u8 = 47;
/// ICMP for IPv6.
pub const IPPROTO_ICMPV6: u8 = 58;
/// Stream Control Transmission Protocol.
pub const IPPROTO_SCTP: u8 = 132;

/// IPv6 hop-by-hop options header.
pub const NEXTHDR_HOP: u8 = 0;
/// IPv6 routing header.
pub const NEXTHDR_ROUTING: u8 = 43;
/// IPv6 fragment header.
pub const NEXTHDR_FRAGMENT: u8 = 44;
/// IPv6 authentication header.
pub const NEXTHDR_AUTH: u8 = 51;
/// No next header.
pub const NEXTHDR_NONE: u8 = 59;
/// IPv6 destination options header.
pub const NEXTHDR_DEST: u8 = 60;

/// Most extension headers walked before giving up, as the kernel's
/// `IP6_MAX_EXT_HDRS_CNT`.
pub const MAX_EXT_HDRS: usize = 12;

/// Length of an IPv4 header without options.
pub const IPV4_HDR_LEN: usize = 20;
/// Length of the fixed IPv6 header.
pub const IPV6_HDR_LEN: usize = 40;
/// Offset of the header checksum in an IPv4 header.
pub const IPV4_CHECK: usize = 10;
/// Offset of the TTL in an IPv4 header.
pub const IPV4_TTL: usize = 8;
/// Offset of the source address in an IPv4 header (destination follows).
pub const IPV4_SADDR: usize = 12;
/// Offset of the source address in an IPv6 header (destination follows).
pub const IPV6_SADDR: usize = 8;
/// Offsets of the source and destination addresses in an IPv4 or (`v6`)
/// IPv6 header.
pub const fn addr_offsets(v6: bool) -> (usize, usize) {
    if v6 {
        (IPV6_SADDR, IPV6_SADDR + 16)
    } else {
        (IPV4_SADDR, IPV4_SADDR + 4)
    }
}
/// Offset of the source port in a TCP, UDP or SCTP header.
pub const L4_SPORT: usize = 0;
/// Offset of the destination port in a TCP, UDP or SCTP header.
pub const L4_DPORT: usize = 2;
/// Offset of the hop limit in an IPv6 header.
pub const IPV6_HOP_LIMIT: usize = 7;
/// Length of a TCP header without options.
pub const TCP_HDR_LEN: usize = 20;
/// Offset of the checksum in a TCP header.
pub const TCP_CHECK: usize = 16;
/// Length of a UDP header.
pub const UDP_HDR_LEN: usize = 8;
/// Offset of the checksum in a UDP header.
pub const UDP_CHECK: usize = 6;
/// Length of the ICMP (and ICMPv6) header, up to the quoted packet.
pub const ICMP_HDR_LEN: usize = 8;
/// Offset of the checksum in an ICMP or ICMPv6 header.
pub const ICMP_CHECK: usize = 2;

/// ICMP destination unreachable.
pub const ICMP_DEST_UNREACH: u8 = 3;
/// ICMP source quench.
pub const ICMP_SOURCE_QUENCH: u8 = 4;
/// ICMP time exceeded.
pub const ICMP_TIME_EXCEEDED: u8 = 11;
/// ICMP parameter problem.
pub const ICMP_PARAMETERPROB: u8 = 12;
/// Code of "port unreachable" under [`ICMP_DEST_UNREACH`].
pub const ICMP_PORT_UNREACH: u8 = 3;
/// Code of "fragmentation needed" under [`ICMP_DEST_UNREACH`].
pub const ICMP_FRAG_NEEDED: u8 = 4;
/// Code of "TTL exceeded in transit" under [`ICMP_TIME_EXCEEDED`].
pub const ICMP_EXC_TTL: u8 = 0;
/// ICMPv6 destination unreachable.
pub const ICMPV6_DEST_UNREACH: u8 = 1;
/// ICMPv6 packet too big.
pub const ICMPV6_PKT_TOOBIG: u8 = 2;
/// ICMPv6 time exceeded.
pub const ICMPV6_TIME_EXCEED: u8 = 3;
/// ICMPv6 parameter problem.
pub const ICMPV6_PARAMPROB: u8 = 4;
/// Code of "port unreachable" under [`ICMPV6_DEST_UNREACH`].
pub const ICMPV6_PORT_UNREACH: u8 = 4;
/// Code of "hop limit exceeded in transit" under [`ICMPV6_TIME_EXCEED`].
pub const ICMPV6_EXC_HOPLIMIT: u8 = 0;
/// ICMPv6 types with this bit set are informational, not errors.
pub const ICMPV6_INFOMSG_MASK: u8 = 0x80;

/// Whether an ICMP (`Inet`) or ICMPv6 message of type `ty` is what IPVS
/// treats as an error about a connection ([`IcmpHeader::is_error`]).
pub const fn icmp_type_is_error(ty: u8, family: Family) -> bool {
    match family {
        Family::Inet => matches!(
            ty,
            ICMP_DEST_UNREACH | ICMP_SOURCE_QUENCH | ICMP_TIME_EXCEEDED
        ),
        Family::Inet6 => ty & ICMPV6_INFOMSG_MASK == 0,
    }
}

/// Address family of a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// IPv4.
    Inet,
    /// IPv6.
    Inet6,
}

impl Family {
    /// The `AF_*` number (2 or 10).
    pub const fn af(self) -> u16 {
        match self {
            Family::Inet => super::ctl::AF_INET,
            Family::Inet6 => super::ctl::AF_INET6,
        }
    }

    /// The ICMP protocol of the family.
    pub const fn icmp_protocol(self) -> u8 {
        match self {
            Family::Inet => IPPROTO_ICMP,
            Family::Inet6 => IPPROTO_ICMPV6,
        }
    }
}

/// Why a packet could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketError {
    /// The buffer ends before a header that must be there.
    Truncated,
    /// The IP version is not the one asked for (or neither 4 nor 6).
    BadVersion,
    /// An IPv4 IHL below 5.
    BadHeaderLength,
    /// The IP length field is shorter than the header or longer than
    /// the buffer.
    BadTotalLength,
    /// More than [`MAX_EXT_HDRS`] IPv6 extension headers, or a non-first
    /// fragment followed by an extension header (as `ipv6_find_hdr`).
    BadExtHeader,
    /// The packet is not an ICMP error about another packet.
    NotIcmpError,
}

/// The facts about an IP header the data path needs. Offsets are
/// absolute in the parsed buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpHeader {
    /// Address family.
    pub family: Family,
    /// Offset of the IP header.
    pub offset: usize,
    /// Length of the IP header proper (IPv4: `IHL * 4`; IPv6: 40).
    pub header_len: usize,
    /// Transport protocol (IPv6: after extension headers; for a non-first
    /// fragment, the fragment header's next header).
    pub protocol: u8,
    /// Offset of the transport header (for a non-first fragment, of the
    /// fragment's data, which holds no transport header).
    pub l4_offset: usize,
    /// Packet length claimed by the header (IPv4 total length; IPv6 40 +
    /// payload length, or the rest of the buffer for a jumbogram).
    pub total_len: usize,
    /// Absolute end of the packet's bytes in the buffer: `offset +
    /// total_len`, cut to the buffer for a quoted (ICMP) header. Trailing
    /// bytes past it (link-layer padding) are not part of the packet.
    pub end: usize,
    /// Source address; IPv4 in the first 4 bytes, rest zero.
    pub saddr: [u8; 16],
    /// Destination address; IPv4 in the first 4 bytes, rest zero.
    pub daddr: [u8; 16],
    /// TTL or hop limit.
    pub ttl: u8,
    /// Fragment offset in bytes (0 for the first or only fragment).
    pub frag_offset: u16,
    /// More fragments follow.
    pub more_fragments: bool,
    /// IPv4 "don't fragment" (always false for IPv6).
    pub dont_fragment: bool,
    /// IPv6: a fragment header was seen (IPVS's `IP6_FH_F_FRAG`), even
    /// for an atomic fragment.
    pub has_frag_header: bool,
}

impl IpHeader {
    /// Whether this is a fragment at all (`ip_is_fragment`, or any IPv6
    /// fragment header).
    pub const fn is_fragment(&self) -> bool {
        self.more_fragments || self.frag_offset != 0 || self.has_frag_header
    }

    /// Whether this is a fragment other than the first: it carries no
    /// transport header.
    pub const fn is_non_first_fragment(&self) -> bool {
        self.frag_offset != 0
    }

    /// The IPv4 source address.
    pub const fn saddr_v4(&self) -> [u8; 4] {
        let a = &self.saddr;
        [a[0], a[1], a[2], a[3]]
    }

    /// The IPv4 destination address.
    pub const fn daddr_v4(&self) -> [u8; 4] {
        let a = &self.daddr;
        [a[0], a[1], a[2], a[3]]
    }

    /// Bytes from the transport header to the end of the packet.
    pub const fn l4_len(&self) -> usize {
        self.end.saturating_sub(self.l4_offset)
    }
}

/// Reads a big-endian `u16` at `off`.
#[inline]
pub fn be16(buf: &[u8], off: usize) -> Option<u16> {
    let end = off.checked_add(2)?;
    match *buf.get(off..end)? {
        [a, b] => Some(u16::from_be_bytes([a, b])),
        _ => None,
    }
}

/// Reads a big-endian `u32` at `off`.
pub fn be32(buf: &[u8], off: usize) -> Option<u32> {
    let end = off.checked_add(4)?;
    match *buf.get(off..end)? {
        [a, b, c, d] => Some(u32::from_be_bytes([a, b, c, d])),
        _ => None,
    }
}

/// Writes a big-endian `u16` at `off`; false if it does not fit.
#[inline]
pub fn set_be16(buf: &mut [u8], off: usize, v: u16) -> bool {
    put_array(buf, off, &v.to_be_bytes()).is_some()
}

/// The `N` bytes at `off`, by value. A fixed-size copy compiles to plain
/// moves, where `copy_from_slice` costs the packet path an out-of-line
/// call and a `memcpy` per use.
#[inline]
pub fn array_at<const N: usize>(buf: &[u8], off: usize) -> Option<[u8; N]> {
    let s: &[u8; N] = buf.get(off..off.checked_add(N)?)?.try_into().ok()?;
    Some(*s)
}

/// Writes `v` at `off`; `None`, changing nothing, if it does not fit.
#[inline]
pub fn put_array<const N: usize>(buf: &mut [u8], off: usize, v: &[u8; N]) -> Option<()> {
    let d: &mut [u8; N] = buf.get_mut(off..off.checked_add(N)?)?.try_into().ok()?;
    *d = *v;
    Some(())
}

/// Writes an address of either family (IPv4 in the first 4 bytes of `a`)
/// at `off`; `None`, changing nothing, if it does not fit.
#[inline]
pub fn put_addr(buf: &mut [u8], off: usize, a: &[u8; 16], v6: bool) -> Option<()> {
    if v6 {
        put_array(buf, off, a)
    } else {
        put_array(buf, off, &[a[0], a[1], a[2], a[3]])
    }
}

/// The address of either family at `off`, IPv4 in the first 4 bytes.
#[inline]
pub fn addr_at(buf: &[u8], off: usize, v6: bool) -> Option<[u8; 16]> {
    if v6 {
        array_at(buf, off)
    } else {
        let [a, b, c, d] = array_at::<4>(buf, off)?;
        Some([a, b, c, d, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    }
}

#[inline]
fn byte(buf: &[u8], off: usize) -> Result<u8, PacketError> {
    buf.get(off).copied().ok_or(PacketError::Truncated)
}

#[inline]
fn add(a: usize, b: usize) -> Result<usize, PacketError> {
    a.checked_add(b).ok_or(PacketError::Truncated)
}

/// Parses the IPv4 packet starting at `buf[0]`, as the kernel accepts it
/// on input: version 4, IHL at least 5 and within the buffer, total
/// length covering the header and within the buffer. The header checksum
/// is not verified (see `csum::ipv4_header_valid`).
pub fn parse_ipv4(buf: &[u8]) -> Result<IpHeader, PacketError> {
    ipv4_at(buf, 0, true)
}

/// Parses the IPv6 packet starting at `buf[0]`: version 6, payload within
/// the buffer, extension headers walked to the transport header.
pub fn parse_ipv6(buf: &[u8]) -> Result<IpHeader, PacketError> {
    ipv6_at(buf, 0, true)
}

/// Parses an IPv4 or IPv6 packet starting at `buf[0]`, by its version.
pub fn parse_ip(buf: &[u8]) -> Result<IpHeader, PacketError> {
    match byte(buf, 0)? >> 4 {
        4 => parse_ipv4(buf),
        6 => parse_ipv6(buf),
        _ => Err(PacketError::BadVersion),
    }
}

/// Parses an IP header quoted at `off` (in an ICMP error, or inside a
/// tunnel header): the quoted packet is normally cut short, so its length
/// field is not checked against the buffer (`end` is cut to the buffer
/// instead). The version must match `family`.
pub fn parse_embedded(buf: &[u8], off: usize, family: Family) -> Result<IpHeader, PacketError> {
    match family {
        Family::Inet => ipv4_at(buf, off, false),
        Family::Inet6 => ipv6_at(buf, off, false),
    }
}

#[inline]
fn ipv4_at(buf: &[u8], off: usize, strict: bool) -> Result<IpHeader, PacketError> {
    // The version first, so a packet of the other family says so.
    if byte(buf, off)? >> 4 != 4 {
        return Err(PacketError::BadVersion);
    }
    let h = buf
        .get(off..add(off, IPV4_HDR_LEN)?)
        .ok_or(PacketError::Truncated)?;
    let [vihl, _tos, tl0, tl1, _id0, _id1, fo0, fo1, ttl, protocol, ..] = *h else {
        return Err(PacketError::Truncated);
    };
    let header_len = ((vihl & 0x0F) as usize) * 4;
    if header_len < IPV4_HDR_LEN {
        return Err(PacketError::BadHeaderLength);
    }
    let l4_offset = add(off, header_len)?;
    if l4_offset > buf.len() {
        return Err(PacketError::Truncated);
    }
    let total_len = u16::from_be_bytes([tl0, tl1]) as usize;
    let claimed_end = add(off, total_len)?;
    let end = if strict {
        if total_len < header_len || claimed_end > buf.len() {
            return Err(PacketError::BadTotalLength);
        }
        claimed_end
    } else {
        claimed_end.min(buf.len())
    };
    let frag = u16::from_be_bytes([fo0, fo1]);
    Ok(IpHeader {
        family: Family::Inet,
        offset: off,
        header_len,
        protocol,
        l4_offset,
        total_len,
        end,
        saddr: addr_at(buf, add(off, IPV4_SADDR)?, false).ok_or(PacketError::Truncated)?,
        daddr: addr_at(buf, add(off, IPV4_SADDR + 4)?, false).ok_or(PacketError::Truncated)?,
        ttl,
        // The offset field counts 8-byte units; 0x1FFF * 8 fits in u16.
        frag_offset: (frag & 0x1FFF) << 3,
        more_fragments: frag & 0x2000 != 0,
        dont_fragment: frag & 0x4000 != 0,
        has_frag_header: false,
    })
}

/// Whether `nh` is an extension header `ipv6_find_hdr` walks over.
const fn is_ext_header(nh: u8) -> bool {
    matches!(
        nh,
        NEXTHDR_HOP | NEXTHDR_ROUTING | NEXTHDR_FRAGMENT | NEXTHDR_AUTH | NEXTHDR_DEST
    )
}

fn ipv6_at(buf: &[u8], off: usize, strict: bool) -> Result<IpHeader, PacketError> {
    if byte(buf, off)? >> 4 != 6 {
        return Err(PacketError::BadVersion);
    }
    let fixed_end = add(off, IPV6_HDR_LEN)?;
    let h = buf.get(off..fixed_end).ok_or(PacketError::Truncated)?;
    let [_, _, _, _, pl0, pl1, next, hop_limit, ..] = *h else {
        return Err(PacketError::Truncated);
    };
    let payload = u16::from_be_bytes([pl0, pl1]) as usize;
    let (total_len, end) = if payload == 0 && next == NEXTHDR_HOP {
        // A jumbogram: its length is in a hop-by-hop option; take the
        // buffer, as the stack has trimmed it already.
        let len = buf.len().saturating_sub(off);
        (len, buf.len())
    } else {
        let total = IPV6_HDR_LEN + payload;
        let claimed_end = add(off, total)?;
        if strict && claimed_end > buf.len() {
            return Err(PacketError::BadTotalLength);
        }
        (total, claimed_end.min(buf.len()))
    };
    // Extension headers must lie within the packet.
    let pkt = buf.get(..end).ok_or(PacketError::Truncated)?;

    let mut nh = next;
    let mut pos = fixed_end;
    let mut frag_offset = 0u16;
    let mut more_fragments = false;
    let mut has_frag_header = false;
    let mut count = 0;
    while is_ext_header(nh) {
        if count >= MAX_EXT_HDRS {
            return Err(PacketError::BadExtHeader);
        }
        count += 1;
        let inner_nh = byte(pkt, pos)?;
        let len_field = byte(pkt, add(pos, 1)?)? as usize;
        let hdr_len = match nh {
            NEXTHDR_FRAGMENT => {
                has_frag_header = true;
                let fo = be16(pkt, add(pos, 2)?).ok_or(PacketError::Truncated)?;
                more_fragments = fo & 1 != 0;
                frag_offset = fo & !7;
                if frag_offset != 0 {
                    // No transport header in a later fragment: report
                    // what it carries, as ipv6_find_hdr does.
                    if is_ext_header(inner_nh) {
                        return Err(PacketError::BadExtHeader);
                    }
                    let data = add(pos, 8)?;
                    if data > pkt.len() {
                        return Err(PacketError::Truncated);
                    }
                    nh = inner_nh;
                    pos = data;
                    break;
                }
                8
            }
            // AH counts 32-bit words minus 2, the others 8-octet units
            // minus 1.
            NEXTHDR_AUTH => (len_field + 2) * 4,
            _ => (len_field + 1) * 8,
        };
        let next_pos = add(pos, hdr_len)?;
        if next_pos > pkt.len() {
            return Err(PacketError::Truncated);
        }
        nh = inner_nh;
        pos = next_pos;
    }
    Ok(IpHeader {
        family: Family::Inet6,
        offset: off,
        header_len: IPV6_HDR_LEN,
        protocol: nh,
        l4_offset: pos,
        total_len,
        end,
        saddr: addr_at(buf, add(off, IPV6_SADDR)?, true).ok_or(PacketError::Truncated)?,
        daddr: addr_at(buf, add(off, IPV6_SADDR + 16)?, true).ok_or(PacketError::Truncated)?,
        ttl: hop_limit,
        frag_offset,
        more_fragments,
        dont_fragment: false,
        has_frag_header,
    })
}

/// Source and destination ports, the first 4 bytes of a TCP, UDP or SCTP
/// header (all an ICMP error is sure to quote).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ports {
    /// Source port.
    pub src: u16,
    /// Destination port.
    pub dst: u16,
}

/// Reads the ports at `off`.
#[inline]
pub fn parse_ports(buf: &[u8], off: usize) -> Result<Ports, PacketError> {
    let src = be16(buf, off).ok_or(PacketError::Truncated)?;
    let dst = be16(buf, add(off, 2)?).ok_or(PacketError::Truncated)?;
    Ok(Ports { src, dst })
}

/// The fields of a TCP header the data path uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TcpHeader {
    /// Ports.
    pub ports: Ports,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number.
    pub ack_seq: u32,
    /// Data offset, in 32-bit words, unchecked (IPVS does not check it
    /// either; see [`TcpHeader::header_len_valid`]).
    pub data_offset: u8,
    /// The flags byte.
    pub flags: TcpFlags,
    /// Window.
    pub window: u16,
    /// Checksum, big-endian value.
    pub check: u16,
}

impl TcpHeader {
    /// Header length in bytes from the data offset.
    pub const fn header_len(&self) -> usize {
        self.data_offset as usize * 4
    }

    /// Whether the data offset is at least 5 and fits in `l4_len` bytes.
    pub const fn header_len_valid(&self, l4_len: usize) -> bool {
        self.data_offset >= 5 && self.header_len() <= l4_len
    }
}

/// Parses the 20-byte fixed TCP header at `off`.
#[inline]
pub fn parse_tcp(buf: &[u8], off: usize) -> Result<TcpHeader, PacketError> {
    let h = buf
        .get(off..add(off, TCP_HDR_LEN)?)
        .ok_or(PacketError::Truncated)?;
    let [s0, s1, d0, d1, q0, q1, q2, q3, a0, a1, a2, a3, doff, flags, w0, w1, c0, c1, ..] = *h
    else {
        return Err(PacketError::Truncated);
    };
    Ok(TcpHeader {
        ports: Ports {
            src: u16::from_be_bytes([s0, s1]),
            dst: u16::from_be_bytes([d0, d1]),
        },
        seq: u32::from_be_bytes([q0, q1, q2, q3]),
        ack_seq: u32::from_be_bytes([a0, a1, a2, a3]),
        data_offset: doff >> 4,
        flags: TcpFlags::from_byte(flags),
        window: u16::from_be_bytes([w0, w1]),
        check: u16::from_be_bytes([c0, c1]),
    })
}

/// A UDP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UdpHeader {
    /// Ports.
    pub ports: Ports,
    /// Length field (header plus payload).
    pub len: u16,
    /// Checksum, big-endian value; 0 over IPv4 means none.
    pub check: u16,
}

/// Parses the UDP header at `off`.
pub fn parse_udp(buf: &[u8], off: usize) -> Result<UdpHeader, PacketError> {
    let h = buf
        .get(off..add(off, UDP_HDR_LEN)?)
        .ok_or(PacketError::Truncated)?;
    let [s0, s1, d0, d1, l0, l1, c0, c1] = *h else {
        return Err(PacketError::Truncated);
    };
    Ok(UdpHeader {
        ports: Ports {
            src: u16::from_be_bytes([s0, s1]),
            dst: u16::from_be_bytes([d0, d1]),
        },
        len: u16::from_be_bytes([l0, l1]),
        check: u16::from_be_bytes([c0, c1]),
    })
}

/// An ICMP or ICMPv6 header (same layout for the first 8 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IcmpHeader {
    /// Type.
    pub ty: u8,
    /// Code.
    pub code: u8,
    /// Checksum, big-endian value.
    pub check: u16,
    /// The type-specific 4 bytes (echo id and sequence, next-hop MTU,
    /// pointer...).
    pub rest: [u8; 4],
}

impl IcmpHeader {
    /// Whether IPVS treats the message as an error about a connection
    /// ("related"): for ICMP destination unreachable, source quench and
    /// time exceeded (not parameter problem); for ICMPv6 every error type
    /// (types below 128).
    pub const fn is_error(&self, family: Family) -> bool {
        icmp_type_is_error(self.ty, family)
    }

    /// The echo identifier (meaningful for echo messages).
    pub const fn id(&self) -> u16 {
        u16::from_be_bytes([self.rest[0], self.rest[1]])
    }

    /// The MTU of an ICMP "fragmentation needed" (16 bits at bytes 6-7)
    /// or an ICMPv6 "packet too big" (32 bits at bytes 4-7); `None` for
    /// other messages.
    pub const fn mtu(&self, family: Family) -> Option<u32> {
        match family {
            Family::Inet if self.ty == ICMP_DEST_UNREACH && self.code == ICMP_FRAG_NEEDED => {
                Some(u16::from_be_bytes([self.rest[2], self.rest[3]]) as u32)
            }
            Family::Inet6 if self.ty == ICMPV6_PKT_TOOBIG => Some(u32::from_be_bytes(self.rest)),
            _ => None,
        }
    }
}

/// Parses the ICMP or ICMPv6 header at `off`.
pub fn parse_icmp(buf: &[u8], off: usize) -> Result<IcmpHeader, PacketError> {
    let h = buf
        .get(off..add(off, ICMP_HDR_LEN)?)
        .ok_or(PacketError::Truncated)?;
    let [ty, code, c0, c1, r0, r1, r2, r3] = *h else {
        return Err(PacketError::Truncated);
    };
    Ok(IcmpHeader {
        ty,
        code,
        check: u16::from_be_bytes([c0, c1]),
        rest: [r0, r1, r2, r3],
    })
}

/// An ICMP error and the packet it quotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IcmpError {
    /// The ICMP header.
    pub icmp: IcmpHeader,
    /// The quoted IP header; its addresses and ports are those of the
    /// packet the error is about, so they read in reverse from the
    /// error's own direction.
    pub inner: IpHeader,
    /// The quoted TCP, UDP or SCTP ports: `None` for other protocols, a
    /// non-first fragment, or fewer than 4 quoted bytes.
    pub inner_ports: Option<Ports>,
}

/// Parses the ICMP error carried by the packet `outer` (parsed from the
/// same `buf`): ICMP header, quoted IP header of the same family, and the
/// quoted ports. Fails with [`PacketError::NotIcmpError`] if the packet is
/// not ICMP of its family or the type is not one IPVS relates to a
/// connection ([`IcmpHeader::is_error`]).
///
/// Left to the caller, as IPVS handles them around this step: a
/// fragmented outer packet (IPv4: reassemble first; IPv6: a fragment
/// header before ICMPv6 means it cannot be an error, drop), and quoted
/// tunnel headers (parse again with [`parse_embedded`] at
/// `inner.l4_offset`).
pub fn parse_icmp_error(buf: &[u8], outer: &IpHeader) -> Result<IcmpError, PacketError> {
    if outer.protocol != outer.family.icmp_protocol() || outer.is_non_first_fragment() {
        return Err(PacketError::NotIcmpError);
    }
    // Stay within the outer packet, not trailing padding.
    let pkt = buf.get(..outer.end).ok_or(PacketError::Truncated)?;
    let icmp = parse_icmp(pkt, outer.l4_offset)?;
    if !icmp.is_error(outer.family) {
        return Err(PacketError::NotIcmpError);
    }
    let inner = parse_embedded(pkt, add(outer.l4_offset, ICMP_HDR_LEN)?, outer.family)?;
    let inner_ports = match inner.protocol {
        IPPROTO_TCP | IPPROTO_UDP | IPPROTO_SCTP if !inner.is_non_first_fragment() => {
            parse_ports(pkt, inner.l4_offset).ok()
        }
        _ => None,
    };
    Ok(IcmpError {
        icmp,
        inner,
        inner_ports,
    })
}

/// Decrements the TTL (IPv4, with its header checksum) or the hop limit
/// (IPv6) of the header at the start of `hdr`, as a router forwarding the
/// packet (`ip_decrease_ttl`). `false`, changing nothing, if it is 1 or
/// less (the packet ends here) or the header is short.
pub fn decrease_ttl(hdr: &mut [u8], v6: bool) -> bool {
    let at = if v6 { IPV6_HOP_LIMIT } else { IPV4_TTL };
    let Some(&ttl) = hdr.get(at) else {
        return false;
    };
    if ttl <= 1 || (!v6 && hdr.len() < IPV4_HDR_LEN) {
        return false;
    }
    if !v6 {
        // The TTL is the high byte of the 16-bit word it shares with the
        // protocol.
        let (Some(check), Some(word)) = (be16(hdr, IPV4_CHECK), be16(hdr, IPV4_TTL)) else {
            return false;
        };
        let check = super::csum::replace2(check, word, word - 0x100);
        set_be16(hdr, IPV4_CHECK, check);
    }
    hdr[at] = ttl - 1;
    true
}

/// An IPv6 address the kernel's `ipv6_addr_type` calls unicast: any but
/// the unspecified address, multicast (`ff00::/8`) and IPv4-mapped
/// (`::ffff:0:0/96`) ones.
pub fn ipv6_is_unicast(a: &[u8; 16]) -> bool {
    let unspecified = a.iter().all(|&b| b == 0);
    let multicast = a[0] == 0xff;
    let mapped = a[..10].iter().all(|&b| b == 0) && a[10] == 0xff && a[11] == 0xff;
    !(unspecified || multicast || mapped)
}

#[cfg(test)]
mod tests {
    use super::super::csum;
    use super::*;
    use proptest::prelude::*;
    use std::vec;
    use std::vec::Vec;

    const C4: [u8; 4] = [192, 168, 1, 10];
    const V4: [u8; 4] = [10, 0, 0, 1];

    #[test]
    fn ttl_decrements_like_a_router() {
        let mut h = [0u8; 20];
        h[0] = 0x45;
        h[8] = 64;
        h[9] = 6;
        h[12..20].copy_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
        csum::ipv4_header_fill(&mut h);
        assert!(decrease_ttl(&mut h, false));
        assert_eq!(h[8], 63);
        assert!(csum::ipv4_header_valid(&h));
        h[8] = 1;
        csum::ipv4_header_fill(&mut h);
        let before = h;
        assert!(!decrease_ttl(&mut h, false));
        assert_eq!(h, before);
        assert!(!decrease_ttl(&mut h[..19], false));
        let mut six = [0u8; 40];
        six[0] = 0x60;
        six[7] = 2;
        assert!(decrease_ttl(&mut six, true));
        assert_eq!(six[7], 1);
        assert!(!decrease_ttl(&mut six, true));
        assert!(!decrease_ttl(&mut six[..7], true));
    }

    proptest! {
        #[test]
        fn ttl_decrement_keeps_the_checksum(tos: u8, ttl in 2u8.., proto: u8, id: u16, sa: [u8; 4], da: [u8; 4]) {
            let mut h = [0u8; 20];
            h[0] = 0x45;
            h[1] = tos;
            h[4..6].copy_from_slice(&id.to_be_bytes());
            h[8] = ttl;
            h[9] = proto;
            h[12..16].copy_from_slice(&sa);
            h[16..20].copy_from_slice(&da);
            csum::ipv4_header_fill(&mut h);
            prop_assert!(decrease_ttl(&mut h, false));
            prop_assert_eq!(h[8], ttl - 1);
            prop_assert!(csum::ipv4_header_valid(&h));
        }
    }

    #[test]
    fn fixed_size_reads_and_writes() {
        let mut b = [0u8; 20];
        assert_eq!(put_array(&mut b, 16, &[1, 2, 3, 4]), Some(()));
        assert_eq!(array_at::<4>(&b, 16), Some([1, 2, 3, 4]));
        // Past the end, or an offset that overflows: refused, nothing written.
        assert_eq!(put_array(&mut b, 17, &[9, 9, 9, 9]), None);
        assert_eq!(put_array(&mut b, usize::MAX, &[9]), None);
        assert_eq!(array_at::<4>(&b, 17), None);
        assert_eq!(b[16..], [1, 2, 3, 4]);
        let mut a16 = [7u8; 16];
        a16[..4].copy_from_slice(&[10, 0, 0, 1]);
        assert_eq!(put_addr(&mut b, 0, &a16, false), Some(()));
        assert_eq!(b[..5], [10, 0, 0, 1, 0]);
        let got = addr_at(&b, 0, false).unwrap();
        assert_eq!(got[..4], [10, 0, 0, 1]);
        assert!(got[4..].iter().all(|&x| x == 0));
        assert_eq!(put_addr(&mut b, 8, &a16, true), None);
        assert_eq!(put_addr(&mut b, 4, &a16, true), Some(()));
        assert_eq!(addr_at(&b, 4, true), Some(a16));
        assert!(set_be16(&mut b, 18, 0xABCD));
        assert!(!set_be16(&mut b, 19, 1));
        assert_eq!(be16(&b, 18), Some(0xABCD));
    }

    fn v6addr(last: u8) -> [u8; 16] {
        let mut a = [0u8; 16];
        a[0] = 0x20;
        a[1] = 0x01;
        a[2] = 0x0d;
        a[3] = 0xb8;
        a[15] = last;
        a
    }

    fn ipv4(proto: u8, src: [u8; 4], dst: [u8; 4], frag: u16, payload: &[u8]) -> Vec<u8> {
        let total = 20 + payload.len();
        let mut p = vec![0x45, 0, 0, 0, 0x12, 0x34, 0, 0, 64, proto, 0, 0];
        p[2..4].copy_from_slice(&(total as u16).to_be_bytes());
        p[6..8].copy_from_slice(&frag.to_be_bytes());
        p.extend_from_slice(&src);
        p.extend_from_slice(&dst);
        assert!(csum::ipv4_header_fill(&mut p[..20]));
        p.extend_from_slice(payload);
        p
    }

    fn ipv6(next: u8, src: [u8; 16], dst: [u8; 16], payload: &[u8]) -> Vec<u8> {
        let mut p = vec![0x60, 0, 0, 0, 0, 0, next, 55];
        p[4..6].copy_from_slice(&(payload.len() as u16).to_be_bytes());
        p.extend_from_slice(&src);
        p.extend_from_slice(&dst);
        p.extend_from_slice(payload);
        p
    }

    fn tcp(sport: u16, dport: u16, flags: u8) -> Vec<u8> {
        let mut t = vec![0u8; 20];
        t[0..2].copy_from_slice(&sport.to_be_bytes());
        t[2..4].copy_from_slice(&dport.to_be_bytes());
        t[4..8].copy_from_slice(&1000u32.to_be_bytes());
        t[8..12].copy_from_slice(&2000u32.to_be_bytes());
        t[12] = 5 << 4;
        t[13] = flags;
        t[14..16].copy_from_slice(&65535u16.to_be_bytes());
        t
    }

    fn udp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
        let mut u = vec![0u8; 8];
        u[0..2].copy_from_slice(&sport.to_be_bytes());
        u[2..4].copy_from_slice(&dport.to_be_bytes());
        u[4..6].copy_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
        u.extend_from_slice(payload);
        u
    }

    #[test]
    fn ipv4_tcp() {
        let mut p = ipv4(IPPROTO_TCP, C4, V4, 0x4000, &tcp(40000, 80, 0x02));
        // Ethernet padding after the packet is not part of it.
        p.extend_from_slice(&[0; 6]);
        let h = parse_ip(&p).unwrap();
        assert_eq!(h.family, Family::Inet);
        assert_eq!(h.protocol, IPPROTO_TCP);
        assert_eq!(h.l4_offset, 20);
        assert_eq!(h.total_len, 40);
        assert_eq!(h.end, 40);
        assert_eq!(h.l4_len(), 20);
        assert_eq!(h.saddr_v4(), C4);
        assert_eq!(h.daddr_v4(), V4);
        assert_eq!(h.saddr[4..], [0; 12]);
        assert_eq!(h.ttl, 64);
        assert!(h.dont_fragment && !h.is_fragment() && !h.is_non_first_fragment());
        assert!(csum::ipv4_header_valid(&p[..h.header_len]));
        let t = parse_tcp(&p, h.l4_offset).unwrap();
        assert_eq!(
            t.ports,
            Ports {
                src: 40000,
                dst: 80
            }
        );
        assert_eq!((t.seq, t.ack_seq, t.window), (1000, 2000, 65535));
        assert!(t.flags.syn() && !t.flags.ack());
        assert_eq!(t.header_len(), 20);
        assert!(t.header_len_valid(h.l4_len()));
        assert_eq!(parse_tcp(&p, 30), Err(PacketError::Truncated));
    }

    #[test]
    fn ipv4_options_and_bad_headers() {
        let mut p = ipv4(IPPROTO_UDP, C4, V4, 0, &udp(53, 5353, b"hi"));
        // Add 4 bytes of options (NOPs).
        p[0] = 0x46;
        p.splice(20..20, [1, 1, 1, 1]);
        let total = p.len() as u16;
        p[2..4].copy_from_slice(&total.to_be_bytes());
        let h = parse_ipv4(&p).unwrap();
        assert_eq!(h.header_len, 24);
        let u = parse_udp(&p, h.l4_offset).unwrap();
        assert_eq!(u.ports, Ports { src: 53, dst: 5353 });
        assert_eq!(u.len, 10);

        let mut bad = p.clone();
        bad[0] = 0x44;
        assert_eq!(parse_ipv4(&bad), Err(PacketError::BadHeaderLength));
        bad[0] = 0x55;
        assert_eq!(parse_ipv4(&bad), Err(PacketError::BadVersion));
        assert_eq!(parse_ipv6(&p), Err(PacketError::BadVersion));
        bad[0] = 0x4F; // 60-byte header, buffer has 34
        assert_eq!(parse_ipv4(&bad), Err(PacketError::Truncated));
        let mut bad = p.clone();
        bad[2..4].copy_from_slice(&(total + 1).to_be_bytes());
        assert_eq!(parse_ipv4(&bad), Err(PacketError::BadTotalLength));
        bad[2..4].copy_from_slice(&23u16.to_be_bytes());
        assert_eq!(parse_ipv4(&bad), Err(PacketError::BadTotalLength));
        assert_eq!(parse_ipv4(&p[..19]), Err(PacketError::Truncated));
        assert_eq!(parse_ip(&[]), Err(PacketError::Truncated));
        assert_eq!(parse_ip(&[0x70]), Err(PacketError::BadVersion));
    }

    #[test]
    fn ipv4_fragments() {
        let first = ipv4(IPPROTO_UDP, C4, V4, 0x2000, &udp(1, 2, &[0; 16]));
        let h = parse_ipv4(&first).unwrap();
        assert!(h.is_fragment() && h.more_fragments && !h.is_non_first_fragment());
        let later = ipv4(IPPROTO_UDP, C4, V4, 3, &[0; 8]);
        let h = parse_ipv4(&later).unwrap();
        assert!(h.is_fragment() && h.is_non_first_fragment() && !h.more_fragments);
        assert_eq!(h.frag_offset, 24);
    }

    #[test]
    fn ipv6_plain_and_extension_headers() {
        let s = v6addr(1);
        let d = v6addr(2);
        let p = ipv6(IPPROTO_TCP, s, d, &tcp(1234, 443, 0x10));
        let h = parse_ip(&p).unwrap();
        assert_eq!(h.family, Family::Inet6);
        assert_eq!(
            (h.protocol, h.l4_offset, h.total_len, h.ttl),
            (6, 40, 60, 55)
        );
        assert_eq!((h.saddr, h.daddr), (s, d));
        assert!(!h.is_fragment());

        // Hop-by-hop (8) -> destination options (16) -> routing (8) -> UDP.
        let mut ext = vec![NEXTHDR_DEST, 0, 1, 4, 0, 0, 0, 0];
        ext.extend_from_slice(&[NEXTHDR_ROUTING, 1, 1, 12, 0, 0, 0, 0]);
        ext.extend_from_slice(&[0; 8]);
        ext.extend_from_slice(&[IPPROTO_UDP, 0, 0, 0, 0, 0, 0, 0]);
        ext.extend_from_slice(&udp(7, 9, b"x"));
        let p = ipv6(NEXTHDR_HOP, s, d, &ext);
        let h = parse_ipv6(&p).unwrap();
        assert_eq!((h.protocol, h.l4_offset), (IPPROTO_UDP, 72));
        assert_eq!(parse_udp(&p, h.l4_offset).unwrap().ports.dst, 9);

        // AH counts in 4-byte words: hdrlen 1 -> 12 bytes.
        let mut ah = vec![IPPROTO_TCP, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        ah.extend_from_slice(&tcp(1, 2, 0x10));
        let h = parse_ipv6(&ipv6(NEXTHDR_AUTH, s, d, &ah)).unwrap();
        assert_eq!((h.protocol, h.l4_offset), (IPPROTO_TCP, 52));

        // No next header, and an unknown protocol (ESP) are reported as is.
        let h = parse_ipv6(&ipv6(NEXTHDR_NONE, s, d, &[])).unwrap();
        assert_eq!((h.protocol, h.l4_offset), (NEXTHDR_NONE, 40));
        let h = parse_ipv6(&ipv6(50, s, d, &[0; 8])).unwrap();
        assert_eq!(h.protocol, 50);

        // An extension header running past the payload.
        let p = ipv6(NEXTHDR_DEST, s, d, &[IPPROTO_TCP, 1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(parse_ipv6(&p), Err(PacketError::Truncated));
        let p = ipv6(NEXTHDR_DEST, s, d, &[IPPROTO_TCP]);
        assert_eq!(parse_ipv6(&p), Err(PacketError::Truncated));

        // Thirteen destination option headers are too many; twelve are fine.
        for (n, ok) in [(12usize, true), (13, false)] {
            let mut ext = Vec::new();
            for i in 0..n {
                let next = if i + 1 == n {
                    IPPROTO_UDP
                } else {
                    NEXTHDR_DEST
                };
                ext.extend_from_slice(&[next, 0, 0, 0, 0, 0, 0, 0]);
            }
            ext.extend_from_slice(&udp(1, 2, b""));
            let r = parse_ipv6(&ipv6(NEXTHDR_DEST, s, d, &ext));
            if ok {
                assert_eq!(r.unwrap().l4_offset, 40 + 8 * n);
            } else {
                assert_eq!(r, Err(PacketError::BadExtHeader));
            }
        }

        // Payload length beyond the buffer.
        let mut p = ipv6(IPPROTO_TCP, s, d, &tcp(1, 2, 0));
        p.truncate(50);
        assert_eq!(parse_ipv6(&p), Err(PacketError::BadTotalLength));
        assert_eq!(parse_ipv6(&p[..39]), Err(PacketError::Truncated));
    }

    #[test]
    fn ipv6_fragments() {
        let s = v6addr(1);
        let d = v6addr(2);
        // First fragment: offset 0, M set; the walk goes on to UDP.
        let mut f = vec![IPPROTO_UDP, 0, 0x00, 0x01, 0, 0, 0, 7];
        f.extend_from_slice(&udp(5, 6, &[0; 8]));
        let h = parse_ipv6(&ipv6(NEXTHDR_FRAGMENT, s, d, &f)).unwrap();
        assert_eq!((h.protocol, h.l4_offset), (IPPROTO_UDP, 48));
        assert!(h.has_frag_header && h.more_fragments && !h.is_non_first_fragment());
        // Later fragment (offset 1448): protocol from the fragment header.
        let off: u16 = 1448;
        let mut f = vec![IPPROTO_UDP, 0, 0, 0, 0, 0, 0, 7];
        f[2..4].copy_from_slice(&off.to_be_bytes());
        f.extend_from_slice(&[0; 16]);
        let h = parse_ipv6(&ipv6(NEXTHDR_FRAGMENT, s, d, &f)).unwrap();
        assert_eq!(
            (h.protocol, h.l4_offset, h.frag_offset),
            (IPPROTO_UDP, 48, 1448)
        );
        assert!(h.is_non_first_fragment() && !h.more_fragments);
        // A later fragment announcing another extension header.
        f[0] = NEXTHDR_DEST;
        assert_eq!(
            parse_ipv6(&ipv6(NEXTHDR_FRAGMENT, s, d, &f)),
            Err(PacketError::BadExtHeader)
        );
        // Atomic fragment: a fragment nonetheless.
        let mut f = vec![IPPROTO_TCP, 0, 0, 0, 0, 0, 0, 7];
        f.extend_from_slice(&tcp(1, 2, 0x10));
        let h = parse_ipv6(&ipv6(NEXTHDR_FRAGMENT, s, d, &f)).unwrap();
        assert!(h.is_fragment() && !h.is_non_first_fragment());
    }

    #[test]
    fn ipv6_jumbogram_takes_the_buffer() {
        let mut hop = vec![IPPROTO_UDP, 0, 0xC2, 4, 0, 0, 0, 0];
        hop.extend_from_slice(&udp(1, 2, b""));
        let mut p = ipv6(NEXTHDR_HOP, v6addr(1), v6addr(2), &hop);
        p[4] = 0;
        p[5] = 0;
        let h = parse_ipv6(&p).unwrap();
        assert_eq!((h.total_len, h.end, h.l4_offset), (p.len(), p.len(), 48));
    }

    #[test]
    fn icmp_errors_v4() {
        // The client's original TCP packet, as quoted: header + 8 bytes.
        let orig = ipv4(IPPROTO_TCP, V4, C4, 0, &tcp(80, 40000, 0x12));
        let mut msg = vec![ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, 0, 0, 0, 0, 0x05, 0xdc];
        msg.extend_from_slice(&orig[..28]);
        let p = ipv4(IPPROTO_ICMP, [10, 9, 9, 9], V4, 0, &msg);
        let outer = parse_ipv4(&p).unwrap();
        let e = parse_icmp_error(&p, &outer).unwrap();
        assert_eq!((e.icmp.ty, e.icmp.code), (3, 4));
        assert_eq!(e.icmp.mtu(Family::Inet), Some(1500));
        assert_eq!(e.inner.offset, 28);
        assert_eq!(e.inner.l4_offset, 48);
        assert_eq!(e.inner.total_len, 40);
        assert_eq!(e.inner.end, p.len());
        assert_eq!(e.inner.protocol, IPPROTO_TCP);
        assert_eq!((e.inner.saddr_v4(), e.inner.daddr_v4()), (V4, C4));
        assert_eq!(
            e.inner_ports,
            Some(Ports {
                src: 80,
                dst: 40000
            })
        );

        // Only 4 quoted bytes of transport still give the ports; 3 do not.
        let short = ipv4(IPPROTO_ICMP, [10, 9, 9, 9], V4, 0, &msg[..8 + 24]);
        let outer = parse_ipv4(&short).unwrap();
        assert!(parse_icmp_error(&short, &outer)
            .unwrap()
            .inner_ports
            .is_some());
        let shorter = ipv4(IPPROTO_ICMP, [10, 9, 9, 9], V4, 0, &msg[..8 + 23]);
        let outer = parse_ipv4(&shorter).unwrap();
        assert_eq!(
            parse_icmp_error(&shorter, &outer).unwrap().inner_ports,
            None
        );
        // Fewer than 20 quoted bytes: no inner header.
        let cut = ipv4(IPPROTO_ICMP, [10, 9, 9, 9], V4, 0, &msg[..8 + 19]);
        let outer = parse_ipv4(&cut).unwrap();
        assert_eq!(parse_icmp_error(&cut, &outer), Err(PacketError::Truncated));

        // Echo request, parameter problem: not related.
        for ty in [8u8, 0, ICMP_PARAMETERPROB] {
            let mut m = msg.clone();
            m[0] = ty;
            let p = ipv4(IPPROTO_ICMP, C4, V4, 0, &m);
            let outer = parse_ipv4(&p).unwrap();
            assert_eq!(parse_icmp_error(&p, &outer), Err(PacketError::NotIcmpError));
        }
        // Time exceeded and source quench are.
        for ty in [ICMP_TIME_EXCEEDED, ICMP_SOURCE_QUENCH] {
            let mut m = msg.clone();
            m[0] = ty;
            let p = ipv4(IPPROTO_ICMP, C4, V4, 0, &m);
            let outer = parse_ipv4(&p).unwrap();
            let e = parse_icmp_error(&p, &outer).unwrap();
            assert_eq!(e.icmp.mtu(Family::Inet), None);
        }
        // A quoted non-first fragment has no ports.
        let frag = ipv4(IPPROTO_UDP, V4, C4, 0x0010, &[0; 8]);
        let mut m = msg[..8].to_vec();
        m.extend_from_slice(&frag);
        let p = ipv4(IPPROTO_ICMP, C4, V4, 0, &m);
        let e = parse_icmp_error(&p, &parse_ipv4(&p).unwrap()).unwrap();
        assert!(e.inner.is_non_first_fragment());
        assert_eq!(e.inner_ports, None);
        // Quoted IPv6 in ICMP: refused.
        let mut m = msg[..8].to_vec();
        m.extend_from_slice(&ipv6(IPPROTO_TCP, v6addr(1), v6addr(2), &tcp(1, 2, 0)));
        let p = ipv4(IPPROTO_ICMP, C4, V4, 0, &m);
        assert_eq!(
            parse_icmp_error(&p, &parse_ipv4(&p).unwrap()),
            Err(PacketError::BadVersion)
        );
        // Not ICMP at all.
        let p = ipv4(IPPROTO_TCP, C4, V4, 0, &tcp(1, 2, 2));
        assert_eq!(
            parse_icmp_error(&p, &parse_ipv4(&p).unwrap()),
            Err(PacketError::NotIcmpError)
        );
    }

    #[test]
    fn icmp_errors_v6() {
        let s = v6addr(1);
        let d = v6addr(2);
        let orig = ipv6(IPPROTO_UDP, d, s, &udp(53, 33000, &[0; 100]));
        let mut msg = vec![ICMPV6_PKT_TOOBIG, 0, 0, 0, 0, 0, 0x05, 0x00];
        msg.extend_from_slice(&orig[..80]);
        let p = ipv6(IPPROTO_ICMPV6, v6addr(9), d, &msg);
        let outer = parse_ipv6(&p).unwrap();
        let e = parse_icmp_error(&p, &outer).unwrap();
        assert_eq!(e.icmp.mtu(Family::Inet6), Some(1280));
        assert_eq!(e.inner.offset, 48);
        assert_eq!(e.inner.l4_offset, 88);
        assert_eq!(e.inner.total_len, 148);
        assert_eq!(e.inner.end, p.len());
        assert_eq!((e.inner.saddr, e.inner.daddr), (d, s));
        assert_eq!(
            e.inner_ports,
            Some(Ports {
                src: 53,
                dst: 33000
            })
        );
        for ty in [ICMPV6_DEST_UNREACH, ICMPV6_TIME_EXCEED, ICMPV6_PARAMPROB] {
            let mut m = msg.clone();
            m[0] = ty;
            let p = ipv6(IPPROTO_ICMPV6, v6addr(9), d, &m);
            assert!(parse_icmp_error(&p, &parse_ipv6(&p).unwrap()).is_ok());
        }
        // Echo request (128) is informational.
        let mut m = msg.clone();
        m[0] = 128;
        let p = ipv6(IPPROTO_ICMPV6, v6addr(9), d, &m);
        let outer = parse_ipv6(&p).unwrap();
        assert_eq!(parse_icmp_error(&p, &outer), Err(PacketError::NotIcmpError));
        let icmp = parse_icmp(&p, outer.l4_offset).unwrap();
        assert_eq!(icmp.id(), 0);
        assert!(!icmp.is_error(Family::Inet6));
        assert_eq!(parse_icmp(&p, p.len() - 7), Err(PacketError::Truncated));
    }

    #[test]
    fn byte_helpers() {
        let mut b = [0u8; 4];
        assert!(set_be16(&mut b, 2, 0xBEEF));
        assert!(!set_be16(&mut b, 3, 1));
        assert!(!set_be16(&mut b, usize::MAX, 1));
        assert_eq!(be16(&b, 2), Some(0xBEEF));
        assert_eq!(be16(&b, 3), None);
        assert_eq!(be16(&b, usize::MAX), None);
        assert_eq!(be32(&b, 0), Some(0xBEEF));
        assert_eq!(be32(&b, 1), None);
        assert_eq!(parse_ports(&b, usize::MAX), Err(PacketError::Truncated));
        assert_eq!(parse_tcp(&b, usize::MAX - 3), Err(PacketError::Truncated));
        assert_eq!(
            parse_embedded(&b, usize::MAX, Family::Inet6),
            Err(PacketError::Truncated)
        );
        assert_eq!(Family::Inet6.af(), 10);
    }

    /// Everything reachable from a buffer, parsed any way.
    fn parse_everything(buf: &[u8], off: usize) {
        if let Ok(h) = parse_ip(buf) {
            assert!(h.l4_offset <= h.end && h.end <= buf.len());
            let _ = parse_tcp(buf, h.l4_offset);
            let _ = parse_udp(buf, h.l4_offset);
            let _ = parse_icmp_error(buf, &h);
        }
        for fam in [Family::Inet, Family::Inet6] {
            let _ = parse_embedded(buf, off, fam);
        }
        let _ = parse_ports(buf, off);
        let _ = parse_icmp(buf, off);
    }

    fn any_proto() -> impl Strategy<Value = u8> {
        prop_oneof![
            Just(IPPROTO_TCP),
            Just(IPPROTO_UDP),
            Just(IPPROTO_ICMP),
            Just(IPPROTO_ICMPV6),
            Just(NEXTHDR_HOP),
            Just(NEXTHDR_ROUTING),
            Just(NEXTHDR_FRAGMENT),
            Just(NEXTHDR_AUTH),
            Just(NEXTHDR_DEST),
            any::<u8>(),
        ]
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(
            buf in proptest::collection::vec(any::<u8>(), 0..200),
            off in any::<usize>(),
        ) {
            parse_everything(&buf, off % 256);
            parse_everything(&buf, off);
        }

        /// Plausible headers with random bodies reach the deeper paths.
        #[test]
        fn never_panics_on_plausible_packets(
            v6 in any::<bool>(),
            proto in any_proto(),
            body in proptest::collection::vec(any_proto(), 0..160),
            len_delta in -8i32..8,
            cut in 0usize..200,
        ) {
            let mut p = if v6 {
                ipv6(proto, v6addr(1), v6addr(2), &body)
            } else {
                ipv4(proto, C4, V4, 0, &body)
            };
            let lo = if v6 { 4 } else { 2 };
            let len = i32::from(u16::from_be_bytes([p[lo], p[lo + 1]])) + len_delta;
            p[lo..lo + 2].copy_from_slice(&(len.max(0) as u16).to_be_bytes());
            p.truncate(cut.max(1));
            parse_everything(&p, 20);
            parse_everything(&p, 40);
        }
    }

    #[test]
    fn ipv6_unicast_as_the_kernel_counts() {
        let a = |s: &str| -> [u8; 16] { s.parse::<std::net::Ipv6Addr>().unwrap().octets() };
        for u in [
            "2001:db8::1",
            "fe80::1",
            "fc00::5",
            "::1",
            "::10.0.0.1",
            "64:ff9b::1",
        ] {
            assert!(ipv6_is_unicast(&a(u)), "{u}");
        }
        for n in ["::", "ff02::1", "ff05::2", "::ffff:10.0.0.1"] {
            assert!(!ipv6_is_unicast(&a(n)), "{n}");
        }
    }
}
