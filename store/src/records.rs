//! The CRM domain store: tenant-scoped records of every object kind with a version, and a
//! per-tenant monotonic change feed that sources read from.
//!
//! Writes are idempotent by (tenant, object, id, version): writing a version the store
//! already has, or an older one, changes nothing and reports so — the property that makes
//! at-least-once delivery safe.

use dss_core::Record;
use sqlx::Row as _;

use crate::{ROWS_PER_STATEMENT, Store, StoreError, Tx, multi_row, next_seq, next_seqs};

/// A change in a tenant's feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// Position in the tenant's feed, from 1.
    pub seq: i64,
    /// Object kind.
    pub object: String,
    /// Record id.
    pub id: String,
    /// Version written.
    pub version: i64,
    /// `upsert` or `delete`.
    pub op: String,
}

/// A record as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct Stored {
    /// The record (its last body; a deleted record keeps the body it had).
    pub record: Record,
    /// Deleted (a tombstone that remembers the version).
    pub deleted: bool,
}

impl Tx<'_> {
    /// Writes each record whose version is newer than the stored one, in a few statements for
    /// the whole batch; returns how many were written. Within the batch, the highest version
    /// of a record wins. `subject` is the data subject's key. Feed numbers of records that
    /// turn out not to be newer are skipped (the feed is monotonic, not gap-free).
    pub async fn upsert_records(
        &mut self,
        records: &[(Record, Option<String>)],
    ) -> Result<u64, StoreError> {
        let mut by_tenant: std::collections::BTreeMap<&str, Vec<&(Record, Option<String>)>> =
            std::collections::BTreeMap::new();
        for r in records {
            by_tenant.entry(r.0.tenant.as_str()).or_default().push(r);
        }
        let mut written = 0;
        for (tenant, mut rows) in by_tenant {
            // One row per record: a statement may not update the same row twice.
            let mut latest: std::collections::HashMap<(&str, &str), usize> =
                std::collections::HashMap::new();
            let mut unique: Vec<&(Record, Option<String>)> = Vec::with_capacity(rows.len());
            for r in rows.drain(..) {
                let key = (r.0.object.as_str(), r.0.id.as_str());
                match latest.get(&key) {
                    Some(&i) if unique[i].0.version > r.0.version => {}
                    Some(&i) => unique[i] = r,
                    None => {
                        latest.insert(key, unique.len());
                        unique.push(r);
                    }
                }
            }
            let tx = &mut self.inner;
            let first = next_seqs(tx, &format!("feed:{tenant}"), unique.len()).await?;
            let mut seq = first;
            let mut changed: Vec<(i64, String, String, i64)> = Vec::new();
            for chunk in unique.chunks(ROWS_PER_STATEMENT) {
                let sql = multi_row(
                    self.backend,
                    "INSERT INTO records (tenant, object, id, version, subject, deleted, body, feed_seq)",
                    8,
                    chunk.len(),
                    "ON CONFLICT (tenant, object, id) DO UPDATE SET version = excluded.version, subject = excluded.subject, deleted = 0, \
                     body = excluded.body, feed_seq = excluded.feed_seq WHERE excluded.version > records.version \
                     RETURNING feed_seq, object, id, version",
                );
                let mut q = sqlx::query_as(sql);
                for (record, subject) in chunk {
                    q = q
                        .bind(tenant)
                        .bind(record.object.as_str())
                        .bind(record.id.as_str())
                        .bind(record.version as i64)
                        .bind(subject.as_deref())
                        .bind(0i64)
                        .bind(serde_json::to_string(record).expect("records serialize"))
                        .bind(seq);
                    seq += 1;
                }
                changed.extend(q.fetch_all(&mut **tx).await?);
            }
            changed.sort_unstable_by_key(|c| c.0);
            for chunk in changed.chunks(ROWS_PER_STATEMENT) {
                let sql = multi_row(
                    self.backend,
                    "INSERT INTO change_feed (tenant, seq, object, id, version, op)",
                    6,
                    chunk.len(),
                    "",
                );
                let mut q = sqlx::query(sql);
                for (seq, object, id, version) in chunk {
                    q = q
                        .bind(tenant)
                        .bind(*seq)
                        .bind(object)
                        .bind(id)
                        .bind(*version)
                        .bind("upsert");
                }
                q.execute(&mut **tx).await?;
            }
            written += changed.len() as u64;
        }
        Ok(written)
    }

    /// Writes `record` if its version is newer than the stored one; returns whether it did.
    /// `subject` is the data subject's key (for access and erasure requests).
    pub async fn upsert_record(
        &mut self,
        record: &Record,
        subject: Option<&str>,
    ) -> Result<bool, StoreError> {
        self.write(
            &record.tenant,
            record.object.as_str(),
            &record.id,
            record.version as i64,
            subject,
            Some(record),
        )
        .await
    }

    /// Deletes a record at `version` (a tombstone); returns whether anything changed.
    pub async fn delete_record(
        &mut self,
        tenant: &str,
        object: &str,
        id: &str,
        version: i64,
    ) -> Result<bool, StoreError> {
        self.write(tenant, object, id, version, None, None).await
    }

    async fn write(
        &mut self,
        tenant: &str,
        object: &str,
        id: &str,
        version: i64,
        subject: Option<&str>,
        record: Option<&Record>,
    ) -> Result<bool, StoreError> {
        let tx = &mut self.inner;
        let stored: Option<(i64, i64)> = sqlx::query_as(
            "SELECT version, deleted FROM records WHERE tenant = $1 AND object = $2 AND id = $3",
        )
        .bind(tenant)
        .bind(object)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
        match stored {
            Some((v, _)) if v > version => return Ok(false),
            Some((v, deleted)) if v == version && (deleted == 1) == record.is_none() => {
                return Ok(false);
            }
            _ => {}
        }
        let seq = next_seq(tx, &format!("feed:{tenant}")).await?;
        let op = if record.is_some() { "upsert" } else { "delete" };
        match record {
            Some(r) => {
                let body = serde_json::to_string(r).expect("records serialize");
                sqlx::query(
                    "INSERT INTO records (tenant, object, id, version, subject, deleted, body, feed_seq) VALUES ($1, $2, $3, $4, $5, 0, $6, $7) \
                     ON CONFLICT (tenant, object, id) DO UPDATE SET version = excluded.version, subject = excluded.subject, deleted = 0, \
                     body = excluded.body, feed_seq = excluded.feed_seq",
                )
                .bind(tenant)
                .bind(object)
                .bind(id)
                .bind(version)
                .bind(subject)
                .bind(body)
                .bind(seq)
                .execute(&mut **tx)
                .await?;
            }
            None => {
                // A tombstone keeps the last body (a delete event still needs the id as it
                // crossed); for a record never seen it remembers the version, so an older
                // upsert arriving late is ignored.
                sqlx::query(
                    "INSERT INTO records (tenant, object, id, version, subject, deleted, body, feed_seq) VALUES ($1, $2, $3, $4, NULL, 1, 'null', $5) \
                     ON CONFLICT (tenant, object, id) DO UPDATE SET version = excluded.version, deleted = 1, feed_seq = excluded.feed_seq",
                )
                .bind(tenant)
                .bind(object)
                .bind(id)
                .bind(version)
                .bind(seq)
                .execute(&mut **tx)
                .await?;
            }
        }
        sqlx::query("INSERT INTO change_feed (tenant, seq, object, id, version, op) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(tenant)
            .bind(seq)
            .bind(object)
            .bind(id)
            .bind(version)
            .bind(op)
            .execute(&mut **tx)
            .await?;
        Ok(true)
    }
}

