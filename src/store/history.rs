//! The change history: every opt-out, opt-in, block, unblock and list
//! deletion, with its time, source, list, scope and address, queryable by
//! date range; and the webhook [`Event`] for a change.
//!
//! Bulk changes are kept as one record holding a bitmap of the addresses,
//! so importing ten million opt-outs costs a few bytes per address here,
//! not a record each.

use std::ops::{Bound, RangeBounds};

use roaring::RoaringTreemap;

use crate::address::AddressId;
use crate::model::{Action, ListId, Scope, Source, Timestamp};

/// One recorded change to one address.
///
/// # Example
///
/// ```
/// use optout::{Normalizer, Store};
/// use optout::model::{Action, Scope, Source, Timestamp};
/// use optout::store::Edit;
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
    /// The list, for opt-outs, opt-ins and list deletions; `None` for
    /// blocks.
    pub list: Option<ListId>,
    /// Account-wide or one channel.
    pub scope: Scope,
    /// Who it happened to.
    pub address: AddressId,
    /// How it came in.
    pub source: Source,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Addresses {
    One(AddressId),
    Many(RoaringTreemap),
}

impl Addresses {
    pub(crate) fn len(&self) -> u64 {
        match self {
            Addresses::One(_) => 1,
            Addresses::Many(ids) => ids.len(),
        }
    }

    pub(crate) fn to_bitmap(&self) -> RoaringTreemap {
        match self {
            Addresses::One(id) => [id.get()].into_iter().collect(),
            Addresses::Many(ids) => ids.clone(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Record {
    pub(crate) at: Timestamp,
    pub(crate) action: Action,
    pub(crate) list: Option<ListId>,
    pub(crate) scope: Scope,
    pub(crate) source: Source,
    pub(crate) addresses: Addresses,
}

/// The change log.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct History {
    records: Vec<Record>,
    changes: u64,
}

impl History {
    /// Records one change applied to many addresses at once.
    pub(crate) fn push_many(&mut self, template: &Record, addresses: RoaringTreemap) {
        let addresses = match addresses.len() {
            0 => return,
            1 => match addresses.min().and_then(AddressId::new) {
                Some(id) => Addresses::One(id),
                None => return,
            },
            _ => Addresses::Many(addresses),
        };
        self.push_record(Record {
            addresses,
            ..template.clone()
        });
    }

    /// Adds a whole record (for loading).
    pub(crate) fn push_record(&mut self, record: Record) {
        self.changes += record.addresses.len();
        self.records.push(record);
    }

    /// Number of changes recorded.
    pub(crate) fn len(&self) -> u64 {
        self.changes
    }

    pub(crate) fn records(&self) -> &[Record] {
        &self.records
    }

    /// Changes in `range`, in the order they were recorded.
    pub(crate) fn range(&self, range: &impl RangeBounds<Timestamp>) -> Vec<Change> {
        let mut out = Vec::new();
        for r in self.records.iter().filter(|r| inside(range, r.at)) {
            let change = |address| Change {
                at: r.at,
                action: r.action,
                list: r.list,
                scope: r.scope.clone(),
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

pub(crate) fn inside(range: &impl RangeBounds<Timestamp>, t: Timestamp) -> bool {
    (match range.start_bound() {
        Bound::Included(s) => t >= *s,
        Bound::Excluded(s) => t > *s,
        Bound::Unbounded => true,
    }) && (match range.end_bound() {
        Bound::Included(e) => t <= *e,
        Bound::Excluded(e) => t < *e,
        Bound::Unbounded => true,
    })
}

/// A change, ready for a webhook (see [`Store::event`](crate::Store::event)).
///
/// With the `serde` feature an event serializes to
/// `{"opt_list_name": "...", "mobile": 14155550123, "email": null,
/// "channel_id": "sms1", "action": "opt-out", "source": "keyword",
/// "time": "2026-11-24T10:00:00.000Z"}` (mobile as E.164 digits without
/// `+`, the channel by its name, absent fields as null).
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
/// let change = &store.opt_out(&ann, &Edit::new())?[0];
/// let event = store.event(change);
/// assert_eq!(event.email.as_deref(), Some("ann@example.com"));
/// assert_eq!(event.mobile, None);
/// assert_eq!(event.channel_id, None); // account-wide
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct Event {
    /// The list's name; `None` for blocks.
    #[cfg_attr(feature = "serde", serde(rename = "opt_list_name"))]
    pub list_name: Option<String>,
    /// The phone number's E.164 digits, for a phone.
    pub mobile: Option<u64>,
    /// The email address, for an email.
    pub email: Option<String>,
    /// The channel's name, for a channel-scoped change.
    pub channel_id: Option<String>,
    /// What happened.
    pub action: Action,
    /// How it came in.
    pub source: Source,
    /// When, as RFC 3339 in the payload.
    #[cfg_attr(feature = "serde", serde(serialize_with = "rfc3339"))]
    pub time: Timestamp,
    /// The list's webhook URL, if it has one (not part of the payload).
    #[cfg_attr(feature = "serde", serde(skip))]
    pub webhook: Option<String>,
}

#[cfg(feature = "serde")]
fn rfc3339<S: serde::Serializer>(t: &Timestamp, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(t)
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
        for (at, id) in [(10, 1), (20, 2), (30, 3)] {
            let c = change(at, id);
            h.push_record(Record {
                at: c.at,
                action: c.action,
                list: c.list,
                scope: c.scope,
                source: c.source,
                addresses: Addresses::One(c.address),
            });
        }
        let t = Timestamp::from_unix_secs;
        let ids = |v: Vec<Change>| v.into_iter().map(|c| c.address.get()).collect::<Vec<_>>();
        assert_eq!(ids(h.range(&..)), [1, 2, 3]);
        assert_eq!(ids(h.range(&(t(10)..t(30)))), [1, 2]);
        assert_eq!(ids(h.range(&(t(10)..=t(30)))), [1, 2, 3]);
        assert_eq!(ids(h.range(&(t(11)..))), [2, 3]);
    }

    #[test]
    fn bulk_records_expand_to_one_change_per_address() {
        let mut h = History::default();
        let ids: RoaringTreemap = [5u64, 7, 9].into_iter().collect();
        let c = change(10, 1);
        let template = Record {
            at: c.at,
            action: c.action,
            list: c.list,
            scope: c.scope,
            source: c.source,
            addresses: Addresses::One(c.address),
        };
        h.push_many(&template, ids);
        assert_eq!(h.len(), 3);
        let got: Vec<u64> = h.range(&..).into_iter().map(|c| c.address.get()).collect();
        assert_eq!(got, [5, 7, 9]);
    }
}
