//! The one interface the store's modules use to reach either database: statements with
//! [`Arg`]uments, rows read through [`Cells`].
//!
//! SQLite runs in this process through rusqlite, on the calling thread: a statement costs
//! what SQLite costs (microseconds for a cached read), with no hand-off to a driver thread per
//! statement and row. Long work (a commit's `fsync`, a scan of the whole log) runs under
//! `block_in_place`, so the runtime's other tasks move to another worker meanwhile. One
//! writer connection (SQLite's model: one writer at a time) is held by a transaction for its
//! whole life; reads outside transactions use a small set of read-only connections, which WAL
//! lets read while the writer writes.
//!
//! PostgreSQL runs through sqlx's driver and pool, asynchronously.
//!
//! Both read the same SQL: `$N` placeholders, or anonymous `?` in [`crate::multi_row`]'s
//! statements on SQLite.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rusqlite::types::{ToSqlOutput, ValueRef};
use sqlx::postgres::{PgPool, PgRow};
use sqlx::{Postgres, Row as _, TypeInfo as _, ValueRef as _};
use tokio::sync::OwnedMutexGuard;

use crate::StoreError;

/// A statement argument.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Arg<'a> {
    /// An integer (`BIGINT`).
    Int(i64),
    /// A text, or `NULL`.
    Text(Option<&'a str>),
}

impl From<i64> for Arg<'_> {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(v: &'a str) -> Self {
        Arg::Text(Some(v))
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(v: &'a String) -> Self {
        Arg::Text(Some(v))
    }
}

impl<'a> From<Option<&'a str>> for Arg<'a> {
    fn from(v: Option<&'a str>) -> Self {
        Arg::Text(v)
    }
}

impl<'a> From<&'a Option<String>> for Arg<'a> {
    fn from(v: &'a Option<String>) -> Self {
        Arg::Text(v.as_deref())
    }
}

impl rusqlite::ToSql for Arg<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match *self {
            Arg::Int(v) => ToSqlOutput::Borrowed(ValueRef::Integer(v)),
            Arg::Text(Some(t)) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
            Arg::Text(None) => ToSqlOutput::Borrowed(ValueRef::Null),
        })
    }
}

/// `[a.into(), b.into(), …]`: arguments of mixed types.
macro_rules! args {
    ($($a:expr),* $(,)?) => { [$($crate::db::Arg::from($a)),*] };
}
pub(crate) use args;

/// A row being read: columns by position, texts borrowed from the database's buffer.
pub(crate) trait Cells {
    /// An integer column.
    fn int(&self, i: usize) -> Result<i64, StoreError>;
    /// A text column that may be `NULL`.
    fn opt_text(&self, i: usize) -> Result<Option<&str>, StoreError>;
    /// A text column.
    fn text(&self, i: usize) -> Result<&str, StoreError> {
        self.opt_text(i)?.ok_or_else(|| StoreError::Corrupt {
            what: "row",
            why: format!("column {i} is NULL"),
        })
    }
    /// An integer column that may be `NULL`.
    fn opt_int(&self, i: usize) -> Result<Option<i64>, StoreError>;
}

impl Cells for rusqlite::Row<'_> {
    fn int(&self, i: usize) -> Result<i64, StoreError> {
        Ok(self.get_ref(i)?.as_i64().map_err(rusqlite::Error::from)?)
    }

    fn opt_int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        Ok(self
            .get_ref(i)?
            .as_i64_or_null()
            .map_err(rusqlite::Error::from)?)
    }

    fn opt_text(&self, i: usize) -> Result<Option<&str>, StoreError> {
        Ok(self
            .get_ref(i)?
            .as_str_or_null()
            .map_err(rusqlite::Error::from)?)
    }
}

impl Cells for PgRow {
    fn int(&self, i: usize) -> Result<i64, StoreError> {
        self.opt_int(i)?.ok_or_else(|| StoreError::Corrupt {
            what: "row",
            why: format!("column {i} is NULL"),
        })
    }

