//! The store: lists, scopes, the blocked set and the history, changed only
//! by operations committed to a log.
//!
//! Every change — an opt-out, a list setting, an inbound STOP, a click on
//! an unsubscribe link, an import — is resolved into one operation and
//! committed by one function: check it against the current state, append
//! it to the log, apply it, all under one lock. Nothing else changes a
//! store. Where the operations go is the store's [`Log`]: nowhere (the
//! default), a [`MemoryLog`](crate::persist::MemoryLog), the file
//! [`Journal`] of a directory, or a log of your own.
//!
//! A [`Store`] is shared between threads (`&self` everywhere). A write
//! holds the state's write lock only to apply a change already logged, and
//! a send compiles its suppression under a short read lock into an owned
//! [`Suppression`](crate::Suppression), so a change made before the
//! compile is honoured and changes made during the filter do not tear it.
//! On an unshared log, readers are never held up by a write's disk sync.
//! On a shared log, [`Store::compile`], [`Store::check`] and exports first
//! read what other writers appended ([`Store::refresh`]), which waits for
//! a commit in progress; point reads such as [`Store::contains`] answer
//! from what this store has read so far (call `refresh` first for the
//! latest).

use std::fmt;
use std::io::{Read, Write};
use std::ops::RangeBounds;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use roaring::RoaringTreemap;

use crate::address::{Address, AddressId, Email, EmailAliases, Strictness};
use crate::error::{Error, ErrorKind};
use crate::keyword::{KeywordMatcher, Keywords};
use crate::model::{Channel, Clock, KeywordScope, ListId, Scope, Source, SystemClock, Timestamp};
use crate::persist::{Durability, Journal, Log, Recovery};

mod history;
mod legacy;
mod list;
mod op;
mod send;
mod snapshot;
mod state;
mod write;

pub use history::{Change, Event};
pub use list::{List, ListSettings};
pub use write::{Bulk, Edit};

pub(crate) use op::{ChangeOp, Op, Who, is_canonical_shape};
pub(crate) use state::{Applied, Entries, Rules, State};

/// How a store reads addresses: whether email provider aliases fold into
/// one address, and how strictly phone numbers given as text are checked
/// when an opt-out is recorded. Set when the store is created and kept
/// with it; opening a store with another policy is an error.
///
/// The store applies its policy to every address it is given, whatever
/// the [`Normalizer`](crate::Normalizer) that produced it: with alias
/// folding, an opt-out for `j.doe+news@gmail.com` suppresses a send to
/// `jdoe@gmail.com` even when the send's normalizer keeps aliases apart,
/// and the reverse.
///
/// # Example
///
/// ```
/// use optout::{Dispatch, Normalizer, Store};
/// use optout::address::EmailAliases;
/// use optout::store::{Edit, Policy};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = Store::builder().email_aliases(EmailAliases::Fold).build()?;
/// assert_eq!(store.policy().email_aliases(), EmailAliases::Fold);
/// let keep = Normalizer::default();
/// store.opt_out(&keep.address("J.Doe+news@gmail.com")?, &Edit::new())?;
/// let verdict = store.check(&keep.address("jdoe@gmail.com")?, &Dispatch::marketing())?;
/// assert!(verdict.is_some());
/// assert_eq!(Policy::default().to_string(), "email aliases kept, phones recorded when possible");
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Policy {
    email_aliases: EmailAliases,
    recording: Strictness,
}

impl Policy {
    /// Whether email provider aliases fold into one address.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::address::EmailAliases;
    ///
    /// assert_eq!(optout::store::Policy::default().email_aliases(), EmailAliases::Keep);
    /// ```
    pub fn email_aliases(&self) -> EmailAliases {
        self.email_aliases
    }

    /// How strictly phone numbers given as text are checked when an
    /// opt-out is recorded (by default [`Strictness::Possible`]: a number
    /// from a range the metadata does not know yet is still recorded).
    ///
    /// # Example
    ///
    /// ```
    /// use optout::address::Strictness;
    ///
    /// assert_eq!(optout::store::Policy::default().recording(), Strictness::Possible);
    /// ```
    pub fn recording(&self) -> Strictness {
        self.recording
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let aliases = match self.email_aliases {
            EmailAliases::Keep => "email aliases kept",
            EmailAliases::Fold => "email aliases folded",
        };
        let recording = match self.recording {
            Strictness::Possible => "phones recorded when possible",
            Strictness::Valid => "phones recorded when valid",
        };
        write!(f, "{aliases}, {recording}")
    }
}

/// Where a store's operations go.
enum LogSlot {
    /// Nowhere: [`Store::new`]'s memory-only store.
    Volatile,
    Log(Box<dyn Log>),
}

/// Keyword matchers compiled from the keyword settings and the lists'
/// keywords, rebuilt when either changes.
#[derive(Default)]
struct Matchers {
    version: Option<u64>,
    account: Arc<KeywordMatcher>,
    channels: std::collections::BTreeMap<Channel, Arc<KeywordMatcher>>,
}

/// Lists, scopes, the blocked set and the history: the state a sender
/// filters against.
///
/// `Store` is `Send + Sync` and every method takes `&self`, so one store
/// serves a whole service. See the [module docs](crate::store) for how
/// changes are committed and reads stay consistent.
///
/// # Example
///
/// ```
/// use optout::{Dispatch, Normalizer, Store};
/// use optout::address::Region;
/// use optout::model::Channel;
/// use optout::store::Edit;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let n = Normalizer::new(Region::new("US")?);
/// let store = Store::new();
/// store.opt_out(&n.address("(415) 555-0123")?, &Edit::new())?;
///
/// let send = Dispatch::marketing().channel(Channel::new("sms1")?);
/// let split = store.compile(&send)?.split(&n, &["+14155550123", "+14155550124"]);
/// assert_eq!(split.report().to_string(), "1 sendable, 1 skipped (opted-out)");
/// # Ok(())
/// # }
/// ```
pub struct Store {
    state: RwLock<State>,
    log: Mutex<LogSlot>,
    shared: bool,
    clock: Arc<dyn Clock>,
    matchers: Mutex<Matchers>,
    recovery: Recovery,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.read();
        f.debug_struct("Store")
            .field("seq", &state.seq)
            .field("lists", &state.live().count())
            .field("blocked", &state.blocked.len())
            .field("emails", &state.emails.len())
            .field("history", &state.history.len())
            .finish()
    }
}

