//! The log seam: where a store's operations go.

use std::sync::{Arc, Mutex, PoisonError};

use crate::error::Error;

/// The callback [`Log::read`] hands records to: their number and bytes.
pub type Visitor<'a> = dyn FnMut(u64, &[u8]) -> Result<(), Error> + 'a;

/// Where a store's operations go: an ordered log of records, each one
/// encoded operation with a sequence number (1, 2, 3, … without gaps), and
/// checkpoints (the store's snapshot after some record).
///
/// A [`Store`](crate::Store) commits every change the same way: it
/// resolves the change into one operation, checks it against its state,
/// appends it to the log with the next sequence number, and only then
/// applies it — all under one lock. Opening a store loads the latest
/// checkpoint and replays the records after it.
///
/// The crate has three logs: the store's default, which keeps nothing (no
/// durability); [`MemoryLog`], which keeps everything in memory and can
/// be shared by several stores; and [`Journal`](crate::persist::Journal),
/// files in a directory. A shared database implements this trait the same
/// way: records are opaque bytes, so a log never needs to understand them.
///
/// # Example
///
/// A log that counts what it is given, around another one:
///
/// ```
/// use optout::Store;
/// use optout::persist::{Appended, Checkpoint, Log, MemoryLog, Visitor};
///
/// struct Counting(MemoryLog, u64);
///
/// impl Log for Counting {
///     fn load_checkpoint(&mut self) -> optout::Result<Option<Checkpoint>> {
///         self.0.load_checkpoint()
///     }
///     fn read(&mut self, after: u64, visit: &mut Visitor<'_>) -> optout::Result<()> {
///         self.0.read(after, visit)
///     }
///     fn append(&mut self, seq: u64, record: &[u8]) -> optout::Result<Appended> {
///         self.1 += 1;
///         self.0.append(seq, record)
///     }
///     fn checkpoint(&mut self, seq: u64, snapshot: &[u8]) -> optout::Result<()> {
///         self.0.checkpoint(seq, snapshot)
///     }
///     fn is_shared(&self) -> bool {
///         self.0.is_shared()
///     }
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = Store::builder().log(Counting(MemoryLog::new(), 0)).build()?;
/// store.create_list(optout::store::ListSettings::new("VIP"))?;
/// # Ok(())
/// # }
/// ```
pub trait Log: Send {
    /// The latest checkpoint, if there is one. Called when the store
    /// opens, and again when a store sharing the log finds that records it
    /// has not read were folded into a newer checkpoint.
    ///
    /// # Errors
    ///
    /// An [`Error`] if the checkpoint cannot be read; the store does not
    /// open.
    fn load_checkpoint(&mut self) -> Result<Option<Checkpoint>, Error>;

    /// Calls `visit` with every record numbered above `after`, in order.
    /// A log that has records above `after` but not `after + 1` has lost
    /// some: it must return an error, never skip them.
    ///
    /// # Errors
    ///
    /// An [`Error`] from reading, or the first one `visit` returns.
    fn read(&mut self, after: u64, visit: &mut Visitor<'_>) -> Result<(), Error>;

    /// Appends the record numbered `seq`, the one after the last record
    /// this store has read or written. `Ok(Appended::Done)` means the
    /// record is in the log (durable, for a durable log); the store then
    /// reports the change as recorded. `Ok(Appended::Taken)` means another
    /// writer already appended record `seq` (a shared log): the store
    /// reads what it missed and tries again. An error means the record is
    /// not in the log.
    ///
    /// # Errors
    ///
    /// An [`Error`] when the record could not be appended; the store
    /// reports the change as not recorded.
    fn append(&mut self, seq: u64, record: &[u8]) -> Result<Appended, Error>;

    /// Keeps `snapshot`, the store's state after record `seq`, as the
    /// latest checkpoint. Records up to `seq` are no longer needed.
    ///
    /// # Errors
    ///
    /// An [`Error`] when the checkpoint could not be kept; the previous
    /// checkpoint and every record stay usable.
    fn checkpoint(&mut self, seq: u64, snapshot: &[u8]) -> Result<(), Error>;

    /// Makes appended records durable, for logs that sync in batches.
    ///
    /// # Errors
    ///
    /// An [`Error`] when syncing fails.
    fn sync(&mut self) -> Result<(), Error> {
        Ok(())
    }

    /// `true` when other writers may append to the same log: the store
    /// then reads what they appended before every compile, check, export
    /// and change. There is no default: a log that says `false` while
    /// others write to it would let a store miss their opt-outs, so every
    /// log (and every wrapper, which forwards it) says which it is.
    fn is_shared(&self) -> bool;

    /// Bytes of a torn last record that opening cut off.
    fn torn_bytes(&self) -> u64 {
        0
    }
}

/// A checkpoint: the store's snapshot after record `seq`.
///
/// # Example
///
/// ```
/// let cp = optout::persist::Checkpoint { seq: 3, snapshot: Vec::new() };
/// assert_eq!(cp.seq, 3);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The last record the snapshot includes.
    pub seq: u64,
    /// The snapshot bytes (format in `docs/FORMAT.md`).
    pub snapshot: Vec<u8>,
}

