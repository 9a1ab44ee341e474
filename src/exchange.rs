//! Moving lists between systems: CSV import (streaming, with per-row
//! errors) and export, plain one-address-per-line files, and hashed
//! exports for partners.
//!
//! Exported cells that a spreadsheet would read as a formula (leading `=`,
//! `+`, `-`, `@`, tab or carriage return) and that are not canonical E.164
//! numbers are neutralized with a leading `'`, as OWASP advises against
//! CSV injection (<https://owasp.org/www-community/attacks/CSV_Injection>);
//! a cell that begins with `'` gets one more. Import removes one leading
//! `'` from every cell, so export → import is the identity.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::ops::{Bound, RangeBounds};

use rayon::prelude::*;
use roaring::RoaringTreemap;

use crate::address::{Address, AddressId, Normalizer, Phone};
use crate::error::{Error, ErrorKind, RowError};
use crate::filter::Digest;
use crate::model::{Channel, ListId, Scope, Source, Timestamp};
use crate::store::{Edit, Store};

/// The layout of an import file.
///
/// # Example
///
/// ```
/// use optout::exchange::{Import, ImportFormat};
///
/// let import = Import::new().format(ImportFormat::Lines);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ImportFormat {
    /// CSV with a header. The address comes from an email column (`email`,
    /// `e-mail`, `email address`, `e-mail address`), else a phone column
    /// (`phone`, `phone number`, `mobile`, `mobile number`, `msisdn`,
    /// `number`, `cell`, `cell phone`), else a bare `address` column (names
    /// compared case-insensitively; the column used is reported in
    /// [`ImportReport::address_column`]). Optional columns: `list` (a list
    /// name; `default` or empty for the system list), `scope` (`account`
    /// or a channel name), `time` (RFC 3339, a date or Unix seconds) and
    /// `source`.
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
/// use optout::exchange::{Import, ImportMode};
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
/// use optout::exchange::{Import, ImportFormat, ImportMode};
/// use optout::model::{Channel, Scope, Source};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let import = Import::new()
///     .format(ImportFormat::Csv)
///     .mode(ImportMode::AllOrNothing)
///     .scope(Scope::Channel(Channel::new("sms1")?))
///     .source(Source::Api);
/// # Ok(())
/// # }
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
    /// let _ = optout::exchange::Import::new();
    /// ```
    pub fn new() -> Import {
        Import::default()
    }

    /// Sets the file layout.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::exchange::{Import, ImportFormat};
    ///
    /// let _ = Import::new().format(ImportFormat::Lines);
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
    /// use optout::exchange::{Import, ImportMode};
    ///
    /// let _ = Import::new().mode(ImportMode::AllOrNothing);
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
    /// let _ = optout::exchange::Import::new().list(optout::model::ListId::SYSTEM);
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
    /// let _ = optout::exchange::Import::new().scope(optout::model::Scope::Account);
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
    /// let _ = optout::exchange::Import::new().source(optout::model::Source::Api);
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
    /// let _ = optout::exchange::Import::new().at(optout::model::Timestamp::from_unix_secs(0));
    /// ```
    pub fn at(mut self, at: Timestamp) -> Import {
        self.at = Some(at);
        self
    }
}

/// What an import did.
///
/// # Example
///
/// ```
/// use optout::{Normalizer, Store};
/// use optout::address::Region;
/// use optout::exchange::Import;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = Store::new();
/// let file = "phone\n+14155550123\n(415) 555-0124\n+14155550123\n";
/// let n = Normalizer::new(Region::new("US")?);
/// let report = store.import(file.as_bytes(), &n, &Import::new())?;
/// assert_eq!((report.rows, report.applied, report.unchanged), (3, 2, 1));
/// assert_eq!(report.address_column.as_deref(), Some("phone"));
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
    /// The header of the column addresses were read from (CSV only), as
    /// written in the file.
    pub address_column: Option<String>,
}

/// The columns found in a CSV header.
struct Columns {
    address: usize,
    list: Option<usize>,
    scope: Option<usize>,
    time: Option<usize>,
    source: Option<usize>,
}

const EMAIL_HEADERS: &[&str] = &["email", "e-mail", "email address", "e-mail address"];
const PHONE_HEADERS: &[&str] = &[
    "phone",
    "phone number",
    "mobile",
    "mobile number",
    "msisdn",
    "number",
    "cell",
    "cell phone",
];
const ADDRESS_HEADERS: &[&str] = &["address"];

