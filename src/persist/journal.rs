//! The file journal: a store kept in a directory as its latest snapshot
//! plus journal files of the records written since.
//!
//! Every record is written to the journal (length-prefixed, numbered and
//! checksummed) before the store applies it, and by default synced to disk
//! before the change is reported as recorded. The directory is locked for
//! as long as the journal is open. Format and recovery rules are in
//! `docs/FORMAT.md`.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::disk::{self, Disk, DiskFile, OsDisk};
use super::log::{Appended, Checkpoint, Log, Visitor};
use crate::error::{Error, ErrorKind};

const MAGIC: &[u8; 8] = b"OPTOUTJL";
const VERSION: u32 = 2;
const HEADER: usize = 8 + 4 + 8;
const RECORD_HEADER: usize = 12;
pub(crate) const SNAPSHOT: &str = "snapshot.optout";
const LOCK: &str = "LOCK";
const WHAT: &str = "journal";

/// When journal writes reach the disk.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use optout::persist::Durability;
///
/// let every = Durability::default();
/// assert_eq!(every, Durability::EveryChange);
/// let batched = Durability::Batched { changes: 1000, interval: Duration::from_millis(50) };
/// assert_ne!(every, batched);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Durability {
    /// Sync after every change before returning (the default): nothing
    /// reported as recorded can be lost.
    #[default]
    EveryChange,
    /// Sync once `changes` changes or `interval` have accumulated since the
    /// last sync (checked at each change), on
    /// [`Store::sync`](crate::Store::sync) and before every checkpoint. A
    /// process crash loses nothing (the data is in the operating system's
    /// hands); a power cut can lose the changes since the last sync.
    Batched {
        /// Changes between syncs.
        changes: u32,
        /// Longest time between syncs.
        interval: Duration,
    },
}

/// A [`Log`] in a directory: `snapshot.optout`, the latest checkpoint, and
/// `journal-v2-<seq>.log` files holding the records written since, one
/// file per checkpoint.
///
/// Opening locks the directory (the file `LOCK`) until the journal is
/// dropped: a second open, from this process or another, fails at once
/// with [`ErrorKind::Locked`]. A record torn by a crash at the end of the
/// last file is cut off when the store opens; damage anywhere else, and
/// records missing between the snapshot and a journal file, are errors —
/// nothing is ever deleted that the snapshot does not account for.
///
/// Most code opens a directory with [`Store::open`](crate::Store::open);
/// this type is for choosing the [`Durability`].
///
/// # Example
///
/// ```
/// use optout::Store;
/// use optout::persist::{Durability, Journal};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let journal = Journal::open(dir.path())?
///     .durability(Durability::Batched { changes: 64, interval: std::time::Duration::from_millis(20) });
/// let store = Store::builder().log(journal).build()?;
/// store.sync()?;
/// assert!(Journal::open(dir.path()).is_err()); // the directory is in use
/// # Ok(())
/// # }
/// ```
pub struct Journal {
    dir: PathBuf,
    disk: Box<dyn Disk>,
    _lock: File,
    durability: Durability,
    /// Journal files found at open, oldest first; consumed by `read`.
    found: Vec<Found>,
    /// Version-1 files found at open.
    legacy: Vec<(PathBuf, Vec<u8>)>,
    current: Option<Current>,
    /// The number of the last record in the journal.
    head: u64,
    unsynced: u32,
    last_sync: Instant,
    torn: u64,
    /// Set when a failed record could not be taken back out of the file:
    /// nothing more is appended after it until a checkpoint or a reopen.
    broken: Option<String>,
}

struct Found {
    path: PathBuf,
    start: u64,
    data: Vec<u8>,
}

struct Current {
    path: PathBuf,
    file: Box<dyn DiskFile>,
    start: u64,
    len: u64,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("dir", &self.dir)
            .field("durability", &self.durability)
            .field("head", &self.head)
            .finish_non_exhaustive()
    }
}

fn journal_path(dir: &Path, start: u64) -> PathBuf {
    dir.join(format!("journal-v2-{start:016x}.log"))
}

/// The start of a version-2 journal file, from its name.
fn start_of(name: &str) -> Option<u64> {
    let hex = name.strip_prefix("journal-v2-")?.strip_suffix(".log")?;
    (hex.len() == 16)
        .then(|| u64::from_str_radix(hex, 16).ok())
        .flatten()
}

