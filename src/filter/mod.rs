//! The send filter: compile the suppression for a send once, then split
//! recipients into sendable and skipped, in parallel, keeping input order.

use std::hash::BuildHasher;
use std::sync::Arc;

use rayon::prelude::*;
use roaring::RoaringTreemap;

use crate::address::{Address, AddressId, EmailTable, Invalid, Normalizer};
use crate::model::Category;

mod dedupe;
mod dispatch;
mod hashed;
mod idset;
mod outcome;
mod stream;

pub use dispatch::Dispatch;
pub use hashed::{Digest, HashedList};
pub use outcome::{BitmapSplit, IdSplit, Outcome, Recipient, Report, SkipReason, Split};
pub use stream::{StreamSplit, Verdict};

use dedupe::{Key, Mark, Shards, UNKNOWN_EMAIL, chunk_len, dedupe, filled, finish};
use idset::{BATCH, IdSet};

/// The suppression for one send, compiled from a store: who is blocked and,
/// for marketing, who is on an honoured list in the send's scope (or
/// awaits a clarification there), and the partner lists it honours. It is
/// an owned copy, so filtering from it is consistent however the store
/// changes meanwhile.
///
/// # Example
///
/// ```
/// use optout::{Dispatch, Normalizer, Store};
/// use optout::address::Region;
/// use optout::filter::SkipReason;
/// use optout::model::{Category, Channel};
/// use optout::store::Edit;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let n = Normalizer::new(Region::new("US")?);
/// let store = Store::new();
/// let ann = n.address("(415) 555-0123")?;
/// store.opt_out(&ann, &Edit::new())?;
///
/// let sms = Channel::new("sms1")?;
/// let marketing = store.compile(&Dispatch::new(Category::Marketing).channel(sms.clone()))?;
/// let otp = store.compile(&Dispatch::new(Category::Authentication).channel(sms))?;
/// assert_eq!(marketing.check(&ann), Some(SkipReason::OptedOut));
/// assert_eq!(otp.check(&ann), None); // login codes still go out
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Suppression {
    category: Category,
    blocked: IdSet,
    opted_out: IdSet,
    blocked_bitmap: RoaringTreemap,
    opted_out_bitmap: RoaringTreemap,
    emails: Arc<EmailTable>,
    /// The highest id the store could have assigned: every phone id and
    /// the email ids of its table are at or below it.
    last_assigned: u64,
    hashed: Vec<Arc<HashedList>>,
}

/// `true` if any of the partner lists holds the address in any form a
/// partner may have hashed: an email as written, before and after alias
/// folding (the partner's policy is unknown); a phone number in E.164 with
/// and without its `+`.
pub(crate) fn hashed_out(lists: &[Arc<HashedList>], address: &Address) -> bool {
    if lists.is_empty() {
        return false;
    }
    let text = address.to_string();
    let mut forms: Vec<std::borrow::Cow<'_, str>> = vec![text.as_str().into()];
    match address {
        Address::Phone(_) => forms.extend(text.strip_prefix('+').map(Into::into)),
        Address::Email(e) => {
            forms.push(e.unfolded().into());
            forms.push(e.key(crate::address::EmailAliases::Fold));
        }
    }
    forms.dedup();
    lists
        .iter()
        .any(|l| forms.iter().any(|form| l.contains_text(form)))
}

impl Suppression {
    pub(crate) fn new(
        category: Category,
        blocked: RoaringTreemap,
        opted_out: RoaringTreemap,
        emails: Arc<EmailTable>,
        hashed: Vec<Arc<HashedList>>,
    ) -> Suppression {
        Suppression {
            category,
            blocked: IdSet::from_bitmap(&blocked),
            opted_out: IdSet::from_bitmap(&opted_out),
            blocked_bitmap: blocked,
            opted_out_bitmap: opted_out,
            last_assigned: emails.end().map_or(u64::MAX, |end| end - 1),
            emails,
            hashed: if category.honours_opt_outs() {
                hashed
            } else {
                Vec::new()
            },
        }
    }
}

