// SPDX-License-Identifier: GPL-2.0

//! The packet path, as IPVS's `ip_vs_core.c`: the netfilter hooks find or
//! schedule the connection a packet belongs to, account it, move the TCP
//! state machine and hand the packet to the forwarding method.
//!
//! Netfilter calls hooks inside an RCU read-side section, which is what
//! keeps the services and connections found here alive. Nothing here
//! sleeps or takes a lock other than a service's scheduler lock and a
//! connection bucket's lock when creating an entry; nothing panics.

use core::ffi::c_uint;
use core::sync::atomic::Ordering::{Acquire, Relaxed};

use kernel::{bindings, sync::Arc};

use crate::conn::{flags as cf, Conn, ConnParams, Target};
use crate::conn_table::{Side, Tuple};
use crate::kernel_services;
use crate::net::NetRef;
use crate::netns;
use crate::nfct;
use crate::rcu::ReadSide;
use crate::rvs_core::abi::{fwd, svc_flags};
use crate::pkt::{self, Pkt};
use crate::proto::L4;
use crate::rvs_core::ctl::AF_INET6;
use crate::rvs_core::packet::{self, Family};
use crate::rvs_core::proto::{Direction, INITIAL_CONN_TIMEOUT_SECS};
use crate::dest::{to_sched_addr, Dest};
use crate::service::{NetState, Service};
use crate::skb::{DefragUser, Skb};
use crate::stats::{Event, Stats};
use crate::sync::SyncState;
use crate::xmit;

const NF_DROP: c_uint = bindings::NF_DROP;
const NF_ACCEPT: c_uint = bindings::NF_ACCEPT;
const NF_STOLEN: c_uint = bindings::NF_STOLEN;
const NFPROTO_IPV4: u8 = bindings::NFPROTO_IPV4 as u8;
const NF_INET_LOCAL_IN: u8 = bindings::nf_inet_hooks_NF_INET_LOCAL_IN as u8;
const NF_INET_FORWARD: u8 = bindings::nf_inet_hooks_NF_INET_FORWARD as u8;
const NF_INET_LOCAL_OUT: u8 = bindings::nf_inet_hooks_NF_INET_LOCAL_OUT as u8;

/// Which of rvs's hooks (the table in `rvs_helpers.c`) a packet came
/// through.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hook {
    /// LOCAL_IN and LOCAL_OUT: client packets to schedule and forward.
    In,
    /// LOCAL_IN, LOCAL_OUT and FORWARD: NAT replies from real servers.
    Out,
    /// FORWARD, before the NAT replies: ICMP errors from clients about
    /// connections whose virtual address is not local (firewall-mark
    /// services routed through the director), as IPVS's
    /// `ip_vs_forward_icmp`.
    ForwardIcmp,
}

/// What every hook does first, then the hook's own work: the verdict for
/// one packet, in the hook's RCU section.
#[inline(always)]
pub(crate) fn hook(net: NetRef<'_>, rcu: &ReadSide, mut skb: Skb, pf: u8, hooknum: u8, kind: Hook) -> c_uint {
    let family = if pf == NFPROTO_IPV4 {
        Family::Inet
    } else {
        Family::Inet6
    };
    // FORWARD 99 sees every forwarded packet: IPv4's protocol byte turns
    // away all but ICMP first, as IPVS's ip_vs_forward_icmp does.
    if kind == Hook::ForwardIcmp && family == Family::Inet && skb.ipv4_protocol() != Some(packet::IPPROTO_ICMP) {
        return NF_ACCEPT;
    }
    let Some(ns) = netns::entry(net) else {
        return NF_ACCEPT;
    };
    let st = &ns.state;
    if st.nr_services.load(Relaxed) == 0 && st.conns.len() == 0 {
        return NF_ACCEPT;
    }
    // A packet reaches LOCAL_IN when it is for this host. A reply (or an
    // ICMP error from a real server's side) is for a client's address, so
    // it can only belong to a connection whose client is on this host
    // (`NetState::local_clients`). Until there is one, the reply hook
    // there has nothing to find, and every client packet would be parsed
    // and looked up twice (IPVS does so); with nat_icmp_send it still
    // looks, to answer packets of unknown connections.
    if kind == Hook::Out
        && hooknum == NF_INET_LOCAL_IN
        && !st.local_clients.load(Acquire)
        && st.sysctl.nat_icmp_send.load(Relaxed) == 0
    {
        return NF_ACCEPT;
    }
    // backup_only: a backup that only syncs forwards nothing.
    if ns.sync.backup_on() && st.sysctl.backup_only.load(Relaxed) != 0 {
        return NF_ACCEPT;
    }
    // Only a whole packet has ports to look up. IPv4 reaches LOCAL_IN
    // reassembled; replies at FORWARD may not. IPv6 is reassembled by
    // nf_defrag_ipv6, which rvs enables with its first IPv6 service.
    if family == Family::Inet && skb.is_ipv4_fragment() {
        match skb.defrag4(net, defrag_user(hooknum)) {
            Some(whole) => skb = whole,
            None => return NF_STOLEN,
        }
    }
    match kind {
        Hook::In => packet_in(rcu, st, &ns.sync, net, skb, family, pf, hooknum),
        Hook::Out => packet_out(rcu, st, net, skb, family, pf, hooknum),
        Hook::ForwardIcmp => icmp_error(rcu, st, net, skb, family, pf, true).unwrap_or(NF_ACCEPT),
    }
}

