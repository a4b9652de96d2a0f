//! `dss policy check --format json` end to end in one process: JSON Lines in, decisions and
//! transformed records out, over realistic 1 KB contacts on the medium route
//! (cn-beijing → eu-frankfurt).
//!
//! `cargo bench -p dss-gateway --bench check`. Baseline in the same run: parsing every line
//! into `serde_json::Value` and writing it back out, the least any JSON Lines tool does.

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dss_core::synth::Generator;
use dss_core::{ObjectKind, RegionId};
use dss_gateway::check::{Checker, Format};
use dss_policies::{Keyring, Planner, Scanner};

const LINES: u64 = 20_000;

fn bench(c: &mut Criterion) {
    let mut generator = Generator::new(1, "cn-hq", RegionId::new("cn-beijing").unwrap());
    let mut input = Vec::new();
    let mut mixed = Vec::new();
    for i in 0..LINES {
        dss_core::json::write_record(&mut input, &generator.contact());
        input.push(b'\n');
        let record = if i % 10 == 0 {
            generator.contact_with_hidden_personal_data()
        } else {
            generator.contact()
        };
        dss_core::json::write_record(&mut mixed, &record);
        mixed.push(b'\n');
    }
    let (set, route) = dss_policies::medium_route_fixture();
    let planner = Planner::new(set, route).unwrap();
    let keys = Keyring::new("k1", &[7; 32]).unwrap();
    let scanner = Scanner::new();
    let objects = [ObjectKind::Contact];
    let mut out = Vec::with_capacity(input.len() * 2);

    let mut group = c.benchmark_group("check_json_lines");
    group.throughput(Throughput::Elements(LINES));
    group.sample_size(10);
    for (name, lines) in [
        ("dss_policy_check", &input),
        ("dss_policy_check_10pct_hidden_personal_data", &mixed),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                out.clear();
                let mut checker = Checker::new(
                    &planner,
                    &keys,
                    &scanner,
                    &objects,
                    "bench",
                    "2026-11-27T00:00:00Z".into(),
                );
                checker
                    .run(
                        &lines[..],
                        "bench",
                        Format::Json,
                        &mut out,
                        &mut std::io::sink(),
                        false,
                    )
                    .unwrap();
                assert_eq!(checker.summary.records, LINES);
            })
        });
    }
    group.bench_function("baseline_serde_json_value_round_trip", |b| {
        b.iter(|| {
            out.clear();
            for line in input.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                let v: serde_json::Value = serde_json::from_slice(line).unwrap();
                serde_json::to_writer(&mut out, &v).unwrap();
                out.push(b'\n');
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
