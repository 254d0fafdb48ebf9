// SPDX-License-Identifier: GPL-2.0

//! A hash bucket's chain that readers walk without locks: the connection
//! table and the service hash are both arrays of these.
//!
//! Readers walk inside an RCU read-side section ([`ReadSide`]) and what they
//! find is borrowed from it. Writers are serialised by a lock of the
//! owner's (the chain does not know which), link entries at the head with a
//! release store, and unlink them with one; the owner frees an unlinked
//! entry only after a grace period.

use core::marker::PhantomData;
use core::sync::atomic::{AtomicPtr, Ordering::*};

use crate::rcu::ReadSide;

/// An entry's link to the next entry of its [`Chain`]. Only this file
/// writes it.
#[repr(transparent)]
pub(crate) struct Link<T>(AtomicPtr<T>);

impl<T> Link<T> {
    pub(crate) const fn new() -> Self {
        Self(AtomicPtr::new(core::ptr::null_mut()))
    }

    /// The next entry, for an owner that took the chain ([`Chain::take`]).
    pub(crate) fn next(&self) -> *mut T {
        self.0.load(Relaxed)
    }
}

/// An entry of a [`Chain`]: it holds the link to the next entry.
/// Implemented with [`linked!`].
///
/// # Safety
///
/// `link` always returns the same field of `self`.
pub(crate) unsafe trait Linked: Sized {
    fn link(&self) -> &Link<Self>;
}

/// Makes `$t` a [`Linked`] entry through its field `$field: Link<$t>`.
macro_rules! linked {
    ($t:ty, $field:ident) => {
        // SAFETY: `link` always returns the same field, whose pointer only
        // `rcu_chain` writes (`Link` keeps it private).
        unsafe impl $crate::rcu_chain::Linked for $t {
            fn link(&self) -> &$crate::rcu_chain::Link<Self> {
                // A pattern, not `self.$field`, so that the field is
                // `$t`'s own and not one reached through `Deref`.
                let Self { $field: link, .. } = self;
                link
            }
        }
    };
}
pub(crate) use linked;

/// The head of a singly linked chain of `T`.
#[repr(transparent)]
pub(crate) struct Chain<T: Linked>(AtomicPtr<T>);

impl<T: Linked> Chain<T> {
    pub(crate) const fn new() -> Self {
        Self(AtomicPtr::new(core::ptr::null_mut()))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.load(Relaxed).is_null()
    }

    /// The entries, for a reader: each stays allocated at least until the
    /// read-side section `rcu` proves ends.
    pub(crate) fn iter<'r>(&'r self, _rcu: &'r ReadSide) -> Iter<'r, T> {
        Iter {
            next: self.0.load(Acquire),
            _entries: PhantomData,
        }
    }

    /// The entries, for a writer.
    ///
    /// # Safety
    ///
    /// The caller holds the writers' lock for as long as it uses the
    /// iterator and what it yields.
    pub(crate) unsafe fn iter_locked(&self) -> Iter<'_, T> {
        Iter {
            next: self.0.load(Relaxed),
            _entries: PhantomData,
        }
    }

    /// Publishes `node` at the head.
    ///
    /// # Safety
    ///
    /// The caller holds the writers' lock; `node` is valid, in no chain,
    /// and stays allocated until a grace period after it is unlinked.
    pub(crate) unsafe fn push(&self, node: *mut T) {
        // SAFETY: `node` is valid and not yet visible to readers.
        unsafe { (*node).link().0.store(self.0.load(Relaxed), Relaxed) };
        self.0.store(node, Release);
    }

    /// Unlinks `node`; false if it is not in the chain. Readers already on
    /// it still see its link to the rest.
    ///
    /// # Safety
    ///
    /// The caller holds the writers' lock.
    pub(crate) unsafe fn unlink(&self, node: *const T) -> bool {
        let mut link = &self.0;
        loop {
            let p = link.load(Relaxed);
            if p.is_null() {
                return false;
            }
            // SAFETY: Linked entries are allocated, and the caller's lock
            // keeps them linked while we look.
            let e = unsafe { &*p };
            if core::ptr::eq(p, node) {
                link.store(e.link().0.load(Relaxed), Release);
                return true;
            }
            link = &e.link().0;
        }
    }

    /// Empties the chain and returns its first entry (the rest follow by
    /// their links): for an owner that no reader can reach any more.
    pub(crate) fn take(&mut self) -> *mut T {
        core::mem::replace(self.0.get_mut(), core::ptr::null_mut())
    }
}

/// The entries of a [`Chain`], borrowed for `'a`.
pub(crate) struct Iter<'a, T> {
    next: *mut T,
    _entries: PhantomData<&'a T>,
}

impl<'a, T: Linked> Iterator for Iter<'a, T> {
    type Item = &'a T;

    fn next(&mut self) -> Option<&'a T> {
        if self.next.is_null() {
            return None;
        }
        // SAFETY: The iterator was made under an RCU read-side section or
        // the writers' lock that lasts `'a`; either keeps linked entries,
        // and entries unlinked meanwhile, allocated for that long.
        let e = unsafe { &*self.next };
        self.next = e.link().0.load(Acquire);
        Some(e)
    }
}