impl Default for Store {
    fn default() -> Store {
        Store::new()
    }
}

/// Configures and opens a [`Store`].
///
/// # Example
///
/// ```
/// use optout::Store;
/// use optout::address::EmailAliases;
/// use optout::model::Timestamp;
/// use optout::persist::Durability;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let store = Store::builder()
///     .email_aliases(EmailAliases::Fold)
///     .durability(Durability::Batched { changes: 100, interval: std::time::Duration::from_millis(10) })
///     .clock(|| Timestamp::from_unix_secs(1_700_000_000))
///     .open(dir.path())?;
/// # Ok(())
/// # }
/// ```
#[must_use]
pub struct StoreBuilder {
    clock: Arc<dyn Clock>,
    policy: Option<Policy>,
    durability: Durability,
    log: Option<Box<dyn Log>>,
    /// Version-1 files a [`Journal`] given to [`StoreBuilder::log`] found.
    legacy: Vec<(std::path::PathBuf, Vec<u8>)>,
}

impl fmt::Debug for StoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreBuilder")
            .field("policy", &self.policy)
            .field("durability", &self.durability)
            .finish_non_exhaustive()
    }
}

impl Default for StoreBuilder {
    fn default() -> StoreBuilder {
        StoreBuilder {
            clock: Arc::new(SystemClock),
            policy: None,
            durability: Durability::EveryChange,
            log: None,
            legacy: Vec::new(),
        }
    }
}

impl StoreBuilder {
    /// Times changes made without an explicit time with `clock` (by
    /// default the system clock).
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Normalizer, Store};
    /// use optout::model::Timestamp;
    /// use optout::store::Edit;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::builder().clock(|| Timestamp::from_unix_secs(42)).build()?;
    /// let a = Normalizer::default().address("+14155550123")?;
    /// assert_eq!(store.opt_out(&a, &Edit::new())?[0].at, Timestamp::from_unix_secs(42));
    /// # Ok(())
    /// # }
    /// ```
    pub fn clock(mut self, clock: impl Clock + 'static) -> StoreBuilder {
        self.clock = Arc::new(clock);
        self
    }

    /// Sets the store's email alias policy (see [`Policy`]).
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = optout::Store::builder().email_aliases(optout::address::EmailAliases::Fold).build()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn email_aliases(mut self, aliases: EmailAliases) -> StoreBuilder {
        self.policy
            .get_or_insert_with(Policy::default)
            .email_aliases = aliases;
        self
    }

    /// Sets how strictly phone numbers given as text are checked when an
    /// opt-out is recorded (see [`Policy`]).
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = optout::Store::builder().recording(optout::address::Strictness::Possible).build()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn recording(mut self, strictness: Strictness) -> StoreBuilder {
        self.policy.get_or_insert_with(Policy::default).recording = strictness;
        self
    }

    /// Sets when [`StoreBuilder::open`]'s journal syncs to disk.
    ///
    /// # Example
    ///
    /// ```
    /// let b = optout::Store::builder().durability(optout::persist::Durability::EveryChange);
    /// ```
    pub fn durability(mut self, durability: Durability) -> StoreBuilder {
        self.durability = durability;
        self
    }

    /// Logs operations to `log` (see [`Log`]) when built.
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = optout::Store::builder().log(optout::persist::MemoryLog::new()).build()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn log(mut self, log: impl Log + 'static) -> StoreBuilder {
        let mut log = log;
        // A journal of a version-1 directory migrates however it is opened.
        if let Some(journal) = (&mut log as &mut dyn std::any::Any).downcast_mut::<Journal>() {
            self.legacy = journal.take_legacy();
        }
        self.log = Some(Box::new(log));
        self
    }

    /// Builds the store: on the log given, loading its latest checkpoint
    /// and replaying the records after it, or in memory only.
    ///
    /// # Errors
    ///
    /// What the log reports; [`ErrorKind::Corrupt`] for a damaged
    /// checkpoint or record; [`ErrorKind::PolicyMismatch`] if the log's
    /// store was created with another policy.
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = optout::Store::builder().build()?;
    /// assert_eq!(store.lists().len(), 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn build(self) -> Result<Store, Error> {
        match self.log {
            None => {
                let state = State::new(self.policy.unwrap_or_default());
                Ok(Store::from_parts(
                    state,
                    LogSlot::Volatile,
                    self.clock,
                    Recovery::default(),
                ))
            }
            Some(log) => {
                let migration = legacy::Migration::from_files(self.legacy)?;
                Store::open_log(log, self.clock, self.policy, migration)
            }
        }
    }

    /// Opens (or creates) the store kept in `dir`: its latest snapshot and
    /// the journal written since (see [`Journal`]). The directory stays
    /// locked while the store is open.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Locked`] if the directory is in use; [`ErrorKind::Io`];
    /// [`ErrorKind::Corrupt`], [`ErrorKind::Foreign`],
    /// [`ErrorKind::Version`] or [`ErrorKind::Gap`] for damaged or
    /// missing files (a torn last journal record is not an error: it is
    /// cut off and reported in [`Store::recovery`]);
    /// [`ErrorKind::PolicyMismatch`].
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let store = optout::Store::builder().open(dir.path().join("optouts"))?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn open(self, dir: impl AsRef<Path>) -> Result<Store, Error> {
        let journal = Journal::open(dir.as_ref())?.durability(self.durability);
        self.log(journal).build()
    }

    /// Loads a snapshot written by [`Store::save`] into a store kept in
    /// memory only.
    ///
    /// # Errors
    ///
    /// As [`Store::load`]; [`ErrorKind::Usage`] if a log was given (the
    /// store would not write to it, so changes would look recorded and be
    /// lost: open the log with [`StoreBuilder::build`] instead).
    ///
    /// # Example
    ///
    /// ```
    /// use optout::Store;
    /// use optout::model::Timestamp;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut bytes = Vec::new();
    /// Store::new().save(&mut bytes)?;
    /// let store = Store::builder().clock(|| Timestamp::from_unix_secs(1)).load(bytes.as_slice())?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn load(self, mut reader: impl Read) -> Result<Store, Error> {
        if self.log.is_some() {
            return Err(ErrorKind::Usage(
                "a store loaded from a snapshot is kept in memory only; build it on the log instead".into(),
            )
            .into());
        }
        let mut data = Vec::new();
        reader.read_to_end(&mut data).map_err(Error::io)?;
        let state = snapshot::decode(&data)?;
        if let Some(policy) = self.policy
            && policy != state.policy
        {
            return Err(ErrorKind::PolicyMismatch {
                stored: state.policy.to_string(),
                requested: policy.to_string(),
            }
            .into());
        }
        Ok(Store::from_parts(
            state,
            LogSlot::Volatile,
            self.clock,
            Recovery::default(),
        ))
    }
}

