// SPDX-License-Identifier: GPL-2.0

//! A network namespace as the rest of rvs holds it: borrowed for a request
//! or a hook call ([`NetRef`]), or kept by a per-namespace structure that
//! it outlives ([`OwnNet`]); and what rvs asks a namespace about its
//! addresses.
//!
//! C header: [`include/net/net_namespace.h`](srctree/include/net/net_namespace.h)

use core::ffi::{c_int, c_uint};
use core::marker::PhantomData;
use core::ptr::NonNull;

use kernel::bindings;

use crate::rvs_core::ctl::AF_INET6;

/// A network namespace, borrowed for as long as a request or a hook call
/// runs in it.
#[derive(Clone, Copy)]
pub(crate) struct NetRef<'a> {
    net: NonNull<bindings::net>,
    _p: PhantomData<&'a bindings::net>,
}

impl NetRef<'_> {
    /// Borrows a namespace the caller knows to be live.
    ///
    /// # Safety
    ///
    /// `net` stays live for the chosen lifetime.
    pub(crate) unsafe fn from_raw(net: NonNull<bindings::net>) -> Self {
        Self {
            net,
            _p: PhantomData,
        }
    }

    /// Whether the caller administers this namespace: `CAP_NET_ADMIN` in
    /// the user namespace that owns it (what IPVS asks of socket options).
    pub(crate) fn ns_capable_net_admin(&self) -> bool {
        // SAFETY: The namespace is live for `'_`, and the user namespace
        // that owns it with it.
        unsafe { bindings::ns_capable((*self.as_ptr()).user_ns, bindings::CAP_NET_ADMIN as c_int) }
    }

    /// The raw pointer, for the per-namespace state lookup.
    pub(crate) fn as_ptr(&self) -> *mut bindings::net {
        self.net.as_ptr()
    }
}

/// The namespace a per-namespace structure belongs to, kept by that
/// structure for the work it does outside any request or hook call (the
/// connection sweep).
///
/// # Invariants
///
/// The namespace outlives the holder: holders live in the namespace's
/// [`NetEntry`], which `net_exit` frees before the namespace goes.
pub(crate) struct OwnNet(NonNull<bindings::net>);

// SAFETY: A namespace may be used from any thread while it lives.
unsafe impl Send for OwnNet {}
// SAFETY: As above; `OwnNet` hands out only shared borrows.
unsafe impl Sync for OwnNet {}

impl OwnNet {
    /// # Safety
    ///
    /// `net` outlives the returned value and whatever holds it.
    pub(crate) unsafe fn new(net: NonNull<bindings::net>) -> Self {
        Self(net)
    }

    pub(crate) fn get(&self) -> NetRef<'_> {
        // SAFETY: The namespace outlives `self` (type invariants).
        unsafe { NetRef::from_raw(self.0) }
    }
}

/// What an IPv4 address is in a namespace, by its route (`RTN_*`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum AddrType {
    Unicast,
    /// Assigned to an interface here.
    Local,
    /// Broadcast, multicast, unreachable, ...
    Other,
}

impl NetRef<'_> {
    /// The route type of an IPv4 address here.
    pub(crate) fn ipv4_addr_type(&self, addr: [u8; 4]) -> AddrType {
        // SAFETY: The namespace is live for the borrow.
        match unsafe { inet_addr_type(self.as_ptr(), u32::from_ne_bytes(addr)) } {
            RTN_UNICAST => AddrType::Unicast,
            RTN_LOCAL => AddrType::Local,
            _ => AddrType::Other,
        }
    }

    /// Whether `addr` (of family `af`) is one of this host's addresses.
    pub(crate) fn is_local(&self, af: u16, addr: &[u8; 16]) -> bool {
        if af == AF_INET6 {
            self.ipv6_addr_is_local(addr)
        } else {
            self.ipv4_addr_type([addr[0], addr[1], addr[2], addr[3]]) == AddrType::Local
        }
    }

    /// Whether an IPv6 address is assigned to an interface here.
    pub(crate) fn ipv6_addr_is_local(&self, addr: &[u8; 16]) -> bool {
        // SAFETY: The namespace is live for the borrow; the address is a
        // temporary that outlives the call.
        unsafe { rvs_ipv6_addr_is_local(self.as_ptr(), &in6(addr)) != 0 }
    }
}

/// An IPv6 address as the kernel's type.
pub(crate) fn in6(a: &[u8; 16]) -> bindings::in6_addr {
    let mut v = bindings::in6_addr::default();
    v.in6_u.u6_addr8 = *a;
    v
}

/// The bytes of a kernel IPv6 address.
pub(crate) fn in6_bytes(a: &bindings::in6_addr) -> [u8; 16] {
    // SAFETY: Every view of the 16-byte union is plain bytes.
    unsafe { a.in6_u.u6_addr8 }
}

/// `RTN_UNICAST` and `RTN_LOCAL` of <uapi/linux/rtnetlink.h>.
const RTN_UNICAST: c_uint = 1;
pub(crate) const RTN_LOCAL: c_uint = 2;

// `struct net` holds a zero-sized array bindgen flags as not FFI-safe;
// only pointers to it cross the boundary.
#[allow(improper_ctypes)]
extern "C" {
    // Exported, but outside the kernel's bindings (<net/route.h>).
    fn inet_addr_type(net: *mut bindings::net, addr: u32) -> c_uint;
    fn rvs_ipv6_addr_is_local(net: *mut bindings::net, addr: *const bindings::in6_addr) -> i32;
}
