//! The transfer log: what left, from where to where, when, under which legal basis and policy
//! version, with which fields transformed — never a value.
//!
//! Append-only and hash-chained per region: each entry's hash is SHA-256 over a version label,
//! the region, its sequence number, the previous entry's hash and every stored column (the
//! JSON ones as the exact text written), each length-prefixed. [`verify`] recomputes the chain and names the first entry that was edited,
//! removed or moved. The head row (`transfer_log_heads`) holds the last sequence and hash, so
//! entries cut from the end are found too.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::Row as _;

use crate::{Backend, ROWS_PER_STATEMENT, Store, StoreError, Tx, multi_row};

/// The hash before the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What one field went through (no value).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldAction {
    /// Field path pattern.
    pub path: String,
    /// Class.
    pub class: String,
    /// Action taken.
    pub action: String,
    /// Rule that chose it.
    pub rule: String,
}

/// The content of a transfer-log entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    /// RFC 3339 time.
    pub timestamp: String,
    /// Pipeline name.
    pub pipeline: String,
    /// Run id.
    pub run_id: String,
    /// Origin region.
    pub origin_region: String,
    /// Origin jurisdiction code.
    pub origin_jurisdiction: String,
    /// Destination region.
    pub dest_region: String,
    /// Destination jurisdiction code.
    pub dest_jurisdiction: String,
    /// Object kind.
    pub object: String,
    /// Record id as it crossed (tokenized when it held personal data).
    pub record_id: String,
    /// The data subject's token (never the raw identity).
    pub subject: Option<String>,
    /// `transfer` or `block`.
    pub decision: String,
    /// Per-field actions.
    pub fields: Vec<FieldAction>,
    /// Why it was blocked.
    pub reasons: Vec<String>,
    /// Legal basis relied on.
    pub legal_basis: Option<String>,
    /// Conditions relied on.
    pub conditions: Vec<String>,
    /// Policy version (content hash).
    pub policy_version: String,
}

/// A stored entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The region whose chain it is in.
    pub region: String,
    /// Position in the chain, from 1.
    pub seq: i64,
    /// Content.
    pub transfer: Transfer,
    /// Hash of the previous entry ([`GENESIS`] for the first).
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

/// An entry's columns as stored: the JSON columns as the exact text written. The hash is
/// computed over these, so verifying needs no JSON parsing and any change to a stored byte
/// shows.
#[derive(Debug, Default)]
pub(crate) struct Columns {
    texts: [Option<String>; 16],
}

impl Columns {
    fn of(t: &Transfer) -> Self {
        let json = |v: String| Some(v);
        Self {
            texts: [
                Some(t.timestamp.clone()),
                Some(t.pipeline.clone()),
                Some(t.run_id.clone()),
                Some(t.origin_region.clone()),
                Some(t.origin_jurisdiction.clone()),
                Some(t.dest_region.clone()),
                Some(t.dest_jurisdiction.clone()),
                Some(t.object.clone()),
                Some(t.record_id.clone()),
                t.subject.clone(),
                Some(t.decision.clone()),
                json(serde_json::to_string(&t.fields).expect("fields serialize")),
                json(serde_json::to_string(&t.reasons).expect("reasons serialize")),
                t.legal_basis.clone(),
                json(serde_json::to_string(&t.conditions).expect("conditions serialize")),
                Some(t.policy_version.clone()),
            ],
        }
    }

    /// Column names, in hashing and binding order.
    const NAMES: &'static str = "ts, pipeline, run_id, origin_region, origin_jurisdiction, dest_region, dest_jurisdiction, object, \
        record_id, subject, decision, fields, reasons, legal_basis, conditions, policy_version";
}