impl Suppression {
    /// The send's category.
    ///
    /// # Example
    ///
    /// ```
    /// # use optout::{Dispatch, Store};
    /// # use optout::model::Category;
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let s = Store::new().compile(&Dispatch::new(Category::Utility))?;
    /// assert_eq!(s.category(), Category::Utility);
    /// # Ok(())
    /// # }
    /// ```
    pub fn category(&self) -> Category {
        self.category
    }

    /// The number of ids suppressed as opted out (and as blocked).
    ///
    /// # Example
    ///
    /// ```
    /// # use optout::{Dispatch, Store};
    /// # use optout::model::Category;
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let s = Store::new().compile(&Dispatch::new(Category::Marketing))?;
    /// assert_eq!(s.len(), (0, 0));
    /// # Ok(())
    /// # }
    /// ```
    pub fn len(&self) -> (u64, u64) {
        (self.opted_out.len(), self.blocked.len())
    }

    fn hashed_out(&self, address: &Address) -> bool {
        hashed_out(&self.hashed, address)
    }

    /// Checks one id.
    ///
    /// # Example
    ///
    /// ```
    /// # use optout::{AddressId, Dispatch, Store};
    /// # use optout::model::Category;
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let s = Store::new().compile(&Dispatch::new(Category::Marketing))?;
    /// assert_eq!(s.check_id(AddressId::from_phone_digits(14155550123).unwrap()), None);
    /// # Ok(())
    /// # }
    /// ```
    #[inline]
    pub fn check_id(&self, id: AddressId) -> Option<SkipReason> {
        if id.get() > self.last_assigned {
            Some(SkipReason::UnknownId)
        } else if self.blocked.contains(id.get()) {
            Some(SkipReason::Blocked)
        } else if self.opted_out.contains(id.get()) {
            Some(SkipReason::OptedOut)
        } else {
            None
        }
    }

    /// Checks ids, batch by batch; `None` ids are not suppressed. `out`
    /// is as long as `ids`.
    fn check_batch(&self, ids: &[Option<AddressId>], out: &mut [Option<SkipReason>]) {
        for (ids, out) in ids.chunks(BATCH).zip(out.chunks_mut(BATCH)) {
            let mut raw = [0u64; BATCH];
            for (r, id) in raw.iter_mut().zip(ids) {
                *r = id.map_or(0, AddressId::get);
            }
            self.check_raw(raw.get(..ids.len()).unwrap_or(&[]), out);
        }
    }

    /// Verdicts for raw ids (0 = no id), batch by batch; `out` is as long
    /// as `raw`.
    fn check_raw(&self, raw: &[u64], out: &mut [Option<SkipReason>]) {
        for (raw, out) in raw.chunks(BATCH).zip(out.chunks_mut(BATCH)) {
            let mut blocked = [false; BATCH];
            let mut opted = [false; BATCH];
            self.blocked.contains_batch(raw, &mut blocked);
            self.opted_out.contains_batch(raw, &mut opted);
            for ((o, b), p) in out.iter_mut().zip(blocked).zip(opted) {
                *o = if b {
                    Some(SkipReason::Blocked)
                } else if p {
                    Some(SkipReason::OptedOut)
                } else {
                    None
                };
            }
        }
    }

    /// Checks one normalized address.
    ///
    /// # Example
    ///
    /// ```
    /// # use optout::{Dispatch, Normalizer, Store};
    /// # use optout::model::Category;
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let s = Store::new().compile(&Dispatch::new(Category::Marketing))?;
    /// assert_eq!(s.check(&Normalizer::default().address("a@example.com")?), None);
    /// # Ok(())
    /// # }
    /// ```
    pub fn check(&self, address: &Address) -> Option<SkipReason> {
        self.id_of(address)
            .and_then(|id| self.check_id(id))
            .or_else(|| self.hashed_out(address).then_some(SkipReason::OptedOut))
    }

