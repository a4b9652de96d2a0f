//! Dead letters: records that could not be read, mapped or written, with the reason. They stay
//! in the origin region's store — an audited side channel a DPO can list — never dropped and
//! never shipped. Listing does not return payloads (they may hold personal data); fetching
//! one is a separate, deliberate call.

use crate::db::args;
use crate::{Store, StoreError, Tx, next_seq};

/// A dead letter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeadLetter {
    /// Position, from 1.
    pub seq: i64,
    /// RFC 3339 time.
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

impl Tx {
    /// Records a dead letter; `payload` is what was read, kept in this region only.
    pub async fn dead_letter(
        &mut self,
        d: &DeadLetter,
        payload: Option<&str>,
    ) -> Result<i64, StoreError> {
        let tx = &mut self.inner;
        let seq = next_seq(tx, "dead_letters").await?;
        tx.exec(
            "INSERT INTO dead_letters (seq, ts, pipeline, stage, object, record_id, reason, payload) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &args![
                seq,
                &d.timestamp,
                &d.pipeline,
                &d.stage,
                &d.object,
                &d.record_id,
                &d.reason,
                payload,
            ],
        )
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
        self.db()
            .rows(
                "SELECT seq, ts, pipeline, stage, object, record_id, reason FROM dead_letters WHERE seq > $1 ORDER BY seq LIMIT $2",
                &args![after_seq, limit],
                |r| {
                    Ok(DeadLetter {
                        seq: r.int(0)?,
                        timestamp: r.text(1)?.to_owned(),
                        pipeline: r.text(2)?.to_owned(),
                        stage: r.text(3)?.to_owned(),
                        object: r.opt_text(4)?.map(str::to_owned),
                        record_id: r.opt_text(5)?.map(str::to_owned),
                        reason: r.text(6)?.to_owned(),
                    })
                },
            )
            .await
    }

    /// The payload of one dead letter.
    pub async fn dead_letter_payload(&self, seq: i64) -> Result<Option<String>, StoreError> {
        let payload = self
            .db()
            .first(
                "SELECT payload FROM dead_letters WHERE seq = $1",
                &args![seq],
                |r| Ok(r.opt_text(0)?.map(str::to_owned)),
            )
            .await?;
        Ok(payload.flatten())
    }
}
