// SPDX-License-Identifier: GPL-2.0

//! Connection synchronisation between directors: the wire format of
//! IPVS's sync messages (`ip_vs_sync.c`) and the decisions around them,
//! as pure functions over byte slices.
//!
//! # Wire format
//!
//! A datagram is a header followed by `count` entries.
//!
//! * Version 1 header (8 bytes): reserved (0), syncid, size (be16, the
//!   whole datagram), count (u8), version (1), spare (be16, 0).
//! * Version 1 entry: type (bit 0: IPv6), protocol (0 for fwmark
//!   templates), ver_size (be16: version in the top 4 bits, 0; size of the
//!   entry with its options in the low 12), flags (be32, the connection
//!   flags without `HASHED`), state, cport, vport, dport (be16), fwmark,
//!   timeout (be32, seconds), then client, virtual and destination
//!   addresses (4 or 16 bytes each): 36 bytes for IPv4, 72 for IPv6.
//!   Options follow: type u8, length u8, data. SEQ (1, 24 bytes: in and
//!   out [`SeqAdj`], be32 each) when the flags have a SEQ bit; PE_DATA (2)
//!   and then PE_NAME (3) for connections with persistence-engine data.
//!   The next entry starts 4-byte aligned; the padding counts in the
//!   header's size but not in the entry's; the last entry is not padded.
//! * Version 0 header (4 bytes): count, syncid, size (be16). Entries of 24
//!   bytes (reserved, protocol, cport, vport, dport, caddr, vaddr, daddr,
//!   flags be16, state be16), IPv4 only, followed by the 24 bytes of
//!   sequence data in the *sender's host byte order* when the flags have a
//!   SEQ bit. No fwmark, no timeout, no PE data.
//!
//! # Receiver
//!
//! [`decode`] follows `ip_vs_process_message` step by step, including
//! which faults drop one entry and which drop the rest of the datagram.
//!
//! # rvs extension
//!
//! IPVS reads exactly `count` entries and ignores whatever follows them as
//! long as the header's size equals the datagram's length. rvs appends a
//! [`RvsTrailer`] there, 4-byte aligned after the last entry. A resync
//! request is a version 1 datagram with no entry and a trailer of kind
//! [`TrailerKind::ResyncRequest`]: IPVS accepts it (size matches, version
//! 1) and its entry loop runs zero times.
//!
//! # Sender
//!
//! [`sync_needed`] is `ip_vs_sync_conn_needed` plus the one-packet check
//! `ip_vs_sync_conn` makes before it; [`syncs_control`] says when IPVS
//! goes on to the controlling connection (template); [`thread_of`] picks
//! the sync thread.

#![warn(missing_docs)]

use super::packet::{IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP};
use super::proto::TcpState;

/// IPv4 multicast group of the sync daemons (224.0.0.81).
pub const DEFAULT_GROUP4: [u8; 4] = [224, 0, 0, 81];
/// UDP port of thread 0; thread `i` uses `DEFAULT_PORT + i`.
pub const DEFAULT_PORT: u16 = 8848;
/// Multicast TTL when none is configured.
pub const DEFAULT_TTL: u8 = 1;
/// Most entries in a datagram (the count is a u8). IPVS itself does not
/// check this and lets the count wrap when `sync_maxlen` is large enough
/// for more than 255 entries; rvs stops at 255.
pub const MAX_ENTRIES: usize = 255;
/// Length of the version 1 header.
pub const HEADER_V1_LEN: usize = 8;
/// Length of the version 0 header.
pub const HEADER_V0_LEN: usize = 4;
/// Length of a version 1 IPv4 entry without options.
pub const ENTRY_V4_LEN: usize = 36;
/// Length of a version 1 IPv6 entry without options.
pub const ENTRY_V6_LEN: usize = 72;
/// Length of a version 0 entry without sequence data.
pub const ENTRY_V0_LEN: usize = 24;
/// Length of the sequence data (in and out [`SeqAdj`]).
pub const SEQ_DATA_LEN: usize = 24;
/// Length of the SEQ option: type, length and data.
pub const SEQ_OPT_LEN: usize = 2 + SEQ_DATA_LEN;
/// Longest PE name IPVS sends or accepts (`IP_VS_PENAME_MAXLEN`).
pub const PENAME_MAXLEN: usize = 16;
/// Longest PE data (`IP_VS_PEDATA_MAXLEN`).
pub const PEDATA_MAXLEN: usize = 255;
/// Message version in the version 1 header (`SYNC_PROTO_VER`).
pub const SYNC_PROTO_VER: u8 = 1;
/// Most sync threads (`IPVS_SYNC_PORTS_MAX`).
pub const SYNC_PORTS_MAX: u32 = 64;
/// Default `sync_threshold`.
pub const DEFAULT_SYNC_THRESHOLD: u32 = 3;
/// Default `sync_period`.
pub const DEFAULT_SYNC_PERIOD: u32 = 50;

/// Whether `sync_threshold` may become `[threshold, period]`: both not
/// negative, and the threshold below the period unless the period is 0
/// (send once), as IPVS's `proc_do_sync_threshold`.
pub fn sync_threshold_valid(threshold: i32, period: i32) -> bool {
    threshold >= 0 && period >= 0 && (period == 0 || threshold < period)
}

/// Whether `sync_ports` may become `n`: a power of two up to
/// [`SYNC_PORTS_MAX`], as IPVS's `proc_do_sync_ports`.
pub fn sync_ports_valid(n: i32) -> bool {
    u32::try_from(n).is_ok_and(|n| n.is_power_of_two() && n <= SYNC_PORTS_MAX)
}

/// Entry type bit for IPv6 (`STYPE_F_INET6`).
pub const STYPE_F_INET6: u8 = 1;
/// Option: sequence data.
pub const OPT_SEQ_DATA: u8 = 1;
/// Option: persistence-engine data.
pub const OPT_PE_DATA: u8 = 2;
/// Option: persistence-engine name.
pub const OPT_PE_NAME: u8 = 3;
/// Option type bit: the option may be skipped when unknown
/// (`IPVS_OPT_F_PARAM`).
pub const OPT_F_PARAM: u8 = 0x40;

const SVER_SHIFT: u32 = 12;
const SVER_MASK: u16 = 0x0fff;
const IPV4_UDP_HLEN: u16 = 20 + 8;
const IPV6_UDP_HLEN: u16 = 40 + 8;
const IPPROTO_ESP: u8 = 50;
const IPPROTO_AH: u8 = 51;

/// `IP_VS_CONN_F_*` values as on the wire (same numbers as IPVS); the
/// forwarding method in the low bits is the control plane's (`abi::fwd`).
pub mod cflags {
    use super::super::abi::fwd;
    /// Mask of the forwarding method.
    pub const FWD_MASK: u32 = fwd::MASK;
    /// NAT.
    pub const MASQ: u32 = fwd::MASQ;
    /// Local node.
    pub const LOCALNODE: u32 = fwd::LOCALNODE;
    /// IP-IP tunnel.
    pub const TUNNEL: u32 = fwd::TUNNEL;
    /// Direct routing.
    pub const DROUTE: u32 = fwd::DROUTE;
    /// Cache bypass.
    pub const BYPASS: u32 = fwd::BYPASS;
    /// Entry created by sync.
    pub const SYNC: u32 = 0x20;
    /// Hashed entry (never sent).
    pub const HASHED: u32 = 0x40;
    /// No output packets seen.
    pub const NOOUTPUT: u32 = 0x80;
    /// Not established.
    pub const INACTIVE: u32 = 0x100;
    /// Output sequence adjustment.
    pub const OUT_SEQ: u32 = 0x200;
    /// Input sequence adjustment.
    pub const IN_SEQ: u32 = 0x400;
    /// Both sequence bits.
    pub const SEQ_MASK: u32 = 0x600;
    /// Client port not known yet.
    pub const NO_CPORT: u32 = 0x800;
    /// Template (persistence), not a connection.
    pub const TEMPLATE: u32 = 0x1000;
    /// One-packet scheduling.
    pub const ONE_PACKET: u32 = 0x2000;
    /// Bits a backup keeps from the wire (`IP_VS_CONN_F_BACKUP_MASK`).
    pub const BACKUP_MASK: u32 = FWD_MASK | NOOUTPUT | INACTIVE | SEQ_MASK | NO_CPORT | TEMPLATE;
    /// Bits an update may change on an existing entry
    /// (`IP_VS_CONN_F_BACKUP_UPD_MASK`).
    pub const BACKUP_UPD_MASK: u32 = INACTIVE | SEQ_MASK;
    /// Use netfilter conntrack; bits from here up are local.
    pub const NFCT: u32 = 1 << 16;
}

/// Template states (`IP_VS_CTPL_S_*`).
pub mod ctpl {
    /// Template created.
    pub const NONE: u16 = 0;
    /// Template assured.
    pub const ASSURED: u16 = 1;
    /// Number of template states.
    pub const LAST: u16 = 2;
}

/// SCTP states IPVS's sync logic names (`IP_VS_SCTP_S_*`).
pub mod sctp {
    use super::super::sctp::SctpState;
    /// Association established.
    pub const ESTABLISHED: u16 = SctpState::Established as u16;
    /// SHUTDOWN sent.
    pub const SHUTDOWN_SENT: u16 = SctpState::ShutdownSent as u16;
    /// SHUTDOWN received.
    pub const SHUTDOWN_RECEIVED: u16 = SctpState::ShutdownReceived as u16;
    /// SHUTDOWN ACK sent.
    pub const SHUTDOWN_ACK_SENT: u16 = SctpState::ShutdownAckSent as u16;
    /// Closed.
    pub const CLOSED: u16 = SctpState::Closed as u16;
    /// Number of SCTP states.
    pub const LAST: u16 = SctpState::COUNT as u16;
}

/// Number of TCP states (`IP_VS_TCP_S_LAST`).
pub const TCP_S_LAST: u16 = TcpState::COUNT as u16;
/// Number of UDP states (`IP_VS_UDP_S_LAST`).
pub const UDP_S_LAST: u16 = 1;

/// Sequence adjustment of one direction (`struct ip_vs_seq`).
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct SeqAdj {
    /// Add delta from this sequence number on.
    pub init_seq: u32,
    /// Delta in sequence numbers.
    pub delta: u32,
    /// Delta before the last resized packet.
    pub previous_delta: u32,
}

impl SeqAdj {
    fn from_be(b: &[u8]) -> Option<SeqAdj> {
        Some(SeqAdj {
            init_seq: u32::from_be_bytes(rd(b, 0)?),
            delta: u32::from_be_bytes(rd(b, 4)?),
            previous_delta: u32::from_be_bytes(rd(b, 8)?),
        })
    }

    fn from_ne(b: &[u8]) -> Option<SeqAdj> {
        Some(SeqAdj {
            init_seq: u32::from_ne_bytes(rd(b, 0)?),
            delta: u32::from_ne_bytes(rd(b, 4)?),
            previous_delta: u32::from_ne_bytes(rd(b, 8)?),
        })
    }
}

/// One synced connection or template, as decoded or to be encoded.
/// Ports host order.
///
/// A fwmark template (persistence on a fwmark service) has protocol 0,
/// ports 0 and the fwmark, big-endian, as its virtual address, as IPVS
/// builds it.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct SyncConn<'a> {
    /// IPv6 addresses (version 1 only).
    pub v6: bool,
    /// IP protocol; 0 for fwmark templates.
    pub protocol: u8,
    /// Connection flags ([`cflags`]). Encoding strips `HASHED` (and a
    /// version 0 entry keeps only the low 16 bits); decoding keeps
    /// [`cflags::BACKUP_MASK`] and adds [`cflags::SYNC`].
    pub flags: u32,
    /// Protocol state, or template state.
    pub state: u16,
    /// Client port.
    pub cport: u16,
    /// Virtual port.
    pub vport: u16,
    /// Destination (real server) port.
    pub dport: u16,
    /// Firewall mark (version 1; 0 from version 0).
    pub fwmark: u32,
    /// Timeout in seconds (version 1); 0 when unknown (version 0), in
    /// which case the backup uses its protocol's timeout for the state,
    /// or 180 s for templates.
    pub timeout: u32,
    /// Client address; IPv4 in the first 4 bytes.
    pub caddr: [u8; 16],
    /// Virtual address; IPv4 in the first 4 bytes.
    pub vaddr: [u8; 16],
    /// Destination address; IPv4 in the first 4 bytes.
    pub daddr: [u8; 16],
    /// Sequence adjustment, `[in, out]`. Encoding sends it when the flags
    /// have a SEQ bit (zeros if `None`), never otherwise; decoding gives it
    /// when the entry carries it.
    pub seq: Option<[SeqAdj; 2]>,
    /// Persistence-engine data (version 1). Empty counts as none.
    pub pe_data: Option<&'a [u8]>,
    /// Persistence-engine name (version 1). Only sent with PE data, cut at
    /// a NUL or at [`PENAME_MAXLEN`] bytes as IPVS's `strnlen` does. A
    /// decoded entry with PE data always has one; the receiver must drop
    /// the entry if it has no engine of that name (IPVS does).
    pub pe_name: Option<&'a [u8]>,
}

/// Why a datagram, its rest, or an entry was dropped.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum DropReason {
    /// Shorter than a version 0 header, or an entry (its fixed part, its
    /// declared size or its sequence data) runs past the end.
    TooShort,
    /// The header's size differs from the datagram's length.
    SizeMismatch,
    /// The header's syncid is not ours (only checked when ours is not 0).
    SyncidMismatch,
    /// A malformed or refused entry. As a callback argument: only that
    /// entry was dropped. As the result: the entry was malformed in a way
    /// that makes IPVS drop the rest of the datagram.
    BadEntry,
    /// Longer than the receiver's `maxlen`: IPVS receives only `maxlen`
    /// bytes and the header's size then no longer matches.
    TooLong,
}

/// Summary of a decoded datagram.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Decoded {
    /// Message version: 1, or 0 for the old format.
    pub version: u8,
    /// Number of entries in the datagram (the header's count), all walked.
    pub entries: usize,
    /// How many of them were refused (each reported as
    /// `Err(DropReason::BadEntry)` to the callback).
    pub rejected: usize,
    /// The rvs trailer, when present and well-formed.
    pub trailer: Option<RvsTrailer>,
}

