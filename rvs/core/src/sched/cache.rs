// SPDX-License-Identifier: GPL-2.0

//! The destination-address cache of [`super::lblc`] and [`super::lblcr`]
//! (IPVS's `ip_vs_lblc_table` and `ip_vs_lblcr_table`, which differ only
//! in what an entry holds): hash chains of entries, one per destination
//! address, with IPVS's periodic collection of idle entries.
//!
//! Everything lives in one caller-provided slice of [`Slot`]s: each holds
//! an entry, a member, or nothing, and the first [`TAB_SIZE`] slots also
//! hold the hash-chain heads. An entry carries a scheduler's value `E`
//! and may own a list of members `M` (lblcr's server set), which are freed
//! with it. Running out of slots behaves as an allocation failure does in
//! IPVS: nothing is added.

use core::ops::DerefMut;

use super::hash::hash_32;
use super::{slot_index, slot_of, time_before, Addr, SchedError};

/// `IP_VS_LBLC_TAB_BITS` and `IP_VS_LBLCR_TAB_BITS`.
pub const TAB_BITS: u32 = 10;
/// Hash buckets (`IP_VS_LBLC_TAB_SIZE`, `IP_VS_LBLCR_TAB_SIZE`).
pub const TAB_SIZE: usize = 1 << TAB_BITS;
/// Entries above which the periodic check collects stale ones
/// (`max_size`).
pub const MAX_SIZE: usize = TAB_SIZE * 16;
/// Hard cap on entries (`max_size * 3 / 2`).
pub const MAX_ENTRIES: usize = MAX_SIZE * 3 / 2;
/// How often the caller should run [`LocalityCache::check_expire`], seconds
/// (`CHECK_EXPIRE_INTERVAL`).
pub const CHECK_EXPIRE_INTERVAL_SECS: u64 = 60;
/// Idle time after which an entry may be collected when the cache is
/// over [`MAX_SIZE`], seconds (`ENTRY_TIMEOUT`).
pub const ENTRY_TIMEOUT_SECS: u64 = 6 * 60;
/// Default of the `lblc_expiration` and `lblcr_expiration` sysctls,
/// seconds: idle entries older than this are dropped by the full check
/// every half hour.
pub const DEFAULT_EXPIRATION_SECS: u64 = 24 * 60 * 60;
/// Periodic checks between two full checks (`COUNT_FOR_FULL_EXPIRATION`).
pub const COUNT_FOR_FULL_EXPIRATION: i32 = 30;

/// The default expiration sysctl in jiffies for a kernel with `hz` ticks
/// per second.
pub const fn default_expiration(hz: u32) -> u64 {
    DEFAULT_EXPIRATION_SECS.saturating_mul(hz as u64)
}

/// A cache entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Entry<E> {
    /// The destination address cached.
    pub(super) addr: Addr,
    /// Last use, jiffies.
    pub(super) lastuse: u64,
    /// First member (slot + 1, 0 none); members are linked by `next`.
    members: u32,
    /// What the scheduler caches for the address.
    pub(super) value: E,
}

/// What a slot holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Item<E, M> {
    /// Nothing; `next` links the free list.
    Free,
    /// A cache entry; `next` links its hash chain.
    Entry(Entry<E>),
    /// A member of an entry; `next` links the entry's other members.
    Member(M),
}

/// One cache slot. Fill the slice with [`Slot::EMPTY`]; the cache takes
/// care of the rest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot<E, M> {
    /// Head of hash chain `i` when this is slot `i < TAB_SIZE`.
    head: u32,
    /// Next slot in this slot's list.
    next: u32,
    item: Item<E, M>,
}

impl<E, M> Slot<E, M> {
    /// An unused slot.
    pub const EMPTY: Self = Self {
        head: 0,
        next: 0,
        item: Item::Free,
    };
}

impl<E, M> Default for Slot<E, M> {
    fn default() -> Self {
        Self::EMPTY
    }
}

/// A walk along a list of slots. It reads each slot's successor before
/// yielding the slot, so the slot may be unlinked or freed meanwhile, and
/// stops after as many slots as there are, so a broken list cannot loop.
struct Walk {
    next: u32,
    left: usize,
}

impl Walk {
    fn step<E, M>(&mut self, slots: &[Slot<E, M>]) -> Option<usize> {
        let i = slot_index(self.next)?;
        self.left = self.left.checked_sub(1)?;
        self.next = slots.get(i)?.next;
        Some(i)
    }
}

/// Bucket of a destination address.
fn hashkey(addr: &Addr) -> usize {
    hash_32(addr.fold(), TAB_BITS) as usize
}

