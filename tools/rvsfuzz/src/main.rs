// SPDX-License-Identifier: GPL-2.0
//! rvsfuzz: reliability tools for rvs: its generic netlink interface and
//! its connection-sync daemons.
//!
//!   rvsfuzz fuzz [--family NAME] [--count N] [--seed S] [--jobs J] [--batch B]
//!       Sends N random and mutated requests to the family, driven by the
//!       attribute policy the kernel reports for it (CTRL_CMD_GETPOLICY):
//!       commands at random, attributes of wrong types and lengths, unknown
//!       attributes, nesting too deep, huge attribute counts, truncated
//!       headers. Many requests per send on one socket per job.
//!
//!   rvsfuzz churn --service tcp:VIP:PORT --keep ADDR [--churn ADDR]...
//!                 [--fwd masq|dr|tun] [--rate OPS_PER_S] [--secs S]
//!       Adds, removes and re-weights real servers at a steady rate, each
//!       request waiting for its answer. `--keep` servers are only
//!       re-weighted (never removed); `--churn` servers come and go and are
//!       all removed at the end.
//!
//!   rvsfuzz synflood --dst ADDR [--port P] [--count N] [--secs S] [--seed S]
//!       Sends N TCP SYNs from random spoofed sources (raw socket), as
//!       fast as it can, stopping early after S seconds if given: one
//!       long-lived process, so the flood's rate is the kernel's, not that
//!       of starting processes.
//!
//!   rvsfuzz sync --dev IF [--group 224.0.0.81] [--port 8848] [--count N]
//!                [--secs S] [--seed X] [--syncid N] [--rate R] [--maxlen L]
//!       Sends N connection-sync datagrams (IPVS's wire format) to the sync
//!       group from interface IF, at R a second (0: as fast as it can),
//!       stopping early after S seconds if given: random bytes, valid
//!       version 1 and version 0 datagrams and mutations of valid ones
//!       (see syncfuzz.rs), for a backup daemon to survive.

mod nl;
mod syncfuzz;

use std::collections::BTreeMap;
use std::fmt::Display;
use std::str::FromStr;
use std::time::{Duration, Instant};

use nl::{AttrPolicy, AttrType, Policies, NLA_F_NESTED, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST};

/// xorshift64*: reproducible from `--seed`.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
    fn bytes_upto(&mut self, max: u64) -> Vec<u8> {
        let n = self.below(max) as usize;
        self.bytes(n)
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len() as u64) as usize]
    }
}

const SCHEDS: &[&str] = &[
    "rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos",
    "nosuch", "",
];

struct Gen<'a> {
    rng: Rng,
    pol: &'a Policies,
    maxattr: u32,
}

