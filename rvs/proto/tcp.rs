// SPDX-License-Identifier: GPL-2.0

//! TCP, as IPVS's `ip_vs_proto_tcp.c`: a connection moves through IPVS's
//! state table with each segment's flags (`rvs_core::proto`), its timer is
//! its new state's timeout, and a server's active and inactive counts
//! follow it.

use core::sync::atomic::{AtomicU32, Ordering::Relaxed};

use super::{apply, Csum, Timeouts};
use crate::conn::{self, flags as cf, Conn};
use crate::rvs_core::packet;
use crate::rvs_core::proto::{
    tcp_may_schedule, tcp_new_conn_expected, Direction, TcpConn, TcpFlags, TcpState, TcpTimeouts,
};

pub(super) const CSUM: Csum = Csum::Inet {
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

/// A SYN without ACK asks for a new connection (IPVS's `is_new_conn`).
pub(super) fn is_new_conn(flags: TcpFlags) -> bool {
    flags.syn() && !flags.ack()
}

/// Whether `old` may give way to a new connection on its ports: closing
/// (`conn_reuse_mode`, IPVS's `is_new_conn_expected`).
pub(super) fn new_conn_expected(old: &Conn, conn_reuse_mode: u32) -> bool {
    let noout = old.flags.load(Relaxed) & cf::NOOUTPUT != 0;
    tcp_new_conn_expected(old.tcp_state(), noout, conn_reuse_mode)
}

pub(super) fn step(flags: TcpFlags, timeouts: &Timeouts, secure: bool, c: &Conn, dir: Direction) {
    let f = c.flags.load(Relaxed);
    let mut t = TcpConn {
        state: c.tcp_state(),
        no_output: f & cf::NOOUTPUT != 0,
        inactive: f & cf::INACTIVE != 0,
    };
    let step = t.on_packet(dir, flags, c.dest.is_some(), secure);
    apply(c, step, t.state as u8, t.no_output);
    if step.changed {
        c.timeout.store(conn::secs_to_jiffies(timeouts.tcp(t.state)), Relaxed);
    }
}
