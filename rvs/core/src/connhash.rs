// SPDX-License-Identifier: GPL-2.0

//! The connection table's hash: bucket of (protocol, client address, client
//! port), the part of a connection both directions of its traffic carry,
//! as in IPVS. Keyed by a random seed chosen at load time so that clients
//! cannot aim at one bucket.

/// The hash of a connection's (protocol, client address, client port).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub struct Hash(u64);

impl Hash {
    /// Each input bit reaches every output bit through the seeded
    /// finaliser, and no two keys make the same word before it: were the
    /// port folded onto address bits, pairs of spoofed sources with
    /// matching ports would collide whatever the seed (a hash flood).
    pub fn of(seed: u64, protocol: u8, addr: &[u8; 16], port: u16) -> Self {
        let a = addr;
        let lo = u64::from_le_bytes([a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]]);
        let hi = u64::from_le_bytes([a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15]]);
        let rest = u64::from(port) | (u64::from(protocol) << 16);
        if hi == 0 && lo >> 32 == 0 {
            // An IPv4 address (the first four bytes): address, port and
            // protocol fit one word side by side.
            return Self(mix(seed ^ lo ^ (rest << 32)));
        }
        Self(mix(mix(mix(seed ^ lo) ^ hi) ^ rest))
    }

    /// The bucket index, for a table of `1 << bits` buckets: the top bits.
    pub fn bucket(self, bits: u32) -> usize {
        let bits = bits.clamp(1, 31);
        (self.0 >> (64 - bits)) as usize
    }

    /// The low 32 bits, which no bucket index uses: kept in each entry, so
    /// that a walk down a long chain compares one word per entry and reads
    /// the rest of an entry only when this matches.
    pub fn tag(self) -> u32 {
        self.0 as u32
    }
}

/// The bucket index of a connection, for a table of `1 << bits` buckets.
pub fn bucket(seed: u64, protocol: u8, addr: &[u8; 16], port: u16, bits: u32) -> usize {
    Hash::of(seed, protocol, addr, port).bucket(bits)
}

/// A 64-bit finaliser (splitmix64): every input bit affects every output
/// bit.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;

    #[test]
    fn in_range_and_spread() {
        let bits = 12;
        let mut counts = vec![0u32; 1 << bits];
        for i in 0..100_000u32 {
            let mut a = [0u8; 16];
            a[..4].copy_from_slice(&(0x0a00_0000 + i / 64).to_be_bytes());
            let b = bucket(42, 6, &a, 1024 + (i % 64) as u16, bits);
            counts[b] += 1;
        }
        let max = *counts.iter().max().unwrap();
        // 100k keys over 4096 buckets: about 24 each; no bucket near 4x.
        assert!(max < 80, "max bucket {max}");
    }

    #[test]
    fn tag_is_independent_of_the_bucket() {
        // Keys of one bucket (top bits equal) still differ in their tags:
        // the tag is what a chain walk compares first.
        let mut tags = std::collections::BTreeSet::new();
        let mut in_bucket = 0;
        for i in 0..200_000u32 {
            let mut a = [0u8; 16];
            a[..4].copy_from_slice(&(0x0a00_0000 + i).to_be_bytes());
            let h = Hash::of(7, 6, &a, 80);
            if h.bucket(8) == 3 {
                in_bucket += 1;
                tags.insert(h.tag());
            }
        }
        assert!(in_bucket > 500, "{in_bucket}");
        assert_eq!(tags.len(), in_bucket);
        assert_eq!(Hash::of(7, 6, &[1; 16], 80), Hash::of(7, 6, &[1; 16], 80));
        assert_ne!(
            Hash::of(7, 6, &[1; 16], 80).tag(),
            Hash::of(7, 17, &[1; 16], 80).tag()
        );
    }

    #[test]
    fn no_collisions_whatever_the_seed() {
        // Sources whose address bytes and port differ so as to cancel out
        // if they were folded onto each other: every key its own hash.
        for seed in [0u64, 1, 0xdead_beef] {
            let mut seen = std::collections::BTreeSet::new();
            for x in 0..256u16 {
                for (v6, hi) in [(false, 0u8), (true, 0x20)] {
                    let mut a = [0u8; 16];
                    a[0] = 10 ^ (x as u8);
                    a[1] = (x >> 8) as u8;
                    a[15] = if v6 { hi } else { 0 };
                    let port = 1000 ^ x;
                    assert!(
                        seen.insert(Hash::of(seed, 6, &a, port)),
                        "seed {seed} x {x} v6 {v6}"
                    );
                }
            }
        }
        // Protocol and port are not interchangeable either.
        let a = [192, 0, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_ne!(Hash::of(3, 6, &a, 17), Hash::of(3, 17, &a, 6));
    }

    #[test]
    fn seed_changes_layout() {
        let a = [1u8; 16];
        let same = (0..64u16)
            .filter(|&p| bucket(1, 17, &a, p, 12) == bucket(2, 17, &a, p, 12))
            .count();
        assert!(same < 8);
    }
}
