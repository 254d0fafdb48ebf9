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

use super::hash::hash_32;
use super::{
    locality_overloaded, slot_index, slot_of, time_before, wlc, Addr, Dest, DestKey, SchedError,
};

/// `IP_VS_LBLC_TAB_BITS`.
pub const LBLC_TAB_BITS: u32 = 10;
/// Hash buckets (`IP_VS_LBLC_TAB_SIZE`).
pub const LBLC_TAB_SIZE: usize = 1 << LBLC_TAB_BITS;
/// Entries above which the periodic check collects stale ones
/// (`max_size`).
pub const LBLC_MAX_SIZE: usize = LBLC_TAB_SIZE * 16;
/// Hard cap on entries (`max_size * 3 / 2`): the slot count that
/// reproduces IPVS exactly.
pub const LBLC_MAX_ENTRIES: usize = LBLC_MAX_SIZE * 3 / 2;
/// How often the caller should run [`LblcTable::check_expire`], seconds
/// (`CHECK_EXPIRE_INTERVAL`).
pub const CHECK_EXPIRE_INTERVAL_SECS: u64 = 60;
/// Idle time after which an entry may be collected when the cache is
/// over [`LBLC_MAX_SIZE`], seconds (`ENTRY_TIMEOUT`).
pub const ENTRY_TIMEOUT_SECS: u64 = 6 * 60;
/// Default of the `lblc_expiration` sysctl, seconds: idle entries older
/// than this are dropped by the full check every half hour.
pub const DEFAULT_EXPIRATION_SECS: u64 = 24 * 60 * 60;
/// Periodic checks between two full checks (`COUNT_FOR_FULL_EXPIRATION`).
pub const COUNT_FOR_FULL_EXPIRATION: i32 = 30;

/// The default `lblc_expiration` in jiffies for a kernel with `hz` ticks
/// per second.
pub const fn default_expiration(hz: u32) -> u64 {
    DEFAULT_EXPIRATION_SECS.saturating_mul(hz as u64)
}

/// One cache slot. Fill the slice with [`LblcSlot::EMPTY`]; the table
/// takes care of the rest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LblcSlot {
    /// Head of hash chain `i` when this is slot `i < LBLC_TAB_SIZE`.
    head: u32,
    /// Next slot in the chain (or in the free list).
    next: u32,
    /// Whether an entry lives here.
    used: bool,
    /// The destination address cached.
    addr: Addr,
    /// The server it goes to.
    dest: DestKey,
    /// Last use, jiffies.
    lastuse: u64,
}

impl LblcSlot {
    /// An unused slot.
    pub const EMPTY: Self = Self {
        head: 0,
        next: 0,
        used: false,
        addr: Addr::v4([0; 4]),
        dest: DestKey {
            addr: Addr::v4([0; 4]),
            port: 0,
            hint: 0,
        },
        lastuse: 0,
    };
}

impl Default for LblcSlot {
    fn default() -> Self {
        Self::EMPTY
    }
}

/// The lblc cache over caller-provided slots `S` (anything that derefs
/// to `[LblcSlot]`: a `KVec`, a boxed slice, `&mut [LblcSlot]`): about
/// 48 bytes plus `S` itself; the slots are 64 bytes each.
pub struct LblcTable<S: core::ops::DerefMut<Target = [LblcSlot]>> {
    slots: S,
    /// Usable slots (the slice length, capped to what u32 links reach).
    cap: usize,
    /// Free-list head (slot + 1, 0 none).
    free: u32,
    /// Entries in use (IPVS's `entries`).
    entries: usize,
    /// Bucket where the last check stopped.
    rover: usize,
    /// Checks since the last full check, plus one.
    counter: i32,
    /// Set by [`LblcTable::flush`]: no new entries.
    dead: bool,
    /// `ENTRY_TIMEOUT` in jiffies.
    entry_timeout: u64,
}

/// Bucket of a destination address.
fn hashkey(addr: &Addr) -> usize {
    hash_32(addr.fold(), LBLC_TAB_BITS) as usize
}

impl<S: core::ops::DerefMut<Target = [LblcSlot]>> LblcTable<S> {
    /// A new, empty cache over `slots` (at least [`LBLC_TAB_SIZE`]; every
    /// slot is reset) for a kernel with `hz` ticks per second.
    pub fn new(mut slots: S, hz: u32) -> Result<Self, SchedError> {
        if slots.len() < LBLC_TAB_SIZE {
            return Err(SchedError::BufferTooSmall);
        }
        let cap = slots.len().min(u32::MAX as usize - 1);
        for (i, s) in slots.iter_mut().enumerate() {
            *s = LblcSlot::EMPTY;
            s.next = if i + 1 < cap { slot_of(i + 1) } else { 0 };
        }
        Ok(Self {
            slots,
            cap,
            free: slot_of(0),
            entries: 0,
            rover: 0,
            counter: 1,
            dead: false,
            entry_timeout: ENTRY_TIMEOUT_SECS.saturating_mul(u64::from(hz)),
        })
    }

    /// Number of cached destination addresses.
    pub fn len(&self) -> usize {
        self.entries
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.entries == 0
    }

    fn head(&self, b: usize) -> u32 {
        self.slots.get(b).map_or(0, |s| s.head)
    }

    fn set_head(&mut self, b: usize, v: u32) {
        if let Some(s) = self.slots.get_mut(b) {
            s.head = v;
        }
    }

