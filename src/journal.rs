//! Durable changes: a store kept in a directory as the latest snapshot plus
//! an append-only journal of the changes made since.
//!
//! Every change is written to the journal (length-prefixed and
//! checksummed) before it is applied, and by default synced to disk before
//! the call returns: once a change is reported as recorded, a crash or a
//! power cut cannot lose it. Opening the directory loads the snapshot and
//! replays the journal; a record torn by a crash at the end of the journal
//! is cut off and reported, while damage anywhere else is an error.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::address::{Address, Email, Phone};
use crate::clock::{Clock, SystemClock, Timestamp};
use crate::codec::{Reader, Writer};
use crate::error::Error;
use crate::history::{Change, decode_scope, encode_scope};
use crate::id::AddressId;
use crate::inbound::Inbound;
use crate::keyword::Keywords;
use crate::list::{ListId, ListSettings};
use crate::snapshot::{self, sync_dir, write_atomic};
use crate::store::{
    Bulk, ChannelId, Edit, KeywordScope, State, Store, source_code, source_from_code,
};

const MAGIC: &[u8; 8] = b"OPTOUTJL";
const VERSION: u32 = 1;
const HEADER: usize = 8 + 4 + 8;
const RECORD_HEADER: usize = 12;
const SNAPSHOT: &str = "snapshot.optout";

/// When journal writes reach the disk.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use optout::Durability;
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
    /// last sync (checked at each change), and on [`DurableStore::sync`].
    /// A process crash loses nothing (the data is in the operating system's
    /// hands); a power cut can lose the changes since the last sync.
    Batched {
        /// Changes between syncs.
        changes: u32,
        /// Longest time between syncs.
        interval: Duration,
    },
}

/// What opening a store directory found.
///
/// # Example
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let (_store, recovery) = optout::DurableStore::open(dir.path())?;
/// assert_eq!((recovery.replayed, recovery.torn_bytes), (0, 0));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Recovery {
    /// The generation of the snapshot loaded (0: none yet).
    pub generation: u64,
    /// Journal records replayed on top of it.
    pub replayed: u64,
    /// Bytes of a torn last record that were cut off.
    pub torn_bytes: u64,
}

/// A [`Store`] kept durably in a directory.
///
/// Read through [`DurableStore::store`] (filtering, checks, history); write
/// through the methods here, which journal each change before applying it.
///
/// # Example
///
/// ```
/// use optout::{DurableStore, Edit, Normalizer};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let phone = Normalizer::default().address("+14155550123")?;
/// {
///     let (store, _) = DurableStore::open(dir.path())?;
///     store.opt_out(&phone, &Edit::new())?; // on disk when this returns
/// }
/// let (store, recovery) = DurableStore::open(dir.path())?;
/// assert_eq!(recovery.replayed, 1);
/// assert_eq!(store.store().history(..).len(), 1);
/// # Ok(())
/// # }
/// ```
pub struct DurableStore {
    store: Store,
    dir: PathBuf,
    journal: Mutex<Journal>,
}

impl std::fmt::Debug for DurableStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DurableStore")
            .field("dir", &self.dir)
            .field("store", &self.store)
            .finish()
    }
}

struct Journal {
    file: File,
    generation: u64,
    durability: Durability,
    unsynced: u32,
    last_sync: Instant,
    /// Set when a failed record could not be taken back out of the file:
    /// nothing more is appended after it until the store is reopened.
    broken: Option<String>,
}

/// Options for [`DurableStore::open_with`].
///
/// # Example
///
/// ```
/// use optout::{Durability, DurableOptions, Timestamp};
///
/// let options = DurableOptions::new()
///     .durability(Durability::Batched { changes: 100, interval: std::time::Duration::from_millis(10) })
///     .clock(|| Timestamp::from_unix_secs(1));
/// ```
pub struct DurableOptions {
    durability: Durability,
    clock: Arc<dyn Clock>,
}

impl Default for DurableOptions {
    fn default() -> DurableOptions {
        DurableOptions {
            durability: Durability::EveryChange,
            clock: Arc::new(SystemClock),
        }
    }
}

impl std::fmt::Debug for DurableOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DurableOptions")
            .field("durability", &self.durability)
            .finish_non_exhaustive()
    }
}

impl DurableOptions {
    /// Sync every change, system clock.
    ///
    /// # Example
    ///
    /// ```
    /// let _ = optout::DurableOptions::new();
    /// ```
    pub fn new() -> DurableOptions {
        DurableOptions::default()
    }

    /// Sets the durability policy.
    ///
    /// # Example
    ///
    /// ```
    /// let _ = optout::DurableOptions::new().durability(optout::Durability::EveryChange);
    /// ```
    pub fn durability(mut self, durability: Durability) -> DurableOptions {
        self.durability = durability;
        self
    }

    /// Sets the clock for changes without an explicit time.
    ///
    /// # Example
    ///
    /// ```
    /// let _ = optout::DurableOptions::new().clock(optout::SystemClock);
    /// ```
    pub fn clock(mut self, clock: impl Clock + 'static) -> DurableOptions {
        self.clock = Arc::new(clock);
        self
    }
}

