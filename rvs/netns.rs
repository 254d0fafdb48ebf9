// SPDX-License-Identifier: GPL-2.0

//! Per network namespace state, through `register_pernet_subsys` and
//! `net_generic`: every namespace gets its own [`NetState`], created when
//! the namespace (or the module) appears and dropped when it goes.
//!
//! C header: [`include/net/net_namespace.h`](srctree/include/net/net_namespace.h)

use core::ffi::{c_int, c_uint, c_void};
use core::ptr::NonNull;
use core::sync::atomic::{AtomicU32, Ordering::Relaxed};

use kernel::{bindings, error::to_result, new_mutex, prelude::*, sync::Mutex, types::Opaque};

use crate::conn_table::SWEEP_INTERVAL_MS;
use crate::kernel_services;
use crate::net::{NetRef, OwnNet};
use crate::procfs;
use crate::sysctl::{self, Tree};
use crate::rvs_core::est;
use crate::rvs_core::ctl::{errno, CtlError};
use crate::service::NetState;
use crate::sync::{DaemonConfig, SyncState};
use crate::sync_io::ThreadShared;

// `struct net` holds a zero-sized array bindgen flags as not FFI-safe;
// only pointers to it cross the boundary.
#[allow(improper_ctypes)]
extern "C" {
    fn rvs_net_generic(net: *const bindings::net, id: c_uint) -> *mut c_void;
    fn rvs_dwork_init(
        dw: *mut bindings::delayed_work,
        f: unsafe extern "C" fn(*mut bindings::work_struct),
    );
    fn rvs_defrag6_enable(net: *mut bindings::net) -> c_int;
    fn rvs_defrag6_disable(net: *mut bindings::net);
}

/// A namespace's state, its connection sync and its periodic work:
/// connection expiry, the rate estimator, lblc/lblcr cache expiry.
#[pin_data]
pub(crate) struct NetEntry {
    /// Connection sync daemons, which work on `state` from their threads:
    /// declared first, so that they go first.
    #[pin]
    pub(crate) sync: SyncState,
    #[pin]
    pub(crate) state: NetState,
    /// Ticks of the periodic work, for what runs every few ticks.
    ticks: AtomicU32,
    #[pin]
    work: Opaque<bindings::delayed_work>,
    /// `net.rvs`.
    sysctls: Option<sysctl::Table>,
    /// With the IPVS ABI: `net.ipv4.vs` and the /proc files, made by
    /// [`AbiRegistration`]'s operations.
    #[pin]
    ipvs: Mutex<Option<(sysctl::Table, procfs::Files)>>,
}

impl NetEntry {
    /// NEW_DAEMON in this namespace: the daemon's threads work on `state`.
    pub(crate) fn start_daemon(&self, net: NetRef<'_>, cfg: DaemonConfig, daemon: u32) -> Result<(), CtlError> {
        // SAFETY: The entry is pinned in its slot until `net_exit`, which
        // (as `net_pre_exit` before it) stops every daemon thread before
        // `state` goes; `sync` is also dropped before `state`.
        let shared = unsafe { ThreadShared::new(&self.state) };
        self.sync.start(net, shared, cfg, daemon)
    }
}

/// Puts the namespace's periodic work on the queue, `interval()` from now.
///
/// # Safety
///
/// `work` is initialised and stays live until cancelled.
unsafe fn schedule(work: &Opaque<bindings::delayed_work>) {
    // SAFETY: As this function's; `system_long_wq` exists from boot.
    unsafe {
        bindings::queue_delayed_work_on(
            bindings::wq_misc_consts_WORK_CPU_UNBOUND as c_int,
            bindings::system_long_wq,
            work.get(),
            interval(),
        )
    };
}

fn interval() -> kernel::ffi::c_ulong {
    (u64::from(SWEEP_INTERVAL_MS) * u64::from(crate::conn::HZ) / 1000) as kernel::ffi::c_ulong
}

