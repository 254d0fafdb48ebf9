//! Address text conversions with glibc's exact rules (`inet_aton`,
//! `inet_pton`, `inet_ntop`), which differ from Rust's parsers and
//! `Display` at the edges ipvsadm's users can reach.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// glibc `inet_aton`: accepts 1-4 parts, each decimal, octal (leading 0) or
/// hex (0x); trailing text is allowed after a whitespace character.
pub fn inet_aton(s: &str) -> Option<Ipv4Addr> {
    let b = s.as_bytes();
    let mut pos = 0usize;
    let mut parts: Vec<u32> = Vec::new();
    let val: u64;
    loop {
        if pos >= b.len() || !b[pos].is_ascii_digit() {
            return None;
        }
        // strtoul(cp, &end, 0)
        let (v, consumed) = strtoul_base0(&b[pos..])?;
        pos += consumed;
        let c = b.get(pos).copied();
        if c == Some(b'.') {
            if parts.len() > 2 || v > 0xff {
                return None;
            }
            parts.push(v as u32);
            pos += 1;
        } else {
            val = v;
            break;
        }
    }
    if let Some(&c) = b.get(pos) {
        if !(c == b' ' || (b'\t'..=b'\r').contains(&c)) {
            return None;
        }
    }
    let max: [u64; 4] = [0xffff_ffff, 0xff_ffff, 0xffff, 0xff];
    if val > max[parts.len()] {
        return None;
    }
    let mut word: u32 = 0;
    for (i, p) in parts.iter().enumerate() {
        word |= p << (24 - 8 * i);
    }
    word |= val as u32;
    Some(Ipv4Addr::from(word))
}

/// `strtoul(s, &end, 0)` on a string starting with a digit.  Returns the
/// value (None on overflow beyond u32 range) and the bytes consumed.
fn strtoul_base0(b: &[u8]) -> Option<(u64, usize)> {
    let (base, start) = if b.len() >= 2 && b[0] == b'0' && (b[1] == b'x' || b[1] == b'X') {
        if b.len() >= 3 && b[2].is_ascii_hexdigit() {
            (16u64, 2usize)
        } else {
            // "0x" without hex digits: strtoul parses just the "0".
            return Some((0, 1));
        }
    } else if b[0] == b'0' {
        (8, 0)
    } else {
        (10, 0)
    };
    let mut v: u64 = 0;
    let mut i = start;
    let mut overflow = false;
    while i < b.len() {
        let d = match (b[i] as char).to_digit(base as u32) {
            Some(d) => d as u64,
            None => break,
        };
        v = v.saturating_mul(base).saturating_add(d);
        if v > 0xffff_ffff {
            overflow = true;
        }
        i += 1;
    }
    if overflow {
        return None;
    }
    Some((v, i))
}

/// glibc `inet_pton(AF_INET, ...)`: strict dotted quad, no leading zeros.
pub fn inet_pton4(s: &str) -> Option<Ipv4Addr> {
    let b = s.as_bytes();
    let mut out = [0u8; 4];
    let mut octets = 0usize;
    let mut saw_digit = false;
    let mut cur: u32 = 0;
    for &ch in b {
        if ch.is_ascii_digit() {
            let new = cur * 10 + (ch - b'0') as u32;
            if saw_digit && cur == 0 {
                return None;
            }
            if new > 255 {
                return None;
            }
            cur = new;
            if !saw_digit {
                octets += 1;
                if octets > 4 {
                    return None;
                }
                saw_digit = true;
            }
            out[octets - 1] = cur as u8;
        } else if ch == b'.' && saw_digit {
            if octets == 4 {
                return None;
            }
            cur = 0;
            saw_digit = false;
        } else {
            return None;
        }
    }
    if octets < 4 {
        return None;
    }
    Some(Ipv4Addr::from(out))
}

