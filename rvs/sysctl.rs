// SPDX-License-Identifier: GPL-2.0

//! A namespace's knobs: `net.rvs.*`, and with the IPVS ABI the same ints as
//! `net.ipv4.vs.*` (IPVS's names, ranges and checks), so sysctl.conf lines
//! and keepalived's writes work on either.
//!
//! C header: [`include/linux/sysctl.h`](srctree/include/linux/sysctl.h)

use core::ffi::{c_int, c_void, CStr};
use core::mem::size_of;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicI32, Ordering::Relaxed};

use kernel::{bindings, prelude::*};

use crate::rvs_core::defense::valid_mode;
use crate::rvs_core::sched::cache::default_expiration;
use crate::rvs_core::sync::{sync_ports_valid, sync_threshold_valid};

/// The `net.rvs.*` sysctls of a namespace (IPVS's `net.ipv4.vs.*` of the
/// same names); plain ints the sysctl handler writes.
pub(crate) struct Sysctls {
    /// Expire (and reschedule) connections whose real server was deleted
    /// when their next packet comes, and flush them in the background.
    pub(crate) expire_nodest_conn: AtomicI32,
    /// Reschedule a new SYN on a port whose connection is closing.
    pub(crate) conn_reuse_mode: AtomicI32,
    /// Drop persistence templates of quiescent (weight 0) servers.
    pub(crate) expire_quiescent_template: AtomicI32,
    /// Any TCP packet, not only a SYN, may start a connection (for
    /// directors that take over flows from another one).
    pub(crate) sloppy_tcp: AtomicI32,
    /// Any SCTP packet but an ABORT, not only an INIT, may start an
    /// association.
    pub(crate) sloppy_sctp: AtomicI32,
    /// Answer a real server's packet for which no connection exists with
    /// ICMP port unreachable (NAT).
    pub(crate) nat_icmp_send: AtomicI32,
    /// Route NAT replies again after their source became the VIP.
    pub(crate) snat_reroute: AtomicI32,
    /// Connection sync, as IPVS's knobs (see Documentation/sync.md):
    /// send at the `[0]`th client packet and every `[1]` after.
    pub(crate) sync_threshold: [AtomicI32; 2],
    /// Resend when the end time moved by more than this (jiffies; 0: the
    /// threshold rule instead).
    pub(crate) sync_refresh_period: AtomicI32,
    pub(crate) sync_retries: AtomicI32,
    /// 1: connections under a persistence template are not sent.
    pub(crate) sync_persist_mode: AtomicI32,
    pub(crate) sync_version: AtomicI32,
    /// Sync threads (and UDP ports) per daemon, taken when the first
    /// daemon starts.
    pub(crate) sync_ports: AtomicI32,
    /// Most queued sync datagrams' worth of entries per master thread.
    pub(crate) sync_qlen_max: AtomicI32,
    /// SO_SNDBUF / SO_RCVBUF of the sync sockets (0: the default).
    pub(crate) sync_sock_size: AtomicI32,
    /// 1: no forwarding while the backup daemon runs.
    pub(crate) backup_only: AtomicI32,
    /// rvs: seconds between the master's refresh walks over its table
    /// (0: none).
    pub(crate) sync_refresh_walk: AtomicI32,
    /// rvs: most entries a second that refresh walks and full resyncs
    /// send.
    pub(crate) sync_resync_rate: AtomicI32,
    /// 0: a tunnel neither copies an IPv4 packet's DF bit to its outer
    /// header nor answers "fragmentation needed" for it: the packet is
    /// fragmented after encapsulation.
    pub(crate) pmtu_disc: AtomicI32,
    /// 0: the rate estimator stops (rates keep their last values).
    pub(crate) run_estimation: AtomicI32,
    /// How long an lblc / lblcr cache entry may go unused (jiffies; lblcr
    /// also drops a server from a set unchanged for this long).
    pub(crate) lblc_expiration: AtomicI32,
    pub(crate) lblcr_expiration: AtomicI32,
    /// Connections keep their netfilter conntrack entries in step with
    /// NAT, so iptables/nftables rules (MASQUERADE) apply to them; 0: rvs's
    /// packets leave untracked. Any non-zero value is on, as in IPVS.
    pub(crate) conntrack: AtomicI32,
    /// A firewall-mark service with no server to take a new flow sends it
    /// on to its own destination (a transparent cache cluster's caches
    /// all down).
    pub(crate) cache_bypass: AtomicI32,
    /// An ICMP error from the client's side about a flow the director has
    /// no connection for is scheduled as that flow would be (another
    /// director's flow, under ECMP).
    pub(crate) schedule_icmp: AtomicI32,
    /// Packets of protocols rvs does not balance (IPIP, GRE, ...) are
    /// marked as IPVS's, so no later hook of rvs looks at them.
    pub(crate) ignore_tunneled: AtomicI32,
    /// IPVS's debug log level (its `CONFIG_IP_VS_DEBUG` output); rvs
    /// writes no such log.
    pub(crate) debug_level: AtomicI32,
    /// The defence (`defense.rs`): pages of free memory below which
    /// memory counts as short, and the three strategies' modes (0 never,
    /// 1 automatic, 2 automatic and in force, 3 always).
    pub(crate) amemthresh: AtomicI32,
    pub(crate) drop_entry: AtomicI32,
    pub(crate) drop_packet: AtomicI32,
    pub(crate) secure_tcp: AtomicI32,
    /// `drop_packet=3` refuses one new connection in this many.
    pub(crate) am_droprate: AtomicI32,
}

