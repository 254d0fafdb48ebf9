// SPDX-License-Identifier: GPL-2.0

//! The connection table: an RCU hash of connections keyed by protocol,
//! client address and client port, the part both directions of a
//! connection carry (IPVS's layout), so one lookup serves the client's
//! packets and one serves the real server's replies.
//!
//! Readers (the packet path) take no lock. Inserts and removals take one
//! of 256 striped spinlocks; removed entries are freed after an RCU grace
//! period. Expiry is a sweep every [`SWEEP_INTERVAL_MS`], off the packet
//! path, which also keeps persistence templates alive while connections
//! they control remain.
//!
//! The entries themselves, and what each decides (timers, states, what
//! may be dropped), are `conn.rs`; the `unsafe` of the table (chain
//! writers, deferred frees, the bucket array, the pointer to a
//! connection's template) is here.

use core::sync::atomic::{AtomicBool, AtomicI32, AtomicPtr, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering::*};

use kernel::{bindings, new_spinlock_irq, prelude::*, sync::{Arc, SpinLockIrq}, types::Opaque};

use crate::conn::{flags, secs_to_jiffies, Conn, ConnParams, Target, HZ};
use crate::kernel_services::{jiffies, random_u32};
use crate::rcu::ReadSide;
use crate::rcu_chain::{Chain, Link};
use crate::rvs_core::connhash::Hash;
use crate::rvs_core::defense::{DropEntryCounters, DROP_ENTRY_SHARE};
use crate::dest::Dest;
use crate::net::{NetRef, OwnNet};
use crate::conntrack::Leftover;

/// How often the sweeper runs.
pub(crate) const SWEEP_INTERVAL_MS: u32 = 1000;

/// Lock stripes over the buckets.
const NR_LOCKS: usize = 256;

/// The most buckets one sweep visits; a full pass over a bigger table
/// takes several sweeps (2^(conn_tab_bits - 16) seconds).
pub(crate) const SWEEP_MAX_BUCKETS: usize = 1 << 16;

unsafe extern "C" fn free_conn(head: *mut bindings::callback_head) {
    // SAFETY: `head` is the first field of a `#[repr(C)] Conn` leaked from
    // a `KBox` in `ConnTable::insert`; RCU calls this once, after readers
    // are done.
    drop(unsafe { KBox::from_raw(head.cast::<Conn>()) });
}

/// Which side of its connection a packet comes from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    /// A client's packet, to the virtual address.
    Client,
    /// A real server's reply (NAT), to the client.
    RealServer,
}

/// A packet's addresses and ports as they are on the wire.
pub(crate) struct Tuple<'a> {
    pub(crate) af: u16,
    pub(crate) protocol: u8,
    pub(crate) saddr: &'a [u8; 16],
    pub(crate) sport: u16,
    pub(crate) daddr: &'a [u8; 16],
    pub(crate) dport: u16,
}

/// A bucket of the connection table.
struct Bucket {
    chain: Chain<Conn>,
    /// No later than the earliest expiry time (jiffies) of its entries,
    /// so that the sweep passes over it until then: most buckets of a
    /// large table hold only long-lived entries. An insert and a timer
    /// restarted shorter lower it (`fetch_min`); only the sweep (one per
    /// namespace) raises it: to "none" before it walks the bucket, then
    /// down to what it found, so what changed during the walk has lowered
    /// it after the reset.
    soonest: AtomicU64,
}

impl core::ops::Deref for Bucket {
    type Target = Chain<Conn>;

    fn deref(&self) -> &Chain<Conn> {
        &self.chain
    }
}

impl Bucket {
    /// The bound is now no later than `t`. Release: a sweep that reads
    /// the bound (Acquire) then sees the expiry time that lowered it.
    fn lower(&self, t: u64) {
        self.soonest.fetch_min(t, Release);
    }
}

