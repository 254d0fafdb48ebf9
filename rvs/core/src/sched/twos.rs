// SPDX-License-Identifier: GPL-2.0

//! Weighted random twos choice (IPVS `twos`): draw two servers at random,
//! weighted by weight, and take the less loaded of the two.

use super::{conn_overhead, Dest};

/// Picks two servers by weighted random draws and returns the one with the
/// smaller `overhead / weight` (the first draw on a tie).
///
/// `rand_below(ceil)` must behave as the kernel's `get_random_u32_below`:
/// a uniform value in `0..ceil`, or any `u32` when `ceil` is 0. It is
/// called exactly twice (first draw, second draw) when some server is
/// eligible, never otherwise. `ceil` is `1 +` the sum of eligible weights,
/// in wrapping `int` arithmetic as IPVS computes it.
pub fn schedule<D: Dest, R: FnMut(u32) -> u32>(dests: &[D], mut rand_below: R) -> Option<usize> {
    let eligible = |d: &D| !d.overloaded() && d.weight() > 0;

    // The last eligible server is the fallback if the draws find nothing
    // (only possible when the weight sum overflowed).
    let mut total = 0i32;
    let mut choice1 = None;
    for (i, d) in dests.iter().enumerate() {
        if eligible(d) {
            total = total.wrapping_add(d.weight());
            choice1 = Some(i);
        }
    }
    choice1?;
    // +1 so the draws range over 0..=sum.
    let ceil = total.wrapping_add(1) as u32;
    let mut r1 = rand_below(ceil) as i32;
    let mut r2 = rand_below(ceil) as i32;

    let (mut w1, mut w2) = (-1i32, -1i32);
    let (mut oh1, mut oh2) = (0i32, 0i32);
    let mut choice2 = None;
    for (i, d) in dests.iter().enumerate() {
        if !eligible(d) {
            continue;
        }
        let w = d.weight();
        r1 = r1.wrapping_sub(w);
        r2 = r2.wrapping_sub(w);
        if r1 <= 0 && w1 == -1 {
            choice1 = Some(i);
            w1 = w;
            oh1 = conn_overhead(d);
        }
        if r2 <= 0 && w2 == -1 {
            choice2 = Some(i);
            w2 = w;
            oh2 = conn_overhead(d);
        }
        if w1 != -1 && w2 != -1 {
            break;
        }
    }

    // IPVS compares in plain int here (not 64 bits), wrapping on overflow.
    if choice2.is_some() && w2.wrapping_mul(oh1) > w1.wrapping_mul(oh2) {
        choice1 = choice2;
    }
    choice1
}

#[cfg(test)]
mod tests {
    use super::super::testutil::dests;
    use super::*;
    use std::vec::Vec;

    /// A "random" source returning these values in turn.
    fn seq(vals: &[u32]) -> impl FnMut(u32) -> u32 + '_ {
        let mut it = vals.iter();
        move |_| *it.next().expect("rand called too often")
    }

    #[test]
    fn draws_are_weighted_by_position() {
        // weights 2, 3, 5: sum 10, draws in 0..=10. A draw r lands on the
        // first server at which the running sum reaches r: 0..=2 -> [0],
        // 3..=5 -> [1], 6..=10 -> [2].
        let ds = dests(&[2, 3, 5]);
        let mut ceils = Vec::new();
        let r = schedule(&ds, |c| {
            ceils.push(c);
            4
        });
        assert_eq!(r, Some(1));
        assert_eq!(ceils, [11, 11]);
        assert_eq!(schedule(&ds, seq(&[0, 0])), Some(0));
        assert_eq!(schedule(&ds, seq(&[2, 2])), Some(0));
        assert_eq!(schedule(&ds, seq(&[3, 3])), Some(1));
        assert_eq!(schedule(&ds, seq(&[10, 10])), Some(2));
    }

    #[test]
    fn less_loaded_of_two_wins() {
        let mut ds = dests(&[1, 1, 1]);
        ds[0].active_conns = 2; // overhead 512
        ds[2].total_conns = 3; // overhead 3
                               // Draws land on [0] and [2]: [2] is less loaded.
        assert_eq!(schedule(&ds, seq(&[1, 3])), Some(2));
        // Same draws in the other order: still [2].
        assert_eq!(schedule(&ds, seq(&[3, 1])), Some(2));
        // Equal load: the first draw wins.
        ds[0].active_conns = 0;
        ds[0].total_conns = 3;
        assert_eq!(schedule(&ds, seq(&[1, 3])), Some(0));
        assert_eq!(schedule(&ds, seq(&[3, 1])), Some(2));
    }

    #[test]
    fn skips_ineligible_and_calls_no_rng_when_empty() {
        let mut ds = dests(&[4, 0, 4]);
        ds[0].overloaded = true;
        // Only [2] is eligible: sum 4.
        assert_eq!(schedule(&ds, seq(&[0, 4])), Some(2));
        ds[2].weight = 0;
        assert_eq!(schedule(&ds, seq(&[])), None);
    }
}
