// SPDX-License-Identifier: GPL-2.0

//! Forwarding methods, as IPVS's `ip_vs_xmit.c`: NAT (rewrite the
//! destination to the real server, and replies' source back), direct
//! routing (re-route with the virtual address kept) and IPIP tunnelling.
//!
//! Each returns the hook's verdict: `NF_STOLEN` once the packet is sent
//! on, `NF_DROP` when it cannot be, `NF_ACCEPT` to let it continue.

use core::ffi::c_uint;

use kernel::bindings;

use crate::conn::Conn;
use crate::netns::NetRef;
use crate::pkt::Pkt;
use crate::rcu::ReadSide;
use crate::rvs_core::csum::{self, CsumMode};
use crate::rvs_core::ctl::AF_INET6;
use crate::rvs_core::packet::{self, Family, IpHeader};
use crate::skb::{self, Dst, Skb, CHECKSUM_PARTIAL};

const NF_DROP: c_uint = bindings::NF_DROP;
const NF_ACCEPT: c_uint = bindings::NF_ACCEPT;
const NF_STOLEN: c_uint = bindings::NF_STOLEN;

/// Room for the link-layer header in front of an encapsulated packet.
const LL_HEADROOM: usize = 32;

/// The route to a connection's real server.
pub(crate) fn route<'r>(rcu: &'r ReadSide, net: NetRef<'_>, c: &Conn) -> Option<(Dst<'r>, [u8; 16])> {
    route_to(rcu, net, c, false)
}