/// Where a hook gathers IPv4 fragments, as IPVS's `ip_vs_defrag_user`.
fn defrag_user(hooknum: u8) -> DefragUser {
    match hooknum {
        NF_INET_LOCAL_IN => DefragUser::In,
        NF_INET_FORWARD => DefragUser::Fwd,
        _ => DefragUser::Out,
    }
}

/// Longest ICMP error rvs rewrites (IPv6's minimum MTU: errors are kept
/// below it by their senders).
const ICMP_MAX: usize = 1280;

/// An ICMP error about one of rvs's connections, as IPVS's
/// `ip_vs_in_icmp` / `ip_vs_out_icmp`. `inbound`: it came from the client
/// side about a packet the director sent to the client; otherwise from the
/// real server's side (NAT) about a packet the director sent to it.
/// Returns `None` when the packet is not such an error.
fn icmp_error(
    rcu: &ReadSide,
    st: &NetState,
    net: NetRef<'_>,
    mut skb: Skb,
    family: Family,
    pf: u8,
    inbound: bool,
) -> Option<c_uint> {
    // IPv4's protocol byte turns away all but ICMP without parsing.
    if family == Family::Inet && skb.ipv4_protocol().is_some_and(|p| p != packet::IPPROTO_ICMP) {
        return None;
    }
    // A look at the headers first, so that only ICMP errors are pulled up
    // to ICMP_MAX (forwarded traffic and other protocols come here too).
    let ip = pkt::with_head(&skb, |head| packet::parse_embedded(head, 0, family).ok())?;
    if ip.is_fragment()
        || (ip.protocol != packet::IPPROTO_ICMP && ip.protocol != packet::IPPROTO_ICMPV6)
    {
        return None;
    }
    let head = skb.head(skb.len().min(ICMP_MAX))?;
    let outer = packet::parse_embedded(head, 0, family).ok()?;
    let err = packet::parse_icmp_error(head, &outer).ok()?;
    let ports = err.inner_ports?;
    let af = family.af();
    let inner = err.inner;
    // The quoted packet went the other way: read it reversed.
    let quoted = Tuple {
        af,
        protocol: inner.protocol,
        saddr: &inner.daddr,
        sport: ports.dst,
        daddr: &inner.saddr,
        dport: ports.src,
    };
    let from = if inbound { Side::Client } else { Side::RealServer };
    let (c, created) = match st.conns.get(rcu, from, &quoted) {
        Some(c) => (c, false),
        None if inbound && st.sysctl.schedule_icmp.load(Relaxed) != 0 => {
            match schedule_for_error(rcu, st, &skb, &inner, ports.src, ports.dst) {
                Ok(c) => (c, true),
                Err(verdict) => return Some(verdict),
            }
        }
        None => return None,
    };
    let verdict = if c.fwd() != fwd::MASQ {
        if !inbound {
            return None;
        }
        // DR, TUN and the rest: the error goes to the real server (or the
        // bypassed destination) as it is.
        let p = Pkt {
            ip: outer,
            af,
            sport: 0,
            dport: 0,
            l4: L4::IcmpError,
        };
        forward(rcu, st, net, skb, c, &p, pf)
    } else {
        xmit::icmp_nat(rcu, net, skb, c, &outer, &inner, inbound, pf)?
    };
    // A one-packet entry made for this error has served it.
    if created && c.flags.load(Relaxed) & cf::ONE_PACKET != 0 {
        st.conns.expire_now(c);
    }
    Some(verdict)
}

