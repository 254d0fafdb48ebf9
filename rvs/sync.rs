// SPDX-License-Identifier: GPL-2.0

//! Connection synchronisation between directors, as IPVS's `ip_vs_sync.c`:
//! a master daemon multicasts the connections it forwards, a backup daemon
//! receives them into its own table, on IPVS's wire format (encoded and
//! decoded in `rvs_core::sync`), so IPVS and rvs directors back each other
//! up.
//!
//! rvs adds, invisibly to an IPVS peer: a full resync (a backup that starts
//! asks the masters for their whole table), a refresh walk (entries that
//! never reached their sync threshold, or that stay idle, are sent again
//! before the backup's copy could expire), and sequence numbers and
//! counters.
//!
//! Threads: per daemon and per sync port one kernel thread; a master's
//! packet path only queues (a bounded ring under a spinlock), its thread
//! encodes and sends. The daemons are stopped before the namespace's state
//! goes (`SyncState::stop_all` from `net_exit`).

use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::*};

use kernel::{
    new_mutex, new_spinlock_irq,
    prelude::*,
    sync::{Arc, Mutex, SpinLockIrq},
};

use crate::conn::{self, flags as cf, Conn, ConnParams, Target};
use crate::conn_table::{ConnTable, Side, Tuple};
use crate::kernel_services::{self, random_bytes};
use crate::net::NetRef;
use crate::rcu::{RcuArc, ReadSide};
use crate::rvs_core::ctl::{errno, CtlError, AF_INET, AF_INET6};
use crate::rvs_core::packet::{IPPROTO_SCTP, IPPROTO_TCP};
use crate::rvs_core::proto::TcpState;
use crate::rvs_core::sctp::SctpState;
use crate::rvs_core::sync::{self as wire, SyncConn};
use crate::service::NetState;
use crate::sync_io::{self, should_stop, sleep_ms, Group, Socket, Thread, ThreadShared, Worker};

/// Daemon states, as IPVS's `IP_VS_STATE_*`.
pub(crate) use crate::rvs_core::abi::daemon_state::{BACKUP as STATE_BACKUP, MASTER as STATE_MASTER};

/// Most sync threads (ports) per daemon, as IPVS.
const MAX_PORTS: usize = 64;
/// How often a master thread sends what was queued.
const TICK_MS: u32 = 20;
/// How long a receive waits, so that a stopping thread notices soon.
const RECV_WAIT_MS: u32 = 200;
/// Queue bounds, in entries per master thread.
const QUEUE_MIN: usize = 256;
const QUEUE_MAX: usize = 1 << 16;
/// An entry never sent is refreshed once this old (jiffies = secs * HZ).
const REFRESH_MIN_AGE_SECS: u32 = 2;
/// Senders whose sequence numbers a backup follows.
const MAX_PEERS: usize = 8;

/// A daemon's configuration: what NEW_DAEMON asked for, with IPVS's
/// defaults filled in (what GET_DAEMON reports).
#[derive(Clone, Copy)]
pub(crate) struct DaemonConfig {
    /// NUL-terminated interface name.
    pub(crate) ifname: [u8; 16],
    /// As given; the wire carries its low byte.
    pub(crate) syncid: u32,
    pub(crate) maxlen: u16,
    pub(crate) v6: bool,
    pub(crate) group: [u8; 16],
    pub(crate) port: u16,
    pub(crate) ttl: u8,
}

impl DaemonConfig {
    /// A request's settings; zero and absent values take IPVS's defaults
    /// when the daemon starts.
    pub(crate) fn new(ifname: &[u8], syncid: u32) -> Self {
        let mut n = [0u8; 16];
        let len = ifname.iter().position(|&b| b == 0).unwrap_or(ifname.len()).min(15);
        n[..len].copy_from_slice(&ifname[..len]);
        Self {
            ifname: n,
            syncid,
            maxlen: 0,
            v6: false,
            group: [0; 16],
            port: 0,
            ttl: 0,
        }
    }

    pub(crate) fn ifname(&self) -> &[u8] {
        let n = self.ifname.iter().position(|&b| b == 0).unwrap_or(15);
        &self.ifname[..n]
    }
}

/// Counters of a daemon (rvs's own; GET_DAEMON in the `rvs` family).
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) datagrams: AtomicU64,
    pub(crate) entries: AtomicU64,
    pub(crate) drop_queue_full: AtomicU64,
    pub(crate) drop_send_error: AtomicU64,
    pub(crate) drop_bad_datagram: AtomicU64,
    pub(crate) drop_bad_entry: AtomicU64,
    pub(crate) drop_syncid: AtomicU64,
    pub(crate) drop_no_room: AtomicU64,
    pub(crate) lost: AtomicU64,
    pub(crate) last_seq: AtomicU32,
    pub(crate) resyncs: AtomicU64,
    pub(crate) resync_pending: AtomicU32,
}

fn inc(c: &AtomicU64) {
    c.fetch_add(1, Relaxed);
}

/// One master thread's queue of connections to send.
struct Ring {
    slots: KVVec<SyncConn<'static>>,
    head: usize,
    len: usize,
}

