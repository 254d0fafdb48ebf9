// SPDX-License-Identifier: GPL-2.0

//! The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
//!
//! # Conventions
//!
//! - A checksum field is handled as the `u16` read big-endian from its two
//!   bytes (`u16::from_be_bytes`), and written back with `to_be_bytes`.
//!   A 16-bit field being replaced (a port, a length) is passed the same
//!   way; 32-bit and 128-bit fields (addresses) as their bytes.
//! - A running sum is a `u32` with end-around carry, like the kernel's
//!   `__wsum`: only its value modulo 0xFFFF matters. [`fold`] reduces it
//!   to 16 bits; [`finish`] also complements it, giving the value to
//!   store in a checksum field.
//!
//! # Full versus pseudo-header updates
//!
//! When NAT rewrites an address or a port, the transport checksum is
//! patched rather than recomputed. Which patch is right depends on what
//! the checksum field holds, i.e. on the packet's `skb->ip_summed`:
//!
//! - **Full** ([`replace2`], [`replace4`], [`replace16`]): the field holds
//!   a finished checksum over pseudo-header, header and payload. That is
//!   the case for every received packet (`CHECKSUM_NONE`,
//!   `CHECKSUM_UNNECESSARY`, `CHECKSUM_COMPLETE`) and for locally built
//!   packets whose checksum is already done. Patch it for *every* changed
//!   covered field: addresses (they are in the pseudo-header), ports,
//!   payload. The IPv4 header checksum is always of this kind. (IPVS then
//!   downgrades a `CHECKSUM_COMPLETE` packet to `CHECKSUM_NONE` rather
//!   than patching `skb->csum`.)
//! - **Pseudo** ([`replace2_pseudo`], [`replace4_pseudo`],
//!   [`replace16_pseudo`]): the packet is `CHECKSUM_PARTIAL` (the checksum
//!   is left to the NIC or to `skb_checksum_help`). The field then holds
//!   only the folded, *uncomplemented* sum of the pseudo-header (the
//!   kernel stores `~csum_tcpudp_magic(saddr, daddr, len, proto, 0)`), and
//!   the device will add the transport header and payload later. Patch it
//!   only for changes of pseudo-header fields (addresses, the transport
//!   length); a port change needs no patch at all. This is the kernel's
//!   `inet_proto_csum_replace4(..., pseudohdr = true)` on a
//!   `CHECKSUM_PARTIAL` skb, and IPVS's `tcp_partial_csum_update`.
//!
//! [`proto_replace2`], [`proto_replace4`] and [`proto_replace16`] make the
//! choice from a [`CsumMode`], with the kernel's `inet_proto_csum_replace*`
//! semantics.
//!
//! UDP adds one rule on top of the full update (see [`udp_replace4`]):
//! over IPv4 a zero checksum means "no checksum" and must stay zero, and a
//! checksum that computes to zero is sent as 0xFFFF.

#![warn(missing_docs)]

/// Adds two running sums with end-around carry (the kernel's `csum_add`).
pub const fn add(a: u32, b: u32) -> u32 {
    let (s, carry) = a.overflowing_add(b);
    // On carry `s` is at most 0xFFFF_FFFE, so adding 1 cannot overflow.
    s.wrapping_add(carry as u32)
}

/// Subtracts `b` from a running sum (the kernel's `csum_sub`).
pub const fn sub(a: u32, b: u32) -> u32 {
    add(a, !b)
}

/// Adds `data` to the running sum `initial`, as big-endian 16-bit words;
/// an odd final byte is padded with a zero byte. `data` must start at an
/// even offset of the checksummed region (only the last piece of a
/// region may have an odd length).
pub fn partial(data: &[u8], initial: u32) -> u32 {
    let mut acc = initial;
    // 32-bit words: 2^16 = 1 (mod 0xFFFF), so this equals the 16-bit sum.
    let mut words = data.chunks_exact(4);
    for w in &mut words {
        if let [a, b, c, d] = *w {
            acc = add(acc, u32::from_be_bytes([a, b, c, d]));
        }
    }
    let tail = match *words.remainder() {
        [a, b, c] => u32::from_be_bytes([a, b, c, 0]),
        [a, b] => u32::from_be_bytes([a, b, 0, 0]),
        [a] => u32::from_be_bytes([a, 0, 0, 0]),
        _ => 0,
    };
    add(acc, tail)
}