/// Sends the packet on by the connection's forwarding method (the
/// `packet_xmit` IPVS binds to a connection).
fn forward(rcu: &ReadSide, st: &NetState, net: NetRef<'_>, skb: Skb, c: &Conn, p: &Pkt, pf: u8) -> c_uint {
    match c.fwd() {
        fwd::MASQ => xmit::nat_in(rcu, net, skb, c, p, pf),
        fwd::DROUTE => xmit::dr(rcu, net, skb, c, p, pf),
        fwd::TUNNEL => xmit::tunnel(rcu, net, skb, c, p, st.sysctl.pmtu_disc.load(Relaxed) != 0),
        fwd::BYPASS => xmit::bypass(rcu, net, skb, c, p, pf),
        _ => xmit::local(skb, c),
    }
}

/// `schedule_icmp`: an ICMP error from the client's side about a packet of
/// a flow the director has no connection for (the flow went through
/// another director) makes the connection that flow would have got, as
/// IPVS's `ip_vs_in_icmp` schedules the quoted packet reversed: the
/// quoted destination is the client, its source the virtual service.
/// `Err`: the verdict when no connection is made (no such service:
/// continue; no server for it: drop).
fn schedule_for_error<'r>(
    rcu: &'r ReadSide,
    st: &'r NetState,
    skb: &Skb,
    quoted: &packet::IpHeader,
    vport: u16,
    cport: u16,
) -> Result<&'r Conn, c_uint> {
    let mut ip = *quoted;
    core::mem::swap(&mut ip.saddr, &mut ip.daddr);
    let p = Pkt { ip, af: ip.family.af(), sport: cport, dport: vport, l4: L4::IcmpError };
    let mark = skb.mark();
    let svc = st
        .find_service(rcu, p.af, mark, u16::from(ip.protocol), &ip.daddr, vport)
        .ok_or(NF_ACCEPT)?;
    if st.defense.refuse_new(&st.sysctl) {
        return Err(NF_DROP);
    }
    schedule(rcu, st, svc, &p, mark).map_err(|_| NF_DROP)
}

/// Client to director: the hooks at LOCAL_IN (and LOCAL_OUT for clients on
/// the director).
fn packet_in(
    rcu: &ReadSide,
    st: &NetState,
    sync: &SyncState,
    net: NetRef<'_>,
    mut skb: Skb,
    family: Family,
    pf: u8,
    hooknum: u8,
) -> c_uint {
    let Some(p) = pkt::parse(&skb, family) else {
        if st.sysctl.ignore_tunneled.load(Relaxed) != 0 && not_balanced(&skb, family) {
            skb.set_ipvs_property();
            return NF_ACCEPT;
        }
        return icmp_error(rcu, st, net, skb, family, pf, true).unwrap_or(NF_ACCEPT);
    };
    let proto = p.ip.protocol;
    let mut c = st.conns.get(rcu, Side::Client, &p.tuple());
    let nodest = st.sysctl.expire_nodest_conn.load(Relaxed) != 0;
    if let Some(old) = c {
        let reuse = st.sysctl.conn_reuse_mode.load(Relaxed) as u32;
        if p.l4.replaces(old, reuse, nodest) {
            if retire(st, &skb, old) {
                return NF_DROP;
            }
            c = None;
        }
    }
    // A connection whose real server was deleted: with expire_nodest_conn
    // it goes and the packet may start a new one; without, its packets
    // are dropped until the server comes back or the entry times out.
    if let Some(old) = c {
        if old.dest.as_ref().is_some_and(|d| !d.available.load(Relaxed)) {
            if !nodest || retire(st, &skb, old) {
                return NF_DROP;
            }
            c = None;
        }
    }
    let c = match c {
        Some(c) => c,
        None => {
            if !p.l4.may_schedule(&st.sysctl) {
                return NF_ACCEPT;
            }
            let svc = st.find_service(rcu, p.af, skb.mark(), u16::from(proto), &p.ip.daddr, p.dport);
            let Some(svc) = svc else {
                return NF_ACCEPT;
            };
            // drop_packet: the defence refuses one new connection in so many.
            if st.defense.refuse_new(&st.sysctl) {
                return NF_DROP;
            }
            let scheduled = match schedule(rcu, st, svc, &p, skb.mark()) {
                Err(Unscheduled::NoServer) => leave(rcu, st, net, &mut skb, svc, &p, pf),
                other => other.map_err(|_| NF_DROP),
            };
            match scheduled {
                // A client on this host whose packet only got its
                // firewall mark at PREROUTING went round through the
                // loopback first: its replies come to LOCAL_IN too.
                Ok(c) if hooknum == NF_INET_LOCAL_IN && skb.from_loopback() => {
                    st.saw_local_client();
                    c
                }
                Ok(c) => c,
                Err(verdict) => return verdict,
            }
        }
    };
    if hooknum == NF_INET_LOCAL_OUT {
        st.saw_local_client();
    }
    let len = skb.len() as u64;
    account(st, c, true, len);
    p.l4.step(&st.timeouts, || st.defense.secure_tcp(&st.sysctl), c, Direction::Input);
    st.conns.touch(c, kernel_services::jiffies());
    // The client's packets, for sync's threshold and drop_entry's choice.
    let pkts = c.in_pkts.fetch_add(1, Relaxed).wrapping_add(1);
    if sync.master_on() {
        crate::sync::conn_packet(rcu, sync, st, c, pkts);
    }
    let verdict = forward(rcu, st, net, skb, c, &p, pf);
    if c.flags.load(Relaxed) & cf::ONE_PACKET != 0 {
        st.conns.expire_now(c);
    }
    verdict
}