impl Ring {
    fn push(&mut self, c: SyncConn<'static>) -> bool {
        let cap = self.slots.len();
        if self.len >= cap {
            return false;
        }
        let Some(slot) = self.slots.get_mut((self.head + self.len) % cap) else {
            return false;
        };
        *slot = c;
        self.len += 1;
        true
    }

    fn pop(&mut self) -> Option<SyncConn<'static>> {
        if self.len == 0 {
            return None;
        }
        let c = *self.slots.get(self.head)?;
        self.head = (self.head + 1) % self.slots.len();
        self.len -= 1;
        Some(c)
    }
}

/// What the packet path and the master's threads share.
#[pin_data]
pub(crate) struct MasterShared {
    cfg: DaemonConfig,
    ports: usize,
    #[pin]
    queues: [SpinLockIrq<Ring>; MAX_PORTS],
    /// Per thread: a full resync was asked for.
    resync: [AtomicBool; MAX_PORTS],
    pub(crate) counters: Counters,
    /// Identifies this daemon in its datagrams' trailers.
    sender_id: u32,
}

impl MasterShared {
    /// Queues `c` for its thread; counts a drop when the queue is full.
    fn queue(&self, c: &Conn) {
        let Some(e) = snapshot(c) else { return };
        let id = wire::thread_of(&e.caddr, e.cport, self.ports as u32);
        let Some(q) = self.queues.get(id) else { return };
        if !q.lock().push(e) {
            inc(&self.counters.drop_queue_full);
        }
    }

    fn ask_resync(&self) {
        for r in self.resync.iter().take(self.ports) {
            r.store(true, Relaxed);
        }
    }
}

/// What a backup's threads share with the control plane.
pub(crate) struct BackupShared {
    cfg: DaemonConfig,
    pub(crate) counters: Counters,
    /// Sequence numbers of the rvs masters heard from: (sender, last).
    peers: SpinLockIrqPeers,
    /// A resync request is to be sent (start, or `--resync-daemon`).
    request: AtomicU32,
}

type SpinLockIrqPeers = Pin<KBox<SpinLockIrq<[(u32, u32); MAX_PEERS]>>>;

/// A master thread: sends its queue, walks the table for refreshes and
/// full resyncs; thread 0 also listens for resync requests.
struct MasterWorker {
    st: ThreadShared<NetState>,
    shared: Arc<MasterShared>,
    id: usize,
    sock: Socket,
    listen: Option<Socket>,
}

/// A master's walk over the table.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Walk {
    Idle,
    /// Entries that need a refresh (never sent, or sent long ago).
    Refresh,
    /// Every entry (a full resync).
    Full,
}

/// A datagram being filled, and its sequence number.
struct Out<'a> {
    w: &'a MasterWorker,
    buf: KVec<u8>,
    seq: u32,
}

impl Out<'_> {
    fn maxlen(&self) -> usize {
        usize::from(self.w.shared.cfg.maxlen)
    }

    fn v0(&self) -> bool {
        self.w.st.get().sysctl.sync_version.load(Relaxed) == 0
    }

    /// Sends the datagram of `n` entries in `buf[..len]`.
    fn send(&mut self, len: usize, n: usize) {
        let c = &self.w.shared.counters;
        let Some(d) = self.buf.get(..len) else { return };
        if self.w.sock.send(d) {
            inc(&c.datagrams);
            c.entries.fetch_add(n as u64, Relaxed);
            c.last_seq.store(self.seq, Relaxed);
        } else {
            inc(&c.drop_send_error);
        }
        self.seq = self.seq.wrapping_add(1);
    }

    /// Fills datagrams from `next` until it is exhausted.
    fn drain(&mut self, mut next: impl FnMut() -> Option<SyncConn<'static>>) {
        let mut pending = next();
        while let Some(first) = pending {
            let trailer = self.trailer(wire::TrailerKind::Sync);
            let (len, n) = {
                let maxlen = self.maxlen();
                let v0 = self.v0();
                let syncid = self.w.shared.cfg.syncid as u8;
                let mut enc = match if v0 {
                    wire::Encoder::new_v0(&mut self.buf, syncid, maxlen)
                } else {
                    wire::Encoder::new_v1(&mut self.buf, syncid, maxlen)
                } {
                    Some(e) => e,
                    None => return,
                };
                if !v0 {
                    // Room for the trailer, if the datagram has it at all.
                    enc.reserve_trailer();
                }
                pending = Some(first);
                while let Some(c) = pending {
                    if !enc.push(&c) {
                        break;
                    }
                    pending = next();
                }
                let n = enc.count();
                if n == 0 {
                    // Cannot be carried at all (IPv6 in version 0): skip.
                    pending = next();
                    continue;
                }
                (enc.finish(if v0 { None } else { Some(&trailer) }), n)
            };
            self.send(len, n);
        }
    }

    fn trailer(&self, kind: wire::TrailerKind) -> wire::RvsTrailer {
        wire::RvsTrailer {
            kind,
            seq: self.seq,
            sender_id: self.w.shared.sender_id.wrapping_add(self.w.id as u32),
        }
    }
}

