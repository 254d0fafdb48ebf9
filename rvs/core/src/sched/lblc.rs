// SPDX-License-Identifier: GPL-2.0

//! Locality-based least-connection (IPVS `lblc`), for cache clusters: a
//! destination address keeps going to the server it was first given (a
//! cache entry), unless that server is gone, quiesced, or over its weight
//! in active connections while another server is under half of its own;
//! then it is rescheduled by weighted least-connection and the entry is
//! replaced. Stale entries are collected by a periodic check.
//!
//! The cache lives in a caller-provided slice of [`LblcSlot`]s, each
//! holding one entry (the first [`LBLC_TAB_SIZE`] slots also hold the
//! hash-chain heads). IPVS caps the cache at [`LBLC_MAX_ENTRIES`] entries;
//! a slice of that many slots reproduces IPVS exactly, a smaller one
//! behaves as IPVS does when allocating an entry fails (the connection is
//! still scheduled, just not cached).

use core::convert::Infallible;
use core::ops::DerefMut;

use super::cache::{LocalityCache, Slot};
use super::{locality_overloaded, wlc, Addr, Dest, DestKey};

pub use super::cache::{
    default_expiration, CHECK_EXPIRE_INTERVAL_SECS, COUNT_FOR_FULL_EXPIRATION,
    DEFAULT_EXPIRATION_SECS, ENTRY_TIMEOUT_SECS, MAX_ENTRIES as LBLC_MAX_ENTRIES,
    MAX_SIZE as LBLC_MAX_SIZE, TAB_BITS as LBLC_TAB_BITS, TAB_SIZE as LBLC_TAB_SIZE,
};

/// One cache slot, 64 bytes: an entry caching the server of one
/// destination address. Fill the slice with [`Slot::EMPTY`].
pub type LblcSlot = Slot<DestKey, Infallible>;

/// The lblc cache over caller-provided slots `S` (anything that derefs
/// to `[LblcSlot]`).
pub type LblcTable<S> = LocalityCache<S, DestKey, Infallible>;

impl<S: DerefMut<Target = [LblcSlot]>> LblcTable<S> {
    /// IPVS's `ip_vs_lblc_new`: cache `daddr -> dests[di]`, replacing an
    /// entry for another server; silently nothing when full.
    fn cache_dest<D: Dest>(&mut self, dests: &[D], daddr: &Addr, di: usize, now: u64) {
        let Some(d) = dests.get(di) else { return };
        let key = DestKey::of(d, di);
        if let Some(e) = self.find(daddr) {
            if self.entry(e).is_some_and(|en| en.value.same(&key)) {
                return;
            }
            self.remove(e);
        }
        self.insert(daddr, key, now);
    }

