//! Set operations on roaring treemaps that stay linear on sparse data.
//!
//! Phone ids are sparse: ten million numbers spread over a country's
//! numbering space leave one or a few values per roaring container. The
//! in-place union of `roaring` inserts each new container into the middle
//! of a sorted vector, which turns into quadratic time when both sides have
//! many containers (two 50,000-entry lists took 100 ms to merge). These
//! helpers merge the sorted values instead and build the result in one
//! append.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use roaring::RoaringTreemap;

/// Builds a treemap from sorted, unique values.
pub(crate) fn from_sorted(values: Vec<u64>) -> RoaringTreemap {
    let mut set = RoaringTreemap::new();
    if set.append(values.iter().copied()).is_err() {
        // Only reachable if the values were not sorted after all.
        set = values.into_iter().collect();
    }
    set
}

/// Builds a treemap from values in any order.
pub(crate) fn from_unsorted(values: impl IntoIterator<Item = u64>) -> RoaringTreemap {
    let mut values: Vec<u64> = values.into_iter().collect();
    values.sort_unstable();
    values.dedup();
    from_sorted(values)
}

/// Merges two sorted iterators into a sorted, unique vector.
fn merge(a: impl Iterator<Item = u64>, b: impl Iterator<Item = u64>, capacity: usize) -> Vec<u64> {
    let mut out = Vec::with_capacity(capacity);
    let (mut a, mut b) = (a.peekable(), b.peekable());
    loop {
        let next = match (a.peek(), b.peek()) {
            (Some(&x), Some(&y)) if x < y => a.next(),
            (Some(&x), Some(&y)) if x > y => b.next(),
            (Some(_), Some(_)) => {
                b.next();
                a.next()
            }
            (Some(_), None) => a.next(),
            (None, Some(_)) => b.next(),
            (None, None) => break,
        };
        out.extend(next);
    }
    out
}

/// The union of several treemaps.
///
/// The two smallest runs are merged first (the optimal merge order), so a
/// send honouring a thousand small lists and one large one costs about the
/// size of the large one, not a thousand passes over it.
pub(crate) fn union_all(sets: &[&RoaringTreemap]) -> RoaringTreemap {
    let sets: Vec<&RoaringTreemap> = sets.iter().copied().filter(|s| !s.is_empty()).collect();
    match sets.as_slice() {
        [] => RoaringTreemap::new(),
        [one] => (*one).clone(),
        _ => {
            let mut runs: Vec<Vec<u64>> = sets.iter().map(|s| s.iter().collect()).collect();
            let mut heap: BinaryHeap<Reverse<(usize, usize)>> = runs
                .iter()
                .enumerate()
                .map(|(i, run)| Reverse((run.len(), i)))
                .collect();
            while let (Some(Reverse((_, a))), Some(Reverse((_, b)))) = (heap.pop(), heap.pop()) {
                let x = runs.get_mut(a).map(std::mem::take).unwrap_or_default();
                let y = runs.get_mut(b).map(std::mem::take).unwrap_or_default();
                let capacity = x.len() + y.len();
                let merged = merge(x.into_iter(), y.into_iter(), capacity);
                heap.push(Reverse((merged.len(), a)));
                if let Some(slot) = runs.get_mut(a) {
                    *slot = merged;
                }
            }
            let last = runs.into_iter().max_by_key(Vec::len).unwrap_or_default();
            from_sorted(last)
        }
    }
}

/// The intersection of two treemaps, working from the smaller one.
///
/// `&a & &b` in `roaring` 0.12 clones the larger operand and filters it,
/// which costs the size of the larger set even when the other is tiny.
pub(crate) fn intersection(a: &RoaringTreemap, b: &RoaringTreemap) -> RoaringTreemap {
    let (small, large) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let mut out = small.clone();
    out &= large;
    out
}

/// Adds `other` to `target`: in place when `other` is small next to it,
/// by a linear merge otherwise.
pub(crate) fn union_into(target: &mut RoaringTreemap, other: &RoaringTreemap) {
    if target.is_empty() {
        // A clone allocates each container at its exact size.
        target.clone_from(other);
    } else if other.len().saturating_mul(64) < target.len() {
        *target |= other;
    } else {
        *target = union_all(&[target, other]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn union_matches_roaring() {
        let a: RoaringTreemap = (0..5_000u64).map(|i| i * 1_000_003).collect();
        let b: RoaringTreemap = (0..3_000u64)
            .map(|i| i * 2_000_003 + 7)
            .chain([0, 1_000_003])
            .collect();
        let c: RoaringTreemap = [u64::MAX, 5].into_iter().collect();
        assert_eq!(union_all(&[&a, &b, &c]), &(&a | &b) | &c);
        let mut t = a.clone();
        union_into(&mut t, &b);
        assert_eq!(t, &a | &b);
        let mut small = a.clone();
        union_into(&mut small, &c);
        assert_eq!(small, &a | &c);
        assert_eq!(union_all(&[]), RoaringTreemap::new());
        assert_eq!(intersection(&a, &b), &a & &b);
        assert_eq!(intersection(&c, &a), &c & &a);
        assert_eq!(intersection(&b, &a), &a & &b);
        assert_eq!(union_all(&[&RoaringTreemap::new(), &c]), c);
        assert_eq!(
            from_unsorted([3, 1, 3, 2]),
            [1u64, 2, 3].into_iter().collect()
        );
    }

    #[test]
    fn union_of_many_sets_of_every_size() {
        let sets: Vec<RoaringTreemap> = (0..60u64)
            .map(|k| {
                (0..(k * k * 7) % 500)
                    .map(|i| 14_155_550_000 + (i * 7_919 + k * 104_729) % 1_000_000)
                    .collect()
            })
            .collect();
        let refs: Vec<&RoaringTreemap> = sets.iter().collect();
        let expected = sets.iter().fold(RoaringTreemap::new(), |acc, s| &acc | s);
        assert_eq!(union_all(&refs), expected);
        assert_eq!(union_all(&refs[..2]), &sets[0] | &sets[1]);
    }
}
