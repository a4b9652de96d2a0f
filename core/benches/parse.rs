//! Parsing realistic 1 KB synthetic contacts: this crate's parser, which keeps numbers' text,
//! against sonic-rs (SIMD) and serde_json building the same `Value` through serde.
//!
//! `cargo bench -p dss-core --features synth --bench parse`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dss_core::synth::Generator;
use dss_core::{Record, RegionId, Value};

const LINES: usize = 10_000;

fn bench(c: &mut Criterion) {
    let mut generator = Generator::new(1, "cn-hq", RegionId::new("cn-beijing").unwrap());
    let lines: Vec<Vec<u8>> = (0..LINES)
        .map(|_| serde_json::to_vec(&generator.contact()).unwrap())
        .collect();
    let bytes: usize = lines.iter().map(Vec::len).sum();

    let mut group = c.benchmark_group("parse_contacts");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.sample_size(20);
    group.bench_function("record_from_json", |b| {
        b.iter(|| {
            for line in &lines {
                std::hint::black_box(Record::from_json(line).unwrap());
            }
        })
    });
    group.bench_function("dss_parse_value", |b| {
        b.iter(|| {
            for line in &lines {
                std::hint::black_box(dss_core::parse::parse_value(line).unwrap());
            }
        })
    });
    group.bench_function("sonic_rs_value_via_serde", |b| {
        b.iter(|| {
            for line in &lines {
                std::hint::black_box(sonic_rs::from_slice::<Value>(line).unwrap());
            }
        })
    });
    group.bench_function("sonic_rs_record_via_serde", |b| {
        b.iter(|| {
            for line in &lines {
                std::hint::black_box(sonic_rs::from_slice::<Record>(line).unwrap());
            }
        })
    });
    group.bench_function("serde_json_value_via_serde", |b| {
        b.iter(|| {
            for line in &lines {
                std::hint::black_box(serde_json::from_slice::<Value>(line).unwrap());
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
