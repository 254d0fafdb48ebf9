// SPDX-License-Identifier: GPL-2.0

//! The packet path's index of services (IPVS's service table): an array
//! of [`Chain`]s holding one reference to each service.
//!
//! Readers ([`SvcHash`]) look services up under RCU. The one writer
//! ([`SvcWriter`]) is kept with the control plane's tables, under their
//! mutex: writers are serialised by `&mut` to it, so the chains' writer
//! rules hold whatever lock provides that.

use kernel::{prelude::*, sync::{Arc, UniqueArc}};

use crate::rcu::{self, ReadSide};
use crate::rcu_chain::{Chain, Linked};
use crate::rvs_core::ctl::ServiceKey;

/// Buckets of the service hash (IPVS: 256).
const SVC_TAB_SIZE: usize = 256;

/// An entry of the hash: a chain entry with its key.
pub(crate) trait Keyed: Linked + Send + Sync + 'static {
    fn key(&self) -> &ServiceKey;
}

struct Buckets<T: Keyed> {
    chains: [Chain<T>; SVC_TAB_SIZE],
    seed: u64,
}

/// The readers' side of the hash.
pub(crate) struct SvcHash<T: Keyed>(Arc<Buckets<T>>);

/// The writer's side of the hash: one per hash (not `Clone`).
pub(crate) struct SvcWriter<T: Keyed>(Arc<Buckets<T>>);

fn svc_bucket(seed: u64, k: &ServiceKey) -> usize {
    let mut a = k.addr;
    a[12] ^= (k.fwmark >> 24) as u8;
    a[13] ^= (k.fwmark >> 16) as u8;
    a[14] ^= (k.fwmark >> 8) as u8;
    a[15] ^= k.fwmark as u8 ^ k.af as u8;
    crate::rvs_core::connhash::bucket(seed, k.protocol as u8, &a, k.port, 8) % SVC_TAB_SIZE
}

/// An empty hash, keyed by `seed`: its readers' and its writer's sides.
pub(crate) fn new<T: Keyed>(seed: u64) -> Result<(SvcHash<T>, SvcWriter<T>)> {
    let b = Arc::new(
        Buckets {
            chains: [const { Chain::new() }; SVC_TAB_SIZE],
            seed,
        },
        GFP_KERNEL,
    )?;
    Ok((SvcHash(b.clone()), SvcWriter(b)))
}

impl<T: Keyed> Buckets<T> {
    fn bucket_of(&self, k: &ServiceKey) -> &Chain<T> {
        &self.chains[svc_bucket(self.seed, k)]
    }
}

impl<T: Keyed> SvcHash<T> {
    /// Finds a service.
    pub(crate) fn find<'r>(&'r self, rcu: &'r ReadSide, k: &ServiceKey) -> Option<&'r T> {
        self.0.bucket_of(k).iter(rcu).find(|s| s.key() == k)
    }

    /// Every service, in no particular order.
    pub(crate) fn iter<'r>(&'r self, rcu: &'r ReadSide) -> impl Iterator<Item = &'r T> {
        self.0.chains.iter().flat_map(move |b| b.iter(rcu))
    }
}

impl<T: Keyed> SvcWriter<T> {
    /// Links `svc`, holding one reference for the hash, and returns
    /// another. Taking it unique proves it is in no hash yet, which
    /// pushing onto a chain requires.
    pub(crate) fn link(&mut self, svc: Pin<UniqueArc<T>>) -> Arc<T> {
        let svc = Arc::from(svc);
        let raw = Arc::into_raw(svc.clone()).cast_mut();
        // SAFETY: `&mut self` to the hash's only writer serialises writers;
        // `svc` was unique, so it is in no chain; the hash's reference
        // keeps `raw` allocated until `unlink` drops it after a grace
        // period.
        unsafe { self.0.bucket_of((*raw).key()).push(raw) };
        svc
    }

    /// Unlinks the service with key `k`; its hash reference is dropped
    /// after a grace period.
    pub(crate) fn unlink(&mut self, k: &ServiceKey) {
        let chain = self.0.bucket_of(k);
        // SAFETY: `&mut self` serialises writers, as above.
        let found = unsafe { chain.iter_locked() }.find(|s| s.key() == k).map(core::ptr::from_ref);
        let Some(p) = found else { return };
        // SAFETY: As above.
        if unsafe { chain.unlink(p) } {
            // SAFETY: `p` came from `Arc::into_raw` in `link`; unlinked, the
            // hash's reference is ours to drop, after current readers.
            rcu::defer_drop(unsafe { Arc::from_raw(p) });
        }
    }
}

impl<T: Keyed> Drop for Buckets<T> {
    fn drop(&mut self) {
        // Both sides are gone, so is the namespace: its hooks are
        // unregistered, no reader is left; give back the hash's references.
        for b in self.chains.iter_mut() {
            let mut p = b.take();
            while !p.is_null() {
                // SAFETY: `p` came from `Arc::into_raw` in `link` and is
                // unlinked now; nothing else reaches it through the hash.
                let svc = unsafe { Arc::from_raw(p) };
                p = svc.link().next();
                drop(svc);
            }
        }
    }
}