impl Store {
    /// One record.
    pub async fn record(
        &self,
        tenant: &str,
        object: &str,
        id: &str,
    ) -> Result<Option<Stored>, StoreError> {
        let row = sqlx::query(
            "SELECT body, deleted FROM records WHERE tenant = $1 AND object = $2 AND id = $3",
        )
        .bind(tenant)
        .bind(object)
        .bind(id)
        .fetch_optional(self.readers())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let body: String = row.try_get("body")?;
        let deleted: i64 = row.try_get("deleted")?;
        if body == "null" {
            return Ok(None);
        }
        let record = Record::from_json(body.as_bytes()).map_err(|e| StoreError::Corrupt {
            what: "record body",
            why: e.to_string(),
        })?;
        Ok(Some(Stored {
            record,
            deleted: deleted == 1,
        }))
    }

    /// Live records of a tenant and object kind last changed after feed position `after`, in
    /// feed order, at most `limit`, each with its position: a page for listing (a record
    /// changed while a client pages moves to the end; none is skipped).
    pub async fn list_records(
        &self,
        tenant: &str,
        object: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<(Record, i64)>, StoreError> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT body, feed_seq FROM records WHERE tenant = $1 AND object = $2 AND feed_seq > $3 \
             AND deleted = 0 ORDER BY feed_seq LIMIT $4",
        )
        .bind(tenant)
        .bind(object)
        .bind(after)
        .bind(limit)
        .fetch_all(self.readers())
        .await?;
        rows.into_iter()
            .map(|(body, seq)| {
                Record::from_json(body.as_bytes())
                    .map(|r| (r, seq))
                    .map_err(|e| StoreError::Corrupt {
                        what: "record body",
                        why: e.to_string(),
                    })
            })
            .collect()
    }

    /// Changes of `tenant` after `after_seq`, in order, at most `limit`.
    pub async fn changes(
        &self,
        tenant: &str,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<Change>, StoreError> {
        let rows: Vec<(i64, String, String, i64, String)> =
            sqlx::query_as("SELECT seq, object, id, version, op FROM change_feed WHERE tenant = $1 AND seq > $2 ORDER BY seq LIMIT $3")
                .bind(tenant)
                .bind(after_seq)
                .bind(limit)
                .fetch_all(self.readers())
                .await?;
        Ok(rows
            .into_iter()
            .map(|(seq, object, id, version, op)| Change {
                seq,
                object,
                id,
                version,
                op,
            })
            .collect())
    }

    /// (object, id, version, deleted) of every record of a tenant, sorted.
    pub async fn record_versions(
        &self,
        tenant: &str,
    ) -> Result<Vec<(String, String, i64, bool)>, StoreError> {
        let rows: Vec<(String, String, i64, i64)> =
            sqlx::query_as("SELECT object, id, version, deleted FROM records WHERE tenant = $1 ORDER BY object, id")
                .bind(tenant)
                .fetch_all(self.pool())
                .await?;
        Ok(rows
            .into_iter()
            .map(|(o, i, v, d)| (o, i, v, d == 1))
            .collect())
    }

    /// Live (not deleted) records of a tenant.
    pub async fn count_records(&self, tenant: &str) -> Result<i64, StoreError> {
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM records WHERE tenant = $1 AND deleted = 0")
                .bind(tenant)
                .fetch_one(self.pool())
                .await?;
        Ok(n)
    }

    /// (tenant, object, id) of every live record of a data subject.
    pub async fn records_of_subject(
        &self,
        subject: &str,
    ) -> Result<Vec<(String, String, String)>, StoreError> {
        Ok(sqlx::query_as("SELECT tenant, object, id FROM records WHERE subject = $1 AND deleted = 0 ORDER BY tenant, object, id")
            .bind(subject)
            .fetch_all(self.pool())
            .await?)
    }
}

