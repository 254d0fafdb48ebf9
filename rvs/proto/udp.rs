// SPDX-License-Identifier: GPL-2.0

//! UDP, as IPVS's `ip_vs_proto_udp.c`: one state, one timeout restarted
//! by every datagram; a reply assures the persistence template.

use core::sync::atomic::Ordering::Relaxed;

use super::{assure_template, Csum, Timeouts};
use crate::conn::{self, Conn};
use crate::rvs_core::packet;
use crate::rvs_core::proto::{Direction, UDP_DEFAULT_TIMEOUT_SECS};

pub(super) const DEFAULT_TIMEOUT_SECS: u32 = UDP_DEFAULT_TIMEOUT_SECS;

pub(super) const CSUM: Csum = Csum::Inet {
    offset: packet::UDP_CHECK,
    header_len: packet::UDP_HDR_LEN,
    zero_is_none: true,
};

pub(super) fn step(timeouts: &Timeouts, c: &Conn, dir: Direction) {
    c.timeout.store(conn::secs_to_jiffies(timeouts.udp()), Relaxed);
    if dir == Direction::Output {
        assure_template(c);
    }
}