/// Version-1 journal files were named by the generation of their snapshot.
fn is_legacy_name(name: &str) -> bool {
    name.strip_prefix("journal-")
        .and_then(|n| n.strip_suffix(".log"))
        .is_some_and(|hex| hex.len() == 16 && u64::from_str_radix(hex, 16).is_ok())
}

impl Journal {
    /// Opens (or creates) the journal in `dir` and locks the directory.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Locked`] if the directory is open elsewhere;
    /// [`ErrorKind::Io`]; [`ErrorKind::Foreign`] or [`ErrorKind::Version`]
    /// for journal files that are not ours.
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let journal = optout::persist::Journal::open(dir.path().join("optouts"))?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn open(dir: impl AsRef<Path>) -> Result<Journal, Error> {
        Journal::open_on(dir.as_ref(), Box::new(OsDisk))
    }

    pub(crate) fn open_on(dir: &Path, disk: Box<dyn Disk>) -> Result<Journal, Error> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io_at(dir, e))?;
        let lock_path = dir.join(LOCK);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| Error::io_at(&lock_path, e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(ErrorKind::Locked {
                    dir: dir.to_path_buf(),
                    lock: lock_path,
                }
                .into());
            }
            Err(TryLockError::Error(e)) => return Err(Error::io_at(&lock_path, e)),
        }
        let mut found = Vec::new();
        let mut legacy = Vec::new();
        for name in disk.list(dir).map_err(|e| Error::io_at(dir, e))? {
            let path = dir.join(&name);
            if let Some(start) = start_of(&name) {
                let data = disk.read(&path).map_err(|e| Error::io_at(&path, e))?;
                found.push(Found { path, start, data });
            } else if is_legacy_name(&name) {
                let data = disk.read(&path).map_err(|e| Error::io_at(&path, e))?;
                legacy.push((path, data));
            } else if name.starts_with(&format!(".{SNAPSHOT}.tmp-")) {
                // A snapshot write that a crash interrupted before its
                // rename: never the checkpoint.
                let _ = disk.remove(&path);
            }
        }
        found.sort_by_key(|f| f.start);
        Ok(Journal {
            dir: dir.to_path_buf(),
            disk,
            _lock: lock,
            durability: Durability::EveryChange,
            found,
            legacy,
            current: None,
            head: 0,
            unsynced: 0,
            last_sync: Instant::now(),
            torn: 0,
            broken: None,
        })
    }

    /// Sets when writes are synced (by default, every change).
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let journal = optout::persist::Journal::open(dir.path())?
    ///     .durability(optout::persist::Durability::EveryChange);
    /// # Ok(())
    /// # }
    /// ```
    pub fn durability(mut self, durability: Durability) -> Journal {
        self.durability = durability;
        self
    }

    /// The directory.
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// assert_eq!(optout::persist::Journal::open(dir.path())?.dir(), dir.path());
    /// # Ok(())
    /// # }
    /// ```
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Version-1 journal files found at open, with their bytes.
    pub(crate) fn take_legacy(&mut self) -> Vec<(PathBuf, Vec<u8>)> {
        std::mem::take(&mut self.legacy)
    }

    fn create_file(&self, start: u64) -> Result<Current, Error> {
        let path = journal_path(&self.dir, start);
        if self.current.as_ref().is_some_and(|c| c.path == path) {
            // Never reached (a checkpoint keeps a file that starts where
            // it would begin); the failure path below must not remove the
            // file the store appends to.
            return Err(ErrorKind::LogBroken(format!(
                "journal {} is the current file",
                path.display()
            ))
            .into());
        }
        let created = (|| {
            let mut file = self.disk.create(&path)?;
            file.write_all(&header(start))?;
            file.sync()?;
            drop(file);
            self.disk.sync_dir(&self.dir)?;
            // Appends go through an append-mode handle: after a failed
            // write is cut off, the next record lands at the new end, not
            // after a hole where the cut record was.
            self.disk.append(&path)
        })();
        match created {
            Ok(file) => Ok(Current {
                path,
                file,
                start,
                len: HEADER as u64,
            }),
            Err(e) => {
                // A journal file that may name a start it never got must
                // not outlive the failure, even across a power cut: on open
                // it would cut off the records the older file goes on
                // receiving. Its removal is made durable, or nothing more is
                // written.
                let removed = match self.disk.remove(&path) {
                    Ok(()) => true,
                    Err(r) => r.kind() == std::io::ErrorKind::NotFound,
                };
                if !removed || self.disk.sync_dir(&self.dir).is_err() {
                    return Err(ErrorKind::LogBroken(format!(
                        "journal {} could not be created ({e}), nor its removal made durable",
                        path.display()
                    ))
                    .into());
                }
                Err(Error::io_at(&path, e))
            }
        }
    }

    fn sync_current(&mut self) -> Result<(), Error> {
        if let Some(current) = &mut self.current {
            current
                .file
                .sync()
                .map_err(|e| Error::io_at(&current.path, e))?;
        }
        self.unsynced = 0;
        self.last_sync = Instant::now();
        Ok(())
    }
}