unsafe extern "C" fn net_tick(work: *mut bindings::work_struct) {
    // SAFETY: The work is the `work` field of a live, pinned `NetEntry`:
    // `net_exit` cancels it (waiting for a running tick) before freeing.
    let entry = unsafe {
        let dw = kernel::container_of!(work, bindings::delayed_work, work);
        &*kernel::container_of!(dw.cast::<Opaque<bindings::delayed_work>>(), NetEntry, work)
    };
    let now = kernel_services::jiffies();
    let st = &entry.state;
    st.defense.update(&st.sysctl, st.conns.nearly_full());
    st.conns.sweep(
        now,
        st.sysctl.expire_nodest_conn.load(Relaxed) != 0,
        st.defense.drop_entry(&st.sysctl),
    );
    let ticks = entry.ticks.fetch_add(1, Relaxed).wrapping_add(1);
    let per_est = (est::TICK_SECS * 1000 / SWEEP_INTERVAL_MS).max(1);
    if ticks % per_est == 0 {
        if st.sysctl.run_estimation.load(Relaxed) != 0 {
            st.estimate();
        }
        st.clean_trash();
    }
    if ticks % (60 * 1000 / SWEEP_INTERVAL_MS).max(1) == 0 {
        st.expire_sched_caches(now);
    }
    // Re-arming from the work itself is allowed; `cancel_delayed_work_sync`
    // copes with it.
    // SAFETY: As above: the entry and its work outlive this tick.
    unsafe { schedule(&entry.work) };
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
/// Only the registrations write to it, before handing it to the kernel.
struct PernetOps(Opaque<bindings::pernet_operations>);

// SAFETY: The kernel serialises its use of the operations under
// `pernet_ops_rwsem`; rvs writes them only before registering.
unsafe impl Sync for PernetOps {}

static PERNET_OPS: PernetOps = PernetOps(Opaque::zeroed());

/// The per-namespace slot `net_generic` hands out: a pointer to our state,
/// which lives in its own pinned allocation.
type Slot = *mut NetEntry;

unsafe extern "C" fn net_init(net: *mut bindings::net) -> c_int {
    match init(net) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

fn init(net: *mut bindings::net) -> Result {
    let net = NonNull::new(net).ok_or(EINVAL)?;
    let mut seed = [0u8; 8];
    kernel_services::random_bytes(&mut seed);
    let init = try_pin_init!(NetEntry {
        sync <- SyncState::new(),
        // SAFETY: The state is part of the namespace's entry, which
        // `net_exit` frees before the namespace goes.
        state <- NetState::new(u64::from_ne_bytes(seed), crate::conn_tab_bits(), unsafe { OwnNet::new(net) })?,
        ticks: AtomicU32::new(0),
        work: Opaque::zeroed(),
        sysctls: None,
        ipvs <- new_mutex!(None),
    }? Error);
    let mut entry = KBox::pin_init(init, GFP_KERNEL)?;
    // SAFETY: The entry is pinned; `work` is initialised once, here.
    unsafe { rvs_dwork_init(entry.work.get(), net_tick) };
    // The tables and files point into the pinned state, which they
    // cannot outlive: `net_exit` drops them before the entry.
    // SAFETY: `net` is live during `init`; only unpinned fields change.
    unsafe {
        let e = Pin::get_unchecked_mut(entry.as_mut());
        e.sysctls = Some(sysctl::Table::register(net.as_ptr(), Tree::Rvs, &e.state.sysctl)?);
    }
    // The entry never moves out of its box, whose raw pointer the slot
    // keeps until `net_exit` rebuilds the box.
    // SAFETY: `init` gets a valid namespace whose zeroed slot of
    // `size_of::<Slot>()` bytes nobody else uses yet.
    let raw = unsafe {
        let raw = KBox::into_raw(Pin::into_inner_unchecked(entry));
        *slot(net.as_ptr()) = raw;
        raw
    };
    // The hooks are registered with the first service
    // (`nf::NetHooks::ensure`), and find the state through the slot.
    // SAFETY: `raw` is live until `net_exit`, which cancels the work.
    unsafe { schedule(&(*raw).work) };
    Ok(())
}

/// The namespace's slot for rvs's state.
///
/// # Safety
///
/// `net` is live and the operations are registered.
unsafe fn slot(net: *mut bindings::net) -> *mut Slot {
    // SAFETY: As this function's; the slot is `size_of::<Slot>()` bytes.
    unsafe { rvs_net_generic(net, *NET_ID.0.get()).cast::<Slot>() }
}

/// Before the namespace's devices go: the sync daemons' sockets and
/// threads (which hold references to the devices) are released first, as
/// IPVS stops its daemons in its per-device exit.
unsafe extern "C" fn net_pre_exit(net: *mut bindings::net) {
    if let Some(e) = entry_ptr(net) {
        // SAFETY: The entry is live until `net_exit`, which runs after this.
        unsafe { e.as_ref() }.sync.stop_all();
    }
}

unsafe extern "C" fn net_exit(net: *mut bindings::net) {
    // SAFETY: `exit` runs once per namespace after `init` succeeded, when no
    // request can reach the namespace's state any more (the genl family
    // only answers in live namespaces); the slot holds what `init` stored.
    unsafe {
        let slot = slot(net);
        let entry = *slot;
        if entry.is_null() {
            return;
        }
        // Readers of the knobs are waited for here; nobody reaches the
        // state through them after this. (The ABI's files went in
        // `abi_exit`, which runs first.)
        (*entry).sysctls = None;
        // The sync daemons use the state (and the namespace's sockets)
        // from their threads: they go first.
        (*entry).sync.stop_all();
        // No packet reaches rvs after this (it waits for running hooks),
        // and no tick runs after the cancel.
        (*entry).state.hooks.unregister((*entry).state.conns.net());
        bindings::cancel_delayed_work_sync((*entry).work.get());
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

fn entry_ptr(net: *mut bindings::net) -> Option<NonNull<NetEntry>> {
    // Called for a live namespace after rvs's `net_init` ran in it (the
    // ABI's operations are registered after rvs's own).
    // SAFETY: The slot of a live namespace holds null or the entry.
    unsafe { NonNull::new(*slot(net)) }
}

/// The IPVS ABI's /proc files and `net.ipv4.vs` knobs of a namespace.
unsafe extern "C" fn abi_init(net: *mut bindings::net) -> c_int {
    let (Some(n), Some(e)) = (NonNull::new(net), entry_ptr(net)) else {
        return ENODEV.to_errno();
    };
    // SAFETY: rvs's own `net_exit` runs after this namespace's `abi_exit`
    // (registered earlier, torn down later), so the entry outlives what
    // is made here, which `abi_exit` drops.
    let e = unsafe { e.as_ref() };
    let made = (|| {
        // SAFETY: As above; `net` is live during `init`.
        let knobs = unsafe { sysctl::Table::register(net, Tree::Ipvs, &e.state.sysctl)? };
        // SAFETY: As above.
        let files = unsafe { procfs::Files::create(n, &e.state)? };
        Ok::<_, Error>((knobs, files))
    })();
    match made {
        Ok(m) => {
            *e.ipvs.lock() = Some(m);
            0
        }
        Err(err) => err.to_errno(),
    }
}

unsafe extern "C" fn abi_exit(net: *mut bindings::net) {
    if let Some(e) = entry_ptr(net) {
        // SAFETY: The entry is live until rvs's own `net_exit`, which runs
        // after this. Dropping waits for the files' and knobs' readers.
        let made = unsafe { e.as_ref() }.ipvs.lock().take();
        drop(made);
    }
}

static ABI_OPS: PernetOps = PernetOps(Opaque::zeroed());

/// The IPVS ABI's per-namespace files and knobs (`ipvs_abi=1`), made in
/// every namespace after rvs's own state and removed before it.
pub(crate) struct AbiRegistration(());

impl AbiRegistration {
    /// Registers the operations; call after [`Registration::register`]
    /// and after the IPVS family, which refuses a second IPVS (the names
    /// would collide with ip_vs's).
    pub(crate) fn register() -> Result<Self> {
        // SAFETY: Runs once, in module init, before the kernel knows of
        // the operations (type invariants of `PernetOps`).
        unsafe {
            let ops = ABI_OPS.0.get();
            (*ops).init = Some(abi_init);
            (*ops).exit = Some(abi_exit);
            to_result(bindings::register_pernet_subsys(ops))?;
        }
        Ok(Self(()))
    }
}

impl Drop for AbiRegistration {
    fn drop(&mut self) {
        // SAFETY: Registered in `register`; unregistering calls `abi_exit`
        // for every namespace.
        unsafe { bindings::unregister_pernet_subsys(ABI_OPS.0.get()) };
    }
}

/// The rvs state of namespace `net`, and its connection sync.
pub(crate) fn entry(net: NetRef<'_>) -> Option<&NetEntry> {
    // The slot was filled by `net_init` (registration precedes the genl
    // family) and is freed only by `net_exit`, once the namespace serves
    // no request: the reference cannot outlive the entry.
    // SAFETY: `net` is a live namespace for the borrow's lifetime.
    unsafe { NonNull::new(*slot(net.as_ptr())).map(|p| &*p.as_ptr()) }
}

/// The rvs state of namespace `net`.
pub(crate) fn state(net: NetRef<'_>) -> Option<&NetState> {
    entry(net).map(|e| &e.state)
}
