//! In-memory evaluation of a realistic Contact (20 fields, about 1 KB, five personal fields
//! and a free-text note) on a medium-control route (cn-beijing → eu-frankfurt).
//!
//! A second workload mixes in personal data where it is hard to find: one contact in ten
//! carries it in one of the forms of `Generator::contact_with_hidden_personal_data`.
//!
//! `cargo bench -p dss-policies --bench evaluate`. Baseline in the same run: cloning the
//! record, which every iteration pays before it is evaluated in place.

// The `dss` binary runs on mimalloc; so do its benchmarks.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use dss_core::RegionId;
use dss_core::synth::Generator;
use dss_policies::{Evaluator, Keyring, Outcome, Planner, Scanner};

fn bench(c: &mut Criterion) {
    let (set, route) = dss_policies::medium_route_fixture();
    let planner = Planner::new(set, route).unwrap();
    let keys = Keyring::new("k1", &[7; 32]).unwrap();
    let scanner = Scanner::new();
    let mut generator = Generator::new(1, "cn-hq", RegionId::new("cn-beijing").unwrap());
    let records: Vec<_> = (0..1024).map(|_| generator.contact()).collect();
    let mixed: Vec<_> = (0..1024)
        .map(|i| {
            if i % 10 == 0 {
                generator.contact_with_hidden_personal_data()
            } else {
                generator.contact()
            }
        })
        .collect();
    let mut evaluator =
        Evaluator::new(&planner, &keys, &scanner).with_now("2026-11-27T00:00:00Z".into());
    let mut out = Outcome::default();

    let mut group = c.benchmark_group("evaluate");
    group.throughput(Throughput::Elements(1));
    let mut i = 0;
    group.bench_function("contact_medium_route", |b| {
        b.iter_batched_ref(
            || {
                i = (i + 1) % records.len();
                records[i].clone()
            },
            |record| evaluator.evaluate(record, &mut out),
            BatchSize::SmallInput,
        )
    });
    let mut k = 0;
    group.bench_function("contact_medium_route_10pct_hidden_personal_data", |b| {
        b.iter_batched_ref(
            || {
                k = (k + 1) % mixed.len();
                mixed[k].clone()
            },
            |record| evaluator.evaluate(record, &mut out),
            BatchSize::SmallInput,
        )
    });
    let mut j = 0;
    group.bench_function("baseline_clone_only", |b| {
        b.iter(|| {
            j = (j + 1) % records.len();
            std::hint::black_box(records[j].clone())
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
