// SPDX-License-Identifier: GPL-2.0

//! The /proc files of the IPVS ABI (`ipvs_abi=1`), in IPVS's formats, which
//! ipvsadm (`-Lc`) and monitoring agents parse: `/proc/net/ip_vs`,
//! `/proc/net/ip_vs_conn` and `/proc/net/ip_vs_stats`.
//!
//! rvs_helpers.c owns the seq_file plumbing; it asks [`rvs_proc_count`] how
//! many items a file has and [`rvs_proc_show`] to write one. Item 0 is the
//! header; for `ip_vs` item n is the n-th service, for `ip_vs_conn` the
//! n-th hash bucket, so a long read resumes where it stopped.

use core::ffi::{c_int, c_long};
use core::sync::atomic::Ordering::Relaxed;

use kernel::{bindings, fmt, seq_file::SeqFile, seq_print};

use crate::conn::{flags as cf, jiffies, Conn};
use crate::netns::NetRef;
use crate::netns;
use crate::rvs_core::abi::{self, fwd, svc_flags};
use crate::rvs_core::ctl::AF_INET6;
use crate::rvs_core::packet::{IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP};
use crate::rvs_core::proto::{template_state_name, TcpState, UDP_STATE_NAME};
use crate::service::{NetState, Service};

const PROC_SERVICES: c_long = 0;
const PROC_CONNS: c_long = 1;
const PROC_STATS: c_long = 2;

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

/// How many items (after the header) file `kind` of `net` has.
#[no_mangle]
unsafe extern "C" fn rvs_proc_count(net: *mut bindings::net, kind: c_long) -> u64 {
    let Some(net) = core::ptr::NonNull::new(net) else {
        return 0;
    };
    // SAFETY: The file belongs to the live namespace while it is read.
    let net = unsafe { NetRef::from_raw(net) };
    let Some(st) = netns::state(net) else {
        return 0;
    };
    match kind {
        PROC_SERVICES => u64::from(st.nr_services.load(Relaxed)),
        PROC_CONNS => st.conns.nr_buckets() as u64,
        _ => 0,
    }
}

/// Writes item `pos` (0: the header) of file `kind` of `net` into `seq`.
#[no_mangle]
unsafe extern "C" fn rvs_proc_show(
    seq: *mut bindings::seq_file,
    net: *mut bindings::net,
    kind: c_long,
    pos: u64,
) -> c_int {
    let Some(net) = core::ptr::NonNull::new(net) else {
        return 0;
    };
    // SAFETY: seq_file calls `show` with its own seq_file, used by this
    // thread only for the duration of the call.
    let m = unsafe { SeqFile::from_raw(seq) };
    // SAFETY: The file belongs to the live namespace while it is read.
    let net = unsafe { NetRef::from_raw(net) };
    let Some(st) = netns::state(net) else {
        return 0;
    };
    match kind {
        PROC_SERVICES => show_service(m, st, pos),
        PROC_CONNS => show_conns(m, st, pos),
        PROC_STATS => show_stats(m, st),
        _ => {}
    }
    0
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
    let tmpl = c.flags.load(Relaxed) & cf::TEMPLATE != 0;
    let state = match (c.protocol, tmpl) {
        (_, true) => template_state_name(c.state.load(Relaxed)),
        (IPPROTO_TCP, false) => TcpState::name_of(c.state.load(Relaxed)),
        (17, false) => UDP_STATE_NAME,
        _ => "NONE",
    };
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

/// The IPVS ABI's per-namespace files; unregistering removes them from
/// every namespace.
pub(crate) struct Registration(());

extern "C" {
    fn rvs_ipvs_files_register() -> c_int;
    fn rvs_ipvs_files_unregister();
}

impl Registration {
    /// Creates the files in every namespace, now and as namespaces appear.
    pub(crate) fn register() -> kernel::error::Result<Self> {
        // SAFETY: Called once, from module init, after rvs's own
        // per-namespace state is registered.
        kernel::error::to_result(unsafe { rvs_ipvs_files_register() })?;
        Ok(Self(()))
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        // SAFETY: Registered in `register`.
        unsafe { rvs_ipvs_files_unregister() };
    }
}
