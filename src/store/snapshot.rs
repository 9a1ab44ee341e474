//! Snapshots: the whole state in one versioned, checksummed byte string,
//! validated completely when read. The format is documented in
//! `docs/FORMAT.md`. Version 1 snapshots (numeric channel ids) still load.

use std::collections::BTreeMap;
use std::sync::Arc;

use roaring::RoaringTreemap;

use crate::address::{AddressId, Email, EmailAliases, EmailTable};
use crate::error::{Error, ErrorKind};
use crate::keyword::Keywords;
use crate::model::{Action, Channel, KeywordScope, ListId, Scope, Timestamp};
use crate::persist::SNAPSHOT_MAGIC as MAGIC;
use crate::persist::codec::{Reader, Writer};

use super::Policy;
use super::history::{Addresses, History, Record};
use super::list::{ListSettings, SYSTEM_LIST_NAME};
use super::op::decode_source;
use super::state::{Entries, ListSlot, State, ids_in_range};

const VERSION: u32 = 2;
const WHAT: &str = "snapshot";

/// Version 2 sections, in the order they appear.
const SECTIONS: [(u32, &str); 8] = [
    (1, "policy"),
    (2, "channels"),
    (3, "emails"),
    (4, "lists"),
    (5, "blocked"),
    (6, "pending"),
    (7, "keywords"),
    (8, "history"),
];

/// Version 1 sections.
const SECTIONS_V1: [(u32, &str); 6] = [
    (1, "meta"),
    (2, "emails"),
    (3, "lists"),
    (4, "blocked"),
    (5, "keywords"),
    (6, "history"),
];

/// Channel names by index, for encoding.
#[derive(Default)]
struct ChannelTable(BTreeMap<Channel, u32>);

impl ChannelTable {
    fn add(&mut self, c: &Channel) {
        let next = self.0.len() as u32;
        self.0.entry(c.clone()).or_insert(next);
    }

    fn index(&self, c: &Channel) -> u32 {
        self.0.get(c).copied().unwrap_or(u32::MAX)
    }

    fn write_scope(&self, w: &mut Writer, scope: &Scope) {
        match scope {
            Scope::Account => w.u8(0),
            Scope::Channel(c) => {
                w.u8(1);
                w.u32(self.index(c));
            }
        }
    }
}

/// How channels are read back: names by index (version 2), or numeric
/// ids that become names (version 1).
enum Channels {
    V1,
    V2(Vec<Channel>),
}

impl Channels {
    fn read(&self, r: &mut Reader<'_>) -> Result<Channel, Error> {
        match self {
            Channels::V1 => {
                let id = r.u64()?;
                Channel::new(&id.to_string()).map_err(|e| r.corrupt(e.to_string()))
            }
            Channels::V2(names) => {
                let i = r.u32()?;
                names
                    .get(i as usize)
                    .cloned()
                    .ok_or_else(|| r.corrupt(format!("channel {i} of {}", names.len())))
            }
        }
    }

    fn read_scope(&self, r: &mut Reader<'_>) -> Result<Scope, Error> {
        match r.u8()? {
            0 => Ok(Scope::Account),
            1 => Ok(Scope::Channel(self.read(r)?)),
            other => Err(r.corrupt(format!("unknown scope tag {other}"))),
        }
    }
}

