// SPDX-License-Identifier: GPL-2.0

//! SCTP as IPVS's `ip_vs_proto_sctp.c` follows it: an association moves
//! through IPVS's 14 states with the first chunk of each packet (the
//! "event"), seen from the director in one of three directions. States,
//! their numbers, names and default timeouts are IPVS's, so that
//! `ipvsadm -Lc`, `/proc/net/ip_vs_conn` and the sync protocol see the
//! same values.
//!
//! The states are as the real server sees them; INIT1, INIT,
//! COOKIE_SENT and COOKIE_REPLIED refine RFC 9260's CLOSED for the client
//! setting up, COOKIE_WAIT, COOKIE and COOKIE_ECHOED for the server
//! setting up (active associations from a NAT real server), REJECTED for
//! an INIT answered with ABORT.

#![warn(missing_docs)]

use super::proto::{Direction, ProtoConn, StateStep};

/// An SCTP association state, numbered as IPVS's `IP_VS_SCTP_S_*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum SctpState {
    /// Just created, no packet accounted yet.
    None = 0,
    /// The client's first INIT, no INIT ACK yet (short timeout: a
    /// dropped INIT leaves little behind).
    Init1 = 1,
    /// The client repeated its INIT.
    Init = 2,
    /// The server answered with INIT ACK; waiting for COOKIE ECHO.
    CookieSent = 3,
    /// The client sent COOKIE ECHO; waiting for COOKIE ACK.
    CookieReplied = 4,
    /// The server sent INIT (it sets up); waiting for INIT ACK.
    CookieWait = 5,
    /// The client answered the server's INIT with INIT ACK.
    Cookie = 6,
    /// The server sent COOKIE ECHO; waiting for COOKIE ACK.
    CookieEchoed = 7,
    /// Set up; data flows.
    Established = 8,
    /// The server sent SHUTDOWN.
    ShutdownSent = 9,
    /// The client sent SHUTDOWN.
    ShutdownReceived = 10,
    /// The server sent SHUTDOWN ACK.
    ShutdownAckSent = 11,
    /// An INIT was answered with ABORT (short timeout).
    Rejected = 12,
    /// Shut down or aborted.
    Closed = 13,
}

use SctpState::{
    Closed as CL, Cookie as CO, CookieEchoed as CE, CookieReplied as CR, CookieSent as CS,
    CookieWait as CW, Established as ES, Init as IN, Init1 as I1, None as NO, Rejected as RJ,
    ShutdownAckSent as SA, ShutdownReceived as SR, ShutdownSent as SS,
};

impl SctpState {
    /// Number of states (`IP_VS_SCTP_S_LAST`).
    pub const COUNT: usize = 14;

    /// All states in numeric order.
    pub const ALL: [SctpState; SctpState::COUNT] =
        [NO, I1, IN, CS, CR, CW, CO, CE, ES, SS, SR, SA, RJ, CL];

    /// The state with IPVS number `v`, if there is one.
    pub const fn from_u8(v: u8) -> Option<SctpState> {
        if (v as usize) < Self::COUNT {
            Some(Self::ALL[v as usize])
        } else {
            None
        }
    }

    /// IPVS's number for the state.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The name `ipvsadm -Lc` and `/proc/net/ip_vs_conn` print.
    pub const fn name(self) -> &'static str {
        match self {
            NO => "NONE",
            I1 => "INIT1",
            IN => "INIT",
            CS => "C-SENT",
            CR => "C-REPLIED",
            CW => "C-WAIT",
            CO => "COOKIE",
            CE => "C-ECHOED",
            ES => "ESTABLISHED",
            SS => "S-SENT",
            SR => "S-RECEIVED",
            SA => "S-ACK-SENT",
            RJ => "REJECTED",
            CL => "CLOSED",
        }
    }

    /// The name for a raw state number; out-of-range numbers print as
    /// "ERR!", as IPVS's `sctp_state_name` does.
    pub const fn name_of(v: u8) -> &'static str {
        match Self::from_u8(v) {
            Some(s) => s.name(),
            None => "ERR!",
        }
    }
}

