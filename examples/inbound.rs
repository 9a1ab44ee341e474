//! Handles inbound messages as a sender's webhook would.
//!
//! Reads `from<TAB>channel<TAB>text` lines on stdin and prints one line per
//! input: `from<TAB>action<TAB>reply`, where action is `opt-out`, `opt-in`,
//! `help`, `clarify` or `none` and reply is the text to send back (empty
//! when there is none). Channels are named as you name them: a sender
//! number, a WhatsApp phone-number id, a label.
//!
//! * `--store DIR` keeps the store in DIR (created if missing): each line
//!   is printed only once its change is on disk, and stdout is flushed
//!   line by line. A second process on the same DIR is refused.
//! * `--account-wide CHANNEL` (repeatable) makes a channel enforce
//!   account-level opt-outs.
//! * `--region XX` (default US) reads national numbers.
//!
//! ```text
//! printf '+14155550123\tsms1\tSTOP\n+14155550123\tsms1\tSTART\n' | cargo run --example inbound
//! ```
//!
//! A line that cannot be read (a bad sender or channel, a missing field) is
//! reported on stderr with its line number and answered with `none`. A
//! change that cannot be recorded is answered with `error` and the reason
//! on stderr; nothing is recorded for it.

use std::error::Error;
use std::io::{self, BufRead, Write};

use optout::address::Region;
use optout::model::{Channel, KeywordScope};
use optout::{Normalizer, Store};

fn main() {
    if let Err(err) = run() {
        eprintln!("inbound: {err}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn Error>> {
    let mut region = Region::new("US")?;
    let mut dir = None;
    let mut enforcing = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--account-wide" => {
                let value = args.next().ok_or("--account-wide needs a channel")?;
                enforcing.push(Channel::new(&value).map_err(|e| format!("--account-wide: {e}"))?);
            }
            "--region" => region = Region::new(&args.next().ok_or("--region needs a value")?)?,
            "--store" => dir = Some(args.next().ok_or("--store needs a directory")?),
            "-h" | "--help" => {
                println!(
                    "usage: inbound [--store DIR] [--account-wide CHANNEL]... [--region XX] < messages.tsv"
                );
                return Ok(());
            }
            other => return Err(format!("unknown argument {other:?} (try --help)").into()),
        }
    }
    let store = match &dir {
        Some(dir) => Store::open(dir)?,
        None => Store::new(),
    };
    for channel in &enforcing {
        store.set_keyword_scope(channel, KeywordScope::Account)?;
    }
    // Senders are read as the store records them (its strictness and
    // alias folding), so no STOP is lost to a stricter send setting.
    let normalizer = store.recording_normalizer(&Normalizer::new(region));
    let mut out = io::stdout().lock();
    for (n, line) in io::stdin().lock().lines().enumerate() {
        let line = line?;
        let mut fields = line.splitn(3, '\t');
        let (from, channel, text) = (fields.next().unwrap_or(""), fields.next(), fields.next());
        let read = (|| -> Result<_, String> {
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
                eprintln!("inbound: line {}: {err}", n + 1);
                ("error".to_owned(), None)
            }
            Ok((address, channel, text)) => match store.inbound(&address, &channel, text) {
                Ok(result) => (result.action.to_string(), result.reply),
                Err(err) => {
                    eprintln!("inbound: line {}: not recorded: {err}", n + 1);
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
