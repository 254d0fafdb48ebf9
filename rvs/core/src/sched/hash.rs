// SPDX-License-Identifier: GPL-2.0

//! The kernel hash functions IPVS's hashing schedulers use, reproduced
//! bit-exactly so a given client maps to the same table slot as in IPVS.

/// The kernel's `GOLDEN_RATIO_32`.
pub const GOLDEN_RATIO_32: u32 = 0x61C8_8647;

/// The kernel's generic `hash_32(val, bits)`: multiply by the golden ratio
/// and keep the top `bits` bits (the best-mixed ones). `bits` is clamped to
/// 1..=32 so the shift cannot overflow.
pub const fn hash_32(val: u32, bits: u32) -> u32 {
    let bits = if bits == 0 {
        1
    } else if bits > 32 {
        32
    } else {
        bits
    };
    let h = val.wrapping_mul(GOLDEN_RATIO_32);
    // `bits` is 1..=32, so the shift is 0..=31.
    h >> (32 - bits)
}

/// An `hsiphash_key_t`: two `unsigned long`s. Stored as u64; the 32-bit
/// variant uses the low halves, as a 32-bit kernel's `unsigned long` holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HsipKey(pub [u64; 2]);

const SIP_C: [u64; 4] = [
    0x736f_6d65_7073_6575,
    0x646f_7261_6e64_6f6d,
    0x6c79_6765_6e65_7261,
    0x7465_6462_7974_6573,
];

/// One SipHash round (the published SipRound).
fn sip_round(v: &mut [u64; 4]) {
    v[0] = v[0].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(13) ^ v[0];
    v[0] = v[0].rotate_left(32);
    v[2] = v[2].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(16) ^ v[2];
    v[0] = v[0].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(21) ^ v[0];
    v[2] = v[2].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(17) ^ v[2];
    v[2] = v[2].rotate_left(32);
}

/// One HalfSipHash round (the published 32-bit SipRound).
fn half_sip_round(v: &mut [u32; 4]) {
    v[0] = v[0].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(5) ^ v[0];
    v[0] = v[0].rotate_left(16);
    v[2] = v[2].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(8) ^ v[2];
    v[0] = v[0].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(7) ^ v[0];
    v[2] = v[2].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(13) ^ v[2];
    v[2] = v[2].rotate_left(16);
}

/// `hsiphash` of a 4-byte message on a 64-bit kernel, where it is
/// SipHash-1-3 truncated to 32 bits. `msg` is the little-endian reading of
/// the 4 bytes hashed.
pub fn hsiphash_u32_64(msg: u32, key: &HsipKey) -> u32 {
    let [k0, k1] = key.0;
    let mut v = [SIP_C[0] ^ k0, SIP_C[1] ^ k1, SIP_C[2] ^ k0, SIP_C[3] ^ k1];
    // No full 8-byte block: the 4 bytes go into the final block with the
    // length in its top byte.
    let b = (4u64 << 56) | u64::from(msg);
    v[3] ^= b;
    sip_round(&mut v);
    v[0] ^= b;
    v[2] ^= 0xff;
    sip_round(&mut v);
    sip_round(&mut v);
    sip_round(&mut v);
    (v[0] ^ v[1] ^ v[2] ^ v[3]) as u32
}

/// `hsiphash` of a 4-byte message on a 32-bit kernel, where it is
/// HalfSipHash-1-3. `msg` is the little-endian reading of the 4 bytes.
pub fn hsiphash_u32_32(msg: u32, key: &HsipKey) -> u32 {
    let k0 = key.0[0] as u32;
    let k1 = key.0[1] as u32;
    let mut v = [k0, k1, 0x6c79_6765 ^ k0, 0x7465_6462 ^ k1];
    // One full 4-byte block, then an empty final block holding the length.
    v[3] ^= msg;
    half_sip_round(&mut v);
    v[0] ^= msg;
    let b = 4u32 << 24;
    v[3] ^= b;
    half_sip_round(&mut v);
    v[0] ^= b;
    v[2] ^= 0xff;
    half_sip_round(&mut v);
    half_sip_round(&mut v);
    half_sip_round(&mut v);
    v[1] ^ v[3]
}

/// `hsiphash(&v, sizeof(v), key)` for a native `u32 v`, as the kernel this
/// code is built for computes it: the variant follows the pointer width,
/// and the bytes of `v` are read little-endian whatever the host order.
pub fn hsiphash_u32(v: u32, key: &HsipKey) -> u32 {
    let msg = u32::from_le_bytes(v.to_ne_bytes());
    if cfg!(target_pointer_width = "64") {
        hsiphash_u32_64(msg, key)
    } else {
        hsiphash_u32_32(msg, key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_32_matches_kernel() {
        // (val * 0x61C88647) >> 24, computed independently.
        assert_eq!(hash_32(0x0a00_0001, 8), 39);
        assert_eq!(hash_32(0x0a00_0001 + 80, 8), 182);
        assert_eq!(hash_32(0xc0a8_0001, 8), 192);
        assert_eq!(hash_32(1, 8), 97);
        assert_eq!(hash_32(0, 8), 0);
        assert_eq!(hash_32(1, 32), GOLDEN_RATIO_32);
        // Out-of-range bit counts do not panic.
        let _ = hash_32(5, 0);
        let _ = hash_32(5, 99);
    }

    #[test]
    fn hsiphash_reference_vectors() {
        // The 4-byte vectors (message 00 01 02 03) of the SipHash reference
        // test suite the kernel checks itself against.
        let key64 = HsipKey([0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908]);
        assert_eq!(hsiphash_u32_64(0x0302_0100, &key64), 0x88d3_8328);
        let key32 = HsipKey([0x0302_0100, 0x0706_0504]);
        assert_eq!(hsiphash_u32_32(0x0302_0100, &key32), 0x7e05_9ea6);
        #[cfg(all(target_pointer_width = "64", target_endian = "little"))]
        assert_eq!(hsiphash_u32(0x0302_0100, &key64), 0x88d3_8328);
    }

    #[test]
    #[allow(deprecated)]
    fn sip_round_is_siphash() {
        // SipHash-2-4 built from our round matches core's implementation,
        // so the round and finalization are the published ones.
        use core::hash::{Hasher, SipHasher};
        let (k0, k1) = (0x0706_0504_0302_0100u64, 0x0f0e_0d0c_0b0a_0908u64);
        let msg = 0xdead_beefu32;
        let mut v = [SIP_C[0] ^ k0, SIP_C[1] ^ k1, SIP_C[2] ^ k0, SIP_C[3] ^ k1];
        let b = (4u64 << 56) | u64::from(msg);
        v[3] ^= b;
        sip_round(&mut v);
        sip_round(&mut v);
        v[0] ^= b;
        v[2] ^= 0xff;
        for _ in 0..4 {
            sip_round(&mut v);
        }
        let ours = v[0] ^ v[1] ^ v[2] ^ v[3];
        let mut h = SipHasher::new_with_keys(k0, k1);
        h.write(&msg.to_le_bytes());
        assert_eq!(ours, h.finish());
    }
}
