// SPDX-License-Identifier: GPL-2.0

//! The entries netfilter calls, through the C stubs of the hook table in
//! `rvs_helpers.c` (the kernel's Rust bindings leave out `nf_hook_ops`):
//! they turn the hook's raw packet and namespace into rvs's types, with
//! the proof of the hook's RCU section, and hand them to
//! [`core_hooks::hook`].

use core::ffi::c_uint;
use core::ptr::NonNull;

use kernel::bindings;

use crate::core_hooks::{self, Hook};
use crate::net::NetRef;
use crate::rcu::ReadSide;
use crate::skb::Skb;

/// Defines the entry for one [`Hook`].
macro_rules! hook_entry {
    ($(#[$doc:meta])* $name:ident => $kind:expr) => {
        $(#[$doc])*
        ///
        /// # Safety
        ///
        /// Called by netfilter with the hook's valid `skb` and namespace,
        /// inside an RCU read-side section.
        #[no_mangle]
        pub(crate) unsafe extern "C" fn $name(
            skb: *mut bindings::sk_buff,
            net: *mut bindings::net,
            pf: u8,
            hooknum: u8,
        ) -> c_uint {
            // SAFETY: As this function's.
            unsafe { entry(skb, net, pf, hooknum, $kind) }
        }
    };
}

hook_entry!(
    /// The hook for client packets.
    rvs_hook_in => Hook::In
);
hook_entry!(
    /// The hook for NAT replies.
    rvs_hook_out => Hook::Out
);
hook_entry!(
    /// The hook for ICMP errors at FORWARD.
    rvs_hook_forward_icmp => Hook::ForwardIcmp
);

/// # Safety
///
/// As the hook entries': `skb` and `net` are the hook's, valid, inside an
/// RCU read-side section.
#[inline(always)]
unsafe fn entry(skb: *mut bindings::sk_buff, net: *mut bindings::net, pf: u8, hooknum: u8, kind: Hook) -> c_uint {
    let (Some(skb), Some(net)) = (NonNull::new(skb), NonNull::new(net)) else {
        return bindings::NF_ACCEPT;
    };
    // SAFETY: The namespace is live for the hook call.
    let net = unsafe { NetRef::from_raw(net) };
    // SAFETY: Netfilter calls hooks inside an RCU read-side section, which
    // lasts the whole call.
    let rcu = unsafe { ReadSide::assume_held() };
    // SAFETY: At IPv4/IPv6 hooks `skb->data` is the network header.
    let skb = unsafe { Skb::from_hook(skb) };
    core_hooks::hook(net, &rcu, skb, pf, hooknum, kind)
}
