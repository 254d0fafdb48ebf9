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

use super::hash::hash_32;
use super::{
    conn_overhead, locality_overloaded, slot_index, slot_of, time_before, wlc, Addr, Dest, DestKey,
    SchedError,
};

pub use super::lblc::{
    default_expiration, CHECK_EXPIRE_INTERVAL_SECS, COUNT_FOR_FULL_EXPIRATION,
    DEFAULT_EXPIRATION_SECS, ENTRY_TIMEOUT_SECS,
};

/// `IP_VS_LBLCR_TAB_BITS`.
pub const LBLCR_TAB_BITS: u32 = 10;
/// Hash buckets (`IP_VS_LBLCR_TAB_SIZE`).
pub const LBLCR_TAB_SIZE: usize = 1 << LBLCR_TAB_BITS;
/// Entries above which the periodic check collects stale ones.
pub const LBLCR_MAX_SIZE: usize = LBLCR_TAB_SIZE * 16;
/// Hard cap on entries (`max_size * 3 / 2`).
pub const LBLCR_MAX_ENTRIES: usize = LBLCR_MAX_SIZE * 3 / 2;

/// What a slot holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Nothing; `next` links the free list.
    Free,
    /// A cache entry; `next` links its hash chain.
    Entry {
        /// The destination address cached.
        addr: Addr,
        /// Last use, jiffies.
        lastuse: u64,
        /// First set member (slot + 1, 0 none).
        set: u32,
        /// Set size (IPVS's `set.size`).
        size: i32,
        /// Last change of the set, jiffies.
        lastmod: u64,
    },
    /// A set member; `next` links the rest of the set.
    Member(DestKey),
}

/// One slot. Fill the slice with [`LblcrSlot::EMPTY`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LblcrSlot {
    /// Head of hash chain `i` when this is slot `i < LBLCR_TAB_SIZE`.
    head: u32,
    /// Next slot in this slot's list.
    next: u32,
    kind: Kind,
}

impl LblcrSlot {
    /// An unused slot.
    pub const EMPTY: Self = Self {
        head: 0,
        next: 0,
        kind: Kind::Free,
    };
}

impl Default for LblcrSlot {
    fn default() -> Self {
        Self::EMPTY
    }
}

/// The lblcr cache over caller-provided slots `S` (anything that derefs
/// to `[LblcrSlot]`): about 48 bytes plus `S` itself; the slots are 56
/// bytes each.
pub struct LblcrTable<S: core::ops::DerefMut<Target = [LblcrSlot]>> {
    slots: S,
    cap: usize,
    free: u32,
    entries: usize,
    rover: usize,
    counter: i32,
    dead: bool,
    entry_timeout: u64,
}

/// Bucket of a destination address.
fn hashkey(addr: &Addr) -> usize {
    hash_32(addr.fold(), LBLCR_TAB_BITS) as usize
}

/// What lblcr can read of a set member: absent when the server was
/// deleted (IPVS still reads the dest in its trash; we treat it as
/// unavailable with weight 0, so it is neither picked nor shed).
fn member<'a, D: Dest>(key: &mut DestKey, dests: &'a [D]) -> Option<(usize, &'a D)> {
    let i = key.resolve(dests)?;
    Some((i, dests.get(i)?))
}

