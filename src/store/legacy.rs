//! Opening a version-1 store directory: its snapshot loads as it is, and
//! its journal replays as the crate did then (an inbound message through
//! the keyword matcher of that version), after which a version-2
//! checkpoint takes its place.

use std::path::PathBuf;

use crate::address::{Address, Email, Phone};
use crate::error::Error;
use crate::keyword::KeywordKind;
use crate::model::{Action, Channel, KeywordScope, ListId, Scope, Source, Timestamp};
use crate::persist::codec::Reader;
use crate::persist::legacy_records;

use super::Store;
use super::list::ListSettings;
use super::op::{ChangeOp, Op, Who, is_canonical_shape};
use super::state::State;

const WHAT: &str = "journal";

/// Version-1 journal files found in a directory.
pub(crate) struct Migration {
    files: Vec<(PathBuf, Option<u64>, Vec<Vec<u8>>)>,
}

impl Migration {
    pub(crate) fn from_files(legacy: Vec<(PathBuf, Vec<u8>)>) -> Result<Option<Migration>, Error> {
        if legacy.is_empty() {
            return Ok(None);
        }
        let mut files = Vec::with_capacity(legacy.len());
        for (path, data) in legacy {
            let file = legacy_records(&data)
                .map_err(|e| Error::corrupt(WHAT, 0, format!("{}: {e}", path.display())))?;
            files.push((
                path,
                file.generation,
                file.records.into_iter().map(<[u8]>::to_vec).collect(),
            ));
        }
        Ok(Some(Migration { files }))
    }

    /// Replays the journal that follows `state`'s version-1 snapshot (or
    /// none, for a store that never checkpointed). Returns the files to
    /// retire once a checkpoint holds what they held.
    pub(crate) fn apply(self, state: &mut State) -> Result<Option<Vec<Retired>>, Error> {
        let retire = |generation: u64| -> Vec<Retired> {
            self.files
                .iter()
                .map(|(path, g, _)| Retired {
                    path: path.clone(),
                    // An older generation's journal, checked above to be
                    // covered by the snapshot, is kept all the same.
                    keep: g.is_some_and(|g| g < generation),
                })
                .collect()
        };
        if let Some(done) = state.migrated_from {
            // A migration that crashed after its checkpoint: the files are
            // covered if they are the one it migrated, or older.
            if self
                .files
                .iter()
                .all(|(_, g, _)| g.is_none_or(|g| g <= done))
            {
                return Ok(Some(retire(done)));
            }
            return Err(Error::corrupt(
                WHAT,
                0,
                "a version-1 journal newer than the migrated snapshot",
            ));
        }
        if state.seq != 0 || (state.v1_generation.is_none() && !state.is_pristine()) {
            return Err(Error::corrupt(
                WHAT,
                0,
                "version-1 journals next to a version-2 snapshot that did not migrate them",
            ));
        }
        let generation = state.v1_generation.unwrap_or(0);
        // Version 1 kept one journal per snapshot generation; older ones
        // are covered by the snapshot. A newer one is not accounted for.
        if let Some((path, g, _)) = self
            .files
            .iter()
            .find(|(_, g, _)| g.is_some_and(|g| g > generation))
        {
            return Err(crate::error::ErrorKind::Gap {
                what: path.display().to_string(),
                expected: generation,
                found: g.unwrap_or(0),
            }
            .into());
        }
        // An older generation's journal is normally covered by the
        // snapshot (a crash between writing the snapshot and removing the
        // journal leaves it behind). Version 1 could also go on writing it
        // after a checkpoint whose directory sync failed: then it holds
        // changes the snapshot lacks. Replaying it onto the snapshot tells
        // the two apart — opt-outs, opt-ins and blocks set membership, so
        // a covered journal changes nothing — and one that changes
        // something is an error, with nothing deleted.
        for (path, g, records) in &self.files {
            if g.is_some_and(|g| g < generation) {
                let mut probe = state.clone();
                replay_records(&mut probe, records)?;
                if probe.lists != state.lists || probe.blocked != state.blocked {
                    return Err(Error::corrupt(
                        WHAT,
                        0,
                        format!(
                            "{} (version-1 generation {}) holds changes the snapshot (generation {generation}) lacks; nothing was changed",
                            path.display(),
                            g.unwrap_or(0)
                        ),
                    ));
                }
            }
        }
        for (_, g, records) in &self.files {
            if *g == Some(generation) {
                replay_records(state, records)?;
            }
        }
        state.migrated_from = Some(generation);
        state.v1_generation = None;
        Ok(Some(retire(generation)))
    }
}

