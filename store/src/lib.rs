//! Durable DSS state, on SQLite (the embedded default: one file per region) or PostgreSQL
//! (production), through one API.
//!
//! # Layout
//! - [`Store`]: the database and the schema migrations (`store/migrations/`, run at open by
//!   sqlx's migrator on both databases). [`Store::begin`] starts a [`Tx`]: what a pipeline
//!   writes for one batch (outbox rows and transfer-log entries) commits or rolls back
//!   together. How statements reach each database is in `db.rs`: SQLite in-process through
//!   rusqlite, PostgreSQL through sqlx.
//! - [`records`]: the CRM domain store — tenant-scoped records with versions — and the
//!   per-tenant change feed sources read from.
//! - [`outbox`]: transformed records waiting to be published, per destination.
//! - [`ledger`]: the transfer log, append-only and hash-chained per region, and its verifier.
//! - [`checkpoints`]: source cursors and sink positions.
//! - [`vault`]: the durable token vault (sealed values only) and [`FileVault`].
//! - [`dead_letters`]: records that could not be read, mapped or written.
//!
//! One schema serves both databases: `BIGINT`, `INTEGER` and `TEXT` columns only, `$N`
//! placeholders (which SQLite also reads), and sequences assigned under a row lock on a
//! `sequences` row rather than by auto-increment, so numbering is gap-free and the same on
//! both.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod checkpoints;
mod db;
pub mod dead_letters;
mod file_vault;
pub mod ledger;
pub mod outbox;
pub mod records;
pub mod vault;

#[cfg(test)]
mod upgrade_tests;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use db::{Db, DbTx, args};
pub use file_vault::FileVault;
use sqlx::Connection as _;
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database refused or failed.
    #[error("database: {0}")]
    Database(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A schema migration failed.
    #[error("migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A stored value could not be read back.
    #[error("corrupt {what}: {why}")]
    Corrupt {
        /// Which value.
        what: &'static str,
        /// What is wrong with it.
        why: String,
    },
    /// A statement of the transaction failed before, so the transaction can only roll back
    /// (as on PostgreSQL, where a failed statement aborts its transaction).
    #[error("the transaction was rolled back: one of its statements had failed")]
    TransactionAborted,
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Database(Box::new(e))
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Database(Box::new(e))
    }
}

/// Which database a store runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// SQLite, the embedded default.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// A region's store.
#[derive(Clone, Debug)]
pub struct Store {
    db: Arc<Db>,
}

/// A transaction on a store: rolled back if dropped before [`Tx::commit`].
#[derive(Debug)]
pub struct Tx {
    pub(crate) inner: DbTx,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

impl Store {
    /// Opens the store at `url` and runs pending migrations. `sqlite://PATH` creates the file
    /// if needed (WAL journal, full sync); `postgres://…` connects to a server.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let db = if let Some(rest) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            let path = rest.split_once('?').map_or(rest, |(p, _)| p);
            let sep = if url.contains('?') { '&' } else { '?' };
            let url = if url.contains("mode=") {
                url.to_owned()
            } else {
                format!("{url}{sep}mode=rwc")
            };
            let options = SqliteConnectOptions::from_str(&url)?
                .page_size(db::SQLITE_PAGE_SIZE)
                .journal_mode(SqliteJournalMode::Wal);
            let mut conn = sqlx::SqliteConnection::connect_with(&options).await?;
            MIGRATOR.run(&mut conn).await?;
            conn.close().await?;
            Db::Sqlite(db::Sqlite::open(path.into())?)
        } else {
            let pool = PgPoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(30))
                .connect(url)
                .await?;
            MIGRATOR.run(&pool).await?;
            Db::Postgres(pool)
        };
        Ok(Self { db: Arc::new(db) })
    }

    /// The database behind the store.
    pub fn backend(&self) -> Backend {
        match *self.db {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Starts a transaction.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(Tx {
            inner: self.db.begin().await?,
        })
    }

    pub(crate) fn db(&self) -> &Db {
        &self.db
    }

    /// Closes the connections kept for reuse.
    pub async fn close(&self) {
        self.db.close().await;
    }
}

impl Tx {
    /// Commits.
    pub async fn commit(self) -> Result<(), StoreError> {
        self.inner.commit().await
    }

    /// Rolls back.
    pub async fn rollback(self) -> Result<(), StoreError> {
        self.inner.rollback().await
    }

