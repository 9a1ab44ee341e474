//! Handles inbound messages as a sender's webhook would, keeping the store
//! in memory.
//!
//! Reads `from<TAB>channel<TAB>text` lines on stdin and prints one line per
//! input: `from<TAB>action<TAB>reply`, where action is `opt-out`, `opt-in`,
//! `help` or `none` and reply is the text to send back (empty when there is
//! none). Default keyword settings; `--account-wide CHANNEL` (repeatable)
//! makes a channel enforce account-level opt-outs; `--region XX` (default
//! US) reads national numbers.
//!
//! ```text
//! printf '+14155550123\t101\tSTOP\n+14155550123\t101\tSTART\n' | cargo run --example inbound
//! ```
//!
//! A line that cannot be read (a bad sender or channel, a missing field) is
//! reported on stderr with its line number and answered with `none`.

use std::error::Error;
use std::io::{self, BufRead, BufWriter, Write};

use optout::{ChannelId, Normalizer, Store};
use optout::address::Region;
use optout::inbound::InboundAction;
use optout::model::KeywordScope;

fn main() {
    if let Err(err) = run() {
        eprintln!("inbound: {err}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn Error>> {
    let store = Store::new();
    let mut region = Region::new("US")?;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--account-wide" => {
                let value = args.next().ok_or("--account-wide needs a channel id")?;
                let channel: u64 = value
                    .parse()
                    .map_err(|_| format!("--account-wide: not a channel id: {value:?}"))?;
                store.set_keyword_scope(ChannelId::new(channel), KeywordScope::Account);
            }
            "--region" => region = Region::new(&args.next().ok_or("--region needs a value")?)?,
            "-h" | "--help" => {
                println!("usage: inbound [--account-wide CHANNEL]... [--region XX] < messages.tsv");
                return Ok(());
            }
            other => return Err(format!("unknown argument {other:?} (try --help)").into()),
        }
    }
    let normalizer = Normalizer::new(region);
    let mut out = BufWriter::new(io::stdout().lock());
    for (n, line) in io::stdin().lock().lines().enumerate() {
        let line = line?;
        let mut fields = line.splitn(3, '\t');
        let (from, channel, text) = (fields.next().unwrap_or(""), fields.next(), fields.next());
        let handled = (|| -> Result<(InboundAction, Option<String>), String> {
            let channel = channel.ok_or("missing channel and text")?;
            let text = text.ok_or("missing text")?;
            let channel: u64 = channel
                .trim()
                .parse()
                .map_err(|_| format!("channel {channel:?} is not a number"))?;
            let address = normalizer
                .address(from)
                .map_err(|e| format!("sender {from:?}: {e}"))?;
            let result = store
                .inbound(&address, ChannelId::new(channel), text)
                .map_err(|e| e.to_string())?;
            Ok((result.action, result.reply))
        })();
        let (action, reply) = handled.unwrap_or_else(|err| {
            eprintln!("inbound: line {}: {err}", n + 1);
            (InboundAction::None, None)
        });
        writeln!(out, "{from}\t{action}\t{}", reply.unwrap_or_default())?;
    }
    out.flush()?;
    Ok(())
}