/// Replays version-1 records onto `state` as that release did.
fn replay_records(state: &mut State, records: &[Vec<u8>]) -> Result<(), Error> {
    for record in records {
        if let Some(op) = resolve(state, record)? {
            // A change that failed when it was made fails again, changing
            // nothing.
            if state.validate(&op, super::Rules::Replay).is_ok() {
                let seq = state.seq;
                state.apply(&op, seq);
            }
        }
    }
    Ok(())
}

/// A version-1 journal file once migrated.
pub(crate) struct Retired {
    path: PathBuf,
    /// Renamed (to `<name>.v1-superseded`) instead of removed.
    keep: bool,
}

impl Store {
    /// Keeps a version-2 checkpoint, then removes the version-1 journal it
    /// migrated and renames older ones out of the way.
    pub(super) fn finish_migration(&self, files: Vec<Retired>) -> Result<(), Error> {
        self.checkpoint()?;
        let slot = self.lock_log();
        if let super::LogSlot::Log(_) = &*slot {
            for file in &files {
                let path = &file.path;
                let done = if file.keep {
                    let mut kept = path.clone().into_os_string();
                    kept.push(".v1-superseded");
                    std::fs::rename(path, kept)
                } else {
                    std::fs::remove_file(path)
                };
                done.map_err(|e| Error::io_at(path, e))?;
            }
        }
        Ok(())
    }
}

fn address(r: &mut Reader<'_>) -> Result<Address, Error> {
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
            if !is_canonical_shape(text) {
                return Err(r.corrupt("not an email address"));
            }
            Ok(Address::Email(Email::from_canonical(text)))
        }
        other => Err(r.corrupt(format!("unknown address tag {other}"))),
    }
}

fn channel(r: &mut Reader<'_>) -> Result<Channel, Error> {
    let id = r.u64()?;
    Channel::new(&id.to_string()).map_err(|e| r.corrupt(e.to_string()))
}

struct Edit {
    lists: Vec<ListId>,
    scope: Scope,
    source: Source,
    at: Timestamp,
}

fn edit(r: &mut Reader<'_>) -> Result<Edit, Error> {
    let n = r.len(4)?;
    let mut lists = Vec::with_capacity(n);
    for _ in 0..n {
        lists.push(ListId::new(r.u32()?));
    }
    let scope = match r.u8()? {
        0 => Scope::Account,
        1 => Scope::Channel(channel(r)?),
        other => return Err(r.corrupt(format!("unknown scope tag {other}"))),
    };
    let code = r.u8()?;
    let source = Source::from_code(code).ok_or_else(|| r.corrupt("unknown source"))?;
    let at = Timestamp::from_unix_millis(r.i64()?);
    Ok(Edit {
        lists,
        scope,
        source,
        at,
    })
}

fn who(state: &State, addresses: &[Address]) -> Who {
    let mut phones = Vec::new();
    let mut emails = Vec::new();
    for a in addresses {
        match a {
            Address::Phone(p) => phones.push(p.id().get()),
            Address::Email(e) => emails.push(e.under(state.policy.email_aliases)),
        }
    }
    // Version 1 gave new addresses ids in the order given, repeats
    // skipped: the same order here gives the same ids.
    let mut seen = std::collections::HashSet::with_capacity(emails.len());
    emails.retain(|e: &crate::address::Email| seen.insert(e.as_str().to_owned()));
    Who {
        phones: crate::bitmap::from_unsorted(phones),
        emails,
    }
}

fn effective(state: &State, source: Source, scope: &Scope) -> Scope {
    match (source, scope) {
        (Source::WebForm, _) => Scope::Account,
        (Source::Keyword, Scope::Channel(c)) => state.keyword_scope_of(c),
        (_, scope) => scope.clone(),
    }
}

fn change(state: &State, action: Action, who: Who, requested: u64, e: &Edit) -> Op {
    let (lists, scope) = match action {
        Action::OptOut | Action::OptIn => (e.lists.clone(), effective(state, e.source, &e.scope)),
        _ => (Vec::new(), Scope::Account),
    };
    Op::Change(ChangeOp {
        action,
        lists,
        scope,
        source: e.source,
        at: e.at,
        who,
        requested,
    })
}