/// Folds a running sum to 16 bits, without complementing it.
pub const fn fold(sum: u32) -> u16 {
    let s = (sum & 0xFFFF) + (sum >> 16);
    // The first step leaves at most 0x1FFFE; the second at most 0xFFFF.
    let s = (s & 0xFFFF) + (s >> 16);
    s as u16
}

/// Folds and complements a running sum: the value for a checksum field
/// (the kernel's `csum_fold`).
pub const fn finish(sum: u32) -> u16 {
    !fold(sum)
}

/// The Internet checksum of `data`, whose checksum field (if any) must be
/// zero.
pub fn checksum(data: &[u8]) -> u16 {
    finish(partial(data, 0))
}

/// Offset of the header checksum in an IPv4 header.
const IPV4_CHECK: usize = 10;

/// The header checksum of the IPv4 header `hdr` (exactly the header:
/// `IHL * 4` bytes), computed as if its checksum field were zero. `None`
/// if `hdr` is shorter than 20 bytes.
pub fn ipv4_header_checksum(hdr: &[u8]) -> Option<u16> {
    if hdr.len() < 20 {
        return None;
    }
    let before = hdr.get(..IPV4_CHECK)?;
    let after = hdr.get(IPV4_CHECK + 2..)?;
    Some(finish(partial(after, partial(before, 0))))
}

/// Whether the IPv4 header `hdr` (exactly `IHL * 4` bytes) has a correct
/// checksum: the sum over the whole header, field included, is 0xFFFF.
pub fn ipv4_header_valid(hdr: &[u8]) -> bool {
    hdr.len() >= 20 && fold(partial(hdr, 0)) == 0xFFFF
}

/// Recomputes and stores the checksum of the IPv4 header `hdr` (exactly
/// `IHL * 4` bytes). Returns false, changing nothing, if `hdr` is shorter
/// than 20 bytes.
pub fn ipv4_header_fill(hdr: &mut [u8]) -> bool {
    let Some(c) = ipv4_header_checksum(hdr) else {
        return false;
    };
    super::packet::put_array(hdr, IPV4_CHECK, &c.to_be_bytes()).is_some()
}

/// Running sum of the IPv4 pseudo-header: addresses, protocol and the
/// transport length (header plus payload).
pub fn pseudo_v4(saddr: &[u8; 4], daddr: &[u8; 4], proto: u8, len: u16) -> u32 {
    let s = partial(saddr, 0);
    let s = partial(daddr, s);
    add(add(s, u32::from(proto)), u32::from(len))
}

/// Running sum of the IPv6 pseudo-header (RFC 8200 section 8.1):
/// addresses, the 32-bit upper-layer length and the next header value.
pub fn pseudo_v6(saddr: &[u8; 16], daddr: &[u8; 16], proto: u8, len: u32) -> u32 {
    let s = partial(saddr, 0);
    let s = partial(daddr, s);
    add(add(s, len), u32::from(proto))
}

/// The finished transport checksum of `segment` (transport header plus
/// payload, checksum field zero) under the pseudo-header sum `pseudo`.
/// For UDP pass the result through [`udp_final`].
pub fn l4_checksum(pseudo: u32, segment: &[u8]) -> u16 {
    finish(partial(segment, pseudo))
}

/// Whether `segment`, checksum field included, checks out under the
/// pseudo-header sum `pseudo`. (A UDP/IPv4 zero checksum, meaning "none",
/// must be tested for by the caller before.)
pub fn l4_valid(pseudo: u32, segment: &[u8]) -> bool {
    fold(partial(segment, pseudo)) == 0xFFFF
}

/// What a CHECKSUM_PARTIAL packet's transport checksum field holds: the
/// folded pseudo-header sum, uncomplemented.
pub const fn partial_seed(pseudo: u32) -> u16 {
    fold(pseudo)
}

/// A UDP checksum as sent: a computed 0 goes out as 0xFFFF, since 0 on
/// the wire means "no checksum" (the kernel's `CSUM_MANGLED_0`).
pub const fn udp_final(check: u16) -> u16 {
    if check == 0 {
        0xFFFF
    } else {
        check
    }
}

