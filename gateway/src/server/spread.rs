//! How a large read is spread over the machine's cores: in two halves, or in chunks whose
//! results are taken in order as they arrive (`residency.rs`).

use std::collections::BTreeMap;

/// A large read across a border is decided in this many chunks, by [`DECIDERS`] threads.
pub(super) const CHUNKS: usize = 8;
pub(super) const DECIDERS: usize = 2;

/// The item at `position` of those `arrive` hands out as `(position, item)` in any order,
/// keeping the ones that come early in `early`; `None` once `arrive` has no more.
pub(super) fn take_in_order<T>(
    position: usize,
    early: &mut BTreeMap<usize, T>,
    mut arrive: impl FnMut() -> Option<(usize, T)>,
) -> Option<T> {
    loop {
        if let Some(item) = early.remove(&position) {
            return Some(item);
        }
        let (i, item) = arrive()?;
        early.insert(i, item);
    }
}

/// Whether this runs on a multi-threaded runtime, where a task may block its thread
/// (`block_in_place`).
pub(super) fn on_many_threads() -> bool {
    tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread)
}

/// Reads of at least this many items are decided in two halves: below it, starting a thread
/// costs more than the second core saves.
pub(super) const HALVES_FROM: usize = 128;

/// `f` of `items` in order, as one call or, from [`HALVES_FROM`] items, as two: the second half
/// on a thread of its own while this thread does the first.
pub(super) fn in_halves<T: Send, U: Send>(
    mut items: Vec<T>,
    f: impl Fn(Vec<T>) -> U + Sync,
) -> Vec<U> {
    if items.len() < HALVES_FROM {
        return vec![f(items)];
    }
    let second = items.split_off(items.len() / 2);
    std::thread::scope(|s| {
        let other = s.spawn(|| f(second));
        let first = f(items);
        let second = other
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        vec![first, second]
    })
}

/// `items` cut, in order, into at most `n` chunks of nearly equal size.
pub(super) fn in_chunks<T>(mut items: Vec<T>, n: usize) -> Vec<Vec<T>> {
    let size = items.len().div_ceil(n.max(1)).max(1);
    let mut chunks = Vec::with_capacity(n);
    while !items.is_empty() {
        let rest = items.split_off(size.min(items.len()));
        chunks.push(std::mem::replace(&mut items, rest));
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_are_cut_in_order_into_at_most_n_chunks() {
        let chunks = in_chunks((0..1000).collect::<Vec<_>>(), 8);
        assert_eq!(chunks.len(), 8);
        assert!(chunks.iter().all(|c| c.len() == 125));
        assert_eq!(chunks.concat(), (0..1000).collect::<Vec<_>>());
        let uneven = in_chunks((0..10).collect::<Vec<_>>(), 4);
        assert_eq!(
            uneven,
            [vec![0, 1, 2], vec![3, 4, 5], vec![6, 7, 8], vec![9]]
        );
        assert_eq!(in_chunks(vec![1, 2], 8), [vec![1], vec![2]]);
        assert!(in_chunks(Vec::<u8>::new(), 8).is_empty());
    }

    #[test]
    fn chunks_that_arrive_out_of_order_are_taken_in_order() {
        let mut arrivals = vec![(2, 'c'), (0, 'a'), (3, 'd'), (1, 'b')].into_iter();
        let mut early = BTreeMap::new();
        let taken: Vec<char> = (0..4)
            .map(|i| take_in_order(i, &mut early, || arrivals.next()).unwrap())
            .collect();
        assert_eq!(taken, ['a', 'b', 'c', 'd']);
        assert!(early.is_empty());
        assert_eq!(take_in_order(4, &mut early, || arrivals.next()), None);
    }

    #[test]
    fn a_large_input_is_split_across_two_threads_and_keeps_its_order() {
        let thread = || std::thread::current().id();
        let small = in_halves((0..HALVES_FROM - 1).collect(), |h: Vec<usize>| {
            (thread(), h)
        });
        assert_eq!(small.len(), 1, "below the threshold, one call");
        assert_eq!(small[0].0, thread(), "on this thread");

        let n = 3 * HALVES_FROM + 1;
        let halves = in_halves((0..n).collect(), |h: Vec<usize>| (thread(), h));
        assert_eq!(halves.len(), 2);
        assert_eq!(halves[0].0, thread(), "the first half on this thread");
        assert_ne!(halves[1].0, thread(), "the second on another");
        let joined: Vec<usize> = halves.into_iter().flat_map(|(_, h)| h).collect();
        assert_eq!(joined, (0..n).collect::<Vec<_>>());
    }
}
