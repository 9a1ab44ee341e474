//! Nothing grows faster than its input: time per item as the audience, the
//! size of the list a single change lands in, the number of lists and the
//! number of keywords grow tenfold. Flat rows mean linear work (the keyword
//! matcher alone: `cargo bench --bench keyword`, which compares 10 and
//! 1,000 keywords).
//!
//! Run with `cargo bench --bench scaling`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use optout::model::{Category, Channel};
use optout::store::{Edit, ListSettings};
use optout::{AddressId, Dispatch, Normalizer, Store};

fn ids(n: u64, seed: u64) -> Vec<AddressId> {
    (0..n)
        .filter_map(|i| {
            AddressId::from_phone_digits(
                12_000_000_000 + (i * 2_654_435_761 + seed) % 8_000_000_000,
            )
        })
        .collect()
}

fn audience(c: &mut Criterion) {
    let store = Store::new();
    store.opt_out_ids(&ids(100_000, 1), &Edit::new()).unwrap();
    let suppression = store.compile(&Dispatch::new(Category::Marketing)).unwrap();
    let mut group = c.benchmark_group("scaling/audience");
    for n in [10_000u64, 100_000, 1_000_000] {
        let audience = ids(n, 7);
        group.throughput(Throughput::Elements(n));
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| black_box(suppression.split_ids(&audience).report().sendable))
        });
    }
    group.finish();
}

fn lists(c: &mut Criterion) {
    let mut group = c.benchmark_group("scaling/lists");
    for n in [10u32, 100, 1000] {
        // Creating n lists, each with 100 entries, then compiling a send
        // that honours all of them.
        group.throughput(Throughput::Elements(u64::from(n)));
        group.bench_with_input(BenchmarkId::new("create", n), &n, |b, &n| {
            b.iter(|| {
                let store = Store::new();
                for i in 0..n {
                    store
                        .create_list(
                            ListSettings::new(format!("List {i}")).keyword(format!("STOP{i}")),
                        )
                        .unwrap();
                }
                black_box(store.keyword_matcher(&Channel::new("sms1").unwrap()).len())
            })
        });
        let store = Store::new();
        let mut send = Dispatch::new(Category::Marketing);
        for i in 0..n {
            let list = store
                .create_list(ListSettings::new(format!("List {i}")))
                .unwrap();
            store
                .opt_out_ids(&ids(100, u64::from(i) * 977), &Edit::new().list(list))
                .unwrap();
            send = send.honour(list);
        }
        group.bench_with_input(BenchmarkId::new("compile", n), &n, |b, _| {
            b.iter(|| black_box(store.compile(&send).unwrap().len()))
        });
    }
    group.finish();
}

fn record(c: &mut Criterion) {
    // One opt-out and its opt-in, recorded one call at a time as keyword
    // replies and web forms are, into a list that already holds N entries.
    let normalizer = Normalizer::default();
    // Random numbers, so that a change often lands where the list has no
    // entry nearby (the costly case for roaring: a new container).
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let fresh: Vec<_> = (0..4096)
        .filter_map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            normalizer
                .address(&format!("+{}", 12_000_000_000 + x % 8_000_000_000))
                .ok()
        })
        .collect();
    let mut group = c.benchmark_group("scaling/single_change");
    for n in [10_000u64, 100_000, 1_000_000, 10_000_000] {
        let store = Store::new();
        store.opt_out_ids(&ids(n, 1), &Edit::new()).unwrap();
        let mut next = fresh.iter().cycle();
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| {
                let a = next.next().unwrap();
                let out = store.opt_out(a, &Edit::new()).unwrap();
                let back = store.opt_in(a, &Edit::new()).unwrap();
                black_box((out.len(), back.len()))
            })
        });
    }
    group.finish();
}

fn keywords(c: &mut Criterion) {
    // A STOP for one list's own keyword, handled by the store, with 10,
    // 100 and 1,000 lists (each with its keyword) configured.
    let normalizer = Normalizer::default();
    let from = normalizer.address("+14155550123").unwrap();
    let mut group = c.benchmark_group("scaling/inbound_keywords");
    for n in [10u32, 100, 1000] {
        let store = Store::new();
        for i in 0..n {
            store
                .create_list(ListSettings::new(format!("List {i}")).keyword(format!("STOP{i}")))
                .unwrap();
        }
        let text = format!("stop{}", n / 2);
        let sms = Channel::new("sms1").unwrap();
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| {
                let stop = store.inbound(&from, &sms, &text).unwrap();
                let start = store.inbound(&from, &sms, "START").unwrap();
                black_box((stop.changes.len(), start.changes.len()))
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).warm_up_time(Duration::from_millis(300)).measurement_time(Duration::from_secs(2));
    targets = audience, record, lists, keywords
}
criterion_main!(benches);