/// Turns a version-1 record into the operation it amounts to today.
fn resolve(state: &State, record: &[u8]) -> Result<Option<Op>, Error> {
    let mut r = Reader::new(record, WHAT);
    let op = match r.u8()? {
        tag @ (0 | 1) => {
            let n = r.len(9)?;
            let mut addresses = Vec::with_capacity(n);
            for _ in 0..n {
                addresses.push(address(&mut r)?);
            }
            let e = edit(&mut r)?;
            let action = if tag == 0 {
                Action::OptOut
            } else {
                Action::OptIn
            };
            Some(change(state, action, who(state, &addresses), n as u64, &e))
        }
        2 => {
            let set = r.treemap()?;
            let requested = r.u64()?;
            let e = edit(&mut r)?;
            let mut phones = roaring::RoaringTreemap::new();
            let mut emails = Vec::new();
            for v in &set {
                let id = crate::AddressId::new(v).ok_or_else(|| r.corrupt("id out of range"))?;
                match state.emails.email(id) {
                    _ if id.is_phone() => {
                        phones.insert(v);
                    }
                    Some(email) => emails.push(email.clone()),
                    // Refused when it was made: an id the store never assigned.
                    None => return Ok(None),
                }
            }
            Some(change(
                state,
                Action::OptOut,
                Who { phones, emails },
                requested,
                &e,
            ))
        }
        tag @ (3 | 4) => {
            let a = address(&mut r)?;
            let e = edit(&mut r)?;
            let action = if tag == 3 {
                Action::Block
            } else {
                Action::Unblock
            };
            Some(change(state, action, who(state, &[a]), 1, &e))
        }
        5 => Some(Op::CreateList(ListSettings::decode(&mut r)?)),
        6 => Some(Op::UpdateList(
            ListId::new(r.u32()?),
            ListSettings::decode(&mut r)?,
        )),
        // Version 1 kept no time for a deletion.
        7 => Some(Op::DeleteList {
            list: ListId::new(r.u32()?),
            at: Timestamp::EPOCH,
            source: Source::Manual,
        }),
        8 => {
            let c = channel(&mut r)?;
            let scope = if r.bool()? {
                KeywordScope::Account
            } else {
                KeywordScope::Channel
            };
            Some(Op::KeywordScope(c, scope))
        }
        9 => {
            let c = match r.u8()? {
                0 => None,
                1 => Some(channel(&mut r)?),
                other => return Err(r.corrupt(format!("{other} is not an option tag"))),
            };
            Some(Op::Keywords(
                c,
                crate::keyword::Keywords::decode(&mut r, 1)?,
            ))
        }
        10 => {
            let from = address(&mut r)?;
            let c = channel(&mut r)?;
            let text = r.str()?.to_owned();
            let at = Timestamp::from_unix_millis(r.i64()?);
            inbound_v1(state, &from, &c, &text, at)
        }
        11 => {
            let a = address(&mut r)?;
            match a {
                Address::Email(e) => Some(Op::Intern(vec![e.under(state.policy.email_aliases)])),
                Address::Phone(_) => None,
            }
        }
        other => return Err(r.corrupt(format!("unknown change kind {other}"))),
    };
    if !r.is_empty() {
        return Err(r.corrupt("bytes left over in record"));
    }
    Ok(op)
}

