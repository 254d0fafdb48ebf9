// SPDX-License-Identifier: GPL-2.0

//! The decision logic of IPVS's schedulers, without the kernel.
//!
//! Each scheduler lives in its own module and has the semantics of the
//! `net/netfilter/ipvs/ip_vs_<name>.c` scheduler of the same name: the
//! same server is picked for the same inputs, with the same tie-breaking,
//! iteration order and integer arithmetic (IPVS computes in C `int`, which
//! the kernel compiles with wrapping overflow; we use wrapping operations
//! where IPVS can overflow, so results stay bit-identical).
//!
//! # How schedulers see real servers
//!
//! A service's real servers are passed as a slice of any type implementing
//! [`Dest`] (e.g. [`DestInfo`], or the kernel's own dest type). **The slice
//! order must be IPVS's list order**: IPVS adds a new dest at the *head* of
//! `svc->destinations`, so the newest dest is element 0. Ties and
//! round-robin order depend on it. A dest that was deleted (IPVS moves it to
//! the "trash") is simply absent from the slice.
//!
//! Selecting returns `Some(index)` into that slice, or `None` when IPVS's
//! scheduler would return NULL ("no destination available").
//!
//! # State and memory
//!
//! Nothing here allocates. Stateless schedulers ([`lc`], [`wlc`], [`sed`],
//! [`nq`], [`fo`], [`ovf`], [`twos`]) are plain functions. The others keep
//! their state in structs the caller owns:
//!
//! | scheduler | state | size |
//! |---|---|---|
//! | rr | [`rr::RrState`] | 4 bytes |
//! | wrr | [`wrr::WrrState`] | 16 bytes |
//! | sh | [`sh::ShState`] | 1 KiB (256 x u32) |
//! | dh | [`dh::DhState`] | 1 KiB (256 x u32) |
//! | mh | [`mh::MhState<N>`] + scratch `[mh::MhDestSetup]` during `update` | 4 * N bytes (N = 4093 by default: 16 KiB), scratch 16 bytes per dest |
//! | lblc | [`lblc::LblcTable`] over a caller slice of [`lblc::LblcSlot`] (64 bytes each) | at least 1024 slots; 24576 (1.5 MiB) for IPVS's full capacity |
//! | lblcr | [`lblcr::LblcrTable`] over a caller slice of [`lblcr::LblcrSlot`] (56 bytes each) | at least 1024 slots: one per cache entry plus one per set member |
//!
//! The table states of sh, dh, mh and rr are valid when all-zero, so the
//! kernel can allocate them zeroed in place instead of building them on its
//! small stack.
//!
//! State that depends on the set of servers is kept in sync by explicit
//! calls mirroring IPVS's `add_dest` / `del_dest` / `upd_dest` hooks, which
//! the caller must make whenever the slice changes:
//!
//! - wrr, sh, mh: `update(&dests)` after any add, delete or edit;
//! - dh: `update(&dests)` after an add or delete (edits do not matter);
//! - rr: `add_dest(index)` / `del_dest(index)`, as its cursor is an index;
//! - lblc, lblcr: nothing; their cache entries find servers by address and
//!   port, so a deleted server simply stops being found.

#![warn(missing_docs)]

pub mod cache;
pub mod dh;
pub mod fo;
pub mod hash;
pub mod lblc;
pub mod lblcr;
pub mod lc;
pub mod mh;
pub mod nq;
pub mod ovf;
pub mod rr;
pub mod sed;
pub mod sh;
pub mod twos;
pub mod wlc;
pub mod wrr;

use super::abi::svc_flags;

/// An address family, as IPVS's `af`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Family {
    /// IPv4 (`AF_INET`).
    #[default]
    Inet,
    /// IPv6 (`AF_INET6`).
    Inet6,
}

impl Family {
    /// Linux's `AF_INET`.
    pub const AF_INET: u16 = 2;
    /// Linux's `AF_INET6`.
    pub const AF_INET6: u16 = 10;

