// SPDX-License-Identifier: GPL-2.0

//! RCU for rvs's lock-free lookups: readers on the packet path run inside
//! netfilter's RCU read-side section; writers publish with release stores
//! and free what they unlinked only after a grace period ([`RcuBox`],
//! [`RcuCell`], [`RcuArc`], [`defer_drop`]).
//!
//! C header: [`include/linux/rcupdate.h`](srctree/include/linux/rcupdate.h)

use core::marker::PhantomData;
use core::sync::atomic::{AtomicPtr, Ordering::*};

use kernel::{alloc::Flags, bindings, prelude::*, sync::Arc, types::Opaque};

/// A value freed by an RCU callback, once no reader can still see it.
#[repr(C)]
struct Deferred<T> {
    head: Opaque<bindings::callback_head>,
    value: T,
}

unsafe extern "C" fn free_deferred<T>(head: *mut bindings::callback_head) {
    // SAFETY: `head` is the first field of a `#[repr(C)] Deferred<T>` that
    // `RcuBox::free_after_grace_period` leaked from a `KBox`; RCU calls
    // this once, after the grace period, so we own it again.
    drop(unsafe { KBox::from_raw(head.cast::<Deferred<T>>()) });
}

/// A value on the heap together with the RCU callback head that frees it,
/// so that dropping it after a grace period needs no allocation (and can
/// be done in any context).
pub(crate) struct RcuBox<T: Send + 'static>(KBox<Deferred<T>>);

impl<T: Send + 'static> RcuBox<T> {
    /// Puts `value` on the heap; gives it back if that cannot be allocated.
    pub(crate) fn new(value: T, flags: Flags) -> Result<Self, T> {
        match KBox::<Deferred<T>>::new_uninit(flags) {
            Ok(b) => Ok(Self(b.write(Deferred {
                head: Opaque::zeroed(),
                value,
            }))),
            Err(_) => Err(value),
        }
    }

    /// Drops the value after a grace period: readers that found it before
    /// it was unpublished may use it to the end of their read-side
    /// sections.
    pub(crate) fn drop_after_grace_period(self) {
        // SAFETY: The box is ours, and no longer reachable through `self`.
        unsafe { Self::free_after_grace_period(KBox::into_raw(self.0)) }
    }

    /// # Safety
    ///
    /// `p` is a leaked box of this type that nothing else frees, and that
    /// no reader can find any more once current read-side sections end.
    unsafe fn free_after_grace_period(p: *mut Deferred<T>) {
        // SAFETY: `p` is a valid, leaked `Deferred<T>`; its first field is
        // the callback head `call_rcu` needs, and `free_deferred::<T>`
        // reclaims it exactly once.
        unsafe { bindings::call_rcu((*p).head.get(), Some(free_deferred::<T>)) };
    }
}

/// Drops `value` after an RCU grace period. Process context only: if the
/// small wrapper cannot be allocated it waits for the grace period itself.
pub(crate) fn defer_drop<T: Send + 'static>(value: T) {
    match RcuBox::new(value, GFP_KERNEL) {
        Ok(b) => b.drop_after_grace_period(),
        Err(value) => {
            synchronize();
            drop(value);
        }
    }
}

/// An RCU-protected pointer to an optional `T` (C's `__rcu` pointer):
/// readers load it without locks or atomics beyond the load, and a value
/// is dropped only a grace period after it was replaced, so what a reader
/// found stays valid to the end of its read-side section, whatever
/// becomes of the cell meanwhile. `T` is dropped in an RCU callback
/// (softirq): its `Drop` must not sleep.
pub(crate) struct RcuCell<T: Send + Sync + 'static> {
    ptr: AtomicPtr<Deferred<T>>,
    _owns: PhantomData<T>,
}

impl<T: Send + Sync + 'static> RcuCell<T> {
    pub(crate) const fn new() -> Self {
        Self {
            ptr: AtomicPtr::new(core::ptr::null_mut()),
            _owns: PhantomData,
        }
    }

    /// The current value (`rcu_dereference`), valid for the read-side
    /// section `rcu` proves.
    pub(crate) fn get<'r>(&self, _rcu: &'r ReadSide) -> Option<&'r T> {
        let p = self.ptr.load(Acquire);
        // SAFETY: A non-null pointer is a box `replace` published; it is
        // freed only by an RCU callback queued after it is unpublished,
        // so it outlives the read-side section `'r` we are in.
        unsafe { p.as_ref() }.map(|d| &d.value)
    }

    /// Publishes `new`, or nothing (`rcu_replace_pointer`), and drops the
    /// value it replaces after a grace period.
    pub(crate) fn replace(&self, new: Option<RcuBox<T>>) {
        let p = new.map_or(core::ptr::null_mut(), |b| KBox::into_raw(b.0));
        let old = self.ptr.swap(p, AcqRel);
        if !old.is_null() {
            // SAFETY: `old` was published from a leaked box and is now
            // unpublished: only readers that found it before can use it.
            unsafe { RcuBox::free_after_grace_period(old) };
        }
    }
}