/// glibc `inet_pton(AF_INET6, ...)`.
pub fn inet_pton6(s: &str) -> Option<Ipv6Addr> {
    let b = s.as_bytes();
    let mut tmp = [0u8; 16];
    let mut tp = 0usize;
    let mut colonp: Option<usize> = None;
    if b.is_empty() {
        return None;
    }
    let mut i = 0usize;
    if b[0] == b':' {
        i = 1;
        if i >= b.len() || b[i] != b':' {
            return None;
        }
    }
    let mut curtok = i;
    let mut xdigits_seen = 0usize;
    let mut val: u32 = 0;
    let mut done_v4 = false;
    while i < b.len() {
        let ch = b[i];
        i += 1;
        if let Some(d) = (ch as char).to_digit(16) {
            if xdigits_seen == 4 {
                return None;
            }
            val = (val << 4) | d;
            if val > 0xffff {
                return None;
            }
            xdigits_seen += 1;
            continue;
        }
        if ch == b':' {
            curtok = i;
            if xdigits_seen == 0 {
                if colonp.is_some() {
                    return None;
                }
                colonp = Some(tp);
                continue;
            } else if i == b.len() {
                return None;
            }
            if tp + 2 > 16 {
                return None;
            }
            tmp[tp] = (val >> 8) as u8;
            tmp[tp + 1] = val as u8;
            tp += 2;
            xdigits_seen = 0;
            val = 0;
            continue;
        }
        if ch == b'.' && tp + 4 <= 16 {
            if let Some(v4) = std::str::from_utf8(&b[curtok..]).ok().and_then(inet_pton4) {
                tmp[tp..tp + 4].copy_from_slice(&v4.octets());
                tp += 4;
                xdigits_seen = 0;
                done_v4 = true;
                break;
            }
        }
        return None;
    }
    if !done_v4 && xdigits_seen > 0 {
        if tp + 2 > 16 {
            return None;
        }
        tmp[tp] = (val >> 8) as u8;
        tmp[tp + 1] = val as u8;
        tp += 2;
    }
    if let Some(cp) = colonp {
        if tp == 16 {
            return None;
        }
        let n = tp - cp;
        let mut out = [0u8; 16];
        out[..cp].copy_from_slice(&tmp[..cp]);
        out[16 - n..].copy_from_slice(&tmp[cp..tp]);
        tmp = out;
        tp = 16;
    }
    if tp != 16 {
        return None;
    }
    Some(Ipv6Addr::from(tmp))
}

/// glibc `inet_ntop(AF_INET6, ...)` text (differs from Rust's Display for
/// IPv4-compatible addresses such as `::1.2.3.4`).
pub fn inet_ntop6(a: &Ipv6Addr) -> String {
    let words = a.segments();
    // Find the longest run of zero words (length >= 2, leftmost on ties).
    let (mut best_base, mut best_len) = (usize::MAX, 0usize);
    let (mut cur_base, mut cur_len) = (usize::MAX, 0usize);
    for (i, w) in words.iter().enumerate() {
        if *w == 0 {
            if cur_base == usize::MAX {
                cur_base = i;
                cur_len = 1;
            } else {
                cur_len += 1;
            }
        } else if cur_base != usize::MAX {
            if best_base == usize::MAX || cur_len > best_len {
                best_base = cur_base;
                best_len = cur_len;
            }
            cur_base = usize::MAX;
        }
    }
    if cur_base != usize::MAX && (best_base == usize::MAX || cur_len > best_len) {
        best_base = cur_base;
        best_len = cur_len;
    }
    if best_base != usize::MAX && best_len < 2 {
        best_base = usize::MAX;
    }
    let mut out = String::new();
    let mut i = 0usize;
    while i < 8 {
        if best_base != usize::MAX && i >= best_base && i < best_base + best_len {
            if i == best_base {
                out.push(':');
            }
            i += 1;
            continue;
        }
        if i != 0 {
            out.push(':');
        }
        if i == 6 && best_base == 0 && (best_len == 6 || (best_len == 5 && words[5] == 0xffff)) {
            let o = a.octets();
            out.push_str(&format!("{}.{}.{}.{}", o[12], o[13], o[14], o[15]));
            break;
        }
        out.push_str(&format!("{:x}", words[i]));
        i += 1;
    }
    if best_base != usize::MAX && best_base + best_len == 8 {
        out.push(':');
    }
    out
}

