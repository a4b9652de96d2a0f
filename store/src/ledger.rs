//! The transfer log: what left, from where to where, when, under which legal basis and policy
//! version, with which fields transformed — never a value.
//!
//! Append-only and hash-chained per region: each entry's hash is SHA-256 over a version label,
//! the region, its sequence number, the previous entry's hash and every stored column (the
//! JSON ones as the exact text written), each length-prefixed. [`verify`] recomputes the chain
//! and names the first entry that was edited, removed or moved. The head row
//! (`transfer_log_heads`) holds the last sequence and hash, so entries cut from the end are
//! found too.
//!
//! A list of field actions repeats from record to record, so it is stored once, in
//! `field_action_sets` under an id that is a hash of it, and entries carry the id: the entry
//! hash covers the id, the id commits to the list, and [`verify`] checks that every set an
//! entry names is there and matches its id. Lists no longer than an id stay inline.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::db::{Arg, Cells, args};
use crate::{ROWS_PER_STATEMENT, Store, StoreError, Tx};

/// Position of `fields` among the hashed columns ([`Columns::NAMES`]).
const FIELDS: usize = 11;
/// Positions of the columns [`verify`]'s head-count check reads.
const TS: usize = 0;
const DEST_JURISDICTION: usize = 6;
const SUBJECT: usize = 9;
const DECISION: usize = 10;

/// Length of a field-action set's id: 128 bits in hex.
const FIELD_SET_ID_LEN: usize = 32;

/// The id a list of field actions is stored under: the first 128 bits of SHA-256 of its JSON,
/// in hex. It commits to the list, so the entry hash, which covers the id, covers the list.
fn field_set_id(json: &str) -> String {
    hex(&Sha256::digest(json.as_bytes())[..FIELD_SET_ID_LEN / 2])
}

/// Whether a stored `fields` column is the list itself (entries written before field-action
/// sets, and lists shorter than an id) rather than a set id.
fn is_inline(fields: &str) -> bool {
    fields.starts_with('[')
}

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
#[derive(Debug)]
pub(crate) struct Columns<'t> {
    texts: [Option<&'t str>; 16],
}

impl<'t> Columns<'t> {
    /// The columns of `t`, with its fields, reasons and conditions columns `lists`.
    fn of(t: &'t Transfer, lists: [&'t str; 3]) -> Self {
        let b = |v: &'t String| Some(v.as_str());
        let [fields, reasons, conditions] = lists.map(Some);
        Self {
            texts: [
                b(&t.timestamp),
                b(&t.pipeline),
                b(&t.run_id),
                b(&t.origin_region),
                b(&t.origin_jurisdiction),
                b(&t.dest_region),
                b(&t.dest_jurisdiction),
                b(&t.object),
                b(&t.record_id),
                t.subject.as_deref(),
                b(&t.decision),
                fields,
                reasons,
                t.legal_basis.as_deref(),
                conditions,
                b(&t.policy_version),
            ],
        }
    }

    /// Column names, in hashing and binding order.
    const NAMES: &'static str = "ts, pipeline, run_id, origin_region, origin_jurisdiction, dest_region, dest_jurisdiction, object, \
        record_id, subject, decision, fields, reasons, legal_basis, conditions, policy_version";
}

/// Transfer-log entries made ready to append: their list columns (field actions, reasons,
/// conditions) serialized and their field-action sets found. That is work for whoever
/// decides the transfers, outside the transaction that appends them ([`Tx::append_entries`]):
/// a pipeline's committer, which holds the origin's only writer, then only hashes and writes.
#[derive(Debug)]
pub struct Entries<'t> {
    transfers: Cow<'t, [Transfer]>,
    /// Per entry, the positions in `texts` of its fields, reasons and conditions columns.
    /// A fields column is the field actions' JSON when no longer than a set id, else the id
    /// of their set in `sets`.
    lists: Vec<[u32; 3]>,
    /// Each run of equal lists is serialized once: the entries of a read or a batch mostly
    /// share their field actions, reasons and conditions.
    texts: Vec<String>,
    /// (id, JSON) of each distinct field-action set, in order of first use.
    sets: Vec<(String, String)>,
}

