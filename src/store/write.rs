//! The store's changes: opt-outs, opt-ins, blocks, lists and settings,
//! each resolved into one operation and committed.

use crate::address::{Address, AddressId};
use crate::error::{Error, ErrorKind};
use crate::keyword::Keywords;
use crate::model::{Action, Channel, KeywordScope, ListId, Scope, Source, Timestamp};

use super::history::Change;
use super::list::ListSettings;
use super::op::{ChangeOp, Op, Who};
use super::{Store, View};

/// The details of an opt-out, opt-in, block or unblock: which lists, which
/// scope, the source and the time.
///
/// By default: the system list, account-wide, [`Source::Manual`], the
/// store's clock.
///
/// # Example
///
/// ```
/// use optout::model::{Channel, ListId, Scope, Source, Timestamp};
/// use optout::store::Edit;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let edit = Edit::new()
///     .list(ListId::SYSTEM)
///     .scope(Scope::Channel(Channel::new("sms1")?))
///     .source(Source::Keyword)
///     .at(Timestamp::from_unix_secs(1_700_000_000));
/// assert_eq!(edit.lists(), [ListId::SYSTEM]);
/// # Ok(())
/// # }
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
    /// use optout::model::Scope;
    /// use optout::store::Edit;
    ///
    /// assert_eq!(Edit::new().scope_value(), &Scope::Account);
    /// ```
    pub fn new() -> Edit {
        Edit::default()
    }

    /// Applies to one list.
    ///
    /// # Example
    ///
    /// ```
    /// # use optout::{model::ListId, store::Edit};
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
    /// # use optout::{model::ListId, store::Edit};
    /// assert_eq!(Edit::new().lists_of([ListId::SYSTEM, ListId::SYSTEM]).lists().len(), 1);
    /// ```
    pub fn lists_of(mut self, lists: impl IntoIterator<Item = ListId>) -> Edit {
        self.lists = lists.into_iter().collect();
        self.lists.sort_unstable();
        self.lists.dedup();
        self
    }

    /// Sets the scope.
    ///
    /// # Example
    ///
    /// ```
    /// # use optout::{model::{Channel, Scope}, store::Edit};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let sms = Scope::Channel(Channel::new("sms1")?);
    /// assert_eq!(Edit::new().scope(sms.clone()).scope_value(), &sms);
    /// # Ok(())
    /// # }
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
    /// # use optout::{model::Source, store::Edit};
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
    /// # use optout::{model::Timestamp, store::Edit};
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
    /// assert_eq!(optout::store::Edit::new().lists(), [optout::model::ListId::SYSTEM]);
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
    /// assert_eq!(optout::store::Edit::new().scope_value(), &optout::model::Scope::Account);
    /// ```
    pub fn scope_value(&self) -> &Scope {
        &self.scope
    }

    /// The source.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(optout::store::Edit::new().source_value(), optout::model::Source::Manual);
    /// ```
    pub fn source_value(&self) -> Source {
        self.source
    }

    /// The time, if one was set.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(optout::store::Edit::new().time(), None);
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
/// use optout::{Normalizer, Store};
/// use optout::store::Edit;
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

impl View<'_> {
    /// Resolves an opt-out, opt-in, block or unblock of `who` by `edit`.
    pub(crate) fn change(
        &self,
        action: Action,
        who: Who,
        requested: u64,
        edit: &Edit,
        at: Timestamp,
    ) -> Result<Op, Error> {
        let (lists, scope) = match action {
            Action::OptOut | Action::OptIn => {
                for &list in edit.lists() {
                    if self.list(list).is_none() {
                        return Err(ErrorKind::UnknownList(list).into());
                    }
                }
                (edit.lists().to_vec(), self.effective_scope(edit))
            }
            // Blocking is account-wide and concerns no list.
            _ => (Vec::new(), Scope::Account),
        };
        Ok(Op::Change(ChangeOp {
            action,
            lists,
            scope,
            source: edit.source_value(),
            at,
            who,
            requested,
        }))
    }
}

