//! `optout`: opt-out lists for people who work with files.
//!
//! Exit codes: 0 done; 1 bad input or a refused change (the message on
//! stderr names the file and line); 2 usage (an unknown flag, a missing
//! argument).

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc;

use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use optout::address::Region;
use optout::exchange::{Export, Import, ImportMode, spreadsheet_safe};
use optout::filter::{StreamSplit, Verdict};
use optout::model::{Category, Channel, KeywordScope, Source};
use optout::store::{Edit, ListSettings};
use optout::{Address, Dispatch, Normalizer, Store};

/// Rows per chunk of a streamed audience.
const CHUNK: usize = 64 * 1024;

#[derive(Parser)]
#[command(
    name = "optout",
    version,
    about = "Opt-out lists for campaign senders: clean an audience file, keep opt-outs, handle replies",
    after_help = "Exit codes: 0 done, 1 bad input or refused, 2 usage.\n\
                  Run `optout <COMMAND> --help` for an example of each command."
)]
struct Cli {
    /// No progress bars (they are shown only when stderr is a terminal).
    #[arg(long, short, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum CategoryArg {
    Marketing,
    Utility,
    Otp,
}

impl From<CategoryArg> for Category {
    fn from(c: CategoryArg) -> Category {
        match c {
            CategoryArg::Marketing => Category::Marketing,
            CategoryArg::Utility => Category::Utility,
            CategoryArg::Otp => Category::Authentication,
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Split an audience file into sendable and skipped recipients.
    #[command(after_help = "Example:\n  \
        optout filter --optouts optouts.csv --audience contacts.csv --column phone \\\n    \
        --category marketing --channel +14155550100 --out clean/\n\n\
        Writes clean/sendable.csv (every column of the audience row, then `normalized`) and\n\
        clean/skipped.csv (the same, then `reason`), in input order, and prints\n\
        \"950 sendable, 50 skipped (50 opted-out)\".")]
    Filter {
        /// Opt-outs to honour: a CSV with an address column (`phone`, `email`, `address`, …),
        /// optionally `list`, `scope`, `time`.
        #[arg(long, value_name = "FILE")]
        optouts: Option<PathBuf>,
        /// Addresses that get nothing: one per line.
        #[arg(long, value_name = "FILE")]
        blocked: Option<PathBuf>,
        /// The audience: one address per line, or a CSV/TSV with a header.
        #[arg(long, value_name = "FILE")]
        audience: PathBuf,
        /// The audience's address column (detected when absent).
        #[arg(long, value_name = "NAME")]
        column: Option<String>,
        /// What the send is: marketing honours opt-outs, utility and otp do not.
        #[arg(long, value_enum)]
        category: CategoryArg,
        /// The channel the send goes out on, as you name it (`+14155550100`, `sms1`);
        /// without it, opt-outs of every channel apply.
        #[arg(long, value_name = "NAME")]
        channel: Option<String>,
        /// The custom lists this send honours, by name (the system list always applies).
        #[arg(long, value_name = "A,B", value_delimiter = ',')]
        lists: Vec<String>,
        /// Region for numbers written in national form.
        #[arg(long, value_name = "XX", default_value = "US")]
        region: String,
        /// A store directory to filter against (created if missing); --optouts and
        /// --blocked are recorded in it.
        #[arg(long, value_name = "DIR")]
        store: Option<PathBuf>,
        /// Report bad opt-out rows and go on without them (by default they stop the run).
        #[arg(long)]
        skip_bad_optouts: bool,
        /// Where sendable.csv and skipped.csv go.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Record opt-outs from a CSV file into a store.
    #[command(
        after_help = "Example:\n  optout import --store ./store optouts.csv\n\n\
        Every row is recorded, or none: a bad row stops the import and is reported with its line."
    )]
    Import {
        /// The store directory (created if missing).
        #[arg(long, value_name = "DIR")]
        store: PathBuf,
        /// CSV files with an address column and optionally `list`, `scope`, `time`.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Region for numbers written in national form.
        #[arg(long, value_name = "XX", default_value = "US")]
        region: String,
    },
    /// Write a store's opt-outs as CSV (`address,list,scope,time,source`).
    #[command(after_help = "Example:\n  optout export --store ./store > optouts.csv")]
    Export {
        /// The store directory.
        #[arg(long, value_name = "DIR")]
        store: PathBuf,
        /// Write here instead of stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Handle replies: reads `from<TAB>channel<TAB>text` lines, prints `from<TAB>action<TAB>reply`.
    #[command(
        after_help = "Example:\n  printf '+14155550123\\tsms1\\tSTOP\\n' | optout inbound --store ./store\n\n\
        Actions: opt-out, opt-in, help, clarify, none, or error when the line could not be read\n\
        or its change not recorded (the reason on stderr)."
    )]
    Inbound {
        /// Keep the store in this directory (each line printed once its change is on disk).
        #[arg(long, value_name = "DIR")]
        store: Option<PathBuf>,
        /// Make a channel enforce account-level opt-outs (repeatable).
        #[arg(long, value_name = "CHANNEL")]
        account_wide: Vec<String>,
        /// Region for numbers written in national form.
        #[arg(long, value_name = "XX", default_value = "US")]
        region: String,
    },
    /// Whether a send may go to each address: prints `address<TAB>sendable` or the skip reason.
    #[command(
        after_help = "Example:\n  optout check --store ./store --category marketing +14155550123 ann@example.com"
    )]
    Check {
        /// The store directory.
        #[arg(long, value_name = "DIR")]
        store: PathBuf,
        /// What the send is.
        #[arg(long, value_enum, default_value = "marketing")]
        category: CategoryArg,
        /// The channel the send goes out on (without it, every channel's opt-outs apply).
        #[arg(long, value_name = "NAME")]
        channel: Option<String>,
        /// Custom lists the send honours, by name.
        #[arg(long, value_name = "A,B", value_delimiter = ',')]
        lists: Vec<String>,
        /// Region for numbers written in national form.
        #[arg(long, value_name = "XX", default_value = "US")]
        region: String,
        /// The addresses.
        #[arg(required = true)]
        addresses: Vec<String>,
    },
    /// Normalize addresses: one per line on stdin (or as arguments), prints `input<TAB>normalized<TAB>error`.
    #[command(
        after_help = "Example:\n  printf '(415) 555-0123\\nAnn@Example.com\\n' | optout normalize --region US"
    )]
    Normalize {
        /// Region for numbers written in national form.
        #[arg(long, value_name = "XX", default_value = "US")]
        region: String,
        /// Addresses to normalize (stdin when none).
        addresses: Vec<String>,
    },
}

