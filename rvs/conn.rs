// SPDX-License-Identifier: GPL-2.0

//! A connection entry ([`Conn`]) and what it decides on its own: its
//! flags and state, its idle timer (restarted, time left, idle time),
//! which entries a full table or `drop_entry` may drop, and the conntrack
//! entry it leaves behind. The table that holds entries (their locks,
//! links and deferred frees) is `conn_table.rs`.

use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicU8, Ordering::*};

use kernel::{bindings, sync::Arc, types::Opaque};

use crate::rcu_chain::Link;
use crate::rvs_core::defense::{entry_fate, DropEntryCounters, Entry, EntryFate};
use crate::rvs_core::packet::{IPPROTO_SCTP, IPPROTO_TCP};
use crate::rvs_core::proto::{conn_state_name, TcpState, TEMPLATE_ASSURED};
use crate::rvs_core::sctp::SctpState;
use crate::dest::Dest;
use crate::conntrack::Leftover;

/// Connection flags, as IPVS's `IP_VS_CONN_F_*` where they overlap.
///
/// The mask of the forwarding method (`abi::fwd`); NOOUTPUT: replies
/// bypass the director (every method but NAT) until one is seen;
/// INACTIVE: not counted in the server's active connections; TEMPLATE: a
/// persistence template; ONE_PACKET: forget the entry after its first
/// packet; SYNC: made from a sync master's message (a backup's entry);
/// NFCT: its packets keep their conntrack entries (`nfct`).
pub(crate) mod flags {
    pub(crate) use crate::rvs_core::sync::cflags::{
        BYPASS, FWD_MASK, INACTIVE, NFCT, NOOUTPUT, ONE_PACKET, SYNC, TEMPLATE,
    };
}

/// Jiffies per second: the kernel's `CONFIG_HZ` (`bindings::HZ` is the
/// userspace clock tick, `USER_HZ`).
pub(crate) const HZ: u32 = bindings::CONFIG_HZ;

/// Seconds to jiffies.
pub(crate) fn secs_to_jiffies(s: u32) -> u64 {
    u64::from(s) * u64::from(crate::conn::HZ)
}

/// One connection, or a persistence template.
#[repr(C)]
pub(crate) struct Conn {
    /// For freeing after a grace period; first, see `conn_table::free_conn`.
    pub(crate) rcu: Opaque<bindings::callback_head>,
    pub(crate) next: Link<Conn>,
    /// The low bits of the entry's hash
    /// ([`Hash::tag`](crate::rvs_core::connhash::Hash::tag)), beside
    /// the link: a chain walk reads these two words of each entry it passes.
    pub(crate) tag: u32,
    pub(crate) af: u16,
    pub(crate) protocol: u8,
    /// The protocol's state (`TcpState`, `SctpState`) as u8; UDP stays
    /// 0 and shows as "UDP".
    pub(crate) state: AtomicU8,
    pub(crate) flags: AtomicU32,
    /// Client, virtual and real-server addresses; IPv4 in the first four
    /// bytes. Ports in host order.
    pub(crate) caddr: [u8; 16],
    pub(crate) vaddr: [u8; 16],
    pub(crate) daddr: [u8; 16],
    pub(crate) cport: u16,
    pub(crate) vport: u16,
    pub(crate) dport: u16,
    /// The real server's family (IPv6 real servers behind IPv4 services
    /// are tunnelled).
    pub(crate) daf: u16,
    pub(crate) fwmark: u32,
    /// Idle timeout of the current state, jiffies.
    pub(crate) timeout: AtomicU64,
    /// When the entry expires, jiffies.
    pub(crate) expires: AtomicU64,
    pub(crate) dest: Option<Arc<Dest>>,
    /// The template controlling this connection (persistence), if any.
    pub(crate) control: AtomicPtr<Conn>,
    /// Connections this template controls.
    pub(crate) n_control: AtomicU32,
    /// Unlinked from the table (or about to be); no new user may take it.
    pub(crate) dead: AtomicBool,
    /// A template no longer to be used (its server went away); it is
    /// removed once no connection it controls remains.
    pub(crate) invalid: AtomicBool,
    /// Connection sync (master): client packets seen, the state last
    /// sent, IPVS's resend bookkeeping, and when it was last sent
    /// (jiffies; 0: never).
    pub(crate) in_pkts: AtomicU32,
    pub(crate) old_state: AtomicU8,
    /// Its bucket, whose expiry bound a shorter timer must lower.
    pub(crate) bucket: u32,
    pub(crate) sync_endtime: AtomicU64,
    pub(crate) last_sync: AtomicU64,
    /// When the entry was created, jiffies.
    pub(crate) born: u64,
}