impl Sysctls {
    pub(crate) fn new() -> Self {
        // IPVS's default queue limit: a 32nd of the free buffer pages.
        // SAFETY: Reads a memory counter; any context.
        let pages = unsafe { kernel::bindings::nr_free_buffer_pages() };
        Self {
            expire_nodest_conn: AtomicI32::new(0),
            conn_reuse_mode: AtomicI32::new(1),
            expire_quiescent_template: AtomicI32::new(0),
            sloppy_tcp: AtomicI32::new(0),
            sloppy_sctp: AtomicI32::new(0),
            nat_icmp_send: AtomicI32::new(0),
            snat_reroute: AtomicI32::new(1),
            sync_threshold: [AtomicI32::new(3), AtomicI32::new(50)],
            sync_refresh_period: AtomicI32::new(0),
            sync_retries: AtomicI32::new(0),
            sync_persist_mode: AtomicI32::new(0),
            sync_version: AtomicI32::new(1),
            sync_ports: AtomicI32::new(1),
            sync_qlen_max: AtomicI32::new(i32::try_from(pages / 32).unwrap_or(i32::MAX).max(1)),
            sync_sock_size: AtomicI32::new(0),
            backup_only: AtomicI32::new(0),
            sync_refresh_walk: AtomicI32::new(10),
            sync_resync_rate: AtomicI32::new(20000),
            pmtu_disc: AtomicI32::new(1),
            run_estimation: AtomicI32::new(1),
            lblc_expiration: AtomicI32::new(DEFAULT_LBLC_EXPIRATION),
            lblcr_expiration: AtomicI32::new(DEFAULT_LBLC_EXPIRATION),
            debug_level: AtomicI32::new(0),
            conntrack: AtomicI32::new(0),
            cache_bypass: AtomicI32::new(0),
            schedule_icmp: AtomicI32::new(0),
            ignore_tunneled: AtomicI32::new(0),
            // The module parameters of the same names start them.
            amemthresh: AtomicI32::new(i32::try_from(crate::amemthresh()).unwrap_or(i32::MAX)),
            drop_entry: AtomicI32::new(crate::drop_entry_param().clamp(0, 3) as i32),
            drop_packet: AtomicI32::new(0),
            secure_tcp: AtomicI32::new(0),
            am_droprate: AtomicI32::new(10),
        }
    }
}