impl Store {
    /// Distinct data subjects (tokens) whose records `region` transferred to jurisdiction
    /// `dest` at or after `since` (RFC 3339): the head-count that transfer thresholds count.
    pub async fn subjects_transferred(
        &self,
        region: &str,
        dest: &str,
        since: &str,
    ) -> Result<u64, StoreError> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(DISTINCT subject) FROM transfer_log WHERE region = $1 AND dest_jurisdiction = $2 \
             AND decision = 'transfer' AND subject IS NOT NULL AND ts >= $3",
        )
        .bind(region)
        .bind(dest)
        .bind(since)
        .fetch_one(self.pool())
        .await?;
        Ok(n as u64)
    }

    /// Which of `subjects` (tokens) `region` already transferred to `dest` at or after `since`.
    pub async fn subjects_already_transferred(
        &self,
        region: &str,
        dest: &str,
        since: &str,
        subjects: &[String],
    ) -> Result<std::collections::HashSet<String>, StoreError> {
        let mut known = std::collections::HashSet::new();
        for chunk in subjects.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "SELECT DISTINCT subject FROM transfer_log WHERE subject IN ({}) AND region = $1 \
                 AND dest_jurisdiction = $2 AND decision = 'transfer' AND ts >= $3",
                (0..chunk.len())
                    .map(|i| format!("${}", i + 4))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let mut q = sqlx::query_as::<_, (String,)>(sqlx::AssertSqlSafe(sql))
                .bind(region)
                .bind(dest)
                .bind(since);
            for s in chunk {
                q = q.bind(s);
            }
            known.extend(q.fetch_all(self.pool()).await?.into_iter().map(|(s,)| s));
        }
        Ok(known)
    }
}

/// A JSON string of a packed page, borrowed when it has no escapes.
#[derive(Deserialize)]
struct Text<'a>(#[serde(borrow)] std::borrow::Cow<'a, str>);

fn text<'a>(t: &'a Option<Text<'_>>) -> &'a str {
    t.as_ref().map_or("", |t| &t.0)
}

fn parse_seq(t: &Option<Text<'_>>) -> Result<i64, StoreError> {
    text(t).parse().map_err(|_| StoreError::Corrupt {
        what: "transfer log page",
        why: "an entry's sequence number is not a number".into(),
    })
}

fn seq_of(row: &[Option<Text<'_>>]) -> Result<i64, StoreError> {
    parse_seq(row.first().unwrap_or(&None))
}

/// The hash of an entry: SHA-256 over a version label, the region, the sequence number, the
/// previous hash and every column, each length-prefixed (an absent value has its own marker).
pub(crate) fn entry_hash<'a>(
    region: &str,
    seq: i64,
    prev_hash: &str,
    cols: impl IntoIterator<Item = Option<&'a str>>,
) -> String {
    let mut h = Sha256::new();
    h.update(b"dss-transfer-log/v2\n");
    let mut field = |bytes: Option<&[u8]>| match bytes {
        Some(b) => {
            h.update((b.len() as u64).to_le_bytes());
            h.update(b);
        }
        None => h.update(u64::MAX.to_le_bytes()),
    };
    field(Some(region.as_bytes()));
    field(Some(&seq.to_le_bytes()));
    field(Some(prev_hash.as_bytes()));
    for t in cols {
        field(t.map(str::as_bytes));
    }
    hex(&h.finalize())
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

impl Tx<'_> {
    /// Appends transfers to `region`'s chain; returns the sequence numbers given. The chain's
    /// head is locked until the transaction ends.
    pub async fn append_transfers(
        &mut self,
        region: &str,
        transfers: &[Transfer],
    ) -> Result<Vec<i64>, StoreError> {
        let tx = &mut self.inner;
        sqlx::query("INSERT INTO transfer_log_heads (region, seq, hash) VALUES ($1, 0, $2) ON CONFLICT (region) DO NOTHING")
            .bind(region)
            .bind(GENESIS)
            .execute(&mut **tx)
            .await?;
        // Taking the row lock first (an UPDATE) serializes appenders of this region.
        let (mut seq, mut prev): (i64, String) = sqlx::query_as(
            "UPDATE transfer_log_heads SET seq = seq WHERE region = $1 RETURNING seq, hash",
        )
        .bind(region)
        .fetch_one(&mut **tx)
        .await?;
        let mut seqs = Vec::with_capacity(transfers.len());
        let mut rows = Vec::with_capacity(transfers.len());
        for t in transfers {
            seq += 1;
            let cols = Columns::of(t);
            let hash = entry_hash(region, seq, &prev, cols.texts.iter().map(|t| t.as_deref()));
            rows.push((seq, std::mem::replace(&mut prev, hash.clone()), hash, cols));
            seqs.push(seq);
        }
        let prefix = format!(
            "INSERT INTO transfer_log (region, seq, {}, prev_hash, hash)",
            Columns::NAMES
        );
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let sql = multi_row(self.backend, &prefix, 20, chunk.len(), "");
            let mut q = sqlx::query(sql);
            for (seq, prev_hash, hash, cols) in chunk {
                q = q.bind(region).bind(*seq);
                for t in &cols.texts {
                    q = q.bind(t.as_deref());
                }
                q = q.bind(prev_hash).bind(hash);
            }
            q.execute(&mut **tx).await?;
        }
        sqlx::query("UPDATE transfer_log_heads SET seq = $2, hash = $3 WHERE region = $1")
            .bind(region)
            .bind(seq)
            .bind(&prev)
            .execute(&mut **tx)
            .await?;
        Ok(seqs)
    }
}

