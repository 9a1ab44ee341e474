//! The mutable state: lists and their entries per scope, the blocked set,
//! channel settings, the email id table and the change history.
//!
//! A [`Store`] is shared between threads (`&self` everywhere). Writers hold
//! a lock only for the change itself; a send compiles its suppression under
//! a short read lock into an owned [`Suppression`](crate::Suppression) and
//! filters from that copy, so a change made before the compile is honoured
//! and changes made during the filter do not tear it.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::ops::RangeBounds;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use roaring::RoaringTreemap;

use crate::address::{Address, Email};
use crate::clock::{Clock, SystemClock, Timestamp};
use crate::error::Error;
use crate::history::{Action, Change, History};
use crate::id::{AddressId, EmailTable};
use crate::keyword::{KeywordMatcher, Keywords};
use crate::list::{List, ListId, ListSettings, SYSTEM_LIST_NAME};

/// A sending channel: a sender number, a WhatsApp profile, an email sender.
///
/// # Example
///
/// ```
/// use optout::ChannelId;
///
/// let whatsapp = ChannelId::new(101);
/// assert_eq!(whatsapp.get(), 101);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct ChannelId(u64);

impl ChannelId {
    /// A channel id.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(optout::ChannelId::new(7).get(), 7);
    /// ```
    pub const fn new(id: u64) -> ChannelId {
        ChannelId(id)
    }

    /// The raw value.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(optout::ChannelId::new(7).get(), 7);
    /// ```
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for ChannelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Where an opt-out applies.
///
/// A send on channel C is suppressed by account-wide entries and by
/// entries scoped to C, never by entries scoped to another channel.
///
/// # Example
///
/// ```
/// use optout::{ChannelId, Scope};
///
/// assert_eq!(Scope::default(), Scope::Account);
/// assert_eq!(Scope::Channel(ChannelId::new(3)).to_string(), "channel 3");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Scope {
    /// Every channel of the account.
    #[default]
    Account,
    /// One channel.
    Channel(ChannelId),
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Account => f.write_str("account"),
            Scope::Channel(c) => write!(f, "channel {c}"),
        }
    }
}

/// How a change came in.
///
/// # Example
///
/// ```
/// use optout::Source;
///
/// assert_eq!(Source::WebForm.to_string(), "web form");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Source {
    /// Entered by a person.
    #[default]
    Manual,
    /// An inbound keyword (STOP, START, …).
    Keyword,
    /// A web form or unsubscribe link; always account-wide.
    WebForm,
    /// A file import.
    Import,
    /// An API call or a connector.
    Api,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Source::Manual => "manual",
            Source::Keyword => "keyword",
            Source::WebForm => "web form",
            Source::Import => "import",
            Source::Api => "api",
        })
    }
}

/// Where a channel's keyword opt-outs apply.
///
/// # Example
///
/// ```
/// use optout::{ChannelId, KeywordScope, Store};
///
/// let store = Store::new();
/// let sender = ChannelId::new(1);
/// assert_eq!(store.keyword_scope(sender), KeywordScope::Channel);
/// store.set_keyword_scope(sender, KeywordScope::Account);
/// assert_eq!(store.keyword_scope(sender), KeywordScope::Account);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum KeywordScope {
    /// A keyword opt-out applies to the channel it arrived on (the default).
    #[default]
    Channel,
    /// The channel enforces account-level opt-outs: its keyword opt-outs
    /// apply to every channel.
    Account,
}

/// The details of an opt-out, opt-in, block or unblock: which lists, which
/// scope, the source and the time.
///
/// By default: the system list, account-wide, [`Source::Manual`], the
/// store's clock.
///
/// # Example
///
/// ```
/// use optout::{ChannelId, Edit, ListId, Scope, Source, Timestamp};
///
/// let edit = Edit::new()
///     .list(ListId::SYSTEM)
///     .scope(Scope::Channel(ChannelId::new(101)))
///     .source(Source::Keyword)
///     .at(Timestamp::from_unix_secs(1_700_000_000));
/// assert_eq!(edit.lists(), [ListId::SYSTEM]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    lists: Vec<ListId>,
    scope: Scope,
    source: Source,
    at: Option<Timestamp>,
}

impl Default for Edit {
    fn default() -> Edit {
        Edit {
            lists: vec![ListId::SYSTEM],
            scope: Scope::Account,
            source: Source::Manual,
            at: None,
        }
    }
}

impl Edit {
    /// The default edit: system list, account-wide, manual, now.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Edit, Scope};
    ///
    /// assert_eq!(Edit::new().scope_value(), Scope::Account);
    /// ```
    pub fn new() -> Edit {
        Edit::default()
    }

