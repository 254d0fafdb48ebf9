// SPDX-License-Identifier: GPL-2.0

//! Source hashing (IPVS `sh`): a client address (and optionally port)
//! always maps to the same server, through a 256-bucket table in which each
//! server fills as many consecutive buckets as its weight.

use super::hash::hash_32;
use super::{hashed_schedule, slot_of, Addr, Dest, HashFlags};

/// `IP_VS_SH_TAB_BITS` (IPVS's Kconfig default).
pub const SH_TAB_BITS: u32 = 8;
/// Number of buckets.
pub const SH_TAB_SIZE: usize = 1 << SH_TAB_BITS;
const SH_TAB_MASK: u32 = (SH_TAB_SIZE as u32) - 1;

/// The sh bucket table: 1 KiB. All-zero (every bucket empty) is valid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShState {
    /// 0: empty; `i + 1`: dest index `i`.
    buckets: [u32; SH_TAB_SIZE],
}

impl Default for ShState {
    fn default() -> Self {
        Self::new()
    }
}

/// IPVS's `ip_vs_sh_hashkey`: bucket of `addr`/`port` shifted by `offset`.
fn hashkey(addr: &Addr, port: u16, offset: u32) -> u32 {
    let h = hash_32(u32::from(port).wrapping_add(addr.fold()), SH_TAB_BITS);
    offset.wrapping_add(h) & SH_TAB_MASK
}

impl ShState {
    /// An empty table; call [`ShState::update`] before scheduling.
    pub const fn new() -> Self {
        Self {
            buckets: [0; SH_TAB_SIZE],
        }
    }

    /// IPVS's `ip_vs_sh_reassign`, run on init and on every add, delete and
    /// edit of a server: walks the servers cyclically, giving each
    /// `weight` consecutive buckets (at least one, even at weight 0).
    pub fn update<D: Dest>(&mut self, dests: &[D]) {
        let mut pos = 0usize;
        let mut count = 0i32;
        for b in self.buckets.iter_mut() {
            if pos >= dests.len() {
                pos = 0;
            }
            let Some(d) = dests.get(pos) else {
                *b = 0;
                continue;
            };
            *b = slot_of(pos);
            count += 1;
            if count >= d.weight() {
                pos += 1;
                count = 0;
            }
        }
    }

    /// Schedules a connection from `addr` (the client: IPVS hashes the
    /// packet's source, or its destination for an inverse lookup) and
    /// `port` (its L4 source port in host order for TCP/UDP/SCTP, else 0;
    /// only used with [`HashFlags::port`]).
    ///
    /// Without [`HashFlags::fallback`] an unavailable server (weight <= 0
    /// or overloaded) means no server; with it, the table is walked for the
    /// next available one.
    pub fn schedule<D: Dest>(
        &self,
        dests: &[D],
        flags: HashFlags,
        addr: &Addr,
        port: u16,
    ) -> Option<usize> {
        hashed_schedule(&self.buckets, dests, flags, port, |port, offset| {
            hashkey(addr, port, offset)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{any_addr, dests, valid_dests};
    use super::super::{slot_index, DestInfo};
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    fn table(ds: &[DestInfo]) -> ShState {
        let mut s = ShState::new();
        s.update(ds);
        s
    }

    #[test]
    fn buckets_tiled_by_weight() {
        let s = table(&dests(&[3, 1, 0]));
        let got: Vec<Option<usize>> = s.buckets[..10].iter().map(|&b| slot_index(b)).collect();
        // weight 3: three buckets; weight 1 and weight 0: one each.
        assert_eq!(got, [0, 0, 0, 1, 2, 0, 0, 0, 1, 2].map(Some));
        let empty = table(&[]);
        assert_eq!(empty, ShState::new());
    }

    #[test]
    fn known_bucket() {
        // 10.0.0.1 hashes to bucket 39 (hash_32(0x0a000001, 8)); with port
        // 80 (sh-port) to bucket 182. With 4 equal servers, bucket b holds
        // server b % 4.
        let ds = dests(&[1, 1, 1, 1]);
        let s = table(&ds);
        let a = Addr::v4([10, 0, 0, 1]);
        assert_eq!(s.schedule(&ds, HashFlags::default(), &a, 80), Some(39 % 4));
        let port = HashFlags {
            fallback: false,
            port: true,
        };
        assert_eq!(s.schedule(&ds, port, &a, 80), Some(182 % 4));
    }

    #[test]
    fn fallback_only_when_asked() {
        let mut ds = dests(&[1, 1, 1, 1]);
        let s = table(&ds);
        let a = Addr::v4([10, 0, 0, 1]);
        let home = s.schedule(&ds, HashFlags::default(), &a, 0).unwrap();
        ds[home].overloaded = true;
        assert_eq!(s.schedule(&ds, HashFlags::default(), &a, 0), None);
        let fb = HashFlags {
            fallback: true,
            port: false,
        };
        let other = s.schedule(&ds, fb, &a, 0).unwrap();
        assert_ne!(other, home);
        // Quiescing (weight 0) makes a server unavailable too; no table
        // rebuild needed for that.
        ds[home].overloaded = false;
        ds[home].weight = 0;
        assert_eq!(s.schedule(&ds, HashFlags::default(), &a, 0), None);
        assert_eq!(s.schedule(&ds, fb, &a, 0), Some(other));
        for d in ds.iter_mut() {
            d.weight = 0;
        }
        assert_eq!(s.schedule(&ds, fb, &a, 0), None);
    }

    proptest! {
        /// A source maps to one server, every time, and the port only
        /// matters with sh-port.
        #[test]
        fn sticky(ds in valid_dests(20), srcs in proptest::collection::vec((any_addr(), any::<u16>(), any::<u16>()), 1..50)) {
            let s = table(&ds);
            for (a, p1, p2) in srcs {
                for fallback in [false, true] {
                    let f = HashFlags { fallback, port: false };
                    let first = s.schedule(&ds, f, &a, p1);
                    prop_assert_eq!(first, s.schedule(&ds, f, &a, p1));
                    prop_assert_eq!(first, s.schedule(&ds, f, &a, p2));
                    let fp = HashFlags { fallback, port: true };
                    prop_assert_eq!(s.schedule(&ds, fp, &a, p1), s.schedule(&ds, fp, &a, p1));
                    if let Some(i) = first {
                        prop_assert!(ds[i].weight > 0 && !ds[i].overloaded);
                    }
                }
            }
        }
    }
}