impl<'t> Entries<'t> {
    /// Prepares `transfers` (borrowed or owned) for appending.
    pub fn new(transfers: impl Into<Cow<'t, [Transfer]>>) -> Self {
        let transfers = transfers.into();
        let mut texts = Vec::new();
        let mut sets: Vec<(String, String)> = Vec::new();
        let mut lists = Vec::with_capacity(transfers.len());
        let (mut fields, mut reasons, mut conditions) =
            (Reused::default(), Reused::default(), Reused::default());
        for t in transfers.iter() {
            lists.push([
                fields.column(t.fields.as_slice(), &mut texts, |fields| {
                    let json = serde_json::to_string(fields).expect("fields serialize");
                    if json.len() <= FIELD_SET_ID_LEN {
                        return json;
                    }
                    let id = field_set_id(&json);
                    if !sets.iter().any(|(known, _)| *known == id) {
                        sets.push((id.clone(), json));
                    }
                    id
                }),
                reasons.column(t.reasons.as_slice(), &mut texts, strings_json),
                conditions.column(t.conditions.as_slice(), &mut texts, strings_json),
            ]);
        }
        Self {
            transfers,
            lists,
            texts,
            sets,
        }
    }

    /// The transfers.
    pub fn transfers(&self) -> &[Transfer] {
        &self.transfers
    }

    /// The columns of the `i`th entry.
    fn columns(&self, i: usize) -> Columns<'_> {
        Columns::of(
            &self.transfers[i],
            self.lists[i].map(|k| self.texts[k as usize].as_str()),
        )
    }
}

/// A list column reused from the previous entry when its list is equal.
struct Reused<'t, T: ?Sized> {
    last: Option<(&'t T, u32)>,
}

impl<T: ?Sized> Default for Reused<'_, T> {
    fn default() -> Self {
        Self { last: None }
    }
}

impl<'t, T: ?Sized + PartialEq> Reused<'t, T> {
    /// The position in `texts` of `list`'s column, made by `make` unless the previous entry's
    /// list was equal.
    fn column(
        &mut self,
        list: &'t T,
        texts: &mut Vec<String>,
        make: impl FnOnce(&'t T) -> String,
    ) -> u32 {
        if let Some((last, k)) = self.last
            && *last == *list
        {
            return k;
        }
        let k = u32::try_from(texts.len()).expect("fewer than 4 billion list columns");
        texts.push(make(list));
        self.last = Some((list, k));
        k
    }
}

fn strings_json(list: &[String]) -> String {
    serde_json::to_string(list).expect("strings serialize")
}

impl Store {
    /// Distinct data subjects (tokens) whose records `region` transferred to jurisdiction
    /// `dest` in calendar `year` (UTC): the head-count that transfer thresholds count.
    pub async fn subjects_transferred(
        &self,
        region: &str,
        dest: &str,
        year: i32,
    ) -> Result<u64, StoreError> {
        let n = self
            .db()
            .first(
                "SELECT subjects FROM transfer_subject_counts WHERE region = $1 AND dest_jurisdiction = $2 AND year = $3",
                &args![region, dest, &year.to_string()],
                |r| r.int(0),
            )
            .await?;
        Ok(n.unwrap_or(0) as u64)
    }