    /// Applies to one list.
    ///
    /// # Example
    ///
    /// ```
    /// # use optout::{Edit, ListId};
    /// assert_eq!(Edit::new().list(ListId::SYSTEM).lists(), [ListId::SYSTEM]);
    /// ```
    pub fn list(mut self, list: ListId) -> Edit {
        self.lists = vec![list];
        self
    }

    /// Applies to several lists at once.
    ///
    /// # Example
    ///
    /// ```
    /// # use optout::{Edit, ListId};
    /// assert_eq!(Edit::new().lists_of([ListId::SYSTEM]).lists().len(), 1);
    /// ```
    pub fn lists_of(mut self, lists: impl IntoIterator<Item = ListId>) -> Edit {
        self.lists = lists.into_iter().collect();
        self.lists.dedup();
        self
    }

    /// Sets the scope.
    ///
    /// # Example
    ///
    /// ```
    /// # use optout::{ChannelId, Edit, Scope};
    /// let e = Edit::new().scope(Scope::Channel(ChannelId::new(2)));
    /// assert_eq!(e.scope_value(), Scope::Channel(ChannelId::new(2)));
    /// ```
    pub fn scope(mut self, scope: Scope) -> Edit {
        self.scope = scope;
        self
    }

    /// Sets the source.
    ///
    /// # Example
    ///
    /// ```
    /// # use optout::{Edit, Source};
    /// assert_eq!(Edit::new().source(Source::Import).source_value(), Source::Import);
    /// ```
    pub fn source(mut self, source: Source) -> Edit {
        self.source = source;
        self
    }

    /// Sets the time, instead of asking the store's clock.
    ///
    /// # Example
    ///
    /// ```
    /// # use optout::{Edit, Timestamp};
    /// let t = Timestamp::from_unix_secs(5);
    /// assert_eq!(Edit::new().at(t).time(), Some(t));
    /// ```
    pub fn at(mut self, at: Timestamp) -> Edit {
        self.at = Some(at);
        self
    }

    /// The lists.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(optout::Edit::new().lists(), [optout::ListId::SYSTEM]);
    /// ```
    pub fn lists(&self) -> &[ListId] {
        &self.lists
    }

    /// The scope as given (web-form and enforced-channel keyword edits are
    /// widened to the account when applied).
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(optout::Edit::new().scope_value(), optout::Scope::Account);
    /// ```
    pub fn scope_value(&self) -> Scope {
        self.scope
    }

    /// The source.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(optout::Edit::new().source_value(), optout::Source::Manual);
    /// ```
    pub fn source_value(&self) -> Source {
        self.source
    }

    /// The time, if one was set.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(optout::Edit::new().time(), None);
    /// ```
    pub fn time(&self) -> Option<Timestamp> {
        self.at
    }
}

/// What a bulk change did.
///
/// # Example
///
/// ```
/// use optout::{Edit, Normalizer, Store};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let n = Normalizer::default();
/// let people = [n.address("+14155550123")?, n.address("+14155550124")?];
/// let store = Store::new();
/// let bulk = store.opt_out_many(&people, &Edit::new())?;
/// assert_eq!((bulk.changed, bulk.unchanged), (2, 0));
/// let again = store.opt_out_many(&people, &Edit::new())?;
/// assert_eq!((again.changed, again.unchanged), (0, 2));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Bulk {
    /// Address–list pairs that changed.
    pub changed: u64,
    /// Address–list pairs that were already in the requested state.
    pub unchanged: u64,
}

/// One list's entries: account-wide and per channel.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Entries {
    pub(crate) account: RoaringTreemap,
    pub(crate) channels: BTreeMap<ChannelId, RoaringTreemap>,
}

impl Entries {
    pub(crate) fn scope(&self, scope: Scope) -> Option<&RoaringTreemap> {
        match scope {
            Scope::Account => Some(&self.account),
            Scope::Channel(c) => self.channels.get(&c),
        }
    }

    fn scope_mut(&mut self, scope: Scope) -> &mut RoaringTreemap {
        match scope {
            Scope::Account => &mut self.account,
            Scope::Channel(c) => self.channels.entry(c).or_default(),
        }
    }

    /// The entries that apply to a send on `channel`.
    pub(crate) fn applying_to(
        &self,
        channel: Option<ChannelId>,
    ) -> impl Iterator<Item = &RoaringTreemap> {
        std::iter::once(&self.account).chain(channel.and_then(|c| self.channels.get(&c)))
    }

