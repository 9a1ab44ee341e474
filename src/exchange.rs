//! Moving lists between systems: CSV import (streaming, with per-row
//! errors) and export, plain one-address-per-line files, and hashed
//! suppression lists (SHA-256 or MD5 of canonical addresses).

use std::collections::HashMap;
use std::fmt;
use std::io::{BufRead, BufReader, Read, Write};
use std::ops::{Bound, RangeBounds};

use md5::Md5;
use rayon::prelude::*;
use roaring::RoaringTreemap;
use sha2::{Digest as _, Sha256};

use crate::address::{Address, Normalizer, Phone};
use crate::clock::Timestamp;
use crate::error::Error;
use crate::history::Action;
use crate::list::ListId;
use crate::store::{ChannelId, Edit, Scope, Source, Store};

/// How an import applies each group of good rows: a bulk opt-out.
pub(crate) type ApplyBulk<'a> =
    dyn FnMut(&[Address], &Edit) -> Result<crate::store::Bulk, Error> + 'a;

/// The layout of an import file.
///
/// # Example
///
/// ```
/// use optout::{Import, ImportFormat};
///
/// let import = Import::new().format(ImportFormat::Lines);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ImportFormat {
    /// CSV with a header. The address comes from the first column named
    /// (case-insensitively) `address`, `phone`, `phone number`, `mobile`,
    /// `mobile number`, `msisdn`, `number`, `cell`, `email`, `e-mail` or
    /// `email address`; optional columns `list` (a list name; `default` or
    /// empty for the system list), `scope` (`account` or a channel id),
    /// `time` (RFC 3339, a date or Unix seconds) and `source`.
    #[default]
    Csv,
    /// One address per line; blank lines are skipped.
    Lines,
}

/// What an import does when some rows are bad.
///
/// # Example
///
/// ```
/// use optout::{Import, ImportMode};
///
/// let strict = Import::new().mode(ImportMode::AllOrNothing);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ImportMode {
    /// Apply every good row and report the bad ones (the default).
    #[default]
    ApplyValid,
    /// Apply nothing if any row is bad. Good rows are held in memory until
    /// the end of the file.
    AllOrNothing,
}

/// How to import a file of opt-outs.
///
/// # Example
///
/// ```
/// use optout::{ChannelId, Import, ImportFormat, ImportMode, Scope, Source};
///
/// let import = Import::new()
///     .format(ImportFormat::Csv)
///     .mode(ImportMode::AllOrNothing)
///     .scope(Scope::Channel(ChannelId::new(101)))
///     .source(Source::Api);
/// ```
#[derive(Clone, Debug)]
pub struct Import {
    format: ImportFormat,
    mode: ImportMode,
    list: ListId,
    scope: Scope,
    source: Source,
    at: Option<Timestamp>,
    batch: usize,
}

impl Default for Import {
    fn default() -> Import {
        Import {
            format: ImportFormat::Csv,
            mode: ImportMode::ApplyValid,
            list: ListId::SYSTEM,
            scope: Scope::Account,
            source: Source::Import,
            at: None,
            batch: 64 * 1024,
        }
    }
}

impl Import {
    /// CSV with a header, applying valid rows, to the system list,
    /// account-wide, source `import`, timed by the store's clock.
    ///
    /// # Example
    ///
    /// ```
    /// let _ = optout::Import::new();
    /// ```
    pub fn new() -> Import {
        Import::default()
    }

    /// Sets the file layout.
    ///
    /// # Example
    ///
    /// ```
    /// let _ = optout::Import::new().format(optout::ImportFormat::Lines);
    /// ```
    pub fn format(mut self, format: ImportFormat) -> Import {
        self.format = format;
        self
    }

    /// Sets what happens when rows are bad.
    ///
    /// # Example
    ///
    /// ```
    /// let _ = optout::Import::new().mode(optout::ImportMode::AllOrNothing);
    /// ```
    pub fn mode(mut self, mode: ImportMode) -> Import {
        self.mode = mode;
        self
    }