fn journal_path(dir: &Path, generation: u64) -> PathBuf {
    dir.join(format!("journal-{generation:016x}.log"))
}

impl DurableStore {
    /// Opens (or creates) the store in `dir`, syncing every change.
    ///
    /// # Errors
    ///
    /// [`Error::Io`]; [`Error::Corrupt`], [`Error::Foreign`] or
    /// [`Error::Version`] for a damaged snapshot or journal (a torn last
    /// journal record is not an error: it is cut off and reported).
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let (store, _) = optout::DurableStore::open(dir.path().join("optouts"))?;
    /// assert_eq!(store.store().lists().len(), 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn open(dir: impl AsRef<Path>) -> Result<(DurableStore, Recovery), Error> {
        DurableStore::open_with(dir, DurableOptions::default())
    }

    /// Opens (or creates) the store in `dir` with options.
    ///
    /// # Errors
    ///
    /// As [`DurableStore::open`].
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Durability, DurableOptions, DurableStore};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let options = DurableOptions::new()
    ///     .durability(Durability::Batched { changes: 64, interval: std::time::Duration::from_millis(20) });
    /// let (store, _) = DurableStore::open_with(dir.path(), options)?;
    /// store.sync()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn open_with(
        dir: impl AsRef<Path>,
        options: DurableOptions,
    ) -> Result<(DurableStore, Recovery), Error> {
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(&dir).map_err(Error::Io)?;
        let snapshot_path = dir.join(SNAPSHOT);
        let (state, generation) = match fs::read(&snapshot_path) {
            Ok(bytes) => snapshot::decode(&bytes)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (State::default(), 0),
            Err(e) => return Err(Error::Io(e)),
        };
        let store = Store::from_state(state, options.clock);
        let path = journal_path(&dir, generation);
        let mut recovery = Recovery {
            generation,
            ..Recovery::default()
        };
        let file = match OpenOptions::new().read(true).write(true).open(&path) {
            Ok(mut file) => {
                let mut data = Vec::new();
                file.read_to_end(&mut data).map_err(Error::Io)?;
                let (good, replayed) = replay(&store, &data, generation)?;
                recovery.replayed = replayed;
                recovery.torn_bytes = (data.len() - good) as u64;
                if good < HEADER {
                    // A journal whose header never made it: start it over.
                    file.set_len(0).map_err(Error::Io)?;
                    file.seek(SeekFrom::Start(0)).map_err(Error::Io)?;
                    file.write_all(&journal_header(generation))
                        .map_err(Error::Io)?;
                } else if recovery.torn_bytes > 0 {
                    file.set_len(good as u64).map_err(Error::Io)?;
                }
                file.sync_all().map_err(Error::Io)?;
                file.seek(SeekFrom::End(0)).map_err(Error::Io)?;
                file
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => new_journal(&dir, generation)?,
            Err(e) => return Err(Error::Io(e)),
        };
        remove_stale_journals(&dir, generation);
        let journal = Journal {
            file,
            generation,
            durability: options.durability,
            unsynced: 0,
            last_sync: Instant::now(),
            broken: None,
        };
        Ok((
            DurableStore {
                store,
                dir,
                journal: Mutex::new(journal),
            },
            recovery,
        ))
    }

    /// The store, for reading: compile sends, check addresses, query
    /// history. Changes made through it directly are not journaled.
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let (durable, _) = optout::DurableStore::open(dir.path())?;
    /// let send = optout::Dispatch::new(optout::Category::Marketing);
    /// let _suppression = durable.store().compile(&send)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Writes a new snapshot and starts a new, empty journal. A crash at any
    /// point leaves a directory that opens to the same state.
    ///
    /// # Errors
    ///
    /// [`Error::Io`]; the store stays usable and the old snapshot and
    /// journal stay in place.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{DurableStore, Edit, Normalizer};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let (store, _) = DurableStore::open(dir.path())?;
    /// store.opt_out(&Normalizer::default().address("+14155550123")?, &Edit::new())?;
    /// store.checkpoint()?;
    /// drop(store);
    /// let (store, recovery) = DurableStore::open(dir.path())?;
    /// assert_eq!((recovery.generation, recovery.replayed), (1, 0));
    /// assert_eq!(store.store().history(..).len(), 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn checkpoint(&self) -> Result<(), Error> {
        let mut journal = self.lock();
        let next = journal.generation + 1;
        let bytes = snapshot::encode(&self.store.read(), next)?;
        // The new journal exists before the snapshot that points to it.
        let file = new_journal(&self.dir, next)?;
        write_atomic(&self.dir.join(SNAPSHOT), &bytes)?;
        let old = journal_path(&self.dir, journal.generation);
        journal.file = file;
        journal.generation = next;
        journal.unsynced = 0;
        journal.broken = None;
        let _ = fs::remove_file(old);
        Ok(())
    }

    /// Syncs journal writes not yet synced (with [`Durability::Batched`]).
    ///
    /// # Errors
    ///
    /// [`Error::Io`].
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// optout::DurableStore::open(dir.path())?.0.sync()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn sync(&self) -> Result<(), Error> {
        let mut journal = self.lock();
        journal.file.sync_data().map_err(Error::Io)?;
        journal.unsynced = 0;
        journal.last_sync = Instant::now();
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Journal> {
        self.journal.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Journals `op`, then applies it, both under the journal lock so that
    /// the journal order is the order of application.
    fn write<T>(
        &self,
        op: &Op,
        apply: impl FnOnce(&Store) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut journal = self.lock();
        let mut w = Writer::default();
        op.encode(&mut w)?;
        let payload = w.buf;
        let len = u32::try_from(payload.len()).map_err(|_| {
            Error::Io(std::io::Error::other(
                "change too large for one journal record",
            ))
        })?;
        let mut record = Vec::with_capacity(RECORD_HEADER + payload.len());
        record.extend_from_slice(&len.to_le_bytes());
        record.extend_from_slice(&(!len).to_le_bytes());
        record.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        record.extend_from_slice(&payload);
        if let Some(why) = &journal.broken {
            return Err(Error::Io(std::io::Error::other(format!(
                "the journal cannot be written until the store is reopened: {why}"
            ))));
        }
        let start = journal.file.stream_position().map_err(Error::Io)?;
        let due = match journal.durability {
            Durability::EveryChange => true,
            Durability::Batched { changes, interval } => {
                journal.unsynced + 1 >= changes || journal.last_sync.elapsed() >= interval
            }
        };
        let written = journal.file.write_all(&record).and_then(|()| {
            if due {
                journal.file.sync_data()
            } else {
                Ok(())
            }
        });
        if let Err(err) = written {
            // A change reported as failed must not come back on replay, and
            // later records must not follow a partial one: take it out.
            let file = &mut journal.file;
            let undone = file
                .set_len(start)
                .and_then(|()| file.seek(SeekFrom::Start(start)).map(drop));
            if let Err(undo) = undone {
                journal.broken = Some(format!("{err}; then {undo}"));
            }
            return Err(Error::Io(err));
        }
        if due {
            journal.unsynced = 0;
            journal.last_sync = Instant::now();
        } else {
            journal.unsynced += 1;
        }
        apply(&self.store)
    }

    fn timed(&self, edit: &Edit) -> Edit {
        edit.clone().at(self.store.time(edit))
    }

    /// [`Store::opt_out`], journaled.
    ///
    /// # Errors
    ///
    /// As [`Store::opt_out`], plus [`Error::Io`].
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let (store, _) = optout::DurableStore::open(dir.path())?;
    /// let a = optout::Normalizer::default().address("+14155550123")?;
    /// assert_eq!(store.opt_out(&a, &optout::Edit::new())?.len(), 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn opt_out(&self, address: &Address, edit: &Edit) -> Result<Vec<Change>, Error> {
        let edit = self.timed(edit);
        self.write(&Op::OptOut(vec![address.clone()], edit.clone()), |s| {
            s.opt_out(address, &edit)
        })
    }

    /// [`Store::opt_in`], journaled.
    ///
    /// # Errors
    ///
    /// As [`Store::opt_in`], plus [`Error::Io`].
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let (store, _) = optout::DurableStore::open(dir.path())?;
    /// let a = optout::Normalizer::default().address("+14155550123")?;
    /// assert!(store.opt_in(&a, &optout::Edit::new())?.is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn opt_in(&self, address: &Address, edit: &Edit) -> Result<Vec<Change>, Error> {
        let edit = self.timed(edit);
        self.write(&Op::OptIn(vec![address.clone()], edit.clone()), |s| {
            s.opt_in(address, &edit)
        })
    }

    /// [`Store::opt_out_many`], journaled as one record.
    ///
    /// # Errors
    ///
    /// As [`Store::opt_out_many`], plus [`Error::Io`].
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let (store, _) = optout::DurableStore::open(dir.path())?;
    /// let a = optout::Normalizer::default().address("+14155550123")?;
    /// assert_eq!(store.opt_out_many(&[a], &optout::Edit::new())?.changed, 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn opt_out_many(&self, addresses: &[Address], edit: &Edit) -> Result<Bulk, Error> {
        let edit = self.timed(edit);
        self.write(&Op::OptOut(addresses.to_vec(), edit.clone()), |s| {
            s.opt_out_many(addresses, &edit)
        })
    }

    /// [`Store::opt_in_many`], journaled as one record.
    ///
    /// # Errors
    ///
    /// As [`Store::opt_in_many`], plus [`Error::Io`].
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let (store, _) = optout::DurableStore::open(dir.path())?;
    /// assert_eq!(store.opt_in_many(&[], &optout::Edit::new())?.changed, 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn opt_in_many(&self, addresses: &[Address], edit: &Edit) -> Result<Bulk, Error> {
        let edit = self.timed(edit);
        self.write(&Op::OptIn(addresses.to_vec(), edit.clone()), |s| {
            s.opt_in_many(addresses, &edit)
        })
    }

    /// [`Store::opt_out_ids`], journaled as one record.
    ///
    /// # Errors
    ///
    /// As [`Store::opt_out_ids`], plus [`Error::Io`].
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let (store, _) = optout::DurableStore::open(dir.path())?;
    /// let ids: Vec<_> = (0..10).filter_map(|i| optout::AddressId::new(14155550000 + i)).collect();
    /// assert_eq!(store.opt_out_ids(&ids, &optout::Edit::new())?.changed, 10);
    /// # Ok(())
    /// # }
    /// ```
    pub fn opt_out_ids(&self, ids: &[AddressId], edit: &Edit) -> Result<Bulk, Error> {
        let edit = self.timed(edit);
        self.write(&Op::OptOutIds(ids.to_vec(), edit.clone()), |s| {
            s.opt_out_ids(ids, &edit)
        })
    }

    /// [`Store::block`], journaled.
    ///
    /// # Errors
    ///
    /// As [`Store::block`], plus [`Error::Io`].
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let (store, _) = optout::DurableStore::open(dir.path())?;
    /// let a = optout::Normalizer::default().address("+14155550123")?;
    /// assert!(store.block(&a, &optout::Edit::new())?.is_some());
    /// # Ok(())
    /// # }
    /// ```
    pub fn block(&self, address: &Address, edit: &Edit) -> Result<Option<Change>, Error> {
        let edit = self.timed(edit);
        self.write(&Op::Block(address.clone(), edit.clone()), |s| {
            s.block(address, &edit)
        })
    }

    /// [`Store::unblock`], journaled.
    ///
    /// # Errors
    ///
    /// As [`Store::unblock`], plus [`Error::Io`].
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let (store, _) = optout::DurableStore::open(dir.path())?;
    /// let a = optout::Normalizer::default().address("+14155550123")?;
    /// assert!(store.unblock(&a, &optout::Edit::new())?.is_none());
    /// # Ok(())
    /// # }
    /// ```
    pub fn unblock(&self, address: &Address, edit: &Edit) -> Result<Option<Change>, Error> {
        let edit = self.timed(edit);
        self.write(&Op::Unblock(address.clone(), edit.clone()), |s| {
            s.unblock(address, &edit)
        })
    }

    /// [`Store::create_list`], journaled.
    ///
    /// # Errors
    ///
    /// As [`Store::create_list`], plus [`Error::Io`].
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let (store, _) = optout::DurableStore::open(dir.path())?;
    /// store.create_list(optout::ListSettings::new("VIP"))?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn create_list(&self, settings: ListSettings) -> Result<ListId, Error> {
        // Validate first so that refused settings are never journaled.
        settings.validate()?;
        self.write(&Op::CreateList(settings.clone()), |s| {
            s.create_list(settings)
        })
    }

    /// [`Store::update_list`], journaled.
    ///
    /// # Errors
    ///
    /// As [`Store::update_list`], plus [`Error::Io`].
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let (store, _) = optout::DurableStore::open(dir.path())?;
    /// let id = store.create_list(optout::ListSettings::new("VIP"))?;
    /// store.update_list(id, optout::ListSettings::new("VIP").description("Best customers"))?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn update_list(&self, id: ListId, settings: ListSettings) -> Result<(), Error> {
        settings.validate()?;
        self.write(&Op::UpdateList(id, settings.clone()), |s| {
            s.update_list(id, settings)
        })
    }

    /// [`Store::delete_list`], journaled.
    ///
    /// # Errors
    ///
    /// As [`Store::delete_list`], plus [`Error::Io`].
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let (store, _) = optout::DurableStore::open(dir.path())?;
    /// let id = store.create_list(optout::ListSettings::new("VIP"))?;
    /// store.delete_list(id)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn delete_list(&self, id: ListId) -> Result<(), Error> {
        self.write(&Op::DeleteList(id), |s| s.delete_list(id))
    }

    /// [`Store::set_keyword_scope`], journaled.
    ///
    /// # Errors
    ///
    /// [`Error::Io`].
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let (store, _) = optout::DurableStore::open(dir.path())?;
    /// store.set_keyword_scope(optout::ChannelId::new(1), optout::KeywordScope::Account)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_keyword_scope(&self, channel: ChannelId, scope: KeywordScope) -> Result<(), Error> {
        self.write(&Op::KeywordScope(channel, scope), |s| {
            s.set_keyword_scope(channel, scope);
            Ok(())
        })
    }

    /// [`Store::set_keywords`], journaled.
    ///
    /// # Errors
    ///
    /// As [`Store::set_keywords`], plus [`Error::Io`].
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let (store, _) = optout::DurableStore::open(dir.path())?;
    /// store.set_keywords(optout::Keywords::default())?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_keywords(&self, keywords: Keywords) -> Result<(), Error> {
        keywords.validate()?;
        self.write(&Op::Keywords(None, keywords.clone()), |s| {
            s.set_keywords(keywords)
        })
    }

    /// [`Store::set_channel_keywords`], journaled.
    ///
    /// # Errors
    ///
    /// As [`Store::set_channel_keywords`], plus [`Error::Io`].
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let (store, _) = optout::DurableStore::open(dir.path())?;
    /// store.set_channel_keywords(optout::ChannelId::new(3), optout::Keywords::default())?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_channel_keywords(
        &self,
        channel: ChannelId,
        keywords: Keywords,
    ) -> Result<(), Error> {
        keywords.validate()?;
        self.write(&Op::Keywords(Some(channel), keywords.clone()), |s| {
            s.set_channel_keywords(channel, keywords)
        })
    }

    /// [`Store::import`], with every applied batch journaled.
    ///
    /// # Errors
    ///
    /// As [`Store::import`], plus [`Error::Io`].
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let (store, _) = optout::DurableStore::open(dir.path())?;
    /// let n = optout::Normalizer::default();
    /// let report = store.import("phone\n+14155550123\n".as_bytes(), &n, &optout::Import::new())?;
    /// assert_eq!(report.applied, 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn import(
        &self,
        reader: impl std::io::Read,
        normalizer: &crate::address::Normalizer,
        import: &crate::exchange::Import,
    ) -> Result<crate::exchange::ImportReport, Error> {
        self.store
            .import_with(reader, normalizer, import, &mut |addresses, edit| {
                self.opt_out_many(addresses, edit)
            })
    }

    /// [`Store::unsubscribe_token`], with a newly seen email's id
    /// journaled so that the token stays valid after a restart.
    ///
    /// # Errors
    ///
    /// As [`Store::unsubscribe_token`], plus [`Error::Io`].
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let (store, _) = optout::DurableStore::open(dir.path())?;
    /// let a = optout::Normalizer::default().address("ann@example.com")?;
    /// let token = store.unsubscribe_token(&a, optout::ListId::SYSTEM)?;
    /// drop(store);
    /// let (store, _) = optout::DurableStore::open(dir.path())?;
    /// assert_eq!(store.store().unsubscribe_token(&a, optout::ListId::SYSTEM)?, token);
    /// # Ok(())
    /// # }
    /// ```
    pub fn unsubscribe_token(
        &self,
        address: &Address,
        list: ListId,
    ) -> Result<crate::unsubscribe::UnsubscribeToken, Error> {
        let known = match address {
            Address::Phone(_) => true,
            Address::Email(e) => self.store.read().emails.id(e).is_some(),
        };
        if known {
            return self.store.unsubscribe_token(address, list);
        }
        self.write(&Op::Intern(address.clone()), |s| {
            s.unsubscribe_token(address, list)
        })
    }

    /// [`Store::unsubscribe_at`], with the opt-out journaled.
    ///
    /// # Errors
    ///
    /// As [`Store::unsubscribe_at`].
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Click, DurableStore, ListId, Normalizer, Timestamp, UnsubscribeKeys, Unsubscribed};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let (store, _) = DurableStore::open(dir.path())?;
    /// let keys = UnsubscribeKeys::new(1, &[42; 32])?;
    /// let phone = Normalizer::default().address("+14155550123")?;
    /// let token = keys.sign(&store.unsubscribe_token(&phone, ListId::SYSTEM)?);
    /// let done = store.unsubscribe_at(&keys, &token, Click::Confirm, Timestamp::from_unix_secs(1))?;
    /// assert!(matches!(done, Unsubscribed::Recorded { .. }));
    /// # Ok(())
    /// # }
    /// ```
    pub fn unsubscribe_at(
        &self,
        keys: &crate::unsubscribe::UnsubscribeKeys,
        token: &str,
        click: crate::unsubscribe::Click<'_>,
        now: Timestamp,
    ) -> Result<crate::unsubscribe::Unsubscribed, crate::unsubscribe::UnsubscribeError> {
        self.store
            .unsubscribe_with(keys, token, click, now, &|a, e| self.opt_out(a, e))
    }

    /// [`Store::web_form_opt_out`], journaled.
    ///
    /// # Errors
    ///
    /// As [`Store::web_form_opt_out`], plus [`Error::Io`].
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let (store, _) = optout::DurableStore::open(dir.path())?;
    /// let n = optout::Normalizer::default();
    /// assert!(store.web_form_opt_out(&n, "ann@example.com", optout::ListId::SYSTEM)?.is_ok());
    /// # Ok(())
    /// # }
    /// ```
    pub fn web_form_opt_out(
        &self,
        normalizer: &crate::address::Normalizer,
        input: &str,
        list: ListId,
    ) -> Result<Result<crate::unsubscribe::Unsubscribed, crate::address::Invalid>, Error> {
        self.store
            .web_form_with(normalizer, input, list, &|a, e| self.opt_out(a, e))
    }

    /// [`Store::inbound`], journaled.
    ///
    /// # Errors
    ///
    /// As [`Store::inbound`], plus [`Error::Io`].
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let (store, _) = optout::DurableStore::open(dir.path())?;
    /// let from = optout::Normalizer::default().address("+14155550123")?;
    /// let out = store.inbound(&from, optout::ChannelId::new(1), "STOP")?;
    /// assert_eq!(out.action, optout::InboundAction::OptOut);
    /// # Ok(())
    /// # }
    /// ```
    pub fn inbound(
        &self,
        from: &Address,
        channel: ChannelId,
        text: &str,
    ) -> Result<Inbound, Error> {
        let at = self.store.time(&Edit::new());
        // Messages that are not keywords change nothing: no journal record.
        if self.store.keyword_matcher(channel).find(text).is_none() {
            return self.store.inbound_at(from, channel, text, at);
        }
        self.write(
            &Op::Inbound(from.clone(), channel, text.to_owned(), at),
            |s| s.inbound_at(from, channel, text, at),
        )
    }
}

