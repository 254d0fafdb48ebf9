// SPDX-License-Identifier: GPL-2.0

//! Locality-based least-connection with replication (IPVS `lblcr`): like
//! [`super::lblc`], but a destination address maps to a *set* of servers.
//! The least loaded member of the set is used; when it is overloaded in
//! lblc's sense, a server picked by weighted least-connection joins the
//! set. A set that has not changed for the expiration time sheds its most
//! loaded member.
//!
//! The cache and its sets live in one caller-provided slice of
//! [`LblcrSlot`]s: each holds either a cache entry or one set member (the
//! first [`LBLCR_TAB_SIZE`] slots also hold the hash-chain heads). IPVS
//! caps entries at [`LBLCR_MAX_ENTRIES`] and set members only by memory;
//! running out of slots behaves as an allocation failure does in IPVS (the
//! connection is still scheduled; the entry or member is not added).

use core::ops::DerefMut;

use super::cache::{LocalityCache, Slot};
use super::{conn_overhead, locality_overloaded, time_before, wlc, Addr, Dest, DestKey};

pub use super::cache::{
    default_expiration, CHECK_EXPIRE_INTERVAL_SECS, COUNT_FOR_FULL_EXPIRATION,
    DEFAULT_EXPIRATION_SECS, ENTRY_TIMEOUT_SECS, MAX_ENTRIES as LBLCR_MAX_ENTRIES,
    MAX_SIZE as LBLCR_MAX_SIZE, TAB_BITS as LBLCR_TAB_BITS, TAB_SIZE as LBLCR_TAB_SIZE,
};

/// What an entry keeps of its server set (IPVS's `ip_vs_dest_set`); the
/// members themselves are the entry's member slots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DestSet {
    /// Set size (IPVS's `set.size`).
    size: i32,
    /// Last change of the set, jiffies.
    lastmod: u64,
}

/// One slot, 56 bytes: a cache entry or one member of an entry's set.
/// Fill the slice with [`Slot::EMPTY`].
pub type LblcrSlot = Slot<DestSet, DestKey>;

/// The lblcr cache over caller-provided slots `S` (anything that derefs
/// to `[LblcrSlot]`).
pub type LblcrTable<S> = LocalityCache<S, DestSet, DestKey>;

/// What lblcr can read of a set member: absent when the server was
/// deleted (IPVS still reads the dest in its trash; we treat it as
/// unavailable with weight 0, so it is neither picked nor shed).
fn member<'a, D: Dest>(key: &mut DestKey, dests: &'a [D]) -> Option<(usize, &'a D)> {
    let i = key.resolve(dests)?;
    Some((i, dests.get(i)?))
}

impl<S: DerefMut<Target = [LblcrSlot]>> LblcrTable<S> {
    /// The servers cached for `daddr`, most recently added first (as
    /// indices into `dests`; deleted servers are skipped). For inspection
    /// and tests.
    pub fn set_of<D: Dest>(&self, dests: &[D], daddr: &Addr, out: &mut [usize]) -> usize {
        let Some(e) = self.find(daddr) else {
            return 0;
        };
        let mut n = 0;
        for mut key in self.members(e).copied() {
            if let Some(i) = key.resolve(dests) {
                if let Some(o) = out.get_mut(n) {
                    *o = i;
                    n += 1;
                }
            }
        }
        n
    }

    /// Records a change of entry `e`'s set by `delta` members at `now`.
    fn set_changed(&mut self, e: usize, delta: i32, now: u64) {
        if let Some(en) = self.entry_mut(e) {
            en.value.size = en.value.size.wrapping_add(delta);
            en.value.lastmod = now;
        }
    }

    /// IPVS's `ip_vs_dest_set_insert`: adds `dests[di]` at the head of the
    /// set (unless `check` finds it there already).
    fn set_insert<D: Dest>(&mut self, e: usize, dests: &[D], di: usize, check: bool, now: u64) {
        let Some(d) = dests.get(di) else { return };
        let key = DestKey::of(d, di);
        if check && self.members(e).any(|k| k.same(&key)) {
            return;
        }
        if self.add_member(e, key) {
            self.set_changed(e, 1, now);
        }
    }

