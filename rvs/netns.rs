// SPDX-License-Identifier: GPL-2.0

//! Per network namespace state, through `register_pernet_subsys` and
//! `net_generic`: every namespace gets its own [`NetState`], created when
//! the namespace (or the module) appears and dropped when it goes.
//!
//! C header: [`include/net/net_namespace.h`](srctree/include/net/net_namespace.h)

use core::ffi::{c_int, c_uint, c_void};
use core::ptr::NonNull;

use kernel::{bindings, error::to_result, prelude::*, types::Opaque};

use crate::genl::NetRef;
use crate::service::NetState;

// `struct net` holds a zero-sized array bindgen flags as not FFI-safe;
// only pointers to it cross the boundary.
#[allow(improper_ctypes)]
extern "C" {
    fn rvs_net_generic(net: *const bindings::net, id: c_uint) -> *mut c_void;
}

/// The id `net_generic` knows rvs by.
///
/// # Invariants
///
/// Written only by the kernel, in `register_pernet_subsys`, before any
/// namespace callback or lookup reads it.
struct NetId(Opaque<c_uint>);

// SAFETY: Written once during registration, read-only afterwards.
unsafe impl Sync for NetId {}

static NET_ID: NetId = NetId(Opaque::new(0));

/// The registered `pernet_operations`.
///
/// # Invariants
///
/// Only `register` writes to it, before handing it to the kernel.
struct PernetOps(Opaque<bindings::pernet_operations>);

// SAFETY: The kernel serialises its use of the operations under
// `pernet_ops_rwsem`; rvs writes them only before registering.
unsafe impl Sync for PernetOps {}

static PERNET_OPS: PernetOps = PernetOps(Opaque::zeroed());

/// The per-namespace slot `net_generic` hands out: a pointer to our state,
/// which lives in its own pinned allocation.
type Slot = *mut NetState;

unsafe extern "C" fn net_init(net: *mut bindings::net) -> c_int {
    let state = match KBox::pin_init(NetState::new(), GFP_KERNEL) {
        Ok(s) => s,
        Err(e) => return e.to_errno(),
    };
    // SAFETY: The kernel calls `init` with a valid namespace whose slot of
    // `size_of::<Slot>()` bytes is allocated and zeroed; nobody else uses
    // it yet. The state is never moved out of its box (it is pinned): we
    // keep the raw pointer until `net_exit` rebuilds the box.
    unsafe {
        let slot = rvs_net_generic(net, *NET_ID.0.get()).cast::<Slot>();
        *slot = KBox::into_raw(Pin::into_inner_unchecked(state));
    }
    0
}

unsafe extern "C" fn net_exit(net: *mut bindings::net) {
    // SAFETY: `exit` runs once per namespace after `init` succeeded, when no
    // request can reach the namespace's state any more (the genl family
    // only answers in live namespaces); the slot holds what `init` stored.
    unsafe {
        let slot = rvs_net_generic(net, *NET_ID.0.get()).cast::<Slot>();
        let state = *slot;
        *slot = core::ptr::null_mut();
        if !state.is_null() {
            drop(Pin::new_unchecked(KBox::from_raw(state)));
        }
    }
}

/// The registration; dropping it unregisters and frees every namespace's
/// state.
pub(crate) struct Registration(());

impl Registration {
    /// Registers the per-namespace operations.
    pub(crate) fn register() -> Result<Self> {
        // SAFETY: Nothing else touches the operations: this runs once, in
        // module init, before the kernel knows of them (type invariants).
        unsafe {
            let ops = PERNET_OPS.0.get();
            (*ops).init = Some(net_init);
            (*ops).exit = Some(net_exit);
            (*ops).id = NET_ID.0.get();
            (*ops).size = core::mem::size_of::<Slot>();
            to_result(bindings::register_pernet_subsys(ops))?;
        }
        Ok(Self(()))
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        // SAFETY: Registered in `register`; unregistering calls `net_exit`
        // for every namespace.
        unsafe { bindings::unregister_pernet_subsys(PERNET_OPS.0.get()) };
    }
}

/// The rvs state of namespace `net`.
pub(crate) fn state(net: NetRef<'_>) -> Option<&NetState> {
    // SAFETY: `net` is a live namespace for the borrow's lifetime; its slot
    // was filled by `net_init` (registration precedes the genl family) and
    // is freed only by `net_exit`, after the namespace stops serving
    // requests, so the reference cannot outlive the state.
    unsafe {
        let slot = rvs_net_generic(net.as_ptr(), *NET_ID.0.get()).cast::<Slot>();
        NonNull::new(*slot).map(|p| &*p.as_ptr())
    }
}