/// lblc's and lblcr's default expiration, in jiffies.
const DEFAULT_LBLC_EXPIRATION: i32 = {
    let j = default_expiration(crate::conn::HZ);
    if j > i32::MAX as u64 { i32::MAX } else { j as i32 }
};

/// How writes to a knob are checked.
enum Check {
    /// An int within `[min, max]`; the handler reads the bounds from here.
    Range(c_int, c_int),
    /// A time kept in jiffies, read and written in seconds.
    Jiffies,
    /// `sync_threshold`'s two ints.
    SyncThreshold,
    /// `sync_ports`.
    SyncPorts,
    /// A defence mode, 0 to 3 (EINVAL otherwise).
    DefenseMode,
    /// Any int (IPVS's booleans that are on when not 0).
    Any,
    /// Any int, as IPVS's `conntrack`; absent from a kernel without
    /// conntrack, as IPVS's is.
    Conntrack,
}

struct Knob {
    name: &'static CStr,
    check: Check,
    /// IPVS has it too, so it is in `net.ipv4.vs` as well as `net.rvs`.
    ipvs: bool,
    /// The knob's (first) int.
    value: fn(&Sysctls) -> &AtomicI32,
}

const INT_MAX: c_int = c_int::MAX;

static KNOBS: [Knob; 32] = [
    Knob { name: c"expire_nodest_conn", check: Check::Range(0, 1), ipvs: true, value: |s| &s.expire_nodest_conn },
    Knob { name: c"conn_reuse_mode", check: Check::Range(0, 3), ipvs: true, value: |s| &s.conn_reuse_mode },
    Knob {
        name: c"expire_quiescent_template",
        check: Check::Range(0, 1),
        ipvs: true,
        value: |s| &s.expire_quiescent_template,
    },
    Knob { name: c"sloppy_tcp", check: Check::Range(0, 1), ipvs: true, value: |s| &s.sloppy_tcp },
    Knob { name: c"sloppy_sctp", check: Check::Range(0, 1), ipvs: true, value: |s| &s.sloppy_sctp },
    Knob { name: c"nat_icmp_send", check: Check::Range(0, 1), ipvs: true, value: |s| &s.nat_icmp_send },
    Knob { name: c"snat_reroute", check: Check::Range(0, 1), ipvs: true, value: |s| &s.snat_reroute },
    Knob { name: c"sync_threshold", check: Check::SyncThreshold, ipvs: true, value: |s| &s.sync_threshold[0] },
    Knob { name: c"sync_refresh_period", check: Check::Jiffies, ipvs: true, value: |s| &s.sync_refresh_period },
    Knob { name: c"sync_retries", check: Check::Range(0, 3), ipvs: true, value: |s| &s.sync_retries },
    Knob { name: c"sync_persist_mode", check: Check::Range(0, 1), ipvs: true, value: |s| &s.sync_persist_mode },
    Knob { name: c"sync_version", check: Check::Range(0, 1), ipvs: true, value: |s| &s.sync_version },
    Knob { name: c"sync_ports", check: Check::SyncPorts, ipvs: true, value: |s| &s.sync_ports },
    Knob { name: c"sync_qlen_max", check: Check::Range(1, INT_MAX), ipvs: true, value: |s| &s.sync_qlen_max },
    Knob { name: c"sync_sock_size", check: Check::Range(0, INT_MAX), ipvs: true, value: |s| &s.sync_sock_size },
    Knob { name: c"backup_only", check: Check::Range(0, 1), ipvs: true, value: |s| &s.backup_only },
    Knob { name: c"pmtu_disc", check: Check::Range(0, 1), ipvs: true, value: |s| &s.pmtu_disc },
    Knob { name: c"run_estimation", check: Check::Range(0, 1), ipvs: true, value: |s| &s.run_estimation },
    Knob { name: c"lblc_expiration", check: Check::Jiffies, ipvs: true, value: |s| &s.lblc_expiration },
    Knob { name: c"lblcr_expiration", check: Check::Jiffies, ipvs: true, value: |s| &s.lblcr_expiration },
    Knob { name: c"debug_level", check: Check::Range(0, INT_MAX), ipvs: true, value: |s| &s.debug_level },
    Knob { name: c"amemthresh", check: Check::Any, ipvs: true, value: |s| &s.amemthresh },
    Knob { name: c"am_droprate", check: Check::Any, ipvs: true, value: |s| &s.am_droprate },
    Knob { name: c"drop_entry", check: Check::DefenseMode, ipvs: true, value: |s| &s.drop_entry },
    Knob { name: c"drop_packet", check: Check::DefenseMode, ipvs: true, value: |s| &s.drop_packet },
    Knob { name: c"secure_tcp", check: Check::DefenseMode, ipvs: true, value: |s| &s.secure_tcp },
    Knob { name: c"cache_bypass", check: Check::Any, ipvs: true, value: |s| &s.cache_bypass },
    Knob { name: c"schedule_icmp", check: Check::Any, ipvs: true, value: |s| &s.schedule_icmp },
    Knob { name: c"ignore_tunneled", check: Check::Any, ipvs: true, value: |s| &s.ignore_tunneled },
    Knob { name: c"conntrack", check: Check::Conntrack, ipvs: true, value: |s| &s.conntrack },
    // rvs's own (Documentation/sync.md).
    Knob { name: c"sync_refresh_walk", check: Check::Range(0, INT_MAX), ipvs: false, value: |s| &s.sync_refresh_walk },
    Knob { name: c"sync_resync_rate", check: Check::Range(1, INT_MAX), ipvs: false, value: |s| &s.sync_resync_rate },
];