/// Expires `old`, which a new packet replaces; `true` when the packet
/// must wait (be dropped): conntrack still held the old connection's
/// entry, and the client's next try finds it gone with the connection.
fn retire(st: &NetState, skb: &Skb, old: &Conn) -> bool {
    let wait = nfct::old_entry_in_the_way(skb, old);
    st.conns.expire_now(old);
    wait
}

/// A new flow to a service with no server to take it, as IPVS's
/// `ip_vs_leave`. With `cache_bypass`, a firewall-mark service's packet to
/// an address that is not the director's gets a bypass connection, which
/// the caller forwards like any other: the flow goes on to its own
/// destination (a transparent cache cluster whose caches are all down).
/// Otherwise the client is told at once (ICMP port unreachable, for TCP
/// too: no socket exists to send a reset) and the packet is dropped.
fn leave<'r>(
    rcu: &'r ReadSide,
    st: &'r NetState,
    net: NetRef<'_>,
    skb: &mut Skb,
    svc: &Service,
    p: &Pkt,
    pf: u8,
) -> Result<&'r Conn, c_uint> {
    if st.sysctl.cache_bypass.load(Relaxed) != 0 && svc.key.fwmark != 0 && is_unicast(net, p) {
        let f = cf::BYPASS | nfct::new_conn_flag(&st.sysctl) | one_packet(svc, p);
        let target = Target::Unbound { af: p.af, addr: [0; 16] };
        return st
            .conns
            .insert_to(rcu, &conn_params(p, skb.mark()), target, 0, f, INITIAL_CONN_TIMEOUT_SECS, None)
            .ok_or(NF_DROP);
    }
    skb.icmp_port_unreach(net, pf);
    Err(NF_DROP)
}

/// The packet's destination is a unicast address (IPv4: by the
/// namespace's routes, not one of the director's own), as IPVS's
/// `ip_vs_addr_is_unicast`.
fn is_unicast(net: NetRef<'_>, p: &Pkt) -> bool {
    if p.af == AF_INET6 {
        packet::ipv6_is_unicast(&p.ip.daddr)
    } else {
        let d = [p.ip.daddr[0], p.ip.daddr[1], p.ip.daddr[2], p.ip.daddr[3]];
        net.ipv4_addr_type(d) == crate::net::AddrType::Unicast
    }
}

/// `ignore_tunneled`: the packet is of a protocol rvs does not balance
/// (IPIP, GRE, ESP, ...), or ICMP that is no error (echo), as IPVS's
/// missing protocol handler (its build without AH/ESP balancing).
fn not_balanced(skb: &Skb, family: Family) -> bool {
    let seen = pkt::with_head(skb, |head| {
        let ip = packet::parse_embedded(head, 0, family).ok()?;
        Some((ip.protocol, head.get(ip.l4_offset).copied()))
    });
    match seen {
        Some((packet::IPPROTO_TCP | packet::IPPROTO_UDP | packet::IPPROTO_SCTP, _)) => false,
        Some((packet::IPPROTO_ICMP, Some(t))) => !packet::icmp_type_is_error(t, Family::Inet),
        Some((packet::IPPROTO_ICMPV6, Some(t))) => !packet::icmp_type_is_error(t, Family::Inet6),
        Some((packet::IPPROTO_ICMP | packet::IPPROTO_ICMPV6, None)) => false,
        Some(_) => true,
        None => false,
    }
}

