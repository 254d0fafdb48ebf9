// SPDX-License-Identifier: GPL-2.0

//! Maglev hashing (IPVS `mh`): consistent hashing through a prime-sized
//! lookup table. Each server has its own pseudo-random permutation of the
//! table slots (from its address and port); servers take turns claiming
//! their next free preferred slot, in proportion to their weights, until
//! the table is full. A client hashes to one slot. Adding or removing a
//! server moves few clients, unlike [`super::sh`].
//!
//! See "Maglev: A Fast and Reliable Software Network Load Balancer",
//! NSDI '16, section 3.4.

use super::hash::{hsiphash_u32, HsipKey};
use super::{gcd, hashed_schedule, slot_of, Addr, Dest, Family, HashFlags, SchedError};

/// The table sizes IPVS supports, for `CONFIG_IP_VS_MH_TAB_INDEX` 8..=17.
pub const MH_PRIMES: [usize; 10] = [
    251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071,
];
/// IPVS's default `CONFIG_IP_VS_MH_TAB_INDEX`.
pub const MH_TAB_INDEX: u32 = 12;
/// IPVS's default table size, for [`MH_TAB_INDEX`].
pub const MH_TAB_SIZE: usize = 4093;

/// The table size for a `CONFIG_IP_VS_MH_TAB_INDEX` value, if valid.
pub const fn mh_tab_size(config_index: u32) -> Option<usize> {
    if config_index < 8 || config_index > 17 {
        return None;
    }
    Some(MH_PRIMES[(config_index - 8) as usize])
}

/// `IP_VS_MH_TAB_BITS` (half the config index) for a table of `n` slots.
const fn tab_bits(n: usize) -> Option<u32> {
    let mut i = 0;
    while i < MH_PRIMES.len() {
        if MH_PRIMES[i] == n {
            return Some((i as u32 + 8) / 2);
        }
        i += 1;
    }
    None
}

/// IPVS's fixed hash keys: the table layout is the same on every host.
const HASH1: HsipKey = HsipKey([2_654_435_761, 2_654_435_761]);
const HASH2: HsipKey = HsipKey([2_654_446_892, 2_654_446_892]);

/// IPVS's `ip_vs_mh_hashkey` for an already folded address.
fn hashkey(fold: u32, port: u16, key: &HsipKey, offset: u32) -> u32 {
    hsiphash_u32(offset.wrapping_add(u32::from(port)).wrapping_add(fold), key)
}

/// Per-server scratch for [`MhState::update`] (16 bytes each); IPVS
/// allocates the same array for the duration of a rebuild.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MhDestSetup {
    /// First preferred slot.
    offset: u32,
    /// Step between preferred slots, 1..N-1.
    skip: u32,
    /// Next preferred slot to try.
    perm: u32,
    /// Slots claimed per turn: weight / gcd, scaled down by the shift.
    turns: i32,
}

impl MhDestSetup {
    /// A blank entry, for initialising scratch arrays.
    pub const EMPTY: Self = Self {
        offset: 0,
        skip: 0,
        perm: 0,
        turns: 0,
    };
}

/// The mh lookup table of `N` slots (one of [`MH_PRIMES`]; IPVS's default
/// is [`MH_TAB_SIZE`]): 4 * N bytes, 16 KiB by default. All-zero (every slot
/// empty) is valid, so the kernel can allocate it zeroed in place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MhState<const N: usize = MH_TAB_SIZE> {
    /// 0: empty; `i + 1`: dest index `i`.
    lookup: [u32; N],
}

impl<const N: usize> Default for MhState<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> MhState<N> {
    /// An empty table; call [`MhState::update`] before scheduling.
    pub const fn new() -> Self {
        Self { lookup: [0; N] }
    }

