// SPDX-License-Identifier: GPL-2.0

//! Weighted failover (IPVS `fo`): all traffic to the available server with
//! the highest weight.

use super::Dest;

/// Picks the non-overloaded server with the highest weight (> 0); ties go
/// to the earlier server.
pub fn schedule<D: Dest>(dests: &[D]) -> Option<usize> {
    let mut best: Option<usize> = None;
    let mut hw = 0i32;
    for (i, d) in dests.iter().enumerate() {
        if !d.overloaded() && d.weight() > hw {
            best = Some(i);
            hw = d.weight();
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::super::testutil::dests;
    use super::*;

    #[test]
    fn highest_weight_then_failover() {
        let mut ds = dests(&[5, 10, 10, 1]);
        ds[1].active_conns = 1000; // load does not matter
        assert_eq!(schedule(&ds), Some(1));
        ds[1].overloaded = true;
        assert_eq!(schedule(&ds), Some(2));
        ds[2].weight = 0;
        assert_eq!(schedule(&ds), Some(0));
        ds[0].overloaded = true;
        assert_eq!(schedule(&ds), Some(3));
        ds[3].weight = 0;
        assert_eq!(schedule(&ds), None);
    }
}