    fn opt_int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        let raw = self.try_get_raw(i)?;
        if raw.is_null() {
            return Ok(None);
        }
        // `INTEGER` columns are 32-bit on PostgreSQL, `BIGINT` and `COUNT` 64-bit.
        Ok(Some(match raw.type_info().name() {
            "INT4" => i64::from(self.try_get::<i32, _>(i)?),
            "INT2" => i64::from(self.try_get::<i16, _>(i)?),
            _ => self.try_get::<i64, _>(i)?,
        }))
    }

    fn opt_text(&self, i: usize) -> Result<Option<&str>, StoreError> {
        Ok(self.try_get::<Option<&str>, _>(i)?)
    }
}

/// Runs `f`, which blocks (disk syncs, long scans), without stalling the runtime's other
/// tasks: on a multi-threaded runtime they move to another worker meanwhile.
fn blocking<R>(f: impl FnOnce() -> R) -> R {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        _ => f(),
    }
}

/// Read-only connections kept open for reuse.
const SQLITE_READERS: usize = 4;

/// A region's SQLite database.
#[derive(Debug)]
pub(crate) struct Sqlite {
    path: PathBuf,
    writer: Arc<tokio::sync::Mutex<rusqlite::Connection>>,
    readers: Mutex<Vec<rusqlite::Connection>>,
    /// Wakes the checkpointer after a commit; dropping it stops the checkpointer.
    committed: std::sync::mpsc::SyncSender<()>,
}

impl Sqlite {
    /// Opens the database at `path`, which must exist (the migrations create it).
    ///
    /// Commits append to the write-ahead log only; a checkpointer thread with its own
    /// connection copies the log into the database file after commits, at most every
    /// [`CHECKPOINT_INTERVAL`] (a passive checkpoint: it never blocks the writer or
    /// readers). Left to the writer, SQLite would copy a thousand pages inside every few
    /// commits, on the committing thread.
    pub(crate) fn open(path: PathBuf) -> Result<Self, StoreError> {
        let writer = open_sqlite(
            &path,
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
             PRAGMA cache_size = -16384; PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = 0; \
             PRAGMA journal_size_limit = 67108864;",
        )?;
        let checkpointer = open_sqlite(&path, "PRAGMA synchronous = FULL;")?;
        // The file's own page size: it is fixed when the file is created.
        let page_size: i64 = checkpointer.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        let restart_frames = WAL_RESTART_BYTES / page_size.max(512);
        let (committed, wakes) = std::sync::mpsc::sync_channel::<()>(1);
        std::thread::Builder::new()
            .name("dss-sqlite-checkpoint".into())
            .spawn(move || {
                let mut last = std::time::Instant::now();
                while wakes.recv().is_ok() {
                    // Wait for the commits of the next few batches: they rewrite many of the
                    // same pages, which one checkpoint then copies once.
                    if let Some(wait) = CHECKPOINT_INTERVAL.checked_sub(last.elapsed()) {
                        std::thread::sleep(wait);
                        let _ = wakes.try_recv();
                    }
                    checkpoint(&checkpointer, restart_frames);
                    last = std::time::Instant::now();
                }
                // The store is closed: fold the log in before exiting.
                checkpoint(&checkpointer, restart_frames);
            })
            .map_err(|e| StoreError::Database(Box::new(e)))?;
        Ok(Self {
            path,
            writer: Arc::new(tokio::sync::Mutex::new(writer)),
            readers: Mutex::new(Vec::new()),
            committed,
        })
    }

    /// Tells the checkpointer there is log to copy (a wake-up already pending is enough).
    fn wake_checkpointer(&self) {
        let _ = self.committed.try_send(());
    }

    /// Runs `f` on a read-only connection.
    fn read<R>(
        &self,
        f: impl FnOnce(&rusqlite::Connection) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let pooled = self.readers.lock().expect("reader list").pop();
        let conn = match pooled {
            Some(c) => c,
            None => open_sqlite(
                &self.path,
                "PRAGMA query_only = ON; PRAGMA cache_size = -2048;",
            )?,
        };
        let out = f(&conn);
        let mut readers = self.readers.lock().expect("reader list");
        if readers.len() < SQLITE_READERS {
            readers.push(conn);
        }
        out
    }
}

