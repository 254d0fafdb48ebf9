// SPDX-License-Identifier: GPL-2.0

//! Virtual services and their real servers, per network namespace.
//!
//! The control plane changes them under the namespace's table mutex (IPVS's
//! `service_mutex`) and follows one rule: allocate and check everything
//! first, then change the tables with operations that cannot fail, so a
//! refused command changes nothing.
//!
//! The packet path finds services without locks, through an RCU hash of
//! `Arc<Service>`; a service's real servers and scheduler state sit
//! together behind one spinlock, taken only to schedule a new connection.
//! Connections hold `Arc<Dest>`, so a deleted real server lives on (out of
//! every list) until its last connection expires, as in IPVS.

use core::sync::atomic::{AtomicBool, AtomicU32, Ordering::*};

use kernel::{
    new_mutex, new_spinlock_irq,
    prelude::*,
    rbtree::{RBTree, RBTreeNodeReservation},
    sync::{Arc, Mutex, SpinLockIrq, UniqueArc},
};

use crate::conn_table::ConnTable;
use crate::rvs_core::abi::fwd;
use crate::rcu::{self, ReadSide};
use crate::rcu_chain::Link;
use crate::svc_hash::{self, Keyed, SvcHash, SvcWriter};
use crate::rvs_core::ctl::{
    errno, CtlError, DestConf, DestKey, ServiceConf, ServiceKey, FWMARK_PROTOCOL,
};
use crate::rvs_core::sched::{mh::MhDestSetup, SchedKind};
use crate::sched::Sched;
use crate::sysctl::Sysctls;
use crate::proto::Timeouts;
use crate::stats::Stats;
use crate::dest::{family_of, Dest};
use crate::nf::NetHooks;

macro_rules! ctl_err {
    ($e:ident, $m:literal) => {
        CtlError {
            errno: errno::$e,
            msg: concat!($m, "\0"),
        }
    };
}

fn enomem(_: impl core::fmt::Debug) -> CtlError {
    ctl_err!(ENOMEM, "out of memory")
}

const EINVAL_ERR: CtlError = ctl_err!(EINVAL, "inconsistent tables");

/// What a service's spinlock guards: its real servers (IPVS list order,
/// newest first) and the scheduler state built over exactly that list.
pub(crate) struct Pool {
    pub(crate) dests: KVec<Arc<Dest>>,
    pub(crate) sched: Sched,
}

/// A virtual service.
#[pin_data]
pub(crate) struct Service {
    pub(crate) key: ServiceKey,
    /// Next service in the same RCU hash bucket.
    next: Link<Service>,
    pub(crate) flags: AtomicU32,
    /// Persistence timeout, seconds.
    pub(crate) timeout: AtomicU32,
    /// IPv4: netmask in network order; IPv6: prefix length.
    pub(crate) netmask: AtomicU32,
    #[pin]
    pub(crate) pool: SpinLockIrq<Pool>,
    pub(crate) stats: Arc<Stats>,
}

impl Service {
    /// The real servers, for listings (a snapshot).
    pub(crate) fn dests(&self) -> Result<KVec<Arc<Dest>>> {
        let n = self.pool.lock().dests.len();
        let mut v = KVec::with_capacity(n + 1, GFP_KERNEL)?;
        let pool = self.pool.lock();
        for d in pool.dests.iter() {
            if v.push_within_capacity(d.clone()).is_err() {
                break;
            }
        }
        Ok(v)
    }

    /// How many real servers the service has (either family).
    pub(crate) fn num_dests(&self) -> usize {
        self.pool.lock().dests.len()
    }

    pub(crate) fn sched_kind(&self) -> SchedKind {
        self.pool.lock().sched.kind
    }

    /// The real server of this service at `addr`:`port` (a sync backup
    /// binding its entries).
    pub(crate) fn dest_by_addr(&self, af: u16, addr: &[u8; 16], port: u16) -> Option<Arc<Dest>> {
        self.find_dest(&DestKey { af, addr: *addr, port })
    }