impl Gen<'_> {
    /// An address from a small pool, so that commands meet the services
    /// and servers earlier ones made.
    fn addr(&mut self, len: usize) -> Vec<u8> {
        let mut a = vec![0u8; len];
        if self.rng.chance(70) {
            a[..4].copy_from_slice(&[10, 99, self.rng.below(2) as u8, 1 + self.rng.below(4) as u8]);
        } else if len == 16 && self.rng.chance(50) {
            a[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
            a[15] = 1 + self.rng.below(3) as u8;
        } else {
            a = self.rng.bytes(len);
        }
        a
    }

    fn u16_value(&mut self) -> u16 {
        match self.rng.below(8) {
            0 => 2,
            1 => 10,
            2 => *self.rng.pick(&[6, 17, 132, 0]),
            3 => 80u16.to_be(),
            4 => 81u16.to_be(),
            5 => 0,
            6 => 0xffff,
            _ => self.rng.next() as u16,
        }
    }

    fn u32_value(&mut self) -> u32 {
        match self.rng.below(8) {
            0 => self.rng.below(4) as u32,
            1 => 1 + self.rng.below(10) as u32,
            2 => u32::MAX,
            3 => 65536,
            4 => 0xffff_ffff_u32.to_be() & self.rng.next() as u32 | 0x00ff_ffff,
            5 => 1 << self.rng.below(32),
            _ => self.rng.next() as u32,
        }
    }

    /// The payload of one attribute of policy `ap`: mostly well formed,
    /// sometimes of the wrong length or huge.
    fn payload(&mut self, ap: &AttrPolicy, depth: u32) -> (bool, Vec<u8>) {
        let r = self.rng.below(100);
        if r >= 92 {
            let n = if r >= 98 {
                100 + self.rng.below(2000) as usize
            } else {
                self.rng.below(25) as usize
            };
            return (self.rng.chance(10), self.rng.bytes(n));
        }
        let v = match ap.ty {
            AttrType::Flag => Vec::new(),
            AttrType::U8 => vec![self.rng.next() as u8],
            AttrType::U16 => self.u16_value().to_ne_bytes().to_vec(),
            AttrType::U32 => self.u32_value().to_ne_bytes().to_vec(),
            AttrType::U64 => self.rng.next().to_ne_bytes().to_vec(),
            AttrType::Binary => match ap.max_len {
                Some(16) => {
                    let l = if self.rng.chance(50) { 4 } else { 16 };
                    self.addr(l)
                }
                Some(8) => {
                    let mut f = (self.rng.below(64) as u32).to_ne_bytes().to_vec();
                    f.extend_from_slice(&u32::MAX.to_ne_bytes());
                    f
                }
                Some(m) => self.rng.bytes_upto(u64::from(m) + 1),
                None => self.rng.bytes_upto(32),
            },
            AttrType::String | AttrType::NulString => {
                let mut s = if self.rng.chance(85) {
                    self.rng.pick(SCHEDS).as_bytes().to_vec()
                } else {
                    let max = u64::from(ap.max_len.unwrap_or(16)) + 4;
                    (0..self.rng.below(max))
                        .map(|_| b'a' + self.rng.below(26) as u8)
                        .collect()
                };
                if self.rng.chance(95) {
                    s.push(0);
                }
                s
            }
            AttrType::Nested => {
                let idx = ap.nested.unwrap_or(0);
                return (self.rng.chance(95), self.attrs(idx, depth + 1));
            }
            AttrType::Other(_) => self.rng.bytes_upto(16),
        };
        (false, v)
    }

    /// Nested attributes `depth` levels deep, far past any policy.
    fn too_deep(&mut self, levels: u32) -> Vec<u8> {
        let mut inner = Vec::new();
        nl::put_attr(&mut inner, 1 + self.rng.below(4) as u16, &self.rng.bytes(4));
        for _ in 0..levels {
            let mut outer = Vec::new();
            nl::put_attr(
                &mut outer,
                (1 + self.rng.below(3) as u16) | NLA_F_NESTED,
                &inner,
            );
            inner = outer;
        }
        inner
    }

    /// A set of attributes for policy `idx`.
    fn attrs(&mut self, idx: u32, depth: u32) -> Vec<u8> {
        let mut out = Vec::new();
        let pol: &[AttrPolicy] = self
            .pol
            .policies
            .get(idx as usize)
            .map_or(&[], |v| v.as_slice());
        let count = match self.rng.below(200) {
            0 => 200 + self.rng.below(3000),
            1..=10 => 8 + self.rng.below(24),
            _ => self.rng.below(7),
        };
        for _ in 0..count {
            if out.len() > 60_000 {
                break;
            }
            let r = self.rng.below(100);
            if r < 2 && depth < 4 {
                let levels = 2 + self.rng.below(30) as u32;
                let deep = self.too_deep(levels);
                nl::put_attr(
                    &mut out,
                    (1 + self.rng.below(3) as u16) | NLA_F_NESTED,
                    &deep,
                );
                continue;
            }
            if r < 12 || pol.is_empty() {
                // Unknown or rejected type, or one with random flag bits.
                let kind = if self.rng.chance(70) {
                    self.rng.below(u64::from(self.maxattr) + 5) as u16
                } else {
                    self.rng.next() as u16
                };
                let n = self.rng.below(24) as usize;
                nl::put_attr(&mut out, kind, &self.rng.bytes(n));
                continue;
            }
            let ap = pol[self.rng.below(pol.len() as u64) as usize].clone();
            if depth > 6 {
                break;
            }
            let (nested, v) = self.payload(&ap, depth);
            let kind = if nested {
                ap.kind | NLA_F_NESTED
            } else {
                ap.kind
            };
            nl::put_attr(&mut out, kind, &v);
        }
        out
    }

    /// Breaks a well-formed message: bit flips or a bad attribute length.
    fn mutate(&mut self, m: &mut [u8]) {
        if m.len() <= 20 {
            return;
        }
        for _ in 0..1 + self.rng.below(4) {
            let i = 20 + self.rng.below((m.len() - 20) as u64) as usize;
            if self.rng.chance(50) {
                m[i] ^= 1 << self.rng.below(8);
            } else {
                m[i] = self.rng.next() as u8;
            }
        }
    }
}

