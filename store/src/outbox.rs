//! The transactional outbox: transformed records waiting to be published, per destination.
//! Rows are written in the same transaction as their transfer-log entries and published in
//! order; a row is marked published only after the destination confirmed it.

use crate::{ROWS_PER_STATEMENT, Store, StoreError, Tx, multi_row, next_seqs};

/// A row to publish.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct OutboxRow {
    /// Position in the outbox (global, gap-free).
    pub seq: i64,
    /// Destination (region or connector endpoint).
    pub destination: String,
    /// Pipeline that produced it.
    pub pipeline: String,
    /// Destination tenant.
    pub tenant: String,
    /// Object kind.
    pub object: String,
    /// Record id (as it crosses).
    pub id: String,
    /// Record version.
    pub version: i64,
    /// `upsert` or `delete`.
    pub op: String,
    /// The record as it crosses (JSON), already transformed.
    pub body: String,
}

impl Tx<'_> {
    /// Adds rows in order (their `seq`s are assigned); returns the first `seq`.
    pub async fn enqueue_all(&mut self, rows: &[OutboxRow]) -> Result<i64, StoreError> {
        if rows.is_empty() {
            return Ok(0);
        }
        let tx = &mut self.inner;
        let first = next_seqs(tx, "outbox", rows.len()).await?;
        let mut seq = first;
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let sql = multi_row(
                self.backend,
                "INSERT INTO outbox (seq, destination, pipeline, tenant, object, id, version, op, body, published)",
                10,
                chunk.len(),
                "",
            );
            let mut q = sqlx::query(sql);
            for row in chunk {
                q = q
                    .bind(seq)
                    .bind(&row.destination)
                    .bind(&row.pipeline)
                    .bind(&row.tenant)
                    .bind(&row.object)
                    .bind(&row.id)
                    .bind(row.version)
                    .bind(&row.op)
                    .bind(&row.body)
                    .bind(0i64);
                seq += 1;
            }
            q.execute(&mut **tx).await?;
        }
        Ok(first)
    }

    /// Adds a row (its `seq` is assigned and returned).
    pub async fn enqueue(&mut self, row: &OutboxRow) -> Result<i64, StoreError> {
        self.enqueue_all(std::slice::from_ref(row)).await
    }
}

impl Store {
    /// Unpublished rows for `destination` (after its published cursor), oldest first, at
    /// most `limit`.
    pub async fn pending(
        &self,
        destination: &str,
        limit: i64,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        let after: i64 = self
            .checkpoint(&cursor(destination))
            .await?
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        Ok(sqlx::query_as(
            "SELECT seq, destination, pipeline, tenant, object, id, version, op, body FROM outbox \
             WHERE destination = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(destination)
        .bind(after)
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }

    /// Marks `destination`'s rows up to and including `seq` published (moves its cursor; it
    /// never moves back).
    pub async fn mark_published(&self, destination: &str, seq: i64) -> Result<(), StoreError> {
        let current: i64 = self
            .checkpoint(&cursor(destination))
            .await?
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        if seq > current {
            self.set_checkpoint(&cursor(destination), &seq.to_string())
                .await?;
        }
        Ok(())
    }
}

fn cursor(destination: &str) -> String {
    format!("outbox-published:{destination}")
}
