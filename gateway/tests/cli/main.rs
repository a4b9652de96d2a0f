//! The `dss` binary, end to end: one test binary, a module per area.

mod policy;
mod run;