#[derive(Default)]
struct Tally {
    sent: u64,
    acks: u64,
    errors: BTreeMap<i32, u64>,
    extack: u64,
    dumps: u64,
    overruns: u64,
}

impl Tally {
    fn add(&mut self, o: &Tally) {
        self.sent += o.sent;
        self.acks += o.acks;
        self.extack += o.extack;
        self.dumps += o.dumps;
        self.overruns += o.overruns;
        for (k, v) in &o.errors {
            *self.errors.entry(*k).or_default() += v;
        }
    }
}

fn drain(sock: &mut nl::Socket, t: &mut Tally) {
    loop {
        match sock.recv(false) {
            Ok(Some(rs)) => {
                for r in rs {
                    match r.error() {
                        Some(0) => t.acks += 1,
                        Some(e) => {
                            *t.errors.entry(-e).or_default() += 1;
                            // Extack TLVs follow the error and the (capped)
                            // request header.
                            if r.payload.len() > 20 {
                                t.extack += 1;
                            }
                        }
                        None if r.ty == nl::NLMSG_DONE => t.dumps += 1,
                        None => {}
                    }
                }
            }
            Ok(None) => return,
            Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => t.overruns += 1,
            Err(e) => {
                eprintln!("rvsfuzz: recv: {e}");
                return;
            }
        }
    }
}