fn decode(row: &sqlx::any::AnyRow) -> Result<Entry, StoreError> {
    let json = |col: &str| -> Result<String, StoreError> { Ok(row.try_get::<String, _>(col)?) };
    let corrupt = |what: &'static str, e: serde_json::Error| StoreError::Corrupt {
        what,
        why: e.to_string(),
    };
    let transfer = Transfer {
        timestamp: row.try_get("ts")?,
        pipeline: row.try_get("pipeline")?,
        run_id: row.try_get("run_id")?,
        origin_region: row.try_get("origin_region")?,
        origin_jurisdiction: row.try_get("origin_jurisdiction")?,
        dest_region: row.try_get("dest_region")?,
        dest_jurisdiction: row.try_get("dest_jurisdiction")?,
        object: row.try_get("object")?,
        record_id: row.try_get("record_id")?,
        subject: row.try_get("subject")?,
        decision: row.try_get("decision")?,
        fields: serde_json::from_str(&json("fields")?)
            .map_err(|e| corrupt("transfer fields", e))?,
        reasons: serde_json::from_str(&json("reasons")?)
            .map_err(|e| corrupt("transfer reasons", e))?,
        legal_basis: row.try_get("legal_basis")?,
        conditions: serde_json::from_str(&json("conditions")?)
            .map_err(|e| corrupt("transfer conditions", e))?,
        policy_version: row.try_get("policy_version")?,
    };
    Ok(Entry {
        region: row.try_get("region")?,
        seq: row.try_get("seq")?,
        transfer,
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    })
}

impl Store {
    /// Entries of `region` after `after_seq`, in order, at most `limit`.
    pub async fn transfers(
        &self,
        region: &str,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<Entry>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM transfer_log WHERE region = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(region)
        .bind(after_seq)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(decode).collect()
    }
}

/// The first problem [`verify`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tampering {
    /// The first bad entry's sequence number.
    pub seq: i64,
    /// What is wrong with it.
    pub what: String,
}

/// What [`verify`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verification {
    /// Entries checked.
    pub entries: u64,
    /// The first problem, if any.
    pub tampering: Option<Tampering>,
}

/// Entries per page when verifying.
const VERIFY_PAGE: i64 = 1_000;

