// SPDX-License-Identifier: GPL-2.0

//! Weighted overflow (IPVS `ovf`): the highest-weight server until its
//! active connections exceed its weight, then the next one.

use super::Dest;

/// Picks, among non-overloaded servers with weight != 0 and no more active
/// connections than their weight, the one with the highest weight; ties go
/// to the earlier server.
pub fn schedule<D: Dest>(dests: &[D]) -> Option<usize> {
    let mut best: Option<(usize, i32)> = None;
    for (i, d) in dests.iter().enumerate() {
        let w = d.weight();
        if d.overloaded() || (d.active_conns() as i32) > w || w == 0 {
            continue;
        }
        match best {
            Some((_, hw)) if w <= hw => {}
            _ => best = Some((i, w)),
        }
    }
    best.map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::dests;
    use super::*;

    #[test]
    fn overflows_by_active_connections() {
        let mut ds = dests(&[2, 3, 3]);
        assert_eq!(schedule(&ds), Some(1));
        ds[1].active_conns = 3; // at its weight: still taken
        assert_eq!(schedule(&ds), Some(1));
        ds[1].active_conns = 4; // over: the equal-weight next one
        assert_eq!(schedule(&ds), Some(2));
        ds[2].active_conns = 4;
        assert_eq!(schedule(&ds), Some(0));
        ds[0].total_conns = 100; // inactive connections do not count
        assert_eq!(schedule(&ds), Some(0));
        ds[0].active_conns = 3;
        assert_eq!(schedule(&ds), None);
    }

    #[test]
    fn skips_overloaded_and_quiesced() {
        let mut ds = dests(&[0, 4, 1]);
        ds[1].overloaded = true;
        assert_eq!(schedule(&ds), Some(2));
    }
}
