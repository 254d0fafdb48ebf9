// SPDX-License-Identifier: GPL-2.0
//! `rvsfuzz sync`: datagrams for a backup sync daemon, on IPVS's sync wire
//! format (`rvs_core::sync`), sent to the sync group from one interface.
//!
//! The mix, deterministic from the seed:
//!
//! * **random** (15%): random bytes of 0 to 1600 bytes; 40% of them with a
//!   plausible header (the size field matching the length, sometimes the
//!   version 1 marks), so that the entry walk runs on garbage;
//! * **valid v1** (40%): built with [`Encoder`] from random but plausible
//!   [`SyncConn`]s: IPv4 and IPv6, TCP, UDP, SCTP, ESP, AH, templates
//!   (protocol 0 fwmark templates too), random flags, states and timeouts
//!   including the extremes, SEQ options, PE data and names, rvs trailers
//!   (sync and resync kinds), and bare resync requests; now and then an
//!   entry the backup refuses (one-packet, a template without client port,
//!   a state out of range, PE data without name);
//! * **valid v0** (12%): the old format, IPv4 only;
//! * **mutated** (33%): a valid datagram (v1 or v0) with one to three of
//!   [`Mutation`]: bit flips, truncation, extension, lies in the header's
//!   size or count, entry size, version and type lies, option length
//!   lies, zero-length, unknown (mandatory or optional) and duplicated
//!   options, broken trailers, toggled SEQ flags, syncid mismatches.
//!
//! Addresses stay in small ranges so that the backup's table stays
//! bounded and entries meet again (the update paths): clients
//! 10.99.0-1.1-16 (2001:db8:99::/112), virtual 10.98.0.1-4
//! (2001:db8:98::1-4), real servers 10.97.0.1-4 (2001:db8:97::1-4). A
//! quarter of the entries are aimed at the test's service, TCP
//! 10.98.0.1:80 with real server 10.97.0.1:80, always acceptable, so that
//! the backup binds them and counts them in that server's counters.

use std::collections::BTreeMap;
use std::ffi::CString;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use rvs_core::packet::{IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP};
use rvs_core::sync::{
    self as wire, cflags, ctpl, sctp, Encoder, RvsTrailer, SeqAdj, SyncConn, TrailerKind,
};

use crate::{Options, Rng};

const TCP: u8 = IPPROTO_TCP;
const UDP: u8 = IPPROTO_UDP;
const SCTP: u8 = IPPROTO_SCTP;
const ESP: u8 = 50;
const AH: u8 = 51;
const TCP_ESTABLISHED: u16 = 1;

/// Virtual address of the service the test configures on the backup.
pub const SERVICE_VIP: [u8; 4] = [10, 98, 0, 1];
/// Its port (TCP).
pub const SERVICE_PORT: u16 = 80;
/// Its real server (port [`SERVICE_PORT`]).
pub const SERVICE_RS: [u8; 4] = [10, 97, 0, 1];
/// A backup's `sync_maxlen` on a 1500-byte MTU interface: valid datagrams
/// stay within it.
pub const DEFAULT_MAXLEN: usize = 1472;
/// Longest datagram sent.
pub const MAX_DATAGRAM: usize = 1600;

/// What a datagram is.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub enum Kind {
    /// Random bytes.
    Random,
    /// Well-formed version 1.
    ValidV1,
    /// Well-formed version 0.
    ValidV0,
    /// A well-formed one, broken.
    Mutated,
}

#[cfg(test)]
impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Random, Kind::ValidV1, Kind::ValidV0, Kind::Mutated];
}

/// How a valid datagram was broken.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub enum Mutation {
    /// 1 to 8 bits flipped anywhere (the size then fixed).
    BitFlip,
    /// 1 to 4 bytes set to random, 0 or 0xff values.
    ByteSet,
    /// Cut short, with the header's size fixed or left as it was.
    Truncate,
    /// Random or zero bytes appended (size fixed).
    Extend,
    /// Made longer than the backup's maxlen (size fixed).
    TooLong,
    /// The header's size lies.
    HeaderSize,
    /// The header's count is off by a few, or 0.
    HeaderCount,
    /// The header's count is 255.
    Count255,
    /// Another sync id.
    Syncid,
    /// Version marks changed (v1 read as v0, or v0 as v1).
    Version,
    /// An entry's size field lies.
    EntrySize,
    /// An entry's version nibble is not 0.
    EntryVersion,
    /// An entry's type byte is unknown, or says IPv6 for IPv4.
    EntryType,
    /// An option's length lies (0, off by one, past the entry, a SEQ
    /// option not 24 bytes, a PE name over 16).
    OptLen,
    /// An option of length 0 added.
    ZeroLenOpt,
    /// An unknown option without the 0x40 (skippable) bit added.
    UnknownMandatory,
    /// An unknown option with the 0x40 bit added.
    UnknownOptional,
    /// An option repeated (or SEQ again with the 0x40 bit).
    DuplicateOpt,
    /// The rvs trailer broken: magic, kind, alignment, length.
    Trailer,
    /// An entry's SEQ flag bits toggled (a v0 entry changes length).
    SeqFlag,
}

impl Mutation {
    pub const ALL: [Mutation; 20] = [
        Mutation::BitFlip,
        Mutation::ByteSet,
        Mutation::Truncate,
        Mutation::Extend,
        Mutation::TooLong,
        Mutation::HeaderSize,
        Mutation::HeaderCount,
        Mutation::Count255,
        Mutation::Syncid,
        Mutation::Version,
        Mutation::EntrySize,
        Mutation::EntryVersion,
        Mutation::EntryType,
        Mutation::OptLen,
        Mutation::ZeroLenOpt,
        Mutation::UnknownMandatory,
        Mutation::UnknownOptional,
        Mutation::DuplicateOpt,
        Mutation::Trailer,
        Mutation::SeqFlag,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Mutation::BitFlip => "bit-flip",
            Mutation::ByteSet => "byte-set",
            Mutation::Truncate => "truncate",
            Mutation::Extend => "extend",
            Mutation::TooLong => "too-long",
            Mutation::HeaderSize => "header-size",
            Mutation::HeaderCount => "header-count",
            Mutation::Count255 => "count-255",
            Mutation::Syncid => "syncid",
            Mutation::Version => "version",
            Mutation::EntrySize => "entry-size",
            Mutation::EntryVersion => "entry-version",
            Mutation::EntryType => "entry-type",
            Mutation::OptLen => "opt-len",
            Mutation::ZeroLenOpt => "zero-len-opt",
            Mutation::UnknownMandatory => "unknown-mandatory",
            Mutation::UnknownOptional => "unknown-optional",
            Mutation::DuplicateOpt => "duplicate-opt",
            Mutation::Trailer => "trailer",
            Mutation::SeqFlag => "seq-flag",
        }
    }

    /// Mutations are applied in phases: on the entries (the datagram is
    /// split and joined again), on the bytes, then on the header, so that
    /// a lie told late is not fixed by an earlier step.
    fn phase(self) -> u8 {
        match self {
            Mutation::EntrySize
            | Mutation::EntryVersion
            | Mutation::EntryType
            | Mutation::OptLen
            | Mutation::ZeroLenOpt
            | Mutation::UnknownMandatory
            | Mutation::UnknownOptional
            | Mutation::DuplicateOpt
            | Mutation::Trailer
            | Mutation::SeqFlag => 0,
            Mutation::BitFlip
            | Mutation::ByteSet
            | Mutation::Truncate
            | Mutation::Extend
            | Mutation::TooLong => 1,
            Mutation::HeaderSize
            | Mutation::HeaderCount
            | Mutation::Count255
            | Mutation::Syncid
            | Mutation::Version => 2,
        }
    }

    /// Whether it needs a version 1 datagram: of the entry mutations,
    /// version 0 entries only have the SEQ flags to break.
    fn needs_v1(self) -> bool {
        self.phase() == 0 && self != Mutation::SeqFlag
    }
}

