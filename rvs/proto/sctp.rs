// SPDX-License-Identifier: GPL-2.0

//! SCTP, as IPVS's `ip_vs_proto_sctp.c`: an association moves through
//! IPVS's state table with each packet's first chunk (`rvs_core::sctp`),
//! its timer is its new state's timeout, and a server's active and
//! inactive counts follow it.

use core::sync::atomic::Ordering::Relaxed;

use super::{apply, Csum, Timeouts};
use crate::conn::{self, flags as cf, Conn};
use crate::rvs_core::proto::Direction;
use crate::rvs_core::sctp::{self, SctpChunks, SctpConn};

pub(super) const CSUM: Csum = Csum::Crc32c { header_len: sctp::HDR_LEN };

pub(super) fn step(chunks: SctpChunks, timeouts: &Timeouts, c: &Conn, dir: Direction) {
    let f = c.flags.load(Relaxed);
    let mut a = SctpConn {
        state: c.sctp_state(),
        no_output: f & cf::NOOUTPUT != 0,
        inactive: f & cf::INACTIVE != 0,
    };
    let step = a.on_packet(dir, chunks.event, c.dest.is_some());
    apply(c, step, a.state as u8, a.no_output);
    // IPVS re-arms the timer with the state's timeout on every packet.
    c.timeout.store(conn::secs_to_jiffies(timeouts.sctp(a.state)), Relaxed);
}