    pub(crate) fn backend(&self) -> Backend {
        match self.inner {
            DbTx::Sqlite(_) => Backend::Sqlite,
            DbTx::Postgres(_) => Backend::Postgres,
        }
    }

    /// Inserts `rows` into `into` (a table and its `cols` columns) with [`multi_row`]
    /// statements of at most [`ROWS_PER_STATEMENT`] rows, each ending with `suffix` (`""` or an
    /// `ON CONFLICT` clause); `row` appends one row's `cols` arguments. Returns the rows written.
    pub(crate) async fn insert_rows<'a, R: Sync>(
        &mut self,
        into: &str,
        cols: usize,
        suffix: &str,
        rows: &'a [R],
        mut row: impl FnMut(&'a R, &mut Vec<db::Arg<'a>>) + Send,
    ) -> Result<u64, StoreError> {
        let backend = self.backend();
        let mut written = 0;
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let sql = multi_row(backend, into, cols, chunk.len(), suffix);
            let mut args = Vec::with_capacity(chunk.len() * cols);
            for r in chunk {
                row(r, &mut args);
            }
            debug_assert_eq!(args.len(), chunk.len() * cols, "{into}");
            written += self.inner.exec(&sql, &args).await?;
        }
        Ok(written)
    }

    /// Runs raw SQL: for tests that tamper with the log on purpose.
    #[doc(hidden)]
    pub async fn raw_execute_for_tests(&mut self, sql: &str) -> Result<u64, StoreError> {
        self.inner.exec(sql, &[]).await
    }
}

/// `INSERT INTO {into} VALUES …` with `rows` tuples of `cols` placeholders: one statement for a
/// batch (a statement is a call into the database; per-row statements cost more than the rows).
/// The SQL holds only placeholders, never values. PostgreSQL gets `$N`; SQLite gets anonymous
/// `?`, because looking up a numbered parameter's name is linear in SQLite, which makes binding
/// thousands of them quadratic.
///
/// For transactions only. On SQLite the statement is `INSERT OR FAIL`: a constraint failure
/// stops it without undoing the rows it already inserted, which spares SQLite a statement
/// journal (by default it copies every page a multi-row statement touches, to undo just that
/// statement: 8 % of a sync's CPU). Nothing half-done is ever committed, because a failed
/// statement aborts its transaction ([`StoreError::TransactionAborted`]).
pub(crate) fn multi_row(
    backend: Backend,
    into: &str,
    cols: usize,
    rows: usize,
    suffix: &str,
) -> String {
    let mut sql = String::with_capacity(into.len() + suffix.len() + rows * cols * 6 + 32);
    sql.push_str(match backend {
        Backend::Sqlite => "INSERT OR FAIL INTO ",
        Backend::Postgres => "INSERT INTO ",
    });
    sql.push_str(into);
    sql.push_str(" VALUES ");
    for r in 0..rows {
        if r > 0 {
            sql.push(',');
        }
        sql.push('(');
        for c in 0..cols {
            if c > 0 {
                sql.push(',');
            }
            match backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => {
                    sql.push('$');
                    sql.push_str(&(r * cols + c + 1).to_string());
                }
            }
        }
        sql.push(')');
    }
    sql.push(' ');
    sql.push_str(suffix);
    sql
}

/// Rows per multi-row statement: under SQLite's and PostgreSQL's parameter limits for the
/// widest table (20 columns).
pub(crate) const ROWS_PER_STATEMENT: usize = 400;

/// Takes `n` numbers of the sequence `name`; returns the first. The row lock taken by the
/// UPDATE serializes writers of that sequence until the transaction ends, so numbers are
/// gap-free.
pub(crate) async fn next_seqs(tx: &mut DbTx, name: &str, n: usize) -> Result<i64, StoreError> {
    tx.exec(
        "INSERT INTO sequences (name, seq) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING",
        &args![name],
    )
    .await?;
    let last = tx
        .one(
            "UPDATE sequences SET seq = seq + $2 WHERE name = $1 RETURNING seq",
            &args![name, n as i64],
            |r| r.int(0),
        )
        .await?;
    Ok(last - n as i64 + 1)
}

/// Takes the next number of the sequence `name`.
pub(crate) async fn next_seq(tx: &mut DbTx, name: &str) -> Result<i64, StoreError> {
    next_seqs(tx, name, 1).await
}