/// One generated datagram.
#[derive(Clone, Debug)]
pub struct Datagram {
    pub kind: Kind,
    /// What broke it ([`Kind::Mutated`]), in the order applied.
    pub mutations: Vec<Mutation>,
    pub bytes: Vec<u8>,
    /// Entries encoded (for a mutated one: before it was broken).
    pub entries: usize,
    /// Of them, aimed at the service ([`SERVICE_VIP`]), all acceptable.
    pub service: usize,
    /// Of them, refused by a backup (flags, state, PE data without name).
    pub refused: usize,
    /// The rvs trailer it carries (valid version 1 only).
    pub trailer: Option<RvsTrailer>,
}

/// A connection to encode, owning its PE data and name.
#[derive(Clone, Debug)]
struct Plan {
    c: SyncConn<'static>,
    pe_data: Option<Vec<u8>>,
    pe_name: Option<Vec<u8>>,
    service: bool,
    refused: bool,
}

impl Plan {
    fn conn(&self) -> SyncConn<'_> {
        SyncConn {
            pe_data: self.pe_data.as_deref(),
            pe_name: self.pe_name.as_deref(),
            ..self.c
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    ServiceConn,
    ServiceTemplate,
    Conn,
    Template,
    FwmarkTemplate,
}

/// A valid datagram before it is labelled or broken.
#[derive(Default)]
struct Built {
    bytes: Vec<u8>,
    entries: usize,
    service: usize,
    refused: usize,
    trailer: Option<RvsTrailer>,
}

impl Built {
    /// Encodes `plans` until the datagram is full, counting the entries
    /// that went in, those aimed at the service and those `refused`.
    fn push_plans(&mut self, e: &mut Encoder<'_>, plans: &[Plan], refused: impl Fn(&Plan) -> bool) {
        for p in plans {
            if !e.push(&p.conn()) {
                break;
            }
            self.entries += 1;
            self.service += usize::from(p.service);
            self.refused += usize::from(refused(p));
        }
    }
}

fn v4(a: [u8; 4]) -> [u8; 16] {
    let mut x = [0u8; 16];
    x[..4].copy_from_slice(&a);
    x
}

fn v6(prefix: u16, low: u16) -> [u8; 16] {
    let mut x = [0u8; 16];
    x[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
    x[4..6].copy_from_slice(&prefix.to_be_bytes());
    x[14..].copy_from_slice(&low.to_be_bytes());
    x
}

const fn align4(n: usize) -> usize {
    (n + 3) & !3
}

fn pad4(b: &mut Vec<u8>) {
    b.resize(align4(b.len()), 0);
}

/// Sets the header's size field (offset 2 in both versions) to the length.
fn fix_size(b: &mut [u8]) {
    if b.len() >= 4 {
        let n = b.len().min(u16::MAX as usize) as u16;
        b[2..4].copy_from_slice(&n.to_be_bytes());
    }
}

fn be16(b: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(off..off + 2)?.try_into().ok()?))
}

/// A version 1 datagram taken apart: header, raw entries, what follows.
struct V1 {
    head: [u8; 8],
    entries: Vec<Vec<u8>>,
    tail: Vec<u8>,
}

impl V1 {
    fn split(b: &[u8]) -> Option<V1> {
        let head: [u8; 8] = b.get(..8)?.try_into().ok()?;
        let mut entries = Vec::new();
        let (mut pos, mut end) = (8, 8);
        for _ in 0..head[4] {
            let size = usize::from(be16(b, pos + 2)? & 0x0fff);
            if size < wire::ENTRY_V4_LEN {
                return None;
            }
            entries.push(b.get(pos..pos + size)?.to_vec());
            end = pos + size;
            pos = align4(end);
        }
        let tail = b.get(align4(end)..).unwrap_or(&[]).to_vec();
        Some(V1 {
            head,
            entries,
            tail,
        })
    }

    fn join(&self) -> Vec<u8> {
        let mut b = self.head.to_vec();
        for e in &self.entries {
            pad4(&mut b);
            b.extend_from_slice(e);
        }
        if !self.tail.is_empty() {
            pad4(&mut b);
            b.extend_from_slice(&self.tail);
        }
        b[4] = self.entries.len().min(255) as u8;
        fix_size(&mut b);
        b
    }
}

/// The entry's options: (offset, type, length) as far as they parse.
fn options(e: &[u8]) -> Vec<(usize, u8, u8)> {
    let mut v = Vec::new();
    let mut p = if e.first().is_some_and(|t| t & 1 != 0) {
        wire::ENTRY_V6_LEN
    } else {
        wire::ENTRY_V4_LEN
    };
    while let (Some(&t), Some(&l)) = (e.get(p), e.get(p + 1)) {
        v.push((p, t, l));
        p += 2 + usize::from(l);
    }
    v
}

fn fixed_len(e: &[u8]) -> usize {
    if e.first().is_some_and(|t| t & 1 != 0) {
        wire::ENTRY_V6_LEN
    } else {
        wire::ENTRY_V4_LEN
    }
    .min(e.len())
}

/// Sets an entry's size field to its length (keeping the version nibble).
fn set_entry_size(e: &mut [u8]) {
    if let Some(vs) = be16(e, 2) {
        let v = (vs & 0xf000) | (e.len().min(0x0fff) as u16);
        e[2..4].copy_from_slice(&v.to_be_bytes());
    }
}

/// The generator.
pub struct Gen {
    rng: Rng,
    syncid: u8,
    maxlen: usize,
    /// rvs masters the valid datagrams come from: (sender id, next seq).
    senders: [(u32, u32); 3],
}

impl Gen {
    pub fn new(seed: u64, syncid: u8, maxlen: usize) -> Gen {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let senders = [
            (rng.next() as u32, 0),
            (rng.next() as u32, 1),
            (0x5256_5301, u32::MAX - 20),
        ];
        Gen {
            rng,
            syncid,
            maxlen: maxlen.clamp(wire::HEADER_V1_LEN + wire::TRAILER_LEN, 65535),
            senders,
        }
    }

    /// The next datagram.
    pub fn datagram(&mut self) -> Datagram {
        match self.rng.below(100) {
            0..=14 => Datagram {
                kind: Kind::Random,
                mutations: Vec::new(),
                bytes: self.random(),
                entries: 0,
                service: 0,
                refused: 0,
                trailer: None,
            },
            15..=54 => {
                let b = self.valid_v1(false);
                self.labelled(Kind::ValidV1, b, Vec::new())
            }
            55..=66 => {
                let b = self.valid_v0(false);
                self.labelled(Kind::ValidV0, b, Vec::new())
            }
            _ => self.mutated(),
        }
    }

    fn labelled(&self, kind: Kind, b: Built, mutations: Vec<Mutation>) -> Datagram {
        Datagram {
            kind,
            mutations,
            bytes: b.bytes,
            entries: b.entries,
            service: b.service,
            refused: b.refused,
            trailer: if kind == Kind::ValidV1 {
                b.trailer
            } else {
                None
            },
        }
    }

    // --- random ---------------------------------------------------------