/// The cache over caller-provided slots `S` (anything that derefs to
/// `[Slot<E, M>]`: a `KVec`, a boxed slice, `&mut [Slot<E, M>]`): about
/// 48 bytes plus `S` itself. [`super::lblc::LblcTable`] and
/// [`super::lblcr::LblcrTable`] are its two kinds.
pub struct LocalityCache<S, E, M>
where
    S: DerefMut<Target = [Slot<E, M>]>,
{
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
    /// Set by [`LocalityCache::flush`]: nothing new is added.
    dead: bool,
    /// `ENTRY_TIMEOUT` in jiffies.
    entry_timeout: u64,
}

impl<S, E, M> LocalityCache<S, E, M>
where
    S: DerefMut<Target = [Slot<E, M>]>,
    E: Copy,
    M: Copy,
{
    /// A new, empty cache over `slots` (at least [`TAB_SIZE`]; every slot
    /// is reset) for a kernel with `hz` ticks per second.
    pub fn new(mut slots: S, hz: u32) -> Result<Self, SchedError> {
        if slots.len() < TAB_SIZE {
            return Err(SchedError::BufferTooSmall);
        }
        let cap = slots.len().min(u32::MAX as usize - 1);
        for (i, s) in slots.iter_mut().enumerate() {
            *s = Slot::EMPTY;
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

    fn set_next(&mut self, i: usize, v: u32) {
        if let Some(s) = self.slots.get_mut(i) {
            s.next = v;
        }
    }

    fn walk(&self, first: u32) -> Walk {
        Walk {
            next: first,
            left: self.cap,
        }
    }

    /// Takes a slot off the free list for `item`, linked before `next`;
    /// nothing once the cache is flushed.
    fn alloc(&mut self, item: Item<E, M>, next: u32) -> Option<usize> {
        if self.dead {
            return None;
        }
        let i = slot_index(self.free)?;
        let s = self.slots.get_mut(i)?;
        self.free = s.next;
        s.next = next;
        s.item = item;
        Some(i)
    }

    /// Returns a slot to the free list.
    fn release(&mut self, i: usize) {
        let free = self.free;
        if let Some(s) = self.slots.get_mut(i) {
            s.item = Item::Free;
            s.next = free;
            self.free = slot_of(i);
        }
    }

    /// Entry `e`, if that slot holds one.
    pub(super) fn entry(&self, e: usize) -> Option<&Entry<E>> {
        match &self.slots.get(e)?.item {
            Item::Entry(en) => Some(en),
            _ => None,
        }
    }

    /// Entry `e`, if that slot holds one.
    pub(super) fn entry_mut(&mut self, e: usize) -> Option<&mut Entry<E>> {
        match &mut self.slots.get_mut(e)?.item {
            Item::Entry(en) => Some(en),
            _ => None,
        }
    }

    /// The entry caching `addr`, if any.
    pub(super) fn find(&self, addr: &Addr) -> Option<usize> {
        let mut w = self.walk(self.head(hashkey(addr)));
        while let Some(i) = w.step(&self.slots) {
            if self
                .entry(i)
                .is_some_and(|en| en.addr.eq_as(addr, addr.family))
            {
                return Some(i);
            }
        }
        None
    }

    /// As [`LocalityCache::find`], and marks the entry used at `now`.
    pub(super) fn get(&mut self, addr: &Addr, now: u64) -> Option<usize> {
        let e = self.find(addr)?;
        if let Some(en) = self.entry_mut(e) {
            en.lastuse = now;
        }
        Some(e)
    }

    /// A new entry for `addr` (not cached yet) with `value`, at the head
    /// of its chain; none when [`MAX_ENTRIES`] are cached or no slot is
    /// free.
    pub(super) fn insert(&mut self, addr: &Addr, value: E, now: u64) -> Option<usize> {
        if self.entries >= MAX_ENTRIES {
            return None;
        }
        let b = hashkey(addr);
        let entry = Entry {
            addr: *addr,
            lastuse: now,
            members: 0,
            value,
        };
        let e = self.alloc(Item::Entry(entry), self.head(b))?;
        self.set_head(b, slot_of(e));
        self.entries += 1;
        Some(e)
    }

    /// Frees entry `e`, unlinked already, and its members.
    fn free_entry(&mut self, e: usize) {
        let mut w = self.walk(self.entry(e).map_or(0, |en| en.members));
        while let Some(m) = w.step(&self.slots) {
            self.release(m);
        }
        self.release(e);
        self.entries = self.entries.saturating_sub(1);
    }

    /// Unlinks slot `i` from chain `b`, where it follows `prev` (`None`:
    /// it is the head).
    fn unlink(&mut self, b: usize, prev: Option<usize>, i: usize) {
        let next = self.slots.get(i).map_or(0, |s| s.next);
        match prev {
            None => self.set_head(b, next),
            Some(p) => self.set_next(p, next),
        }
    }

    /// Drops entry `e` and its members.
    pub(super) fn remove(&mut self, e: usize) {
        let Some(en) = self.entry(e) else { return };
        let b = hashkey(&en.addr);
        let mut prev = None;
        let mut w = self.walk(self.head(b));
        while let Some(i) = w.step(&self.slots) {
            if i == e {
                self.unlink(b, prev, e);
                self.free_entry(e);
                return;
            }
            prev = Some(i);
        }
    }

    /// The members of entry `e`, most recently added first.
    pub(super) fn members(&self, e: usize) -> impl Iterator<Item = &M> + '_ {
        let mut w = self.walk(self.entry(e).map_or(0, |en| en.members));
        core::iter::from_fn(move || loop {
            let s = self.slots.get(w.step(&self.slots)?)?;
            if let Item::Member(m) = &s.item {
                return Some(m);
            }
        })
    }

    /// Runs `f` on every member of entry `e`, most recently added first.
    pub(super) fn for_each_member_mut(&mut self, e: usize, mut f: impl FnMut(&mut M)) {
        let mut w = self.walk(self.entry(e).map_or(0, |en| en.members));
        while let Some(m) = w.step(&self.slots) {
            if let Some(Slot {
                item: Item::Member(member),
                ..
            }) = self.slots.get_mut(m)
            {
                f(member);
            }
        }
    }

    /// Adds `member` at the head of entry `e`'s members; false when no
    /// slot is free.
    pub(super) fn add_member(&mut self, e: usize, member: M) -> bool {
        let Some(first) = self.entry(e).map(|en| en.members) else {
            return false;
        };
        let Some(m) = self.alloc(Item::Member(member), first) else {
            return false;
        };
        if let Some(en) = self.entry_mut(e) {
            en.members = slot_of(m);
        }
        true
    }

    /// Drops the first member of entry `e` that `is` picks; false when
    /// there is none.
    pub(super) fn remove_member(&mut self, e: usize, is: impl Fn(&M) -> bool) -> bool {
        let mut prev: Option<usize> = None;
        let mut w = self.walk(self.entry(e).map_or(0, |en| en.members));
        while let Some(m) = w.step(&self.slots) {
            if matches!(self.slots.get(m), Some(Slot { item: Item::Member(k), .. }) if is(k)) {
                let next = self.slots.get(m).map_or(0, |s| s.next);
                match prev {
                    None => {
                        if let Some(en) = self.entry_mut(e) {
                            en.members = next;
                        }
                    }
                    Some(p) => self.set_next(p, next),
                }
                self.release(m);
                return true;
            }
            prev = Some(m);
        }
        false
    }

    /// Drops every entry idle for `timeout` or longer in the buckets
    /// after the rover, bucket by bucket; stops after the bucket in which
    /// `goal` drops to 0 or below (never, with `goal` `None`).
    fn collect(&mut self, now: u64, timeout: u64, mut goal: Option<i64>) {
        let mut j = self.rover;
        for _ in 0..TAB_SIZE {
            j = (j + 1) & (TAB_SIZE - 1);
            let mut prev = None;
            let mut w = self.walk(self.head(j));
            while let Some(i) = w.step(&self.slots) {
                let idle = self
                    .entry(i)
                    .is_some_and(|en| !time_before(now, en.lastuse.wrapping_add(timeout)));
                if !idle {
                    prev = Some(i);
                    continue;
                }
                self.unlink(j, prev, i);
                self.free_entry(i);
                if let Some(g) = goal.as_mut() {
                    *g -= 1;
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
    /// idle for `expiration` jiffies (the `lblc_expiration` or
    /// `lblcr_expiration` sysctl, see [`default_expiration`]); otherwise, if the cache holds more than
    /// [`MAX_SIZE`] entries, drops up to 4/3 of the excess (at most half
    /// of the maximum) among entries idle for 6 minutes.
    pub fn check_expire(&mut self, now: u64, expiration: u64) {
        if self.counter % COUNT_FOR_FULL_EXPIRATION == 0 {
            self.collect(now, expiration, None);
            self.counter = 1;
            return;
        }
        if self.entries <= MAX_SIZE {
            self.counter = self.counter.wrapping_add(1);
            return;
        }
        let excess = (self.entries - MAX_SIZE) as i64;
        let goal = (excess * 4 / 3).min(MAX_SIZE as i64 / 2);
        self.collect(now, self.entry_timeout, Some(goal));
    }

    /// IPVS's `done_service` flush: drops every entry and caches nothing
    /// more (scheduling still works).
    pub fn flush(&mut self) {
        self.dead = true;
        for b in 0..TAB_SIZE {
            let mut w = self.walk(self.head(b));
            self.set_head(b, 0);
            while let Some(i) = w.step(&self.slots) {
                self.free_entry(i);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    type TestCache = LocalityCache<Vec<Slot<u32, u16>>, u32, u16>;

    fn cache(n: usize) -> TestCache {
        LocalityCache::new(std::vec![Slot::EMPTY; n], 100).expect("cache")
    }

    fn addr(k: u32) -> Addr {
        Addr::v4(k.wrapping_mul(2_654_435_761).to_be_bytes())
    }

    fn members(c: &TestCache, e: usize) -> Vec<u16> {
        c.members(e).copied().collect()
    }

    /// Slots in use: entries, members, and free ones add up.
    fn free_slots(c: &TestCache) -> usize {
        let mut w = c.walk(c.free);
        let mut n = 0;
        while w.step(&c.slots).is_some() {
            n += 1;
        }
        n
    }

    #[test]
    fn entries_and_members_share_the_slots() {
        let mut c = cache(TAB_SIZE);
        assert!(TestCache::new(std::vec![Slot::EMPTY; 10], 1).is_err());
        let e = c.insert(&addr(1), 7, 5).expect("entry");
        assert_eq!(c.find(&addr(1)), Some(e));
        assert_eq!(c.find(&addr(2)), None);
        assert!(c.add_member(e, 1) && c.add_member(e, 2) && c.add_member(e, 3));
        assert_eq!(members(&c, e), [3, 2, 1]);
        c.for_each_member_mut(e, |m| *m *= 10);
        assert!(c.remove_member(e, |&m| m == 20));
        assert!(!c.remove_member(e, |&m| m == 20));
        assert_eq!(members(&c, e), [30, 10]);
        assert!(c.remove_member(e, |&m| m == 30));
        assert_eq!(members(&c, e), [10]);
        assert_eq!(free_slots(&c), TAB_SIZE - 2);
        assert_eq!(c.get(&addr(1), 9), Some(e));
        assert_eq!(c.entry(e).map(|en| (en.lastuse, en.value)), Some((9, 7)));
        c.remove(e);
        assert_eq!(c.len(), 0);
        assert_eq!(c.find(&addr(1)), None);
        assert_eq!(free_slots(&c), TAB_SIZE);
    }

    #[test]
    fn chains_survive_removal_anywhere() {
        let mut c = cache(4 * TAB_SIZE);
        // Twice as many addresses as buckets, so chains of several
        // entries, and one member each: every slot taken.
        let n = 2 * TAB_SIZE as u32;
        for k in 0..n {
            let e = c.insert(&addr(k), k, 0).expect("entry");
            assert!(c.add_member(e, k as u16));
        }
        assert!(c.insert(&addr(n), n, 0).is_none(), "no free slot");
        for k in (0..n).step_by(3) {
            c.remove(c.find(&addr(k)).expect("cached"));
        }
        for k in 0..n {
            let e = c.find(&addr(k));
            assert_eq!(e.is_some(), k % 3 != 0, "{k}");
            if let Some(e) = e {
                assert_eq!(c.entry(e).map(|en| en.value), Some(k));
                assert_eq!(members(&c, e), [k as u16]);
            }
        }
        c.flush();
        assert_eq!(c.len(), 0);
        assert_eq!(free_slots(&c), 4 * TAB_SIZE);
        assert!(c.insert(&addr(1), 1, 0).is_none(), "flushed");
    }

    #[test]
    fn expiry_frees_members_too() {
        let mut c = cache(TAB_SIZE);
        for k in 0..100 {
            let e = c.insert(&addr(k), k, u64::from(k)).expect("entry");
            assert!(c.add_member(e, 1) && c.add_member(e, 2));
        }
        for _ in 0..COUNT_FOR_FULL_EXPIRATION {
            c.check_expire(150, 100);
        }
        // Idle for 100 or more: entries 0..=50.
        assert_eq!(c.len(), 49);
        assert!(c.find(&addr(50)).is_none() && c.find(&addr(51)).is_some());
        assert_eq!(free_slots(&c), TAB_SIZE - 3 * 49);
    }
}