    /// Maps a Linux `AF_*` number, `None` for any other family.
    pub const fn from_af(af: u16) -> Option<Self> {
        match af {
            Self::AF_INET => Some(Self::Inet),
            Self::AF_INET6 => Some(Self::Inet6),
            _ => None,
        }
    }

    /// The Linux `AF_*` number.
    pub const fn af(self) -> u16 {
        match self {
            Self::Inet => Self::AF_INET,
            Self::Inet6 => Self::AF_INET6,
        }
    }
}

/// An IP address laid out like the kernel's `union nf_inet_addr`: network
/// byte order, IPv4 in the first 4 bytes and the other 12 bytes zero.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Addr {
    /// Which of the two families `bytes` holds.
    pub family: Family,
    /// The address in network byte order.
    pub bytes: [u8; 16],
}

impl Addr {
    /// An IPv4 address from its 4 bytes in network order.
    pub const fn v4(a: [u8; 4]) -> Self {
        let mut bytes = [0u8; 16];
        bytes[0] = a[0];
        bytes[1] = a[1];
        bytes[2] = a[2];
        bytes[3] = a[3];
        Self {
            family: Family::Inet,
            bytes,
        }
    }

    /// An IPv6 address from its 16 bytes in network order.
    pub const fn v6(bytes: [u8; 16]) -> Self {
        Self {
            family: Family::Inet6,
            bytes,
        }
    }

    /// The 32-bit word `i` (0..4) of the address, in host order.
    const fn word(&self, i: usize) -> u32 {
        let b = &self.bytes;
        let o = (i & 3) * 4;
        u32::from_be_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]])
    }

    /// The address folded to 32 bits in host order, as IPVS's hashing
    /// schedulers do for a service of family `svc`: IPv4 takes the first
    /// word, IPv6 XORs all four. IPVS folds by the *service's* family even
    /// for a dest of the other family, hence the parameter.
    pub const fn fold_as(&self, svc: Family) -> u32 {
        match svc {
            Family::Inet => self.word(0),
            Family::Inet6 => self.word(0) ^ self.word(1) ^ self.word(2) ^ self.word(3),
        }
    }

    /// [`Addr::fold_as`] with the address's own family (for packet
    /// addresses, whose family is the service's).
    pub const fn fold(&self) -> u32 {
        self.fold_as(self.family)
    }

    /// IPVS's `ip_vs_addr_equal(af, ...)`: compares 4 or 16 bytes.
    pub fn eq_as(&self, other: &Addr, af: Family) -> bool {
        match af {
            Family::Inet => self.bytes.get(..4) == other.bytes.get(..4),
            Family::Inet6 => self.bytes == other.bytes,
        }
    }
}

/// What a scheduler needs to know about one real server (IPVS's
/// `struct ip_vs_dest`).
///
/// Counters are read as IPVS reads its `atomic_t`s: as C `int`, so values
/// above `i32::MAX` wrap to negative exactly as they would in the kernel.
pub trait Dest {
    /// Current weight (`dest->weight`). IPVS only accepts `0..=i32::MAX`;
    /// 0 quiesces the server.
    fn weight(&self) -> i32;
    /// The latest non-zero weight (`dest->last_weight`): set on add, and on
    /// every edit with a non-zero weight. Only mh uses it, so a quiesced
    /// server keeps its lookup-table slots.
    fn last_weight(&self) -> i32;
    /// Active connections (`dest->activeconns`).
    fn active_conns(&self) -> u32;
    /// All non-template connections, active plus inactive
    /// (`dest->totalconns`).
    fn total_conns(&self) -> u32;
    /// `IP_VS_DEST_F_OVERLOAD`: the upper connection threshold was reached.
    fn overloaded(&self) -> bool;
    /// `IP_VS_DEST_CF_AVAILABLE`: the dest is not being deleted. Only dh,
    /// lblc and lblcr check it, as IPVS does.
    fn available(&self) -> bool;
    /// The server's address; its family may differ from the service's.
    fn addr(&self) -> Addr;
    /// The server's port, host byte order.
    fn port(&self) -> u16;
}