fn fuzz_job(
    family: &str,
    count: u64,
    seed: u64,
    batch: usize,
    job: usize,
    progress: bool,
) -> Result<Tally, String> {
    let mut sock = nl::Socket::open().map_err(|e| format!("socket: {e}"))?;
    let fam = sock
        .family(family)
        .map_err(|e| format!("family {family}: {e}"))?;
    let pol = sock
        .policies(fam.id)
        .map_err(|e| format!("policy of {family}: {e}"))?;
    let ops: Vec<(u8, u32)> = fam.ops.clone();
    let mut g = Gen {
        rng: Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1),
        pol: &pol,
        maxattr: fam.maxattr,
    };
    let mut t = Tally::default();
    let mut seq = 1u32;
    let flush_cmd = 17u8;
    let start = Instant::now();
    let mut next_report = 100_000u64;
    while t.sent < count {
        let mut buf = Vec::new();
        let mut n = 0u64;
        while n < batch as u64 && t.sent + n < count && buf.len() < 200_000 {
            seq = seq.wrapping_add(1);
            // Keep the tables small: a flush now and then.
            if seq.is_multiple_of(2000) {
                buf.extend(nl::message(
                    fam.id,
                    NLM_F_REQUEST | NLM_F_ACK,
                    seq,
                    flush_cmd,
                    1,
                    &[],
                ));
                n += 1;
                continue;
            }
            let (cmd, cflags) = if g.rng.chance(90) && !ops.is_empty() {
                *g.rng.pick(&ops)
            } else {
                (g.rng.next() as u8, 0)
            };
            let mut flags = NLM_F_REQUEST;
            if g.rng.chance(70) {
                flags |= NLM_F_ACK;
            }
            if (cflags & nl::GENL_CMD_CAP_DUMP != 0 && g.rng.chance(60)) || g.rng.chance(3) {
                flags |= NLM_F_DUMP;
            }
            if g.rng.chance(1) {
                flags = g.rng.next() as u16;
            }
            let version = if g.rng.chance(95) {
                1
            } else {
                g.rng.next() as u8
            };
            let a = g.attrs(0, 0);
            let mut m = nl::message(fam.id, flags, seq, cmd, version, &a);
            if g.rng.chance(8) {
                g.mutate(&mut m);
            }
            buf.extend(m);
            n += 1;
        }
        // Now and then the batch ends in a truncated message: a netlink
        // header that claims more than is there, or a genl header cut short.
        if g.rng.chance(5) && t.sent + n < count {
            seq = seq.wrapping_add(1);
            let a = g.attrs(0, 0);
            let mut m = nl::message(
                fam.id,
                NLM_F_REQUEST | NLM_F_ACK,
                seq,
                g.rng.pick(&ops).0,
                1,
                &a,
            );
            match g.rng.below(3) {
                0 => {
                    let cut = g.rng.below(m.len() as u64) as usize;
                    m.truncate(cut);
                }
                1 => {
                    let claim = 16 + g.rng.below(4) as u32;
                    m[..4].copy_from_slice(&claim.to_ne_bytes());
                    m.truncate(claim as usize);
                }
                _ => {
                    let claim = m.len() as u32 + 1 + g.rng.below(1000) as u32;
                    m[..4].copy_from_slice(&claim.to_ne_bytes());
                }
            }
            buf.extend(m);
            n += 1;
        }
        match sock.send(&buf) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => t.overruns += 1,
            // A whole datagram refused (e.g. EINVAL for a short one) counts.
            Err(e) => {
                *t.errors
                    .entry(e.raw_os_error().unwrap_or(0) + 10000)
                    .or_default() += 1
            }
        }
        t.sent += n;
        drain(&mut sock, &mut t);
        if progress && t.sent >= next_report {
            eprintln!(
                "rvsfuzz[{job}]: {} messages, {:.0}/s",
                t.sent,
                t.sent as f64 / start.elapsed().as_secs_f64()
            );
            next_report += 100_000;
        }
    }
    Ok(t)
}

fn errno_name(e: i32) -> String {
    let names = [
        (1, "EPERM"),
        (2, "ENOENT"),
        (3, "ESRCH"),
        (7, "E2BIG"),
        (12, "ENOMEM"),
        (16, "EBUSY"),
        (17, "EEXIST"),
        (22, "EINVAL"),
        (34, "ERANGE"),
        (71, "EPROTO"),
        (75, "EOVERFLOW"),
        (90, "EMSGSIZE"),
        (93, "EPROTONOSUPPORT"),
        (95, "EOPNOTSUPP"),
        (97, "EAFNOSUPPORT"),
        (101, "ENETUNREACH"),
        (105, "ENOBUFS"),
        (111, "ECONNREFUSED"),
        (113, "EHOSTUNREACH"),
    ];
    if e > 10000 {
        return format!("send:{}", errno_name(e - 10000));
    }
    names
        .iter()
        .find(|(n, _)| *n == e)
        .map_or(format!("errno{e}"), |(_, s)| (*s).to_string())
}

/// A subcommand's arguments: `--name value` options, each value read as
/// the option needs it.
struct Options<'a> {
    args: std::slice::Iter<'a, String>,
}

