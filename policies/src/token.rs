//! Keyed tokens, keyed hashes and the sealing of originals for the vault.
//!
//! A token is `tok_<key id>_<22 base64url chars>`: the first 128 bits of
//! HMAC-SHA-256(token key, scope ‖ 0x00 ‖ value). The same value gives the same token within a
//! join scope and different tokens across scopes and keys; without the key, a token cannot be
//! linked to a guessed value (an unkeyed hash can). The key id inside the token says which key
//! made it, so keys can rotate while old tokens stay resolvable.
//!
//! The original is sealed with AES-256-GCM for the origin region's vault. Its nonce is a
//! synthetic IV — HMAC(vault key, token ‖ value), truncated — so sealing stays deterministic
//! and pure, and two different plaintexts never share a nonce (the misuse-resistant
//! construction of SIV modes). The token is the associated data: a sealed value cannot be
//! moved under another token.
//!
//! Each key id names a 256-bit master secret; token, hash and vault keys are derived from it
//! with HMAC under distinct labels, so one secret never serves two purposes.

use std::fmt;

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{Aead, Payload};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use dss_core::vault::{SealedValue, Vault, VaultError};
use hmac::{Hmac, KeyInit, Mac};

use crate::mac::MacKey;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Bytes of the MAC kept in a token or hash (128 bits).
const TOKEN_BYTES: usize = 16;
/// Base64 characters of a token's MAC, unpadded.
const TOKEN_CHARS: usize = 22;

/// Why a key, token or sealed value was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// A key id is empty or has characters other than lowercase letters and digits.
    #[error("invalid key id {0:?} (expected 1 to 16 lowercase letters or digits)")]
    InvalidKeyId(String),
    /// A key is not 32 bytes of base64.
    #[error("key {0}: expected 32 bytes, base64-encoded")]
    InvalidKey(String),
    /// A key file line is not `<key id>:<base64 key>`.
    #[error("key file line {0}: expected `<key id>:<base64 key>`")]
    KeyFileSyntax(usize),
    /// The keyring has no key of this id.
    #[error("unknown key id {0:?}")]
    UnknownKey(String),
    /// The keyring is empty.
    #[error("the keyring holds no key")]
    NoKey,
    /// The text is not a token.
    #[error("not a token")]
    NotAToken,
    /// Decryption failed: wrong key, or the sealed value was altered or moved.
    #[error("sealed value does not authenticate under key {0}")]
    Unseal(String),
    /// The vault failed.
    #[error(transparent)]
    Vault(#[from] VaultError),
}

struct KeyMaterial {
    id: String,
    token_mac: MacKey,
    hash_mac: MacKey,
    siv_mac: MacKey,
    cipher: Aes256Gcm,
}

fn derive(master: &[u8; 32], label: &[u8]) -> [u8; 32] {
    let mut mac =
        <HmacSha256 as KeyInit>::new_from_slice(master).expect("HMAC takes keys of any length");
    mac.update(label);
    mac.finalize().into_bytes().into()
}

fn mac(label: &[u8], master: &[u8; 32]) -> MacKey {
    MacKey::new(&derive(master, label))
}

/// Token keys by id, one of them active for new tokens.
pub struct Keyring {
    keys: Vec<KeyMaterial>,
    active: usize,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|k| k.id.as_str()).collect();
        write!(
            f,
            "Keyring(keys {ids:?}, active {})",
            self.keys[self.active].id
        )
    }
}

impl Keyring {
    /// A keyring holding one key, active.
    pub fn new(id: &str, master: &[u8; 32]) -> Result<Self, TokenError> {
        let mut ring = Keyring {
            keys: Vec::new(),
            active: 0,
        };
        ring.add(id, master)?;
        Ok(ring)
    }