impl<S: core::ops::DerefMut<Target = [LblcrSlot]>> LblcrTable<S> {
    /// A new, empty cache over `slots` (at least [`LBLCR_TAB_SIZE`]; every
    /// slot is reset) for a kernel with `hz` ticks per second.
    pub fn new(mut slots: S, hz: u32) -> Result<Self, SchedError> {
        if slots.len() < LBLCR_TAB_SIZE {
            return Err(SchedError::BufferTooSmall);
        }
        let cap = slots.len().min(u32::MAX as usize - 1);
        for (i, s) in slots.iter_mut().enumerate() {
            *s = LblcrSlot::EMPTY;
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

    /// The servers cached for `daddr`, most recently added first (as
    /// indices into `dests`; deleted servers are skipped). For inspection
    /// and tests.
    pub fn set_of<D: Dest>(&self, dests: &[D], daddr: &Addr, out: &mut [usize]) -> usize {
        let Some(e) = self.find(daddr) else { return 0 };
        let mut n = 0;
        let mut cur = self.set_head(e);
        let mut steps = 0;
        while let Some(m) = slot_index(cur) {
            let Some(s) = self.slots.get(m) else { break };
            if let Kind::Member(mut key) = s.kind {
                if let Some(i) = key.resolve(dests) {
                    if let Some(o) = out.get_mut(n) {
                        *o = i;
                        n += 1;
                    }
                }
            }
            cur = s.next;
            steps += 1;
            if steps > self.cap {
                break;
            }
        }
        n
    }

    fn head(&self, b: usize) -> u32 {
        self.slots.get(b).map_or(0, |s| s.head)
    }

    fn put_head(&mut self, b: usize, v: u32) {
        if let Some(s) = self.slots.get_mut(b) {
            s.head = v;
        }
    }

    fn set_head(&self, e: usize) -> u32 {
        match self.slots.get(e).map(|s| s.kind) {
            Some(Kind::Entry { set, .. }) => set,
            _ => 0,
        }
    }

    /// Takes a slot off the free list.
    fn alloc(&mut self, kind: Kind, next: u32) -> Option<usize> {
        let i = slot_index(self.free)?;
        let s = self.slots.get_mut(i)?;
        self.free = s.next;
        s.next = next;
        s.kind = kind;
        Some(i)
    }

    /// Returns a slot to the free list.
    fn release(&mut self, i: usize) {
        let free = self.free;
        if let Some(s) = self.slots.get_mut(i) {
            s.kind = Kind::Free;
            s.next = free;
            self.free = slot_of(i);
        }
    }

    /// The slot of the entry caching `addr`, if any.
    fn find(&self, addr: &Addr) -> Option<usize> {
        let mut cur = self.head(hashkey(addr));
        let mut steps = 0;
        while let Some(i) = slot_index(cur) {
            let s = self.slots.get(i)?;
            if let Kind::Entry { addr: a, .. } = &s.kind {
                if a.eq_as(addr, addr.family) {
                    return Some(i);
                }
            }
            cur = s.next;
            steps += 1;
            if steps > self.cap {
                return None;
            }
        }
        None
    }

    /// Updates entry `e`'s set bookkeeping.
    fn with_entry(&mut self, e: usize, f: impl FnOnce(&mut u32, &mut i32, &mut u64)) {
        if let Some(LblcrSlot {
            kind: Kind::Entry {
                set, size, lastmod, ..
            },
            ..
        }) = self.slots.get_mut(e)
        {
            f(set, size, lastmod);
        }
    }

    /// IPVS's `ip_vs_dest_set_insert`: adds `dests[di]` at the head of the
    /// set (unless `check` finds it there already).
    fn set_insert<D: Dest>(&mut self, e: usize, dests: &[D], di: usize, check: bool, now: u64) {
        let Some(d) = dests.get(di) else { return };
        let key = DestKey::of(d, di);
        let first = self.set_head(e);
        if check {
            let mut cur = first;
            let mut steps = 0;
            while let Some(m) = slot_index(cur) {
                let Some(s) = self.slots.get(m) else { break };
                if matches!(&s.kind, Kind::Member(k) if k.same(&key)) {
                    return;
                }
                cur = s.next;
                steps += 1;
                if steps > self.cap {
                    break;
                }
            }
        }
        let Some(m) = self.alloc(Kind::Member(key), first) else {
            return;
        };
        self.with_entry(e, |set, size, lastmod| {
            *set = slot_of(m);
            *size = size.wrapping_add(1);
            *lastmod = now;
        });
    }

    /// IPVS's `ip_vs_dest_set_erase`: removes the member for `key`.
    fn set_erase(&mut self, e: usize, key: &DestKey, now: u64) {
        let mut prev: Option<usize> = None;
        let mut cur = self.set_head(e);
        let mut steps = 0;
        while let Some(m) = slot_index(cur) {
            let Some(s) = self.slots.get(m) else { return };
            let next = s.next;
            if matches!(&s.kind, Kind::Member(k) if k.same(key)) {
                match prev {
                    None => self.with_entry(e, |set, _, _| *set = next),
                    Some(p) => {
                        if let Some(ps) = self.slots.get_mut(p) {
                            ps.next = next;
                        }
                    }
                }
                self.with_entry(e, |_, size, lastmod| {
                    *size = size.wrapping_sub(1);
                    *lastmod = now;
                });
                self.release(m);
                return;
            }
            prev = Some(m);
            cur = next;
            steps += 1;
            if steps > self.cap {
                return;
            }
        }
    }

    /// IPVS's `ip_vs_dest_set_min`: the set member with the least
    /// `overhead / weight`. The first available, non-overloaded member
    /// with weight > 0 starts; a later one replaces it if strictly less
    /// loaded, not overloaded and available.
    fn set_min<D: Dest>(&mut self, e: usize, dests: &[D]) -> Option<usize> {
        let mut least: Option<(usize, i32, i32)> = None;
        let mut cur = self.set_head(e);
        let mut steps = 0;
        while let Some(m) = slot_index(cur) {
            let s = self.slots.get_mut(m)?;
            cur = s.next;
            steps += 1;
            if steps > self.cap {
                break;
            }
            let Kind::Member(key) = &mut s.kind else {
                continue;
            };
            let Some((i, d)) = member(key, dests) else {
                continue;
            };
            if d.overloaded() {
                continue;
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
        }
        least.map(|(i, _, _)| i)
    }

    /// IPVS's `ip_vs_dest_set_max`: the member with weight > 0 and the
    /// most `overhead / weight` (the earliest on a tie).
    fn set_max<D: Dest>(&mut self, e: usize, dests: &[D]) -> Option<DestKey> {
        let mut most: Option<(DestKey, i32, i32)> = None;
        let mut cur = self.set_head(e);
        let mut steps = 0;
        while let Some(m) = slot_index(cur) {
            let s = self.slots.get_mut(m)?;
            cur = s.next;
            steps += 1;
            if steps > self.cap {
                break;
            }
            let Kind::Member(key) = &mut s.kind else {
                continue;
            };
            let Some((_, d)) = member(key, dests) else {
                continue;
            };
            let w = d.weight();
            if w <= 0 {
                continue;
            }
            let doh = conn_overhead(d);
            match most {
                Some((_, moh, mw))
                    if i64::from(moh) * i64::from(w) >= i64::from(doh) * i64::from(mw) => {}
                _ => most = Some((*key, doh, w)),
            }
        }
        most.map(|(k, _, _)| k)
    }

    /// IPVS's `ip_vs_lblcr_new`: a new entry with set `{dests[di]}`, or
    /// `dests[di]` added to the existing entry's set.
    fn insert<D: Dest>(&mut self, dests: &[D], daddr: &Addr, di: usize, now: u64) {
        if let Some(e) = self.find(daddr) {
            self.set_insert(e, dests, di, true, now);
            return;
        }
        if self.entries >= LBLCR_MAX_ENTRIES {
            return;
        }
        let b = hashkey(daddr);
        let kind = Kind::Entry {
            addr: *daddr,
            lastuse: now,
            set: 0,
            size: 0,
            lastmod: now,
        };
        let Some(e) = self.alloc(kind, self.head(b)) else {
            return;
        };
        // As in IPVS, the entry stays even if its first member cannot be
        // allocated.
        self.set_insert(e, dests, di, false, now);
        self.put_head(b, slot_of(e));
        self.entries += 1;
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
        let Some(e) = self.find(daddr) else {
            let i = wlc::schedule(dests)?;
            if !self.dead {
                self.insert(dests, daddr, i, now);
            }
            return Some(i);
        };
        if let Some(LblcrSlot {
            kind: Kind::Entry { lastuse, .. },
            ..
        }) = self.slots.get_mut(e)
        {
            *lastuse = now;
        }
        let dest = self.set_min(e, dests);

        let (size, lastmod) = match self.slots.get(e).map(|s| s.kind) {
            Some(Kind::Entry { size, lastmod, .. }) => (size, lastmod),
            _ => (0, now),
        };
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
        if !self.dead {
            self.set_insert(e, dests, i, true, now);
        }
        Some(i)
    }

    /// Frees entry `e` (unlinked already) and its set.
    fn free_entry(&mut self, e: usize) {
        let mut cur = self.set_head(e);
        let mut steps = 0;
        while let Some(m) = slot_index(cur) {
            cur = self.slots.get(m).map_or(0, |s| s.next);
            self.release(m);
            steps += 1;
            if steps > self.cap {
                break;
            }
        }
        self.release(e);
        self.entries = self.entries.saturating_sub(1);
    }

    /// Drops idle entries bucket by bucket after the rover, as
    /// [`super::lblc`] does.
    fn collect(&mut self, now: u64, timeout: u64, mut goal: Option<i64>) {
        let mut j = self.rover;
        for _ in 0..LBLCR_TAB_SIZE {
            j = (j + 1) & (LBLCR_TAB_SIZE - 1);
            let mut prev: Option<usize> = None;
            let mut cur = self.head(j);
            let mut steps = 0;
            while let Some(i) = slot_index(cur) {
                let Some(s) = self.slots.get(i) else { break };
                let next = s.next;
                let lastuse = match s.kind {
                    Kind::Entry { lastuse, .. } => lastuse,
                    _ => now,
                };
                if time_before(now, lastuse.wrapping_add(timeout)) {
                    prev = Some(i);
                } else {
                    match prev {
                        None => self.put_head(j, next),
                        Some(p) => {
                            if let Some(ps) = self.slots.get_mut(p) {
                                ps.next = next;
                            }
                        }
                    }
                    self.free_entry(i);
                    if let Some(g) = goal.as_mut() {
                        *g -= 1;
                    }
                }
                cur = next;
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

    /// IPVS's periodic timer body; see [`super::lblc::LblcTable::check_expire`],
    /// which it matches with `expiration` the `lblcr_expiration` sysctl.
    pub fn check_expire(&mut self, now: u64, expiration: u64) {
        if self.counter % COUNT_FOR_FULL_EXPIRATION == 0 {
            self.collect(now, expiration, None);
            self.counter = 1;
            return;
        }
        if self.entries <= LBLCR_MAX_SIZE {
            self.counter = self.counter.wrapping_add(1);
            return;
        }
        let excess = (self.entries - LBLCR_MAX_SIZE) as i64;
        let goal = (excess * 4 / 3).min(LBLCR_MAX_SIZE as i64 / 2);
        self.collect(now, self.entry_timeout, Some(goal));
    }

    /// IPVS's `done_service` flush: drops every entry and caches nothing
    /// more (scheduling still works).
    pub fn flush(&mut self) {
        self.dead = true;
        for b in 0..LBLCR_TAB_SIZE {
            let mut cur = self.head(b);
            self.put_head(b, 0);
            let mut steps = 0;
            while let Some(i) = slot_index(cur) {
                cur = self.slots.get(i).map_or(0, |s| s.next);
                self.free_entry(i);
                steps += 1;
                if steps > self.cap {
                    break;
                }
            }
        }
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