/// Magic at the start of the rvs trailer.
pub const RVS_MAGIC: [u8; 4] = *b"RVS\x01";
/// Length of the rvs trailer: magic, kind (u8), 3 reserved bytes, seq
/// (be32), sender (be32).
pub const TRAILER_LEN: usize = 16;

/// What an rvs datagram is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub enum TrailerKind {
    /// Ordinary sync datagram.
    Sync = 0,
    /// Request to resend the whole table (sent with no entry).
    ResyncRequest = 1,
}

impl TrailerKind {
    /// The kind with number `v`.
    pub const fn from_u8(v: u8) -> Option<TrailerKind> {
        match v {
            0 => Some(TrailerKind::Sync),
            1 => Some(TrailerKind::ResyncRequest),
            _ => None,
        }
    }
}

/// The rvs trailer: after the last entry, invisible to IPVS.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct RvsTrailer {
    /// What the datagram is.
    pub kind: TrailerKind,
    /// Per-sender datagram sequence number.
    pub seq: u32,
    /// Random id of the sending daemon.
    pub sender_id: u32,
}

impl RvsTrailer {
    /// The trailer's bytes (reserved bytes zero).
    pub fn to_bytes(&self) -> [u8; TRAILER_LEN] {
        let mut b = [0u8; TRAILER_LEN];
        put(&mut b, 0, &RVS_MAGIC);
        put(&mut b, 4, &[self.kind as u8]);
        put(&mut b, 8, &self.seq.to_be_bytes());
        put(&mut b, 12, &self.sender_id.to_be_bytes());
        b
    }

    /// Parses exactly [`TRAILER_LEN`] bytes: magic and kind must match;
    /// the reserved bytes are ignored.
    pub fn parse(b: &[u8]) -> Option<RvsTrailer> {
        if b.len() != TRAILER_LEN || rd::<4>(b, 0)? != RVS_MAGIC {
            return None;
        }
        Some(RvsTrailer {
            kind: TrailerKind::from_u8(*b.get(4)?)?,
            seq: u32::from_be_bytes(rd(b, 8)?),
            sender_id: u32::from_be_bytes(rd(b, 12)?),
        })
    }
}

// ---------------------------------------------------------------------
// Byte helpers

fn rd<const N: usize>(b: &[u8], off: usize) -> Option<[u8; N]> {
    let end = off.checked_add(N)?;
    b.get(off..end)?.try_into().ok()
}

fn rd_be16(b: &[u8], off: usize) -> Option<u16> {
    rd(b, off).map(u16::from_be_bytes)
}

fn rd_be32(b: &[u8], off: usize) -> Option<u32> {
    rd(b, off).map(u32::from_be_bytes)
}

const fn align4(n: usize) -> usize {
    n.saturating_add(3) & !3
}

/// Writes `src` at `off`; false (nothing written) if it does not fit.
fn put(b: &mut [u8], off: usize, src: &[u8]) -> bool {
    let Some(end) = off.checked_add(src.len()) else {
        return false;
    };
    match b.get_mut(off..end) {
        Some(d) => {
            d.copy_from_slice(src);
            true
        }
        None => false,
    }
}

fn zero(b: &mut [u8], from: usize, to: usize) -> bool {
    match b.get_mut(from..to) {
        Some(d) => {
            d.fill(0);
            true
        }
        None => false,
    }
}

/// Sequential writer over an exactly sized slice.
struct W<'x> {
    b: &'x mut [u8],
    pos: usize,
    ok: bool,
}

impl<'x> W<'x> {
    fn new(b: &'x mut [u8]) -> Self {
        W {
            b,
            pos: 0,
            ok: true,
        }
    }

    fn put(&mut self, s: &[u8]) {
        if put(self.b, self.pos, s) {
            self.pos = self.pos.saturating_add(s.len());
        } else {
            self.ok = false;
        }
    }

    fn u8(&mut self, v: u8) {
        self.put(&[v]);
    }

    fn be16(&mut self, v: u16) {
        self.put(&v.to_be_bytes());
    }

    fn be32(&mut self, v: u32) {
        self.put(&v.to_be_bytes());
    }

    fn done(&self) -> bool {
        self.ok && self.pos == self.b.len()
    }
}

fn v4_of(a: &[u8; 16]) -> [u8; 4] {
    let [a0, a1, a2, a3, ..] = *a;
    [a0, a1, a2, a3]
}

fn addr16(b: &[u8]) -> Option<[u8; 16]> {
    let mut a = [0u8; 16];
    match b.len() {
        4 | 16 => {
            if !put(&mut a, 0, b) {
                return None;
            }
            Some(a)
        }
        _ => None,
    }
}

/// The PE name IPVS sends: up to a NUL, at most [`PENAME_MAXLEN`] bytes.
fn effective_pe_name(name: &[u8]) -> &[u8] {
    let cap = name.len().min(PENAME_MAXLEN);
    let head = name.get(..cap).unwrap_or(&[]);
    match head.iter().position(|&b| b == 0) {
        Some(n) => head.get(..n).unwrap_or(&[]),
        None => head,
    }
}

// ---------------------------------------------------------------------
// Sizes and limits

/// `sync_maxlen` of a master started without one: 1500 minus the IP and
/// UDP headers, whatever the interface's MTU (1472, or 1452 with an IPv6
/// group).
pub fn default_master_maxlen(v6: bool) -> u16 {
    1500 - if v6 { IPV6_UDP_HLEN } else { IPV4_UDP_HLEN }
}

/// `sync_maxlen` of a backup started without one: its interface's MTU
/// clamped to 1500..=65535, minus the IP and UDP headers.
pub fn default_backup_maxlen(mtu: u32, v6: bool) -> u16 {
    let mtu = mtu.clamp(1500, 65535) as u16;
    mtu - if v6 { IPV6_UDP_HLEN } else { IPV4_UDP_HLEN }
}

/// The `sync_maxlen` a daemon runs with, as `start_sync_thread` sets it:
/// `requested` 0 gives the default; otherwise it is clamped to
/// `1..=65535 - headers` for a master and `1024..=65535 - headers` for a
/// backup.
pub fn effective_maxlen(requested: u16, backup: bool, mtu: u32, v6: bool) -> u16 {
    let hlen = if v6 { IPV6_UDP_HLEN } else { IPV4_UDP_HLEN };
    if requested == 0 {
        if backup {
            default_backup_maxlen(mtu, v6)
        } else {
            default_master_maxlen(v6)
        }
    } else {
        let min = if backup { 1024 } else { 1 };
        requested.clamp(min, u16::MAX - hlen)
    }
}

struct Layout<'a> {
    seq: bool,
    pe_data: &'a [u8],
    pe_name: &'a [u8],
    size: usize,
}

fn layout<'a>(c: &SyncConn<'a>) -> Layout<'a> {
    let fixed = if c.v6 { ENTRY_V6_LEN } else { ENTRY_V4_LEN };
    let seq = c.flags & cflags::SEQ_MASK != 0;
    let pe_data = c.pe_data.unwrap_or(&[]);
    let pe_name = if pe_data.is_empty() {
        &[][..]
    } else {
        effective_pe_name(c.pe_name.unwrap_or(&[]))
    };
    let mut size = fixed;
    if seq {
        size += SEQ_OPT_LEN;
    }
    if !pe_data.is_empty() {
        size = size.saturating_add(2).saturating_add(pe_data.len());
    }
    if !pe_name.is_empty() {
        size = size.saturating_add(2).saturating_add(pe_name.len());
    }
    Layout {
        seq,
        pe_data,
        pe_name,
        size,
    }
}

/// Size of a version 1 entry with its options, as its `ver_size` field
/// says (no padding).
pub fn entry_size(c: &SyncConn<'_>) -> usize {
    layout(c).size
}

/// Space a connection takes in a version 1 datagram: entry and options
/// plus the padding that precedes the next entry (i.e. [`entry_size`]
/// rounded up to 4) — for callers that size queues.
pub fn entry_len(c: &SyncConn<'_>) -> usize {
    align4(entry_size(c))
}

/// Space a connection takes in a version 0 datagram (24, or 48 with
/// sequence data).
pub fn entry_len_v0(c: &SyncConn<'_>) -> usize {
    if c.flags & cflags::SEQ_MASK != 0 {
        ENTRY_V0_LEN + SEQ_DATA_LEN
    } else {
        ENTRY_V0_LEN
    }
}

/// The limit IPVS gives a datagram that starts with `first`
/// (`ip_vs_sync_buff_create`): `maxlen`, or more when the header and that
/// one entry do not fit in it. Pass it to [`Encoder::new_v1`] /
/// [`Encoder::new_v0`] to send an oversized entry alone as IPVS does.
pub fn datagram_limit(maxlen: usize, first: &SyncConn<'_>, version: u8) -> usize {
    let need = if version == 0 {
        HEADER_V0_LEN + entry_len_v0(first)
    } else {
        HEADER_V1_LEN.saturating_add(entry_size(first))
    };
    need.max(maxlen)
}

// ---------------------------------------------------------------------
// Encoder

/// Builds one datagram into a caller's buffer (the kernel preallocates
/// it). The buffer always holds a consistent datagram of
/// [`Encoder::datagram_len`] bytes; [`Encoder::finish`] adds the trailer.
pub struct Encoder<'b> {
    buf: &'b mut [u8],
    /// min(buf.len(), maxlen, 65535)
    limit: usize,
    /// End of the last entry (unpadded).
    end: usize,
    count: usize,
    v1: bool,
    /// Keep room for a trailer after every push.
    reserve_trailer: bool,
}

impl<'b> Encoder<'b> {
    fn new(buf: &'b mut [u8], syncid: u8, maxlen: usize, v1: bool) -> Option<Self> {
        let limit = buf.len().min(maxlen).min(u16::MAX as usize);
        let hlen = if v1 { HEADER_V1_LEN } else { HEADER_V0_LEN };
        if limit < hlen {
            return None;
        }
        let mut e = Encoder {
            buf,
            limit,
            end: hlen,
            count: 0,
            v1,
            reserve_trailer: false,
        };
        let ok = if v1 {
            put(e.buf, 0, &[0, syncid, 0, 0, 0, SYNC_PROTO_VER, 0, 0])
        } else {
            put(e.buf, 0, &[0, syncid, 0, 0])
        };
        if !ok {
            return None;
        }
        e.fix_header();
        Some(e)
    }

    /// Version 1 header; `maxlen` is the datagram's limit (`buf.len()`
    /// may be larger; nothing is ever written past
    /// `min(buf.len(), maxlen)`). None if not even the header fits.
    pub fn new_v1(buf: &'b mut [u8], syncid: u8, maxlen: usize) -> Option<Self> {
        Self::new(buf, syncid, maxlen, true)
    }

    /// Version 0 header, as [`Encoder::new_v1`].
    pub fn new_v0(buf: &'b mut [u8], syncid: u8, maxlen: usize) -> Option<Self> {
        Self::new(buf, syncid, maxlen, false)
    }

    /// From now on, refuse entries that would leave no room for a trailer
    /// (version 1 only). False when there is no room for one even now.
    pub fn reserve_trailer(&mut self) -> bool {
        if !self.v1 || align4(self.end).saturating_add(TRAILER_LEN) > self.limit {
            return false;
        }
        self.reserve_trailer = true;
        true
    }

    fn fix_header(&mut self) {
        let size = (self.end as u16).to_be_bytes();
        // count <= MAX_ENTRIES, end <= limit <= 65535
        let count = self.count as u8;
        if self.v1 {
            put(self.buf, 2, &size);
            put(self.buf, 4, &[count]);
        } else {
            put(self.buf, 0, &[count]);
            put(self.buf, 2, &size);
        }
    }

    /// Adds an entry. False (and nothing written) when it does not fit,
    /// the datagram already holds [`MAX_ENTRIES`], the PE data is longer
    /// than [`PEDATA_MAXLEN`], or version 0 cannot carry it (IPv6). A
    /// version 0 entry silently loses fwmark, timeout and PE data, as in
    /// IPVS.
    pub fn push(&mut self, c: &SyncConn<'_>) -> bool {
        if self.count >= MAX_ENTRIES {
            return false;
        }
        let ok = if self.v1 {
            self.push_v1(c)
        } else {
            self.push_v0(c)
        };
        if ok {
            self.count += 1;
            self.fix_header();
        }
        ok
    }

    fn push_v1(&mut self, c: &SyncConn<'_>) -> bool {
        let lay = layout(c);
        if lay.pe_data.len() > PEDATA_MAXLEN {
            return false;
        }
        let start = align4(self.end);
        let new_end = start.saturating_add(lay.size);
        let need = if self.reserve_trailer {
            align4(new_end).saturating_add(TRAILER_LEN)
        } else {
            new_end
        };
        if need > self.limit {
            return false;
        }
        let Some(dst) = self.buf.get_mut(start..new_end) else {
            return false;
        };
        if !write_v1(dst, c, &lay) {
            return false;
        }
        zero(self.buf, self.end, start);
        self.end = new_end;
        true
    }

    fn push_v0(&mut self, c: &SyncConn<'_>) -> bool {
        if c.v6 {
            return false;
        }
        let len = entry_len_v0(c);
        let new_end = self.end.saturating_add(len);
        if new_end > self.limit {
            return false;
        }
        let Some(dst) = self.buf.get_mut(self.end..new_end) else {
            return false;
        };
        let mut w = W::new(dst);
        w.u8(0);
        w.u8(c.protocol);
        w.be16(c.cport);
        w.be16(c.vport);
        w.be16(c.dport);
        w.put(&v4_of(&c.caddr));
        w.put(&v4_of(&c.vaddr));
        w.put(&v4_of(&c.daddr));
        // htons() of the 32-bit flags keeps the low 16 bits.
        w.be16((c.flags & !cflags::HASHED) as u16);
        w.be16(c.state);
        if c.flags & cflags::SEQ_MASK != 0 {
            // memcpy of struct ip_vs_seq: host byte order.
            for s in c.seq.unwrap_or_default() {
                w.put(&s.init_seq.to_ne_bytes());
                w.put(&s.delta.to_ne_bytes());
                w.put(&s.previous_delta.to_ne_bytes());
            }
        }
        if !w.done() {
            return false;
        }
        self.end = new_end;
        true
    }

    /// Entries so far.
    pub fn count(&self) -> usize {
        self.count
    }

    /// No entry yet.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Length of the datagram so far (header and entries, no trailer).
    pub fn datagram_len(&self) -> usize {
        self.end
    }

