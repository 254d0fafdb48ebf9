// SPDX-License-Identifier: GPL-2.0

//! Connection state machines of the TCP and UDP protocol handlers, with
//! the semantics of `ip_vs_proto_tcp.c` and `ip_vs_proto_udp.c`.
//!
//! IPVS does not follow TCP the way an endpoint does: it only sees the
//! packets that cross the director, and moves a connection through a small
//! table indexed by (direction, most significant flag, current state). The
//! table here is IPVS's default one (`secure_tcp` off). States, their
//! numbers, names and default timeouts are IPVS's, so that `ipvsadm -Lc`,
//! `/proc/net/ip_vs_conn` and the sync protocol see the same values.
//!
//! What the caller keeps per connection is a [`TcpConn`]: the state plus
//! the two flag bits IPVS's `set_tcp_state` reads and writes
//! (`IP_VS_CONN_F_NOOUTPUT` and `IP_VS_CONN_F_INACTIVE`). After each packet
//! the caller re-arms the connection timer with
//! [`TcpTimeouts::get`] of the new state.

#![warn(missing_docs)]

/// A TCP connection state, numbered as IPVS's `IP_VS_TCP_S_*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum TcpState {
    /// Just created, no packet accounted yet.
    None = 0,
    /// Handshake completed (or joined mid-stream).
    Established = 1,
    /// SYN seen from the real server (NAT, active FTP data).
    SynSent = 2,
    /// SYN seen from the client.
    SynRecv = 3,
    /// A FIN seen in one direction (or from the client in DR/TUN).
    FinWait = 4,
    /// FINs seen in both directions.
    TimeWait = 5,
    /// Reset, or closed without a handshake.
    Close = 6,
    /// Client sent FIN first (NAT).
    CloseWait = 7,
    /// No table cell leads here from another state; kept for numbering
    /// and for states received from a sync master.
    LastAck = 8,
    /// Set by application helpers (FTP) for an expected connection.
    Listen = 9,
    /// Only entered through the `secure_tcp` table (not implemented),
    /// kept for numbering.
    SynAck = 10,
}

impl TcpState {
    /// Number of states (`IP_VS_TCP_S_LAST`).
    pub const COUNT: usize = 11;

    /// All states in numeric order.
    pub const ALL: [TcpState; TcpState::COUNT] = [
        TcpState::None,
        TcpState::Established,
        TcpState::SynSent,
        TcpState::SynRecv,
        TcpState::FinWait,
        TcpState::TimeWait,
        TcpState::Close,
        TcpState::CloseWait,
        TcpState::LastAck,
        TcpState::Listen,
        TcpState::SynAck,
    ];

    /// The state with IPVS number `v`, if there is one (e.g. from a sync
    /// message, which carries the raw number).
    pub const fn from_u8(v: u8) -> Option<TcpState> {
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
            TcpState::None => "NONE",
            TcpState::Established => "ESTABLISHED",
            TcpState::SynSent => "SYN_SENT",
            TcpState::SynRecv => "SYN_RECV",
            TcpState::FinWait => "FIN_WAIT",
            TcpState::TimeWait => "TIME_WAIT",
            TcpState::Close => "CLOSE",
            TcpState::CloseWait => "CLOSE_WAIT",
            TcpState::LastAck => "LAST_ACK",
            TcpState::Listen => "LISTEN",
            TcpState::SynAck => "SYNACK",
        }
    }

    /// The name for a raw state number; out-of-range numbers print as
    /// "ERR!", as IPVS's `tcp_state_name` does.
    pub const fn name_of(v: u8) -> &'static str {
        match Self::from_u8(v) {
            Some(s) => s.name(),
            None => "ERR!",
        }
    }
}

/// Which way a packet crosses the director, as IPVS's `IP_VS_DIR_*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Direction {
    /// Client to real server.
    Input = 0,
    /// Real server to client, seen by the director (NAT replies).
    Output = 1,
    /// Client to real server on a connection whose replies bypass the
    /// director (DR, TUN). IPVS never passes this direction itself: it
    /// selects it from `Input` for connections flagged "no output";
    /// passing it explicitly selects the same table.
    InputOnly = 2,
}