impl<T: Dest + ?Sized> Dest for &T {
    fn weight(&self) -> i32 {
        (**self).weight()
    }
    fn last_weight(&self) -> i32 {
        (**self).last_weight()
    }
    fn active_conns(&self) -> u32 {
        (**self).active_conns()
    }
    fn total_conns(&self) -> u32 {
        (**self).total_conns()
    }
    fn overloaded(&self) -> bool {
        (**self).overloaded()
    }
    fn available(&self) -> bool {
        (**self).available()
    }
    fn addr(&self) -> Addr {
        (**self).addr()
    }
    fn port(&self) -> u16 {
        (**self).port()
    }
}

/// A plain snapshot of one real server, implementing [`Dest`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DestInfo {
    /// Server address.
    pub addr: Addr,
    /// Server port, host byte order.
    pub port: u16,
    /// See [`Dest::weight`].
    pub weight: i32,
    /// See [`Dest::last_weight`].
    pub last_weight: i32,
    /// See [`Dest::active_conns`].
    pub active_conns: u32,
    /// See [`Dest::total_conns`].
    pub total_conns: u32,
    /// See [`Dest::overloaded`].
    pub overloaded: bool,
    /// See [`Dest::available`].
    pub available: bool,
}

impl DestInfo {
    /// A fresh, available server with no connections, as after IPVS's
    /// `add_dest` (which also sets `last_weight` to the weight).
    pub const fn new(addr: Addr, port: u16, weight: i32) -> Self {
        Self {
            addr,
            port,
            weight,
            last_weight: weight,
            active_conns: 0,
            total_conns: 0,
            overloaded: false,
            available: true,
        }
    }

    /// Inactive connections as IPVS reports them:
    /// `max(totalconns - activeconns, 0)`.
    pub const fn inact_conns(&self) -> u32 {
        self.total_conns.saturating_sub(self.active_conns)
    }
}

impl Dest for DestInfo {
    fn weight(&self) -> i32 {
        self.weight
    }
    fn last_weight(&self) -> i32 {
        self.last_weight
    }
    fn active_conns(&self) -> u32 {
        self.active_conns
    }
    fn total_conns(&self) -> u32 {
        self.total_conns
    }
    fn overloaded(&self) -> bool {
        self.overloaded
    }
    fn available(&self) -> bool {
        self.available
    }
    fn addr(&self) -> Addr {
        self.addr
    }
    fn port(&self) -> u16 {
        self.port
    }
}

/// IPVS's `ip_vs_dest_conn_overhead`: `(activeconns << 8) + totalconns`,
/// in wrapping `int` arithmetic as the kernel computes it.
pub fn conn_overhead<D: Dest + ?Sized>(d: &D) -> i32 {
    (d.active_conns() as i32)
        .wrapping_shl(8)
        .wrapping_add(d.total_conns() as i32)
}

/// The scheduler flags of a service that sh and mh read
/// (`IP_VS_SVC_F_SCHED_{SH,MH}_{FALLBACK,PORT}`; both use the same bits).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HashFlags {
    /// `sh-fallback` / `mh-fallback`: if the hashed server is unavailable,
    /// walk the table for another one instead of failing.
    pub fallback: bool,
    /// `sh-port` / `mh-port`: hash the source port too.
    pub port: bool,
}

impl HashFlags {
    /// Extracts the flags from a service's `flags` word.
    pub const fn from_svc_flags(flags: u32) -> Self {
        Self {
            fallback: flags & svc_flags::SH_FALLBACK != 0,
            port: flags & svc_flags::SH_PORT != 0,
        }
    }
}

/// Why a table could not be rebuilt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SchedError {
    /// More servers than the table has slots (mh; IPVS's `-EINVAL`).
    TooManyDests,
    /// A caller-provided buffer is shorter than required.
    BufferTooSmall,
    /// The table size is not one IPVS supports (mh: not one of its primes).
    BadTableSize,
}

