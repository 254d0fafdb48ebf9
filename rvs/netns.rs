// SPDX-License-Identifier: GPL-2.0

//! Per network namespace state, through `register_pernet_subsys` and
//! `net_generic`: every namespace gets its own [`NetState`], created when
//! the namespace (or the module) appears and dropped when it goes.
//!
//! C header: [`include/net/net_namespace.h`](srctree/include/net/net_namespace.h)

use core::ffi::{c_int, c_uint, c_void};
use core::marker::PhantomData;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicPtr, AtomicU32, Ordering::Relaxed};

use kernel::{bindings, error::to_result, prelude::*, types::Opaque};

use crate::conn::{self, SWEEP_INTERVAL_MS};
use crate::rvs_core::est;
use crate::rvs_core::ctl::{errno, CtlError};
use crate::service::NetState;

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

    /// The raw pointer, for the per-namespace state lookup.
    pub(crate) fn as_ptr(&self) -> *mut bindings::net {
        self.net.as_ptr()
    }
}

// `struct net` holds a zero-sized array bindgen flags as not FFI-safe;
// only pointers to it cross the boundary.
#[allow(improper_ctypes)]
extern "C" {
    fn rvs_net_generic(net: *const bindings::net, id: c_uint) -> *mut c_void;
    fn rvs_hooks_register(net: *mut bindings::net) -> c_int;
    fn rvs_hooks_unregister(net: *mut bindings::net);
    fn rvs_dwork_init(
        dw: *mut bindings::delayed_work,
        f: unsafe extern "C" fn(*mut bindings::work_struct),
    );
    fn rvs_dwork_schedule(dw: *mut bindings::delayed_work, delay: core::ffi::c_ulong);
    fn rvs_dwork_cancel_sync(dw: *mut bindings::delayed_work);
    fn rvs_to_dwork(w: *mut bindings::work_struct) -> *mut bindings::delayed_work;
    fn rvs_sysctl_register(
        net: *mut bindings::net,
        path: *const core::ffi::c_char,
        vars: *mut *mut c_int,
        count: c_int,
    ) -> *mut c_void;
    fn rvs_sysctl_unregister(hdr: *mut c_void);
    fn rvs_defrag6_enable(net: *mut bindings::net) -> c_int;
    fn rvs_defrag6_disable(net: *mut bindings::net);
}

/// A namespace's state and its periodic work: connection expiry, the rate
/// estimator, lblc/lblcr cache expiry.
#[pin_data]
pub(crate) struct NetEntry {
    #[pin]
    pub(crate) state: NetState,
    /// Ticks of the periodic work, for what runs every few ticks.
    ticks: AtomicU32,
    #[pin]
    work: Opaque<bindings::delayed_work>,
    /// The `net.rvs` sysctl table's header.
    sysctl_hdr: AtomicPtr<c_void>,
    /// The `net.ipv4.vs` table's header (IPVS ABI), set and cleared by the
    /// ABI's own per-namespace operations in rvs_helpers.c.
    ipvs_sysctl_hdr: AtomicPtr<c_void>,
}

fn interval() -> core::ffi::c_ulong {
    (u64::from(SWEEP_INTERVAL_MS) * u64::from(crate::conn::HZ) / 1000) as core::ffi::c_ulong
}