    /// The list for rows without a `list` column.
    ///
    /// # Example
    ///
    /// ```
    /// let _ = optout::Import::new().list(optout::ListId::SYSTEM);
    /// ```
    pub fn list(mut self, list: ListId) -> Import {
        self.list = list;
        self
    }

    /// The scope for rows without a `scope` column.
    ///
    /// # Example
    ///
    /// ```
    /// let _ = optout::Import::new().scope(optout::Scope::Account);
    /// ```
    pub fn scope(mut self, scope: Scope) -> Import {
        self.scope = scope;
        self
    }

    /// The source for rows without a `source` column.
    ///
    /// # Example
    ///
    /// ```
    /// let _ = optout::Import::new().source(optout::Source::Api);
    /// ```
    pub fn source(mut self, source: Source) -> Import {
        self.source = source;
        self
    }

    /// The time for rows without a `time` column.
    ///
    /// # Example
    ///
    /// ```
    /// let _ = optout::Import::new().at(optout::Timestamp::from_unix_secs(0));
    /// ```
    pub fn at(mut self, at: Timestamp) -> Import {
        self.at = Some(at);
        self
    }
}

/// A row that was not imported, with its line number and why.
///
/// # Example
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = optout::Store::new();
/// let report = store.import(&b"address\n+14155550123\nnot a number\n"[..], &optout::Normalizer::default(), &optout::Import::new())?;
/// assert_eq!(report.rejected[0].line, 3);
/// assert_eq!(report.rejected[0].to_string(), "line 3: \"not a number\": invalid number: not a phone number");
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RowError {
    /// The line the row starts on (1-based; the header is line 1).
    pub line: u64,
    /// The address field as read.
    pub input: String,
    /// Why it was refused.
    pub reason: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {:?}: {}", self.line, self.input, self.reason)
    }
}

/// What an import did.
///
/// # Example
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = optout::Store::new();
/// let file = "phone\n+14155550123\n(415) 555-0124\n+14155550123\n";
/// let n = optout::Normalizer::new(optout::Region::new("US")?);
/// let report = store.import(file.as_bytes(), &n, &optout::Import::new())?;
/// assert_eq!((report.rows, report.applied, report.unchanged), (3, 2, 1));
/// assert!(report.rejected.is_empty());
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImportReport {
    /// Rows read (not counting the header and blank lines).
    pub rows: u64,
    /// Opt-outs recorded.
    pub applied: u64,
    /// Good rows that were already opted out (or repeated in the file).
    pub unchanged: u64,
    /// Rows refused, with line numbers. With
    /// [`ImportMode::AllOrNothing`], a non-empty list means nothing was
    /// applied.
    pub rejected: Vec<RowError>,
}

/// The columns found in a CSV header.
struct Columns {
    address: usize,
    list: Option<usize>,
    scope: Option<usize>,
    time: Option<usize>,
    source: Option<usize>,
}

const ADDRESS_HEADERS: &[&str] = &[
    "address",
    "phone",
    "phone number",
    "mobile",
    "mobile number",
    "msisdn",
    "number",
    "cell",
    "email",
    "e-mail",
    "email address",
];

impl Columns {
    fn find(header: &csv::StringRecord) -> Option<Columns> {
        let names: Vec<String> = header.iter().map(|h| h.trim().to_lowercase()).collect();
        let position = |wanted: &[&str]| names.iter().position(|n| wanted.contains(&n.as_str()));
        Some(Columns {
            address: ADDRESS_HEADERS
                .iter()
                .find_map(|h| names.iter().position(|n| n == h))?,
            list: position(&["list", "list name"]),
            scope: position(&["scope", "channel", "channel id"]),
            time: position(&["time", "date", "timestamp", "opted out at"]),
            source: position(&["source"]),
        })
    }
}

/// One good row, waiting to be applied.
struct Pending {
    address: Address,
    list: ListId,
    scope: Scope,
    source: Source,
    at: Timestamp,
}

fn parse_source(s: &str) -> Option<Source> {
    match s.trim().to_lowercase().replace(['_', '-'], " ").as_str() {
        "manual" => Some(Source::Manual),
        "keyword" => Some(Source::Keyword),
        "web form" | "webform" => Some(Source::WebForm),
        "import" => Some(Source::Import),
        "api" | "connector" => Some(Source::Api),
        _ => None,
    }
}

