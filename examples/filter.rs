//! Splits an audience file into sendable and skipped recipients.
//!
//! ```text
//! filter [--optouts FILE] [--blocked FILE] --audience FILE
//!        --category marketing|utility|otp [--channel NAME] [--lists a,b]
//!        [--region XX] [--store DIR] --out DIR
//! ```
//!
//! * `--optouts`: CSV with a header naming an address column (`address`,
//!   `phone`, `email`, …) and optionally `list` (a custom list's name, or
//!   `default` or empty for the system list) and `scope` (`account` or a
//!   channel name). Lists it names are created. Imported with the
//!   library's import; a bad row stops the run (it is reported with its
//!   line) and nothing is applied.
//! * `--blocked`, `--audience`: one address per line (an `@` means email).
//! * `--channel`: the channel the send goes out on, named as you name it
//!   (`+14155550100`, `sms1`, …). Without it, opt-outs of every channel
//!   apply: the send could go out on any of them.
//! * `--lists`: the custom lists this send honours (the system list is
//!   always honoured for marketing).
//! * `--store DIR`: filter against the store kept in DIR (created if
//!   missing); `--optouts` and `--blocked` are then recorded in it.
//!
//! Writes `DIR/sendable.csv` (`input,normalized`) and `DIR/skipped.csv`
//! (`input,normalized,reason`) in input order and prints the summary line.
//! On any error it exits non-zero and leaves no output files behind.

use std::collections::BTreeSet;
use std::error::Error;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use optout::address::Region;
use optout::exchange::{Import, ImportMode, spreadsheet_safe};
use optout::filter::Outcome;
use optout::model::{Category, Channel, Source};
use optout::store::{Edit, ListSettings};
use optout::{Dispatch, Normalizer, Store};

struct Args {
    optouts: Option<PathBuf>,
    blocked: Option<PathBuf>,
    audience: PathBuf,
    category: Category,
    channel: Option<Channel>,
    lists: Vec<String>,
    region: Region,
    store: Option<PathBuf>,
    out: PathBuf,
}

const USAGE: &str = "usage: filter [--optouts FILE] [--blocked FILE] --audience FILE \
--category marketing|utility|otp [--channel NAME] [--lists a,b] [--region XX] [--store DIR] --out DIR";

fn main() {
    match parse_args().and_then(|args| run(&args)) {
        Ok(summary) => println!("{summary}"),
        Err(err) => {
            eprintln!("filter: {err}");
            std::process::exit(1);
        }
    }
}

fn parse_args() -> Result<Args, Box<dyn Error>> {
    let mut optouts = None;
    let mut blocked = None;
    let mut audience = None;
    let mut category = None;
    let mut channel = None;
    let mut lists = Vec::new();
    let mut region = Region::new("US")?;
    let mut store = None;
    let mut out = None;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            return Err(USAGE.into());
        }
        let value = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        match flag.as_str() {
            "--optouts" => optouts = Some(PathBuf::from(value)),
            "--blocked" => blocked = Some(PathBuf::from(value)),
            "--audience" => audience = Some(PathBuf::from(value)),
            "--category" => category = Some(value.parse::<Category>()?),
            "--channel" => {
                channel = Some(Channel::new(&value).map_err(|e| format!("--channel: {e}"))?)
            }
            "--lists" => {
                lists = value
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect()
            }
            "--region" => region = Region::new(&value)?,
            "--store" => store = Some(PathBuf::from(value)),
            "--out" => out = Some(PathBuf::from(value)),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}").into()),
        }
    }
    let missing = |name: &str| format!("{name} is required\n{USAGE}");
    if optouts.is_none() && store.is_none() {
        return Err(format!("--optouts or --store is required\n{USAGE}").into());
    }
    Ok(Args {
        optouts,
        blocked,
        audience: audience.ok_or_else(|| missing("--audience"))?,
        category: category.ok_or_else(|| missing("--category"))?,
        channel,
        lists,
        region,
        store,
        out: out.ok_or_else(|| missing("--out"))?,
    })
}

fn open(path: &Path) -> Result<File, Box<dyn Error>> {
    File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()).into())
}