/// Encodes a state.
pub(crate) fn encode(state: &State) -> Result<Vec<u8>, Error> {
    let mut channels = ChannelTable::default();
    for slot in &state.lists {
        slot.entries.channels.keys().for_each(|c| channels.add(c));
    }
    state.pending.channels.keys().for_each(|c| channels.add(c));
    state.channel_keywords.keys().for_each(|c| channels.add(c));
    state.keyword_scopes.keys().for_each(|c| channels.add(c));
    for r in state.history.records() {
        if let Scope::Channel(c) = &r.scope {
            channels.add(c);
        }
    }
    let mut out = Writer::default();
    out.buf.extend_from_slice(MAGIC);
    out.u32(VERSION);
    out.u64(state.seq);
    out.u64(state.migrated_from.unwrap_or(u64::MAX));
    for (tag, _) in SECTIONS {
        let mut w = Writer::default();
        match tag {
            1 => state.policy.encode(&mut w),
            2 => {
                let mut names: Vec<(&Channel, u32)> =
                    channels.0.iter().map(|(c, i)| (c, *i)).collect();
                names.sort_by_key(|(_, i)| *i);
                w.len(names.len());
                for (c, _) in names {
                    w.str(c.as_str());
                }
            }
            3 => {
                w.len(state.emails.len());
                for email in state.emails.iter() {
                    w.str(email.as_str());
                }
            }
            4 => {
                w.len(state.lists.len());
                for slot in &state.lists {
                    w.bool(slot.deleted);
                    slot.settings.encode(&mut w);
                    encode_entries(&mut w, &slot.entries, &channels)?;
                }
            }
            5 => w.treemap(&state.blocked)?,
            6 => encode_entries(&mut w, &state.pending, &channels)?,
            7 => {
                state.keywords.encode(&mut w);
                w.len(state.channel_keywords.len());
                for (channel, keywords) in &state.channel_keywords {
                    w.u32(channels.index(channel));
                    keywords.encode(&mut w);
                }
                w.len(state.keyword_scopes.len());
                for channel in state.keyword_scopes.keys() {
                    w.u32(channels.index(channel));
                }
            }
            _ => {
                let records = state.history.records();
                w.len(records.len());
                for r in records {
                    w.i64(r.at.unix_millis());
                    w.u8(r.action.code());
                    match r.list {
                        None => w.u8(0),
                        Some(l) => {
                            w.u8(1);
                            w.u32(l.get());
                        }
                    }
                    channels.write_scope(&mut w, &r.scope);
                    w.u8(r.source.code());
                    match &r.addresses {
                        Addresses::One(id) => {
                            w.u8(0);
                            w.u64(id.get());
                        }
                        Addresses::Many(ids) => {
                            w.u8(1);
                            w.treemap(ids)?;
                        }
                    }
                }
            }
        }
        out.u32(tag);
        out.len(w.buf.len());
        out.buf.extend_from_slice(&w.buf);
    }
    let crc = crc32fast::hash(&out.buf);
    out.u32(crc);
    Ok(out.buf)
}

fn encode_entries(w: &mut Writer, e: &Entries, channels: &ChannelTable) -> Result<(), Error> {
    w.treemap(&e.account)?;
    w.len(e.channels.len());
    for (channel, ids) in &e.channels {
        w.u32(channels.index(channel));
        w.treemap(ids)?;
    }
    Ok(())
}

/// Decodes and validates a snapshot of either version.
pub(crate) fn decode(data: &[u8]) -> Result<State, Error> {
    if data.len() < MAGIC.len() + 8 || data.get(..MAGIC.len()) != Some(MAGIC.as_slice()) {
        return Err(ErrorKind::Foreign { what: WHAT }.into());
    }
    let body_len = data.len() - 4;
    let (body, trailer) = data.split_at(body_len);
    let mut r = Reader::new(body, WHAT);
    r.bytes(MAGIC.len())?;
    let version = r.u32()?;
    if version != VERSION && version != 1 {
        return Err(ErrorKind::Version {
            what: WHAT,
            found: version,
            supported: VERSION,
        }
        .into());
    }
    let mut crc = [0u8; 4];
    crc.copy_from_slice(trailer);
    if crc32fast::hash(body) != u32::from_le_bytes(crc) {
        return Err(Error::corrupt(WHAT, body_len as u64, "checksum mismatch"));
    }
    if version == 1 {
        return decode_v1(r);
    }
    let seq = r.u64()?;
    let migrated_from = match r.u64()? {
        u64::MAX => None,
        g => Some(g),
    };
    let sections = read_sections(&mut r, &SECTIONS)?;
    let section = |i: usize| Reader::new(sections.get(i).copied().unwrap_or(&[]), WHAT);

    let mut p = section(0);
    let policy = Policy::decode(&mut p)?;
    end(&p)?;

    let mut c = section(1);
    let n = c.len(9)?;
    let mut names = Vec::with_capacity(n);
    for _ in 0..n {
        let name = c.str()?;
        let channel = Channel::new(name).map_err(|e| c.corrupt(e.to_string()))?;
        if names.contains(&channel) {
            return Err(c.corrupt(format!("channel {name:?} appears twice")));
        }
        names.push(channel);
    }
    end(&c)?;
    let channels = Channels::V2(names);

    let mut state = decode_common(
        &section,
        (2, 3, 4, Some(5), 6, 7),
        &channels,
        policy.email_aliases,
        version,
    )?;
    state.seq = seq;
    state.policy = policy;
    state.migrated_from = migrated_from;
    Ok(state)
}

