// SPDX-License-Identifier: GPL-2.0

//! A real server: its settings, the connection counts its thresholds and
//! the schedulers read, its counters and its cached routes. Connections
//! hold it by `Arc`, so a deleted server lives on until the last one goes.

use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU64, Ordering::Relaxed};

use kernel::{prelude::*, sync::Arc};

use crate::rvs_core::ctl::{DestConf, DestKey, AF_INET6};
use crate::rvs_core::sched::{self, Addr, Family};
use crate::rvs_core::tunnel::TunnelConf;
use crate::route::RouteCache;
use crate::stats::Stats;

/// A real server.
#[pin_data]
pub(crate) struct Dest {
    pub(crate) key: DestKey,
    /// Forwarding method, one of `abi::fwd`.
    pub(crate) fwd: AtomicU32,
    pub(crate) weight: AtomicI32,
    /// Weight before it was last set to 0 (mh keeps its layout by it).
    pub(crate) last_weight: AtomicI32,
    pub(crate) u_threshold: AtomicU32,
    pub(crate) l_threshold: AtomicU32,
    /// The tunnel settings ([`TunnelConf::pack`]), in one word so that a
    /// packet never sees half of an edit.
    tunnel: AtomicU64,
    pub(crate) active_conns: AtomicU32,
    pub(crate) inact_conns: AtomicU32,
    pub(crate) persist_conns: AtomicU32,
    pub(crate) overloaded: AtomicBool,
    /// Cleared when the server is deleted: its connections carry on, new
    /// ones never go to it.
    pub(crate) available: AtomicBool,
    #[pin]
    pub(crate) stats: Stats,
    /// The service's counters, which this server's traffic also counts in.
    pub(crate) svc_stats: Arc<Stats>,
    /// Routes to the server: `[plain, known next hop]` (direct routing
    /// keeps the virtual address as the packet's destination).
    pub(crate) routes: [RouteCache; 2],
}

impl Dest {
    pub(crate) fn new(key: DestKey, conf: DestConf, svc_stats: Arc<Stats>) -> Result<Arc<Self>> {
        let v6 = key.af == AF_INET6;
        let routes = [RouteCache::new(v6)?, RouteCache::new(v6)?];
        Arc::pin_init(
            try_pin_init!(Self {
                key,
                fwd: AtomicU32::new(conf.fwd),
                weight: AtomicI32::new(conf.weight),
                last_weight: AtomicI32::new(conf.weight),
                u_threshold: AtomicU32::new(conf.u_threshold),
                l_threshold: AtomicU32::new(conf.l_threshold),
                tunnel: AtomicU64::new(conf.tunnel.pack()),
                active_conns: AtomicU32::new(0),
                inact_conns: AtomicU32::new(0),
                persist_conns: AtomicU32::new(0),
                overloaded: AtomicBool::new(false),
                available: AtomicBool::new(true),
                stats <- Stats::new(),
                svc_stats,
                routes,
            }),
            GFP_KERNEL,
        )
    }

    pub(crate) fn set_conf(&self, conf: &DestConf) {
        self.fwd.store(conf.fwd, Relaxed);
        if conf.weight > 0 {
            self.last_weight.store(conf.weight, Relaxed);
        }
        self.weight.store(conf.weight, Relaxed);
        self.u_threshold.store(conf.u_threshold, Relaxed);
        self.l_threshold.store(conf.l_threshold, Relaxed);
        self.tunnel.store(conf.tunnel.pack(), Relaxed);
        self.update_overload();
    }

    /// How packets tunnelled to this server are encapsulated.
    pub(crate) fn tunnel(&self) -> TunnelConf {
        TunnelConf::unpack(self.tunnel.load(Relaxed))
    }

    /// Connections counted against the thresholds, as IPVS counts them.
    pub(crate) fn total_conns(&self) -> u32 {
        self.active_conns
            .load(Relaxed)
            .saturating_add(self.inact_conns.load(Relaxed))
    }

    /// IPVS's overload rule: set at the upper threshold; cleared below the
    /// lower one, or below 3/4 of the upper when only that is set.
    pub(crate) fn update_overload(&self) {
        let total = u64::from(self.total_conns());
        let u = u64::from(self.u_threshold.load(Relaxed));
        let l = u64::from(self.l_threshold.load(Relaxed));
        if u != 0 && total >= u {
            self.overloaded.store(true, Relaxed);
        } else if l != 0 {
            if total < l {
                self.overloaded.store(false, Relaxed);
            }
        } else if u != 0 {
            if total * 4 < u * 3 {
                self.overloaded.store(false, Relaxed);
            }
        } else {
            self.overloaded.store(false, Relaxed);
        }
    }

    /// The address as the schedulers see it.
    pub(crate) fn sched_addr(&self) -> Addr {
        to_sched_addr(self.key.af, &self.key.addr)
    }
}

impl sched::Dest for Arc<Dest> {
    fn weight(&self) -> i32 {
        self.weight.load(Relaxed)
    }
    fn last_weight(&self) -> i32 {
        self.last_weight.load(Relaxed)
    }
    fn active_conns(&self) -> u32 {
        self.active_conns.load(Relaxed)
    }
    fn total_conns(&self) -> u32 {
        Dest::total_conns(self)
    }
    fn overloaded(&self) -> bool {
        self.overloaded.load(Relaxed)
    }
    fn available(&self) -> bool {
        self.available.load(Relaxed)
    }
    fn addr(&self) -> Addr {
        self.sched_addr()
    }
    fn port(&self) -> u16 {
        self.key.port
    }
}

pub(crate) fn to_sched_addr(af: u16, a: &[u8; 16]) -> Addr {
    if af == AF_INET6 {
        Addr::v6(*a)
    } else {
        Addr::v4([a[0], a[1], a[2], a[3]])
    }
}

pub(crate) fn family_of(af: u16) -> Family {
    if af == AF_INET6 {
        Family::Inet6
    } else {
        Family::Inet
    }
}
