//! The change log: every opt-out, opt-in, block and unblock, with its time,
//! source, list, scope and address, queryable by date range.
//!
//! Bulk changes are kept as one record holding a bitmap of the addresses,
//! so importing ten million opt-outs costs a few bytes per address here,
//! not a record each.

use std::ops::{Bound, RangeBounds};

use roaring::RoaringTreemap;

use crate::clock::Timestamp;
use crate::id::AddressId;
use crate::list::ListId;
use crate::store::{Scope, Source};

/// What a change did.
///
/// # Example
///
/// ```
/// use optout::Action;
///
/// assert_eq!(Action::OptOut.to_string(), "opt-out");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
#[non_exhaustive]
pub enum Action {
    /// Added to an opt-out list.
    OptOut,
    /// Removed from an opt-out list.
    OptIn,
    /// Blocked: receives nothing.
    Block,
    /// No longer blocked.
    Unblock,
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Action::OptOut => "opt-out",
            Action::OptIn => "opt-in",
            Action::Block => "block",
            Action::Unblock => "unblock",
        })
    }
}

/// One recorded change to one address.
///
/// # Example
///
/// ```
/// use optout::{Action, Edit, Normalizer, Scope, Source, Store, Timestamp};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = Store::new();
/// let phone = Normalizer::default().address("+14155550123")?;
/// let at = Timestamp::from_unix_secs(1_700_000_000);
/// let changes = store.opt_out(&phone, &Edit::new().source(Source::Api).at(at))?;
/// assert_eq!(changes.len(), 1);
/// assert_eq!(changes[0].action, Action::OptOut);
/// assert_eq!(changes[0].scope, Scope::Account);
/// assert_eq!(changes[0].at, at);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct Change {
    /// When it happened.
    pub at: Timestamp,
    /// What happened.
    pub action: Action,
    /// The list, for opt-outs and opt-ins; `None` for blocks.
    pub list: Option<ListId>,
    /// Account-wide or one channel.
    pub scope: Scope,
    /// Who it happened to.
    pub address: AddressId,
    /// How it came in.
    pub source: Source,
}

#[derive(Clone, Debug, PartialEq)]
enum Addresses {
    One(AddressId),
    Many(RoaringTreemap),
}

#[derive(Clone, Debug, PartialEq)]
struct Record {
    at: Timestamp,
    action: Action,
    list: Option<ListId>,
    scope: Scope,
    source: Source,
    addresses: Addresses,
}

/// The change log.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct History {
    records: Vec<Record>,
    changes: u64,
}

impl History {
    pub(crate) fn push(&mut self, change: &Change) {
        self.changes += 1;
        self.records.push(Record {
            at: change.at,
            action: change.action,
            list: change.list,
            scope: change.scope,
            source: change.source,
            addresses: Addresses::One(change.address),
        });
    }

    /// Records one change applied to many addresses at once.
    pub(crate) fn push_many(&mut self, template: &Change, addresses: RoaringTreemap) {
        match addresses.len() {
            0 => {}
            1 => {
                if let Some(first) = addresses.min().and_then(AddressId::new) {
                    self.push(&Change {
                        address: first,
                        ..template.clone()
                    });
                }
            }
            n => {
                self.changes += n;
                self.records.push(Record {
                    at: template.at,
                    action: template.action,
                    list: template.list,
                    scope: template.scope,
                    source: template.source,
                    addresses: Addresses::Many(addresses),
                });
            }
        }
    }

    /// Number of changes recorded.
    pub(crate) fn len(&self) -> u64 {
        self.changes
    }

    /// Changes in `range`, in the order they were recorded.
    pub(crate) fn range(&self, range: impl RangeBounds<Timestamp>) -> Vec<Change> {
        let inside = |t: &Timestamp| {
            (match range.start_bound() {
                Bound::Included(s) => t >= s,
                Bound::Excluded(s) => t > s,
                Bound::Unbounded => true,
            }) && (match range.end_bound() {
                Bound::Included(e) => t <= e,
                Bound::Excluded(e) => t < e,
                Bound::Unbounded => true,
            })
        };
        let mut out = Vec::new();
        for r in self.records.iter().filter(|r| inside(&r.at)) {
            let change = |address| Change {
                at: r.at,
                action: r.action,
                list: r.list,
                scope: r.scope,
                address,
                source: r.source,
            };
            match &r.addresses {
                Addresses::One(id) => out.push(change(*id)),
                Addresses::Many(ids) => {
                    out.extend(ids.iter().filter_map(AddressId::new).map(change))
                }
            }
        }
        out
    }

