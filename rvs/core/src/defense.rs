// SPDX-License-Identifier: GPL-2.0

//! IPVS's defence against memory exhaustion (`update_defense_level`,
//! `ip_vs_todrop` and `ip_vs_random_dropentry`): three strategies, each
//! with a knob of the same meaning.
//!
//! - `drop_entry`: a periodic pass drops entries an attacker makes
//!   (half-open connections, idle ones that carried few packets);
//! - `drop_packet`: one in `rate` new connections is refused;
//! - `secure_tcp`: TCP connections move through IPVS's more cautious
//!   state table ([`crate::proto::tcp_transition_secure`]).
//!
//! A knob is 0 (never), 1 (when memory runs short, which turns it to 2),
//! 2 (in force while memory is short, back to 1 after) or 3 (always).
//! Memory runs short when fewer than `amemthresh` pages are available.

use core::sync::atomic::{AtomicI32, Ordering::Relaxed};

use super::packet::{IPPROTO_SCTP, IPPROTO_TCP};
use super::proto::TcpState;
use super::sctp::SctpState;

/// The strategies' knob values: 0 to 3.
pub const fn valid_mode(mode: i32) -> bool {
    mode >= 0 && mode <= 3
}

/// A knob after the periodic check: automatic modes (1, 2) follow memory;
/// 0 and 3 stay.
pub const fn next_mode(mode: i32, short_of_memory: bool) -> i32 {
    match mode {
        1 | 2 if short_of_memory => 2,
        1 | 2 => 1,
        m => m,
    }
}

/// Whether a strategy whose knob reads `mode` is in force.
pub const fn in_force(mode: i32) -> bool {
    mode >= 2
}

/// Memory is short: fewer than `amemthresh` pages available (a negative
/// threshold counts as 0, as IPVS's).
pub fn short_of_memory(available_pages: i64, amemthresh: i32) -> bool {
    available_pages < i64::from(amemthresh.max(0))
}

/// `drop_packet`'s rate for a knob (after [`next_mode`]): in the
/// automatic mode, the shorter memory is, the more is dropped
/// (`amemthresh / (amemthresh - available)`, one in that many); always
/// on, one in `am_droprate`; 0 when not in force.
pub fn drop_rate(mode: i32, am_droprate: i32, amemthresh: i32, available_pages: i64) -> i32 {
    match mode {
        2 => {
            let t = i64::from(amemthresh.max(0));
            let gap = t - available_pages;
            if gap > 0 {
                i32::try_from(t / gap).unwrap_or(i32::MAX)
            } else {
                0
            }
        }
        3 => am_droprate,
        _ => 0,
    }
}

/// Whether the new connection now asking is the one in `rate` to refuse,
/// as IPVS's `ip_vs_todrop`: the first one after the rate is set, then
/// every `rate`th (a negative rate, which IPVS allows, refuses all).
pub fn todrop(counter: &AtomicI32, rate: i32) -> bool {
    if rate == 0 {
        return false;
    }
    if counter.fetch_sub(1, Relaxed).wrapping_sub(1) > 0 {
        return false;
    }
    counter.store(rate, Relaxed);
    true
}

/// What `drop_entry` makes of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryFate {
    /// Never dropped.
    Keep,
    /// Dropped.
    Drop,
    /// Dropped if idle for a minute with few packets ([`DropEntryCounters`]).
    IfStale,
}

/// An entry the `drop_entry` pass looks at.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    pub protocol: u8,
    /// The protocol's state number (templates: the template state).
    pub state: u8,
    pub template: bool,
    /// A template's state is ASSURED (a connection it controls was
    /// established).
    pub assured: bool,
    /// A template of a one-packet service.
    pub one_packet_service: bool,
}

/// What the pass does with `e`, as IPVS's `ip_vs_random_dropentry`:
/// half-open connections (TCP SYN_RECV and SYNACK, SCTP INIT1 and INIT)
/// and templates no connection was established under go; established
/// connections, and every connection of other protocols, go when stale.
pub fn entry_fate(e: &Entry) -> EntryFate {
    if e.template {
        return if e.one_packet_service {
            EntryFate::IfStale
        } else if e.assured {
            EntryFate::Keep
        } else {
            EntryFate::Drop
        };
    }
    match e.protocol {
        IPPROTO_TCP => match TcpState::from_u8(e.state) {
            Some(TcpState::SynRecv | TcpState::SynAck) => EntryFate::Drop,
            Some(TcpState::Established) => EntryFate::IfStale,
            _ => EntryFate::Keep,
        },
        IPPROTO_SCTP => match SctpState::from_u8(e.state) {
            Some(SctpState::Init1 | SctpState::Init) => EntryFate::Drop,
            Some(SctpState::Established) => EntryFate::IfStale,
            _ => EntryFate::Keep,
        },
        _ => EntryFate::IfStale,
    }
}