    /// IPVS's `ip_vs_mh_dest_changed` / `init_service`: rebuild the table
    /// after any add, delete or edit of a server. `family` is the
    /// service's; `setup` is scratch of at least `dests.len()` entries.
    ///
    /// Servers are weighted by [`Dest::last_weight`], so quiescing one
    /// (weight 0) keeps the layout; lookups then treat it as unavailable.
    ///
    /// On error the table is left empty (every lookup fails). IPVS keeps
    /// its previous table there, but ours holds indices that may no longer
    /// match the slice.
    pub fn update<D: Dest>(
        &mut self,
        dests: &[D],
        family: Family,
        setup: &mut [MhDestSetup],
    ) -> Result<(), SchedError> {
        self.lookup.fill(0);
        let bits = tab_bits(N).ok_or(SchedError::BadTableSize)?;
        if dests.len() > N {
            return Err(SchedError::TooManyDests);
        }
        // gcd of the positive last weights; none means an empty table.
        let mut g = 0i32;
        let mut max = 0i32;
        for d in dests {
            let w = d.last_weight();
            if w > 0 {
                g = if g > 0 { gcd(w, g) } else { w };
            }
            max = max.max(w);
        }
        if g < 1 {
            return Ok(());
        }
        let setup = setup
            .get_mut(..dests.len())
            .ok_or(SchedError::BufferTooSmall)?;
        // Keep the largest turns count within the table's bit budget so
        // huge weights do not let one server claim everything per turn.
        let mw = max / g;
        let fls = 32 - (mw as u32).leading_zeros();
        let rshift = fls.saturating_sub(bits);

        let n = N as u32;
        for (d, ds) in dests.iter().zip(setup.iter_mut()) {
            let fold = d.addr().fold_as(family);
            let offset = hashkey(fold, d.port(), &HASH1, 0) % n;
            let skip = hashkey(fold, d.port(), &HASH2, 0) % (n - 1) + 1;
            let lw = d.last_weight();
            let t = lw.wrapping_div(g).checked_shr(rshift).unwrap_or(0);
            *ds = MhDestSetup {
                offset,
                skip,
                perm: offset,
                turns: if t != 0 { t } else { i32::from(lw != 0) },
            };
        }
        self.populate(setup);
        Ok(())
    }

    /// Servers take turns (in list order, each claiming `turns` slots per
    /// turn) to claim their next free preferred slot until all N are
    /// taken. An empty slot doubles as "free": the table was cleared.
    fn populate(&mut self, setup: &mut [MhDestSetup]) {
        let n = N as u32;
        let mut filled = 0usize;
        let mut dt_count = 0i32;
        while filled < N {
            let mut claimed = false;
            let mut i = 0;
            while let Some(ds) = setup.get_mut(i) {
                if ds.turns < 1 {
                    i += 1;
                    continue;
                }
                // Walk the permutation to a free slot. N is prime and skip
                // in 1..N, so N steps visit every slot and one is free.
                let mut c = ds.perm;
                let mut probes = 0;
                while self.lookup.get(c as usize).is_none_or(|&s| s != 0) {
                    probes += 1;
                    if probes > N {
                        return;
                    }
                    ds.perm = ds.perm.wrapping_add(ds.skip);
                    if ds.perm >= n {
                        ds.perm = ds.perm.wrapping_sub(n);
                    }
                    c = ds.perm;
                }
                if let Some(s) = self.lookup.get_mut(c as usize) {
                    *s = slot_of(i);
                }
                claimed = true;
                filled += 1;
                if filled == N {
                    return;
                }
                dt_count += 1;
                if dt_count >= ds.turns {
                    dt_count = 0;
                    i += 1;
                }
            }
            if !claimed {
                return;
            }
        }
    }