/// A daemon thread's datagram buffer of `len` bytes, retried every second
/// while memory is short; `None` if the thread is asked to stop first.
fn thread_buffer(len: usize) -> Option<KVec<u8>> {
    let mut buf = KVec::new();
    while buf.resize(len, 0, GFP_KERNEL).is_err() {
        if should_stop() {
            return None;
        }
        sleep_ms(1000);
    }
    Some(buf)
}

impl Worker for MasterWorker {
    fn run(&self) {
        let Some(buf) = thread_buffer(usize::from(self.shared.cfg.maxlen)) else {
            return;
        };
        let mut out = Out { w: self, buf, seq: 0 };
        let mut rbuf = [0u8; 64];
        let mut walk = Walk::Idle;
        let mut cursor = (0usize, 0u64);
        let mut next_refresh = kernel_services::jiffies();
        while !should_stop() {
            // What the packet path queued.
            if let Some(q) = self.shared.queues.get(self.id) {
                out.drain(|| q.lock().pop());
            }
            // Resync requests from backups that (re)started.
            if let Some(l) = &self.listen {
                while let Some(n) = l.recv(&mut rbuf, false) {
                    let d = rbuf.get(..n).unwrap_or(&[]);
                    if let Ok(info) = wire::decode(d, self.shared.cfg.syncid as u8, d.len(), |_| {}) {
                        if info.trailer.is_some_and(|t| t.kind == wire::TrailerKind::ResyncRequest) {
                            self.shared.ask_resync();
                        }
                    }
                }
            }
            let st = self.st.get();
            let now = kernel_services::jiffies();
            if self.shared.resync.get(self.id).is_some_and(|r| r.swap(false, Relaxed)) {
                if walk != Walk::Full {
                    walk = Walk::Full;
                    cursor = (0, 0);
                    if self.id == 0 {
                        inc(&self.shared.counters.resyncs);
                    }
                    let share = st.conns.len() / self.shared.ports as u32;
                    self.shared.counters.resync_pending.fetch_add(share, Relaxed);
                }
            } else if walk == Walk::Idle {
                let every = st.sysctl.sync_refresh_walk.load(Relaxed);
                if every > 0 && now >= next_refresh {
                    walk = Walk::Refresh;
                    cursor = (0, 0);
                    next_refresh = now + conn::secs_to_jiffies(every as u32);
                }
            }
            if walk != Walk::Idle {
                let rate = st.sysctl.sync_resync_rate.load(Relaxed).max(1) as u64;
                let budget = (rate * u64::from(TICK_MS) / 1000 / self.shared.ports as u64).max(1);
                match self.walk_step(&mut out, walk == Walk::Full, cursor, budget, now) {
                    Some(at) => cursor = at,
                    None => {
                        if walk == Walk::Full {
                            self.shared.counters.resync_pending.store(0, Relaxed);
                        }
                        walk = Walk::Idle;
                    }
                }
            }
            sleep_ms(TICK_MS);
        }
    }
}

impl MasterWorker {
    /// Sends up to `budget` entries of the walk from `from`; where to go
    /// on next tick, or `None` when the walk reached the table's end.
    fn walk_step(&self, out: &mut Out<'_>, full: bool, from: (usize, u64), mut budget: u64, now: u64) -> Option<(usize, u64)> {
        let st = self.st.get();
        let ports = self.shared.ports as u32;
        let every = st.sysctl.sync_refresh_walk.load(Relaxed).max(0) as u32;
        let walk_period = conn::secs_to_jiffies(every);
        let mut at = Some(from);
        while let Some(pos) = at {
            if budget == 0 {
                return Some(pos);
            }
            // Entries are copied out under the RCU read lock, and sent
            // after it (sending may sleep).
            let mut batch = KVec::<SyncConn<'static>>::new();
            if batch.reserve(wire::MAX_ENTRIES, GFP_KERNEL).is_err() {
                return Some(pos);
            }
            {
                let rcu = crate::rcu::read_lock();
                at = {
                    st.conns.for_each_from(&rcu, pos, |c| {
                        if budget == 0 || batch.len() >= wire::MAX_ENTRIES {
                            return false;
                        }
                        if wire::thread_of(&c.caddr, c.cport, ports) != self.id || !(full || needs_refresh(st, c, now, walk_period)) {
                            return true;
                        }
                        if let Some(e) = snapshot(c) {
                            if batch.push_within_capacity(e).is_ok() {
                                c.last_sync.store(now, Relaxed);
                                budget -= 1;
                            }
                        }
                        true
                    })
                };
            }
            let sent = batch.len() as u32;
            let mut it = batch.into_iter();
            out.drain(|| it.next());
            if full {
                let p = &self.shared.counters.resync_pending;
                let _ = p.fetch_update(Relaxed, Relaxed, |v| Some(v.saturating_sub(sent)));
            }
        }
        None
    }
}

