//! A split fed chunk by chunk, for audiences read from a file or a queue:
//! memory is the suppression, the people already sent to, and the caller's
//! chunk — never the whole audience.

use std::hash::BuildHasher;

use rayon::prelude::*;

use super::dedupe::{Key, UNKNOWN_EMAIL};
use super::idset::{BATCH, EMPTY, mix};
use super::{Report, SkipReason, Suppression};
use crate::address::{Address, AddressId, Invalid, Normalizer};

/// Shards of the set of people already sent to: keys are spread by their
/// high bits, and each shard is checked by one thread at a time.
const SHARDS: usize = 64;

/// Inputs per parallel piece of a chunk.
const PIECE: usize = 4 * 1024;

/// One recipient's outcome in a [`StreamSplit`]: the skip reason (`None`
/// when sendable) and the store's id of the address, in 16 bytes.
///
/// The id is there for every phone number and for every email address the
/// store knows; a sendable recipient without an id is an email address the
/// store has never recorded (so it is on no list). Its normalized form is
/// what [`Normalizer::address`] gives for the input.
///
/// # Example
///
/// ```
/// use optout::{Dispatch, Normalizer, Store};
/// use optout::filter::SkipReason;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let n = Normalizer::default();
/// let suppression = Store::new().compile(&Dispatch::marketing())?;
/// let mut stream = suppression.stream();
/// let mut verdicts = Vec::new();
/// stream.push(&n, &["+14155550123", "+1 415 555 0123"], &mut verdicts);
/// assert!(verdicts[0].is_sendable());
/// assert_eq!(verdicts[0].id(), n.address("+14155550123")?.phone_id());
/// assert_eq!(verdicts[1].reason(), Some(SkipReason::Duplicate));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Verdict {
    id: Option<AddressId>,
    reason: Option<SkipReason>,
}

impl Verdict {
    /// Why the recipient is skipped; `None` if it is sendable.
    ///
    /// # Example
    ///
    /// ```
    /// # use optout::{Dispatch, Normalizer, Store};
    /// # use optout::filter::SkipReason;
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let suppression = Store::new().compile(&Dispatch::marketing())?;
    /// let mut verdicts = Vec::new();
    /// suppression.stream().push(&Normalizer::default(), &["12"], &mut verdicts);
    /// assert!(matches!(verdicts[0].reason(), Some(SkipReason::InvalidNumber(_))));
    /// # Ok(())
    /// # }
    /// ```
    pub fn reason(&self) -> Option<SkipReason> {
        self.reason
    }

    /// `true` if the recipient may be sent to.
    ///
    /// # Example
    ///
    /// ```
    /// # use optout::{Dispatch, Normalizer, Store};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let suppression = Store::new().compile(&Dispatch::marketing())?;
    /// let mut verdicts = Vec::new();
    /// suppression.stream().push(&Normalizer::default(), &["ann@example.com"], &mut verdicts);
    /// assert!(verdicts[0].is_sendable());
    /// # Ok(())
    /// # }
    /// ```
    pub fn is_sendable(&self) -> bool {
        self.reason.is_none()
    }

    /// The store's id of the address, when it has one (see the type's
    /// documentation).
    ///
    /// # Example
    ///
    /// ```
    /// # use optout::{Dispatch, Normalizer, Store};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let suppression = Store::new().compile(&Dispatch::marketing())?;
    /// let mut verdicts = Vec::new();
    /// suppression.stream().push(&Normalizer::default(), &["ann@example.com"], &mut verdicts);
    /// assert_eq!(verdicts[0].id(), None); // an email this store never recorded
    /// # Ok(())
    /// # }
    /// ```
    pub fn id(&self) -> Option<AddressId> {
        self.id
    }
}

