// SPDX-License-Identifier: GPL-2.0

//! Shortest expected delay (IPVS `sed`): like wlc, but the load is
//! `(active + 1) / weight`, the expected delay if the new connection were
//! added; inactive connections are ignored.

use super::{weighted_least, Dest};

/// sed's overhead: active connections plus the one being scheduled.
fn overhead<D: Dest>(d: &D) -> i32 {
    (d.active_conns() as i32).wrapping_add(1)
}

/// Picks the non-overloaded server minimising `(active + 1) / weight`; the
/// first non-overloaded server with weight > 0 starts and wins ties.
pub fn schedule<D: Dest>(dests: &[D]) -> Option<usize> {
    weighted_least(dests, overhead)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::dests;
    use super::*;

    #[test]
    fn expected_delay() {
        let mut ds = dests(&[1, 3]);
        // (0+1)/1 vs (1+1)/3: the heavier server is faster.
        ds[1].active_conns = 1;
        assert_eq!(schedule(&ds), Some(1));
        // (0+1)/1 vs (2+1)/3: a tie, the earlier server keeps it.
        ds[1].active_conns = 2;
        assert_eq!(schedule(&ds), Some(0));
        // Inactive connections do not count.
        ds[0].total_conns = 1000;
        assert_eq!(schedule(&ds), Some(0));
    }

    #[test]
    fn skips_quiesced_and_overloaded() {
        let mut ds = dests(&[0, 1, 1]);
        ds[1].overloaded = true;
        ds[2].active_conns = 50;
        assert_eq!(schedule(&ds), Some(2));
        ds[2].overloaded = true;
        assert_eq!(schedule(&ds), None);
    }
}