fn read_sections<'a>(r: &mut Reader<'a>, expected: &[(u32, &str)]) -> Result<Vec<&'a [u8]>, Error> {
    let mut sections = Vec::with_capacity(expected.len());
    for &(tag, name) in expected {
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
    Ok(sections)
}

/// A version-1 snapshot: its generation (which names the journal that
/// follows it) goes to `State::v1_generation` for the migration.
fn decode_v1(mut r: Reader<'_>) -> Result<State, Error> {
    let sections = read_sections(&mut r, &SECTIONS_V1)?;
    let section = |i: usize| Reader::new(sections.get(i).copied().unwrap_or(&[]), WHAT);
    let mut meta = section(0);
    let generation = meta.u64()?;
    end(&meta)?;
    let mut state = decode_common(
        &section,
        (1, 2, 3, None, 4, 5),
        &Channels::V1,
        EmailAliases::Keep,
        1,
    )?;
    state.v1_generation = Some(generation);
    Ok(state)
}

/// Decodes the sections both versions share, given their positions:
/// (emails, lists, blocked, pending, keywords, history).
fn decode_common<'a>(
    section: &(dyn Fn(usize) -> Reader<'a> + Sync),
    at: (usize, usize, usize, Option<usize>, usize, usize),
    channels: &Channels,
    aliases: EmailAliases,
    version: u32,
) -> Result<State, Error> {
    let (emails_at, lists_at, blocked_at, pending_at, keywords_at, history_at) = at;
    // The email table and everything else are decoded in parallel: the
    // other sections need only the number of emails, read up front.
    let email_count = section(emails_at).u64()?;
    // Three parts at once: the email table (the longest), the other
    // sections, and the check that no stored email holds a NUL (which
    // would read as a folded address), off the email table's path.
    let (emails, (rest, no_nul)) = rayon::join(
        || -> Result<EmailTable, Error> {
            let mut r = section(emails_at);
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
            EmailTable::from_keys(list, aliases)
                .ok_or_else(|| r.corrupt("an email address appears twice"))
        },
        || {
            rayon::join(
                || -> Result<State, Error> {
                    let valid_ids = |t: &RoaringTreemap| ids_in_range(t, email_count);
                    let mut state = State::new(Policy::default());

                    let mut r = section(lists_at);
                    let n = r.len(20)?;
                    if n == 0 {
                        return Err(r.corrupt("no system list"));
                    }
                    let mut lists = Vec::with_capacity(n);
                    for i in 0..n {
                        let deleted = r.bool()?;
                        let settings = ListSettings::decode(&mut r)?;
                        let entries = decode_entries(&mut r, channels)?;
                        if !entries.applying_to(None).all(valid_ids) {
                            return Err(r.corrupt(format!("list {i} holds ids out of range")));
                        }
                        if deleted && !entries.is_empty() {
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
                    state.lists = lists;

                    let mut r = section(blocked_at);
                    state.blocked = r.treemap()?;
                    if !valid_ids(&state.blocked) {
                        return Err(r.corrupt("blocked set holds ids out of range"));
                    }
                    end(&r)?;

                    if let Some(pending_at) = pending_at {
                        let mut r = section(pending_at);
                        state.pending = decode_entries(&mut r, channels)?;
                        if !state.pending.applying_to(None).all(valid_ids) {
                            return Err(r.corrupt("pending clarifications hold ids out of range"));
                        }
                        end(&r)?;
                    }

                    let mut r = section(keywords_at);
                    state.keywords = Keywords::decode(&mut r, version)?;
                    let n = r.len(5)?;
                    for _ in 0..n {
                        let channel = channels.read(&mut r)?;
                        let keywords = Keywords::decode(&mut r, version)?;
                        if state.channel_keywords.insert(channel, keywords).is_some() {
                            return Err(r.corrupt("repeated channel keywords"));
                        }
                    }
                    let n = r.len(4)?;
                    for _ in 0..n {
                        let channel = channels.read(&mut r)?;
                        if state
                            .keyword_scopes
                            .insert(channel, KeywordScope::Account)
                            .is_some()
                        {
                            return Err(r.corrupt("repeated keyword scope"));
                        }
                    }
                    end(&r)?;

                    let mut r = section(history_at);
                    state.history =
                        decode_history(&mut r, state.lists.len(), &valid_ids, channels)?;
                    end(&r)?;
                    Ok(state)
                },
                || -> Result<(), Error> {
                    let mut r = section(emails_at);
                    let n = r.len(9)?;
                    for _ in 0..n {
                        let text = r.str()?;
                        if text.contains('\0') {
                            return Err(
                                r.corrupt(format!("{text:?} is not a canonical email address"))
                            );
                        }
                    }
                    Ok(())
                },
            )
        },
    );
    let emails = emails?;
    no_nul?;
    let mut state = rest?;
    state.emails = Arc::new(emails);
    state
        .reindex()
        .map_err(|e| Error::corrupt(WHAT, 0, e.to_string()))?;
    Ok(state)
}

fn decode_entries(r: &mut Reader<'_>, channels: &Channels) -> Result<Entries, Error> {
    let account = r.treemap()?;
    let n = r.len(5)?;
    let mut map = BTreeMap::new();
    for _ in 0..n {
        let channel = channels.read(r)?;
        let ids = r.treemap()?;
        if ids.is_empty() || map.insert(channel, ids).is_some() {
            return Err(r.corrupt("empty or repeated channel entries"));
        }
    }
    Ok(Entries {
        account,
        channels: map,
    })
}

fn decode_history(
    r: &mut Reader<'_>,
    lists: usize,
    valid_ids: &dyn Fn(&RoaringTreemap) -> bool,
    channels: &Channels,
) -> Result<History, Error> {
    let n = r.len(13)?;
    let mut history = History::default();
    for _ in 0..n {
        let at = Timestamp::from_unix_millis(r.i64()?);
        let code = r.u8()?;
        let action =
            Action::from_code(code).ok_or_else(|| r.corrupt(format!("unknown action {code}")))?;
        let list = match r.u8()? {
            0 => None,
            1 => {
                let id = r.u32()?;
                if id as usize >= lists {
                    return Err(r.corrupt(format!("history names list {id} of {lists}")));
                }
                Some(ListId::new(id))
            }
            other => return Err(r.corrupt(format!("{other} is not an option tag"))),
        };
        if list.is_some() != action.has_list() {
            return Err(r.corrupt("history record's list does not fit its action"));
        }
        let scope = channels.read_scope(r)?;
        let source = decode_source(r)?;
        let addresses = match r.u8()? {
            0 => {
                let raw = r.u64()?;
                let one: RoaringTreemap = [raw].into_iter().collect();
                let id = AddressId::new(raw).filter(|_| valid_ids(&one));
                Addresses::One(
                    id.ok_or_else(|| r.corrupt(format!("{raw} is not a valid address id")))?,
                )
            }
            1 => {
                let ids = r.treemap()?;
                if ids.len() < 2 || !valid_ids(&ids) {
                    return Err(r.corrupt("history bitmap holds invalid ids"));
                }
                Addresses::Many(ids)
            }
            other => return Err(r.corrupt(format!("unknown address tag {other}"))),
        };
        history.push_record(Record {
            at,
            action,
            list,
            scope,
            source,
            addresses,
        });
    }
    Ok(history)
}

fn end(r: &Reader<'_>) -> Result<(), Error> {
    if r.is_empty() {
        Ok(())
    } else {
        Err(r.corrupt("bytes left over in section"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A list or the blocked set holding an id that no address can have
    /// (0, or an email index past the email table) is refused on load.
    #[test]
    fn ids_out_of_range_are_refused() {
        let fine = State::new(Policy::default());
        assert!(decode(&encode(&fine).unwrap()).is_ok());
        for bad in [
            0u64,
            AddressId::from_email_index(0).get(),
            10_000_000_000_000_000_000,
        ] {
            let mut state = State::new(Policy::default());
            state.blocked.insert(bad);
            let err = decode(&encode(&state).unwrap()).unwrap_err();
            assert!(
                matches!(err.kind(), ErrorKind::Corrupt { .. }),
                "{bad}: {err}"
            );
            let mut state = State::new(Policy::default());
            state.lists[0].entries.account.insert(bad);
            assert!(decode(&encode(&state).unwrap()).is_err(), "{bad}");
        }
    }
}