impl Store {
    /// Imports opt-outs from a CSV or plain file, streaming: rows are
    /// normalized in parallel a batch at a time, so a ten-million-row file
    /// never needs ten million rows in memory (unless
    /// [`ImportMode::AllOrNothing`] is asked for). Each bad row is
    /// reported with its line number.
    ///
    /// # Errors
    ///
    /// [`Error::Csv`] for a file that is not CSV or has no address column,
    /// [`Error::Io`] if reading fails, and the store's errors when applying
    /// (an unknown default list). With [`ImportMode::ApplyValid`], batches
    /// applied before such an error stay applied.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Import, ImportFormat, Normalizer, Region, Store};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::new();
    /// let n = Normalizer::new(Region::new("US")?);
    /// let file = "Email Address,Name\nAnn@Example.com,Ann\nbob@,Bob\n";
    /// let report = store.import(file.as_bytes(), &n, &Import::new())?;
    /// assert_eq!(report.applied, 1);
    /// assert_eq!(report.rejected.len(), 1);
    ///
    /// let plain = "+14155550123\n\n(415) 555-0124\n";
    /// let report = store.import(plain.as_bytes(), &n, &Import::new().format(ImportFormat::Lines))?;
    /// assert_eq!(report.applied, 2);
    /// # Ok(())
    /// # }
    /// ```
    pub fn import(
        &self,
        reader: impl Read,
        normalizer: &Normalizer,
        import: &Import,
    ) -> Result<ImportReport, Error> {
        self.import_with(reader, normalizer, import, &mut |addresses, edit| {
            self.opt_out_many(addresses, edit)
        })
    }

    /// The import, with the bulk opt-out it applies groups through (the
    /// store's own, or a journaled one).
    pub(crate) fn import_with(
        &self,
        reader: impl Read,
        normalizer: &Normalizer,
        import: &Import,
        apply: &mut ApplyBulk<'_>,
    ) -> Result<ImportReport, Error> {
        let now = import.at.unwrap_or_else(|| self.time(&Edit::new()));
        let mut report = ImportReport::default();
        let mut held: Vec<Pending> = Vec::new();
        let mut batch: Vec<(u64, Vec<String>)> = Vec::with_capacity(import.batch);
        let mut flush = |store: &Store,
                         batch: &mut Vec<(u64, Vec<String>)>,
                         columns: Option<&Columns>,
                         report: &mut ImportReport|
         -> Result<(), Error> {
            let parsed: Vec<Result<Pending, RowError>> = batch
                .par_iter()
                .with_min_len(1024)
                .map(|(line, fields)| store.row(*line, fields, columns, normalizer, import, now))
                .collect();
            batch.clear();
            let mut good = Vec::with_capacity(parsed.len());
            for row in parsed {
                match row {
                    Ok(p) => good.push(p),
                    Err(e) => report.rejected.push(e),
                }
            }
            match import.mode {
                ImportMode::ApplyValid => apply_pending(good, report, &mut *apply),
                ImportMode::AllOrNothing => {
                    held.extend(good);
                    Ok(())
                }
            }
        };
        match import.format {
            ImportFormat::Lines => {
                for (i, line) in BufReader::new(reader).lines().enumerate() {
                    let line = line.map_err(Error::Io)?;
                    if line.trim().is_empty() {
                        continue;
                    }
                    report.rows += 1;
                    batch.push((i as u64 + 1, vec![line]));
                    if batch.len() >= import.batch {
                        flush(self, &mut batch, None, &mut report)?;
                    }
                }
                flush(self, &mut batch, None, &mut report)?;
            }
            ImportFormat::Csv => {
                let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
                let header = csv.headers().map_err(|e| csv_error(&e))?.clone();
                let columns = Columns::find(&header).ok_or_else(|| Error::Csv {
                    line: 1,
                    detail: format!(
                        "no address column (expected one of {})",
                        ADDRESS_HEADERS.join(", ")
                    ),
                })?;
                let mut record = csv::StringRecord::new();
                loop {
                    match csv.read_record(&mut record) {
                        Ok(false) => break,
                        Ok(true) => {}
                        Err(e) => return Err(csv_error(&e)),
                    }
                    let line = record.position().map_or(0, |p| p.line());
                    report.rows += 1;
                    batch.push((line, record.iter().map(str::to_owned).collect()));
                    if batch.len() >= import.batch {
                        flush(self, &mut batch, Some(&columns), &mut report)?;
                    }
                }
                flush(self, &mut batch, Some(&columns), &mut report)?;
            }
        }
        if import.mode == ImportMode::AllOrNothing && report.rejected.is_empty() {
            apply_pending(held, &mut report, apply)?;
        }
        Ok(report)
    }

