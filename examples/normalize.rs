//! Normalizes one address per line from stdin and writes TSV to stdout:
//!
//! ```text
//! input<TAB>phone|email<TAB>normalized<TAB>id
//! input<TAB>invalid<TAB>reason
//! ```
//!
//! Usage: `cargo run --release --example normalize -- [--region XX] [--strict] < addresses.txt`
//! or, on built-in sample addresses, `cargo run --release --example normalize -- --sample`.
//!
//! `--region` (default `US`) is the default region for national numbers;
//! `--strict` checks numbers against the metadata's patterns, not only their
//! length. Email ids are dense indexes in order of first appearance. Input
//! is read and written in chunks, so files of any size stream through.

use std::error::Error;
use std::io::{self, BufRead, BufWriter, Write};

use std::collections::HashMap;

use optout::address::{Region, Strictness};
use optout::{Address, AddressId, Normalizer};

const CHUNK: usize = 64 * 1024;

/// Addresses as campaign senders have them, for `--sample`.
const SAMPLE: &str = "+14155550123
(415) 555-0123
1-415-555-0123
tel:+1-415-555-0123
011 44 20 7946 0958
+44 7911 123456
1-800-FLOWERS
＋１ ４１５ ５５５ ０１２３
(415) 555-0123 ext. 42
555-0123
+999 123 456
Ann.Lee@Example.COM
jürgen@bücher.de
not an address
ann@localhost
";

fn main() {
    if let Err(err) = run() {
        eprintln!("normalize: {err}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn Error>> {
    let mut region = Region::new("US")?;
    let mut strictness = Strictness::Possible;
    let mut sample = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--region" => {
                let code = args
                    .next()
                    .ok_or("--region needs a value, e.g. --region GB")?;
                region = Region::new(&code)?;
            }
            "--strict" => strictness = Strictness::Valid,
            "--sample" => sample = true,
            "-h" | "--help" => {
                println!("usage: normalize [--region XX] [--strict] [--sample] < addresses.txt");
                return Ok(());
            }
            other => return Err(format!("unknown argument {other:?} (try --help)").into()),
        }
    }
    let normalizer = Normalizer::builder()
        .region(region)
        .strictness(strictness)
        .build();
    normalizer.warm_up();

    let input: Box<dyn BufRead> = if sample {
        Box::new(SAMPLE.as_bytes())
    } else {
        Box::new(io::stdin().lock())
    };
    let mut out = BufWriter::new(io::stdout().lock());
    // Email ids as a store would give them: dense, in order of first
    // appearance.
    let mut emails: HashMap<String, AddressId> = HashMap::new();
    let mut lines = input.lines();
    loop {
        let chunk: Vec<String> = lines.by_ref().take(CHUNK).collect::<Result<_, _>>()?;
        if chunk.is_empty() {
            break;
        }
        for (input, result) in chunk.iter().zip(normalizer.addresses(&chunk)) {
            let input = input.replace('\t', " ");
            match result {
                Ok(Address::Phone(p)) => writeln!(out, "{input}\tphone\t{p}\t{}", p.id().get())?,
                Ok(Address::Email(e)) => {
                    let next = u32::try_from(emails.len())?;
                    let id = *emails
                        .entry(e.as_str().to_owned())
                        .or_insert(AddressId::from_email_index(next));
                    writeln!(out, "{input}\temail\t{e}\t{}", id.get())?;
                }
                Ok(other) => writeln!(out, "{input}\t{}\t{other}\t", other.kind())?,
                Err(reason) => writeln!(out, "{input}\tinvalid\t{reason}")?,
            }
        }
    }
    out.flush()?;
    Ok(())
}