    /// Drops a channel's entry once its set is empty (other channels are
    /// not looked at, so a change costs the same however many channels
    /// there are).
    fn prune(&mut self, scope: Scope) {
        if let Scope::Channel(c) = scope
            && self.channels.get(&c).is_some_and(RoaringTreemap::is_empty)
        {
            self.channels.remove(&c);
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ListSlot {
    pub(crate) settings: ListSettings,
    pub(crate) entries: Entries,
    pub(crate) deleted: bool,
}

/// Everything a store holds, behind its lock.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct State {
    pub(crate) lists: Vec<ListSlot>,
    pub(crate) blocked: RoaringTreemap,
    pub(crate) keyword_scopes: BTreeMap<ChannelId, KeywordScope>,
    pub(crate) emails: Arc<EmailTable>,
    pub(crate) history: History,
    pub(crate) keywords: Keywords,
    pub(crate) channel_keywords: BTreeMap<ChannelId, Keywords>,
    /// Compiled from `keywords` and the lists' own keywords; rebuilt on
    /// every change to either.
    pub(crate) matcher: Arc<KeywordMatcher>,
    pub(crate) channel_matchers: BTreeMap<ChannelId, Arc<KeywordMatcher>>,
    /// Set by every change to keywords or lists; the matchers are rebuilt
    /// when next needed, so creating many lists stays linear.
    pub(crate) keywords_dirty: bool,
    /// Live lists by folded name and by folded keyword, for uniqueness
    /// checks that do not scan every list.
    pub(crate) names: HashMap<String, ListId>,
    pub(crate) keyword_index: HashMap<String, ListId>,
}

impl Default for State {
    fn default() -> State {
        State {
            lists: vec![ListSlot {
                settings: ListSettings::new(SYSTEM_LIST_NAME),
                entries: Entries::default(),
                deleted: false,
            }],
            blocked: RoaringTreemap::new(),
            keyword_scopes: BTreeMap::new(),
            emails: Arc::new(EmailTable::new()),
            history: History::default(),
            keywords: Keywords::default(),
            channel_keywords: BTreeMap::new(),
            matcher: Arc::new(Keywords::default().compile(&[])),
            channel_matchers: BTreeMap::new(),
            keywords_dirty: false,
            names: [(crate::list::fold_key(SYSTEM_LIST_NAME), ListId::SYSTEM)].into(),
            keyword_index: HashMap::new(),
        }
    }
}

impl State {
    /// Recompiles the keyword matchers after a keyword or list change.
    pub(crate) fn recompile_keywords(&mut self) {
        self.keywords_dirty = false;
        let lists: Vec<(String, ListId)> = self
            .live()
            .filter_map(|(id, slot)| slot.settings.keyword_text().map(|k| (k.to_owned(), id)))
            .collect();
        self.matcher = Arc::new(self.keywords.compile(&lists));
        self.channel_matchers = self
            .channel_keywords
            .iter()
            .map(|(c, k)| (*c, Arc::new(k.compile(&lists))))
            .collect();
    }

    pub(crate) fn slot(&self, id: ListId) -> Result<&ListSlot, Error> {
        self.lists
            .get(id.0 as usize)
            .filter(|s| !s.deleted)
            .ok_or(Error::UnknownList(id))
    }

    fn slot_mut(&mut self, id: ListId) -> Result<&mut ListSlot, Error> {
        self.lists
            .get_mut(id.0 as usize)
            .filter(|s| !s.deleted)
            .ok_or(Error::UnknownList(id))
    }

    pub(crate) fn live(&self) -> impl Iterator<Item = (ListId, &ListSlot)> {
        self.lists
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.deleted)
            .map(|(i, s)| (ListId(i as u32), s))
    }

    /// Rebuilds the name and keyword indexes, checking that every live
    /// list's name and keyword is unique (for loading).
    pub(crate) fn check_lists_unique(&mut self) -> Result<(), Error> {
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
            return Err(Error::DuplicateName {
                name: settings.name().to_owned(),
            });
        }
        if let Some(key) = settings.keyword_key()
            && let Some(&id) = self.keyword_index.get(&key)
            && Some(id) != except
        {
            return Err(Error::DuplicateKeyword {
                keyword: settings.keyword_text().unwrap_or_default().to_owned(),
                list: self
                    .slot(id)
                    .map(|s| s.settings.name().to_owned())
                    .unwrap_or_default(),
            });
        }
        if let Some(key) = settings.keyword_key()
            && std::iter::once(&self.keywords)
                .chain(self.channel_keywords.values())
                .any(|k| k.extra_keys().any(|extra| extra == key))
        {
            return Err(Error::InvalidList {
                field: crate::ListField::Keyword,
                reason: format!(
                    "{:?} is already one of the account's own keywords",
                    settings.keyword_text().unwrap_or_default()
                ),
            });
        }
        Ok(())
    }