/// A split fed chunk by chunk: each chunk is normalized and checked in
/// parallel, and deduplicated against every earlier chunk (the first
/// occurrence of a person is sent to), so the verdicts of all chunks
/// together are those [`Suppression::split`] gives for the whole audience.
///
/// It holds the people already sent to — 11 to 22 bytes per person, plus
/// the text of email addresses the store has never recorded — and a
/// running [`Report`].
///
/// # Example
///
/// ```
/// use optout::{Dispatch, Normalizer, Store};
/// use optout::store::Edit;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let n = Normalizer::default();
/// let store = Store::new();
/// store.opt_out(&n.address("+14155550100")?, &Edit::new())?;
/// let suppression = store.compile(&Dispatch::marketing())?;
/// let mut stream = suppression.stream();
/// let mut verdicts = Vec::new();
/// for chunk in [["+14155550100", "+14155550101"], ["+14155550101", "oops"]] {
///     verdicts.clear();
///     stream.push(&n, &chunk, &mut verdicts);
///     // write this chunk's rows, then read the next
/// }
/// assert_eq!(
///     stream.report().to_string(),
///     "1 sendable, 3 skipped (1 opted-out, 1 invalid number, 1 duplicate)"
/// );
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct StreamSplit<'s> {
    suppression: &'s Suppression,
    shards: Vec<Seen>,
    report: Report,
}

/// One shard of the people already sent to: an open-addressing table of
/// mixed ids, and the emails the store does not know by their hash.
#[derive(Debug, Default)]
struct Seen {
    slots: Vec<u64>,
    len: usize,
    emails: std::collections::HashMap<u64, Vec<Box<str>>, foldhash::fast::FixedState>,
}

/// Entries whose slots are read ahead together, so that their cache
/// misses overlap instead of following one another.
const GROUP: usize = 32;

impl Seen {
    /// Makes room for `more` entries without growing on the way (the table
    /// stays at most 70% full).
    fn reserve(&mut self, more: usize) {
        let want = (self.len + more) * 10 / 7 + 1;
        if want > self.slots.len() {
            let capacity = want.next_power_of_two().max(64);
            let old = std::mem::replace(&mut self.slots, vec![EMPTY; capacity]);
            self.len = 0;
            for value in old.into_iter().filter(|&v| v != EMPTY) {
                self.insert(value);
            }
        }
    }

    /// Reads the home slots of a group of entries, so that the inserts
    /// that follow find them in cache.
    fn touch(&self, group: &[[u64; 2]]) {
        let mask = self.slots.len().wrapping_sub(1);
        let mut any = 0u64;
        for &[_, mixed] in group {
            any ^= self.slots.get(mixed as usize & mask).copied().unwrap_or(0);
        }
        std::hint::black_box(any);
    }

    /// Inserts a mixed (non-zero) id; `false` if it was there. The table
    /// has room (see [`Seen::reserve`]).
    fn insert(&mut self, mixed: u64) -> bool {
        let mask = self.slots.len().wrapping_sub(1);
        // The low bits pick the slot; the high bits picked the shard.
        let mut i = mixed as usize & mask;
        while let Some(slot) = self.slots.get_mut(i) {
            if *slot == mixed {
                return false;
            }
            if *slot == EMPTY {
                *slot = mixed;
                self.len += 1;
                return true;
            }
            i = (i + 1) & mask;
        }
        // Only an empty table has no slots; `reserve` leaves none empty.
        false
    }

    /// Inserts an email's key; `false` if it was there.
    fn insert_email(&mut self, hash: u64, key: &str) -> bool {
        let keys = self.emails.entry(hash).or_default();
        if keys.iter().any(|k| &**k == key) {
            false
        } else {
            keys.push(key.into());
            true
        }
    }

    fn bytes(&self) -> usize {
        self.slots.len() * 8
            + self
                .emails
                .values()
                .flatten()
                .map(|k| k.len() + 16)
                .sum::<usize>()
    }
}

