//! The token vault: where the sealed original behind each token is kept, in the origin region.
//!
//! A vault stores [`SealedValue`]s — ciphertext produced by the tokenizer with AES-256-GCM —
//! and never sees a plaintext. Erasing a data subject destroys their entries
//! (crypto-shredding): tokens that already left become irreversible.

use std::collections::HashMap;
use std::sync::RwLock;

/// A token's original value, encrypted.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedValue {
    /// Id of the key that sealed it.
    pub key_id: String,
    /// The 96-bit AES-GCM nonce.
    pub nonce: [u8; 12],
    /// Ciphertext with the authentication tag.
    pub ciphertext: Vec<u8>,
}

impl std::fmt::Debug for SealedValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SealedValue(key {}, {} bytes)",
            self.key_id,
            self.ciphertext.len()
        )
    }
}

/// One vault entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VaultEntry {
    /// The token as it travels.
    pub token: String,
    /// The data subject's token, so all their entries can be destroyed at once.
    pub subject: Option<String>,
    /// The sealed original.
    pub sealed: SealedValue,
}

/// Why a vault operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VaultError {
    /// Reading or writing the backing store failed.
    #[error("vault i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The backing store holds something unreadable.
    #[error("vault corrupt: {0}")]
    Corrupt(String),
}

/// Keeps sealed originals of tokens.
///
/// Contract: `put` of a token already present keeps one entry (tokens are deterministic, so
/// the sealed value is of the same plaintext); `get` returns `None` for unknown and shredded
/// tokens; `shred_subject` returns how many entries it destroyed.
pub trait Vault: Send + Sync {
    /// Stores an entry.
    fn put(&self, entry: VaultEntry) -> Result<(), VaultError>;
    /// The sealed original behind `token`.
    fn get(&self, token: &str) -> Result<Option<SealedValue>, VaultError>;
    /// Destroys every entry of a data subject.
    fn shred_subject(&self, subject: &str) -> Result<usize, VaultError>;
}

/// A vault in memory, for tests and dry runs.
#[derive(Debug, Default)]
pub struct MemoryVault {
    entries: RwLock<HashMap<String, VaultEntry>>,
}

impl MemoryVault {
    /// An empty vault.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.read().map(|e| e.len()).unwrap_or(0)
    }

    /// True when the vault holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Vault for MemoryVault {
    fn put(&self, entry: VaultEntry) -> Result<(), VaultError> {
        let mut entries = self
            .entries
            .write()
            .map_err(|_| VaultError::Corrupt("lock poisoned".into()))?;
        entries.entry(entry.token.clone()).or_insert(entry);
        Ok(())
    }

    fn get(&self, token: &str) -> Result<Option<SealedValue>, VaultError> {
        let entries = self
            .entries
            .read()
            .map_err(|_| VaultError::Corrupt("lock poisoned".into()))?;
        Ok(entries.get(token).map(|e| e.sealed.clone()))
    }

    fn shred_subject(&self, subject: &str) -> Result<usize, VaultError> {
        let mut entries = self
            .entries
            .write()
            .map_err(|_| VaultError::Corrupt("lock poisoned".into()))?;
        let before = entries.len();
        entries.retain(|_, e| e.subject.as_deref() != Some(subject));
        Ok(before - entries.len())
    }
}
