//! What a store holds, private to the store: lists and their entries per
//! scope, the blocked set, pending clarifications, channel settings, the
//! email table and the history; and the two functions that change it,
//! [`State::validate`] and [`State::apply`].

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use roaring::RoaringTreemap;

use crate::address::{Address, AddressId, EmailTable};
use crate::error::{Error, ErrorKind, ListField};
use crate::keyword::Keywords;
use crate::model::{Action, Channel, KeywordScope, ListId, Scope};

use super::Policy;
use super::history::{Addresses, Change, History, Record};
use super::list::{ListSettings, SYSTEM_LIST_NAME, fold_key};
use super::op::{ChangeOp, Op, Who, is_canonical_shape};

/// Phone ids are below 10^19.
pub(crate) const PHONE_LIMIT: u64 = 10_000_000_000_000_000_000;

/// Entries per scope: account-wide and per channel.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Entries {
    pub(crate) account: RoaringTreemap,
    pub(crate) channels: BTreeMap<Channel, RoaringTreemap>,
}

impl Entries {
    pub(crate) fn scope(&self, scope: &Scope) -> Option<&RoaringTreemap> {
        match scope {
            Scope::Account => Some(&self.account),
            Scope::Channel(c) => self.channels.get(c),
        }
    }

    fn scope_mut(&mut self, scope: &Scope) -> &mut RoaringTreemap {
        match scope {
            Scope::Account => &mut self.account,
            Scope::Channel(c) => self.channels.entry(c.clone()).or_default(),
        }
    }

