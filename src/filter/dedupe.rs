//! Deduplication across parallel chunks: the first occurrence of a person
//! is sent to, later ones are skipped as duplicates.

use rayon::prelude::*;

use super::idset::{EMPTY, mix};
use super::outcome::{Outcome, Recipient, Report, SkipReason, Split};
use crate::address::{Address, EmailAliases};

/// What the dedupe pass keys an item on: an id, or (for an email address
/// the store has never seen) a hash of it that is checked against the
/// address itself before two items are called the same.
#[derive(Clone, Copy)]
pub(crate) enum Key {
    Id(u64),
    Hashed(u64),
}

/// Hashes email addresses the store does not know, for deduplication.
pub(crate) const UNKNOWN_EMAIL: foldhash::fast::FixedState =
    foldhash::fast::FixedState::with_seed(0x0ddb_a11c_0ffe_e123);

/// A compact per-input summary the dedupe and report passes read instead
/// of the outcomes: the dedupe key of a sendable input and what happened.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Mark {
    pub(crate) key: u64,
    pub(crate) tag: u8,
}

impl Mark {
    pub(crate) const SEND_ID: u8 = 0;
    pub(crate) const SEND_HASHED: u8 = 1;
    const OPTED_OUT: u8 = 2;
    const BLOCKED: u8 = 3;
    const INVALID_NUMBER: u8 = 4;
    const INVALID_EMAIL: u8 = 5;
    const DUPLICATE: u8 = 6;
    const UNKNOWN_ID: u8 = 7;

    pub(crate) fn skipped(reason: SkipReason) -> Mark {
        let tag = match reason {
            SkipReason::OptedOut => Mark::OPTED_OUT,
            SkipReason::Blocked => Mark::BLOCKED,
            SkipReason::InvalidNumber(_) => Mark::INVALID_NUMBER,
            SkipReason::InvalidEmail(_) => Mark::INVALID_EMAIL,
            SkipReason::UnknownId => Mark::UNKNOWN_ID,
            SkipReason::Duplicate => Mark::DUPLICATE,
        };
        Mark { key: 0, tag }
    }

    pub(crate) fn key(&self) -> Option<Key> {
        match self.tag {
            Mark::SEND_ID => Some(Key::Id(self.key)),
            Mark::SEND_HASHED => Some(Key::Hashed(self.key)),
            _ => None,
        }
    }

    pub(crate) fn count(self, report: &mut Report) {
        match self.tag {
            Mark::SEND_ID | Mark::SEND_HASHED => report.sendable += 1,
            Mark::OPTED_OUT => report.opted_out += 1,
            Mark::BLOCKED => report.blocked += 1,
            Mark::INVALID_NUMBER => report.invalid_number += 1,
            Mark::INVALID_EMAIL => report.invalid_email += 1,
            Mark::UNKNOWN_ID => report.unknown_id += 1,
            _ => report.duplicate += 1,
        }
    }
}

/// Marks repeated sendable recipients as duplicates (first occurrence wins)
/// and counts the outcomes.
pub(crate) fn finish(mut outcomes: Vec<Outcome>, marks: &[Mark], aliases: EmailAliases) -> Split {
    fn unknown_email(o: &Outcome, aliases: EmailAliases) -> Option<std::borrow::Cow<'_, str>> {
        match o {
            Outcome::Sendable(Recipient {
                address: Address::Email(e),
                id: None,
            }) => Some(e.key(aliases)),
            _ => None,
        }
    }
    let duplicates = duplicates(marks, Mark::key, |a, b| {
        let text = |i: usize| outcomes.get(i).and_then(|o| unknown_email(o, aliases));
        let first = text(a);
        first.is_some() && first == text(b)
    });
    let mut report = marks
        .par_iter()
        .with_min_len(16 * 1024)
        .fold(Report::default, |mut r, m| {
            m.count(&mut r);
            r
        })
        .reduce(Report::default, Report::merge);
    for i in duplicates {
        if let Some(outcome) = outcomes.get_mut(i) {
            let address = match std::mem::replace(
                outcome,
                Outcome::Skipped {
                    reason: SkipReason::Duplicate,
                    address: None,
                },
            ) {
                Outcome::Sendable(r) => Some(r.address),
                Outcome::Skipped { address, .. } => address,
            };
            *outcome = Outcome::Skipped {
                reason: SkipReason::Duplicate,
                address,
            };
            report.sendable -= 1;
            report.duplicate += 1;
        }
    }
    Split { outcomes, report }
}

