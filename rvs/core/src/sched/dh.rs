// SPDX-License-Identifier: GPL-2.0

//! Destination hashing (IPVS `dh`): the packet's destination address picks
//! a server through a 256-bucket table filled with the servers in turn.
//! Used for cache clusters, so one origin's objects stay on one cache.

use super::hash::hash_32;
use super::{slot_dest, slot_of, Addr, Dest};

/// `IP_VS_DH_TAB_BITS` (IPVS's Kconfig default).
pub const DH_TAB_BITS: u32 = 8;
/// Number of buckets.
pub const DH_TAB_SIZE: usize = 1 << DH_TAB_BITS;

/// The dh bucket table: 1 KiB. All-zero (every bucket empty) is valid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DhState {
    /// 0: empty; `i + 1`: dest index `i`.
    buckets: [u32; DH_TAB_SIZE],
}

impl Default for DhState {
    fn default() -> Self {
        Self::new()
    }
}

impl DhState {
    /// An empty table; call [`DhState::update`] before scheduling.
    pub const fn new() -> Self {
        Self {
            buckets: [0; DH_TAB_SIZE],
        }
    }

    /// IPVS's `ip_vs_dh_reassign`, run on init and when a server is added
    /// or deleted (IPVS does not rebuild on weight edits; the table ignores
    /// weights anyway): bucket `b` gets server `b % n`.
    pub fn update<D: Dest>(&mut self, dests: &[D]) {
        let n = dests.len();
        for (b, slot) in self.buckets.iter_mut().enumerate() {
            *slot = match b.checked_rem(n) {
                Some(i) => slot_of(i),
                None => 0,
            };
        }
    }

    /// Schedules a packet for destination address `daddr`: the hashed
    /// server, unless it is being deleted, has weight <= 0 or is
    /// overloaded, in which case there is none.
    pub fn schedule<D: Dest>(&self, dests: &[D], daddr: &Addr) -> Option<usize> {
        let (i, d) = slot_dest(&self.buckets, dests, hash_32(daddr.fold(), DH_TAB_BITS))?;
        if !d.available() || d.weight() <= 0 || d.overloaded() {
            return None;
        }
        Some(i)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{any_addr, dests, valid_dests};
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn hashes_destination() {
        let mut ds = dests(&[1, 7, 1]);
        let mut s = DhState::new();
        s.update(&ds);
        // 10.0.0.1 is bucket 39, 192.168.0.1 bucket 192; 3 servers take
        // buckets in turn regardless of weight.
        let a = Addr::v4([10, 0, 0, 1]);
        let b = Addr::v4([192, 168, 0, 1]);
        assert_eq!(s.schedule(&ds, &a), Some(39 % 3));
        assert_eq!(s.schedule(&ds, &b), Some(192 % 3));
        // No fallback: an unavailable server means no server.
        ds[0].available = false;
        assert_eq!(s.schedule(&ds, &a), None);
        ds[0].available = true;
        ds[0].weight = 0;
        assert_eq!(s.schedule(&ds, &a), None);
        ds[0].weight = 1;
        ds[0].overloaded = true;
        assert_eq!(s.schedule(&ds, &a), None);
        // An empty service has an empty table.
        s.update::<super::super::DestInfo>(&[]);
        assert_eq!(s, DhState::new());
        assert_eq!(s.schedule(&ds, &a), None);
    }

    proptest! {
        #[test]
        fn sticky(ds in valid_dests(20), addrs in proptest::collection::vec(any_addr(), 1..50)) {
            let mut s = DhState::new();
            s.update(&ds);
            for a in addrs {
                let r = s.schedule(&ds, &a);
                prop_assert_eq!(r, s.schedule(&ds, &a));
                if let Some(i) = r {
                    prop_assert!(ds[i].weight > 0 && !ds[i].overloaded);
                }
            }
        }
    }
}