impl<T: Send + Sync + 'static> Drop for RcuCell<T> {
    fn drop(&mut self) {
        // Readers may still hold the value: it goes after them.
        self.replace(None);
    }
}

/// An `Arc<T>` published to RCU readers (C's `__rcu` pointer to a
/// refcounted object). Readers borrow it for their read-side section; a
/// writer takes it back only after waiting for a grace period itself, so
/// `T` is dropped in the writer's (process) context and its `Drop` may
/// sleep. Replaced, taken and dropped in process context only.
pub(crate) struct RcuArc<T: Send + Sync> {
    _owns: PhantomData<Arc<T>>,
    ptr: AtomicPtr<T>,
}

impl<T: Send + Sync> RcuArc<T> {
    /// Nothing published.
    pub(crate) const fn new() -> Self {
        let ptr = AtomicPtr::new(core::ptr::null_mut());
        Self { _owns: PhantomData, ptr }
    }

    /// Whether a value is published (a quick check, no ordering).
    pub(crate) fn is_some(&self) -> bool {
        !self.ptr.load(Relaxed).is_null()
    }

    /// The published value, valid for the read-side section `rcu` proves.
    pub(crate) fn get<'r>(&self, _rcu: &'r ReadSide) -> Option<&'r T> {
        // SAFETY: A non-null pointer came from `Arc::into_raw` in
        // `publish`; its reference is dropped only a grace period after it
        // is unpublished, and `'r` keeps that grace period from ending.
        unsafe { self.ptr.load(Acquire).as_ref() }
    }

    /// Publishes `value`; a value it replaces is dropped after a grace
    /// period, which this waits for.
    pub(crate) fn publish(&self, value: Arc<T>) {
        let old = self.ptr.swap(Arc::into_raw(value).cast_mut(), AcqRel);
        Self::drop_unpublished(old);
    }

    /// Unpublishes the value, if any, and drops it after a grace period,
    /// which this waits for.
    pub(crate) fn take_and_drop(&self) {
        let old = self.ptr.swap(core::ptr::null_mut(), AcqRel);
        Self::drop_unpublished(old);
    }

    fn drop_unpublished(old: *mut T) {
        if !old.is_null() {
            synchronize();
            // SAFETY: `old` came from `Arc::into_raw` in `publish` and was
            // swapped out, so its reference is ours; after the grace
            // period no reader holds a borrow of it.
            drop(unsafe { Arc::from_raw(old) });
        }
    }
}

impl<T: Send + Sync> Drop for RcuArc<T> {
    fn drop(&mut self) {
        self.take_and_drop();
    }
}

/// Waits for a grace period (process context).
pub(crate) fn synchronize() {
    // SAFETY: Callable from any sleepable context.
    unsafe { bindings::synchronize_rcu() };
}

/// Waits for every queued RCU callback to run; before the module's code
/// (which the callbacks are) goes away.
pub(crate) fn barrier() {
    // SAFETY: Callable from any sleepable context.
    unsafe { bindings::rcu_barrier() };
}

/// Evidence that this CPU is inside an RCU read-side critical section that
/// its caller entered: netfilter calls hooks inside one. What is found
/// under RCU is borrowed from it, so it cannot outlive the section. Not
/// `Send`: the section belongs to this CPU.
pub(crate) struct ReadSide(PhantomData<*mut ()>);

impl ReadSide {
    /// # Safety
    ///
    /// The caller is inside an RCU read-side critical section for as long
    /// as the value (and every borrow of it) lives.
    pub(crate) unsafe fn assume_held() -> Self {
        Self(PhantomData)
    }
}

/// An RCU read-side critical section entered here, for code that netfilter
/// does not call (the control plane, the sync threads). It dereferences to
/// the [`ReadSide`] that lookups borrow from, so what they find cannot
/// outlive the section.
pub(crate) struct ReadLock {
    _guard: kernel::sync::rcu::Guard,
    side: ReadSide,
}

/// Enters an RCU read-side critical section until the value is dropped.
pub(crate) fn read_lock() -> ReadLock {
    ReadLock {
        _guard: kernel::sync::rcu::read_lock(),
        side: ReadSide(PhantomData),
    }
}

impl core::ops::Deref for ReadLock {
    type Target = ReadSide;

    fn deref(&self) -> &ReadSide {
        &self.side
    }
}
