//! The `dss` binary, end to end: one test binary, a module per area.

mod files;
mod grpc;
mod policy;
mod run;