    fn find_dest(&self, key: &DestKey) -> Option<Arc<Dest>> {
        self.pool.lock().dests.iter().find(|d| d.key == *key).cloned()
    }

    /// Replaces the server list by `new` (built by the caller) and brings
    /// the scheduler up to date, atomically for the packet path.
    fn publish(&self, new: KVec<Arc<Dest>>, setup: &mut [MhDestSetup], added_at_head: bool, removed: Option<usize>) -> Result<KVec<Arc<Dest>>, CtlError> {
        let fam = family_of(self.key.af);
        let mut pool = self.pool.lock();
        let old = core::mem::replace(&mut pool.dests, new);
        let Pool { dests, sched } = &mut *pool;
        if sched.servers_changed(dests, fam, setup).is_err() {
            let new = core::mem::replace(&mut pool.dests, old);
            let Pool { dests, sched } = &mut *pool;
            let _ = sched.servers_changed(dests, fam, setup);
            drop(new);
            return Err(ctl_err!(EINVAL, "the scheduler cannot take this set of real servers"));
        }
        if added_at_head {
            sched.server_added(0);
        }
        if let Some(i) = removed {
            sched.server_removed(i);
        }
        Ok(old)
    }
}

crate::rcu_chain::linked!(Service, next);

impl Keyed for Service {
    fn key(&self) -> &ServiceKey {
        &self.key
    }
}

impl SvcHash<Service> {
    /// Whether some service has a NAT real server at `addr`:`port` for
    /// `protocol` (IPVS's `ip_vs_has_real_service`, for `nat_icmp_send`).
    /// Walks every service: only used when that sysctl is on.
    pub(crate) fn has_masq_dest(&self, rcu: &ReadSide, af: u16, protocol: u16, addr: &[u8; 16], port: u16) -> bool {
        self.iter(rcu).any(|s| {
            (s.key.protocol == protocol || s.key.fwmark != 0)
                && s.pool.lock().dests.iter().any(|d| {
                    d.key.af == af
                        && d.key.addr == *addr
                        && d.key.port == port
                        && d.fwd.load(Relaxed) & fwd::MASK == fwd::MASQ
                })
        })
    }
}

/// The control plane's tables of one namespace.
pub(crate) struct Tables {
    pub(crate) services: RBTree<ServiceKey, Arc<Service>>,
    /// Deleted real servers that connections still use (IPVS's trash):
    /// re-adding the same server to the same service brings them back.
    trash: KVec<(ServiceKey, Arc<Dest>)>,
    /// Links and unlinks services in the packet path's hash.
    svc_writer: SvcWriter<Service>,
}

/// rvs's state in one network namespace.
#[pin_data]
pub(crate) struct NetState {
    #[pin]
    pub(crate) tables: Mutex<Tables>,
    pub(crate) svc_hash: SvcHash<Service>,
    pub(crate) timeouts: Timeouts,
    pub(crate) conns: ConnTable,
    /// Counters of everything rvs forwards in this namespace.
    pub(crate) stats: Arc<Stats>,
    /// Services, so the packet path can skip work when there are none.
    pub(crate) nr_services: AtomicU32,
    pub(crate) sysctl: Sysctls,
    /// What the defence's periodic check found (`defense.rs`).
    pub(crate) defense: crate::defense::Defense,
    /// nf_defrag_ipv6 was enabled for this namespace's IPv6 services.
    pub(crate) defrag6: AtomicBool,
    /// The namespace's netfilter hooks, registered with its first service.
    #[pin]
    pub(crate) hooks: NetHooks,
    /// A client on this host has had a connection (scheduled at
    /// LOCAL_OUT, or at LOCAL_IN from the loopback, or synced from a
    /// master): from then on, replies can come to LOCAL_IN. Never
    /// cleared: clearing it safely would mean counting such entries.
    pub(crate) local_clients: AtomicBool,
}