    fn random(&mut self) -> Vec<u8> {
        let r = &mut self.rng;
        let n = match r.below(10) {
            0..=2 => r.below(9),
            3 | 4 => r.below(64),
            5..=7 => r.below(DEFAULT_MAXLEN as u64 + 1),
            8 => DEFAULT_MAXLEN as u64 + 1 + r.below((MAX_DATAGRAM - DEFAULT_MAXLEN) as u64),
            _ => *r.pick(&[0, 1, 3, 4, 7, 8, 44, 1472, 1473, 1600]),
        } as usize;
        let mut b = r.bytes(n);
        if n >= 4 && r.chance(40) {
            // A plausible header, so that the entries are looked at.
            fix_size(&mut b);
            if r.chance(50) {
                b[1] = self.syncid;
            }
            if n >= 8 && r.chance(60) {
                b[0] = 0;
                b[5] = wire::SYNC_PROTO_VER;
                b[6] = 0;
                b[7] = 0;
                if r.chance(50) {
                    b[4] = r.below(8) as u8;
                }
            }
        }
        b
    }

    // --- plausible connections -----------------------------------------

    fn client(&mut self, six: bool) -> [u8; 16] {
        let (hi, lo) = (self.rng.below(2) as u8, 1 + self.rng.below(16) as u8);
        if six {
            v6(0x99, u16::from_be_bytes([hi, lo]))
        } else {
            v4([10, 99, hi, lo])
        }
    }

    fn vip(&mut self, six: bool) -> [u8; 16] {
        self.one_of_four(six, 98, 0x98)
    }

    fn real_server(&mut self, six: bool) -> [u8; 16] {
        self.one_of_four(six, 97, 0x97)
    }

    /// 10.`net4`.0.1 to .4, or 2001:db8:`net6`::1 to ::4.
    fn one_of_four(&mut self, six: bool, net4: u8, net6: u16) -> [u8; 16] {
        let i = 1 + self.rng.below(4) as u8;
        if six {
            v6(net6, u16::from(i))
        } else {
            v4([10, net4, 0, i])
        }
    }

    fn service_port(&mut self) -> u16 {
        if self.rng.chance(2) {
            self.rng.next() as u16
        } else {
            *self.rng.pick(&[80, 80, 443, 8080, 0])
        }
    }

    fn client_port(&mut self) -> u16 {
        if self.rng.chance(3) {
            *self.rng.pick(&[0, 1, 65535])
        } else {
            40000 + self.rng.below(16) as u16
        }
    }

    fn timeout(&mut self) -> u32 {
        let r = &mut self.rng;
        match r.below(20) {
            0..=2 => 0,
            3 => 1,
            4 => 2,
            5 => 5,
            6 | 7 => 60,
            8 | 9 => 300,
            10..=12 => 900,
            13 => 3600,
            14 => 86400,
            15 => 0x7fff_ffff,
            16 => u32::MAX,
            17 => 0x8000_0000,
            _ => r.below(7200) as u32,
        }
    }

    /// Flags; `acceptable`: none a backup refuses.
    fn flags(&mut self, tmpl: bool, acceptable: bool) -> u32 {
        let r = &mut self.rng;
        let mut f = match r.below(10) {
            0..=2 => cflags::MASQ,
            3..=5 => cflags::DROUTE,
            6 | 7 => cflags::TUNNEL,
            8 => cflags::LOCALNODE,
            _ => r.below(8) as u32,
        };
        if r.chance(40) {
            f |= cflags::INACTIVE;
        }
        if r.chance(30) {
            f |= cflags::NOOUTPUT;
        }
        if r.chance(15) {
            f |= *r.pick(&[cflags::OUT_SEQ, cflags::IN_SEQ, cflags::SEQ_MASK]);
        }
        if !tmpl && r.chance(5) {
            f |= cflags::NO_CPORT;
        }
        if r.chance(10) {
            f |= cflags::SYNC;
        }
        if r.chance(5) {
            f |= cflags::HASHED;
        }
        if r.chance(5) {
            f |= cflags::NFCT;
        }
        if r.chance(3) {
            f |= (r.next() as u32) & 0xffff_c000;
        }
        if tmpl {
            f |= cflags::TEMPLATE;
        }
        if !acceptable {
            if r.chance(3) {
                f |= cflags::ONE_PACKET;
            }
            if tmpl && r.chance(3) {
                f |= cflags::NO_CPORT;
            }
        }
        f
    }

    fn state(&mut self, protocol: u8, tmpl: bool, acceptable: bool) -> u16 {
        let r = &mut self.rng;
        if !acceptable && r.chance(3) {
            let any = r.next() as u16;
            return *r.pick(&[any, u16::MAX, wire::TCP_S_LAST, sctp::LAST, ctpl::LAST]);
        }
        if tmpl {
            return r.below(u64::from(ctpl::LAST)) as u16;
        }
        match protocol {
            TCP if r.chance(50) => TCP_ESTABLISHED,
            TCP => r.below(u64::from(wire::TCP_S_LAST)) as u16,
            SCTP => r.below(u64::from(sctp::LAST)) as u16,
            _ => 0,
        }
    }

    fn seq_adj(&mut self) -> SeqAdj {
        let r = &mut self.rng;
        let mut x = || match r.below(6) {
            0 => 0,
            1 => u32::MAX,
            2 => 0x8000_0000,
            3 => (r.below(200) as i32 - 100) as u32,
            _ => r.next() as u32,
        };
        SeqAdj {
            init_seq: x(),
            delta: x(),
            previous_delta: x(),
        }
    }

    /// PE data and name; `acceptable`: the name is there.
    fn pe(&mut self, acceptable: bool) -> (Option<Vec<u8>>, Option<Vec<u8>>, bool) {
        let r = &mut self.rng;
        let dlen = match r.below(20) {
            0..=13 => 1 + r.below(32),
            14..=18 => 33 + r.below(223),
            _ => wire::PEDATA_MAXLEN as u64,
        } as usize;
        let data = r.bytes(dlen);
        let letters = |r: &mut Rng, max: u64, min: u64| -> Vec<u8> {
            let n = min + r.below(max - min + 1);
            (0..n).map(|_| b'a' + r.below(26) as u8).collect()
        };
        let pick = if acceptable {
            r.below(70)
        } else {
            r.below(100)
        };
        let (name, refused) = match pick {
            0..=49 => (Some(b"sip".to_vec()), false),
            50..=59 => (Some(letters(r, 16, 1)), false),
            // Longer than 16: the encoder cuts it, as IPVS.
            60..=69 => (Some(letters(r, 24, 17)), false),
            // Cut at a NUL: "si", or nothing at all (then not sent).
            70..=79 => {
                if r.chance(50) {
                    (Some(b"si\0p".to_vec()), false)
                } else {
                    (Some(b"\0sip".to_vec()), true)
                }
            }
            _ => (None, true),
        };
        (Some(data), name, refused)
    }

