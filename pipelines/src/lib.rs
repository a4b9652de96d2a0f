//! DSS pipelines: the configuration file of a deployment (`dss run --config`), and the runtime
//! that moves records source → policy plan → outbox rows and transfer-log entries (one
//! transaction in the origin region's store) → transport → idempotent sink upsert →
//! checkpoint.
//!
//! # Layout
//! - [`config`]: the configuration file (regions and their stores, tenants, pipelines).
//! - [`runtime`]: [`Runtime`]: the stores of every configured region and the pipelines that
//!   run between them, with the embedded transport (in-process, durable through the outbox).
//!   Its stages: the run loop reads and decides a batch (decide.rs), a committer writes each decided batch to the origin, a courier
//!   delivers it, both beside the loop that decides the next batch.
//! - [`seed`]: deterministic synthetic CRM data for demo tenants.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
mod connectors;
mod decide;
mod file;
pub mod gateway_config;
mod overrides;
pub mod runtime;
pub mod seed;
mod stages;

pub use config::Config;
pub use decide::HeadCount;
pub use runtime::{Leg, RouteSummary, RunError, Runtime, seal_vault, transfer_entry};