/// An error for the user: the message (naming the file and line where
/// there is one).
struct Failure(String);

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Failure {
        Failure(e.to_string())
    }
}

type Result<T, E = Failure> = std::result::Result<T, E>;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let progress = !cli.quiet && io::stderr().is_terminal();
    let result = match cli.command {
        Command::Filter {
            optouts,
            blocked,
            audience,
            column,
            category,
            channel,
            lists,
            region,
            store,
            skip_bad_optouts,
            out,
        } => filter(&FilterArgs {
            optouts,
            blocked,
            audience,
            column,
            category: category.into(),
            channel,
            lists,
            region,
            store,
            skip_bad_optouts,
            out,
            progress,
        }),
        Command::Import {
            store,
            files,
            region,
        } => import(&store, &files, &region),
        Command::Export { store, out } => export(&store, out.as_deref()),
        Command::Inbound {
            store,
            account_wide,
            region,
        } => inbound(store.as_deref(), &account_wide, &region),
        Command::Check {
            store,
            category,
            channel,
            lists,
            region,
            addresses,
        } => check(
            &store,
            category.into(),
            channel.as_deref(),
            &lists,
            &region,
            &addresses,
        ),
        Command::Normalize { region, addresses } => normalize(&region, &addresses),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(message)) => {
            eprintln!("optout: {message}");
            ExitCode::from(1)
        }
    }
}

fn region(code: &str) -> Result<Region> {
    Region::new(code).map_err(|e| Failure(format!("--region: {e}")))
}

fn open(path: &Path) -> Result<File> {
    File::open(path).map_err(|e| Failure(format!("{}: {e}", path.display())))
}