    /// A random but plausible connection or template.
    fn plan(&mut self, allow_v6: bool) -> Plan {
        use Shape::*;
        let shape = match self.rng.below(100) {
            0..=19 => ServiceConn,
            20..=24 => ServiceTemplate,
            25..=79 => Conn,
            80..=91 => Template,
            _ => FwmarkTemplate,
        };
        let service = matches!(shape, ServiceConn | ServiceTemplate);
        let tmpl = !matches!(shape, ServiceConn | Conn);
        let six = allow_v6 && !service && self.rng.chance(25);
        let protocol = match shape {
            ServiceConn | ServiceTemplate => TCP,
            FwmarkTemplate => 0,
            _ => match self.rng.below(100) {
                0..=49 => TCP,
                50..=69 => UDP,
                70..=84 => SCTP,
                85..=89 => ESP,
                90..=94 => AH,
                95..=97 => 0,
                _ => self.rng.next() as u8,
            },
        };
        // Protocols a backup does not know, as connections, are refused.
        let mut refused = !tmpl && !matches!(protocol, TCP | UDP | SCTP | ESP | AH);
        let fwmark = match shape {
            FwmarkTemplate => 1 + self.rng.below(4) as u32,
            ServiceConn | ServiceTemplate => 0,
            _ if self.rng.chance(10) => 1 + self.rng.below(4) as u32,
            _ if self.rng.chance(1) => u32::MAX,
            _ => 0,
        };
        let caddr = self.client(six);
        let (vaddr, vport) = match shape {
            ServiceConn | ServiceTemplate => (v4(SERVICE_VIP), SERVICE_PORT),
            // IPVS's fwmark templates: the mark as the virtual address.
            FwmarkTemplate => (v4(fwmark.to_be_bytes()), 0),
            _ => {
                let a = self.vip(six);
                (a, self.service_port())
            }
        };
        let cport = if tmpl && self.rng.chance(90) {
            0
        } else {
            self.client_port()
        };
        let (daddr, dport) = if service {
            (v4(SERVICE_RS), SERVICE_PORT)
        } else {
            let a = self.real_server(six);
            let p = if self.rng.chance(50) {
                vport
            } else {
                self.service_port()
            };
            (a, p)
        };
        // Entries aimed at the service are always acceptable; a few of the
        // others are not.
        let may_refuse = !service && self.rng.chance(15);
        let flags = self.flags(tmpl, !may_refuse);
        let state = self.state(protocol, tmpl, !may_refuse);
        refused |= flags & cflags::ONE_PACKET != 0
            || flags & (cflags::NO_CPORT | cflags::TEMPLATE)
                == (cflags::NO_CPORT | cflags::TEMPLATE)
            || !wire::state_valid(protocol, state, tmpl);
        let seq = if flags & cflags::SEQ_MASK != 0 || self.rng.chance(3) {
            if self.rng.chance(85) {
                Some([self.seq_adj(), self.seq_adj()])
            } else {
                None
            }
        } else {
            None
        };
        let (pe_data, pe_name) = if self.rng.chance(8) {
            let (d, n, r) = self.pe(!may_refuse);
            refused |= r;
            (d, n)
        } else {
            (None, None)
        };
        Plan {
            c: SyncConn {
                v6: six,
                protocol,
                flags,
                state,
                cport,
                vport,
                dport,
                fwmark,
                timeout: self.timeout(),
                caddr,
                vaddr,
                daddr,
                seq,
                pe_data: None,
                pe_name: None,
            },
            pe_data,
            pe_name,
            service,
            refused,
        }
    }

    fn entry_target(&mut self, at_least_one: bool) -> usize {
        match self.rng.below(20) {
            0 if !at_least_one => 0,
            0..=8 => 1 + self.rng.below(4) as usize,
            9..=17 => 5 + self.rng.below(36) as usize,
            _ => wire::MAX_ENTRIES,
        }
    }

    fn trailer(&mut self, kind: TrailerKind) -> RvsTrailer {
        let r = &mut self.rng;
        if r.chance(10) {
            return RvsTrailer {
                kind,
                seq: r.next() as u32,
                sender_id: r.next() as u32,
            };
        }
        let i = r.below(self.senders.len() as u64) as usize;
        let s = &mut self.senders[i];
        let seq = s.1;
        // Mostly in order; now and then a gap, a repeat or a step back.
        s.1 = match r.below(20) {
            0 => seq.wrapping_add(2 + r.below(100) as u32),
            1 => seq,
            2 => seq.wrapping_sub(1 + r.below(5) as u32),
            _ => seq.wrapping_add(1),
        };
        RvsTrailer {
            kind,
            seq,
            sender_id: s.0,
        }
    }

    fn valid_v1(&mut self, at_least_one: bool) -> Built {
        if !at_least_one && self.rng.chance(5) {
            let t = self.trailer(TrailerKind::ResyncRequest);
            let mut buf = [0u8; wire::HEADER_V1_LEN + wire::TRAILER_LEN];
            let n =
                wire::encode_resync_request(&mut buf, self.syncid, t.seq, t.sender_id).unwrap_or(0);
            return Built {
                bytes: buf[..n].to_vec(),
                entries: 0,
                service: 0,
                refused: 0,
                trailer: Some(t),
            };
        }
        let maxlen = if self.rng.chance(85) {
            self.maxlen
        } else {
            wire::HEADER_V1_LEN
                + wire::ENTRY_V6_LEN
                + self.rng.below((self.maxlen - wire::HEADER_V1_LEN) as u64) as usize
        }
        .min(self.maxlen);
        let target = self.entry_target(at_least_one);
        let trailer = match self.rng.below(10) {
            0..=3 => Some(self.trailer(TrailerKind::Sync)),
            4 => Some(self.trailer(TrailerKind::ResyncRequest)),
            _ => None,
        };
        let reserve = trailer.is_some() && self.rng.chance(70);
        let plans: Vec<Plan> = (0..target).map(|_| self.plan(true)).collect();
        let mut buf = vec![0u8; maxlen];
        let mut built = Built::default();
        let (n, with_trailer) = {
            let Some(mut e) = Encoder::new_v1(&mut buf, self.syncid, maxlen) else {
                return Built::default();
            };
            if reserve {
                e.reserve_trailer();
            }
            built.push_plans(&mut e, &plans, |p| p.refused);
            let before = e.datagram_len();
            let n = e.finish(trailer.as_ref());
            (n, n > before)
        };
        buf.truncate(n);
        Built {
            bytes: buf,
            trailer: trailer.filter(|_| with_trailer),
            ..built
        }
    }

    fn valid_v0(&mut self, at_least_one: bool) -> Built {
        let maxlen = self.maxlen;
        let target = self.entry_target(at_least_one);
        let plans: Vec<Plan> = (0..target).map(|_| self.plan(false)).collect();
        let mut buf = vec![0u8; maxlen];
        let mut built = Built::default();
        let n = {
            let Some(mut e) = Encoder::new_v0(&mut buf, self.syncid, maxlen) else {
                return Built::default();
            };
            // Version 0 carries no PE data: only flags and state refuse.
            built.push_plans(&mut e, &plans, |p| {
                let c = p.c;
                c.flags & cflags::ONE_PACKET != 0
                    || c.flags & (cflags::NO_CPORT | cflags::TEMPLATE)
                        == (cflags::NO_CPORT | cflags::TEMPLATE)
                    || !wire::state_valid(c.protocol, c.state, c.flags & cflags::TEMPLATE != 0)
            });
            e.finish(None)
        };
        buf.truncate(n);
        Built {
            bytes: buf,
            ..built
        }
    }

    // --- mutations ------------------------------------------------------

    fn mutated(&mut self) -> Datagram {
        let is_v1 = self.rng.chance(80);
        let base = if is_v1 {
            self.valid_v1(true)
        } else {
            self.valid_v0(true)
        };
        let n = match self.rng.below(10) {
            0..=5 => 1,
            6..=8 => 2,
            _ => 3,
        };
        let mut muts: Vec<Mutation> = (0..n)
            .map(|_| loop {
                let m = *self.rng.pick(&Mutation::ALL);
                if is_v1 || !m.needs_v1() {
                    break m;
                }
            })
            .collect();
        muts.sort_by_key(|m| m.phase());
        let mut b = base.bytes.clone();
        let mut keep_size = false;
        let mut fixed = false;
        for &m in &muts {
            if m.phase() == 2 && !fixed && !keep_size {
                fix_size(&mut b);
                fixed = true;
            }
            if m.phase() == 0 {
                if is_v1 {
                    self.mutate_entries(m, &mut b);
                } else {
                    self.mutate_v0(m, &mut b);
                }
            } else {
                keep_size |= self.mutate(m, &mut b, is_v1);
            }
        }
        if !fixed && !keep_size {
            fix_size(&mut b);
        }
        Datagram {
            kind: Kind::Mutated,
            mutations: muts,
            bytes: b,
            entries: base.entries,
            service: base.service,
            refused: base.refused,
            trailer: None,
        }
    }

