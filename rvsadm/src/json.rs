//! `--json` output of `rvsadm` (an rvsadm extension; ipvsadm has none).
//!
//! Every listing ipvsadm can print (`-L`/`-l` for the whole table or one
//! service, `-Lc`, `-L --timeout`, `-L --daemon`, and `-S`) has a JSON
//! form here.  Each function returns one complete JSON document on a
//! single line, ending with a newline.  The JSON is written by hand (std
//! only): compact, keys always present and always in the order documented
//! below, strings escaped per RFC 8259.
//!
//! Conventions:
//! * Addresses are numeric (`inet_ntop` text, IPv6 without brackets) and
//!   ports are numbers; `-n` makes no difference and no names are looked
//!   up.
//! * Counters and rates are always included (`--stats`, `--rate`,
//!   `--exact`, `--thresholds`, `--persistent-conn` and `--tun-info` do not
//!   change the JSON).
//! * Services and real servers are printed in the order given (the
//!   kernel's order when the caller passes what the kernel returned): no
//!   sorting, whether or not `--nosort` was given.  ipvsadm's sort order
//!   (libipvs' wrapping comparators) is an artefact of its text output that
//!   JSON consumers should not depend on.
//! * A value that does not apply is `null` (never omitted), e.g. the
//!   address of a fwmark service or the netmask of a non-persistent one.
//!
//! Service object keys, in order: `protocol` ("TCP"/"UDP"/"SCTP"; "?" for
//! an unknown number, as ipvsadm prints it; null for fwmark services),
//! `fwmark` (number, null for address services), `af` ("inet"/"inet6"),
//! `address` (null for fwmark), `port` (null for fwmark), `scheduler`,
//! `flags` (array: "persistent", "ops", then the scheduler flags as
//! ipvsadm names them: "sh-fallback", "sh-port", "mh-fallback", "mh-port",
//! "flag-1", ...), `persistent_timeout` (seconds, null when not
//! persistent), `netmask` (persistence granularity when persistent: dotted
//! string for IPv4, prefix length number for IPv6; else null),
//! `persistence_engine` (string or null), `stats`, `rates`,
//! `real_servers`.
//!
//! Real server keys: `address`, `port`, `forward` ("Masq"/"Route"/
//! "Tunnel"/"Local", null for an unknown method), `weight`,
//! `active_conns`, `inactive_conns`, `persistent_conns`,
//! `upper_threshold`, `lower_threshold`, `tunnel` (null unless forward is
//! Tunnel, else `{"type","port","checksum"}`: type "ipip"/"gue"/"gre";
//! port for gue only; checksum "nocsum"/"csum"/"remcsum" for gue and gre;
//! null where it does not apply or is unknown), `stats`, `rates`.
//!
//! `stats` is `{"conns","inpkts","outpkts","inbytes","outbytes"}` and
//! `rates` is `{"cps","inpps","outpps","inbps","outbps"}` (the 64-bit
//! counters).

use std::net::{IpAddr, Ipv4Addr};

use crate::addr;
use crate::format;
use crate::model::{
    self, AddressFamily, Conn, Daemon, Dest, FwdMethod, Info, Service, Stats, SyncCounters,
    Timeouts,
};

// ---------------------------------------------------------------------------
// A minimal JSON value and writer
// ---------------------------------------------------------------------------

/// A JSON value.  Objects keep their keys in insertion order, which is what
/// makes the output stable.
enum Json {
    Null,
    UInt(u64),
    Int(i64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(&'static str, Json)>),
}

impl Json {
    fn str(s: &str) -> Json {
        Json::Str(s.to_string())
    }

    fn opt_str(s: Option<&str>) -> Json {
        s.map_or(Json::Null, Json::str)
    }

    fn opt_uint(v: Option<u64>) -> Json {
        v.map_or(Json::Null, Json::UInt)
    }

    fn write(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::UInt(n) => out.push_str(&n.to_string()),
            Json::Int(n) => out.push_str(&n.to_string()),
            Json::Str(s) => write_str(s, out),
            Json::Arr(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    v.write(out);
                }
                out.push(']');
            }
            Json::Obj(members) => {
                out.push('{');
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_str(k, out);
                    out.push(':');
                    v.write(out);
                }
                out.push('}');
            }
        }
    }

    /// The value as a document: its text followed by a newline.
    fn document(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out.push('\n');
        out
    }
}

/// Append `s` as a JSON string literal.  `"` and `\` are escaped, control
/// characters use the short escapes where JSON has them and `\u00XX`
/// otherwise; U+2028/U+2029 are escaped too (valid JSON, but not valid in
/// JavaScript source).  Everything else is copied as UTF-8.
fn write_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || c == '\u{7f}' || c == '\u{2028}' || c == '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

// ---------------------------------------------------------------------------
// Pieces
// ---------------------------------------------------------------------------

fn af_name(af: AddressFamily) -> &'static str {
    match af {
        AddressFamily::Inet => "inet",
        AddressFamily::Inet6 => "inet6",
    }
}

fn addr_text(addr: &IpAddr) -> Json {
    Json::Str(addr::inet_ntop(addr))
}

fn stats_value(s: &Stats) -> Json {
    Json::Obj(vec![
        ("conns", Json::UInt(s.conns)),
        ("inpkts", Json::UInt(s.inpkts)),
        ("outpkts", Json::UInt(s.outpkts)),
        ("inbytes", Json::UInt(s.inbytes)),
        ("outbytes", Json::UInt(s.outbytes)),
    ])
}

fn rates_value(s: &Stats) -> Json {
    Json::Obj(vec![
        ("cps", Json::UInt(s.cps)),
        ("inpps", Json::UInt(s.inpps)),
        ("outpps", Json::UInt(s.outpps)),
        ("inbps", Json::UInt(s.inbps)),
        ("outbps", Json::UInt(s.outbps)),
    ])
}

/// "persistent", "ops", then the scheduler flags with ipvsadm's names
/// (`format::sched_flags_text`, which also decides which bits mean what for
/// the service's scheduler).
fn service_flags(svc: &Service) -> Vec<Json> {
    let mut v = Vec::new();
    if svc.is_persistent() {
        v.push(Json::str("persistent"));
    }
    if svc.is_one_packet() {
        v.push(Json::str("ops"));
    }
    for f in format::sched_flags_text(svc).split(',') {
        if !f.is_empty() {
            v.push(Json::str(f));
        }
    }
    v
}

