// SPDX-License-Identifier: GPL-2.0

//! A service's scheduler: its kind and the state `rvs_core::sched` needs,
//! in memory allocated here. The decision logic itself is in
//! `rvs/core/src/sched/`.

use kernel::prelude::*;

use crate::kernel_services::random_u32_below;
use crate::rvs_core::sched::{
    dh::DhState,
    fo,
    lblc::{LblcSlot, LblcTable, LBLC_TAB_SIZE},
    lblcr::{LblcrSlot, LblcrTable},
    lc,
    mh::{MhDestSetup, MhState},
    nq, ovf,
    rr::RrState,
    sed,
    sh::ShState,
    twos, wlc,
    wrr::WrrState,
    Addr, Dest, Family, HashFlags, SchedKind,
};

/// Cache slots of lblc/lblcr: IPVS's table size; the tables grow no
/// further than this many entries.
const LBL_SLOTS: usize = LBLC_TAB_SIZE;

/// Per-kind scheduler state.
pub(crate) enum SchedState {
    /// lc, wlc, sed, nq, fo, ovf, twos: nothing to keep.
    Stateless,
    Rr(RrState),
    Wrr(WrrState),
    Sh(KBox<ShState>),
    Dh(KBox<DhState>),
    Mh(KBox<MhState>),
    Lblc(LblcTable<KVec<LblcSlot>>),
    Lblcr(LblcrTable<KVec<LblcrSlot>>),
}

/// A scheduler bound to one service.
pub(crate) struct Sched {
    pub(crate) kind: SchedKind,
    pub(crate) state: SchedState,
}

impl Sched {
    /// A scheduler of `kind` for the servers `dests` of a service of
    /// family `family`. Allocates everything it needs, so that binding it
    /// to a service cannot fail afterwards.
    pub(crate) fn new<D: Dest>(kind: SchedKind, dests: &[D], family: Family) -> Result<Self> {
        let hz = crate::conn::HZ;
        let state = match kind {
            SchedKind::Rr => SchedState::Rr(RrState::default()),
            SchedKind::Wrr => SchedState::Wrr(WrrState::new(dests)),
            // Zero is an empty table (see `kernel_services`).
            SchedKind::Sh => SchedState::Sh(KBox::zeroed(GFP_KERNEL)?),
            SchedKind::Dh => SchedState::Dh(KBox::zeroed(GFP_KERNEL)?),
            SchedKind::Mh => SchedState::Mh(KBox::zeroed(GFP_KERNEL)?),
            SchedKind::Lblc => {
                let slots = KVec::from_elem(LblcSlot::default(), LBL_SLOTS, GFP_KERNEL)?;
                SchedState::Lblc(LblcTable::new(slots, hz).map_err(|_| ENOMEM)?)
            }
            SchedKind::Lblcr => {
                let slots = KVec::from_elem(LblcrSlot::default(), LBL_SLOTS, GFP_KERNEL)?;
                SchedState::Lblcr(LblcrTable::new(slots, hz).map_err(|_| ENOMEM)?)
            }
            _ => SchedState::Stateless,
        };
        let mut s = Self { kind, state };
        let mut setup = KVec::from_elem(MhDestSetup::default(), dests.len(), GFP_KERNEL)?;
        s.servers_changed(dests, family, &mut setup)?;
        Ok(s)
    }

    /// Brings the state up to date after servers were added, removed or
    /// edited (IPVS's `add_dest` / `del_dest` / `upd_dest` hooks). Does not
    /// allocate: `setup` is mh's scratch, one entry per server, which the
    /// caller allocated before taking the service's lock.
    pub(crate) fn servers_changed<D: Dest>(
        &mut self,
        dests: &[D],
        family: Family,
        setup: &mut [MhDestSetup],
    ) -> Result {
        match &mut self.state {
            SchedState::Wrr(s) => s.update(dests),
            SchedState::Sh(s) => s.update(dests),
            SchedState::Dh(s) => s.update(dests),
            SchedState::Mh(s) => s.update(dests, family, setup).map_err(|_| EINVAL)?,
            _ => {}
        }
        Ok(())
    }

    /// Picks a real server for a new connection: an index into `dests`.
    /// `caddr`/`cport` are the client's, `vaddr` the packet's destination;
    /// `now` is in jiffies, and so is `lblcr_expiration` (the sysctl).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn pick<D: Dest>(
        &mut self,
        dests: &[D],
        svc_flags: u32,
        caddr: &Addr,
        cport: u16,
        vaddr: &Addr,
        now: u64,
        lblcr_expiration: u64,
    ) -> Option<usize> {
        let hf = HashFlags::from_svc_flags(svc_flags);
        match &mut self.state {
            SchedState::Rr(s) => s.schedule(dests),
            SchedState::Wrr(s) => s.schedule(dests),
            SchedState::Sh(s) => s.schedule(dests, hf, caddr, cport),
            SchedState::Mh(s) => s.schedule(dests, hf, caddr, cport),
            SchedState::Dh(s) => s.schedule(dests, vaddr),
            SchedState::Lblc(t) => t.schedule(dests, vaddr, now),
            SchedState::Lblcr(t) => t.schedule(dests, vaddr, now, lblcr_expiration),
            SchedState::Stateless => match self.kind {
                SchedKind::Lc => lc::schedule(dests),
                SchedKind::Sed => sed::schedule(dests),
                SchedKind::Nq => nq::schedule(dests),
                SchedKind::Fo => fo::schedule(dests),
                SchedKind::Ovf => ovf::schedule(dests),
                SchedKind::Twos => twos::schedule(dests, random_u32_below),
                _ => wlc::schedule(dests),
            },
        }
    }

    /// lblc/lblcr cache expiry, from the periodic sweep: entries unused
    /// for the sysctls' expirations (jiffies) go.
    pub(crate) fn expire_caches(&mut self, now: u64, lblc_expiration: u64, lblcr_expiration: u64) {
        match &mut self.state {
            SchedState::Lblc(t) => t.check_expire(now, lblc_expiration),
            SchedState::Lblcr(t) => t.check_expire(now, lblcr_expiration),
            _ => {}
        }
    }

    /// rr keeps a cursor index into the server list: a server inserted at
    /// the head shifts it.
    pub(crate) fn server_added(&mut self, index: usize) {
        if let SchedState::Rr(s) = &mut self.state {
            s.add_dest(index);
        }
    }

    /// As [`Sched::server_added`], for a server removed at `index`.
    pub(crate) fn server_removed(&mut self, index: usize) {
        if let SchedState::Rr(s) = &mut self.state {
            s.del_dest(index);
        }
    }
}
