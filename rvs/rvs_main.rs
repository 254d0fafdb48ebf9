// SPDX-License-Identifier: GPL-2.0

//! rvs: Linux Virtual Server in Rust.
//!
//! A netfilter-based layer-4 load balancer with the semantics of the
//! kernel's IPVS, administered over the `rvs` generic netlink family by
//! `rvsadm`. See Documentation/design.md.

use kernel::prelude::*;

mod conn;
mod conn_table;
mod conntrack;
mod core_hooks;
mod ctl;
mod defense;
mod dest;
mod genl;
mod kernel_services;
mod net;
mod netns;
mod nf;
mod nfct;
mod pkt;
mod procfs;
mod proto;
mod rcu;
mod rcu_chain;
mod route;
// Shared with rvsadm and the host tests: not every item is used here.
#[allow(dead_code, unused_imports, unreachable_pub)]
#[path = "core/src/lib.rs"]
mod rvs_core;
mod sched;
mod service;
mod skb;
mod sockopt;
mod stats;
mod svc_hash;
mod sync;
mod sync_io;
mod sysctl;
mod xmit;

module! {
    type: RvsModule,
    name: "rvs",
    authors: ["rvs developers"],
    description: "Linux Virtual Server in Rust",
    license: "GPL",
    params: {
        conn_tab_bits: u32 {
            default: 12,
            description: "Connection hash table size, as a power of two (8..20, default 12)",
        },
        ipvs_abi: u32 {
            default: 0,
            description: "1: also serve the kernel IPVS ABI (the IPVS genetlink family, /proc/net/ip_vs*, net.ipv4.vs.*) for ipvsadm and keepalived",
        },
        max_conns: u32 {
            default: 1048576,
            description: "Most connection entries per namespace; new connections beyond it are dropped (0: no limit)",
        },
        drop_entry: u32 {
            default: 0,
            description: "Each namespace's first drop_entry (net.rvs.drop_entry, IPVS's modes 0-3; 1: drop half-open and stale entries while memory is short or the table nearly full)",
        },
        amemthresh: u32 {
            default: 1024,
            description: "Each namespace's first amemthresh (net.rvs.amemthresh): free pages below which memory counts as short for the defence (default 1024)",
        },
    },
}

/// The module's version, reported by GET_INFO.
pub(crate) const MODULE_VERSION: &CStr = c"0.1.0";

/// Number of connection hash table buckets, from `conn_tab_bits`.
pub(crate) fn conn_tab_size() -> u32 {
    rvs_core::abi::conn_tab_size(module_parameters::conn_tab_bits.value())
}

/// The `max_conns` cap (`u32::MAX` for none).
pub(crate) fn max_conns() -> u32 {
    match module_parameters::max_conns.value() {
        0 => u32::MAX,
        n => n,
    }
}

/// `drop_entry`'s first value in a namespace (then its knob).
pub(crate) fn drop_entry_param() -> u32 {
    module_parameters::drop_entry.value()
}

/// `amemthresh`'s first value in a namespace, in pages (then its knob).
pub(crate) fn amemthresh() -> u32 {
    module_parameters::amemthresh.value()
}

/// `conn_tab_bits`, clamped as IPVS clamps it.
pub(crate) fn conn_tab_bits() -> u32 {
    conn_tab_size().trailing_zeros()
}

#[pin_data(PinnedDrop)]
struct RvsModule {
    // Fields drop in order: the families and files go first, so nothing
    // reaches the per-namespace state while it is torn down.
    ipvs_sockopt: Option<sockopt::Registration>,
    ipvs_files: Option<netns::AbiRegistration>,
    ipvs_genl: Option<genl::Registration>,
    genl: genl::Registration,
    pernet: netns::Registration,
    route_events: route::RouteEvents,
    barrier: RvsUnloadBarrier,
}

impl kernel::InPlaceModule for RvsModule {
    fn init(_module: &'static ThisModule) -> impl PinInit<Self, Error> {
        let bits = module_parameters::conn_tab_bits.value();
        let abi = match module_parameters::ipvs_abi.value() {
            0 => Ok(false),
            1 => Ok(true),
            v => {
                pr_err!("ipvs_abi={} is not 0 or 1\n", v);
                Err(EINVAL)
            }
        };
        let abi_on = abi == Ok(true);
        let size = conn_tab_size();
        if size != 1 << bits {
            pr_warn!("conn_tab_bits {} out of range, using {} buckets\n", bits, size);
        }
        try_pin_init!(Self {
            // A bad parameter stops the load before anything is registered.
            barrier: abi.map(|_| RvsUnloadBarrier)?,
            // SAFETY: Module load, once; real servers come only with the
            // families registered after it.
            route_events: unsafe { route::RouteEvents::register()? },
            pernet: netns::Registration::register()?,
            genl: ctl::FAMILY.register()?,
            ipvs_genl: if abi_on { Some(register_ipvs_family()?) } else { None },
            ipvs_files: if abi_on { Some(netns::AbiRegistration::register()?) } else { None },
            ipvs_sockopt: if abi_on { Some(sockopt::Registration::register()?) } else { None },
        })
        .pin_chain(move |_| {
            pr_info!(
                "rvs {} loaded: connection table {} buckets{}\n",
                MODULE_VERSION,
                size,
                if abi_on { ", IPVS ABI" } else { "" }
            );
            Ok(())
        })
    }
}

/// Registers the `IPVS` family, explaining the usual reason it fails.
fn register_ipvs_family() -> Result<genl::Registration> {
    ctl::IPVS_FAMILY.register().inspect_err(|e| {
        if *e == EEXIST {
            pr_err!("ipvs_abi=1: the IPVS netlink family is taken; unload ip_vs first\n");
        }
    })
}

#[pinned_drop]
impl PinnedDrop for RvsModule {
    fn drop(self: Pin<&mut Self>) {
        pr_info!("rvs unloading\n");
    }
}

impl Drop for RvsUnloadBarrier {
    fn drop(&mut self) {
        // RCU callbacks queued by rvs are rvs's code: let them all run
        // before the module's text goes away. A barrier does not wait for
        // callbacks queued while it waits, and freeing a connection or a
        // service can drop the last reference to a real server, whose
        // route cache then queues its route's release: a second barrier
        // waits for those.
        rcu::barrier();
        rcu::barrier();
    }
}

/// Dropped last: waits for rvs's pending RCU callbacks.
struct RvsUnloadBarrier;