/// IPVS's `todrop_entry` counters: of the stale entries (idle for a
/// minute) that carried 1 to 8 client packets, one in `n` with `n`
/// packets goes, so entries with fewer packets go first.
#[derive(Debug, Clone, Copy, Default)]
pub struct DropEntryCounters(pub [i32; 8]);

impl DropEntryCounters {
    /// Whether an entry idle for `idle_secs` that saw `in_pkts` client
    /// packets goes now.
    pub fn todrop(&mut self, idle_secs: u64, in_pkts: u32) -> bool {
        if idle_secs < 60 || !(1..=8).contains(&in_pkts) {
            return false;
        }
        let i = (in_pkts - 1) as usize;
        let Some(c) = self.0.get_mut(i) else {
            return false;
        };
        *c -= 1;
        if *c > 0 {
            return false;
        }
        *c = in_pkts as i32;
        true
    }
}

/// The share of the table one `drop_entry` pass looks at (IPVS: a 32nd,
/// from a random bucket, every second).
pub const DROP_ENTRY_SHARE: usize = 32;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_follow_memory_as_ipvs() {
        assert_eq!(next_mode(1, true), 2);
        assert_eq!(next_mode(2, true), 2);
        assert_eq!(next_mode(2, false), 1);
        assert_eq!(next_mode(1, false), 1);
        assert_eq!(next_mode(0, true), 0);
        assert_eq!(next_mode(3, false), 3);
        assert!(!in_force(0) && !in_force(1) && in_force(2) && in_force(3));
        assert!(valid_mode(0) && valid_mode(3) && !valid_mode(4) && !valid_mode(-1));
        assert!(short_of_memory(10, 11) && !short_of_memory(11, 11) && !short_of_memory(0, -5));
    }

    #[test]
    fn drop_rates() {
        // 1000 pages of threshold, 750 available: 1000 / 250 = 4.
        assert_eq!(drop_rate(2, 10, 1000, 750), 4);
        assert_eq!(drop_rate(2, 10, 1000, 0), 1);
        assert_eq!(drop_rate(3, 10, 1000, 5000), 10);
        assert_eq!(drop_rate(1, 10, 1000, 0), 0);
        assert_eq!(drop_rate(0, 10, 1000, 0), 0);
    }

    #[test]
    fn one_in_rate_is_dropped_first_then_every_rate() {
        let c = AtomicI32::new(0);
        let dropped: std::vec::Vec<bool> = (0..21).map(|_| todrop(&c, 10)).collect();
        let at: std::vec::Vec<usize> = dropped
            .iter()
            .enumerate()
            .filter(|(_, d)| **d)
            .map(|(i, _)| i)
            .collect();
        assert_eq!(at, [0, 10, 20]);
        let c = AtomicI32::new(0);
        assert!((0..5).all(|_| !todrop(&c, 0)));
        let c = AtomicI32::new(0);
        assert!((0..5).all(|_| todrop(&c, -1)));
    }

    #[test]
    fn fates() {
        let tcp = |s: TcpState| Entry {
            protocol: IPPROTO_TCP,
            state: s as u8,
            template: false,
            assured: false,
            one_packet_service: false,
        };
        assert_eq!(entry_fate(&tcp(TcpState::SynRecv)), EntryFate::Drop);
        assert_eq!(entry_fate(&tcp(TcpState::SynAck)), EntryFate::Drop);
        assert_eq!(entry_fate(&tcp(TcpState::Established)), EntryFate::IfStale);
        assert_eq!(entry_fate(&tcp(TcpState::TimeWait)), EntryFate::Keep);
        let udp = Entry {
            protocol: 17,
            ..tcp(TcpState::None)
        };
        assert_eq!(entry_fate(&udp), EntryFate::IfStale);
        let t = Entry {
            template: true,
            ..udp
        };
        assert_eq!(entry_fate(&t), EntryFate::Drop);
        assert_eq!(entry_fate(&Entry { assured: true, ..t }), EntryFate::Keep);
        assert_eq!(
            entry_fate(&Entry {
                one_packet_service: true,
                assured: true,
                ..t
            }),
            EntryFate::IfStale
        );
        let sctp = Entry {
            protocol: IPPROTO_SCTP,
            state: SctpState::Init1 as u8,
            ..udp
        };
        assert_eq!(entry_fate(&sctp), EntryFate::Drop);
    }

    #[test]
    fn stale_entries_with_fewer_packets_go_first() {
        let mut c = DropEntryCounters::default();
        assert!(!c.todrop(59, 1));
        assert!(!c.todrop(600, 0) && !c.todrop(600, 9));
        // One packet: every one goes; two: one in two.
        assert!(c.todrop(60, 1) && c.todrop(60, 1));
        let two: std::vec::Vec<bool> = (0..4).map(|_| c.todrop(60, 2)).collect();
        assert_eq!(two, [true, false, true, false]);
    }
}