fn header(start: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&start.to_le_bytes());
    out
}

/// One record read back: its number, payload and where it ends.
struct Record<'a> {
    seq: u64,
    payload: &'a [u8],
    end: usize,
}

/// What reading one file found.
enum Read<'a> {
    Record(Record<'a>),
    /// The rest of the file is a torn write (or zeros).
    Torn,
    End,
}

fn word(bytes: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(bytes.get(at..at + 4).unwrap_or(&[0; 4]));
    u32::from_le_bytes(b)
}

/// Reads the record at `pos`. `last` tells whether a damaged record at the
/// end may be a torn write.
fn read_record(data: &[u8], pos: usize) -> Result<Read<'_>, Error> {
    let rest = data.get(pos..).unwrap_or(&[]);
    if rest.is_empty() {
        return Ok(Read::End);
    }
    // Zeros to the end: space the file system allocated for a write that
    // never landed.
    if rest.len() < RECORD_HEADER || rest.iter().all(|&b| b == 0) {
        return Ok(Read::Torn);
    }
    let (len, check, crc) = (word(rest, 0), word(rest, 4), word(rest, 8));
    if len != !check {
        return Err(Error::corrupt(WHAT, pos as u64, "record length damaged"));
    }
    let end = RECORD_HEADER + len as usize;
    let Some(body) = rest.get(RECORD_HEADER..end) else {
        return Ok(Read::Torn); // the record runs past the end
    };
    if crc32fast::hash(body) != crc {
        if end == rest.len() {
            return Ok(Read::Torn);
        }
        return Err(Error::corrupt(WHAT, pos as u64, "record checksum mismatch"));
    }
    let Some((seq, payload)) = body.split_at_checked(8) else {
        return Err(Error::corrupt(WHAT, pos as u64, "record too short"));
    };
    let mut s = [0u8; 8];
    s.copy_from_slice(seq);
    Ok(Read::Record(Record {
        seq: u64::from_le_bytes(s),
        payload,
        end: pos + end,
    }))
}

/// Checks a file's header; `Ok(false)` for a header torn at creation.
fn check_header(data: &[u8], start: u64) -> Result<bool, Error> {
    if data.len() < HEADER {
        // Torn while writing the header (or empty).
        return if data.iter().all(|&b| b == 0)
            || MAGIC.starts_with(data.get(..data.len().min(8)).unwrap_or(&[]))
        {
            Ok(false)
        } else {
            Err(ErrorKind::Foreign { what: WHAT }.into())
        };
    }
    if data.get(..8) != Some(MAGIC.as_slice()) {
        return Err(ErrorKind::Foreign { what: WHAT }.into());
    }
    let version = word(data, 8);
    if version != VERSION {
        return Err(ErrorKind::Version {
            what: WHAT,
            found: version,
            supported: VERSION,
        }
        .into());
    }
    let mut s = [0u8; 8];
    s.copy_from_slice(data.get(12..20).unwrap_or(&[0; 8]));
    if u64::from_le_bytes(s) != start {
        return Err(Error::corrupt(
            WHAT,
            12,
            "the file's header and name disagree on where it starts",
        ));
    }
    Ok(true)
}