    /// Refuses keyword settings whose extra words a list already uses as
    /// its opt-out keyword.
    pub(crate) fn check_extra_keywords(&self, keywords: &Keywords) -> Result<(), Error> {
        for key in keywords.extra_keys() {
            if let Some(&id) = self.keyword_index.get(&key) {
                let list = self.slot(id).ok().map(|s| &s.settings);
                return Err(Error::DuplicateKeyword {
                    keyword: list
                        .and_then(ListSettings::keyword_text)
                        .unwrap_or_default()
                        .to_owned(),
                    list: list.map(|s| s.name().to_owned()).unwrap_or_default(),
                });
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

    /// The id of an address, interning a new email address when `intern`.
    pub(crate) fn id_of(
        &mut self,
        address: &Address,
        intern: bool,
    ) -> Result<Option<AddressId>, Error> {
        match address {
            Address::Phone(p) => Ok(Some(p.id())),
            Address::Email(e) if intern => Ok(Some(Arc::make_mut(&mut self.emails).intern(e)?)),
            Address::Email(e) => Ok(self.emails.id(e)),
        }
    }

    pub(crate) fn lookup(&self, address: &Address) -> Option<AddressId> {
        match address {
            Address::Phone(p) => Some(p.id()),
            Address::Email(e) => self.emails.id(e),
        }
    }

    pub(crate) fn effective_scope(&self, edit: &Edit) -> Scope {
        match (edit.source, edit.scope) {
            (Source::WebForm, _) => Scope::Account,
            (Source::Keyword, Scope::Channel(c))
                if self.keyword_scopes.get(&c).copied().unwrap_or_default()
                    == KeywordScope::Account =>
            {
                Scope::Account
            }
            (_, scope) => scope,
        }
    }

    /// Applies `action` for one id to every list of the edit; returns the
    /// changes made.
    pub(crate) fn apply(
        &mut self,
        id: AddressId,
        action: Action,
        edit: &Edit,
        at: Timestamp,
    ) -> Result<Vec<Change>, Error> {
        let scope = self.effective_scope(edit);
        self.apply_in(id, action, edit, scope, at)
    }

    /// As [`State::apply`], in `scope` as given (not widened by the
    /// channel's keyword scope).
    pub(crate) fn apply_in(
        &mut self,
        id: AddressId,
        action: Action,
        edit: &Edit,
        scope: Scope,
        at: Timestamp,
    ) -> Result<Vec<Change>, Error> {
        let mut changes = Vec::new();
        match action {
            Action::OptOut | Action::OptIn => {
                for &list in &edit.lists {
                    let slot = self.slot_mut(list)?;
                    let set = slot.entries.scope_mut(scope);
                    let changed = match action {
                        Action::OptOut => set.insert(id.get()),
                        _ => set.remove(id.get()),
                    };
                    slot.entries.prune(scope);
                    if changed {
                        changes.push(Change {
                            at,
                            action,
                            list: Some(list),
                            scope,
                            address: id,
                            source: edit.source,
                        });
                    }
                }
            }
            Action::Block | Action::Unblock => {
                let changed = match action {
                    Action::Block => self.blocked.insert(id.get()),
                    _ => self.blocked.remove(id.get()),
                };
                if changed {
                    changes.push(Change {
                        at,
                        action,
                        list: None,
                        scope: Scope::Account,
                        address: id,
                        source: edit.source,
                    });
                }
            }
        }
        for change in &changes {
            self.history.push(change);
        }
        Ok(changes)
    }

    /// The first email id in `ids` that the email table has not assigned.
    fn unknown_email_id(&self, ids: &RoaringTreemap) -> Option<AddressId> {
        let max = ids.max().and_then(AddressId::new)?;
        let index = max.email_index()?;
        if u64::from(index) < self.emails.len() as u64 {
            return None;
        }
        let first = AddressId::from_email_index(u32::try_from(self.emails.len()).ok()?);
        ids.iter()
            .find(|&v| v >= first.get())
            .and_then(AddressId::new)
    }

    fn check_lists(&self, edit: &Edit) -> Result<(), Error> {
        edit.lists
            .iter()
            .try_for_each(|&l| self.slot(l).map(|_| ()))
    }
}

/// Lists, scopes, the blocked set and the history: the state a sender
/// filters against.
///
/// `Store` is `Send + Sync` and every method takes `&self`, so one store
/// serves a whole service. See the [module docs](crate#the-store) for how
/// reads stay consistent while writes go on.
///
/// # Example
///
/// ```
/// use optout::{Category, ChannelId, Dispatch, Edit, Normalizer, Region, Scope, Store};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let n = Normalizer::new(Region::new("US")?);
/// let store = Store::new();
/// store.opt_out(&n.address("(415) 555-0123")?, &Edit::new())?;
///
/// let send = Dispatch::new(Category::Marketing).channel(ChannelId::new(1));
/// let split = store.compile(&send)?.split(&n, &["+14155550123", "+14155550124"]);
/// assert_eq!(split.report().to_string(), "1 sendable, 1 skipped (opted-out)");
/// # Ok(())
/// # }
/// ```
pub struct Store {
    state: RwLock<State>,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.read();
        f.debug_struct("Store")
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

impl Store {
    /// An empty store (just the system list) on the system clock.
    ///
    /// # Example
    ///
    /// ```
    /// let store = optout::Store::new();
    /// assert_eq!(store.lists().len(), 1);
    /// ```
    pub fn new() -> Store {
        Store::with_clock(SystemClock)
    }

    /// An empty store whose changes are timed by `clock` unless an
    /// [`Edit`] carries its own time.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Edit, Normalizer, Store, Timestamp};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::with_clock(|| Timestamp::from_unix_secs(42));
    /// let a = Normalizer::default().address("+14155550123")?;
    /// assert_eq!(store.opt_out(&a, &Edit::new())?[0].at, Timestamp::from_unix_secs(42));
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_clock(clock: impl Clock + 'static) -> Store {
        Store::from_state(State::default(), Arc::new(clock))
    }

    pub(crate) fn from_state(state: State, clock: Arc<dyn Clock>) -> Store {
        Store {
            state: RwLock::new(state),
            clock,
        }
    }

    pub(crate) fn read(&self) -> RwLockReadGuard<'_, State> {
        // A panic while holding the lock cannot leave a half-applied change:
        // every write validates before it mutates.
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Creates a custom list.
    ///
    /// # Errors
    ///
    /// [`Error::TooLong`] or [`Error::InvalidList`] for a setting out of its
    /// limits, [`Error::DuplicateName`] or [`Error::DuplicateKeyword`] when
    /// another list has them. Nothing changes on error.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Error, ListSettings, Store};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::new();
    /// let promo = store.create_list(ListSettings::new("Promotions").keyword("STOPPROMO"))?;
    /// assert_eq!(store.list(promo).unwrap().name(), "Promotions");
    /// let dup = store.create_list(ListSettings::new("promotions"));
    /// assert!(matches!(dup, Err(Error::DuplicateName { .. })));
    /// # Ok(())
    /// # }
    /// ```
    pub fn create_list(&self, settings: ListSettings) -> Result<ListId, Error> {
        settings.validate()?;
        let mut state = self.write();
        state.check_unique(&settings, None)?;
        let id = u32::try_from(state.lists.len()).map_err(|_| Error::InvalidList {
            field: crate::ListField::Name,
            reason: "cannot be added: too many lists".into(),
        })?;
        state.index_list(ListId(id), &settings);
        state.lists.push(ListSlot {
            settings,
            entries: Entries::default(),
            deleted: false,
        });
        state.keywords_dirty = true;
        Ok(ListId(id))
    }

    /// Replaces a list's settings. The system list keeps its name.
    ///
    /// # Errors
    ///
    /// As [`Store::create_list`], plus [`Error::UnknownList`] and
    /// [`Error::SystemList`] for renaming the system list.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Error, ListId, ListSettings, Store};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::new();
    /// store.update_list(ListId::SYSTEM, ListSettings::new("Default").confirmation("Bye!"))?;
    /// let rename = store.update_list(ListId::SYSTEM, ListSettings::new("Other"));
    /// assert!(matches!(rename, Err(Error::SystemList { .. })));
    /// # Ok(())
    /// # }
    /// ```
    pub fn update_list(&self, id: ListId, settings: ListSettings) -> Result<(), Error> {
        settings.validate()?;
        let mut state = self.write();
        let current = state.slot(id)?;
        if id == ListId::SYSTEM && settings.name_key() != current.settings.name_key() {
            return Err(Error::SystemList { action: "renamed" });
        }
        state.check_unique(&settings, Some(id))?;
        let old = std::mem::replace(&mut state.slot_mut(id)?.settings, settings.clone());
        state.unindex_list(&old);
        state.index_list(id, &settings);
        state.keywords_dirty = true;
        Ok(())
    }

    /// Deletes a custom list and its entries. Addresses that are also on
    /// other lists stay suppressed by them.
    ///
    /// # Errors
    ///
    /// [`Error::SystemList`] for the system list, [`Error::UnknownList`].
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Error, ListId, ListSettings, Store};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::new();
    /// let promo = store.create_list(ListSettings::new("Promotions"))?;
    /// store.delete_list(promo)?;
    /// assert!(store.list(promo).is_none());
    /// assert!(matches!(store.delete_list(ListId::SYSTEM), Err(Error::SystemList { .. })));
    /// # Ok(())
    /// # }
    /// ```
    pub fn delete_list(&self, id: ListId) -> Result<(), Error> {
        if id == ListId::SYSTEM {
            return Err(Error::SystemList { action: "deleted" });
        }
        let mut state = self.write();
        let slot = state.slot_mut(id)?;
        slot.deleted = true;
        slot.entries = Entries::default();
        let settings = slot.settings.clone();
        state.unindex_list(&settings);
        state.keywords_dirty = true;
        Ok(())
    }

    /// A list by id, if it exists.
    ///
    /// # Example
    ///
    /// ```
    /// let store = optout::Store::new();
    /// assert!(store.list(optout::ListId::SYSTEM).is_some());
    /// ```
    pub fn list(&self, id: ListId) -> Option<List> {
        let state = self.read();
        state.slot(id).ok().map(|s| List {
            id,
            settings: s.settings.clone(),
        })
    }

    /// A list by name (ignoring case and spacing), if it exists.
    ///
    /// # Example
    ///
    /// ```
    /// let store = optout::Store::new();
    /// assert_eq!(store.list_named("default").map(|l| l.id()), Some(optout::ListId::SYSTEM));
    /// ```
    pub fn list_named(&self, name: &str) -> Option<List> {
        let key = crate::list::fold_key(name);
        let state = self.read();
        state
            .live()
            .find(|(_, s)| s.settings.name_key() == key)
            .map(|(id, s)| List {
                id,
                settings: s.settings.clone(),
            })
    }

    /// Every list, the system list first.
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = optout::Store::new();
    /// store.create_list(optout::ListSettings::new("VIP"))?;
    /// let names: Vec<String> = store.lists().iter().map(|l| l.name().to_owned()).collect();
    /// assert_eq!(names, ["Default", "VIP"]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn lists(&self) -> Vec<List> {
        let state = self.read();
        state
            .live()
            .map(|(id, s)| List {
                id,
                settings: s.settings.clone(),
            })
            .collect()
    }

    /// Sets where a channel's keyword opt-outs (and opt-ins) apply.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{ChannelId, KeywordScope, Store};
    ///
    /// let store = Store::new();
    /// store.set_keyword_scope(ChannelId::new(9), KeywordScope::Account);
    /// assert_eq!(store.keyword_scope(ChannelId::new(9)), KeywordScope::Account);
    /// ```
    pub fn set_keyword_scope(&self, channel: ChannelId, scope: KeywordScope) {
        let mut state = self.write();
        match scope {
            KeywordScope::Channel => state.keyword_scopes.remove(&channel),
            KeywordScope::Account => state.keyword_scopes.insert(channel, scope),
        };
    }

    /// Where a channel's keyword opt-outs apply.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{ChannelId, KeywordScope, Store};
    ///
    /// assert_eq!(Store::new().keyword_scope(ChannelId::new(9)), KeywordScope::Channel);
    /// ```
    pub fn keyword_scope(&self, channel: ChannelId) -> KeywordScope {
        self.read()
            .keyword_scopes
            .get(&channel)
            .copied()
            .unwrap_or_default()
    }

    pub(crate) fn time(&self, edit: &Edit) -> Timestamp {
        edit.at.unwrap_or_else(|| self.clock.now())
    }

    /// Adds an address to the edit's lists in its scope. The address need
    /// not be a known contact. Web-form opt-outs are always account-wide;
    /// keyword opt-outs on a channel that enforces account-level opt-outs
    /// are too.
    ///
    /// Returns one [`Change`] per list the address was not already on.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownList`]; nothing changes.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{ChannelId, Edit, Normalizer, Scope, Source, Store};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::new();
    /// let ann = Normalizer::default().address("ann@example.com")?;
    /// let edit = Edit::new().scope(Scope::Channel(ChannelId::new(5))).source(Source::WebForm);
    /// let changes = store.opt_out(&ann, &edit)?;
    /// assert_eq!(changes[0].scope, Scope::Account); // web forms are account-wide
    /// assert!(store.opt_out(&ann, &edit)?.is_empty()); // already opted out
    /// # Ok(())
    /// # }
    /// ```
    pub fn opt_out(&self, address: &Address, edit: &Edit) -> Result<Vec<Change>, Error> {
        let at = self.time(edit);
        let mut state = self.write();
        state.check_lists(edit)?;
        let Some(id) = state.id_of(address, true)? else {
            return Ok(Vec::new());
        };
        state.apply(id, Action::OptOut, edit, at)
    }

    /// Removes an address from the edit's lists in its scope (an opt-in).
    ///
    /// Returns one [`Change`] per list the address was on.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownList`]; nothing changes.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Edit, Normalizer, Store};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::new();
    /// let bob = Normalizer::default().address("+447911123456")?;
    /// assert!(store.opt_in(&bob, &Edit::new())?.is_empty()); // was never opted out
    /// store.opt_out(&bob, &Edit::new())?;
    /// assert_eq!(store.opt_in(&bob, &Edit::new())?.len(), 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn opt_in(&self, address: &Address, edit: &Edit) -> Result<Vec<Change>, Error> {
        let at = self.time(edit);
        let mut state = self.write();
        state.check_lists(edit)?;
        let Some(id) = state.id_of(address, false)? else {
            return Ok(Vec::new());
        };
        state.apply(id, Action::OptIn, edit, at)
    }

    /// Blocks an address: it receives nothing, of any category. The edit's
    /// lists and scope are ignored (blocking is account-wide).
    ///
    /// # Errors
    ///
    /// [`Error::EmailTableFull`]; nothing changes.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Edit, Normalizer, Store};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::new();
    /// let spammer = Normalizer::default().address("+14155550199")?;
    /// store.block(&spammer, &Edit::new())?;
    /// assert!(store.is_blocked(&spammer));
    /// # Ok(())
    /// # }
    /// ```
    pub fn block(&self, address: &Address, edit: &Edit) -> Result<Option<Change>, Error> {
        let at = self.time(edit);
        let mut state = self.write();
        let Some(id) = state.id_of(address, true)? else {
            return Ok(None);
        };
        Ok(state.apply(id, Action::Block, edit, at)?.pop())
    }

    /// Unblocks an address.
    ///
    /// # Errors
    ///
    /// None today; the signature leaves room for validation.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Edit, Normalizer, Store};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::new();
    /// let a = Normalizer::default().address("+14155550199")?;
    /// store.block(&a, &Edit::new())?;
    /// assert!(store.unblock(&a, &Edit::new())?.is_some());
    /// assert!(!store.is_blocked(&a));
    /// # Ok(())
    /// # }
    /// ```
    pub fn unblock(&self, address: &Address, edit: &Edit) -> Result<Option<Change>, Error> {
        let at = self.time(edit);
        let mut state = self.write();
        let Some(id) = state.id_of(address, false)? else {
            return Ok(None);
        };
        Ok(state.apply(id, Action::Unblock, edit, at)?.pop())
    }

    /// Adds many addresses to the edit's lists at once, under one lock and
    /// one history record per list.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownList`] or [`Error::EmailTableFull`]; nothing changes.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Edit, Normalizer, Source, Store};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let n = Normalizer::default();
    /// let store = Store::new();
    /// let imported = [n.address("+14155550123")?, n.address("ann@example.com")?];
    /// let bulk = store.opt_out_many(&imported, &Edit::new().source(Source::Import))?;
    /// assert_eq!(bulk.changed, 2);
    /// assert_eq!(store.history(..).len(), 2);
    /// # Ok(())
    /// # }
    /// ```
    pub fn opt_out_many(&self, addresses: &[Address], edit: &Edit) -> Result<Bulk, Error> {
        self.many(addresses, edit, Action::OptOut)
    }

    /// Removes many addresses from the edit's lists at once.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownList`]; nothing changes.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Edit, Normalizer, Store};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let n = Normalizer::default();
    /// let store = Store::new();
    /// let people = [n.address("+14155550123")?, n.address("+14155550124")?];
    /// store.opt_out_many(&people, &Edit::new())?;
    /// assert_eq!(store.opt_in_many(&people[..1], &Edit::new())?.changed, 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn opt_in_many(&self, addresses: &[Address], edit: &Edit) -> Result<Bulk, Error> {
        self.many(addresses, edit, Action::OptIn)
    }