/// The flags byte of a TCP header (byte 13).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    /// No more data from sender.
    pub const FIN: u8 = 0x01;
    /// Synchronise sequence numbers.
    pub const SYN: u8 = 0x02;
    /// Reset the connection.
    pub const RST: u8 = 0x04;
    /// Push function.
    pub const PSH: u8 = 0x08;
    /// Acknowledgment field is significant.
    pub const ACK: u8 = 0x10;
    /// Urgent pointer field is significant.
    pub const URG: u8 = 0x20;
    /// ECN echo.
    pub const ECE: u8 = 0x40;
    /// Congestion window reduced.
    pub const CWR: u8 = 0x80;

    /// Wraps the 13th byte of a TCP header.
    pub const fn from_byte(b: u8) -> TcpFlags {
        TcpFlags(b)
    }

    /// The raw byte.
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// FIN is set.
    pub const fn fin(self) -> bool {
        self.0 & Self::FIN != 0
    }

    /// SYN is set.
    pub const fn syn(self) -> bool {
        self.0 & Self::SYN != 0
    }

    /// RST is set.
    pub const fn rst(self) -> bool {
        self.0 & Self::RST != 0
    }

    /// ACK is set.
    pub const fn ack(self) -> bool {
        self.0 & Self::ACK != 0
    }
}

/// The flag that drives a transition: the row of IPVS's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum TcpEvent {
    /// SYN (row 0).
    Syn = 0,
    /// FIN (row 1).
    Fin = 1,
    /// ACK (row 2).
    Ack = 2,
    /// RST (row 3).
    Rst = 3,
}

impl TcpEvent {
    /// The event of a packet, as IPVS's `tcp_state_idx`: RST wins over
    /// SYN, SYN over FIN, FIN over ACK. `None` when none of the four is
    /// set (IPVS's index -1).
    pub const fn of(flags: TcpFlags) -> Option<TcpEvent> {
        if flags.rst() {
            Some(TcpEvent::Rst)
        } else if flags.syn() {
            Some(TcpEvent::Syn)
        } else if flags.fin() {
            Some(TcpEvent::Fin)
        } else if flags.ack() {
            Some(TcpEvent::Ack)
        } else {
            None
        }
    }
}

use TcpState::{
    Close as CL, CloseWait as CW, Established as ES, FinWait as FW, LastAck as LA, Listen as LI,
    SynAck as SA, SynRecv as SR, SynSent as SS, TimeWait as TW,
};

/// One table row: the next state for each current state, in state order
/// NONE, ES, SS, SR, FW, TW, CL, CW, LA, LI, SA.
type Row = [TcpState; TcpState::COUNT];

/// IPVS's default (`secure_tcp` off) table, `[direction][event][state]`.
const TABLE: [[Row; 4]; 3] = [
    // Input: the client's packets on a NAT connection.
    [
        /* syn */ [SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SR],
        /* fin */ [CL, CW, SS, TW, TW, TW, CL, CW, LA, LI, TW],
        /* ack */ [ES, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES],
        /* rst */ [CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, SR],
    ],
    // Output: the real server's replies on a NAT connection.
    [
        /* syn */ [SS, ES, SS, SR, SS, SS, SS, SS, SS, LI, SR],
        /* fin */ [TW, FW, SS, TW, FW, TW, CL, TW, LA, LI, TW],
        /* ack */ [ES, ES, SS, ES, FW, TW, CL, CW, LA, ES, ES],
        /* rst */ [CL, CL, SS, CL, CL, TW, CL, CL, CL, CL, CL],
    ],
    // Input only: the client's packets when replies bypass the director.
    [
        /* syn */ [SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SR],
        /* fin */ [CL, FW, SS, TW, FW, TW, CL, CW, LA, LI, TW],
        /* ack */ [ES, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES],
        /* rst */ [CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, CL],
    ],
];