/// Appends `n` placeholder verdicts to `out` and returns them, to be
/// filled in place.
fn extend(out: &mut Vec<Verdict>, n: usize) -> &mut [Verdict] {
    let start = out.len();
    out.resize(
        start + n,
        Verdict {
            id: None,
            reason: None,
        },
    );
    out.get_mut(start..).unwrap_or(&mut [])
}

/// Marks an entry whose key is the hash of an email the store does not
/// know.
const HASHED: u64 = 1 << 63;

/// The sendable inputs of one parallel piece of a chunk, by shard, each
/// shard's in input order: `[index (| HASHED), mixed key]`.
struct Piece {
    shards: Vec<Vec<[u64; 2]>>,
    /// The key text of the emails the store does not know, by index.
    emails: Vec<(usize, Box<str>)>,
}

impl Piece {
    fn new() -> Piece {
        Piece {
            shards: (0..SHARDS).map(|_| Vec::new()).collect(),
            emails: Vec::new(),
        }
    }

    fn push(&mut self, index: usize, key: Key, email: Option<Box<str>>) {
        let (value, flag) = match key {
            Key::Id(v) => (v, 0),
            Key::Hashed(v) => (v, HASHED),
        };
        // The mix is a bijection that keeps 0 at 0 (never an id), so mixed
        // keys are equal exactly when keys are.
        let mixed = mix(value);
        if let Some(shard) = self.shards.get_mut((mixed >> 58) as usize % SHARDS) {
            shard.push([index as u64 | flag, mixed]);
        }
        if let Some(text) = email {
            self.emails.push((index, text));
        }
    }

    fn email(&self, index: usize) -> &str {
        self.emails
            .binary_search_by_key(&index, |(i, _)| *i)
            .ok()
            .and_then(|at| self.emails.get(at))
            .map_or("", |(_, text)| text)
    }
}

impl Suppression {
    /// Starts a split fed chunk by chunk (see [`StreamSplit`]).
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Dispatch, Normalizer, Store};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let suppression = Store::new().compile(&Dispatch::marketing())?;
    /// let mut stream = suppression.stream();
    /// let mut verdicts = Vec::new();
    /// stream.push(&Normalizer::default(), &["+14155550123"], &mut verdicts);
    /// assert_eq!(stream.report().sendable, 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn stream(&self) -> StreamSplit<'_> {
        StreamSplit {
            suppression: self,
            shards: (0..SHARDS).map(|_| Seen::default()).collect(),
            report: Report::default(),
        }
    }
}