    /// The datagram's limit: `min(buf.len(), maxlen, 65535)`.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Appends the rvs trailer if there is room (version 1 only), fixes
    /// the header's size and count, and returns the datagram's length.
    pub fn finish(mut self, trailer: Option<&RvsTrailer>) -> usize {
        if let (true, Some(t)) = (self.v1, trailer) {
            let at = align4(self.end);
            let tend = at.saturating_add(TRAILER_LEN);
            if tend <= self.limit
                && zero(self.buf, self.end, at)
                && put(self.buf, at, &t.to_bytes())
            {
                self.end = tend;
            }
        }
        self.fix_header();
        self.end
    }
}

fn write_v1(dst: &mut [u8], c: &SyncConn<'_>, lay: &Layout<'_>) -> bool {
    let mut w = W::new(dst);
    w.u8(if c.v6 { STYPE_F_INET6 } else { 0 });
    w.u8(c.protocol);
    // Version 0 in the top bits; size < 4096 as pe_data <= 255.
    w.be16((lay.size as u16) & SVER_MASK);
    w.be32(c.flags & !cflags::HASHED);
    w.be16(c.state);
    w.be16(c.cport);
    w.be16(c.vport);
    w.be16(c.dport);
    w.be32(c.fwmark);
    w.be32(c.timeout);
    if c.v6 {
        w.put(&c.caddr);
        w.put(&c.vaddr);
        w.put(&c.daddr);
    } else {
        w.put(&v4_of(&c.caddr));
        w.put(&v4_of(&c.vaddr));
        w.put(&v4_of(&c.daddr));
    }
    if lay.seq {
        w.u8(OPT_SEQ_DATA);
        w.u8(SEQ_DATA_LEN as u8);
        for s in c.seq.unwrap_or_default() {
            w.be32(s.init_seq);
            w.be32(s.delta);
            w.be32(s.previous_delta);
        }
    }
    if !lay.pe_data.is_empty() {
        w.u8(OPT_PE_DATA);
        w.u8(lay.pe_data.len() as u8);
        w.put(lay.pe_data);
        if !lay.pe_name.is_empty() {
            w.u8(OPT_PE_NAME);
            w.u8(lay.pe_name.len() as u8);
            w.put(lay.pe_name);
        }
    }
    w.done()
}

/// Builds a resync request (a version 1 datagram with no entry and a
/// [`TrailerKind::ResyncRequest`] trailer) into `buf`; its length, or None
/// if `buf` is shorter than 24 bytes.
pub fn encode_resync_request(
    buf: &mut [u8],
    syncid: u8,
    seq: u32,
    sender_id: u32,
) -> Option<usize> {
    if buf.len() < HEADER_V1_LEN + TRAILER_LEN {
        return None;
    }
    let e = Encoder::new_v1(buf, syncid, HEADER_V1_LEN + TRAILER_LEN)?;
    let t = RvsTrailer {
        kind: TrailerKind::ResyncRequest,
        seq,
        sender_id,
    };
    Some(e.finish(Some(&t)))
}

// ---------------------------------------------------------------------
// Decoder

/// Whether a state number is one a backup accepts
/// (`ip_vs_proc_sync_conn`): templates NONE or ASSURED whatever the
/// protocol; connections a state below the protocol's count for the
/// protocols IPVS registers (TCP, UDP, SCTP, and AH and ESP with one state
/// each); anything else (unknown protocol) is refused.
pub fn state_valid(protocol: u8, state: u16, template: bool) -> bool {
    if template {
        return state < ctpl::LAST;
    }
    let n = match protocol {
        IPPROTO_TCP => TCP_S_LAST,
        IPPROTO_UDP => UDP_S_LAST,
        IPPROTO_SCTP => sctp::LAST,
        IPPROTO_AH | IPPROTO_ESP => 1,
        _ => return false,
    };
    state < n
}

/// Flags a backup refuses (`ip_vs_sync_validate_flags`): one-packet
/// connections, and no-client-port templates.
fn flags_acceptable(flags: u32) -> bool {
    let f = flags & (cflags::NO_CPORT | cflags::TEMPLATE);
    f != (cflags::NO_CPORT | cflags::TEMPLATE) && flags & cflags::ONE_PACKET == 0
}

/// Whether a backup with syncid `own` (IPVS keeps it as an int, from a
/// u32 netlink attribute) accepts a datagram with header syncid `msg`:
/// any when `own` is 0, otherwise only an equal one (so none when `own` >
/// 255).
pub fn syncid_accepts(own: u32, msg: u8) -> bool {
    own == 0 || own == msg as u32
}

enum EntryErr {
    /// Only this entry is dropped.
    Skip,
    /// The rest of the datagram is dropped.
    Fatal,
}

/// One version 1 entry, `e` exactly `size` bytes (ip_vs_proc_sync_conn).
fn parse_v1_entry(e: &[u8]) -> Result<SyncConn<'_>, EntryErr> {
    use EntryErr::{Fatal, Skip};
    let ty = *e.first().ok_or(Fatal)?;
    let (v6, fixed) = if ty & STYPE_F_INET6 != 0 {
        (true, ENTRY_V6_LEN)
    } else if ty == 0 {
        (false, ENTRY_V4_LEN)
    } else {
        return Err(Fatal);
    };
    if fixed > e.len() {
        return Err(Fatal);
    }
    let mut seq = None;
    let mut pe_data: Option<&[u8]> = None;
    let mut pe_name: Option<&[u8]> = None;
    let mut p = fixed;
    while p < e.len() {
        let (Some(&ptype), Some(&plen)) = (e.get(p), e.get(p + 1)) else {
            return Err(Fatal);
        };
        p += 2;
        let plen = plen as usize;
        let data = match e.get(p..p + plen) {
            Some(d) if plen != 0 => d,
            _ => return Err(Fatal),
        };
        match ptype & !OPT_F_PARAM {
            OPT_SEQ_DATA => {
                if plen != SEQ_DATA_LEN || seq.is_some() {
                    return Err(Fatal);
                }
                let i = SeqAdj::from_be(data).ok_or(Fatal)?;
                let o = SeqAdj::from_be(data.get(12..).ok_or(Fatal)?).ok_or(Fatal)?;
                seq = Some([i, o]);
            }
            OPT_PE_DATA => {
                if plen > PEDATA_MAXLEN || pe_data.is_some() {
                    return Err(Fatal);
                }
                pe_data = Some(data);
            }
            OPT_PE_NAME => {
                if plen > PENAME_MAXLEN || pe_name.is_some() {
                    return Err(Fatal);
                }
                pe_name = Some(data);
            }
            _ => {
                if ptype & OPT_F_PARAM == 0 {
                    // Unknown mandatory option: this entry only, and the
                    // options after it are not looked at.
                    return Err(Skip);
                }
            }
        }
        p += plen;
    }
    let flags = rd_be32(e, 4).ok_or(Fatal)?;
    if !flags_acceptable(flags) {
        return Err(Skip);
    }
    let flags = (flags & cflags::BACKUP_MASK) | cflags::SYNC;
    let state = rd_be16(e, 8).ok_or(Fatal)?;
    let protocol = *e.get(1).ok_or(Fatal)?;
    if !state_valid(protocol, state, flags & cflags::TEMPLATE != 0) {
        return Err(Skip);
    }
    // PE data needs a PE name (which the receiver must know).
    if pe_data.is_some() && pe_name.is_none() {
        return Err(Skip);
    }
    let alen = if v6 { 16 } else { 4 };
    let addr = |i: usize| {
        e.get(24 + i * alen..24 + (i + 1) * alen)
            .and_then(addr16)
            .ok_or(Fatal)
    };
    Ok(SyncConn {
        v6,
        protocol,
        flags,
        state,
        cport: rd_be16(e, 10).ok_or(Fatal)?,
        vport: rd_be16(e, 12).ok_or(Fatal)?,
        dport: rd_be16(e, 14).ok_or(Fatal)?,
        fwmark: rd_be32(e, 16).ok_or(Fatal)?,
        timeout: rd_be32(e, 20).ok_or(Fatal)?,
        caddr: addr(0)?,
        vaddr: addr(1)?,
        daddr: addr(2)?,
        seq,
        pe_data,
        pe_name,
    })
}

/// Decodes a received datagram as IPVS's `ip_vs_process_message` does.
///
/// * A datagram longer than `maxlen` is cut to `maxlen` bytes (IPVS
///   receives into a `sync_maxlen` buffer); one shorter than 4 bytes is
///   dropped; the header's size must equal the length; the syncid is
///   checked only when `own_syncid` is not 0 (see [`syncid_accepts`] for a
///   configured syncid above 255).
/// * Version 1 when byte 0 is 0, byte 5 is 1 and bytes 6..8 are 0;
///   otherwise version 0. (IPVS reads those bytes even from a datagram of
///   4 to 7 bytes, where they are stale buffer contents; here such a
///   datagram is version 0. Either way no entry can be in it.)
/// * Version 1 entries: the rest of the datagram is dropped (result
///   `Err`) when an entry's fixed 36 bytes or its declared size run past
///   the end ([`DropReason::TooShort`]), or ([`DropReason::BadEntry`]) its
///   version nibble is not 0, its type is neither 0 nor has bit 0 set, its
///   size is smaller than its fixed part, an option header is cut, an
///   option length is 0 or past the entry, a SEQ option is not 24 bytes,
///   an option (SEQ, PE data, PE name, with or without the 0x40 bit) comes
///   twice, or a PE name is longer than 16. One entry only is dropped
///   (callback `Err(BadEntry)`) for an unknown option without the 0x40 bit
///   (unknown ones with it are skipped), `ONE_PACKET` flags, `NO_CPORT`
///   with `TEMPLATE`, a state not valid for the protocol
///   ([`state_valid`]), or PE data without a PE name. Accepted flags are
///   masked with [`cflags::BACKUP_MASK`] and get [`cflags::SYNC`].
///   Entries start 4-byte aligned; padding bytes are not checked. Bytes
///   after the last entry are ignored; the rvs trailer is returned when
///   they are exactly one, aligned, with the right magic and a known kind.
/// * Version 0 entries: 24 bytes, 48 when the flags (16 bits) have a SEQ
///   bit, the sequence data in host byte order; a cut entry drops the
///   rest ([`DropReason::TooShort`]); flags and state are checked as for
///   version 1; fwmark and timeout are 0. No trailer.
///
/// `f` gets `Ok(conn)` for each good entry and `Err(DropReason::BadEntry)`
/// for each refused one, in order. When the result is `Err`, the entries
/// already given to `f` count: IPVS has applied them too.
pub fn decode<'a>(
    buf: &'a [u8],
    own_syncid: u8,
    maxlen: usize,
    mut f: impl FnMut(Result<SyncConn<'a>, DropReason>),
) -> Result<Decoded, DropReason> {
    let truncated = buf.len() > maxlen;
    let data = buf.get(..maxlen).unwrap_or(buf);
    let len = data.len();
    if len < HEADER_V0_LEN {
        return Err(if truncated {
            DropReason::TooLong
        } else {
            DropReason::TooShort
        });
    }
    let size = rd_be16(data, 2).ok_or(DropReason::TooShort)? as usize;
    if size != len {
        return Err(if truncated {
            DropReason::TooLong
        } else {
            DropReason::SizeMismatch
        });
    }
    let syncid = *data.get(1).ok_or(DropReason::TooShort)?;
    if own_syncid != 0 && syncid != own_syncid {
        return Err(DropReason::SyncidMismatch);
    }
    let is_v1 = matches!(
        rd::<8>(data, 0),
        Some([0, _, _, _, _, SYNC_PROTO_VER, 0, 0])
    );
    if is_v1 {
        decode_v1(data, &mut f)
    } else {
        decode_v0(data, &mut f)
    }
}

fn decode_v1<'a>(
    data: &'a [u8],
    f: &mut impl FnMut(Result<SyncConn<'a>, DropReason>),
) -> Result<Decoded, DropReason> {
    let len = data.len();
    let count = *data.get(4).ok_or(DropReason::TooShort)? as usize;
    let mut start = HEADER_V1_LEN;
    let mut last_end = HEADER_V1_LEN;
    let mut rejected = 0;
    for _ in 0..count {
        if start.saturating_add(ENTRY_V4_LEN) > len {
            return Err(DropReason::TooShort);
        }
        let ver_size = rd_be16(data, start + 2).ok_or(DropReason::TooShort)?;
        let size = (ver_size & SVER_MASK) as usize;
        let end = start + size;
        if end > len {
            return Err(DropReason::TooShort);
        }
        if ver_size >> SVER_SHIFT != 0 {
            return Err(DropReason::BadEntry);
        }
        let e = data.get(start..end).ok_or(DropReason::TooShort)?;
        match parse_v1_entry(e) {
            Ok(c) => f(Ok(c)),
            Err(EntryErr::Skip) => {
                rejected += 1;
                f(Err(DropReason::BadEntry));
            }
            Err(EntryErr::Fatal) => return Err(DropReason::BadEntry),
        }
        last_end = end;
        start = align4(end);
    }
    let at = align4(last_end);
    let trailer = if at.saturating_add(TRAILER_LEN) == len {
        data.get(at..).and_then(RvsTrailer::parse)
    } else {
        None
    };
    Ok(Decoded {
        version: 1,
        entries: count,
        rejected,
        trailer,
    })
}

fn decode_v0<'a>(
    data: &'a [u8],
    f: &mut impl FnMut(Result<SyncConn<'a>, DropReason>),
) -> Result<Decoded, DropReason> {
    let len = data.len();
    let count = *data.first().ok_or(DropReason::TooShort)? as usize;
    let mut p = HEADER_V0_LEN;
    let mut rejected = 0;
    for _ in 0..count {
        if p + ENTRY_V0_LEN > len {
            return Err(DropReason::TooShort);
        }
        let raw_flags = rd_be16(data, p + 20).ok_or(DropReason::TooShort)? as u32;
        let elen = if raw_flags & cflags::SEQ_MASK != 0 {
            ENTRY_V0_LEN + SEQ_DATA_LEN
        } else {
            ENTRY_V0_LEN
        };
        let e = data.get(p..p + elen).ok_or(DropReason::TooShort)?;
        p += elen;
        match parse_v0_entry(e, raw_flags) {
            Some(c) => f(Ok(c)),
            None => {
                rejected += 1;
                f(Err(DropReason::BadEntry));
            }
        }
    }
    Ok(Decoded {
        version: 0,
        entries: count,
        rejected,
        trailer: None,
    })
}