impl Columns {
    fn find(names: &[String]) -> Option<Columns> {
        let position = |wanted: &[&str]| names.iter().position(|n| wanted.contains(&n.as_str()));
        // A specific email or phone column wins over a bare `address`,
        // which may be a postal address.
        let address = position(EMAIL_HEADERS)
            .or_else(|| position(PHONE_HEADERS))
            .or_else(|| position(ADDRESS_HEADERS))?;
        Some(Columns {
            address,
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

/// Removes the `'` that export puts before a cell a spreadsheet would
/// read as a formula (and before a cell that began with `'`).
fn unescape(cell: &str) -> &str {
    cell.strip_prefix('\'').unwrap_or(cell)
}

/// Neutralizes a cell a spreadsheet would read as a formula (OWASP CSV
/// injection), unless it is a canonical E.164 number; a cell that begins
/// with `'` gets one more, so that import can undo both.
pub(crate) fn escape(cell: &str) -> std::borrow::Cow<'_, str> {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r', '\'']);
    if risky && !is_e164(cell) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

/// A cell made safe to open in a spreadsheet, for CSV files of your own:
/// a cell that begins with `=`, `+`, `-`, `@`, a tab, a carriage return or
/// `'` gets a leading `'` (OWASP CSV injection), unless it is a canonical
/// E.164 number. The same rule exports use; import removes it again.
///
/// # Example
///
/// ```
/// use optout::exchange::spreadsheet_safe;
///
/// assert_eq!(spreadsheet_safe("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
/// assert_eq!(spreadsheet_safe("+14155550123"), "+14155550123");
/// assert_eq!(spreadsheet_safe("+1 415 555 0123"), "'+1 415 555 0123");
/// assert_eq!(spreadsheet_safe("ann@example.com"), "ann@example.com");
/// ```
pub fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    escape(cell)
}

fn is_e164(cell: &str) -> bool {
    cell.strip_prefix('+').is_some_and(|d| {
        (2..=19).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()) && !d.starts_with('0')
    })
}