/// Whether the refresh walk sends `c`: a connection in a state worth
/// keeping (or a template) that was never sent and is a few seconds old,
/// or whose last sync is half its timeout ago, so the backup's copy never
/// expires while the master's lives.
fn needs_refresh(st: &NetState, c: &Conn, now: u64, walk_period: u64) -> bool {
    let f = c.flags.load(Relaxed);
    if f & cf::ONE_PACKET != 0 || c.daf != c.af {
        return false;
    }
    if f & cf::TEMPLATE == 0 {
        if st.sysctl.sync_persist_mode.load(Relaxed) != 0 && ConnTable::control(c).is_some() {
            return false;
        }
        let worth = match c.protocol {
            IPPROTO_TCP => matches!(
                c.tcp_state(),
                TcpState::Established | TcpState::FinWait | TcpState::CloseWait | TcpState::TimeWait
            ),
            IPPROTO_SCTP => matches!(
                c.sctp_state(),
                SctpState::Established
                    | SctpState::ShutdownSent
                    | SctpState::ShutdownReceived
                    | SctpState::ShutdownAckSent
            ),
            _ => true,
        };
        if !worth {
            return false;
        }
    }
    match c.last_sync.load(Relaxed) {
        // Never sent: an idle TCP connection or SCTP association (or one
        // whose server speaks first), or a template; not the short UDP
        // exchanges IPVS leaves out on purpose.
        0 => {
            (f & cf::TEMPLATE != 0 || c.protocol == IPPROTO_TCP || c.protocol == IPPROTO_SCTP)
                && now.wrapping_sub(c.born) >= conn::secs_to_jiffies(REFRESH_MIN_AGE_SECS)
        }
        // Sent: again before the backup's copy could expire, allowing for
        // the walk's period.
        t => now.wrapping_sub(t).saturating_add(walk_period) >= c.timeout.load(Relaxed) / 2,
    }
}

/// A connection as the wire carries it; `None` for what IPVS's sync
/// cannot carry (a real server of the other family).
fn snapshot(c: &Conn) -> Option<SyncConn<'static>> {
    if c.daf != c.af {
        return None;
    }
    let tmpl = c.flags.load(Relaxed) & cf::TEMPLATE != 0;
    let mut vaddr = c.vaddr;
    if tmpl && c.protocol == 0 {
        // IPVS's firewall-mark templates carry the mark as their address.
        vaddr = [0; 16];
        vaddr[..4].copy_from_slice(&c.fwmark.to_be_bytes());
    }
    let timeout = c.timeout.load(Relaxed) / u64::from(conn::HZ);
    Some(SyncConn {
        v6: c.af == AF_INET6,
        protocol: c.protocol,
        flags: c.flags.load(Relaxed) & !wire::cflags::HASHED,
        state: u16::from(c.state.load(Relaxed)),
        cport: c.cport,
        vport: c.vport,
        dport: c.dport,
        fwmark: c.fwmark,
        timeout: u32::try_from(timeout).unwrap_or(u32::MAX),
        caddr: c.caddr,
        vaddr,
        daddr: c.daddr,
        seq: None,
        pe_data: None,
        pe_name: None,
    })
}

/// The packet path, after a client's packet was accounted to `c`: IPVS's
/// `ip_vs_sync_conn` (with its controlling template after it).
/// `in_pkts`: the client's packets on `c` so far, this one included.
pub(crate) fn conn_packet(rcu: &ReadSide, sync: &SyncState, st: &NetState, c: &Conn, in_pkts: u32) {
    let Some(m) = sync.master(rcu) else { return };
    let s = &st.sysctl;
    let threshold = s.sync_threshold[0].load(Relaxed).max(0) as u32;
    let f = c.flags.load(Relaxed);
    let pkts = if f & cf::ONE_PACKET != 0 { threshold } else { in_pkts };
    let p = wire::SyncParams {
        threshold,
        period: s.sync_threshold[1].load(Relaxed).max(0) as u32,
        refresh_period_jiffies: s.sync_refresh_period.load(Relaxed).max(0) as u64,
        retries: s.sync_retries.load(Relaxed).max(0) as u32,
        hz: u64::from(conn::HZ),
        persist_mode: s.sync_persist_mode.load(Relaxed) != 0,
    };
    let now = kernel_services::jiffies();
    let sent = f & cf::ONE_PACKET == 0 && maybe_queue(m, &p, c, pkts, now);
    let version = s.sync_version.load(Relaxed) as u8;
    if let Some(t) = ConnTable::control(c).filter(|_| wire::syncs_control(version, sent)) {
        let pkts = t.in_pkts.fetch_add(1, Relaxed).wrapping_add(1);
        maybe_queue(m, &p, t, pkts, now);
    }
}

