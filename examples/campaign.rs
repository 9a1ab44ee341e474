//! The crate's main job on built-in sample data.
//!
//! Generates an audience (1,000,000 recipients by default) in the formats
//! senders really have — E.164, US national layouts, `tel:` URIs,
//! international numbers with exit codes, emails — with some people listed
//! twice and some garbage; a store with a system opt-out list, two custom
//! lists (one scoped to a channel, one account-wide) and a blocked set;
//! then runs a marketing send and a utility send and prints each report,
//! the time taken and the memory per stored opt-out.
//!
//! ```text
//! cargo run --release --example campaign
//! cargo run --release --example campaign -- --size 10000000
//! cargo run --release --example campaign -- --store /tmp/optout-store
//! ```
//!
//! With `--store DIR` the store is kept in `DIR` (snapshot and journal):
//! the first run builds and saves it, later runs load it.

use std::error::Error;
use std::time::Instant;

use optout::address::Region;
use optout::model::{Category, Channel, Scope, Source};
use optout::store::{Edit, ListSettings};
use optout::{AddressId, Dispatch, Normalizer, Store};

/// Deterministic generator so every run sees the same data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Person `i`'s phone number as E.164 digits: mostly US, some GB and DE.
fn person_digits(i: u64) -> u64 {
    match i % 10 {
        0 => 447_700_000_000 + (i * 7_919) % 100_000_000, // +44 77xx mobile
        1 => 4_915_100_000_000 + (i * 104_729) % 1_000_000_000, // +49 151 mobile
        _ => 12_000_000_000 + (i * 2_654_435_761) % 8_000_000_000, // +1 NPA 2xx–9xx
    }
}

/// Writes person `i` the way a sender's export might.
fn render(i: u64, layout: u64) -> String {
    let digits = person_digits(i);
    if digits < 20_000_000_000 {
        let n = digits - 10_000_000_000;
        let (area, exchange, line) = (n / 10_000_000, n / 10_000 % 1000, n % 10_000);
        match layout % 5 {
            0 => format!("+1{area}{exchange:03}{line:04}"),
            1 => format!("({area}) {exchange:03}-{line:04}"),
            2 => format!("{area}.{exchange:03}.{line:04}"),
            3 => format!("1 {area} {exchange:03} {line:04}"),
            _ => format!("tel:+1-{area}-{exchange:03}-{line:04}"),
        }
    } else {
        match layout % 2 {
            0 => format!("+{digits}"),
            _ => format!("011 {digits}"),
        }
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut size: u64 = 1_000_000;
    let mut dir: Option<std::path::PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--size" => {
                let value = args.next().ok_or("--size needs a number")?;
                size = value
                    .replace('_', "")
                    .parse()
                    .map_err(|_| format!("--size: not a number: {value:?}"))?;
            }
            "--store" => dir = Some(args.next().ok_or("--store needs a directory")?.into()),
            "-h" | "--help" => {
                println!("usage: campaign [--size N] [--store DIR]");
                return Ok(());
            }
            other => return Err(format!("unknown argument {other:?} (try --help)").into()),
        }
    }

    let normalizer = Normalizer::new(Region::new("US")?);
    normalizer.warm_up();
    let sms = Channel::new("+14155550100")?;
    let whatsapp = Channel::new("wa:106540352242922")?;

    // The store: opt-outs for 5% of people on the system list, a channel-
    // scoped custom list, an account-wide custom list, and 0.1% blocked.
    let t = Instant::now();
    let (store, how) = match &dir {
        Some(dir) => {
            let store = Store::open(dir)?;
            if store.list_named("Promotions").is_some() {
                let recovery = store.recovery();
                println!(
                    "store: loaded from {} (checkpoint at change {}, {} journal records replayed)",
                    dir.display(),
                    recovery.checkpoint,
                    recovery.replayed
                );
                (store, "loaded")
            } else {
                populate(&store, &normalizer, size, &sms)?;
                store.checkpoint()?;
                (store, "built and saved")
            }
        }
        None => {
            let store = Store::new();
            populate(&store, &normalizer, size, &sms)?;
            (store, "built")
        }
    };
    let promotions = store
        .list_named("Promotions")
        .map(|l| l.id())
        .ok_or("no Promotions list")?;
    let people = size;
    let emails = (people / 100).max(10);
    let blocked = store.blocked_len();
    let built = t.elapsed();

    // The audience: every person once in some layout, 2% listed again in
    // another layout, 1% garbage, and the emails (some upper-cased).
    let mut rng = Rng(0x5EED);
    let mut audience: Vec<String> = Vec::with_capacity(size as usize + size as usize / 30);
    for i in 0..people {
        audience.push(render(i, rng.below(5)));
        if rng.below(50) == 0 {
            audience.push(render(i, rng.below(5) + 1));
        }
        if rng.below(100) == 0 {
            audience
                .push(["n/a", "unknown", "555", "+", "call me"][rng.below(5) as usize].to_string());
        }
    }
    for i in 0..emails {
        let e = format!("Customer{i}@Example.com");
        audience.push(if i % 3 == 0 { e.to_uppercase() } else { e });
    }

    println!(
        "audience: {} recipients ({} people, {} emails)",
        audience.len(),
        people,
        emails
    );
    let entries: u64 = store
        .lists()
        .iter()
        .map(|l| store.count(l.id()).unwrap_or(0))
        .sum();
    println!(
        "store: {} opt-outs on {} lists, {} blocked, {} in {:.2?}",
        entries,
        store.lists().len(),
        blocked,
        how,
        built
    );

    let sends = [
        (
            "marketing on SMS, honouring Promotions",
            Dispatch::new(Category::Marketing)
                .channel(sms.clone())
                .honour(promotions),
        ),
        (
            "marketing on WhatsApp, honouring Promotions",
            Dispatch::new(Category::Marketing)
                .channel(whatsapp)
                .honour(promotions),
        ),
        (
            "utility (order updates) on SMS",
            Dispatch::new(Category::Utility).channel(sms.clone()),
        ),
    ];
    for (name, dispatch) in sends {
        let t = Instant::now();
        let suppression = store.compile(&dispatch)?;
        let compiled = t.elapsed();
        let split = suppression.split(&normalizer, &audience);
        let total = t.elapsed();
        println!("\n{name}:");
        println!("  {}", split.report());
        println!(
            "  {:.2?} ({:.2?} to compile the suppression), {:.0} ns per recipient on {} threads",
            total,
            compiled,
            total.as_nanos() as f64 / audience.len() as f64,
            rayon::current_num_threads()
        );
    }

    let memory = store.memory();
    let stored = entries + store.blocked_len();
    println!(
        "\nmemory: {} bytes of opt-out and blocked sets for {} entries = {:.2} bytes per stored opt-out \
         (history: {:.2} bytes per change)",
        memory.entries,
        stored,
        memory.entries as f64 / stored.max(1) as f64,
        memory.history as f64 / stored.max(1) as f64,
    );
    match peak_memory() {
        Some(kb) => println!(
            "peak memory (VmHWM): {:.1} GiB",
            kb as f64 / (1024.0 * 1024.0)
        ),
        None => println!("peak memory: not available on this platform"),
    }
    Ok(())
}

