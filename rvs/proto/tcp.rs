// SPDX-License-Identifier: GPL-2.0

//! TCP, as IPVS's `ip_vs_proto_tcp.c`: a connection moves through IPVS's
//! state table with each segment's flags (`rvs_core::proto`), its timer is
//! its new state's timeout, and a server's active and inactive counts
//! follow it.

use core::sync::atomic::{AtomicU32, Ordering::Relaxed};

use super::{assure_template, Csum, Timeouts};
use crate::conn::{self, flags as cf, Conn, ConnTable};
use crate::rvs_core::packet;
use crate::rvs_core::proto::{
    tcp_may_schedule, tcp_new_conn_expected, CounterChange, Direction, TcpConn, TcpFlags, TcpState, TcpTimeouts,
};

pub(super) const CSUM: Csum = Csum {
    offset: packet::TCP_CHECK,
    header_len: packet::TCP_HDR_LEN,
    zero_is_none: false,
};

pub(super) fn default_timeouts() -> [AtomicU32; TcpState::COUNT] {
    let d = TcpTimeouts::DEFAULT;
    core::array::from_fn(|i| AtomicU32::new(d.secs.get(i).copied().unwrap_or(0)))
}

pub(super) fn may_schedule(flags: TcpFlags, sloppy_tcp: bool) -> bool {
    tcp_may_schedule(flags, sloppy_tcp)
}

/// A new SYN (no ACK) on `old` starts afresh when `old` is closing
/// (`conn_reuse_mode`), or its server went quiescent and
/// `expire_nodest_conn` is on, as in IPVS's `ip_vs_in_hook`; not while
/// other connections hang off it.
pub(super) fn replaces(flags: TcpFlags, old: &Conn, conn_reuse_mode: u32, expire_nodest: bool) -> bool {
    if !flags.syn() || flags.ack() || old.n_control() != 0 {
        return false;
    }
    let noout = old.flags.load(Relaxed) & cf::NOOUTPUT != 0;
    let quiescent = old.dest.as_ref().is_some_and(|d| d.weight.load(Relaxed) == 0);
    (expire_nodest && quiescent)
        || (conn_reuse_mode != 0 && tcp_new_conn_expected(old.tcp_state(), noout, conn_reuse_mode))
}

pub(super) fn step(flags: TcpFlags, timeouts: &Timeouts, c: &Conn, dir: Direction) {
    let f = c.flags.load(Relaxed);
    let mut t = TcpConn {
        state: c.tcp_state(),
        no_output: f & cf::NOOUTPUT != 0,
        inactive: f & cf::INACTIVE != 0,
    };
    let step = t.on_packet(dir, flags, c.dest.is_some());
    if step.established {
        assure_template(c);
    }
    if !t.no_output {
        c.flags.fetch_and(!cf::NOOUTPUT, Relaxed);
    }
    if step.changed {
        c.state.store(t.state as u8, Relaxed);
        c.timeout.store(conn::secs_to_jiffies(timeouts.tcp(t.state)), Relaxed);
    }
    match step.counters {
        CounterChange::BecameActive => ConnTable::set_active(c, true),
        CounterChange::BecameInactive => ConnTable::set_active(c, false),
        CounterChange::Unchanged => {}
    }
}