impl Store {
    /// An empty store (just the system list) on the system clock, kept in
    /// memory only.
    ///
    /// # Example
    ///
    /// ```
    /// let store = optout::Store::new();
    /// assert_eq!(store.lists().len(), 1);
    /// ```
    pub fn new() -> Store {
        Store::from_parts(
            State::new(Policy::default()),
            LogSlot::Volatile,
            Arc::new(SystemClock),
            Recovery::default(),
        )
    }

    /// Starts configuring a store: its clock, policy and log.
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = optout::Store::builder().build()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn builder() -> StoreBuilder {
        StoreBuilder::default()
    }

    /// Opens (or creates) the store kept in `dir`, syncing every change to
    /// disk before reporting it as recorded. See [`StoreBuilder::open`].
    ///
    /// # Errors
    ///
    /// As [`StoreBuilder::open`].
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Normalizer, Store};
    /// use optout::store::Edit;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let phone = Normalizer::default().address("+14155550123")?;
    /// {
    ///     let store = Store::open(dir.path())?;
    ///     store.opt_out(&phone, &Edit::new())?; // on disk when this returns
    /// }
    /// let store = Store::open(dir.path())?;
    /// assert_eq!(store.recovery().replayed, 1);
    /// assert_eq!(store.history(..).len(), 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn open(dir: impl AsRef<Path>) -> Result<Store, Error> {
        Store::builder().open(dir)
    }

    /// Reads a snapshot written by [`Store::save`], validating everything,
    /// into a store kept in memory only, on the system clock.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Foreign`], [`ErrorKind::Version`] or
    /// [`ErrorKind::Corrupt`] for bytes that are not a valid snapshot
    /// (truncated, bit-flipped, from another format), [`ErrorKind::Io`] if
    /// reading fails. Never a partial store.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::Store;
    /// use optout::error::ErrorKind;
    ///
    /// let err = Store::load(&b"not a snapshot"[..]).unwrap_err();
    /// assert!(matches!(err.kind(), ErrorKind::Foreign { .. }));
    /// ```
    pub fn load(reader: impl Read) -> Result<Store, Error> {
        Store::builder().load(reader)
    }

    /// Reads a snapshot from `path`. See [`Store::load`].
    ///
    /// # Errors
    ///
    /// As [`Store::load`].
    ///
    /// # Example
    ///
    /// ```
    /// assert!(optout::Store::load_from_path("/no/such/file").is_err());
    /// ```
    pub fn load_from_path(path: impl AsRef<Path>) -> Result<Store, Error> {
        let path = path.as_ref();
        let file = std::fs::File::open(path).map_err(|e| Error::io_at(path, e))?;
        Store::load(std::io::BufReader::new(file))
    }

    fn from_parts(state: State, log: LogSlot, clock: Arc<dyn Clock>, recovery: Recovery) -> Store {
        let shared = matches!(&log, LogSlot::Log(l) if l.is_shared());
        Store {
            state: RwLock::new(state),
            log: Mutex::new(log),
            shared,
            clock,
            matchers: Mutex::new(Matchers::default()),
            recovery,
        }
    }

    /// Loads the checkpoint and replays the log after it.
    fn open_log(
        mut log: Box<dyn Log>,
        clock: Arc<dyn Clock>,
        policy: Option<Policy>,
        legacy: Option<legacy::Migration>,
    ) -> Result<Store, Error> {
        let checkpoint = log.load_checkpoint()?;
        let mut recovery = Recovery::default();
        let mut state = match &checkpoint {
            Some(cp) => snapshot::decode(&cp.snapshot)?,
            // A policy asked for is logged below, so that it is kept.
            None => State::new(Policy::default()),
        };
        recovery.checkpoint = state.seq;
        let mut migrated = None;
        if let Some(migration) = legacy {
            migrated = migration.apply(&mut state)?;
        }
        log.read(state.seq, &mut |seq, bytes| {
            replay(&mut state, seq, bytes)?;
            recovery.replayed += 1;
            Ok(())
        })?;
        recovery.torn_bytes = log.torn_bytes();
        recovery.migrated = migrated.is_some();
        let store = Store::from_parts(state, LogSlot::Log(log), clock, recovery);
        if let Some(legacy) = migrated {
            store.finish_migration(legacy)?;
        }
        if let Some(policy) = policy {
            let stored = store.read().policy;
            if stored != policy {
                store.commit(|_| Ok((Some(Op::Policy(policy)), ())))?;
            }
        }
        Ok(store)
    }

    pub(crate) fn read(&self) -> RwLockReadGuard<'_, State> {
        // A panic while holding the lock cannot leave a half-applied change:
        // operations are validated before they are logged and applied.
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write_state(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_log(&self) -> MutexGuard<'_, LogSlot> {
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The one write path: under the log's lock, read what other writers
    /// appended (a shared log), resolve the change against the current
    /// state, check it, append it to the log with the next number, and
    /// apply it. `resolve` may run again if another writer took the number
    /// first. Returns `resolve`'s output and what applying did.
    pub(crate) fn commit<T>(
        &self,
        mut resolve: impl FnMut(&View<'_>) -> Result<(Option<Op>, T), Error>,
    ) -> Result<(T, Applied), Error> {
        let mut slot = self.lock_log();
        let mut taken = 0u32;
        loop {
            // A log that said another writer took the number is read even
            // if it does not call itself shared.
            self.catch_up_if(&mut slot, taken > 0)?;
            let (op, out, seq) = {
                let state = self.read();
                let view = View {
                    state: &state,
                    store: self,
                };
                let (op, out) = resolve(&view)?;
                let Some(op) = op else {
                    return Ok((out, Applied::default()));
                };
                state.validate(&op, Rules::Commit)?;
                (op, out, state.seq + 1)
            };
            if let LogSlot::Log(log) = &mut *slot {
                let bytes = op.encode()?;
                if log.append(seq, &bytes)? == crate::persist::Appended::Taken {
                    taken += 1;
                    if taken > 1_000 {
                        return Err(ErrorKind::LogBroken(format!(
                            "the log keeps reporting record {seq} as taken but has nothing new to read"
                        ))
                        .into());
                    }
                    continue;
                }
            }
            let applied = self.write_state().apply(&op, seq);
            return Ok((out, applied));
        }
    }

    /// Applies what other writers appended to a shared log.
    fn catch_up(&self, slot: &mut LogSlot) -> Result<(), Error> {
        self.catch_up_if(slot, false)
    }

    /// Applies what other writers appended, when the log is shared (or
    /// `anyway`). A store that fell behind the log's checkpoint (the
    /// records it missed are gone) reloads from the checkpoint.
    fn catch_up_if(&self, slot: &mut LogSlot, anyway: bool) -> Result<(), Error> {
        let LogSlot::Log(log) = slot else {
            return Ok(());
        };
        if !self.shared && !anyway {
            return Ok(());
        }
        let read = |log: &mut Box<dyn Log>| {
            let after = self.read().seq;
            log.read(after, &mut |seq, bytes| {
                let mut state = self.write_state();
                replay(&mut state, seq, bytes)
            })
        };
        match read(log) {
            Err(e) if matches!(e.kind(), ErrorKind::Gap { .. }) => {
                let Some(checkpoint) = log.load_checkpoint()? else {
                    return Err(e);
                };
                let fresh = snapshot::decode(&checkpoint.snapshot)?;
                {
                    let mut state = self.write_state();
                    if fresh.seq <= state.seq {
                        return Err(e);
                    }
                    *state = fresh;
                }
                self.matchers
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .version = None;
                read(log)
            }
            other => other,
        }
    }

    /// Brings a store on a shared log up to the log's head, so that a
    /// change any writer acknowledged before is honoured. Compiles, checks
    /// and changes do this themselves; other reads show what this store
    /// has applied.
    ///
    /// # Errors
    ///
    /// What the log reports when read.
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// optout::Store::new().refresh()?; // a memory-only store has nothing to read
    /// # Ok(())
    /// # }
    /// ```
    pub fn refresh(&self) -> Result<(), Error> {
        if self.shared {
            let mut slot = self.lock_log();
            self.catch_up(&mut slot)?;
        }
        Ok(())
    }

    /// The number of the last change this store applied (0 for a new
    /// store). Every change gets the next number; stores on one log agree
    /// on them.
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = optout::Store::new();
    /// store.create_list(optout::store::ListSettings::new("VIP"))?;
    /// assert_eq!(store.seq(), 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn seq(&self) -> u64 {
        self.read().seq
    }

    /// What opening the store found: the checkpoint loaded, the records
    /// replayed, a torn record cut off.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(optout::Store::new().recovery().replayed, 0);
    /// ```
    pub fn recovery(&self) -> Recovery {
        self.recovery
    }

    /// The store's policy.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(optout::Store::new().policy(), optout::store::Policy::default());
    /// ```
    pub fn policy(&self) -> Policy {
        self.read().policy
    }

    /// The normalizer for addresses whose changes this store records —
    /// inbound senders, opt-outs from a form — from one a service already
    /// has: `base`'s region with the store's recording strictness and
    /// alias folding. A stricter send normalizer would refuse STOPs from
    /// numbers it does not know yet; this one records them.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Normalizer, Store};
    /// use optout::address::Strictness;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let send = Normalizer::builder().strictness(Strictness::Valid).build();
    /// let record = Store::new().recording_normalizer(&send);
    /// assert_eq!(record.strictness(), Strictness::Possible);
    /// # Ok(())
    /// # }
    /// ```
    pub fn recording_normalizer(&self, base: &crate::Normalizer) -> crate::Normalizer {
        let policy = self.policy();
        base.with_policy(policy.recording(), policy.email_aliases())
    }

    /// Keeps a checkpoint of the whole store in its log (for a directory:
    /// a new snapshot, and a new journal file for the changes after it),
    /// so that opening replays less. A crash at any point leaves a log that
    /// opens to the same state.
    ///
    /// # Errors
    ///
    /// What the log reports; the store stays usable and every change
    /// recorded stays in the log.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Normalizer, Store};
    /// use optout::store::Edit;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let store = Store::open(dir.path())?;
    /// store.opt_out(&Normalizer::default().address("+14155550123")?, &Edit::new())?;
    /// store.checkpoint()?;
    /// drop(store);
    /// let store = Store::open(dir.path())?;
    /// assert_eq!((store.recovery().checkpoint, store.recovery().replayed), (1, 0));
    /// assert_eq!(store.history(..).len(), 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn checkpoint(&self) -> Result<(), Error> {
        let mut slot = self.lock_log();
        self.catch_up(&mut slot)?;
        let LogSlot::Log(log) = &mut *slot else {
            return Ok(());
        };
        let (seq, bytes) = {
            let state = self.read();
            (state.seq, snapshot::encode(&state)?)
        };
        log.checkpoint(seq, &bytes)
    }

    /// Syncs log writes not yet synced (with [`Durability::Batched`]).
    ///
    /// # Errors
    ///
    /// What the log reports.
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// optout::Store::open(dir.path())?.sync()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn sync(&self) -> Result<(), Error> {
        match &mut *self.lock_log() {
            LogSlot::Volatile => Ok(()),
            LogSlot::Log(log) => log.sync(),
        }
    }

    /// Writes a snapshot of the whole store — lists and their settings,
    /// entries per scope, the blocked set, the email table, keyword
    /// settings, pending clarifications and the history — to `writer`. The
    /// snapshot is taken under a short read lock and written without it.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`] if writing fails.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Normalizer, Store};
    /// use optout::store::Edit;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::new();
    /// store.opt_out(&Normalizer::default().address("+14155550123")?, &Edit::new())?;
    /// let mut bytes = Vec::new();
    /// store.save(&mut bytes)?;
    /// let loaded = Store::load(bytes.as_slice())?;
    /// assert_eq!(loaded.history(..), store.history(..));
    /// # Ok(())
    /// # }
    /// ```
    pub fn save(&self, mut writer: impl Write) -> Result<(), Error> {
        let bytes = snapshot::encode(&self.read())?;
        writer.write_all(&bytes).map_err(Error::io)?;
        writer.flush().map_err(Error::io)
    }

    /// Writes a snapshot to `path` atomically: a crash mid-save, or another
    /// thread saving to the same path, leaves a whole file.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`].
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("optouts.snapshot");
    /// optout::Store::new().save_to_path(&path)?;
    /// let store = optout::Store::load_from_path(&path)?;
    /// assert_eq!(store.lists().len(), 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn save_to_path(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        let path = path.as_ref();
        let bytes = snapshot::encode(&self.read())?;
        match crate::persist::disk::write_atomic(&crate::persist::disk::OsDisk, path, &bytes) {
            Ok(true) => Ok(()),
            Ok(false) => Err(Error::io_at(
                path,
                std::io::Error::other("written, but the directory could not be synced"),
            )),
            Err(e) => Err(Error::io_at(path, e)),
        }
    }

    pub(crate) fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The email table as it is now: a shared handle, so that a long
    /// search holds no lock.
    pub(crate) fn email_table(&self) -> Arc<crate::address::EmailTable> {
        Arc::clone(&self.read().emails)
    }

    /// The keyword matcher for a channel (its own settings, or the
    /// account's), compiled from the state's settings when stale.
    fn matcher_for(&self, state: &State, channel: Option<&Channel>) -> Arc<KeywordMatcher> {
        let mut m = self.matchers.lock().unwrap_or_else(PoisonError::into_inner);
        if m.version != Some(state.keywords_version) {
            let lists: Vec<(String, ListId)> = state
                .live()
                .filter_map(|(id, slot)| slot.settings.keyword_text().map(|k| (k.to_owned(), id)))
                .collect();
            m.account = Arc::new(state.keywords.compile(&lists));
            m.channels = state
                .channel_keywords
                .iter()
                .map(|(c, k)| (c.clone(), Arc::new(k.compile(&lists))))
                .collect();
            m.version = Some(state.keywords_version);
        }
        Arc::clone(
            channel
                .and_then(|c| m.channels.get(c))
                .unwrap_or(&m.account),
        )
    }

    /// The compiled keywords in force on a channel.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::Store;
    /// use optout::model::Channel;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let m = Store::new().keyword_matcher(&Channel::new("sms1")?);
    /// assert!(m.find("STOP").is_some());
    /// # Ok(())
    /// # }
    /// ```
    pub fn keyword_matcher(&self, channel: &Channel) -> Arc<KeywordMatcher> {
        let state = self.read();
        self.matcher_for(&state, Some(channel))
    }

    /// A list by id, if it exists.
    ///
    /// # Example
    ///
    /// ```
    /// let store = optout::Store::new();
    /// assert!(store.list(optout::model::ListId::SYSTEM).is_some());
    /// ```
    pub fn list(&self, id: ListId) -> Option<List> {
        let state = self.read();
        state
            .slot(id)
            .ok()
            .map(|s| List::new(id, s.settings.clone()))
    }

    /// A list by name (ignoring case and spacing), if it exists.
    ///
    /// # Example
    ///
    /// ```
    /// let store = optout::Store::new();
    /// assert_eq!(store.list_named("default").map(|l| l.id()), Some(optout::model::ListId::SYSTEM));
    /// ```
    pub fn list_named(&self, name: &str) -> Option<List> {
        let state = self.read();
        let id = state.list_by_name(name)?;
        state
            .slot(id)
            .ok()
            .map(|s| List::new(id, s.settings.clone()))
    }

    /// Every list, the system list first.
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = optout::Store::new();
    /// store.create_list(optout::store::ListSettings::new("VIP"))?;
    /// let names: Vec<String> = store.lists().iter().map(|l| l.name().to_owned()).collect();
    /// assert_eq!(names, ["Default", "VIP"]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn lists(&self) -> Vec<List> {
        let state = self.read();
        state
            .live()
            .map(|(id, s)| List::new(id, s.settings.clone()))
            .collect()
    }

    /// Where a channel's keyword opt-outs apply.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::Store;
    /// use optout::model::{Channel, KeywordScope};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// assert_eq!(Store::new().keyword_scope(&Channel::new("sms1")?), KeywordScope::Channel);
    /// # Ok(())
    /// # }
    /// ```
    pub fn keyword_scope(&self, channel: &Channel) -> KeywordScope {
        self.read()
            .keyword_scopes
            .get(channel)
            .copied()
            .unwrap_or_default()
    }

    /// The keyword settings in force on a channel (its own, or the
    /// account's); `None` for the account's.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::Store;
    /// use optout::keyword::Keywords;
    ///
    /// assert_eq!(Store::new().keywords(None), Keywords::default());
    /// ```
    pub fn keywords(&self, channel: Option<&Channel>) -> Keywords {
        self.read().keywords_for(channel).clone()
    }

    /// `true` if the address is on `list` in exactly `scope` (not counting
    /// account-wide entries for a channel scope).
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Normalizer, Store};
    /// use optout::model::{Channel, ListId, Scope};
    /// use optout::store::Edit;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::new();
    /// let a = Normalizer::default().address("+14155550123")?;
    /// let ch = Scope::Channel(Channel::new("sms1")?);
    /// store.opt_out(&a, &Edit::new().scope(ch.clone()))?;
    /// assert!(store.contains(ListId::SYSTEM, &ch, &a));
    /// assert!(!store.contains(ListId::SYSTEM, &Scope::Account, &a));
    /// # Ok(())
    /// # }
    /// ```
    pub fn contains(&self, list: ListId, scope: &Scope, address: &Address) -> bool {
        let state = self.read();
        let Some(id) = state.lookup(address) else {
            return false;
        };
        state
            .slot(list)
            .ok()
            .and_then(|s| s.entries.scope(scope))
            .is_some_and(|set| set.contains(id.get()))
    }

    /// `true` if the address is blocked.
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let a = optout::Normalizer::default().address("+14155550123")?;
    /// assert!(!optout::Store::new().is_blocked(&a));
    /// # Ok(())
    /// # }
    /// ```
    pub fn is_blocked(&self, address: &Address) -> bool {
        let state = self.read();
        state
            .lookup(address)
            .is_some_and(|id| state.blocked.contains(id.get()))
    }

    /// `true` if the address was asked to clarify a possible revocation on
    /// `channel` and has not answered (see [`Store::inbound`]): marketing
    /// to it on that channel is suppressed meanwhile.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Normalizer, Store};
    /// use optout::inbound::InboundAction;
    /// use optout::model::Channel;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::new();
    /// let ann = Normalizer::default().address("+14155550123")?;
    /// let sms = Channel::new("sms1")?;
    /// assert_eq!(store.inbound(&ann, &sms, "remove me")?.action, InboundAction::Clarify);
    /// assert!(store.is_clarifying(&ann, &sms));
    /// # Ok(())
    /// # }
    /// ```
    pub fn is_clarifying(&self, address: &Address, channel: &Channel) -> bool {
        let state = self.read();
        state.lookup(address).is_some_and(|id| {
            state
                .pending
                .applying_to(Some(channel))
                .any(|s| s.contains(id.get()))
        })
    }

    /// The number of distinct addresses on a list, in any scope.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownList`].
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Normalizer, Store};
    /// use optout::model::{Channel, ListId, Scope};
    /// use optout::store::Edit;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::new();
    /// let a = Normalizer::default().address("+14155550123")?;
    /// store.opt_out(&a, &Edit::new())?;
    /// store.opt_out(&a, &Edit::new().scope(Scope::Channel(Channel::new("sms1")?)))?;
    /// assert_eq!(store.count(ListId::SYSTEM)?, 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn count(&self, list: ListId) -> Result<u64, Error> {
        let state = self.read();
        let entries = &state.slot(list)?.entries;
        if entries.channels.is_empty() {
            return Ok(entries.account.len());
        }
        let sets: Vec<&RoaringTreemap> = entries.applying_to(None).collect();
        Ok(crate::bitmap::union_all(&sets).len())
    }

    /// The number of blocked addresses.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(optout::Store::new().blocked_len(), 0);
    /// ```
    pub fn blocked_len(&self) -> u64 {
        self.read().blocked.len()
    }

    /// Every change recorded in a time range, in the order recorded: "show
    /// me last month's opt-outs".
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Normalizer, Store};
    /// use optout::model::Timestamp;
    /// use optout::store::Edit;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::new();
    /// let n = Normalizer::default();
    /// let t = Timestamp::from_unix_secs;
    /// store.opt_out(&n.address("+14155550123")?, &Edit::new().at(t(100)))?;
    /// store.opt_out(&n.address("+14155550124")?, &Edit::new().at(t(200)))?;
    /// assert_eq!(store.history(t(150)..).len(), 1);
    /// assert_eq!(store.history(..).len(), 2);
    /// # Ok(())
    /// # }
    /// ```
    pub fn history(&self, range: impl RangeBounds<Timestamp>) -> Vec<Change> {
        self.read().history.range(&range)
    }

    /// The email address behind an email id from this store, in the
    /// store's key form.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Normalizer, Store};
    /// use optout::store::Edit;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::new();
    /// let ann = Normalizer::default().address("ann@example.com")?;
    /// let id = store.opt_out(&ann, &Edit::new())?[0].address;
    /// assert_eq!(store.email(id).map(|e| e.to_string()), Some("ann@example.com".into()));
    /// # Ok(())
    /// # }
    /// ```
    pub fn email(&self, id: AddressId) -> Option<Email> {
        self.read().emails.email(id).cloned()
    }

    /// The id of an address in this store: a phone's is its digits; an
    /// email has one once the store has seen it.
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = optout::Store::new();
    /// let ann = optout::Normalizer::default().address("ann@example.com")?;
    /// assert_eq!(store.id(&ann), None);
    /// # Ok(())
    /// # }
    /// ```
    pub fn id(&self, address: &Address) -> Option<AddressId> {
        self.read().lookup(address)
    }

    /// The webhook event for a change: list name, address, channel, action,
    /// source and time, and the list's webhook URL to deliver it to. The
    /// crate does no network I/O.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Normalizer, Store};
    /// use optout::model::Channel;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::new();
    /// let from = Normalizer::default().address("+14155550123")?;
    /// let out = store.inbound(&from, &Channel::new("sms1")?, "STOP")?;
    /// let event = store.event(&out.changes[0]);
    /// assert_eq!(event.list_name.as_deref(), Some("Default"));
    /// assert_eq!(event.mobile, Some(14155550123));
    /// assert_eq!(event.channel_id.as_deref(), Some("sms1"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn event(&self, change: &Change) -> Event {
        let state = self.read();
        let slot = change.list.and_then(|l| state.lists.get(l.index()));
        Event {
            list_name: slot.map(|s| s.settings.name().to_owned()),
            mobile: change.address.phone_digits(),
            email: state.emails.email(change.address).map(|e| e.to_string()),
            channel_id: change.scope.channel().map(|c| c.as_str().to_owned()),
            action: change.action,
            source: change.source,
            time: change.at,
            webhook: slot.and_then(|s| s.settings.webhook_url().map(str::to_owned)),
        }
    }

    /// Approximate heap bytes held by the opt-out and blocked sets (the
    /// roaring bitmaps), and by the history.
    ///
    /// # Example
    ///
    /// ```
    /// let usage = optout::Store::new().memory();
    /// assert!(usage.entries < 64); // empty bitmaps' headers
    /// ```
    pub fn memory(&self) -> Memory {
        let state = self.read();
        let size = |set: &RoaringTreemap| set.serialized_size() as u64;
        let entries = state
            .lists
            .iter()
            .map(|s| s.entries.applying_to(None).map(size).sum::<u64>())
            .sum::<u64>()
            + size(&state.blocked);
        Memory {
            entries,
            history: state.history.heap_bytes(),
        }
    }
}