fn open_store(dir: &Path) -> Result<Store> {
    Store::open(dir).map_err(|e| Failure(format!("{}: {e}", dir.display())))
}

fn dispatch(
    store: &Store,
    category: Category,
    channel: Option<&str>,
    lists: &[String],
) -> Result<Dispatch> {
    let mut dispatch = Dispatch::new(category);
    if let Some(channel) = channel {
        dispatch = dispatch
            .channel(Channel::new(channel).map_err(|e| Failure(format!("--channel: {e}")))?);
    }
    for name in lists.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        let list = store
            .list_named(name)
            .ok_or_else(|| Failure(format!("--lists: no list named {name:?}")))?;
        dispatch = dispatch.honour(list.id());
    }
    Ok(dispatch)
}

struct FilterArgs {
    optouts: Option<PathBuf>,
    blocked: Option<PathBuf>,
    audience: PathBuf,
    column: Option<String>,
    category: Category,
    channel: Option<String>,
    lists: Vec<String>,
    region: String,
    store: Option<PathBuf>,
    skip_bad_optouts: bool,
    out: PathBuf,
    progress: bool,
}

fn filter(args: &FilterArgs) -> Result<()> {
    if args.optouts.is_none() && args.store.is_none() {
        return Err(Failure(
            "--optouts or --store is needed: without either, nothing would be suppressed".into(),
        ));
    }
    let normalizer = Normalizer::new(region(&args.region)?);
    normalizer.warm_up();
    let store = match &args.store {
        Some(dir) => open_store(dir)?,
        None => Store::new(),
    };
    // Every blocked line is read before anything is recorded, so a bad one
    // leaves the store as it was.
    let mut blocked = Vec::new();
    if let Some(path) = &args.blocked {
        for (line, text) in read_lines(path)? {
            let address = normalizer
                .address(&text)
                .map_err(|e| Failure(format!("{}:{line}: {text:?}: {e}", path.display())))?;
            blocked.push(address);
        }
    }
    if let Some(path) = &args.optouts {
        load_optouts(&store, &normalizer, path, args.skip_bad_optouts)?;
    }
    for address in &blocked {
        store.block(address, &Edit::new().source(Source::Import))?;
    }
    let dispatch = dispatch(&store, args.category, args.channel.as_deref(), &args.lists)?;
    let suppression = store.compile(&dispatch)?;
    let report = split_file(args, &normalizer, &mut suppression.stream())?;
    println!("{report}");
    Ok(())
}

/// Creates the lists the file names, then imports it with the library:
/// all rows or none, unless bad rows may be skipped (they are still
/// reported).
fn load_optouts(
    store: &Store,
    normalizer: &Normalizer,
    path: &Path,
    skip_bad: bool,
) -> Result<optout::exchange::ImportReport> {
    let mut names = BTreeSet::new();
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(open(path)?);
    let list_column = reader
        .headers()
        .map_err(|e| Failure(format!("{}: {e}", path.display())))?
        .iter()
        .position(|h| {
            let h = h.trim_start_matches('\u{feff}').trim();
            ["list", "list name"]
                .iter()
                .any(|n| h.eq_ignore_ascii_case(n))
        });
    if let Some(column) = list_column {
        for record in reader.records() {
            let record = record.map_err(|e| Failure(format!("{}: {e}", path.display())))?;
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
                .map_err(|e| Failure(format!("{}: list {name:?}: {e}", path.display())))?;
        }
    }
    let mode = if skip_bad {
        ImportMode::ApplyValid
    } else {
        ImportMode::AllOrNothing
    };
    let import = Import::new().mode(mode).source(Source::Import);
    let report = store
        .import(open(path)?, normalizer, &import)
        .map_err(|e| Failure(format!("{}: {e}", path.display())))?;
    for bad in &report.rejected {
        eprintln!(
            "optout: {}:{}: {:?}: {}",
            path.display(),
            bad.line,
            bad.input,
            bad.reason
        );
    }
    if !skip_bad && !report.rejected.is_empty() {
        return Err(Failure(format!(
            "{}: {} bad opt-out rows; nothing imported (--skip-bad-optouts records the others)",
            path.display(),
            report.rejected.len()
        )));
    }
    Ok(report)
}

