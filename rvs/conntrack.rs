// SPDX-License-Identifier: GPL-2.0

//! The kernel's conntrack table itself, through `rvs_helpers.c`: whether
//! the kernel has it, and dropping the entry a removed connection leaves
//! (IPVS's `ip_vs_conn_drop_conntrack`). What rvs's packets do to their
//! entries is `nfct.rs`'s.

use core::ffi::c_int;

use kernel::bindings;

use crate::net::NetRef;

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

/// The kernel has conntrack: the `conntrack` knob exists.
pub(crate) fn available() -> bool {
    // SAFETY: Reads a build-time constant.
    unsafe { rvs_ct_available() != 0 }
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

    /// The entry of a flow from `caddr:cport` to `vaddr:vport`.
    pub(crate) fn new(af: u16, protocol: u8, caddr: [u8; 16], cport: u16, vaddr: [u8; 16], vport: u16) -> Self {
        Self { af, protocol, caddr, cport, vaddr, vport }
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