fn service_value(svc: &Service, dests: &[Dest]) -> Json {
    let fwm = svc.fwmark != 0;
    let netmask = if !svc.is_persistent() {
        Json::Null
    } else {
        match svc.af {
            AddressFamily::Inet => Json::Str(Ipv4Addr::from(svc.netmask).to_string()),
            AddressFamily::Inet6 => Json::UInt(svc.netmask as u64),
        }
    };
    Json::Obj(vec![
        (
            "protocol",
            if fwm {
                Json::Null
            } else {
                Json::str(svc.protocol.display_name())
            },
        ),
        (
            "fwmark",
            if fwm {
                Json::UInt(svc.fwmark as u64)
            } else {
                Json::Null
            },
        ),
        ("af", Json::str(af_name(svc.af))),
        (
            "address",
            if fwm {
                Json::Null
            } else {
                addr_text(&svc.addr)
            },
        ),
        (
            "port",
            if fwm {
                Json::Null
            } else {
                Json::UInt(svc.port as u64)
            },
        ),
        ("scheduler", Json::str(&svc.sched_name)),
        ("flags", Json::Arr(service_flags(svc))),
        (
            "persistent_timeout",
            Json::opt_uint(svc.is_persistent().then_some(svc.timeout as u64)),
        ),
        ("netmask", netmask),
        (
            "persistence_engine",
            Json::opt_str(Some(svc.pe_name.as_str()).filter(|s| !s.is_empty())),
        ),
        ("stats", stats_value(&svc.stats)),
        ("rates", rates_value(&svc.stats)),
        (
            "real_servers",
            Json::Arr(dests.iter().map(dest_value).collect()),
        ),
    ])
}

fn tunnel_value(d: &Dest) -> Json {
    if d.fwd_method != FwdMethod::Tunnel {
        return Json::Null;
    }
    let checksum = || {
        Json::opt_str(match d.tun_flags {
            model::IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM => Some("nocsum"),
            model::IP_VS_TUNNEL_ENCAP_FLAG_CSUM => Some("csum"),
            model::IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM => Some("remcsum"),
            _ => None,
        })
    };
    let (kind, port, csum) = match d.tun_type {
        model::IP_VS_CONN_F_TUNNEL_TYPE_IPIP => (Json::str("ipip"), Json::Null, Json::Null),
        model::IP_VS_CONN_F_TUNNEL_TYPE_GUE => {
            (Json::str("gue"), Json::UInt(d.tun_port as u64), checksum())
        }
        model::IP_VS_CONN_F_TUNNEL_TYPE_GRE => (Json::str("gre"), Json::Null, checksum()),
        _ => (Json::Null, Json::Null, Json::Null),
    };
    Json::Obj(vec![("type", kind), ("port", port), ("checksum", csum)])
}

fn dest_value(d: &Dest) -> Json {
    let forward = match d.fwd_method {
        FwdMethod::Other(_) => Json::Null,
        m => Json::str(m.display_name()),
    };
    Json::Obj(vec![
        ("address", addr_text(&d.addr)),
        ("port", Json::UInt(d.port as u64)),
        ("forward", forward),
        ("weight", Json::Int(d.weight as i64)),
        ("active_conns", Json::UInt(d.active_conns as u64)),
        ("inactive_conns", Json::UInt(d.inact_conns as u64)),
        ("persistent_conns", Json::UInt(d.persist_conns as u64)),
        ("upper_threshold", Json::UInt(d.u_threshold as u64)),
        ("lower_threshold", Json::UInt(d.l_threshold as u64)),
        ("tunnel", tunnel_value(d)),
        ("stats", stats_value(&d.stats)),
        ("rates", rates_value(&d.stats)),
    ])
}

fn endpoint(addr: &IpAddr, port: u16) -> Json {
    Json::Obj(vec![
        ("address", addr_text(addr)),
        ("port", Json::UInt(port as u64)),
    ])
}

fn conn_value(c: &Conn) -> Json {
    Json::Obj(vec![
        ("protocol", Json::str(&c.protocol)),
        ("client", endpoint(&c.caddr, c.cport)),
        ("virtual", endpoint(&c.vaddr, c.vport)),
        ("destination", endpoint(&c.daddr, c.dport)),
        ("state", Json::str(&c.state)),
        ("expires_seconds", Json::UInt(c.expires_secs as u64)),
        ("pe_name", Json::opt_str(c.pe_name.as_deref())),
        ("pe_data", Json::opt_str(c.pe_data.as_deref())),
    ])
}

fn nonzero(v: u64) -> Json {
    Json::opt_uint((v != 0).then_some(v))
}

fn daemon_value(d: &Daemon, state: &'static str) -> Json {
    Json::Obj(vec![
        ("state", Json::str(state)),
        ("mcast_interface", Json::str(&d.mcast_ifn)),
        ("syncid", Json::UInt(d.syncid as u64)),
        ("sync_maxlen", nonzero(d.sync_maxlen as u64)),
        (
            "mcast_group",
            d.mcast_group.as_ref().map_or(Json::Null, addr_text),
        ),
        ("mcast_port", nonzero(d.mcast_port as u64)),
        ("mcast_ttl", nonzero(d.mcast_ttl as u64)),
        ("counters", counters_value(&d.counters)),
    ])
}

/// A daemon's rvs counters, null when the kernel sent none; within, a
/// counter it did not send is null.
fn counters_value(c: &SyncCounters) -> Json {
    if c.is_empty() {
        return Json::Null;
    }
    let u32_ = |v: Option<u32>| Json::opt_uint(v.map(u64::from));
    Json::Obj(vec![
        ("datagrams", Json::opt_uint(c.datagrams)),
        ("entries", Json::opt_uint(c.entries)),
        ("drop_queue_full", Json::opt_uint(c.drop_queue_full)),
        ("drop_send_error", Json::opt_uint(c.drop_send_error)),
        ("drop_bad_datagram", Json::opt_uint(c.drop_bad_datagram)),
        ("drop_bad_entry", Json::opt_uint(c.drop_bad_entry)),
        ("drop_syncid", Json::opt_uint(c.drop_syncid)),
        ("drop_no_room", Json::opt_uint(c.drop_no_room)),
        ("lost_datagrams", Json::opt_uint(c.lost_datagrams)),
        ("last_seq", u32_(c.last_seq)),
        ("resyncs", Json::opt_uint(c.resyncs)),
        ("resync_pending", u32_(c.resync_pending)),
    ])
}

