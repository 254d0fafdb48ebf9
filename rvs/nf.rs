// SPDX-License-Identifier: GPL-2.0

//! The entries netfilter calls, through the C stubs of the hook table in
//! `rvs_helpers.c` (the kernel's Rust bindings leave out `nf_hook_ops`):
//! they turn the hook's raw packet and namespace into rvs's types, with
//! the proof of the hook's RCU section, and hand them to
//! [`core_hooks::hook`]. And the table's registration in a namespace.

use core::ffi::{c_int, c_uint};
use core::ptr::NonNull;

use kernel::{bindings, error::to_result, new_mutex, prelude::*, sync::Mutex};

use crate::core_hooks::{self, Hook};
use crate::net::NetRef;
use crate::rcu::ReadSide;
use crate::skb::Skb;

// `struct net` holds a zero-sized array bindgen flags as not FFI-safe;
// only pointers to it cross the boundary.
#[allow(improper_ctypes)]
extern "C" {
    fn rvs_hooks_register(net: *mut bindings::net) -> c_int;
    fn rvs_hooks_unregister(net: *mut bindings::net);
}

/// A namespace's hooks. They are registered with its first service (or
/// backup sync daemon), as IPVS registers its own: a namespace that
/// never gets one (a container, the tests' clients and real servers)
/// runs no rvs code for its packets.
#[pin_data]
pub(crate) struct NetHooks {
    #[pin]
    registered: Mutex<bool>,
}

impl NetHooks {
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            registered <- new_mutex!(false, "rvs_net_hooks"),
        })
    }

    /// Registers the hooks in `net` unless they are (process context).
    pub(crate) fn ensure(&self, net: NetRef<'_>) -> Result {
        let mut registered = self.registered.lock();
        if !*registered {
            // SAFETY: The namespace is live for the borrow; the hooks
            // find its state through its `net_generic` slot, which is
            // filled before any of its state is reachable.
            to_result(unsafe { rvs_hooks_register(net.as_ptr()) })?;
            *registered = true;
        }
        Ok(())
    }

    /// Unregisters them if they are; no hook runs after this returns
    /// (the kernel waits for running ones).
    pub(crate) fn unregister(&self, net: NetRef<'_>) {
        let mut registered = self.registered.lock();
        if *registered {
            // SAFETY: Registered in `net` by `ensure`, once.
            unsafe { rvs_hooks_unregister(net.as_ptr()) };
            *registered = false;
        }
    }
}

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
