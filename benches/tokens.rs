//! Unsubscribe tokens: making, sealing and verifying, per second on one
//! core.
//!
//! Run with `cargo bench --bench tokens`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use optout::model::{Channel, ListId, Timestamp};
use optout::unsubscribe::{UnsubscribeKeys, UnsubscribeToken};
use optout::{Normalizer, Store};

fn bench(c: &mut Criterion) {
    let keys = UnsubscribeKeys::new(1, &[7u8; 32]).unwrap();
    let store = Store::new();
    let n = Normalizer::default();
    let news = Channel::new("news@example.com").unwrap();
    let tokens: Vec<UnsubscribeToken> = (0..1024u32)
        .map(|i| {
            let who = n.address(&format!("person{i}@example.com")).unwrap();
            store
                .unsubscribe_token(&who, ListId::SYSTEM)
                .unwrap()
                .channel(news.clone())
                .expires(Timestamp::from_unix_secs(2_000_000_000))
        })
        .collect();
    let signed: Vec<String> = tokens.iter().map(|t| keys.sign(t)).collect();
    let now = Timestamp::from_unix_secs(1_764_000_000);
    let people: Vec<_> = (0..1024u32)
        .map(|i| n.address(&format!("person{i}@example.com")).unwrap())
        .collect();
    let mut group = c.benchmark_group("token");
    group.throughput(Throughput::Elements(tokens.len() as u64));
    // Making a token reads the list and the clock and writes nothing.
    group.bench_function("mint", |b| {
        b.iter(|| {
            people
                .iter()
                .filter(|p| {
                    store
                        .unsubscribe_token(black_box(p), ListId::SYSTEM)
                        .is_ok()
                })
                .count()
        })
    });
    group.bench_function("sign", |b| {
        b.iter(|| tokens.iter().map(|t| keys.sign(t).len()).sum::<usize>())
    });
    group.bench_function("verify", |b| {
        b.iter(|| {
            signed
                .iter()
                .filter(|s| keys.verify(black_box(s), now).is_ok())
                .count()
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