    /// Which of `subjects` (tokens) `region` already transferred to `dest` in `year`.
    pub async fn subjects_already_transferred(
        &self,
        region: &str,
        dest: &str,
        year: i32,
        subjects: &[String],
    ) -> Result<std::collections::HashSet<String>, StoreError> {
        let year = year.to_string();
        let mut known = std::collections::HashSet::new();
        for chunk in subjects.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "SELECT subject FROM transfer_subjects WHERE region = $1 AND dest_jurisdiction = $2 \
                 AND year = $3 AND subject IN ({})",
                (0..chunk.len())
                    .map(|i| format!("${}", i + 4))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let mut args: Vec<Arg<'_>> = args![region, dest, &year].into();
            args.extend(chunk.iter().map(Arg::from));
            known.extend(
                self.db()
                    .rows(&sql, &args, |r| Ok(r.text(0)?.to_owned()))
                    .await?,
            );
        }
        Ok(known)
    }
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

impl Tx {
    /// Appends transfers to `region`'s chain; returns the sequence numbers given. The chain's
    /// head is locked until the transaction ends.
    pub async fn append_transfers(
        &mut self,
        region: &str,
        transfers: &[Transfer],
    ) -> Result<Vec<i64>, StoreError> {
        self.append_entries(region, &Entries::new(transfers)).await
    }

    /// [`Tx::append_transfers`] for entries prepared beforehand.
    pub async fn append_entries(
        &mut self,
        region: &str,
        entries: &Entries<'_>,
    ) -> Result<Vec<i64>, StoreError> {
        let transfers = entries.transfers();
        let tx = &mut self.inner;
        tx.exec(
            "INSERT INTO transfer_log_heads (region, seq, hash) VALUES ($1, 0, $2) ON CONFLICT (region) DO NOTHING",
            &args![region, GENESIS],
        )
        .await?;
        // Taking the row lock first (an UPDATE) serializes appenders of this region.
        let (mut seq, mut prev) = tx
            .one(
                "UPDATE transfer_log_heads SET seq = seq WHERE region = $1 RETURNING seq, hash",
                &args![region],
                |r| Ok((r.int(0)?, r.text(1)?.to_owned())),
            )
            .await?;
        let mut seqs = Vec::with_capacity(transfers.len());
        let mut rows = Vec::with_capacity(transfers.len());
        for i in 0..transfers.len() {
            seq += 1;
            let cols = entries.columns(i);
            let hash = entry_hash(region, seq, &prev, cols.texts);
            rows.push((seq, std::mem::replace(&mut prev, hash.clone()), hash, cols));
            seqs.push(seq);
        }
        self.insert_rows(
            "field_action_sets (id, actions)",
            2,
            "ON CONFLICT (id) DO NOTHING",
            &entries.sets,
            |(id, actions), args| args.extend(args![id, actions]),
        )
        .await?;
        let into = format!(
            "transfer_log (region, seq, {}, prev_hash, hash)",
            Columns::NAMES
        );
        self.insert_rows(
            &into,
            20,
            "",
            &rows,
            |(seq, prev_hash, hash, cols), args| {
                args.extend(args![region, *seq]);
                args.extend(cols.texts.iter().map(|t| Arg::Text(*t)));
                args.extend(args![prev_hash, hash]);
            },
        )
        .await?;
        // Head-counts: each (destination, year, subject) sent, once; sorted, so that the
        // lookups walk the table in order.
        let mut heads: Vec<(&str, &str, &str)> = transfers
            .iter()
            .filter_map(|t| {
                head(
                    &t.decision,
                    &t.dest_jurisdiction,
                    &t.timestamp,
                    t.subject.as_deref(),
                )
            })
            .collect();
        heads.sort_unstable();
        heads.dedup();
        for group in heads.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
            let (dest, year, _) = group[0];
            let new = self
                .insert_rows(
                    "transfer_subjects (region, dest_jurisdiction, year, subject)",
                    4,
                    "ON CONFLICT (region, dest_jurisdiction, year, subject) DO NOTHING",
                    group,
                    |&(dest, year, subject), args| args.extend(args![region, dest, year, subject]),
                )
                .await?;
            if new > 0 {
                self.inner.exec(
                    "INSERT INTO transfer_subject_counts (region, dest_jurisdiction, year, subjects) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (region, dest_jurisdiction, year) \
                     DO UPDATE SET subjects = transfer_subject_counts.subjects + excluded.subjects",
                    &args![region, dest, year, new as i64],
                )
                .await?;
            }
        }
        self.inner
            .exec(
                "UPDATE transfer_log_heads SET seq = $2, hash = $3 WHERE region = $1",
                &args![region, seq, &prev],
            )
            .await?;
        Ok(seqs)
    }
}

