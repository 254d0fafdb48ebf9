// SPDX-License-Identifier: GPL-2.0

//! What differs between the protocols rvs balances, as IPVS's
//! `ip_vs_proto_tcp.c`, `ip_vs_proto_udp.c` and `ip_vs_proto_sctp.c`:
//! whether a packet may start
//! a connection or replace a closing one, how a connection's state and idle
//! timer move with each packet, each protocol's timeouts, and where its
//! checksum sits. The state tables themselves are `rvs_core::proto`.

mod sctp;
mod tcp;
mod udp;

use core::sync::atomic::{AtomicU32, Ordering::Relaxed};

use crate::conn::{flags as cf, Conn};
use crate::conn_table::ConnTable;
use crate::rvs_core::ctl::{TimeoutTarget, TimeoutsUpdate};
use crate::rvs_core::proto::{CounterChange, Direction, StateStep, TcpFlags, TcpState, TEMPLATE_ASSURED};
use crate::rvs_core::sctp::{self as sctp_core, SctpChunks, SctpState};
use crate::sysctl::Sysctls;

/// A packet's transport protocol, with what rvs reads of its header.
#[derive(Clone, Copy)]
pub(crate) enum L4 {
    Tcp(TcpFlags),
    Udp,
    Sctp(SctpChunks),
    /// An ICMP error about a connection, forwarded as it is (DR, TUN).
    IcmpError,
}

/// A transport header's checksum, for rewriting its ports.
pub(crate) enum Csum {
    /// The Internet checksum over a pseudo-header (TCP, UDP): patched
    /// for each changed address and port.
    Inet {
        offset: usize,
        /// How much of the header a rewrite of its ports needs.
        header_len: usize,
        /// A zero checksum means none (UDP): a zero stays zero over
        /// IPv4, and a computed zero is sent as 0xffff.
        zero_is_none: bool,
    },
    /// SCTP's CRC32c over the whole SCTP packet, which covers no
    /// address: computed again when a port changes.
    Crc32c { header_len: usize },
}

impl L4 {
    /// Whether a packet that matches no connection may start one.
    pub(crate) fn may_schedule(self, sysctl: &Sysctls) -> bool {
        match self {
            L4::Tcp(flags) => tcp::may_schedule(flags, sysctl.sloppy_tcp.load(Relaxed) != 0),
            L4::Sctp(chunks) => chunks.may_schedule(sysctl.sloppy_sctp.load(Relaxed) != 0),
            L4::Udp | L4::IcmpError => true,
        }
    }

    /// Whether this client packet ends `old`, the connection it matched,
    /// so that it starts a new one, as IPVS's `ip_vs_in_hook`: a new SYN
    /// or INIT on a closing connection (`conn_reuse_mode`), or on a
    /// quiescent server's with `expire_nodest_conn`; not while other
    /// connections hang off it.
    pub(crate) fn replaces(self, old: &Conn, conn_reuse_mode: u32, expire_nodest: bool) -> bool {
        let expected = match self {
            L4::Tcp(flags) if tcp::is_new_conn(flags) => tcp::new_conn_expected(old, conn_reuse_mode),
            L4::Sctp(chunks) if chunks.is_new_conn() => sctp_core::new_conn_expected(old.sctp_state()),
            _ => return false,
        };
        if old.n_control() != 0 {
            return false;
        }
        let quiescent = old.dest.as_ref().is_some_and(|d| d.weight.load(Relaxed) == 0);
        (expire_nodest && quiescent) || (conn_reuse_mode != 0 && expected)
    }

    /// A TCP reset or an SCTP abort: never answered with an ICMP error.
    pub(crate) fn is_reset(self) -> bool {
        match self {
            L4::Tcp(flags) => flags.rst(),
            L4::Sctp(chunks) => chunks.is_abort(),
            L4::Udp | L4::IcmpError => false,
        }
    }