/// SCTP chunk types (RFC 9260 section 3.2) that move the state.
pub mod chunk {
    /// Payload data.
    pub const DATA: u8 = 0;
    /// Initiation.
    pub const INIT: u8 = 1;
    /// Initiation acknowledgement.
    pub const INIT_ACK: u8 = 2;
    /// Selective acknowledgement.
    pub const SACK: u8 = 3;
    /// Heartbeat request.
    pub const HEARTBEAT: u8 = 4;
    /// Heartbeat acknowledgement.
    pub const HEARTBEAT_ACK: u8 = 5;
    /// Abort.
    pub const ABORT: u8 = 6;
    /// Shutdown.
    pub const SHUTDOWN: u8 = 7;
    /// Shutdown acknowledgement.
    pub const SHUTDOWN_ACK: u8 = 8;
    /// Operation error.
    pub const ERROR: u8 = 9;
    /// State cookie.
    pub const COOKIE_ECHO: u8 = 10;
    /// Cookie acknowledgement.
    pub const COOKIE_ACK: u8 = 11;
    /// Shutdown complete.
    pub const SHUTDOWN_COMPLETE: u8 = 14;
}

/// The SCTP common header's length, and where its checksum (CRC32c,
/// over the whole SCTP packet, no pseudo-header) sits.
pub const HDR_LEN: usize = 12;
/// Offset of the CRC32c in the common header.
pub const CHECK: usize = 8;
/// A chunk header: type, flags, length.
pub const CHUNK_HDR_LEN: usize = 4;

/// What moves the state: the first chunk's kind, the row of IPVS's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum SctpEvent {
    /// DATA, SACK, HEARTBEAT and its ACK, ECN chunks, and any type IPVS
    /// does not name.
    Data = 0,
    /// INIT.
    Init = 1,
    /// INIT ACK.
    InitAck = 2,
    /// COOKIE ECHO.
    CookieEcho = 3,
    /// COOKIE ACK.
    CookieAck = 4,
    /// SHUTDOWN.
    Shutdown = 5,
    /// SHUTDOWN ACK.
    ShutdownAck = 6,
    /// SHUTDOWN COMPLETE.
    ShutdownComplete = 7,
    /// ERROR.
    Error = 8,
    /// ABORT.
    Abort = 9,
}

impl SctpEvent {
    /// The event of a chunk type.
    pub const fn of_chunk(t: u8) -> SctpEvent {
        match t {
            chunk::INIT => SctpEvent::Init,
            chunk::INIT_ACK => SctpEvent::InitAck,
            chunk::COOKIE_ECHO => SctpEvent::CookieEcho,
            chunk::COOKIE_ACK => SctpEvent::CookieAck,
            chunk::SHUTDOWN => SctpEvent::Shutdown,
            chunk::SHUTDOWN_ACK => SctpEvent::ShutdownAck,
            chunk::SHUTDOWN_COMPLETE => SctpEvent::ShutdownComplete,
            chunk::ERROR => SctpEvent::Error,
            chunk::ABORT => SctpEvent::Abort,
            _ => SctpEvent::Data,
        }
    }
}

/// What the packet path reads of an SCTP packet: its first chunk's type
/// and the event the packet counts as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SctpChunks {
    /// The first chunk's type.
    pub first: u8,
    /// The event: the first chunk's, except that an ABORT bundled right
    /// after a COOKIE ECHO or COOKIE ACK counts as the ABORT.
    pub event: SctpEvent,
}

/// The first chunk's type and length, from the bytes after the common
/// header; `None` when they are not there.
pub fn first_chunk(l4: &[u8]) -> Option<(u8, u16)> {
    let h = l4.get(HDR_LEN..HDR_LEN + CHUNK_HDR_LEN)?;
    Some((h[0], u16::from_be_bytes([h[2], h[3]])))
}