impl<'a> Options<'a> {
    fn new(args: &'a [String]) -> Self {
        Options { args: args.iter() }
    }

    /// The next option's name.
    fn next_name(&mut self) -> Option<&'a str> {
        self.args.next().map(String::as_str)
    }

    /// The value after option `name`.
    fn value(&mut self, name: &str) -> Result<String, String> {
        self.args
            .next()
            .cloned()
            .ok_or(format!("{name} needs a value"))
    }

    /// The value after option `name`, parsed.
    fn parse<T: FromStr>(&mut self, name: &str) -> Result<T, String>
    where
        T::Err: Display,
    {
        self.value(name)?
            .parse()
            .map_err(|e| format!("{name}: {e}"))
    }

    /// The value after option `name`: a duration in seconds.
    fn secs(&mut self, name: &str) -> Result<f64, String> {
        let v: f64 = self.parse(name)?;
        if !(v.is_finite() && v >= 0.0) {
            return Err(format!("{name}: not a duration"));
        }
        Ok(v)
    }
}

fn fuzz(args: &[String]) -> Result<(), String> {
    let mut family = "rvs".to_string();
    let (mut count, mut seed, mut jobs, mut batch) = (100_000u64, 1u64, 1usize, 32usize);
    let mut opts = Options::new(args);
    while let Some(a) = opts.next_name() {
        match a {
            "--family" => family = opts.value(a)?,
            "--count" => count = opts.parse(a)?,
            "--seed" => seed = opts.parse(a)?,
            "--jobs" => jobs = opts.parse(a)?,
            "--batch" => batch = opts.parse(a)?,
            _ => return Err(format!("unknown option {a}")),
        }
    }
    let jobs = jobs.max(1);
    {
        let mut s = nl::Socket::open().map_err(|e| format!("socket: {e}"))?;
        let fam = s
            .family(&family)
            .map_err(|e| format!("family {family}: {e}"))?;
        let pol = s.policies(fam.id).map_err(|e| format!("policy: {e}"))?;
        let n: usize = pol.policies.iter().map(Vec::len).sum();
        println!(
            "rvsfuzz: family {family} id {} maxattr {}, {} commands, {} policies with {} attribute types; seed {seed}, {jobs} jobs",
            fam.id,
            fam.maxattr,
            fam.ops.len(),
            pol.policies.len(),
            n
        );
    }
    let start = Instant::now();
    let per = count / jobs as u64;
    let handles: Vec<_> = (0..jobs)
        .map(|j| {
            let family = family.clone();
            let n = if j == 0 {
                count - per * (jobs as u64 - 1)
            } else {
                per
            };
            std::thread::spawn(move || fuzz_job(&family, n, seed + j as u64, batch, j, j == 0))
        })
        .collect();
    let mut total = Tally::default();
    for h in handles {
        let t = h.join().map_err(|_| "a job panicked".to_string())??;
        total.add(&t);
    }
    let secs = start.elapsed().as_secs_f64();
    let errs: Vec<String> = total
        .errors
        .iter()
        .map(|(e, n)| format!("{} {n}", errno_name(*e)))
        .collect();
    println!(
        "rvsfuzz: sent {} messages in {:.1} s ({:.0}/s); acks {}, errors {} ({}), with extack {}, dumps done {}, receive overruns {}",
        total.sent,
        secs,
        total.sent as f64 / secs,
        total.acks,
        total.errors.values().sum::<u64>(),
        errs.join(", "),
        total.extack,
        total.dumps,
        total.overruns
    );
    Ok(())
}

// --- churn ---

fn parse_v4(s: &str) -> Result<[u8; 4], String> {
    s.parse::<std::net::Ipv4Addr>()
        .map(|a| a.octets())
        .map_err(|e| format!("{s}: {e}"))
}

struct Churn {
    sock: nl::Socket,
    fam: u16,
    svc: Vec<u8>,
    port: u16,
    fwd: u32,
    seq: u32,
}

