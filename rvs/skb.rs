// SPDX-License-Identifier: GPL-2.0

//! The packet-path view of `struct sk_buff` and the ways rvs sends a
//! packet on (its route is `route.rs`'s). The `unsafe` of the data path
//! lives here; the logic that uses it is in `core_hooks.rs` and `xmit.rs`.
//!
//! C header: [`include/linux/skbuff.h`](srctree/include/linux/skbuff.h)

use core::ffi::{c_int, c_uint};
use core::ptr::NonNull;

use kernel::bindings;

use crate::net::{in6, NetRef};
use crate::route::Dst;
use crate::rvs_core::packet;
use crate::rvs_core::sctp;

// `struct net` holds a zero-sized array bindgen flags as not FFI-safe;
// only pointers to it cross the boundary.
#[allow(improper_ctypes)]
extern "C" {
    fn rvs_skb_may_pull(skb: *mut bindings::sk_buff, len: c_uint) -> c_int;
    fn rvs_skb_ip_summed(skb: *const bindings::sk_buff) -> u8;
    fn rvs_skb_set_ip_summed(skb: *mut bindings::sk_buff, ip_summed: u8);
    fn rvs_skb_is_gso(skb: *const bindings::sk_buff) -> c_int;
    fn rvs_skb_mark(skb: *const bindings::sk_buff) -> u32;
    fn rvs_skb_iif(skb: *const bindings::sk_buff) -> c_int;
    fn rvs_skb_set_dst(skb: *mut bindings::sk_buff, dst: *mut bindings::dst_entry);
    fn rvs_skb_set_dst_noref(skb: *mut bindings::sk_buff, dst: *mut bindings::dst_entry);
    fn rvs_send(net: *mut bindings::net, skb: *mut bindings::sk_buff, pf: u8);
    fn rvs_ct_untrack(skb: *mut bindings::sk_buff);
    fn rvs_skb_set_ipvs_property(skb: *mut bindings::sk_buff);
    fn rvs_ct_detach(skb: *mut bindings::sk_buff);
    fn rvs_ct_confirmed(skb: *const bindings::sk_buff) -> c_int;
    fn rvs_ct_get(skb: *const bindings::sk_buff) -> c_int;
    fn rvs_ct_confirm(skb: *mut bindings::sk_buff) -> c_uint;
    fn rvs_ct_set_reply(skb: *mut bindings::sk_buff, addr: *const u8, port: u16, to_rs: c_int);
    fn rvs_skb_cow_head(skb: *mut bindings::sk_buff, headroom: c_uint) -> c_int;
    fn rvs_skb_tunnel_inner(skb: *mut bindings::sk_buff, ipproto: u8);
    fn rvs_skb_csum_partial(skb: *const bindings::sk_buff, start: *mut c_int, offset: *mut u16) -> c_int;
    fn rvs_skb_csum_to_receiver(skb: *mut bindings::sk_buff);
    fn rvs_skb_reset_transport_header(skb: *mut bindings::sk_buff);
    fn rvs_udp_flow_src_port(net: *mut bindings::net, skb: *mut bindings::sk_buff) -> u16;
    fn rvs_gre_push(skb: *mut bindings::sk_buff, csum: c_int, proto: u16);
    fn rvs_skb_outer_headers(skb: *mut bindings::sk_buff, v6: c_int);
    // Exported, but outside the kernel's bindings (<net/udp.h>,
    // <net/ip6_checksum.h>).
    fn udp_set_csum(nocheck: bool, skb: *mut bindings::sk_buff, saddr: u32, daddr: u32, len: c_int);
    fn udp6_set_csum(
        nocheck: bool,
        skb: *mut bindings::sk_buff,
        saddr: *const bindings::in6_addr,
        daddr: *const bindings::in6_addr,
        len: c_int,
    );
    // Exported, but outside the kernel's bindings (<net/ip_tunnels.h>).
    fn iptunnel_handle_offloads(skb: *mut bindings::sk_buff, gso_type_mask: c_int) -> c_int;
    fn rvs_ipip_finish(net: *mut bindings::net, skb: *mut bindings::sk_buff);
    // `enum ip_defrag_users` (<net/ip.h>), which the bindings leave out.
    static rvs_ip_defrag_vs_in: u32;
    static rvs_ip_defrag_vs_fwd: u32;
    static rvs_ip_defrag_vs_out: u32;
    fn rvs_ip_defrag(net: *mut bindings::net, skb: *mut bindings::sk_buff, user: u32) -> c_int;
    fn rvs_skb_frag_max_size(skb: *const bindings::sk_buff, v6: c_int) -> c_uint;
    fn rvs_ip_route_me_harder(net: *mut bindings::net, skb: *mut bindings::sk_buff) -> c_int;
    fn rvs_ip6_route_me_harder(net: *mut bindings::net, skb: *mut bindings::sk_buff) -> c_int;
    fn rvs_icmp_send(skb: *mut bindings::sk_buff, ty: u8, code: u8, info: u32);
    fn rvs_icmpv6_send(skb: *mut bindings::sk_buff, ty: u8, code: u8, info: u32);
    fn rvs_ip_inc_stats(net: *mut bindings::net, field: c_int);
    fn rvs_ip6_inc_stats(net: *mut bindings::net, skb: *mut bindings::sk_buff, field: c_int);
    // Exported, but outside the kernel's bindings (<net/gso.h>).
    fn skb_gso_validate_network_len(skb: *const bindings::sk_buff, mtu: c_uint) -> bool;
}

