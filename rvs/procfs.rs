// SPDX-License-Identifier: GPL-2.0

//! The /proc files of the IPVS ABI (`ipvs_abi=1`), in IPVS's formats, which
//! ipvsadm (`-Lc`) and monitoring agents parse: `/proc/net/ip_vs`,
//! `/proc/net/ip_vs_conn` and `/proc/net/ip_vs_stats`.
//!
//! Each namespace has them from its creation ([`Files`], made by the
//! namespace's set-up in netns.rs). A file is a seq_file whose position 0
//! is the header and position n the n-th service (`ip_vs`) or hash bucket
//! (`ip_vs_conn`), so a long read resumes where it stopped without
//! rescanning.

use core::ffi::{c_int, c_uint, c_void};

use kernel::ffi::c_char;
use core::ptr::{null_mut, NonNull};
use core::sync::atomic::Ordering::Relaxed;

use kernel::{bindings, fmt, prelude::*, seq_file::SeqFile, seq_print};

use crate::conn::Conn;
use crate::kernel_services::jiffies;
use crate::rvs_core::abi::{self, fwd, svc_flags};
use crate::rvs_core::ctl::AF_INET6;
use crate::rvs_core::packet::{IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP};
use crate::service::{NetState, Service};

/// The files.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Services,
    Conns,
    Stats,
}

const SERVICES: u8 = Kind::Services as u8;
const CONNS: u8 = Kind::Conns as u8;

impl Kind {
    const ALL: [Kind; 3] = [Kind::Services, Kind::Conns, Kind::Stats];

    const fn of(k: u8) -> Self {
        match k {
            SERVICES => Kind::Services,
            CONNS => Kind::Conns,
            _ => Kind::Stats,
        }
    }

    fn name(self) -> &'static core::ffi::CStr {
        match self {
            Kind::Services => c"ip_vs",
            Kind::Conns => c"ip_vs_conn",
            Kind::Stats => c"ip_vs_stats",
        }
    }
}

/// An address as IPVS prints it: IPv4 as 8 hex digits of the host-order
/// value, IPv6 as `%pI6` (eight groups of four lowercase hex digits).
struct Addr<'a>(u16, &'a [u8; 16]);

impl fmt::Display for Addr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let a = self.1;
        if self.0 == AF_INET6 {
            for i in 0..8 {
                if i > 0 {
                    f.write_str(":")?;
                }
                write!(f, "{:04x}", u16::from_be_bytes([a[2 * i], a[2 * i + 1]]))?;
            }
            Ok(())
        } else {
            write!(f, "{:08X}", u32::from_be_bytes([a[0], a[1], a[2], a[3]]))
        }
    }
}

/// IPVS's `ip_vs_proto_name`.
struct ProtoName(u16);