impl Churn {
    fn dest(&mut self, cmd: u8, addr: [u8; 4], weight: Option<u32>) -> Result<Duration, String> {
        let mut d = Vec::new();
        let mut a16 = [0u8; 16];
        a16[..4].copy_from_slice(&addr);
        nl::put_attr(&mut d, 1, &a16);
        nl::put_attr(&mut d, 2, &self.port.to_be_bytes());
        nl::put_attr(&mut d, 11, &2u16.to_ne_bytes());
        if let Some(w) = weight {
            nl::put_attr(&mut d, 3, &self.fwd.to_ne_bytes());
            nl::put_attr(&mut d, 4, &w.to_ne_bytes());
            nl::put_attr(&mut d, 5, &0u32.to_ne_bytes());
            nl::put_attr(&mut d, 6, &0u32.to_ne_bytes());
        }
        let mut attrs = Vec::new();
        nl::put_attr(&mut attrs, 1 | NLA_F_NESTED, &self.svc);
        nl::put_attr(&mut attrs, 2 | NLA_F_NESTED, &d);
        self.seq += 1;
        let m = nl::message(
            self.fam,
            NLM_F_REQUEST | NLM_F_ACK,
            self.seq,
            cmd,
            1,
            &attrs,
        );
        let t0 = Instant::now();
        let (e, _) = self.sock.request(&m).map_err(|e| format!("netlink: {e}"))?;
        if e != 0 {
            return Err(format!("command {cmd} for {:?}: {}", addr, errno_name(-e)));
        }
        Ok(t0.elapsed())
    }
}

fn churn(args: &[String]) -> Result<(), String> {
    let mut family = "rvs".to_string();
    let (mut service, mut keep, mut churned) = (String::new(), Vec::new(), Vec::new());
    let (mut fwd, mut rate, mut secs, mut seed) = (0u32, 100u64, 60u64, 1u64);
    let mut opts = Options::new(args);
    while let Some(a) = opts.next_name() {
        match a {
            "--family" => family = opts.value(a)?,
            "--service" => service = opts.value(a)?,
            "--keep" => keep.push(parse_v4(&opts.value(a)?)?),
            "--churn" => churned.push(parse_v4(&opts.value(a)?)?),
            "--fwd" => {
                fwd = match opts.value(a)?.as_str() {
                    "masq" => 0,
                    "tun" => 2,
                    "dr" => 3,
                    o => return Err(format!("--fwd {o}: masq, dr or tun")),
                }
            }
            "--rate" => rate = opts.parse(a)?,
            "--secs" => secs = opts.parse(a)?,
            "--seed" => seed = opts.parse(a)?,
            _ => return Err(format!("unknown option {a}")),
        }
    }
    let parts: Vec<&str> = service.split(':').collect();
    let [proto, vip, port] = parts[..] else {
        return Err("--service tcp|udp:VIP:PORT".into());
    };
    let proto: u16 = if proto == "udp" { 17 } else { 6 };
    let port: u16 = port.parse().map_err(|e| format!("port: {e}"))?;
    let mut svc = Vec::new();
    let mut v16 = [0u8; 16];
    v16[..4].copy_from_slice(&parse_v4(vip)?);
    nl::put_attr(&mut svc, 1, &2u16.to_ne_bytes());
    nl::put_attr(&mut svc, 2, &proto.to_ne_bytes());
    nl::put_attr(&mut svc, 3, &v16);
    nl::put_attr(&mut svc, 4, &port.to_be_bytes());
    let mut sock = nl::Socket::open().map_err(|e| format!("socket: {e}"))?;
    let fam = sock
        .family(&family)
        .map_err(|e| format!("family {family}: {e}"))?;
    let mut c = Churn {
        sock,
        fam: fam.id,
        svc,
        port,
        fwd,
        seq: 1,
    };
    let mut rng = Rng(seed | 1);
    let mut present = vec![false; churned.len()];
    let (mut adds, mut dels, mut edits) = (0u64, 0u64, 0u64);
    let mut worst = Duration::ZERO;
    let start = Instant::now();
    let total = rate * secs;
    for i in 0..total {
        let due = start + Duration::from_micros(i * 1_000_000 / rate.max(1));
        if let Some(w) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(w);
        }
        let w = 1 + rng.below(10) as u32;
        let took = if churned.is_empty() || rng.chance(30) {
            edits += 1;
            let a = *rng.pick(&keep);
            c.dest(6, a, Some(w))?
        } else {
            let k = rng.below(churned.len() as u64) as usize;
            if !present[k] {
                present[k] = true;
                adds += 1;
                c.dest(5, churned[k], Some(w))?
            } else if rng.chance(50) {
                present[k] = false;
                dels += 1;
                c.dest(7, churned[k], None)?
            } else {
                edits += 1;
                c.dest(6, churned[k], Some(w))?
            }
        };
        worst = worst.max(took);
    }
    for (k, p) in present.iter().enumerate() {
        if *p {
            dels += 1;
            c.dest(7, churned[k], None)?;
        }
    }
    let el = start.elapsed().as_secs_f64();
    println!(
        "rvsfuzz churn: {} operations in {:.1} s ({:.0}/s): {adds} adds, {dels} deletes, {edits} weight changes; slowest answer {:.1} ms; 0 failed",
        adds + dels + edits,
        el,
        (adds + dels + edits) as f64 / el,
        worst.as_secs_f64() * 1000.0
    );
    Ok(())
}