/// Where (from the SCTP header) the chunk to look at after the first one
/// sits, when the first is a COOKIE ECHO or COOKIE ACK: an ABORT may be
/// bundled after those (RFC 9260 section 6.10), and it is what counts.
pub fn lookahead_offset(first: u8, first_len: u16) -> Option<usize> {
    if !matches!(first, chunk::COOKIE_ECHO | chunk::COOKIE_ACK)
        || (first_len as usize) < CHUNK_HDR_LEN
    {
        return None;
    }
    Some(HDR_LEN + (first_len as usize).next_multiple_of(4))
}

impl SctpChunks {
    /// From the first chunk's type and, if [`lookahead_offset`] named one
    /// and the packet has it, the next chunk's type.
    pub const fn new(first: u8, next: Option<u8>) -> SctpChunks {
        let t = match next {
            Some(chunk::ABORT) => chunk::ABORT,
            _ => first,
        };
        SctpChunks {
            first,
            event: SctpEvent::of_chunk(t),
        }
    }

    /// Whether a packet that matches no association may start one, as
    /// IPVS's `sctp_conn_schedule`: never an ABORT; otherwise an INIT, or
    /// any chunk with the `sloppy_sctp` sysctl set.
    pub const fn may_schedule(self, sloppy_sctp: bool) -> bool {
        self.first != chunk::ABORT && (sloppy_sctp || self.first == chunk::INIT)
    }

    /// An INIT: a new association for the port-reuse logic (IPVS's
    /// `is_new_conn`).
    pub const fn is_new_conn(self) -> bool {
        self.first == chunk::INIT
    }

    /// An ABORT: never answered with an ICMP error.
    pub const fn is_abort(self) -> bool {
        self.first == chunk::ABORT
    }
}

/// Whether an association in `state` may be replaced by the new one an
/// INIT asks for, as IPVS's `is_new_conn_expected` for SCTP: only a
/// CLOSED one. The caller rules out controlled connections first.
pub const fn new_conn_expected(state: SctpState) -> bool {
    matches!(state, SctpState::Closed)
}

/// One table row: the next state for each current state, in state order.
type Row = [SctpState; SctpState::COUNT];