/// The running sum of replacing the 16-bit value `old` by `new`, for
/// [`replace_by_diff`] (one's complement `~old + new`).
pub const fn diff2(old: u16, new: u16) -> u32 {
    add((!old) as u32, new as u32)
}

/// The running sum of replacing 4 bytes `old` by `new`.
pub const fn diff4(old: [u8; 4], new: [u8; 4]) -> u32 {
    add(!u32::from_be_bytes(old), u32::from_be_bytes(new))
}

/// The running sum of replacing 16 bytes `old` by `new`.
pub fn diff16(old: &[u8; 16], new: &[u8; 16]) -> u32 {
    // Plain indexing of fixed arrays: no iterator adaptor whose
    // constructor could panic ends up in the kernel build.
    let mut d = 0;
    let mut i = 0;
    while i + 4 <= 16 {
        let o = [old[i], old[i + 1], old[i + 2], old[i + 3]];
        let n = [new[i], new[i + 1], new[i + 2], new[i + 3]];
        d = add(d, diff4(o, n));
        i += 4;
    }
    d
}

/// Full update by a difference sum from [`diff2`], [`diff4`],
/// [`diff16`] (combined with [`add`]): `HC' = ~(~HC + diff)`, RFC 1624
/// eqn. 3.
pub const fn replace_by_diff(check: u16, diff: u32) -> u16 {
    finish(add((!check) as u32, diff))
}

/// Pseudo-header update by a difference sum, for CHECKSUM_PARTIAL
/// packets: the field is a plain (uncomplemented) sum, so the difference
/// is simply added.
pub const fn replace_by_diff_pseudo(check: u16, diff: u32) -> u16 {
    fold(add(check as u32, diff))
}

/// Full update of `check` for a 16-bit field going from `old` to `new`.
pub const fn replace2(check: u16, old: u16, new: u16) -> u16 {
    replace_by_diff(check, diff2(old, new))
}

/// Full update of `check` for a 32-bit field (an IPv4 address) going
/// from `old` to `new`.
pub const fn replace4(check: u16, old: [u8; 4], new: [u8; 4]) -> u16 {
    replace_by_diff(check, diff4(old, new))
}

/// Full update of `check` for an IPv6 address going from `old` to `new`.
pub fn replace16(check: u16, old: &[u8; 16], new: &[u8; 16]) -> u16 {
    replace_by_diff(check, diff16(old, new))
}

/// Pseudo-header update of a CHECKSUM_PARTIAL field for a 16-bit
/// pseudo-header value (the transport length) going from `old` to `new`.
pub const fn replace2_pseudo(check: u16, old: u16, new: u16) -> u16 {
    replace_by_diff_pseudo(check, diff2(old, new))
}

/// Pseudo-header update of a CHECKSUM_PARTIAL field for an IPv4 address
/// going from `old` to `new`.
pub const fn replace4_pseudo(check: u16, old: [u8; 4], new: [u8; 4]) -> u16 {
    replace_by_diff_pseudo(check, diff4(old, new))
}

/// Pseudo-header update of a CHECKSUM_PARTIAL field for an IPv6 address
/// going from `old` to `new`.
pub fn replace16_pseudo(check: u16, old: &[u8; 16], new: &[u8; 16]) -> u16 {
    replace_by_diff_pseudo(check, diff16(old, new))
}

/// What a packet's transport checksum field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CsumMode {
    /// A finished checksum (every `ip_summed` but `CHECKSUM_PARTIAL`).
    Full,
    /// The pseudo-header sum only (`CHECKSUM_PARTIAL`).
    Partial,
}

/// Update for a difference sum in either mode, as the kernel's
/// `inet_proto_csum_replace_by_diff`: `pseudohdr` says whether the changed
/// field is part of the pseudo-header; if not, a `Partial` field is left
/// alone.
pub const fn proto_replace_by_diff(check: u16, mode: CsumMode, diff: u32, pseudohdr: bool) -> u16 {
    match mode {
        CsumMode::Full => replace_by_diff(check, diff),
        CsumMode::Partial if pseudohdr => replace_by_diff_pseudo(check, diff),
        CsumMode::Partial => check,
    }
}