    fn address_of(&self, id: AddressId) -> Option<Address> {
        match crate::address::Phone::from_id(id) {
            Some(p) => Some(Address::Phone(p)),
            None => self.emails.email(id).cloned().map(Address::Email),
        }
    }

    fn id_of(&self, address: &Address) -> Option<AddressId> {
        match address {
            Address::Phone(p) => Some(p.id()),
            Address::Email(e) => self.emails.id(e),
        }
    }

    /// The outcome for a valid address, given its id and verdict, and its
    /// mark for the later passes.
    fn decide(
        &self,
        address: Address,
        id: Option<AddressId>,
        verdict: Option<SkipReason>,
    ) -> (Outcome, Mark) {
        match verdict {
            Some(reason) => (
                Outcome::Skipped {
                    reason,
                    address: Some(address),
                },
                Mark::skipped(reason),
            ),
            None => {
                let mark = match (&address, id) {
                    (_, Some(id)) => Mark {
                        key: id.get(),
                        tag: Mark::SEND_ID,
                    },
                    (Address::Email(e), None) => Mark {
                        key: UNKNOWN_EMAIL.hash_one(&*e.key(self.emails.aliases())),
                        tag: Mark::SEND_HASHED,
                    },
                    (Address::Phone(p), None) => Mark {
                        key: p.id().get(),
                        tag: Mark::SEND_ID,
                    },
                };
                (Outcome::Sendable(Recipient { address, id }), mark)
            }
        }
    }

