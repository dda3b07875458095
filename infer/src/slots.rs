//! A machine-sized pool of inference slots: every model run takes one, so many inference
//! nodes share the cores instead of oversubscribing them.

use std::sync::{Condvar, Mutex, OnceLock};

/// Counts inferences in flight, up to the number of cores.
#[derive(Debug)]
pub struct InferenceSlots {
    free: Mutex<usize>,
    freed: Condvar,
}

impl InferenceSlots {
    /// A pool of `slots` slots (at least one).
    pub fn new(slots: usize) -> InferenceSlots {
        InferenceSlots {
            free: Mutex::new(slots.max(1)),
            freed: Condvar::new(),
        }
    }

    /// The process-wide pool, one slot per core.
    pub fn global() -> &'static InferenceSlots {
        static GLOBAL: OnceLock<InferenceSlots> = OnceLock::new();
        GLOBAL.get_or_init(|| InferenceSlots::new(std::thread::available_parallelism().map_or(1, |n| n.get())))
    }

    /// Waits for a free slot; it is given back when the guard drops. Call from a blocking thread.
    pub fn acquire(&self) -> SlotGuard<'_> {
        let mut free = self.free.lock().expect("slot lock is never poisoned");
        while *free == 0 {
            free = self.freed.wait(free).expect("slot lock is never poisoned");
        }
        *free -= 1;
        SlotGuard { slots: self }
    }
}

/// A taken slot; dropping it frees the slot.
#[derive(Debug)]
pub struct SlotGuard<'a> {
    slots: &'a InferenceSlots,
}

impl Drop for SlotGuard<'_> {
    fn drop(&mut self) {
        *self.slots.free.lock().expect("slot lock is never poisoned") += 1;
        self.slots.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[test]
    fn no_more_than_the_slots_run_at_once() {
        let slots = InferenceSlots::new(2);
        let (running, peak) = (AtomicUsize::new(0), AtomicUsize::new(0));
        std::thread::scope(|s| {
            for _ in 0..6 {
                s.spawn(|| {
                    let _slot = slots.acquire();
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    running.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        assert_eq!(peak.load(Ordering::SeqCst), 2);
    }
}