const NFPROTO_IPV6: u8 = bindings::NFPROTO_IPV6 as u8;

/// `CHECKSUM_PARTIAL`: the L4 checksum field holds only the pseudo-header
/// sum; the rest is computed on the way out.
pub(crate) const CHECKSUM_PARTIAL: u8 = bindings::CHECKSUM_PARTIAL as u8;

/// The queue `ip_defrag` gathers an IPv4 packet's fragments in: IPVS keeps
/// one per hook, apart from conntrack's and every other user's.
#[derive(Clone, Copy)]
pub(crate) enum DefragUser {
    /// `IP_DEFRAG_VS_IN`, at LOCAL_IN.
    In,
    /// `IP_DEFRAG_VS_FWD`, at FORWARD.
    Fwd,
    /// `IP_DEFRAG_VS_OUT`, at LOCAL_OUT.
    Out,
}

impl DefragUser {
    fn raw(self) -> u32 {
        // SAFETY: Constants defined in `rvs_helpers.c`, never written.
        unsafe {
            match self {
                Self::In => rvs_ip_defrag_vs_in,
                Self::Fwd => rvs_ip_defrag_vs_fwd,
                Self::Out => rvs_ip_defrag_vs_out,
            }
        }
    }
}

/// A packet handed to a netfilter hook, whose network header starts at
/// `skb->data`.
///
/// # Invariants
///
/// `ptr` is the hook's valid `sk_buff` for the duration of the hook call,
/// and rvs has not yet passed it on (`send` consumes the wrapper).
pub(crate) struct Skb {
    ptr: NonNull<bindings::sk_buff>,
}

impl Skb {
    /// Wraps the hook's packet.
    ///
    /// # Safety
    ///
    /// `ptr` is valid for the hook call and its data starts at the network
    /// header, as at IPv4/IPv6 netfilter hooks.
    pub(crate) unsafe fn from_hook(ptr: NonNull<bindings::sk_buff>) -> Self {
        Self { ptr }
    }

    fn raw(&self) -> *mut bindings::sk_buff {
        self.ptr.as_ptr()
    }

    /// Length of the whole packet from the network header on.
    pub(crate) fn len(&self) -> usize {
        // SAFETY: `ptr` is valid (type invariants).
        unsafe { (*self.raw()).len as usize }
    }