/// The head-count an entry adds to, if any: (destination jurisdiction, calendar year,
/// subject) of a transfer with a data subject. Appending and [`verify`] count by this rule.
fn head<'a>(
    decision: &str,
    dest: &'a str,
    timestamp: &'a str,
    subject: Option<&'a str>,
) -> Option<(&'a str, &'a str, &'a str)> {
    if decision != "transfer" {
        return None;
    }
    Some((dest, year_of(timestamp), subject?))
}

/// The calendar year of an RFC 3339 timestamp (its first four characters), as the report
/// and the head-counts group by.
fn year_of(timestamp: &str) -> &str {
    timestamp.get(..4).unwrap_or(timestamp)
}

/// The columns [`decode`] reads, in order, from [`ENTRIES`]: field actions as their JSON
/// whether stored inline or as a set id.
fn entry_columns() -> String {
    let names = Columns::NAMES.replace("fields", "COALESCE(fs.actions, fields)");
    format!("region, seq, {names}, prev_hash, hash")
}

/// Log entries joined to the field-action sets their `fields` name.
const ENTRIES: &str = "transfer_log LEFT JOIN field_action_sets fs ON fs.id = transfer_log.fields";

fn decode(r: &dyn Cells) -> Result<Entry, StoreError> {
    let text = |i| -> Result<String, StoreError> { Ok(r.text(i)?.to_owned()) };
    let opt_text =
        |i| -> Result<Option<String>, StoreError> { Ok(r.opt_text(i)?.map(str::to_owned)) };
    let corrupt = |what: &'static str, e: serde_json::Error| StoreError::Corrupt {
        what,
        why: e.to_string(),
    };
    let transfer = Transfer {
        timestamp: text(2)?,
        pipeline: text(3)?,
        run_id: text(4)?,
        origin_region: text(5)?,
        origin_jurisdiction: text(6)?,
        dest_region: text(7)?,
        dest_jurisdiction: text(8)?,
        object: text(9)?,
        record_id: text(10)?,
        subject: opt_text(11)?,
        decision: text(12)?,
        fields: serde_json::from_str(r.text(13)?).map_err(|e| corrupt("transfer fields", e))?,
        reasons: serde_json::from_str(r.text(14)?).map_err(|e| corrupt("transfer reasons", e))?,
        legal_basis: opt_text(15)?,
        conditions: serde_json::from_str(r.text(16)?)
            .map_err(|e| corrupt("transfer conditions", e))?,
        policy_version: text(17)?,
    };
    Ok(Entry {
        region: text(0)?,
        seq: r.int(1)?,
        transfer,
        prev_hash: text(18)?,
        hash: text(19)?,
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
        self.db()
            .rows(
                &format!(
                    "SELECT {} FROM {ENTRIES} WHERE region = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                    entry_columns()
                ),
                &args![region, after_seq, limit],
                decode,
            )
            .await
    }
}

/// The first problem [`verify`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tampering {
    /// The first bad entry's sequence number; 0 when no entry is bad but the head-count
    /// tables disagree with the log.
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

/// Entries handed from the reader to the hasher at a time.
const VERIFY_PAGE: usize = 1_000;

/// Entries copied out of the database: their texts in one buffer, each column a range of it.
#[derive(Default)]
struct Page {
    texts: String,
    rows: Vec<PageRow>,
}

struct PageRow {
    seq: i64,
    /// The 16 hashed columns, `prev_hash` and `hash`; `None` is SQL `NULL`.
    cols: [Option<(u32, u32)>; 18],
}

impl Page {
    fn push(&mut self, r: &dyn Cells) -> Result<(), StoreError> {
        let mut cols = [None; 18];
        for (i, col) in cols.iter_mut().enumerate() {
            if let Some(t) = r.opt_text(i + 1)? {
                let start = self.texts.len() as u32;
                self.texts.push_str(t);
                *col = Some((start, self.texts.len() as u32));
            }
        }
        self.rows.push(PageRow {
            seq: r.int(0)?,
            cols,
        });
        Ok(())
    }

