//! Splits an audience file into sendable and skipped recipients.
//!
//! ```text
//! filter --optouts FILE [--blocked FILE] --audience FILE
//!        --category marketing|utility|otp --channel ID [--lists a,b]
//!        [--region XX] --out DIR
//! ```
//!
//! * `--optouts`: CSV with the header `address,list,scope`. `list` is a
//!   custom list's name, or `default` (or empty) for the system list;
//!   `scope` is `account` or a channel id.
//! * `--blocked`, `--audience`: one address per line (an `@` means email).
//! * `--lists`: the custom lists this send honours (the system list is
//!   always honoured for marketing).
//!
//! Writes `DIR/sendable.csv` (`input,normalized`) and `DIR/skipped.csv`
//! (`input,normalized,reason`) in input order and prints the summary line.
//! On any error it exits non-zero and leaves no output files behind.

use std::error::Error;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use optout::{ChannelId, Dispatch, Normalizer, Store};
use optout::address::Region;
use optout::filter::Outcome;
use optout::model::{Category, ListId, Scope, Source};
use optout::store::{Edit, ListSettings};

struct Args {
    optouts: PathBuf,
    blocked: Option<PathBuf>,
    audience: PathBuf,
    category: Category,
    channel: ChannelId,
    lists: Vec<String>,
    region: Region,
    out: PathBuf,
}

const USAGE: &str = "usage: filter --optouts FILE [--blocked FILE] --audience FILE \
--category marketing|utility|otp --channel ID [--lists a,b] [--region XX] --out DIR";

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
                let id = value
                    .parse::<u64>()
                    .map_err(|_| format!("--channel must be a number, not {value:?}"))?;
                channel = Some(ChannelId::new(id));
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
            "--out" => out = Some(PathBuf::from(value)),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}").into()),
        }
    }
    let missing = |name: &str| format!("{name} is required\n{USAGE}");
    Ok(Args {
        optouts: optouts.ok_or_else(|| missing("--optouts"))?,
        blocked,
        audience: audience.ok_or_else(|| missing("--audience"))?,
        category: category.ok_or_else(|| missing("--category"))?,
        channel: channel.ok_or_else(|| missing("--channel"))?,
        lists,
        region,
        out: out.ok_or_else(|| missing("--out"))?,
    })
}

fn open(path: &Path) -> Result<File, Box<dyn Error>> {
    File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()).into())
}

fn run(args: &Args) -> Result<String, Box<dyn Error>> {
    let normalizer = Normalizer::new(args.region);
    normalizer.warm_up();
    let store = Store::new();
    load_optouts(&store, &normalizer, &args.optouts)?;
    if let Some(path) = &args.blocked {
        for (line, text) in read_lines(path)? {
            let address = normalizer
                .address(&text)
                .map_err(|e| format!("{}:{line}: {text:?}: {e}", path.display()))?;
            store.block(&address, &Edit::new().source(Source::Import))?;
        }
    }
    let mut dispatch = Dispatch::new(args.category).channel(args.channel);
    for name in &args.lists {
        let list = store.list_named(name).ok_or_else(|| {
            format!(
                "--lists: no list named {name:?} in {}",
                args.optouts.display()
            )
        })?;
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

fn load_optouts(store: &Store, normalizer: &Normalizer, path: &Path) -> Result<(), Box<dyn Error>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(open(path)?);
    let headers = reader.headers()?.clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                format!(
                    "{}: the header must be address,list,scope (no {name:?} column)",
                    path.display()
                )
            })
    };
    let (address_col, list_col, scope_col) =
        (column("address")?, column("list")?, column("scope")?);
    for record in reader.records() {
        let record = record.map_err(|e| format!("{}: {e}", path.display()))?;
        let line = record.position().map_or(0, |p| p.line());
        let field = |i: usize| record.get(i).unwrap_or("");
        let bad = |what: String| format!("{}:{line}: {what}", path.display());
        let address = normalizer
            .address(field(address_col))
            .map_err(|e| bad(format!("{:?}: {e}", field(address_col))))?;
        let list_name = field(list_col);
        let list = if list_name.is_empty() || list_name.eq_ignore_ascii_case("default") {
            ListId::SYSTEM
        } else if let Some(list) = store.list_named(list_name) {
            list.id()
        } else {
            store
                .create_list(ListSettings::new(list_name))
                .map_err(|e| bad(e.to_string()))?
        };
        let scope = match field(scope_col) {
            "" | "account" | "Account" | "ACCOUNT" => Scope::Account,
            other => Scope::Channel(ChannelId::new(other.parse().map_err(|_| {
                bad(format!(
                    "scope must be account or a channel id, not {other:?}"
                ))
            })?)),
        };
        store.opt_out(
            &address,
            &Edit::new().list(list).scope(scope).source(Source::Import),
        )?;
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
            let normalized = outcome.address().map(|a| a.to_string()).unwrap_or_default();
            match outcome.skip_reason() {
                None => sendable.write_record([input.as_str(), &normalized])?,
                Some(reason) => {
                    skipped.write_record([input.as_str(), &normalized, &reason.to_string()])?
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