impl NetState {
    pub(crate) fn new(seed: u64, conn_bits: u32, net: crate::net::OwnNet) -> Result<impl PinInit<Self, Error>> {
        let (svc_hash, svc_writer) = svc_hash::new(seed)?;
        Ok(try_pin_init!(Self {
            tables <- new_mutex!(Tables {
                services: RBTree::new(),
                trash: KVec::new(),
                svc_writer,
            }),
            svc_hash,
            timeouts: Timeouts::new(),
            conns: ConnTable::new(conn_bits, seed.rotate_left(17), net)?,
            stats: Arc::pin_init(Stats::new(), GFP_KERNEL)?,
            nr_services: AtomicU32::new(0),
            sysctl: Sysctls::new(),
            defense: crate::defense::Defense::new(),
            defrag6: AtomicBool::new(false),
            hooks <- NetHooks::new(),
            local_clients: AtomicBool::new(false),
        }))
    }

    /// Finds the service a packet is for: by firewall mark first, then by
    /// protocol, address and port, then a port-0 (all ports) service.
    pub(crate) fn find_service<'r>(
        &'r self,
        rcu: &'r ReadSide,
        af: u16,
        mark: u32,
        protocol: u16,
        vaddr: &[u8; 16],
        vport: u16,
    ) -> Option<&'r Service> {
        if self.nr_services.load(Relaxed) == 0 {
            return None;
        }
        let key = |protocol, addr, port, fwmark| ServiceKey {
            af,
            protocol,
            addr,
            port,
            fwmark,
        };
        if mark != 0 {
            if let Some(s) = self.svc_hash.find(rcu, &key(FWMARK_PROTOCOL, [0; 16], 0, mark)) {
                return Some(s);
            }
        }
        self.svc_hash
            .find(rcu, &key(protocol, *vaddr, vport, 0))
            .or_else(|| self.svc_hash.find(rcu, &key(protocol, *vaddr, 0, 0)))
    }

    /// A connection's client is on this host (`local_clients`).
    pub(crate) fn saw_local_client(&self) {
        if !self.local_clients.load(Relaxed) {
            self.local_clients.store(true, Release);
        }
    }

    /// NEW_SERVICE.
    pub(crate) fn add_service(&self, t: &mut Tables, key: ServiceKey, conf: &ServiceConf) -> Result<(), CtlError> {
        if t.services.get(&key).is_some() {
            return Err(ctl_err!(EEXIST, "service already exists"));
        }
        // The connection table is allocated, and the hooks registered,
        // with the first service.
        self.conns.allocate().map_err(enomem)?;
        self.hooks.ensure(self.conns.net()).map_err(|_| ctl_err!(ENOMEM, "cannot register the netfilter hooks"))?;
        let sched = Sched::new::<Arc<Dest>>(conf.sched, &[], family_of(key.af)).map_err(enomem)?;
        let stats = Arc::pin_init(Stats::new(), GFP_KERNEL).map_err(enomem)?;
        let svc = UniqueArc::pin_init(
            try_pin_init!(Service {
                key,
                next: Link::new(),
                flags: AtomicU32::new(conf.apply_flags(0)),
                timeout: AtomicU32::new(conf.timeout),
                netmask: AtomicU32::new(conf.netmask),
                pool <- new_spinlock_irq!(Pool {
                    dests: KVec::new(),
                    sched,
                }),
                stats,
            }? Error),
            GFP_KERNEL,
        )
        .map_err(enomem)?;
        let node = RBTreeNodeReservation::new(GFP_KERNEL).map_err(enomem)?;
        let svc = t.svc_writer.link(svc);
        t.services.insert(node.into_node(key, svc));
        self.nr_services.fetch_add(1, Relaxed);
        Ok(())
    }

    fn service<'a>(t: &'a Tables, key: &ServiceKey) -> Result<&'a Arc<Service>, CtlError> {
        t.services.get(key).ok_or(ctl_err!(ESRCH, "no such service"))
    }

    /// SET_SERVICE: scheduler, flags, persistence. A new scheduler starts
    /// from fresh state, as in IPVS.
    pub(crate) fn edit_service(&self, t: &mut Tables, key: &ServiceKey, conf: &ServiceConf) -> Result<(), CtlError> {
        let svc = Self::service(t, key)?;
        if svc.sched_kind() != conf.sched {
            let dests = svc.dests().map_err(enomem)?;
            let new = Sched::new(conf.sched, &dests, family_of(key.af)).map_err(enomem)?;
            let old = {
                let mut pool = svc.pool.lock();
                // The list cannot have changed: the table mutex is held.
                core::mem::replace(&mut pool.sched, new)
            };
            drop(old);
        }
        let old = svc.flags.load(Relaxed);
        svc.flags.store(conf.apply_flags(old), Relaxed);
        svc.timeout.store(conf.timeout, Relaxed);
        svc.netmask.store(conf.netmask, Relaxed);
        Ok(())
    }

    /// Takes servers out of service; those with connections go to the
    /// trash, where a later add of the same server finds them again.
    fn retire_dests(&self, t: &mut Tables, svc: &ServiceKey, dests: &[Arc<Dest>]) {
        for d in dests {
            d.available.store(false, Relaxed);
            let in_use = d.total_conns() != 0 || d.persist_conns.load(Relaxed) != 0;
            if in_use {
                // Its connections may have to go early
                // (expire_nodest_conn): the sweep looks at all of them.
                self.conns.revisit();
                // Without memory for the trash the server just is not
                // found again; its connections still run out.
                let _ = t.trash.push((*svc, d.clone()), GFP_KERNEL);
            }
        }
    }

    /// Drops trashed servers no connection uses any more.
    pub(crate) fn clean_trash(&self) {
        let mut t = self.tables.lock();
        t.trash.retain(|(_, d)| d.total_conns() != 0 || d.persist_conns.load(Relaxed) != 0);
    }

    /// DEL_SERVICE.
    pub(crate) fn del_service(&self, t: &mut Tables, key: &ServiceKey) -> Result<(), CtlError> {
        let svc = t
            .services
            .remove(key)
            .ok_or(ctl_err!(ESRCH, "no such service"))?;
        t.svc_writer.unlink(key);
        self.nr_services.fetch_sub(1, Relaxed);
        let dests = svc.dests().unwrap_or_default();
        self.retire_dests(t, key, &dests);
        rcu::defer_drop(svc);
        Ok(())
    }

    /// FLUSH: every service goes.
    pub(crate) fn flush(&self, t: &mut Tables) {
        let services = core::mem::replace(&mut t.services, RBTree::new());
        for (k, svc) in services.iter() {
            t.svc_writer.unlink(k);
            let dests = svc.dests().unwrap_or_default();
            self.retire_dests(t, k, &dests);
        }
        self.nr_services.store(0, Relaxed);
        rcu::defer_drop(services);
    }

    /// NEW_DEST: the server goes to the head of the list, as in IPVS.
    pub(crate) fn add_dest(&self, t: &mut Tables, svc_key: &ServiceKey, key: DestKey, conf: DestConf) -> Result<(), CtlError> {
        let svc = Self::service(t, svc_key)?.clone();
        if svc.find_dest(&key).is_some() {
            return Err(ctl_err!(EEXIST, "real server already exists"));
        }
        // A server deleted while connections used it comes back from the
        // trash with them, as in IPVS.
        let trashed = t
            .trash
            .iter()
            .position(|(k, d)| *k == *svc_key && d.key == key);
        let dest = match trashed {
            Some(i) => t.trash.get(i).map(|(_, d)| d.clone()).ok_or(EINVAL_ERR)?,
            None => Dest::new(key, conf, svc.stats.clone()).map_err(enomem)?,
        };
        // The list cannot change under us (table mutex), so its size now
        // is its size when we publish.
        let n = svc.pool.lock().dests.len();
        let mut new = KVec::with_capacity(n + 1, GFP_KERNEL).map_err(enomem)?;
        let mut setup = KVec::from_elem(MhDestSetup::default(), n + 1, GFP_KERNEL).map_err(enomem)?;
        let _ = new.push_within_capacity(dest.clone());
        for d in svc.pool.lock().dests.iter() {
            let _ = new.push_within_capacity(d.clone());
        }
        if trashed.is_some() {
            dest.set_conf(&conf);
            dest.available.store(true, Relaxed);
        }
        let old = match svc.publish(new, &mut setup, true, None) {
            Ok(old) => old,
            Err(e) => {
                if trashed.is_some() {
                    dest.available.store(false, Relaxed);
                }
                return Err(e);
            }
        };
        if let Some(i) = trashed {
            let _ = t.trash.remove(i);
        }
        drop(old);
        Ok(())
    }

    /// SET_DEST.
    pub(crate) fn edit_dest(&self, t: &mut Tables, svc_key: &ServiceKey, key: &DestKey, conf: DestConf) -> Result<(), CtlError> {
        let svc = Self::service(t, svc_key)?.clone();
        let d = svc
            .find_dest(key)
            .ok_or(ctl_err!(ENOENT, "no such real server"))?;
        let n = svc.pool.lock().dests.len();
        let mut setup = KVec::from_elem(MhDestSetup::default(), n, GFP_KERNEL).map_err(enomem)?;
        let fam = family_of(svc.key.af);
        let mut pool = svc.pool.lock();
        d.set_conf(&conf);
        let Pool { dests, sched } = &mut *pool;
        // Rebuilding over the same list only rewrites existing tables.
        let _ = sched.servers_changed(dests, fam, &mut setup);
        Ok(())
    }

    /// DEL_DEST: the server leaves every list; its connections keep it
    /// alive until they expire.
    pub(crate) fn del_dest(&self, t: &mut Tables, svc_key: &ServiceKey, key: &DestKey) -> Result<(), CtlError> {
        let svc = Self::service(t, svc_key)?.clone();
        let (n, i) = {
            let pool = svc.pool.lock();
            let i = pool
                .dests
                .iter()
                .position(|d| d.key == *key)
                .ok_or(ctl_err!(ENOENT, "no such real server"))?;
            (pool.dests.len(), i)
        };
        let mut new = KVec::with_capacity(n, GFP_KERNEL).map_err(enomem)?;
        let mut setup = KVec::from_elem(MhDestSetup::default(), n, GFP_KERNEL).map_err(enomem)?;
        for (j, d) in svc.pool.lock().dests.iter().enumerate() {
            if j != i {
                let _ = new.push_within_capacity(d.clone());
            }
        }
        let old = svc.publish(new, &mut setup, false, Some(i))?;
        if let Some(d) = old.get(i) {
            let d = [d.clone()];
            self.retire_dests(t, svc_key, &d);
        }
        drop(old);
        Ok(())
    }

    /// ZERO for one service, or all with `None`.
    pub(crate) fn zero(&self, t: &mut Tables, key: Option<&ServiceKey>) -> Result<(), CtlError> {
        let clear = |svc: &Service| {
            svc.stats.zero();
            for d in svc.pool.lock().dests.iter() {
                d.stats.zero();
            }
        };
        match key {
            Some(k) => clear(Self::service(t, k)?),
            None => {
                t.services.values().for_each(|s| clear(s));
                self.stats.zero();
            }
        }
        Ok(())
    }

    /// One estimator tick over every counter of the namespace.
    pub(crate) fn estimate(&self) {
        self.stats.estimate();
        let t = self.tables.lock();
        for svc in t.services.values() {
            svc.stats.estimate();
            for d in svc.pool.lock().dests.iter() {
                d.stats.estimate();
            }
        }
    }

    /// lblc/lblcr cache expiry (IPVS runs it every minute).
    pub(crate) fn expire_sched_caches(&self, now: u64) {
        let lblc = jiffies_knob(&self.sysctl.lblc_expiration);
        let lblcr = jiffies_knob(&self.sysctl.lblcr_expiration);
        let t = self.tables.lock();
        for svc in t.services.values() {
            svc.pool.lock().sched.expire_caches(now, lblc, lblcr);
        }
    }
}

/// A knob kept in jiffies, as a duration (a negative one is none).
pub(crate) fn jiffies_knob(k: &core::sync::atomic::AtomicI32) -> u64 {
    u64::try_from(k.load(Relaxed)).unwrap_or(0)
}
