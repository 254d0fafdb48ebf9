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

use core::ffi::c_uint;
use core::sync::atomic::Ordering::Relaxed;

use kernel::bindings;

use crate::conn::{flags as cf, Conn};
use crate::rvs_core::abi::fwd;
use crate::skb::Skb;
use crate::sysctl::Sysctls;

const NF_ACCEPT: c_uint = bindings::NF_ACCEPT;

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
