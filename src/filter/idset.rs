//! The probe structure of one filter run: a Bloom filter in front of an
//! open-addressing table, compiled from a roaring bitmap.

use std::hash::BuildHasher;

use roaring::RoaringTreemap;

/// A set of ids for membership tests during one filter run.
///
/// Roaring is the storage format, but probing a sparse roaring treemap costs
/// several dependent cache misses. This set answers most lookups from a
/// one-word-per-probe Bloom filter of about one byte per id, small enough
/// to stay in the CPU's second-level cache; only ids that pass it reach
/// the exact open-addressing table (one cache line per probe).
#[derive(Clone, Debug, Default)]
pub(crate) struct IdSet {
    bloom: Vec<u64>,
    bloom_shift: u32,
    slots: Vec<u64>,
    slot_shift: u32,
    seed: u64,
    len: u64,
}

/// Id 0 is never a valid id, so it marks an empty slot.
pub(crate) const EMPTY: u64 = 0;

/// The splitmix64 finalizer: every output bit depends on every input bit.
/// Each step (xor with a shift, multiplication by an odd constant) can be
/// undone, so it is a bijection, and it maps 0 to 0.
#[inline]
pub(crate) fn mix(x: u64) -> u64 {
    let x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    let x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The four bits a hash sets in its Bloom word.
#[inline]
fn bloom_bits(h: u64) -> u64 {
    (1 << (h & 63)) | (1 << ((h >> 6) & 63)) | (1 << ((h >> 12) & 63)) | (1 << ((h >> 18) & 63))
}

impl IdSet {
    pub(crate) fn from_bitmap(bitmap: &RoaringTreemap) -> IdSet {
        let len = bitmap.len();
        if len == 0 {
            return IdSet::default();
        }
        let slots = len.saturating_mul(2).next_power_of_two().max(16);
        let words = (len / 8).next_power_of_two().max(8);
        // A per-set random seed: inputs cannot be chosen to collide.
        let seed = foldhash::fast::RandomState::default().hash_one(len);
        let mut set = IdSet {
            bloom: vec![0; usize::try_from(words).unwrap_or(usize::MAX)],
            bloom_shift: 64 - words.trailing_zeros(),
            slots: vec![EMPTY; usize::try_from(slots).unwrap_or(usize::MAX)],
            slot_shift: 64 - slots.trailing_zeros(),
            seed,
            len,
        };
        for id in bitmap.iter().filter(|&id| id != EMPTY) {
            set.insert(id);
        }
        set
    }

    fn insert(&mut self, id: u64) {
        let h = mix(id ^ self.seed);
        if let Some(word) = self.bloom.get_mut((h >> self.bloom_shift) as usize) {
            *word |= bloom_bits(h);
        }
        let mask = self.slots.len() - 1;
        let mut i = (h.rotate_left(32) >> self.slot_shift) as usize;
        while let Some(slot) = self.slots.get_mut(i) {
            if *slot == EMPTY || *slot == id {
                *slot = id;
                return;
            }
            i = (i + 1) & mask;
        }
    }

    #[inline]
    pub(crate) fn contains(&self, id: u64) -> bool {
        if self.len == 0 {
            return false;
        }
        let h = mix(id ^ self.seed);
        let bits = bloom_bits(h);
        match self.bloom.get((h >> self.bloom_shift) as usize) {
            Some(word) if word & bits == bits => {}
            _ => return false,
        }
        let mask = self.slots.len() - 1;
        let mut i = (h.rotate_left(32) >> self.slot_shift) as usize;
        // The table is at most half full, so an empty slot ends every probe.
        while let Some(&slot) = self.slots.get(i) {
            if slot == id {
                return true;
            }
            if slot == EMPTY {
                return false;
            }
            i = (i + 1) & mask;
        }
        false
    }

    /// Membership of a batch of ids (0 = absent), written to `out`. The
    /// Bloom words and then the table slots are loaded in separate loops,
    /// so the processor can have all of a batch's cache misses in flight at
    /// once instead of one after another.
    pub(crate) fn contains_batch(&self, ids: &[u64], out: &mut [bool]) {
        if self.len == 0 {
            out.iter_mut().for_each(|o| *o = false);
            return;
        }
        let mut hashes = [0u64; BATCH];
        for ((&id, o), h) in ids.iter().zip(out.iter_mut()).zip(hashes.iter_mut()) {
            *h = mix(id ^ self.seed);
            let bits = bloom_bits(*h);
            let word = self
                .bloom
                .get((*h >> self.bloom_shift) as usize)
                .copied()
                .unwrap_or(0);
            *o = id != EMPTY && word & bits == bits;
        }
        let mask = self.slots.len() - 1;
        for ((&id, o), h) in ids.iter().zip(out.iter_mut()).zip(hashes) {
            if !*o {
                continue;
            }
            let mut i = (h.rotate_left(32) >> self.slot_shift) as usize;
            *o = false;
            while let Some(&slot) = self.slots.get(i) {
                if slot == id {
                    *o = true;
                    break;
                }
                if slot == EMPTY {
                    break;
                }
                i = (i + 1) & mask;
            }
        }
    }

    pub(crate) fn len(&self) -> u64 {
        self.len
    }
}

/// Inputs handled together by the batched lookups.
pub(crate) const BATCH: usize = 32;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_set_membership() {
        let bitmap: RoaringTreemap = (1..=1000u64).map(|i| i * 7_919 + 14_155_550_000).collect();
        let set = IdSet::from_bitmap(&bitmap);
        assert_eq!(set.len(), 1000);
        for i in 1..=1000u64 {
            assert!(set.contains(i * 7_919 + 14_155_550_000));
            assert!(!set.contains(i * 7_919 + 14_155_550_001));
        }
        assert!(!IdSet::default().contains(5));
    }

    #[test]
    fn mix_keeps_keys_apart_and_zero_empty() {
        assert_eq!(mix(0), 0);
        let mut seen: Vec<u64> = (1..=100_000u64)
            .flat_map(|i| [i, i << 40, 14_155_550_000 + i, u64::MAX - i])
            .map(mix)
            .collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 400_000);
        assert!(!seen.contains(&0));
    }
}
