//! Snapshots: the whole store in one versioned, checksummed file. The
//! format is documented in `docs/FORMAT.md`.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;

use indexmap::IndexSet;
use roaring::RoaringTreemap;

use crate::address::Email;
use crate::clock::{Clock, SystemClock};
use crate::codec::{Reader, Writer};
use crate::error::Error;
use crate::history::History;
use crate::id::EmailTable;
use crate::keyword::Keywords;
use crate::list::{ListSettings, SYSTEM_LIST_NAME};
use crate::store::{ChannelId, Entries, KeywordScope, ListSlot, State, Store};

pub(crate) const MAGIC: &[u8; 8] = b"OPTOUTSN";
pub(crate) const VERSION: u32 = 1;

/// Section tags, in the order they appear.
const SECTIONS: [(u32, &str); 6] = [
    (1, "meta"),
    (2, "emails"),
    (3, "lists"),
    (4, "blocked"),
    (5, "keywords"),
    (6, "history"),
];

/// Phone ids are below 10^19, whose high 32-bit word is this.
const PHONE_LIMIT: u64 = 10_000_000_000_000_000_000;

/// Encodes a state; `generation` links it to its journal.
pub(crate) fn encode(state: &State, generation: u64) -> Result<Vec<u8>, Error> {
    let mut out = Writer::default();
    out.buf.extend_from_slice(MAGIC);
    out.u32(VERSION);
    for (tag, _) in SECTIONS {
        let mut w = Writer::default();
        match tag {
            1 => w.u64(generation),
            2 => {
                w.len(state.emails.len());
                for (_, email) in state.emails.iter() {
                    w.str(email.as_str());
                }
            }
            3 => {
                w.len(state.lists.len());
                for slot in &state.lists {
                    w.bool(slot.deleted);
                    slot.settings.encode(&mut w);
                    w.treemap(&slot.entries.account)?;
                    w.len(slot.entries.channels.len());
                    for (channel, ids) in &slot.entries.channels {
                        w.u64(channel.get());
                        w.treemap(ids)?;
                    }
                }
            }
            4 => w.treemap(&state.blocked)?,
            5 => {
                state.keywords.encode(&mut w);
                w.len(state.channel_keywords.len());
                for (channel, keywords) in &state.channel_keywords {
                    w.u64(channel.get());
                    keywords.encode(&mut w);
                }
                w.len(state.keyword_scopes.len());
                for channel in state.keyword_scopes.keys() {
                    w.u64(channel.get());
                }
            }
            _ => state.history.encode(&mut w)?,
        }
        out.u32(tag);
        out.len(w.buf.len());
        out.buf.extend_from_slice(&w.buf);
    }
    let crc = crc32fast::hash(&out.buf);
    out.u32(crc);
    Ok(out.buf)
}

/// Decodes and validates a snapshot; returns the state and its generation.
pub(crate) fn decode(data: &[u8]) -> Result<(State, u64), Error> {
    const WHAT: &str = "snapshot";
    if data.len() < MAGIC.len() || data.get(..MAGIC.len()) != Some(MAGIC.as_slice()) {
        return Err(Error::Foreign { what: WHAT });
    }
    let body_len = data
        .len()
        .checked_sub(4)
        .ok_or(Error::Foreign { what: WHAT })?;
    let (body, trailer) = data.split_at(body_len);
    let mut r = Reader::new(body, WHAT);
    r.bytes(MAGIC.len())?;
    let version = r.u32()?;
    if version != VERSION {
        return Err(Error::Version {
            what: WHAT,
            found: version,
            supported: VERSION,
        });
    }
    let mut crc = [0u8; 4];
    crc.copy_from_slice(trailer);
    if crc32fast::hash(body) != u32::from_le_bytes(crc) {
        return Err(Error::Corrupt {
            what: WHAT,
            offset: body_len as u64,
            detail: "checksum mismatch".into(),
        });
    }

    let mut sections: Vec<&[u8]> = Vec::with_capacity(SECTIONS.len());
    for (tag, name) in SECTIONS {
        let found = r.u32()?;
        if found != tag {
            return Err(r.corrupt(format!("expected the {name} section, found tag {found}")));
        }
        let n = r.len(1)?;
        sections.push(r.bytes(n)?);
    }
    if !r.is_empty() {
        return Err(r.corrupt("bytes after the last section"));
    }
    let section = |i: usize| Reader::new(sections.get(i).copied().unwrap_or(&[]), WHAT);

    let mut meta = section(0);
    let generation = meta.u64()?;
    end(&meta)?;

    // The email table and everything else are decoded in parallel: the
    // other sections need only the number of emails, read up front.
    let email_count = section(1).u64()?;
    let (emails, rest) = rayon::join(
        || -> Result<EmailTable, Error> {
            let mut r = section(1);
            let n = r.len(9)?;
            // Two passes (read, then index) run markedly faster than
            // interleaving allocation and hashing.
            let mut list = Vec::with_capacity(n);
            for _ in 0..n {
                let text = r.str()?;
                if text.is_empty() || text.len() > 320 || !text.contains('@') {
                    return Err(r.corrupt(format!("{text:?} is not a canonical email address")));
                }
                list.push(Email::from_canonical(text));
            }
            end(&r)?;
            let mut emails =
                IndexSet::with_capacity_and_hasher(n, foldhash::fast::RandomState::default());
            emails.extend(list);
            if emails.len() != n {
                return Err(r.corrupt("an email address appears twice"));
            }
            Ok(EmailTable::from_set(emails))
        },
        || decode_rest(&section, email_count),
    );
    let emails = emails?;
    let (lists, blocked, keywords, channel_keywords, keyword_scopes, history) = rest?;
    let mut state = State {
        lists,
        blocked,
        keyword_scopes,
        emails: Arc::new(emails),
        history,
        keywords,
        channel_keywords,
        ..State::default()
    };
    state.check_lists_unique().map_err(|e| Error::Corrupt {
        what: WHAT,
        offset: 0,
        detail: e.to_string(),
    })?;
    state.recompile_keywords();
    Ok((state, generation))
}

