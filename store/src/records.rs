//! The CRM domain store: tenant-scoped records of every object kind with a version, and a
//! per-tenant monotonic change feed that sources read from.
//!
//! Writes are idempotent by (tenant, object, id, version): writing a version the store
//! already has, or an older one, changes nothing and reports so — the property that makes
//! at-least-once delivery safe.

use dss_core::Record;

use crate::db::{Arg, args};
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

/// A record to write, already serialized: what a sink that receives bodies writes without
/// parsing them.
#[derive(Clone, Copy, Debug)]
pub struct RecordRow<'a> {
    /// Tenant.
    pub tenant: &'a str,
    /// Object kind.
    pub object: &'a str,
    /// Record id.
    pub id: &'a str,
    /// Version.
    pub version: i64,
    /// The data subject's key.
    pub subject: Option<&'a str>,
    /// The record's JSON.
    pub body: &'a str,
}

impl Tx {
    /// Writes each record whose version is newer than the stored one, in a few statements for
    /// the whole batch; returns how many were written. Within the batch, the highest version
    /// of a record wins. `subject` is the data subject's key. Feed numbers of records that
    /// turn out not to be newer are skipped (the feed is monotonic, not gap-free).
    pub async fn upsert_records(
        &mut self,
        records: &[(Record, Option<String>)],
    ) -> Result<u64, StoreError> {
        let bodies: Vec<String> = records
            .iter()
            .map(|(r, _)| dss_core::json::record_to_string(r))
            .collect();
        let rows: Vec<RecordRow<'_>> = records
            .iter()
            .zip(&bodies)
            .map(|((r, subject), body)| RecordRow {
                tenant: &r.tenant,
                object: r.object.as_str(),
                id: &r.id,
                version: r.version as i64,
                subject: subject.as_deref(),
                body,
            })
            .collect();
        self.upsert_rows(&rows).await
    }

