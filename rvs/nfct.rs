// SPDX-License-Identifier: GPL-2.0

//! Netfilter conntrack, as IPVS's `ip_vs_nfct.c`: with the `conntrack`
//! knob set, a connection's packets keep their conntrack entry and NAT
//! tells the entry which reply to expect, so iptables/nftables rules
//! (MASQUERADE, SNAT, `ct state`) apply to balanced traffic, and the entry
//! goes when the connection does. Without it rvs's packets leave
//! untracked and leave no entries, as IPVS's do.
//!
//! Each forwarding method settles a packet's entry just before it sends
//! the packet on (or lets it continue).

use core::ffi::{c_int, c_uint};
use core::sync::atomic::Ordering::Relaxed;

use kernel::bindings;

use crate::conn::{flags as cf, Conn};
use crate::netns::NetRef;
use crate::rvs_core::abi::fwd;
use crate::skb::Skb;
use crate::sysctl::Sysctls;

// `struct net` is opaque to Rust; only pointers to it cross.
#[allow(improper_ctypes)]
extern "C" {
    fn rvs_ct_available() -> c_int;
    fn rvs_ct_kill(
        net: *mut bindings::net,
        af: u16,
        protocol: u8,
        caddr: *const u8,
        cport: u16,
        vaddr: *const u8,
        vport: u16,
    );
}

const NF_ACCEPT: c_uint = bindings::NF_ACCEPT;

/// The kernel has conntrack: the knob exists.
pub(crate) fn available() -> bool {
    // SAFETY: Reads a build-time constant.
    unsafe { rvs_ct_available() != 0 }
}

/// NFCT for a new entry (scheduled, or from a sync message) while the
/// namespace's `conntrack` knob is set.
pub(crate) fn new_conn_flag(knobs: &Sysctls) -> u32 {
    if knobs.conntrack.load(Relaxed) != 0 {
        cf::NFCT
    } else {
        0
    }
}

/// The connection's packets keep their conntrack entries.
fn tracked(c: &Conn) -> bool {
    c.flags.load(Relaxed) & cf::NFCT != 0
}

/// A NAT packet about to go on, to the real server (`to_rs`) or back to
/// the client, as IPVS's `ip_vs_update_conntrack`: a tracked
/// connection's new entry learns the reply it will see (the real server's
/// address, or the virtual service's), unless no reply is expected
/// (one-packet scheduling); an untracked connection's packet loses its
/// entry.
pub(crate) fn nat(skb: &mut Skb, c: &Conn, to_rs: bool) {
    let f = c.flags.load(Relaxed);
    if f & cf::NFCT == 0 {
        skb.ct_untrack();
    } else if f & cf::ONE_PACKET == 0 && c.fwd() == fwd::MASQ {
        if to_rs {
            skb.ct_set_reply(&c.daddr, c.dport, true);
        } else {
            skb.ct_set_reply(&c.vaddr, c.vport, false);
        }
    }
}

/// Direct routing (and any packet delivered here): the entry stays with a
/// tracked connection's packet, unchanged.
pub(crate) fn direct(skb: &mut Skb, c: &Conn) {
    if !tracked(c) {
        skb.ct_untrack();
    }
}

/// A packet about to be encapsulated: a tracked connection's entry goes
/// into the table now (the packet will not come back to conntrack as
/// itself); then the packet lets go of it either way. The verdict.
pub(crate) fn tunnel(skb: &mut Skb, c: &Conn) -> c_uint {
    if tracked(c) {
        let verdict = skb.ct_confirm();
        if verdict != NF_ACCEPT {
            return verdict;
        }
    }
    skb.ct_detach();
    NF_ACCEPT
}

/// A new packet on a connection's addresses and ports is about to replace
/// it (`conn_reuse_mode`, `expire_nodest_conn`). If the packet matched
/// the old connection's confirmed entry, it must wait (`true`: drop it;
/// the client sends it again once the entry is gone), as IPVS's
/// `ip_vs_conn_uses_old_conntrack`. Otherwise the old connection no longer
/// owns an entry to drop.
pub(crate) fn old_entry_in_the_way(skb: &Skb, c: &Conn) -> bool {
    if skb.ct_confirmed() {
        return true;
    }
    c.flags.fetch_and(!cf::NFCT, Relaxed);
    false
}

/// The conntrack entry a removed connection leaves behind, as IPVS's
/// `ip_vs_conn_drop_conntrack` finds it: client to virtual service.
#[derive(Clone, Copy)]
pub(crate) struct Leftover {
    af: u16,
    protocol: u8,
    caddr: [u8; 16],
    cport: u16,
    vaddr: [u8; 16],
    vport: u16,
}

impl Leftover {
    pub(crate) const NONE: Self = Self { af: 0, protocol: 0, caddr: [0; 16], cport: 0, vaddr: [0; 16], vport: 0 };

    /// What `c` leaves to drop when it goes: only a tracked connection
    /// that expected replies, and whose client port is known.
    pub(crate) fn of(c: &Conn) -> Option<Self> {
        let f = c.flags.load(Relaxed);
        if f & cf::NFCT == 0 || f & (cf::ONE_PACKET | cf::TEMPLATE) != 0 || c.cport == 0 {
            return None;
        }
        Some(Self { af: c.af, protocol: c.protocol, caddr: c.caddr, cport: c.cport, vaddr: c.vaddr, vport: c.vport })
    }

    /// Drops the entry, if conntrack still has it. Takes conntrack's
    /// locks: never under one of rvs's spinlocks.
    pub(crate) fn drop_in(&self, net: NetRef<'_>) {
        // SAFETY: `net` is live (`NetRef`); the addresses are 16 bytes.
        unsafe {
            rvs_ct_kill(
                net.as_ptr(),
                self.af,
                self.protocol,
                self.caddr.as_ptr(),
                self.cport,
                self.vaddr.as_ptr(),
                self.vport,
            )
        }
    }
}