    /// Adds many pre-normalized ids to the edit's lists at once. Email ids
    /// must come from this store.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownList`], or [`Error::UnknownEmailId`] for an email id
    /// this store never assigned; nothing changes.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{AddressId, Edit, Store};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::new();
    /// let ids: Vec<AddressId> = (0..1000).filter_map(|i| AddressId::new(14155550000 + i)).collect();
    /// assert_eq!(store.opt_out_ids(&ids, &Edit::new())?.changed, 1000);
    /// # Ok(())
    /// # }
    /// ```
    pub fn opt_out_ids(&self, ids: &[AddressId], edit: &Edit) -> Result<Bulk, Error> {
        self.many_ids(
            crate::bitmap::from_unsorted(ids.iter().map(|id| id.get())),
            ids.len() as u64,
            edit,
            Action::OptOut,
        )
    }

    fn many(&self, addresses: &[Address], edit: &Edit, action: Action) -> Result<Bulk, Error> {
        let at = self.time(edit);
        let mut state = self.write();
        state.check_lists(edit)?;
        let intern = action == Action::OptOut;
        // Intern into a copy so a full table changes nothing.
        let mut emails = (*state.emails).clone();
        let mut ids = Vec::with_capacity(addresses.len());
        for address in addresses {
            let id = match address {
                Address::Phone(p) => Some(p.id()),
                Address::Email(e) if intern => Some(emails.intern(e)?),
                Address::Email(e) => emails.id(e),
            };
            ids.extend(id.map(AddressId::get));
        }
        let set = crate::bitmap::from_unsorted(ids);
        if intern && emails.len() != state.emails.len() {
            state.emails = Arc::new(emails);
        }
        drop(state);
        self.apply_set(set, addresses.len() as u64, edit, action, at)
    }

