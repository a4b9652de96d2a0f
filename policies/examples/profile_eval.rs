//! `cargo run --release -p dss-policies --example profile_eval`: a plain loop over the
//! evaluate benchmark's workload, for profilers.
use std::time::Instant;

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use dss_core::RegionId;
use dss_core::synth::Generator;
use dss_policies::{Evaluator, Keyring, Outcome, Planner, Scanner};

fn main() {
    let (set, route) = dss_policies::medium_route_fixture();
    let planner = Planner::new(set, route).unwrap();
    let keys = Keyring::new("k1", &[7; 32]).unwrap();
    let scanner = Scanner::new();
    let mut g = Generator::new(1, "cn-hq", RegionId::new("cn-beijing").unwrap());
    let records: Vec<_> = (0..1024).map(|_| g.contact()).collect();
    let mut ev = Evaluator::new(&planner, &keys, &scanner).with_now("2026-11-27T00:00:00Z".into());
    let mut out = Outcome::default();
    let n = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200_000usize);
    let t = Instant::now();
    let mut clones = Vec::with_capacity(1024);
    let mut total = std::time::Duration::ZERO;
    for chunk in 0..n / 1024 {
        clones.clear();
        clones.extend(records.iter().cloned());
        let t0 = Instant::now();
        for r in clones.iter_mut() {
            ev.evaluate(r, &mut out);
        }
        total += t0.elapsed();
        let _ = chunk;
    }
    let done = (n / 1024 * 1024) as f64;
    println!(
        "evaluate: {:.0} records/s ({:.2} µs each); wall incl. clones {:?}",
        done / total.as_secs_f64(),
        total.as_secs_f64() * 1e6 / done,
        t.elapsed()
    );
}