/// IPVS's table while `secure_tcp` is in force (`tcp_states_dos`): a
/// connection reaches ESTABLISHED only once the real server answered the
/// client's SYN (SYNACK) and the client acknowledged it, so spoofed SYNs
/// and lone ACKs do not make established-looking entries with their long
/// timeout.
const TABLE_SECURE: [[Row; 4]; 3] = [
    // Input.
    [
        /* syn */ [SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SA],
        /* fin */ [CL, CW, SS, TW, TW, TW, CL, CW, LA, LI, SA],
        /* ack */ [ES, ES, SS, SR, FW, TW, CL, CW, CL, LI, SA],
        /* rst */ [CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, CL],
    ],
    // Output.
    [
        /* syn */ [SS, ES, SS, SA, SS, SS, SS, SS, SS, LI, SA],
        /* fin */ [TW, FW, SS, TW, FW, TW, CL, TW, LA, LI, TW],
        /* ack */ [ES, ES, SS, ES, FW, TW, CL, CW, LA, ES, ES],
        /* rst */ [CL, CL, SS, CL, CL, TW, CL, CL, CL, CL, CL],
    ],
    // Input only.
    [
        /* syn */ [SA, ES, ES, SR, SA, SA, SA, SA, SA, SA, SA],
        /* fin */ [CL, FW, SS, TW, FW, TW, CL, CW, LA, LI, TW],
        /* ack */ [ES, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES],
        /* rst */ [CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, CL],
    ],
];

/// [`tcp_transition`] in the table `secure_tcp` puts in force.
pub fn tcp_transition_secure(state: TcpState, dir: Direction, flags: TcpFlags) -> TcpState {
    lookup(&TABLE_SECURE, state, dir, flags)
}

/// The next state for a packet with `flags` going `dir`, as one lookup in
/// IPVS's table. A packet with none of SYN, FIN, ACK, RST moves the
/// connection to CLOSE: IPVS's `set_tcp_state` starts from CLOSE and
/// keeps it when `tcp_state_idx` returns -1.
///
/// This is the bare table; [`TcpConn::on_packet`] adds the choice of the
/// input-only table and the bookkeeping around it.
pub fn tcp_transition(state: TcpState, dir: Direction, flags: TcpFlags) -> TcpState {
    lookup(&TABLE, state, dir, flags)
}

fn lookup(table: &[[Row; 4]; 3], state: TcpState, dir: Direction, flags: TcpFlags) -> TcpState {
    let Some(ev) = TcpEvent::of(flags) else {
        return TcpState::Close;
    };
    table
        .get(dir as usize)
        .and_then(|rows| rows.get(ev as usize))
        .and_then(|row| row.get(state.index()))
        .copied()
        .unwrap_or(TcpState::Close)
}

/// Whether a connection in `state` counts as active (`ActiveConn`) rather
/// than inactive (`InActConn`), as IPVS's `tcp_state_active`: the
/// handshake states count as active, not only ESTABLISHED.
pub const fn is_active(state: TcpState) -> bool {
    matches!(
        state,
        TcpState::Established | TcpState::SynSent | TcpState::SynRecv | TcpState::SynAck
    )
}

/// How the destination's active-connection counter must change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CounterChange {
    /// Leave it.
    Unchanged,
    /// Decrement `activeconns` (the connection now counts as inactive).
    BecameInactive,
    /// Increment `activeconns`.
    BecameActive,
}

/// The per-connection bits IPVS's `set_tcp_state` and `set_sctp_state`
/// read and write, over the protocol's state type `S`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProtoConn<S> {
    /// Current state.
    pub state: S,
    /// `IP_VS_CONN_F_NOOUTPUT`: set at creation for every forwarding
    /// method but NAT, cleared by the first reply seen.
    pub no_output: bool,
    /// `IP_VS_CONN_F_INACTIVE`: the connection is not counted in the
    /// destination's `activeconns`.
    pub inactive: bool,
}

/// A TCP connection's bits.
pub type TcpConn = ProtoConn<TcpState>;

impl<S: Copy + PartialEq> ProtoConn<S> {
    /// A new connection as `ip_vs_conn_new` leaves it: in state `none`
    /// and inactive (destinations carry `IP_VS_CONN_F_INACTIVE` in their
    /// connection flags), with "no output" unless the forwarding method is
    /// NAT (masquerading).
    pub const fn fresh(none: S, nat: bool) -> Self {
        Self {
            state: none,
            no_output: !nat,
            inactive: true,
        }
    }