/// IPVS's table, `[direction][event][state]`, states in the order NO, I1,
/// IN, CS, CR, CW, CO, CE, ES, SS, SR, SA, RJ, CL.
const TABLE: [[Row; 10]; 3] = [
    // Input: the client's packets on a NAT association.
    [
        /* data     */ [ES, I1, IN, CS, CR, CW, CO, CE, ES, SS, SR, SA, RJ, CL],
        /* init     */ [I1, IN, IN, CS, CR, CW, CO, CE, ES, SS, SR, SA, IN, IN],
        /* init_ack */ [CW, CW, CW, CS, CR, CO, CO, CE, ES, SS, SR, SA, RJ, CL],
        /* c_echo   */ [CR, IN, IN, CR, CR, CW, CO, CE, ES, SS, SR, SA, RJ, CL],
        /* c_ack    */ [ES, I1, IN, CS, CR, CW, CO, ES, ES, SS, SR, SA, RJ, CL],
        /* shut     */ [SR, I1, IN, CS, CR, CW, CO, CE, SR, SS, SR, SA, RJ, CL],
        /* shut_ack */ [CL, IN, IN, CS, CR, CW, CO, CE, ES, CL, SR, CL, RJ, CL],
        /* shut_cmp */ [CL, CL, CL, CS, CR, CW, CO, CE, ES, SS, SR, CL, RJ, CL],
        /* error    */ [CL, I1, IN, CS, CR, CW, CO, CL, ES, SS, SR, SA, RJ, CL],
        /* abort    */ [CL, CL, CL, CL, CL, RJ, CL, CL, CL, CL, CL, CL, CL, CL],
    ],
    // Output: the real server's packets on a NAT association.
    [
        /* data     */ [ES, I1, IN, CS, CR, CW, CO, CE, ES, SS, SR, SA, RJ, CL],
        /* init     */ [CW, CW, CW, CW, CW, CW, CW, CW, ES, CW, CW, CW, CW, CW],
        /* init_ack */ [CS, CS, CS, CS, CR, CW, CO, CE, ES, SS, SR, SA, RJ, CL],
        /* c_echo   */ [CE, CE, CE, CE, CE, CE, CE, CE, ES, SS, SR, SA, RJ, CL],
        /* c_ack    */ [ES, ES, ES, ES, ES, ES, ES, ES, ES, SS, SR, SA, RJ, CL],
        /* shut     */ [SS, SS, SS, SS, SS, SS, SS, SS, SS, SS, SR, SA, RJ, CL],
        /* shut_ack */ [SA, SA, SA, SA, SA, CW, CO, CE, ES, SA, SA, SA, RJ, CL],
        /* shut_cmp */ [CL, I1, IN, CS, CR, CW, CO, CE, ES, SS, SR, SA, RJ, CL],
        /* error    */ [CL, CL, CL, CL, CL, CW, CO, CE, ES, SS, SR, SA, RJ, CL],
        /* abort    */ [CL, RJ, CL, CL, CL, CL, CL, CL, CL, CL, CL, CL, CL, CL],
    ],
    // Input only: the client's packets when replies bypass the director.
    [
        /* data     */ [ES, I1, IN, CS, CR, ES, CO, CE, ES, SS, SR, SA, RJ, CL],
        /* init     */ [I1, IN, IN, IN, IN, IN, CO, CE, ES, SS, SR, SA, IN, IN],
        /* init_ack */ [CE, CE, CE, CE, CE, CE, CO, CE, ES, SS, SR, SA, RJ, CL],
        /* c_echo   */ [ES, ES, ES, ES, ES, ES, CO, CE, ES, SS, SR, SA, RJ, CL],
        /* c_ack    */ [ES, I1, IN, ES, ES, CW, ES, ES, ES, SS, SR, SA, RJ, CL],
        /* shut     */ [SR, I1, IN, CS, CR, CW, CO, CE, SR, SS, SR, SA, RJ, CL],
        /* shut_ack */ [CL, IN, IN, CS, CR, CW, CO, CE, CL, CL, SR, CL, RJ, CL],
        /* shut_cmp */ [CL, CL, CL, CL, CL, CW, CO, CE, ES, SS, CL, CL, RJ, CL],
        /* error    */ [CL, I1, IN, CS, CR, CW, CO, CE, ES, SS, SR, SA, RJ, CL],
        /* abort    */ [CL, CL, CL, CL, CL, RJ, CL, CL, CL, CL, CL, CL, CL, CL],
    ],
];

/// The next state for `event` going `dir`: one lookup in IPVS's table.
pub fn sctp_transition(state: SctpState, dir: Direction, event: SctpEvent) -> SctpState {
    TABLE
        .get(dir as usize)
        .and_then(|rows| rows.get(event as usize))
        .and_then(|row| row.get(state.index()))
        .copied()
        .unwrap_or(SctpState::Closed)
}

/// An SCTP association's bits (state, "no output", inactive).
pub type SctpConn = ProtoConn<SctpState>;

impl SctpConn {
    /// A new association: NONE, inactive, "no output" unless NAT.
    pub const fn new(nat: bool) -> SctpConn {
        Self::fresh(SctpState::None, nat)
    }

    /// Accounts one packet, as IPVS's `set_sctp_state`: the rules of
    /// [`ProtoConn::step`], with only ESTABLISHED counting as active.
    pub fn on_packet(&mut self, dir: Direction, event: SctpEvent, has_dest: bool) -> StateStep {
        let established = SctpState::Established;
        self.step(
            dir,
            has_dest,
            |s, d| sctp_transition(s, d, event),
            |s| s == established,
            established,
        )
    }
}

/// IPVS's SCTP timeouts: its largest retransmission timeout plus one
/// second for the set-up and shut-down states.
const MAX_RTO_SECS: u32 = 61;

