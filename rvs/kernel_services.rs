// SPDX-License-Identifier: GPL-2.0

//! Safe wrappers of plain kernel services the deciding files use: the
//! clock (`jiffies`), the random pool, the memory counters, and zeroed
//! allocations of the scheduler tables. Each is callable in any context,
//! so the files that decide what to do with the values hold no `unsafe`.

use kernel::{bindings, prelude::*};

use crate::rvs_core::sched::{dh::DhState, mh::MhState, sh::ShState};

/// Now, in jiffies.
pub(crate) fn jiffies() -> u64 {
    // SAFETY: `jiffies` is a word-sized global the timer interrupt
    // updates; a volatile read of it is what C's `READ_ONCE(jiffies)` is,
    // without a call across the FFI boundary per packet.
    unsafe { core::ptr::read_volatile(&raw const bindings::jiffies) as u64 }
}

/// A random `u32` from the kernel's pool.
pub(crate) fn random_u32() -> u32 {
    // SAFETY: Reads the kernel's random pool; any context.
    unsafe { bindings::get_random_u32() }
}

/// A random number below `ceil` (below 1, i.e. 0, for a `ceil` of 0).
pub(crate) fn random_u32_below(ceil: u32) -> u32 {
    // SAFETY: `__get_random_u32_below` takes any non-zero bound; any
    // context.
    unsafe { bindings::__get_random_u32_below(ceil.max(1)) }
}

/// Fills `buf` from the kernel's random pool.
pub(crate) fn random_bytes(buf: &mut [u8]) {
    // SAFETY: Writes `buf.len()` bytes into `buf`, which we borrow
    // mutably; any context.
    unsafe { bindings::get_random_bytes(buf.as_mut_ptr().cast(), buf.len()) };
}

/// The system's memory counters (`si_meminfo`), in pages.
pub(crate) fn meminfo() -> bindings::sysinfo {
    let mut i = bindings::sysinfo::default();
    // SAFETY: Fills the local `i`; any context.
    unsafe { bindings::si_meminfo(&mut i) };
    i
}

// The sh, dh and mh tables are allocated with `KBox::zeroed`, which needs
// all-zero bytes to be a valid value: they are arrays of integers,
// documented valid (empty) when zero.

// SAFETY: `ShState` is a `[u32; _]` array; all-zero bytes are a valid
// (empty) table.
unsafe impl Zeroable for ShState {}
// SAFETY: `DhState` is a `[u32; _]` array; all-zero bytes are a valid
// (empty) table.
unsafe impl Zeroable for DhState {}
// SAFETY: `MhState` is a `[u32; N]` array; all-zero bytes are a valid
// (empty) table.
unsafe impl<const N: usize> Zeroable for MhState<N> {}
