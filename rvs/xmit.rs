// SPDX-License-Identifier: GPL-2.0

//! Forwarding methods, as IPVS's `ip_vs_xmit.c`: NAT (rewrite the
//! destination to the real server, and replies' source back), direct
//! routing (re-route with the virtual address kept) and tunnelling (IP in
//! IP, GUE, GRE).
//!
//! Each returns the hook's verdict: `NF_STOLEN` once the packet is sent
//! on, `NF_DROP` when it cannot be, `NF_ACCEPT` to let it continue.

use core::ffi::{c_int, c_uint};

use kernel::bindings;

use core::sync::atomic::Ordering::Relaxed;

use crate::conn::{flags as cf, Conn};
use crate::net::NetRef;
use crate::nfct;
use crate::pkt::Pkt;
use crate::proto::Csum;
use crate::rcu::ReadSide;
use crate::route::{self, Dst};
use crate::rvs_core::csum::{self, CsumMode};
use crate::rvs_core::ctl::AF_INET6;
use crate::rvs_core::packet::{self, Family, IpHeader};
use crate::skb::{Skb, CHECKSUM_PARTIAL};
use crate::rvs_core::tunnel::{self, Encap, RemoteCsum, TunnelConf};

const NF_DROP: c_uint = bindings::NF_DROP;
const NF_ACCEPT: c_uint = bindings::NF_ACCEPT;
const NF_STOLEN: c_uint = bindings::NF_STOLEN;
const NFPROTO_IPV4: u8 = bindings::NFPROTO_IPV4 as u8;
const NFPROTO_IPV6: u8 = bindings::NFPROTO_IPV6 as u8;

/// Smallest MTU a tunnel's path may leave for the packet inside, as
/// IPVS's: IPv4's minimum, and IPv6's `IPV6_MIN_MTU`.
const IPV4_MIN_MTU: u32 = 68;
const IPV6_MIN_MTU: u32 = 1280;

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
    route::route(rcu, net, cache, c.daf == AF_INET6, &c.daddr, 0, known_nh)
}

/// Packets larger than the path MTU with DF set (always, for IPv6) get
/// "too big" back, as IPVS's `ensure_mtu_is_adequate`; a GSO packet is
/// too big when its segments are.
fn too_big(skb: &mut Skb, p: &Pkt, mtu: u32) -> bool {
    let v6 = p.af == AF_INET6;
    // No fragment of a packet is longer than the packet.
    if skb.len() <= mtu as usize {
        return false;
    }
    // A reassembled packet is fragmented again on the way out: what must
    // fit is its largest fragment.
    let exceeds = match skb.frag_max_size(v6) {
        0 => !(skb.is_gso() && skb.gso_fits(mtu)),
        largest => largest > mtu,
    };
    if !exceeds || !(v6 || p.ip.dont_fragment) {
        return false;
    }
    skb.icmp_too_big(v6, mtu);
    true
}

/// Forwarding to a real server costs the packet one hop, as IPVS's
/// `decrement_ttl`: `false` (the caller drops it) when its TTL or hop
/// limit runs out here, and the sender is told.
fn hop(net: NetRef<'_>, skb: &mut Skb, p: &Pkt) -> bool {
    let v6 = p.af == AF_INET6;
    let len = if v6 { packet::IPV6_HDR_LEN } else { packet::IPV4_HDR_LEN };
    match skb.head_mut(len).map(|h| packet::decrease_ttl(h, v6)) {
        Some(true) => true,
        Some(false) => {
            skb.icmp_time_exceeded(net, v6);
            false
        }
        None => false,
    }
}