type Rest = (
    Vec<ListSlot>,
    RoaringTreemap,
    Keywords,
    BTreeMap<ChannelId, Keywords>,
    BTreeMap<ChannelId, KeywordScope>,
    History,
);

/// Decodes every section but the emails.
fn decode_rest<'a>(
    section: &(dyn Fn(usize) -> Reader<'a> + Sync),
    email_count: u64,
) -> Result<Rest, Error> {
    let valid_ids = |t: &RoaringTreemap| ids_in_range(t, email_count);

    let mut r = section(2);
    let n = r.len(20)?;
    if n == 0 {
        return Err(r.corrupt("no system list"));
    }
    let mut lists = Vec::with_capacity(n);
    for i in 0..n {
        let deleted = r.bool()?;
        let settings = ListSettings::decode(&mut r)?;
        let account = r.treemap()?;
        let channels_len = r.len(9)?;
        let mut channels = BTreeMap::new();
        for _ in 0..channels_len {
            let channel = ChannelId::new(r.u64()?);
            let ids = r.treemap()?;
            if ids.is_empty() || channels.insert(channel, ids).is_some() {
                return Err(r.corrupt("empty or repeated channel entries"));
            }
        }
        let entries = Entries { account, channels };
        if !valid_ids(&entries.account) || !entries.channels.values().all(&valid_ids) {
            return Err(r.corrupt(format!("list {i} holds ids out of range")));
        }
        if deleted && (!entries.account.is_empty() || !entries.channels.is_empty()) {
            return Err(r.corrupt(format!("deleted list {i} still has entries")));
        }
        if i == 0 && (deleted || settings.name() != SYSTEM_LIST_NAME) {
            return Err(r.corrupt("the system list is missing or renamed"));
        }
        lists.push(ListSlot {
            settings,
            entries,
            deleted,
        });
    }
    end(&r)?;

    let mut r = section(3);
    let blocked = r.treemap()?;
    if !valid_ids(&blocked) {
        return Err(r.corrupt("blocked set holds ids out of range"));
    }
    end(&r)?;

    let mut r = section(4);
    let keywords = Keywords::decode(&mut r)?;
    let n = r.len(9)?;
    let mut channel_keywords = BTreeMap::new();
    for _ in 0..n {
        let channel = ChannelId::new(r.u64()?);
        if channel_keywords
            .insert(channel, Keywords::decode(&mut r)?)
            .is_some()
        {
            return Err(r.corrupt("repeated channel keywords"));
        }
    }
    let n = r.len(8)?;
    let mut keyword_scopes = BTreeMap::new();
    for _ in 0..n {
        if keyword_scopes
            .insert(ChannelId::new(r.u64()?), KeywordScope::Account)
            .is_some()
        {
            return Err(r.corrupt("repeated keyword scope"));
        }
    }
    end(&r)?;

    let mut r = section(5);
    let history = History::decode(&mut r, lists.len(), &valid_ids)?;
    end(&r)?;

    Ok((
        lists,
        blocked,
        keywords,
        channel_keywords,
        keyword_scopes,
        history,
    ))
}