/// [`replace2`] or [`replace2_pseudo`] by mode, as the kernel's
/// `inet_proto_csum_replace2`.
pub const fn proto_replace2(
    check: u16,
    mode: CsumMode,
    old: u16,
    new: u16,
    pseudohdr: bool,
) -> u16 {
    proto_replace_by_diff(check, mode, diff2(old, new), pseudohdr)
}

/// [`replace4`] or [`replace4_pseudo`] by mode, as the kernel's
/// `inet_proto_csum_replace4` (minus its `skb->csum` fix-up).
pub const fn proto_replace4(
    check: u16,
    mode: CsumMode,
    old: [u8; 4],
    new: [u8; 4],
    pseudohdr: bool,
) -> u16 {
    proto_replace_by_diff(check, mode, diff4(old, new), pseudohdr)
}

/// [`replace16`] or [`replace16_pseudo`] by mode, as the kernel's
/// `inet_proto_csum_replace16`.
pub fn proto_replace16(
    check: u16,
    mode: CsumMode,
    old: &[u8; 16],
    new: &[u8; 16],
    pseudohdr: bool,
) -> u16 {
    proto_replace_by_diff(check, mode, diff16(old, new), pseudohdr)
}

/// Full update of a UDP checksum by a difference sum: a zero checksum
/// ("none" over IPv4; invalid over IPv6, where the stack drops such
/// packets before NAT) stays zero, and a result of zero becomes 0xFFFF.
/// For CHECKSUM_PARTIAL packets use [`replace_by_diff_pseudo`] instead;
/// no special case applies there.
pub const fn udp_replace_by_diff(check: u16, diff: u32) -> u16 {
    if check == 0 {
        0
    } else {
        udp_final(replace_by_diff(check, diff))
    }
}

/// [`replace2`] for a UDP checksum (see [`udp_replace_by_diff`]).
pub const fn udp_replace2(check: u16, old: u16, new: u16) -> u16 {
    udp_replace_by_diff(check, diff2(old, new))
}

/// [`replace4`] for a UDP checksum (see [`udp_replace_by_diff`]).
pub const fn udp_replace4(check: u16, old: [u8; 4], new: [u8; 4]) -> u16 {
    udp_replace_by_diff(check, diff4(old, new))
}

