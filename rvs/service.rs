// SPDX-License-Identifier: GPL-2.0

//! Virtual services and their real servers, per network namespace.
//!
//! Every change runs under the namespace's table mutex (IPVS's
//! `service_mutex`) and follows one rule: allocate and check everything
//! first, then change the tables with operations that cannot fail. A
//! refused command therefore changes nothing.

use kernel::{new_mutex, prelude::*, rbtree::RBTree, rbtree::RBTreeNodeReservation, sync::Mutex};

use crate::rvs_core::ctl::{
    errno, CtlError, DestConf, DestKey, ServiceConf, ServiceKey, TimeoutsUpdate, AF_INET6,
};
use crate::rvs_core::sched::{self, Addr, Family};
use crate::sched::Sched;

macro_rules! ctl_err {
    ($e:ident, $m:literal) => {
        CtlError {
            errno: errno::$e,
            msg: concat!($m, "\0"),
        }
    };
}

/// Traffic counters, as IPVS keeps per service, per server and in total.
#[derive(Clone, Copy, Default)]
pub(crate) struct Stats {
    pub(crate) conns: u64,
    pub(crate) inpkts: u64,
    pub(crate) outpkts: u64,
    pub(crate) inbytes: u64,
    pub(crate) outbytes: u64,
    pub(crate) cps: u64,
    pub(crate) inpps: u64,
    pub(crate) outpps: u64,
    pub(crate) inbps: u64,
    pub(crate) outbps: u64,
}

/// A real server.
pub(crate) struct Dest {
    pub(crate) key: DestKey,
    pub(crate) conf: DestConf,
    /// Weight before the last change, for mh's layout (IPVS `last_weight`).
    pub(crate) last_weight: i32,
    pub(crate) active_conns: u32,
    pub(crate) inact_conns: u32,
    pub(crate) persist_conns: u32,
    pub(crate) overloaded: bool,
    pub(crate) stats: Stats,
}

impl sched::Dest for Dest {
    fn weight(&self) -> i32 {
        self.conf.weight
    }
    fn last_weight(&self) -> i32 {
        self.last_weight
    }
    fn active_conns(&self) -> u32 {
        self.active_conns
    }
    fn total_conns(&self) -> u32 {
        self.active_conns.saturating_add(self.inact_conns)
    }
    fn overloaded(&self) -> bool {
        self.overloaded
    }
    fn available(&self) -> bool {
        true
    }
    fn addr(&self) -> Addr {
        to_sched_addr(self.key.af, &self.key.addr)
    }
    fn port(&self) -> u16 {
        self.key.port
    }
}

fn to_sched_addr(af: u16, a: &[u8; 16]) -> Addr {
    if af == AF_INET6 {
        Addr::v6(*a)
    } else {
        Addr::v4([a[0], a[1], a[2], a[3]])
    }
}

fn family_of(af: u16) -> Family {
    if af == AF_INET6 {
        Family::Inet6
    } else {
        Family::Inet
    }
}

/// A virtual service.
pub(crate) struct Service {
    pub(crate) key: ServiceKey,
    pub(crate) flags: u32,
    /// Persistence timeout, seconds.
    pub(crate) timeout: u32,
    pub(crate) netmask: u32,
    pub(crate) sched: Sched,
    /// Real servers in IPVS's list order: the newest first.
    pub(crate) dests: KVec<Dest>,
    pub(crate) stats: Stats,
}

impl Service {
    fn find_dest(&self, key: &DestKey) -> Option<usize> {
        self.dests.iter().position(|d| d.key == *key)
    }
}

/// Connection timeouts, seconds.
#[derive(Clone, Copy)]
pub(crate) struct Timeouts {
    pub(crate) tcp: u32,
    pub(crate) tcp_fin: u32,
    pub(crate) udp: u32,
}

impl Default for Timeouts {
    /// IPVS's defaults: ESTABLISHED 15 min, FIN_WAIT 2 min, UDP 5 min.
    fn default() -> Self {
        Self {
            tcp: 900,
            tcp_fin: 120,
            udp: 300,
        }
    }
}

/// The tables of one namespace.
pub(crate) struct Tables {
    pub(crate) services: RBTree<ServiceKey, KBox<Service>>,
    pub(crate) timeouts: Timeouts,
}

/// rvs's state in one network namespace.
#[pin_data]
pub(crate) struct NetState {
    #[pin]
    pub(crate) tables: Mutex<Tables>,
}

impl NetState {
    pub(crate) fn new() -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            tables <- new_mutex!(Tables {
                services: RBTree::new(),
                timeouts: Timeouts::default(),
            }),
        })
    }
}

/// An allocation failure, as a control-plane error.
fn enomem(_: impl core::fmt::Debug) -> CtlError {
    ctl_err!(ENOMEM, "out of memory")
}

impl Tables {
    pub(crate) fn service(&self, key: &ServiceKey) -> Option<&Service> {
        self.services.get(key).map(|b| &**b)
    }

    fn service_mut(&mut self, key: &ServiceKey) -> Result<&mut Service, CtlError> {
        self.services
            .get_mut(key)
            .map(|b| &mut **b)
            .ok_or(ctl_err!(ESRCH, "no such service"))
    }