/// `inet_ntop` for either family.
pub fn inet_ntop(addr: &IpAddr) -> String {
    match addr {
        IpAddr::V4(a) => a.to_string(),
        IpAddr::V6(a) => inet_ntop6(a),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inet_aton_forms() {
        assert_eq!(inet_aton("1.2.3.4"), Some(Ipv4Addr::new(1, 2, 3, 4)));
        assert_eq!(inet_aton("010.0.0.1"), Some(Ipv4Addr::new(8, 0, 0, 1)));
        assert_eq!(inet_aton("0x7f.1"), Some(Ipv4Addr::new(127, 0, 0, 1)));
        assert_eq!(inet_aton("10.1"), Some(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(inet_aton("1.2.3"), Some(Ipv4Addr::new(1, 2, 0, 3)));
        assert_eq!(inet_aton("64"), Some(Ipv4Addr::new(0, 0, 0, 64)));
        assert_eq!(
            inet_aton("4294967295"),
            Some(Ipv4Addr::new(255, 255, 255, 255))
        );
        assert_eq!(inet_aton("4294967296"), None);
        assert_eq!(inet_aton("1.2.3.4 junk"), Some(Ipv4Addr::new(1, 2, 3, 4)));
        assert_eq!(inet_aton("1.2.3.4x"), None);
        assert_eq!(inet_aton("08"), None);
        assert_eq!(inet_aton("0x"), None);
        assert_eq!(inet_aton("1.2.3.256"), None);
        assert_eq!(inet_aton("256.1"), None);
        assert_eq!(inet_aton("1.2.3.4.5"), None);
        assert_eq!(inet_aton(""), None);
        assert_eq!(inet_aton("a.b"), None);
        assert_eq!(inet_aton("1..2"), None);
    }

    #[test]
    fn inet_pton_forms() {
        assert_eq!(inet_pton4("1.2.3.4"), Some(Ipv4Addr::new(1, 2, 3, 4)));
        assert_eq!(inet_pton4("01.2.3.4"), None);
        assert_eq!(inet_pton4("1.2.3"), None);
        assert_eq!(inet_pton4("0.0.0.0"), Some(Ipv4Addr::UNSPECIFIED));
        assert_eq!(inet_pton6("::1"), Some(Ipv6Addr::LOCALHOST));
        assert_eq!(
            inet_pton6("fe80::1:80"),
            Some("fe80::1:80".parse().unwrap())
        );
        assert_eq!(
            inet_pton6("::ffff:1.2.3.4"),
            Some("::ffff:1.2.3.4".parse().unwrap())
        );
        assert_eq!(
            inet_pton6("1::2:3:4:5:6:7"),
            Some("1:0:2:3:4:5:6:7".parse().unwrap())
        );
        assert_eq!(inet_pton6("1:2:3:4:5:6:7::8"), None);
        assert_eq!(inet_pton6(":1"), None);
        assert_eq!(inet_pton6("1:"), None);
        assert_eq!(inet_pton6("12345::"), None);
        assert_eq!(inet_pton6("::"), Some(Ipv6Addr::UNSPECIFIED));
        assert_eq!(inet_pton6("1.2.3.4"), None);
        assert_eq!(inet_pton6(""), None);
        assert_eq!(
            inet_pton6("2001:0db8:0000:0000:0000:0000:0000:0001"),
            Some("2001:db8::1".parse().unwrap())
        );
    }

    #[test]
    fn inet_ntop6_like_glibc() {
        let t = |s: &str| inet_ntop6(&s.parse().unwrap());
        assert_eq!(t("::"), "::");
        assert_eq!(t("::1"), "::1");
        assert_eq!(t("2001:db8::1"), "2001:db8::1");
        assert_eq!(t("::ffff:1.2.3.4"), "::ffff:1.2.3.4");
        assert_eq!(t("::1.2.3.4"), "::1.2.3.4");
        assert_eq!(t("1:0:0:2:0:0:0:3"), "1:0:0:2::3");
        assert_eq!(t("1:0:0:2:0:0:3:4"), "1::2:0:0:3:4");
        assert_eq!(t("1:2:3:4:5:6:7:0"), "1:2:3:4:5:6:7:0");
        assert_eq!(t("1:2:3:4:5:6:0:0"), "1:2:3:4:5:6::");
        assert_eq!(t("fe80::"), "fe80::");
    }
}
