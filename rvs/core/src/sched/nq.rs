// SPDX-License-Identifier: GPL-2.0

//! Never queue (IPVS `nq`): an idle server gets the connection at once;
//! otherwise the shortest expected delay, as sed.

use super::Dest;

/// Picks the first idle (no active connections) non-overloaded server with
/// weight != 0; if none is idle, the one minimising `(active + 1) / weight`
/// with ties to the earlier. As in IPVS, only weight *zero* is skipped.
pub fn schedule<D: Dest>(dests: &[D]) -> Option<usize> {
    let mut least: Option<(usize, i32, i32)> = None;
    for (i, d) in dests.iter().enumerate() {
        let w = d.weight();
        if d.overloaded() || w == 0 {
            continue;
        }
        if d.active_conns() == 0 {
            return Some(i);
        }
        let doh = (d.active_conns() as i32).wrapping_add(1);
        match least {
            Some((_, loh, lw))
                if i64::from(loh) * i64::from(w) <= i64::from(doh) * i64::from(lw) => {}
            _ => least = Some((i, doh, w)),
        }
    }
    least.map(|(i, _, _)| i)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::dests;
    use super::*;

    #[test]
    fn idle_server_first() {
        let mut ds = dests(&[5, 1, 1]);
        ds[0].active_conns = 3;
        // [1] is idle: taken at once despite its low weight.
        assert_eq!(schedule(&ds), Some(1));
        // An overloaded or weight-0 idle server does not count.
        ds[1].overloaded = true;
        ds[2].weight = 0;
        assert_eq!(schedule(&ds), Some(0));
    }

    #[test]
    fn expected_delay_without_idle() {
        let mut ds = dests(&[1, 3, 3]);
        ds[0].active_conns = 1; // 2/1
        ds[1].active_conns = 2; // 3/3: lighter
        ds[2].active_conns = 2; // 3/3: tie, earlier kept
        assert_eq!(schedule(&ds), Some(1));
        ds[1].active_conns = 5; // 6/3 = 2/1: tie with [0]; [2] is lighter
        assert_eq!(schedule(&ds), Some(2));
        ds[2].active_conns = 5;
        assert_eq!(schedule(&ds), Some(0));
        ds[0].total_conns = 500; // inactive connections do not count
        assert_eq!(schedule(&ds), Some(0));
    }

    #[test]
    fn nothing_available() {
        let mut ds = dests(&[0, 2]);
        ds[1].overloaded = true;
        assert_eq!(schedule(&ds), None);
    }
}