fn journal_header(generation: u64) -> Vec<u8> {
    let mut w = Writer::default();
    w.buf.extend_from_slice(MAGIC);
    w.u32(VERSION);
    w.u64(generation);
    w.buf
}

fn new_journal(dir: &Path, generation: u64) -> Result<File, Error> {
    let path = journal_path(dir, generation);
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .read(true)
        .open(&path)
        .map_err(Error::Io)?;
    file.write_all(&journal_header(generation))
        .map_err(Error::Io)?;
    file.sync_all().map_err(Error::Io)?;
    sync_dir(dir).map_err(Error::Io)?;
    Ok(file)
}

/// Removes journals of other generations left by an interrupted
/// checkpoint (their changes are in the snapshot).
fn remove_stale_journals(dir: &Path, generation: u64) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let stale = name
            .strip_prefix("journal-")
            .and_then(|n| n.strip_suffix(".log"))
            .and_then(|n| u64::from_str_radix(n, 16).ok())
            .is_some_and(|g| g != generation);
        if stale {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Replays a journal onto `store`. Returns the length of the good prefix
/// and the number of records replayed.
fn replay(store: &Store, data: &[u8], generation: u64) -> Result<(usize, u64), Error> {
    const WHAT: &str = "journal";
    if data.len() < HEADER {
        // Torn while writing the header (or empty): nothing to replay.
        return if data.iter().all(|&b| b == 0)
            || MAGIC.starts_with(data.get(..data.len().min(8)).unwrap_or(&[]))
        {
            Ok((0, 0))
        } else {
            Err(Error::Foreign { what: WHAT })
        };
    }
    let mut header = Reader::new(data.get(..HEADER).unwrap_or(&[]), WHAT);
    if header.bytes(8)? != MAGIC.as_slice() {
        return Err(Error::Foreign { what: WHAT });
    }
    let version = header.u32()?;
    if version != VERSION {
        return Err(Error::Version {
            what: WHAT,
            found: version,
            supported: VERSION,
        });
    }
    let found = header.u64()?;
    if found != generation {
        return Err(Error::Corrupt {
            what: WHAT,
            offset: 12,
            detail: format!(
                "journal generation {found} does not follow snapshot generation {generation}"
            ),
        });
    }
    let mut pos = HEADER;
    let mut replayed = 0;
    let corrupt = |offset: usize, detail: &str| Error::Corrupt {
        what: WHAT,
        offset: offset as u64,
        detail: detail.into(),
    };
    while pos < data.len() {
        let rest = data.get(pos..).unwrap_or(&[]);
        // Zeros to the end: space the file system allocated for a write
        // that never landed.
        if rest.len() < RECORD_HEADER || rest.iter().all(|&b| b == 0) {
            return Ok((pos, replayed));
        }
        let word = |i: usize| {
            let mut b = [0u8; 4];
            b.copy_from_slice(rest.get(i..i + 4).unwrap_or(&[0; 4]));
            u32::from_le_bytes(b)
        };
        let (len, check, crc) = (word(0), word(4), word(8));
        if len != !check {
            return Err(corrupt(pos, "record length damaged"));
        }
        let end = RECORD_HEADER + len as usize;
        let Some(payload) = rest.get(RECORD_HEADER..end) else {
            return Ok((pos, replayed)); // torn: the record runs past the end
        };
        if crc32fast::hash(payload) != crc {
            if end == rest.len() {
                return Ok((pos, replayed)); // torn last record
            }
            return Err(corrupt(pos, "record checksum mismatch"));
        }
        let op = Op::decode(&mut Reader::new(payload, WHAT)).map_err(|e| match e {
            Error::Corrupt { detail, offset, .. } => {
                corrupt(pos + RECORD_HEADER + offset as usize, &detail)
            }
            other => other,
        })?;
        // A change that failed when it was made fails again, changing nothing.
        let _ = op.apply(store);
        replayed += 1;
        pos += end;
    }
    Ok((pos, replayed))
}

/// One journaled change.
enum Op {
    OptOut(Vec<Address>, Edit),
    OptIn(Vec<Address>, Edit),
    OptOutIds(Vec<AddressId>, Edit),
    Block(Address, Edit),
    Unblock(Address, Edit),
    CreateList(ListSettings),
    UpdateList(ListId, ListSettings),
    DeleteList(ListId),
    KeywordScope(ChannelId, KeywordScope),
    Keywords(Option<ChannelId>, Keywords),
    Inbound(Address, ChannelId, String, Timestamp),
    /// An email address given an id (for an unsubscribe token).
    Intern(Address),
}

fn encode_address(w: &mut Writer, a: &Address) {
    match a {
        Address::Phone(p) => {
            w.u8(0);
            w.u64(p.digits());
            w.opt_str(p.extension());
        }
        Address::Email(e) => {
            w.u8(1);
            w.str(e.as_str());
        }
    }
}

fn decode_address(r: &mut Reader<'_>) -> Result<Address, Error> {
    match r.u8()? {
        0 => {
            let digits = r.u64()?;
            let extension = r.opt_str()?.map(Into::into);
            Phone::new(digits, extension)
                .map(Address::Phone)
                .ok_or_else(|| r.corrupt("phone id out of range"))
        }
        1 => {
            let text = r.str()?;
            if text.is_empty() || text.len() > 320 || !text.contains('@') {
                return Err(r.corrupt("not an email address"));
            }
            Ok(Address::Email(Email::from_canonical(text)))
        }
        other => Err(r.corrupt(format!("unknown address tag {other}"))),
    }
}

fn encode_edit(w: &mut Writer, e: &Edit) {
    w.len(e.lists().len());
    for l in e.lists() {
        w.u32(l.get());
    }
    encode_scope(w, e.scope_value());
    w.u8(source_code(e.source_value()));
    w.i64(e.time().map_or(0, Timestamp::unix_millis));
}

fn decode_edit(r: &mut Reader<'_>) -> Result<Edit, Error> {
    let n = r.len(4)?;
    let mut lists = Vec::with_capacity(n);
    for _ in 0..n {
        lists.push(ListId(r.u32()?));
    }
    let scope = decode_scope(r)?;
    let source = source_from_code(r.u8()?).ok_or_else(|| r.corrupt("unknown source"))?;
    let at = Timestamp::from_unix_millis(r.i64()?);
    Ok(Edit::new()
        .lists_of(lists)
        .scope(scope)
        .source(source)
        .at(at))
}

impl Op {
    fn encode(&self, w: &mut Writer) -> Result<(), Error> {
        match self {
            Op::OptOut(addresses, edit) | Op::OptIn(addresses, edit) => {
                w.u8(if matches!(self, Op::OptOut(..)) { 0 } else { 1 });
                w.len(addresses.len());
                for a in addresses {
                    encode_address(w, a);
                }
                encode_edit(w, edit);
            }
            Op::OptOutIds(ids, edit) => {
                w.u8(2);
                w.treemap(&crate::bitmap::from_unsorted(ids.iter().map(|id| id.get())))?;
                w.u64(ids.len() as u64);
                encode_edit(w, edit);
            }
            Op::Block(a, edit) | Op::Unblock(a, edit) => {
                w.u8(if matches!(self, Op::Block(..)) { 3 } else { 4 });
                encode_address(w, a);
                encode_edit(w, edit);
            }
            Op::CreateList(settings) => {
                w.u8(5);
                settings.encode(w);
            }
            Op::UpdateList(id, settings) => {
                w.u8(6);
                w.u32(id.get());
                settings.encode(w);
            }
            Op::DeleteList(id) => {
                w.u8(7);
                w.u32(id.get());
            }
            Op::KeywordScope(channel, scope) => {
                w.u8(8);
                w.u64(channel.get());
                w.bool(*scope == KeywordScope::Account);
            }
            Op::Keywords(channel, keywords) => {
                w.u8(9);
                match channel {
                    None => w.u8(0),
                    Some(c) => {
                        w.u8(1);
                        w.u64(c.get());
                    }
                }
                keywords.encode(w);
            }
            Op::Intern(address) => {
                w.u8(11);
                encode_address(w, address);
            }
            Op::Inbound(from, channel, text, at) => {
                w.u8(10);
                encode_address(w, from);
                w.u64(channel.get());
                w.str(text);
                w.i64(at.unix_millis());
            }
        }
        Ok(())
    }

    fn decode(r: &mut Reader<'_>) -> Result<Op, Error> {
        let op = match r.u8()? {
            tag @ (0 | 1) => {
                let n = r.len(9)?;
                let mut addresses = Vec::with_capacity(n);
                for _ in 0..n {
                    addresses.push(decode_address(r)?);
                }
                let edit = decode_edit(r)?;
                if tag == 0 {
                    Op::OptOut(addresses, edit)
                } else {
                    Op::OptIn(addresses, edit)
                }
            }
            2 => {
                let set = r.treemap()?;
                let _requested = r.u64()?;
                let ids = set
                    .iter()
                    .map(|v| AddressId::new(v).ok_or_else(|| r.corrupt("id out of range")))
                    .collect::<Result<_, _>>()?;
                Op::OptOutIds(ids, decode_edit(r)?)
            }
            tag @ (3 | 4) => {
                let a = decode_address(r)?;
                let edit = decode_edit(r)?;
                if tag == 3 {
                    Op::Block(a, edit)
                } else {
                    Op::Unblock(a, edit)
                }
            }
            5 => Op::CreateList(ListSettings::decode(r)?),
            6 => Op::UpdateList(ListId(r.u32()?), ListSettings::decode(r)?),
            7 => Op::DeleteList(ListId(r.u32()?)),
            8 => {
                let channel = ChannelId::new(r.u64()?);
                let scope = if r.bool()? {
                    KeywordScope::Account
                } else {
                    KeywordScope::Channel
                };
                Op::KeywordScope(channel, scope)
            }
            9 => {
                let channel = match r.u8()? {
                    0 => None,
                    1 => Some(ChannelId::new(r.u64()?)),
                    other => return Err(r.corrupt(format!("{other} is not an option tag"))),
                };
                Op::Keywords(channel, Keywords::decode(r)?)
            }
            10 => {
                let from = decode_address(r)?;
                let channel = ChannelId::new(r.u64()?);
                let text = r.str()?.to_owned();
                let at = Timestamp::from_unix_millis(r.i64()?);
                Op::Inbound(from, channel, text, at)
            }
            11 => Op::Intern(decode_address(r)?),
            other => return Err(r.corrupt(format!("unknown change kind {other}"))),
        };
        if !r.is_empty() {
            return Err(r.corrupt("bytes left over in record"));
        }
        Ok(op)
    }

    fn apply(&self, store: &Store) -> Result<(), Error> {
        match self {
            Op::OptOut(addresses, edit) => store.opt_out_many(addresses, edit).map(drop),
            Op::OptIn(addresses, edit) => store.opt_in_many(addresses, edit).map(drop),
            Op::OptOutIds(ids, edit) => store.opt_out_ids(ids, edit).map(drop),
            Op::Block(a, edit) => store.block(a, edit).map(drop),
            Op::Unblock(a, edit) => store.unblock(a, edit).map(drop),
            Op::CreateList(settings) => store.create_list(settings.clone()).map(drop),
            Op::UpdateList(id, settings) => store.update_list(*id, settings.clone()),
            Op::DeleteList(id) => store.delete_list(*id),
            Op::KeywordScope(channel, scope) => {
                store.set_keyword_scope(*channel, *scope);
                Ok(())
            }
            Op::Keywords(None, keywords) => store.set_keywords(keywords.clone()),
            Op::Keywords(Some(channel), keywords) => {
                store.set_channel_keywords(*channel, keywords.clone())
            }
            Op::Inbound(from, channel, text, at) => {
                store.inbound_at(from, *channel, text, *at).map(drop)
            }
            Op::Intern(address) => store.unsubscribe_token(address, ListId::SYSTEM).map(drop),
        }
    }
}

#[cfg(fuzzing)]
pub(crate) mod fuzzing {
    use super::{Error, Store, replay};

    /// Replays journal bytes (generation 0) onto a fresh store; returns the
    /// store, the good prefix length and the records replayed.
    pub fn replay_journal(data: &[u8]) -> Result<(Store, usize, u64), Error> {
        let store = Store::new();
        let (good, n) = replay(&store, data, 0)?;
        Ok((store, good, n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ListId, Normalizer, Scope};

    #[test]
    fn a_failed_write_is_taken_back_or_stops_the_journal() {
        let dir = tempfile::tempdir().unwrap();
        let n = Normalizer::default();
        let (a, b, c) = (
            n.address("+14155550001").unwrap(),
            n.address("+14155550002").unwrap(),
            n.address("+14155550003").unwrap(),
        );
        let on = |store: &Store, x: &Address| store.contains(ListId::SYSTEM, Scope::Account, x);
        {
            let (store, _) = DurableStore::open(dir.path()).unwrap();
            store.opt_out(&a, &Edit::new()).unwrap();
            // A handle that cannot be written (or truncated) stands in for
            // a failing disk.
            let path = journal_path(dir.path(), 0);
            store.lock().file = File::open(&path).unwrap();
            assert!(matches!(store.opt_out(&b, &Edit::new()), Err(Error::Io(_))));
            assert!(!on(store.store(), &b), "a failed change is not applied");
            assert!(store.lock().broken.is_some());
            let refused = store.opt_out(&c, &Edit::new()).unwrap_err();
            assert!(refused.to_string().contains("reopened"), "{refused}");
            assert!(!on(store.store(), &c));
        }
        let (store, recovery) = DurableStore::open(dir.path()).unwrap();
        assert_eq!(recovery.replayed, 1);
        assert!(on(store.store(), &a));
        assert!(!on(store.store(), &b) && !on(store.store(), &c));

        // A checkpoint starts a new journal, which heals a broken one.
        store.lock().file = File::open(journal_path(dir.path(), 0)).unwrap();
        assert!(store.opt_out(&b, &Edit::new()).is_err());
        store.checkpoint().unwrap();
        store.opt_out(&c, &Edit::new()).unwrap();
        drop(store);
        let (store, _) = DurableStore::open(dir.path()).unwrap();
        assert!(on(store.store(), &a) && on(store.store(), &c));
        assert!(!on(store.store(), &b));
    }

    #[test]
    fn an_unsubscribe_that_cannot_be_recorded_says_so() {
        use crate::unsubscribe::{Click, UnsubscribeError, UnsubscribeKeys};
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = DurableStore::open(dir.path()).unwrap();
        let keys = UnsubscribeKeys::new(1, &[7; 32]).unwrap();
        let ann = Normalizer::default().address("ann@example.com").unwrap();
        let token = keys.sign(&store.unsubscribe_token(&ann, ListId::SYSTEM).unwrap());
        store.lock().file = File::open(journal_path(dir.path(), 0)).unwrap();
        let err = store
            .unsubscribe_at(&keys, &token, Click::Confirm, Timestamp::EPOCH)
            .unwrap_err();
        assert!(
            matches!(err, UnsubscribeError::NotRecorded(Error::Io(_))),
            "{err}"
        );
        assert_eq!(
            err.rejected(),
            None,
            "a good link is not reported as a bad one"
        );
        assert!(!store.store().contains(ListId::SYSTEM, Scope::Account, &ann));
    }
}