/// Recomputes `region`'s chain from the first entry and reports the first problem.
///
/// Pages of entries come from the database as one JSON array each (`json_group_array` on
/// SQLite, `json_agg` on PostgreSQL): a row is a round trip between the database's thread
/// and this task, so one row per page instead of one per entry is what makes verifying fast.
/// JSON strings carry the stored texts exactly. The next page is fetched while this one is
/// hashed.
pub async fn verify(store: &Store, region: &str) -> Result<Verification, StoreError> {
    let mut prev = GENESIS.to_owned();
    let mut expected = 1i64;
    let mut entries = 0u64;
    let bad = |seq, what: String, entries| {
        Ok(Verification {
            entries,
            tampering: Some(Tampering { seq, what }),
        })
    };
    let texts = format!("CAST(seq AS TEXT), {}, prev_hash, hash", Columns::NAMES);
    let sql = match store.backend() {
        Backend::Sqlite => format!(
            "SELECT json_group_array(json_array({texts})) FROM \
             (SELECT * FROM transfer_log WHERE region = $1 AND seq > $2 ORDER BY seq LIMIT $3)"
        ),
        Backend::Postgres => format!(
            "SELECT CAST(json_agg(json_build_array({texts})) AS TEXT) FROM \
             (SELECT * FROM transfer_log WHERE region = $1 AND seq > $2 ORDER BY seq LIMIT $3) AS page"
        ),
    };
    let fetch = |after: i64| {
        let sql = sqlx::AssertSqlSafe(sql.clone());
        async move {
            let (page,): (Option<String>,) = sqlx::query_as(sql)
                .bind(region)
                .bind(after)
                .bind(VERIFY_PAGE)
                .fetch_one(store.pool())
                .await?;
            Ok::<_, StoreError>(page.unwrap_or_default())
        }
    };
    let mut page = fetch(0).await?;
    loop {
        let mut rows: Vec<Vec<Option<Text<'_>>>> = if page.is_empty() {
            Vec::new()
        } else {
            serde_json::from_str(&page).map_err(|e| StoreError::Corrupt {
                what: "transfer log page",
                why: e.to_string(),
            })?
        };
        // The aggregate takes the ordered subquery's rows in order on both databases, but
        // neither promises it; sorting what is already sorted costs one pass.
        if !rows.is_sorted_by_key(|r| seq_of(r).unwrap_or(i64::MAX)) {
            rows.sort_by_key(|r| seq_of(r).unwrap_or(i64::MAX));
        }
        let Some(last) = rows.last() else { break };
        let last_seq = seq_of(last)?;
        let full = rows.len() as i64 == VERIFY_PAGE;
        // The next page is read on the database's side while this one is hashed here.
        let (next, checked) = tokio::join!(
            async {
                if full {
                    fetch(last_seq).await
                } else {
                    Ok(String::new())
                }
            },
            async {
                for row in &rows {
                    let [seq_text, cols @ .., prev_hash, hash] = row.as_slice() else {
                        return Err(StoreError::Corrupt {
                            what: "transfer log page",
                            why: format!("an entry has {} columns", row.len()),
                        });
                    };
                    let seq = parse_seq(seq_text)?;
                    let (prev_hash, hash) = (text(prev_hash), text(hash));
                    if seq != expected {
                        return Ok(Some((
                            expected,
                            format!("entry {expected} is missing (the next stored entry is {seq})"),
                        )));
                    }
                    if entry_hash(
                        region,
                        seq,
                        prev_hash,
                        cols.iter().map(|c| c.as_ref().map(|t| &*t.0)),
                    ) != hash
                    {
                        return Ok(Some((
                            seq,
                            format!("entry {seq} does not match its hash: it was edited or moved"),
                        )));
                    }
                    if prev_hash != prev {
                        return Ok(Some((
                            seq,
                            format!(
                                "entry {seq} does not link to entry {}: an entry was removed, inserted or replaced before it",
                                seq - 1
                            ),
                        )));
                    }
                    prev = hash.to_owned();
                    expected += 1;
                    entries += 1;
                }
                Ok(None)
            }
        );
        if let Some((seq, what)) = checked? {
            return bad(seq, what, entries);
        }
        drop(rows);
        page = next?;
    }
    let head: Option<(i64, String)> =
        sqlx::query_as("SELECT seq, hash FROM transfer_log_heads WHERE region = $1")
            .bind(region)
            .fetch_optional(store.pool())
            .await?;
    let last = expected - 1;
    match head {
        None if last == 0 => Ok(Verification {
            entries,
            tampering: None,
        }),
        None => bad(last, "the chain's head record is missing".into(), entries),
        Some((seq, _)) if seq != last => bad(
            last + 1,
            format!(
                "the log ends at entry {last} but its head records {seq} entries: entries were removed from the end"
            ),
            entries,
        ),
        Some((_, hash)) if hash != prev => bad(
            last,
            format!("entry {last} does not match the head's hash"),
            entries,
        ),
        Some(_) => Ok(Verification {
            entries,
            tampering: None,
        }),
    }
}

/// Filters of [`Store::query_transfers`]; `None` matches everything.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// From this time (RFC 3339, inclusive).
    pub since: Option<String>,
    /// Before this time (RFC 3339, exclusive).
    pub until: Option<String>,
    /// Pipeline name.
    pub pipeline: Option<String>,
    /// Destination region.
    pub dest_region: Option<String>,
    /// Object kind.
    pub object: Option<String>,
    /// Data subject token.
    pub subject: Option<String>,
    /// `transfer`, `block` or `delete`.
    pub decision: Option<String>,
}