/// Lines with their 1-based numbers; blank lines skipped.
fn read_lines(path: &Path) -> Result<Vec<(usize, String)>> {
    let mut out = Vec::new();
    for (i, line) in BufReader::new(open(path)?).lines().enumerate() {
        let line = line.map_err(|e| Failure(format!("{}:{}: {e}", path.display(), i + 1)))?;
        let line = line.trim_start_matches('\u{feff}').trim();
        if !line.is_empty() {
            out.push((i + 1, line.to_owned()));
        }
    }
    Ok(out)
}

/// Header names the address column may have, in order of preference.
const ADDRESS_COLUMNS: &[&str] = &[
    "email",
    "email address",
    "e-mail",
    "phone",
    "phone number",
    "mobile",
    "mobile number",
    "msisdn",
    "number",
    "to",
    "recipient",
    "address",
];

/// How the audience file is laid out.
struct Layout {
    /// `None` for plain lines, else the field delimiter.
    delimiter: Option<u8>,
    header: Vec<String>,
    column: usize,
}

fn layout(path: &Path, column: Option<&str>) -> Result<Layout> {
    let mut first = String::new();
    BufReader::new(open(path)?)
        .read_line(&mut first)
        .map_err(|e| Failure(format!("{}:1: {e}", path.display())))?;
    let first = first
        .trim_start_matches('\u{feff}')
        .trim_end_matches(['\r', '\n']);
    let delimiter = [b'\t', b',', b';']
        .into_iter()
        .find(|&d| first.as_bytes().contains(&d));
    let Some(delimiter) = delimiter else {
        // One address per line, unless the only cell is a header name.
        let named = ADDRESS_COLUMNS
            .iter()
            .any(|n| first.trim().eq_ignore_ascii_case(n));
        return match (column, named) {
            (Some(c), _) if !first.trim().eq_ignore_ascii_case(c) => Err(Failure(format!(
                "{}:1: no column named {c:?} (the file has one column, {:?})",
                path.display(),
                first.trim()
            ))),
            (_, true) | (Some(_), _) => Ok(Layout {
                delimiter: Some(b','),
                header: vec![first.trim().to_owned()],
                column: 0,
            }),
            (None, false) => Ok(Layout {
                delimiter: None,
                header: vec!["input".to_owned()],
                column: 0,
            }),
        };
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(first.as_bytes());
    let mut record = csv::StringRecord::new();
    reader
        .read_record(&mut record)
        .map_err(|e| Failure(format!("{}:1: {e}", path.display())))?;
    let header: Vec<String> = record.iter().map(|h| h.trim().to_owned()).collect();
    let find = |name: &str| header.iter().position(|h| h.eq_ignore_ascii_case(name));
    let column = match column {
        Some(c) => find(c).ok_or_else(|| {
            Failure(format!(
                "{}:1: no column named {c:?} (columns: {})",
                path.display(),
                header.join(", ")
            ))
        })?,
        None => {
            let found = ADDRESS_COLUMNS
                .iter()
                .find_map(|n| find(n))
                .ok_or_else(|| {
                    Failure(format!(
                        "{}:1: no address column (name it with --column; columns: {})",
                        path.display(),
                        header.join(", ")
                    ))
                })?;
            eprintln!(
                "optout: {}: addresses from column {:?}",
                path.display(),
                header.get(found).map_or("", String::as_str)
            );
            found
        }
    };
    Ok(Layout {
        delimiter: Some(delimiter),
        header,
        column,
    })
}

/// A chunk of audience rows: each row's cells (one for plain lines) and
/// its line number.
struct Rows {
    cells: Vec<Vec<String>>,
    lines: Vec<u64>,
}

/// Reads, splits and writes the audience chunk by chunk: a reader thread
/// parses rows, this thread splits them, a writer thread writes them; at
/// most a few chunks are in memory at once.
fn split_file(
    args: &FilterArgs,
    normalizer: &Normalizer,
    stream: &mut StreamSplit<'_>,
) -> Result<optout::filter::Report> {
    let path = &args.audience;
    let layout = layout(path, args.column.as_deref())?;
    std::fs::create_dir_all(&args.out)
        .map_err(|e| Failure(format!("{}: {e}", args.out.display())))?;
    let sendable_tmp = args.out.join(".sendable.csv.tmp");
    let skipped_tmp = args.out.join(".skipped.csv.tmp");
    let bar = progress_bar(args.progress, path)?;

    let result = std::thread::scope(|scope| -> Result<()> {
        let (rows_tx, rows_rx) = mpsc::sync_channel::<Result<Rows>>(2);
        let (done_tx, done_rx) = mpsc::sync_channel::<(Rows, Vec<Verdict>)>(2);
        let layout = &layout;
        let reader = scope.spawn(move || read_rows(path, layout, &rows_tx));
        let (sendable, skipped, bar) = (&sendable_tmp, &skipped_tmp, &bar);
        let writer =
            scope.spawn(move || write_rows(layout, normalizer, sendable, skipped, done_rx, bar));
        let mut failure = None;
        for rows in rows_rx {
            let rows = match rows {
                Ok(rows) => rows,
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            };
            let inputs: Vec<&str> = rows
                .cells
                .iter()
                .map(|r| r.get(layout.column).map_or("", String::as_str))
                .collect();
            let mut verdicts = Vec::with_capacity(inputs.len());
            stream.push(normalizer, &inputs, &mut verdicts);
            drop(inputs);
            if done_tx.send((rows, verdicts)).is_err() {
                break;
            }
        }
        drop(done_tx);
        let read = reader
            .join()
            .map_err(|_| Failure("the reader stopped".into()))?;
        let written = writer
            .join()
            .map_err(|_| Failure("the writer stopped".into()))?;
        if let Some(e) = failure {
            return Err(e);
        }
        read?;
        written
    });
    bar.finish_and_clear();
    let result = result.and_then(|()| {
        std::fs::rename(&sendable_tmp, args.out.join("sendable.csv"))?;
        std::fs::rename(&skipped_tmp, args.out.join("skipped.csv"))?;
        Ok(())
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&sendable_tmp);
        let _ = std::fs::remove_file(&skipped_tmp);
    }
    result.map(|()| stream.report())
}

fn progress_bar(show: bool, path: &Path) -> Result<ProgressBar> {
    if !show {
        return Ok(ProgressBar::hidden());
    }
    let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} {eta}")
            .map_err(|e| Failure(e.to_string()))?,
    );
    Ok(bar)
}