/// The route to a connection's real server. `known_nh`: the next hop is
/// the real server even though the packet's destination stays the virtual
/// address (direct routing).
fn route_to<'r>(
    rcu: &'r ReadSide,
    net: NetRef<'_>,
    c: &Conn,
    known_nh: bool,
) -> Option<(Dst<'r>, [u8; 16])> {
    // The connection's address is its real server's, so is its route.
    let cache = c.dest.as_ref().map(|d| &d.routes[usize::from(known_nh)]);
    if c.daf == AF_INET6 {
        skb::route6(rcu, net, cache, c.daddr, 0, known_nh)
    } else {
        let d = [c.daddr[0], c.daddr[1], c.daddr[2], c.daddr[3]];
        skb::route4(rcu, net, cache, d, 0, known_nh).map(|(dst, [a, b, c, d])| {
            (dst, [a, b, c, d, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        })
    }
}

/// Packets larger than the path MTU with DF set (always, for IPv6) get
/// "too big" back, as IPVS's `ensure_mtu_is_adequate`.
fn too_big(skb: &mut Skb, p: &Pkt, mtu: u32) -> bool {
    let v6 = p.af == AF_INET6;
    // No fragment of a packet is longer than the packet.
    if skb.len() <= mtu as usize {
        return false;
    }
    // A reassembled packet is fragmented again on the way out: what must
    // fit is its largest fragment.
    let size = match skb.frag_max_size(v6) {
        0 => skb.len(),
        largest => largest as usize,
    };
    if skb.is_gso() || size <= mtu as usize || !(v6 || p.ip.dont_fragment) {
        return false;
    }
    skb.icmp_too_big(v6, mtu);
    true
}

/// Rewrites one endpoint (source if `src`, else destination) of the packet
/// to `addr`:`port`, patching the IPv4 header checksum and the transport
/// checksum as its `ip_summed` requires.
fn rewrite(skb: &mut Skb, p: &Pkt, src: bool, addr: &[u8; 16], port: u16) -> Option<()> {
    let v6 = p.af == AF_INET6;
    let l4 = p.ip.l4_offset;
    let proto = p.l4.csum()?;
    let (check_off, l4_min) = (proto.offset, proto.header_len);
    let mode = if skb.ip_summed() == CHECKSUM_PARTIAL {
        CsumMode::Partial
    } else {
        CsumMode::Full
    };
    let buf = skb.head_mut(l4 + l4_min)?;
    let (saddr_off, daddr_off) = packet::addr_offsets(v6);
    let aoff = if src { saddr_off } else { daddr_off };
    let poff = l4 + if src { packet::L4_SPORT } else { packet::L4_DPORT };
    let old_addr = packet::addr_at(buf, aoff, v6)?;
    let old_port = packet::be16(buf, poff)?;
    let mut check = packet::be16(buf, l4 + check_off)?;
    // UDP over IPv4 may carry no checksum at all (0): it stays so.
    let no_csum = proto.zero_is_none && !v6 && check == 0;
    if !no_csum {
        check = if v6 {
            csum::proto_replace16(check, mode, &old_addr, addr, true)
        } else {
            let o = [old_addr[0], old_addr[1], old_addr[2], old_addr[3]];
            let n = [addr[0], addr[1], addr[2], addr[3]];
            csum::proto_replace4(check, mode, o, n, true)
        };
        check = csum::proto_replace2(check, mode, old_port, port, false);
        if proto.zero_is_none && mode == CsumMode::Full {
            check = csum::udp_final(check);
        }
        packet::set_be16(buf, l4 + check_off, check);
    }
    if !v6 {
        // The header checksum the input path verified, updated for the
        // new address (RFC 1624), as a recomputation would give.
        let hc = packet::be16(buf, packet::IPV4_CHECK)?;
        let o = [old_addr[0], old_addr[1], old_addr[2], old_addr[3]];
        let n = [addr[0], addr[1], addr[2], addr[3]];
        packet::set_be16(buf, packet::IPV4_CHECK, csum::replace4(hc, o, n));
    }
    packet::put_addr(buf, aoff, addr, v6)?;
    packet::set_be16(buf, poff, port);
    if mode == CsumMode::Full {
        // A checksum the device computed over the old bytes is void.
        skb.csum_none();
    }
    Some(())
}

/// NAT, client to real server: the destination becomes the real server.
pub(crate) fn nat_in(rcu: &ReadSide, net: NetRef<'_>, mut skb: Skb, c: &Conn, p: &Pkt, pf: u8) -> c_uint {
    let Some((dst, _)) = route_to(rcu, net, c, false) else {
        return NF_DROP;
    };
    if too_big(&mut skb, p, dst.mtu) {
        return NF_DROP;
    }
    if rewrite(&mut skb, p, false, &c.daddr, c.dport).is_none() {
        return NF_DROP;
    }
    if dst.local {
        // The real server is this host: deliver locally, rewritten.
        return NF_ACCEPT;
    }
    skb.set_dst(dst);
    skb.send(net, pf);
    NF_STOLEN
}

/// NAT, real server to client: the source becomes the virtual service.
pub(crate) fn nat_out(skb: &mut Skb, c: &Conn, p: &Pkt) -> c_uint {
    match rewrite(skb, p, true, &c.vaddr, c.vport) {
        Some(()) => NF_ACCEPT,
        None => NF_DROP,
    }
}

/// Direct routing: the packet goes unchanged to the real server's link
/// address; the real server holds the virtual address itself.
pub(crate) fn dr(rcu: &ReadSide, net: NetRef<'_>, mut skb: Skb, c: &Conn, p: &Pkt, pf: u8) -> c_uint {
    let Some((dst, _)) = route_to(rcu, net, c, true) else {
        return NF_DROP;
    };
    if dst.local {
        return NF_ACCEPT;
    }
    if too_big(&mut skb, p, dst.mtu) {
        return NF_DROP;
    }
    skb.set_dst(dst);
    skb.send(net, pf);
    NF_STOLEN
}

/// IPIP (IPv4) or ip6ip6 (IPv6): the packet, unchanged, inside a new
/// header to the real server, which decapsulates it and answers the client
/// directly.
pub(crate) fn tunnel(rcu: &ReadSide, net: NetRef<'_>, mut skb: Skb, c: &Conn, p: &Pkt, pf: u8) -> c_uint {
    let family = match (p.af == AF_INET6, c.daf == AF_INET6) {
        (false, false) => Family::Inet,
        (true, true) => Family::Inet6,
        // Mixed families (IPv4 in IPv6 and back) are not implemented.
        _ => return NF_DROP,
    };
    let v6 = family == Family::Inet6;
    let Some((dst, saddr)) = route_to(rcu, net, c, false) else {
        return NF_DROP;
    };
    if dst.local {
        return NF_ACCEPT;
    }
    let outer = if v6 { packet::IPV6_HDR_LEN } else { packet::IPV4_HDR_LEN };
    if too_big(&mut skb, p, dst.mtu.saturating_sub(outer as u32)) {
        return NF_DROP;
    }
    let inner_len = skb.len();
    let Some((header, len)) = skb
        .head(outer)
        .and_then(|inner| packet::tunnel_header(family, inner, inner_len, &saddr, &c.daddr))
    else {
        return NF_DROP;
    };
    let pushed = header
        .get(..len)
        .and_then(|h| skb.push_outer(v6, h, outer + LL_HEADROOM));
    if pushed.is_none() {
        return NF_DROP;
    }
    if !v6 {
        skb.ipip_finish(net);
    }
    skb.set_dst(dst);
    skb.send(net, pf);
    NF_STOLEN
}

/// An ICMP error about a NAT connection, as IPVS's `ip_vs_nat_icmp` and
/// `ip_vs_icmp_xmit`: the outer address on our side and the quoted
/// packet's address and port become the other side's, then every checksum
/// is redone. `inbound` (from the client's side): it goes to the real
/// server, sent here; otherwise (from the real server's side) to the
/// client, and the hook lets it continue. `outer` and `inner` are the
/// error's header and the quoted packet's.
#[allow(clippy::too_many_arguments)]
pub(crate) fn icmp_nat(
    rcu: &ReadSide,
    net: NetRef<'_>,
    mut skb: Skb,
    c: &Conn,
    outer: &IpHeader,
    inner: &IpHeader,
    inbound: bool,
    pf: u8,
) -> Option<c_uint> {
    // To the real server: outer destination VIP -> RIP, quoted source
    // VIP:vport -> RIP:rport. To the client: outer source RIP -> VIP,
    // quoted destination RIP:rport -> VIP:vport.
    let (addr, port) = if inbound { (c.daddr, c.dport) } else { (c.vaddr, c.vport) };
    let v6 = outer.family == Family::Inet6;
    let (saddr_off, daddr_off) = packet::addr_offsets(v6);
    let (outer_off, inner_off, port_off) = if inbound {
        (daddr_off, saddr_off, packet::L4_SPORT)
    } else {
        (saddr_off, daddr_off, packet::L4_DPORT)
    };
    let len = skb.len();
    let buf = skb.head_mut(len)?;
    packet::put_addr(buf, outer_off, &addr, v6)?;
    packet::put_addr(buf, inner.offset + inner_off, &addr, v6)?;
    packet::set_be16(buf, inner.l4_offset + port_off, port);
    if !v6 {
        csum::ipv4_header_fill(buf.get_mut(inner.offset..inner.offset + inner.header_len)?);
        csum::ipv4_header_fill(buf.get_mut(..outer.header_len)?);
    }
    let l4 = outer.l4_offset;
    let end = outer.end.min(len);
    packet::set_be16(buf, l4 + packet::ICMP_CHECK, 0);
    let seg = buf.get(l4..end)?;
    let check = if v6 {
        let sa = packet::array_at(buf, saddr_off)?;
        let da = packet::array_at(buf, daddr_off)?;
        let pseudo = csum::pseudo_v6(&sa, &da, packet::IPPROTO_ICMPV6, seg.len() as u32);
        csum::l4_checksum(pseudo, seg)
    } else {
        csum::checksum(seg)
    };
    packet::set_be16(buf, l4 + packet::ICMP_CHECK, check);
    skb.csum_none();
    if !inbound {
        return Some(NF_ACCEPT);
    }
    let (dst, _) = route(rcu, net, c)?;
    skb.set_dst(dst);
    skb.send(net, pf);
    Some(NF_STOLEN)
}