/// Real server to client (NAT): at FORWARD when the director routes the
/// reply, at LOCAL_IN/LOCAL_OUT for local peers. Rewrites the source back
/// to the virtual service.
fn packet_out(
    rcu: &ReadSide,
    st: &NetState,
    net: NetRef<'_>,
    mut skb: Skb,
    family: Family,
    pf: u8,
    hooknum: u8,
) -> c_uint {
    let Some(p) = pkt::parse(&skb, family) else {
        return icmp_error(rcu, st, net, skb, family, pf, false).unwrap_or(NF_ACCEPT);
    };
    let c = st.conns.get(rcu, Side::RealServer, &p.tuple());
    let Some(c) = c else {
        return no_conn_reply(rcu, st, net, skb, &p, pf);
    };
    if c.fwd() != fwd::MASQ {
        return NF_ACCEPT;
    }
    let len = skb.len() as u64;
    account(st, c, false, len);
    p.l4.step(&st.timeouts, || st.defense.secure_tcp(&st.sysctl), c, Direction::Output);
    st.conns.touch(c, kernel_services::jiffies());
    let verdict = xmit::nat_out(&mut skb, c, &p);
    // The reply now comes from the VIP: with snat_reroute, route it by
    // that source (policy routing), as IPVS does for replies it forwards.
    if verdict == NF_ACCEPT
        && hooknum != NF_INET_LOCAL_IN
        && st.sysctl.snat_reroute.load(Relaxed) != 0
        && !skb.route_me_harder(net, pf)
    {
        return NF_DROP;
    }
    verdict
}

/// A packet from a real server's side that matches no connection. With
/// `nat_icmp_send`, a NAT real server is told (ICMP port unreachable) that
/// the director knows no such connection, unless the packet is a TCP reset.
fn no_conn_reply(rcu: &ReadSide, st: &NetState, net: NetRef<'_>, mut skb: Skb, p: &Pkt, pf: u8) -> c_uint {
    if st.sysctl.nat_icmp_send.load(Relaxed) == 0 || p.l4.is_reset() {
        return NF_ACCEPT;
    }
    let proto = u16::from(p.ip.protocol);
    if !st.svc_hash.has_masq_dest(rcu, p.af, proto, &p.ip.saddr, p.sport) {
        return NF_ACCEPT;
    }
    skb.icmp_port_unreach(net, pf);
    NF_DROP
}

/// Counts one packet in the server's, the service's and the namespace's
/// counters.
fn account(st: &NetState, c: &Conn, inbound: bool, len: u64) {
    let Some(d) = &c.dest else { return };
    let event = if inbound { Event::InPacket } else { Event::OutPacket };
    Stats::count3([&d.stats, &d.svc_stats, &st.stats], event, len);
}

/// The flags a real server's connections start with: its forwarding
/// method, and NOOUTPUT for every method but NAT (replies bypass us).
fn dest_conn_flags(d: &Dest) -> u32 {
    let f = d.fwd.load(Relaxed) & cf::FWD_MASK;
    if f == fwd::MASQ {
        f
    } else {
        f | cf::NOOUTPUT
    }
}

/// The scheduler's pick for a new connection to `svc`.
fn pick(st: &NetState, svc: &Service, p: &Pkt, now: u64) -> Option<Arc<Dest>> {
    let caddr = to_sched_addr(p.af, &p.ip.saddr);
    let vaddr = to_sched_addr(p.af, &p.ip.daddr);
    let flags = svc.flags.load(Relaxed);
    let lblcr_expiration = crate::service::jiffies_knob(&st.sysctl.lblcr_expiration);
    let mut pool = svc.pool.lock();
    let crate::service::Pool { dests, sched } = &mut *pool;
    let i = sched.pick(dests, flags, &caddr, p.sport, &vaddr, now, lblcr_expiration)?;
    dests.get(i).cloned()
}