/// Sends the audience's rows in chunks; an unreadable row is an error
/// naming its line.
fn read_rows(path: &Path, layout: &Layout, out: &mpsc::SyncSender<Result<Rows>>) -> Result<()> {
    let mut file = open(path)?;
    // Skip a byte order mark.
    let mut bom = [0u8; 3];
    let n = file.read(&mut bom)?;
    let head: &[u8] = if bom.get(..n) == Some(&[0xEF, 0xBB, 0xBF][..]) {
        &[]
    } else {
        bom.get(..n).unwrap_or(&[])
    };
    let input = BufReader::with_capacity(1 << 20, head.chain(file));
    let fail = |e: Failure| {
        let _ = out.send(Err(Failure(e.0.clone())));
        Err(e)
    };
    let mut rows = Rows {
        cells: Vec::with_capacity(CHUNK),
        lines: Vec::with_capacity(CHUNK),
    };
    let flush = |rows: &mut Rows| -> bool {
        let full = std::mem::replace(
            rows,
            Rows {
                cells: Vec::with_capacity(CHUNK),
                lines: Vec::with_capacity(CHUNK),
            },
        );
        out.send(Ok(full)).is_ok()
    };
    match layout.delimiter {
        None => {
            for (i, line) in input.lines().enumerate() {
                let line = match line {
                    Ok(line) => line,
                    Err(e) => return fail(Failure(format!("{}:{}: {e}", path.display(), i + 1))),
                };
                let text = line.trim_end_matches('\r');
                if text.trim().is_empty() {
                    continue;
                }
                rows.cells.push(vec![text.to_owned()]);
                rows.lines.push(i as u64 + 1);
                if rows.cells.len() == CHUNK && !flush(&mut rows) {
                    return Ok(());
                }
            }
        }
        Some(delimiter) => {
            let mut reader = csv::ReaderBuilder::new()
                .delimiter(delimiter)
                .has_headers(true)
                .flexible(true)
                .from_reader(input);
            let mut record = csv::StringRecord::new();
            loop {
                match reader.read_record(&mut record) {
                    Ok(false) => break,
                    Ok(true) => {}
                    Err(e) => {
                        let line = e.position().map_or(0, |p| p.line());
                        return fail(Failure(format!("{}:{line}: {e}", path.display())));
                    }
                }
                if record.iter().all(|c| c.trim().is_empty()) {
                    continue;
                }
                rows.cells.push(record.iter().map(str::to_owned).collect());
                rows.lines.push(record.position().map_or(0, |p| p.line()));
                if rows.cells.len() == CHUNK && !flush(&mut rows) {
                    return Ok(());
                }
            }
        }
    }
    if !rows.cells.is_empty() {
        flush(&mut rows);
    }
    Ok(())
}