/// The process's peak resident memory in KiB, from /proc (Linux).
fn peak_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Opt-outs for 5% of people on the system list, 2% on a channel-scoped
/// custom list, 1% on an account-wide one, 0.1% blocked, and web-form
/// opt-outs for a tenth of the emails.
fn populate(
    store: &Store,
    normalizer: &Normalizer,
    people: u64,
    sms: &Channel,
) -> Result<(), Box<dyn Error>> {
    let promotions = store.create_list(
        ListSettings::new("Promotions")
            .keyword("STOPPROMO")
            .confirmation("You will get no more promotions. Reply START to resume."),
    )?;
    let newsletter =
        store.create_list(ListSettings::new("Newsletter").description("Monthly news"))?;
    let ids = |keep: &dyn Fn(u64) -> bool| -> Vec<AddressId> {
        (0..people)
            .filter(|&i| keep(i))
            .filter_map(|i| AddressId::from_phone_digits(person_digits(i)))
            .collect()
    };
    let import = Edit::new().source(Source::Import);
    store.opt_out_ids(&ids(&|i| i % 20 == 3), &import)?;
    store.opt_out_ids(
        &ids(&|i| i % 50 == 7),
        &import
            .clone()
            .list(promotions)
            .scope(Scope::Channel(sms.clone())),
    )?;
    store.opt_out_ids(&ids(&|i| i % 100 == 11), &import.clone().list(newsletter))?;
    for i in (0..people).filter(|i| i % 1000 == 5) {
        store.block(&normalizer.address(&render(i, 0))?, &import)?;
    }
    // Emails: a few thousand, some opted out by web form.
    let emails = (people / 100).max(10);
    for i in (0..emails).step_by(10) {
        let email = normalizer.address(&format!("customer{i}@example.com"))?;
        store.opt_out(&email, &Edit::new().source(Source::WebForm))?;
    }
    Ok(())
}