    /// Schedules a packet for destination address `daddr` at time `now`
    /// (jiffies): the cached server if it is still there, available, with
    /// weight > 0 and not overloaded in lblc's sense; otherwise weighted
    /// least-connection, which then replaces the cache entry.
    ///
    /// lblc's overload test is its own (more active connections than the
    /// weight while some server has less than half), not the
    /// `IP_VS_DEST_F_OVERLOAD` flag, so a cached server can be returned
    /// with that flag set, as in IPVS.
    pub fn schedule<D: Dest>(&mut self, dests: &[D], daddr: &Addr, now: u64) -> Option<usize> {
        let cached = self.get(daddr, now);
        if let Some(en) = cached.and_then(|e| self.entry_mut(e)) {
            if let Some(i) = en.value.resolve(dests) {
                if let Some(d) = dests.get(i) {
                    if d.available() && d.weight() > 0 && !locality_overloaded(d, dests) {
                        return Some(i);
                    }
                }
            }
        }
        let i = wlc::schedule(dests)?;
        self.cache_dest(dests, daddr, i, now);
        Some(i)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::dests;
    use super::super::DestInfo;
    use super::*;
    use std::vec::Vec;

    const HZ: u32 = 100;

    fn table(n: usize) -> LblcTable<Vec<LblcSlot>> {
        LblcTable::new(std::vec![LblcSlot::EMPTY; n], HZ).expect("table")
    }

    fn addr(k: u32) -> Addr {
        Addr::v4(k.wrapping_mul(2_654_435_761).to_be_bytes())
    }

    #[test]
    fn sticks_until_overloaded() {
        let mut ds = dests(&[2, 2]);
        let mut t = table(LBLC_TAB_SIZE);
        let x = Addr::v4([192, 0, 2, 1]);
        assert_eq!(t.schedule(&ds, &x, 0), Some(0));
        assert_eq!(t.len(), 1);
        // [1] is now less loaded, but x stays on [0].
        ds[0].active_conns = 2;
        ds[0].total_conns = 2;
        assert_eq!(t.schedule(&ds, &x, 1), Some(0));
        // Another address goes by least-connection.
        assert_eq!(t.schedule(&ds, &Addr::v4([192, 0, 2, 2]), 1), Some(1));
        // Over its weight while [1] is under half of its own: moved, and
        // the entry follows.
        ds[0].active_conns = 3;
        assert_eq!(t.schedule(&ds, &x, 2), Some(1));
        ds[0].active_conns = 0;
        ds[0].total_conns = 0;
        ds[1].active_conns = 1;
        assert_eq!(t.schedule(&ds, &x, 3), Some(1));
        assert_eq!(t.len(), 2);
        // Over its weight but nobody is under half: stays.
        ds[1].active_conns = 3;
        ds[0].active_conns = 1;
        assert_eq!(t.schedule(&ds, &x, 4), Some(1));
        // The IP_VS_DEST_F_OVERLOAD flag does not move a cached address.
        ds[1].overloaded = true;
        assert_eq!(t.schedule(&ds, &x, 5), Some(1));
    }

    #[test]
    fn quiesced_or_deleted_server_is_replaced() {
        let mut ds = dests(&[1, 1, 1]);
        let mut t = table(LBLC_TAB_SIZE);
        let x = Addr::v4([198, 51, 100, 7]);
        ds[0].total_conns = 5;
        assert_eq!(t.schedule(&ds, &x, 0), Some(1));
        ds[1].weight = 0;
        assert_eq!(t.schedule(&ds, &x, 1), Some(2));
        // The cache follows the server, not its index.
        ds.remove(0);
        assert_eq!(t.schedule(&ds, &x, 2), Some(1));
        // Deleted: rescheduled.
        ds[0].weight = 1;
        let gone = ds.remove(1);
        assert_eq!(t.schedule(&ds, &x, 3), Some(0));
        // Re-added (IPVS revives it from the trash): the entry points at
        // [0] now, so it stays there.
        ds.insert(0, gone);
        assert_eq!(t.schedule(&ds, &x, 4), Some(1));
        ds[1].available = false;
        assert_eq!(t.schedule(&ds, &x, 5), Some(0));
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn full_check_every_thirtieth_tick() {
        let ds = dests(&[1]);
        let mut t = table(LBLC_TAB_SIZE);
        let exp = 1000;
        t.schedule(&ds, &addr(1), 0);
        t.schedule(&ds, &addr(2), 500);
        for _ in 0..29 {
            t.check_expire(1200, exp);
        }
        assert_eq!(t.len(), 2);
        t.check_expire(1200, exp);
        assert_eq!(t.len(), 1, "idle for 1200 >= 1000: dropped");
        // Using an entry refreshes it.
        t.schedule(&ds, &addr(2), 1400);
        for _ in 0..30 {
            t.check_expire(2300, exp);
        }
        assert_eq!(t.len(), 1);
        assert_eq!(default_expiration(HZ), 86_400 * 100);
    }

    #[test]
    fn partial_collection_above_max_size() {
        let ds = dests(&[1, 1]);
        let mut t = table(LBLC_MAX_ENTRIES);
        let n = 20_000u32;
        for k in 0..n {
            t.schedule(&ds, &addr(k), 0);
        }
        assert_eq!(t.len(), n as usize);
        // Not idle for 6 minutes yet: nothing goes.
        let timeout = ENTRY_TIMEOUT_SECS * u64::from(HZ);
        t.check_expire(timeout - 1, u64::MAX / 2);
        assert_eq!(t.len(), n as usize);
        // Goal: 4/3 of the excess, whole buckets at a time.
        t.check_expire(timeout, u64::MAX / 2);
        let goal = (n as usize - LBLC_MAX_SIZE) * 4 / 3;
        let dropped = n as usize - t.len();
        assert!(
            dropped >= goal && dropped < goal + 100,
            "{dropped} vs {goal}"
        );
    }

    #[test]
    fn capacity_and_flush() {
        let ds = dests(&[1, 1]);
        let mut t = table(LBLC_TAB_SIZE);
        for k in 0..2000 {
            assert!(t.schedule(&ds, &addr(k), 0).is_some());
        }
        assert_eq!(t.len(), LBLC_TAB_SIZE);
        t.flush();
        assert!(t.is_empty());
        assert!(t.schedule(&ds, &addr(1), 0).is_some());
        assert!(t.is_empty(), "a flushed table caches nothing");
        assert!(LblcTable::new(std::vec![LblcSlot::EMPTY; 10], HZ).is_err());
        let none: [DestInfo; 0] = [];
        assert_eq!(table(LBLC_TAB_SIZE).schedule(&none, &addr(1), 0), None);
    }
}
