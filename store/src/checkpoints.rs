//! Checkpoints: source cursors and sink positions, by name.

use crate::db::args;
use crate::{Store, StoreError, Tx};

const UPSERT: &str = "INSERT INTO checkpoints (name, position) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET position = excluded.position";
const SELECT: &str = "SELECT position FROM checkpoints WHERE name = $1";

impl Tx {
    /// A checkpoint's position as this transaction sees it.
    pub async fn checkpoint(&mut self, name: &str) -> Result<Option<String>, StoreError> {
        let rows = self
            .inner
            .rows(SELECT, &args![name], |r| Ok(r.text(0)?.to_owned()))
            .await?;
        Ok(rows.into_iter().next())
    }

    /// Sets a checkpoint in this transaction (so it moves together with what it covers).
    pub async fn set_checkpoint(&mut self, name: &str, position: &str) -> Result<(), StoreError> {
        self.inner.exec(UPSERT, &args![name, position]).await?;
        Ok(())
    }
}

impl Store {
    /// A checkpoint's position.
    pub async fn checkpoint(&self, name: &str) -> Result<Option<String>, StoreError> {
        self.db()
            .first(SELECT, &args![name], |r| Ok(r.text(0)?.to_owned()))
            .await
    }

    /// Sets a checkpoint on its own.
    pub async fn set_checkpoint(&self, name: &str, position: &str) -> Result<(), StoreError> {
        self.db().exec(UPSERT, &args![name, position]).await?;
        Ok(())
    }
}