impl Store {
    pub(crate) fn time(&self, edit: &Edit) -> Timestamp {
        edit.time().unwrap_or_else(|| self.now())
    }

    fn change_one(
        &self,
        action: Action,
        address: &Address,
        edit: &Edit,
    ) -> Result<Vec<Change>, Error> {
        let at = self.time(edit);
        let (_, applied) = self.commit(|view| {
            let who = view.who([address]);
            Ok((Some(view.change(action, who, 1, edit, at)?), ()))
        })?;
        Ok(applied.changes)
    }

    fn change_many(
        &self,
        action: Action,
        addresses: &[Address],
        edit: &Edit,
    ) -> Result<Bulk, Error> {
        let at = self.time(edit);
        let (_, applied) = self.commit(|view| {
            let who = view.who(addresses);
            let op = view.change(action, who, addresses.len() as u64, edit, at)?;
            Ok((Some(op), ()))
        })?;
        Ok(Bulk {
            changed: applied.changed,
            unchanged: applied.unchanged,
        })
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
    /// [`ErrorKind::UnknownList`], [`ErrorKind::EmailTableFull`], or what
    /// the log reports when the change cannot be recorded; nothing
    /// changes.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Normalizer, Store};
    /// use optout::model::{Channel, Scope, Source};
    /// use optout::store::Edit;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::new();
    /// let ann = Normalizer::default().address("ann@example.com")?;
    /// let edit = Edit::new().scope(Scope::Channel(Channel::new("news@example.com")?)).source(Source::WebForm);
    /// let changes = store.opt_out(&ann, &edit)?;
    /// assert_eq!(changes[0].scope, Scope::Account); // web forms are account-wide
    /// assert!(store.opt_out(&ann, &edit)?.is_empty()); // already opted out
    /// # Ok(())
    /// # }
    /// ```
    pub fn opt_out(&self, address: &Address, edit: &Edit) -> Result<Vec<Change>, Error> {
        self.change_one(Action::OptOut, address, edit)
    }

    /// Removes an address from the edit's lists in its scope (an opt-in).
    ///
    /// Returns one [`Change`] per list the address was on.
    ///
    /// # Errors
    ///
    /// As [`Store::opt_out`].
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Normalizer, Store};
    /// use optout::store::Edit;
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
        self.change_one(Action::OptIn, address, edit)
    }

    /// Blocks an address: it receives nothing, of any category. The edit's
    /// lists and scope are ignored (blocking is account-wide).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::EmailTableFull`], or what the log reports; nothing
    /// changes.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Normalizer, Store};
    /// use optout::store::Edit;
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
        Ok(self.change_one(Action::Block, address, edit)?.pop())
    }

    /// Unblocks an address.
    ///
    /// # Errors
    ///
    /// What the log reports; nothing changes.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Normalizer, Store};
    /// use optout::store::Edit;
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
        Ok(self.change_one(Action::Unblock, address, edit)?.pop())
    }

    /// Opt-outs of several groups of addresses, each with its edit, as one
    /// change: all of them are recorded, or none.
    pub(crate) fn opt_out_groups(&self, groups: &[(Vec<Address>, Edit)]) -> Result<Bulk, Error> {
        let now = self.now();
        let (_, applied) = self.commit(|view| {
            let mut ops = Vec::with_capacity(groups.len());
            for (addresses, edit) in groups {
                let at = edit.time().unwrap_or(now);
                let who = view.who(addresses);
                ops.push(view.change(Action::OptOut, who, addresses.len() as u64, edit, at)?);
            }
            Ok((
                match ops.len() {
                    0 => None,
                    1 => ops.pop(),
                    _ => Some(Op::Batch(ops)),
                },
                (),
            ))
        })?;
        Ok(Bulk {
            changed: applied.changed,
            unchanged: applied.unchanged,
        })
    }

    /// Adds many addresses to the edit's lists at once: one operation, one
    /// history record per list.
    ///
    /// # Errors
    ///
    /// As [`Store::opt_out`]; nothing changes.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Normalizer, Store};
    /// use optout::model::Source;
    /// use optout::store::Edit;
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
        self.change_many(Action::OptOut, addresses, edit)
    }

    /// Removes many addresses from the edit's lists at once.
    ///
    /// # Errors
    ///
    /// As [`Store::opt_out`]; nothing changes.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Normalizer, Store};
    /// use optout::store::Edit;
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
        self.change_many(Action::OptIn, addresses, edit)
    }

    /// Adds many pre-normalized ids to the edit's lists at once. Email ids
    /// must come from this store.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownEmailId`] for an email id this store never
    /// assigned, and as [`Store::opt_out`]; nothing changes.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{AddressId, Store};
    /// use optout::store::Edit;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::new();
    /// let ids: Vec<AddressId> = (0..1000).filter_map(|i| AddressId::new(14155550000 + i)).collect();
    /// assert_eq!(store.opt_out_ids(&ids, &Edit::new())?.changed, 1000);
    /// # Ok(())
    /// # }
    /// ```
    pub fn opt_out_ids(&self, ids: &[AddressId], edit: &Edit) -> Result<Bulk, Error> {
        let at = self.time(edit);
        let phones =
            crate::bitmap::from_unsorted(ids.iter().filter(|id| id.is_phone()).map(|id| id.get()));
        let (_, applied) = self.commit(|view| {
            let mut emails = Vec::new();
            for &id in ids.iter().filter(|id| id.is_email()) {
                let email = view
                    .email(id)
                    .ok_or(ErrorKind::UnknownEmailId(id.get()))?
                    .clone();
                emails.push(email);
            }
            emails.sort();
            emails.dedup();
            let who = Who {
                phones: phones.clone(),
                emails,
            };
            let op = view.change(Action::OptOut, who, ids.len() as u64, edit, at)?;
            Ok((Some(op), ()))
        })?;
        Ok(Bulk {
            changed: applied.changed,
            unchanged: applied.unchanged,
        })
    }

    /// Creates a custom list.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::TooLong`] or [`ErrorKind::InvalidList`] for a setting
    /// out of its limits, [`ErrorKind::DuplicateName`] or
    /// [`ErrorKind::DuplicateKeyword`] when another list has them. Nothing
    /// changes on error.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::Store;
    /// use optout::error::ErrorKind;
    /// use optout::store::ListSettings;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::new();
    /// let promo = store.create_list(ListSettings::new("Promotions").keyword("STOPPROMO"))?;
    /// assert_eq!(store.list(promo).unwrap().name(), "Promotions");
    /// let dup = store.create_list(ListSettings::new("promotions")).unwrap_err();
    /// assert!(matches!(dup.kind(), ErrorKind::DuplicateName { .. }));
    /// # Ok(())
    /// # }
    /// ```
    pub fn create_list(&self, settings: ListSettings) -> Result<ListId, Error> {
        let (_, applied) = self.commit(|_| Ok((Some(Op::CreateList(settings.clone())), ())))?;
        applied
            .list
            .ok_or_else(|| Error::corrupt("log", 0, "a list creation made no list"))
    }

    /// Replaces a list's settings. The system list keeps its name.
    ///
    /// # Errors
    ///
    /// As [`Store::create_list`], plus [`ErrorKind::UnknownList`] and
    /// [`ErrorKind::SystemList`] for renaming the system list.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::Store;
    /// use optout::error::ErrorKind;
    /// use optout::model::ListId;
    /// use optout::store::ListSettings;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::new();
    /// store.update_list(ListId::SYSTEM, ListSettings::new("Default").confirmation("Bye!"))?;
    /// let rename = store.update_list(ListId::SYSTEM, ListSettings::new("Other")).unwrap_err();
    /// assert!(matches!(rename.kind(), ErrorKind::SystemList { .. }));
    /// # Ok(())
    /// # }
    /// ```
    pub fn update_list(&self, id: ListId, settings: ListSettings) -> Result<(), Error> {
        self.commit(|_| Ok((Some(Op::UpdateList(id, settings.clone())), ())))
            .map(drop)
    }

    /// Deletes a custom list. Its entries are removed, each with a history
    /// record ([`Action::ListDeleted`]); addresses that are also on other
    /// lists stay suppressed by them. Returns how many address–scope
    /// entries were removed.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::SystemList`] for the system list,
    /// [`ErrorKind::UnknownList`].
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Normalizer, Store};
    /// use optout::error::ErrorKind;
    /// use optout::model::{Action, ListId};
    /// use optout::store::{Edit, ListSettings};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::new();
    /// let promo = store.create_list(ListSettings::new("Promotions"))?;
    /// store.opt_out(&Normalizer::default().address("+14155550123")?, &Edit::new().list(promo))?;
    /// assert_eq!(store.delete_list(promo)?, 1);
    /// assert!(store.list(promo).is_none());
    /// assert_eq!(store.history(..).last().map(|c| c.action), Some(Action::ListDeleted));
    /// assert!(matches!(store.delete_list(ListId::SYSTEM).unwrap_err().kind(), ErrorKind::SystemList { .. }));
    /// # Ok(())
    /// # }
    /// ```
    pub fn delete_list(&self, id: ListId) -> Result<u64, Error> {
        let at = self.now();
        let (_, applied) = self.commit(|_| {
            Ok((
                Some(Op::DeleteList {
                    list: id,
                    at,
                    source: Source::Manual,
                }),
                (),
            ))
        })?;
        Ok(applied.changed)
    }

    /// Sets where a channel's keyword opt-outs (and opt-ins) apply.
    ///
    /// # Errors
    ///
    /// What the log reports.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::Store;
    /// use optout::model::{Channel, KeywordScope};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::new();
    /// let wa = Channel::new("106540352242922")?;
    /// store.set_keyword_scope(&wa, KeywordScope::Account)?;
    /// assert_eq!(store.keyword_scope(&wa), KeywordScope::Account);
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_keyword_scope(&self, channel: &Channel, scope: KeywordScope) -> Result<(), Error> {
        self.commit(|_| Ok((Some(Op::KeywordScope(channel.clone(), scope)), ())))
            .map(drop)
    }

    /// Replaces the account's keyword settings.
    ///
    /// # Errors
    ///
    /// As [`Keywords::validate`], and [`ErrorKind::DuplicateKeyword`] for
    /// a word a list uses as its keyword; nothing changes.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::Store;
    /// use optout::keyword::Keywords;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::new();
    /// store.set_keywords(Keywords::default().help_reply("Acme: help at acme.example"))?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_keywords(&self, keywords: Keywords) -> Result<(), Error> {
        self.commit(|_| Ok((Some(Op::Keywords(None, keywords.clone())), ())))
            .map(drop)
    }

    /// Gives a channel keyword settings of its own (a different language,
    /// say), instead of the account's.
    ///
    /// # Errors
    ///
    /// As [`Store::set_keywords`].
    ///
    /// # Example
    ///
    /// ```
    /// use optout::Store;
    /// use optout::keyword::{Keywords, Language};
    /// use optout::model::Channel;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::new();
    /// store.set_channel_keywords(&Channel::new("sms-es")?, Keywords::default().languages([Language::Spanish]))?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_channel_keywords(&self, channel: &Channel, keywords: Keywords) -> Result<(), Error> {
        self.commit(|_| {
            Ok((
                Some(Op::Keywords(Some(channel.clone()), keywords.clone())),
                (),
            ))
        })
        .map(drop)
    }
}
