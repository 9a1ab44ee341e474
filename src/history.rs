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