/// Queues `c` if IPVS's rules say so; whether it was.
fn maybe_queue(m: &MasterShared, p: &wire::SyncParams, c: &Conn, pkts: u32, now: u64) -> bool {
    let view = wire::ConnSyncView {
        protocol: c.protocol,
        flags: c.flags.load(Relaxed),
        state: u16::from(c.state.load(Relaxed)),
        old_state: u16::from(c.old_state.load(Relaxed)),
        timeout_jiffies: c.timeout.load(Relaxed),
        sync_endtime: c.sync_endtime.load(Relaxed),
        // rvs's controls are always templates.
        under_template: ConnTable::control(c).is_some(),
    };
    let Some(end) = wire::sync_needed(p, &view, pkts, now) else {
        return false;
    };
    c.sync_endtime.store(end, Relaxed);
    c.old_state.store(c.state.load(Relaxed), Relaxed);
    c.last_sync.store(now, Relaxed);
    m.queue(c);
    true
}

/// A backup thread: receives datagrams into the table.
struct BackupWorker {
    st: ThreadShared<NetState>,
    shared: Arc<BackupShared>,
    id: usize,
    sock: Socket,
    /// Thread 0 asks the masters for a full resync with it.
    ask: Option<Socket>,
}

impl Worker for BackupWorker {
    fn run(&self) {
        let maxlen = usize::from(self.shared.cfg.maxlen);
        let Some(mut buf) = thread_buffer(maxlen) else {
            return;
        };
        let mut asked_at = 0u64;
        let mut asks = 0u32;
        while !should_stop() {
            if let Some(ask) = &self.ask {
                // At start (and once more 2 s later, in case the first
                // was lost), and on request.
                let now = kernel_services::jiffies();
                if self.shared.request.swap(0, Relaxed) != 0 {
                    asks = 2;
                    asked_at = 0;
                }
                if asks > 0 && (asked_at == 0 || now.wrapping_sub(asked_at) >= conn::secs_to_jiffies(2)) {
                    send_request(ask, &self.shared.cfg);
                    asks -= 1;
                    asked_at = now.max(1);
                }
            }
            let Some(n) = self.sock.recv(&mut buf, true) else { continue };
            let Some(d) = buf.get(..n) else { continue };
            self.receive(d, maxlen);
        }
    }
}

fn send_request(sock: &Socket, cfg: &DaemonConfig) {
    let mut b = [0u8; wire::HEADER_V1_LEN + wire::TRAILER_LEN];
    if let Some(d) = wire::encode_resync_request(&mut b, cfg.syncid as u8, 0, 0).and_then(|n| b.get(..n)) {
        sock.send(d);
    }
}

impl BackupWorker {
    fn receive(&self, d: &[u8], maxlen: usize) {
        let st = self.st.get();
        let c = &self.shared.counters;
        let mut n = 0u64;
        // A sync id the wire cannot carry matches no datagram (IPVS).
        if self.shared.cfg.syncid > u32::from(u8::MAX) {
            inc(&c.drop_syncid);
            return;
        }
        let r = wire::decode(d, self.shared.cfg.syncid as u8, maxlen, |e| match e {
            // rvs has no persistence engines: an entry that needs one is
            // refused, as IPVS refuses one whose engine is not loaded.
            Ok(e) if e.pe_name.is_some() || e.pe_data.is_some() => inc(&c.drop_bad_entry),
            Ok(e) => {
                n += 1;
                if !apply(st, &e) {
                    inc(&c.drop_no_room);
                }
            }
            Err(_) => inc(&c.drop_bad_entry),
        });
        match r {
            Ok(info) => {
                inc(&c.datagrams);
                c.entries.fetch_add(n, Relaxed);
                if let Some(t) = info.trailer.filter(|t| t.kind == wire::TrailerKind::Sync) {
                    self.follow(t.sender_id, t.seq);
                }
            }
            Err(wire::DropReason::SyncidMismatch) => inc(&c.drop_syncid),
            Err(_) => {
                c.entries.fetch_add(n, Relaxed);
                inc(&c.drop_bad_datagram)
            }
        }
        let _ = self.id;
    }

    /// Counts datagrams missing from an rvs master's sequence.
    fn follow(&self, sender: u32, seq: u32) {
        let c = &self.shared.counters;
        c.last_seq.store(seq, Relaxed);
        let mut peers = self.shared.peers.lock();
        let slot = match peers.iter().position(|p| p.0 == sender) {
            Some(i) => i,
            None => {
                // A new sender (or one restarted): start following it in
                // the slot of the oldest.
                peers.rotate_right(1);
                if let Some(p) = peers.first_mut() {
                    *p = (sender, seq);
                }
                return;
            }
        };
        if let Some(p) = peers.get_mut(slot) {
            let gap = seq.wrapping_sub(p.1);
            if gap > 1 && gap < u32::MAX / 2 {
                c.lost.fetch_add(u64::from(gap - 1), Relaxed);
            }
            p.1 = seq;
        }
    }
}