    /// The bookkeeping of one packet that both protocols share.
    ///
    /// A reply (`Output`) on a "no output" connection clears the flag and
    /// uses the output table: the real server's replies do cross the
    /// director after all. Any other packet on such a connection uses the
    /// input-only table. `next` is the protocol's table lookup; `active`
    /// says which states count in `activeconns`. `has_dest` says whether
    /// the connection is bound to a destination; the counters only move
    /// when it is, and only when the state changes.
    pub fn step(
        &mut self,
        dir: Direction,
        has_dest: bool,
        next: impl FnOnce(S, Direction) -> S,
        active: impl Fn(S) -> bool,
        established: S,
    ) -> StateStep {
        let mut dir = dir;
        if self.no_output {
            if dir == Direction::Output {
                self.no_output = false;
            } else {
                dir = Direction::InputOnly;
            }
        }
        let new = next(self.state, dir);
        let mut step = StateStep {
            changed: new != self.state,
            counters: CounterChange::Unchanged,
            established: false,
        };
        if step.changed {
            if has_dest {
                if !self.inactive && !active(new) {
                    self.inactive = true;
                    step.counters = CounterChange::BecameInactive;
                } else if self.inactive && active(new) {
                    self.inactive = false;
                    step.counters = CounterChange::BecameActive;
                }
            }
            step.established = new == established;
        }
        self.state = new;
        step
    }
}

/// What a packet did to a connection's state ([`TcpConn::on_packet`],
/// [`super::sctp::SctpConn::on_packet`]), for the caller to act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StateStep {
    /// The state changed.
    pub changed: bool,
    /// Update to apply to the bound destination's counters.
    pub counters: CounterChange,
    /// The connection just entered ESTABLISHED (IPVS then makes sure its
    /// conntrack entry is confirmed, `ip_vs_control_assure_ct`).
    pub established: bool,
}

impl TcpConn {
    /// A new connection: NONE, inactive, "no output" unless NAT.
    pub const fn new(nat: bool) -> TcpConn {
        Self::fresh(TcpState::None, nat)
    }

    /// Accounts one packet, as IPVS's `set_tcp_state` (see
    /// [`ProtoConn::step`]); `secure`: `secure_tcp` is in force.
    pub fn on_packet(
        &mut self,
        dir: Direction,
        flags: TcpFlags,
        has_dest: bool,
        secure: bool,
    ) -> StateStep {
        let table = if secure { &TABLE_SECURE } else { &TABLE };
        self.step(
            dir,
            has_dest,
            |s, d| lookup(table, s, d, flags),
            is_active,
            TcpState::Established,
        )
    }
}

/// Whether a TCP packet that matches no connection may create one, as
/// IPVS's `tcp_conn_schedule`: never on RST; otherwise on SYN, or on any
/// packet when the `sloppy_tcp` sysctl (default 0) is set. SYN+ACK is
/// accepted on purpose (IPVS schedules on it for active FTP). ICMP errors
/// quoting a TCP header skip this test: only the ports are looked at.
pub const fn tcp_may_schedule(flags: TcpFlags, sloppy_tcp: bool) -> bool {
    !flags.rst() && (sloppy_tcp || flags.syn())
}

/// Whether a TCP packet opens a new connection for the port-reuse logic
/// (IPVS's `is_new_conn`): SYN set. IPVS only asks for unfragmented (or
/// first-fragment) packets.
pub const fn tcp_is_new_conn(flags: TcpFlags) -> bool {
    flags.syn()
}

/// Whether an existing connection may be replaced by the new one a SYN
/// asks for, as IPVS's `is_new_conn_expected` for TCP with the
/// `conn_reuse_mode` sysctl: TIME_WAIT or CLOSE, and with bit 2 also
/// FIN_WAIT on a connection whose replies bypass the director. The caller
/// must first rule out controlled connections (FTP data, persistence),
/// which IPVS never expects to be reused.
pub const fn tcp_new_conn_expected(state: TcpState, no_output: bool, conn_reuse_mode: u32) -> bool {
    matches!(state, TcpState::TimeWait | TcpState::Close)
        || (conn_reuse_mode & 2 != 0 && matches!(state, TcpState::FinWait) && no_output)
}

/// Timeout of a connection between its creation and its first state
/// update (`ip_vs_conn_new` sets 3 seconds).
pub const INITIAL_CONN_TIMEOUT_SECS: u32 = 3;

/// Per-state TCP timeouts in seconds, IPVS's per-netns `timeout_table`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TcpTimeouts {
    /// Seconds, indexed by [`TcpState::index`].
    pub secs: [u32; TcpState::COUNT],
}