    /// Splits raw inputs (phone numbers in any format, email addresses) in
    /// parallel: each is normalized, checked, and deduplicated (the first
    /// occurrence of a person is sent to).
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Dispatch, Normalizer, Store};
    /// use optout::address::Region;
    /// use optout::model::Category;
    /// use optout::store::Edit;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let n = Normalizer::new(Region::new("US")?);
    /// let store = Store::new();
    /// store.opt_out(&n.address("+14155550100")?, &Edit::new())?;
    /// let audience = ["(415) 555-0100", "(415) 555-0101", "415.555.0101", "oops", "ann@example.com"];
    /// let split = store.compile(&Dispatch::new(Category::Marketing))?.split(&n, &audience);
    /// assert_eq!(
    ///     split.report().to_string(),
    ///     "2 sendable, 3 skipped (1 opted-out, 1 invalid number, 1 duplicate)"
    /// );
    /// # Ok(())
    /// # }
    /// ```
    pub fn split<S: AsRef<str> + Sync>(&self, normalizer: &Normalizer, inputs: &[S]) -> Split {
        self.split_with(inputs, |input| normalizer.address(input.as_ref()))
    }

    /// The parallel split: normalize a batch, check it with batched
    /// lookups, write its outcomes and marks; then deduplicate and count.
    fn split_with<T: Sync>(
        &self,
        inputs: &[T],
        normalize: impl Fn(&T) -> Result<Address, Invalid> + Sync,
    ) -> Split {
        let placeholder = Outcome::Skipped {
            reason: SkipReason::Duplicate,
            address: None,
        };
        let mut outcomes = filled(placeholder, inputs.len());
        let mut marks = filled(Mark::default(), inputs.len());
        let chunk = 4 * 1024;
        outcomes
            .par_chunks_mut(chunk)
            .zip(marks.par_chunks_mut(chunk))
            .zip(inputs.par_chunks(chunk))
            .for_each(|((outcomes, marks), inputs)| {
                let mut addresses: Vec<Result<Address, Invalid>> = Vec::with_capacity(BATCH);
                let mut ids = [None; BATCH];
                let mut verdicts = [None; BATCH];
                for ((outcomes, marks), inputs) in outcomes
                    .chunks_mut(BATCH)
                    .zip(marks.chunks_mut(BATCH))
                    .zip(inputs.chunks(BATCH))
                {
                    addresses.clear();
                    addresses.extend(inputs.iter().map(&normalize));
                    for (id, address) in ids.iter_mut().zip(&addresses) {
                        *id = address.as_ref().ok().and_then(|a| self.id_of(a));
                    }
                    self.check_batch(ids.get(..addresses.len()).unwrap_or(&[]), &mut verdicts);
                    for ((((outcome, mark), address), id), verdict) in outcomes
                        .iter_mut()
                        .zip(marks.iter_mut())
                        .zip(addresses.drain(..))
                        .zip(ids)
                        .zip(verdicts)
                    {
                        (*outcome, *mark) = match address {
                            Err(invalid) => {
                                let reason = SkipReason::from(invalid);
                                (
                                    Outcome::Skipped {
                                        reason,
                                        address: None,
                                    },
                                    Mark::skipped(reason),
                                )
                            }
                            Ok(address) => {
                                let verdict = verdict.or_else(|| {
                                    self.hashed_out(&address).then_some(SkipReason::OptedOut)
                                });
                                self.decide(address, id, verdict)
                            }
                        };
                    }
                }
            });
        finish(outcomes, &marks, self.emails.aliases())
    }

    /// Splits already normalized addresses in parallel, deduplicating as
    /// [`Suppression::split`] does.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Dispatch, Normalizer, Store};
    /// use optout::model::Category;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let n = Normalizer::default();
    /// let people = vec![n.address("+14155550123")?, n.address("ann@example.com")?];
    /// let split = Store::new().compile(&Dispatch::new(Category::Marketing))?.split_addresses(&people);
    /// assert_eq!(split.report().sendable, 2);
    /// # Ok(())
    /// # }
    /// ```
    pub fn split_addresses(&self, addresses: &[Address]) -> Split {
        self.split_with(addresses, |a| Ok(a.clone()))
    }

    /// Splits pre-normalized ids in parallel, without parsing anything.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{AddressId, Dispatch, Normalizer, Store};
    /// use optout::filter::SkipReason;
    /// use optout::model::Category;
    /// use optout::store::Edit;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::new();
    /// let a = Normalizer::default().address("+14155550123")?;
    /// store.opt_out(&a, &Edit::new())?;
    /// let ids = [a.phone_id().unwrap(), AddressId::from_phone_digits(14155550124).unwrap()];
    /// let split = store.compile(&Dispatch::new(Category::Marketing))?.split_ids(&ids);
    /// assert_eq!(split.verdicts(), [Some(SkipReason::OptedOut), None]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn split_ids(&self, ids: &[AddressId]) -> IdSplit {
        // One pass checks each id and hands the sendable ones to the
        // dedupe shards; a second deduplicates shard by shard.
        let chunk = chunk_len(ids.len());
        let mut verdicts: Vec<Option<SkipReason>> = filled(None, ids.len());
        let parts: Vec<(Report, Shards)> = verdicts
            .par_chunks_mut(chunk)
            .zip(ids.par_chunks(chunk))
            .enumerate()
            .map(|(c, (out, part))| {
                // Batch by batch: probe (a tight loop of independent lookups,
                // so the processor overlaps their cache misses), then count
                // and hand the sendable ids to the dedupe shards while the
                // batch is still in cache.
                let mut shards = Shards::new(part.len());
                let mut report = Report::default();
                let mut index = c * chunk;
                for (verdicts, ids) in out.chunks_mut(BATCH).zip(part.chunks(BATCH)) {
                    let mut raw = [0u64; BATCH];
                    for (r, id) in raw.iter_mut().zip(ids) {
                        *r = id.get();
                    }
                    let raw = raw.get(..ids.len()).unwrap_or(&[]);
                    self.check_raw(raw, verdicts);
                    for (verdict, &id) in verdicts.iter_mut().zip(raw) {
                        if verdict.is_none()
                            && (id > self.last_assigned || AddressId::new(id).is_none())
                        {
                            *verdict = Some(SkipReason::UnknownId);
                        }
                        if verdict.is_none()
                            && !self.hashed.is_empty()
                            && AddressId::new(id)
                                .and_then(|id| self.address_of(id))
                                .is_some_and(|a| self.hashed_out(&a))
                        {
                            *verdict = Some(SkipReason::OptedOut);
                        }
                        report.add(*verdict);
                        if verdict.is_none() {
                            shards.push(index, Key::Id(id));
                        }
                        index += 1;
                    }
                }
                (report, shards)
            })
            .collect();
        let (reports, shards): (Vec<Report>, Vec<Shards>) = parts.into_iter().unzip();
        let mut report = reports.into_iter().fold(Report::default(), Report::merge);
        for i in dedupe(&shards, |_, _| true) {
            if let Some(verdict @ None) = verdicts.get_mut(i) {
                *verdict = Some(SkipReason::Duplicate);
                report.sendable -= 1;
                report.duplicate += 1;
            }
        }
        IdSplit { verdicts, report }
    }

    /// Splits a whole audience given as a bitmap of ids, by set difference.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Dispatch, Store};
    /// use optout::model::Category;
    /// use roaring::RoaringTreemap;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let audience: RoaringTreemap = (14155550000u64..14155551000).collect();
    /// let split = Store::new().compile(&Dispatch::new(Category::Marketing))?.split_bitmap(&audience);
    /// assert_eq!(split.sendable.len(), 1000);
    /// # Ok(())
    /// # }
    /// ```
    pub fn split_bitmap(&self, audience: &RoaringTreemap) -> BitmapSplit {
        // Two independent halves run in parallel: the suppressed parts of
        // the audience, and the audience minus everything suppressed.
        let ((blocked, opted_out), sendable) = rayon::join(
            || {
                let blocked = crate::bitmap::intersection(&self.blocked_bitmap, audience);
                let mut opted_out = crate::bitmap::intersection(&self.opted_out_bitmap, audience);
                opted_out -= &blocked;
                (blocked, opted_out)
            },
            || {
                let mut sendable = audience.clone();
                sendable -= &self.blocked_bitmap;
                sendable -= &self.opted_out_bitmap;
                sendable
            },
        );
        let (mut sendable, mut opted_out) = (sendable, opted_out);
        let unknown = self.take_unknown(&mut sendable);
        if !self.hashed.is_empty() {
            let hashed: RoaringTreemap = sendable
                .iter()
                .filter(|&v| {
                    AddressId::new(v)
                        .and_then(|id| self.address_of(id))
                        .is_some_and(|a| self.hashed_out(&a))
                })
                .collect();
            sendable -= &hashed;
            opted_out |= &hashed;
        }
        BitmapSplit {
            sendable,
            opted_out,
            blocked,
            unknown,
        }
    }

    /// Takes out of `set` the values that are no id this store assigned:
    /// zero, values between the phone and email ranges, and email ids past
    /// the email table. Costs a few range counts unless there are some.
    fn take_unknown(&self, set: &mut RoaringTreemap) -> RoaringTreemap {
        use crate::address::{EMAIL_BASE, PHONE_LIMIT};
        let mut ranges = vec![0..=0, PHONE_LIMIT..=EMAIL_BASE - 1];
        if let Some(end) = self.emails.end() {
            ranges.push(end..=u64::MAX);
        }
        let mut unknown = RoaringTreemap::new();
        for range in ranges {
            if set.range_cardinality(range.clone()) == 0 {
                continue;
            }
            let (start, end) = (*range.start(), *range.end());
            let (first, last) = ((start >> 32) as u32, (end >> 32) as u32);
            let parts = set
                .bitmaps()
                .filter(|(hi, _)| (first..=last).contains(hi))
                .map(|(hi, bitmap)| {
                    let mut bitmap = bitmap.clone();
                    if hi == first {
                        bitmap.remove_range(..start as u32);
                    }
                    if hi == last {
                        bitmap.remove_range((
                            std::ops::Bound::Excluded(end as u32),
                            std::ops::Bound::Unbounded,
                        ));
                    }
                    (hi, bitmap)
                });
            unknown |= RoaringTreemap::from_bitmaps(parts);
        }
        *set -= &unknown;
        unknown
    }
}