/// A received entry into the table, as IPVS's `ip_vs_proc_conn`; false
/// when it could not be stored (table full, no memory).
fn apply(st: &NetState, e: &SyncConn<'_>) -> bool {
    let af = if e.v6 { AF_INET6 } else { AF_INET };
    let tmpl = e.flags & cf::TEMPLATE != 0;
    let fwmark_tmpl = tmpl && e.protocol == 0;
    let alen = if e.v6 { 16 } else { 4 };
    let mut vaddr = [0u8; 16];
    if !fwmark_tmpl {
        vaddr[..alen].copy_from_slice(&e.vaddr[..alen]);
    }
    let mut caddr = [0u8; 16];
    caddr[..alen].copy_from_slice(&e.caddr[..alen]);
    let mut daddr = [0u8; 16];
    daddr[..alen].copy_from_slice(&e.daddr[..alen]);
    let p = ConnParams {
        af,
        protocol: e.protocol,
        caddr,
        cport: e.cport,
        vaddr,
        vport: e.vport,
        fwmark: e.fwmark,
    };
    let now = kernel_services::jiffies();
    let timeout = match e.timeout {
        0 if tmpl => 180,
        0 => proto_timeout(st, e.protocol, e.state),
        t => t,
    };
    let rcu = crate::rcu::read_lock();
    let existing = if tmpl {
        st.conns.template_get(&rcu, &p)
    } else {
        let t = Tuple { af, protocol: e.protocol, saddr: &caddr, sport: e.cport, daddr: &vaddr, dport: e.vport };
        st.conns.get(&rcu, Side::Client, &t)
    };
    let dest = bind(&rcu, st, &p, e, &daddr);
    if let Some(c) = existing {
        let same = c.daddr == daddr && c.dport == e.dport;
        if !same && e.flags & cf::INACTIVE != 0 {
            // An inactive update never moves a connection.
            return true;
        }
        if same && (c.dest.is_some() || dest.is_none()) {
            update(st, c, e, timeout, now);
            return true;
        }
        // Another real server, or now bindable: replaced.
        st.conns.expire_now(c);
    }
    let mut f = (e.flags & !cf::INACTIVE) | crate::nfct::new_conn_flag(&st.sysctl);
    if let Some(d) = &dest {
        f = (f & !cf::FWD_MASK) | (d.fwd.load(Relaxed) & cf::FWD_MASK);
    }
    let target = match &dest {
        Some(d) => Target::Dest(d),
        None => Target::Unbound { af, addr: daddr },
    };
    let Some(c) = st.conns.insert_to(&rcu, &p, target, e.dport, f, timeout, None) else {
        return false;
    };
    // A client on this host used the master: once this director takes
    // over, its replies come to LOCAL_IN here (see `core_hooks::hook`).
    if !st.local_clients.load(Relaxed) && st.conns.net().is_local(af, &caddr) {
        st.saw_local_client();
    }
    update(st, c, e, timeout, now);
    true
}

/// The state, timer and activity of an entry from its sync message.
fn update(st: &NetState, c: &Conn, e: &SyncConn<'_>, timeout: u32, now: u64) {
    c.state.store(e.state as u8, Relaxed);
    if c.flags.load(Relaxed) & cf::TEMPLATE == 0 {
        ConnTable::set_active(c, e.flags & cf::INACTIVE == 0);
    }
    c.flags.fetch_or(cf::SYNC, Relaxed);
    c.timeout.store(conn::secs_to_jiffies(timeout), Relaxed);
    st.conns.touch(c, now);
}

/// The local real server a synced entry belongs to, if configured.
fn bind(rcu: &ReadSide, st: &NetState, p: &ConnParams, e: &SyncConn<'_>, daddr: &[u8; 16]) -> Option<Arc<crate::dest::Dest>> {
    let proto = if e.protocol == 0 { IPPROTO_TCP } else { e.protocol };
    let svc = st.find_service(rcu, p.af, e.fwmark, u16::from(proto), &p.vaddr, p.vport)?;
    svc.dest_by_addr(p.af, daddr, e.dport)
        .or_else(|| svc.dest_by_addr(p.af, daddr, 0))
}

/// The timeout of a state of the protocol's table (version 0 messages
/// carry none).
fn proto_timeout(st: &NetState, protocol: u8, state: u16) -> u32 {
    match protocol {
        IPPROTO_TCP => TcpState::from_u8(state as u8).map_or(st.timeouts.udp(), |s| st.timeouts.tcp(s)),
        IPPROTO_SCTP => SctpState::from_u8(state as u8).map_or(st.timeouts.udp(), |s| st.timeouts.sctp(s)),
        _ => st.timeouts.udp(),
    }
}

/// A running backup.
struct Backup {
    shared: Arc<BackupShared>,
    _threads: KVec<Thread<BackupWorker>>,
}

/// A running master.
struct Master {
    shared: Arc<MasterShared>,
    _threads: KVec<Thread<MasterWorker>>,
}

/// The daemons of a namespace (under the sync mutex).
struct Daemons {
    master: Option<Master>,
    backup: Option<Backup>,
    /// Threads per daemon, fixed while any daemon runs (as IPVS).
    ports: usize,
}

/// A namespace's connection sync.
#[pin_data]
pub(crate) struct SyncState {
    #[pin]
    daemons: Mutex<Daemons>,
    /// The running master's shared part, for the packet path under RCU.
    master: RcuArc<MasterShared>,
    backup_on: AtomicBool,
}

