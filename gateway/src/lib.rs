//! The DSS gateway and the `dss` command line.
//!
//! # Layout
//! - [`cli`]: the clap command tree and its dispatch (`dss policy …`, `dss dev …`).
//! - [`check`]: the dry-run engine behind `dss policy check`: JSON Lines in, one decision per
//!   record out, bad lines reported and skipped, a summary at the end.
//! - [`render`]: the people-facing table output.
//! - [`files`]: loading policy directories and pipeline files from disk.
//! - [`ops`]: `dss run` and `dss audit …`, the commands that work on a deployment's stores.
//! - [`schemas`]: the JSON Schemas of the YAML formats, generated from the Rust types.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod certs;
pub mod check;
pub mod cli;

pub mod files;
pub mod ops;
pub mod render;
pub mod schemas;
pub mod server;