fn end(r: &Reader<'_>) -> Result<(), Error> {
    if r.is_empty() {
        Ok(())
    } else {
        Err(r.corrupt("bytes left over in section"))
    }
}

/// Every id is a phone id or the id of an interned email.
pub(crate) fn ids_in_range(ids: &RoaringTreemap, emails: u64) -> bool {
    if ids.min() == Some(0) {
        return false;
    }
    ids.bitmaps().all(|(high, bitmap)| {
        let max = u64::from(bitmap.max().unwrap_or(0));
        if high == u32::MAX {
            max < emails
        } else {
            (u64::from(high) << 32 | max) < PHONE_LIMIT
        }
    })
}

/// Writes `bytes` to `path` so that a crash leaves either the old file or
/// the new one: a temporary file in the same directory, synced, renamed
/// over the target, and the directory synced.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("snapshot");
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut file = File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)?;
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(Error::Io)
}

/// Makes a rename or file creation in `dir` durable.
pub(crate) fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

impl Store {
    /// Writes a snapshot of the whole store — lists and their settings,
    /// entries per scope, the blocked set, the email id table, keyword
    /// settings and the history — to `writer`. The store is read-locked
    /// while the snapshot is encoded, so it is consistent.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if writing fails.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Edit, Normalizer, Store};
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
        let bytes = encode(&self.read(), 0)?;
        writer.write_all(&bytes).map_err(Error::Io)?;
        writer.flush().map_err(Error::Io)
    }

    /// Reads a snapshot, validating everything; the loaded store uses the
    /// system clock.
    ///
    /// # Errors
    ///
    /// [`Error::Foreign`], [`Error::Version`] or [`Error::Corrupt`] for a
    /// file that is not a valid snapshot (truncated, bit-flipped, from
    /// another format), [`Error::Io`] if reading fails. Never a partial
    /// store.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Error, Store};
    ///
    /// let err = Store::load(&b"not a snapshot"[..]).unwrap_err();
    /// assert!(matches!(err, Error::Foreign { .. }));
    /// ```
    pub fn load(reader: impl Read) -> Result<Store, Error> {
        Store::load_with_clock(reader, SystemClock)
    }

    /// [`Store::load`] with a clock of your choice.
    ///
    /// # Errors
    ///
    /// As [`Store::load`].
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Store, Timestamp};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut bytes = Vec::new();
    /// Store::new().save(&mut bytes)?;
    /// let store = Store::load_with_clock(bytes.as_slice(), || Timestamp::from_unix_secs(1))?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn load_with_clock(
        mut reader: impl Read,
        clock: impl Clock + 'static,
    ) -> Result<Store, Error> {
        let mut data = Vec::new();
        reader.read_to_end(&mut data).map_err(Error::Io)?;
        let (state, _) = decode(&data)?;
        Ok(Store::from_state(state, Arc::new(clock)))
    }

    /// Writes a snapshot to `path` atomically: a crash mid-save leaves the
    /// previous file intact.
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
    /// let path = dir.path().join("optouts.snapshot");
    /// optout::Store::new().save_to_path(&path)?;
    /// let store = optout::Store::load_from_path(&path)?;
    /// assert_eq!(store.lists().len(), 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn save_to_path(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        let bytes = encode(&self.read(), 0)?;
        write_atomic(path.as_ref(), &bytes)
    }

    /// Reads a snapshot from `path`.
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
        Store::load(File::open(path).map_err(Error::Io)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AddressId;

    /// A list or the blocked set holding an id that no address can have
    /// (0, or an email index past the email table) is refused on load.
    #[test]
    fn ids_out_of_range_are_refused() {
        let fine = State::default();
        let bytes = encode(&fine, 3).unwrap();
        assert!(decode(&bytes).is_ok());
        let out_of_range = [
            0,
            10u64.pow(19),
            AddressId::from_email_index(0).get(),
            u64::MAX,
        ];
        for id in out_of_range {
            for in_blocked in [false, true] {
                let mut state = State::default();
                if in_blocked {
                    state.blocked.insert(id);
                } else if let Some(system) = state.lists.first_mut() {
                    system.entries.account.insert(id);
                }
                let bytes = encode(&state, 3).unwrap();
                assert!(
                    matches!(decode(&bytes), Err(Error::Corrupt { .. })),
                    "id {id:#x} in {}",
                    if in_blocked { "blocked" } else { "a list" }
                );
            }
        }
    }
}