    fn col(&self, range: Option<(u32, u32)>) -> Option<&str> {
        range.map(|(a, b)| &self.texts[a as usize..b as usize])
    }
}

/// The field-action sets of a store, each with whether it matches its id.
struct FieldSets(std::collections::HashMap<String, bool>);

impl FieldSets {
    async fn load(store: &Store) -> Result<Self, StoreError> {
        let sets = store
            .db()
            .rows("SELECT id, actions FROM field_action_sets", &[], |r| {
                let id = r.text(0)?;
                Ok((id.to_owned(), field_set_id(r.text(1)?) == id))
            })
            .await?;
        Ok(Self(sets.into_iter().collect()))
    }

    /// What is wrong with the set entry `seq` names, if anything.
    fn problem(&self, seq: i64, id: &str) -> Option<String> {
        let why = match self.0.get(id) {
            Some(true) => return None,
            Some(false) => "do not match their id: the set was edited",
            None => "are missing: the set was removed",
        };
        Some(format!("entry {seq}'s field actions (set {id}) {why}"))
    }
}

/// Where the hasher got to.
struct Chain {
    sets: FieldSets,
    prev: String,
    expected: i64,
    entries: u64,
    tampering: Option<Tampering>,
    heads: Heads,
}

/// The distinct subjects of a log's transfers per destination jurisdiction and calendar
/// year, as the head-count tables should hold them.
#[derive(Default)]
struct Heads(Vec<HeadGroup>);

struct HeadGroup {
    dest: String,
    year: String,
    subjects: rustc_hash::FxHashSet<Box<str>>,
}

impl Heads {
    fn add(&mut self, dest: &str, year: &str, subject: &str) {
        let i = match self.0.iter().position(|g| g.dest == dest && g.year == year) {
            Some(i) => i,
            None => {
                self.0.push(HeadGroup {
                    dest: dest.to_owned(),
                    year: year.to_owned(),
                    subjects: Default::default(),
                });
                self.0.len() - 1
            }
        };
        // Mostly new (one hash), a repeat costs an allocation.
        self.0[i].subjects.insert(subject.into());
    }

    /// What is wrong with the first (destination, year) whose count in `counted` (the
    /// head-count table's rows) differs from the log's.
    fn disagreement(&self, counted: &[(String, String, i64)]) -> Option<String> {
        let logged = |d: &str, y: &str| {
            self.0
                .iter()
                .find(|g| g.dest == d && g.year == y)
                .map_or(0, |g| g.subjects.len() as i64)
        };
        let in_table = |d: &str, y: &str| {
            counted
                .iter()
                .find(|(cd, cy, _)| cd == d && cy == y)
                .map_or(0, |(_, _, n)| *n)
        };
        let mut groups: Vec<(&str, &str)> = self
            .0
            .iter()
            .map(|g| (g.dest.as_str(), g.year.as_str()))
            .chain(counted.iter().map(|(d, y, _)| (d.as_str(), y.as_str())))
            .collect();
        groups.sort_unstable();
        groups.into_iter().find_map(|(d, y)| {
            let (log, table) = (logged(d, y), in_table(d, y));
            (log != table).then(|| {
                format!(
                    "the head-count of subjects sent to {d} in {y} is {table} but the log holds {log}: \
                     the head-count tables were edited (thresholds read them)"
                )
            })
        })
    }
}