impl Store {
    /// Entries of `region` matching `filter`, after `after_seq`, in order, at most `limit`.
    pub async fn query_transfers(
        &self,
        region: &str,
        filter: &Filter,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<Entry>, StoreError> {
        // `CAST(… AS TEXT) IS NULL` types the parameter for PostgreSQL; SQLite reads it too.
        let rows = sqlx::query(
            "SELECT * FROM transfer_log WHERE region = $1 AND seq > $2 \
             AND (CAST($3 AS TEXT) IS NULL OR ts >= $3) AND (CAST($4 AS TEXT) IS NULL OR ts < $4) \
             AND (CAST($5 AS TEXT) IS NULL OR pipeline = $5) AND (CAST($6 AS TEXT) IS NULL OR dest_region = $6) \
             AND (CAST($7 AS TEXT) IS NULL OR object = $7) AND (CAST($8 AS TEXT) IS NULL OR subject = $8) \
             AND (CAST($9 AS TEXT) IS NULL OR decision = $9) ORDER BY seq LIMIT $10",
        )
        .bind(region)
        .bind(after_seq)
        .bind(&filter.since)
        .bind(&filter.until)
        .bind(&filter.pipeline)
        .bind(&filter.dest_region)
        .bind(&filter.object)
        .bind(&filter.subject)
        .bind(&filter.decision)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(decode).collect()
    }
}

/// Transfers of one route, object kind, legal basis and decision.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct RouteCount {
    /// Origin region.
    pub origin_region: String,
    /// Destination region.
    pub dest_region: String,
    /// Destination jurisdiction.
    pub dest_jurisdiction: String,
    /// Object kind.
    pub object: String,
    /// Legal basis relied on (empty when none).
    pub legal_basis: String,
    /// `transfer`, `block` or `delete`.
    pub decision: String,
    /// Entries.
    pub count: i64,
}

/// Distinct data subjects whose data went to a jurisdiction in a calendar year — the
/// head-count China's standard-contract and security-assessment thresholds are measured in.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SubjectCount {
    /// Destination jurisdiction.
    pub dest_jurisdiction: String,
    /// Calendar year.
    pub year: String,
    /// Distinct subjects (by token).
    pub subjects: i64,
    /// Of which, subjects whose records held sensitive personal data.
    pub sensitive_subjects: i64,
}

impl Store {
    /// Counts for a record of processing: transfers per route, object kind, legal basis and
    /// decision in `[since, until)`, and distinct data subjects per destination jurisdiction
    /// per calendar year (from tokens, never identities).
    pub async fn report(
        &self,
        region: &str,
        since: Option<&str>,
        until: Option<&str>,
    ) -> Result<(Vec<RouteCount>, Vec<SubjectCount>), StoreError> {
        let routes = sqlx::query_as(
            "SELECT origin_region, dest_region, dest_jurisdiction, object, COALESCE(legal_basis, '') AS legal_basis, decision, COUNT(*) AS count \
             FROM transfer_log WHERE region = $1 AND (CAST($2 AS TEXT) IS NULL OR ts >= $2) AND (CAST($3 AS TEXT) IS NULL OR ts < $3) \
             GROUP BY origin_region, dest_region, dest_jurisdiction, object, COALESCE(legal_basis, ''), decision \
             ORDER BY origin_region, dest_region, object, decision",
        )
        .bind(region)
        .bind(since)
        .bind(until)
        .fetch_all(self.pool())
        .await?;
        let subjects = sqlx::query_as(
            "SELECT dest_jurisdiction, SUBSTR(ts, 1, 4) AS year, COUNT(DISTINCT subject) AS subjects, \
             COUNT(DISTINCT CASE WHEN fields LIKE '%\"class\":\"sensitive.%' THEN subject END) AS sensitive_subjects \
             FROM transfer_log WHERE region = $1 AND decision = 'transfer' AND subject IS NOT NULL \
             AND (CAST($2 AS TEXT) IS NULL OR ts >= $2) AND (CAST($3 AS TEXT) IS NULL OR ts < $3) \
             GROUP BY dest_jurisdiction, SUBSTR(ts, 1, 4) ORDER BY dest_jurisdiction, year",
        )
        .bind(region)
        .bind(since)
        .bind(until)
        .fetch_all(self.pool())
        .await?;
        Ok((routes, subjects))
    }
}