/// What an export needs, copied under the read lock so that writing it
/// holds up no change.
pub(crate) struct ExportData {
    /// The lists exported: id, name and entries.
    pub(crate) lists: Vec<(ListId, String, Entries)>,
    /// Their opt-out records, oldest first: time, list, scope, source, ids.
    pub(crate) records: Vec<(Timestamp, ListId, Scope, Source, RoaringTreemap)>,
    pub(crate) emails: Arc<crate::address::EmailTable>,
}

impl Store {
    /// Copies the entries of `lists` (every live list when `None`) and
    /// their opt-out records.
    pub(crate) fn export_data(&self, lists: Option<&[ListId]>) -> Result<ExportData, Error> {
        // An export on a shared log goes to partners as a suppression
        // file: it must hold what the other writers recorded too.
        self.refresh()?;
        let state = self.read();
        let ids: Vec<ListId> = match lists {
            Some(lists) => {
                for &l in lists {
                    state.slot(l)?;
                }
                lists.to_vec()
            }
            None => state.live().map(|(id, _)| id).collect(),
        };
        let lists = ids
            .iter()
            .filter_map(|&id| {
                let slot = state.slot(id).ok()?;
                Some((id, slot.settings.name().to_owned(), slot.entries.clone()))
            })
            .collect();
        let records = state
            .history
            .records()
            .iter()
            .filter(|r| r.action == crate::model::Action::OptOut)
            .filter_map(|r| {
                let list = r.list.filter(|l| ids.contains(l))?;
                Some((
                    r.at,
                    list,
                    r.scope.clone(),
                    r.source,
                    r.addresses.to_bitmap(),
                ))
            })
            .collect();
        Ok(ExportData {
            lists,
            records,
            emails: Arc::clone(&state.emails),
        })
    }
}

