//! Persistence: snapshot save and load for 10M phone opt-outs and 1M
//! emails (time and bytes), journal appends with a sync per change and
//! batched, and CSV import throughput.
//!
//! Run with `cargo bench --bench persistence`. The snapshot size is printed
//! before the timings.

use std::hint::black_box;
use std::io::Write;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use optout::address::Region;
use optout::exchange::Import;
use optout::model::Source;
use optout::persist::Durability;
use optout::store::Edit;
use optout::{Address, AddressId, Normalizer, Store};

mod common;
use common::Rng;

fn big_store() -> Store {
    let mut rng = Rng(7);
    let store = Store::new();
    let phones: Vec<AddressId> = (0..10_000_000)
        .filter_map(|_| AddressId::from_phone_digits(12_000_000_000 + rng.next() % 8_000_000_000))
        .collect();
    store
        .opt_out_ids(&phones, &Edit::new().source(Source::Import))
        .unwrap();
    let n = Normalizer::default();
    let emails: Vec<Address> = (0..1_000_000)
        .map(|i| {
            n.address(&format!("customer{i}@example{}.com", i % 97))
                .unwrap()
        })
        .collect();
    store
        .opt_out_many(&emails, &Edit::new().source(Source::Import))
        .unwrap();
    store
}

fn snapshot(c: &mut Criterion) {
    let store = big_store();
    let mut bytes = Vec::new();
    store.save(&mut bytes).unwrap();
    let phones = store.count(optout::model::ListId::SYSTEM).unwrap() - 1_000_000;
    println!(
        "snapshot: {} bytes for {} phone and 1,000,000 email opt-outs (with their history): {:.2} bytes per opt-out",
        bytes.len(),
        phones,
        bytes.len() as f64 / (phones + 1_000_000) as f64
    );
    let phone_only = {
        let s = Store::new();
        let mut rng = Rng(7);
        let ids: Vec<AddressId> = (0..10_000_000)
            .filter_map(|_| {
                AddressId::from_phone_digits(12_000_000_000 + rng.next() % 8_000_000_000)
            })
            .collect();
        s.opt_out_ids(&ids, &Edit::new()).unwrap();
        let mut b = Vec::new();
        s.save(&mut b).unwrap();
        b.len() as f64 / s.count(optout::model::ListId::SYSTEM).unwrap() as f64
    };
    println!(
        "snapshot of phone opt-outs alone: {phone_only:.2} bytes per opt-out (entries and history)"
    );

    let mut group = c.benchmark_group("snapshot/10M_phones_1M_emails");
    group.sample_size(10);
    group.bench_function("save", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(bytes.len());
            store.save(&mut out).unwrap();
            black_box(out.len())
        })
    });
    group.bench_function("load", |b| {
        b.iter_with_large_drop(|| Store::load(bytes.as_slice()).unwrap())
    });
    group.finish();
}

fn journal(c: &mut Criterion) {
    let n = Normalizer::default();
    let addresses: Vec<Address> = (0..100_000u64)
        .map(|i| n.address(&format!("+1212{:07}", i)).unwrap())
        .collect();
    let mut group = c.benchmark_group("journal/append");
    group.throughput(Throughput::Elements(1));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(3));
    for (name, durability) in [
        ("sync_every_change", Durability::EveryChange),
        (
            "batched_1000_or_10ms",
            Durability::Batched {
                changes: 1000,
                interval: Duration::from_millis(10),
            },
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::builder()
            .durability(durability)
            .open(dir.path())
            .unwrap();
        let mut i = 0usize;
        group.bench_function(name, |b| {
            b.iter(|| {
                let a = &addresses[i % addresses.len()];
                i += 1;
                // Alternate so that every call changes something.
                if i.is_multiple_of(2) {
                    store.opt_out(a, &Edit::new()).unwrap()
                } else {
                    store.opt_in(a, &Edit::new()).unwrap()
                }
            })
        });
    }
    group.finish();
}

fn csv_import(c: &mut Criterion) {
    const ROWS: usize = 1_000_000;
    let mut rng = Rng(11);
    let mut file = Vec::with_capacity(ROWS * 40);
    writeln!(file, "phone,first name,list").unwrap();
    for i in 0..ROWS {
        let n = 12_000_000_000 + rng.next() % 8_000_000_000 - 10_000_000_000;
        let (area, exchange, line) = (n / 10_000_000, n / 10_000 % 1000, n % 10_000);
        match i % 3 {
            0 => writeln!(file, "+1{area}{exchange:03}{line:04},Ann,default").unwrap(),
            1 => writeln!(file, "({area}) {exchange:03}-{line:04},Bob,").unwrap(),
            _ => writeln!(
                file,
                "\"{area}-{exchange:03}-{line:04}\",\"Cy, Jr.\",default"
            )
            .unwrap(),
        }
    }
    let normalizer = Normalizer::new(Region::new("US").unwrap());
    normalizer.warm_up();
    let mut group = c.benchmark_group("csv_import");
    group.throughput(Throughput::Elements(ROWS as u64));
    group.sample_size(10);
    group.bench_function("1M_rows", |b| {
        b.iter(|| {
            let store = Store::new();
            let report = store
                .import(file.as_slice(), &normalizer, &Import::new())
                .unwrap();
            black_box(report.applied)
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(5));
    targets = snapshot, journal, csv_import
}
criterion_main!(benches);