impl Store {
    /// Imports opt-outs from a CSV or plain file, streaming: rows are
    /// normalized in parallel a batch at a time (with the store's
    /// recording policy, so a number from a range the metadata does not
    /// know yet is still recorded), and each batch is one logged change,
    /// so a ten-million-row file never needs ten million rows in memory
    /// (unless [`ImportMode::AllOrNothing`] is asked for: then the whole
    /// file is one change, recorded entirely or not at all). Each bad row
    /// is reported with its line number.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Csv`] for a file that is not CSV or has no address
    /// column, [`ErrorKind::Io`] if reading fails, and the store's errors
    /// when applying (an unknown default list, a failed log write). With
    /// [`ImportMode::ApplyValid`], batches applied before such an error
    /// stay applied.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Normalizer, Store};
    /// use optout::address::Region;
    /// use optout::exchange::{Import, ImportFormat};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::new();
    /// let n = Normalizer::new(Region::new("US")?);
    /// let file = "Address,Email Address,Name\n1 Main St,Ann@Example.com,Ann\n2 High St,bob@,Bob\n";
    /// let report = store.import(file.as_bytes(), &n, &Import::new())?;
    /// assert_eq!(report.address_column.as_deref(), Some("Email Address"));
    /// assert_eq!(report.applied, 1);
    /// assert_eq!(report.rejected[0].line, 3);
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
        let policy = self.policy();
        let normalizer = normalizer.with_policy(policy.recording(), policy.email_aliases());
        let now = import.at.unwrap_or_else(|| self.now());
        let mut report = ImportReport::default();
        let mut held: Vec<Pending> = Vec::new();
        let mut batch: Vec<(u64, Vec<String>)> = Vec::with_capacity(import.batch.min(4096));
        let mut flush = |store: &Store,
                         batch: &mut Vec<(u64, Vec<String>)>,
                         columns: Option<&Columns>,
                         report: &mut ImportReport|
         -> Result<(), Error> {
            let parsed: Vec<Result<Pending, RowError>> = batch
                .par_iter()
                .with_min_len(1024)
                .map(|(line, fields)| store.row(*line, fields, columns, &normalizer, import, now))
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
                ImportMode::ApplyValid => store.apply_pending(good, report),
                ImportMode::AllOrNothing => {
                    held.extend(good);
                    Ok(())
                }
            }
        };
        match import.format {
            ImportFormat::Lines => {
                for (i, line) in BufReader::new(reader).lines().enumerate() {
                    let line = line.map_err(Error::io)?;
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
                let names: Vec<String> = header
                    .iter()
                    .map(|h| unescape(h.trim_start_matches('\u{feff}').trim()).to_lowercase())
                    .collect();
                let columns = Columns::find(&names).ok_or_else(|| -> Error {
                    ErrorKind::Csv {
                        line: 1,
                        detail: format!(
                            "no address column (expected one of {}, {} or {})",
                            EMAIL_HEADERS.join(", "),
                            PHONE_HEADERS.join(", "),
                            ADDRESS_HEADERS.join(", ")
                        ),
                    }
                    .into()
                })?;
                report.address_column = header
                    .get(columns.address)
                    .map(|h| h.trim_start_matches('\u{feff}').trim().to_owned());
                let mut record = csv::StringRecord::new();
                loop {
                    match csv.read_record(&mut record) {
                        Ok(false) => break,
                        Ok(true) => {}
                        Err(e) => return Err(csv_error(&e)),
                    }
                    let line = record.position().map_or(0, |p| p.line());
                    report.rows += 1;
                    batch.push((
                        line,
                        record.iter().map(|f| unescape(f).to_owned()).collect(),
                    ));
                    if batch.len() >= import.batch {
                        flush(self, &mut batch, Some(&columns), &mut report)?;
                    }
                }
                flush(self, &mut batch, Some(&columns), &mut report)?;
            }
        }
        if import.mode == ImportMode::AllOrNothing && report.rejected.is_empty() {
            self.apply_pending(held, &mut report)?;
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
            scope: import.scope.clone(),
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
                pending.scope =
                    if crate::model::ACCOUNT_WORDS
                        .iter()
                        .any(|w| scope.eq_ignore_ascii_case(w))
                    {
                        Scope::Account
                    } else {
                        Scope::Channel(Channel::new(scope).map_err(|e| {
                            reject(format!("scope is not account or a channel: {e}"))
                        })?)
                    };
            }
            if let Some(time) = field(c.time) {
                pending.at = time
                    .parse()
                    .map_err(|e: crate::model::InvalidTimestamp| reject(e.to_string()))?;
            }
            if let Some(source) = field(c.source) {
                pending.source = source
                    .parse()
                    .map_err(|()| reject(format!("unknown source {source:?}")))?;
            }
        }
        Ok(pending)
    }

    /// Applies good rows as one logged change, grouped by list, scope,
    /// source and time: all of them are recorded, or none.
    fn apply_pending(&self, rows: Vec<Pending>, report: &mut ImportReport) -> Result<(), Error> {
        let mut groups: HashMap<(ListId, Scope, Source, Timestamp), Vec<Address>> = HashMap::new();
        for p in rows {
            groups
                .entry((p.list, p.scope, p.source, p.at))
                .or_default()
                .push(p.address);
        }
        let mut keys: Vec<_> = groups.keys().cloned().collect();
        keys.sort_by(|(l1, s1, _, a1), (l2, s2, _, a2)| (a1, l1, s1).cmp(&(a2, l2, s2)));
        let mut batch = Vec::with_capacity(keys.len());
        for key in keys {
            if let Some(addresses) = groups.remove(&key) {
                let (list, scope, source, at) = key;
                let edit = Edit::new().list(list).scope(scope).source(source).at(at);
                batch.push((addresses, edit));
            }
        }
        let bulk = self.opt_out_groups(&batch)?;
        report.applied += bulk.changed;
        report.unchanged += bulk.unchanged;
        Ok(())
    }

    /// Exports current opt-outs as CSV — `address,list,scope,time,source` —
    /// where `time` and `source` are those of the opt-out that put the
    /// address there (empty if the history no longer has it), and `scope`
    /// is `account` or the channel's name. What is needed is copied under
    /// a short read lock and written without it, so a slow writer never
    /// holds up a change. Returns the number of rows written.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`] or [`ErrorKind::Csv`] if writing fails,
    /// [`ErrorKind::UnknownList`].
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Normalizer, Store};
    /// use optout::exchange::Export;
    /// use optout::model::Timestamp;
    /// use optout::store::Edit;
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
        let data = self.export_data(export.lists.as_deref())?;
        let mut csv = csv::Writer::from_writer(writer);
        csv.write_record(["address", "list", "scope", "time", "source"])
            .map_err(|e| csv_error(&e))?;
        let mut written = 0u64;
        let mut row = |csv: &mut csv::Writer<_>, cells: [String; 5]| -> Result<(), Error> {
            csv.write_record(cells.iter().map(|c| escape(c).into_owned()))
                .map_err(|e| csv_error(&e))?;
            written += 1;
            Ok(())
        };
        // Newest opt-out first: each current entry takes the time and source
        // of the latest opt-out that added it.
        let mut seen: HashMap<(ListId, Scope), RoaringTreemap> = HashMap::new();
        for (at, list, scope, source, ids) in data.records.iter().rev() {
            let Some((_, name, entries)) = data.lists.iter().find(|(l, ..)| l == list) else {
                continue;
            };
            let Some(current) = entries.scope(scope) else {
                continue;
            };
            let done = seen.entry((*list, scope.clone())).or_default();
            let fresh = &(ids & current) - &*done;
            *done |= &fresh;
            if !export.contains(*at) {
                continue;
            }
            for id in fresh.iter() {
                row(
                    &mut csv,
                    [
                        data.address_text(id),
                        name.clone(),
                        scope_text(scope),
                        at.to_string(),
                        source.to_string(),
                    ],
                )?;
            }
        }
        if export.range_is_unbounded() {
            // Entries whose opt-out is no longer in the history.
            for (list, name, entries) in &data.lists {
                for (scope, ids) in entries.scopes() {
                    let rest = match seen.get(&(*list, scope.clone())) {
                        Some(done) => ids - done,
                        None => ids.clone(),
                    };
                    for id in rest.iter() {
                        row(
                            &mut csv,
                            [
                                data.address_text(id),
                                name.clone(),
                                scope_text(&scope),
                                String::new(),
                                String::new(),
                            ],
                        )?;
                    }
                }
            }
        }
        csv.flush().map_err(Error::io)?;
        Ok(written)
    }

    /// Writes one lowercase hex digest per line for every address on a list
    /// (any scope): SHA-256 or MD5 of the canonical form (`+14155550123`,
    /// `ann@example.com`), for a partner's [`HashedList`](crate::filter::HashedList).
    /// The list is copied under a short read lock and written without it.
    /// Returns the number written.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`], [`ErrorKind::UnknownList`].
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Normalizer, Store};
    /// use optout::filter::Digest;
    /// use optout::model::ListId;
    /// use optout::store::Edit;
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
        let data = self.export_data(Some(&[list]))?;
        let mut written = 0;
        for (_, _, entries) in &data.lists {
            let sets: Vec<&RoaringTreemap> = entries.applying_to(None).collect();
            let all = crate::bitmap::union_all(&sets);
            for id in all.iter() {
                let text = data.address_text(id);
                if text.is_empty() {
                    continue;
                }
                writeln!(writer, "{}", digest.hex(&text)).map_err(Error::io)?;
                written += 1;
            }
        }
        writer.flush().map_err(Error::io)?;
        Ok(written)
    }
}