impl Chain {
    /// Checks a page's entries in order; returns false at the first problem.
    fn check(&mut self, region: &str, page: &Page) -> bool {
        for row in &page.rows {
            let seq = row.seq;
            let expected = self.expected;
            let prev_hash = page.col(row.cols[16]).unwrap_or("");
            let hash = page.col(row.cols[17]).unwrap_or("");
            let problem = if seq != expected {
                Some((
                    expected,
                    format!("entry {expected} is missing (the next stored entry is {seq})"),
                ))
            } else if entry_hash(
                region,
                seq,
                prev_hash,
                row.cols[..16].iter().map(|c| page.col(*c)),
            ) != hash
            {
                Some((
                    seq,
                    format!("entry {seq} does not match its hash: it was edited or moved"),
                ))
            } else if prev_hash != self.prev {
                Some((
                    seq,
                    format!(
                        "entry {seq} does not link to entry {}: an entry was removed, inserted or replaced before it",
                        seq - 1
                    ),
                ))
            } else {
                page.col(row.cols[FIELDS])
                    .filter(|f| !is_inline(f))
                    .and_then(|id| self.sets.problem(seq, id))
                    .map(|what| (seq, what))
            };
            if let Some((seq, what)) = problem {
                self.tampering = Some(Tampering { seq, what });
                return false;
            }
            if let (Some(decision), Some(dest), Some(ts)) = (
                page.col(row.cols[DECISION]),
                page.col(row.cols[DEST_JURISDICTION]),
                page.col(row.cols[TS]),
            ) && let Some((dest, year, subject)) =
                head(decision, dest, ts, page.col(row.cols[SUBJECT]))
            {
                self.heads.add(dest, year, subject);
            }
            hash.clone_into(&mut self.prev);
            self.expected += 1;
            self.entries += 1;
        }
        true
    }
}

/// Recomputes `region`'s chain from the first entry and reports the first problem; if the
/// chain holds, checks that the head-count tables (which thresholds read) count the distinct
/// subjects of its transfers per destination jurisdiction and year.
///
/// The entries are read in one pass, in order, by one query; pages of them go to a hashing
/// thread, so reading and hashing run on two cores. Memory holds a few pages and the
/// transferred subjects' tokens (about 90 bytes each).
pub async fn verify(store: &Store, region: &str) -> Result<Verification, StoreError> {
    let sql = format!(
        "SELECT seq, {}, prev_hash, hash FROM transfer_log WHERE region = $1 ORDER BY seq",
        Columns::NAMES
    );
    let sets = FieldSets::load(store).await?;
    let (pages, inbox) = std::sync::mpsc::sync_channel::<Page>(2);
    let hasher = {
        let region = region.to_owned();
        tokio::task::spawn_blocking(move || {
            let mut chain = Chain {
                sets,
                prev: GENESIS.to_owned(),
                expected: 1,
                entries: 0,
                tampering: None,
                heads: Heads::default(),
            };
            while let Ok(page) = inbox.recv() {
                if !chain.check(&region, &page) {
                    break;
                }
            }
            chain
        })
    };
    let mut page = Page::default();
    let read = store
        .db()
        .each(&sql, &args![region], |r| {
            page.push(r)?;
            if page.rows.len() == VERIFY_PAGE {
                // A closed channel means the hasher found a problem: stop reading.
                return Ok(pages.send(std::mem::take(&mut page)).is_ok());
            }
            Ok(true)
        })
        .await;
    if !page.rows.is_empty() {
        let _ = pages.send(page);
    }
    drop(pages);
    let chain = hasher.await.map_err(|e| StoreError::Corrupt {
        what: "transfer log",
        why: format!("the hashing thread failed: {e}"),
    })?;
    read?;
    let Chain {
        sets: _,
        prev,
        expected,
        entries,
        tampering,
        heads,
    } = chain;
    if tampering.is_some() {
        return Ok(Verification { entries, tampering });
    }
    let bad = |seq, what: String, entries| {
        Ok(Verification {
            entries,
            tampering: Some(Tampering { seq, what }),
        })
    };
    let head = store
        .db()
        .first(
            "SELECT seq, hash FROM transfer_log_heads WHERE region = $1",
            &args![region],
            |r| Ok((r.int(0)?, r.text(1)?.to_owned())),
        )
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
        Some(_) => {
            // The chain holds: the head-counts that thresholds read must count its subjects.
            let counted = store
                .db()
                .rows(
                    "SELECT dest_jurisdiction, year, subjects FROM transfer_subject_counts WHERE region = $1",
                    &args![region],
                    |r| Ok((r.text(0)?.to_owned(), r.text(1)?.to_owned(), r.int(2)?)),
                )
                .await?;
            match heads.disagreement(&counted) {
                None => Ok(Verification {
                    entries,
                    tampering: None,
                }),
                Some(what) => bad(0, what, entries),
            }
        }
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
        self.db()
            .rows(
                &format!(
                    "SELECT {} FROM {ENTRIES} WHERE region = $1 AND seq > $2 \
                     AND (CAST($3 AS TEXT) IS NULL OR ts >= $3) AND (CAST($4 AS TEXT) IS NULL OR ts < $4) \
                     AND (CAST($5 AS TEXT) IS NULL OR pipeline = $5) AND (CAST($6 AS TEXT) IS NULL OR dest_region = $6) \
                     AND (CAST($7 AS TEXT) IS NULL OR object = $7) AND (CAST($8 AS TEXT) IS NULL OR subject = $8) \
                     AND (CAST($9 AS TEXT) IS NULL OR decision = $9) ORDER BY seq LIMIT $10",
                    entry_columns()
                ),
                &args![
                    region,
                    after_seq,
                    &filter.since,
                    &filter.until,
                    &filter.pipeline,
                    &filter.dest_region,
                    &filter.object,
                    &filter.subject,
                    &filter.decision,
                    limit,
                ],
                decode,
            )
            .await
    }
}

