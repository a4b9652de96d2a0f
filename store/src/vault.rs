//! The durable token vault in the region's database: sealed values only (AES-256-GCM
//! ciphertext made by the tokenizer, whose keys come from configuration or key files, never
//! from the database). Entries are written in the pipeline's transaction, next to the outbox
//! rows whose tokens they resolve; erasing a subject deletes their entries (crypto-shredding).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use dss_core::vault::{SealedValue, VaultEntry};

use crate::{Store, StoreError, Tx};

impl Tx<'_> {
    /// Stores vault entries; entries already there are kept.
    pub async fn put_vault_all(&mut self, entries: &[VaultEntry]) -> Result<(), StoreError> {
        for chunk in entries.chunks(crate::ROWS_PER_STATEMENT) {
            let sql = crate::multi_row(
                self.backend,
                "INSERT INTO vault (token, subject, key_id, nonce, ciphertext)",
                5,
                chunk.len(),
                "ON CONFLICT (token) DO NOTHING",
            );
            let mut q = sqlx::query(sql);
            for e in chunk {
                q = q
                    .bind(&e.token)
                    .bind(&e.subject)
                    .bind(&e.sealed.key_id)
                    .bind(STANDARD.encode(e.sealed.nonce))
                    .bind(STANDARD.encode(&e.sealed.ciphertext));
            }
            q.execute(&mut *self.inner).await?;
        }
        Ok(())
    }

    /// Stores a vault entry; an entry already there (tokens are deterministic) is kept.
    pub async fn put_vault(&mut self, e: &VaultEntry) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO vault (token, subject, key_id, nonce, ciphertext) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (token) DO NOTHING")
            .bind(&e.token)
            .bind(&e.subject)
            .bind(&e.sealed.key_id)
            .bind(STANDARD.encode(e.sealed.nonce))
            .bind(STANDARD.encode(&e.sealed.ciphertext))
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }
}

impl Store {
    /// The sealed value behind a token.
    pub async fn vault_get(&self, token: &str) -> Result<Option<SealedValue>, StoreError> {
        let row: Option<(String, String, String)> =
            sqlx::query_as("SELECT key_id, nonce, ciphertext FROM vault WHERE token = $1")
                .bind(token)
                .fetch_optional(self.pool())
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

    /// Tokens of a data subject in the vault.
    pub async fn vault_tokens_of_subject(&self, subject: &str) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT token FROM vault WHERE subject = $1 ORDER BY token")
                .bind(subject)
                .fetch_all(self.pool())
                .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// Destroys every vault entry of a data subject; returns how many.
    pub async fn shred_subject(&self, subject: &str) -> Result<u64, StoreError> {
        Ok(sqlx::query("DELETE FROM vault WHERE subject = $1")
            .bind(subject)
            .execute(self.pool())
            .await?
            .rows_affected())
    }
}