impl SyncState {
    pub(crate) fn new() -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            daemons <- new_mutex!(Daemons { master: None, backup: None, ports: 0 }),
            master: RcuArc::new(),
            backup_on: AtomicBool::new(false),
        }? Error)
    }

    /// The running master, for as long as the RCU read lock is held.
    fn master<'r>(&self, rcu: &'r ReadSide) -> Option<&'r MasterShared> {
        self.master.get(rcu)
    }

    /// Whether a master daemon runs (the packet path's quick check).
    pub(crate) fn master_on(&self) -> bool {
        self.master.is_some()
    }

    pub(crate) fn backup_on(&self) -> bool {
        self.backup_on.load(Relaxed)
    }

    /// NEW_DAEMON: starts a daemon, with IPVS's checks and defaults.
    ///
    /// `state_ref` is the namespace's state, for the daemon's threads.
    pub(crate) fn start(
        &self,
        net: NetRef<'_>,
        state_ref: ThreadShared<NetState>,
        mut cfg: DaemonConfig,
        state: u32,
    ) -> Result<(), CtlError> {
        let st = state_ref.get();
        let mut d = self.daemons.lock();
        let ports = if d.master.is_none() && d.backup.is_none() {
            let n = st.sysctl.sync_ports.load(Relaxed).clamp(1, MAX_PORTS as i32) as usize;
            n.next_power_of_two().min(MAX_PORTS)
        } else {
            d.ports
        };
        if cfg.group == [0; 16] {
            cfg.v6 = false;
            cfg.group[..4].copy_from_slice(&wire::DEFAULT_GROUP4);
        }
        if cfg.port == 0 {
            cfg.port = wire::DEFAULT_PORT;
        }
        if cfg.ttl == 0 {
            cfg.ttl = wire::DEFAULT_TTL;
        }
        let Some((ifindex, mtu)) = sync_io::interface(net, &cfg.ifname) else {
            return Err(cerr(errno::ENODEV, "unknown multicast interface\0"));
        };
        cfg.maxlen = wire::effective_maxlen(cfg.maxlen, state == STATE_BACKUP, mtu, cfg.v6);
        // IPVS's order of checks: the interface, then the state.
        if state != STATE_MASTER && state != STATE_BACKUP {
            return Err(cerr(errno::EINVAL, "daemon state must be master or backup\0"));
        }
        if (state == STATE_MASTER && d.master.is_some()) || (state == STATE_BACKUP && d.backup.is_some()) {
            return Err(cerr(errno::EEXIST, "sync daemon already running\0"));
        }
        let group = |port| Group {
            ifindex,
            v6: cfg.v6,
            addr: cfg.group,
            port,
        };
        let last = u32::from(cfg.port) + ports as u32 - 1;
        if last > u32::from(u16::MAX) {
            return Err(cerr(errno::EINVAL, "sync ports past 65535\0"));
        }
        let sock_size = st.sysctl.sync_sock_size.load(Relaxed);
        if state == STATE_MASTER {
            let init = new_master(cfg, ports, st).map_err(|_| OOM)?;
            let shared = Arc::pin_init(init, GFP_KERNEL).map_err(|_| OOM)?;
            let threads = spawn(ports, c"m", |id| {
                let port = cfg.port + id as u16;
                Ok(MasterWorker {
                    st: state_ref,
                    shared: shared.clone(),
                    id,
                    sock: Socket::sender(net, &group(port), cfg.ttl, sock_size).map_err(sock_err)?,
                    listen: match id {
                        0 => Some(Socket::receiver(net, &group(port), sock_size, RECV_WAIT_MS).map_err(sock_err)?),
                        _ => None,
                    },
                })
            })?;
            self.master.publish(shared.clone());
            d.master = Some(Master { shared, _threads: threads });
        } else {
            st.conns.allocate().map_err(|_| OOM)?;
            // Its entries' packets are forwarded once the director takes
            // over, whether or not a service exists yet.
            st.hooks.ensure(net).map_err(|_| OOM)?;
            let peers = KBox::pin_init(new_spinlock_irq!([(0u32, 0u32); MAX_PEERS]), GFP_KERNEL).map_err(|_| OOM)?;
            let shared = Arc::new(
                BackupShared { cfg, counters: Counters::default(), peers, request: AtomicU32::new(1) },
                GFP_KERNEL,
            )
            .map_err(|_| OOM)?;
            let threads = spawn(ports, c"b", |id| {
                let port = cfg.port + id as u16;
                Ok(BackupWorker {
                    st: state_ref,
                    shared: shared.clone(),
                    id,
                    sock: Socket::receiver(net, &group(port), sock_size, RECV_WAIT_MS).map_err(sock_err)?,
                    ask: match id {
                        0 => Some(Socket::sender(net, &group(port), cfg.ttl, sock_size).map_err(sock_err)?),
                        _ => None,
                    },
                })
            })?;
            self.backup_on.store(true, Relaxed);
            d.backup = Some(Backup { shared, _threads: threads });
        }
        d.ports = ports;
        let name = kernel::str::BStr::from_bytes(cfg.ifname());
        pr_info!(
            "sync: {} daemon started on {} (syncid {}, threads {})\n",
            role(state),
            name,
            cfg.syncid,
            ports
        );
        Ok(())
    }

    /// DEL_DAEMON.
    pub(crate) fn stop(&self, state: u32) -> Result<(), CtlError> {
        let mut d = self.daemons.lock();
        let stopped = match state {
            STATE_MASTER => {
                let m = d.master.take();
                if m.is_some() {
                    self.master.take_and_drop();
                }
                m.is_some()
            }
            STATE_BACKUP => {
                let b = d.backup.take();
                self.backup_on.store(false, Relaxed);
                b.is_some()
            }
            _ => return Err(cerr(errno::EINVAL, "daemon state must be master or backup\0")),
        };
        if !stopped {
            return Err(cerr(errno::ESRCH, "no such sync daemon running\0"));
        }
        pr_info!("sync: {} daemon stopped\n", role(state));
        Ok(())
    }

    /// RESYNC_DAEMON (rvs): the master sends its whole table; a backup asks
    /// the masters for theirs.
    pub(crate) fn resync(&self, state: u32) -> Result<(), CtlError> {
        let d = self.daemons.lock();
        match state {
            STATE_MASTER => d.master.as_ref().map(|m| m.shared.ask_resync()),
            STATE_BACKUP => d.backup.as_ref().map(|b| b.shared.request.store(1, Relaxed)),
            _ => return Err(cerr(errno::EINVAL, "daemon state must be master or backup\0")),
        }
        .ok_or(cerr(errno::ESRCH, "no such sync daemon running\0"))
    }

    /// Every daemon, master first: (state, config, counters).
    pub(crate) fn list(&self, mut f: impl FnMut(u32, &DaemonConfig, &Counters) -> Result) -> Result {
        let d = self.daemons.lock();
        if let Some(m) = &d.master {
            f(STATE_MASTER, &m.shared.cfg, &m.shared.counters)?;
        }
        if let Some(b) = &d.backup {
            f(STATE_BACKUP, &b.shared.cfg, &b.shared.counters)?;
        }
        Ok(())
    }

    /// Stops both daemons (the namespace is going away).
    pub(crate) fn stop_all(&self) {
        let mut d = self.daemons.lock();
        if d.master.take().is_some() {
            self.master.take_and_drop();
        }
        self.backup_on.store(false, Relaxed);
        d.backup = None;
    }
}

