//! The durable token vault in the region's database: sealed values only (AES-256-GCM
//! ciphertext made by the tokenizer, whose keys come from configuration or key files, never
//! from the database). Entries are written in the pipeline's transaction, next to the outbox
//! rows whose tokens they resolve; erasing a subject deletes their entries (crypto-shredding).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use dss_core::vault::{SealedValue, VaultEntry};

use crate::db::args;
use crate::{Store, StoreError, Tx};

impl Tx {
    /// Stores vault entries; entries already there are kept.
    pub async fn put_vault_all(&mut self, entries: &[VaultEntry]) -> Result<(), StoreError> {
        let mut encoded: Vec<(&VaultEntry, String, String)> = entries
            .iter()
            .map(|e| {
                let nonce = STANDARD.encode(e.sealed.nonce);
                (e, nonce, STANDARD.encode(&e.sealed.ciphertext))
            })
            .collect();
        // In token order, each insert walks the token index on from the one before.
        encoded.sort_unstable_by(|a, b| a.0.token.cmp(&b.0.token));
        self.insert_rows(
            "vault (token, subject, key_id, nonce, ciphertext)",
            5,
            "ON CONFLICT (token) DO NOTHING",
            &encoded,
            |(e, nonce, ciphertext), args| {
                // The subject's own token is found by the token (migration 0007).
                let subject = e.subject.as_deref().filter(|s| *s != e.token);
                args.extend(args![
                    &e.token,
                    subject,
                    &e.sealed.key_id,
                    nonce,
                    ciphertext
                ]);
            },
        )
        .await?;
        Ok(())
    }

    /// Stores a vault entry; an entry already there (tokens are deterministic) is kept.
    pub async fn put_vault(&mut self, e: &VaultEntry) -> Result<(), StoreError> {
        self.put_vault_all(std::slice::from_ref(e)).await
    }
}

impl Store {
    /// The sealed value behind a token.
    pub async fn vault_get(&self, token: &str) -> Result<Option<SealedValue>, StoreError> {
        let row = self
            .db()
            .first(
                "SELECT key_id, nonce, ciphertext FROM vault WHERE token = $1",
                &args![token],
                |r| {
                    Ok((
                        r.text(0)?.to_owned(),
                        r.text(1)?.to_owned(),
                        r.text(2)?.to_owned(),
                    ))
                },
            )
            .await?;
        let Some((key_id, nonce, ciphertext)) = row else {
            return Ok(None);
        };
        let corrupt = |why: &str| StoreError::Corrupt {
            what: "vault entry",
            why: why.to_owned(),
        };
        let nonce: [u8; 12] = STANDARD
            .decode(nonce)
            .ok()
            .and_then(|n| n.try_into().ok())
            .ok_or_else(|| corrupt("bad nonce"))?;
        let ciphertext = STANDARD
            .decode(ciphertext)
            .map_err(|_| corrupt("bad ciphertext"))?;
        Ok(Some(SealedValue {
            key_id,
            nonce,
            ciphertext,
        }))
    }

    /// Tokens of a data subject in the vault: the subject's own token and those of their
    /// values.
    pub async fn vault_tokens_of_subject(&self, subject: &str) -> Result<Vec<String>, StoreError> {
        self.db()
            .rows(
                "SELECT token FROM vault WHERE subject = $1 OR token = $1 ORDER BY token",
                &args![subject],
                |r| Ok(r.text(0)?.to_owned()),
            )
            .await
    }

    /// Destroys every vault entry of a data subject; returns how many.
    pub async fn shred_subject(&self, subject: &str) -> Result<u64, StoreError> {
        self.db()
            .exec(
                "DELETE FROM vault WHERE subject = $1 OR token = $1",
                &args![subject],
            )
            .await
    }
}
