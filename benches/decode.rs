//! Decode + normalise throughput of one CloudTrail object, measured on
//! generated objects in memory (no disk), plain and gzipped.
//!
//! Run with `cargo bench --bench decode`.

use std::hint::black_box;
use std::io::Write;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use flate2::Compression;
use flate2::write::GzEncoder;
use rand::SeedableRng;
use rand::rngs::StdRng;
use trailhound::corpus::{CorpusConfig, generate_log_object};
use trailhound::decode::{decode_object, envelope};
use trailhound::record::normalize;

const LIMIT: u64 = 1 << 30;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn bench_decode(c: &mut Criterion) {
    let config = CorpusConfig::default();
    let mut group = c.benchmark_group("decode_object");
    // 50 records is a quiet five minutes of one region; 2,000 a busy one.
    for records in [50usize, 2_000] {
        let mut rng = StdRng::seed_from_u64(7);
        let plain = generate_log_object(&mut rng, &config, records);
        let compressed = gzip(&plain);
        group.throughput(Throughput::Bytes(plain.len() as u64));
        group.bench_with_input(BenchmarkId::new("plain", records), &plain, |b, bytes| {
            b.iter(|| decode_object(black_box(bytes), "bench", LIMIT).unwrap())
        });
        group.bench_with_input(
            BenchmarkId::new("gzip", records),
            &compressed,
            |b, bytes| b.iter(|| decode_object(black_box(bytes), "bench", LIMIT).unwrap()),
        );
    }
    group.finish();
}

fn bench_stages(c: &mut Criterion) {
    let config = CorpusConfig::default();
    let mut rng = StdRng::seed_from_u64(11);
    let plain = generate_log_object(&mut rng, &config, 2_000);
    let records: Vec<String> = envelope::split(&plain)
        .records
        .into_iter()
        .map(|record| record.text.into_owned())
        .collect();

    let mut group = c.benchmark_group("stages");
    group.throughput(Throughput::Bytes(plain.len() as u64));
    group.bench_function("envelope_split_2000", |b| {
        b.iter(|| envelope::split(black_box(&plain)).records.len())
    });
    group.bench_function("normalize_2000", |b| {
        b.iter(|| {
            for (index, record) in records.iter().enumerate() {
                black_box(normalize(record, "bench", index as u64).unwrap());
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench_decode, bench_stages);
criterion_main!(benches);