/// An inbound message as version 1 handled it: keywords only, YES an
/// opt-in, a repeated STOP changing nothing.
fn inbound_v1(
    state: &State,
    from: &Address,
    channel: &Channel,
    text: &str,
    at: Timestamp,
) -> Option<Op> {
    let lists: Vec<(String, ListId)> = state
        .live()
        .filter_map(|(id, slot)| slot.settings.keyword_text().map(|k| (k.to_owned(), id)))
        .collect();
    let matcher = state.keywords_for(Some(channel)).compile_v1(&lists);
    let hit = matcher.find(text)?;
    let scope = state.keyword_scope_of(channel);
    let id = state.lookup(from);
    let e = |lists: Vec<ListId>, scope: Scope| Edit {
        lists,
        scope,
        source: Source::Keyword,
        at,
    };
    match hit.kind {
        KeywordKind::OptOut(list) => {
            let slot = state.slot(list).ok()?;
            let already = id.is_some_and(|id| match &scope {
                Scope::Account => slot.entries.account.contains(id.get()),
                Scope::Channel(_) => slot
                    .entries
                    .applying_to(Some(channel))
                    .any(|set| set.contains(id.get())),
            });
            if already {
                return None;
            }
            Some(change(
                state,
                Action::OptOut,
                who(state, std::slice::from_ref(from)),
                1,
                &e(vec![list], scope),
            ))
        }
        KeywordKind::OptIn => {
            let id = id?;
            let scopes = match scope {
                Scope::Account => vec![Scope::Account, Scope::Channel(channel.clone())],
                scope => vec![scope],
            };
            let mut ops = Vec::new();
            for scope in scopes {
                let lists: Vec<ListId> = state
                    .live()
                    .filter(|(_, slot)| {
                        slot.entries
                            .scope(&scope)
                            .is_some_and(|set| set.contains(id.get()))
                    })
                    .map(|(list, _)| list)
                    .collect();
                if !lists.is_empty() {
                    // The scope as resolved: no second widening.
                    ops.push(Op::Change(ChangeOp {
                        action: Action::OptIn,
                        lists,
                        scope,
                        source: Source::Keyword,
                        at,
                        who: who(state, std::slice::from_ref(from)),
                        requested: 1,
                    }));
                }
            }
            (!ops.is_empty()).then_some(Op::Batch(ops))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use crate::model::{Channel, ListId, Scope};
    use crate::persist::codec::Writer;
    use crate::{Normalizer, Store};

    fn edit(w: &mut Writer, channel: Option<u64>) {
        w.len(1);
        w.u32(0);
        match channel {
            None => w.u8(0),
            Some(c) => {
                w.u8(1);
                w.u64(c);
            }
        }
        w.u8(0); // manual
        w.i64(1_000);
    }

    fn record(out: &mut Vec<u8>, payload: &[u8]) {
        let len = payload.len() as u32;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
        out.extend_from_slice(payload);
    }

    /// Version 1 gave emails ids in the order a bulk change named them; a
    /// later change by id must reach the same person after migration.
    #[test]
    fn migrated_email_ids_follow_version_1_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut file = Vec::new();
        file.extend_from_slice(b"OPTOUTJL");
        file.extend_from_slice(&1u32.to_le_bytes());
        file.extend_from_slice(&0u64.to_le_bytes());
        // opt_out_many([zed, amy]): zed gets index 0.
        let mut w = Writer::default();
        w.u8(0);
        w.len(2);
        for e in ["zed@example.com", "amy@example.com"] {
            w.u8(1);
            w.str(e);
        }
        edit(&mut w, None);
        record(&mut file, &w.buf);
        // opt_out_ids([email index 0]) on channel 5.
        let mut w = Writer::default();
        w.u8(2);
        let ids: roaring::RoaringTreemap = [0xFFFF_FFFF_0000_0000u64].into_iter().collect();
        w.treemap(&ids).unwrap();
        w.u64(1);
        edit(&mut w, Some(5));
        record(&mut file, &w.buf);
        std::fs::write(dir.path().join("journal-0000000000000000.log"), &file).unwrap();
        let store = Store::open(dir.path()).unwrap();
        let n = Normalizer::default();
        let ch = Scope::Channel(Channel::new("5").unwrap());
        assert!(store.contains(ListId::SYSTEM, &ch, &n.address("zed@example.com").unwrap()));
        assert!(!store.contains(ListId::SYSTEM, &ch, &n.address("amy@example.com").unwrap()));
    }

    /// A version-1 journal of an older generation than the snapshot is
    /// normally covered by it (left behind by a crash): it is kept,
    /// renamed. One that holds changes the snapshot lacks (version 1 could
    /// keep writing it after a checkpoint whose directory sync failed) is
    /// an error, and nothing is changed.
    #[test]
    fn older_version_1_journals_are_checked_and_kept() {
        let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/v1-store");
        let old_journal = |tag: u8, address: &str| {
            let mut file = Vec::new();
            file.extend_from_slice(b"OPTOUTJL");
            file.extend_from_slice(&1u32.to_le_bytes());
            file.extend_from_slice(&0u64.to_le_bytes());
            let mut w = Writer::default();
            w.u8(tag);
            w.len(1);
            w.u8(1);
            w.str(address);
            edit(&mut w, None);
            record(&mut file, &w.buf);
            file
        };
        let copy = || {
            let dir = tempfile::tempdir().unwrap();
            for entry in std::fs::read_dir(&fixture).unwrap() {
                let entry = entry.unwrap();
                std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
            }
            dir
        };
        let names = |dir: &std::path::Path| {
            let mut names: Vec<String> = std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n != "LOCK")
                .collect();
            names.sort();
            names
        };

        // Covered: an opt-in of someone never opted out changes nothing.
        let dir = copy();
        let file = old_journal(1, "nobody@example.com");
        let old = dir.path().join("journal-0000000000000000.log");
        std::fs::write(&old, &file).unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert!(store.recovery().migrated);
        drop(store);
        assert!(!old.exists());
        let kept = dir
            .path()
            .join("journal-0000000000000000.log.v1-superseded");
        assert_eq!(std::fs::read(kept).unwrap(), file);
        assert!(!dir.path().join("journal-0000000000000001.log").exists());
        assert!(!Store::open(dir.path()).unwrap().recovery().migrated);

        // Not covered: an opt-out the snapshot lacks.
        let dir = copy();
        std::fs::write(
            dir.path().join("journal-0000000000000000.log"),
            old_journal(0, "old@example.com"),
        )
        .unwrap();
        let before = names(dir.path());
        let err = Store::open(dir.path()).unwrap_err();
        assert!(err.to_string().contains("lacks"), "{err}");
        assert_eq!(names(dir.path()), before, "nothing changed");
    }
}