    /// Byte and header mutations; true when the header's size is to be
    /// left as the mutation made it.
    fn mutate(&mut self, m: Mutation, b: &mut Vec<u8>, is_v1: bool) -> bool {
        let r = &mut self.rng;
        let len = b.len();
        let count_at = if is_v1 { 4 } else { 0 };
        match m {
            Mutation::BitFlip => {
                for _ in 0..1 + r.below(8) {
                    if len > 0 {
                        let i = r.below(len as u64) as usize;
                        b[i] ^= 1 << r.below(8);
                    }
                }
            }
            Mutation::ByteSet => {
                for _ in 0..1 + r.below(4) {
                    if len > 0 {
                        let i = r.below(len as u64) as usize;
                        let any = r.next() as u8;
                        b[i] = *r.pick(&[0, 0xff, any]);
                    }
                }
            }
            Mutation::Truncate => {
                let cut = if len > 8 && r.chance(60) {
                    // Inside the entries or the trailer, mostly.
                    len - 1 - r.below((len - 8) as u64) as usize
                } else {
                    r.below(len as u64 + 1) as usize
                };
                b.truncate(cut);
                return r.chance(40);
            }
            Mutation::Extend => {
                let n = 1 + r.below(64) as usize;
                if r.chance(50) {
                    b.resize(len + n, 0);
                } else {
                    b.extend(r.bytes(n));
                }
            }
            Mutation::TooLong => {
                let to = (self.maxlen + 1 + r.below(128) as usize).max(len + 1);
                let fill = r.bytes(to - len);
                b.extend(fill);
            }
            Mutation::HeaderSize => {
                if len >= 4 {
                    let l = len as u16;
                    let any = r.next() as u16;
                    let lie = *r.pick(&[
                        l.wrapping_add(1),
                        l.wrapping_sub(1),
                        l.wrapping_add(4),
                        l.wrapping_sub(4),
                        l ^ 0x100,
                        0,
                        u16::MAX,
                        any,
                    ]);
                    b[2..4].copy_from_slice(&lie.to_be_bytes());
                }
                return true;
            }
            Mutation::HeaderCount => {
                if let Some(c) = b.get_mut(count_at) {
                    *c = match r.below(4) {
                        0 => 0,
                        1 => c.wrapping_sub(1),
                        _ => c.wrapping_add(1 + r.below(3) as u8),
                    };
                }
            }
            Mutation::Count255 => {
                if let Some(c) = b.get_mut(count_at) {
                    *c = 255;
                }
            }
            Mutation::Syncid => {
                if let Some(s) = b.get_mut(1) {
                    *s = self.syncid.wrapping_add(1 + r.below(255) as u8);
                }
            }
            Mutation::Version => {
                if len >= 8 {
                    if is_v1 {
                        match r.below(3) {
                            0 => {
                                b[5] = loop {
                                    let v = r.next() as u8;
                                    if v != wire::SYNC_PROTO_VER {
                                        break v;
                                    }
                                }
                            }
                            1 => b[6 + r.below(2) as usize] = 1 + r.below(255) as u8,
                            _ => b[0] = 1 + r.below(255) as u8,
                        }
                    } else {
                        // A version 0 datagram read as version 1.
                        b[0] = 0;
                        b[5] = wire::SYNC_PROTO_VER;
                        b[6] = 0;
                        b[7] = 0;
                    }
                } else if let Some(c) = b.get_mut(0) {
                    *c ^= 0x80;
                }
            }
            _ => {}
        }
        false
    }

    /// Version 0 entry mutations (only SEQ flags).
    fn mutate_v0(&mut self, m: Mutation, b: &mut [u8]) {
        if m != Mutation::SeqFlag {
            return;
        }
        // Walk the entries; toggle one's SEQ bits: its length changes,
        // and the rest of the datagram is read out of step.
        let count = b.first().copied().unwrap_or(0) as usize;
        let mut at = Vec::new();
        let mut p = wire::HEADER_V0_LEN;
        for _ in 0..count {
            let Some(f) = be16(b, p + 20) else { break };
            at.push(p + 20);
            p += if u32::from(f) & cflags::SEQ_MASK != 0 {
                wire::ENTRY_V0_LEN + wire::SEQ_DATA_LEN
            } else {
                wire::ENTRY_V0_LEN
            };
        }
        if at.is_empty() {
            return;
        }
        let i = at[self.rng.below(at.len() as u64) as usize];
        let bits = *self
            .rng
            .pick(&[cflags::IN_SEQ, cflags::OUT_SEQ, cflags::SEQ_MASK]) as u16;
        b[i] ^= (bits >> 8) as u8;
        b[i + 1] ^= bits as u8;
    }