unsafe extern "C" fn net_tick(work: *mut bindings::work_struct) {
    // SAFETY: The work is the `work` field of a live, pinned `NetEntry`:
    // `net_exit` cancels it (waiting for a running tick) before freeing.
    let entry = unsafe {
        let dw = rvs_to_dwork(work).cast::<Opaque<bindings::delayed_work>>();
        &*kernel::container_of!(dw, NetEntry, work)
    };
    let now = conn::jiffies();
    let st = &entry.state;
    st.conns
        .sweep(now, st.sysctl.expire_nodest_conn.load(Relaxed) != 0);
    let ticks = entry.ticks.fetch_add(1, Relaxed).wrapping_add(1);
    let per_est = (est::TICK_SECS * 1000 / SWEEP_INTERVAL_MS).max(1);
    if ticks % per_est == 0 {
        st.estimate();
        st.clean_trash();
    }
    if ticks % (60 * 1000 / SWEEP_INTERVAL_MS).max(1) == 0 {
        st.expire_sched_caches(now);
    }
    // SAFETY: As above; re-arming from the work itself is allowed, and
    // `rvs_dwork_cancel_sync` copes with it.
    unsafe { rvs_dwork_schedule(entry.work.get(), interval()) };
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
type Slot = *mut NetEntry;

unsafe extern "C" fn net_init(net: *mut bindings::net) -> c_int {
    let mut seed = [0u8; 8];
    // SAFETY: Fills a local buffer.
    unsafe { bindings::get_random_bytes(seed.as_mut_ptr().cast(), seed.len()) };
    let init = try_pin_init!(NetEntry {
        state <- NetState::new(u64::from_ne_bytes(seed), crate::conn_tab_bits()),
        ticks: AtomicU32::new(0),
        work: Opaque::zeroed(),
        sysctl_hdr: AtomicPtr::new(core::ptr::null_mut()),
        ipvs_sysctl_hdr: AtomicPtr::new(core::ptr::null_mut()),
    }? Error);
    let entry = match KBox::pin_init(init, GFP_KERNEL) {
        Ok(s) => s,
        Err(e) => return e.to_errno(),
    };
    // SAFETY: The entry is pinned; `work` is initialised once, here.
    unsafe { rvs_dwork_init(entry.work.get(), net_tick) };
    // The entry is pinned: it never moves out of its box, whose raw pointer
    // we keep until `net_exit` rebuilds the box.
    // SAFETY: `init` gets a valid namespace whose zeroed slot of
    // `size_of::<Slot>()` bytes nobody else uses yet.
    let raw = unsafe {
        let raw = KBox::into_raw(Pin::into_inner_unchecked(entry));
        let slot = rvs_net_generic(net, *NET_ID.0.get()).cast::<Slot>();
        *slot = raw;
        raw
    };
    // SAFETY: `net` is valid; the hooks find the state through the slot
    // just filled.
    let err = unsafe { rvs_hooks_register(net) };
    if err != 0 {
        // SAFETY: Undo the slot; nothing else saw the entry.
        unsafe {
            let slot = rvs_net_generic(net, *NET_ID.0.get()).cast::<Slot>();
            *slot = core::ptr::null_mut();
            drop(Pin::new_unchecked(KBox::from_raw(raw)));
        }
        return err;
    }
    // `net_exit` unregisters the sysctls before freeing the entry.
    // SAFETY: The data are ints (`AtomicI32` has `int`'s layout) in the
    // pinned entry, which outlives the registration.
    unsafe {
        let mut vars = (*raw).state.sysctl.as_ptrs();
        let hdr = rvs_sysctl_register(
            net,
            c"net/rvs".as_ptr(),
            vars.as_mut_ptr(),
            crate::service::NR_SYSCTLS as c_int,
        );
        (*raw).sysctl_hdr.store(hdr, Relaxed);
    }
    // SAFETY: `raw` is live until `net_exit`, which cancels the work.
    unsafe { rvs_dwork_schedule((*raw).work.get(), interval()) };
    0
}

/// Before the namespace's devices go: the sync daemons' sockets and
/// threads (which hold references to the devices) are released first, as
/// IPVS stops its daemons in its per-device exit.
unsafe extern "C" fn net_pre_exit(net: *mut bindings::net) {
    if let Some(e) = entry(net) {
        // SAFETY: The entry is live until `net_exit`, which runs after this.
        unsafe { e.as_ref() }.state.sync.stop_all();
    }
}

unsafe extern "C" fn net_exit(net: *mut bindings::net) {
    // SAFETY: `exit` runs once per namespace after `init` succeeded, when no
    // request can reach the namespace's state any more (the genl family
    // only answers in live namespaces); the slot holds what `init` stored.
    unsafe {
        let slot = rvs_net_generic(net, *NET_ID.0.get()).cast::<Slot>();
        let entry = *slot;
        if entry.is_null() {
            return;
        }
        // The sync daemons use the state (and the namespace's sockets)
        // from their threads: they go first.
        (*entry).state.sync.stop_all();
        // No packet reaches rvs after this (it waits for running hooks),
        // and no tick runs after the cancel.
        rvs_hooks_unregister(net);
        let hdr = (*entry).sysctl_hdr.load(Relaxed);
        if !hdr.is_null() {
            rvs_sysctl_unregister(hdr);
        }
        rvs_dwork_cancel_sync((*entry).work.get());
        if (*entry).state.defrag6.load(Relaxed) {
            rvs_defrag6_disable(net);
        }
        *slot = core::ptr::null_mut();
        drop(Pin::new_unchecked(KBox::from_raw(entry)));
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
            (*ops).pre_exit = Some(net_pre_exit);
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

/// Makes IPv6 fragments reach rvs reassembled, once a namespace has an
/// IPv6 service or real server (IPVS does the same). Undone in `net_exit`.
/// Called with the namespace's tables locked.
pub(crate) fn enable_defrag6(net: NetRef<'_>, st: &NetState) -> Result<(), CtlError> {
    if st.defrag6.load(Relaxed) {
        return Ok(());
    }
    // SAFETY: `net` is live for the request.
    if unsafe { rvs_defrag6_enable(net.as_ptr()) } != 0 {
        return Err(CtlError {
            errno: errno::ENOMEM,
            msg: "cannot enable IPv6 defragmentation\0",
        });
    }
    st.defrag6.store(true, Relaxed);
    Ok(())
}

fn entry(net: *mut bindings::net) -> Option<NonNull<NetEntry>> {
    // SAFETY: Called for a live namespace after rvs's `net_init` ran in it
    // (the ABI's operations are registered after rvs's own); the slot holds
    // null or the entry.
    unsafe {
        let slot = rvs_net_generic(net, *NET_ID.0.get()).cast::<Slot>();
        NonNull::new(*slot)
    }
}

/// The sysctl knobs of `net`, for the IPVS ABI's `net.ipv4.vs` table.
/// Returns 0, or -ENODEV if rvs has no state there.
#[no_mangle]
unsafe extern "C" fn rvs_sysctl_vars(net: *mut bindings::net, vars: *mut *mut c_int) -> c_int {
    let Some(e) = entry(net) else {
        return ENODEV.to_errno();
    };
    // SAFETY: The entry is live while the namespace is (see `entry`); the C
    // caller passes room for `RVS_NR_SYSCTLS` pointers.
    unsafe {
        let ptrs = e.as_ref().state.sysctl.as_ptrs();
        core::ptr::copy_nonoverlapping(ptrs.as_ptr(), vars, ptrs.len());
    }
    0
}

/// Stores the `net.ipv4.vs` table's header for `net`, returning the old one.
#[no_mangle]
unsafe extern "C" fn rvs_set_ipvs_sysctl_hdr(net: *mut bindings::net, hdr: *mut c_void) -> *mut c_void {
    match entry(net) {
        // SAFETY: The entry is live while the namespace is (see `entry`).
        Some(e) => unsafe { e.as_ref() }.ipvs_sysctl_hdr.swap(hdr, Relaxed),
        None => core::ptr::null_mut(),
    }
}

/// The rvs state of namespace `net`.
pub(crate) fn state(net: NetRef<'_>) -> Option<&NetState> {
    // The slot was filled by `net_init` (registration precedes the genl
    // family) and is freed only by `net_exit`, once the namespace serves
    // no request: the reference cannot outlive the state.
    // SAFETY: `net` is a live namespace for the borrow's lifetime.
    unsafe {
        let slot = rvs_net_generic(net.as_ptr(), *NET_ID.0.get()).cast::<Slot>();
        NonNull::new(*slot).map(|p| &(*p.as_ptr()).state)
    }
}
