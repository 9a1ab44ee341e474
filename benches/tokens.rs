//! Unsubscribe tokens: creation and verification per second on one core.
//!
//! Run with `cargo bench --bench tokens`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use optout::{AddressId, ChannelId};
use optout::model::{ListId, Timestamp};
use optout::unsubscribe::{UnsubscribeKeys, UnsubscribeToken};

fn bench(c: &mut Criterion) {
    let keys = UnsubscribeKeys::new(1, &[7u8; 32]).unwrap();
    let tokens: Vec<UnsubscribeToken> = (0..1024u32)
        .map(|i| {
            UnsubscribeToken::new(AddressId::from_email_index(i * 7919), ListId::new(i % 3))
                .channel(ChannelId::new(101))
                .expires(Timestamp::from_unix_secs(2_000_000_000))
        })
        .collect();
    let signed: Vec<String> = tokens.iter().map(|t| keys.sign(t)).collect();
    let now = Timestamp::from_unix_secs(1_764_000_000);
    let mut group = c.benchmark_group("token");
    group.throughput(Throughput::Elements(tokens.len() as u64));
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