    /// Parses a key file: one `<key id>:<base64 32-byte key>` per line, `#` comments; the last
    /// key is active.
    pub fn from_key_file(text: &str) -> Result<Self, TokenError> {
        let mut ring = Keyring {
            keys: Vec::new(),
            active: 0,
        };
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (id, key) = line
                .split_once(':')
                .ok_or(TokenError::KeyFileSyntax(n + 1))?;
            let bytes = STANDARD
                .decode(key.trim())
                .map_err(|_| TokenError::InvalidKey(id.to_owned()))?;
            let master: [u8; 32] = bytes
                .try_into()
                .map_err(|_| TokenError::InvalidKey(id.to_owned()))?;
            ring.add(id.trim(), &master)?;
        }
        if ring.keys.is_empty() {
            return Err(TokenError::NoKey);
        }
        Ok(ring)
    }

    /// Adds a key and makes it active (rotation). Older keys stay for resolving old tokens.
    pub fn add(&mut self, id: &str, master: &[u8; 32]) -> Result<(), TokenError> {
        let valid = (1..=16).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        if !valid {
            return Err(TokenError::InvalidKeyId(id.to_owned()));
        }
        let material = KeyMaterial {
            id: id.to_owned(),
            token_mac: mac(b"dss/token/v1", master),
            hash_mac: mac(b"dss/hash/v1", master),
            siv_mac: mac(b"dss/vault-siv/v1", master),
            cipher: Aes256Gcm::new_from_slice(&derive(master, b"dss/vault-aead/v1"))
                .expect("32-byte key"),
        };
        self.keys.retain(|k| k.id != id);
        self.keys.push(material);
        self.active = self.keys.len() - 1;
        Ok(())
    }

    /// Id of the key that makes new tokens.
    pub fn active_id(&self) -> &str {
        &self.keys[self.active].id
    }

    fn key(&self, id: &str) -> Result<&KeyMaterial, TokenError> {
        self.keys
            .iter()
            .find(|k| k.id == id)
            .ok_or_else(|| TokenError::UnknownKey(id.to_owned()))
    }

    fn active(&self) -> &KeyMaterial {
        &self.keys[self.active]
    }

    /// Appends the token of `value` in `scope` to `out`.
    pub fn tokenize_into(&self, scope: &str, value: &str, out: &mut String) {
        write_mac(
            out,
            "tok_",
            self.active(),
            &self.active().token_mac,
            scope,
            value,
        );
    }

    /// The token of `value` in `scope`.
    pub fn tokenize(&self, scope: &str, value: &str) -> String {
        let mut out = String::with_capacity(32);
        self.tokenize_into(scope, value, &mut out);
        out
    }

    /// Appends the keyed, irreversible hash of `value` in `scope` to `out`.
    pub fn hash_into(&self, scope: &str, value: &str, out: &mut String) {
        write_mac(
            out,
            "hash_",
            self.active(),
            &self.active().hash_mac,
            scope,
            value,
        );
    }

    /// Seals `value` behind `token` for the vault, under the token's key.
    pub fn seal(&self, token: &str, value: &str) -> Result<SealedValue, TokenError> {
        let key = self.key(token_key_id(token).ok_or(TokenError::NotAToken)?)?;
        let digest = key.siv_mac.mac(&[token.as_bytes(), &[0], value.as_bytes()]);
        let mut nonce = [0u8; 12];
        nonce.copy_from_slice(&digest[..12]);
        let ciphertext = key
            .cipher
            .encrypt(
                &nonce.into(),
                Payload {
                    msg: value.as_bytes(),
                    aad: token.as_bytes(),
                },
            )
            .map_err(|_| TokenError::Unseal(key.id.clone()))?;
        Ok(SealedValue {
            key_id: key.id.clone(),
            nonce,
            ciphertext,
        })
    }

    /// Opens a sealed value of `token`.
    pub fn unseal(&self, token: &str, sealed: &SealedValue) -> Result<String, TokenError> {
        let key = self.key(&sealed.key_id)?;
        let plain = key
            .cipher
            .decrypt(
                &sealed.nonce.into(),
                Payload {
                    msg: &sealed.ciphertext,
                    aad: token.as_bytes(),
                },
            )
            .map_err(|_| TokenError::Unseal(key.id.clone()))?;
        String::from_utf8(plain).map_err(|_| TokenError::Unseal(key.id.clone()))
    }

    /// Resolves a token through the vault: `None` if the vault has no entry (never stored,
    /// or crypto-shredded).
    pub fn detokenize(&self, vault: &dyn Vault, token: &str) -> Result<Option<String>, TokenError> {
        if token_key_id(token).is_none() {
            return Err(TokenError::NotAToken);
        }
        match vault.get(token)? {
            Some(sealed) => self.unseal(token, &sealed).map(Some),
            None => Ok(None),
        }
    }
}

/// The key id inside a token (`tok_<kid>_<mac>`), if `text` is shaped like one.
pub fn token_key_id(text: &str) -> Option<&str> {
    let rest = text.strip_prefix("tok_")?;
    let (kid, mac) = rest.split_once('_')?;
    (mac.len() == TOKEN_CHARS && !kid.is_empty()).then_some(kid)
}

fn write_mac(
    out: &mut String,
    prefix: &str,
    key: &KeyMaterial,
    base: &MacKey,
    scope: &str,
    value: &str,
) {
    let digest = base.mac(&[scope.as_bytes(), &[0], value.as_bytes()]);
    out.push_str(prefix);
    out.push_str(&key.id);
    out.push('_');
    push_base64url(digest[..TOKEN_BYTES].try_into().expect("16 bytes"), out);
}

