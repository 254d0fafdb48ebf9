// SPDX-License-Identifier: GPL-2.0

//! RCU for rvs's lock-free lookups: readers on the packet path run inside
//! netfilter's RCU read-side section; writers publish with release stores
//! and free what they unlinked only after a grace period.
//!
//! C header: [`include/linux/rcupdate.h`](srctree/include/linux/rcupdate.h)

use core::marker::PhantomData;

use kernel::{bindings, prelude::*, types::Opaque};

/// A value freed by an RCU callback, once no reader can still see it.
#[repr(C)]
struct Deferred<T> {
    head: Opaque<bindings::callback_head>,
    value: T,
}

unsafe extern "C" fn free_deferred<T>(head: *mut bindings::callback_head) {
    // SAFETY: `head` is the first field of a `#[repr(C)] Deferred<T>` that
    // `defer_drop` leaked from a `KBox`; RCU calls this once, after the
    // grace period, so we own it again.
    drop(unsafe { KBox::from_raw(head.cast::<Deferred<T>>()) });
}

/// Drops `value` after an RCU grace period. Process context only: if the
/// small wrapper cannot be allocated it waits for the grace period itself.
pub(crate) fn defer_drop<T: Send + 'static>(value: T) {
    match KBox::<Deferred<T>>::new_uninit(GFP_KERNEL) {
        Ok(b) => {
            let b = b.write(Deferred {
                head: Opaque::zeroed(),
                value,
            });
            let p = KBox::into_raw(b);
            // SAFETY: `p` is a valid, leaked `Deferred<T>`; its first field
            // is the callback head `call_rcu` needs, and `free_deferred::<T>`
            // reclaims it exactly once.
            unsafe { bindings::call_rcu((*p).head.get(), Some(free_deferred::<T>)) };
        }
        Err(_) => {
            synchronize();
            drop(value);
        }
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