/// The connection table of one namespace.
pub(crate) struct ConnTable {
    /// The buckets (a leaked `KBox<KVVec<_>>`), allocated by
    /// [`ConnTable::allocate`] when the namespace gets its first service:
    /// most namespaces never do, and at `conn_tab_bits=20` they take
    /// 16 MiB. Null until then; published once, freed by `Drop`.
    buckets: AtomicPtr<KVVec<Bucket>>,
    bits: u32,
    seed: u64,
    locks: Pin<KBox<[SpinLockIrq<()>; NR_LOCKS]>>,
    count: AtomicU32,
    /// Where the next sweep starts (large tables are swept in slices).
    sweep_from: AtomicUsize,
    /// Sweeps left that visit every bucket of their slice, whatever its
    /// bound says: after a real server went away, whose connections
    /// `expire_nodest_conn` removes before their time.
    visit_all: AtomicUsize,
    /// `expire_nodest_conn` was on at the last sweep.
    nodest_was: AtomicBool,
    /// `drop_entry` was in force at the last sweep (its changes are
    /// logged).
    pressure: AtomicBool,
    /// The "table full" warning was printed.
    warned_full: AtomicBool,
    /// `drop_entry`'s counters (IPVS's `dropentry_counters`); only the
    /// sweep uses them.
    drop_counters: [AtomicI32; 8],
    /// The namespace, whose conntrack entries go with connections.
    net: OwnNet,
}

/// The most conntrack entries one locked pass over a bucket leaves to
/// drop after it; a bucket with more is passed over again.
const LEFTOVER_BATCH: usize = 8;

/// Conntrack entries of removed connections, dropped once the bucket
/// lock is released.
struct Leftovers {
    items: [Leftover; LEFTOVER_BATCH],
    n: usize,
}

impl Leftovers {
    fn new() -> Self {
        Self { items: [Leftover::NONE; LEFTOVER_BATCH], n: 0 }
    }

    fn is_full(&self) -> bool {
        self.n >= LEFTOVER_BATCH
    }

    fn push(&mut self, l: Option<Leftover>) {
        if let (Some(l), Some(slot)) = (l, self.items.get_mut(self.n)) {
            *slot = l;
            self.n += 1;
        }
    }

    fn drop_in(&self, net: NetRef<'_>) {
        for l in self.items.iter().take(self.n) {
            l.drop_in(net);
        }
    }
}

impl ConnTable {
    pub(crate) fn new(bits: u32, seed: u64, net: OwnNet) -> Result<Self> {
        let locks = KBox::pin_init(
            pin_init::pin_init_array_from_fn(|_| new_spinlock_irq!((), "rvs_conn_bucket")),
            GFP_KERNEL,
        )?;
        Ok(Self {
            buckets: AtomicPtr::new(core::ptr::null_mut()),
            bits,
            seed,
            locks,
            count: AtomicU32::new(0),
            sweep_from: AtomicUsize::new(0),
            visit_all: AtomicUsize::new(0),
            nodest_was: AtomicBool::new(false),
            pressure: AtomicBool::new(false),
            warned_full: AtomicBool::new(false),
            drop_counters: Default::default(),
            net,
        })
    }

    /// Allocates the bucket heads if they are not yet (process context;
    /// the control plane calls this before adding a service, and nothing
    /// inserts entries but the scheduling of a service's traffic).
    pub(crate) fn allocate(&self) -> Result {
        if !self.buckets.load(Acquire).is_null() {
            return Ok(());
        }
        let n = 1usize << self.bits;
        let mut heads = KVVec::with_capacity(n, GFP_KERNEL)?;
        for _ in 0..n {
            heads.push(Bucket { chain: Chain::new(), soonest: AtomicU64::new(0) }, GFP_KERNEL)?;
        }
        let raw = KBox::into_raw(KBox::new(heads, GFP_KERNEL)?);
        let published =
            self.buckets
                .compare_exchange(core::ptr::null_mut(), raw, AcqRel, Acquire);
        if published.is_err() {
            // SAFETY: `raw` lost the race and was never published.
            drop(unsafe { KBox::from_raw(raw) });
        }
        Ok(())
    }

    /// The buckets; empty before [`ConnTable::allocate`].
    fn heads(&self) -> &[Bucket] {
        let p = self.buckets.load(Acquire);
        if p.is_null() {
            return &[];
        }
        // SAFETY: Published once by `allocate` and freed only by `Drop`,
        // which `&self` excludes.
        unsafe { &*p }
    }

