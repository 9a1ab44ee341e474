//! The send filter: 1M and 10M recipients against 1M opt-outs, as ids,
//! strict E.164 strings and mixed formats, on 1 and 2 threads, with the
//! naive baseline a user would write in the same group: a `HashSet<String>`
//! of normalized E.164 opt-outs and the phone library per recipient.
//!
//! Run with `cargo bench --bench filter`. Before the timings it prints the
//! heap bytes per stored opt-out (10M opt-outs in a store, against the
//! naive `HashSet<String>`), measured with a counting allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashSet;
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use optout::address::Region;
use optout::model::Category;
use optout::store::Edit;
use optout::{AddressId, Dispatch, Normalizer, Store, Suppression};
use rayon::prelude::*;
use roaring::RoaringTreemap;

mod common;
use common::Rng;

/// Counts live heap bytes.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged and only
// keeps a byte count on the side.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller upholds `alloc`'s contract, passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// A random US number's E.164 digits (area codes 200–999).
fn us_number(rng: &mut Rng) -> u64 {
    12_000_000_000 + rng.below(8_000_000_000)
}

/// `n` opt-outs, and an audience of `m` numbers: 10% of them opted out,
/// 1% repeated.
fn data(n: usize, m: usize) -> (Vec<u64>, Vec<u64>) {
    let mut rng = Rng(0xF11_7E5);
    let optouts: Vec<u64> = (0..n).map(|_| us_number(&mut rng)).collect();
    let mut audience = Vec::with_capacity(m);
    for _ in 0..m {
        let pick = rng.below(100);
        let id = match pick {
            0..10 => optouts[rng.below(n as u64) as usize],
            10 if !audience.is_empty() => audience[rng.below(audience.len() as u64) as usize],
            _ => us_number(&mut rng),
        };
        audience.push(id);
    }
    (optouts, audience)
}

/// The same number in the layouts a mixed export has.
fn mixed(digits: u64, k: u64) -> String {
    let n = digits - 10_000_000_000;
    let (area, exchange, line) = (n / 10_000_000, n / 10_000 % 1000, n % 10_000);
    match k % 5 {
        0 => format!("+1{area}{exchange:03}{line:04}"),
        1 => format!("({area}) {exchange:03}-{line:04}"),
        2 => format!("{area}-{exchange:03}-{line:04}"),
        3 => format!("1 {area} {exchange:03} {line:04}"),
        _ => format!("tel:+1-{area}-{exchange:03}-{line:04}"),
    }
}

fn store_with(optouts: &[u64]) -> Store {
    let store = Store::new();
    let ids: Vec<AddressId> = optouts
        .iter()
        .filter_map(|&d| AddressId::from_phone_digits(d))
        .collect();
    store.opt_out_ids(&ids, &Edit::new()).unwrap();
    store
}

/// What a user would write without this crate: parse every recipient with
/// the phone library, format E.164, look it up in a set of strings, and
/// remember who was already sent to.
fn naive(optouts: &HashSet<String>, audience: &[String]) -> (usize, usize) {
    use rlibphonenumber::{PHONE_NUMBER_UTIL, PhoneNumberFormat, enums::Region as R};
    let normalized: Vec<Option<String>> = audience
        .par_iter()
        .map(|s| {
            let n = PHONE_NUMBER_UTIL.parse(s, Some(R::US)).ok()?;
            Some(
                PHONE_NUMBER_UTIL
                    .format(&n, PhoneNumberFormat::E164)
                    .into_owned(),
            )
        })
        .collect();
    let mut seen = HashSet::new();
    let mut sendable = 0;
    let mut skipped = 0;
    for e164 in normalized {
        match e164 {
            Some(e) if !optouts.contains(&e) && seen.insert(e.clone()) => sendable += 1,
            _ => skipped += 1,
        }
    }
    (sendable, skipped)
}

fn memory_report() {
    const N: usize = 10_000_000;
    let (optouts, _) = data(N, 0);
    let before = LIVE.load(Ordering::SeqCst);
    let store = store_with(&optouts);
    let store_bytes = LIVE.load(Ordering::SeqCst) - before;
    let memory = store.memory();
    let distinct = store.count(optout::model::ListId::SYSTEM).unwrap();
    drop(store);
    let mut bitmap = RoaringTreemap::new();
    let before = LIVE.load(Ordering::SeqCst);
    bitmap.extend(optouts.iter().copied());
    let bitmap_bytes = LIVE.load(Ordering::SeqCst) - before;
    drop(bitmap);
    let before = LIVE.load(Ordering::SeqCst);
    let naive: HashSet<String> = optouts.iter().map(|d| format!("+{d}")).collect();
    let naive_bytes = LIVE.load(Ordering::SeqCst) - before;
    drop(naive);
    println!("memory, {distinct} distinct phone opt-outs:");
    println!(
        "  opt-out bitmap alone: {:.2} bytes per opt-out",
        bitmap_bytes as f64 / distinct as f64
    );
    println!(
        "  whole store (bitmap + change history): {:.2} bytes per opt-out ({:.2} in the history)",
        store_bytes as f64 / distinct as f64,
        memory.history as f64 / distinct as f64
    );
    println!(
        "  naive HashSet<String> of E.164: {:.2} bytes per opt-out",
        naive_bytes as f64 / distinct as f64
    );
}