    fn many_ids(
        &self,
        set: RoaringTreemap,
        requested: u64,
        edit: &Edit,
        action: Action,
    ) -> Result<Bulk, Error> {
        let at = self.time(edit);
        self.read().check_lists(edit)?;
        self.apply_set(set, requested, edit, action, at)
    }

    fn apply_set(
        &self,
        set: RoaringTreemap,
        requested: u64,
        edit: &Edit,
        action: Action,
        at: Timestamp,
    ) -> Result<Bulk, Error> {
        let mut state = self.write();
        state.check_lists(edit)?;
        if let Some(id) = state.unknown_email_id(&set) {
            return Err(Error::UnknownEmailId(id));
        }
        let scope = state.effective_scope(edit);
        let mut bulk = Bulk::default();
        for &list in &edit.lists {
            let slot = state.slot_mut(list)?;
            let target = slot.entries.scope_mut(scope);
            let changed = match action {
                Action::OptOut => &set - &*target,
                _ => &set & &*target,
            };
            match action {
                Action::OptOut => crate::bitmap::union_into(target, &changed),
                _ => *target -= &changed,
            }
            slot.entries.prune(scope);
            bulk.changed += changed.len();
            bulk.unchanged += requested.saturating_sub(changed.len());
            let template = Change {
                at,
                action,
                list: Some(list),
                scope,
                address: AddressId::from_email_index(0),
                source: edit.source,
            };
            state.history.push_many(&template, changed);
        }
        Ok(bulk)
    }