/// The IPVS schedulers, by name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SchedKind {
    /// Round-robin.
    Rr,
    /// Weighted round-robin.
    Wrr,
    /// Least-connection.
    Lc,
    /// Weighted least-connection, IPVS's default.
    #[default]
    Wlc,
    /// Locality-based least-connection.
    Lblc,
    /// Locality-based least-connection with replication.
    Lblcr,
    /// Destination hashing.
    Dh,
    /// Source hashing.
    Sh,
    /// Shortest expected delay.
    Sed,
    /// Never queue.
    Nq,
    /// Weighted failover.
    Fo,
    /// Weighted overflow.
    Ovf,
    /// Maglev hashing.
    Mh,
    /// Weighted random twos choice.
    Twos,
}

impl SchedKind {
    /// Every scheduler, in the order above.
    pub const ALL: [SchedKind; 14] = [
        Self::Rr,
        Self::Wrr,
        Self::Lc,
        Self::Wlc,
        Self::Lblc,
        Self::Lblcr,
        Self::Dh,
        Self::Sh,
        Self::Sed,
        Self::Nq,
        Self::Fo,
        Self::Ovf,
        Self::Mh,
        Self::Twos,
    ];

    /// The scheduler used when a service names none (IPVS: "wlc").
    pub const DEFAULT: SchedKind = SchedKind::Wlc;

    /// The name IPVS registers the scheduler under.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Rr => "rr",
            Self::Wrr => "wrr",
            Self::Lc => "lc",
            Self::Wlc => "wlc",
            Self::Lblc => "lblc",
            Self::Lblcr => "lblcr",
            Self::Dh => "dh",
            Self::Sh => "sh",
            Self::Sed => "sed",
            Self::Nq => "nq",
            Self::Fo => "fo",
            Self::Ovf => "ovf",
            Self::Mh => "mh",
            Self::Twos => "twos",
        }
    }

    /// Looks a scheduler up by exact (case-sensitive) name, as IPVS's
    /// `strcmp` lookup does.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::from_name_bytes(name.as_bytes())
    }

    /// As [`SchedKind::from_name`], for a netlink string payload: stops at
    /// the first NUL if there is one.
    pub fn from_name_bytes(name: &[u8]) -> Option<Self> {
        let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
        let name = name.get(..end)?;
        Self::ALL
            .iter()
            .copied()
            .find(|k| k.name().as_bytes() == name)
    }
}

// ---- helpers shared by the scheduler modules ----

/// Table slot encoding: 0 is "no dest", `i + 1` is dest index `i`. Zero
/// meaning empty lets the kernel allocate tables zeroed.
const fn slot_of(index: usize) -> u32 {
    if index < u32::MAX as usize {
        index as u32 + 1
    } else {
        0
    }
}

/// Decodes [`slot_of`].
const fn slot_index(slot: u32) -> Option<usize> {
    match slot.checked_sub(1) {
        Some(i) => Some(i as usize),
        None => None,
    }
}

/// The server table slot `i` names, if any and still in `dests`.
fn slot_dest<'a, D: Dest>(table: &[u32], dests: &'a [D], i: u32) -> Option<(usize, &'a D)> {
    let idx = slot_index(*table.get(usize::try_from(i).ok()?)?)?;
    Some((idx, dests.get(idx)?))
}

/// A server sh and mh will not send new connections to.
fn hash_unavailable<D: Dest>(d: &D) -> bool {
    d.weight() <= 0 || d.overloaded()
}

/// The lookup sh and mh share. `hash(port, offset)` is the client's table
/// slot rehashed with `offset`; `port` counts only with [`HashFlags::port`].
/// The server in the client's own slot `home = hash(port, 0)` if it is
/// available; otherwise, only with [`HashFlags::fallback`], the first
/// available one at the offsets `home..n, 0..home` (IPVS's
/// `(offset + home) % n` for `offset` in `0..n`). An empty slot means no
/// server, as in IPVS.
fn hashed_schedule<D: Dest>(
    table: &[u32],
    dests: &[D],
    flags: HashFlags,
    port: u16,
    hash: impl Fn(u16, u32) -> u32,
) -> Option<usize> {
    let port = if flags.port { port } else { 0 };
    let home = hash(port, 0);
    let (i, d) = slot_dest(table, dests, home)?;
    if !hash_unavailable(d) {
        return Some(i);
    }
    if !flags.fallback {
        return None;
    }
    let n = u32::try_from(table.len()).ok()?;
    for offset in (home..n).chain(0..home) {
        let (i, d) = slot_dest(table, dests, hash(port, offset))?;
        if !hash_unavailable(d) {
            return Some(i);
        }
    }
    None
}