/// The normalized form of a row's address, from its verdict's id where
/// that is enough.
fn normalized(normalizer: &Normalizer, input: &str, verdict: &Verdict) -> String {
    if let Some(phone) = verdict.id().and_then(optout::address::Phone::from_id) {
        return phone.to_string();
    }
    normalizer
        .address(input)
        .map(|a: Address| a.to_string())
        .unwrap_or_default()
}

fn write_rows(
    layout: &Layout,
    normalizer: &Normalizer,
    sendable: &Path,
    skipped: &Path,
    chunks: mpsc::Receiver<(Rows, Vec<Verdict>)>,
    bar: &ProgressBar,
) -> Result<()> {
    let create = |path: &Path| -> Result<csv::Writer<BufWriter<File>>> {
        let file = File::create(path).map_err(|e| Failure(format!("{}: {e}", path.display())))?;
        Ok(csv::Writer::from_writer(BufWriter::with_capacity(
            1 << 20,
            file,
        )))
    };
    let mut sendable_out = create(sendable)?;
    let mut skipped_out = create(skipped)?;
    let mut header: Vec<String> = layout.header.clone();
    header.push("normalized".into());
    sendable_out.write_record(&header)?;
    header.push("reason".into());
    skipped_out.write_record(&header)?;
    let mut bytes = 0u64;
    let mut row: Vec<String> = Vec::new();
    for (rows, verdicts) in chunks {
        for (cells, verdict) in rows.cells.iter().zip(&verdicts) {
            let input = cells.get(layout.column).map_or("", String::as_str);
            row.clear();
            // Audience files come from anywhere: cells a spreadsheet would
            // run as formulas are neutralized.
            row.extend(cells.iter().map(|c| spreadsheet_safe(c).into_owned()));
            row.push(spreadsheet_safe(&normalized(normalizer, input, verdict)).into_owned());
            bytes += cells.iter().map(|c| c.len() as u64 + 1).sum::<u64>();
            match verdict.reason() {
                None => sendable_out.write_record(&row)?,
                Some(reason) => {
                    row.push(reason.to_string());
                    skipped_out.write_record(&row)?;
                }
            }
        }
        bar.set_position(bytes);
    }
    for out in [sendable_out, skipped_out] {
        out.into_inner()
            .map_err(|e| Failure(e.to_string()))?
            .flush()?;
    }
    Ok(())
}

fn import(dir: &Path, files: &[PathBuf], region_code: &str) -> Result<()> {
    let normalizer = Normalizer::new(region(region_code)?);
    let store = open_store(dir)?;
    let (mut applied, mut unchanged) = (0, 0);
    for path in files {
        let report = load_optouts(&store, &normalizer, path, false)?;
        applied += report.applied;
        unchanged += report.unchanged;
    }
    println!("{applied} opt-outs recorded, {unchanged} already there");
    Ok(())
}