/// Where a table of knobs appears.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tree {
    /// `net.rvs`: every knob.
    Rvs,
    /// `net.ipv4.vs` (IPVS ABI): the knobs IPVS has.
    Ipvs,
}

/// A registered table of knobs; dropping it unregisters the table.
///
/// # Invariants
///
/// `hdr` is the registration of `entries`, whose data point into a
/// [`Sysctls`] that outlives this value.
pub(crate) struct Table {
    hdr: NonNull<bindings::ctl_table_header>,
    _entries: KVec<bindings::ctl_table>,
}

// SAFETY: The entries are not touched after registration but by the sysctl
// core (which has its own locking), and `drop` may run on any thread.
unsafe impl Send for Table {}
// SAFETY: `Table` has no methods that take `&self`.
unsafe impl Sync for Table {}

impl Table {
    /// Registers the knobs of `tree` in `net`, backed by `knobs`.
    ///
    /// # Safety
    ///
    /// `net` is live, and `knobs` stays at its address and outlives the
    /// returned table.
    pub(crate) unsafe fn register(net: *mut bindings::net, tree: Tree, knobs: &Sysctls) -> Result<Self> {
        let mut entries = KVec::new();
        for k in KNOBS.iter().filter(|k| tree == Tree::Rvs || k.ipvs) {
            let mut e = bindings::ctl_table {
                procname: k.name.as_ptr().cast(),
                data: (k.value)(knobs).as_ptr().cast(),
                maxlen: size_of::<c_int>() as c_int,
                mode: 0o644,
                ..Default::default()
            };
            match &k.check {
                Check::Range(min, max) => {
                    e.proc_handler = Some(bindings::proc_dointvec_minmax);
                    e.extra1 = core::ptr::from_ref(min).cast_mut().cast();
                    e.extra2 = core::ptr::from_ref(max).cast_mut().cast();
                }
                Check::Jiffies => e.proc_handler = Some(bindings::proc_dointvec_jiffies),
                Check::SyncThreshold => {
                    e.maxlen = 2 * size_of::<c_int>() as c_int;
                    e.proc_handler = Some(checked_ints::<2, SyncThreshold>);
                }
                Check::SyncPorts => e.proc_handler = Some(checked_ints::<1, SyncPorts>),
                Check::DefenseMode => e.proc_handler = Some(checked_ints::<1, DefenseMode>),
                Check::Conntrack if !crate::conntrack::available() => continue,
                Check::Any | Check::Conntrack => e.proc_handler = Some(bindings::proc_dointvec),
            }
            entries.push(e, GFP_KERNEL)?;
        }
        let path = match tree {
            Tree::Rvs => c"net/rvs",
            Tree::Ipvs => c"net/ipv4/vs",
        };
        // SAFETY: `net` is live; the entries' names and bounds are static,
        // their data outlive the table (this function's contract), and the
        // vector's buffer does not move while the table is registered.
        let hdr = unsafe { bindings::register_net_sysctl_sz(net, path.as_ptr().cast(), entries.as_ptr(), entries.len()) };
        let hdr = NonNull::new(hdr).ok_or(ENOMEM)?;
        Ok(Self { hdr, _entries: entries })
    }
}

