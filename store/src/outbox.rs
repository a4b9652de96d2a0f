//! The transactional outbox: transformed records waiting to be published, per destination.
//! Rows are written in the same transaction as their transfer-log entries and published in
//! order; a row is marked published only after the destination confirmed it, and is then
//! deleted: the destination holds the record and the transfer log the account of it, so a
//! copy kept in the origin would only grow with every record ever sent (personal data,
//! masked or not, that a data-subject erasure would also have to reach).

use crate::db::args;
use crate::{Store, StoreError, Tx, next_seqs};

/// A row to publish.
#[derive(Clone, Debug, PartialEq, Eq)]
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

impl Tx {
    /// Adds rows in order (their `seq`s are assigned); returns the first `seq`.
    pub async fn enqueue_all(&mut self, rows: &[OutboxRow]) -> Result<i64, StoreError> {
        if rows.is_empty() {
            return Ok(0);
        }
        let first = next_seqs(&mut self.inner, "outbox", rows.len()).await?;
        let mut seq = first;
        self.insert_rows(
            "outbox (seq, destination, pipeline, tenant, object, id, version, op, body)",
            9,
            "",
            rows,
            |row, args| {
                args.extend(args![
                    seq,
                    &row.destination,
                    &row.pipeline,
                    &row.tenant,
                    &row.object,
                    &row.id,
                    row.version,
                    &row.op,
                    &row.body,
                ]);
                seq += 1;
            },
        )
        .await?;
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
        let after = position(self.checkpoint(&cursor(destination)).await?);
        self.db()
            .rows(
                "SELECT seq, destination, pipeline, tenant, object, id, version, op, body FROM outbox \
                 WHERE destination = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                &args![destination, after, limit],
                |r| {
                    Ok(OutboxRow {
                        seq: r.int(0)?,
                        destination: r.text(1)?.to_owned(),
                        pipeline: r.text(2)?.to_owned(),
                        tenant: r.text(3)?.to_owned(),
                        object: r.text(4)?.to_owned(),
                        id: r.text(5)?.to_owned(),
                        version: r.int(6)?,
                        op: r.text(7)?.to_owned(),
                        body: r.text(8)?.to_owned(),
                    })
                },
            )
            .await
    }

    /// Marks `destination`'s rows up to and including `seq` published (moves its cursor; it
    /// never moves back) and deletes them, in one transaction.
    pub async fn mark_published(&self, destination: &str, seq: i64) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        tx.mark_published(destination, seq).await?;
        tx.commit().await
    }
}

impl Tx {
    /// [`Store::mark_published`] inside this transaction, so a pipeline's committer can
    /// retire what its courier delivered together with the next batch it writes: one
    /// transaction (and one wait for the disk) fewer per batch, and no second writer queuing
    /// for the origin's write lock.
    pub async fn mark_published(&mut self, destination: &str, seq: i64) -> Result<(), StoreError> {
        let current = position(self.checkpoint(&cursor(destination)).await?);
        if seq > current {
            self.set_checkpoint(&cursor(destination), &seq.to_string())
                .await?;
            self.inner
                .exec(
                    "DELETE FROM outbox WHERE destination = $1 AND seq <= $2",
                    &args![destination, seq],
                )
                .await?;
        }
        Ok(())
    }
}

fn cursor(destination: &str) -> String {
    format!("outbox-published:{destination}")
}

/// The last published `seq` a cursor holds (0: none yet).
fn position(cursor: Option<String>) -> i64 {
    cursor.and_then(|c| c.parse().ok()).unwrap_or(0)
}
