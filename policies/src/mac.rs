//! HMAC-SHA-256 (RFC 2104) with the key's two padded blocks compressed once, at key set-up.
//!
//! A token costs one MAC of a short message. Through the `hmac` crate that is a copy of two
//! hasher states with their block buffers, the buffering itself and two finalizations —
//! about as much again as the two block compressions that are the MAC proper. Here a MAC of
//! a message that fits one block is two calls of SHA-256's block function (`sha2`'s
//! `compress256`) over blocks built on the stack. The result is HMAC-SHA-256 bit for bit;
//! the tests check it against the `hmac` crate for messages of every length up to three
//! blocks.

use sha2::block_api::compress256;

/// SHA-256's initial hash value (FIPS 180-4, 5.3.3).
const IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// A 256-bit HMAC key, its inner and outer pads already compressed.
#[derive(Clone)]
pub(crate) struct MacKey {
    inner: [u32; 8],
    outer: [u32; 8],
}

impl MacKey {
    /// The key; at most a block long (64 bytes), used as is, zero-padded (longer keys would
    /// be hashed first; DSS's keys are 32 bytes).
    pub(crate) fn new(key: &[u8]) -> Self {
        assert!(
            key.len() <= 64,
            "HMAC keys longer than a block are not supported"
        );
        let pad = |byte: u8| {
            let mut block = [byte; 64];
            for (b, k) in block.iter_mut().zip(key) {
                *b ^= k;
            }
            let mut state = IV;
            compress256(&mut state, &[block]);
            state
        };
        Self {
            inner: pad(0x36),
            outer: pad(0x5c),
        }
    }

    /// HMAC-SHA-256 of the concatenation of `parts`.
    pub(crate) fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut state = self.inner;
        let mut block = [0u8; 64];
        let mut fill = 0;
        // The inner pad is the first block of the inner hash.
        let mut length: u64 = 64;
        for part in parts {
            length += part.len() as u64;
            let mut rest = *part;
            while !rest.is_empty() {
                let n = (64 - fill).min(rest.len());
                block[fill..fill + n].copy_from_slice(&rest[..n]);
                fill += n;
                rest = &rest[n..];
                if fill == 64 {
                    compress256(&mut state, &[block]);
                    fill = 0;
                }
            }
        }
        let inner = finish(state, &mut block, fill, length);

        let mut block = [0u8; 64];
        block[..32].copy_from_slice(&inner);
        finish(self.outer, &mut block, 32, 64 + 32)
    }
}

/// Pads the last `fill` bytes in `block` (a message of `length` bytes in all), compresses and
/// returns the digest.
fn finish(mut state: [u32; 8], block: &mut [u8; 64], fill: usize, length: u64) -> [u8; 32] {
    block[fill] = 0x80;
    block[fill + 1..].fill(0);
    if fill >= 56 {
        compress256(&mut state, &[*block]);
        block.fill(0);
    }
    block[56..].copy_from_slice(&(length * 8).to_be_bytes());
    compress256(&mut state, &[*block]);
    let mut digest = [0u8; 32];
    for (out, word) in digest.chunks_exact_mut(4).zip(state) {
        out.copy_from_slice(&word.to_be_bytes());
    }
    digest
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::{Hmac, KeyInit, Mac};

    fn reference(key: &[u8; 32], parts: &[&[u8]]) -> [u8; 32] {
        let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key).unwrap();
        for p in parts {
            mac.update(p);
        }
        mac.finalize().into_bytes().into()
    }

    #[test]
    fn equals_the_hmac_crate_for_every_length_up_to_three_blocks() {
        let key: [u8; 32] = std::array::from_fn(|i| (i * 7 + 3) as u8);
        let mac = MacKey::new(&key);
        let bytes: Vec<u8> = (0..200u32).map(|i| (i * 31 % 251) as u8).collect();
        for len in 0..=bytes.len() {
            let msg = &bytes[..len];
            // Split in three parts of uneven lengths, as scope, separator and value are.
            let (a, rest) = msg.split_at(len / 3);
            let (b, c) = rest.split_at(rest.len() / 2);
            assert_eq!(mac.mac(&[a, b, c]), reference(&key, &[msg]), "length {len}");
        }
    }

    #[test]
    fn rfc_4231_test_case_1() {
        let mac = MacKey::new(&[0x0b; 20]).mac(&[b"Hi There"]);
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
    }
}