impl crate::store::ExportData {
    fn address_text(&self, id: u64) -> String {
        match AddressId::new(id) {
            Some(a) if a.is_phone() => Phone::from_id(a).map(|p| p.to_string()).unwrap_or_default(),
            Some(a) => self
                .emails
                .email(a)
                .map(|e| e.to_string())
                .unwrap_or_default(),
            None => String::new(),
        }
    }
}

fn scope_text(scope: &Scope) -> String {
    match scope {
        Scope::Account => "account".into(),
        Scope::Channel(c) => c.as_str().to_owned(),
    }
}

fn csv_error(e: &csv::Error) -> Error {
    ErrorKind::Csv {
        line: e.position().map_or(0, |p| p.line()),
        detail: e.to_string(),
    }
    .into()
}

/// Which opt-outs [`Store::export_csv`] writes: some or all lists, and an
/// optional time range on the opt-out time.
///
/// # Example
///
/// ```
/// use optout::exchange::Export;
/// use optout::model::{ListId, Timestamp};
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
    /// let _ = optout::exchange::Export::all();
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
    /// let _ = optout::exchange::Export::all().list(optout::model::ListId::SYSTEM);
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
    /// let t = optout::model::Timestamp::from_unix_secs;
    /// let _ = optout::exchange::Export::all().between(t(0)..=t(100));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_neutralizes_formulas_and_round_trips() {
        for (cell, out) in [
            ("=1+1", "'=1+1"),
            ("+14155550123", "+14155550123"),
            ("+1 415", "'+1 415"),
            ("-2", "'-2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("'=x", "''=x"),
            ("'plain", "''plain"),
            ("ann@example.com", "ann@example.com"),
            ("+0123", "'+0123"),
            ("sms1", "sms1"),
        ] {
            assert_eq!(escape(cell), out, "{cell:?}");
            assert_eq!(unescape(&escape(cell)), cell);
        }
    }
}