    fn row(
        &self,
        line: u64,
        fields: &[String],
        columns: Option<&Columns>,
        normalizer: &Normalizer,
        import: &Import,
        now: Timestamp,
    ) -> Result<Pending, RowError> {
        let field = |i: Option<usize>| {
            i.and_then(|i| fields.get(i))
                .map(|s| s.trim())
                .filter(|s| !s.is_empty())
        };
        let input = match columns {
            None => fields.first().map(String::as_str).unwrap_or(""),
            Some(c) => fields.get(c.address).map(String::as_str).unwrap_or(""),
        };
        let reject = |reason: String| RowError {
            line,
            input: input.to_owned(),
            reason,
        };
        let address = normalizer
            .address(input)
            .map_err(|e| reject(e.to_string()))?;
        let mut pending = Pending {
            address,
            list: import.list,
            scope: import.scope,
            source: import.source,
            at: now,
        };
        if let Some(c) = columns {
            if let Some(name) = field(c.list) {
                pending.list = if name.eq_ignore_ascii_case("default") {
                    ListId::SYSTEM
                } else {
                    self.list_named(name)
                        .map(|l| l.id())
                        .ok_or_else(|| reject(format!("no list named {name:?}")))?
                };
            }
            if let Some(scope) = field(c.scope) {
                pending.scope = if scope.eq_ignore_ascii_case("account") {
                    Scope::Account
                } else {
                    Scope::Channel(ChannelId::new(scope.parse().map_err(|_| {
                        reject(format!("scope {scope:?} is not account or a channel id"))
                    })?))
                };
            }
            if let Some(time) = field(c.time) {
                pending.at = time
                    .parse()
                    .map_err(|e: crate::clock::InvalidTimestamp| reject(e.to_string()))?;
            }
            if let Some(source) = field(c.source) {
                pending.source = parse_source(source)
                    .ok_or_else(|| reject(format!("unknown source {source:?}")))?;
            }
        }
        Ok(pending)
    }
}

/// Applies good rows, grouped so that each group is one bulk change.
fn apply_pending(
    rows: Vec<Pending>,
    report: &mut ImportReport,
    apply: &mut ApplyBulk<'_>,
) -> Result<(), Error> {
    {
        let mut groups: HashMap<(ListId, Scope, Source, Timestamp), Vec<Address>> = HashMap::new();
        for p in rows {
            groups
                .entry((p.list, p.scope, p.source, p.at))
                .or_default()
                .push(p.address);
        }
        let mut keys: Vec<_> = groups.keys().copied().collect();
        keys.sort_by_key(|(list, scope, _, at)| (*at, *list, *scope));
        for key in keys {
            let (list, scope, source, at) = key;
            if let Some(addresses) = groups.remove(&key) {
                let bulk = apply(
                    &addresses,
                    &Edit::new().list(list).scope(scope).source(source).at(at),
                )?;
                report.applied += bulk.changed;
                report.unchanged += bulk.unchanged;
            }
        }
        Ok(())
    }
}