    /// Version 1 mutations on one entry (or the trailer): split, change,
    /// join (padding, count and size recomputed).
    fn mutate_entries(&mut self, m: Mutation, b: &mut Vec<u8>) {
        let Some(mut d) = V1::split(b) else {
            // Not splittable any more: flip a bit instead.
            if !b.is_empty() {
                let i = self.rng.below(b.len() as u64) as usize;
                b[i] ^= 1;
            }
            return;
        };
        if m == Mutation::Trailer {
            self.break_trailer(&mut d);
            *b = d.join();
            return;
        }
        if d.entries.is_empty() {
            return;
        }
        let i = self.rng.below(d.entries.len() as u64) as usize;
        let r = &mut self.rng;
        let e = &mut d.entries[i];
        let fixed = fixed_len(e);
        let opts = options(e);
        let elen = e.len();
        let opt_at = |r: &mut Rng| -> usize {
            // Before the first option, between two, or at the end.
            let mut cands: Vec<usize> = opts.iter().map(|o| o.0).collect();
            cands.push(e_len_or(fixed, &opts));
            cands[r.below(cands.len() as u64) as usize].min(elen)
        };
        match m {
            Mutation::EntrySize => {
                let len = e.len();
                let size = match r.below(7) {
                    0 => 0,
                    1 => r.below(wire::ENTRY_V4_LEN as u64) as usize,
                    2 => len - 1,
                    3 => len + 1 + r.below(8) as usize,
                    4 => 0x0fff,
                    5 => fixed + 1,
                    _ => r.below(0x1000) as usize,
                } as u16;
                let vs = (be16(e, 2).unwrap_or(0) & 0xf000) | (size & 0x0fff);
                e[2..4].copy_from_slice(&vs.to_be_bytes());
            }
            Mutation::EntryVersion => {
                let vs = be16(e, 2).unwrap_or(0) | ((1 + r.below(15) as u16) << 12);
                e[2..4].copy_from_slice(&vs.to_be_bytes());
            }
            Mutation::EntryType => {
                let any = r.next() as u8;
                e[0] = *r.pick(&[2, 4, 0x80, 0x81, 0xfe, 0xff, e[0] ^ 1, any]);
            }
            Mutation::OptLen => {
                if !opts.is_empty() && r.chance(60) {
                    let (off, _, l) = opts[r.below(opts.len() as u64) as usize];
                    let any = r.next() as u8;
                    e[off + 1] = *r.pick(&[0, l.wrapping_sub(1), l.wrapping_add(1), 255, any]);
                } else {
                    let at = opt_at(r);
                    let o: Vec<u8> = match r.below(4) {
                        // Longer than what is left of the entry.
                        0 => {
                            let mut o = vec![wire::OPT_SEQ_DATA, wire::SEQ_DATA_LEN as u8];
                            let n = r.below(24) as usize;
                            o.extend(r.bytes(n));
                            e.truncate(at);
                            o
                        }
                        // SEQ data of the wrong length.
                        1 => {
                            let l = *r.pick(&[1u8, 12, 23, 25, 48]);
                            let mut o = vec![wire::OPT_SEQ_DATA, l];
                            o.extend(r.bytes(usize::from(l)));
                            o
                        }
                        // A PE name over 16 bytes.
                        2 => {
                            let l = 17 + r.below(40) as u8;
                            let mut o = vec![wire::OPT_PE_NAME, l];
                            o.extend((0..l).map(|_| b'a' + r.below(26) as u8));
                            o
                        }
                        // An option header cut by the entry's end.
                        _ => {
                            e.truncate(at);
                            vec![*r.pick(&[1u8, 2, 3, 0x41, 9])]
                        }
                    };
                    let tail = e.split_off(at.min(e.len()));
                    e.extend(o);
                    e.extend(tail);
                    set_entry_size(e);
                }
            }
            Mutation::ZeroLenOpt => {
                let at = opt_at(r);
                let t = *r.pick(&[1u8, 2, 3, 0x41, 0x42, 0x43, 9, 0x49]);
                insert_at(e, at, &[t, 0]);
                set_entry_size(e);
            }
            Mutation::UnknownMandatory | Mutation::UnknownOptional => {
                let at = opt_at(r);
                let base = 4 + r.below(60) as u8; // 4..=63
                let t = if m == Mutation::UnknownOptional {
                    base | wire::OPT_F_PARAM | if r.chance(20) { 0x80 } else { 0 }
                } else if r.chance(20) {
                    base | 0x80
                } else {
                    base
                };
                let l = 1 + r.below(32) as u8;
                let mut o = vec![t, l];
                o.extend(r.bytes(usize::from(l)));
                insert_at(e, at, &o);
                set_entry_size(e);
            }
            Mutation::DuplicateOpt => {
                let o: Vec<u8> = if let Some(&(off, t, l)) =
                    opts.get(r.below(opts.len().max(1) as u64) as usize)
                {
                    let end = (off + 2 + usize::from(l)).min(e.len());
                    let mut o = e[off..end].to_vec();
                    if r.chance(30) {
                        // The same option with the "skippable" bit.
                        o[0] = t | wire::OPT_F_PARAM;
                    }
                    o
                } else {
                    // No option yet: two SEQ options, or two PE names.
                    let one: Vec<u8> = if r.chance(50) {
                        let mut o = vec![wire::OPT_SEQ_DATA, wire::SEQ_DATA_LEN as u8];
                        o.extend(r.bytes(wire::SEQ_DATA_LEN));
                        o
                    } else {
                        vec![wire::OPT_PE_NAME, 3, b's', b'i', b'p']
                    };
                    [one.clone(), one].concat()
                };
                let at = opt_at(r);
                insert_at(e, at, &o);
                set_entry_size(e);
            }
            _ => {}
        }
        if e.len() > 0x0fff {
            e.truncate(0x0fff);
            set_entry_size(e);
        }
        *b = d.join();
    }

    fn break_trailer(&mut self, d: &mut V1) {
        let r = &mut self.rng;
        if d.tail.len() != wire::TRAILER_LEN {
            let t = RvsTrailer {
                kind: TrailerKind::Sync,
                seq: r.next() as u32,
                sender_id: r.next() as u32,
            };
            d.tail = t.to_bytes().to_vec();
        }
        match r.below(6) {
            0 => d.tail[r.below(4) as usize] ^= 1 << r.below(8),
            1 => d.tail[4] = 2 + r.below(254) as u8,
            // Misaligned: 1 to 3 bytes before it.
            2 => {
                let n = 1 + r.below(3) as usize;
                insert_at(&mut d.tail, 0, &[0, 0, 0][..n]);
            }
            3 => {
                let n = 1 + r.below(16) as usize;
                d.tail.extend(r.bytes(n));
            }
            4 => {
                let n = 1 + r.below(15) as usize;
                d.tail.truncate(n);
            }
            _ => {
                // Two trailers.
                let again = d.tail.clone();
                d.tail.extend(again);
            }
        }
    }
}

fn insert_at(v: &mut Vec<u8>, at: usize, bytes: &[u8]) {
    let at = at.min(v.len());
    let tail = v.split_off(at);
    v.extend_from_slice(bytes);
    v.extend(tail);
}

/// Where the options of an entry end: after the last one that parsed, or
/// after the fixed part.
fn e_len_or(fixed: usize, opts: &[(usize, u8, u8)]) -> usize {
    opts.last()
        .map_or(fixed, |&(off, _, l)| off + 2 + usize::from(l))
}

// ---------------------------------------------------------------------
// Sending

/// A UDP socket sending to the group from one interface.
struct Sender {
    fd: i32,
    to: libc::sockaddr_storage,
    to_len: libc::socklen_t,
}

fn setopt<T>(fd: i32, level: i32, name: i32, v: &T, what: &str) -> Result<(), String> {
    // SAFETY: `v` is valid for its size.
    let r = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (v as *const T).cast(),
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    if r < 0 {
        return Err(format!("{what}: {}", std::io::Error::last_os_error()));
    }
    Ok(())
}