/// One version 0 entry (24 or 48 bytes); None when refused.
fn parse_v0_entry(e: &[u8], raw_flags: u32) -> Option<SyncConn<'_>> {
    if !flags_acceptable(raw_flags) {
        return None;
    }
    let flags = (raw_flags & cflags::BACKUP_MASK) | cflags::SYNC;
    let protocol = *e.get(1)?;
    let state = rd_be16(e, 22)?;
    if !state_valid(protocol, state, flags & cflags::TEMPLATE != 0) {
        return None;
    }
    let seq = if raw_flags & cflags::SEQ_MASK != 0 {
        Some([
            SeqAdj::from_ne(e.get(24..36)?)?,
            SeqAdj::from_ne(e.get(36..48)?)?,
        ])
    } else {
        None
    };
    Some(SyncConn {
        v6: false,
        protocol,
        flags,
        state,
        cport: rd_be16(e, 2)?,
        vport: rd_be16(e, 4)?,
        dport: rd_be16(e, 6)?,
        fwmark: 0,
        timeout: 0,
        caddr: addr16(e.get(8..12)?)?,
        vaddr: addr16(e.get(12..16)?)?,
        daddr: addr16(e.get(16..20)?)?,
        seq,
        pe_data: None,
        pe_name: None,
    })
}

// ---------------------------------------------------------------------
// When to send

/// The sync sysctls `ip_vs_sync_conn_needed` reads.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct SyncParams {
    /// `sync_threshold` (default 3): packet count at which a connection is
    /// sent (modulo `period`). IPVS keeps `threshold < period` when
    /// `period` is not 0.
    pub threshold: u32,
    /// `sync_period` (default 50); 0: only once, at `threshold` (unless a
    /// refresh period is set).
    pub period: u32,
    /// `sync_refresh_period` in jiffies (default 0, IPVS's unsigned int):
    /// when set, a connection whose end time moved by less than
    /// min(this, max(timeout / 2, 10 s)) since it was last sent is not
    /// sent again (but for the retries).
    pub refresh_period_jiffies: u64,
    /// `sync_retries` (0..=3, default 0; larger values act as 3): resends,
    /// every `refresh_period / 8`, within a refresh period.
    pub retries: u32,
    /// `sync_persist_mode`: do not send connections controlled by a
    /// template.
    pub persist_mode: bool,
    /// Jiffies per second.
    pub hz: u64,
}

impl SyncParams {
    /// IPVS's defaults with the given HZ.
    pub const fn defaults(hz: u64) -> SyncParams {
        SyncParams {
            threshold: DEFAULT_SYNC_THRESHOLD,
            period: DEFAULT_SYNC_PERIOD,
            refresh_period_jiffies: 0,
            retries: 0,
            persist_mode: false,
            hz,
        }
    }
}

/// What `ip_vs_sync_conn_needed` reads of a connection.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct ConnSyncView {
    /// IP protocol (0 for fwmark templates).
    pub protocol: u8,
    /// Connection flags (`TEMPLATE` and `ONE_PACKET` matter).
    pub flags: u32,
    /// Current state.
    pub state: u16,
    /// State when last sent (IPVS's `old_state`; the caller stores `state`
    /// here whenever [`sync_needed`] returns `Some`).
    pub old_state: u16,
    /// The connection's current timeout in jiffies (`cp->timeout`).
    pub timeout_jiffies: u64,
    /// `sync_endtime`: jiffies the connection was to end when last sent,
    /// rounded down to 4, plus the retries used in the low 2 bits; 0 for a
    /// new connection.
    pub sync_endtime: u64,
    /// Some connection up its control chain is a template
    /// (`in_persistence`); only read with `persist_mode`.
    pub under_template: bool,
}

fn tcp_sync_state(s: u16) -> bool {
    const E: u16 = TcpState::Established as u16;
    const F: u16 = TcpState::FinWait as u16;
    const C: u16 = TcpState::Close as u16;
    const CW: u16 = TcpState::CloseWait as u16;
    const TW: u16 = TcpState::TimeWait as u16;
    matches!(s, E | F | C | CW | TW)
}

fn sctp_sync_state(s: u16) -> bool {
    matches!(
        s,
        sctp::ESTABLISHED
            | sctp::SHUTDOWN_SENT
            | sctp::SHUTDOWN_RECEIVED
            | sctp::SHUTDOWN_ACK_SENT
            | sctp::CLOSED
    )
}

/// Whether IPVS sends a connection now (`ip_vs_sync_conn_needed`, plus
/// `ip_vs_sync_conn`'s "never one-packet connections").
///
/// `pkts` is the value IPVS passes: after a client packet the
/// connection's incoming packet count after incrementing it (IPVS's
/// atomic int, so it is read as a wrapping `i32`); the sync threshold for
/// one-packet connections, for a deferred expiry, and for a control
/// connection that is not a template; a template's own incremented count
/// when it is synced as a control (see [`syncs_control`]).
///
/// Rules: templates skip the state checks and, when `period` is not 0,
/// the packet check (so with the defaults a template is sent every time
/// it is reached); with `persist_mode`, connections under a template are
/// never sent; TCP only in ESTABLISHED, FIN_WAIT, CLOSE, CLOSE_WAIT,
/// TIME_WAIT, SCTP only in ESTABLISHED, SHUTDOWN_SENT,
/// SHUTDOWN_RECEIVED, SHUTDOWN_ACK_SENT, CLOSED, and a change into one of
/// those other than ESTABLISHED is sent at once; other protocols have no
/// state rule. Then the refresh rule (when `refresh_period_jiffies` is
/// set), then the packet rule: `pkts % period == threshold`, or, with
/// neither period nor refresh period, `pkts == threshold`.
///
/// Returns the new `sync_endtime` (`(now + timeout) & !3`, plus the retry
/// number in the low bits for a retry) when the connection is to be sent;
/// the caller stores it and sets `old_state = state`. None: not sent,
/// nothing to update. (IPVS updates the end time with a compare-exchange
/// and, if another CPU raced it, sends only on a forced state change; a
/// caller that serialises per connection never sees that.)
pub fn sync_needed(p: &SyncParams, c: &ConnSyncView, pkts: u32, now: u64) -> Option<u64> {
    if c.flags & cflags::ONE_PACKET != 0 {
        return None;
    }
    let orig = c.sync_endtime;
    let mut n = now.wrapping_add(c.timeout_jiffies) & !3;
    let template = c.flags & cflags::TEMPLATE != 0;
    if template {
        // no state rule
    } else if p.persist_mode && c.under_template {
        return None;
    } else if c.protocol == IPPROTO_TCP {
        if !tcp_sync_state(c.state) {
            return None;
        }
        if c.state != c.old_state && c.state != TcpState::Established as u16 {
            return Some(n);
        }
    } else if c.protocol == IPPROTO_SCTP {
        if !sctp_sync_state(c.state) {
            return None;
        }
        if c.state != c.old_state && c.state != sctp::ESTABLISHED {
            return Some(n);
        }
    }

    let refresh = p.refresh_period_jiffies;
    if refresh > 0 {
        // C longs: wrapping differences, abs(LONG_MIN) == LONG_MIN.
        let diff = n.wrapping_sub(orig) as i64;
        let min_diff = (c.timeout_jiffies >> 1).max(p.hz.wrapping_mul(10));
        let lim = (refresh as i64).min(min_diff as i64);
        if diff.wrapping_abs() < lim {
            let retries = orig & 3;
            // sysctl_sync_retries is 0..=3; more would spill into the
            // end time.
            if retries >= p.retries.min(3) as u64 {
                return None;
            }
            let due = orig
                .wrapping_sub(c.timeout_jiffies)
                .wrapping_add(refresh >> 3);
            if (now.wrapping_sub(due) as i64) < 0 {
                return None;
            }
            n |= retries + 1;
        }
    }

    let pkts = pkts as i32 as i64;
    let threshold = p.threshold as i64;
    if p.period > 0 {
        if !template && pkts % (p.period as i64) != threshold {
            return None;
        }
    } else if refresh == 0 && pkts != threshold {
        return None;
    }
    Some(n)
}

/// Whether IPVS, after handling a connection, goes on to its controlling
/// connection (`cp->control`, usually a persistence template) — only when
/// there is one. Version 1 always does, whether or not the connection was
/// sent (also for one-packet connections); version 0 only after actually
/// sending the connection. The control is then treated like a connection
/// with `pkts` = its incremented in_pkts if it is a template, else the
/// sync threshold, and so on up the chain.
pub fn syncs_control(version: u8, conn_sent: bool) -> bool {
    version != 0 || conn_sent
}

/// Number of sync threads for a `sync_ports` value, as
/// `start_sync_thread` clamps it (1..=64). (The thread count is fixed when
/// the first of the two daemons starts.)
pub fn clamp_sync_ports(n: u32) -> u32 {
    n.clamp(1, SYNC_PORTS_MAX)
}

/// Whether the `sync_ports` sysctl accepts `n` (a power of two, at least
/// 1; values above 64 are accepted and clamped at daemon start).
pub fn valid_sync_ports(n: u32) -> bool {
    n.is_power_of_two()
}

/// Whether the `sync_threshold` sysctl accepts the pair
/// (`threshold`, `period`): both non-negative and `threshold < period`
/// unless `period` is 0.
pub fn valid_sync_threshold(threshold: i32, period: i32) -> bool {
    threshold >= 0 && period >= 0 && !(threshold >= period && period != 0)
}

/// Whether the `sync_retries` sysctl accepts `n` (0..=3).
pub fn valid_sync_retries(n: i32) -> bool {
    (0..=3).contains(&n)
}

/// Sync thread for a connection with `ports` configured ports
/// (`sync_ports`, clamped as [`clamp_sync_ports`]), in `0..ports`.
///
/// IPVS (`select_master_thread_id`) hashes the address of the connection
/// object in memory ([`thread_of_ptr`]); what matters is that one
/// connection always maps to the same thread, so that its updates stay in
/// order. This hashes the client address and port instead, which is as
/// stable and independent of the allocator. Pass the address in the same
/// form every time (e.g. [`SyncConn::caddr`]'s 16 bytes).
pub fn thread_of(caddr: impl AsRef<[u8]>, cport: u16, ports: u32) -> usize {
    let mask = clamp_sync_ports(ports) - 1;
    // FNV-1a
    let mut h: u32 = 0x811c_9dc5;
    for &b in caddr.as_ref().iter().chain(cport.to_be_bytes().iter()) {
        h ^= b as u32;
        h = h.wrapping_mul(0x0100_0193);
    }
    h ^= h >> 16;
    (h & mask) as usize
}

/// IPVS's exact `select_master_thread_id`: the object address shifted
/// right by `1 + ilog2(obj_size)`, masked with `ports - 1` (ports clamped
/// as [`clamp_sync_ports`]).
pub fn thread_of_ptr(addr: usize, obj_size: usize, ports: u32) -> usize {
    let mask = (clamp_sync_ports(ports) - 1) as usize;
    let shift = 1 + obj_size.checked_ilog2().unwrap_or(0);
    addr.checked_shr(shift).unwrap_or(0) & mask
}

#[cfg(test)]
mod tests {
    #[test]
    fn sync_knob_checks() {
        assert!(sync_threshold_valid(3, 50));
        assert!(sync_threshold_valid(0, 0));
        assert!(sync_threshold_valid(7, 0));
        assert!(!sync_threshold_valid(50, 50));
        assert!(!sync_threshold_valid(51, 50));
        assert!(!sync_threshold_valid(-1, 50));
        assert!(!sync_threshold_valid(3, -1));
        let ok: Vec<i32> = (-2..=130).filter(|&n| sync_ports_valid(n)).collect();
        assert_eq!(ok, [1, 2, 4, 8, 16, 32, 64]);
    }

    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    const TCP: u8 = IPPROTO_TCP;
    const UDP: u8 = IPPROTO_UDP;
    const SCTP: u8 = IPPROTO_SCTP;
    const EST: u16 = TcpState::Established as u16;

    fn v4(a: u8, b: u8, c: u8, d: u8) -> [u8; 16] {
        let mut x = [0u8; 16];
        x[..4].copy_from_slice(&[a, b, c, d]);
        x
    }

    fn v6(words: [u16; 8]) -> [u8; 16] {
        let mut x = [0u8; 16];
        for (i, w) in words.iter().enumerate() {
            x[2 * i..2 * i + 2].copy_from_slice(&w.to_be_bytes());
        }
        x
    }

