//! Durable DSS state.
//!
//! # Layout
//! - [`FileVault`]: a file-backed [`dss_core::vault::Vault`], one file per region, for the
//!   embedded default. The database-backed vault, CRM records, outbox, transfer log and
//!   checkpoints arrive with the store (SQLite and PostgreSQL).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod file_vault;

pub use file_vault::FileVault;