/// The real server of a new entry: a configured one, or (a backup's entry
/// for which no local server exists) only its address.
pub(crate) enum Target<'a> {
    Dest(&'a Arc<Dest>),
    Unbound { af: u16, addr: [u8; 16] },
}

/// What identifies a new entry.
pub(crate) struct ConnParams {
    pub(crate) af: u16,
    pub(crate) protocol: u8,
    pub(crate) caddr: [u8; 16],
    pub(crate) cport: u16,
    pub(crate) vaddr: [u8; 16],
    pub(crate) vport: u16,
    pub(crate) fwmark: u32,
}

impl Conn {
    pub(crate) fn fwd(&self) -> u32 {
        self.flags.load(Relaxed) & flags::FWD_MASK
    }
    pub(crate) fn is_template(&self) -> bool {
        self.flags.load(Relaxed) & flags::TEMPLATE != 0
    }
    /// The conntrack entry this connection leaves to drop when it goes:
    /// only a tracked connection that expected replies, and whose client
    /// port is known.
    pub(crate) fn leftover(&self) -> Option<Leftover> {
        let f = self.flags.load(Relaxed);
        if f & flags::NFCT == 0 || f & (flags::ONE_PACKET | flags::TEMPLATE) != 0 || self.cport == 0 {
            return None;
        }
        Some(Leftover::new(self.af, self.protocol, self.caddr, self.cport, self.vaddr, self.vport))
    }
    pub(crate) fn tcp_state(&self) -> TcpState {
        TcpState::from_u8(self.state.load(Relaxed)).unwrap_or(TcpState::None)
    }
    pub(crate) fn sctp_state(&self) -> SctpState {
        SctpState::from_u8(self.state.load(Relaxed)).unwrap_or(SctpState::None)
    }

    /// The state as `-Lc` and `/proc/net/ip_vs_conn` name it.
    pub(crate) fn state_name(&self) -> &'static str {
        conn_state_name(self.protocol, self.is_template(), self.state.load(Relaxed))
    }

    /// Restarts the idle timer with the current state's timeout; the new
    /// expiry time if it is earlier than the one it replaces (a shorter
    /// timeout), which the bucket's bound must then follow.
    pub(crate) fn restart_timer(&self, now: u64) -> Option<u64> {
        let new = now.wrapping_add(self.timeout.load(Relaxed));
        let old = self.expires.load(Relaxed);
        self.expires.store(new, Relaxed);
        (new < old).then_some(new)
    }

    /// Seconds until the entry expires (0 if due).
    pub(crate) fn expires_in_ms(&self, now: u64) -> u32 {
        let left = self.expires.load(Relaxed).saturating_sub(now);
        (left * 1000 / u64::from(crate::conn::HZ)).min(u64::from(u32::MAX)) as u32
    }

    /// Connections this entry (a template) controls.
    pub(crate) fn n_control(&self) -> u32 {
        self.n_control.load(Relaxed)
    }

    /// Jiffies since the entry last saw a packet.
    fn idle(&self, now: u64) -> u64 {
        let last = self
            .expires
            .load(Relaxed)
            .wrapping_sub(self.timeout.load(Relaxed));
        now.wrapping_sub(last)
    }

    /// What a new connection may replace in a full table: a connection
    /// (not a template) stuck half-open, in SYN_RECV or (`secure_tcp`)
    /// SYNACK (SCTP: INIT1 or INIT) with no packet for a second. A real client's
    /// handshake completes well within that; spoofed SYNs and INITs never
    /// do.
    pub(crate) fn droppable(&self, now: u64) -> bool {
        let half_open = match self.protocol {
            IPPROTO_TCP => matches!(self.tcp_state(), TcpState::SynRecv | TcpState::SynAck),
            IPPROTO_SCTP => matches!(self.sctp_state(), SctpState::Init1 | SctpState::Init),
            _ => false,
        };
        half_open && !self.is_template() && self.idle(now) >= u64::from(HZ)
    }

    /// Whether `drop_entry`'s pass drops this entry (a template only once
    /// it controls nothing), as IPVS's `ip_vs_random_dropentry`.
    pub(crate) fn defense_drops(&self, now: u64, hz: u64, counters: &mut DropEntryCounters) -> bool {
        if self.n_control.load(Relaxed) != 0 {
            return false;
        }
        let e = Entry {
            protocol: self.protocol,
            state: self.state.load(Relaxed),
            template: self.is_template(),
            assured: self.state.load(Relaxed) == TEMPLATE_ASSURED,
            // rvs's templates do not know their service's flags.
            one_packet_service: false,
        };
        match entry_fate(&e) {
            EntryFate::Keep => false,
            EntryFate::Drop => true,
            EntryFate::IfStale => counters.todrop(self.idle(now) / hz, self.in_pkts.load(Relaxed)),
        }
    }
}

crate::rcu_chain::linked!(Conn, next);
