// SPDX-License-Identifier: GPL-2.0

//! What differs between the protocols rvs balances, as IPVS's
//! `ip_vs_proto_tcp.c` and `ip_vs_proto_udp.c`: whether a packet may start
//! a connection or replace a closing one, how a connection's state and idle
//! timer move with each packet, each protocol's timeouts, and where its
//! checksum sits. The state tables themselves are `rvs_core::proto`.

mod tcp;
mod udp;

use core::sync::atomic::{AtomicU32, Ordering::Relaxed};

use crate::conn::Conn;
use crate::rvs_core::ctl::{TimeoutTarget, TimeoutsUpdate};
use crate::rvs_core::proto::{Direction, TcpFlags, TcpState, TEMPLATE_ASSURED};

/// A packet's transport protocol, with what rvs reads of its header.
#[derive(Clone, Copy)]
pub(crate) enum L4 {
    Tcp(TcpFlags),
    Udp,
    /// An ICMP error about a connection, forwarded as it is (DR, TUN).
    IcmpError,
}

/// Where a transport header's checksum is, and how much of the header a
/// rewrite of its ports needs.
pub(crate) struct Csum {
    pub(crate) offset: usize,
    pub(crate) header_len: usize,
    /// A zero checksum means none (UDP): a zero stays zero over IPv4,
    /// and a computed zero is sent as 0xffff.
    pub(crate) zero_is_none: bool,
}

impl L4 {
    /// Whether a packet that matches no connection may start one.
    pub(crate) fn may_schedule(self, sloppy_tcp: bool) -> bool {
        match self {
            L4::Tcp(flags) => tcp::may_schedule(flags, sloppy_tcp),
            L4::Udp | L4::IcmpError => true,
        }
    }

    /// Whether this client packet ends `old`, the connection it matched,
    /// so that it starts a new one: a new SYN on a closing connection
    /// (`conn_reuse_mode`), or on a quiescent server's with
    /// `expire_nodest_conn`.
    pub(crate) fn replaces(self, old: &Conn, conn_reuse_mode: u32, expire_nodest: bool) -> bool {
        match self {
            L4::Tcp(flags) => tcp::replaces(flags, old, conn_reuse_mode, expire_nodest),
            L4::Udp | L4::IcmpError => false,
        }
    }

    /// A TCP reset: never answered with an ICMP error.
    pub(crate) fn is_reset(self) -> bool {
        matches!(self, L4::Tcp(flags) if flags.rst())
    }

    /// Moves `c`'s state with this packet, going `dir`, and restarts its
    /// idle timer.
    pub(crate) fn step(self, timeouts: &Timeouts, c: &Conn, dir: Direction) {
        match self {
            L4::Tcp(flags) => tcp::step(flags, timeouts, c, dir),
            L4::Udp | L4::IcmpError => udp::step(timeouts, c, dir),
        }
        c.touch(crate::conn::jiffies());
    }

    /// The transport checksum, for rewriting ports; `None` for a packet
    /// rvs does not rewrite.
    pub(crate) fn csum(self) -> Option<Csum> {
        match self {
            L4::Tcp(_) => Some(tcp::CSUM),
            L4::Udp => Some(udp::CSUM),
            L4::IcmpError => None,
        }
    }
}

/// A connection was established (or, UDP, answered): its template is
/// assured, as IPVS's `ip_vs_control_assure_ct`; written once, not per
/// reply.
fn assure_template(c: &Conn) {
    if let Some(t) = c.control() {
        if t.state.load(Relaxed) != TEMPLATE_ASSURED {
            t.state.store(TEMPLATE_ASSURED, Relaxed);
        }
    }
}

/// Connection timeouts in seconds; the packet path reads them on every
/// state change.
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