    /// IPVS's `ip_vs_dest_set_erase`: removes the member for `key`.
    fn set_erase(&mut self, e: usize, key: &DestKey, now: u64) {
        if self.remove_member(e, |k| k.same(key)) {
            self.set_changed(e, -1, now);
        }
    }

    /// IPVS's `ip_vs_dest_set_min`: the set member with the least
    /// `overhead / weight`. The first available, non-overloaded member
    /// with weight > 0 starts; a later one replaces it if strictly less
    /// loaded, not overloaded and available.
    fn set_min<D: Dest>(&mut self, e: usize, dests: &[D]) -> Option<usize> {
        let mut least: Option<(usize, i32, i32)> = None;
        self.for_each_member_mut(e, |key| {
            let Some((i, d)) = member(key, dests) else {
                return;
            };
            if d.overloaded() {
                return;
            }
            let doh = conn_overhead(d);
            match least {
                None => {
                    if d.weight() > 0 && d.available() {
                        least = Some((i, doh, d.weight()));
                    }
                }
                Some((_, loh, lw)) => {
                    if i64::from(loh) * i64::from(d.weight()) > i64::from(doh) * i64::from(lw)
                        && d.available()
                    {
                        least = Some((i, doh, d.weight()));
                    }
                }
            }
        });
        least.map(|(i, _, _)| i)
    }

    /// IPVS's `ip_vs_dest_set_max`: the member with weight > 0 and the
    /// most `overhead / weight` (the earliest on a tie).
    fn set_max<D: Dest>(&mut self, e: usize, dests: &[D]) -> Option<DestKey> {
        let mut most: Option<(DestKey, i32, i32)> = None;
        self.for_each_member_mut(e, |key| {
            let Some((_, d)) = member(key, dests) else {
                return;
            };
            let w = d.weight();
            if w <= 0 {
                return;
            }
            let doh = conn_overhead(d);
            match most {
                Some((_, moh, mw))
                    if i64::from(moh) * i64::from(w) >= i64::from(doh) * i64::from(mw) => {}
                _ => most = Some((*key, doh, w)),
            }
        });
        most.map(|(k, _, _)| k)
    }

    /// IPVS's `ip_vs_lblcr_new`: a new entry with set `{dests[di]}`, or
    /// `dests[di]` added to the existing entry's set.
    fn cache_dest<D: Dest>(&mut self, dests: &[D], daddr: &Addr, di: usize, now: u64) {
        if let Some(e) = self.find(daddr) {
            self.set_insert(e, dests, di, true, now);
            return;
        }
        let set = DestSet {
            size: 0,
            lastmod: now,
        };
        // As in IPVS, the entry stays even if its first member cannot be
        // allocated.
        if let Some(e) = self.insert(daddr, set, now) {
            self.set_insert(e, dests, di, false, now);
        }
    }