impl Log for Journal {
    fn load_checkpoint(&mut self) -> Result<Option<Checkpoint>, Error> {
        if !self.legacy.is_empty() {
            // Read without its version-1 journals, the store would miss
            // every change they hold.
            return Err(ErrorKind::Unmigrated {
                dir: self.dir.clone(),
            }
            .into());
        }
        let path = self.dir.join(SNAPSHOT);
        match self.disk.read(&path) {
            Ok(bytes) => Ok(Some(Checkpoint {
                seq: super::snapshot_seq(&bytes).unwrap_or(0),
                snapshot: bytes,
            })),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io_at(&path, e)),
        }
    }

    fn read(&mut self, after: u64, visit: &mut Visitor<'_>) -> Result<(), Error> {
        if self.found.is_empty() {
            if self.current.is_none() {
                self.head = after;
                self.current = Some(self.create_file(after)?);
            }
            return Ok(());
        }
        let found = std::mem::take(&mut self.found);
        // Headers torn when a file was created hold no records; such a
        // file is no limit for the file before it.
        let mut files = Vec::with_capacity(found.len());
        for f in found {
            if check_header(&f.data, f.start).map_err(|e| name_file(e, &f.path))? {
                files.push(f);
            } else {
                self.disk
                    .remove(&f.path)
                    .map_err(|e| Error::io_at(&f.path, e))?;
            }
        }
        let mut cur = after;
        let mut covered = Vec::new();
        let mut last_good = None;
        let count = files.len();
        for (i, f) in files.iter().enumerate() {
            let is_last = i + 1 == count;
            // Records past the next file's start were never acknowledged:
            // the next file was created only after a snapshot held every
            // acknowledged record.
            let limit = files.get(i + 1).map(|n| n.start);
            let scan = scan(&f.data, f.start, is_last, limit).map_err(|e| name_file(e, &f.path))?;
            if is_last {
                self.torn = scan.torn;
            }
            for &(seq, payload) in &scan.records {
                if seq == cur + 1 {
                    visit(seq, payload)?;
                    cur = seq;
                } else if seq > cur + 1 {
                    return Err(ErrorKind::Gap {
                        what: f.path.display().to_string(),
                        expected: cur,
                        found: seq - 1,
                    }
                    .into());
                }
            }
            if is_last {
                last_good = Some((scan.good as u64, scan.last));
            } else if scan.last <= after {
                covered.push(f.path.clone());
            }
        }
        if let Some(last) = files.last()
            && last.start > cur
        {
            return Err(ErrorKind::Gap {
                what: last.path.display().to_string(),
                expected: cur,
                found: last.start,
            }
            .into());
        }
        self.head = cur;
        // Append to the last file if it ends where the store is; otherwise
        // (the snapshot is ahead of every file) start a new one.
        match (files.last(), last_good) {
            (Some(last), Some((good, last_seq))) if last_seq == cur => {
                let mut file = self
                    .disk
                    .append(&last.path)
                    .map_err(|e| Error::io_at(&last.path, e))?;
                if self.torn > 0 {
                    file.set_len(good)
                        .and_then(|()| file.sync())
                        .map_err(|e| Error::io_at(&last.path, e))?;
                }
                self.current = Some(Current {
                    path: last.path.clone(),
                    file,
                    start: last.start,
                    len: good,
                });
            }
            (Some(last), _) => {
                // Everything in the last file is in the snapshot (or cut
                // off as torn): it is covered too.
                covered.push(last.path.clone());
                self.current = Some(self.create_file(cur)?);
            }
            (None, _) => self.current = Some(self.create_file(cur)?),
        }
        for path in covered {
            if self.current.as_ref().is_some_and(|c| c.path == path) {
                continue;
            }
            self.disk
                .remove(&path)
                .map_err(|e| Error::io_at(&path, e))?;
        }
        Ok(())
    }

    fn append(&mut self, seq: u64, record: &[u8]) -> Result<Appended, Error> {
        if let Some(why) = &self.broken {
            return Err(ErrorKind::LogBroken(why.clone()).into());
        }
        if seq != self.head + 1 {
            return Err(ErrorKind::LogBroken(format!(
                "record {seq} given to a journal at record {}",
                self.head
            ))
            .into());
        }
        let Some(current) = &mut self.current else {
            return Err(
                ErrorKind::LogBroken("the journal was not read before writing".into()).into(),
            );
        };
        let body_len = record.len() + 8;
        let len = u32::try_from(body_len).map_err(|_| {
            Error::io(std::io::Error::other(
                "change too large for one journal record",
            ))
        })?;
        let mut bytes = Vec::with_capacity(RECORD_HEADER + body_len);
        bytes.extend_from_slice(&len.to_le_bytes());
        bytes.extend_from_slice(&(!len).to_le_bytes());
        bytes.extend_from_slice(&[0; 4]); // the checksum, below
        bytes.extend_from_slice(&seq.to_le_bytes());
        bytes.extend_from_slice(record);
        let crc = crc32fast::hash(bytes.get(RECORD_HEADER..).unwrap_or(&[]));
        if let Some(slot) = bytes.get_mut(8..12) {
            slot.copy_from_slice(&crc.to_le_bytes());
        }
        let due = match self.durability {
            Durability::EveryChange => true,
            Durability::Batched { changes, interval } => {
                self.unsynced + 1 >= changes || self.last_sync.elapsed() >= interval
            }
        };
        let written = current
            .file
            .write_all(&bytes)
            .and_then(|()| if due { current.file.sync() } else { Ok(()) });
        if let Err(err) = written {
            // A change reported as failed must not come back on replay, and
            // later records must not follow a partial one: take it out.
            let start = current.len;
            if let Err(undo) = current
                .file
                .set_len(start)
                .and_then(|()| if due { current.file.sync() } else { Ok(()) })
            {
                // The outcome is unknown: the record may be kept whole.
                let why = format!(
                    "record {seq} could not be written to {} ({err}) nor taken back ({undo}), so it may be kept",
                    current.path.display()
                );
                self.broken = Some(why.clone());
                return Err(ErrorKind::LogBroken(why).into());
            }
            return Err(Error::io_at(&current.path, err));
        }
        current.len += bytes.len() as u64;
        self.head = seq;
        if due {
            self.unsynced = 0;
            self.last_sync = Instant::now();
        } else {
            self.unsynced += 1;
        }
        Ok(Appended::Done)
    }

    fn checkpoint(&mut self, seq: u64, snapshot: &[u8]) -> Result<(), Error> {
        if seq != self.head {
            return Err(ErrorKind::LogBroken(format!(
                "checkpoint at record {seq} of a journal at record {}",
                self.head
            ))
            .into());
        }
        if self.broken.is_none() && self.unsynced > 0 {
            self.sync_current()?;
        }
        let path = self.dir.join(SNAPSHOT);
        let synced =
            disk::write_atomic(&*self.disk, &path, snapshot).map_err(|e| Error::io_at(&path, e))?;
        if !synced {
            // The snapshot is in place but may not survive a power cut:
            // keep appending to the current file, which still holds every
            // record since the previous snapshot.
            return Err(Error::io_at(
                &self.dir,
                std::io::Error::other(
                    "the snapshot was written but the directory could not be synced; the journal was kept",
                ),
            ));
        }
        if let Some(current) = &mut self.current
            && current.start == seq
        {
            // Nothing was recorded since the current file began: it
            // already starts where the snapshot ends, and it is the file
            // the store appends to, so it is kept, not created again (a
            // failed creation would remove it). A record a failed write
            // may have left in it is cut off first.
            if self.broken.is_some() {
                current
                    .file
                    .set_len(HEADER as u64)
                    .and_then(|()| current.file.sync())
                    .map_err(|e| Error::io_at(&current.path, e))?;
                current.len = HEADER as u64;
                self.broken = None;
            }
            self.unsynced = 0;
            self.last_sync = Instant::now();
            return Ok(());
        }
        let next = self.create_file(seq).inspect_err(|e| {
            if matches!(e.kind(), ErrorKind::LogBroken(_)) {
                self.broken = Some(e.to_string());
            }
        })?;
        let old = self.current.replace(next);
        self.broken = None;
        self.unsynced = 0;
        self.last_sync = Instant::now();
        if let Some(old) = old
            && old.start != seq
        {
            // Covered by the snapshot; a file left behind is removed on open.
            drop(old.file);
            let _ = self.disk.remove(&old.path);
        }
        Ok(())
    }

    fn sync(&mut self) -> Result<(), Error> {
        self.sync_current()
    }

    /// A journal is never shared: its directory is locked to one store.
    fn is_shared(&self) -> bool {
        false
    }

    fn torn_bytes(&self) -> u64 {
        self.torn
    }
}