/// The weighted least-connection choice shared by wlc, sed, lblc and
/// lblcr: the first non-overloaded dest with weight > 0 is the initial
/// candidate; a later non-overloaded dest replaces it only if strictly
/// less loaded (`loh * w > oh * lw`, in 64 bits as IPVS does), so ties go
/// to the earlier dest.
fn weighted_least<D: Dest>(dests: &[D], overhead: impl Fn(&D) -> i32) -> Option<usize> {
    let mut it = dests.iter().enumerate();
    let (mut least, mut loh, mut lw) = loop {
        let (i, d) = it.next()?;
        if !d.overloaded() && d.weight() > 0 {
            break (i, overhead(d), d.weight());
        }
    };
    for (i, d) in it {
        if d.overloaded() {
            continue;
        }
        let doh = overhead(d);
        let w = d.weight();
        if i64::from(loh) * i64::from(w) > i64::from(doh) * i64::from(lw) {
            least = i;
            loh = doh;
            lw = w;
        }
    }
    Some(least)
}

/// Greatest common divisor (Euclid); callers pass positive numbers.
fn gcd(mut a: i32, mut b: i32) -> i32 {
    while b != 0 {
        let t = a.checked_rem(b).unwrap_or(0);
        a = b;
        b = t;
    }
    a
}

/// The kernel's `time_before(a, b)` on jiffies: wrap-safe `a < b`.
const fn time_before(a: u64, b: u64) -> bool {
    (a.wrapping_sub(b) as i64) < 0
}

/// Identity of a dest that a cache entry refers to: IPVS keeps a pointer,
/// we keep what makes a dest unique in a service (family, address, port)
/// plus the index where it was last seen, to find it again quickly.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DestKey {
    addr: Addr,
    port: u16,
    hint: u32,
}

impl DestKey {
    fn of<D: Dest>(d: &D, index: usize) -> Self {
        Self {
            addr: d.addr(),
            port: d.port(),
            hint: u32::try_from(index).unwrap_or(u32::MAX),
        }
    }

    fn matches<D: Dest>(&self, d: &D) -> bool {
        let a = d.addr();
        self.port == d.port() && self.addr.family == a.family && self.addr.eq_as(&a, a.family)
    }

    fn same(&self, other: &DestKey) -> bool {
        self.port == other.port
            && self.addr.family == other.addr.family
            && self.addr.eq_as(&other.addr, other.addr.family)
    }

    /// The dest's index in `dests`, or `None` if it is no longer there
    /// (deleted: IPVS would see it in the trash, not available). Refreshes
    /// the hint.
    fn resolve<D: Dest>(&mut self, dests: &[D]) -> Option<usize> {
        let hint = self.hint as usize;
        if let Some(d) = dests.get(hint) {
            if self.matches(d) {
                return Some(hint);
            }
        }
        let i = dests.iter().position(|d| self.matches(d))?;
        self.hint = u32::try_from(i).unwrap_or(u32::MAX);
        Some(i)
    }
}

/// lblc's and lblcr's `is_overloaded`: the dest has more active
/// connections than its weight while some server is under half its weight.
fn locality_overloaded<D: Dest>(d: &D, dests: &[D]) -> bool {
    (d.active_conns() as i32) > d.weight()
        && dests
            .iter()
            .any(|x| (x.active_conns() as i32).wrapping_mul(2) < x.weight())
}

#[cfg(test)]
mod testutil {
    //! Shared test helpers.
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    /// Server `i` with a distinct address 10.0.<i>.1:80.
    pub(super) fn dest(i: usize, weight: i32) -> DestInfo {
        DestInfo::new(Addr::v4([10, 0, i as u8, 1]), 80 + (i >> 8) as u16, weight)
    }