    /// Schedules a packet for destination address `daddr` at time `now`
    /// (jiffies); `expiration` is the `lblcr_expiration` sysctl in jiffies
    /// (see [`default_expiration`]).
    ///
    /// With a cache entry: take the least loaded member of its set; if the
    /// set has more than one member and has not changed for `expiration`,
    /// first shed its most loaded member (possibly the one just taken,
    /// which is still used, as in IPVS). If the member is overloaded in
    /// lblc's sense (or there is none), weighted least-connection picks a
    /// server, which joins the set. Without an entry: weighted
    /// least-connection, cached in a new entry.
    pub fn schedule<D: Dest>(
        &mut self,
        dests: &[D],
        daddr: &Addr,
        now: u64,
        expiration: u64,
    ) -> Option<usize> {
        let Some(e) = self.get(daddr, now) else {
            let i = wlc::schedule(dests)?;
            self.cache_dest(dests, daddr, i, now);
            return Some(i);
        };
        let dest = self.set_min(e, dests);

        let (size, lastmod) = self
            .entry(e)
            .map_or((0, now), |en| (en.value.size, en.value.lastmod));
        if size > 1 && time_before(lastmod.wrapping_add(expiration), now) {
            if let Some(m) = self.set_max(e, dests) {
                self.set_erase(e, &m, now);
            }
        }

        if let Some(i) = dest {
            if let Some(d) = dests.get(i) {
                if !locality_overloaded(d, dests) {
                    return Some(i);
                }
            }
        }
        let i = wlc::schedule(dests)?;
        self.set_insert(e, dests, i, true, now);
        Some(i)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::dests;
    use super::*;
    use std::vec::Vec;

    const HZ: u32 = 100;

    fn table(n: usize) -> LblcrTable<Vec<LblcrSlot>> {
        LblcrTable::new(std::vec![LblcrSlot::EMPTY; n], HZ).expect("table")
    }

    fn set<D: Dest>(t: &LblcrTable<Vec<LblcrSlot>>, ds: &[D], x: &Addr) -> Vec<usize> {
        let mut out = [0usize; 16];
        let n = t.set_of(ds, x, &mut out);
        out[..n].to_vec()
    }

    #[test]
    fn set_grows_and_sheds() {
        let mut ds = dests(&[2, 2, 2]);
        let mut t = table(LBLCR_TAB_SIZE + 64);
        let x = Addr::v4([203, 0, 113, 9]);
        let exp = 1000;
        assert_eq!(t.schedule(&ds, &x, 0, exp), Some(0));
        assert_eq!(set(&t, &ds, &x), [0]);
        // [0] over its weight while others are idle: [1] joins the set.
        ds[0].active_conns = 3;
        ds[0].total_conns = 3;
        assert_eq!(t.schedule(&ds, &x, 10, exp), Some(1));
        assert_eq!(set(&t, &ds, &x), [1, 0]);
        // Now the least loaded member of the set is used; [2] (idle, not
        // in the set) is not considered.
        ds[1].active_conns = 1;
        ds[1].total_conns = 1;
        ds[0].active_conns = 2;
        assert_eq!(t.schedule(&ds, &x, 20, exp), Some(1));
        ds[1].active_conns = 2;
        ds[1].total_conns = 4;
        ds[0].total_conns = 2;
        assert_eq!(t.schedule(&ds, &x, 30, exp), Some(0));
        // The set has not changed since t=10: after the expiration its most
        // loaded member ([1]: 516/2 vs 514/2) is shed.
        assert_eq!(t.schedule(&ds, &x, 1011, exp), Some(0));
        assert_eq!(set(&t, &ds, &x), [0]);
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn deleted_member_is_skipped() {
        let mut ds = dests(&[1, 1]);
        let mut t = table(LBLCR_TAB_SIZE + 8);
        let x = Addr::v4([203, 0, 113, 10]);
        assert_eq!(t.schedule(&ds, &x, 0, 1000), Some(0));
        ds.remove(0);
        // The only member is gone: least-connection adds [0] (the old [1]).
        assert_eq!(t.schedule(&ds, &x, 1, 1000), Some(0));
        assert_eq!(set(&t, &ds, &x), [0]);
        // A set member with the overload flag is not picked.
        ds[0].overloaded = true;
        assert_eq!(t.schedule(&ds, &x, 2, 1000), None);
    }

    #[test]
    fn expiry_frees_sets() {
        let ds = dests(&[1, 1]);
        let mut t = table(LBLCR_TAB_SIZE);
        for k in 0..100u32 {
            t.schedule(
                &ds,
                &Addr::v4(k.wrapping_mul(2_654_435_761).to_be_bytes()),
                0,
                50,
            );
        }
        assert_eq!(t.len(), 100);
        for _ in 0..30 {
            t.check_expire(100, 50);
        }
        assert!(t.is_empty());
        // Every slot is free again: a full table's worth fits.
        for k in 0..(LBLCR_TAB_SIZE as u32 / 2) {
            t.schedule(&ds, &Addr::v4((k + 1000).to_be_bytes()), 200, 50);
        }
        assert_eq!(t.len(), LBLCR_TAB_SIZE / 2);
        t.flush();
        assert!(t.is_empty());
    }
}