/// What reading one journal file found.
pub(crate) struct Scan<'a> {
    /// Its records, numbered consecutively from the file's start.
    pub(crate) records: Vec<(u64, &'a [u8])>,
    /// The length of the good part of the file.
    pub(crate) good: usize,
    /// The number of the last record kept (the file's start if none).
    pub(crate) last: u64,
    /// Bytes of a torn last record.
    pub(crate) torn: u64,
}

/// Reads a version-2 journal file that starts after record `start`. Only
/// the last file may end in a torn record; records past `limit` (the next
/// file's start) are leftovers of writes reported as failed and are not
/// kept.
pub(crate) fn scan(
    data: &[u8],
    start: u64,
    is_last: bool,
    limit: Option<u64>,
) -> Result<Scan<'_>, Error> {
    let mut out = Scan {
        records: Vec::new(),
        good: HEADER,
        last: start,
        torn: 0,
    };
    let mut pos = HEADER;
    loop {
        let record = match read_record(data, pos)? {
            Read::End => break,
            Read::Torn if is_last => {
                out.torn = (data.len() - pos) as u64;
                break;
            }
            Read::Torn if limit.is_some_and(|l| out.last >= l) => break,
            Read::Torn => return Err(Error::corrupt(WHAT, pos as u64, "a record is cut short")),
            Read::Record(r) => r,
        };
        if limit.is_some_and(|l| record.seq > l) {
            break;
        }
        if record.seq != out.last + 1 {
            return Err(Error::corrupt(
                WHAT,
                pos as u64,
                format!("record {} where {} was due", record.seq, out.last + 1),
            ));
        }
        out.records.push((record.seq, record.payload));
        out.last = record.seq;
        pos = record.end;
        out.good = pos;
    }
    Ok(out)
}

