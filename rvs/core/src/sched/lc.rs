// SPDX-License-Identifier: GPL-2.0

//! Least-connection (IPVS `lc`): the server with the smallest connection
//! overhead, ignoring weights except that weight 0 quiesces a server.

use super::{conn_overhead, Dest};

/// Picks the non-overloaded server with weight != 0 whose overhead,
/// compared as an unsigned number as IPVS does, is strictly smallest; ties
/// go to the earlier server. Note IPVS skips only weight *zero* here.
pub fn schedule<D: Dest>(dests: &[D]) -> Option<usize> {
    let mut least: Option<(usize, u32)> = None;
    for (i, d) in dests.iter().enumerate() {
        if d.overloaded() || d.weight() == 0 {
            continue;
        }
        let doh = conn_overhead(d) as u32;
        match least {
            Some((_, loh)) if doh >= loh => {}
            _ => least = Some((i, doh)),
        }
    }
    least.map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::dests;
    use super::*;

    #[test]
    fn picks_least_overhead() {
        let mut ds = dests(&[1, 1, 0, 5, 1]);
        // overhead = active * 256 + total
        ds[0].active_conns = 1;
        ds[0].total_conns = 1; // 257
        ds[1].total_conns = 5; // 5
        ds[2].total_conns = 0; // weight 0: skipped
        ds[3].overloaded = true; // skipped
        ds[4].total_conns = 5; // ties with [1]: the earlier wins
        assert_eq!(schedule(&ds), Some(1));
        ds[1].total_conns = 6;
        assert_eq!(schedule(&ds), Some(4));
        // Weights do not matter beyond 0.
        ds[0].weight = 100;
        assert_eq!(schedule(&ds), Some(4));
    }

    #[test]
    fn one_active_outweighs_256_inactive() {
        let mut ds = dests(&[1, 1]);
        ds[0].active_conns = 1;
        ds[0].total_conns = 1; // 257
        ds[1].total_conns = 256; // 256
        assert_eq!(schedule(&ds), Some(1));
        ds[1].total_conns = 257;
        assert_eq!(schedule(&ds), Some(0));
    }

    #[test]
    fn nothing_available() {
        let mut ds = dests(&[0, 1]);
        ds[1].overloaded = true;
        assert_eq!(schedule(&ds), None);
        assert_eq!(schedule::<super::super::DestInfo>(&[]), None);
    }
}
