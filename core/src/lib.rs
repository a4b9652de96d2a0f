//! DSS core types: the canonical record and everything a record is made of.
//!
//! No I/O happens here; every other crate builds on these types.
//!
//! # Layout
//! - [`value`]: [`Value`] and [`Map`], the JSON-like field values of a record. Their `Debug`
//!   output redacts strings, so a stray `{:?}` never prints personal data.
//! - [`record`]: [`Record`], [`ObjectKind`], [`Subject`], consent and legal basis.
//! - [`path`]: field paths such as `addresses[*].email`.
//! - [`time`]: RFC 3339 timestamps: now, and strict parsing into UTC instants.
//! - [`geo`]: region ids, jurisdiction codes and the ISO 3166-1 alpha-2 country codes.
//! - [`json`]: a fast compact JSON writer for records and values.
//! - [`parse`]: a strict JSON parser that builds [`Value`]s and keeps numbers' text exactly.
//! - [`vault`]: the [`vault::Vault`] trait that keeps sealed originals of tokens, and an
//!   in-memory implementation.
//! - `synth` (feature `synth`): deterministic, realistic synthetic CRM records.
//!
//! # Feature flags
//! - `synth`: the synthetic record generator used by benches, tests and `dss dev generate`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod geo;
pub mod json;
pub mod parse;
pub mod path;
pub mod record;
#[cfg(feature = "synth")]
pub mod synth;
pub mod time;
pub mod value;
pub mod vault;

pub use geo::{JurisdictionCode, RegionId};
pub use path::{FieldPath, PathError, Segment};
pub use record::{
    ConsentStatus, LegalBasis, ObjectKind, Record, RecordError, RecordProblem, Subject,
};
pub use value::{Map, Number, Value};