    /// The entries that apply to a send on `channel`: account-wide and that
    /// channel's, or every scope's when no channel is named.
    pub(crate) fn applying_to<'a>(
        &'a self,
        channel: Option<&'a Channel>,
    ) -> Box<dyn Iterator<Item = &'a RoaringTreemap> + 'a> {
        match channel {
            Some(c) => Box::new(std::iter::once(&self.account).chain(self.channels.get(c))),
            None => Box::new(std::iter::once(&self.account).chain(self.channels.values())),
        }
    }

    /// Every scope with its set.
    pub(crate) fn scopes(&self) -> impl Iterator<Item = (Scope, &RoaringTreemap)> {
        std::iter::once((Scope::Account, &self.account)).chain(
            self.channels
                .iter()
                .map(|(c, ids)| (Scope::Channel(c.clone()), ids)),
        )
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.account.is_empty() && self.channels.is_empty()
    }

    /// Drops a channel's entry once its set is empty (other channels are
    /// not looked at, so a change costs the same however many channels
    /// there are).
    fn prune(&mut self, scope: &Scope) {
        if let Scope::Channel(c) = scope
            && self.channels.get(c).is_some_and(RoaringTreemap::is_empty)
        {
            self.channels.remove(c);
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ListSlot {
    pub(crate) settings: ListSettings,
    pub(crate) entries: Entries,
    pub(crate) deleted: bool,
}

/// Everything a store holds.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct State {
    /// The number of the last operation applied.
    pub(crate) seq: u64,
    pub(crate) policy: Policy,
    pub(crate) lists: Vec<ListSlot>,
    pub(crate) blocked: RoaringTreemap,
    /// Senders asked to clarify a possible revocation, per scope.
    pub(crate) pending: Entries,
    /// Channels that enforce account-level keyword opt-outs.
    pub(crate) keyword_scopes: BTreeMap<Channel, KeywordScope>,
    pub(crate) emails: Arc<EmailTable>,
    pub(crate) history: History,
    pub(crate) keywords: Keywords,
    pub(crate) channel_keywords: BTreeMap<Channel, Keywords>,
    /// Bumped by every change to keywords or lists, so compiled matchers
    /// know when they are stale.
    pub(crate) keywords_version: u64,
    /// The version-1 generation this state was migrated from, if any.
    pub(crate) migrated_from: Option<u64>,
    /// For a state read from a version-1 snapshot: its generation, which
    /// names the journal that follows it.
    pub(crate) v1_generation: Option<u64>,
    /// Live lists by folded name and by canonical keyword, for uniqueness
    /// checks that do not scan every list.
    names: HashMap<String, ListId>,
    keyword_index: HashMap<String, ListId>,
}

impl State {
    pub(crate) fn new(policy: Policy) -> State {
        State {
            seq: 0,
            policy,
            lists: vec![ListSlot {
                settings: ListSettings::new(SYSTEM_LIST_NAME),
                entries: Entries::default(),
                deleted: false,
            }],
            blocked: RoaringTreemap::new(),
            pending: Entries::default(),
            keyword_scopes: BTreeMap::new(),
            emails: Arc::new(EmailTable::new(policy.email_aliases)),
            history: History::default(),
            keywords: Keywords::default(),
            channel_keywords: BTreeMap::new(),
            keywords_version: 0,
            migrated_from: None,
            v1_generation: None,
            names: [(fold_key(SYSTEM_LIST_NAME), ListId::SYSTEM)].into(),
            keyword_index: HashMap::new(),
        }
    }

    /// `true` while nothing was ever recorded.
    pub(crate) fn is_pristine(&self) -> bool {
        self.seq == 0 && self.lists.len() == 1 && self.history.len() == 0
    }

    pub(crate) fn slot(&self, id: ListId) -> Result<&ListSlot, Error> {
        self.lists
            .get(id.index())
            .filter(|s| !s.deleted)
            .ok_or_else(|| ErrorKind::UnknownList(id).into())
    }

    pub(crate) fn live(&self) -> impl Iterator<Item = (ListId, &ListSlot)> {
        self.lists
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.deleted)
            .map(|(i, s)| (ListId::new(i as u32), s))
    }

    pub(crate) fn list_by_name(&self, name: &str) -> Option<ListId> {
        self.names.get(&fold_key(name)).copied()
    }

    /// Rebuilds the name and keyword indexes, checking that every live
    /// list's name and keyword is unique (for loading).
    pub(crate) fn reindex(&mut self) -> Result<(), Error> {
        self.names.clear();
        self.keyword_index.clear();
        let live: Vec<(ListId, ListSettings)> = self
            .live()
            .map(|(id, s)| (id, s.settings.clone()))
            .collect();
        for (id, settings) in live {
            self.check_unique(&settings, None)?;
            self.index_list(id, &settings);
        }
        Ok(())
    }

    fn check_unique(&self, settings: &ListSettings, except: Option<ListId>) -> Result<(), Error> {
        if let Some(&id) = self.names.get(&settings.name_key())
            && Some(id) != except
        {
            return Err(ErrorKind::DuplicateName {
                name: settings.name().to_owned(),
            }
            .into());
        }
        if let Some(key) = settings.keyword_key()
            && let Some(&id) = self.keyword_index.get(&key)
            && Some(id) != except
        {
            return Err(ErrorKind::DuplicateKeyword {
                keyword: settings.keyword_text().unwrap_or_default().to_owned(),
                list: self
                    .slot(id)
                    .map(|s| s.settings.name().to_owned())
                    .unwrap_or_default(),
            }
            .into());
        }
        if let Some(key) = settings.keyword_key()
            && std::iter::once(&self.keywords)
                .chain(self.channel_keywords.values())
                .any(|k| k.extra_keys().any(|extra| extra == key))
        {
            return Err(Error::invalid_list(
                ListField::Keyword,
                format!(
                    "{:?} is already one of the account's own keywords",
                    settings.keyword_text().unwrap_or_default()
                ),
            ));
        }
        Ok(())
    }

    /// Refuses keyword settings whose extra words a list already uses as
    /// its opt-out keyword.
    fn check_extra_keywords(&self, keywords: &Keywords) -> Result<(), Error> {
        for key in keywords.extra_keys() {
            if let Some(&id) = self.keyword_index.get(&key) {
                let list = self.slot(id).ok().map(|s| &s.settings);
                return Err(ErrorKind::DuplicateKeyword {
                    keyword: list
                        .and_then(ListSettings::keyword_text)
                        .unwrap_or_default()
                        .to_owned(),
                    list: list.map(|s| s.name().to_owned()).unwrap_or_default(),
                }
                .into());
            }
        }
        Ok(())
    }

    fn index_list(&mut self, id: ListId, settings: &ListSettings) {
        self.names.insert(settings.name_key(), id);
        if let Some(key) = settings.keyword_key() {
            self.keyword_index.insert(key, id);
        }
    }

    fn unindex_list(&mut self, settings: &ListSettings) {
        self.names.remove(&settings.name_key());
        if let Some(key) = settings.keyword_key() {
            self.keyword_index.remove(&key);
        }
    }

    /// The id of an address, if it has one (a phone always does; an email
    /// once the store has seen it).
    pub(crate) fn lookup(&self, address: &Address) -> Option<AddressId> {
        match address {
            Address::Phone(p) => Some(p.id()),
            Address::Email(e) => self.emails.id(e),
        }
    }

    /// The scope a keyword change arriving on `channel` applies in.
    pub(crate) fn keyword_scope_of(&self, channel: &Channel) -> Scope {
        match self.keyword_scopes.get(channel) {
            Some(KeywordScope::Account) => Scope::Account,
            _ => Scope::Channel(channel.clone()),
        }
    }

    pub(crate) fn keywords_for(&self, channel: Option<&Channel>) -> &Keywords {
        channel
            .and_then(|c| self.channel_keywords.get(c))
            .unwrap_or(&self.keywords)
    }

    /// Checks that `op` can be applied to this state; nothing changes.
    pub(crate) fn validate(&self, op: &Op, rules: Rules) -> Result<(), Error> {
        match op {
            Op::Change(c) => {
                match c.action {
                    Action::OptOut | Action::OptIn => {
                        for &list in &c.lists {
                            self.slot(list)?;
                        }
                    }
                    Action::Block | Action::Unblock if c.lists.is_empty() => {}
                    _ => {
                        return Err(Error::corrupt(
                            "log",
                            0,
                            format!("a {} cannot be logged this way", c.action),
                        ));
                    }
                }
                self.check_who(&c.who, matches!(c.action, Action::OptOut | Action::Block))
            }
            Op::CreateList(settings) => {
                rules.list(settings)?;
                self.check_unique(settings, None)?;
                if u32::try_from(self.lists.len()).is_err() {
                    return Err(Error::invalid_list(
                        ListField::Name,
                        "cannot be added: too many lists",
                    ));
                }
                Ok(())
            }
            Op::UpdateList(id, settings) => {
                rules.list(settings)?;
                let current = self.slot(*id)?;
                if *id == ListId::SYSTEM && settings.name_key() != current.settings.name_key() {
                    return Err(ErrorKind::SystemList { action: "renamed" }.into());
                }
                self.check_unique(settings, Some(*id))
            }
            Op::DeleteList { list, .. } => {
                if *list == ListId::SYSTEM {
                    return Err(ErrorKind::SystemList { action: "deleted" }.into());
                }
                self.slot(*list).map(drop)
            }
            Op::KeywordScope(..) => Ok(()),
            Op::Keywords(_, keywords) => {
                rules.keywords(keywords)?;
                self.check_extra_keywords(keywords)
            }
            Op::Intern(emails) => self.check_who(
                &Who {
                    phones: RoaringTreemap::new(),
                    emails: emails.clone(),
                },
                true,
            ),
            Op::Clarify { who, pending, .. } => self.check_who(who, *pending),
            Op::Policy(policy) => {
                if self.is_pristine() || *policy == self.policy {
                    Ok(())
                } else {
                    Err(ErrorKind::PolicyMismatch {
                        stored: self.policy.to_string(),
                        requested: policy.to_string(),
                    }
                    .into())
                }
            }
            Op::Batch(ops) => ops.iter().try_for_each(|op| self.validate(op, rules)),
        }
    }

    fn check_who(&self, who: &Who, interns: bool) -> Result<(), Error> {
        if !phone_ids_valid(&who.phones) {
            return Err(Error::corrupt("log", 0, "phone id out of range"));
        }
        if who.emails.iter().any(|e| !is_canonical_shape(e.as_str())) {
            return Err(Error::corrupt("log", 0, "not a canonical email address"));
        }
        if interns {
            let room = (u64::from(u32::MAX) + 1).saturating_sub(self.emails.len() as u64);
            let new = who
                .emails
                .iter()
                .filter(|e| self.emails.id(e).is_none())
                .count() as u64;
            if new > room {
                return Err(ErrorKind::EmailTableFull.into());
            }
        }
        Ok(())
    }

    /// Applies a validated operation as number `seq`; returns what changed.
    pub(crate) fn apply(&mut self, op: &Op, seq: u64) -> Applied {
        let applied = self.apply_one(op);
        self.seq = seq;
        applied
    }

    fn apply_one(&mut self, op: &Op) -> Applied {
        match op {
            Op::Change(c) => self.apply_change(c),
            Op::CreateList(settings) => {
                let id = ListId::new(self.lists.len() as u32);
                self.index_list(id, settings);
                self.lists.push(ListSlot {
                    settings: settings.clone(),
                    entries: Entries::default(),
                    deleted: false,
                });
                self.keywords_version += 1;
                Applied {
                    list: Some(id),
                    ..Applied::default()
                }
            }
            Op::UpdateList(id, settings) => {
                if let Some(slot) = self.lists.get_mut(id.index()) {
                    let old = std::mem::replace(&mut slot.settings, settings.clone());
                    self.unindex_list(&old);
                    self.index_list(*id, settings);
                }
                self.keywords_version += 1;
                Applied::default()
            }
            Op::DeleteList { list, at, source } => {
                let mut applied = Applied::default();
                let Some(slot) = self.lists.get_mut(list.index()) else {
                    return applied;
                };
                slot.deleted = true;
                let entries = std::mem::take(&mut slot.entries);
                let settings = slot.settings.clone();
                self.unindex_list(&settings);
                self.keywords_version += 1;
                // The record keeps every address the deletion removed.
                for (scope, ids) in entries.scopes() {
                    applied.changed += ids.len();
                    let template = Record {
                        at: *at,
                        action: Action::ListDeleted,
                        list: Some(*list),
                        scope,
                        source: *source,
                        addresses: Addresses::Many(RoaringTreemap::new()),
                    };
                    self.history.push_many(&template, ids.clone());
                }
                applied
            }
            Op::KeywordScope(channel, scope) => {
                match scope {
                    KeywordScope::Channel => self.keyword_scopes.remove(channel),
                    KeywordScope::Account => self.keyword_scopes.insert(channel.clone(), *scope),
                };
                Applied::default()
            }
            Op::Keywords(channel, keywords) => {
                match channel {
                    None => self.keywords = keywords.clone(),
                    Some(c) => {
                        self.channel_keywords.insert(c.clone(), keywords.clone());
                    }
                }
                self.keywords_version += 1;
                Applied::default()
            }
            Op::Intern(emails) => {
                let table = Arc::make_mut(&mut self.emails);
                for e in emails {
                    // Validated: the table has room.
                    let _ = table.intern(e);
                }
                Applied::default()
            }
            Op::Clarify {
                who,
                scope,
                pending,
            } => {
                let ids = self.ids_of(who, *pending);
                let set = self.pending.scope_mut(scope);
                if *pending {
                    *set |= &*ids;
                } else {
                    *set -= &*ids;
                }
                self.pending.prune(scope);
                Applied::default()
            }
            Op::Policy(policy) => {
                if self.policy != *policy {
                    self.policy = *policy;
                    self.emails = Arc::new(EmailTable::new(policy.email_aliases));
                }
                Applied::default()
            }
            Op::Batch(ops) => {
                let mut all = Applied::default();
                for op in ops {
                    let one = self.apply_one(op);
                    all.changes.extend(one.changes);
                    all.changed += one.changed;
                    all.unchanged += one.unchanged;
                    all.list = all.list.or(one.list);
                }
                all
            }
        }
    }

    /// The ids of the addresses an operation names: emails interned when
    /// `intern`, else looked up (unknown ones have no entries to change).
    fn ids_of<'w>(&mut self, who: &'w Who, intern: bool) -> Cow<'w, RoaringTreemap> {
        let mut ids: Vec<u64> = Vec::with_capacity(who.emails.len());
        if intern && !who.emails.is_empty() {
            let table = Arc::make_mut(&mut self.emails);
            for e in &who.emails {
                if let Ok(id) = table.intern(e) {
                    ids.push(id.get());
                }
            }
        } else {
            ids.extend(
                who.emails
                    .iter()
                    .filter_map(|e| self.emails.id(e))
                    .map(AddressId::get),
            );
        }
        if ids.is_empty() {
            return Cow::Borrowed(&who.phones);
        }
        let mut set = crate::bitmap::from_unsorted(ids);
        crate::bitmap::union_into(&mut set, &who.phones);
        Cow::Owned(set)
    }

    fn apply_change(&mut self, c: &ChangeOp) -> Applied {
        let adds = matches!(c.action, Action::OptOut | Action::Block);
        let ids = self.ids_of(&c.who, adds);
        let single = (ids.len() == 1)
            .then(|| ids.min().and_then(AddressId::new))
            .flatten();
        let mut applied = Applied::default();
        let mut record = |state: &mut State, list: Option<ListId>, changed: Changed| {
            let n = changed.len();
            applied.changed += n;
            applied.unchanged += c.requested.saturating_sub(n);
            let addresses = match changed {
                Changed::One(None) => return,
                Changed::One(Some(address)) => {
                    applied.changes.push(Change {
                        at: c.at,
                        action: c.action,
                        list,
                        scope: c.scope.clone(),
                        address,
                        source: c.source,
                    });
                    Addresses::One(address)
                }
                // `single` is set only for one id, which `change_set`
                // answers with `Changed::One`.
                Changed::Many(ids) => Addresses::Many(ids),
            };
            let template = Record {
                at: c.at,
                action: c.action,
                list,
                scope: c.scope.clone(),
                source: c.source,
                addresses: Addresses::Many(RoaringTreemap::new()),
            };
            match addresses {
                Addresses::Many(ids) => state.history.push_many(&template, ids),
                one => state.history.push_record(Record {
                    addresses: one,
                    ..template
                }),
            }
        };
        match c.action {
            Action::OptOut | Action::OptIn => {
                for &list in &c.lists {
                    let Some(slot) = self.lists.get_mut(list.index()) else {
                        continue;
                    };
                    let target = slot.entries.scope_mut(&c.scope);
                    let changed = change_set(target, &ids, single, adds);
                    slot.entries.prune(&c.scope);
                    record(self, Some(list), changed);
                }
            }
            _ => {
                let changed = change_set(&mut self.blocked, &ids, single, adds);
                record(self, None, changed);
            }
        }
        applied
    }
}

