// SPDX-License-Identifier: GPL-2.0

//! Netlink attribute framing (`struct nlattr`) over plain byte slices.
//!
//! The kernel side validates attributes against the family policy before a
//! handler runs; nested attribute sets are then split here, without
//! allocation, into a table indexed by attribute type.

/// Size of `struct nlattr`.
pub const HDRLEN: usize = 4;
/// Attributes are padded to this alignment.
pub const ALIGNTO: usize = 4;
/// Flag bits that may be set in `nla_type`.
pub const F_NESTED: u16 = 1 << 15;
pub const F_NET_BYTEORDER: u16 = 1 << 14;
pub const TYPE_MASK: u16 = !(F_NESTED | F_NET_BYTEORDER);

/// Rounds `len` up to the attribute alignment.
pub const fn align(len: usize) -> usize {
    (len + ALIGNTO - 1) & !(ALIGNTO - 1)
}

/// Why a buffer is not a well-formed attribute stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NlaError {
    /// An attribute header or payload runs past the end of the buffer.
    Truncated,
    /// An attribute type beyond the table.
    UnknownType(u16),
}

/// Iterates over the `(type, payload)` pairs of an attribute stream.
pub struct Iter<'a> {
    rest: &'a [u8],
}

impl<'a> Iter<'a> {
    /// Starts iterating over `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { rest: buf }
    }
}

impl<'a> Iterator for Iter<'a> {
    type Item = Result<(u16, &'a [u8]), NlaError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.len() < HDRLEN {
            // Trailing bytes shorter than a header are ignored, as the
            // kernel's nla_for_each_attr does.
            return None;
        }
        let len = u16::from_ne_bytes([self.rest[0], self.rest[1]]) as usize;
        let kind = u16::from_ne_bytes([self.rest[2], self.rest[3]]) & TYPE_MASK;
        if len < HDRLEN || len > self.rest.len() {
            self.rest = &[];
            return Some(Err(NlaError::Truncated));
        }
        let payload = &self.rest[HDRLEN..len];
        let next = align(len).min(self.rest.len());
        self.rest = &self.rest[next..];
        Some(Ok((kind, payload)))
    }
}

/// Splits an attribute stream into a table indexed by type: `N` is the
/// highest accepted type plus one. A repeated attribute keeps the last
/// occurrence, as the kernel's parser does.
pub fn parse<const N: usize>(buf: &[u8]) -> Result<[Option<&[u8]>; N], NlaError> {
    let mut table: [Option<&[u8]>; N] = [None; N];
    for item in Iter::new(buf) {
        let (kind, payload) = item?;
        match table.get_mut(kind as usize) {
            Some(slot) if kind != 0 => *slot = Some(payload),
            _ => return Err(NlaError::UnknownType(kind)),
        }
    }
    Ok(table)
}

/// Reads a `u8` payload.
pub fn get_u8(p: &[u8]) -> Option<u8> {
    match *p {
        [v] => Some(v),
        _ => None,
    }
}

/// Reads a host-order `u16` payload.
pub fn get_u16(p: &[u8]) -> Option<u16> {
    Some(u16::from_ne_bytes(p.get(..2)?.try_into().ok()?)).filter(|_| p.len() == 2)
}

/// Reads a network-order `u16` payload (ports).
pub fn get_be16(p: &[u8]) -> Option<u16> {
    get_u16(p).map(u16::from_be)
}

/// Reads a host-order `u32` payload.
pub fn get_u32(p: &[u8]) -> Option<u32> {
    Some(u32::from_ne_bytes(p.get(..4)?.try_into().ok()?)).filter(|_| p.len() == 4)
}

/// Reads a host-order `u64` payload.
pub fn get_u64(p: &[u8]) -> Option<u64> {
    Some(u64::from_ne_bytes(p.get(..8)?.try_into().ok()?)).filter(|_| p.len() == 8)
}

/// Reads a NUL-terminated string payload, without the NUL.
pub fn get_str(p: &[u8]) -> Option<&str> {
    let end = p.iter().position(|&b| b == 0)?;
    core::str::from_utf8(&p[..end]).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    fn attr(kind: u16, payload: &[u8]) -> Vec<u8> {
        let len = (HDRLEN + payload.len()) as u16;
        let mut v = Vec::new();
        v.extend_from_slice(&len.to_ne_bytes());
        v.extend_from_slice(&kind.to_ne_bytes());
        v.extend_from_slice(payload);
        while v.len() % ALIGNTO != 0 {
            v.push(0);
        }
        v
    }

    #[test]
    fn parses_into_table() {
        let mut buf = attr(1, &7u16.to_ne_bytes());
        buf.extend(attr(3, b"wlc\0"));
        buf.extend(attr(2, &0x1234_5678u32.to_ne_bytes()));
        let t = parse::<4>(&buf).unwrap();
        assert_eq!(get_u16(t[1].unwrap()), Some(7));
        assert_eq!(get_u32(t[2].unwrap()), Some(0x1234_5678));
        assert_eq!(get_str(t[3].unwrap()), Some("wlc"));
        assert!(t[0].is_none());
    }

    #[test]
    fn rejects_unknown_and_truncated() {
        assert_eq!(parse::<3>(&attr(5, &[1, 2])), Err(NlaError::UnknownType(5)));
        let mut buf = attr(1, &[0; 8]);
        buf.truncate(6);
        assert_eq!(parse::<3>(&buf), Err(NlaError::Truncated));
    }

    #[test]
    fn integer_getters_want_exact_length() {
        assert_eq!(get_u32(&[1, 2, 3]), None);
        assert_eq!(get_u32(&[0; 5]), None);
        assert_eq!(get_u16(&[0; 3]), None);
        assert_eq!(get_be16(&[0x1f, 0x90]), Some(8080));
    }

    proptest! {
        #[test]
        fn never_panics_on_garbage(buf in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = parse::<8>(&buf);
            for item in Iter::new(&buf) {
                if let Ok((_, p)) = item {
                    let _ = (get_u16(p), get_u32(p), get_u64(p), get_str(p));
                }
            }
        }
    }
}