    /// The slot caching `addr`, if any.
    fn find(&self, addr: &Addr) -> Option<usize> {
        let mut cur = self.head(hashkey(addr));
        let mut steps = 0;
        while let Some(i) = slot_index(cur) {
            let s = self.slots.get(i)?;
            if s.used && s.addr.eq_as(addr, addr.family) {
                return Some(i);
            }
            cur = s.next;
            steps += 1;
            if steps > self.cap {
                return None;
            }
        }
        None
    }

    /// Unlinks slot `i` from its chain and frees it.
    fn remove(&mut self, i: usize) {
        let Some(s) = self.slots.get(i) else { return };
        let b = hashkey(&s.addr);
        let next = s.next;
        let target = slot_of(i);
        if self.head(b) == target {
            self.set_head(b, next);
        } else {
            let mut cur = self.head(b);
            let mut steps = 0;
            while let Some(p) = slot_index(cur) {
                let Some(ps) = self.slots.get_mut(p) else {
                    return;
                };
                if ps.next == target {
                    ps.next = next;
                    break;
                }
                cur = ps.next;
                steps += 1;
                if steps > self.cap {
                    return;
                }
            }
        }
        let free = self.free;
        if let Some(s) = self.slots.get_mut(i) {
            s.used = false;
            s.next = free;
        }
        self.free = target;
        self.entries = self.entries.saturating_sub(1);
    }

    /// IPVS's `ip_vs_lblc_new`: cache `daddr -> dests[di]`, replacing an
    /// entry for another server; silently nothing when full.
    fn insert<D: Dest>(&mut self, dests: &[D], daddr: &Addr, di: usize, now: u64) {
        let Some(d) = dests.get(di) else { return };
        let key = DestKey::of(d, di);
        if let Some(e) = self.find(daddr) {
            if self.slots.get(e).is_some_and(|s| s.dest.same(&key)) {
                return;
            }
            self.remove(e);
        }
        if self.entries >= LBLC_MAX_ENTRIES {
            return;
        }
        let Some(i) = slot_index(self.free) else {
            return;
        };
        let b = hashkey(daddr);
        let head = self.head(b);
        let Some(s) = self.slots.get_mut(i) else {
            return;
        };
        self.free = s.next;
        *s = LblcSlot {
            head: s.head,
            next: head,
            used: true,
            addr: *daddr,
            dest: key,
            lastuse: now,
        };
        self.set_head(b, slot_of(i));
        self.entries += 1;
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
        if let Some(e) = self.find(daddr) {
            if let Some(s) = self.slots.get_mut(e) {
                s.lastuse = now;
                if let Some(i) = s.dest.resolve(dests) {
                    if let Some(d) = dests.get(i) {
                        if d.available() && d.weight() > 0 && !locality_overloaded(d, dests) {
                            return Some(i);
                        }
                    }
                }
            }
        }
        let i = wlc::schedule(dests)?;
        if !self.dead {
            self.insert(dests, daddr, i, now);
        }
        Some(i)
    }

    /// Drops every entry idle for `timeout` or longer in the buckets
    /// after the rover, bucket by bucket; stops after the bucket in which
    /// `goal` drops to 0 or below (never, with `goal` `None`).
    fn collect(&mut self, now: u64, timeout: u64, mut goal: Option<i64>) {
        let mut j = self.rover;
        for _ in 0..LBLC_TAB_SIZE {
            j = (j + 1) & (LBLC_TAB_SIZE - 1);
            let mut cur = self.head(j);
            let mut steps = 0;
            while let Some(i) = slot_index(cur) {
                let Some(s) = self.slots.get(i) else { break };
                cur = s.next;
                if !time_before(now, s.lastuse.wrapping_add(timeout)) {
                    self.remove(i);
                    if let Some(g) = goal.as_mut() {
                        *g -= 1;
                    }
                }
                steps += 1;
                if steps > self.cap {
                    break;
                }
            }
            if goal.is_some_and(|g| g <= 0) {
                break;
            }
        }
        self.rover = j;
    }

    /// IPVS's periodic timer body; call every
    /// [`CHECK_EXPIRE_INTERVAL_SECS`]. Every 30th call drops all entries
    /// idle for `expiration` jiffies (the `lblc_expiration` sysctl, see
    /// [`default_expiration`]); otherwise, if the cache holds more than
    /// [`LBLC_MAX_SIZE`] entries, drops up to 4/3 of the excess (at most
    /// half of the maximum) among entries idle for 6 minutes.
    pub fn check_expire(&mut self, now: u64, expiration: u64) {
        if self.counter % COUNT_FOR_FULL_EXPIRATION == 0 {
            self.collect(now, expiration, None);
            self.counter = 1;
            return;
        }
        if self.entries <= LBLC_MAX_SIZE {
            self.counter = self.counter.wrapping_add(1);
            return;
        }
        let excess = (self.entries - LBLC_MAX_SIZE) as i64;
        let goal = (excess * 4 / 3).min(LBLC_MAX_SIZE as i64 / 2);
        self.collect(now, self.entry_timeout, Some(goal));
    }

    /// IPVS's `done_service` flush: drops every entry and caches nothing
    /// more (scheduling still works).
    pub fn flush(&mut self) {
        self.dead = true;
        for b in 0..LBLC_TAB_SIZE {
            while let Some(i) = slot_index(self.head(b)) {
                let before = self.head(b);
                self.remove(i);
                if self.head(b) == before {
                    break;
                }
            }
        }
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