/// What [`Log::append`] did.
///
/// # Example
///
/// ```
/// use optout::persist::{Appended, Log, MemoryLog};
///
/// # fn main() -> optout::Result<()> {
/// let mut log = MemoryLog::new();
/// assert_eq!(log.append(1, b"x")?, Appended::Done);
/// assert_eq!(log.clone().append(1, b"y")?, Appended::Taken);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Appended {
    /// The record is in the log.
    Done,
    /// Another writer appended a record with this number first.
    Taken,
}

/// A log in memory, shared by every clone: stores built on clones of one
/// `MemoryLog` behave like service replicas sharing one database, and a
/// store rebuilt on it finds every change (until the process ends).
///
/// # Example
///
/// ```
/// use optout::{Normalizer, Store};
/// use optout::persist::MemoryLog;
/// use optout::store::Edit;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let log = MemoryLog::new();
/// let a = Store::builder().log(log.clone()).build()?;
/// let b = Store::builder().log(log.clone()).build()?;
/// let ann = Normalizer::default().address("+14155550123")?;
/// a.opt_out(&ann, &Edit::new())?;
/// assert!(b.check(&ann, &optout::Dispatch::marketing())?.is_some()); // b reads a's change
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, Default)]
pub struct MemoryLog(Arc<Mutex<MemoryInner>>);

#[derive(Debug, Default)]
struct MemoryInner {
    /// Records after the checkpoint, numbered from `base + 1`.
    records: Vec<Vec<u8>>,
    base: u64,
    checkpoint: Option<Checkpoint>,
}

impl MemoryLog {
    /// An empty log.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(optout::persist::MemoryLog::new().len(), 0);
    /// ```
    pub fn new() -> MemoryLog {
        MemoryLog::default()
    }

    /// The number of the last record.
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let log = optout::persist::MemoryLog::new();
    /// let store = optout::Store::builder().log(log.clone()).build()?;
    /// store.create_list(optout::store::ListSettings::new("VIP"))?;
    /// assert_eq!(log.len(), 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn len(&self) -> u64 {
        let inner = self.lock();
        inner.base + inner.records.len() as u64
    }

    /// `true` if nothing was ever appended.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(optout::persist::MemoryLog::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MemoryInner> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Log for MemoryLog {
    fn load_checkpoint(&mut self) -> Result<Option<Checkpoint>, Error> {
        Ok(self.lock().checkpoint.clone())
    }

    fn read(&mut self, after: u64, visit: &mut Visitor<'_>) -> Result<(), Error> {
        // Copy out, so that visiting never holds the log's lock.
        let (base, records) = {
            let inner = self.lock();
            if after < inner.base {
                return Err(crate::error::ErrorKind::Gap {
                    what: "memory log".into(),
                    expected: after,
                    found: inner.base,
                }
                .into());
            }
            let skip = usize::try_from(after - inner.base).unwrap_or(usize::MAX);
            (
                after,
                inner.records.iter().skip(skip).cloned().collect::<Vec<_>>(),
            )
        };
        for (i, record) in records.iter().enumerate() {
            visit(base + 1 + i as u64, record)?;
        }
        Ok(())
    }

    fn append(&mut self, seq: u64, record: &[u8]) -> Result<Appended, Error> {
        let mut inner = self.lock();
        let next = inner.base + inner.records.len() as u64 + 1;
        if seq != next {
            return Ok(Appended::Taken);
        }
        inner.records.push(record.to_vec());
        Ok(Appended::Done)
    }

    fn checkpoint(&mut self, seq: u64, snapshot: &[u8]) -> Result<(), Error> {
        let mut inner = self.lock();
        let last = inner.base + inner.records.len() as u64;
        if seq > last || seq < inner.base {
            return Ok(());
        }
        let drop = usize::try_from(seq - inner.base).unwrap_or(0);
        let drop = drop.min(inner.records.len());
        inner.records.drain(..drop);
        inner.base = seq;
        inner.checkpoint = Some(Checkpoint {
            seq,
            snapshot: snapshot.to_vec(),
        });
        Ok(())
    }

    fn is_shared(&self) -> bool {
        true
    }
}