/// The page size of new SQLite databases (existing files keep theirs), chosen by
/// measurement. SQLite writes each write-ahead-log frame with two `pwrite`s, and the sync's
/// committer spent most of its commit time in them: pages twice SQLite's default halve
/// them. Larger pages cost where a commit inserts into random-key indexes (vault tokens,
/// head-counts, subjects) larger than the page cache, each insert dirtying a whole page.
/// When every commit was checkpointed on its own and vault tokens were inserted unsorted,
/// 16 KB pages ran a million-contact sync 20 % slower than 4 KB. Since (sorted inserts, two
/// batches a transaction, a checkpoint every 150 ms), against 4 KB: 8 KB +11 % on 50,000
/// contacts and +7 % on a million, 16 KB +18 % and -2 % (docs/benchmarks.md). 8 KB keeps
/// the bytes a random insert dirties at twice, not four times, 4 KB's as indexes grow.
pub(crate) const SQLITE_PAGE_SIZE: u32 = 8192;

/// How often the checkpointer copies the write-ahead log into the database at most. Every
/// commit rewrites the tail pages of the tables it appends to and most leaves of the
/// random-key indexes; copying after every commit copied those pages again each time. Every
/// 150 ms, a 50,000-contact sync used 7 % less CPU (docs/benchmarks.md). The log then holds
/// at most what 150 ms of commits write, besides [`WAL_RESTART_BYTES`].
const CHECKPOINT_INTERVAL: std::time::Duration = std::time::Duration::from_millis(150);

/// How much the write-ahead log may hold before a checkpoint makes it start over: the size
/// `journal_size_limit` trims the file back to.
const WAL_RESTART_BYTES: i64 = 64 << 20;

/// How long a restarting checkpoint waits for readers of older snapshots; writers wait
/// behind it meanwhile, so it gives up early and tries again after a later commit.
const WAL_RESTART_WAIT: std::time::Duration = std::time::Duration::from_millis(250);

/// A passive checkpoint, and once the log holds more than `restart_frames`, one that restarts
/// it. SQLite starts the log over only when every frame is copied and no reader still reads
/// from it, which a passive checkpoint never waits for: with the pipeline's readers always
/// in some snapshot, the log grew with everything written (11 GB in a million-record sync).
/// The restarting checkpoint blocks new writers, copies the last frames and waits for the
/// readers already in the log (readers that start after it read the database file only).
///
/// A failure (the disk is full, say) leaves the log longer, not the data at risk: the next
/// checkpoint, or the next opening of the database, copies it.
fn checkpoint(conn: &rusqlite::Connection, restart_frames: i64) {
    let run = |mode: &str| {
        conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| {
            r.get::<_, i64>(1)
        })
    };
    let restart = match run("PASSIVE") {
        Ok(frames) => frames > restart_frames,
        Err(e) => {
            tracing::warn!(error = %e, "SQLite checkpoint failed; will retry after the next commit");
            return;
        }
    };
    if restart {
        let restarted = conn
            .busy_timeout(WAL_RESTART_WAIT)
            .and_then(|()| run("RESTART"));
        if let Err(e) = restarted.and(conn.busy_timeout(BUSY_TIMEOUT)) {
            tracing::warn!(error = %e, "SQLite could not restart its write-ahead log; will retry");
        }
    }
}

/// How long a statement waits for a lock another connection holds.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

fn open_sqlite(path: &std::path::Path, pragmas: &str) -> Result<rusqlite::Connection, StoreError> {
    use rusqlite::OpenFlags;
    let conn = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(64);
    conn.execute_batch(pragmas)?;
    Ok(conn)
}

fn sqlite_exec(
    conn: &rusqlite::Connection,
    sql: &str,
    args: &[Arg<'_>],
) -> Result<u64, StoreError> {
    let mut stmt = conn.prepare_cached(sql)?;
    bind(&mut stmt, args)?;
    Ok(stmt.raw_execute()? as u64)
}

/// Binds `args` to `stmt`. SQLite takes `$N` as a *name*, numbered by first appearance, so
/// `$2 … $1` would swap; each parameter is bound by the number in its name instead (anonymous
/// `?` by position).
fn bind(stmt: &mut rusqlite::CachedStatement<'_>, args: &[Arg<'_>]) -> Result<(), StoreError> {
    for i in 1..=stmt.parameter_count() {
        let n = match stmt.parameter_name(i) {
            Some(name) => name
                .strip_prefix('$')
                .and_then(|n| n.parse::<usize>().ok())
                .ok_or_else(|| StoreError::Corrupt {
                    what: "statement",
                    why: format!("parameter {name} is not $N"),
                })?,
            None => i,
        };
        let arg =
            n.checked_sub(1)
                .and_then(|k| args.get(k))
                .ok_or_else(|| StoreError::Corrupt {
                    what: "statement",
                    why: format!("no argument for parameter {n}"),
                })?;
        stmt.raw_bind_parameter(i, arg)?;
    }
    Ok(())
}