impl Sender {
    fn open(group: IpAddr, port: u16, dev: &str) -> Result<Sender, String> {
        let name = CString::new(dev).map_err(|_| format!("--dev {dev:?}: not a name"))?;
        // SAFETY: A NUL-terminated string.
        let ifindex = unsafe { libc::if_nametoindex(name.as_ptr()) };
        if ifindex == 0 {
            return Err(format!("--dev {dev}: {}", std::io::Error::last_os_error()));
        }
        let af = if group.is_ipv4() {
            libc::AF_INET
        } else {
            libc::AF_INET6
        };
        // SAFETY: Plain syscall.
        let fd = unsafe { libc::socket(af, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
        if fd < 0 {
            return Err(format!("socket: {}", std::io::Error::last_os_error()));
        }
        let mut s = Sender {
            fd,
            to: crate::nl_zeroed(),
            to_len: 0,
        };
        let one: libc::c_int = 1;
        match group {
            IpAddr::V4(g) => {
                let mreq = libc::ip_mreqn {
                    imr_multiaddr: libc::in_addr { s_addr: 0 },
                    imr_address: libc::in_addr { s_addr: 0 },
                    imr_ifindex: ifindex as libc::c_int,
                };
                setopt(
                    fd,
                    libc::IPPROTO_IP,
                    libc::IP_MULTICAST_IF,
                    &mreq,
                    "IP_MULTICAST_IF",
                )?;
                setopt(
                    fd,
                    libc::IPPROTO_IP,
                    libc::IP_MULTICAST_TTL,
                    &one,
                    "IP_MULTICAST_TTL",
                )?;
                let mut sin: libc::sockaddr_in = crate::nl_zeroed();
                sin.sin_family = libc::AF_INET as libc::sa_family_t;
                sin.sin_port = port.to_be();
                sin.sin_addr.s_addr = u32::from_ne_bytes(g.octets());
                // SAFETY: sockaddr_storage is larger than sockaddr_in.
                unsafe { std::ptr::write((&mut s.to as *mut libc::sockaddr_storage).cast(), sin) };
                s.to_len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            }
            IpAddr::V6(g) => {
                let idx = ifindex as libc::c_int;
                setopt(
                    fd,
                    libc::IPPROTO_IPV6,
                    libc::IPV6_MULTICAST_IF,
                    &idx,
                    "IPV6_MULTICAST_IF",
                )?;
                setopt(
                    fd,
                    libc::IPPROTO_IPV6,
                    libc::IPV6_MULTICAST_HOPS,
                    &one,
                    "IPV6_MULTICAST_HOPS",
                )?;
                let mut sin6: libc::sockaddr_in6 = crate::nl_zeroed();
                sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
                sin6.sin6_port = port.to_be();
                sin6.sin6_addr.s6_addr = g.octets();
                sin6.sin6_scope_id = ifindex;
                // SAFETY: sockaddr_storage is larger than sockaddr_in6.
                unsafe { std::ptr::write((&mut s.to as *mut libc::sockaddr_storage).cast(), sin6) };
                s.to_len = std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t;
            }
        }
        Ok(s)
    }

    /// Sends one datagram; the errno when it failed.
    fn send(&self, b: &[u8]) -> Result<(), i32> {
        // SAFETY: `b` and `to` are valid for the call.
        let r = unsafe {
            libc::sendto(
                self.fd,
                b.as_ptr().cast(),
                b.len(),
                0,
                (&self.to as *const libc::sockaddr_storage).cast(),
                self.to_len,
            )
        };
        if r < 0 {
            Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
        } else {
            Ok(())
        }
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        // SAFETY: Our socket.
        unsafe { libc::close(self.fd) };
    }
}

/// What was sent.
#[derive(Default)]
pub struct Tally {
    pub total: u64,
    pub kinds: BTreeMap<Kind, u64>,
    pub mutations: BTreeMap<Mutation, u64>,
    pub entries: u64,
    pub service: u64,
    pub refused: u64,
    pub trailers: u64,
    pub bytes: u64,
    pub errors: BTreeMap<i32, u64>,
}

impl Tally {
    pub fn add(&mut self, d: &Datagram) {
        self.total += 1;
        *self.kinds.entry(d.kind).or_default() += 1;
        for m in &d.mutations {
            *self.mutations.entry(*m).or_default() += 1;
        }
        if matches!(d.kind, Kind::ValidV1 | Kind::ValidV0) {
            self.entries += d.entries as u64;
            self.service += d.service as u64;
            self.refused += d.refused as u64;
            self.trailers += u64::from(d.trailer.is_some());
        }
        self.bytes += d.bytes.len() as u64;
    }

    fn kind(&self, k: Kind) -> u64 {
        self.kinds.get(&k).copied().unwrap_or(0)
    }

    /// `sync-fuzz: N datagrams (R random, V valid v1, W valid v0, M
    /// mutated), seed X; ...`
    pub fn summary(&self, seed: u64) -> String {
        format!(
            "sync-fuzz: {} datagrams ({} random, {} valid v1, {} valid v0, {} mutated), seed {seed}; \
             valid ones carry {} entries ({} for the service, {} refused by design), {} trailers",
            self.total,
            self.kind(Kind::Random),
            self.kind(Kind::ValidV1),
            self.kind(Kind::ValidV0),
            self.kind(Kind::Mutated),
            self.entries,
            self.service,
            self.refused,
            self.trailers,
        )
    }

    pub fn mutation_line(&self) -> String {
        let v: Vec<String> = self
            .mutations
            .iter()
            .map(|(m, n)| format!("{} {n}", m.name()))
            .collect();
        format!("sync-fuzz mutations: {}", v.join(", "))
    }
}

/// `rvsfuzz sync ...`
pub fn run(args: &[String]) -> Result<(), String> {
    let mut group: IpAddr = IpAddr::from(wire::DEFAULT_GROUP4);
    let mut port = wire::DEFAULT_PORT;
    let mut dev: Option<String> = None;
    let (mut count, mut seed, mut syncid, mut rate) = (10_000u64, 1u64, 0u8, 0u64);
    let mut maxlen = DEFAULT_MAXLEN;
    let mut secs: Option<f64> = None;
    let mut opts = Options::new(args);
    while let Some(a) = opts.next_name() {
        match a {
            "--group" => group = opts.parse(a)?,
            "--port" => port = opts.parse(a)?,
            "--dev" => dev = Some(opts.value(a)?),
            "--count" => count = opts.parse(a)?,
            "--seed" => seed = opts.parse(a)?,
            "--syncid" => syncid = opts.parse(a)?,
            "--rate" => rate = opts.parse(a)?,
            "--maxlen" => maxlen = opts.parse(a)?,
            "--secs" => secs = Some(opts.secs(a)?),
            _ => return Err(format!("unknown option {a}")),
        }
    }
    let dev = dev.ok_or("--dev IF is required")?;
    let sock = Sender::open(group, port, &dev)?;
    let mut g = Gen::new(seed, syncid, maxlen);
    let mut t = Tally::default();
    let start = Instant::now();
    for i in 0..count {
        if (rate > 0 || i.is_multiple_of(64))
            && secs.is_some_and(|s| start.elapsed().as_secs_f64() >= s)
        {
            break;
        }
        if let Some(at) = i.saturating_mul(1_000_000_000).checked_div(rate) {
            let due = start + Duration::from_nanos(at);
            if let Some(w) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(w);
            }
        }
        let d = g.datagram();
        if let Err(e) = sock.send(&d.bytes) {
            *t.errors.entry(e).or_default() += 1;
        }
        t.add(&d);
    }
    let el = start.elapsed().as_secs_f64();
    let failed: u64 = t.errors.values().sum();
    let errs: Vec<String> = t
        .errors
        .iter()
        .map(|(e, n)| format!("{} {n}", crate::errno_name(*e)))
        .collect();
    println!("{}", t.mutation_line());
    println!(
        "{}; {} bytes in {el:.1} s ({:.0}/s) to {group}:{port} from {dev}; send errors {failed}{}",
        t.summary(seed),
        t.bytes,
        t.total as f64 / el.max(1e-9),
        if errs.is_empty() {
            String::new()
        } else {
            format!(" ({})", errs.join(", "))
        }
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rvs_core::sync::DropReason;

    fn sample(seed: u64, n: usize) -> Vec<Datagram> {
        let mut g = Gen::new(seed, 0, DEFAULT_MAXLEN);
        (0..n).map(|_| g.datagram()).collect()
    }

    #[test]
    fn deterministic() {
        let a = sample(7, 2000);
        let b = sample(7, 2000);
        assert!(a
            .iter()
            .zip(&b)
            .all(|(x, y)| x.bytes == y.bytes && x.kind == y.kind && x.mutations == y.mutations));
        let c = sample(8, 2000);
        let same = a.iter().zip(&c).filter(|(x, y)| x.bytes == y.bytes).count();
        assert!(same < 50, "seeds 7 and 8 gave {same} equal datagrams");
    }

    #[test]
    fn every_kind_and_mutation() {
        let v = sample(1, 20_000);
        let mut t = Tally::default();
        for d in &v {
            t.add(d);
        }
        for k in Kind::ALL {
            assert!(t.kind(k) > 500, "{k:?}: {}", t.kind(k));
        }
        for m in Mutation::ALL {
            assert!(
                t.mutations.get(&m).copied().unwrap_or(0) > 50,
                "{m:?}: {:?}",
                t.mutations
            );
        }
        assert!(t.service > 1000 && t.refused > 100 && t.trailers > 500);
        assert!(t.summary(1).starts_with("sync-fuzz: 20000 datagrams ("));
        // Random lengths cover 0 to 1600, around the header and maxlen.
        let lens: Vec<usize> = v
            .iter()
            .filter(|d| d.kind == Kind::Random)
            .map(|d| d.bytes.len())
            .collect();
        for want in [0, 4, 8, 1472, 1473, 1600] {
            assert!(lens.contains(&want), "random length {want} never made");
        }
        assert!(lens.iter().all(|&l| l <= MAX_DATAGRAM));
        assert!(lens.iter().any(|&l| l > 100 && l < 1400));
        // Bare resync requests, datagrams with 0 entries and full ones.
        let v1: Vec<&Datagram> = v.iter().filter(|d| d.kind == Kind::ValidV1).collect();
        assert!(v1.iter().any(|d| d.entries == 0
            && d.trailer
                .is_some_and(|t| t.kind == TrailerKind::ResyncRequest)));
        assert!(v1.iter().any(|d| d.entries == 0 && d.trailer.is_none()));
        assert!(v1.iter().any(|d| d.entries >= 30));
        assert!(v1
            .iter()
            .any(|d| d.entries > 0 && d.trailer.is_some_and(|t| t.kind == TrailerKind::Sync)));
    }

    /// Addresses within the generator's ranges (fwmark templates carry
    /// the mark as their virtual address).
    fn in_ranges(c: &SyncConn<'_>) -> bool {
        // (Version 0 loses the mark itself; the address keeps it.)
        let fwm = c.flags & cflags::TEMPLATE != 0 && c.protocol == 0 && c.vport == 0;
        let fwm_ok = |a: &[u8; 16]| (1..=4u32).any(|m| *a == v4(m.to_be_bytes()));
        if c.v6 {
            let ok = |a: &[u8; 16], p: u16, max: u16| {
                let low = u16::from_be_bytes([a[14], a[15]]);
                a[..4] == [0x20, 0x01, 0x0d, 0xb8]
                    && a[4..6] == p.to_be_bytes()
                    && a[6..14].iter().all(|&x| x == 0)
                    && (1..=max).contains(&(low & 0xff))
                    && low >> 8 < 2
            };
            ok(&c.caddr, 0x99, 16)
                && (ok(&c.vaddr, 0x98, 4) || (fwm && fwm_ok(&c.vaddr)))
                && ok(&c.daddr, 0x97, 4)
        } else {
            let tail0 = |a: &[u8; 16]| a[4..].iter().all(|&x| x == 0);
            let ok = |a: &[u8; 16], net: [u8; 3], max: u8| {
                a[..3] == net && (1..=max).contains(&a[3]) && tail0(a)
            };
            (ok(&c.caddr, [10, 99, 0], 16) || ok(&c.caddr, [10, 99, 1], 16))
                && (ok(&c.vaddr, [10, 98, 0], 4) || (fwm && fwm_ok(&c.vaddr)))
                && ok(&c.daddr, [10, 97, 0], 4)
        }
    }

    #[test]
    fn valid_ones_decode() {
        let v = sample(3, 10_000);
        let (mut service, mut bound_tmpl, mut bound_conn, mut v6, mut pe, mut seq) =
            (0, 0, 0, 0, 0, 0);
        for d in v
            .iter()
            .filter(|d| matches!(d.kind, Kind::ValidV1 | Kind::ValidV0))
        {
            assert!(d.bytes.len() <= DEFAULT_MAXLEN);
            let (mut ok, mut bad) = (0, 0);
            let r = wire::decode(&d.bytes, 0, DEFAULT_MAXLEN, |e| match e {
                Ok(c) => {
                    ok += 1;
                    assert!(in_ranges(&c), "{c:?}");
                    if c.protocol == TCP
                        && c.vaddr == v4(SERVICE_VIP)
                        && c.vport == SERVICE_PORT
                        && c.daddr == v4(SERVICE_RS)
                        && c.dport == SERVICE_PORT
                    {
                        service += 1;
                        if c.flags & cflags::TEMPLATE != 0 {
                            bound_tmpl += 1;
                        } else {
                            bound_conn += 1;
                        }
                    }
                    v6 += usize::from(c.v6);
                    pe += usize::from(c.pe_data.is_some());
                    seq += usize::from(c.seq.is_some());
                }
                Err(_) => bad += 1,
            })
            .unwrap_or_else(|e| {
                panic!(
                    "{:?} datagram does not decode: {e:?} {:02x?}",
                    d.kind, d.bytes
                )
            });
            assert_eq!(r.version, if d.kind == Kind::ValidV1 { 1 } else { 0 });
            assert_eq!(r.entries, d.entries);
            assert_eq!(ok + bad, d.entries);
            assert_eq!(bad, d.refused, "{:?}", d.bytes);
            assert_eq!(r.trailer, d.trailer);
        }
        assert!(service > 1000 && bound_tmpl > 100 && bound_conn > 1000);
        assert!(v6 > 500 && pe > 100 && seq > 500);
    }

    #[test]
    fn mutated_ones_differ_and_some_fail() {
        let v = sample(5, 20_000);
        let (mut ok, mut err) = (0, 0);
        let mut reasons = std::collections::BTreeSet::new();
        for d in v.iter().filter(|d| d.kind == Kind::Mutated) {
            assert!(!d.mutations.is_empty());
            assert!(d.bytes.len() <= MAX_DATAGRAM + 200);
            match wire::decode(&d.bytes, 0, DEFAULT_MAXLEN, |_| {}) {
                Ok(_) => ok += 1,
                Err(e) => {
                    err += 1;
                    reasons.insert(format!("{e:?}"));
                }
            }
            if d.mutations == [Mutation::Syncid] {
                let own = d.bytes[1].wrapping_add(1).max(1);
                assert_eq!(
                    wire::decode(&d.bytes, own, DEFAULT_MAXLEN, |_| {}).err(),
                    Some(DropReason::SyncidMismatch)
                );
            }
        }
        assert!(ok > 500 && err > 500, "ok {ok} err {err}");
        for r in ["TooShort", "SizeMismatch", "BadEntry", "TooLong"] {
            assert!(reasons.contains(r), "{r} never: {reasons:?}");
        }
    }

    #[test]
    fn syncid_is_used() {
        // A backup with sync id 9 takes the valid datagrams of a generator
        // told 9, and the syncid mutation makes ones it refuses.
        let mut g = Gen::new(4, 9, DEFAULT_MAXLEN);
        let (mut taken, mut mismatch) = (0, 0);
        for _ in 0..3000 {
            let d = g.datagram();
            let r = wire::decode(&d.bytes, 9, DEFAULT_MAXLEN, |_| {});
            match d.kind {
                Kind::ValidV1 | Kind::ValidV0 => {
                    assert!(r.is_ok());
                    taken += 1;
                }
                Kind::Mutated if d.mutations == [Mutation::Syncid] => {
                    assert_eq!(r.err(), Some(DropReason::SyncidMismatch));
                    mismatch += 1;
                }
                _ => {}
            }
        }
        assert!(taken > 1000 && mismatch > 10, "{taken} {mismatch}");
    }

    #[test]
    fn entry_mutations_change_the_datagram() {
        // Each structural mutation, applied alone, changes the bytes.
        let mut g = Gen::new(11, 0, DEFAULT_MAXLEN);
        let structural: Vec<Mutation> =
            Mutation::ALL.into_iter().filter(|m| m.needs_v1()).collect();
        assert_eq!(structural.len(), 9, "{structural:?}");
        for m in structural {
            let mut changed = 0;
            for _ in 0..50 {
                let b = g.valid_v1(true);
                let mut x = b.bytes.clone();
                g.mutate_entries(m, &mut x);
                changed += usize::from(x != b.bytes);
            }
            assert!(changed >= 40, "{m:?} changed only {changed} of 50");
        }
    }

    #[test]
    fn split_join_round_trip() {
        let mut g = Gen::new(13, 9, DEFAULT_MAXLEN);
        for _ in 0..500 {
            let b = g.valid_v1(false);
            let d = V1::split(&b.bytes).expect("splits");
            assert_eq!(d.join(), b.bytes);
        }
    }
}