    /// Servers with these weights, in this order.
    pub(super) fn dests(weights: &[i32]) -> Vec<DestInfo> {
        weights
            .iter()
            .enumerate()
            .map(|(i, &w)| dest(i, w))
            .collect()
    }

    /// A weight IPVS would accept, biased to the edge cases.
    pub(super) fn valid_weight() -> impl Strategy<Value = i32> {
        prop_oneof![
            Just(0),
            Just(1),
            Just(65535),
            Just(i32::MAX),
            0..=10i32,
            0..=i32::MAX,
        ]
    }

    /// Any weight at all, including negative ones IPVS would reject.
    pub(super) fn any_weight() -> impl Strategy<Value = i32> {
        prop_oneof![valid_weight(), any::<i32>(), Just(i32::MIN), Just(-1)]
    }

    /// Servers IPVS could present: valid weights, connection counts low
    /// enough that the overhead does not overflow.
    pub(super) fn valid_dests(max: usize) -> impl Strategy<Value = Vec<DestInfo>> {
        proptest::collection::vec(
            (
                valid_weight(),
                valid_weight(),
                0u32..1_000_000,
                0u32..1_000_000,
                any::<bool>(),
            ),
            0..max,
        )
        .prop_map(|v| {
            v.into_iter()
                .enumerate()
                .map(|(i, (w, lw, a, ina, ov))| {
                    let mut d = dest(i, w);
                    d.last_weight = if w != 0 { w } else { lw };
                    d.active_conns = a;
                    d.total_conns = a + ina;
                    d.overloaded = ov;
                    d
                })
                .collect()
        })
    }

    /// Arbitrary garbage servers.
    pub(super) fn any_dests(max: usize) -> impl Strategy<Value = Vec<DestInfo>> {
        proptest::collection::vec(
            (
                any_weight(),
                any_weight(),
                any::<u32>(),
                any::<u32>(),
                any::<bool>(),
                any::<bool>(),
                any::<[u8; 16]>(),
                any::<bool>(),
                any::<u16>(),
            ),
            0..max,
        )
        .prop_map(|v| {
            v.into_iter()
                .map(|(w, lw, a, t, ov, av, bytes, v6, port)| DestInfo {
                    addr: Addr {
                        family: if v6 { Family::Inet6 } else { Family::Inet },
                        bytes,
                    },
                    port,
                    weight: w,
                    last_weight: lw,
                    active_conns: a,
                    total_conns: t,
                    overloaded: ov,
                    available: av,
                })
                .collect()
        })
    }