fn pools() -> Vec<(usize, rayon::ThreadPool)> {
    [1, 2]
        .into_iter()
        .map(|t| {
            (
                t,
                rayon::ThreadPoolBuilder::new()
                    .num_threads(t)
                    .build()
                    .unwrap(),
            )
        })
        .collect()
}

fn filter(c: &mut Criterion) {
    memory_report();
    let normalizer = Normalizer::new(Region::new("US").unwrap());
    let send =
        Dispatch::new(Category::Marketing).channel(optout::model::Channel::new("sms1").unwrap());
    let pools = pools();
    for (_, pool) in &pools {
        pool.install(|| normalizer.warm_up());
    }
    for size in [1_000_000usize, 10_000_000] {
        let (optouts, audience) = data(1_000_000, size);
        let store = store_with(&optouts);
        let compiled: Suppression = store.compile(&send).unwrap();
        let ids: Vec<AddressId> = audience
            .iter()
            .filter_map(|&d| AddressId::from_phone_digits(d))
            .collect();
        let bitmap: RoaringTreemap = audience.iter().copied().collect();
        let e164: Vec<String> = audience.iter().map(|d| format!("+{d}")).collect();
        let mixed: Vec<String> = audience
            .iter()
            .enumerate()
            .map(|(i, &d)| mixed(d, i as u64))
            .collect();
        let naive_set: HashSet<String> = optouts.iter().map(|d| format!("+{d}")).collect();

        let mut group = c.benchmark_group(format!("filter/{size}"));
        group.throughput(Throughput::Elements(size as u64));
        for (threads, pool) in &pools {
            group.bench_with_input(BenchmarkId::new("ids", threads), threads, |b, _| {
                b.iter_with_large_drop(|| pool.install(|| compiled.split_ids(&ids)))
            });
            group.bench_with_input(BenchmarkId::new("e164", threads), threads, |b, _| {
                b.iter_with_large_drop(|| pool.install(|| compiled.split(&normalizer, &e164)))
            });
            group.bench_with_input(BenchmarkId::new("mixed", threads), threads, |b, _| {
                b.iter_with_large_drop(|| pool.install(|| compiled.split(&normalizer, &mixed)))
            });
        }
        // The same audiences streamed in chunks of 64Ki, 2 threads: the
        // outcomes are 16-byte verdicts, the chunk's buffer is reused.
        if let Some((_, pool)) = pools.last() {
            const CHUNK: usize = 64 * 1024;
            group.bench_function("stream_ids/2", |b| {
                let mut out = Vec::with_capacity(CHUNK);
                b.iter(|| {
                    pool.install(|| {
                        let mut stream = compiled.stream();
                        for chunk in ids.chunks(CHUNK) {
                            out.clear();
                            stream.push_ids(chunk, &mut out);
                        }
                        stream.report().sendable
                    })
                })
            });
            group.bench_function("stream_e164/2", |b| {
                let mut out = Vec::with_capacity(CHUNK);
                b.iter(|| {
                    pool.install(|| {
                        let mut stream = compiled.stream();
                        for chunk in e164.chunks(CHUNK) {
                            out.clear();
                            stream.push(&normalizer, chunk, &mut out);
                        }
                        stream.report().sendable
                    })
                })
            });
        }
        // The lookups alone, without deduplication or output: where the
        // ids path's time goes.
        if let Some((_, pool)) = pools.last() {
            group.bench_function("probe_only/2", |b| {
                b.iter(|| {
                    pool.install(|| {
                        ids.par_iter()
                            .filter(|&&id| compiled.check_id(id).is_none())
                            .count()
                    })
                })
            });
        }
        group.bench_function("bitmap", |b| {
            b.iter_with_large_drop(|| compiled.split_bitmap(&bitmap))
        });
        group.bench_function("compile", |b| {
            b.iter(|| black_box(store.compile(&send).unwrap().len()))
        });
        if size <= 1_000_000 {
            for (threads, pool) in &pools {
                group.bench_with_input(BenchmarkId::new("naive_e164", threads), threads, |b, _| {
                    b.iter(|| pool.install(|| black_box(naive(&naive_set, &e164))))
                });
                group.bench_with_input(
                    BenchmarkId::new("naive_mixed", threads),
                    threads,
                    |b, _| b.iter(|| pool.install(|| black_box(naive(&naive_set, &mixed)))),
                );
            }
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = filter
}
criterion_main!(benches);