/// The client address under the service's persistence mask.
fn masked(af: u16, addr: &[u8; 16], netmask: u32) -> [u8; 16] {
    let mut a = *addr;
    if af == AF_INET6 {
        let plen = netmask.min(128) as usize;
        for (i, b) in a.iter_mut().enumerate() {
            let bits = plen.saturating_sub(i * 8).min(8);
            *b &= if bits == 0 { 0 } else { 0xffu8 << (8 - bits) };
        }
    } else {
        let m = netmask.to_ne_bytes();
        for i in 0..4 {
            a[i] &= m[i];
        }
    }
    a
}

/// What identifies the connection a new flow gets.
fn conn_params(p: &Pkt, fwmark: u32) -> ConnParams {
    ConnParams {
        af: p.af,
        protocol: p.ip.protocol,
        caddr: p.ip.saddr,
        cport: p.sport,
        vaddr: p.ip.daddr,
        vport: p.dport,
        fwmark,
    }
}

/// ONE_PACKET for a UDP flow to a one-packet (`-o`) service.
fn one_packet(svc: &Service, p: &Pkt) -> u32 {
    if svc.flags.load(Relaxed) & svc_flags::ONEPACKET != 0 && p.ip.protocol == packet::IPPROTO_UDP {
        cf::ONE_PACKET
    } else {
        0
    }
}

/// Why a new flow got no connection.
enum Unscheduled {
    /// The service has no server to take it (`leave`).
    NoServer,
    /// The entry could not be made (table full, no memory).
    Failed,
}

/// Creates the connection for a new flow to `svc` (IPVS's
/// `ip_vs_schedule` / `ip_vs_sched_persist`): with persistence, the
/// client's template decides the real server while it lives.
fn schedule<'r>(
    rcu: &'r ReadSide,
    st: &'r NetState,
    svc: &Service,
    p: &Pkt,
    mark: u32,
) -> Result<&'r Conn, Unscheduled> {
    use Unscheduled::{Failed, NoServer};
    let now = kernel_services::jiffies();
    let sflags = svc.flags.load(Relaxed);
    let fwmark = svc.key.fwmark;
    let params = conn_params(p, if fwmark != 0 { mark } else { 0 });
    let mut control = None;
    let dest = if sflags & svc_flags::PERSISTENT != 0 {
        let tp = ConnParams {
            af: p.af,
            protocol: if fwmark != 0 { 0 } else { p.ip.protocol },
            caddr: masked(p.af, &p.ip.saddr, svc.netmask.load(Relaxed)),
            cport: 0,
            vaddr: if fwmark != 0 { [0; 16] } else { p.ip.daddr },
            // A port-0 service's template covers every port.
            vport: if svc.key.port == 0 { 0 } else { p.dport },
            fwmark,
        };
        let mut tmpl = st.conns.template_get(rcu, &tp);
        // IPVS's ip_vs_check_template: a template whose server is gone (or
        // quiescent, with expire_quiescent_template) is dropped.
        let quiescent_goes = st.sysctl.expire_quiescent_template.load(Relaxed) != 0;
        if let Some(t) = tmpl {
            let ok = t.dest.as_ref().is_some_and(|d| {
                d.available.load(Relaxed) && !(quiescent_goes && d.weight.load(Relaxed) == 0)
            });
            if !ok {
                st.conns.expire_now(t);
                tmpl = None;
            }
        }
        let (tmpl, dest) = match tmpl {
            Some(t) => (t, t.dest.clone().ok_or(Failed)?),
            None => {
                let d = pick(st, svc, p, now).ok_or(NoServer)?;
                let timeout = svc.timeout.load(Relaxed);
                // A template carries its server's connection flags, as IPVS's.
                let t = st
                    .conns
                    .insert(rcu, &tp, &d, cf::TEMPLATE | dest_conn_flags(&d), timeout, None)
                    .ok_or(Failed)?;
                (t, d)
            }
        };
        st.conns.touch(tmpl, now);
        control = Some(tmpl);
        dest
    } else {
        pick(st, svc, p, now).ok_or(NoServer)?
    };
    let f = dest_conn_flags(&dest) | nfct::new_conn_flag(&st.sysctl) | one_packet(svc, p);
    let c = st
        .conns
        .insert(rcu, &params, &dest, f, INITIAL_CONN_TIMEOUT_SECS, control)
        .ok_or(Failed)?;
    Stats::count3([&dest.stats, &dest.svc_stats, &st.stats], Event::Conn, 0);
    Ok(c)
}
