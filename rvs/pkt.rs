// SPDX-License-Identifier: GPL-2.0

//! A packet as the hooks parse it once (IPVS's `ip_vs_iphdr` and ports)
//! and hand it on to scheduling and the forwarding methods.

use crate::conn_table::Tuple;
use crate::rvs_core::packet::{self, Family, IpHeader};
use crate::rvs_core::sctp::{self, SctpChunks};
use crate::proto::L4;
use crate::skb::Skb;

/// What is read to parse headers: IPv4's longest header plus TCP's, or
/// IPv6's plus room for an extension header.
pub(crate) const HEAD: usize = 128;

/// A parsed TCP, UDP or SCTP packet.
pub(crate) struct Pkt {
    pub(crate) ip: IpHeader,
    pub(crate) af: u16,
    pub(crate) sport: u16,
    pub(crate) dport: u16,
    pub(crate) l4: L4,
}

impl Pkt {
    /// Its addresses and ports, for the connection lookup.
    pub(crate) fn tuple(&self) -> Tuple<'_> {
        Tuple {
            af: self.af,
            protocol: self.ip.protocol,
            saddr: &self.ip.saddr,
            sport: self.sport,
            daddr: &self.ip.daddr,
            dport: self.dport,
        }
    }
}

/// The addresses, ports and what the protocol's state needs (TCP's flags,
/// SCTP's chunk types) of a TCP, UDP or SCTP packet; `None` for other
/// packets and non-first fragments.
pub(crate) fn parse(skb: &Skb, family: Family) -> Option<Pkt> {
    with_head(skb, |head| parse_head(skb, head, family))
}

/// `f` on the packet's first `HEAD` bytes (fewer in a shorter packet),
/// read where they lie: from the linear area, or, when they are not all
/// there (a GSO packet's may not be), from a copy.
#[inline(always)]
pub(crate) fn with_head<R>(skb: &Skb, f: impl FnOnce(&[u8]) -> Option<R>) -> Option<R> {
    let n = skb.len().min(HEAD);
    match skb.linear(0, n) {
        Some(head) => f(head),
        None => with_copied_head(skb, n, f),
    }
}

#[cold]
fn with_copied_head<R>(skb: &Skb, n: usize, f: impl FnOnce(&[u8]) -> Option<R>) -> Option<R> {
    let mut buf = [0u8; HEAD];
    f(skb.peek(0, n, &mut buf)?)
}

#[inline(always)]
fn parse_head(skb: &Skb, head: &[u8], family: Family) -> Option<Pkt> {
    let ip = packet::parse_embedded(head, 0, family).ok()?;
    if ip.is_non_first_fragment() {
        return None;
    }
    let ports = packet::parse_ports(head, ip.l4_offset).ok()?;
    let l4 = match ip.protocol {
        packet::IPPROTO_TCP => L4::Tcp(packet::parse_tcp(head, ip.l4_offset).ok()?.flags),
        packet::IPPROTO_UDP => L4::Udp,
        packet::IPPROTO_SCTP => {
            let (first, len) = sctp::first_chunk(head.get(ip.l4_offset..)?)?;
            // An ABORT bundled after a cookie chunk may lie beyond what
            // was read: only then is one more byte read.
            let next = sctp::lookahead_offset(first, len).and_then(|off| {
                let mut t = [0u8; 1];
                skb.peek(ip.l4_offset.checked_add(off)?, 1, &mut t)?.first().copied()
            });
            L4::Sctp(SctpChunks::new(first, next))
        }
        _ => return None,
    };
    Some(Pkt {
        af: family.af(),
        sport: ports.src,
        dport: ports.dst,
        l4,
        ip,
    })
}
