//! The free buffers a [`FrameAllocator`](crate::FrameAllocator) keeps for
//! reuse: size classes, a byte budget, and eviction of the least recently
//! freed buffer when the budget is exceeded.
//!
//! A request is served from its size class: powers of two split in quarters
//! (…, 64 KiB, 80 KiB, 96 KiB, 112 KiB, 128 KiB, 160 KiB, …), so a buffer
//! wastes less than a quarter of its size, and access units of every size
//! between two classes reuse the same buffers. Free bytes are kept up to the
//! larger of a floor and the recent peak of bytes handed out at once: a graph
//! of fixed-size frames never loses a buffer it will need again (it never has
//! more free than it recently had in use), buffers of many sizes cannot pile
//! up past the floor, and what a burst (a reload, a stalled queue) once held
//! is let go as the peak decays back to what is in use.

use std::collections::VecDeque;

/// Requests up to this many bytes share the smallest class.
const SMALLEST_CLASS: usize = 64;
/// `log2` of [`SMALLEST_CLASS`].
const SMALLEST_LOG2: u32 = SMALLEST_CLASS.trailing_zeros();
/// Requests above `2^LARGEST_LOG2` bytes (16 GiB) get a buffer of their own,
/// never pooled.
const LARGEST_LOG2: u32 = if usize::BITS > 36 { 34 } else { usize::BITS - 2 };
/// The recent peak moves towards the bytes in use by this fraction of the gap
/// at every buffer handed out: a burst is forgotten over a few thousand frames.
const PEAK_DECAY: usize = 4096;
/// Classes per power of two.
const STEPS: u32 = 4;
/// Number of classes.
const CLASSES: usize = 1 + ((LARGEST_LOG2 - SMALLEST_LOG2) * STEPS) as usize;

/// The size class of a request: its index and the capacity of its buffers;
/// `None` for an empty request or one too large to pool.
pub(crate) fn size_class(len: usize) -> Option<(usize, usize)> {
    if len == 0 || len > 1 << LARGEST_LOG2 {
        return None;
    }
    if len <= SMALLEST_CLASS {
        return Some((0, SMALLEST_CLASS));
    }
    let below = len - 1;
    let log2 = usize::BITS - 1 - below.leading_zeros();
    let shift = log2 - 2;
    // `below >> shift` is 4..=7: the class is the next quarter step up.
    let step = (below >> shift) + 1;
    let index = 1 + ((log2 - SMALLEST_LOG2) * STEPS) as usize + (step - 5);
    Some((index, step << shift))
}

/// Counts of a pool, as `/metrics` reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Bytes of free buffers kept for reuse.
    pub free_bytes: usize,
    /// Free buffers kept for reuse.
    pub free_buffers: usize,
    /// Bytes of pooled buffers handed out and not yet given back.
    pub in_use_bytes: usize,
    /// The most bytes handed out at once so far.
    pub peak_in_use_bytes: usize,
    /// Free buffers let go because the pool was over its budget.
    pub evicted_buffers: u64,
}

/// The free buffers by class, each class oldest first, and the counts.
pub(crate) struct FreeLists {
    /// Free buffers with the time (a counter) they were freed, oldest first.
    classes: Vec<VecDeque<(u64, Vec<u8>)>>,
    /// Free bytes are kept up to the larger of this and the peak in use.
    floor: usize,
    /// Advances with every buffer given back.
    clock: u64,
    /// The peak of bytes in use, decaying towards what is in use now.
    recent_peak: usize,
    stats: PoolStats,
}

impl FreeLists {
    /// No free buffers; free bytes are kept up to the larger of `floor` and
    /// the recent peak of bytes handed out at once.
    pub fn new(floor: usize) -> FreeLists {
        FreeLists {
            classes: (0..CLASSES).map(|_| VecDeque::new()).collect(),
            floor,
            clock: 0,
            recent_peak: 0,
            stats: PoolStats::default(),
        }
    }

    /// Hands out a buffer of `class` (an index from [`size_class`]) of
    /// `capacity` bytes: the one freed last, or `None` when the class has none
    /// free and the caller makes one. Either way it counts as in use.
    pub fn take(&mut self, class: usize, capacity: usize) -> Option<Vec<u8>> {
        self.stats.in_use_bytes += capacity;
        let in_use = self.stats.in_use_bytes;
        self.stats.peak_in_use_bytes = self.stats.peak_in_use_bytes.max(in_use);
        self.recent_peak = in_use.max(self.recent_peak - self.recent_peak.saturating_sub(in_use) / PEAK_DECAY);
        let (_, bytes) = self.classes[class].pop_back()?;
        self.stats.free_bytes -= capacity;
        self.stats.free_buffers -= 1;
        Some(bytes)
    }

    /// Takes back a buffer handed out by [`FreeLists::take`] (its capacity
    /// is its class's); returns the buffers that no longer fit in the
    /// budget, least recently freed first, for the caller to drop.
    pub fn give_back(&mut self, bytes: Vec<u8>) -> Vec<Vec<u8>> {
        let capacity = bytes.capacity();
        self.stats.in_use_bytes = self.stats.in_use_bytes.saturating_sub(capacity);
        let Some((class, class_capacity)) = size_class(capacity) else {
            return vec![bytes];
        };
        if class_capacity != capacity {
            return vec![bytes];
        }
        self.clock += 1;
        self.classes[class].push_back((self.clock, bytes));
        self.stats.free_bytes += capacity;
        self.stats.free_buffers += 1;
        let mut evicted = Vec::new();
        while self.stats.free_bytes > self.budget() {
            let Some(oldest) = self.evict_oldest() else { break };
            evicted.push(oldest);
        }
        evicted
    }