    /// Makes the first `n` bytes linear and returns them.
    #[inline]
    pub(crate) fn head(&mut self, n: usize) -> Option<&[u8]> {
        let n32 = c_uint::try_from(n).ok()?;
        // SAFETY: `ptr` is valid. The first `len - data_len` bytes from
        // `data` are linear already (`skb_headlen`); otherwise
        // `pskb_may_pull` makes `n` bytes linear or fails. After success
        // `data..data+n` is readable until the skb is changed again, which
        // needs `&mut self`.
        unsafe {
            let skb = self.raw();
            let linear = (*skb).len.wrapping_sub((*skb).data_len);
            if n32 > linear && rvs_skb_may_pull(skb, n32) == 0 {
                return None;
            }
            Some(core::slice::from_raw_parts((*skb).data, n))
        }
    }

    /// The `n` bytes from `off` if they lie in the linear area.
    #[inline]
    pub(crate) fn linear(&self, off: usize, n: usize) -> Option<&[u8]> {
        let end = off.checked_add(n)?;
        let skb = self.raw();
        // SAFETY: `ptr` is valid (type invariants).
        let linear = unsafe { (*skb).len.wrapping_sub((*skb).data_len) } as usize;
        if end > linear {
            return None;
        }
        // SAFETY: the first `linear` bytes from `data` are the linear area,
        // unchanged while `self` is borrowed (changing the skb takes
        // `&mut self`).
        Some(unsafe { core::slice::from_raw_parts((*skb).data.add(off), n) })
    }

    /// The `n` bytes from `off`, read where they are: in the linear area
    /// when they are all there, else copied into `buf` (as
    /// `skb_header_pointer`). Unlike [`Skb::head`] it leaves the packet as
    /// it is: a GSO packet made of a list of segments (SCTP's) must keep
    /// its payload out of the head.
    #[inline]
    pub(crate) fn peek<'b>(&'b self, off: usize, n: usize, buf: &'b mut [u8]) -> Option<&'b [u8]> {
        match self.linear(off, n) {
            Some(bytes) => Some(bytes),
            None => self.copy(off, n, buf),
        }
    }

