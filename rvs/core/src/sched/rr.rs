// SPDX-License-Identifier: GPL-2.0

//! Round-robin (IPVS `rr`): each available server in list order, in turn.

use super::{slot_index, slot_of, Dest};

/// The rr cursor: the last server picked, or the list head before the
/// first pick. 4 bytes; all-zero is the initial state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RrState {
    /// 0: the list head; `i + 1`: dest index `i`.
    cursor: u32,
}

impl RrState {
    /// The state of a new service: the cursor at the list head.
    pub const fn new() -> Self {
        Self { cursor: 0 }
    }

    /// Picks the next non-overloaded server with weight > 0 after the
    /// cursor, wrapping around once and ending with the cursor's own
    /// server. The cursor moves to the pick; it stays put when nothing is
    /// available.
    pub fn schedule<D: Dest>(&mut self, dests: &[D]) -> Option<usize> {
        let ok = |i: usize| {
            dests
                .get(i)
                .is_some_and(|d| !d.overloaded() && d.weight() > 0)
        };
        let n = dests.len();
        // A cursor beyond the slice means the caller missed a `del_dest`;
        // restart from the head rather than fail.
        let hit = match slot_index(self.cursor).filter(|&c| c < n) {
            None => (0..n).find(|&i| ok(i)),
            Some(c) => (c + 1..n).chain(0..=c).find(|&i| ok(i)),
        };
        if let Some(i) = hit {
            self.cursor = slot_of(i);
        }
        hit
    }

    /// IPVS has no `add_dest` hook for rr, but its cursor is a pointer
    /// while ours is an index: call this after inserting a dest at `index`
    /// (IPVS inserts at the head, index 0) so the cursor keeps pointing at
    /// the same server.
    pub fn add_dest(&mut self, index: usize) {
        if let Some(c) = slot_index(self.cursor) {
            if c >= index {
                self.cursor = slot_of(c.saturating_add(1));
            }
        }
    }

    /// IPVS's `del_dest` hook: call after removing the dest at `index`. If
    /// the cursor was on it, it moves to the previous server (or the head),
    /// so the removed server's successor is next, as in IPVS.
    pub fn del_dest(&mut self, index: usize) {
        if let Some(c) = slot_index(self.cursor) {
            if c == index {
                self.cursor = match c.checked_sub(1) {
                    Some(p) => slot_of(p),
                    None => 0,
                };
            } else if c > index {
                self.cursor = slot_of(c - 1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::dests;
    use super::*;
    use std::vec::Vec;

    fn picks(s: &mut RrState, ds: &[super::super::DestInfo], n: usize) -> Vec<Option<usize>> {
        (0..n).map(|_| s.schedule(ds)).collect()
    }

    #[test]
    fn cycles_skipping_unavailable() {
        let mut ds = dests(&[1, 0, 5, 1]);
        ds[3].overloaded = true;
        let mut s = RrState::new();
        // Weights other than 0 do not matter.
        assert_eq!(picks(&mut s, &ds, 4), [Some(0), Some(2), Some(0), Some(2)]);
        ds[3].overloaded = false;
        assert_eq!(picks(&mut s, &ds, 3), [Some(3), Some(0), Some(2)]);
    }

    #[test]
    fn single_server_and_none() {
        let mut ds = dests(&[1]);
        let mut s = RrState::new();
        assert_eq!(picks(&mut s, &ds, 2), [Some(0), Some(0)]);
        ds[0].weight = 0;
        assert_eq!(s.schedule(&ds), None);
        assert_eq!(s, RrState { cursor: 1 }, "cursor kept on failure");
        let empty: [super::super::DestInfo; 0] = [];
        assert_eq!(s.schedule(&empty), None);
    }

    #[test]
    fn deleting_the_cursor_server_continues_with_its_successor() {
        let mut ds = dests(&[1, 1, 1, 1]);
        let mut s = RrState::new();
        assert_eq!(picks(&mut s, &ds, 2), [Some(0), Some(1)]);
        // Remove [1] (the cursor): the old [2] (now [1]) is next.
        ds.remove(1);
        s.del_dest(1);
        assert_eq!(s.schedule(&ds), Some(1));
        // Remove [0], before the cursor: indices shift, order is kept.
        ds.remove(0);
        s.del_dest(0);
        assert_eq!(s.schedule(&ds), Some(1));
        // Removing the cursor server when it is first goes back to the
        // head: the new first server is next.
        let mut s = RrState::new();
        assert_eq!(s.schedule(&ds), Some(0));
        ds.remove(0);
        s.del_dest(0);
        assert_eq!(s.schedule(&ds), Some(0));
    }

    #[test]
    fn adding_at_head_keeps_position() {
        let mut ds = dests(&[1, 1, 1]);
        let mut s = RrState::new();
        assert_eq!(s.schedule(&ds), Some(0));
        ds.insert(0, super::super::testutil::dest(9, 1));
        s.add_dest(0);
        // Cursor still on the old [0] (now [1]): next is the old [1].
        assert_eq!(picks(&mut s, &ds, 4), [Some(2), Some(3), Some(0), Some(1)]);
    }
}