/// Transfers of one route, object kind, legal basis and decision.
#[derive(Clone, Debug, PartialEq, Eq)]
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
#[derive(Clone, Debug, PartialEq, Eq)]
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
        let window = args![region, since, until];
        let routes = self
            .db()
            .rows(
                "SELECT origin_region, dest_region, dest_jurisdiction, object, COALESCE(legal_basis, ''), decision, COUNT(*) \
                 FROM transfer_log WHERE region = $1 AND (CAST($2 AS TEXT) IS NULL OR ts >= $2) AND (CAST($3 AS TEXT) IS NULL OR ts < $3) \
                 GROUP BY origin_region, dest_region, dest_jurisdiction, object, COALESCE(legal_basis, ''), decision \
                 ORDER BY origin_region, dest_region, object, decision",
                &window,
                |r| {
                    Ok(RouteCount {
                        origin_region: r.text(0)?.to_owned(),
                        dest_region: r.text(1)?.to_owned(),
                        dest_jurisdiction: r.text(2)?.to_owned(),
                        object: r.text(3)?.to_owned(),
                        legal_basis: r.text(4)?.to_owned(),
                        decision: r.text(5)?.to_owned(),
                        count: r.int(6)?,
                    })
                },
            )
            .await?;
        let subjects = self
            .db()
            .rows(
                &format!(
                    "SELECT dest_jurisdiction, SUBSTR(ts, 1, 4) AS year, COUNT(DISTINCT subject), \
                     COUNT(DISTINCT CASE WHEN COALESCE(fs.actions, fields) LIKE '%\"class\":\"sensitive.%' THEN subject END) \
                     FROM {ENTRIES} WHERE region = $1 AND decision = 'transfer' AND subject IS NOT NULL \
                     AND (CAST($2 AS TEXT) IS NULL OR ts >= $2) AND (CAST($3 AS TEXT) IS NULL OR ts < $3) \
                     GROUP BY dest_jurisdiction, SUBSTR(ts, 1, 4) ORDER BY dest_jurisdiction, year"
                ),
                &window,
                |r| {
                    Ok(SubjectCount {
                        dest_jurisdiction: r.text(0)?.to_owned(),
                        year: r.text(1)?.to_owned(),
                        subjects: r.int(2)?,
                        sensitive_subjects: r.int(3)?,
                    })
                },
            )
            .await?;
        Ok((routes, subjects))
    }
}