// ---------------------------------------------------------------------------
// Documents
// ---------------------------------------------------------------------------

/// `-L --json` (and `-S --json`): the whole table,
/// `{"version":"1.2.1","conn_tab_size":4096,"services":[...]}`.  Services
/// and their real servers are kept in the order given.
pub fn services(info: &Info, services: &[(Service, Vec<Dest>)]) -> String {
    let (a, b, c) = info.version_triple();
    Json::Obj(vec![
        ("version", Json::Str(format!("{}.{}.{}", a, b, c))),
        ("conn_tab_size", Json::UInt(info.conn_tab_size as u64)),
        (
            "services",
            Json::Arr(services.iter().map(|(s, d)| service_value(s, d)).collect()),
        ),
    ])
    .document()
}

/// `-L -t|-u|--sctp-service|-f ... --json`: `{"services":[{...}]}` with
/// the one service object (no version; ipvsadm prints no header either).
pub fn one_service(svc: &Service, dests: &[Dest]) -> String {
    Json::Obj(vec![(
        "services",
        Json::Arr(vec![service_value(svc, dests)]),
    )])
    .document()
}

/// `-Lc --json`: `{"connections":[...]}`, each entry `{"protocol",
/// "client":{"address","port"},"virtual":{...},"destination":{...},
/// "state","expires_seconds","pe_name","pe_data"}` (the last two null
/// when the table has no persistence-engine columns), in table order.
pub fn conns(conns: &[Conn]) -> String {
    Json::Obj(vec![(
        "connections",
        Json::Arr(conns.iter().map(conn_value).collect()),
    )])
    .document()
}

/// `-L --timeout --json`: `{"tcp":900,"tcpfin":120,"udp":300}`.
pub fn timeouts(t: &Timeouts) -> String {
    Json::Obj(vec![
        ("tcp", Json::UInt(t.tcp as u64)),
        ("tcpfin", Json::UInt(t.tcp_fin as u64)),
        ("udp", Json::UInt(t.udp as u64)),
    ])
    .document()
}