impl fmt::Display for ProtoName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad`, so that a width in the format string applies.
        match u8::try_from(self.0) {
            Ok(0) => f.pad("IP"),
            Ok(IPPROTO_TCP) => f.pad("TCP"),
            Ok(IPPROTO_UDP) => f.pad("UDP"),
            Ok(IPPROTO_SCTP) => f.pad("SCTP"),
            Ok(IPPROTO_ICMP) => f.pad("ICMP"),
            Ok(IPPROTO_ICMPV6) => f.pad("ICMPv6"),
            _ => write!(f, "IP_{}", self.0),
        }
    }
}

fn fwd_name(flags: u32) -> &'static str {
    match flags & fwd::MASK {
        fwd::LOCALNODE => "Local",
        fwd::TUNNEL => "Tunnel",
        fwd::DROUTE => "Route",
        _ => "Masq",
    }
}

/// How many items (after the header) file `kind` has in `st`.
fn count(st: &NetState, kind: Kind) -> u64 {
    match kind {
        Kind::Services => u64::from(st.nr_services.load(Relaxed)),
        Kind::Conns => st.conns.nr_buckets() as u64,
        Kind::Stats => 0,
    }
}

/// Writes item `pos` (0: the header) of file `kind` into `m`.
fn show(m: &SeqFile, st: &NetState, kind: Kind, pos: u64) {
    match kind {
        Kind::Services => show_service(m, st, pos),
        Kind::Conns => show_conns(m, st, pos),
        Kind::Stats => show_stats(m, st),
    }
}

fn show_service(m: &SeqFile, st: &NetState, pos: u64) {
    if pos == 0 {
        let (a, b, c) = abi::version_parts(abi::IPVS_VERSION_CODE);
        seq_print!(m, "IP Virtual Server version {a}.{b}.{c} (size={})\n", crate::conn_tab_size());
        seq_print!(m, "Prot LocalAddress:Port Scheduler Flags\n");
        seq_print!(m, "  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n");
        return;
    }
    let tables = st.tables.lock();
    let Some(svc) = usize::try_from(pos - 1)
        .ok()
        .and_then(|i| tables.services.values().nth(i))
    else {
        return;
    };
    service_lines(m, svc);
}

fn service_lines(m: &SeqFile, svc: &Service) {
    let k = &svc.key;
    let sched = svc.sched_kind().name();
    let flags = svc.flags.load(Relaxed);
    let ops = if flags & svc_flags::ONEPACKET != 0 { "ops " } else { "" };
    if k.fwmark != 0 {
        seq_print!(m, "FWM  {:08X} {sched} {ops}", k.fwmark);
    } else if k.af == AF_INET6 {
        seq_print!(m, "{}  [{}]:{:04X} {sched} ", ProtoName(k.protocol), Addr(k.af, &k.addr), k.port);
    } else {
        seq_print!(m, "{}  {}:{:04X} {sched} {ops} ", ProtoName(k.protocol), Addr(k.af, &k.addr), k.port);
    }
    if flags & svc_flags::PERSISTENT != 0 {
        // IPVS prints its internal values: the timeout in jiffies and the
        // netmask byte-swapped from network order.
        let jiffies = u64::from(svc.timeout.load(Relaxed)) * u64::from(crate::conn::HZ);
        seq_print!(m, "persistent {} {:08X}\n", jiffies as i32, u32::from_be(svc.netmask.load(Relaxed)));
    } else {
        seq_print!(m, "\n");
    }
    let Ok(dests) = svc.dests() else {
        return;
    };
    for d in dests.iter() {
        let fwd = fwd_name(d.fwd.load(Relaxed));
        let (w, act, inact) = (
            d.weight.load(Relaxed),
            d.active_conns.load(Relaxed) as i32,
            d.inact_conns.load(Relaxed) as i32,
        );
        if d.key.af == AF_INET6 {
            seq_print!(
                m,
                "  -> [{}]:{:04X}      {fwd:<7} {w:<6} {act:<10} {inact:<10}\n",
                Addr(d.key.af, &d.key.addr),
                d.key.port
            );
        } else {
            seq_print!(
                m,
                "  -> {}:{:04X}      {fwd:<7} {w:<6} {act:<10} {inact:<10}\n",
                Addr(d.key.af, &d.key.addr),
                d.key.port
            );
        }
    }
}

fn show_conns(m: &SeqFile, st: &NetState, pos: u64) {
    if pos == 0 {
        seq_print!(
            m,
            "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n"
        );
        return;
    }
    let Ok(bucket) = usize::try_from(pos - 1) else {
        return;
    };
    let now = jiffies();
    let rcu = crate::rcu::read_lock();
    st.conns.for_each_in_bucket(&rcu, bucket, |c| conn_line(m, c, now));
}

fn conn_line(m: &SeqFile, c: &Conn, now: u64) {
    let state = c.state_name();
    let proto = ProtoName(u16::from(c.protocol));
    let secs = c.expires_in_ms(now) / 1000;
    let (ca, va, da) = (Addr(c.af, &c.caddr), Addr(c.af, &c.vaddr), Addr(c.daf, &c.daddr));
    seq_print!(
        m,
        "{:<3} {ca} {:04X} {va} {:04X} {da} {:04X} {state:<11} {secs:>7}\n",
        proto,
        c.cport,
        c.vport,
        c.dport
    );
}

fn show_stats(m: &SeqFile, st: &NetState) {
    let (s, r) = st.stats.read();
    seq_print!(m, "   Total Incoming Outgoing         Incoming         Outgoing\n");
    seq_print!(m, "   Conns  Packets  Packets            Bytes            Bytes\n");
    seq_print!(
        m,
        "{:8X} {:8X} {:8X} {:16X} {:16X}\n\n",
        s.conns,
        s.inpkts,
        s.outpkts,
        s.inbytes,
        s.outbytes
    );
    seq_print!(m, " Conns/s   Pkts/s   Pkts/s          Bytes/s          Bytes/s\n");
    seq_print!(
        m,
        "{:8X} {:8X} {:8X} {:16X} {:16X}\n",
        r.cps,
        r.inpps,
        r.outpps,
        r.inbps,
        r.outbps
    );
}

// The /proc registration functions are exported, but the kernel's
// bindings leave out <linux/proc_fs.h>.
extern "C" {
    fn proc_create_net_data(
        name: *const c_char,
        mode: bindings::umode_t,
        parent: *mut bindings::proc_dir_entry,
        ops: *const bindings::seq_operations,
        state_size: c_uint,
        data: *mut c_void,
    ) -> *mut bindings::proc_dir_entry;
    fn proc_create_net_single(
        name: *const c_char,
        mode: bindings::umode_t,
        parent: *mut bindings::proc_dir_entry,
        show: unsafe extern "C" fn(*mut bindings::seq_file, *mut c_void) -> c_int,
        data: *mut c_void,
    ) -> *mut bindings::proc_dir_entry;
    fn remove_proc_entry(name: *const c_char, parent: *mut bindings::proc_dir_entry);
}

/// The state a file shows: its /proc entry's data.
///
/// # Safety
///
/// `seq` is an open file of [`Files`], in one of its operations.
unsafe fn seq_state<'a>(seq: *mut bindings::seq_file) -> Option<&'a NetState> {
    // SAFETY: An open seq_file has its file and inode, whose private data
    // is the entry's data (`pde_data`): the state, which outlives the
    // files (`Files::create`).
    unsafe { (*(*(*seq).file).f_inode).i_private.cast::<NetState>().as_ref() }
}

unsafe extern "C" fn seq_start<const K: u8>(seq: *mut bindings::seq_file, pos: *mut bindings::loff_t) -> *mut c_void {
    // SAFETY: seq_file calls this for its open file with a valid position.
    let (pos, items) = unsafe { (*pos, seq_state(seq).map_or(0, |st| count(st, Kind::of(K)))) };
    // Position n goes to `show` as n + 1, never null.
    match u64::try_from(pos) {
        Ok(p) if p <= items => (p as usize + 1) as *mut c_void,
        _ => null_mut(),
    }
}

unsafe extern "C" fn seq_next<const K: u8>(
    seq: *mut bindings::seq_file,
    _v: *mut c_void,
    pos: *mut bindings::loff_t,
) -> *mut c_void {
    // SAFETY: As `seq_start`.
    unsafe {
        *pos += 1;
        seq_start::<K>(seq, pos)
    }
}

unsafe extern "C" fn seq_stop(_seq: *mut bindings::seq_file, _v: *mut c_void) {}

unsafe extern "C" fn seq_show<const K: u8>(seq: *mut bindings::seq_file, v: *mut c_void) -> c_int {
    // SAFETY: seq_file calls `show` for its open file, used by this thread
    // only for the duration of the call.
    let (m, st) = unsafe { (SeqFile::from_raw(seq), seq_state(seq)) };
    if let Some(st) = st {
        // `v` is a single file's null, or a position plus one.
        show(m, st, Kind::of(K), (v as usize as u64).saturating_sub(1));
    }
    0
}

const fn seq_ops<const K: u8>() -> bindings::seq_operations {
    bindings::seq_operations {
        start: Some(seq_start::<K>),
        next: Some(seq_next::<K>),
        stop: Some(seq_stop),
        show: Some(seq_show::<K>),
    }
}

static SERVICES_OPS: bindings::seq_operations = seq_ops::<SERVICES>();
static CONNS_OPS: bindings::seq_operations = seq_ops::<CONNS>();

/// A namespace's IPVS-ABI files; dropping the value removes them.
///
/// # Invariants
///
/// `parent` is a live namespace's `/proc/net`, holding every file of
/// [`Kind::ALL`].
pub(crate) struct Files {
    parent: NonNull<bindings::proc_dir_entry>,
}

// SAFETY: Only `drop` uses `parent`, and removing entries works from any
// thread.
unsafe impl Send for Files {}
// SAFETY: `Files` has no methods that take `&self`.
unsafe impl Sync for Files {}

impl Files {
    /// Creates the files of `st` in `net`.
    ///
    /// # Safety
    ///
    /// `net` is live, and both it and `st` outlive the returned value.
    pub(crate) unsafe fn create(net: NonNull<bindings::net>, st: &NetState) -> Result<Self> {
        // SAFETY: `net` is live (this function's contract).
        let parent = NonNull::new(unsafe { (*net.as_ptr()).proc_net }).ok_or(ENOENT)?;
        for (made, kind) in Kind::ALL.into_iter().enumerate() {
            let (name, data) = (kind.name().as_ptr().cast(), core::ptr::from_ref(st).cast_mut().cast());
            let size = core::mem::size_of::<bindings::seq_net_private>() as c_uint;
            // SAFETY: The name and the operations are static; the state
            // outlives the files (this function's contract).
            let pde = unsafe {
                match kind {
                    Kind::Services => proc_create_net_data(name, 0o444, parent.as_ptr(), &SERVICES_OPS, size, data),
                    Kind::Conns => proc_create_net_data(name, 0o444, parent.as_ptr(), &CONNS_OPS, size, data),
                    Kind::Stats => proc_create_net_single(name, 0o444, parent.as_ptr(), seq_show::<{ Kind::Stats as u8 }>, data),
                }
            };
            if pde.is_null() {
                remove(parent, made);
                return Err(ENOMEM);
            }
        }
        Ok(Self { parent })
    }
}

/// Removes the first `n` files of [`Kind::ALL`] from `parent`, waiting for
/// their running reads.
fn remove(parent: NonNull<bindings::proc_dir_entry>, n: usize) {
    for kind in Kind::ALL.into_iter().take(n) {
        // SAFETY: `parent` is a live namespace's `/proc/net`, which holds
        // the file.
        unsafe { remove_proc_entry(kind.name().as_ptr().cast(), parent.as_ptr()) };
    }
}

impl Drop for Files {
    fn drop(&mut self) {
        remove(self.parent, Kind::ALL.len());
    }
}