impl StreamSplit<'_> {
    /// Splits the next chunk of raw inputs (phone numbers in any format,
    /// email addresses): appends one [`Verdict`] per input to `out`, in
    /// order.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Dispatch, Normalizer, Store};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let suppression = Store::new().compile(&Dispatch::marketing())?;
    /// let mut stream = suppression.stream();
    /// let mut out = Vec::new();
    /// stream.push(&Normalizer::default(), &["ann@example.com"], &mut out);
    /// stream.push(&Normalizer::default(), &["ANN@example.com"], &mut out);
    /// assert_eq!(out.len(), 2);
    /// assert!(!out[1].is_sendable()); // the same person, in a later chunk
    /// # Ok(())
    /// # }
    /// ```
    pub fn push<S: AsRef<str> + Sync>(
        &mut self,
        normalizer: &Normalizer,
        inputs: &[S],
        out: &mut Vec<Verdict>,
    ) {
        self.push_with(inputs, out, |input| normalizer.address(input.as_ref()));
    }

    /// Splits the next chunk of already normalized addresses, as
    /// [`StreamSplit::push`] does.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Dispatch, Normalizer, Store};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let n = Normalizer::default();
    /// let suppression = Store::new().compile(&Dispatch::marketing())?;
    /// let mut out = Vec::new();
    /// suppression.stream().push_addresses(&[n.address("+14155550123")?], &mut out);
    /// assert!(out[0].is_sendable());
    /// # Ok(())
    /// # }
    /// ```
    pub fn push_addresses(&mut self, addresses: &[Address], out: &mut Vec<Verdict>) {
        self.push_with(addresses, out, |a| Ok(a.clone()));
    }

    /// Splits the next chunk of pre-normalized ids, as
    /// [`Suppression::split_ids`] does for a whole audience.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{AddressId, Dispatch, Store};
    /// use optout::filter::SkipReason;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let suppression = Store::new().compile(&Dispatch::marketing())?;
    /// let id = AddressId::from_phone_digits(14155550123).unwrap();
    /// let mut stream = suppression.stream();
    /// let mut out = Vec::new();
    /// stream.push_ids(&[id], &mut out);
    /// stream.push_ids(&[id], &mut out);
    /// assert_eq!(out[1].reason(), Some(SkipReason::Duplicate));
    /// # Ok(())
    /// # }
    /// ```
    pub fn push_ids(&mut self, ids: &[AddressId], out: &mut Vec<Verdict>) {
        let s = self.suppression;
        let verdicts = extend(out, ids.len());
        let pieces: Vec<Piece> = verdicts
            .par_chunks_mut(PIECE)
            .zip(ids.par_chunks(PIECE))
            .enumerate()
            .map(|(p, (verdicts, ids))| {
                let mut piece = Piece::new();
                let mut checked = [None; BATCH];
                for (b, (verdicts, ids)) in verdicts
                    .chunks_mut(BATCH)
                    .zip(ids.chunks(BATCH))
                    .enumerate()
                {
                    let mut raw = [0u64; BATCH];
                    for (r, id) in raw.iter_mut().zip(ids) {
                        *r = id.get();
                    }
                    s.check_raw(raw.get(..ids.len()).unwrap_or(&[]), &mut checked);
                    for (j, ((verdict, &id), &check)) in
                        verdicts.iter_mut().zip(ids).zip(&checked).enumerate()
                    {
                        // As `Suppression::check_id`: an id the store did not
                        // assign is never sent.
                        let reason = check
                            .or_else(|| {
                                (id.get() > s.last_assigned).then_some(SkipReason::UnknownId)
                            })
                            .or_else(|| {
                                (!s.hashed.is_empty()
                                    && s.address_of(id).is_some_and(|a| s.hashed_out(&a)))
                                .then_some(SkipReason::OptedOut)
                            });
                        *verdict = Verdict {
                            id: Some(id),
                            reason,
                        };
                        if reason.is_none() {
                            piece.push(p * PIECE + b * BATCH + j, Key::Id(id.get()), None);
                        }
                    }
                }
                piece
            })
            .collect();
        self.dedupe(&pieces, verdicts);
    }

    fn push_with<T: Sync>(
        &mut self,
        inputs: &[T],
        out: &mut Vec<Verdict>,
        normalize: impl Fn(&T) -> Result<Address, Invalid> + Sync,
    ) {
        let s = self.suppression;
        let aliases = s.emails.aliases();
        let verdicts = extend(out, inputs.len());
        let pieces: Vec<Piece> = verdicts
            .par_chunks_mut(PIECE)
            .zip(inputs.par_chunks(PIECE))
            .enumerate()
            .map(|(p, (verdicts, inputs))| {
                let mut piece = Piece::new();
                let mut addresses: Vec<Result<Address, Invalid>> = Vec::with_capacity(BATCH);
                let mut ids = [None; BATCH];
                let mut checked = [None; BATCH];
                for (b, (verdicts, inputs)) in verdicts
                    .chunks_mut(BATCH)
                    .zip(inputs.chunks(BATCH))
                    .enumerate()
                {
                    addresses.clear();
                    addresses.extend(inputs.iter().map(&normalize));
                    for (id, address) in ids.iter_mut().zip(&addresses) {
                        *id = address.as_ref().ok().and_then(|a| s.id_of(a));
                    }
                    s.check_batch(ids.get(..addresses.len()).unwrap_or(&[]), &mut checked);
                    for (j, (((verdict, address), &id), &check)) in verdicts
                        .iter_mut()
                        .zip(&addresses)
                        .zip(&ids)
                        .zip(&checked)
                        .enumerate()
                    {
                        let reason = match address {
                            Err(invalid) => Some(SkipReason::from(*invalid)),
                            Ok(address) => check
                                .or_else(|| s.hashed_out(address).then_some(SkipReason::OptedOut)),
                        };
                        *verdict = Verdict { id, reason };
                        let (Ok(address), None) = (address, reason) else {
                            continue;
                        };
                        let index = p * PIECE + b * BATCH + j;
                        match (address, id) {
                            (_, Some(id)) => piece.push(index, Key::Id(id.get()), None),
                            (Address::Email(e), None) => {
                                let key = e.key(aliases);
                                let hash = UNKNOWN_EMAIL.hash_one(&*key);
                                piece.push(index, Key::Hashed(hash), Some(key.into()));
                            }
                            (Address::Phone(p), None) => {
                                piece.push(index, Key::Id(p.id().get()), None)
                            }
                        }
                    }
                }
                piece
            })
            .collect();
        self.dedupe(&pieces, verdicts);
    }

    /// Marks the sendable entries whose person was sent to before (in an
    /// earlier chunk or earlier in this one) as duplicates, and counts the
    /// chunk.
    fn dedupe(&mut self, pieces: &[Piece], verdicts: &mut [Verdict]) {
        // Each shard goes through its entries piece by piece, so in input
        // order; shards run in parallel.
        let mut duplicates: Vec<usize> = self
            .shards
            .par_iter_mut()
            .enumerate()
            .flat_map_iter(|(s, seen)| {
                let entries = || pieces.iter().map(move |p| (p, p.shards.get(s)));
                seen.reserve(entries().map(|(_, e)| e.map_or(0, Vec::len)).sum());
                let mut duplicates = Vec::new();
                for (piece, shard) in entries() {
                    for group in shard.map_or(&[][..], Vec::as_slice).chunks(GROUP) {
                        seen.touch(group);
                        for &[tagged, mixed] in group {
                            let index = (tagged & !HASHED) as usize;
                            let fresh = if tagged & HASHED == 0 {
                                seen.insert(mixed)
                            } else {
                                seen.insert_email(mixed, piece.email(index))
                            };
                            if !fresh {
                                duplicates.push(index);
                            }
                        }
                    }
                }
                duplicates
            })
            .collect();
        duplicates.sort_unstable();
        for index in duplicates {
            if let Some(verdict) = verdicts.get_mut(index) {
                verdict.reason = Some(SkipReason::Duplicate);
            }
        }
        for verdict in verdicts.iter() {
            self.report.add(verdict.reason);
        }
    }

    /// The counts of every chunk so far.
    ///
    /// # Example
    ///
    /// ```
    /// # use optout::{Dispatch, Normalizer, Store};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let suppression = Store::new().compile(&Dispatch::marketing())?;
    /// let mut stream = suppression.stream();
    /// stream.push(&Normalizer::default(), &["+14155550123", "nope"], &mut Vec::new());
    /// assert_eq!(stream.report().to_string(), "1 sendable, 1 skipped (invalid number)");
    /// # Ok(())
    /// # }
    /// ```
    pub fn report(&self) -> Report {
        self.report
    }

    /// Bytes held for the people already sent to (the suppression itself
    /// not counted).
    ///
    /// # Example
    ///
    /// ```
    /// # use optout::{Dispatch, Normalizer, Store};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let suppression = Store::new().compile(&Dispatch::marketing())?;
    /// let mut stream = suppression.stream();
    /// assert_eq!(stream.memory(), 0);
    /// stream.push(&Normalizer::default(), &["+14155550123"], &mut Vec::new());
    /// assert!(stream.memory() > 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn memory(&self) -> usize {
        self.shards.iter().map(Seen::bytes).sum()
    }
}