    /// `true` if the address is on `list` in exactly `scope` (not counting
    /// account-wide entries for a channel scope).
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{ChannelId, Edit, ListId, Normalizer, Scope, Store};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::new();
    /// let a = Normalizer::default().address("+14155550123")?;
    /// let ch = Scope::Channel(ChannelId::new(1));
    /// store.opt_out(&a, &Edit::new().scope(ch))?;
    /// assert!(store.contains(ListId::SYSTEM, ch, &a));
    /// assert!(!store.contains(ListId::SYSTEM, Scope::Account, &a));
    /// # Ok(())
    /// # }
    /// ```
    pub fn contains(&self, list: ListId, scope: Scope, address: &Address) -> bool {
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

    /// The number of distinct addresses on a list, in any scope.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownList`].
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{ChannelId, Edit, ListId, Normalizer, Scope, Store};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::new();
    /// let a = Normalizer::default().address("+14155550123")?;
    /// store.opt_out(&a, &Edit::new())?;
    /// store.opt_out(&a, &Edit::new().scope(Scope::Channel(ChannelId::new(1))))?;
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
        let sets: Vec<&RoaringTreemap> = std::iter::once(&entries.account)
            .chain(entries.channels.values())
            .collect();
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
    /// use optout::{Edit, Normalizer, Store, Timestamp};
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
        self.read().history.range(range)
    }

    /// The email address behind an email id from this store.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Edit, Normalizer, Store};
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
            .map(|s| size(&s.entries.account) + s.entries.channels.values().map(size).sum::<u64>())
            .sum::<u64>()
            + size(&state.blocked);
        Memory {
            entries,
            history: state.history.heap_bytes(),
        }
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

pub(crate) fn source_code(s: Source) -> u8 {
    match s {
        Source::Manual => 0,
        Source::Keyword => 1,
        Source::WebForm => 2,
        Source::Import => 3,
        Source::Api => 4,
    }
}

pub(crate) fn source_from_code(code: u8) -> Option<Source> {
    [
        Source::Manual,
        Source::Keyword,
        Source::WebForm,
        Source::Import,
        Source::Api,
    ]
    .into_iter()
    .find(|s| source_code(*s) == code)
}