    /// Moves `c`'s state (and so its timeout) with this packet, going
    /// `dir`; the caller then restarts its idle timer. `secure_tcp`:
    /// whether the defence's TCP table is in force (asked for TCP only).
    pub(crate) fn step(self, timeouts: &Timeouts, secure_tcp: impl FnOnce() -> bool, c: &Conn, dir: Direction) {
        match self {
            L4::Tcp(flags) => tcp::step(flags, timeouts, secure_tcp(), c, dir),
            L4::Sctp(chunks) => sctp::step(chunks, timeouts, c, dir),
            L4::Udp | L4::IcmpError => udp::step(timeouts, c, dir),
        }
    }

    /// The transport checksum, for rewriting ports; `None` for a packet
    /// rvs does not rewrite.
    pub(crate) fn csum(self) -> Option<Csum> {
        match self {
            L4::Tcp(_) => Some(tcp::CSUM),
            L4::Udp => Some(udp::CSUM),
            L4::Sctp(_) => Some(sctp::CSUM),
            L4::IcmpError => None,
        }
    }
}

/// Writes back what a protocol's state machine made of a packet: the
/// template assured on establishment, "no output" cleared by a reply, the
/// new state, and the server's active and inactive counts.
fn apply(c: &Conn, step: StateStep, state: u8, no_output: bool) {
    if step.established {
        assure_template(c);
    }
    if !no_output {
        c.flags.fetch_and(!cf::NOOUTPUT, Relaxed);
    }
    if step.changed {
        c.state.store(state, Relaxed);
    }
    match step.counters {
        CounterChange::BecameActive => ConnTable::set_active(c, true),
        CounterChange::BecameInactive => ConnTable::set_active(c, false),
        CounterChange::Unchanged => {}
    }
}

/// A connection was established (or, UDP, answered): its template is
/// assured, as IPVS's `ip_vs_control_assure_ct`; written once, not per
/// reply.
fn assure_template(c: &Conn) {
    if let Some(t) = ConnTable::control(c) {
        if t.state.load(Relaxed) != TEMPLATE_ASSURED {
            t.state.store(TEMPLATE_ASSURED, Relaxed);
        }
    }
}

/// Connection timeouts in seconds; the packet path reads them on every
/// state change. SCTP's are IPVS's fixed defaults: no interface sets
/// them.
pub(crate) struct Timeouts {
    tcp: [AtomicU32; TcpState::COUNT],
    udp: AtomicU32,
}

impl Timeouts {
    pub(crate) fn new() -> Self {
        Self {
            tcp: tcp::default_timeouts(),
            udp: AtomicU32::new(udp::DEFAULT_TIMEOUT_SECS),
        }
    }

    /// A TCP state's timeout.
    pub(crate) fn tcp(&self, s: TcpState) -> u32 {
        self.tcp.get(s.index()).map_or(0, |t| t.load(Relaxed))
    }

    /// UDP's timeout.
    pub(crate) fn udp(&self) -> u32 {
        self.udp.load(Relaxed)
    }

    /// An SCTP state's timeout.
    pub(crate) fn sctp(&self, s: SctpState) -> u32 {
        sctp_core::default_timeout(s)
    }

    /// SET_CONFIG: what `ipvsadm --set` changes; 0 leaves a value as it is.
    pub(crate) fn set(&self, u: &TimeoutsUpdate) {
        for (target, v) in u.changes() {
            let t = match target {
                TimeoutTarget::Tcp(s) => self.tcp.get(s.index()),
                TimeoutTarget::Udp => Some(&self.udp),
            };
            if let Some(t) = t {
                t.store(v, Relaxed);
            }
        }
    }

    /// The three timeouts `ipvsadm --timeout` shows.
    pub(crate) fn get(&self) -> (u32, u32, u32) {
        (self.tcp(TcpState::Established), self.tcp(TcpState::FinWait), self.udp())
    }
}