    /// The counts.
    pub fn stats(&self) -> PoolStats {
        self.stats
    }

    /// Free bytes kept at most.
    fn budget(&self) -> usize {
        self.floor.max(self.recent_peak)
    }

    /// Removes the free buffer that was freed longest ago.
    fn evict_oldest(&mut self) -> Option<Vec<u8>> {
        let class = self
            .classes
            .iter()
            .enumerate()
            .filter_map(|(i, list)| list.front().map(|(freed, _)| (*freed, i)))
            .min()?
            .1;
        let (_, bytes) = self.classes[class].pop_front()?;
        self.stats.free_bytes -= bytes.capacity();
        self.stats.free_buffers -= 1;
        self.stats.evicted_buffers += 1;
        Some(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A buffer of `class`'s capacity, as the allocator makes them.
    fn made(lists: &mut FreeLists, len: usize) -> Vec<u8> {
        let (class, capacity) = size_class(len).expect("a poolable size");
        lists.take(class, capacity).unwrap_or_else(|| vec![0; capacity])
    }

    #[test]
    fn classes_are_quarter_steps_that_waste_less_than_a_quarter() {
        assert_eq!(size_class(0), None);
        assert_eq!(size_class(1), Some((0, 64)));
        assert_eq!(size_class(64), Some((0, 64)));
        assert_eq!(size_class(65), Some((1, 80)));
        assert_eq!(size_class(128), Some((4, 128)));
        assert_eq!(size_class(129), Some((5, 160)));
        assert_eq!(size_class(1 << LARGEST_LOG2).map(|c| c.0), Some(CLASSES - 1));
        assert_eq!(size_class((1 << LARGEST_LOG2) + 1), None);
        let mut last = (0, 64);
        for len in (65..300_000).step_by(7) {
            let (index, capacity) = size_class(len).expect("a poolable size");
            assert!(capacity >= len && capacity - len < len / 4 + 1, "{len} -> {capacity}");
            assert!(index >= last.0 && (index > last.0) == (capacity > last.1), "{len}");
            assert_eq!(
                size_class(capacity),
                Some((index, capacity)),
                "a capacity is its own class"
            );
            last = (index, capacity);
        }
    }

    #[test]
    fn sizes_of_one_class_share_buffers() {
        let mut lists = FreeLists::new(1 << 20);
        let first = made(&mut lists, 33_000);
        let address = first.as_ptr();
        lists.give_back(first);
        let second = made(&mut lists, 36_000);
        assert_eq!(second.as_ptr(), address, "33,000 and 36,000 bytes are one class");
        assert_eq!(lists.stats().free_buffers, 0);
    }

    #[test]
    fn over_the_budget_the_least_recently_freed_go_first() {
        // One buffer at a time, each of another class: every class keeps one
        // free buffer, and with at most 4 KiB in use the floor is the budget.
        let mut lists = FreeLists::new(10 * 1024);
        let mut evicted = Vec::new();
        let mut freed_first = None;
        for len in (64..=4096).step_by(16) {
            let bytes = made(&mut lists, len);
            freed_first.get_or_insert(bytes.as_ptr());
            evicted.extend(lists.give_back(bytes));
        }
        let stats = lists.stats();
        assert!(
            stats.free_bytes <= 10 * 1024 && stats.free_bytes > 6 * 1024,
            "{stats:?}"
        );
        assert_eq!(stats.peak_in_use_bytes, 4096);
        assert!(!evicted.is_empty());
        assert_eq!(
            Some(evicted[0].as_ptr()),
            freed_first,
            "the buffer freed first is let go first"
        );
        assert_eq!(stats.evicted_buffers, evicted.len() as u64);
        assert_eq!(stats.in_use_bytes, 0);
        let largest = made(&mut lists, 4096);
        assert_eq!(largest.capacity(), 4096, "the most recently freed are kept");
        assert_eq!(lists.stats().free_bytes, stats.free_bytes - 4096);
    }

    #[test]
    fn what_a_burst_held_is_let_go_as_its_peak_decays() {
        let mut lists = FreeLists::new(1 << 20);
        let burst: Vec<Vec<u8>> = (0..20).map(|_| made(&mut lists, 1 << 20)).collect();
        for bytes in burst {
            lists.give_back(bytes);
        }
        assert_eq!(
            lists.stats().free_bytes,
            20 << 20,
            "just after the burst, its buffers are kept"
        );
        for _ in 0..50_000 {
            let small = made(&mut lists, 1000);
            lists.give_back(small);
        }
        let stats = lists.stats();
        assert!(stats.free_bytes <= 2 << 20, "{stats:?}");
        assert_eq!(stats.peak_in_use_bytes, 20 << 20, "the all-time peak is still reported");
    }

    #[test]
    fn fixed_size_frames_are_never_evicted_whatever_their_size() {
        // 20 frames of 6 MB in flight at once: far past the floor.
        let mut lists = FreeLists::new(1 << 20);
        for _ in 0..3 {
            let frames: Vec<Vec<u8>> = (0..20).map(|_| made(&mut lists, 6_220_800)).collect();
            for bytes in frames {
                assert!(lists.give_back(bytes).is_empty());
            }
        }
        assert_eq!(lists.stats().free_buffers, 20);
        assert_eq!(lists.stats().evicted_buffers, 0);
    }
}