impl Store {
    /// Exports current opt-outs as CSV — `address,list,scope,time,source` —
    /// where `time` and `source` are those of the opt-out that put the
    /// address there (empty if the history no longer has it). Returns the
    /// number of rows written.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] or [`Error::Csv`] if writing fails, [`Error::UnknownList`].
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Edit, Export, Normalizer, Store, Timestamp};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::new();
    /// let t = Timestamp::from_unix_secs(1_764_000_000);
    /// store.opt_out(&Normalizer::default().address("+14155550123")?, &Edit::new().at(t))?;
    /// let mut out = Vec::new();
    /// assert_eq!(store.export_csv(&mut out, &Export::all())?, 1);
    /// assert_eq!(
    ///     String::from_utf8(out)?,
    ///     "address,list,scope,time,source\n+14155550123,Default,account,2025-11-24T16:00:00.000Z,manual\n"
    /// );
    /// # Ok(())
    /// # }
    /// ```
    pub fn export_csv(&self, writer: impl Write, export: &Export) -> Result<u64, Error> {
        let mut csv = csv::Writer::from_writer(writer);
        csv.write_record(["address", "list", "scope", "time", "source"])
            .map_err(|e| csv_error(&e))?;
        let state = self.read();
        let lists: Vec<ListId> = match &export.lists {
            Some(lists) => {
                for &l in lists {
                    state.slot(l)?;
                }
                lists.clone()
            }
            None => (0..state.lists.len() as u32)
                .map(ListId)
                .filter(|l| state.slot(*l).is_ok())
                .collect(),
        };
        // Newest opt-out first: each current entry takes the time and source
        // of the latest opt-out that added it.
        let mut written = 0u64;
        let mut seen: HashMap<(ListId, Scope), RoaringTreemap> = HashMap::new();
        let changes = state.history.opt_out_records();
        let inside = |t: Timestamp| export.contains(t);
        let address_text = |id: u64| -> String {
            match crate::id::AddressId::new(id) {
                Some(a) if a.is_phone() => {
                    Phone::from_id(a).map(|p| p.to_string()).unwrap_or_default()
                }
                Some(a) => state
                    .emails
                    .email(a)
                    .map(|e| e.to_string())
                    .unwrap_or_default(),
                None => String::new(),
            }
        };
        for (at, list, scope, source, ids) in changes.into_iter().rev() {
            if !lists.contains(&list) {
                continue;
            }
            let Ok(slot) = state.slot(list) else { continue };
            let Some(current) = slot.entries.scope(scope) else {
                continue;
            };
            let done = seen.entry((list, scope)).or_default();
            let fresh = &(&ids & current) - &*done;
            *done |= &fresh;
            if !inside(at) {
                continue;
            }
            let name = slot.settings.name();
            for id in fresh.iter() {
                csv.write_record([
                    address_text(id),
                    name.to_owned(),
                    scope_text(scope),
                    at.to_string(),
                    source.to_string(),
                ])
                .map_err(|e| csv_error(&e))?;
                written += 1;
            }
        }
        if export.range_is_unbounded() {
            // Entries whose opt-out is no longer in the history.
            for &list in &lists {
                let Ok(slot) = state.slot(list) else { continue };
                let scopes = std::iter::once((Scope::Account, &slot.entries.account)).chain(
                    slot.entries
                        .channels
                        .iter()
                        .map(|(c, ids)| (Scope::Channel(*c), ids)),
                );
                for (scope, ids) in scopes {
                    let rest = match seen.get(&(list, scope)) {
                        Some(done) => ids - done,
                        None => ids.clone(),
                    };
                    for id in rest.iter() {
                        csv.write_record([
                            address_text(id),
                            slot.settings.name().to_owned(),
                            scope_text(scope),
                            String::new(),
                            String::new(),
                        ])
                        .map_err(|e| csv_error(&e))?;
                        written += 1;
                    }
                }
            }
        }
        csv.flush().map_err(Error::Io)?;
        Ok(written)
    }

    /// Writes one lowercase hex digest per line for every address on a list
    /// (any scope): SHA-256 or MD5 of the canonical form (`+14155550123`,
    /// `ann@example.com`). Returns the number written.
    ///
    /// # Errors
    ///
    /// [`Error::Io`], [`Error::UnknownList`].
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Digest, Edit, ListId, Normalizer, Store};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::new();
    /// store.opt_out(&Normalizer::default().address("ann@example.com")?, &Edit::new())?;
    /// let mut out = Vec::new();
    /// store.export_hashes(&mut out, ListId::SYSTEM, Digest::Md5)?;
    /// assert_eq!(String::from_utf8(out)?, format!("{}\n", Digest::Md5.hex("ann@example.com")));
    /// # Ok(())
    /// # }
    /// ```
    pub fn export_hashes(
        &self,
        mut writer: impl Write,
        list: ListId,
        digest: Digest,
    ) -> Result<u64, Error> {
        let state = self.read();
        let slot = state.slot(list)?;
        let sets: Vec<&RoaringTreemap> = std::iter::once(&slot.entries.account)
            .chain(slot.entries.channels.values())
            .collect();
        let all = crate::bitmap::union_all(&sets);
        let mut written = 0;
        for id in all.iter().filter_map(crate::id::AddressId::new) {
            let text = match Phone::from_id(id) {
                Some(p) => p.to_string(),
                None => match state.emails.email(id) {
                    Some(e) => e.to_string(),
                    None => continue,
                },
            };
            writeln!(writer, "{}", digest.hex(&text)).map_err(Error::Io)?;
            written += 1;
        }
        writer.flush().map_err(Error::Io)?;
        Ok(written)
    }
}

