//! The detection corpus (issue 18): synthetic personal values generated from the formats'
//! rules, written in the forms real CRM data holds them, put in every placement a record
//! has, and evaluated on every cross-border route of the shipped policy set.
//!
//! # Layout
//! - `values`: the generator — phones (mainland, German, Hong Kong, international forms),
//!   resident IDs, Hong Kong identity cards, IBANs, bank cards, e-mail addresses — each with
//!   its class.
//! - `forms`: full-width, odd spaces, zero-width characters, case; and what a leak looks like
//!   (literal, NFKC-folded, digits only).
//! - `records`: placements — free text, unclassified and nested fields, arrays of objects,
//!   JSON numbers, object keys, record ids, generalized addresses.
//! - `leaks`: the leak property (proptest) and a deterministic sweep per kind.
//! - `lookalikes`: business numbers that must cross untouched.
//! - `validators`: independent checks of every generated value.
//!
//! `values` and `forms` are also compiled into the `dss` command-line tests
//! (`gateway/tests/cli/policy.rs`), so they use the standard library and
//! `unicode-normalization` only.

pub(crate) mod forms;
mod leaks;
mod lookalikes;
mod records;
mod unseen;
mod validators;
pub(crate) mod values;