    /// [`Tx::upsert_records`] for records already serialized.
    pub async fn upsert_rows(&mut self, records: &[RecordRow<'_>]) -> Result<u64, StoreError> {
        let mut by_tenant: std::collections::BTreeMap<&str, Vec<&RecordRow<'_>>> =
            std::collections::BTreeMap::new();
        for r in records {
            by_tenant.entry(r.tenant).or_default().push(r);
        }
        let mut written = 0;
        for (tenant, mut rows) in by_tenant {
            // One row per record: a statement may not update the same row twice.
            let mut latest: std::collections::HashMap<(&str, &str), usize> =
                std::collections::HashMap::new();
            let mut unique: Vec<&RecordRow<'_>> = Vec::with_capacity(rows.len());
            for r in rows.drain(..) {
                let key = (r.object, r.id);
                match latest.get(&key) {
                    Some(&i) if unique[i].version > r.version => {}
                    Some(&i) => unique[i] = r,
                    None => {
                        latest.insert(key, unique.len());
                        unique.push(r);
                    }
                }
            }
            let backend = self.backend();
            let tx = &mut self.inner;
            let first = next_seqs(tx, &format!("feed:{tenant}"), unique.len()).await?;
            let mut seq = first;
            let mut changed: Vec<(i64, String, String, i64)> = Vec::new();
            for chunk in unique.chunks(ROWS_PER_STATEMENT) {
                let sql = multi_row(
                    backend,
                    "records (tenant, object, id, version, subject, deleted, body, feed_seq)",
                    8,
                    chunk.len(),
                    "ON CONFLICT (tenant, object, id) DO UPDATE SET version = excluded.version, subject = excluded.subject, deleted = 0, \
                     body = excluded.body, feed_seq = excluded.feed_seq WHERE excluded.version > records.version \
                     RETURNING feed_seq, object, id, version",
                );
                let mut args: Vec<Arg<'_>> = Vec::with_capacity(chunk.len() * 8);
                for r in chunk {
                    args.extend(args![
                        tenant, r.object, r.id, r.version, r.subject, 0i64, r.body, seq,
                    ]);
                    seq += 1;
                }
                changed.extend(
                    tx.rows(&sql, &args, |r| {
                        Ok((
                            r.int(0)?,
                            r.text(1)?.to_owned(),
                            r.text(2)?.to_owned(),
                            r.int(3)?,
                        ))
                    })
                    .await?,
                );
            }
            changed.sort_unstable_by_key(|c| c.0);
            self.insert_rows(
                "change_feed (tenant, seq, object, id, version, op)",
                6,
                "",
                &changed,
                |(seq, object, id, version), args| {
                    args.extend(args![tenant, *seq, object, id, *version, "upsert"]);
                },
            )
            .await?;
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
        let stored = tx
            .rows(
                "SELECT version, deleted FROM records WHERE tenant = $1 AND object = $2 AND id = $3",
                &args![tenant, object, id],
                |r| Ok((r.int(0)?, r.int(1)?)),
            )
            .await?;
        match stored.first() {
            Some(&(v, _)) if v > version => return Ok(false),
            Some(&(v, deleted)) if v == version && (deleted == 1) == record.is_none() => {
                return Ok(false);
            }
            _ => {}
        }
        let seq = next_seq(tx, &format!("feed:{tenant}")).await?;
        let op = if record.is_some() { "upsert" } else { "delete" };
        match record {
            Some(r) => {
                let body = dss_core::json::record_to_string(r);
                tx.exec(
                    "INSERT INTO records (tenant, object, id, version, subject, deleted, body, feed_seq) VALUES ($1, $2, $3, $4, $5, 0, $6, $7) \
                     ON CONFLICT (tenant, object, id) DO UPDATE SET version = excluded.version, subject = excluded.subject, deleted = 0, \
                     body = excluded.body, feed_seq = excluded.feed_seq",
                    &args![tenant, object, id, version, subject, body.as_str(), seq],
                )
                .await?;
            }
            None => {
                // A tombstone keeps the last body (a delete event still needs the id as it
                // crossed); for a record never seen it remembers the version, so an older
                // upsert arriving late is ignored.
                tx.exec(
                    "INSERT INTO records (tenant, object, id, version, subject, deleted, body, feed_seq) VALUES ($1, $2, $3, $4, NULL, 1, 'null', $5) \
                     ON CONFLICT (tenant, object, id) DO UPDATE SET version = excluded.version, deleted = 1, feed_seq = excluded.feed_seq",
                    &args![tenant, object, id, version, seq],
                )
                .await?;
            }
        }
        tx.exec(
            "INSERT INTO change_feed (tenant, seq, object, id, version, op) VALUES ($1, $2, $3, $4, $5, $6)",
            &args![tenant, seq, object, id, version, op],
        )
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
        let stored = self
            .db()
            .first(
                "SELECT body, deleted FROM records WHERE tenant = $1 AND object = $2 AND id = $3",
                &args![tenant, object, id],
                |r| {
                    let body = r.text(0)?;
                    if body == "null" {
                        return Ok(None);
                    }
                    Ok(Some(Stored {
                        record: parse_body(body)?,
                        deleted: r.int(1)? == 1,
                    }))
                },
            )
            .await?;
        Ok(stored.flatten())
    }

    /// Live records of a tenant and object kind last changed after feed position `after`, in
    /// feed order, at most `limit`, each with its position: a page for listing (a record
    /// changed while a client pages moves to the end; none is skipped). Bodies are parsed on
    /// demand ([`Listed::record`]), so that a large page can be parsed on several threads.
    pub async fn list_records(
        &self,
        tenant: &str,
        object: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<Listed>, StoreError> {
        self.db()
            .rows(
                "SELECT body, feed_seq FROM records WHERE tenant = $1 AND object = $2 AND feed_seq > $3 \
                 AND deleted = 0 ORDER BY feed_seq LIMIT $4",
                &args![tenant, object, after, limit],
                |r| {
                    Ok(Listed {
                        body: r.text(0)?.to_owned(),
                        feed_seq: r.int(1)?,
                    })
                },
            )
            .await
    }

    /// Changes of `tenant` after `after_seq`, in order, at most `limit`.
    pub async fn changes(
        &self,
        tenant: &str,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<Change>, StoreError> {
        self.db()
            .rows(
                "SELECT seq, object, id, version, op FROM change_feed WHERE tenant = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                &args![tenant, after_seq, limit],
                |r| {
                    Ok(Change {
                        seq: r.int(0)?,
                        object: r.text(1)?.to_owned(),
                        id: r.text(2)?.to_owned(),
                        version: r.int(3)?,
                        op: r.text(4)?.to_owned(),
                    })
                },
            )
            .await
    }

    /// (object, id, version, deleted) of every record of a tenant, sorted.
    pub async fn record_versions(
        &self,
        tenant: &str,
    ) -> Result<Vec<(String, String, i64, bool)>, StoreError> {
        self.db()
            .rows(
                "SELECT object, id, version, deleted FROM records WHERE tenant = $1 ORDER BY object, id",
                &args![tenant],
                |r| Ok((r.text(0)?.to_owned(), r.text(1)?.to_owned(), r.int(2)?, r.int(3)? == 1)),
            )
            .await
    }

    /// Live (not deleted) records of a tenant.
    pub async fn count_records(&self, tenant: &str) -> Result<i64, StoreError> {
        let n = self
            .db()
            .first(
                "SELECT COUNT(*) FROM records WHERE tenant = $1 AND deleted = 0",
                &args![tenant],
                |r| r.int(0),
            )
            .await?;
        Ok(n.unwrap_or(0))
    }

    /// (tenant, object, id) of every live record of a data subject.
    pub async fn records_of_subject(
        &self,
        subject: &str,
    ) -> Result<Vec<(String, String, String)>, StoreError> {
        self.db()
            .rows(
                "SELECT tenant, object, id FROM records WHERE subject = $1 AND deleted = 0 ORDER BY tenant, object, id",
                &args![subject],
                |r| Ok((r.text(0)?.to_owned(), r.text(1)?.to_owned(), r.text(2)?.to_owned())),
            )
            .await
    }
}

/// A listed record: its stored JSON and its change-feed position.
#[derive(Clone, Debug)]
pub struct Listed {
    /// The record's JSON as stored.
    pub body: String,
    /// Its position in the tenant's change feed.
    pub feed_seq: i64,
}

impl Listed {
    /// The record.
    pub fn record(&self) -> Result<Record, StoreError> {
        parse_body(&self.body)
    }
}

fn parse_body(body: &str) -> Result<Record, StoreError> {
    Record::from_json(body.as_bytes()).map_err(|e| StoreError::Corrupt {
        what: "record body",
        why: e.to_string(),
    })
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
        self.db()
            .rows(
                "SELECT c.seq, c.object, c.id, c.version, c.op, r.body, r.version FROM change_feed c \
                 LEFT JOIN records r ON r.tenant = c.tenant AND r.object = c.object AND r.id = c.id \
                 WHERE c.tenant = $1 AND c.seq > $2 ORDER BY c.seq LIMIT $3",
                &args![tenant, after_seq, limit],
                |r| {
                    Ok(ChangedRecord {
                        change: Change {
                            seq: r.int(0)?,
                            object: r.text(1)?.to_owned(),
                            id: r.text(2)?.to_owned(),
                            version: r.int(3)?,
                            op: r.text(4)?.to_owned(),
                        },
                        body: r.opt_text(5)?.filter(|b| *b != "null").map(str::to_owned),
                        current_version: r.opt_int(6)?.unwrap_or(0),
                    })
                },
            )
            .await
    }
}