impl TcpTimeouts {
    /// IPVS's defaults (`tcp_timeouts` in `ip_vs_proto_tcp.c`).
    pub const DEFAULT: TcpTimeouts = TcpTimeouts {
        secs: [
            2,       // NONE
            15 * 60, // ESTABLISHED
            2 * 60,  // SYN_SENT
            60,      // SYN_RECV
            2 * 60,  // FIN_WAIT
            2 * 60,  // TIME_WAIT
            10,      // CLOSE
            60,      // CLOSE_WAIT
            30,      // LAST_ACK
            2 * 60,  // LISTEN
            120,     // SYNACK
        ],
    };

    /// Timeout of `state`, seconds.
    pub const fn get(&self, state: TcpState) -> u32 {
        self.secs[state.index()]
    }

    /// Applies `ipvsadm --set tcp tcpfin udp`'s TCP part: `tcp` sets the
    /// ESTABLISHED timeout and `tcpfin` the FIN_WAIT one; 0 leaves a value
    /// unchanged. Range checking is the control path's job
    /// (`ctl::check_timeouts`).
    pub fn set_from_user(&mut self, tcp: u32, tcpfin: u32) {
        if tcp != 0 {
            self.secs[TcpState::Established.index()] = tcp;
        }
        if tcpfin != 0 {
            self.secs[TcpState::FinWait.index()] = tcpfin;
        }
    }

    /// The ESTABLISHED timeout, reported as "tcp" by `ipvsadm -L --timeout`.
    pub const fn established(&self) -> u32 {
        self.get(TcpState::Established)
    }

    /// The FIN_WAIT timeout, reported as "tcpfin".
    pub const fn fin_wait(&self) -> u32 {
        self.get(TcpState::FinWait)
    }
}

impl Default for TcpTimeouts {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Name of UDP's only state (`IP_VS_UDP_S_NORMAL`).
pub const UDP_STATE_NAME: &str = "UDP";

/// A persistence template's state once a connection under it was
/// established (TCP) or answered (UDP): IPVS's `IP_VS_CTPL_S_ASSURED`.
/// Templates start in 0, `IP_VS_CTPL_S_NONE`.
pub const TEMPLATE_ASSURED: u8 = 1;

/// A template's state as IPVS lists it.
pub const fn template_state_name(state: u8) -> &'static str {
    match state {
        0 => "NONE",
        TEMPLATE_ASSURED => "ASSURED",
        _ => "ERR!",
    }
}

/// A connection's state as IPVS lists it (`ip_vs_state_name`): a
/// template's, or its protocol's state name; "NONE" for protocol 0 and
/// "ERR!" for a protocol without states.
pub const fn conn_state_name(protocol: u8, template: bool, state: u8) -> &'static str {
    use super::packet::{IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP};
    if template {
        return template_state_name(state);
    }
    match protocol {
        IPPROTO_TCP => TcpState::name_of(state),
        IPPROTO_UDP if state == 0 => UDP_STATE_NAME,
        IPPROTO_SCTP => super::sctp::SctpState::name_of(state),
        0 => "NONE",
        _ => "ERR!",
    }
}

/// Default UDP timeout, seconds (5 minutes).
pub const UDP_DEFAULT_TIMEOUT_SECS: u32 = 300;

/// UDP timeouts: one state, re-armed on every packet either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UdpTimeouts {
    /// Seconds.
    pub normal: u32,
}

impl UdpTimeouts {
    /// IPVS's default.
    pub const DEFAULT: UdpTimeouts = UdpTimeouts {
        normal: UDP_DEFAULT_TIMEOUT_SECS,
    };

    /// Applies `ipvsadm --set`'s `udp` value; 0 leaves it unchanged.
    pub fn set_from_user(&mut self, udp: u32) {
        if udp != 0 {
            self.normal = udp;
        }
    }
}