fn name_file(e: Error, path: &Path) -> Error {
    match e.into_kind() {
        ErrorKind::Corrupt {
            what,
            offset,
            detail,
        } => Error::corrupt(what, offset, format!("{}: {detail}", path.display())),
        other => other.into(),
    }
}

/// A version-1 journal: its generation (`None` when its header was torn),
/// its record payloads, and the bytes of a torn record at its end.
pub(crate) struct LegacyFile<'a> {
    pub(crate) generation: Option<u64>,
    pub(crate) records: Vec<&'a [u8]>,
    #[allow(dead_code)] // reported by version 1, cut by the migration
    pub(crate) torn: u64,
}

/// Reads a version-1 journal.
pub(crate) fn legacy_records(data: &[u8]) -> Result<LegacyFile<'_>, Error> {
    const V1_HEADER: usize = 20;
    if data.len() < V1_HEADER {
        return if data.iter().all(|&b| b == 0)
            || MAGIC.starts_with(data.get(..data.len().min(8)).unwrap_or(&[]))
        {
            Ok(LegacyFile {
                generation: None,
                records: Vec::new(),
                torn: data.len() as u64,
            })
        } else {
            Err(ErrorKind::Foreign { what: WHAT }.into())
        };
    }
    if data.get(..8) != Some(MAGIC.as_slice()) {
        return Err(ErrorKind::Foreign { what: WHAT }.into());
    }
    let version = word(data, 8);
    if version != 1 {
        return Err(ErrorKind::Version {
            what: WHAT,
            found: version,
            supported: VERSION,
        }
        .into());
    }
    let mut g = [0u8; 8];
    g.copy_from_slice(data.get(12..20).unwrap_or(&[0; 8]));
    let generation = u64::from_le_bytes(g);
    let mut records = Vec::new();
    let mut pos = V1_HEADER;
    while pos < data.len() {
        let rest = data.get(pos..).unwrap_or(&[]);
        if rest.len() < RECORD_HEADER || rest.iter().all(|&b| b == 0) {
            return Ok(LegacyFile {
                generation: Some(generation),
                records,
                torn: rest.len() as u64,
            });
        }
        let (len, check, crc) = (word(rest, 0), word(rest, 4), word(rest, 8));
        if len != !check {
            return Err(Error::corrupt(WHAT, pos as u64, "record length damaged"));
        }
        let end = RECORD_HEADER + len as usize;
        let Some(payload) = rest.get(RECORD_HEADER..end) else {
            return Ok(LegacyFile {
                generation: Some(generation),
                records,
                torn: rest.len() as u64,
            });
        };
        if crc32fast::hash(payload) != crc {
            if end == rest.len() {
                return Ok(LegacyFile {
                    generation: Some(generation),
                    records,
                    torn: rest.len() as u64,
                });
            }
            return Err(Error::corrupt(WHAT, pos as u64, "record checksum mismatch"));
        }
        records.push(payload);
        pos += end;
    }
    Ok(LegacyFile {
        generation: Some(generation),
        records,
        torn: 0,
    })
}

#[cfg(fuzzing)]
pub(crate) mod fuzzing {
    use super::{Error, Log, check_header, scan};
    use crate::Store;
    use crate::persist::MemoryLog;

    /// Replays the bytes of a journal file that starts at record 0 onto a
    /// fresh store; returns the store, the good prefix length and the
    /// records replayed.
    pub fn replay_journal(data: &[u8]) -> Result<(Store, usize, u64), Error> {
        if !check_header(data, 0)? {
            return Ok((Store::new(), 0, 0));
        }
        let scanned = scan(data, 0, true, None)?;
        let mut log = MemoryLog::new();
        for (seq, record) in &scanned.records {
            log.append(*seq, record)?;
        }
        let store = Store::builder().log(log).build()?;
        Ok((store, scanned.good, scanned.records.len() as u64))
    }
}