/// IPVS's default SCTP timeouts in seconds, indexed by
/// [`SctpState::index`] (`sctp_timeouts`). `ipvsadm --set` does not
/// change them.
pub const DEFAULT_TIMEOUTS: [u32; SctpState::COUNT] = [
    2,            // NONE
    4,            // INIT1
    MAX_RTO_SECS, // INIT
    MAX_RTO_SECS, // COOKIE_SENT
    MAX_RTO_SECS, // COOKIE_REPLIED
    MAX_RTO_SECS, // COOKIE_WAIT
    MAX_RTO_SECS, // COOKIE
    MAX_RTO_SECS, // COOKIE_ECHOED
    15 * 60,      // ESTABLISHED
    MAX_RTO_SECS, // SHUTDOWN_SENT
    MAX_RTO_SECS, // SHUTDOWN_RECEIVED
    MAX_RTO_SECS, // SHUTDOWN_ACK_SENT
    4,            // REJECTED
    MAX_RTO_SECS, // CLOSED
];

/// The default timeout of `state`, seconds.
pub const fn default_timeout(state: SctpState) -> u32 {
    DEFAULT_TIMEOUTS[state.index()]
}

#[cfg(test)]
mod tests {
    use super::super::proto::CounterChange;
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    fn run(c: &mut SctpConn, pkts: &[(Direction, u8)]) -> Vec<SctpState> {
        pkts.iter()
            .map(|&(d, t)| {
                c.on_packet(d, SctpChunks::new(t, None).event, true);
                c.state
            })
            .collect()
    }

    #[test]
    fn names_and_numbers_match_ipvs() {
        assert_eq!(SctpState::COUNT, 14);
        for (i, s) in SctpState::ALL.iter().enumerate() {
            assert_eq!(s.index(), i);
            assert_eq!(SctpState::from_u8(i as u8), Some(*s));
        }
        assert_eq!(SctpState::from_u8(14), None);
        assert_eq!(SctpState::name_of(3), "C-SENT");
        assert_eq!(SctpState::name_of(8), "ESTABLISHED");
        assert_eq!(SctpState::name_of(11), "S-ACK-SENT");
        assert_eq!(SctpState::name_of(14), "ERR!");
        // Every name fits /proc/net/ip_vs_conn's 11-character column.
        assert!(SctpState::ALL.iter().all(|s| s.name().len() <= 11));
        assert_eq!(default_timeout(SctpState::Established), 900);
        assert_eq!(default_timeout(SctpState::Init1), 4);
        assert_eq!(default_timeout(SctpState::None), 2);
    }

    #[test]
    fn nat_association_up_and_down() {
        use chunk::*;
        use Direction::{Input as I, Output as O};
        let mut c = SctpConn::new(true);
        let states = run(
            &mut c,
            &[
                (I, INIT),
                (O, INIT_ACK),
                (I, COOKIE_ECHO),
                (O, COOKIE_ACK),
                (I, DATA),
                (O, SACK),
            ],
        );
        assert_eq!(states, [I1, CS, CR, ES, ES, ES]);
        assert!(!c.inactive);
        let states = run(
            &mut c,
            &[(I, SHUTDOWN), (O, SHUTDOWN_ACK), (I, SHUTDOWN_COMPLETE)],
        );
        assert_eq!(states, [SR, SA, CL]);
        assert!(c.inactive);
    }

    #[test]
    fn dr_association_sees_the_client_only() {
        use chunk::*;
        use Direction::Input as I;
        let mut c = SctpConn::new(false);
        // INIT, then the client's COOKIE ECHO (the INIT ACK bypassed us).
        let states = run(
            &mut c,
            &[
                (I, INIT),
                (I, COOKIE_ECHO),
                (I, DATA),
                (I, SHUTDOWN_COMPLETE),
            ],
        );
        assert_eq!(states, [I1, ES, ES, ES]);
        let states = run(&mut c, &[(I, SHUTDOWN_ACK)]);
        assert_eq!(states, [CL]);
        assert!(c.no_output);
    }