    fn tcp4() -> SyncConn<'static> {
        SyncConn {
            v6: false,
            protocol: TCP,
            flags: cflags::DROUTE | cflags::HASHED,
            state: EST,
            cport: 40000,
            vport: 80,
            dport: 80,
            fwmark: 0,
            timeout: 900,
            caddr: v4(10, 0, 0, 1),
            vaddr: v4(192, 168, 1, 100),
            daddr: v4(10, 1, 1, 2),
            seq: None,
            pe_data: None,
            pe_name: None,
        }
    }

    const TCP4_ENTRY: [u8; 36] = [
        0x00, 6, 0x00, 36, // type, protocol, ver_size
        0, 0, 0, 3, // flags: DROUTE (HASHED stripped)
        0, 1, 0x9c, 0x40, // state ESTABLISHED, cport 40000
        0, 80, 0, 80, // vport, dport
        0, 0, 0, 0, // fwmark
        0, 0, 0x03, 0x84, // timeout 900
        10, 0, 0, 1, 192, 168, 1, 100, 10, 1, 1, 2,
    ];

    fn encode(
        v1: bool,
        syncid: u8,
        maxlen: usize,
        conns: &[SyncConn<'_>],
        t: Option<&RvsTrailer>,
    ) -> Vec<u8> {
        let mut buf = std::vec![0u8; 70000];
        let mut e = if v1 {
            Encoder::new_v1(&mut buf, syncid, maxlen).unwrap()
        } else {
            Encoder::new_v0(&mut buf, syncid, maxlen).unwrap()
        };
        for c in conns {
            assert!(e.push(c), "push {c:?}");
        }
        let n = e.finish(t);
        buf.truncate(n);
        buf
    }

    type Got<'a> = Vec<Result<SyncConn<'a>, DropReason>>;

    fn dec(buf: &[u8]) -> (Result<Decoded, DropReason>, Got<'_>) {
        dec_with(buf, 0, 65535)
    }

    fn dec_with(buf: &[u8], own: u8, maxlen: usize) -> (Result<Decoded, DropReason>, Got<'_>) {
        let mut v = Vec::new();
        let r = decode(buf, own, maxlen, |x| v.push(x));
        (r, v)
    }

    /// What a receiver gets back for an encoded connection.
    fn received<'a>(c: &SyncConn<'a>) -> SyncConn<'a> {
        let mut r = *c;
        r.flags = (c.flags & cflags::BACKUP_MASK) | cflags::SYNC;
        if !c.v6 {
            for a in [&mut r.caddr, &mut r.vaddr, &mut r.daddr] {
                a[4..].fill(0);
            }
        }
        r.seq = if c.flags & cflags::SEQ_MASK != 0 {
            Some(c.seq.unwrap_or_default())
        } else {
            None
        };
        r.pe_data = c.pe_data.filter(|d| !d.is_empty());
        r.pe_name = match r.pe_data {
            Some(_) => c.pe_name.map(effective_pe_name).filter(|n| !n.is_empty()),
            None => None,
        };
        r
    }

    fn set_be16(b: &mut [u8], off: usize, v: u16) {
        b[off..off + 2].copy_from_slice(&v.to_be_bytes());
    }

    fn fix_size(b: &mut [u8]) {
        let n = b.len() as u16;
        set_be16(b, 2, n);
    }

    // --- byte-exact datagrams -------------------------------------------

    #[test]
    fn ipv4_tcp_entry_bytes() {
        let c = tcp4();
        let mut want = std::vec![0x00, 38, 0x00, 44, 1, 1, 0, 0];
        want.extend_from_slice(&TCP4_ENTRY);
        let got = encode(true, 38, 1472, &[c], None);
        assert_eq!(got, want);
        let (r, v) = dec(&got);
        assert_eq!(
            r,
            Ok(Decoded {
                version: 1,
                entries: 1,
                rejected: 0,
                trailer: None
            })
        );
        let d = v[0].unwrap();
        assert_eq!(d, received(&c));
        assert_eq!(d.flags, cflags::DROUTE | cflags::SYNC);
        assert_eq!((d.cport, d.vport, d.dport, d.timeout), (40000, 80, 80, 900));
        assert_eq!(entry_size(&c), 36);
        assert_eq!(entry_len(&c), 36);
    }

    #[test]
    fn ipv6_udp_entry_bytes() {
        let c = SyncConn {
            v6: true,
            protocol: UDP,
            flags: cflags::MASQ | cflags::INACTIVE | cflags::HASHED,
            state: 0,
            cport: 5353,
            vport: 53,
            dport: 53,
            fwmark: 0,
            timeout: 300,
            caddr: v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]),
            vaddr: v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100]),
            daddr: v6([0xfd00, 0, 0, 0, 0, 0, 0, 2]),
            ..Default::default()
        };
        #[rustfmt::skip]
        let want: Vec<u8> = std::vec![
            0, 1, 0, 80, 1, 1, 0, 0,
            0x01, 17, 0x00, 72,
            0, 0, 0x01, 0x00,
            0, 0, 0x14, 0xe9,
            0, 0x35, 0, 0x35,
            0, 0, 0, 0,
            0, 0, 0x01, 0x2c,
            0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
            0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00,
            0xfd, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
        ];
        let got = encode(true, 1, 1452, &[c], None);
        assert_eq!(got, want);
        let (r, v) = dec(&got);
        assert_eq!(r.unwrap().entries, 1);
        assert_eq!(v[0].unwrap(), received(&c));
        assert_eq!(v[0].unwrap().flags, cflags::INACTIVE | cflags::SYNC);
    }

    #[test]
    fn fwmark_template_bytes() {
        // ip_vs_sched_persist: protocol IPPROTO_IP, cport/vport 0, the
        // fwmark as virtual address.
        let c = SyncConn {
            protocol: 0,
            flags: cflags::TEMPLATE | cflags::DROUTE | cflags::HASHED,
            state: ctpl::ASSURED,
            fwmark: 7,
            timeout: 360,
            caddr: v4(10, 0, 0, 1),
            vaddr: v4(0, 0, 0, 7),
            daddr: v4(10, 1, 1, 2),
            ..Default::default()
        };
        #[rustfmt::skip]
        let want: Vec<u8> = std::vec![
            0, 9, 0, 44, 1, 1, 0, 0,
            0, 0, 0, 36,
            0, 0, 0x10, 0x03,
            0, 1, 0, 0,
            0, 0, 0, 0,
            0, 0, 0, 7,
            0, 0, 0x01, 0x68,
            10, 0, 0, 1, 0, 0, 0, 7, 10, 1, 1, 2,
        ];
        let got = encode(true, 9, 1472, &[c], None);
        assert_eq!(got, want);
        let (_, v) = dec(&got);
        let d = v[0].unwrap();
        assert_eq!(d, received(&c));
        assert_eq!(d.flags, cflags::TEMPLATE | cflags::DROUTE | cflags::SYNC);
    }

    fn seq_conn() -> SyncConn<'static> {
        SyncConn {
            protocol: TCP,
            flags: cflags::MASQ | cflags::IN_SEQ | cflags::OUT_SEQ | cflags::HASHED,
            state: EST,
            cport: 1025,
            vport: 21,
            dport: 21,
            timeout: 900,
            caddr: v4(10, 0, 0, 1),
            vaddr: v4(192, 168, 1, 100),
            daddr: v4(10, 1, 1, 3),
            seq: Some([
                SeqAdj {
                    init_seq: 0x0102_0304,
                    delta: 5,
                    previous_delta: 0,
                },
                SeqAdj {
                    init_seq: 0xa0b0_c0d0,
                    delta: 0xffff_fffb,
                    previous_delta: 3,
                },
            ]),
            ..Default::default()
        }
    }

    #[test]
    fn seq_option_and_padding_bytes() {
        let a = seq_conn();
        let b = tcp4();
        #[rustfmt::skip]
        let mut want: Vec<u8> = std::vec![
            0, 2, 0, 108, 2, 1, 0, 0,
            0, 6, 0, 62,
            0, 0, 0x06, 0x00,
            0, 1, 0x04, 0x01,
            0, 21, 0, 21,
            0, 0, 0, 0,
            0, 0, 0x03, 0x84,
            10, 0, 0, 1, 192, 168, 1, 100, 10, 1, 1, 3,
            1, 24,
            0x01, 0x02, 0x03, 0x04, 0, 0, 0, 5, 0, 0, 0, 0,
            0xa0, 0xb0, 0xc0, 0xd0, 0xff, 0xff, 0xff, 0xfb, 0, 0, 0, 3,
            0, 0, // padding (not in the entry's size)
        ];
        want.extend_from_slice(&TCP4_ENTRY);
        let got = encode(true, 2, 1472, &[a, b], None);
        assert_eq!(got, want);
        assert_eq!(entry_size(&a), 62);
        assert_eq!(entry_len(&a), 64);
        let (r, v) = dec(&got);
        assert_eq!(r.unwrap().entries, 2);
        assert_eq!(v[0].unwrap(), received(&a));
        assert_eq!(v[0].unwrap().seq, a.seq);
        assert_eq!(v[1].unwrap(), received(&b));
    }

    fn pe_template() -> SyncConn<'static> {
        SyncConn {
            protocol: UDP,
            flags: cflags::TEMPLATE | cflags::MASQ,
            state: ctpl::NONE,
            vport: 5060,
            dport: 5060,
            timeout: 180,
            vaddr: v4(192, 168, 1, 100),
            daddr: v4(10, 1, 1, 2),
            pe_data: Some(b"abc123@host"),
            pe_name: Some(b"sip"),
            ..Default::default()
        }
    }

    #[test]
    fn pe_template_bytes() {
        let c = pe_template();
        #[rustfmt::skip]
        let want: Vec<u8> = std::vec![
            0, 3, 0, 62, 1, 1, 0, 0,
            0, 17, 0, 54,
            0, 0, 0x10, 0x00,
            0, 0, 0, 0,
            0x13, 0xc4, 0x13, 0xc4,
            0, 0, 0, 0,
            0, 0, 0, 180,
            0, 0, 0, 0, 192, 168, 1, 100, 10, 1, 1, 2,
            2, 11, b'a', b'b', b'c', b'1', b'2', b'3', b'@', b'h', b'o', b's', b't',
            3, 3, b's', b'i', b'p',
        ];
        let got = encode(true, 3, 1472, &[c], None);
        assert_eq!(got, want);
        let (_, v) = dec(&got);
        let d = v[0].unwrap();
        assert_eq!(d, received(&c));
        assert_eq!(d.pe_data, Some(&b"abc123@host"[..]));
        assert_eq!(d.pe_name, Some(&b"sip"[..]));

        // With a trailer: padded to 64, then 16 bytes.
        let t = RvsTrailer {
            kind: TrailerKind::Sync,
            seq: 0x0102_0304,
            sender_id: 0xdead_beef,
        };
        let got = encode(true, 3, 1472, &[c], Some(&t));
        let mut want2 = want.clone();
        want2[3] = 80;
        want2.extend_from_slice(&[0, 0]);
        want2.extend_from_slice(b"RVS\x01");
        want2.extend_from_slice(&[0, 0, 0, 0, 1, 2, 3, 4, 0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(got, want2);
        let (r, v2) = dec(&got);
        assert_eq!(r.unwrap().trailer, Some(t));
        assert_eq!(v2, v);
    }

    #[test]
    fn pe_name_cut_as_strnlen() {
        let mut c = pe_template();
        c.pe_name = Some(b"abcdefghijklmnopqrstu"); // 21 bytes: 16 sent
        let got = encode(true, 0, 1472, &[c], None);
        let (_, v) = dec(&got);
        assert_eq!(v[0].unwrap().pe_name, Some(&b"abcdefghijklmnop"[..]));
        c.pe_name = Some(b"si\0p");
        let got = encode(true, 0, 1472, &[c], None);
        let (_, v) = dec(&got);
        assert_eq!(v[0].unwrap().pe_name, Some(&b"si"[..]));
        // Name without data: not sent.
        c.pe_data = None;
        assert_eq!(entry_size(&c), 36);
        // Too much PE data: cannot be encoded.
        let big = [0u8; 256];
        c.pe_data = Some(&big);
        let mut buf = [0u8; 1500];
        let mut e = Encoder::new_v1(&mut buf, 0, 1472).unwrap();
        assert!(!e.push(&c));
        assert!(e.is_empty());
    }

    #[cfg(target_endian = "little")]
    #[test]
    fn v0_datagram_bytes() {
        let a = tcp4();
        let b = seq_conn();
        #[rustfmt::skip]
        let want: Vec<u8> = std::vec![
            2, 5, 0, 76,
            0, 6, 0x9c, 0x40, 0, 80, 0, 80, 10, 0, 0, 1, 192, 168, 1, 100, 10, 1, 1, 2, 0, 3, 0, 1,
            0, 6, 0x04, 0x01, 0, 21, 0, 21, 10, 0, 0, 1, 192, 168, 1, 100, 10, 1, 1, 3, 0x06, 0x00, 0, 1,
            0x04, 0x03, 0x02, 0x01, 5, 0, 0, 0, 0, 0, 0, 0,
            0xd0, 0xc0, 0xb0, 0xa0, 0xfb, 0xff, 0xff, 0xff, 3, 0, 0, 0,
        ];
        let t = RvsTrailer {
            kind: TrailerKind::Sync,
            seq: 1,
            sender_id: 2,
        };
        let got = encode(false, 5, 1472, &[a, b], Some(&t)); // never a trailer in v0
        assert_eq!(got, want);
        let (r, v) = dec(&got);
        assert_eq!(
            r,
            Ok(Decoded {
                version: 0,
                entries: 2,
                rejected: 0,
                trailer: None
            })
        );
        let mut ra = received(&a);
        ra.timeout = 0;
        assert_eq!(v[0].unwrap(), ra);
        let mut rb = received(&b);
        rb.timeout = 0;
        assert_eq!(v[1].unwrap(), rb);
        assert_eq!(v[1].unwrap().seq, b.seq);
    }

    #[test]
    fn v0_drops_what_it_cannot_carry() {
        let mut buf = [0u8; 1500];
        let mut e = Encoder::new_v0(&mut buf, 0, 1472).unwrap();
        let mut c = tcp4();
        c.v6 = true;
        assert!(!e.push(&c));
        let mut t = pe_template();
        t.fwmark = 9;
        assert!(e.push(&t));
        assert_eq!(e.datagram_len(), 28);
        let n = e.finish(None);
        let (_, v) = dec(&buf[..n]);
        let d = v[0].unwrap();
        assert_eq!(
            (d.fwmark, d.timeout, d.pe_data, d.pe_name),
            (0, 0, None, None)
        );
        // Flags above 16 bits are cut by htons().
        let mut buf = [0u8; 100];
        let mut e = Encoder::new_v0(&mut buf, 0, 100).unwrap();
        let mut c = tcp4();
        c.flags |= cflags::NFCT;
        assert!(e.push(&c));
        assert_eq!(&buf[24..26], &[0, 3]);
    }

    // --- receiver rules ---------------------------------------------------

    #[test]
    fn header_checks() {
        for n in 0..4 {
            assert_eq!(dec(&[0u8; 4][..n]).0, Err(DropReason::TooShort));
        }
        let mut d = encode(true, 7, 1472, &[tcp4()], None);
        d.push(0);
        assert_eq!(dec(&d).0, Err(DropReason::SizeMismatch));
        d.pop();
        d[3] -= 1;
        assert_eq!(dec(&d).0, Err(DropReason::SizeMismatch));
        d[3] += 1;
        // syncid filter only when ours is not 0
        assert!(dec_with(&d, 0, 1472).0.is_ok());
        assert!(dec_with(&d, 7, 1472).0.is_ok());
        assert_eq!(dec_with(&d, 8, 1472).0, Err(DropReason::SyncidMismatch));
        assert!(syncid_accepts(0, 200));
        assert!(!syncid_accepts(256, 0));
        assert!(!syncid_accepts(263, 7));
    }

    #[test]
    fn maxlen_truncates_as_recvmsg() {
        let d = encode(true, 0, 1472, &[tcp4(), tcp4()], None); // 80 bytes
        assert_eq!(dec_with(&d, 0, 80).0.unwrap().entries, 2);
        assert_eq!(dec_with(&d, 0, 79).0, Err(DropReason::TooLong));
        assert_eq!(dec_with(&d, 0, 3).0, Err(DropReason::TooLong));
        assert_eq!(dec_with(&d, 0, 0).0, Err(DropReason::TooLong));
        // A header size that matches the cut length: IPVS processes the
        // first maxlen bytes.
        let mut d2 = d.clone();
        set_be16(&mut d2, 2, 44);
        d2[4] = 1;
        let (r, v) = dec_with(&d2, 0, 44);
        assert_eq!(r.unwrap().entries, 1);
        assert_eq!(v.len(), 1);
    }

    #[test]
    fn version_detection() {
        let mut d = encode(true, 0, 1472, &[tcp4()], None);
        assert_eq!(dec(&d).0.unwrap().version, 1);
        d[6] = 1; // spare
        let (r, _) = dec(&d);
        // v0 now: count = byte 0 = 0
        assert_eq!(
            r,
            Ok(Decoded {
                version: 0,
                entries: 0,
                rejected: 0,
                trailer: None
            })
        );
        d[6] = 0;
        d[5] = 2; // version
        assert_eq!(dec(&d).0.unwrap().version, 0);
        d[5] = 1;
        d[0] = 1; // reserved: v0 with one 24-byte entry at offset 4
        let (r, v) = dec(&d);
        assert_eq!(r.unwrap().version, 0);
        assert_eq!(v.len(), 1);
        // 4..7 byte datagrams: v0, no entries.
        assert_eq!(
            dec(&[0, 0, 0, 4]).0,
            Ok(Decoded {
                version: 0,
                entries: 0,
                rejected: 0,
                trailer: None
            })
        );
        assert_eq!(dec(&[1, 0, 0, 5, 0]).0, Err(DropReason::TooShort));
    }

    #[test]
    fn flags_masked_and_sync_added() {
        let mut c = tcp4();
        c.flags = 0xffff_0000
            | cflags::LOCALNODE
            | cflags::NOOUTPUT
            | cflags::HASHED
            | cflags::SYNC
            | 0x18
            | cflags::SEQ_MASK
            | cflags::NO_CPORT;
        let d = encode(true, 0, 1472, &[c], None);
        // everything but HASHED is on the wire
        assert_eq!(&d[12..16], &(c.flags & !cflags::HASHED).to_be_bytes());
        let (_, v) = dec(&d);
        assert_eq!(
            v[0].unwrap().flags,
            cflags::LOCALNODE
                | cflags::NOOUTPUT
                | cflags::SEQ_MASK
                | cflags::NO_CPORT
                | cflags::SYNC
        );
    }

    #[test]
    fn refused_flags_drop_one_entry() {
        let mut one = tcp4();
        one.flags |= cflags::ONE_PACKET;
        let mut nocport_tpl = fwmark_tpl();
        nocport_tpl.flags |= cflags::NO_CPORT;
        let mut nocport = tcp4();
        nocport.flags |= cflags::NO_CPORT;
        let d = encode(true, 0, 1472, &[one, nocport_tpl, nocport, tcp4()], None);
        let (r, v) = dec(&d);
        assert_eq!(
            r,
            Ok(Decoded {
                version: 1,
                entries: 4,
                rejected: 2,
                trailer: None
            })
        );
        assert_eq!(v[0], Err(DropReason::BadEntry));
        assert_eq!(v[1], Err(DropReason::BadEntry));
        assert_eq!(v[2].unwrap().flags & cflags::NO_CPORT, cflags::NO_CPORT);
        assert!(v[3].is_ok());
        // same in v0
        let d = encode(false, 0, 1472, &[one, nocport_tpl, nocport], None);
        let (r, v) = dec(&d);
        assert_eq!(r.unwrap().rejected, 2);
        assert!(v[2].is_ok());
    }

    fn fwmark_tpl() -> SyncConn<'static> {
        SyncConn {
            flags: cflags::TEMPLATE | cflags::DROUTE,
            fwmark: 7,
            timeout: 360,
            caddr: v4(10, 0, 0, 1),
            vaddr: v4(0, 0, 0, 7),
            daddr: v4(10, 1, 1, 2),
            ..Default::default()
        }
    }

    #[test]
    fn states() {
        assert!(state_valid(TCP, 10, false));
        assert!(!state_valid(TCP, 11, false));
        assert!(state_valid(UDP, 0, false));
        assert!(!state_valid(UDP, 1, false));
        assert!(state_valid(SCTP, 13, false));
        assert!(!state_valid(SCTP, 14, false));
        assert!(state_valid(50, 0, false) && state_valid(51, 0, false));
        assert!(!state_valid(51, 1, false));
        assert!(!state_valid(1, 0, false)); // ICMP: no IPVS protocol
        assert!(!state_valid(0, 0, false));
        assert!(state_valid(0, 1, true));
        assert!(state_valid(200, 0, true));
        assert!(!state_valid(TCP, 2, true));

        let mk = |protocol, state, tpl: bool| SyncConn {
            protocol,
            state,
            flags: if tpl { cflags::TEMPLATE } else { 0 },
            ..tcp4()
        };
        let cases = [
            (mk(TCP, 10, false), true),
            (mk(TCP, 11, false), false),
            (mk(UDP, 1, false), false),
            (mk(SCTP, 13, false), true),
            (mk(SCTP, 14, false), false),
            (mk(1, 0, false), false),
            (mk(0, 1, true), true),
            (mk(TCP, 2, true), false),
        ];
        for (c, ok) in cases {
            let d = encode(true, 0, 1472, &[c], None);
            let (r, v) = dec(&d);
            assert_eq!(r.unwrap().rejected, usize::from(!ok), "{c:?}");
            assert_eq!(v[0].is_ok(), ok);
            let d = encode(false, 0, 1472, &[c], None);
            let (_, v) = dec(&d);
            assert_eq!(v[0].is_ok(), ok);
        }
    }

    /// v1 datagram whose first entry is tcp4() followed by raw option bytes
    /// (entry size covers them), then a second plain tcp4() entry.
    fn with_options(opts: &[u8]) -> Vec<u8> {
        let mut d = std::vec![0, 0, 0, 0, 2, 1, 0, 0];
        let mut e = TCP4_ENTRY.to_vec();
        e.extend_from_slice(opts);
        let size = e.len() as u16;
        set_be16(&mut e, 2, size);
        d.extend_from_slice(&e);
        while d.len() % 4 != 0 {
            d.push(0);
        }
        d.extend_from_slice(&TCP4_ENTRY);
        fix_size(&mut d);
        d
    }

    #[test]
    fn options() {
        // unknown optional option skipped
        let d_ = with_options(&[0x45, 3, 1, 2, 3]);
        let (r, v) = dec(&d_);
        assert_eq!(r.unwrap().rejected, 0);
        assert!(v[0].is_ok() && v[1].is_ok());
        // unknown mandatory option: that entry only; later options of the
        // entry are not looked at (even a bad one)
        let d_ = with_options(&[0x05, 1, 0, 0x01, 0]);
        let (r, v) = dec(&d_);
        assert_eq!(r.unwrap().rejected, 1);
        assert_eq!(v[0], Err(DropReason::BadEntry));
        assert!(v[1].is_ok());
        // 0x80-bit type without 0x40: unknown mandatory
        let d_ = with_options(&[0x81, 1, 0]);
        let (r, _) = dec(&d_);
        assert_eq!(r.unwrap().rejected, 1);
        // 0xC1: unknown optional
        let d_ = with_options(&[0xc1, 1, 0]);
        let (r, _) = dec(&d_);
        assert_eq!(r.unwrap().rejected, 0);
        // 0x41: SEQ (the optional bit does not matter for known types)
        let mut seq = std::vec![0x41, 24];
        seq.extend((1..=24u8).collect::<Vec<_>>());
        let d_ = with_options(&seq);
        let (r, v) = dec(&d_);
        assert_eq!(r.unwrap().rejected, 0);
        assert_eq!(v[0].unwrap().seq.unwrap()[0].init_seq, 0x0102_0304);
        // Fatal ones: rest of the datagram dropped
        let mut seq23 = std::vec![0x01, 23];
        seq23.extend_from_slice(&[0u8; 23]);
        let mut name17 = std::vec![0x03, 17];
        name17.extend_from_slice(&[b'a'; 17]);
        let fatal: &[&[u8]] = &[
            &[0x45, 0],                      // length 0
            &[0x45, 5, 1, 2],                // past the entry
            &[0x45],                         // cut option header
            &seq23,                          // SEQ not 24 bytes
            &[0x02, 1, 0, 0x02, 1, 0],       // PE data twice
            &[0x03, 1, b'a', 0x43, 1, b'b'], // PE name twice
            &name17,                         // PE name > 16
        ];
        for o in fatal {
            let d_ = with_options(o);
            let (r, v) = dec(&d_);
            assert_eq!(r, Err(DropReason::BadEntry), "{o:?}");
            assert!(v.is_empty());
        }
        let mut two = seq.clone();
        two.extend_from_slice(&seq);
        assert_eq!(dec(&with_options(&two)).0, Err(DropReason::BadEntry));
        // PE name of 16 is fine; PE data without a name drops the entry;
        // a name without data is kept but meaningless.
        let mut o = std::vec![0x02, 2, 9, 9, 0x03, 16];
        o.extend_from_slice(&[b'x'; 16]);
        let d_ = with_options(&o);
        let (r, v) = dec(&d_);
        assert_eq!(r.unwrap().rejected, 0);
        assert_eq!(v[0].unwrap().pe_name.unwrap().len(), 16);
        let d_ = with_options(&[0x02, 2, 9, 9]);
        let (r, v) = dec(&d_);
        assert_eq!(r.unwrap().rejected, 1);
        assert_eq!(v[0], Err(DropReason::BadEntry));
        let d_ = with_options(&[0x03, 3, b's', b'i', b'p']);
        let (r, v) = dec(&d_);
        assert_eq!(r.unwrap().rejected, 0);
        assert_eq!(v[0].unwrap().pe_data, None);
        // Option checks come before flag checks: bad flags + fatal option
        // drops the rest.
        let mut d = with_options(&[0x45, 0]);
        d[12] = 0x00;
        d[14] = 0x20; // ONE_PACKET
        assert_eq!(dec(&d).0, Err(DropReason::BadEntry));
    }

    #[test]
    fn entry_framing() {
        let base = encode(true, 0, 1472, &[tcp4(), tcp4()], None);
        // type 2 (bit 0 clear, not 0): rest dropped
        let mut d = base.clone();
        d[8] = 2;
        assert_eq!(dec(&d).0, Err(DropReason::BadEntry));
        // type 3: IPv6 (bit 0) — but 36 bytes < 72: rest dropped
        d[8] = 3;
        assert_eq!(dec(&d).0, Err(DropReason::BadEntry));
        // version nibble
        let mut d = base.clone();
        d[10] = 0x10;
        assert_eq!(dec(&d).0, Err(DropReason::BadEntry));
        // size smaller than the fixed part
        let mut d = base.clone();
        set_be16(&mut d, 10, 35);
        assert_eq!(dec(&d).0, Err(DropReason::BadEntry));
        // size past the datagram
        let mut d = base.clone();
        set_be16(&mut d, 44 + 2, 37);
        let (r, v) = dec(&d);
        assert_eq!(r, Err(DropReason::TooShort));
        assert_eq!(v.len(), 1); // the first one was applied
                                // count larger than what is there
        let mut d = base.clone();
        d[4] = 3;
        assert_eq!(dec(&d).0, Err(DropReason::TooShort));
        // count smaller: the rest is ignored
        let mut d = base.clone();
        d[4] = 1;
        let (r, v) = dec(&d);
        assert_eq!(r.unwrap().entries, 1);
        assert_eq!(v.len(), 1);
        // type 3 with a real IPv6 entry decodes as IPv6
        let mut c = tcp4();
        c.v6 = true;
        let mut d = encode(true, 0, 1472, &[c], None);
        d[8] = 3;
        assert!(dec(&d).1[0].unwrap().v6);
    }

    #[test]
    fn padding_content_ignored() {
        let mut d = encode(true, 0, 1472, &[seq_conn(), tcp4()], None);
        d[70] = 0xaa;
        d[71] = 0x55;
        let (r, v) = dec(&d);
        assert_eq!(r.unwrap().rejected, 0);
        assert_eq!(v.len(), 2);
        // A last entry whose padded end is past the datagram is fine.
        let d = encode(true, 0, 1472, &[tcp4(), seq_conn()], None);
        assert_eq!(d.len(), 8 + 36 + 62);
        assert_eq!(dec(&d).0.unwrap().entries, 2);
    }

    #[test]
    fn v0_framing() {
        let d = encode(false, 0, 1472, &[tcp4(), seq_conn()], None);
        // cut SEQ data
        let mut d2 = d[..d.len() - 4].to_vec();
        fix_size(&mut d2);
        let (r, v) = dec(&d2);
        assert_eq!(r, Err(DropReason::TooShort));
        assert_eq!(v.len(), 1);
        // trailing bytes are ignored, never a trailer
        let mut d3 = d.clone();
        d3.extend_from_slice(
            &RvsTrailer {
                kind: TrailerKind::Sync,
                seq: 0,
                sender_id: 0,
            }
            .to_bytes(),
        );
        fix_size(&mut d3);
        assert_eq!(
            dec(&d3).0,
            Ok(Decoded {
                version: 0,
                entries: 2,
                rejected: 0,
                trailer: None
            })
        );
    }

    // --- encoder limits ---------------------------------------------------

    #[test]
    fn max_entries() {
        let mut buf = std::vec![0u8; 65535];
        let mut e = Encoder::new_v1(&mut buf, 0, 65535).unwrap();
        for _ in 0..MAX_ENTRIES {
            assert!(e.push(&tcp4()));
        }
        assert!(!e.push(&tcp4()));
        assert_eq!(e.count(), 255);
        let n = e.finish(None);
        assert_eq!(n, 8 + 255 * 36);
        let (r, v) = dec(&buf[..n]);
        assert_eq!(r.unwrap().entries, 255);
        assert!(v.iter().all(|x| x.is_ok()));
        let mut e = Encoder::new_v0(&mut buf, 0, 65535).unwrap();
        for _ in 0..MAX_ENTRIES {
            assert!(e.push(&tcp4()));
        }
        assert!(!e.push(&tcp4()));
    }

    #[test]
    fn maxlen_respected() {
        let mut buf = [0xeeu8; 4096];
        let mut e = Encoder::new_v1(&mut buf, 0, 100).unwrap();
        assert!(e.push(&tcp4()));
        assert!(e.push(&tcp4()));
        assert!(!e.push(&tcp4())); // 116 > 100
        assert_eq!(e.limit(), 100);
        // 80 + 16 = 96: the trailer fits
        let n = e.finish(Some(&RvsTrailer {
            kind: TrailerKind::Sync,
            seq: 1,
            sender_id: 1,
        }));
        assert_eq!(n, 96);
        assert!(buf[100..].iter().all(|&b| b == 0xee));
        let mut buf = [0xeeu8; 4096];
        let mut e = Encoder::new_v1(&mut buf, 0, 95).unwrap();
        assert!(e.push(&tcp4()) && e.push(&tcp4()));
        assert_eq!(
            e.finish(Some(&RvsTrailer {
                kind: TrailerKind::Sync,
                seq: 1,
                sender_id: 1
            })),
            80
        );
        assert!(buf[80..].iter().all(|&b| b == 0xee));
        // buf shorter than maxlen
        let mut small = [0u8; 50];
        let mut e = Encoder::new_v1(&mut small, 0, 1472).unwrap();
        assert!(e.push(&tcp4()));
        assert!(!e.push(&tcp4()));
        // header does not fit
        assert!(Encoder::new_v1(&mut [0u8; 7], 0, 100).is_none());
        assert!(Encoder::new_v1(&mut [0u8; 100], 0, 7).is_none());
        assert!(Encoder::new_v0(&mut [0u8; 4], 0, 4).is_some());
        // an entry larger than maxlen: IPVS gives it a buffer of its own
        assert_eq!(datagram_limit(20, &tcp4(), 1), 44);
        assert_eq!(datagram_limit(1472, &tcp4(), 1), 1472);
        assert_eq!(datagram_limit(20, &seq_conn(), 0), 52);
    }

    #[test]
    fn reserve_trailer_keeps_room() {
        let t = RvsTrailer {
            kind: TrailerKind::Sync,
            seq: 5,
            sender_id: 6,
        };
        // 8 + 2 * 36 = 80, + 16 = 96: two entries and a trailer fit in 96.
        let mut buf = [0u8; 200];
        let mut e = Encoder::new_v1(&mut buf, 0, 96).unwrap();
        assert!(e.reserve_trailer());
        assert!(e.push(&tcp4()));
        assert!(e.push(&tcp4()));
        assert!(!e.push(&tcp4()));
        assert_eq!(e.finish(Some(&t)), 96);
        // In 95 only one entry keeps room for the trailer.
        let mut buf = [0u8; 200];
        let mut e = Encoder::new_v1(&mut buf, 0, 95).unwrap();
        assert!(e.reserve_trailer());
        assert!(e.push(&tcp4()));
        assert!(!e.push(&tcp4()));
        assert_eq!(e.finish(Some(&t)), 60);
        // Without reserving, the second one goes in and the trailer not.
        let mut buf = [0u8; 200];
        let mut e = Encoder::new_v1(&mut buf, 0, 95).unwrap();
        assert!(e.push(&tcp4()) && e.push(&tcp4()));
        assert_eq!(e.finish(Some(&t)), 80);
        let mut e = Encoder::new_v0(&mut buf, 0, 95).unwrap();
        assert!(!e.reserve_trailer());
        let mut e = Encoder::new_v1(&mut buf, 0, 23).unwrap();
        assert!(!e.reserve_trailer());
    }

    // --- trailer ----------------------------------------------------------

    #[test]
    fn trailer_rules() {
        let t = RvsTrailer {
            kind: TrailerKind::Sync,
            seq: 42,
            sender_id: 7,
        };
        let plain = encode(true, 0, 1472, &[pe_template()], None);
        let with = encode(true, 0, 1472, &[pe_template()], Some(&t));
        let (r0, v0) = dec(&plain);
        let (r1, v1) = dec(&with);
        // Invisible: the same entries either way.
        assert_eq!(v0, v1);
        assert_eq!(r0.unwrap().trailer, None);
        assert_eq!(r1.unwrap().trailer, Some(t));
        // Wrong magic: still a good datagram, no trailer.
        let mut bad = with.clone();
        bad[64] = b'X';
        assert_eq!(dec(&bad).0.unwrap().trailer, None);
        assert_eq!(dec(&bad).1, v0);
        // Unknown kind: none.
        let mut bad = with.clone();
        bad[68] = 9;
        assert_eq!(dec(&bad).0.unwrap().trailer, None);
        // Reserved bytes ignored.
        let mut ok = with.clone();
        ok[69] = 1;
        assert_eq!(dec(&ok).0.unwrap().trailer, Some(t));
        // Not at the aligned end (one byte later, or extra bytes after).
        let mut mis = plain.clone();
        mis.extend_from_slice(&[0, 0, 0]);
        mis.extend_from_slice(&t.to_bytes());
        fix_size(&mut mis);
        assert_eq!(dec(&mis).0.unwrap().trailer, None);
        let mut long = with.clone();
        long.push(0);
        fix_size(&mut long);
        let (r, v) = dec(&long);
        assert_eq!(r.unwrap().trailer, None);
        assert_eq!(v, v0);
        // Unaligned (no padding) placement: none.
        let mut un = plain.clone();
        un.extend_from_slice(&t.to_bytes());
        fix_size(&mut un);
        assert_eq!(dec(&un).0.unwrap().trailer, None);
        // Not returned when the datagram fails.
        let mut fail = with.clone();
        fail[10] = 0x10;
        assert!(dec(&fail).0.is_err());
        // Parse round trip.
        assert_eq!(RvsTrailer::parse(&t.to_bytes()), Some(t));
        assert_eq!(RvsTrailer::parse(&t.to_bytes()[..15]), None);
    }

    #[test]
    fn resync_request() {
        let mut buf = [0u8; 64];
        let n = encode_resync_request(&mut buf, 12, 3, 0x0a0b_0c0d).unwrap();
        #[rustfmt::skip]
        let want = [
            0, 12, 0, 24, 0, 1, 0, 0,
            b'R', b'V', b'S', 1, 1, 0, 0, 0,
            0, 0, 0, 3, 0x0a, 0x0b, 0x0c, 0x0d,
        ];
        assert_eq!(&buf[..n], &want);
        // IPVS's receiver: size matches, version 1, zero entries: nothing
        // happens.
        let (r, v) = dec_with(&buf[..n], 12, 1472);
        assert!(v.is_empty());
        let r = r.unwrap();
        assert_eq!((r.version, r.entries, r.rejected), (1, 0, 0));
        assert_eq!(
            r.trailer,
            Some(RvsTrailer {
                kind: TrailerKind::ResyncRequest,
                seq: 3,
                sender_id: 0x0a0b_0c0d
            })
        );
        // A backup with another syncid drops it like any other datagram.
        assert_eq!(
            dec_with(&buf[..n], 13, 1472).0,
            Err(DropReason::SyncidMismatch)
        );
        assert!(encode_resync_request(&mut [0u8; 23], 0, 0, 0).is_none());
    }

    // --- maxlen, ports ----------------------------------------------------

    #[test]
    fn maxlen_defaults() {
        assert_eq!(default_master_maxlen(false), 1472);
        assert_eq!(default_master_maxlen(true), 1452);
        assert_eq!(default_backup_maxlen(1500, false), 1472);
        assert_eq!(default_backup_maxlen(576, false), 1472);
        assert_eq!(default_backup_maxlen(9000, false), 8972);
        assert_eq!(default_backup_maxlen(9000, true), 8952);
        assert_eq!(default_backup_maxlen(70000, false), 65507);
        assert_eq!(default_backup_maxlen(u32::MAX, true), 65487);
        assert_eq!(effective_maxlen(0, false, 9000, false), 1472);
        assert_eq!(effective_maxlen(0, true, 9000, false), 8972);
        assert_eq!(effective_maxlen(1, false, 1500, false), 1);
        assert_eq!(effective_maxlen(1, true, 1500, false), 1024);
        assert_eq!(effective_maxlen(65535, true, 1500, false), 65507);
        assert_eq!(effective_maxlen(65535, false, 1500, true), 65487);
        assert_eq!(effective_maxlen(4000, true, 1500, false), 4000);
    }

    #[test]
    fn ports_and_threads() {
        assert!(!valid_sync_ports(0));
        assert!(valid_sync_ports(1));
        assert!(!valid_sync_ports(3));
        assert!(valid_sync_ports(64));
        assert!(valid_sync_ports(128));
        assert_eq!(clamp_sync_ports(0), 1);
        assert_eq!(clamp_sync_ports(128), 64);
        assert!(valid_sync_threshold(3, 50));
        assert!(valid_sync_threshold(5, 0));
        assert!(!valid_sync_threshold(50, 50));
        assert!(!valid_sync_threshold(-1, 50));
        assert!(valid_sync_retries(3) && !valid_sync_retries(4) && !valid_sync_retries(-1));
        let a = v4(10, 0, 0, 1);
        for ports in [0u32, 1, 2, 4, 8, 64, 128, u32::MAX] {
            let n = clamp_sync_ports(ports) as usize;
            for cport in 0..200u16 {
                let t = thread_of(a, cport, ports);
                assert!(t < n);
                let by_ref: &[u8; 16] = &a;
                assert_eq!(t, thread_of(by_ref, cport, ports));
                assert_eq!(t, thread_of(&a[..], cport, ports));
            }
        }
        // spreads
        let mut seen = [false; 8];
        for cport in 0..200u16 {
            seen[thread_of(a, cport, 8)] = true;
        }
        assert!(seen.iter().all(|&s| s));
        assert_eq!(thread_of_ptr(0x1234_5600, 256, 4), (0x1234_5600 >> 9) & 3);
        assert_eq!(thread_of_ptr(usize::MAX, 0, 64), (usize::MAX >> 1) & 63);
        assert_eq!(thread_of_ptr(usize::MAX, usize::MAX, 64), 0); // shift by 64
        assert_eq!(thread_of_ptr(12345, 1 << 20, 1), 0);
    }

    // --- sync_needed ------------------------------------------------------

    const HZ: u64 = 100;

    fn view(protocol: u8, state: u16, old_state: u16) -> ConnSyncView {
        ConnSyncView {
            protocol,
            state,
            old_state,
            timeout_jiffies: 900 * HZ,
            ..Default::default()
        }
    }

    #[test]
    fn threshold_period_pattern() {
        let p = SyncParams::defaults(HZ);
        let c = view(UDP, 0, 0);
        let sent: Vec<u32> = (0..=300)
            .filter(|&k| sync_needed(&p, &c, k, 1000).is_some())
            .collect();
        assert_eq!(sent, [3, 53, 103, 153, 203, 253]);
        let c = view(TCP, EST, EST);
        let sent: Vec<u32> = (0..=120)
            .filter(|&k| sync_needed(&p, &c, k, 1000).is_some())
            .collect();
        assert_eq!(sent, [3, 53, 103]);
        assert_eq!(sync_needed(&p, &c, 3, 1001), Some((1001 + 900 * HZ) & !3));
        // wrapped counter: a negative C int never matches
        assert_eq!(sync_needed(&p, &c, 0x8000_0003, 0), None);
        // period 0: only once
        let p0 = SyncParams { period: 0, ..p };
        let sent: Vec<u32> = (0..=300)
            .filter(|&k| sync_needed(&p0, &c, k, 0).is_some())
            .collect();
        assert_eq!(sent, [3]);
    }

    #[test]
    fn tcp_state_rules() {
        let p = SyncParams::defaults(HZ);
        use TcpState as S;
        for s in S::ALL {
            let s = s as u16;
            let c = view(TCP, s, s);
            let ok = matches!(s, 1 | 4 | 5 | 6 | 7);
            assert_eq!(sync_needed(&p, &c, 3, 0).is_some(), ok, "state {s}");
        }
        // entering FIN_WAIT, CLOSE, CLOSE_WAIT, TIME_WAIT: at once
        for s in [S::FinWait, S::TimeWait, S::Close, S::CloseWait] {
            let c = view(TCP, s as u16, EST);
            assert!(sync_needed(&p, &c, 17, 0).is_some());
            let c = view(TCP, s as u16, s as u16);
            assert!(sync_needed(&p, &c, 17, 0).is_none());
        }
        // entering ESTABLISHED: the packet rule still applies
        let c = view(TCP, EST, S::SynRecv as u16);
        assert!(sync_needed(&p, &c, 2, 0).is_none());
        assert!(sync_needed(&p, &c, 3, 0).is_some());
        // SCTP
        for s in 0..sctp::LAST {
            let c = view(SCTP, s, s);
            let ok = matches!(s, 8 | 9 | 10 | 11 | 13);
            assert_eq!(sync_needed(&p, &c, 3, 0).is_some(), ok);
        }
        assert!(sync_needed(&p, &view(SCTP, sctp::CLOSED, sctp::ESTABLISHED), 9, 0).is_some());
        assert!(sync_needed(&p, &view(SCTP, sctp::ESTABLISHED, 3), 9, 0).is_none());
        // out-of-range states
        assert!(sync_needed(&p, &view(TCP, 40, 1), 3, 0).is_none());
    }

    #[test]
    fn templates_one_packet_persist() {
        let p = SyncParams::defaults(HZ);
        let mut t = view(0, 0, 0);
        t.flags = cflags::TEMPLATE;
        for k in 0..100 {
            assert!(sync_needed(&p, &t, k, 0).is_some());
        }
        // TCP template in a non-sync state: no state rule
        let mut t2 = view(TCP, 2, 0);
        t2.flags = cflags::TEMPLATE;
        assert!(sync_needed(&p, &t2, 9, 0).is_some());
        // no period, no refresh: only at the threshold, templates too
        let p0 = SyncParams { period: 0, ..p };
        assert!(sync_needed(&p0, &t, 3, 0).is_some());
        assert!(sync_needed(&p0, &t, 4, 0).is_none());
        // one-packet: never
        let mut o = view(UDP, 0, 0);
        o.flags = cflags::ONE_PACKET;
        assert!((0..200).all(|k| sync_needed(&p, &o, k, 0).is_none()));
        // persist mode
        let mut u = view(TCP, EST, EST);
        u.under_template = true;
        assert!(sync_needed(&p, &u, 3, 0).is_some());
        let pm = SyncParams {
            persist_mode: true,
            ..p
        };
        assert!(sync_needed(&pm, &u, 3, 0).is_none());
        let mut ut = u;
        ut.flags = cflags::TEMPLATE;
        assert!(sync_needed(&pm, &ut, 3, 0).is_some());
        // control chain
        assert!(syncs_control(1, false));
        assert!(syncs_control(0, true));
        assert!(!syncs_control(0, false));
    }

    #[test]
    fn refresh_and_retries() {
        let timeout = 900 * HZ;
        let refresh = 60 * HZ; // 6000
        let p = SyncParams {
            period: 0,
            threshold: 0,
            refresh_period_jiffies: refresh,
            retries: 0,
            persist_mode: false,
            hz: HZ,
        };
        let mut c = view(UDP, 0, 0);
        // first time: far from the (zero) end time
        let e = sync_needed(&p, &c, 1, 1000).unwrap();
        assert_eq!(e, 91000);
        c.sync_endtime = e;
        // moved by 100 < min(6000, max(45000, 1000)): no
        assert_eq!(sync_needed(&p, &c, 2, 1100), None);
        // moved by 6000: yes
        assert_eq!(sync_needed(&p, &c, 2, 7000), Some(97000));
        // backwards by as much: yes too (abs)
        c.sync_endtime = 97000 + 6000;
        assert_eq!(sync_needed(&p, &c, 2, 7000), Some(97000));

        // retries every refresh/8 = 750
        let p2 = SyncParams { retries: 2, ..p };
        c.sync_endtime = 91000;
        assert_eq!(sync_needed(&p2, &c, 2, 1100), None); // before 1000 + 750
        let e1 = sync_needed(&p2, &c, 2, 1750).unwrap();
        assert_eq!(e1, ((1750 + timeout) & !3) | 1);
        c.sync_endtime = e1;
        assert_eq!(sync_needed(&p2, &c, 2, 1800), None);
        let due = e1 - timeout + 750;
        let e2 = sync_needed(&p2, &c, 2, due).unwrap();
        assert_eq!(e2 & 3, 2);
        c.sync_endtime = e2;
        assert_eq!(sync_needed(&p2, &c, 2, due + 2000), None); // retries used
                                                               // a short timeout: min_diff is 10 s
        let mut s = view(UDP, 0, 0);
        s.timeout_jiffies = 4 * HZ;
        s.sync_endtime = (1000 + 4 * HZ) & !3;
        assert_eq!(sync_needed(&p, &s, 0, 1000 + 999), None);
        assert!(sync_needed(&p, &s, 0, 1000 + 1000).is_some());
        // refresh with a period: both rules
        let p3 = SyncParams {
            period: 50,
            threshold: 3,
            ..p
        };
        let mut c3 = view(UDP, 0, 0);
        c3.sync_endtime = 0;
        assert!(sync_needed(&p3, &c3, 4, 1000).is_none());
        assert!(sync_needed(&p3, &c3, 53, 1000).is_some());
        // templates under refresh + period: only the refresh rule
        let mut t = c3;
        t.flags = cflags::TEMPLATE;
        assert!(sync_needed(&p3, &t, 4, 1000).is_some());
        t.sync_endtime = (1000 + timeout) & !3;
        assert!(sync_needed(&p3, &t, 4, 1001).is_none());
        // wrapping jiffies
        let mut w = view(UDP, 0, 0);
        w.sync_endtime = !3;
        assert_eq!(sync_needed(&p, &w, 0, u64::MAX - timeout), None);
        // jiffies wrapped: the end time moved by 90004, sent
        assert_eq!(sync_needed(&p, &w, 0, 0), Some(90000));
        let huge = ConnSyncView {
            timeout_jiffies: u64::MAX,
            sync_endtime: 1 << 63,
            ..w
        };
        let _ = sync_needed(
            &SyncParams {
                hz: u64::MAX,
                refresh_period_jiffies: u64::MAX,
                retries: 3,
                ..p
            },
            &huge,
            u32::MAX,
            u64::MAX,
        );
    }

    // --- properties ---------------------------------------------------------

    fn arb_addr(v6: bool) -> impl Strategy<Value = [u8; 16]> {
        any::<[u8; 16]>().prop_map(move |mut a| {
            if !v6 {
                a[4..].fill(0);
            }
            a
        })
    }

    /// Arbitrary SyncConn a backup accepts; pe bytes borrowed from 'static
    /// pools.
    fn arb_conn() -> impl Strategy<Value = SyncConn<'static>> {
        static DATA: [u8; 255] = {
            let mut d = [0u8; 255];
            let mut i = 0;
            while i < 255 {
                d[i] = i as u8;
                i += 1;
            }
            d
        };
        static NAME: &[u8; 16] = b"abcdefghijklmnop";
        (any::<bool>(), any::<bool>(), 0u8..6)
            .prop_flat_map(|(v6, tpl, proto_sel)| {
                let protocol = [TCP, UDP, SCTP, 50, 51, 0][proto_sel as usize];
                let nstates = if tpl {
                    ctpl::LAST
                } else {
                    match protocol {
                        TCP => TCP_S_LAST,
                        SCTP => sctp::LAST,
                        _ => 1,
                    }
                };
                let protocol = if !tpl && protocol == 0 { TCP } else { protocol };
                (
                    (
                        Just(v6),
                        Just(tpl),
                        Just(protocol),
                        any::<u32>(),
                        0..nstates,
                    ),
                    (
                        any::<u16>(),
                        any::<u16>(),
                        any::<u16>(),
                        any::<u32>(),
                        any::<u32>(),
                    ),
                    (arb_addr(v6), arb_addr(v6), arb_addr(v6)),
                    (
                        proptest::option::of(any::<[(u32, u32, u32); 2]>()),
                        0usize..=255,
                        1usize..=16,
                    ),
                )
            })
            .prop_map(
                move |(
                    (v6, tpl, protocol, flags, state),
                    (cport, vport, dport, fwmark, timeout),
                    (caddr, vaddr, daddr),
                    (seq, dlen, nlen),
                )| {
                    let mut flags = flags & !cflags::ONE_PACKET;
                    if tpl {
                        flags = (flags | cflags::TEMPLATE) & !cflags::NO_CPORT;
                    } else {
                        flags &= !cflags::TEMPLATE;
                    }
                    let seq = seq.map(|s| {
                        s.map(|(a, b, c)| SeqAdj {
                            init_seq: a,
                            delta: b,
                            previous_delta: c,
                        })
                    });
                    SyncConn {
                        v6,
                        protocol,
                        flags,
                        state,
                        cport,
                        vport,
                        dport,
                        fwmark,
                        timeout,
                        caddr,
                        vaddr,
                        daddr,
                        seq,
                        pe_data: if dlen == 0 { None } else { Some(&DATA[..dlen]) },
                        pe_name: Some(&NAME[..nlen]),
                    }
                },
            )
    }

    /// A valid datagram (v1 or v0) from arbitrary conns, maybe a trailer.
    fn arb_datagram() -> impl Strategy<Value = Vec<u8>> {
        (
            proptest::collection::vec(arb_conn(), 0..12),
            any::<bool>(),
            any::<bool>(),
            any::<u8>(),
        )
            .prop_map(|(conns, v1, tr, syncid)| {
                let mut buf = std::vec![0u8; 65535];
                let mut e = if v1 {
                    Encoder::new_v1(&mut buf, syncid, 65535).unwrap()
                } else {
                    Encoder::new_v0(&mut buf, syncid, 65535).unwrap()
                };
                for c in &conns {
                    e.push(c);
                }
                let t = RvsTrailer {
                    kind: TrailerKind::Sync,
                    seq: 1,
                    sender_id: 2,
                };
                let n = e.finish(if tr { Some(&t) } else { None });
                buf.truncate(n);
                buf
            })
    }

    proptest! {
        #[test]
        fn decode_never_panics(buf in proptest::collection::vec(any::<u8>(), 0..600), own in any::<u8>(), maxlen in 0usize..700) {
            let mut n = 0usize;
            let r = decode(&buf, own, maxlen, |_| n += 1);
            if let Ok(d) = r {
                prop_assert_eq!(n, d.entries);
            }
            // with a matching size field, more of the code runs
            let mut b2 = buf.clone();
            if b2.len() >= 4 {
                let l = b2.len() as u16;
                b2[2..4].copy_from_slice(&l.to_be_bytes());
                let _ = decode(&b2, 0, 65535, |_| {});
                let l = b2.len();
                b2[0] = 0;
                b2[5 % l] = 1;
                if b2.len() >= 8 { b2[6] = 0; b2[7] = 0; }
                let _ = decode(&b2, 0, 65535, |_| {});
            }
        }

        #[test]
        fn decode_mutated_never_panics(
            d in arb_datagram(),
            muts in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
            cut in any::<usize>(),
            fix in any::<bool>(),
        ) {
            let mut d = d;
            for (i, b) in muts {
                let l = d.len();
                d[i % l] = b;
            }
            if cut % 3 == 0 {
                let keep = cut % (d.len() + 1);
                d.truncate(keep);
            }
            if fix && d.len() >= 4 {
                fix_size(&mut d);
            }
            let mut n = 0usize;
            let r = decode(&d, 0, 65535, |_| n += 1);
            if let Ok(x) = r {
                prop_assert_eq!(n, x.entries);
                prop_assert!(x.rejected <= x.entries);
            }
        }

        #[test]
        fn round_trip_v1(conns in proptest::collection::vec(arb_conn(), 0..20), syncid in any::<u8>(), tr in any::<bool>()) {
            let mut buf = std::vec![0u8; 65535];
            let mut e = Encoder::new_v1(&mut buf, syncid, 65535).unwrap();
            for c in &conns {
                prop_assert!(e.push(c));
            }
            let t = RvsTrailer { kind: TrailerKind::Sync, seq: 9, sender_id: syncid as u32 };
            let n = e.finish(if tr { Some(&t) } else { None });
            let mut want_len = HEADER_V1_LEN;
            for c in &conns {
                want_len = align4(want_len) + entry_size(c);
            }
            if tr {
                want_len = align4(want_len) + TRAILER_LEN;
            }
            prop_assert_eq!(n, want_len);
            let (r, v) = dec_with(&buf[..n], syncid, 65535);
            let r = r.unwrap();
            prop_assert_eq!(r.entries, conns.len());
            prop_assert_eq!(r.rejected, 0);
            prop_assert_eq!(r.trailer, if tr { Some(t) } else { None });
            for (c, got) in conns.iter().zip(v) {
                prop_assert_eq!(got, Ok(received(c)));
            }
        }

        #[test]
        fn round_trip_v0(conns in proptest::collection::vec(arb_conn(), 0..20)) {
            let mut buf = std::vec![0u8; 65535];
            let mut e = Encoder::new_v0(&mut buf, 1, 65535).unwrap();
            let mut sent = Vec::new();
            for c in &conns {
                let ok = e.push(c);
                prop_assert_eq!(ok, !c.v6);
                if ok { sent.push(*c); }
            }
            let n = e.finish(None);
            let (r, v) = dec_with(&buf[..n], 1, 65535);
            prop_assert_eq!(r.unwrap().entries, sent.len());
            for (c, got) in sent.iter().zip(v) {
                let mut w = received(c);
                w.flags &= 0xffff | cflags::SYNC;
                w.fwmark = 0;
                w.timeout = 0;
                w.pe_data = None;
                w.pe_name = None;
                prop_assert_eq!(got, Ok(w));
            }
        }

        #[test]
        fn encoder_respects_limits(
            conns in proptest::collection::vec(arb_conn(), 0..40),
            maxlen in 0usize..1600,
            buflen in 0usize..1600,
            v1 in any::<bool>(),
            reserve in any::<bool>(),
            tr in any::<bool>(),
        ) {
            let mut buf = std::vec![0xa5u8; buflen + 64];
            let limit = maxlen.min(buflen);
            let t = RvsTrailer { kind: TrailerKind::ResyncRequest, seq: 1, sender_id: 1 };
            let (n, count) = {
                let region = &mut buf[..buflen];
                let e = if v1 { Encoder::new_v1(region, 0, maxlen) } else { Encoder::new_v0(region, 0, maxlen) };
                let Some(mut e) = e else {
                    let hlen = if v1 { HEADER_V1_LEN } else { HEADER_V0_LEN };
                    prop_assert!(limit < hlen);
                    return Ok(());
                };
                let reserved = reserve && e.reserve_trailer();
                let mut pushed = 0;
                for c in &conns {
                    let before = e.datagram_len();
                    if e.push(c) {
                        pushed += 1;
                        prop_assert!(e.datagram_len() <= limit);
                        if reserved {
                            prop_assert!(align4(e.datagram_len()) + TRAILER_LEN <= limit);
                        }
                    } else {
                        prop_assert_eq!(before, e.datagram_len());
                    }
                }
                prop_assert_eq!(e.count(), pushed);
                let n = e.finish(if tr || reserved { Some(&t) } else { None });
                prop_assert!(n <= limit);
                (n, pushed)
            };
            prop_assert!(buf[limit..].iter().all(|&b| b == 0xa5));
            let (r, v) = dec_with(&buf[..n], 0, 65535);
            let r = r.unwrap();
            prop_assert_eq!(r.entries, count);
            prop_assert!(v.iter().all(|x| x.is_ok()));
            if v1 && reserve && r.trailer.is_none() {
                // only when there was not room even for an empty datagram
                prop_assert!(limit < 8 + TRAILER_LEN);
            }
        }

        #[test]
        fn sync_needed_total(
            threshold in any::<u32>(), period in any::<u32>(), refresh in any::<u64>(), retries in 0u32..5,
            hz in any::<u64>(), persist in any::<bool>(),
            protocol in any::<u8>(), flags in any::<u32>(), state in any::<u16>(), old_state in any::<u16>(),
            timeout in any::<u64>(), endtime in any::<u64>(), under in any::<bool>(), pkts in any::<u32>(), now in any::<u64>(),
        ) {
            let p = SyncParams { threshold, period, refresh_period_jiffies: refresh, retries, persist_mode: persist, hz };
            let c = ConnSyncView { protocol, flags, state, old_state, timeout_jiffies: timeout, sync_endtime: endtime, under_template: under };
            if let Some(n) = sync_needed(&p, &c, pkts, now) {
                prop_assert_eq!(n & !3, now.wrapping_add(timeout) & !3);
            }
        }
    }
}
