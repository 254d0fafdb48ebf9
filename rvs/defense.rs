// SPDX-License-Identifier: GPL-2.0

//! A namespace's defence against memory exhaustion, as IPVS's
//! `update_defense_level` (the rules are `rvs_core::defense`): every
//! second the namespace's periodic work checks memory, moves the
//! automatic knobs (1 while memory is fine, 2 while it is short) and
//! sets `drop_packet`'s rate; the packet path asks whether a new
//! connection is to be refused and which TCP table is in force; the
//! sweep asks whether `drop_entry` is.
//!
//! A knob written 0 or 3 takes effect at once, an automatic one within a
//! second.

use core::sync::atomic::{AtomicBool, AtomicI32, Ordering::Relaxed};


use crate::rvs_core::defense::{self as rules, in_force, next_mode};
use crate::kernel_services::meminfo;
use crate::sysctl::Sysctls;

/// What the periodic check found, for the packet path and the sweep.
pub(crate) struct Defense {
    /// Memory is short (or, rvs's own rule, the table nearly full).
    short: AtomicBool,
    /// `drop_packet`'s rate in its automatic mode, from memory.
    auto_rate: AtomicI32,
    /// Counts down to the next refused connection.
    drop_counter: AtomicI32,
}

impl Defense {
    pub(crate) fn new() -> Self {
        Self { short: AtomicBool::new(false), auto_rate: AtomicI32::new(0), drop_counter: AtomicI32::new(0) }
    }

    /// The periodic check. `table_full`: the connection table is 7/8 full
    /// (rvs caps it at `max_conns`, which IPVS does not), which counts as
    /// short of memory.
    pub(crate) fn update(&self, knobs: &Sysctls, table_full: bool) {
        let available = available_pages();
        let thresh = knobs.amemthresh.load(Relaxed);
        let short = table_full || rules::short_of_memory(available, thresh);
        self.short.store(short, Relaxed);
        for knob in [&knobs.drop_entry, &knobs.drop_packet, &knobs.secure_tcp] {
            let mode = knob.load(Relaxed);
            let next = next_mode(mode, short);
            if next != mode {
                // A write in between wins: only the automatic move is ours.
                let _ = knob.compare_exchange(mode, next, Relaxed, Relaxed);
            }
        }
        // IPVS restarts the countdown at every check.
        let mode = next_mode(knobs.drop_packet.load(Relaxed), short);
        let rate = if mode == 2 { rules::drop_rate(mode, 0, thresh, available) } else { 0 };
        self.auto_rate.store(rate, Relaxed);
        if rate != 0 {
            self.drop_counter.store(rate, Relaxed);
        }
    }

    /// A knob's mode as the last check (or a write since) leaves it.
    fn mode(&self, knob: &AtomicI32) -> i32 {
        next_mode(knob.load(Relaxed), self.short.load(Relaxed))
    }

    /// `drop_packet`: whether the new connection now asking is refused.
    pub(crate) fn refuse_new(&self, knobs: &Sysctls) -> bool {
        let rate = match self.mode(&knobs.drop_packet) {
            3 => knobs.am_droprate.load(Relaxed),
            2 => self.auto_rate.load(Relaxed),
            _ => return false,
        };
        rules::todrop(&self.drop_counter, rate)
    }

    /// `secure_tcp` is in force: TCP moves through IPVS's cautious table.
    pub(crate) fn secure_tcp(&self, knobs: &Sysctls) -> bool {
        in_force(self.mode(&knobs.secure_tcp))
    }

    /// `drop_entry` is in force: the sweep drops what IPVS's would.
    pub(crate) fn drop_entry(&self, knobs: &Sysctls) -> bool {
        in_force(self.mode(&knobs.drop_entry))
    }
}

/// Free and buffer pages, what IPVS compares with `amemthresh`.
fn available_pages() -> i64 {
    let i = meminfo();
    let pages = (i.freeram as u64).saturating_add(i.bufferram as u64);
    i64::try_from(pages).unwrap_or(i64::MAX)
}
