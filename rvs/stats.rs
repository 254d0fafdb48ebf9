// SPDX-License-Identifier: GPL-2.0

//! Traffic counters per service, per real server and per namespace: per-CPU
//! on the packet path, summed when read, with IPVS's rate estimator.

use core::ffi::{c_int, c_uint, c_void};
use core::ptr::NonNull;

use kernel::{new_spinlock_irq, prelude::*, sync::SpinLockIrq};

use crate::rvs_core::est::{Counters, Estimator, Rates};

extern "C" {
    fn rvs_percpu_alloc(size: usize, align: usize) -> *mut c_void;
    fn rvs_percpu_free(p: *mut c_void);
    fn rvs_stats_count3(a: *mut c_void, b: *mut c_void, c: *mut c_void, field: c_uint, bytes: u64);
    fn rvs_percpu_ptr(p: *mut c_void, cpu: c_int) -> *mut c_void;
    fn rvs_next_cpu(cpu: c_int) -> c_int;
}

/// One CPU's counters; the layout `rvs_stats_count3` adds to.
#[repr(C)]
#[derive(Default, Clone, Copy)]
struct CpuCounters {
    conns: u64,
    inpkts: u64,
    outpkts: u64,
    inbytes: u64,
    outbytes: u64,
}

/// What the packet path counts; the value is the counter's index in
/// [`CpuCounters`] (a packet's bytes go two further on).
#[derive(Clone, Copy)]
#[repr(u32)]
pub(crate) enum Event {
    /// A new connection.
    Conn = 0,
    /// A packet from the client's side.
    InPacket = 1,
    /// A packet from the real server's side.
    OutPacket = 2,
}

/// What a zeroing or the estimator keeps next to the counters.
struct Baseline {
    /// Counters at the last ZERO: listings show the growth since.
    zero: Counters,
    est: Estimator,
}

/// Counters of one service, real server or namespace.
///
/// # Invariants
///
/// `pcpu` is a per-CPU allocation of `CpuCounters`, owned by this value.
#[pin_data(PinnedDrop)]
pub(crate) struct Stats {
    pcpu: NonNull<c_void>,
    #[pin]
    base: SpinLockIrq<Baseline>,
}

// SAFETY: The per-CPU memory is only added to through `this_cpu_add` and
// read with plain 64-bit loads; the rest is behind a lock.
unsafe impl Send for Stats {}
// SAFETY: As above.
unsafe impl Sync for Stats {}

impl Stats {
    pub(crate) fn new() -> impl PinInit<Self, Error> {
        // SAFETY: Plain allocation of `size` bytes per CPU, zeroed.
        let p = unsafe {
            rvs_percpu_alloc(
                core::mem::size_of::<CpuCounters>(),
                core::mem::align_of::<CpuCounters>(),
            )
        };
        let pcpu = NonNull::new(p);
        try_pin_init!(Self {
            pcpu: pcpu.ok_or(ENOMEM)?,
            base <- new_spinlock_irq!(Baseline {
                zero: Counters::default(),
                est: Estimator::new(Counters::default()),
            }),
        })
    }

    /// Counts `event` (and a packet's `bytes`) on this CPU in three sets
    /// at once: a real server's, its service's and the namespace's. Any
    /// context.
    pub(crate) fn count3(sets: [&Stats; 3], event: Event, bytes: u64) {
        let [a, b, c] = sets;
        // SAFETY: Each `pcpu` is a live per-CPU allocation of five u64
        // counters (type invariants), `event` indexes one of the first
        // three; `this_cpu_*` is safe against preemption.
        unsafe {
            rvs_stats_count3(
                a.pcpu.as_ptr(),
                b.pcpu.as_ptr(),
                c.pcpu.as_ptr(),
                event as c_uint,
                bytes,
            )
        };
    }

    /// The sums over every CPU since the counters were made.
    fn raw(&self) -> Counters {
        let mut sum = Counters::default();
        // SAFETY: Iterates possible CPUs; each pointer is that CPU's copy of
        // the allocation; u64 loads are atomic on the 64-bit targets rvs
        // builds for, and a torn sum across CPUs is what IPVS shows too.
        unsafe {
            let mut cpu = rvs_next_cpu(-1);
            while cpu >= 0 {
                let c = core::ptr::read_volatile(
                    rvs_percpu_ptr(self.pcpu.as_ptr(), cpu).cast::<CpuCounters>(),
                );
                sum.conns = sum.conns.wrapping_add(c.conns);
                sum.inpkts = sum.inpkts.wrapping_add(c.inpkts);
                sum.outpkts = sum.outpkts.wrapping_add(c.outpkts);
                sum.inbytes = sum.inbytes.wrapping_add(c.inbytes);
                sum.outbytes = sum.outbytes.wrapping_add(c.outbytes);
                cpu = rvs_next_cpu(cpu);
            }
        }
        sum
    }

    /// The counters since the last zeroing, and the current rates.
    pub(crate) fn read(&self) -> (Counters, Rates) {
        let raw = self.raw();
        let b = self.base.lock();
        let z = b.zero;
        let d = |a: u64, b: u64| a.wrapping_sub(b);
        (
            Counters {
                conns: d(raw.conns, z.conns),
                inpkts: d(raw.inpkts, z.inpkts),
                outpkts: d(raw.outpkts, z.outpkts),
                inbytes: d(raw.inbytes, z.inbytes),
                outbytes: d(raw.outbytes, z.outbytes),
            },
            b.est.rates(),
        )
    }

    /// ZERO: counters and rates restart from nothing.
    pub(crate) fn zero(&self) {
        let raw = self.raw();
        let mut b = self.base.lock();
        b.zero = raw;
        b.est = Estimator::new(raw);
    }

    /// One estimator tick (every `est::TICK_SECS`).
    pub(crate) fn estimate(&self) {
        let raw = self.raw();
        self.base.lock().est.tick(raw);
    }
}

#[pinned_drop]
impl PinnedDrop for Stats {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: We own the allocation (type invariants) and this is the
        // last use.
        unsafe { rvs_percpu_free(self.pcpu.as_ptr()) };
    }
}
