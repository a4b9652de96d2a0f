//! Slow end-to-end suites, run by `.ci/run` in release mode:
//! `cargo test --release -p dss-gateway --test e2e -- --include-ignored`.

mod crash;