    /// Any source / destination address.
    pub(super) fn any_addr() -> impl Strategy<Value = Addr> {
        prop_oneof![
            any::<[u8; 4]>().prop_map(Addr::v4),
            any::<[u8; 16]>().prop_map(Addr::v6),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::testutil::*;
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    #[test]
    fn names_round_trip() {
        for k in SchedKind::ALL {
            assert_eq!(SchedKind::from_name(k.name()), Some(k));
        }
        assert_eq!(SchedKind::default().name(), "wlc");
        assert_eq!(SchedKind::DEFAULT, SchedKind::Wlc);
        assert_eq!(SchedKind::from_name("WLC"), None);
        assert_eq!(SchedKind::from_name(""), None);
        assert_eq!(SchedKind::from_name("wlcx"), None);
        assert_eq!(SchedKind::from_name_bytes(b"mh\0junk"), Some(SchedKind::Mh));
        assert_eq!(SchedKind::from_name_bytes(b"twos"), Some(SchedKind::Twos));
    }

    #[test]
    fn address_folding() {
        let a = Addr::v4([10, 0, 0, 1]);
        assert_eq!(a.fold(), 0x0a00_0001);
        let mut b = [0u8; 16];
        b[3] = 1;
        b[7] = 2;
        b[11] = 4;
        b[15] = 8;
        b[0] = 0x80;
        let v6 = Addr::v6(b);
        assert_eq!(v6.fold(), 0x8000_000f);
        // A v6 dest folded for a v4 service: only the first word.
        assert_eq!(v6.fold_as(Family::Inet), 0x8000_0001);
        assert!(a.eq_as(&Addr::v4([10, 0, 0, 1]), Family::Inet));
        assert_eq!(Family::from_af(10), Some(Family::Inet6));
        assert_eq!(Family::Inet.af(), 2);
    }

    #[test]
    fn overhead_is_ipvs_formula() {
        let mut d = dest(0, 1);
        d.active_conns = 3;
        d.total_conns = 10;
        assert_eq!(conn_overhead(&d), 3 * 256 + 10);
        assert_eq!(d.inact_conns(), 7);
        d.active_conns = 1 << 24; // wraps like the kernel's int
        d.total_conns = 0;
        assert_eq!(conn_overhead(&d), 0);
    }

    #[test]
    fn flags_from_service() {
        let f = HashFlags::from_svc_flags(svc_flags::SCHED1 | svc_flags::SCHED2);
        assert!(f.fallback && f.port);
        assert_eq!(HashFlags::from_svc_flags(0), HashFlags::default());
    }

    /// Runs every scheduler a few times over `ds`; returns each result with
    /// the scheduler that produced it.
    fn run_all(ds: &[DestInfo], addrs: &[Addr], rnd: u32) -> Vec<(SchedKind, Option<usize>)> {
        let mut out = Vec::new();
        let flags = [
            HashFlags::default(),
            HashFlags {
                fallback: true,
                port: true,
            },
        ];
        let mut rr_state = rr::RrState::new();
        let mut wrr_state = wrr::WrrState::new(ds);
        let mut sh_state = sh::ShState::new();
        sh_state.update(ds);
        let mut dh_state = dh::DhState::new();
        dh_state.update(ds);
        let mut mh_state = std::boxed::Box::new(mh::MhState::<251>::new());
        let mut setup = std::vec![mh::MhDestSetup::default(); ds.len()];
        let _ = mh_state.update(ds, Family::Inet, &mut setup);
        let mut lblc_t =
            lblc::LblcTable::new(std::vec![lblc::LblcSlot::EMPTY; 1100], 100).expect("table");
        let mut lblcr_t =
            lblcr::LblcrTable::new(std::vec![lblcr::LblcrSlot::EMPTY; 1100], 100).expect("table");
        let mut r = rnd;
        let mut rand = move |ceil: u32| {
            r = r.wrapping_mul(1_103_515_245).wrapping_add(12345);
            if ceil == 0 {
                r
            } else {
                r % ceil
            }
        };
        for (n, a) in addrs.iter().enumerate() {
            let now = (n as u64) * 1000;
            out.push((SchedKind::Rr, rr_state.schedule(ds)));
            out.push((SchedKind::Wrr, wrr_state.schedule(ds)));
            out.push((SchedKind::Lc, lc::schedule(ds)));
            out.push((SchedKind::Wlc, wlc::schedule(ds)));
            out.push((SchedKind::Sed, sed::schedule(ds)));
            out.push((SchedKind::Nq, nq::schedule(ds)));
            out.push((SchedKind::Fo, fo::schedule(ds)));
            out.push((SchedKind::Ovf, ovf::schedule(ds)));
            out.push((SchedKind::Twos, twos::schedule(ds, &mut rand)));
            for f in flags {
                out.push((SchedKind::Sh, sh_state.schedule(ds, f, a, n as u16)));
                out.push((SchedKind::Mh, mh_state.schedule(ds, f, a, n as u16)));
            }
            out.push((SchedKind::Dh, dh_state.schedule(ds, a)));
            out.push((SchedKind::Lblc, lblc_t.schedule(ds, a, now)));
            out.push((
                SchedKind::Lblcr,
                lblcr_t.schedule(ds, a, now, lblcr::default_expiration(100)),
            ));
            if n % 3 == 0 {
                lblc_t.check_expire(now, 1);
                lblcr_t.check_expire(now, 1);
            }
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Garbage in: nothing panics or loops, every index is in range.
        #[test]
        fn no_scheduler_panics(ds in any_dests(12), addrs in proptest::collection::vec(any_addr(), 1..6), rnd in any::<u32>()) {
            for (k, r) in run_all(&ds, &addrs, rnd) {
                if let Some(i) = r {
                    prop_assert!(i < ds.len(), "{:?} returned {} of {}", k, i, ds.len());
                }
            }
        }

        /// Inputs IPVS can produce: the pick is a server IPVS may pick.
        #[test]
        fn picks_are_eligible(ds in valid_dests(12), addrs in proptest::collection::vec(any_addr(), 1..6), rnd in any::<u32>()) {
            let any_eligible = ds.iter().any(|d| d.weight > 0 && !d.overloaded);
            for (k, r) in run_all(&ds, &addrs, rnd) {
                let Some(i) = r else {
                    // These fail only when no server is eligible.
                    if matches!(k, SchedKind::Rr | SchedKind::Wrr | SchedKind::Lc
                        | SchedKind::Wlc | SchedKind::Sed | SchedKind::Nq
                        | SchedKind::Fo | SchedKind::Twos | SchedKind::Lblc | SchedKind::Lblcr) {
                        prop_assert!(!any_eligible, "{:?} found nothing", k);
                    }
                    continue;
                };
                prop_assert!(i < ds.len());
                let d = &ds[i];
                prop_assert!(d.weight > 0, "{:?} picked weight {}", k, d.weight);
                // lblc's cache hit checks its own notion of overload, not the
                // IP_VS_DEST_F_OVERLOAD flag.
                if k != SchedKind::Lblc {
                    prop_assert!(!d.overloaded, "{:?} picked an overloaded server", k);
                }
            }
        }
    }

    proptest! {
        /// The shared sh/mh lookup visits slots exactly as IPVS's loops
        /// do: the home slot, then `(offset + home) % n` for `offset` in
        /// `0..n`, stopping at an empty slot.
        #[test]
        fn hashed_schedule_walks_like_ipvs(
            ds in any_dests(6),
            table in proptest::collection::vec(0u32..9, 1..40),
            seed in any::<u32>(),
            port in any::<u16>(),
            fallback in any::<bool>(),
            port_flag in any::<bool>(),
        ) {
            let flags = HashFlags { fallback, port: port_flag };
            let n = table.len() as u32;
            let hash = |p: u16, offset: u32| {
                (seed ^ u32::from(p)).wrapping_add(offset.wrapping_mul(40_503)) % n
            };
            let ipvs = || {
                let p = if port_flag { port } else { 0 };
                let pick = |slot: u32| {
                    let i = slot_index(table[slot as usize])?;
                    ds.get(i).map(|d| (i, d.weight <= 0 || d.overloaded))
                };
                let ihash = hash(p, 0);
                let (i, unavailable) = pick(ihash)?;
                if !unavailable {
                    return Some(i);
                }
                if !fallback {
                    return None;
                }
                for offset in 0..n {
                    let (i, unavailable) = pick(hash(p, (offset + ihash) % n))?;
                    if !unavailable {
                        return Some(i);
                    }
                }
                None
            };
            prop_assert_eq!(hashed_schedule(&table, &ds, flags, port, hash), ipvs());
        }
    }

    #[test]
    fn documented_sizes() {
        use core::mem::size_of;
        assert_eq!(size_of::<rr::RrState>(), 4);
        assert_eq!(size_of::<wrr::WrrState>(), 16);
        assert_eq!(size_of::<sh::ShState>(), 1024);
        assert_eq!(size_of::<dh::DhState>(), 1024);
        assert!(size_of::<mh::MhState>() == 4 * mh::MH_TAB_SIZE);
        assert!(size_of::<mh::MhDestSetup>() == 16);
        assert!(size_of::<lblc::LblcSlot>() <= 64);
        assert!(size_of::<lblcr::LblcrSlot>() <= 56);
    }
}
