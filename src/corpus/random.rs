//! Seeded random helpers: identifiers in the formats AWS uses and the few
//! distributions the generator needs.
//!
//! Every function takes the caller's `StdRng`, so a corpus depends only on the
//! seed and on the pinned `rand` version (`StdRng` output may change between
//! `rand` releases).

use rand::Rng;
use rand::rngs::StdRng;

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const UPPER_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const LOWER_ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
const HEX: &[u8] = b"0123456789abcdef";
const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Mixes `parts` into `seed` with the SplitMix64 finaliser, so that each
/// account, region or scenario gets an independent seeded stream.
pub(crate) fn derive_seed(seed: u64, parts: &[u64]) -> u64 {
    let mut state = seed ^ 0x5851_f42d_4c95_7f2d;
    for part in parts {
        state = splitmix(state ^ part.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    }
    state
}

/// Hashes `text` (FNV-1a) into a seed part.
pub(crate) fn text_seed(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Builds a string of `len` characters drawn uniformly from `alphabet`.
pub(crate) fn string_from(rng: &mut StdRng, alphabet: &[u8], len: usize) -> String {
    (0..len)
        .map(|_| alphabet[rng.random_range(0..alphabet.len())] as char)
        .collect()
}

pub(crate) fn alnum(rng: &mut StdRng, len: usize) -> String {
    string_from(rng, ALNUM, len)
}

pub(crate) fn upper_alnum(rng: &mut StdRng, len: usize) -> String {
    string_from(rng, UPPER_ALNUM, len)
}

pub(crate) fn lower_alnum(rng: &mut StdRng, len: usize) -> String {
    string_from(rng, LOWER_ALNUM, len)
}

pub(crate) fn hex(rng: &mut StdRng, len: usize) -> String {
    string_from(rng, HEX, len)
}

pub(crate) fn base64(rng: &mut StdRng, len: usize) -> String {
    string_from(rng, BASE64, len)
}

/// Builds a random (version 4) UUID in the lower-case form CloudTrail uses for
/// `eventID` and `requestID`.
pub(crate) fn uuid(rng: &mut StdRng) -> String {
    let mut bytes: [u8; 16] = rng.random();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let mut out = String::with_capacity(36);
    for (index, byte) in bytes.iter().enumerate() {
        if matches!(index, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push(HEX[usize::from(byte >> 4)] as char);
        out.push(HEX[usize::from(byte & 0x0f)] as char);
    }
    out
}

/// Builds a 20-character IAM identifier: a 4-letter `prefix` (`AKIA`, `ASIA`,
/// `AIDA`, `AROA`), the account's 8-character `marker`, then random characters.
/// Real keys of one account share the characters after the prefix in the same way.
pub(crate) fn iam_id(rng: &mut StdRng, prefix: &str, marker: &str, len: usize) -> String {
    let mut out = String::with_capacity(len);
    out.push_str(prefix);
    out.push_str(marker);
    let rest = len.saturating_sub(out.len());
    out.push_str(&upper_alnum(rng, rest));
    out
}

/// Draws from the standard normal distribution (Box-Muller).
pub(crate) fn normal(rng: &mut StdRng) -> f64 {
    let u1: f64 = rng.random_range(f64::EPSILON..1.0);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Draws a log-normal multiplier whose median is 1.
pub(crate) fn lognormal(rng: &mut StdRng, sigma: f64) -> f64 {
    (sigma * normal(rng)).exp()
}

/// Draws a Poisson count; large means use a rounded normal approximation.
pub(crate) fn poisson(rng: &mut StdRng, mean: f64) -> u64 {
    if mean <= 0.0 {
        return 0;
    }
    if mean > 40.0 {
        let draw = mean + mean.sqrt() * normal(rng);
        return draw.round().max(0.0) as u64;
    }
    let limit = (-mean).exp();
    let mut product: f64 = rng.random();
    let mut count = 0;
    while product > limit {
        product *= rng.random::<f64>();
        count += 1;
    }
    count
}

pub(crate) fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// Picks one item with probability proportional to its weight. The lists are
/// short (tens of entries), so a linear scan is fast enough.
pub(crate) fn pick_weighted<'a, T>(rng: &mut StdRng, items: &'a [(T, u32)]) -> &'a T {
    let total: u32 = items.iter().map(|(_, weight)| weight).sum();
    let mut ticket = rng.random_range(0..total.max(1));
    for (item, weight) in items {
        if ticket < *weight {
            return item;
        }
        ticket -= weight;
    }
    &items[items.len() - 1].0
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn uuid_has_version_four_layout() {
        let mut rng = StdRng::seed_from_u64(1);
        let id = uuid(&mut rng);
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"));
    }

    #[test]
    fn iam_id_keeps_prefix_and_marker() {
        let mut rng = StdRng::seed_from_u64(2);
        let key = iam_id(&mut rng, "AKIA", "Q7XK2M4P", 20);
        assert_eq!(key.len(), 20);
        assert!(key.starts_with("AKIAQ7XK2M4P"));
    }

    #[test]
    fn derive_seed_separates_parts() {
        assert_ne!(derive_seed(7, &[0, 1]), derive_seed(7, &[1, 0]));
        assert_eq!(derive_seed(7, &[3]), derive_seed(7, &[3]));
    }
}