    /// The namespace of the table.
    pub(crate) fn net(&self) -> NetRef<'_> {
        self.net.get()
    }

    /// Number of entries, templates included.
    pub(crate) fn len(&self) -> u32 {
        self.count.load(Relaxed)
    }

    fn hash(&self, protocol: u8, caddr: &[u8; 16], cport: u16) -> Hash {
        Hash::of(self.seed, protocol, caddr, cport)
    }

    fn lock_of(&self, b: usize) -> &SpinLockIrq<()> {
        &self.locks[b % NR_LOCKS]
    }

    /// The first live entry of hash `h` that `pred` accepts.
    fn find<'r>(
        &'r self,
        rcu: &'r ReadSide,
        h: Hash,
        mut pred: impl FnMut(&Conn) -> bool,
    ) -> Option<&'r Conn> {
        let tag = h.tag();
        self.heads()
            .get(h.bucket(self.bits))?
            .iter(rcu)
            .find(|c| c.tag == tag && !c.dead.load(Relaxed) && pred(c))
    }

    /// The connection a packet belongs to, found by its addresses and
    /// ports as they are on the wire, coming `from` one side.
    pub(crate) fn get<'r>(&'r self, rcu: &'r ReadSide, from: Side, t: &Tuple<'_>) -> Option<&'r Conn> {
        // Entries hang in the bucket of their client's address and port.
        let (caddr, cport) = match from {
            Side::Client => (t.saddr, t.sport),
            Side::RealServer => (t.daddr, t.dport),
        };
        let h = self.hash(t.protocol, caddr, cport);
        self.find(rcu, h, |c| {
            c.flags.load(Relaxed) & flags::TEMPLATE == 0
                && c.protocol == t.protocol
                && c.cport == cport
                && c.caddr == *caddr
                && match from {
                    Side::Client => c.af == t.af && c.vport == t.dport && c.vaddr == *t.daddr,
                    Side::RealServer => c.daf == t.af && c.dport == t.sport && c.daddr == *t.saddr,
                }
        })
    }

    /// The persistence template of a client (address already masked) for
    /// a service (`vaddr`/`vport`, or the firewall mark).
    pub(crate) fn template_get<'r>(&'r self, rcu: &'r ReadSide, p: &ConnParams) -> Option<&'r Conn> {
        let h = self.hash(p.protocol, &p.caddr, 0);
        self.find(rcu, h, |c| {
            c.flags.load(Relaxed) & flags::TEMPLATE != 0
                && !c.invalid.load(Relaxed)
                && c.af == p.af
                && c.protocol == p.protocol
                && c.caddr == p.caddr
                && c.vport == p.vport
                && c.vaddr == p.vaddr
                && c.fwmark == p.fwmark
        })
    }

    /// Whether there is room for one more entry in bucket `b`: below
    /// `max_conns`, or (with `drop_entry`) after dropping a stale
    /// half-open entry of that bucket. Concurrent inserts may each pass,
    /// so the table can exceed the cap by at most one entry per CPU.
    fn make_room(&self, b: usize, now: u64) -> bool {
        let max = crate::max_conns();
        if self.count.load(Relaxed) < max {
            return true;
        }
        // rvs caps its table (IPVS does not): a stale half-open entry in
        // the bucket gives way to the new connection.
        let Some(head) = self.heads().get(b) else {
            return false;
        };
        let leftover = {
            let _g = self.lock_of(b).lock();
            // SAFETY: We hold the bucket's lock.
            let stale = unsafe { head.iter_locked() }.find(|c| c.droppable(now));
            stale.map(|c| self.unlink_locked(b, c))
        };
        if let Some(l) = leftover {
            if let Some(l) = l {
                l.drop_in(self.net.get());
            }
            return true;
        }
        if !self.warned_full.swap(true, Relaxed) {
            pr_warn!("connection table full ({} entries): dropping new connections\n", max);
        }
        false
    }

    /// Adds an entry bound to `dest` (which gets counted), controlled by
    /// `control` if given. Atomic allocation: the packet path calls this.
    /// `None` when the table is full (`max_conns`) or memory is short.
    pub(crate) fn insert<'r>(
        &'r self,
        rcu: &'r ReadSide,
        p: &ConnParams,
        dest: &Arc<Dest>,
        fwd_flags: u32,
        timeout_secs: u32,
        control: Option<&Conn>,
    ) -> Option<&'r Conn> {
        let dport = if dest.key.port == 0 { p.vport } else { dest.key.port };
        self.insert_to(rcu, p, Target::Dest(dest), dport, fwd_flags, timeout_secs, control)
    }

    /// As [`ConnTable::insert`], to any [`Target`], with the real server's
    /// port given.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn insert_to<'r>(
        &'r self,
        _rcu: &'r ReadSide,
        p: &ConnParams,
        target: Target<'_>,
        dport: u16,
        fwd_flags: u32,
        timeout_secs: u32,
        control: Option<&Conn>,
    ) -> Option<&'r Conn> {
        let (daf, daddr, dest) = match target {
            Target::Dest(d) => (d.key.af, d.key.addr, Some(d)),
            Target::Unbound { af, addr } => (af, addr, None),
        };
        let now = jiffies();
        let is_template = fwd_flags & flags::TEMPLATE != 0;
        let hash = self.hash(p.protocol, &p.caddr, if is_template { 0 } else { p.cport });
        let bucket = hash.bucket(self.bits);
        let head = self.heads().get(bucket)?;
        if !self.make_room(bucket, now) {
            return None;
        }
        let timeout = secs_to_jiffies(timeout_secs);
        let c = Conn {
            rcu: Opaque::zeroed(),
            next: Link::new(),
            tag: hash.tag(),
            af: p.af,
            protocol: p.protocol,
            state: AtomicU8::new(0),
            flags: AtomicU32::new(fwd_flags | flags::INACTIVE),
            caddr: p.caddr,
            vaddr: p.vaddr,
            daddr,
            cport: p.cport,
            vport: p.vport,
            dport,
            daf,
            fwmark: p.fwmark,
            timeout: AtomicU64::new(timeout),
            expires: AtomicU64::new(now.wrapping_add(timeout)),
            dest: dest.cloned(),
            control: AtomicPtr::new(core::ptr::null_mut()),
            n_control: AtomicU32::new(0),
            dead: AtomicBool::new(false),
            invalid: AtomicBool::new(false),
            in_pkts: AtomicU32::new(0),
            old_state: AtomicU8::new(0),
            bucket: bucket as u32,
            sync_endtime: AtomicU64::new(now),
            last_sync: AtomicU64::new(0),
            born: now,
        };
        let b = KBox::new(c, GFP_ATOMIC).ok()?;
        if let Some(t) = control {
            // Counting first, then checking that the sweeper is not taking
            // the template away (it marks it dead, then checks the count):
            // one of the two sees the other, so a template is never freed
            // while a connection points at it.
            t.n_control.fetch_add(1, SeqCst);
            if t.dead.load(SeqCst) {
                t.n_control.fetch_sub(1, SeqCst);
            } else {
                b.control.store(core::ptr::from_ref(t).cast_mut(), Release);
            }
        }
        // IPVS counts a new entry inactive (templates as persistent).
        if let Some(dest) = dest {
            if is_template {
                dest.persist_conns.fetch_add(1, Relaxed);
            } else {
                dest.inact_conns.fetch_add(1, Relaxed);
                dest.update_overload();
            }
        }
        let raw = KBox::into_raw(b);
        {
            let _g = self.lock_of(bucket).lock();
            // SAFETY: We hold the bucket's lock; `raw` is a fresh entry,
            // freed only by `free_conn` a grace period after its unlink.
            unsafe { head.push(raw) };
            head.lower(now.wrapping_add(timeout));
        }
        self.count.fetch_add(1, Relaxed);
        // SAFETY: Entries are freed a grace period after they are
        // unlinked, and `_rcu` proves a read-side section lasting `'r`.
        Some(unsafe { &*raw })
    }

    /// Restarts `c`'s idle timer with its state's current timeout.
    pub(crate) fn touch(&self, c: &Conn, now: u64) {
        if let Some(t) = c.restart_timer(now) {
            if let Some(b) = self.heads().get(c.bucket as usize) {
                b.lower(t);
            }
        }
    }

    /// The sweeps to come visit every bucket once (a real server went
    /// away: `expire_nodest_conn` removes its connections early).
    pub(crate) fn revisit(&self) {
        let n = self.heads().len();
        self.visit_all.store(n.div_ceil(SWEEP_MAX_BUCKETS), Relaxed);
    }

    /// Moves the destination's counters when a connection turns active or
    /// inactive.
    pub(crate) fn set_active(c: &Conn, active: bool) {
        let Some(d) = &c.dest else { return };
        if active {
            if c.flags.fetch_and(!flags::INACTIVE, Relaxed) & flags::INACTIVE != 0 {
                d.inact_conns.fetch_sub(1, Relaxed);
                d.active_conns.fetch_add(1, Relaxed);
            }
        } else if c.flags.fetch_or(flags::INACTIVE, Relaxed) & flags::INACTIVE == 0 {
            d.active_conns.fetch_sub(1, Relaxed);
            d.inact_conns.fetch_add(1, Relaxed);
        }
    }

    /// The template controlling connection `c`. It stays allocated while
    /// it counts `c`, which outlives the borrow.
    pub(crate) fn control(c: &Conn) -> Option<&Conn> {
        let t = c.control.load(Acquire);
        // SAFETY: A template is freed only once its `n_control` is 0, and
        // it counts this connection until `release` swaps the link out.
        (!t.is_null()).then(|| unsafe { &*t })
    }

    /// Unlinks `c` from bucket `b` (lock held by the caller), marks it
    /// dead, releases what it counts, and frees it after a grace period.
    /// Returns the conntrack entry it leaves, for the caller to drop once
    /// the lock is released.
    #[must_use]
    fn unlink_locked(&self, b: usize, c: &Conn) -> Option<Leftover> {
        let head = self.heads().get(b)?;
        // SAFETY: The caller holds the bucket's lock.
        if !unsafe { head.unlink(c) } {
            return None;
        }
        c.dead.store(true, Relaxed);
        let leftover = c.leftover();
        self.release(c);
        // SAFETY: `c` is unlinked: no new reader can find it, and
        // `free_conn` reclaims the box after current readers.
        unsafe { bindings::call_rcu(c.rcu.get(), Some(free_conn)) };
        self.count.fetch_sub(1, Relaxed);
        leftover
    }

    /// Undoes what an entry counts: destination counters and the control
    /// link to its template.
    fn release(&self, c: &Conn) {
        if let Some(d) = &c.dest {
            let f = c.flags.load(Relaxed);
            if f & flags::TEMPLATE != 0 {
                d.persist_conns.fetch_sub(1, Relaxed);
            } else if f & flags::INACTIVE != 0 {
                d.inact_conns.fetch_sub(1, Relaxed);
            } else {
                d.active_conns.fetch_sub(1, Relaxed);
            }
            d.update_overload();
        }
        let t = c.control.swap(core::ptr::null_mut(), AcqRel);
        if !t.is_null() {
            // SAFETY: The template is alive while it counts us.
            unsafe { (*t).n_control.fetch_sub(1, SeqCst) };
        }
    }

    /// Removes `c` now (one-packet scheduling, a reused port, a connection
    /// whose server is gone). A template is only retired: lookups skip it
    /// and the sweeper frees it once it controls nothing.
    pub(crate) fn expire_now(&self, c: &Conn) {
        if c.is_template() {
            c.invalid.store(true, Relaxed);
            c.expires.store(0, Relaxed);
            if let Some(b) = self.heads().get(c.bucket as usize) {
                b.lower(0);
            }
            return;
        }
        let b = c.bucket as usize;
        let leftover = {
            let _g = self.lock_of(b).lock();
            if c.dead.load(Relaxed) { None } else { self.unlink_locked(b, c) }
        };
        if let Some(l) = leftover {
            l.drop_in(self.net.get());
        }
    }

    /// Frees a template that controls no connection (bucket lock held);
    /// false if one still needs it.
    fn try_unlink_template(&self, b: usize, c: &Conn) -> bool {
        c.dead.store(true, SeqCst);
        if c.n_control.load(SeqCst) != 0 {
            c.dead.store(false, SeqCst);
            return false;
        }
        // A template owns no conntrack entry.
        let _ = self.unlink_locked(b, c);
        true
    }

    /// The table is 7/8 full (rvs's own rule: counts as memory running
    /// short for the defence).
    pub(crate) fn nearly_full(&self) -> bool {
        let max = crate::max_conns();
        self.count.load(Relaxed) >= max - max / 8
    }

    /// One sweep: every entry past its expiry goes; a template that still
    /// controls connections is given another period, as in IPVS. With
    /// `nodest`, connections whose real server was deleted go too
    /// (`expire_nodest_conn`).
    ///
    /// `defense`: `drop_entry` is in force (memory short, or the table
    /// nearly full): in a 32nd of the table, from a random bucket, what
    /// IPVS's `ip_vs_random_dropentry` drops goes too
    /// (`rvs_core::defense::entry_fate`).
    ///
    /// An empty table costs nothing. A table of more than
    /// [`SWEEP_MAX_BUCKETS`] buckets is swept a slice per call, so one
    /// pass takes `buckets / SWEEP_MAX_BUCKETS` calls (seconds): reading a
    /// million bucket heads every second cost more than the traffic.
    pub(crate) fn sweep(&self, now: u64, nodest: bool, defense: bool) {
        if defense != self.pressure.swap(defense, Relaxed) {
            if defense {
                pr_info!("drop_entry in force ({} entries): dropping half-open and stale connections\n", self.count.load(Relaxed));
            } else {
                pr_info!("drop_entry no longer in force ({} entries)\n", self.count.load(Relaxed));
                self.warned_full.store(false, Relaxed);
            }
        }
        if nodest && !self.nodest_was.load(Relaxed) {
            self.revisit();
        }
        self.nodest_was.store(nodest, Relaxed);
        if self.count.load(Relaxed) == 0 {
            return;
        }
        let visit_all = self
            .visit_all
            .fetch_update(Relaxed, Relaxed, |v| v.checked_sub(1))
            .is_ok();
        let heads = self.heads();
        // A non-zero divisor: no division can panic.
        let Some(nz) = core::num::NonZeroUsize::new(heads.len()) else {
            return;
        };
        let n = nz.get();
        let slice = n.min(SWEEP_MAX_BUCKETS);
        let start = self.sweep_from.load(Relaxed) % nz;
        self.sweep_from.store(start.wrapping_add(slice) % nz, Relaxed);
        // drop_entry's window: a 32nd of the table, from a random bucket.
        let window = if defense { (n / DROP_ENTRY_SHARE).max(1) } else { 0 };
        let window_from = if defense { random_u32() as usize % nz } else { 0 };
        let mut counters = DropEntryCounters(core::array::from_fn(|i| {
            self.drop_counters.get(i).map_or(0, |c| c.load(Relaxed))
        }));
        let hz = u64::from(HZ);
        // How far bucket `b` lies after bucket `from`, going round.
        let after = |b: usize, from: usize| b.wrapping_add(n).wrapping_sub(from) % nz;
        let in_window = |b: usize| after(b, window_from) < window;
        let buckets = Iterator::chain(
            (0..slice).map(|i| start.wrapping_add(i) % nz),
            (0..window).map(|i| window_from.wrapping_add(i) % nz),
        );
        for (k, b) in buckets.enumerate() {
            // The window's buckets: only those the regular slice missed.
            if k >= slice && after(b, start) < slice {
                continue;
            }
            let Some(head) = heads.get(b) else {
                continue;
            };
            if head.is_empty() {
                continue;
            }
            let drops = window != 0 && in_window(b);
            if now < head.soonest.load(Acquire) && !drops && !visit_all {
                continue;
            }
            // Acquire: the walk sees the expiry times that lowered the
            // bound before this; those that lower it after find it reset.
            head.soonest.swap(u64::MAX, AcqRel);
            // Conntrack entries are dropped between passes, unlocked; a
            // pass resumes after the entries the ones before it kept (new
            // entries go in at the head, need no look, and lowered the
            // bound themselves).
            let mut kept = 0;
            let mut soonest = u64::MAX;
            let mut passes = 0u32;
            loop {
                passes = passes.saturating_add(1);
                let mut leftovers = Leftovers::new();
                {
                    let _g = self.lock_of(b).lock();
                    // SAFETY: We hold the bucket's lock.
                    for c in unsafe { head.iter_locked() }.skip(kept) {
                        if leftovers.is_full() {
                            break;
                        }
                        let gone = c
                            .dest
                            .as_ref()
                            .is_some_and(|d| !d.available.load(Relaxed));
                        let expired = (nodest && gone) || now >= c.expires.load(Relaxed);
                        if expired || (drops && c.defense_drops(now, hz, &mut counters)) {
                            if !c.is_template() {
                                leftovers.push(self.unlink_locked(b, c));
                                continue;
                            } else if self.try_unlink_template(b, c) {
                                continue;
                            } else if !c.invalid.load(Relaxed) && !gone {
                                // Still controls connections: another period.
                                let _ = c.restart_timer(now);
                            }
                        }
                        soonest = soonest.min(c.expires.load(Relaxed));
                        kept += 1;
                    }
                }
                leftovers.drop_in(self.net.get());
                if !leftovers.is_full() {
                    break;
                }
            }
            // Entries unlinked by others between passes shift positions,
            // so a later pass may have skipped some: look again next time.
            if passes > 1 {
                soonest = now;
            }
            head.lower(soonest);
        }
        for (c, v) in self.drop_counters.iter().zip(counters.0) {
            c.store(v, Relaxed);
        }
    }

    /// Drops every entry (namespace going away).
    pub(crate) fn flush(&self) {
        // Connections first, so templates are no longer controlled.
        for pass in 0..2 {
            for (b, head) in self.heads().iter().enumerate() {
                let _g = self.lock_of(b).lock();
                // SAFETY: We hold the bucket's lock.
                for c in unsafe { head.iter_locked() } {
                    if !c.is_template() {
                        // Conntrack goes with the namespace: its entries
                        // are not touched while it is torn down.
                        let _ = self.unlink_locked(b, c);
                    } else if pass == 1 {
                        let _ = self.try_unlink_template(b, c);
                    }
                }
            }
        }
    }

    /// Number of hash buckets (`conn_tab_bits`), allocated yet or not.
    pub(crate) fn nr_buckets(&self) -> usize {
        1usize << self.bits
    }

    /// Calls `f` for each live entry of bucket `b` (none if out of range).
    pub(crate) fn for_each_in_bucket(&self, rcu: &ReadSide, b: usize, mut f: impl FnMut(&Conn)) {
        let Some(head) = self.heads().get(b) else {
            return;
        };
        head.iter(rcu).filter(|c| !c.dead.load(Relaxed)).for_each(|c| f(c));
    }

    /// Calls `f` for each live entry from position `from` (a bucket, and
    /// an index of entries within it) on, in table order, until `f`
    /// returns false. Returns the position of the entry `f` refused (where
    /// to resume), or `None` when the walk reached the end. Resuming by
    /// bucket keeps a long dump linear in the table's size.
    pub(crate) fn for_each_from(
        &self,
        rcu: &ReadSide,
        from: (usize, u64),
        mut f: impl FnMut(&Conn) -> bool,
    ) -> Option<(usize, u64)> {
        let (first, mut skip) = from;
        for (b, head) in self.heads().iter().enumerate().skip(first) {
            for (pos, c) in (0u64..).zip(head.iter(rcu)) {
                if pos >= skip && !c.dead.load(Relaxed) && !f(c) {
                    return Some((b, pos));
                }
            }
            skip = 0;
        }
        None
    }
}

impl Drop for ConnTable {
    fn drop(&mut self) {
        self.flush();
        let p = *self.buckets.get_mut();
        if !p.is_null() {
            // SAFETY: Leaked by `allocate`; `&mut self` means no reader is
            // left, and the entries were unlinked by `flush` above.
            drop(unsafe { KBox::from_raw(p) });
        }
    }
}