impl Default for UdpTimeouts {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The timeouts of one network namespace, for both protocols.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Timeouts {
    /// TCP, per state.
    pub tcp: TcpTimeouts,
    /// UDP.
    pub udp: UdpTimeouts,
}

impl Timeouts {
    /// Applies `ipvsadm --set tcp tcpfin udp` (each 0 = unchanged).
    pub fn set_from_user(&mut self, tcp: u32, tcpfin: u32, udp: u32) {
        self.tcp.set_from_user(tcp, tcpfin);
        self.udp.set_from_user(udp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    const S: u8 = TcpFlags::SYN;
    const F: u8 = TcpFlags::FIN;
    const A: u8 = TcpFlags::ACK;
    const R: u8 = TcpFlags::RST;

    fn f(b: u8) -> TcpFlags {
        TcpFlags::from_byte(b)
    }

    /// Runs packets through a connection and returns the states after each.
    fn run(conn: &mut TcpConn, pkts: &[(Direction, u8)]) -> Vec<TcpState> {
        pkts.iter()
            .map(|&(d, fl)| {
                conn.on_packet(d, f(fl), true, false);
                conn.state
            })
            .collect()
    }

    #[test]
    fn names_and_numbers_match_ipvs() {
        let names = [
            "NONE",
            "ESTABLISHED",
            "SYN_SENT",
            "SYN_RECV",
            "FIN_WAIT",
            "TIME_WAIT",
            "CLOSE",
            "CLOSE_WAIT",
            "LAST_ACK",
            "LISTEN",
            "SYNACK",
        ];
        for (i, s) in TcpState::ALL.iter().enumerate() {
            assert_eq!(s.index(), i);
            assert_eq!(TcpState::from_u8(i as u8), Some(*s));
            assert_eq!(s.name(), names[i]);
        }
        assert_eq!(TcpState::from_u8(11), None);
        assert_eq!(TcpState::name_of(11), "ERR!");
        assert_eq!(TcpState::name_of(5), "TIME_WAIT");
    }

    #[test]
    fn flag_priority() {
        assert_eq!(TcpEvent::of(f(R | S | F | A)), Some(TcpEvent::Rst));
        assert_eq!(TcpEvent::of(f(S | F | A)), Some(TcpEvent::Syn));
        assert_eq!(TcpEvent::of(f(F | A)), Some(TcpEvent::Fin));
        assert_eq!(TcpEvent::of(f(A | TcpFlags::PSH)), Some(TcpEvent::Ack));
        assert_eq!(TcpEvent::of(f(TcpFlags::PSH | TcpFlags::URG)), None);
        // No SYN/FIN/ACK/RST: IPVS falls through with CLOSE.
        assert_eq!(tcp_transition(ES, Direction::Input, f(TcpFlags::PSH)), CL);
    }

    #[test]
    fn secure_tcp_needs_the_servers_answer() {
        use Direction::{Input as I, Output as O};
        let mut c = TcpConn::new(true);
        c.on_packet(I, f(S), true, true);
        assert_eq!(c.state, SR);
        // A lone ACK from the client does not establish it.
        c.on_packet(I, f(A), true, true);
        assert_eq!(c.state, SR);
        // The server's SYN+ACK: SYNACK; the client's ACK keeps it there;
        // the server's next segment establishes it.
        c.on_packet(O, f(S | A), true, true);
        assert_eq!(c.state, SA);
        c.on_packet(I, f(A), true, true);
        assert_eq!(c.state, SA);
        let step = c.on_packet(O, f(A), true, true);
        assert_eq!(c.state, ES);
        assert!(step.established);
        // The same client ACK establishes it at once without secure_tcp.
        let mut c = TcpConn::new(true);
        c.on_packet(I, f(S), true, false);
        c.on_packet(I, f(A), true, false);
        assert_eq!(c.state, ES);
    }

    #[test]
    fn nat_handshake_and_client_close() {
        use Direction::{Input as I, Output as O};
        let mut c = TcpConn::new(true);
        assert!(c.inactive);
        let step = c.on_packet(I, f(S), true, false);
        assert_eq!(c.state, SR);
        assert_eq!(step.counters, CounterChange::BecameActive);
        assert!(!c.inactive);
        // SYN+ACK from the server: SYN row, SYN_RECV stays.
        let step = c.on_packet(O, f(S | A), true, false);
        assert!(!step.changed);
        let step = c.on_packet(I, f(A), true, false);
        assert_eq!(c.state, ES);
        assert!(step.established);
        assert_eq!(step.counters, CounterChange::Unchanged);
        // Client closes first: CLOSE_WAIT, then the server's FIN.
        let states = run(&mut c, &[(I, F | A), (O, A), (O, F | A), (I, A)]);
        assert_eq!(states, [CW, CW, TW, TW]);
        assert!(c.inactive);
    }

    #[test]
    fn nat_server_closes_first() {
        use Direction::{Input as I, Output as O};
        let mut c = TcpConn::new(true);
        let states = run(
            &mut c,
            &[
                (I, S),
                (O, S | A),
                (I, A),
                (O, F | A),
                (I, A),
                (I, F | A),
                (O, A),
            ],
        );
        assert_eq!(states, [SR, SR, ES, FW, FW, TW, TW]);
    }

    #[test]
    fn resets() {
        use Direction::{Input as I, Output as O};
        assert_eq!(tcp_transition(ES, I, f(R)), CL);
        assert_eq!(tcp_transition(ES, O, f(R | A)), CL);
        // A reset from the client during the handshake is ignored.
        assert_eq!(tcp_transition(SR, I, f(R)), SR);
        // ... but not one from the server.
        assert_eq!(tcp_transition(SR, O, f(R)), CL);
        assert_eq!(tcp_transition(SS, O, f(R)), SS);
        assert_eq!(tcp_transition(TW, O, f(R)), TW);
        let mut c = TcpConn::new(true);
        run(&mut c, &[(I, S), (O, S | A), (I, A)]);
        let step = c.on_packet(O, f(R), true, false);
        assert_eq!(c.state, CL);
        assert_eq!(step.counters, CounterChange::BecameInactive);
    }

    #[test]
    fn last_ack_and_listen_cells() {
        use Direction::{Input as I, InputOnly as IO, Output as O};
        assert_eq!(tcp_transition(LA, I, f(A)), CL);
        assert_eq!(tcp_transition(LA, O, f(A)), LA);
        assert_eq!(tcp_transition(LA, I, f(R)), LA);
        assert_eq!(tcp_transition(LA, O, f(R)), CL);
        assert_eq!(tcp_transition(LA, O, f(S)), SS);
        assert_eq!(tcp_transition(LA, IO, f(F)), LA);
        assert_eq!(tcp_transition(CW, O, f(F)), TW);
        assert_eq!(tcp_transition(CW, I, f(S)), SR);
        assert_eq!(tcp_transition(LI, O, f(A)), ES);
        assert_eq!(tcp_transition(LI, I, f(A)), LI);
        assert_eq!(tcp_transition(LI, O, f(R)), CL);
        assert_eq!(tcp_transition(TcpState::None, O, f(S)), SS);
        assert_eq!(tcp_transition(TcpState::None, O, f(F)), TW);
        assert_eq!(tcp_transition(TcpState::SynAck, I, f(R)), SR);
        assert_eq!(tcp_transition(TcpState::SynAck, IO, f(R)), CL);
    }

    #[test]
    fn dr_uses_the_input_only_table() {
        use Direction::{Input as I, Output as O};
        let mut c = TcpConn::new(false);
        assert!(c.no_output);
        let states = run(&mut c, &[(I, S), (I, A), (I, A | TcpFlags::PSH)]);
        assert_eq!(states, [SR, ES, ES]);
        // The client's FIN: FIN_WAIT (NAT would say CLOSE_WAIT).
        let step = c.on_packet(I, f(F | A), true, false);
        assert_eq!(c.state, FW);
        assert_eq!(step.counters, CounterChange::BecameInactive);
        assert_eq!(tcp_transition(ES, I, f(F)), CW);
        let states = run(&mut c, &[(I, A), (I, R)]);
        assert_eq!(states, [FW, CL]);
        // Input only from NONE with a FIN, same as input.
        assert_eq!(
            tcp_transition(TcpState::None, Direction::InputOnly, f(F)),
            CL
        );
        // A reply seen on a "no output" connection switches to the
        // NAT tables for good.
        let mut c = TcpConn::new(false);
        run(&mut c, &[(I, S), (O, S | A)]);
        assert!(!c.no_output);
        c.on_packet(I, f(A), true, false);
        c.on_packet(I, f(F | A), true, false);
        assert_eq!(c.state, CW);
    }

    #[test]
    fn counters_need_a_dest_and_a_change() {
        let mut c = TcpConn::new(true);
        let step = c.on_packet(Direction::Input, f(S), false, false);
        assert_eq!(c.state, SR);
        assert_eq!(step.counters, CounterChange::Unchanged);
        assert!(c.inactive);
        // A repeated SYN changes nothing, so the flag is not fixed up.
        let step = c.on_packet(Direction::Input, f(S), true, false);
        assert!(!step.changed);
        assert_eq!(step.counters, CounterChange::Unchanged);
        let step = c.on_packet(Direction::Input, f(A), true, false);
        assert_eq!(step.counters, CounterChange::BecameActive);
    }

    #[test]
    fn activity_table() {
        let active: Vec<TcpState> = TcpState::ALL
            .into_iter()
            .filter(|s| is_active(*s))
            .collect();
        assert_eq!(active, [ES, SS, SR, TcpState::SynAck]);
    }

    #[test]
    fn scheduling_and_reuse() {
        assert!(tcp_may_schedule(f(S), false));
        assert!(tcp_may_schedule(f(S | A), false));
        assert!(!tcp_may_schedule(f(S | R), false));
        assert!(!tcp_may_schedule(f(A), false));
        assert!(tcp_may_schedule(f(A), true));
        assert!(!tcp_may_schedule(f(A | R), true));
        assert!(tcp_is_new_conn(f(S)));
        assert!(!tcp_is_new_conn(f(A)));
        assert!(tcp_new_conn_expected(TW, false, 1));
        assert!(tcp_new_conn_expected(CL, true, 0));
        assert!(!tcp_new_conn_expected(FW, true, 1));
        assert!(tcp_new_conn_expected(FW, true, 2));
        assert!(!tcp_new_conn_expected(FW, false, 3));
        assert!(!tcp_new_conn_expected(ES, true, 3));
    }

    #[test]
    fn timeouts() {
        let t = TcpTimeouts::default();
        let want = [2, 900, 120, 60, 120, 120, 10, 60, 30, 120, 120];
        for s in TcpState::ALL {
            assert_eq!(t.get(s), want[s.index()], "{}", s.name());
        }
        let mut all = Timeouts::default();
        assert_eq!(all.udp.normal, 300);
        all.set_from_user(0, 0, 0);
        assert_eq!(all, Timeouts::default());
        all.set_from_user(3600, 0, 45);
        assert_eq!(all.tcp.established(), 3600);
        assert_eq!(all.tcp.fin_wait(), 120);
        assert_eq!(all.udp.normal, 45);
        all.set_from_user(0, 30, 0);
        assert_eq!(all.tcp.established(), 3600);
        assert_eq!(all.tcp.fin_wait(), 30);
        assert_eq!(all.udp.normal, 45);
        // Only those two TCP states are settable.
        for s in TcpState::ALL {
            if s != ES && s != FW {
                assert_eq!(all.tcp.get(s), want[s.index()]);
            }
        }
        assert_eq!(UDP_STATE_NAME, "UDP");
    }

    fn dir() -> impl Strategy<Value = Direction> {
        prop_oneof![
            Just(Direction::Input),
            Just(Direction::Output),
            Just(Direction::InputOnly)
        ]
    }

    proptest! {
        #[test]
        fn every_cell_is_a_valid_state(s in 0u8..11, d in dir(), fl in any::<u8>()) {
            let st = TcpState::from_u8(s).unwrap();
            let n = tcp_transition(st, d, f(fl));
            prop_assert!(TcpState::from_u8(n as u8) == Some(n));
            // The default table never produces NONE or SYNACK.
            prop_assert!(n != TcpState::None && n != TcpState::SynAck);
            // Only the four flags matter.
            let masked = fl & (S | F | A | R);
            prop_assert_eq!(n, tcp_transition(st, d, f(masked)));
        }

        #[test]
        fn conn_bookkeeping_is_consistent(
            nat in any::<bool>(),
            pkts in proptest::collection::vec((dir(), any::<u8>()), 0..40),
        ) {
            let mut c = TcpConn::new(nat);
            let mut active = 0i32;
            for (d, fl) in pkts {
                let had_no_output = c.no_output;
                let before = c.state;
                let step = c.on_packet(d, f(fl), true, false);
                match step.counters {
                    CounterChange::BecameActive => active += 1,
                    CounterChange::BecameInactive => active -= 1,
                    CounterChange::Unchanged => {}
                }
                prop_assert_eq!(step.changed, before != c.state);
                // The flag only ever goes from set to clear, on a reply.
                if had_no_output && !c.no_output {
                    prop_assert_eq!(d, Direction::Output);
                }
                prop_assert!(!c.no_output || had_no_output);
                // The counter mirrors the inactive flag...
                prop_assert_eq!(active, if c.inactive { 0 } else { 1 });
                // ... which follows the state whenever the state moved.
                if step.changed {
                    prop_assert_eq!(c.inactive, !is_active(c.state));
                }
            }
        }
    }
}