/// Number of shards the dedupe pass splits keys into: enough for both
/// cores to share the work and for each shard's table to stay in cache.
pub(crate) const SHARDS: usize = 256;

/// Marks a hashed key's index in a shard entry.
pub(crate) const HASHED: u64 = 1 << 63;

/// A vector of `len` copies of `value`, written by all threads: the first
/// write to a fresh page costs a page fault, so a large output filled by
/// one thread would be bound by that one thread's faults.
pub(crate) fn filled<T: Clone + Send + Sync>(value: T, len: usize) -> Vec<T> {
    let mut out = Vec::with_capacity(len);
    out.par_extend(rayon::iter::repeat_n(value, len).with_min_len(64 * 1024));
    out
}

/// Items per parallel chunk.
pub(crate) fn chunk_len(n: usize) -> usize {
    (n / (rayon::current_num_threads() * 4)).max(64 * 1024)
}

/// One chunk's keys, split by shard, each shard in input order. An entry
/// is `[index (| HASHED), key]`.
pub(crate) struct Shards(Vec<Vec<[u64; 2]>>);

impl Shards {
    pub(crate) fn new(items: usize) -> Shards {
        let expect = items / SHARDS + items / (SHARDS * 4) + 8;
        Shards((0..SHARDS).map(|_| Vec::with_capacity(expect)).collect())
    }

    #[inline]
    pub(crate) fn push(&mut self, index: usize, key: Key) {
        let (value, flag) = match key {
            Key::Id(v) => (v, 0),
            Key::Hashed(v) => (v, HASHED),
        };
        // Keys are stored mixed: the mix is a bijection, so mixed keys are
        // equal exactly when keys are, and its bits pick both the shard
        // (high) and the slot in the shard's table (low) without mixing
        // again. Id 0 is never valid and mixes to 0, the empty slot.
        let mixed = mix(value);
        if let Some(shard) = self.0.get_mut((mixed >> 56) as usize % SHARDS) {
            shard.push([index as u64 | flag, mixed]);
        }
    }
}

/// Positions of the items whose key appeared at an earlier position.
pub(crate) fn duplicates<T: Sync>(
    items: &[T],
    key: impl Fn(&T) -> Option<Key> + Sync,
    same: impl Fn(usize, usize) -> bool + Sync,
) -> Vec<usize> {
    let chunk = chunk_len(items.len());
    let shards: Vec<Shards> = items
        .par_chunks(chunk)
        .enumerate()
        .map(|(c, part)| {
            let mut shards = Shards::new(part.len());
            for (j, item) in part.iter().enumerate() {
                if let Some(k) = key(item) {
                    shards.push(c * chunk + j, k);
                }
            }
            shards
        })
        .collect();
    dedupe(&shards, same)
}

/// Deduplicates every shard (in parallel), chunk after chunk so that input
/// order is kept. Ids go through a small open-addressing set; hashed keys
/// are confirmed with `same(first, later)`.
pub(crate) fn dedupe(chunks: &[Shards], same: impl Fn(usize, usize) -> bool + Sync) -> Vec<usize> {
    let mut out: Vec<usize> = (0..SHARDS)
        .into_par_iter()
        .flat_map_iter(|s| {
            let entries = || chunks.iter().filter_map(|c| c.0.get(s)).flatten();
            let len = chunks
                .iter()
                .filter_map(|c| c.0.get(s))
                .map(Vec::len)
                .sum::<usize>();
            let capacity = (len * 2).next_power_of_two().max(16);
            let mask = capacity - 1;
            let mut table = vec![EMPTY; capacity];
            let mut hashed: std::collections::HashMap<u64, Vec<usize>, foldhash::fast::FixedState> =
                std::collections::HashMap::default();
            let mut dups = Vec::new();
            for &[tagged, value] in entries() {
                let index = (tagged & !HASHED) as usize;
                if tagged & HASHED != 0 {
                    let firsts = hashed.entry(value).or_default();
                    if firsts.iter().any(|&f| same(f, index)) {
                        dups.push(index);
                    } else {
                        firsts.push(index);
                    }
                    continue;
                }
                let mut i = value as usize & mask;
                while let Some(slot) = table.get_mut(i) {
                    if *slot == value {
                        dups.push(index);
                        break;
                    }
                    if *slot == EMPTY {
                        *slot = value;
                        break;
                    }
                    i = (i + 1) & mask;
                }
            }
            dups
        })
        .collect();
    out.sort_unstable();
    out
}