/// Runs a query and hands each row to `f` until it returns `false`.
fn sqlite_each(
    conn: &rusqlite::Connection,
    sql: &str,
    args: &[Arg<'_>],
    mut f: impl FnMut(&dyn Cells) -> Result<bool, StoreError>,
) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(sql)?;
    bind(&mut stmt, args)?;
    let mut rows = stmt.raw_query();
    while let Some(row) = rows.next()? {
        if !f(row)? {
            break;
        }
    }
    Ok(())
}

fn sqlite_rows<T>(
    conn: &rusqlite::Connection,
    sql: &str,
    args: &[Arg<'_>],
    mut f: impl FnMut(&dyn Cells) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut out = Vec::new();
    sqlite_each(conn, sql, args, |row| {
        out.push(f(row)?);
        Ok(true)
    })?;
    Ok(out)
}

fn pg_query<'q>(
    sql: &'q str,
    args: &[Arg<'q>],
) -> sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments> {
    let mut q = sqlx::query::<Postgres>(sqlx::AssertSqlSafe(sql));
    for a in args {
        q = match *a {
            Arg::Int(v) => q.bind(v),
            Arg::Text(t) => q.bind(t),
        };
    }
    q
}

/// The database behind a store.
#[derive(Debug)]
pub(crate) enum Db {
    Sqlite(Sqlite),
    Postgres(PgPool),
}

impl Db {
    /// Runs a statement outside any transaction (it commits on its own).
    pub(crate) async fn exec(&self, sql: &str, args: &[Arg<'_>]) -> Result<u64, StoreError> {
        match self {
            Db::Sqlite(db) => {
                let conn = db.writer.lock().await;
                let n = blocking(|| sqlite_exec(&conn, sql, args))?;
                db.wake_checkpointer();
                Ok(n)
            }
            Db::Postgres(pool) => Ok(pg_query(sql, args).execute(pool).await?.rows_affected()),
        }
    }

    /// Runs a query outside any transaction; `f` turns each row into a `T`.
    pub(crate) async fn rows<T: Send>(
        &self,
        sql: &str,
        args: &[Arg<'_>],
        mut f: impl FnMut(&dyn Cells) -> Result<T, StoreError> + Send,
    ) -> Result<Vec<T>, StoreError> {
        match self {
            Db::Sqlite(db) => db.read(|conn| sqlite_rows(conn, sql, args, f)),
            Db::Postgres(pool) => pg_query(sql, args)
                .fetch_all(pool)
                .await?
                .iter()
                .map(|row| f(row))
                .collect(),
        }
    }

    /// Runs a query outside any transaction and reads its first row, if any.
    pub(crate) async fn first<T: Send>(
        &self,
        sql: &str,
        args: &[Arg<'_>],
        f: impl FnMut(&dyn Cells) -> Result<T, StoreError> + Send,
    ) -> Result<Option<T>, StoreError> {
        Ok(self.rows(sql, args, f).await?.into_iter().next())
    }

    /// Streams a query's rows to `f`, one at a time, until it returns `false`: for scans
    /// too large to hold.
    pub(crate) async fn each(
        &self,
        sql: &str,
        args: &[Arg<'_>],
        mut f: impl FnMut(&dyn Cells) -> Result<bool, StoreError> + Send,
    ) -> Result<(), StoreError> {
        match self {
            Db::Sqlite(db) => blocking(|| db.read(|conn| sqlite_each(conn, sql, args, f))),
            Db::Postgres(pool) => {
                use tokio_stream::StreamExt as _;
                let mut rows = pg_query(sql, args).fetch(pool);
                while let Some(row) = rows.next().await {
                    if !f(&row?)? {
                        break;
                    }
                }
                Ok(())
            }
        }
    }

    /// Starts a transaction.
    pub(crate) async fn begin(&self) -> Result<DbTx, StoreError> {
        match self {
            Db::Sqlite(db) => {
                let conn = db.writer.clone().lock_owned().await;
                // IMMEDIATE takes the write lock now: a transaction never fails half-way
                // because another process started writing first.
                conn.execute_batch("BEGIN IMMEDIATE")?;
                Ok(DbTx::Sqlite(SqliteTx {
                    conn,
                    open: true,
                    failed: false,
                    committed: db.committed.clone(),
                }))
            }
            Db::Postgres(pool) => Ok(DbTx::Postgres(pool.begin().await?)),
        }
    }

    /// Closes connections.
    pub(crate) async fn close(&self) {
        match self {
            Db::Sqlite(db) => db.readers.lock().expect("reader list").clear(),
            Db::Postgres(pool) => pool.close().await,
        }
    }
}

/// SQLite's writer connection inside a transaction; rolled back when dropped uncommitted.
#[derive(Debug)]
pub(crate) struct SqliteTx {
    conn: OwnedMutexGuard<rusqlite::Connection>,
    open: bool,
    /// A statement failed: the transaction may hold part of it (see [`crate::multi_row`]), so
    /// like PostgreSQL it refuses further statements and its commit rolls back.
    failed: bool,
    committed: std::sync::mpsc::SyncSender<()>,
}

impl SqliteTx {
    /// Runs `f` unless an earlier statement failed; a failure of `f` aborts the transaction.
    fn statement<T>(
        &mut self,
        f: impl FnOnce(&rusqlite::Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        if self.failed {
            return Err(StoreError::TransactionAborted);
        }
        let out = f(&self.conn);
        self.failed = out.is_err();
        out
    }
}

impl Drop for SqliteTx {
    fn drop(&mut self) {
        if self.open {
            // Nothing to report to: a failed rollback leaves SQLite rolling back on its own
            // when the next statement or connection finds the transaction abandoned.
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

/// A transaction on either database.
#[derive(Debug)]
pub(crate) enum DbTx {
    Sqlite(SqliteTx),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

impl DbTx {
    /// Runs a statement.
    pub(crate) async fn exec(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<u64, StoreError> {
        match self {
            DbTx::Sqlite(tx) => tx.statement(|conn| sqlite_exec(conn, sql, args)),
            DbTx::Postgres(tx) => Ok(pg_query(sql, args)
                .execute(&mut **tx)
                .await?
                .rows_affected()),
        }
    }

    /// Runs a query; `f` turns each row into a `T`.
    pub(crate) async fn rows<T: Send>(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
        mut f: impl FnMut(&dyn Cells) -> Result<T, StoreError> + Send,
    ) -> Result<Vec<T>, StoreError> {
        match self {
            DbTx::Sqlite(tx) => tx.statement(|conn| sqlite_rows(conn, sql, args, f)),
            DbTx::Postgres(tx) => pg_query(sql, args)
                .fetch_all(&mut **tx)
                .await?
                .iter()
                .map(|row| f(row))
                .collect(),
        }
    }

    /// Runs a query that returns one row.
    pub(crate) async fn one<T: Send>(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
        f: impl FnMut(&dyn Cells) -> Result<T, StoreError> + Send,
    ) -> Result<T, StoreError> {
        self.rows(sql, args, f)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| StoreError::Corrupt {
                what: "query",
                why: "returned no row".into(),
            })
    }

    /// Commits.
    pub(crate) async fn commit(self) -> Result<(), StoreError> {
        match self {
            DbTx::Sqlite(tx) if tx.failed => Err(StoreError::TransactionAborted),
            DbTx::Sqlite(mut tx) => {
                blocking(|| tx.conn.execute_batch("COMMIT"))?;
                tx.open = false;
                let _ = tx.committed.try_send(());
                Ok(())
            }
            DbTx::Postgres(tx) => Ok(tx.commit().await?),
        }
    }

    /// Rolls back.
    pub(crate) async fn rollback(self) -> Result<(), StoreError> {
        match self {
            DbTx::Sqlite(mut tx) => {
                tx.open = false;
                Ok(tx.conn.execute_batch("ROLLBACK")?)
            }
            DbTx::Postgres(tx) => Ok(tx.rollback().await?),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

    use super::*;

    /// Commits 20 MB while two readers take turns so that one of them is always inside a
    /// snapshot, as a pipeline's source and courier are; returns the write-ahead log's largest
    /// size along the way.
    fn largest_log_with_readers_always_reading(restart_frames: i64) -> u64 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let writer = rusqlite::Connection::open(&path).unwrap();
        writer
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0; \
                 PRAGMA journal_size_limit = 0; CREATE TABLE t (body TEXT NOT NULL);",
            )
            .unwrap();
        let checkpointer = open_sqlite(&path, "").unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        // Snapshots each reader has opened. A reader ends its snapshot only once the other
        // has opened a newer one, so one is always open, however the threads are scheduled.
        let opened = Arc::new([AtomicU64::new(0), AtomicU64::new(0)]);
        let readers: Vec<_> = (0..2)
            .map(|me| {
                let (path, stop, opened) = (path.clone(), stop.clone(), opened.clone());
                std::thread::spawn(move || {
                    let conn = open_sqlite(&path, "").unwrap();
                    while !stop.load(Ordering::SeqCst) {
                        let other = opened[1 - me].load(Ordering::SeqCst);
                        conn.execute_batch("BEGIN; SELECT count(*) FROM t;")
                            .unwrap();
                        opened[me].fetch_add(1, Ordering::SeqCst);
                        while opened[1 - me].load(Ordering::SeqCst) == other
                            && !stop.load(Ordering::SeqCst)
                        {
                            std::thread::sleep(std::time::Duration::from_micros(200));
                        }
                        conn.execute_batch("COMMIT").unwrap();
                    }
                })
            })
            .collect();
        while opened.iter().any(|n| n.load(Ordering::SeqCst) == 0) {
            std::thread::sleep(std::time::Duration::from_micros(200));
        }
        let wal = dir.path().join("t.db-wal");
        let body = "x".repeat(100_000);
        let mut largest = 0;
        for _ in 0..200 {
            writer
                .execute("INSERT INTO t (body) VALUES (?1)", [&body])
                .unwrap();
            checkpoint(&checkpointer, restart_frames);
            largest = largest.max(std::fs::metadata(&wal).unwrap().len());
        }
        stop.store(true, Ordering::Relaxed);
        for r in readers {
            r.join().unwrap();
        }
        largest
    }

    #[test]
    fn the_write_ahead_log_starts_over_though_readers_never_stop() {
        let bounded = largest_log_with_readers_always_reading(500);
        assert!(
            bounded < 4 << 20,
            "restarting at 500 frames (2 MB), the log reached {bounded} bytes"
        );
        let unbounded = largest_log_with_readers_always_reading(i64::MAX);
        assert!(
            unbounded > 15 << 20,
            "passive checkpoints alone let the log grow with what was written: {unbounded} bytes"
        );
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_failed_statement_aborts_its_transaction_and_nothing_of_it_is_committed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (k TEXT PRIMARY KEY);")
            .unwrap();
        let db = Db::Sqlite(Sqlite::open(path.clone()).unwrap());
        let mut tx = db.begin().await.unwrap();
        tx.exec("INSERT INTO t (k) VALUES ('before')", &[])
            .await
            .unwrap();
        // The third row breaks the key after two went in: `INSERT OR FAIL` keeps those two.
        let sql = crate::multi_row(crate::Backend::Sqlite, "t (k)", 1, 3, "");
        assert!(sql.starts_with("INSERT OR FAIL INTO t (k) VALUES"), "{sql}");
        let keys = args!["a", "b", "a"];
        tx.exec(&sql, &keys).await.unwrap_err();
        let after = tx.exec("INSERT INTO t (k) VALUES ('after')", &[]).await;
        assert!(
            matches!(after, Err(StoreError::TransactionAborted)),
            "{after:?}"
        );
        let commit = tx.commit().await;
        assert!(
            matches!(commit, Err(StoreError::TransactionAborted)),
            "{commit:?}"
        );

        let rows: i64 = rusqlite::Connection::open(&path)
            .unwrap()
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(
            rows, 0,
            "a transaction with a failed statement committed rows"
        );
        // The writer is free again and works.
        let mut tx = db.begin().await.unwrap();
        tx.exec("INSERT INTO t (k) VALUES ('next')", &[])
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
}
