// SPDX-License-Identifier: GPL-2.0

//! Weighted round-robin (IPVS `wrr`).
//!
//! IPVS walks the list repeatedly with a "current weight" `cw` that starts
//! at the maximum weight and drops by the gcd of the weights after each
//! full pass; a server is picked when its weight is at least `cw`. Over a
//! cycle each server is picked `weight / gcd` times, heavier servers first.

use super::{gcd, slot_index, slot_of, Dest};

/// The wrr position. 16 bytes; build it with [`WrrState::new`] and keep it
/// in sync with [`WrrState::update`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WrrState {
    /// Last server picked: 0 the list head, `i + 1` dest index `i`.
    cl: u32,
    /// Current weight.
    cw: i32,
    /// Maximum weight, less `di - 1` so stepping by `di` lands on 1.
    mw: i32,
    /// Step: the gcd of the positive weights (1 if there are none).
    di: i32,
}

/// gcd of all positive weights, 1 if none.
fn gcd_weight<D: Dest>(dests: &[D]) -> i32 {
    let mut g = 0;
    for d in dests {
        let w = d.weight();
        if w > 0 {
            g = if g > 0 { gcd(w, g) } else { w };
        }
    }
    if g > 0 {
        g
    } else {
        1
    }
}

/// Largest weight, counting every server (overloaded ones too), never
/// below 0.
fn max_weight<D: Dest>(dests: &[D]) -> i32 {
    dests.iter().map(|d| d.weight()).fold(0, i32::max)
}

impl WrrState {
    /// IPVS's `init_service`: cursor at the head, `cw` at the maximum.
    pub fn new<D: Dest>(dests: &[D]) -> Self {
        let di = gcd_weight(dests);
        let mw = max_weight(dests).wrapping_sub(di - 1);
        Self {
            cl: 0,
            cw: mw,
            mw,
            di,
        }
    }

    /// IPVS's `add_dest` / `del_dest` / `upd_dest` hook: call after any
    /// change to the servers or their weights. Restarts from the list head
    /// but keeps `cw` where it still makes sense, as IPVS does.
    pub fn update<D: Dest>(&mut self, dests: &[D]) {
        self.cl = 0;
        self.di = gcd_weight(dests);
        self.mw = max_weight(dests).wrapping_sub(self.di - 1);
        if self.cw > self.mw || self.cw == 0 {
            self.cw = self.mw;
        } else if self.di > 1 {
            self.cw = (self.cw / self.di).wrapping_mul(self.di).wrapping_add(1);
        }
    }

    /// Picks the next server. `None` when every server has weight 0 or is
    /// overloaded.
    pub fn schedule<D: Dest>(&mut self, dests: &[D]) -> Option<usize> {
        let n = dests.len();
        // Where the previous pick was; a stale index (missed `update`)
        // counts as the head.
        let last = slot_index(self.cl).filter(|&c| c < n);
        // di is at least 1 once built; a default (never built) state has 0.
        if self.mw == 0 || self.di <= 0 {
            return None;
        }
        let eligible = |d: &D| !d.overloaded();
        let mut pos = last;
        let mut stop: Option<usize> = None;
        let mut last_pass = false;
        let mut restarted = false;
        loop {
            let start = match pos {
                None => {
                    self.skip_hopeless_passes(dests, stop.is_none(), &mut last_pass);
                    0
                }
                Some(p) => p + 1,
            };
            for i in start..n {
                let Some(d) = dests.get(i) else { break };
                if eligible(d) && d.weight() >= self.cw {
                    self.cl = slot_of(i);
                    return Some(i);
                }
                if stop == Some(i) {
                    self.cl = slot_of(i);
                    return None;
                }
            }
            // End of the list: next pass with a lower current weight.
            pos = None;
            self.cw = self.cw.saturating_sub(self.di);
            if self.cw <= 0 {
                self.cw = self.mw;
                // Everything was checked for weight >= 1 already.
                if last_pass || last.is_none() {
                    self.cl = 0;
                    return None;
                }
                restarted = true;
            }
            last_pass = self.cw <= self.di;
            if last_pass && restarted && last.is_some() {
                // The first pass for weight >= 1 only covered the servers
                // after `last`; finish with those up to it.
                stop = last;
            }
        }
    }