/// The ids a change set changed.
enum Changed {
    /// A single-address change: the id, if it changed.
    One(Option<AddressId>),
    Many(RoaringTreemap),
}

impl Changed {
    fn len(&self) -> u64 {
        match self {
            Changed::One(id) => u64::from(id.is_some()),
            Changed::Many(ids) => ids.len(),
        }
    }
}

/// Adds `ids` to `target` (or removes them) and returns those that
/// changed; one id (most changes) by a single insert or remove.
fn change_set(
    target: &mut RoaringTreemap,
    ids: &RoaringTreemap,
    single: Option<AddressId>,
    adds: bool,
) -> Changed {
    if let Some(id) = single {
        let changed = if adds {
            target.insert(id.get())
        } else {
            target.remove(id.get())
        };
        return Changed::One(changed.then_some(id));
    }
    if adds {
        let changed = ids - &*target;
        crate::bitmap::union_into(target, &changed);
        Changed::Many(changed)
    } else {
        let changed = crate::bitmap::intersection(ids, target);
        *target -= &changed;
        Changed::Many(changed)
    }
}

/// What applying an operation did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Applied {
    /// One change per list an address changed on, for single-address
    /// operations.
    pub(crate) changes: Vec<Change>,
    /// Address–list pairs that changed.
    pub(crate) changed: u64,
    /// Address–list pairs that were already in the requested state.
    pub(crate) unchanged: u64,
    /// The list a list creation made.
    pub(crate) list: Option<ListId>,
}

/// Every id is a valid phone id.
pub(crate) fn phone_ids_valid(ids: &RoaringTreemap) -> bool {
    ids.min() != Some(0) && ids.max().is_none_or(|m| m < PHONE_LIMIT)
}

/// Every id is a phone id or the id of one of `emails` interned emails.
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

/// Which checks an operation passes before it is applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rules {
    /// A new change: every limit, and keywords checked against this
    /// version's word lists and classifier.
    Commit,
    /// A recorded change read back: the same checks except those that
    /// depend on word lists, which a later version may extend — a record
    /// that was valid when it was made must not stop the store opening.
    Replay,
}

impl Rules {
    fn list(self, settings: &ListSettings) -> Result<(), Error> {
        match self {
            Rules::Commit => settings.validate(),
            Rules::Replay => settings.check_shape(),
        }
    }

    fn keywords(self, keywords: &Keywords) -> Result<(), Error> {
        match self {
            Rules::Commit => keywords.validate(),
            Rules::Replay => keywords.check_shape(),
        }
    }
}