/// Memory held by a store, in bytes (see [`Store::memory`]).
///
/// # Example
///
/// ```
/// let m = optout::Store::new().memory();
/// assert_eq!(m.history, 0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Memory {
    /// Opt-out and blocked sets, in roaring's portable serialized size
    /// (which tracks their heap size closely).
    pub entries: u64,
    /// The change history.
    pub history: u64,
}

/// Applies a record read from a log to `state`: it must be the next one
/// and valid there.
fn replay(state: &mut State, seq: u64, bytes: &[u8]) -> Result<(), Error> {
    if seq != state.seq + 1 {
        return Err(ErrorKind::Gap {
            what: "log".into(),
            expected: state.seq,
            found: seq.saturating_sub(1),
        }
        .into());
    }
    let op = Op::decode(bytes)?;
    state
        .validate(&op, Rules::Replay)
        .map_err(|e| Error::corrupt("log", seq, format!("record {seq} cannot be applied: {e}")))?;
    state.apply(&op, seq);
    Ok(())
}

/// A read-only view of the state under the commit lock, through which
/// features (inbound replies, unsubscribe clicks, imports) resolve what
/// they ask for into an operation.
pub(crate) struct View<'a> {
    state: &'a State,
    store: &'a Store,
}

impl View<'_> {
    pub(crate) fn lookup(&self, address: &Address) -> Option<AddressId> {
        self.state.lookup(address)
    }

    pub(crate) fn email(&self, id: AddressId) -> Option<&Email> {
        self.state.emails.email(id)
    }

    pub(crate) fn list(&self, id: ListId) -> Option<&ListSettings> {
        self.state.slot(id).ok().map(|s| &s.settings)
    }

    /// Live lists.
    pub(crate) fn lists(&self) -> impl Iterator<Item = ListId> + '_ {
        self.state.live().map(|(id, _)| id)
    }

    /// `true` if `id` is on `list` in exactly `scope`.
    pub(crate) fn on(&self, list: ListId, scope: &Scope, id: AddressId) -> bool {
        self.state
            .slot(list)
            .ok()
            .and_then(|s| s.entries.scope(scope))
            .is_some_and(|set| set.contains(id.get()))
    }

    /// `true` if `id` is on `list` in a scope that applies to sends on
    /// `channel`.
    pub(crate) fn suppressed_on(&self, list: ListId, channel: &Channel, id: AddressId) -> bool {
        self.state.slot(list).is_ok_and(|s| {
            s.entries
                .applying_to(Some(channel))
                .any(|set| set.contains(id.get()))
        })
    }

    /// `true` if a clarification is pending for `id` in `scope` exactly.
    pub(crate) fn pending_in(&self, scope: &Scope, id: AddressId) -> bool {
        self.state
            .pending
            .scope(scope)
            .is_some_and(|s| s.contains(id.get()))
    }

    /// The scope a keyword change arriving on `channel` applies in.
    pub(crate) fn keyword_scope_of(&self, channel: &Channel) -> Scope {
        self.state.keyword_scope_of(channel)
    }

    pub(crate) fn keywords_for(&self, channel: &Channel) -> &Keywords {
        self.state.keywords_for(Some(channel))
    }

    pub(crate) fn matcher(&self, channel: &Channel) -> Arc<KeywordMatcher> {
        self.store.matcher_for(self.state, Some(channel))
    }

    /// The scope an edit applies in: web-form changes are account-wide,
    /// and so are keyword changes on a channel that enforces account-level
    /// opt-outs.
    pub(crate) fn effective_scope(&self, edit: &Edit) -> Scope {
        match (edit.source_value(), edit.scope_value()) {
            (Source::WebForm, _) => Scope::Account,
            (Source::Keyword, Scope::Channel(c)) => self.state.keyword_scope_of(c),
            (_, scope) => scope.clone(),
        }
    }

    /// The addresses an operation names, emails in the store's key form.
    pub(crate) fn who<'b>(&self, addresses: impl IntoIterator<Item = &'b Address>) -> Who {
        let aliases = self.state.policy.email_aliases;
        let mut phones = Vec::new();
        let mut emails: Vec<Email> = Vec::new();
        for a in addresses {
            match a {
                Address::Phone(p) => phones.push(p.id().get()),
                Address::Email(e) => emails.push(e.under(aliases)),
            }
        }
        if emails.len() > 1 {
            let mut seen = std::collections::HashSet::with_capacity(emails.len());
            emails.retain(|e| seen.insert(e.as_str().to_owned()));
        }
        Who {
            phones: crate::bitmap::from_unsorted(phones),
            emails,
        }
    }
}