    /// Speed-up with the same result as IPVS: a full pass from the head
    /// picks nothing while `cw` exceeds every eligible weight, and such a
    /// pass only lowers `cw` by `di`. Do all of those passes at once,
    /// stopping before any pass that could pick, restart or set
    /// `last_pass`. Without this, weights near `i32::MAX` with the heavy
    /// server overloaded would take billions of passes.
    fn skip_hopeless_passes<D: Dest>(&mut self, dests: &[D], no_stop: bool, last_pass: &mut bool) {
        if !no_stop {
            return;
        }
        let best = dests
            .iter()
            .filter(|d| !d.overloaded())
            .map(|d| d.weight())
            .fold(0, i32::max);
        let floor = best.max(self.di);
        if self.cw <= floor || self.di <= 0 {
            return;
        }
        // Passes whose resulting cw stays above `floor`.
        let k = (self.cw - floor - 1) / self.di;
        if k > 0 {
            self.cw -= k * self.di;
            *last_pass = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{dests, valid_dests};
    use super::super::DestInfo;
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    fn picks(s: &mut WrrState, ds: &[DestInfo], n: usize) -> Vec<Option<usize>> {
        (0..n).map(|_| s.schedule(ds)).collect()
    }

    #[test]
    fn weights_4_3_2() {
        // Hand-derived from IPVS's algorithm: gcd 1, cw 4,3,2,1 per pass.
        // cw=4: A; cw=3: A B; cw=2: A B C; cw=1: A B C.
        let ds = dests(&[4, 3, 2]);
        let mut s = WrrState::new(&ds);
        let cycle = [0, 0, 1, 0, 1, 2, 0, 1, 2].map(Some);
        assert_eq!(picks(&mut s, &ds, 9), cycle);
        assert_eq!(picks(&mut s, &ds, 9), cycle);
    }

    #[test]
    fn steps_by_gcd() {
        // gcd 2, mw = 4 - 1 = 3: cw 3 picks A, cw 1 picks A B.
        let ds = dests(&[4, 2]);
        let mut s = WrrState::new(&ds);
        assert_eq!(picks(&mut s, &ds, 6), [0, 0, 1, 0, 0, 1].map(Some));
        // Equal weights degenerate to round-robin.
        let ds = dests(&[7, 7, 7]);
        let mut s = WrrState::new(&ds);
        assert_eq!(picks(&mut s, &ds, 4), [0, 1, 2, 0].map(Some));
    }

    #[test]
    fn overloaded_and_zero_weight() {
        let mut ds = dests(&[4, 0, 2]);
        ds[0].overloaded = true;
        let mut s = WrrState::new(&ds);
        assert_eq!(picks(&mut s, &ds, 3), [2, 2, 2].map(Some));
        ds[2].overloaded = true;
        assert_eq!(s.schedule(&ds), None);
        let zero = dests(&[0, 0]);
        let mut s = WrrState::new(&zero);
        assert_eq!(s.schedule(&zero), None);
        let mut s = WrrState::new::<DestInfo>(&[]);
        assert_eq!(s.schedule::<DestInfo>(&[]), None);
    }

    #[test]
    fn update_restarts_from_head() {
        let mut ds = dests(&[4, 3, 2]);
        let mut s = WrrState::new(&ds);
        assert_eq!(picks(&mut s, &ds, 4), [0, 0, 1, 0].map(Some));
        // cw is 2 now; a weight change keeps it (gcd 1) and restarts from
        // the head: cw=2 picks B (3) and C (2), then cw=1 A B C.
        ds[0].weight = 1;
        s.update(&ds);
        assert_eq!(picks(&mut s, &ds, 5), [1, 2, 0, 1, 2].map(Some));
        // cw is 1; new weights with gcd 3 round it to a multiple of 3
        // plus 1 (still 1): A and B, then back to cw = mw = 6 - 2 = 4.
        let ds = dests(&[6, 3]);
        s.update(&ds);
        assert_eq!(picks(&mut s, &ds, 3), [0, 1, 0].map(Some));
        // cw above the new maximum resets to it.
        let ds = dests(&[9, 3]);
        let mut s = WrrState::new(&ds);
        assert_eq!(s.schedule(&ds), Some(0)); // cw = 9 - 2 = 7
        let ds = dests(&[6, 3]);
        s.update(&ds); // 7 > mw = 4: cw = 4
        assert_eq!(picks(&mut s, &ds, 3), [0, 0, 1].map(Some));
    }

    #[test]
    fn huge_weights_are_fast() {
        let mut ds = dests(&[i32::MAX, 1, 65535]);
        ds[0].overloaded = true;
        let mut s = WrrState::new(&ds);
        // cw starts at i32::MAX; the 65535 server is picked 65535 times
        // for each pick of the weight-1 server.
        assert_eq!(s.schedule(&ds), Some(2));
        ds[2].overloaded = true;
        assert_eq!(s.schedule(&ds), Some(1));
        ds[1].overloaded = true;
        assert_eq!(s.schedule(&ds), None);
    }

    /// IPVS's loop without the skip-ahead, for comparison.
    fn reference(s: &mut WrrState, ds: &[DestInfo]) -> Option<usize> {
        let n = ds.len();
        let last = slot_index(s.cl).filter(|&c| c < n);
        if s.mw == 0 {
            return None;
        }
        let (mut pos, mut stop, mut last_pass, mut restarted) = (last, None, false, false);
        loop {
            let start = pos.map_or(0, |p| p + 1);
            for (i, d) in ds.iter().enumerate().skip(start) {
                if !d.overloaded && d.weight >= s.cw {
                    s.cl = slot_of(i);
                    return Some(i);
                }
                if stop == Some(i) {
                    s.cl = slot_of(i);
                    return None;
                }
            }
            pos = None;
            s.cw -= s.di;
            if s.cw <= 0 {
                s.cw = s.mw;
                if last_pass || last.is_none() {
                    s.cl = 0;
                    return None;
                }
                restarted = true;
            }
            last_pass = s.cw <= s.di;
            if last_pass && restarted && last.is_some() {
                stop = last;
            }
        }
    }

    proptest! {
        /// The skip-ahead never changes a pick or the state.
        #[test]
        fn matches_plain_loop(
            weights in proptest::collection::vec((0..40i32, any::<bool>()), 0..6),
            changes in proptest::collection::vec((0..6usize, 0..40i32, any::<bool>()), 0..4),
        ) {
            let mut ds: Vec<DestInfo> = weights.iter().enumerate().map(|(i, &(w, o))| {
                let mut d = super::super::testutil::dest(i, w);
                d.overloaded = o;
                d
            }).collect();
            let mut fast = WrrState::new(&ds);
            let mut slow = fast;
            for round in 0..=changes.len() {
                for _ in 0..50 {
                    prop_assert_eq!(fast.schedule(&ds), reference(&mut slow, &ds));
                    prop_assert_eq!(fast, slow);
                }
                if let Some(&(i, w, o)) = changes.get(round) {
                    if let Some(d) = ds.get_mut(i) {
                        d.weight = w;
                        d.overloaded = o;
                    }
                    fast.update(&ds);
                    slow.update(&ds);
                }
            }
        }

        /// Over a full cycle each available server is picked in proportion
        /// to its weight.
        #[test]
        fn proportional(weights in proptest::collection::vec(0..12i32, 1..6)) {
            let ds = dests(&weights);
            let g = weights.iter().filter(|&&w| w > 0).fold(0, |g, &w| if g == 0 { w } else { gcd(w, g) });
            prop_assume!(g > 0);
            let cycle: i32 = weights.iter().map(|w| w / g).sum();
            let mut s = WrrState::new(&ds);
            let mut counts = std::vec![0i32; ds.len()];
            for _ in 0..cycle {
                let i = s.schedule(&ds).expect("a server");
                counts[i] += 1;
            }
            for (c, w) in counts.iter().zip(&weights) {
                prop_assert_eq!(*c, w / g);
            }
        }

        /// Garbage never hangs or panics.
        #[test]
        fn no_panic(ds in valid_dests(8)) {
            let mut s = WrrState::new(&ds);
            for _ in 0..20 {
                if let Some(i) = s.schedule(&ds) {
                    prop_assert!(i < ds.len());
                }
            }
        }
    }
}
