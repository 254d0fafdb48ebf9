// SPDX-License-Identifier: GPL-2.0

//! Weighted least-connection (IPVS `wlc`, the default scheduler): the
//! server with the smallest `overhead / weight`.

use super::{conn_overhead, weighted_least, Dest};

/// Picks the non-overloaded server minimising `overhead / weight`, compared
/// by cross-multiplication in 64 bits. The first non-overloaded server with
/// weight > 0 is the starting candidate and wins ties.
pub fn schedule<D: Dest>(dests: &[D]) -> Option<usize> {
    weighted_least(dests, |d| conn_overhead(d))
}

#[cfg(test)]
mod tests {
    use super::super::testutil::dests;
    use super::*;

    #[test]
    fn weighs_overhead() {
        let mut ds = dests(&[1, 3]);
        ds[0].active_conns = 1;
        ds[0].total_conns = 1; // 257 / 1
        ds[1].active_conns = 2;
        ds[1].total_conns = 2; // 514 / 3: lighter
        assert_eq!(schedule(&ds), Some(1));
        // 257/1 vs 514/2: a tie, the earlier server keeps it.
        ds[1].weight = 2;
        assert_eq!(schedule(&ds), Some(0));
        // Inactive connections count too.
        ds[0].total_conns = 2; // 258 / 1 > 514 / 2
        assert_eq!(schedule(&ds), Some(1));
    }

    #[test]
    fn skips_quiesced_and_overloaded() {
        let mut ds = dests(&[0, 2, 1, 1]);
        ds[1].overloaded = true;
        ds[1].total_conns = 0;
        ds[2].total_conns = 10;
        ds[3].total_conns = 5;
        // [0] has weight 0, [1] is overloaded: [2] starts, [3] is lighter.
        assert_eq!(schedule(&ds), Some(3));
        // A weight-0 server after the start never wins, even when idle.
        let mut ds = dests(&[1, 0]);
        ds[0].total_conns = 1000;
        assert_eq!(schedule(&ds), Some(0));
    }

    #[test]
    fn all_idle_picks_first_eligible() {
        let ds = dests(&[0, 5, 9, 1]);
        assert_eq!(schedule(&ds), Some(1));
        assert_eq!(schedule(&dests(&[0, 0])), None);
    }
}