fn run(args: &Args) -> Result<String, Box<dyn Error>> {
    let normalizer = Normalizer::new(args.region);
    normalizer.warm_up();
    let store = match &args.store {
        Some(dir) => Store::open(dir)?,
        None => Store::new(),
    };
    // Every blocked line is read before anything is recorded, so a bad
    // one leaves the store as it was.
    let mut blocked = Vec::new();
    if let Some(path) = &args.blocked {
        for (line, text) in read_lines(path)? {
            let address = normalizer
                .address(&text)
                .map_err(|e| format!("{}:{line}: {text:?}: {e}", path.display()))?;
            blocked.push(address);
        }
    }
    if let Some(path) = &args.optouts {
        load_optouts(&store, &normalizer, path)?;
    }
    for address in &blocked {
        store.block(address, &Edit::new().source(Source::Import))?;
    }
    let mut dispatch = Dispatch::new(args.category);
    if let Some(channel) = &args.channel {
        dispatch = dispatch.channel(channel.clone());
    }
    for name in &args.lists {
        let list = store
            .list_named(name)
            .ok_or_else(|| format!("--lists: no list named {name:?}"))?;
        dispatch = dispatch.honour(list.id());
    }
    let audience: Vec<String> = read_lines(&args.audience)?
        .into_iter()
        .map(|(_, text)| text)
        .collect();
    let split = store.compile(&dispatch)?.split(&normalizer, &audience);
    write_outputs(&args.out, &audience, split.outcomes())?;
    Ok(split.report().to_string())
}

/// Creates the lists the file names, then imports it with the library:
/// all rows or none.
fn load_optouts(store: &Store, normalizer: &Normalizer, path: &Path) -> Result<(), Box<dyn Error>> {
    let mut names = BTreeSet::new();
    let mut reader = csv::Reader::from_reader(open(path)?);
    let list_column = reader.headers()?.iter().position(|h| {
        ["list", "list name"]
            .iter()
            .any(|n| h.trim().eq_ignore_ascii_case(n))
    });
    if let Some(column) = list_column {
        for record in reader.records() {
            let record = record.map_err(|e| format!("{}: {e}", path.display()))?;
            let name = record.get(column).unwrap_or("").trim();
            if !name.is_empty() && !name.eq_ignore_ascii_case("default") {
                names.insert(name.to_owned());
            }
        }
    }
    for name in names {
        if store.list_named(&name).is_none() {
            store
                .create_list(ListSettings::new(&name))
                .map_err(|e| format!("{}: list {name:?}: {e}", path.display()))?;
        }
    }
    let import = Import::new()
        .mode(ImportMode::AllOrNothing)
        .source(Source::Import);
    let report = store
        .import(open(path)?, normalizer, &import)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if let Some(bad) = report.rejected.first() {
        return Err(format!(
            "{}:{}: {:?}: {} ({} bad rows; nothing imported)",
            path.display(),
            bad.line,
            bad.input,
            bad.reason,
            report.rejected.len()
        )
        .into());
    }
    Ok(())
}

/// Lines with their 1-based numbers.
fn read_lines(path: &Path) -> Result<Vec<(usize, String)>, Box<dyn Error>> {
    let mut out = Vec::new();
    for (i, line) in BufReader::new(open(path)?).lines().enumerate() {
        let line = line.map_err(|e| format!("{}:{}: {e}", path.display(), i + 1))?;
        out.push((i + 1, line));
    }
    Ok(out)
}

/// Writes both files next to their final names and renames them into place
/// only when both are complete.
fn write_outputs(
    dir: &Path,
    inputs: &[String],
    outcomes: &[Outcome],
) -> Result<(), Box<dyn Error>> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let sendable_tmp = dir.join(".sendable.csv.tmp");
    let skipped_tmp = dir.join(".skipped.csv.tmp");
    let result = (|| -> Result<(), Box<dyn Error>> {
        let mut sendable = csv::Writer::from_writer(BufWriter::new(File::create(&sendable_tmp)?));
        let mut skipped = csv::Writer::from_writer(BufWriter::new(File::create(&skipped_tmp)?));
        sendable.write_record(["input", "normalized"])?;
        skipped.write_record(["input", "normalized", "reason"])?;
        for (input, outcome) in inputs.iter().zip(outcomes) {
            // Audience files come from anywhere: cells a spreadsheet would
            // run as formulas are neutralized.
            let input = spreadsheet_safe(input);
            let normalized = outcome.address().map(|a| a.to_string()).unwrap_or_default();
            let normalized = spreadsheet_safe(&normalized);
            match outcome.skip_reason() {
                None => sendable.write_record([&*input, &*normalized])?,
                Some(reason) => {
                    skipped.write_record([&*input, &*normalized, &reason.to_string()])?
                }
            }
        }
        sendable.into_inner().map_err(|e| e.to_string())?.flush()?;
        skipped.into_inner().map_err(|e| e.to_string())?.flush()?;
        std::fs::rename(&sendable_tmp, dir.join("sendable.csv"))?;
        if let Err(e) = std::fs::rename(&skipped_tmp, dir.join("skipped.csv")) {
            let _ = std::fs::remove_file(dir.join("sendable.csv"));
            return Err(e.into());
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&sendable_tmp);
        let _ = std::fs::remove_file(&skipped_tmp);
    }
    result
}
