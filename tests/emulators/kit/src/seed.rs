//! Seeded, deterministic data: the same seed gives the same store on any
//! machine and any day. A vendor seeds each record from its own generator
//! ([`record_rng`]), so record `index` is the same whatever the number of
//! records, and recomputes what it does not store (activity, request ids)
//! from [`mix`]. People and their addresses come from [`crate::people`].

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;

/// A generator for record `index` of stream `stream` (one stream per kind
/// of record: members, people, campaigns, …) under `seed`.
pub fn record_rng(seed: u64, stream: u64, index: u64) -> Pcg64 {
    Pcg64::seed_from_u64(mix(seed ^ (stream << 56), index))
}

/// Lowercase hex digits drawn from `rng`.
pub fn hex(rng: &mut impl Rng, length: usize) -> String {
    const DIGITS: &[u8] = b"0123456789abcdef";
    (0..length).map(|_| char::from(DIGITS[rng.random_range(0..DIGITS.len())])).collect()
}

/// SplitMix64 of two words: cheap, well-spread bits for decisions that must
/// be the same every time they are recomputed (lazy activity, request ids).
pub fn mix(first: u64, second: u64) -> u64 {
    let mut z = first.wrapping_mul(0x9e37_79b9_7f4a_7c15).wrapping_add(second).wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The instant seeded data is dated back from (2026-10-01T00:00:00Z), fixed
/// so that the same seed gives the same data on any day.
pub fn seed_anchor() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(1_790_812_800, 0).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_the_same_for_the_same_seed_stream_and_index() {
        let draw = |seed, stream, index| hex(&mut record_rng(seed, stream, index), 8);
        assert_eq!(draw(1, 2, 3), draw(1, 2, 3));
        assert_ne!(draw(1, 2, 3), draw(1, 2, 4));
        assert_ne!(draw(1, 2, 3), draw(1, 3, 3));
        assert_ne!(draw(1, 2, 3), draw(2, 2, 3));
        assert_eq!(seed_anchor().to_rfc3339(), "2026-10-01T00:00:00+00:00");
    }
}