#[cfg(test)]
mod replay_tests {
    use super::{ListSettings, Op, Store};
    use crate::keyword::Keywords;
    use crate::persist::{Log, MemoryLog};

    /// A log given to a builder that then loads a snapshot would never be
    /// written to: refused.
    #[test]
    fn loading_a_snapshot_with_a_log_is_refused() {
        let mut bytes = Vec::new();
        Store::new().save(&mut bytes).unwrap();
        let err = Store::builder()
            .log(MemoryLog::new())
            .load(bytes.as_slice())
            .unwrap_err();
        assert!(
            matches!(err.kind(), crate::error::ErrorKind::Usage(_)),
            "{err}"
        );
        assert!(Store::builder().load(bytes.as_slice()).is_ok());
    }

    /// Records that were valid when written must replay even if this
    /// version's word lists would refuse them as new changes (a later
    /// version learning a word must not stop a store opening).
    #[test]
    fn replay_does_not_check_settings_against_word_lists() {
        let list = Op::CreateList(ListSettings::new("Promo").keyword("STOP"));
        let keywords = Op::Keywords(None, Keywords::default().add_opt_in("stop please"));
        let fresh = Store::new();
        for op in [&list, &keywords] {
            assert!(
                fresh.read().validate(op, super::Rules::Commit).is_err(),
                "{op:?} must be refused as a new change"
            );
        }
        let mut log = MemoryLog::new();
        log.append(1, &list.encode().unwrap()).unwrap();
        log.append(2, &keywords.encode().unwrap()).unwrap();
        let store = Store::builder().log(log).build().unwrap();
        assert_eq!(store.seq(), 2);
        assert!(store.lists().iter().any(|l| l.settings().name() == "Promo"));
        // The clash resolves toward the opt-out: STOP still opts out of
        // everything, and "stop please" is not an opt-in.
        let sms = crate::model::Channel::new("sms").unwrap();
        let matcher = store.matcher_for(&store.read(), Some(&sms));
        assert_eq!(
            matcher.find("stop please").map(|h| h.kind),
            Some(crate::keyword::KeywordKind::OptOut(
                crate::model::ListId::SYSTEM
            ))
        );
        assert_eq!(
            matcher.find("STOP").map(|h| h.kind),
            Some(crate::keyword::KeywordKind::OptOut(
                crate::model::ListId::SYSTEM
            ))
        );
    }
}