/// The base64url alphabet (RFC 4648, section 5).
const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Appends the unpadded base64url form of a token's 16 bytes (22 characters). Written out:
/// the base64 crate's engine, made for long inputs, spends more on 16 bytes than the MAC's
/// own non-hash work. Checked against the crate in the tests.
fn push_base64url(bytes: &[u8; TOKEN_BYTES], out: &mut String) {
    let mut text = [0u8; TOKEN_CHARS];
    let mut at = 0;
    for group in bytes.chunks(3) {
        // The group's bits, left-aligned in 24.
        let bits =
            group.iter().fold(0u32, |n, &b| n << 8 | u32::from(b)) << (8 * (3 - group.len()));
        for i in 0..=group.len() {
            text[at] = BASE64URL[(bits >> (18 - 6 * i) & 63) as usize];
            at += 1;
        }
    }
    out.push_str(std::str::from_utf8(&text).expect("the alphabet is ASCII"));
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use dss_core::vault::{MemoryVault, VaultEntry};

    fn ring() -> Keyring {
        Keyring::new("k1", &[7; 32]).unwrap()
    }

    #[test]
    fn token_text_is_base64url_without_padding() {
        let mut bytes = [0u8; TOKEN_BYTES];
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for round in 0..2_000 {
            for b in &mut bytes {
                // A xorshift sequence, after the all-zero and all-one blocks.
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *b = match round {
                    0 => 0,
                    1 => 0xff,
                    _ => x as u8,
                };
            }
            let mut text = String::new();
            push_base64url(&bytes, &mut text);
            assert_eq!(text, URL_SAFE_NO_PAD.encode(bytes), "{bytes:?}");
            assert_eq!(text.len(), TOKEN_CHARS);
        }
    }

    #[test]
    fn tokens_hashes_and_nonces_stay_what_earlier_releases_made() {
        // Values made by the `hmac` crate before the MACs moved to precomputed pads: tokens in
        // vaults and destinations must keep resolving and joining.
        let r = ring();
        let token = r.tokenize("crm", "Zhang Wei");
        assert_eq!(token, "tok_k1_bi4ADOpGmCCqJ4eZisiw2Q");
        let mut hash = String::new();
        r.hash_into("crm", "Zhang Wei", &mut hash);
        assert_eq!(hash, "hash_k1_HSICkuiyb7DbwZaL_0BMOQ");
        let sealed = r.seal(&token, "Zhang Wei").unwrap();
        assert_eq!(
            sealed.nonce,
            [127, 169, 47, 140, 175, 147, 182, 128, 77, 234, 255, 192]
        );
    }

    #[test]
    fn tokens_are_deterministic_per_scope_and_key() {
        let r = ring();
        let a = r.tokenize("crm", "Zhang Wei");
        assert_eq!(a, r.tokenize("crm", "Zhang Wei"));
        assert!(
            a.starts_with("tok_k1_") && a.len() == "tok_k1_".len() + 22,
            "{a}"
        );
        assert_ne!(a, r.tokenize("billing", "Zhang Wei"));
        assert_ne!(a, r.tokenize("crm", "Zhang Wai"));
        let other = Keyring::new("k1", &[8; 32]).unwrap();
        assert_ne!(a, other.tokenize("crm", "Zhang Wei"));
        assert_eq!(token_key_id(&a), Some("k1"));
    }

    #[test]
    fn a_rotated_key_still_opens_old_tokens() {
        let vault = MemoryVault::new();
        let mut r = ring();
        let old = r.tokenize("crm", "max@beispiel.de");
        vault
            .put(VaultEntry {
                token: old.clone(),
                subject: None,
                sealed: r.seal(&old, "max@beispiel.de").unwrap(),
            })
            .unwrap();
        r.add("k2", &[9; 32]).unwrap();
        let new = r.tokenize("crm", "max@beispiel.de");
        assert!(new.starts_with("tok_k2_"));
        assert_eq!(
            r.detokenize(&vault, &old).unwrap().as_deref(),
            Some("max@beispiel.de")
        );
    }

    #[test]
    fn sealed_values_are_bound_to_their_token() {
        let r = ring();
        let t1 = r.tokenize("crm", "a");
        let t2 = r.tokenize("crm", "b");
        let sealed = r.seal(&t1, "a").unwrap();
        assert!(!sealed.ciphertext.windows(1).all(|w| w == b"a"));
        assert!(matches!(r.unseal(&t2, &sealed), Err(TokenError::Unseal(_))));
        assert_eq!(r.unseal(&t1, &sealed).unwrap(), "a");
    }

    #[test]
    fn shredding_makes_tokens_irreversible() {
        let vault = MemoryVault::new();
        let r = ring();
        let t = r.tokenize("crm", "Li Na");
        vault
            .put(VaultEntry {
                token: t.clone(),
                subject: Some("s1".into()),
                sealed: r.seal(&t, "Li Na").unwrap(),
            })
            .unwrap();
        assert_eq!(vault.shred_subject("s1").unwrap(), 1);
        assert_eq!(r.detokenize(&vault, &t).unwrap(), None);
    }

    #[test]
    fn key_files_parse_and_the_last_key_is_active() {
        let text = format!(
            "# keys\nk1:{}\nk2:{}\n",
            STANDARD.encode([1u8; 32]),
            STANDARD.encode([2u8; 32])
        );
        let r = Keyring::from_key_file(&text).unwrap();
        assert_eq!(r.active_id(), "k2");
        assert!(matches!(
            Keyring::from_key_file("k1 nope"),
            Err(TokenError::KeyFileSyntax(1))
        ));
        assert!(matches!(
            Keyring::from_key_file("k1:AAAA"),
            Err(TokenError::InvalidKey(_))
        ));
        assert!(matches!(Keyring::from_key_file(""), Err(TokenError::NoKey)));
        assert!(matches!(
            Keyring::new("K 1", &[0; 32]),
            Err(TokenError::InvalidKeyId(_))
        ));
    }
}