    /// NEW_SERVICE.
    pub(crate) fn add_service(&mut self, key: ServiceKey, conf: &ServiceConf) -> Result<(), CtlError> {
        if self.services.get(&key).is_some() {
            return Err(ctl_err!(EEXIST, "service already exists"));
        }
        let sched = Sched::new::<Dest>(conf.sched, &[], family_of(key.af)).map_err(enomem)?;
        let svc = KBox::new(
            Service {
                key,
                flags: conf.apply_flags(0),
                timeout: conf.timeout,
                netmask: conf.netmask,
                sched,
                dests: KVec::new(),
                stats: Stats::default(),
            },
            GFP_KERNEL,
        )
        .map_err(enomem)?;
        let node = RBTreeNodeReservation::new(GFP_KERNEL).map_err(enomem)?;
        self.services.insert(node.into_node(key, svc));
        Ok(())
    }

    /// SET_SERVICE: scheduler, flags, persistence. A new scheduler starts
    /// from fresh state, as in IPVS.
    pub(crate) fn edit_service(&mut self, key: &ServiceKey, conf: &ServiceConf) -> Result<(), CtlError> {
        let svc = self.service_mut(key)?;
        if svc.sched.kind != conf.sched {
            let fam = family_of(svc.key.af);
            svc.sched = Sched::new(conf.sched, &svc.dests, fam).map_err(enomem)?;
        }
        svc.flags = conf.apply_flags(svc.flags);
        svc.timeout = conf.timeout;
        svc.netmask = conf.netmask;
        Ok(())
    }

    /// DEL_SERVICE.
    pub(crate) fn del_service(&mut self, key: &ServiceKey) -> Result<(), CtlError> {
        self.services
            .remove(key)
            .map(drop)
            .ok_or(ctl_err!(ESRCH, "no such service"))
    }

    /// FLUSH: every service goes.
    pub(crate) fn flush(&mut self) {
        self.services = RBTree::new();
    }

    /// NEW_DEST: the server goes to the head of the list, as in IPVS.
    pub(crate) fn add_dest(&mut self, svc_key: &ServiceKey, key: DestKey, conf: DestConf) -> Result<(), CtlError> {
        let svc = self.service_mut(svc_key)?;
        if svc.find_dest(&key).is_some() {
            return Err(ctl_err!(EEXIST, "real server already exists"));
        }
        svc.dests.reserve(1, GFP_KERNEL).map_err(enomem)?;
        let dest = Dest {
            key,
            conf,
            last_weight: conf.weight,
            active_conns: 0,
            inact_conns: 0,
            persist_conns: 0,
            overloaded: false,
            stats: Stats::default(),
        };
        svc.dests
            .insert_within_capacity(0, dest)
            .map_err(|_| ctl_err!(ENOMEM, "out of memory"))?;
        let fam = family_of(svc.key.af);
        if let Err(e) = svc.sched.servers_changed(&svc.dests, fam) {
            // Undo: the scheduler could not take the new server.
            let _ = svc.dests.remove(0);
            let _ = svc.sched.servers_changed(&svc.dests, fam);
            return Err(if e == ENOMEM {
                ctl_err!(ENOMEM, "out of memory")
            } else {
                ctl_err!(EINVAL, "the scheduler cannot take another real server")
            });
        }
        svc.sched.server_added(0);
        Ok(())
    }

    /// SET_DEST.
    pub(crate) fn edit_dest(&mut self, svc_key: &ServiceKey, key: &DestKey, conf: DestConf) -> Result<(), CtlError> {
        let svc = self.service_mut(svc_key)?;
        let i = svc
            .find_dest(key)
            .ok_or(ctl_err!(ENOENT, "no such real server"))?;
        let old = svc.dests[i].conf;
        {
            let d = &mut svc.dests[i];
            d.conf = conf;
            if conf.weight > 0 {
                d.last_weight = conf.weight;
            }
            // New thresholds may lift an overload at once.
            if conf.u_threshold == 0 {
                d.overloaded = false;
            }
        }
        let fam = family_of(svc.key.af);
        if svc.sched.servers_changed(&svc.dests, fam).is_err() {
            svc.dests[i].conf = old;
            let _ = svc.sched.servers_changed(&svc.dests, fam);
            return Err(ctl_err!(ENOMEM, "out of memory"));
        }
        Ok(())
    }

    /// DEL_DEST.
    pub(crate) fn del_dest(&mut self, svc_key: &ServiceKey, key: &DestKey) -> Result<(), CtlError> {
        let svc = self.service_mut(svc_key)?;
        let i = svc
            .find_dest(key)
            .ok_or(ctl_err!(ENOENT, "no such real server"))?;
        let _ = svc.dests.remove(i);
        svc.sched.server_removed(i);
        // Rebuilding smaller tables only writes into existing memory, apart
        // from mh's scratch; if that fails the table is left empty and the
        // next change rebuilds it.
        let _ = svc.sched.servers_changed(&svc.dests, family_of(svc.key.af));
        Ok(())
    }

    /// ZERO for one service, or all with `None`.
    pub(crate) fn zero(&mut self, key: Option<&ServiceKey>) -> Result<(), CtlError> {
        let clear = |svc: &mut Service| {
            svc.stats = Stats::default();
            for d in svc.dests.iter_mut() {
                d.stats = Stats::default();
            }
        };
        match key {
            Some(k) => clear(self.service_mut(k)?),
            None => self.services.values_mut().for_each(|s| clear(s)),
        }
        Ok(())
    }

    /// SET_CONFIG: a zero timeout leaves that timeout unchanged.
    pub(crate) fn set_timeouts(&mut self, t: &TimeoutsUpdate) {
        if let Some(v) = t.tcp.filter(|&v| v != 0) {
            self.timeouts.tcp = v;
        }
        if let Some(v) = t.tcp_fin.filter(|&v| v != 0) {
            self.timeouts.tcp_fin = v;
        }
        if let Some(v) = t.udp.filter(|&v| v != 0) {
            self.timeouts.udp = v;
        }
    }
}