/// [`replace16`] for a UDP checksum (see [`udp_replace_by_diff`]).
pub fn udp_replace16(check: u16, old: &[u8; 16], new: &[u8; 16]) -> u16 {
    udp_replace_by_diff(check, diff16(old, new))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    /// The RFC 1071 section 3 example.
    #[test]
    fn rfc1071_example() {
        let d = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(fold(partial(&d, 0)), 0xddf2);
        assert_eq!(checksum(&d), !0xddf2);
        // Split at an even offset gives the same sum.
        assert_eq!(partial(&d[4..], partial(&d[..4], 0)), partial(&d, 0));
        // Odd tail padded with zero.
        assert_eq!(fold(partial(&[0x12, 0x34, 0x56], 0)), 0x1234 + 0x5600);
        assert_eq!(checksum(&[]), 0xFFFF);
    }

    /// A well-known IPv4 header (Wikipedia's example): checksum 0xB861.
    #[test]
    fn ipv4_header_vector() {
        let mut h = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert_eq!(ipv4_header_checksum(&h), Some(0xb861));
        assert!(ipv4_header_valid(&h));
        h[11] = 0;
        assert!(!ipv4_header_valid(&h));
        assert!(ipv4_header_fill(&mut h));
        assert_eq!(h[10..12], [0xb8, 0x61]);
        // TTL decrement patched incrementally (TTL and protocol share a word).
        let c = replace2(0xb861, 0x4011, 0x3f11);
        h[8] = 0x3f;
        assert_eq!(ipv4_header_checksum(&h), Some(c));
        assert_eq!(ipv4_header_checksum(&h[..19]), None);
        assert!(!ipv4_header_fill(&mut [0u8; 4]));
    }

    #[test]
    fn add_carries_around() {
        assert_eq!(add(0xFFFF_FFFF, 1), 1);
        assert_eq!(add(0xFFFF_FFFF, 0xFFFF_FFFF), 0xFFFF_FFFF);
        assert_eq!(fold(0xFFFF_FFFF), 0xFFFF);
        assert_eq!(fold(0x1_FFFE), 0xFFFF);
        assert_eq!(sub(5, 5), 0xFFFF_FFFF);
        assert_eq!(fold(sub(7, 5)), 2);
    }

    #[test]
    fn udp_zero_rules() {
        assert_eq!(udp_final(0), 0xFFFF);
        assert_eq!(udp_final(0x1234), 0x1234);
        assert_eq!(udp_replace2(0, 1000, 2000), 0);
        assert_eq!(udp_replace4(0, [1, 2, 3, 4], [5, 6, 7, 8]), 0);
        // A full update that gives 0 is sent as 0xFFFF: a sum of 0xFFFE
        // (checksum 1) plus one more gives the sum 0xFFFF, checksum 0.
        assert_eq!(replace2(1, 0, 1), 0);
        assert_eq!(udp_replace2(1, 0, 1), 0xFFFF);
    }

    /// A transport segment over a pseudo-header: its checksum field at
    /// `coff` is filled in.
    struct Seg {
        bytes: Vec<u8>,
        coff: usize,
    }

    fn build(pseudo: u32, mut bytes: Vec<u8>, coff: usize, udp: bool) -> Seg {
        bytes[coff] = 0;
        bytes[coff + 1] = 0;
        let mut c = l4_checksum(pseudo, &bytes);
        if udp {
            c = udp_final(c);
        }
        bytes[coff..coff + 2].copy_from_slice(&c.to_be_bytes());
        Seg { bytes, coff }
    }

    impl Seg {
        fn check(&self) -> u16 {
            u16::from_be_bytes([self.bytes[self.coff], self.bytes[self.coff + 1]])
        }
        fn set_port(&mut self, i: usize, p: u16) -> u16 {
            let old = u16::from_be_bytes([self.bytes[i], self.bytes[i + 1]]);
            self.bytes[i..i + 2].copy_from_slice(&p.to_be_bytes());
            old
        }
    }

    fn seg_bytes(min: usize) -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(any::<u8>(), min..200)
    }

    proptest! {
        /// TCP/IPv4 DNAT: destination address and port rewritten.
        #[test]
        fn v4_nat_matches_recompute(
            s in any::<[u8; 4]>(), d in any::<[u8; 4]>(), nd in any::<[u8; 4]>(),
            np in any::<u16>(), bytes in seg_bytes(20), tcp in any::<bool>(),
        ) {
            let (proto, coff) = if tcp { (6, 16) } else { (17, 6) };
            let len = bytes.len() as u16;
            let mut seg = build(pseudo_v4(&s, &d, proto, len), bytes, coff, !tcp);
            let old_port = seg.set_port(2, np);
            let c = if tcp {
                replace2(replace4(seg.check(), d, nd), old_port, np)
            } else {
                udp_replace2(udp_replace4(seg.check(), d, nd), old_port, np)
            };
            let want = build(pseudo_v4(&s, &nd, proto, len), seg.bytes.clone(), coff, !tcp);
            prop_assert_eq!(c, want.check());
            seg.bytes[coff..coff + 2].copy_from_slice(&c.to_be_bytes());
            prop_assert!(l4_valid(pseudo_v4(&s, &nd, proto, len), &seg.bytes));
        }

        /// The same with the diff helpers combined into one update.
        #[test]
        fn combined_diff(
            s in any::<[u8; 4]>(), ns in any::<[u8; 4]>(), d in any::<[u8; 4]>(),
            np in any::<u16>(), bytes in seg_bytes(20),
        ) {
            let len = bytes.len() as u16;
            let mut seg = build(pseudo_v4(&s, &d, 6, len), bytes, 16, false);
            let op = seg.set_port(0, np);
            let c = replace_by_diff(seg.check(), add(diff4(s, ns), diff2(op, np)));
            let want = build(pseudo_v4(&ns, &d, 6, len), seg.bytes.clone(), 16, false);
            prop_assert_eq!(c, want.check());
        }

        /// TCP/IPv6 SNAT: source address and port rewritten.
        #[test]
        fn v6_nat_matches_recompute(
            s in any::<[u8; 16]>(), ns in any::<[u8; 16]>(), d in any::<[u8; 16]>(),
            np in any::<u16>(), bytes in seg_bytes(8), tcp in any::<bool>(),
        ) {
            let (proto, coff) = if tcp { (6u8, 16usize) } else { (17, 6) };
            prop_assume!(bytes.len() >= coff + 2);
            let len = bytes.len() as u32;
            let mut seg = build(pseudo_v6(&s, &d, proto, len), bytes, coff, !tcp);
            let op = seg.set_port(0, np);
            let c = if tcp {
                replace2(replace16(seg.check(), &s, &ns), op, np)
            } else {
                udp_replace2(udp_replace16(seg.check(), &s, &ns), op, np)
            };
            let want = build(pseudo_v6(&ns, &d, proto, len), seg.bytes.clone(), coff, !tcp);
            prop_assert_eq!(c, want.check());
        }

        /// CHECKSUM_PARTIAL: the field holds the pseudo-header sum; ports
        /// do not touch it, addresses and length do.
        #[test]
        fn partial_updates_track_the_pseudo_header(
            s in any::<[u8; 4]>(), d in any::<[u8; 4]>(), nd in any::<[u8; 4]>(),
            s6 in any::<[u8; 16]>(), d6 in any::<[u8; 16]>(), nd6 in any::<[u8; 16]>(),
            len in 8u16..1500, nlen in 8u16..1500, op in any::<u16>(), np in any::<u16>(),
        ) {
            let seed = partial_seed(pseudo_v4(&s, &d, 6, len));
            let c = proto_replace4(seed, CsumMode::Partial, d, nd, true);
            let c = proto_replace2(c, CsumMode::Partial, len, nlen, true);
            let c = proto_replace2(c, CsumMode::Partial, op, np, false);
            prop_assert_eq!(c, partial_seed(pseudo_v4(&s, &nd, 6, nlen)));

            let seed = partial_seed(pseudo_v6(&s6, &d6, 17, u32::from(len)));
            let c = proto_replace16(seed, CsumMode::Partial, &d6, &nd6, true);
            let c = replace2_pseudo(c, len, nlen);
            prop_assert_eq!(c, partial_seed(pseudo_v6(&s6, &nd6, 17, u32::from(nlen))));
            prop_assert_eq!(
                replace4_pseudo(seed, d, nd),
                proto_replace4(seed, CsumMode::Partial, d, nd, true)
            );
        }

        /// The mode-driven helpers agree with the direct ones.
        #[test]
        fn proto_helpers(c in any::<u16>(), o in any::<[u8; 16]>(), n in any::<[u8; 16]>()) {
            prop_assert_eq!(proto_replace16(c, CsumMode::Full, &o, &n, false), replace16(c, &o, &n));
            prop_assert_eq!(proto_replace16(c, CsumMode::Partial, &o, &n, true), replace16_pseudo(c, &o, &n));
            prop_assert_eq!(proto_replace16(c, CsumMode::Partial, &o, &n, false), c);
        }

        /// Rewriting an IPv4 header's addresses and TTL incrementally.
        #[test]
        fn ipv4_header_incremental(mut h in any::<[u8; 20]>(), ns in any::<[u8; 4]>()) {
            h[0] = 0x45;
            prop_assume!(ipv4_header_fill(&mut h));
            let c = u16::from_be_bytes([h[10], h[11]]);
            let old: [u8; 4] = h[12..16].try_into().unwrap();
            h[12..16].copy_from_slice(&ns);
            let c = replace4(c, old, ns);
            let want = ipv4_header_checksum(&h).unwrap();
            prop_assert_eq!(c, want);
        }

        #[test]
        fn partial_is_split_invariant(bytes in seg_bytes(0), cut in 0usize..100) {
            let cut = (cut * 2).min(bytes.len() & !1);
            prop_assert_eq!(
                fold(partial(&bytes[cut..], partial(&bytes[..cut], 0))),
                fold(partial(&bytes, 0))
            );
            // 16-bit reference sum.
            let mut r: u32 = 0;
            for w in bytes.chunks(2) {
                let v = u32::from(w[0]) << 8 | u32::from(w.get(1).copied().unwrap_or(0));
                r += v;
                r = (r & 0xFFFF) + (r >> 16);
            }
            prop_assert_eq!(fold(partial(&bytes, 0)), fold(r));
        }
    }
}