// --- synflood ---

fn csum_add(mut sum: u32, b: &[u8]) -> u32 {
    for c in b.chunks(2) {
        let w = if c.len() == 2 {
            u16::from_be_bytes([c[0], c[1]])
        } else {
            u16::from(c[0]) << 8
        };
        sum += u32::from(w);
    }
    sum
}

fn csum_fold(mut sum: u32) -> u16 {
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Sends COUNT TCP SYNs from random spoofed sources to DST:PORT through a
/// raw socket, as fast as it can; prints how many and how fast.
fn synflood(args: &[String]) -> Result<(), String> {
    let (mut dst, mut port, mut count, mut seed) = ([0u8; 4], 80u16, 10_000u64, 1u64);
    let mut secs: Option<f64> = None;
    let mut opts = Options::new(args);
    while let Some(a) = opts.next_name() {
        match a {
            "--dst" => dst = parse_v4(&opts.value(a)?)?,
            "--port" => port = opts.parse(a)?,
            "--count" => count = opts.parse(a)?,
            "--seed" => seed = opts.parse(a)?,
            "--secs" => secs = Some(opts.secs(a)?),
            _ => return Err(format!("unknown option {a}")),
        }
    }
    // SAFETY: Plain syscall.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_RAW) };
    if fd < 0 {
        return Err(format!("raw socket: {}", std::io::Error::last_os_error()));
    }
    let mut rng = Rng(seed | 1);
    let mut to: libc::sockaddr_in = nl_zeroed();
    to.sin_family = libc::AF_INET as u16;
    to.sin_addr.s_addr = u32::from_ne_bytes(dst);
    let start = Instant::now();
    let (mut sent, mut failed) = (0u64, 0u64);
    for i in 0..count {
        // The clock is read every 64 SYNs: cheap, and at most 64 late.
        if i.is_multiple_of(64) && secs.is_some_and(|s| start.elapsed().as_secs_f64() >= s) {
            break;
        }
        // A random unicast source outside 0/8, 127/8 and 224/3.
        let src = loop {
            let a = (rng.next() as u32).to_be_bytes();
            if a[0] != 0 && a[0] != 127 && a[0] < 224 && a[..3] != dst[..3] {
                break a;
            }
        };
        let sport = 1024 + rng.below(64000) as u16;
        let mut p = [0u8; 40];
        p[0] = 0x45;
        p[2..4].copy_from_slice(&40u16.to_be_bytes());
        p[6] = 0x40; // DF
        p[8] = 64;
        p[9] = 6;
        p[12..16].copy_from_slice(&src);
        p[16..20].copy_from_slice(&dst);
        let t = &mut p[20..];
        t[0..2].copy_from_slice(&sport.to_be_bytes());
        t[2..4].copy_from_slice(&port.to_be_bytes());
        t[4..8].copy_from_slice(&(rng.next() as u32).to_be_bytes());
        t[12] = 5 << 4;
        t[13] = 0x02; // SYN
        t[14..16].copy_from_slice(&64240u16.to_be_bytes());
        let mut sum = csum_add(0, &src);
        sum = csum_add(sum, &dst);
        sum += 6 + 20;
        sum = csum_add(sum, &p[20..]);
        let c = csum_fold(sum);
        p[36..38].copy_from_slice(&c.to_be_bytes());
        // SAFETY: `p` and `to` are valid for the call.
        let r = unsafe {
            libc::sendto(
                fd,
                p.as_ptr().cast(),
                p.len(),
                0,
                (&to as *const libc::sockaddr_in).cast(),
                std::mem::size_of::<libc::sockaddr_in>() as u32,
            )
        };
        if r < 0 {
            failed += 1;
        } else {
            sent += 1;
        }
    }
    // SAFETY: Our socket.
    unsafe { libc::close(fd) };
    let el = start.elapsed().as_secs_f64();
    println!(
        "rvsfuzz synflood: {sent} SYNs sent in {el:.1} s ({:.0}/s), {failed} failed",
        sent as f64 / el
    );
    Ok(())
}

fn nl_zeroed<T>() -> T {
    // SAFETY: Only used for plain C structs (sockaddr_in), valid all-zero.
    unsafe { std::mem::zeroed() }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let r = match args.get(1).map(String::as_str) {
        Some("fuzz") => fuzz(&args[2..]),
        Some("churn") => churn(&args[2..]),
        Some("synflood") => synflood(&args[2..]),
        Some("sync") => syncfuzz::run(&args[2..]),
        _ => Err("usage: rvsfuzz fuzz [--family NAME] [--count N] [--seed S] [--jobs J] [--batch B]\n       rvsfuzz churn --service tcp:VIP:PORT --keep ADDR [--churn ADDR]... [--fwd masq|dr|tun] [--rate N] [--secs S]\n       rvsfuzz synflood --dst ADDR [--port P] [--count N] [--secs S] [--seed S]\n       rvsfuzz sync --dev IF [--group ADDR] [--port P] [--count N] [--secs S] [--seed X] [--syncid N] [--rate R] [--maxlen L]".into()),
    };
    if let Err(e) = r {
        eprintln!("rvsfuzz: {e}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::Options;

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn options_read_values_and_name_the_bad_one() {
        let a = args(&["--count", "7", "--secs", "1.5", "--dev"]);
        let mut o = Options::new(&a);
        assert_eq!(o.next_name(), Some("--count"));
        assert_eq!(o.parse::<u64>("--count"), Ok(7));
        assert_eq!(o.next_name(), Some("--secs"));
        assert_eq!(o.secs("--secs"), Ok(1.5));
        assert_eq!(o.next_name(), Some("--dev"));
        assert_eq!(o.value("--dev"), Err("--dev needs a value".into()));
        assert_eq!(o.next_name(), None);

        let a = args(&["x", "-1", "inf"]);
        let mut o = Options::new(&a);
        assert_eq!(
            o.parse::<u16>("--port"),
            Err("--port: invalid digit found in string".into())
        );
        assert_eq!(o.secs("--secs"), Err("--secs: not a duration".into()));
        assert_eq!(o.secs("--secs"), Err("--secs: not a duration".into()));
    }
}
