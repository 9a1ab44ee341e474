//! Normalization throughput: optout against the code a user would write
//! with the phone libraries directly.
//!
//! Run with `cargo bench --bench normalize`. Each group holds optout and its
//! baselines over the same inputs:
//!
//! * `naive_rlib`: `rlibphonenumber`'s global util, parse + validate +
//!   format to a `String` per input;
//! * `naive_phonenumber`: the same with the `phonenumber` crate.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use optout::Normalizer;
use optout::address::Region;
use rayon::prelude::*;

mod common;
use common::Rng;

/// One input and the region of the contact it belongs to.
type Input = (String, &'static str);

fn e164(rng: &mut Rng) -> Input {
    let s = match rng.below(6) {
        0 => format!("+1{}{}", 2 + rng.below(8), rng.digits(9)),
        1 => format!("+447{}", rng.digits(9)),
        2 => format!("+4915{}", rng.digits(9)),
        3 => format!("+336{}", rng.digits(8)),
        4 => format!("+919{}", rng.digits(9)),
        _ => format!("+5511{}", rng.digits(9)),
    };
    (s, "US")
}

fn e164_us(rng: &mut Rng) -> Input {
    (format!("+1{}{}", 2 + rng.below(8), rng.digits(9)), "US")
}

fn us_national(rng: &mut Rng) -> Input {
    let area = 200 + rng.below(800);
    let s = match rng.below(4) {
        0 => format!("({area}) 555-{}", rng.digits(4)),
        1 => format!("{area}-{}-{}", rng.digits(3), rng.digits(4)),
        2 => format!("1 {area} {} {}", rng.digits(3), rng.digits(4)),
        _ => format!("{area}.{}.{}", rng.digits(3), rng.digits(4)),
    };
    (s, "US")
}

fn gb(rng: &mut Rng) -> Input {
    let s = match rng.below(4) {
        0 => format!("07{} {}", rng.digits(3), rng.digits(6)),
        1 => format!("020 {} {}", rng.digits(4), rng.digits(4)),
        2 => format!("+44 7{} {}", rng.digits(3), rng.digits(6)),
        _ => format!("0044 20 {} {}", rng.digits(4), rng.digits(4)),
    };
    (s, "GB")
}

fn other_region(rng: &mut Rng) -> Input {
    match rng.below(10) {
        0 => (format!("030 {}", rng.digits(7)), "DE"),
        1 => (format!("+49 151 {}", rng.digits(8)), "DE"),
        2 => (
            format!(
                "06 {} {} {} {}",
                rng.digits(2),
                rng.digits(2),
                rng.digits(2),
                rng.digits(2)
            ),
            "FR",
        ),
        3 => (format!("098{} {}", rng.digits(3), rng.digits(5)), "IN"),
        4 => (format!("(11) 9{}-{}", rng.digits(4), rng.digits(4)), "BR"),
        5 => (format!("55 {} {}", rng.digits(4), rng.digits(4)), "MX"),
        6 => (
            format!("04{} {} {}", rng.digits(2), rng.digits(3), rng.digits(3)),
            "AU",
        ),
        7 => (format!("090-{}-{}", rng.digits(4), rng.digits(4)), "JP"),
        8 => (
            format!("6{} {} {}", rng.digits(2), rng.digits(3), rng.digits(3)),
            "ES",
        ),
        _ => (format!("+39 06 {}", rng.digits(8)), "IT"),
    }
}

fn garbage(rng: &mut Rng) -> Input {
    let s = match rng.below(5) {
        0 => "n/a".to_string(),
        1 => rng.digits(3),
        2 => format!("call me {}", rng.digits(2)),
        3 => format!("+{}", rng.digits(25)),
        _ => "unknown".to_string(),
    };
    (s, "US")
}

fn mixed_international(rng: &mut Rng) -> Input {
    if rng.below(2) == 0 {
        other_region(rng)
    } else {
        gb(rng)
    }
}

fn realistic(rng: &mut Rng) -> Input {
    match rng.below(100) {
        0..35 => e164(rng),
        35..60 => us_national(rng),
        60..85 => gb(rng),
        85..98 => other_region(rng),
        _ => garbage(rng),
    }
}

fn emails(n: usize) -> Vec<String> {
    let mut rng = Rng(5);
    let domains = [
        "gmail.com",
        "Example.com",
        "outlook.com",
        "yahoo.co.uk",
        "corp.example.org",
    ];
    (0..n)
        .map(|i| match rng.below(3) {
            0 => format!("user{i}@{}", domains[rng.below(5) as usize]),
            1 => format!("First.Last{i}@{}", domains[rng.below(5) as usize]),
            _ => format!(" ann+{i}@{} ", domains[rng.below(5) as usize]),
        })
        .collect()
}

fn make(n: usize, seed: u64, f: fn(&mut Rng) -> Input) -> Vec<Input> {
    let mut rng = Rng(seed);
    (0..n).map(|_| f(&mut rng)).collect()
}

fn regions(inputs: &[Input]) -> Vec<(String, Region)> {
    inputs
        .iter()
        .map(|(s, r)| (s.clone(), Region::new(r).unwrap()))
        .collect()
}

fn naive_rlib(input: &str, region: &str) -> Option<String> {
    use rlibphonenumber::{PHONE_NUMBER_UTIL, PhoneNumberFormat};
    let region = rlibphonenumber::enums::Region::from_code(region).ok()?;
    let number = PHONE_NUMBER_UTIL.parse(input, Some(region)).ok()?;
    PHONE_NUMBER_UTIL.is_valid_number(&number).then(|| {
        PHONE_NUMBER_UTIL
            .format(&number, PhoneNumberFormat::E164)
            .into_owned()
    })
}

fn naive_phonenumber(input: &str, region: &str) -> Option<String> {
    let id: phonenumber::country::Id = region.parse().ok()?;
    let number = phonenumber::parse(Some(id), input).ok()?;
    phonenumber::is_valid(&number)
        .then(|| number.format().mode(phonenumber::Mode::E164).to_string())
}

fn warm(normalizer: &Normalizer) {
    normalizer.warm_up();
    let _ = naive_rlib("+14155550123", "US");
    let _ = naive_rlib("＋１４１５５５５０１２３", "US");
    let _ = naive_phonenumber("+14155550123", "US");
}

const BATCH: usize = 10_000;

fn single_thread(c: &mut Criterion) {
    let normalizer = Normalizer::new(Region::new("US").unwrap());
    warm(&normalizer);
    type Generator = fn(&mut Rng) -> Input;
    let sets: [(&str, Generator); 7] = [
        ("strict_e164_us", e164_us),
        ("strict_e164", e164),
        ("national_us", us_national),
        ("national_gb", gb),
        ("mixed_international", mixed_international),
        ("garbage", garbage),
        ("realistic_mix", realistic),
    ];
    for (name, f) in sets {
        let inputs = make(BATCH, 1, f);
        let typed = regions(&inputs);
        let mut group = c.benchmark_group(format!("normalize/{name}"));
        group.throughput(Throughput::Elements(BATCH as u64));
        group.bench_function("optout", |b| {
            b.iter(|| {
                let mut ok = 0u64;
                for (s, region) in &typed {
                    if let Ok(p) = normalizer.phone_in(s, *region) {
                        ok = ok.wrapping_add(p.id().get());
                    }
                }
                black_box(ok)
            })
        });
        group.bench_function("naive_rlib", |b| {
            b.iter(|| inputs.iter().filter_map(|(s, r)| naive_rlib(s, r)).count())
        });
        // The phonenumber crate is ~50x slower; a smaller sample keeps runs short.
        group.bench_function("naive_phonenumber", |b| {
            b.iter(|| {
                inputs
                    .iter()
                    .filter_map(|(s, r)| naive_phonenumber(s, r))
                    .count()
            })
        });
        group.finish();
    }

    let mails = emails(BATCH);
    let mut group = c.benchmark_group("normalize/email");
    group.throughput(Throughput::Elements(BATCH as u64));
    // A store that knows every address: the id is a lookup in its table.
    let store = optout::Store::new();
    let known: Vec<optout::Address> = mails
        .iter()
        .filter_map(|m| normalizer.address(m).ok())
        .collect();
    store
        .opt_out_many(&known, &optout::store::Edit::new())
        .unwrap();
    group.bench_function("optout_canonical_and_id", |b| {
        b.iter(|| {
            let mut sum = 0u64;
            for m in &mails {
                if let Ok(e) = normalizer.email(m) {
                    let id = store.id(&optout::Address::Email(e));
                    sum = sum.wrapping_add(id.map_or(0, |id| id.get()));
                }
            }
            black_box(sum)
        })
    });
    group.bench_function("naive_email_address_lowercase", |b| {
        b.iter(|| {
            mails
                .iter()
                .filter_map(|m| m.trim().parse::<email_address::EmailAddress>().ok())
                .map(|e| e.as_str().to_lowercase())
                .collect::<Vec<_>>()
        })
    });
    group.finish();
}

fn parallel(c: &mut Criterion) {
    const N: usize = 1_000_000;
    let normalizer = Normalizer::new(Region::new("US").unwrap());
    let inputs = make(N, 2, realistic);
    let typed = regions(&inputs);
    let mut group = c.benchmark_group("normalize/realistic_mix_1M");
    group.throughput(Throughput::Elements(N as u64));
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| warm(&normalizer));
        group.bench_with_input(BenchmarkId::new("optout", threads), &threads, |b, _| {
            b.iter(|| {
                pool.install(|| {
                    typed
                        .par_iter()
                        .with_min_len(4096)
                        .map(|(s, r)| normalizer.phone_in(s, *r).map(|p| p.id()))
                        .collect::<Vec<_>>()
                })
            })
        });
        group.bench_with_input(BenchmarkId::new("naive_rlib", threads), &threads, |b, _| {
            b.iter(|| {
                pool.install(|| {
                    inputs
                        .par_iter()
                        .with_min_len(4096)
                        .map(|(s, r)| naive_rlib(s, r))
                        .collect::<Vec<_>>()
                })
            })
        });
    }
    group.finish();

    // The phonenumber crate on 1 and 2 threads, on a smaller set.
    let small = &inputs[..20_000];
    let mut group = c.benchmark_group("normalize/realistic_mix_20k_phonenumber");
    group.throughput(Throughput::Elements(small.len() as u64));
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        group.bench_with_input(
            BenchmarkId::new("naive_phonenumber", threads),
            &threads,
            |b, _| {
                b.iter(|| {
                    pool.install(|| {
                        small
                            .par_iter()
                            .map(|(s, r)| naive_phonenumber(s, r))
                            .collect::<Vec<_>>()
                    })
                })
            },
        );
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = single_thread, parallel
}
criterion_main!(benches);