fn export(dir: &Path, out: Option<&Path>) -> Result<()> {
    let store = open_store(dir)?;
    let rows = match out {
        Some(path) => {
            let file =
                File::create(path).map_err(|e| Failure(format!("{}: {e}", path.display())))?;
            store.export_csv(BufWriter::new(file), &Export::all())?
        }
        None => store.export_csv(io::stdout().lock(), &Export::all())?,
    };
    eprintln!("optout: {rows} opt-outs exported");
    Ok(())
}

fn inbound(dir: Option<&Path>, account_wide: &[String], region_code: &str) -> Result<()> {
    let store = match dir {
        Some(dir) => open_store(dir)?,
        None => Store::new(),
    };
    for channel in account_wide {
        let channel = Channel::new(channel).map_err(|e| Failure(format!("--account-wide: {e}")))?;
        store.set_keyword_scope(&channel, KeywordScope::Account)?;
    }
    // Senders are read as the store records them, so no STOP is lost to a
    // stricter setting.
    let normalizer = store.recording_normalizer(&Normalizer::new(region(region_code)?));
    let mut out = io::stdout().lock();
    for (n, line) in io::stdin().lock().lines().enumerate() {
        let line = line.map_err(|e| Failure(format!("stdin:{}: {e}", n + 1)))?;
        let line = line.trim_end_matches('\r');
        let mut fields = line.splitn(3, '\t');
        let (from, channel, text) = (fields.next().unwrap_or(""), fields.next(), fields.next());
        let read = (|| -> std::result::Result<_, String> {
            let channel = channel.ok_or("missing channel and text")?;
            let text = text.ok_or("missing text")?;
            let channel = Channel::new(channel).map_err(|e| e.to_string())?;
            let address = normalizer
                .address(from)
                .map_err(|e| format!("sender {from:?}: {e}"))?;
            Ok((address, channel, text))
        })();
        let (action, reply) = match read {
            // A line that could not be read may have been a STOP: it is an
            // error, not an ordinary message.
            Err(err) => {
                eprintln!("optout: stdin:{}: {err}", n + 1);
                ("error".to_owned(), None)
            }
            Ok((address, channel, text)) => match store.inbound(&address, &channel, text) {
                Ok(result) => (result.action.to_string(), result.reply),
                Err(err) => {
                    eprintln!("optout: stdin:{}: not recorded: {err}", n + 1);
                    ("error".to_owned(), None)
                }
            },
        };
        // Printed once the change is recorded (on disk, with --store).
        writeln!(out, "{from}\t{action}\t{}", reply.unwrap_or_default())?;
        out.flush()?;
    }
    Ok(())
}

fn check(
    dir: &Path,
    category: Category,
    channel: Option<&str>,
    lists: &[String],
    region_code: &str,
    addresses: &[String],
) -> Result<()> {
    let normalizer = Normalizer::new(region(region_code)?);
    let store = open_store(dir)?;
    let dispatch = dispatch(&store, category, channel, lists)?;
    let mut out = io::stdout().lock();
    let mut bad = 0;
    for input in addresses {
        let verdict = match normalizer.address(input) {
            Err(e) => {
                bad += 1;
                format!("invalid: {e}")
            }
            Ok(address) => match store.check(&address, &dispatch)? {
                None => "sendable".to_owned(),
                Some(reason) => reason.to_string(),
            },
        };
        writeln!(out, "{input}\t{verdict}")?;
    }
    if bad > 0 {
        return Err(Failure(format!("{bad} address(es) could not be read")));
    }
    Ok(())
}

fn normalize(region_code: &str, addresses: &[String]) -> Result<()> {
    let normalizer = Normalizer::new(region(region_code)?);
    let mut out = BufWriter::new(io::stdout().lock());
    let mut write = |input: &str| -> Result<()> {
        match normalizer.address(input) {
            Ok(a) => writeln!(out, "{input}\t{a}\t")?,
            Err(e) => writeln!(out, "{input}\t\t{e}")?,
        }
        Ok(())
    };
    if addresses.is_empty() {
        for (n, line) in io::stdin().lock().lines().enumerate() {
            let line = line.map_err(|e| Failure(format!("stdin:{}: {e}", n + 1)))?;
            write(line.trim_end_matches('\r'))?;
        }
    } else {
        for input in addresses {
            write(input)?;
        }
    }
    out.flush()?;
    Ok(())
}