/// `-L --daemon --json`: `{"daemons":[...]}`, each `{"state"
/// ("master"/"backup"),"mcast_interface","syncid","sync_maxlen",
/// "mcast_group","mcast_port","mcast_ttl","counters"}` (`sync_maxlen` to
/// `mcast_ttl` null when not set).  `counters` is null when the kernel
/// sent none (the IPVS family never does), else `{"datagrams","entries",
/// "drop_queue_full","drop_send_error","drop_bad_datagram",
/// "drop_bad_entry","drop_syncid","drop_no_room","lost_datagrams",
/// "last_seq","resyncs","resync_pending"}`, each null when not sent
/// (some only mean something for a master, some for a backup: see
/// `model::SyncCounters`); `--stats` makes no difference.  Like ipvsadm's listing, only the first two entries are
/// looked at and daemons that are not running are left out, so no daemon
/// gives `{"daemons":[]}`.
pub fn daemons(d: &[Daemon]) -> String {
    let list = d
        .iter()
        .take(2)
        .filter_map(|d| {
            if d.state & model::IP_VS_STATE_MASTER != 0 {
                Some(daemon_value(d, "master"))
            } else if d.state & model::IP_VS_STATE_BACKUP != 0 {
                Some(daemon_value(d, "backup"))
            } else {
                None
            }
        })
        .collect();
    Json::Obj(vec![("daemons", Json::Arr(list))]).document()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{masq, mixed_services, s6_daemons, wlc};
    use crate::model::Protocol;

    /// `s` as a JSON string literal (with the quotes).
    fn quote(s: &str) -> String {
        let mut out = String::with_capacity(s.len() + 2);
        write_str(s, &mut out);
        out
    }

    // ------------------------------------------------------------------
    // A small recursive-descent JSON parser (RFC 8259), strict: used to
    // check that every document is valid and to read values back.
    // ------------------------------------------------------------------

    #[derive(Clone, Debug, PartialEq)]
    enum V {
        Null,
        Bool(bool),
        /// The number's text (as written).
        Num(String),
        Str(String),
        Arr(Vec<V>),
        Obj(Vec<(String, V)>),
    }

    impl V {
        fn get(&self, key: &str) -> &V {
            match self {
                V::Obj(m) => {
                    &m.iter()
                        .find(|(k, _)| k == key)
                        .unwrap_or_else(|| panic!("no key {key}"))
                        .1
                }
                _ => panic!("not an object: {:?}", self),
            }
        }
        fn idx(&self, i: usize) -> &V {
            match self {
                V::Arr(a) => &a[i],
                _ => panic!("not an array: {:?}", self),
            }
        }
        fn keys(&self) -> Vec<&str> {
            match self {
                V::Obj(m) => m.iter().map(|(k, _)| k.as_str()).collect(),
                _ => panic!("not an object: {:?}", self),
            }
        }
        fn s(&self) -> &str {
            match self {
                V::Str(s) => s,
                _ => panic!("not a string: {:?}", self),
            }
        }
        fn n(&self) -> &str {
            match self {
                V::Num(s) => s,
                _ => panic!("not a number: {:?}", self),
            }
        }
    }

    struct P<'a> {
        b: &'a [u8],
        i: usize,
        depth: usize,
    }

    impl<'a> P<'a> {
        fn ws(&mut self) {
            while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\t' | b'\n' | b'\r') {
                self.i += 1;
            }
        }
        fn peek(&self) -> Option<u8> {
            self.b.get(self.i).copied()
        }
        fn eat(&mut self, c: u8) -> Result<(), String> {
            if self.peek() == Some(c) {
                self.i += 1;
                Ok(())
            } else {
                Err(format!("expected {:?} at {}", c as char, self.i))
            }
        }
        fn lit(&mut self, word: &str, v: V) -> Result<V, String> {
            if self.b[self.i..].starts_with(word.as_bytes()) {
                self.i += word.len();
                Ok(v)
            } else {
                Err(format!("bad literal at {}", self.i))
            }
        }
        fn value(&mut self) -> Result<V, String> {
            self.depth += 1;
            if self.depth > 64 {
                return Err("too deep".into());
            }
            self.ws();
            let v = match self.peek() {
                Some(b'{') => self.object(),
                Some(b'[') => self.array(),
                Some(b'"') => self.string().map(V::Str),
                Some(b't') => self.lit("true", V::Bool(true)),
                Some(b'f') => self.lit("false", V::Bool(false)),
                Some(b'n') => self.lit("null", V::Null),
                Some(c) if c == b'-' || c.is_ascii_digit() => self.number(),
                _ => Err(format!("unexpected input at {}", self.i)),
            };
            self.depth -= 1;
            self.ws();
            v
        }
        fn object(&mut self) -> Result<V, String> {
            self.eat(b'{')?;
            let mut m: Vec<(String, V)> = Vec::new();
            self.ws();
            if self.peek() == Some(b'}') {
                self.i += 1;
                return Ok(V::Obj(m));
            }
            loop {
                self.ws();
                let k = self.string()?;
                if m.iter().any(|(x, _)| *x == k) {
                    return Err(format!("duplicate key {k}"));
                }
                self.ws();
                self.eat(b':')?;
                let v = self.value()?;
                m.push((k, v));
                match self.peek() {
                    Some(b',') => self.i += 1,
                    Some(b'}') => {
                        self.i += 1;
                        return Ok(V::Obj(m));
                    }
                    _ => return Err(format!("bad object at {}", self.i)),
                }
            }
        }
        fn array(&mut self) -> Result<V, String> {
            self.eat(b'[')?;
            let mut a = Vec::new();
            self.ws();
            if self.peek() == Some(b']') {
                self.i += 1;
                return Ok(V::Arr(a));
            }
            loop {
                a.push(self.value()?);
                match self.peek() {
                    Some(b',') => self.i += 1,
                    Some(b']') => {
                        self.i += 1;
                        return Ok(V::Arr(a));
                    }
                    _ => return Err(format!("bad array at {}", self.i)),
                }
            }
        }
        fn hex4(&mut self) -> Result<u32, String> {
            let h = self.b.get(self.i..self.i + 4).ok_or("short \\u")?;
            let s = std::str::from_utf8(h).map_err(|e| e.to_string())?;
            if !s.bytes().all(|c| c.is_ascii_hexdigit()) {
                return Err(format!("bad \\u at {}", self.i));
            }
            self.i += 4;
            Ok(u32::from_str_radix(s, 16).unwrap())
        }
        fn string(&mut self) -> Result<String, String> {
            self.eat(b'"')?;
            let mut out: Vec<u8> = Vec::new();
            loop {
                let c = self.peek().ok_or("unterminated string")?;
                self.i += 1;
                match c {
                    b'"' => break,
                    b'\\' => {
                        let e = self.peek().ok_or("bad escape")?;
                        self.i += 1;
                        let ch: char = match e {
                            b'"' => '"',
                            b'\\' => '\\',
                            b'/' => '/',
                            b'b' => '\u{8}',
                            b'f' => '\u{c}',
                            b'n' => '\n',
                            b'r' => '\r',
                            b't' => '\t',
                            b'u' => {
                                let u = self.hex4()?;
                                if (0xd800..0xdc00).contains(&u) {
                                    self.eat(b'\\')?;
                                    self.eat(b'u')?;
                                    let l = self.hex4()?;
                                    if !(0xdc00..0xe000).contains(&l) {
                                        return Err("lone high surrogate".into());
                                    }
                                    char::from_u32(0x10000 + ((u - 0xd800) << 10) + (l - 0xdc00))
                                        .ok_or("bad surrogate pair")?
                                } else {
                                    char::from_u32(u).ok_or("lone low surrogate")?
                                }
                            }
                            _ => return Err(format!("bad escape at {}", self.i)),
                        };
                        let mut buf = [0u8; 4];
                        out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                    }
                    c if c < 0x20 => {
                        return Err(format!("raw control character at {}", self.i - 1))
                    }
                    c => out.push(c),
                }
            }
            String::from_utf8(out).map_err(|e| e.to_string())
        }
        fn number(&mut self) -> Result<V, String> {
            let start = self.i;
            if self.peek() == Some(b'-') {
                self.i += 1;
            }
            match self.peek() {
                Some(b'0') => self.i += 1,
                Some(c) if c.is_ascii_digit() => {
                    while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                        self.i += 1;
                    }
                }
                _ => return Err(format!("bad number at {}", start)),
            }
            if self.peek() == Some(b'.') {
                self.i += 1;
                let d = self.i;
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.i += 1;
                }
                if self.i == d {
                    return Err(format!("bad fraction at {}", start));
                }
            }
            if matches!(self.peek(), Some(b'e' | b'E')) {
                self.i += 1;
                if matches!(self.peek(), Some(b'+' | b'-')) {
                    self.i += 1;
                }
                let d = self.i;
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.i += 1;
                }
                if self.i == d {
                    return Err(format!("bad exponent at {}", start));
                }
            }
            Ok(V::Num(
                std::str::from_utf8(&self.b[start..self.i])
                    .unwrap()
                    .to_string(),
            ))
        }
    }

    /// Parse one JSON text (RFC 8259: any value, surrounding whitespace).
    fn parse(text: &str) -> Result<V, String> {
        let mut p = P {
            b: text.as_bytes(),
            i: 0,
            depth: 0,
        };
        let v = p.value()?;
        if p.i != p.b.len() {
            return Err(format!("trailing data at {}", p.i));
        }
        Ok(v)
    }

    /// A document as the public functions must produce it: one line, one
    /// valid JSON object, a final newline.
    fn doc(text: &str) -> V {
        assert!(text.ends_with('\n'), "no final newline: {text:?}");
        let body = &text[..text.len() - 1];
        assert!(!body.contains('\n'), "more than one line: {text:?}");
        let v = parse(body).unwrap_or_else(|e| panic!("invalid JSON ({e}): {text}"));
        assert!(matches!(v, V::Obj(_)));
        v
    }

    #[test]
    fn validator_itself() {
        for ok in [
            "{}",
            "[]",
            "0",
            "-0",
            "1.5e-3",
            "\"\\u00e9\\ud83d\\ude00\\/\"",
            " [1, {\"a\": null}, true, false] ",
        ] {
            assert!(parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "{",
            "[1,]",
            "{\"a\":1,}",
            "01",
            "1.",
            "-",
            "+1",
            "\"\x01\"",
            "\"\\x\"",
            "\"\\ud800\"",
            "{\"a\" 1}",
            "{\"a\":1,\"a\":2}",
            "[1] 2",
            "nul",
            "'a'",
            "{a:1}",
            "\"abc",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(parse("\"\\ud83d\\ude00\"").unwrap(), V::Str("😀".into()));
    }

    #[test]
    fn string_escaping() {
        assert_eq!(quote(""), "\"\"");
        assert_eq!(quote("plain"), "\"plain\"");
        assert_eq!(quote("a\"b\\c/d"), "\"a\\\"b\\\\c/d\"");
        assert_eq!(
            quote("\n\r\t\u{8}\u{c}\u{0}\u{1}\u{1f}\u{7f}"),
            "\"\\n\\r\\t\\b\\f\\u0000\\u0001\\u001f\\u007f\""
        );
        assert_eq!(quote("é😀\u{2028}\u{2029}"), "\"é😀\\u2028\\u2029\"");
        // Every odd string comes back unchanged.
        let odd = [
            "",
            "\"",
            "\\",
            "\\\"",
            "\u{0}",
            "tab\there",
            "line\nbreak\r\n",
            "ctl \u{1}\u{2}\u{3}\u{1b}[0m \u{7f}",
            "</script>",
            "ünïcödé ☃ 😀 \u{fffd} \u{10ffff}",
            "\u{2028}\u{2029}",
            "{\"key\": [1, 2]}",
        ];
        for s in odd {
            assert_eq!(parse(&quote(s)).unwrap(), V::Str(s.to_string()), "{s:?}");
        }
        // Odd strings in every string field of a document.
        let svc = Service {
            sched_name: "w\"r\\r\n".into(),
            pe_name: "s\u{0}ip".into(),
            ..seed().0
        };
        let v = doc(&one_service(&svc, &[]));
        let s = v.get("services").idx(0);
        assert_eq!(s.get("scheduler").s(), "w\"r\\r\n");
        assert_eq!(s.get("persistence_engine").s(), "s\u{0}ip");
        let d = Daemon {
            state: model::IP_VS_STATE_MASTER,
            mcast_ifn: "eth\"0\\".into(),
            ..Daemon::default()
        };
        let v = doc(&daemons(&[d]));
        assert_eq!(
            v.get("daemons").idx(0).get("mcast_interface").s(),
            "eth\"0\\"
        );
    }

    /// Seed 002: `-A -t 192.168.10.100:80 -s wrr`, two `-m` servers.
    fn seed() -> (Service, Vec<Dest>) {
        (
            Service {
                addr: "192.168.10.100".parse().unwrap(),
                port: 80,
                sched_name: "wrr".into(),
                flags: rvs_core::abi::svc_flags::HASHED,
                num_dests: 2,
                ..Service::default()
            },
            vec![masq("10.0.0.7", 80, 1), masq("10.0.0.17", 80, 1)],
        )
    }

    const ZERO_STATS: &str =
        "\"stats\":{\"conns\":0,\"inpkts\":0,\"outpkts\":0,\"inbytes\":0,\"outbytes\":0},\
\"rates\":{\"cps\":0,\"inpps\":0,\"outpps\":0,\"inbps\":0,\"outbps\":0}";

    fn seed_rs(addr: &str, active: u32, inactive: u32) -> String {
        format!(
            "{{\"address\":\"{addr}\",\"port\":80,\"forward\":\"Masq\",\"weight\":1,\
\"active_conns\":{active},\"inactive_conns\":{inactive},\"persistent_conns\":0,\
\"upper_threshold\":0,\"lower_threshold\":0,\"tunnel\":null,{ZERO_STATS}}}"
        )
    }

    #[test]
    fn seed_configuration_exact() {
        let (s, mut d) = seed();
        d[1].active_conns = 3;
        d[1].inact_conns = 4;
        let table = vec![(s.clone(), d.clone())];
        let svc = format!(
            "{{\"protocol\":\"TCP\",\"fwmark\":null,\"af\":\"inet\",\"address\":\"192.168.10.100\",\
\"port\":80,\"scheduler\":\"wrr\",\"flags\":[],\"persistent_timeout\":null,\"netmask\":null,\
\"persistence_engine\":null,{ZERO_STATS},\"real_servers\":[{},{}]}}",
            seed_rs("10.0.0.7", 0, 0),
            seed_rs("10.0.0.17", 3, 4)
        );
        let expected =
            format!("{{\"version\":\"1.2.1\",\"conn_tab_size\":4096,\"services\":[{svc}]}}\n");
        let out = services(&Info::default(), &table);
        assert_eq!(out, expected);
        doc(&out);
        // The real servers stay in the order given (ipvsadm's text sorts
        // them by address; JSON does not).
        let rev: Vec<Dest> = d.iter().rev().cloned().collect();
        let v = doc(&services(&Info::default(), &[(s.clone(), rev)]));
        let rs = v.get("services").idx(0).get("real_servers");
        assert_eq!(rs.idx(0).get("address").s(), "10.0.0.17");
        assert_eq!(rs.idx(1).get("address").s(), "10.0.0.7");
        // One service: same object, no version.
        assert_eq!(one_service(&s, &d), format!("{{\"services\":[{svc}]}}\n"));
        // An empty table.
        assert_eq!(
            services(
                &Info {
                    version: 0x010203,
                    conn_tab_size: 1 << 20
                },
                &[]
            ),
            "{\"version\":\"1.2.3\",\"conn_tab_size\":1048576,\"services\":[]}\n"
        );
    }

    #[test]
    fn services_keep_given_order() {
        let mut input = mixed_services();
        input.push((wlc(Protocol::Other(99), "10.1.1.3", 1, 0), vec![]));
        let v = doc(&services(&Info::default(), &input));
        let got: Vec<(String, String)> = match v.get("services") {
            V::Arr(a) => a
                .iter()
                .map(|s| {
                    (
                        format!("{:?}", s.get("protocol")),
                        format!("{:?}", s.get("address")),
                    )
                })
                .collect(),
            _ => unreachable!(),
        };
        assert_eq!(
            got,
            vec![
                ("Str(\"TCP\")".into(), "Str(\"192.168.10.100\")".into()),
                ("Str(\"UDP\")".into(), "Str(\"10.1.1.1\")".into()),
                ("Null".into(), "Null".into()),
                ("Str(\"SCTP\")".into(), "Str(\"10.1.1.2\")".into()),
                ("Str(\"?\")".into(), "Str(\"10.1.1.3\")".into()),
            ]
        );
    }

    #[test]
    fn ipv6_service() {
        let s = Service {
            af: AddressFamily::Inet6,
            addr: "2001:db8::1".parse().unwrap(),
            port: 443,
            sched_name: "mh".into(),
            flags: model::IP_VS_SVC_F_PERSISTENT
                | model::IP_VS_SVC_F_SCHED_MH_FALLBACK
                | model::IP_VS_SVC_F_SCHED_MH_PORT,
            timeout: 360,
            netmask: 48,
            pe_name: "sip".into(),
            ..Service::default()
        };
        let d = vec![
            masq("2001:db8::20", 443, 3),
            Dest {
                fwd_method: FwdMethod::Tunnel,
                tun_type: model::IP_VS_CONN_F_TUNNEL_TYPE_GUE,
                tun_port: 6080,
                tun_flags: model::IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM,
                weight: -5,
                u_threshold: 100,
                l_threshold: 10,
                persist_conns: 7,
                stats: Stats {
                    conns: u64::MAX,
                    inbytes: 9_876_543_210,
                    outbps: 1,
                    ..Stats::default()
                },
                ..masq("10.0.0.1", 443, 0)
            },
            Dest {
                fwd_method: FwdMethod::Tunnel,
                tun_type: model::IP_VS_CONN_F_TUNNEL_TYPE_GRE,
                tun_flags: model::IP_VS_TUNNEL_ENCAP_FLAG_CSUM,
                ..masq("::ffff:10.0.0.2", 443, 1)
            },
            Dest {
                fwd_method: FwdMethod::Tunnel,
                ..masq("::1.2.3.4", 443, 1)
            },
            Dest {
                fwd_method: FwdMethod::Other(7),
                ..masq("fe80::1", 443, 1)
            },
        ];
        let out = one_service(&s, &d);
        let v = doc(&out);
        let sv = v.get("services").idx(0);
        assert_eq!(
            sv.keys(),
            [
                "protocol",
                "fwmark",
                "af",
                "address",
                "port",
                "scheduler",
                "flags",
                "persistent_timeout",
                "netmask",
                "persistence_engine",
                "stats",
                "rates",
                "real_servers"
            ]
        );
        assert!(out.starts_with(
            "{\"services\":[{\"protocol\":\"TCP\",\"fwmark\":null,\"af\":\"inet6\",\
\"address\":\"2001:db8::1\",\"port\":443,\"scheduler\":\"mh\",\
\"flags\":[\"persistent\",\"mh-fallback\",\"mh-port\"],\"persistent_timeout\":360,\
\"netmask\":48,\"persistence_engine\":\"sip\","
        ));
        let rs = sv.get("real_servers");
        assert_eq!(rs.idx(0).get("address").s(), "2001:db8::20");
        assert_eq!(rs.idx(0).get("tunnel"), &V::Null);
        let t = rs.idx(1);
        assert_eq!(
            t.keys(),
            [
                "address",
                "port",
                "forward",
                "weight",
                "active_conns",
                "inactive_conns",
                "persistent_conns",
                "upper_threshold",
                "lower_threshold",
                "tunnel",
                "stats",
                "rates"
            ]
        );
        assert_eq!(t.get("forward").s(), "Tunnel");
        assert_eq!(t.get("weight").n(), "-5");
        assert_eq!(t.get("upper_threshold").n(), "100");
        assert_eq!(t.get("lower_threshold").n(), "10");
        assert_eq!(t.get("persistent_conns").n(), "7");
        assert_eq!(t.get("stats").get("conns").n(), "18446744073709551615");
        assert_eq!(t.get("stats").get("inbytes").n(), "9876543210");
        assert_eq!(t.get("rates").get("outbps").n(), "1");
        assert!(
            out.contains("\"tunnel\":{\"type\":\"gue\",\"port\":6080,\"checksum\":\"remcsum\"}")
        );
        assert!(out.contains("\"tunnel\":{\"type\":\"gre\",\"port\":null,\"checksum\":\"csum\"}"));
        assert!(out.contains("\"tunnel\":{\"type\":\"ipip\",\"port\":null,\"checksum\":null}"));
        // glibc's inet_ntop text, no brackets.
        assert_eq!(rs.idx(2).get("address").s(), "::ffff:10.0.0.2");
        assert_eq!(rs.idx(3).get("address").s(), "::1.2.3.4");
        assert_eq!(rs.idx(4).get("forward"), &V::Null);
        // Default IPv6 granularity is still reported when persistent.
        let s128 = Service {
            netmask: 128,
            ..s.clone()
        };
        let v = doc(&one_service(&s128, &[]));
        assert_eq!(v.get("services").idx(0).get("netmask").n(), "128");
    }

    #[test]
    fn fwmark_services() {
        let f4 = Service {
            fwmark: 7,
            sched_name: "sh".into(),
            flags: model::IP_VS_SVC_F_PERSISTENT
                | model::IP_VS_SVC_F_SCHED_SH_FALLBACK
                | model::IP_VS_SVC_F_SCHED_SH_PORT
                | model::IP_VS_SVC_F_ONEPACKET,
            timeout: 300,
            ..Service::default()
        };
        let f6 = Service {
            af: AddressFamily::Inet6,
            addr: "::".parse().unwrap(),
            fwmark: 3_000_000_000,
            sched_name: "sh".into(),
            // flag-3 means nothing to sh: no entry, as ipvsadm prints "()".
            flags: model::IP_VS_SVC_F_SCHED3,
            netmask: 128,
            ..Service::default()
        };
        let wlc = Service {
            addr: "10.1.1.3".parse().unwrap(),
            port: 8080,
            sched_name: "wlc".into(),
            flags: model::IP_VS_SVC_F_SCHED_MASK | model::IP_VS_SVC_F_ONEPACKET,
            ..Service::default()
        };
        let udp = Service {
            protocol: Protocol::Udp,
            addr: "10.1.1.1".parse().unwrap(),
            port: 53,
            sched_name: "rr".into(),
            flags: model::IP_VS_SVC_F_PERSISTENT,
            timeout: 600,
            netmask: u32::from(Ipv4Addr::new(255, 255, 255, 0)),
            ..Service::default()
        };
        let table = vec![
            (
                f4,
                vec![Dest {
                    addr: "10.0.0.9".parse().unwrap(),
                    ..Dest::default()
                }],
            ),
            (f6, vec![]),
            (wlc, vec![]),
            (udp, vec![]),
        ];
        let out = services(&Info::default(), &table);
        doc(&out);
        assert!(out.contains(
            "{\"protocol\":null,\"fwmark\":7,\"af\":\"inet\",\"address\":null,\"port\":null,\
\"scheduler\":\"sh\",\"flags\":[\"persistent\",\"ops\",\"sh-fallback\",\"sh-port\"],\
\"persistent_timeout\":300,\"netmask\":\"255.255.255.255\",\"persistence_engine\":null,"
        ));
        assert!(out.contains(
            "\"real_servers\":[{\"address\":\"10.0.0.9\",\"port\":0,\"forward\":\"Route\",\"weight\":1,"
        ));
        assert!(out.contains(
            "{\"protocol\":null,\"fwmark\":3000000000,\"af\":\"inet6\",\"address\":null,\"port\":null,\
\"scheduler\":\"sh\",\"flags\":[],\"persistent_timeout\":null,\"netmask\":null,"
        ));
        assert!(out.contains(
            "\"address\":\"10.1.1.3\",\"port\":8080,\"scheduler\":\"wlc\",\
\"flags\":[\"ops\",\"flag-1\",\"flag-2\",\"flag-3\"],\"persistent_timeout\":null,"
        ));
        assert!(out.contains(
            "{\"protocol\":\"UDP\",\"fwmark\":null,\"af\":\"inet\",\"address\":\"10.1.1.1\",\"port\":53,\
\"scheduler\":\"rr\",\"flags\":[\"persistent\"],\"persistent_timeout\":600,\
\"netmask\":\"255.255.255.0\","
        ));
    }

    const PROC: &str = "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n\
TCP C0A80A01 D431 C0A80A64 0050 0A000007 0050 ESTABLISHED     899\n\
UDP 0A000001 0035 0A010101 0035 0A000002 0035 UDP             283 sip abc\"def\n\
TCP 2001:0db8:0000:0000:0000:0000:0000:0001 1F90 2001:0db8:0000:0000:0000:0000:0000:0002 0050 2001:0db8:0000:0000:0000:0000:0000:0003 0050 SYN_RECV         59\n";

    #[test]
    fn connections() {
        let entries: Vec<Conn> = PROC
            .lines()
            .skip(1)
            .filter_map(crate::replay::parse_proc_conn_line)
            .collect();
        let out = conns(&entries);
        assert_eq!(
            out,
            "{\"connections\":[\
{\"protocol\":\"TCP\",\"client\":{\"address\":\"192.168.10.1\",\"port\":54321},\
\"virtual\":{\"address\":\"192.168.10.100\",\"port\":80},\
\"destination\":{\"address\":\"10.0.0.7\",\"port\":80},\
\"state\":\"ESTABLISHED\",\"expires_seconds\":899,\"pe_name\":null,\"pe_data\":null},\
{\"protocol\":\"UDP\",\"client\":{\"address\":\"10.0.0.1\",\"port\":53},\
\"virtual\":{\"address\":\"10.1.1.1\",\"port\":53},\
\"destination\":{\"address\":\"10.0.0.2\",\"port\":53},\
\"state\":\"UDP\",\"expires_seconds\":283,\"pe_name\":\"sip\",\"pe_data\":\"abc\\\"def\"},\
{\"protocol\":\"TCP\",\"client\":{\"address\":\"2001:db8::1\",\"port\":8080},\
\"virtual\":{\"address\":\"2001:db8::2\",\"port\":80},\
\"destination\":{\"address\":\"2001:db8::3\",\"port\":80},\
\"state\":\"SYN_RECV\",\"expires_seconds\":59,\"pe_name\":null,\"pe_data\":null}]}\n"
        );
        doc(&out);
        assert_eq!(conns(&[]), "{\"connections\":[]}\n");
    }

    #[test]
    fn timeouts_and_daemons() {
        let out = timeouts(&Timeouts {
            tcp: 900,
            tcp_fin: 120,
            udp: 300,
        });
        assert_eq!(out, "{\"tcp\":900,\"tcpfin\":120,\"udp\":300}\n");
        doc(&out);
        assert_eq!(
            timeouts(&Timeouts {
                tcp: u32::MAX,
                tcp_fin: 0,
                udp: 0
            }),
            "{\"tcp\":4294967295,\"tcpfin\":0,\"udp\":0}\n"
        );
        let mut ds = s6_daemons();
        ds.push(Daemon {
            state: model::IP_VS_STATE_MASTER,
            mcast_ifn: "ignored".into(),
            ..Daemon::default()
        });
        let out = daemons(&ds);
        assert_eq!(
            out,
            "{\"daemons\":[\
{\"state\":\"master\",\"mcast_interface\":\"eth0\",\"syncid\":5,\"sync_maxlen\":1472,\
\"mcast_group\":\"224.0.0.81\",\"mcast_port\":8848,\"mcast_ttl\":1,\"counters\":null},\
{\"state\":\"backup\",\"mcast_interface\":\"eth1\",\"syncid\":7,\"sync_maxlen\":null,\
\"mcast_group\":\"ff02::1234\",\"mcast_port\":null,\"mcast_ttl\":null,\"counters\":null}]}\n"
        );
        doc(&out);
        assert_eq!(daemons(&[]), "{\"daemons\":[]}\n");
        assert_eq!(daemons(&[Daemon::default()]), "{\"daemons\":[]}\n");
        // Only running daemons, among the first two entries.
        let v = doc(&daemons(&[Daemon::default(), ds[1].clone(), ds[0].clone()]));
        match v.get("daemons") {
            V::Arr(a) => {
                assert_eq!(a.len(), 1);
                assert_eq!(a[0].get("state").s(), "backup");
            }
            _ => unreachable!(),
        }
    }

    #[test]
    fn daemon_counters() {
        let master = Daemon {
            state: model::IP_VS_STATE_MASTER,
            mcast_ifn: "eth0".into(),
            syncid: 38,
            counters: SyncCounters {
                datagrams: Some(12),
                entries: Some(340),
                drop_queue_full: Some(0),
                drop_send_error: Some(0),
                last_seq: Some(u32::MAX),
                resyncs: Some(u64::MAX),
                resync_pending: Some(0),
                ..SyncCounters::default()
            },
            ..Daemon::default()
        };
        let backup = Daemon {
            state: model::IP_VS_STATE_BACKUP,
            mcast_ifn: "eth1".into(),
            counters: SyncCounters {
                datagrams: Some(1),
                entries: Some(2),
                drop_bad_datagram: Some(3),
                drop_bad_entry: Some(4),
                drop_syncid: Some(5),
                drop_no_room: Some(6),
                lost_datagrams: Some(7),
                last_seq: Some(8),
                resyncs: Some(9),
                ..SyncCounters::default()
            },
            ..Daemon::default()
        };
        let out = daemons(&[master, backup]);
        assert_eq!(
            out,
            "{\"daemons\":[\
{\"state\":\"master\",\"mcast_interface\":\"eth0\",\"syncid\":38,\"sync_maxlen\":null,\
\"mcast_group\":null,\"mcast_port\":null,\"mcast_ttl\":null,\"counters\":{\
\"datagrams\":12,\"entries\":340,\"drop_queue_full\":0,\"drop_send_error\":0,\
\"drop_bad_datagram\":null,\"drop_bad_entry\":null,\"drop_syncid\":null,\"drop_no_room\":null,\
\"lost_datagrams\":null,\"last_seq\":4294967295,\"resyncs\":18446744073709551615,\
\"resync_pending\":0}},\
{\"state\":\"backup\",\"mcast_interface\":\"eth1\",\"syncid\":0,\"sync_maxlen\":null,\
\"mcast_group\":null,\"mcast_port\":null,\"mcast_ttl\":null,\"counters\":{\
\"datagrams\":1,\"entries\":2,\"drop_queue_full\":null,\"drop_send_error\":null,\
\"drop_bad_datagram\":3,\"drop_bad_entry\":4,\"drop_syncid\":5,\"drop_no_room\":6,\
\"lost_datagrams\":7,\"last_seq\":8,\"resyncs\":9,\"resync_pending\":null}}]}\n"
        );
        let v = doc(&out);
        assert_eq!(
            v.get("daemons")
                .idx(1)
                .get("counters")
                .get("lost_datagrams"),
            &V::Num("7".into())
        );
    }

    #[test]
    fn every_output_is_valid_json() {
        // A table with every kind of service and server, odd names and
        // extreme numbers, through every document function.
        let big = Stats {
            conns: u64::MAX,
            inpkts: 1,
            outpkts: u64::MAX / 3,
            inbytes: 0,
            outbytes: 1 << 53,
            cps: 2,
            inpps: 3,
            outpps: 4,
            inbps: 5,
            outbps: u64::MAX,
        };
        let mut table = vec![seed()];
        for (i, af6) in [(0u32, false), (1, true)] {
            for fwd in [
                FwdMethod::Masq,
                FwdMethod::Route,
                FwdMethod::Local,
                FwdMethod::Tunnel,
                FwdMethod::Other(9),
            ] {
                for tun_type in 0..4u8 {
                    let s = Service {
                        af: if af6 {
                            AddressFamily::Inet6
                        } else {
                            AddressFamily::Inet
                        },
                        addr: if af6 {
                            "2001:db8::5".parse().unwrap()
                        } else {
                            "10.9.9.9".parse().unwrap()
                        },
                        fwmark: i * 1000 + tun_type as u32,
                        protocol: Protocol::Other(i as u16 * 300),
                        sched_name: "\u{1}sch\"ed\\".into(),
                        flags: 0xffff_ffff,
                        timeout: u32::MAX,
                        netmask: u32::MAX,
                        pe_name: "pe\n".into(),
                        stats: big,
                        ..Service::default()
                    };
                    let d = Dest {
                        fwd_method: fwd,
                        tun_type,
                        tun_flags: tun_type as u16 * 3,
                        tun_port: u16::MAX,
                        weight: i32::MIN,
                        u_threshold: u32::MAX,
                        stats: big,
                        ..masq(if af6 { "::" } else { "0.0.0.0" }, 65535, i32::MAX)
                    };
                    table.push((s, vec![d.clone(), d]));
                }
            }
        }
        let v = doc(&services(
            &Info {
                version: u32::MAX,
                conn_tab_size: u32::MAX,
            },
            &table,
        ));
        assert_eq!(v.get("version").s(), "255.255.255");
        for (s, d) in &table {
            let v = doc(&one_service(s, d));
            let sv = v.get("services").idx(0);
            let rs = sv.get("real_servers").idx(0);
            assert_eq!(rs.get("weight").n(), d[0].weight.to_string());
            assert_eq!(sv.get("scheduler").s(), s.sched_name);
        }
        let from_proc = |text: &str| {
            let entries: Vec<Conn> = text
                .lines()
                .skip(1)
                .filter_map(crate::replay::parse_proc_conn_line)
                .collect();
            conns(&entries)
        };
        let out = from_proc(include_str!("../tests/fixtures/conn.txt"));
        match doc(&out).get("connections") {
            V::Arr(a) => {
                assert_eq!(a.len(), 5);
                assert_eq!(a[4].get("protocol").s(), "IP");
                assert_eq!(a[3].get("expires_seconds").n(), "3601");
            }
            _ => unreachable!(),
        }
        doc(&from_proc(PROC));
        doc(&timeouts(&Timeouts::default()));
        doc(&daemons(&[Daemon {
            state: model::IP_VS_STATE_BACKUP | model::IP_VS_STATE_MASTER,
            mcast_ifn: "\u{7f}\u{2028}".into(),
            syncid: u32::MAX,
            sync_maxlen: u16::MAX,
            mcast_group: Some("ff02::1".parse().unwrap()),
            mcast_port: u16::MAX,
            mcast_ttl: u8::MAX,
            counters: model::SyncCounters {
                datagrams: Some(u64::MAX),
                last_seq: Some(u32::MAX),
                ..model::SyncCounters::default()
            },
        }]));
    }
}