/// A change with the record as it is now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangedRecord {
    /// The change.
    pub change: Change,
    /// The record's body now (`None` for a tombstone of a record never seen).
    pub body: Option<String>,
    /// The record's version now.
    pub current_version: i64,
}

impl Store {
    /// Changes of `tenant` after `after_seq` with each record's current body: one query for a
    /// batch, for sources.
    pub async fn changes_with_records(
        &self,
        tenant: &str,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<ChangedRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT c.seq, c.object, c.id, c.version, c.op, r.body, r.version AS current_version FROM change_feed c \
             LEFT JOIN records r ON r.tenant = c.tenant AND r.object = c.object AND r.id = c.id \
             WHERE c.tenant = $1 AND c.seq > $2 ORDER BY c.seq LIMIT $3",
        )
        .bind(tenant)
        .bind(after_seq)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let body: Option<String> = row.try_get("body")?;
                Ok(ChangedRecord {
                    change: Change {
                        seq: row.try_get("seq")?,
                        object: row.try_get("object")?,
                        id: row.try_get("id")?,
                        version: row.try_get("version")?,
                        op: row.try_get("op")?,
                    },
                    body: body.filter(|b| b != "null"),
                    current_version: row
                        .try_get::<Option<i64>, _>("current_version")?
                        .unwrap_or(0),
                })
            })
            .collect()
    }
}