fn new_master(cfg: DaemonConfig, ports: usize, st: &NetState) -> Result<impl PinInit<MasterShared>> {
    // Each thread's queue holds `sync_qlen_max` datagrams' worth of
    // entries, within bounds.
    let per = usize::from(cfg.maxlen) / wire::ENTRY_V4_LEN;
    let qlen = st.sysctl.sync_qlen_max.load(Relaxed).max(1) as usize;
    let cap = qlen.saturating_mul(per.max(1)).clamp(QUEUE_MIN, QUEUE_MAX);
    let mut id = [0u8; 4];
    random_bytes(&mut id);
    let mut rings = KVec::with_capacity(ports, GFP_KERNEL)?;
    for _ in 0..ports {
        let mut slots = KVVec::new();
        slots.resize(cap, empty_entry(), GFP_KERNEL)?;
        rings.push(slots, GFP_KERNEL)?;
    }
    let mut rings = rings.into_iter();
    Ok(pin_init!(MasterShared {
        cfg,
        ports,
        queues <- pin_init::pin_init_array_from_fn(move |_| {
            let slots = rings.next().unwrap_or(KVVec::new());
            new_spinlock_irq!(Ring { slots, head: 0, len: 0 }, "rvs_sync_queue")
        }),
        resync: [const { AtomicBool::new(false) }; MAX_PORTS],
        counters: Counters::default(),
        sender_id: u32::from_ne_bytes(id),
    }))
}

fn empty_entry() -> SyncConn<'static> {
    SyncConn::default()
}

const OOM: CtlError = cerr(errno::ENOMEM, "out of memory\0");

fn sock_err(e: Error) -> CtlError {
    cerr(-e.to_errno(), "cannot set up the sync socket\0")
}

/// One thread per sync port, each with the worker `make` builds for it;
/// on failure the threads already started are stopped again.
fn spawn<W: Worker>(
    ports: usize,
    kind: &'static CStr,
    mut make: impl FnMut(usize) -> Result<W, CtlError>,
) -> Result<KVec<Thread<W>>, CtlError> {
    let mut threads = KVec::with_capacity(ports, GFP_KERNEL).map_err(|_| OOM)?;
    for id in 0..ports {
        let t = Thread::start(make(id)?, kind, id).map_err(|e| cerr(-e.to_errno(), "cannot start a sync thread\0"))?;
        threads.push(t, GFP_KERNEL).map_err(|_| OOM)?;
    }
    Ok(threads)
}

fn role(state: u32) -> &'static str {
    if state == STATE_MASTER {
        "master"
    } else {
        "backup"
    }
}

const fn cerr(errno: i32, msg: &'static str) -> CtlError {
    CtlError { errno, msg }
}
