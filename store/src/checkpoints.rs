//! Checkpoints: source cursors and sink positions, by name.

use crate::{Store, StoreError, Tx};

const UPSERT: &str = "INSERT INTO checkpoints (name, position) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET position = excluded.position";

impl Tx<'_> {
    /// Sets a checkpoint in this transaction (so it moves together with what it covers).
    pub async fn set_checkpoint(&mut self, name: &str, position: &str) -> Result<(), StoreError> {
        sqlx::query(UPSERT)
            .bind(name)
            .bind(position)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }
}

impl Store {
    /// A checkpoint's position.
    pub async fn checkpoint(&self, name: &str) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT position FROM checkpoints WHERE name = $1")
                .bind(name)
                .fetch_optional(self.pool())
                .await?;
        Ok(row.map(|r| r.0))
    }

    /// Sets a checkpoint on its own.
    pub async fn set_checkpoint(&self, name: &str, position: &str) -> Result<(), StoreError> {
        sqlx::query(UPSERT)
            .bind(name)
            .bind(position)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}