fn scope_text(scope: Scope) -> String {
    match scope {
        Scope::Account => "account".into(),
        Scope::Channel(c) => c.to_string(),
    }
}

fn csv_error(e: &csv::Error) -> Error {
    Error::Csv {
        line: e.position().map_or(0, |p| p.line()),
        detail: e.to_string(),
    }
}

/// Which opt-outs [`Store::export_csv`] writes: some or all lists, and an
/// optional time range on the opt-out time.
///
/// # Example
///
/// ```
/// use optout::{Export, ListId, Timestamp};
///
/// let t = Timestamp::from_unix_secs;
/// let last_month = Export::all().list(ListId::SYSTEM).between(t(1_761_955_200)..t(1_764_547_200));
/// ```
#[derive(Clone, Debug)]
pub struct Export {
    lists: Option<Vec<ListId>>,
    start: Bound<Timestamp>,
    end: Bound<Timestamp>,
}

impl Default for Export {
    fn default() -> Export {
        Export::all()
    }
}

impl Export {
    /// Every list, any time.
    ///
    /// # Example
    ///
    /// ```
    /// let _ = optout::Export::all();
    /// ```
    pub fn all() -> Export {
        Export {
            lists: None,
            start: Bound::Unbounded,
            end: Bound::Unbounded,
        }
    }

    /// Only this list (call again to add more).
    ///
    /// # Example
    ///
    /// ```
    /// let _ = optout::Export::all().list(optout::ListId::SYSTEM);
    /// ```
    pub fn list(mut self, list: ListId) -> Export {
        self.lists.get_or_insert_with(Vec::new).push(list);
        self
    }

    /// Only opt-outs made in `range`.
    ///
    /// # Example
    ///
    /// ```
    /// let t = optout::Timestamp::from_unix_secs;
    /// let _ = optout::Export::all().between(t(0)..=t(100));
    /// ```
    pub fn between(mut self, range: impl RangeBounds<Timestamp>) -> Export {
        self.start = range.start_bound().cloned();
        self.end = range.end_bound().cloned();
        self
    }

    fn contains(&self, t: Timestamp) -> bool {
        (self.start, self.end).contains(&t)
    }

    fn range_is_unbounded(&self) -> bool {
        matches!((self.start, self.end), (Bound::Unbounded, Bound::Unbounded))
    }
}

/// A digest for hashed suppression exchange.
///
/// # Example
///
/// ```
/// use optout::Digest;
///
/// assert_eq!(Digest::Sha256.hex("ann@example.com").len(), 64);
/// assert_eq!(Digest::Md5.hex("ann@example.com").len(), 32);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Digest {
    /// SHA-256.
    Sha256,
    /// MD5, still common in affiliate suppression files.
    Md5,
}

