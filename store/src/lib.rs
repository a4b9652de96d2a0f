//! Durable DSS state, on SQLite (the embedded default: one file per region) or PostgreSQL
//! (production), through one API.
//!
//! # Layout
//! - [`Store`]: a connection pool and the schema migrations (`store/migrations/`, run at
//!   open). [`Store::begin`] starts a [`Tx`]: what a pipeline writes for one batch (outbox rows
//!   and transfer-log entries) commits or rolls back together.
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
pub mod dead_letters;
mod file_vault;
pub mod ledger;
pub mod outbox;
pub mod records;
pub mod vault;

use std::str::FromStr;
use std::sync::Once;
use std::time::Duration;

pub use file_vault::FileVault;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, Transaction};

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database refused or failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
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
    /// An upsert or delete lost a race: the stored version is newer.
    #[error("version conflict on {object} {id}: stored {stored}, given {given}")]
    VersionConflict {
        /// Object kind.
        object: String,
        /// Record id.
        id: String,
        /// The stored version.
        stored: i64,
        /// The version given.
        given: i64,
    },
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
    pool: AnyPool,
    /// Reads that need no transaction: on SQLite a few more connections (WAL lets them read
    /// while the one writer writes), on PostgreSQL the same pool.
    readers: AnyPool,
    backend: Backend,
}

/// A transaction on a store.
pub struct Tx<'s> {
    pub(crate) inner: Transaction<'s, Any>,
    pub(crate) backend: Backend,
}

static DRIVERS: Once = Once::new();

impl Store {
    /// Opens the store at `url` and runs pending migrations. `sqlite://PATH` creates the file
    /// if needed (WAL journal, full sync); `postgres://…` connects to a server.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        DRIVERS.call_once(sqlx::any::install_default_drivers);
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        };
        let (url, max) = match backend {
            Backend::Sqlite => {
                let sep = if url.contains('?') { '&' } else { '?' };
                let url = if url.contains("mode=") {
                    url.to_owned()
                } else {
                    format!("{url}{sep}mode=rwc")
                };
                // One writer at a time is SQLite's model; a single connection keeps
                // transactions from waiting on each other's locks.
                (url, 1)
            }
            Backend::Postgres => (url.to_owned(), 8),
        };
        let options = AnyConnectOptions::from_str(&url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        use sqlx::Executor as _;
                        conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA cache_size = -32768; PRAGMA temp_store = MEMORY;").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        let readers = match backend {
            Backend::Sqlite => {
                AnyPoolOptions::new()
                    .max_connections(3)
                    .acquire_timeout(Duration::from_secs(30))
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            use sqlx::Executor as _;
                            conn.execute("PRAGMA query_only = ON; PRAGMA cache_size = -8192;")
                                .await?;
                            Ok(())
                        })
                    })
                    .connect_with(AnyConnectOptions::from_str(&url)?)
                    .await?
            }
            Backend::Postgres => pool.clone(),
        };
        Ok(Self {
            pool,
            readers,
            backend,
        })
    }

    /// The database behind the store.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Starts a transaction.
    pub async fn begin(&self) -> Result<Tx<'static>, StoreError> {
        Ok(Tx {
            inner: self.pool.begin().await?,
            backend: self.backend,
        })
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The pool for reads outside transactions.
    pub(crate) fn readers(&self) -> &AnyPool {
        &self.readers
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.readers.close().await;
        self.pool.close().await;
    }
}

impl Tx<'_> {
    /// Commits.
    pub async fn commit(self) -> Result<(), StoreError> {
        Ok(self.inner.commit().await?)
    }

    /// Rolls back.
    pub async fn rollback(self) -> Result<(), StoreError> {
        Ok(self.inner.rollback().await?)
    }

    /// Runs raw SQL: for tests that tamper with the log on purpose.
    #[doc(hidden)]
    pub async fn raw_execute_for_tests(&mut self, sql: &str) -> Result<u64, StoreError> {
        Ok(sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(&mut *self.inner)
            .await?
            .rows_affected())
    }
}

/// `INSERT …` with `rows` tuples of `cols` placeholders: one statement for a batch (a statement
/// is a round trip to the database; per-row statements cost more than the rows). The SQL holds
/// only placeholders, never values. PostgreSQL gets `$N`; SQLite gets anonymous `?`, because
/// looking up a numbered parameter's name is linear in SQLite, which makes binding thousands
/// of them quadratic.
pub(crate) fn multi_row(
    backend: Backend,
    prefix: &str,
    cols: usize,
    rows: usize,
    suffix: &str,
) -> sqlx::AssertSqlSafe<String> {
    let mut sql = String::with_capacity(prefix.len() + suffix.len() + rows * cols * 6);
    sql.push_str(prefix);
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
    sqlx::AssertSqlSafe(sql)
}

/// Rows per multi-row statement: under SQLite's and PostgreSQL's parameter limits for the
/// widest table (20 columns).
pub(crate) const ROWS_PER_STATEMENT: usize = 400;

/// Takes `n` numbers of the sequence `name`; returns the first.
pub(crate) async fn next_seqs(
    tx: &mut Transaction<'_, Any>,
    name: &str,
    n: usize,
) -> Result<i64, StoreError> {
    sqlx::query("INSERT INTO sequences (name, seq) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING")
        .bind(name)
        .execute(&mut **tx)
        .await?;
    let row: (i64,) =
        sqlx::query_as("UPDATE sequences SET seq = seq + $2 WHERE name = $1 RETURNING seq")
            .bind(name)
            .bind(n as i64)
            .fetch_one(&mut **tx)
            .await?;
    Ok(row.0 - n as i64 + 1)
}

/// Takes the next number of the sequence `name`: the row lock taken by the UPDATE serializes
/// writers of that sequence until the transaction ends, so numbers are gap-free.
pub(crate) async fn next_seq(tx: &mut Transaction<'_, Any>, name: &str) -> Result<i64, StoreError> {
    sqlx::query("INSERT INTO sequences (name, seq) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING")
        .bind(name)
        .execute(&mut **tx)
        .await?;
    let row: (i64,) =
        sqlx::query_as("UPDATE sequences SET seq = seq + 1 WHERE name = $1 RETURNING seq")
            .bind(name)
            .fetch_one(&mut **tx)
            .await?;
    Ok(row.0)
}