    #[test]
    fn repeated_init_abort_and_reuse() {
        use chunk::*;
        use Direction::{Input as I, Output as O};
        let mut c = SctpConn::new(true);
        assert_eq!(run(&mut c, &[(I, INIT), (I, INIT)]), [I1, IN]);
        assert_eq!(run(&mut c, &[(O, ABORT)]), [CL]);
        assert!(new_conn_expected(c.state));
        let mut c = SctpConn::new(true);
        assert_eq!(run(&mut c, &[(I, INIT), (O, ABORT)]), [I1, RJ]);
        assert_eq!(default_timeout(c.state), 4);
        assert!(!new_conn_expected(RJ));
    }

    #[test]
    fn abort_after_a_cookie_chunk_counts() {
        let len = 36u16;
        assert_eq!(
            lookahead_offset(chunk::COOKIE_ECHO, len),
            Some(HDR_LEN + 36)
        );
        assert_eq!(lookahead_offset(chunk::COOKIE_ACK, 5), Some(HDR_LEN + 8));
        assert_eq!(lookahead_offset(chunk::COOKIE_ACK, 3), None);
        assert_eq!(lookahead_offset(chunk::DATA, 16), None);
        let c = SctpChunks::new(chunk::COOKIE_ECHO, Some(chunk::ABORT));
        assert_eq!(c.event, SctpEvent::Abort);
        assert!(!c.is_abort());
        let c = SctpChunks::new(chunk::COOKIE_ECHO, Some(chunk::DATA));
        assert_eq!(c.event, SctpEvent::CookieEcho);
    }

    #[test]
    fn scheduling() {
        let init = SctpChunks::new(chunk::INIT, None);
        let data = SctpChunks::new(chunk::DATA, None);
        let abort = SctpChunks::new(chunk::ABORT, None);
        assert!(init.may_schedule(false) && init.is_new_conn());
        assert!(!data.may_schedule(false) && data.may_schedule(true));
        assert!(!abort.may_schedule(false) && !abort.may_schedule(true) && abort.is_abort());
        // An unknown chunk type counts as data.
        assert_eq!(SctpEvent::of_chunk(0xc0), SctpEvent::Data);
        let mut l4 = [0u8; 16];
        l4[12] = chunk::INIT;
        l4[14..16].copy_from_slice(&20u16.to_be_bytes());
        assert_eq!(first_chunk(&l4), Some((chunk::INIT, 20)));
        assert_eq!(first_chunk(&l4[..15]), None);
    }

    fn dir() -> impl Strategy<Value = Direction> {
        prop_oneof![
            Just(Direction::Input),
            Just(Direction::Output),
            Just(Direction::InputOnly)
        ]
    }

    proptest! {
        /// Whatever packets come, the counters stay consistent: a
        /// connection is active exactly when ESTABLISHED (once a state
        /// change happened), and every counter move is a real change.
        #[test]
        fn counters_follow_established(
            nat in any::<bool>(),
            pkts in proptest::collection::vec((dir(), any::<u8>(), proptest::option::of(any::<u8>())), 0..40),
        ) {
            let mut c = SctpConn::new(nat);
            let mut active = 0i32;
            for (d, first, next) in pkts {
                let before = c;
                let step = c.on_packet(d, SctpChunks::new(first, next).event, true);
                match step.counters {
                    CounterChange::BecameActive => active += 1,
                    CounterChange::BecameInactive => active -= 1,
                    CounterChange::Unchanged => {}
                }
                prop_assert!(active == 0 || active == 1);
                prop_assert_eq!(step.changed, before.state != c.state);
                if step.changed {
                    prop_assert_eq!(c.inactive, c.state != SctpState::Established);
                }
                prop_assert_eq!(c.inactive, active == 0);
                prop_assert!(c.state.index() < SctpState::COUNT);
            }
        }
    }
}
