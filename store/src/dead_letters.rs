//! Dead letters: records that could not be read, mapped or written, with the reason. They stay
//! in the origin region's store — an audited side channel a DPO can list — never dropped and
//! never shipped. Listing does not return payloads (they may hold personal data); fetching
//! one is a separate, deliberate call.

use crate::{Store, StoreError, Tx, next_seq};

/// A dead letter.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct DeadLetter {
    /// Position, from 1.
    pub seq: i64,
    /// RFC 3339 time.
    #[sqlx(rename = "ts")]
    pub timestamp: String,
    /// Pipeline.
    pub pipeline: String,
    /// Where it failed: `read`, `map`, `policy`, `write`.
    pub stage: String,
    /// Object kind, when known.
    pub object: Option<String>,
    /// Record id, when known.
    pub record_id: Option<String>,
    /// Why (no values).
    pub reason: String,
}

impl Tx<'_> {
    /// Records a dead letter; `payload` is what was read, kept in this region only.
    pub async fn dead_letter(
        &mut self,
        d: &DeadLetter,
        payload: Option<&str>,
    ) -> Result<i64, StoreError> {
        let tx = &mut self.inner;
        let seq = next_seq(tx, "dead_letters").await?;
        sqlx::query("INSERT INTO dead_letters (seq, ts, pipeline, stage, object, record_id, reason, payload) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(seq)
            .bind(&d.timestamp)
            .bind(&d.pipeline)
            .bind(&d.stage)
            .bind(&d.object)
            .bind(&d.record_id)
            .bind(&d.reason)
            .bind(payload)
            .execute(&mut **tx)
            .await?;
        Ok(seq)
    }
}

impl Store {
    /// Dead letters after `after_seq`, without payloads.
    pub async fn dead_letters(
        &self,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<DeadLetter>, StoreError> {
        Ok(sqlx::query_as("SELECT seq, ts, pipeline, stage, object, record_id, reason FROM dead_letters WHERE seq > $1 ORDER BY seq LIMIT $2")
            .bind(after_seq)
            .bind(limit)
            .fetch_all(self.pool())
            .await?)
    }

    /// The payload of one dead letter.
    pub async fn dead_letter_payload(&self, seq: i64) -> Result<Option<String>, StoreError> {
        let row: Option<(Option<String>,)> =
            sqlx::query_as("SELECT payload FROM dead_letters WHERE seq = $1")
                .bind(seq)
                .fetch_optional(self.pool())
                .await?;
        Ok(row.and_then(|r| r.0))
    }
}