    /// `n` bytes from `off` copied into `buf`.
    #[cold]
    fn copy<'b>(&self, off: usize, n: usize, buf: &'b mut [u8]) -> Option<&'b [u8]> {
        let dst = buf.get_mut(..n)?;
        let (off32, n32) = (c_int::try_from(off).ok()?, c_int::try_from(n).ok()?);
        // SAFETY: `ptr` is valid; `skb_copy_bits` writes `n` bytes into
        // `dst`, which is `n` bytes long, or fails when the packet is
        // shorter than `off + n`.
        if unsafe { bindings::skb_copy_bits(self.raw(), off32, dst.as_mut_ptr().cast(), n32) } != 0 {
            return None;
        }
        Some(dst)
    }

    /// Makes the first `n` bytes linear and private to this skb (copying
    /// shared data), and returns them for rewriting.
    pub(crate) fn head_mut(&mut self, n: usize) -> Option<&mut [u8]> {
        let n32 = c_int::try_from(n).ok()?;
        // SAFETY: `ptr` is valid; `skb_ensure_writable` makes `n` bytes
        // from `data` linear and writable or fails.
        unsafe {
            if bindings::skb_ensure_writable(self.raw(), n32 as _) != 0 {
                return None;
            }
            Some(core::slice::from_raw_parts_mut((*self.raw()).data, n))
        }
    }

    /// `skb->ip_summed`.
    pub(crate) fn ip_summed(&self) -> u8 {
        // SAFETY: `ptr` is valid.
        unsafe { rvs_skb_ip_summed(self.raw()) }
    }

    /// After a full incremental checksum update, a checksum the device
    /// computed over the old bytes no longer applies.
    pub(crate) fn csum_none(&mut self) {
        // SAFETY: `ptr` is valid.
        unsafe { rvs_skb_set_ip_summed(self.raw(), bindings::CHECKSUM_NONE as u8) }
    }

    /// Writes SCTP's CRC32c of the packet from `l4` (its SCTP header) on
    /// into the header's checksum field, as IPVS's `sctp_nat_csum`; the
    /// packet's checksum then needs no device's help or check.
    pub(crate) fn sctp_crc(&mut self, l4: usize) -> Option<()> {
        let at = l4.checked_add(sctp::CHECK)?;
        let end = at.checked_add(4)?;
        let off = c_int::try_from(l4).ok()?;
        let len = c_int::try_from(self.len().checked_sub(l4)?).ok()?;
        // The CRC covers the header with a zero checksum field.
        self.head_mut(end)?.get_mut(at..end)?.fill(0);
        // SAFETY: `ptr` is valid (type invariants); `skb_crc32c` reads the
        // packet's `len` bytes from `off`, which are within it.
        let crc = !unsafe { bindings::skb_crc32c(self.raw(), off, len, !0) };
        self.head_mut(end)?.get_mut(at..end)?.copy_from_slice(&crc.to_le_bytes());
        self.csum_unnecessary();
        Some(())
    }

    /// The transport checksum is right as it is: no device or later
    /// layer need compute or check it (an SCTP packet whose CRC no
    /// rewrite touched, as IPVS leaves it).
    pub(crate) fn csum_unnecessary(&mut self) {
        // SAFETY: `ptr` is valid.
        unsafe { rvs_skb_set_ip_summed(self.raw(), bindings::CHECKSUM_UNNECESSARY as u8) }
    }

    pub(crate) fn is_gso(&self) -> bool {
        // SAFETY: `ptr` is valid.
        unsafe { rvs_skb_is_gso(self.raw()) != 0 }
    }

    /// The protocol byte of this IPv4 packet's header.
    pub(crate) fn ipv4_protocol(&mut self) -> Option<u8> {
        self.head(packet::IPV4_HDR_LEN).and_then(|h| h.get(9).copied())
    }

    /// Whether this IPv4 packet is a fragment (`ip_is_fragment`).
    pub(crate) fn is_ipv4_fragment(&mut self) -> bool {
        self.head(packet::IPV4_HDR_LEN)
            .is_some_and(|h| u16::from_be_bytes([h[6], h[7]]) & 0x3fff != 0)
    }

    /// Gathers an IPv4 fragment with the rest of its packet. `None`: the
    /// kernel kept the fragment (to wait for the others) or freed it.
    pub(crate) fn defrag4(self, net: NetRef<'_>, user: DefragUser) -> Option<Self> {
        // SAFETY: `ptr` is the hook's packet (type invariants) and `net` its
        // namespace. On a non-zero return `ip_defrag` has taken the skb, and
        // `self` is not used again.
        let err = unsafe { rvs_ip_defrag(net.as_ptr(), self.raw(), user.raw()) };
        (err == 0).then_some(self)
    }

    /// The largest fragment a reassembled packet was made of; 0 if it was
    /// never fragmented.
    pub(crate) fn frag_max_size(&self, v6: bool) -> u32 {
        // SAFETY: `ptr` is valid; the control block is the IP layer's at a
        // netfilter hook.
        unsafe { rvs_skb_frag_max_size(self.raw(), c_int::from(v6)) }
    }

    /// Routes the packet again after its source changed (`snat_reroute`).
    /// `false`: no route; the caller drops it.
    pub(crate) fn route_me_harder(&mut self, net: NetRef<'_>, pf: u8) -> bool {
        // SAFETY: `ptr` is the hook's valid packet, `net` its namespace.
        let err = unsafe {
            if pf == NFPROTO_IPV6 {
                rvs_ip6_route_me_harder(net.as_ptr(), self.raw())
            } else {
                rvs_ip_route_me_harder(net.as_ptr(), self.raw())
            }
        };
        err == 0
    }

    /// Answers the packet's sender with ICMP port unreachable; the caller
    /// then drops the packet.
    pub(crate) fn icmp_port_unreach(&mut self, net: NetRef<'_>, pf: u8) {
        if pf == NFPROTO_IPV6 {
            // ICMPv6 sends nothing about a packet without a device (one
            // made here, at LOCAL_OUT): as IPVS, lend it loopback.
            // SAFETY: `ptr` is valid; `dev` shares its union only with
            // fields of packets on a queue, which a hook's packet is not.
            // The loopback device lives as long as its namespace.
            unsafe {
                let dev = &mut (*self.raw()).__bindgen_anon_1.__bindgen_anon_1.__bindgen_anon_1.dev;
                if dev.is_null() {
                    *dev = (*net.as_ptr()).loopback_dev;
                }
            }
            self.icmpv6_send(packet::ICMPV6_DEST_UNREACH, packet::ICMPV6_PORT_UNREACH, 0);
        } else {
            self.icmp_send(packet::ICMP_DEST_UNREACH, packet::ICMP_PORT_UNREACH, 0);
        }
    }

    /// Sends an ICMP error about this IPv4 packet; `info` in host order.
    fn icmp_send(&mut self, ty: u8, code: u8, info: u32) {
        // SAFETY: `ptr` is valid; ICMP errors are sent from a copy.
        unsafe { rvs_icmp_send(self.raw(), ty, code, info.to_be()) }
    }

    /// Sends an ICMPv6 error about this IPv6 packet.
    fn icmpv6_send(&mut self, ty: u8, code: u8, info: u32) {
        // SAFETY: As above.
        unsafe { rvs_icmpv6_send(self.raw(), ty, code, info) }
    }

    /// The firewall mark.
    pub(crate) fn mark(&self) -> u32 {
        // SAFETY: `ptr` is valid.
        unsafe { rvs_skb_mark(self.raw()) }
    }

    /// It came in through the loopback device: from this host. Every
    /// namespace's loopback has `LOOPBACK_IFINDEX` (<net/flow.h>).
    pub(crate) fn from_loopback(&self) -> bool {
        const LOOPBACK_IFINDEX: c_int = 1;
        // SAFETY: `ptr` is valid.
        unsafe { rvs_skb_iif(self.raw()) == LOOPBACK_IFINDEX }
    }

    /// Routes the packet along `dst` (dropping its old route).
    pub(crate) fn set_dst(&mut self, dst: Dst<'_>) {
        let (d, held) = dst.into_raw();
        let d = d.as_ptr();
        // SAFETY: `ptr` is valid. A held route's reference passes to the
        // skb; one without is valid in the RCU read-side section `dst`
        // borrowed, inside which the packet is sent on (and the stack
        // takes a reference of its own if it keeps the packet longer).
        unsafe {
            if held {
                rvs_skb_set_dst(self.raw(), d)
            } else {
                rvs_skb_set_dst_noref(self.raw(), d)
            }
        };
    }

    /// Leaves the packet untracked: its conntrack entry, not yet
    /// confirmed, never will be, and no later hook makes another.
    pub(crate) fn ct_untrack(&mut self) {
        // SAFETY: `ptr` is valid.
        unsafe { rvs_ct_untrack(self.raw()) }
    }

    /// Lets go of the packet's conntrack entry (a tunnel's outer packet is
    /// tracked as a packet of its own).
    pub(crate) fn ct_detach(&mut self) {
        // SAFETY: `ptr` is valid.
        unsafe { rvs_ct_detach(self.raw()) }
    }

    /// Marks the packet as IPVS's own, so that no hook of rvs (or IPVS)
    /// looks at it again.
    pub(crate) fn set_ipvs_property(&mut self) {
        // SAFETY: `ptr` is valid.
        unsafe { rvs_skb_set_ipvs_property(self.raw()) }
    }

    /// The packet has a conntrack entry (it is tracked).
    pub(crate) fn has_ct(&self) -> bool {
        // SAFETY: `ptr` is valid.
        unsafe { rvs_ct_get(self.raw()) != 0 }
    }

    /// The packet's conntrack entry is in the table already: it matched
    /// an earlier flow on the same addresses and ports.
    pub(crate) fn ct_confirmed(&self) -> bool {
        // SAFETY: `ptr` is valid.
        unsafe { rvs_ct_confirmed(self.raw()) != 0 }
    }

    /// Puts the packet's conntrack entry in the table now; the verdict
    /// (`NF_DROP` when conntrack refuses it).
    pub(crate) fn ct_confirm(&mut self) -> c_uint {
        // SAFETY: `ptr` is valid.
        unsafe { rvs_ct_confirm(self.raw()) }
    }

    /// Tells the packet's new conntrack entry the reply to expect: from
    /// `addr`:`port` (`to_rs`, the packet goes there now) or to it.
    pub(crate) fn ct_set_reply(&mut self, addr: &[u8; 16], port: u16, to_rs: bool) {
        // SAFETY: `ptr` is valid; `addr` is 16 readable bytes.
        unsafe { rvs_ct_set_reply(self.raw(), addr.as_ptr(), port, c_int::from(to_rs)) }
    }

    /// Sends the (routed) packet on through LOCAL_OUT and POSTROUTING, its
    /// conntrack entry settled (`nfct`). The hook must then return
    /// `NF_STOLEN`.
    pub(crate) fn send(self, net: NetRef<'_>, pf: u8) {
        // SAFETY: `ptr` is valid and has a route (set by `set_dst`); the
        // stack takes ownership of the skb, and `self` is consumed so rvs
        // cannot touch it again.
        unsafe { rvs_send(net.as_ptr(), self.raw(), pf) };
    }

    /// Readies the packet to go into a tunnel: `headroom` bytes of room
    /// for the tunnel's headers and the link layer, the segmentation
    /// offload's `gso` type bits, and `inner_ipproto` (the protocol
    /// number of the packet's own family) for it. On failure the packet is
    /// unchanged but may have been unshared.
    pub(crate) fn tunnel_prepare(&mut self, headroom: usize, gso: c_int, inner_ipproto: u8) -> Option<()> {
        let hr = c_uint::try_from(headroom).ok()?;
        // SAFETY: `ptr` is valid; each call leaves a valid skb.
        unsafe {
            if rvs_skb_cow_head(self.raw(), hr) != 0 || iptunnel_handle_offloads(self.raw(), gso) != 0 {
                return None;
            }
            rvs_skb_tunnel_inner(self.raw(), inner_ipproto);
        }
        Some(())
    }

    /// With `CHECKSUM_PARTIAL`: where the transport checksum's coverage
    /// starts, from `data` (negative: before it), and its field's offset
    /// from there.
    pub(crate) fn csum_partial(&self) -> Option<(c_int, u16)> {
        let (mut start, mut offset) = (0, 0);
        // SAFETY: `ptr` is valid; the out-pointers are to locals.
        let partial = unsafe { rvs_skb_csum_partial(self.raw(), &mut start, &mut offset) };
        (partial != 0).then_some((start, offset))
    }

    /// The UDP source port a tunnel gives this packet's flow.
    pub(crate) fn udp_flow_src_port(&mut self, net: NetRef<'_>) -> u16 {
        // SAFETY: `ptr` and `net` are valid.
        unsafe { rvs_udp_flow_src_port(net.as_ptr(), self.raw()) }
    }

    /// Pushes `header` (a UDP header and what follows it inside the
    /// tunnel), makes it the transport header and has the kernel fill the
    /// UDP checksum (`check`: computed or offloaded; otherwise zero) for
    /// an outer header of family `v6` from `saddr` to `daddr`.
    /// `to_receiver`: the packet's own transport checksum is left to the
    /// tunnel's receiver (GUE's remote checksum offload), after
    /// `tunnel_prepare` made the room.
    pub(crate) fn push_udp_tunnel(
        &mut self,
        header: &[u8],
        v6: bool,
        saddr: &[u8; 16],
        daddr: &[u8; 16],
        check: bool,
        to_receiver: bool,
    ) -> Option<()> {
        self.push_room(header)?;
        // SAFETY: `ptr` is valid and starts with the UDP header pushed
        // above; the UDP length covers the rest of the packet.
        unsafe {
            if to_receiver {
                rvs_skb_csum_to_receiver(self.raw());
            }
            rvs_skb_reset_transport_header(self.raw());
            let len = c_int::try_from(self.len()).ok()?;
            if v6 {
                let (s, d) = (in6(saddr), in6(daddr));
                udp6_set_csum(!check, self.raw(), &s, &d, len);
            } else {
                let s = u32::from_ne_bytes([saddr[0], saddr[1], saddr[2], saddr[3]]);
                let d = u32::from_ne_bytes([daddr[0], daddr[1], daddr[2], daddr[3]]);
                udp_set_csum(!check, self.raw(), s, d, len);
            }
        }
        Some(())
    }

    /// Pushes a GRE header naming the packet's family (`inner_v6`), with
    /// the checksum option if `csum`, after `tunnel_prepare` made the room.
    pub(crate) fn push_gre(&mut self, csum: bool, inner_v6: bool) {
        let proto = if inner_v6 { bindings::ETH_P_IPV6 } else { bindings::ETH_P_IP } as u16;
        // SAFETY: `ptr` is valid with room for the header (`tunnel_prepare`).
        unsafe { rvs_gre_push(self.raw(), c_int::from(csum), proto.to_be()) }
    }

    /// Puts `header`, an outer IPv4 or IPv6 header (`v6`), in front of the
    /// packet, after `tunnel_prepare` made the room, as the packet's
    /// network header.
    pub(crate) fn push_outer(&mut self, v6: bool, header: &[u8]) -> Option<()> {
        self.push_room(header)?;
        // SAFETY: `ptr` is valid and starts with the header just written.
        unsafe { rvs_skb_outer_headers(self.raw(), c_int::from(v6)) };
        Some(())
    }

    /// Pushes `header` into the headroom `tunnel_prepare` made.
    fn push_room(&mut self, header: &[u8]) -> Option<()> {
        let len = c_uint::try_from(header.len()).ok()?;
        // SAFETY: `ptr` is valid; the push stays within the headroom
        // `skb_cow_head` made, so it cannot overrun.
        unsafe {
            if (*self.raw()).data.offset_from((*self.raw()).head) < header.len() as isize {
                return None;
            }
            bindings::skb_push(self.raw(), len);
        }
        let head = self.head_mut(header.len())?;
        head.copy_from_slice(header);
        Some(())
    }

    /// Sets the outer IPv4 header's id and checksum after `push_outer`.
    pub(crate) fn ipip_finish(&mut self, net: NetRef<'_>) {
        // SAFETY: `ptr` is valid and its network header is the outer IPv4
        // header `push_ipip` made and rvs filled.
        unsafe { rvs_ipip_finish(net.as_ptr(), self.raw()) }
    }

    /// Whether every segment of this GSO packet fits `mtu` at the network
    /// layer.
    pub(crate) fn gso_fits(&self, mtu: u32) -> bool {
        // SAFETY: `ptr` is valid.
        unsafe { skb_gso_validate_network_len(self.raw(), mtu) }
    }

    /// Tells the sender its packet's TTL (hop limit) ran out here, counted
    /// as the kernel's forwarding counts it.
    pub(crate) fn icmp_time_exceeded(&mut self, net: NetRef<'_>, v6: bool) {
        let field = bindings::IPSTATS_MIB_INHDRERRORS as c_int;
        if v6 {
            // SAFETY: `ptr` and `net` are valid.
            unsafe { rvs_ip6_inc_stats(net.as_ptr(), self.raw(), field) };
            self.icmpv6_send(packet::ICMPV6_TIME_EXCEED, packet::ICMPV6_EXC_HOPLIMIT, 0);
        } else {
            // SAFETY: `net` is valid.
            unsafe { rvs_ip_inc_stats(net.as_ptr(), field) };
            self.icmp_send(packet::ICMP_TIME_EXCEEDED, packet::ICMP_EXC_TTL, 0);
        }
    }

    /// Tells the sender the packet is too big for the path (DF set).
    pub(crate) fn icmp_too_big(&mut self, v6: bool, mtu: u32) {
        if v6 {
            // "Packet too big" has no code but 0.
            self.icmpv6_send(packet::ICMPV6_PKT_TOOBIG, 0, mtu);
        } else {
            self.icmp_send(packet::ICMP_DEST_UNREACH, packet::ICMP_FRAG_NEEDED, mtu);
        }
    }
}
