//! Keyword matching: nanoseconds per inbound message with 10 and 1,000
//! configured keywords, English only and with the default five languages,
//! against the naive matcher a user might write (a list of keywords, each
//! compared in turn).
//!
//! Run with `cargo bench --bench keyword`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use optout::keyword::{Keywords, Language};

/// Inbound traffic: mostly ordinary replies, some keywords in various
/// shapes and languages.
fn messages() -> Vec<String> {
    let base = [
        "STOP",
        "stop.",
        " Stop! ",
        "\"STOP\"",
        "Arrêt",
        "baja",
        "START",
        "help?",
        "opt   out",
        "don't stop sending me deals",
        "Thanks, see you Saturday!",
        "Is the store open on Sunday?",
        "yes please",
        "When does the sale end?",
        "Can I change my delivery address to 12 High Street?",
        "🛑",
    ];
    base.iter()
        .cycle()
        .take(1024)
        .map(|s| s.to_string())
        .collect()
}

/// Keyword settings with `n` keywords in all (defaults plus added ones):
/// English only, or the default five languages.
fn keywords(n: usize, all_languages: bool) -> Keywords {
    let base = if all_languages {
        Keywords::default()
    } else {
        Keywords::default().languages([Language::English])
    };
    let defaults = base.clone().compile(&[]).len();
    (defaults..n).fold(base, |k, i| k.add_opt_out(format!("STOPCODE{i}")))
}

/// The obvious alternative: trim, upper-case, compare with every keyword.
fn naive(words: &[String], message: &str) -> bool {
    let m = message
        .trim()
        .trim_matches(|c: char| !c.is_alphanumeric())
        .to_uppercase();
    words.contains(&m)
}

fn bench(c: &mut Criterion) {
    let inputs = messages();
    let mut group = c.benchmark_group("keyword");
    group.throughput(Throughput::Elements(inputs.len() as u64));
    for n in [10usize, 1000] {
        let matcher = keywords(n, false).compile(&[]);
        group.bench_with_input(BenchmarkId::new("optout", n), &n, |b, _| {
            b.iter(|| inputs.iter().filter(|m| matcher.find(m).is_some()).count())
        });
        // The default settings: five languages' words and classifier.
        let matcher = keywords(n, true).compile(&[]);
        group.bench_with_input(BenchmarkId::new("optout_5_languages", n), &n, |b, _| {
            b.iter(|| inputs.iter().filter(|m| matcher.find(m).is_some()).count())
        });
        let words: Vec<String> = (0..n)
            .map(|i| format!("STOPCODE{i}"))
            .chain(["STOP".to_string()])
            .collect();
        group.bench_with_input(BenchmarkId::new("naive_list", n), &n, |b, _| {
            b.iter(|| {
                inputs
                    .iter()
                    .filter(|m| naive(&words, black_box(m)))
                    .count()
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