impl Digest {
    /// The lowercase hex digest of `text`.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(optout::Digest::Md5.hex(""), "d41d8cd98f00b204e9800998ecf8427e");
    /// ```
    pub fn hex(self, text: &str) -> String {
        let bytes = self.raw(text);
        let len = self.len();
        bytes.iter().take(len).map(|b| format!("{b:02x}")).collect()
    }

    fn raw(self, text: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        match self {
            Digest::Sha256 => out.copy_from_slice(&Sha256::digest(text.as_bytes())),
            Digest::Md5 => {
                if let Some(head) = out.get_mut(..16) {
                    head.copy_from_slice(&Md5::digest(text.as_bytes()));
                }
            }
        }
        out
    }

    fn len(self) -> usize {
        match self {
            Digest::Sha256 => 32,
            Digest::Md5 => 16,
        }
    }
}

/// A partner's suppression list of hashed addresses: honoured without
/// holding the plaintext.
///
/// # Example
///
/// ```
/// use optout::{Digest, HashedList, Normalizer};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let n = Normalizer::default();
/// let file = format!("{}\nnot-hex\n", Digest::Sha256.hex("ann@example.com"));
/// let (list, rejected) = HashedList::read(file.as_bytes(), Digest::Sha256)?;
/// assert_eq!(rejected.len(), 1);
/// assert!(list.contains(&n.address("ANN@example.com")?));
/// assert!(!list.contains(&n.address("bob@example.com")?));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HashedList {
    digest: Digest,
    hashes: std::collections::HashSet<[u8; 32]>,
}

impl HashedList {
    /// Reads one hex digest per line (case-insensitive; blank lines
    /// skipped); lines that are not digests of this kind are returned with
    /// their line numbers.
    ///
    /// # Errors
    ///
    /// [`Error::Io`].
    ///
    /// # Example
    ///
    /// ```
    /// let (list, bad) = optout::HashedList::read(&b""[..], optout::Digest::Md5)?;
    /// assert!(list.is_empty() && bad.is_empty());
    /// # Ok::<(), optout::Error>(())
    /// ```
    pub fn read(reader: impl Read, digest: Digest) -> Result<(HashedList, Vec<RowError>), Error> {
        let mut hashes = std::collections::HashSet::new();
        let mut rejected = Vec::new();
        for (i, line) in BufReader::new(reader).lines().enumerate() {
            let line = line.map_err(Error::Io)?;
            let text = line.trim();
            if text.is_empty() {
                continue;
            }
            match parse_hex(text, digest.len()) {
                Some(h) => {
                    hashes.insert(h);
                }
                None => rejected.push(RowError {
                    line: i as u64 + 1,
                    input: text.to_owned(),
                    reason: format!("not a {}-character hex digest", digest.len() * 2),
                }),
            }
        }
        Ok((HashedList { digest, hashes }, rejected))
    }

    /// `true` if the address's digest is on the list.
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let (list, _) = optout::HashedList::read(&b""[..], optout::Digest::Sha256)?;
    /// assert!(!list.contains(&optout::Normalizer::default().address("+14155550123")?));
    /// # Ok(())
    /// # }
    /// ```
    pub fn contains(&self, address: &Address) -> bool {
        self.hashes.contains(&self.digest.raw(&address.to_string()))
    }

    /// The number of digests.
    ///
    /// # Example
    ///
    /// ```
    /// let (list, _) = optout::HashedList::read(&b""[..], optout::Digest::Md5).unwrap();
    /// assert_eq!(list.len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    /// `true` if there are no digests.
    ///
    /// # Example
    ///
    /// ```
    /// let (list, _) = optout::HashedList::read(&b""[..], optout::Digest::Md5).unwrap();
    /// assert!(list.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }
}

fn parse_hex(text: &str, len: usize) -> Option<[u8; 32]> {
    if text.len() != len * 2 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, slot) in out.iter_mut().take(len).enumerate() {
        *slot = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

impl crate::history::History {
    /// Every opt-out record, oldest first, as (time, list, scope, source,
    /// ids).
    pub(crate) fn opt_out_records(
        &self,
    ) -> Vec<(Timestamp, ListId, Scope, Source, RoaringTreemap)> {
        self.records_of(Action::OptOut)
    }
}