/// Rewrites one endpoint (source if `src`, else destination) of the packet
/// to `addr`:`port`, patching the IPv4 header checksum and the transport
/// checksum as its `ip_summed` requires.
fn rewrite(skb: &mut Skb, p: &Pkt, src: bool, addr: &[u8; 16], port: u16) -> Option<()> {
    let v6 = p.af == AF_INET6;
    let l4 = p.ip.l4_offset;
    let l4_csum = p.l4.csum()?;
    let l4_min = match l4_csum {
        Csum::Inet { header_len, .. } | Csum::Crc32c { header_len, .. } => header_len,
    };
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
    if let Csum::Inet { offset, zero_is_none, .. } = l4_csum {
        let mut check = packet::be16(buf, l4 + offset)?;
        // UDP over IPv4 may carry no checksum at all (0): it stays so.
        if !(zero_is_none && !v6 && check == 0) {
            check = if v6 {
                csum::proto_replace16(check, mode, &old_addr, addr, true)
            } else {
                let o = [old_addr[0], old_addr[1], old_addr[2], old_addr[3]];
                let n = [addr[0], addr[1], addr[2], addr[3]];
                csum::proto_replace4(check, mode, o, n, true)
            };
            check = csum::proto_replace2(check, mode, old_port, port, false);
            if zero_is_none && mode == CsumMode::Full {
                check = csum::udp_final(check);
            }
            packet::set_be16(buf, l4 + offset, check);
        }
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
    match l4_csum {
        // A checksum the device computed over the old bytes is void.
        Csum::Inet { .. } if mode == CsumMode::Full => skb.csum_none(),
        Csum::Inet { .. } => {}
        // SCTP's CRC covers no address: as IPVS, it is computed again when
        // the port changed or it was still to be computed, except for a
        // GSO packet, whose segments get theirs when it is split.
        Csum::Crc32c { .. } if old_port != port || mode == CsumMode::Partial => {
            if !skb.is_gso() {
                skb.sctp_crc(l4)?;
            }
        }
        Csum::Crc32c { .. } => skb.csum_unnecessary(),
    }
    Some(())
}

/// NAT, client to real server: the destination becomes the real server.
pub(crate) fn nat_in(rcu: &ReadSide, net: NetRef<'_>, mut skb: Skb, c: &Conn, p: &Pkt, pf: u8) -> c_uint {
    let Some((dst, _)) = route_to(rcu, net, c, false) else {
        return NF_DROP;
    };
    // A synced connection to a local real server would make a second
    // conntrack entry with the same reply, as IPVS refuses too.
    if dst.local && c.flags.load(Relaxed) & cf::SYNC != 0 && skb.has_ct() {
        return NF_DROP;
    }
    if !dst.local && (!hop(net, &mut skb, p) || too_big(&mut skb, p, dst.mtu)) {
        return NF_DROP;
    }
    if rewrite(&mut skb, p, false, &c.daddr, c.dport).is_none() {
        return NF_DROP;
    }
    nfct::nat(&mut skb, c, true);
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
    if rewrite(skb, p, true, &c.vaddr, c.vport).is_none() {
        return NF_DROP;
    }
    nfct::nat(skb, c, false);
    NF_ACCEPT
}

/// Direct routing: the packet goes unchanged to the real server's link
/// address; the real server holds the virtual address itself.
pub(crate) fn dr(rcu: &ReadSide, net: NetRef<'_>, mut skb: Skb, c: &Conn, p: &Pkt, pf: u8) -> c_uint {
    let Some((dst, _)) = route_to(rcu, net, c, true) else {
        return NF_DROP;
    };
    nfct::direct(&mut skb, c);
    if dst.local {
        return NF_ACCEPT;
    }
    if !hop(net, &mut skb, p) || too_big(&mut skb, p, dst.mtu) {
        return NF_DROP;
    }
    skb.set_dst(dst);
    skb.send(net, pf);
    NF_STOLEN
}

/// A connection to this host (LOCALNODE): the packet is delivered here, as
/// IPVS's `ip_vs_null_xmit`.
pub(crate) fn local(mut skb: Skb, c: &Conn) -> c_uint {
    nfct::direct(&mut skb, c);
    NF_ACCEPT
}

/// Cache bypass: the packet goes on, unchanged, to its own destination
/// (not this host), as IPVS's `ip_vs_bypass_xmit`.
pub(crate) fn bypass(rcu: &ReadSide, net: NetRef<'_>, mut skb: Skb, c: &Conn, p: &Pkt, pf: u8) -> c_uint {
    let Some((dst, _)) = route::route(rcu, net, None, p.af == AF_INET6, &p.ip.daddr, 0, false) else {
        return NF_DROP;
    };
    if dst.local || !hop(net, &mut skb, p) || too_big(&mut skb, p, dst.mtu) {
        return NF_DROP;
    }
    nfct::direct(&mut skb, c);
    skb.set_dst(dst);
    skb.send(net, pf);
    NF_STOLEN
}

/// TUN: the packet, unchanged, inside an outer header of the real
/// server's family (which may differ from the packet's) to the real
/// server, directly (IPIP, ip6ip6, IPv4 in IPv6, IPv6 in IPv4), or in GUE
/// or GRE as the server's tunnel settings say, as IPVS's
/// `ip_vs_tunnel_xmit`. The real server decapsulates it and answers the
/// client directly.
///
/// `pmtu_disc` (the sysctl) off: an IPv4 packet is neither refused as too
/// big nor its DF copied to the outer header; it is fragmented after
/// encapsulation.
pub(crate) fn tunnel(rcu: &ReadSide, net: NetRef<'_>, mut skb: Skb, c: &Conn, p: &Pkt, pmtu_disc: bool) -> c_uint {
    let inner = if p.af == AF_INET6 { Family::Inet6 } else { Family::Inet };
    let outer = if c.daf == AF_INET6 { Family::Inet6 } else { Family::Inet };
    let conf = c.dest.as_ref().map_or(TunnelConf::IPIP, |d| d.tunnel());
    let Some((dst, saddr)) = route_to(rcu, net, c, false) else {
        return NF_DROP;
    };
    if dst.local {
        nfct::direct(&mut skb, c);
        return NF_ACCEPT;
    }
    // GUE's remote checksum offload applies to packets whose transport
    // checksum is still to be computed; other tunnels need not ask.
    let partial = if conf.remcsum() { skb.csum_partial() } else { None };
    let remcsum = partial.is_some();
    let overhead = tunnel::outer_len(outer) + conf.encap_len(remcsum);
    let mtu = dst.mtu.saturating_sub(overhead as u32);
    let min_mtu = if inner == Family::Inet6 { IPV6_MIN_MTU } else { IPV4_MIN_MTU };
    let checks_mtu = pmtu_disc || inner == Family::Inet6;
    if !hop(net, &mut skb, p) || mtu < min_mtu || (checks_mtu && too_big(&mut skb, p, mtu)) {
        return NF_DROP;
    }
    let inner_len = skb.len();
    let Some(mut fields) = skb
        .head(tunnel::outer_len(inner))
        .and_then(|h| tunnel::InnerFields::read(inner, h))
    else {
        return NF_DROP;
    };
    fields.dont_fragment &= pmtu_disc;
    let prepared = skb.tunnel_prepare(
        overhead + LL_HEADROOM,
        gso_type(inner, conf, remcsum),
        tunnel::inner_protocol(inner),
    );
    if prepared.is_none() {
        return NF_DROP;
    }
    let outer_v6 = outer == Family::Inet6;
    let encapsulated = match conf.encap {
        Encap::Ipip => Some(()),
        Encap::Gre => {
            skb.push_gre(conf.csum(), inner == Family::Inet6);
            Some(())
        }
        Encap::Gue => {
            let rc = match partial {
                Some((start, field)) if remcsum => {
                    let start = u16::try_from(start).ok();
                    start.and_then(|s| Some(RemoteCsum { start: s, field: s.checked_add(field)? }))
                }
                _ => None,
            };
            let sport = skb.udp_flow_src_port(net);
            if remcsum && rc.is_none() {
                None
            } else {
                tunnel::gue_headers(inner, inner_len, sport, conf.port, rc).and_then(|(h, n)| {
                    let h = h.get(..n)?;
                    skb.push_udp_tunnel(h, outer_v6, &saddr, &c.daddr, conf.udp_csum(), remcsum)
                })
            }
        }
    };
    let payload = skb.len();
    let pushed = encapsulated.and_then(|()| {
        let (h, n) =
            tunnel::outer_header(outer, conf.outer_protocol(inner), fields, payload, &saddr, &c.daddr)?;
        skb.push_outer(outer_v6, h.get(..n)?)
    });
    if pushed.is_none() {
        return NF_DROP;
    }
    if !outer_v6 {
        skb.ipip_finish(net);
    }
    let verdict = nfct::tunnel(&mut skb, c);
    if verdict != NF_ACCEPT {
        return verdict;
    }
    skb.set_dst(dst);
    skb.send(net, if outer_v6 { NFPROTO_IPV6 } else { NFPROTO_IPV4 });
    NF_STOLEN
}

/// The segmentation offload's type bits for a packet of family `inner` in
/// the tunnel `conf` describes (`remcsum`: with GUE's remote checksum).
fn gso_type(inner: Family, conf: TunnelConf, remcsum: bool) -> c_int {
    let ip = match inner {
        Family::Inet => bindings::SKB_GSO_IPXIP4,
        Family::Inet6 => bindings::SKB_GSO_IPXIP6,
    };
    let encap = match conf.encap {
        Encap::Ipip => 0,
        Encap::Gue if conf.udp_csum() => bindings::SKB_GSO_UDP_TUNNEL_CSUM,
        Encap::Gue => bindings::SKB_GSO_UDP_TUNNEL,
        Encap::Gre if conf.csum() => bindings::SKB_GSO_GRE_CSUM,
        Encap::Gre => bindings::SKB_GSO_GRE,
    };
    let rem = if remcsum { bindings::SKB_GSO_TUNNEL_REMCSUM } else { 0 };
    ip | encap | rem
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
    nfct::nat(&mut skb, c, inbound);
    if !inbound {
        return Some(NF_ACCEPT);
    }
    let (dst, _) = route(rcu, net, c)?;
    skb.set_dst(dst);
    skb.send(net, pf);
    Some(NF_STOLEN)
}