impl Drop for Table {
    fn drop(&mut self) {
        // SAFETY: Registered in `register` (type invariants); unregistering
        // waits for running handlers, so the entries may go afterwards.
        unsafe { bindings::unregister_net_sysctl_table(self.hdr.as_ptr()) };
    }
}

/// A knob of `N` ints whose writes are checked as a whole.
trait Checked<const N: usize> {
    /// Whether `new` may replace `old`; the errno to refuse it with.
    fn check(new: &[c_int; N], old: &[c_int; N]) -> Result;
}

/// `sync_threshold`: the threshold below the period, or a period of 0.
struct SyncThreshold;

impl Checked<2> for SyncThreshold {
    fn check(v: &[c_int; 2], _: &[c_int; 2]) -> Result {
        if sync_threshold_valid(v[0], v[1]) { Ok(()) } else { Err(EINVAL) }
    }
}

/// `sync_ports`: a power of two up to 64.
struct SyncPorts;

impl Checked<1> for SyncPorts {
    fn check(v: &[c_int; 1], _: &[c_int; 1]) -> Result {
        if sync_ports_valid(v[0]) { Ok(()) } else { Err(EINVAL) }
    }
}

/// `drop_entry`, `drop_packet`, `secure_tcp`: 0 to 3.
struct DefenseMode;

impl Checked<1> for DefenseMode {
    fn check(new: &[c_int; 1], _: &[c_int; 1]) -> Result {
        if valid_mode(new[0]) { Ok(()) } else { Err(EINVAL) }
    }
}

/// The handler of a [`Checked`] knob: reads or writes its `N` ints through
/// a copy and stores a write only when the whole of it is valid, so a
/// refused write changes nothing.
///
/// # Safety
///
/// Called by the sysctl core with a table entry of `N` ints.
unsafe extern "C" fn checked_ints<const N: usize, C: Checked<N>>(
    table: *const bindings::ctl_table,
    dir: c_int,
    buf: *mut c_void,
    lenp: *mut usize,
    ppos: *mut bindings::loff_t,
) -> c_int {
    // SAFETY: The entry is one of `Table::register`'s, whose data are `N`
    // ints in a live `Sysctls` (`AtomicI32` has `int`'s layout).
    let (mode, vars) = unsafe { ((*table).mode, core::slice::from_raw_parts((*table).data.cast::<AtomicI32>(), N)) };
    let old: [c_int; N] = core::array::from_fn(|i| vars.get(i).map_or(0, |v| v.load(Relaxed)));
    let mut val = old;
    let tmp = bindings::ctl_table {
        data: val.as_mut_ptr().cast(),
        maxlen: size_of::<[c_int; N]>() as c_int,
        mode,
        ..Default::default()
    };
    // SAFETY: `tmp` describes `val`; the rest is the caller's.
    let rc = unsafe { bindings::proc_dointvec(&tmp, dir, buf, lenp, ppos) };
    if dir != 0 && rc == 0 {
        if let Err(e) = C::check(&val, &old) {
            return e.to_errno();
        }
        for (var, v) in vars.iter().zip(val) {
            var.store(v, Relaxed);
        }
    }
    rc
}