    /// Schedules a connection from `addr` and `port`, which are taken as
    /// [`ShState::schedule`](super::sh::ShState::schedule) takes them.
    ///
    /// Without [`HashFlags::fallback`] an unavailable server means no
    /// server; with it, the client is rehashed with increasing offsets
    /// until an available server comes up.
    pub fn schedule<D: Dest>(
        &self,
        dests: &[D],
        flags: HashFlags,
        addr: &Addr,
        port: u16,
    ) -> Option<usize> {
        let n = N as u32;
        if n == 0 {
            return None;
        }
        let fold = addr.fold();
        hashed_schedule(&self.lookup, dests, flags, port, |port, offset| {
            hashkey(fold, port, &HASH1, offset) % n
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{any_addr, dest, dests, valid_dests};
    use super::super::{slot_index, DestInfo};
    use super::*;
    use proptest::prelude::*;
    use std::boxed::Box;
    use std::vec::Vec;

    fn table<const N: usize>(ds: &[DestInfo]) -> Box<MhState<N>> {
        let mut s = Box::new(MhState::<N>::new());
        let mut setup = std::vec![MhDestSetup::EMPTY; ds.len()];
        s.update(ds, Family::Inet, &mut setup).expect("update");
        s
    }

    /// A deterministic spread of client addresses.
    fn client(k: u32) -> Addr {
        let x = k.wrapping_mul(2_654_435_761).rotate_left(7) ^ k;
        Addr::v4(x.to_be_bytes())
    }

    fn counts<const N: usize>(s: &MhState<N>, n: usize) -> Vec<usize> {
        let mut c = std::vec![0; n];
        for &slot in s.lookup.iter() {
            c[slot_index(slot).expect("full table")] += 1;
        }
        c
    }

    #[test]
    fn sizes() {
        assert_eq!(mh_tab_size(MH_TAB_INDEX), Some(MH_TAB_SIZE));
        assert_eq!(mh_tab_size(8), Some(251));
        assert_eq!(mh_tab_size(17), Some(131_071));
        assert_eq!(mh_tab_size(7), None);
        assert_eq!(tab_bits(4093), Some(6));
        assert_eq!(tab_bits(251), Some(4));
        assert_eq!(tab_bits(100), None);
    }

    #[test]
    #[cfg(all(target_pointer_width = "64", target_endian = "little"))]
    fn hashes_match_ipvs() {
        // Computed with an independent SipHash-1-3 for IPVS's keys.
        let fold = Addr::v4([10, 0, 0, 1]).fold();
        assert_eq!(hashkey(fold, 80, &HASH1, 0) % 4093, 3167);
        assert_eq!(hashkey(fold, 80, &HASH2, 0) % 4092 + 1, 700);
        let client = Addr::v4([192, 0, 2, 1]).fold();
        assert_eq!(hashkey(client, 0, &HASH1, 0), 2_458_426_504);
        // The first server in the list claims its first preference.
        let mut ds = dests(&[1, 1]);
        ds[0] = DestInfo::new(Addr::v4([10, 0, 0, 1]), 80, 1);
        let s = table::<MH_TAB_SIZE>(&ds);
        assert_eq!(s.lookup[3167], slot_of(0));
    }

    #[test]
    fn table_is_full_and_weighted() {
        // Equal weights: servers take one slot per turn, so they end up
        // with the same number of slots, give or take one.
        let s = table::<MH_TAB_SIZE>(&dests(&[5, 5, 5, 5, 5, 5, 5]));
        let c = counts(&s, 7);
        assert!(c.iter().all(|&x| x == 584 || x == 585), "{c:?}");
        // Weights 1:2:3 (gcd 1, no shift): 1, 2 and 3 slots per turn.
        let s = table::<MH_TAB_SIZE>(&dests(&[1, 2, 3]));
        let c = counts(&s, 3);
        assert_eq!(c.iter().sum::<usize>(), MH_TAB_SIZE);
        assert!((c[0] as i64 * 6 - MH_TAB_SIZE as i64).abs() < 12, "{c:?}");
        assert!((c[2] as i64 * 2 - MH_TAB_SIZE as i64).abs() < 12, "{c:?}");
        // Weights are scaled by their gcd and shifted to at most 6 bits.
        let a = table::<MH_TAB_SIZE>(&dests(&[1000, 3000]));
        let b = table::<MH_TAB_SIZE>(&dests(&[i32::MAX / 3, i32::MAX / 3 * 3]));
        assert_eq!(counts(&a, 2), counts(&b, 2));
    }

    #[test]
    fn empty_and_errors() {
        let s = table::<251>(&dests(&[0, 0]));
        assert_eq!(*s, MhState::new());
        let mut s = table::<251>(&dests(&[1, 2]));
        let many = dests(&[1; 252]);
        let mut setup = std::vec![MhDestSetup::EMPTY; 252];
        assert_eq!(
            s.update(&many, Family::Inet, &mut setup),
            Err(SchedError::TooManyDests)
        );
        assert_eq!(*s, MhState::new());
        let few = dests(&[1; 3]);
        assert_eq!(
            s.update(&few, Family::Inet, &mut setup[..2]),
            Err(SchedError::BufferTooSmall)
        );
        let mut odd = Box::new(MhState::<100>::new());
        assert_eq!(
            odd.update(&few, Family::Inet, &mut setup),
            Err(SchedError::BadTableSize)
        );
        assert_eq!(
            odd.schedule(&few, HashFlags::default(), &client(1), 0),
            None
        );
    }

    #[test]
    fn removing_one_of_ten_moves_about_a_tenth() {
        const SOURCES: u32 = 10_000;
        let before = dests(&[1; 10]);
        let removed = 3;
        let mut after = before.clone();
        after.remove(removed);
        let s0 = table::<MH_TAB_SIZE>(&before);
        let s1 = table::<MH_TAB_SIZE>(&after);
        let f = HashFlags::default();
        let (mut moved, mut on_removed, mut kept_moved) = (0, 0, 0);
        for k in 0..SOURCES {
            let a = client(k);
            let old = before[s0.schedule(&before, f, &a, 0).unwrap()].addr;
            let new = after[s1.schedule(&after, f, &a, 0).unwrap()].addr;
            if old == before[removed].addr {
                on_removed += 1;
                assert_ne!(new, old);
            } else if new != old {
                kept_moved += 1;
            }
            if new != old {
                moved += 1;
            }
        }
        let frac = f64::from(moved) / f64::from(SOURCES);
        let spurious = f64::from(kept_moved) / f64::from(SOURCES);
        assert!((0.07..0.13).contains(&(f64::from(on_removed) / f64::from(SOURCES))));
        assert!(frac < 2.0 / 10.0, "moved {frac}");
        // Maglev is not perfectly minimal: a few other clients move.
        assert!(
            spurious < 0.05,
            "{spurious} of clients moved off remaining servers"
        );
    }

    #[test]
    fn quiescing_keeps_layout_and_fallback() {
        let mut ds = dests(&[1; 5]);
        let s = table::<MH_TAB_SIZE>(&ds);
        let f = HashFlags::default();
        let fb = HashFlags {
            fallback: true,
            port: false,
        };
        let picks: Vec<_> = (0..500)
            .map(|k| s.schedule(&ds, f, &client(k), 0))
            .collect();
        // Quiesce server 2: weight 0, last_weight kept; rebuild as IPVS's
        // upd_dest does. The layout is unchanged.
        ds[2].weight = 0;
        let s2 = table::<MH_TAB_SIZE>(&ds);
        assert_eq!(s.lookup, s2.lookup);
        for (k, &p) in picks.iter().enumerate() {
            let a = client(k as u32);
            if p == Some(2) {
                assert_eq!(s2.schedule(&ds, f, &a, 0), None);
                let other = s2.schedule(&ds, fb, &a, 0).unwrap();
                assert_ne!(other, 2);
            } else {
                assert_eq!(s2.schedule(&ds, f, &a, 0), p);
                assert_eq!(s2.schedule(&ds, fb, &a, 0), p);
            }
        }
    }

    #[test]
    fn port_flag() {
        let ds = dests(&[1; 8]);
        let s = table::<MH_TAB_SIZE>(&ds);
        let a = client(42);
        let f = HashFlags::default();
        let fp = HashFlags {
            fallback: false,
            port: true,
        };
        let no_port: Vec<_> = (0..64).map(|p| s.schedule(&ds, f, &a, p)).collect();
        assert!(no_port.iter().all(|&x| x == no_port[0]));
        let with_port: Vec<_> = (0..64).map(|p| s.schedule(&ds, fp, &a, p)).collect();
        assert!(with_port.iter().any(|&x| x != with_port[0]));
    }

    #[test]
    fn layout_depends_on_address_not_position() {
        // A server's preferred slots come from its address and port, so
        // the same servers in another order give the same mapping.
        let ds: Vec<DestInfo> = (0..6).map(|i| dest(i, 1)).collect();
        let mut rev = ds.clone();
        rev.reverse();
        let a = table::<MH_TAB_SIZE>(&ds);
        let b = table::<MH_TAB_SIZE>(&rev);
        let f = HashFlags::default();
        let mut same = 0;
        for k in 0..2000 {
            let c = client(k);
            let x = ds[a.schedule(&ds, f, &c, 0).unwrap()].addr;
            let y = rev[b.schedule(&rev, f, &c, 0).unwrap()].addr;
            same += usize::from(x == y);
        }
        // Turn order still breaks contention differently: mostly equal.
        assert!(same > 1800, "{same}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn sticky(ds in valid_dests(20), srcs in proptest::collection::vec((any_addr(), any::<u16>()), 1..100)) {
            let s = table::<251>(&ds);
            for (a, p) in srcs {
                for fallback in [false, true] {
                    for port in [false, true] {
                        let f = HashFlags { fallback, port };
                        let r = s.schedule(&ds, f, &a, p);
                        prop_assert_eq!(r, s.schedule(&ds, f, &a, p));
                        if let Some(i) = r {
                            prop_assert!(ds[i].weight > 0 && !ds[i].overloaded);
                        }
                    }
                }
            }
        }
    }
}