    pub(crate) fn encode(&self, w: &mut crate::codec::Writer) -> Result<(), crate::Error> {
        w.len(self.records.len());
        for r in &self.records {
            w.i64(r.at.unix_millis());
            w.u8(action_code(r.action));
            match r.list {
                None => w.u8(0),
                Some(l) => {
                    w.u8(1);
                    w.u32(l.get());
                }
            }
            encode_scope(w, r.scope);
            w.u8(crate::store::source_code(r.source));
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
        Ok(())
    }

    /// Reads the log back; `valid_id` and `lists` bound what it may name.
    pub(crate) fn decode(
        r: &mut crate::codec::Reader<'_>,
        lists: usize,
        valid_ids: &dyn Fn(&RoaringTreemap) -> bool,
    ) -> Result<History, crate::Error> {
        let n = r.len(13)?;
        let mut history = History::default();
        for _ in 0..n {
            let at = Timestamp::from_unix_millis(r.i64()?);
            let code = r.u8()?;
            let action = ACTIONS
                .into_iter()
                .find(|a| action_code(*a) == code)
                .ok_or_else(|| r.corrupt(format!("unknown action {code}")))?;
            let list = match r.u8()? {
                0 => None,
                1 => {
                    let id = r.u32()?;
                    if id as usize >= lists {
                        return Err(r.corrupt(format!("history names list {id} of {lists}")));
                    }
                    Some(ListId(id))
                }
                other => return Err(r.corrupt(format!("{other} is not an option tag"))),
            };
            if list.is_none() != matches!(action, Action::Block | Action::Unblock) {
                return Err(r.corrupt("history record's list does not fit its action"));
            }
            let scope = decode_scope(r)?;
            let source = crate::store::source_from_code(r.u8()?)
                .ok_or_else(|| r.corrupt("unknown source"))?;
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
            history.changes += match &addresses {
                Addresses::One(_) => 1,
                Addresses::Many(ids) => ids.len(),
            };
            history.records.push(Record {
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

    /// The records of one action that name a list, oldest first.
    pub(crate) fn records_of(
        &self,
        action: Action,
    ) -> Vec<(Timestamp, ListId, Scope, Source, RoaringTreemap)> {
        self.records
            .iter()
            .filter(|r| r.action == action)
            .filter_map(|r| {
                let ids = match &r.addresses {
                    Addresses::One(id) => [id.get()].into_iter().collect(),
                    Addresses::Many(ids) => ids.clone(),
                };
                Some((r.at, r.list?, r.scope, r.source, ids))
            })
            .collect()
    }

    /// Heap bytes held, approximately.
    pub(crate) fn heap_bytes(&self) -> u64 {
        let records = (self.records.capacity() * std::mem::size_of::<Record>()) as u64;
        let bitmaps: u64 = self
            .records
            .iter()
            .map(|r| match &r.addresses {
                Addresses::One(_) => 0,
                Addresses::Many(ids) => ids.serialized_size() as u64,
            })
            .sum();
        records + bitmaps
    }
}

const ACTIONS: [Action; 4] = [
    Action::OptOut,
    Action::OptIn,
    Action::Block,
    Action::Unblock,
];

fn action_code(a: Action) -> u8 {
    match a {
        Action::OptOut => 0,
        Action::OptIn => 1,
        Action::Block => 2,
        Action::Unblock => 3,
    }
}

pub(crate) fn encode_scope(w: &mut crate::codec::Writer, scope: Scope) {
    match scope {
        Scope::Account => w.u8(0),
        Scope::Channel(c) => {
            w.u8(1);
            w.u64(c.get());
        }
    }
}

pub(crate) fn decode_scope(r: &mut crate::codec::Reader<'_>) -> Result<Scope, crate::Error> {
    match r.u8()? {
        0 => Ok(Scope::Account),
        1 => Ok(Scope::Channel(crate::store::ChannelId::new(r.u64()?))),
        other => Err(r.corrupt(format!("unknown scope tag {other}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(at: i64, address: u64) -> Change {
        Change {
            at: Timestamp::from_unix_secs(at),
            action: Action::OptOut,
            list: Some(ListId::SYSTEM),
            scope: Scope::Account,
            address: AddressId::new(address).unwrap(),
            source: Source::Manual,
        }
    }

    #[test]
    fn range_queries_include_and_exclude_bounds() {
        let mut h = History::default();
        h.push(&change(10, 1));
        h.push(&change(20, 2));
        h.push(&change(30, 3));
        let t = Timestamp::from_unix_secs;
        let ids = |v: Vec<Change>| v.into_iter().map(|c| c.address.get()).collect::<Vec<_>>();
        assert_eq!(ids(h.range(..)), [1, 2, 3]);
        assert_eq!(ids(h.range(t(10)..t(30))), [1, 2]);
        assert_eq!(ids(h.range(t(10)..=t(30))), [1, 2, 3]);
        assert_eq!(ids(h.range(t(11)..)), [2, 3]);
    }

    #[test]
    fn bulk_records_expand_to_one_change_per_address() {
        let mut h = History::default();
        let ids: RoaringTreemap = [5u64, 7, 9].into_iter().collect();
        h.push_many(&change(10, 1), ids);
        assert_eq!(h.len(), 3);
        let got: Vec<u64> = h.range(..).into_iter().map(|c| c.address.get()).collect();
        assert_eq!(got, [5, 7, 9]);
    }
}
