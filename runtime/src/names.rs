//! Streams published by name and forgotten a while after they end: what the
//! picture ([`StreamRegistry`](crate::StreamRegistry)) and HLS
//! ([`HlsStreams`](crate::HlsStreams)) registries are built on.
//!
//! A stream ends when its publisher says so ([`Published::end`]: the RTMP
//! publisher of a key left) or when no publisher holds it any more (the node
//! stopped). It is then kept for [`KEEP_ENDED_STREAM`], so that viewers can
//! still read it and a publisher that comes back goes on with it. After that
//! it is neither listed nor served, and its memory is let go when streams are
//! next listed or published. Names come and go with the streams of a graph, so
//! the registry holds the streams that are live plus those that ended within
//! that time, however long the process runs.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};

/// How long a stream that ended is remembered: viewers can still read it, and
/// a publisher that comes back within this time goes on with it.
pub const KEEP_ENDED_STREAM: Duration = Duration::from_secs(300);

/// One stream: what is published, and whether it is live.
struct Entry<T> {
    value: T,
    state: Mutex<EntryState>,
}

struct EntryState {
    /// When the stream ended; `None` while it is live.
    ended: Option<Instant>,
    /// Publishing handles that exist.
    publishers: usize,
    /// Whether the registry lists it (it was not forgotten).
    listed: bool,
}

impl<T> Entry<T> {
    fn state(&self) -> MutexGuard<'_, EntryState> {
        self.state
            .lock()
            .expect("stream state lock is never held across a panic")
    }
}

type Map<T> = Arc<RwLock<BTreeMap<String, Arc<Entry<T>>>>>;

/// Streams by name.
pub(crate) struct Names<T> {
    map: Map<T>,
}

impl<T> Clone for Names<T> {
    fn clone(&self) -> Self {
        Names { map: self.map.clone() }
    }
}

impl<T> Default for Names<T> {
    fn default() -> Self {
        Names { map: Arc::default() }
    }
}

impl<T> Names<T> {
    /// The publisher of stream `name`, made by `make` on first use. The stream
    /// is live from `now`; streams that ended [`KEEP_ENDED_STREAM`] before
    /// `now` are forgotten first.
    pub fn publisher(&self, name: &str, now: Instant, make: impl FnOnce() -> T) -> Published<T> {
        let mut map = self.map.write().expect("stream lock is never held across a panic");
        forget_ended(&mut map, now);
        let entry = map
            .entry(name.to_string())
            .or_insert_with(|| {
                Arc::new(Entry {
                    value: make(),
                    state: Mutex::new(EntryState {
                        ended: None,
                        publishers: 0,
                        listed: true,
                    }),
                })
            })
            .clone();
        {
            let mut state = entry.state();
            state.ended = None;
            state.publishers += 1;
        }
        Published {
            name: name.to_string(),
            entry,
            map: self.map.clone(),
        }
    }

    /// `read` applied to stream `name`, when there is one that did not end
    /// [`KEEP_ENDED_STREAM`] or longer ago.
    pub fn read<R>(&self, name: &str, read: impl FnOnce(&T) -> R) -> Option<R> {
        let map = self.map.read().expect("stream lock is never held across a panic");
        map.get(name)
            .filter(|entry| !entry.state().expired(Instant::now()))
            .map(|entry| read(&entry.value))
    }

    /// Names of every stream, sorted; those that ended long enough ago are forgotten first.
    pub fn names(&self) -> Vec<String> {
        let mut map = self.map.write().expect("stream lock is never held across a panic");
        forget_ended(&mut map, Instant::now());
        map.keys().cloned().collect()
    }

    /// Forgets the streams that ended [`KEEP_ENDED_STREAM`] or longer before `now`.
    pub fn forget_ended(&self, now: Instant) {
        forget_ended(
            &mut self.map.write().expect("stream lock is never held across a panic"),
            now,
        );
    }
}

impl EntryState {
    /// Whether the stream ended [`KEEP_ENDED_STREAM`] or longer before `now`.
    fn expired(&self, now: Instant) -> bool {
        self.ended
            .is_some_and(|ended| now.saturating_duration_since(ended) >= KEEP_ENDED_STREAM)
    }
}

fn forget_ended<T>(map: &mut BTreeMap<String, Arc<Entry<T>>>, now: Instant) {
    map.retain(|_, entry| {
        let mut state = entry.state();
        let expired = state.expired(now);
        state.listed = !expired;
        !expired
    });
}

/// The publishing end of one stream. Cloning gives another publisher; the
/// stream ends when the last one is dropped.
pub(crate) struct Published<T> {
    name: String,
    entry: Arc<Entry<T>>,
    map: Map<T>,
}

impl<T> Published<T> {
    /// What is published.
    pub fn value(&self) -> &T {
        &self.entry.value
    }

    /// Marks the stream live, before something is published: one that ended
    /// goes on, and one that was forgotten is listed again (unless a newer
    /// stream took its name).
    pub fn live(&self) {
        {
            let mut state = self.entry.state();
            state.ended = None;
            if state.listed {
                return;
            }
        }
        let mut map = self.map.write().expect("stream lock is never held across a panic");
        let listed = map.entry(self.name.clone()).or_insert_with(|| self.entry.clone());
        // A newer stream may hold the name: this one then stays unlisted.
        let ours = Arc::ptr_eq(listed, &self.entry);
        self.entry.state().listed = ours;
    }

    /// Marks the stream ended at `at` (its publisher left); it is forgotten
    /// [`KEEP_ENDED_STREAM`] later unless it goes on before.
    pub fn end(&self, at: Instant) {
        let mut state = self.entry.state();
        state.ended.get_or_insert(at);
    }

    /// Whether the registry still lists the stream (it was not forgotten).
    pub fn is_listed(&self) -> bool {
        self.entry.state().listed
    }
}

impl<T> Clone for Published<T> {
    fn clone(&self) -> Self {
        self.entry.state().publishers += 1;
        Published {
            name: self.name.clone(),
            entry: self.entry.clone(),
            map: self.map.clone(),
        }
    }
}

impl<T> Drop for Published<T> {
    /// The last publisher gone (its node stopped) ends the stream now.
    fn drop(&mut self) {
        let mut state = self.entry.state();
        state.publishers -= 1;
        if state.publishers == 0 {
            state.ended.get_or_insert_with(Instant::now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    #[test]
    fn an_ended_stream_is_forgotten_after_the_keep_time() {
        let names = Names::default();
        let start = Instant::now();
        let cam = names.publisher("cam", start, || 1);
        cam.end(start + MINUTE);
        names.forget_ended(start + MINUTE + KEEP_ENDED_STREAM - Duration::from_millis(1));
        assert_eq!(names.names(), ["cam"], "kept until the keep time is up");
        assert_eq!(names.read("cam", |v| *v), Some(1));
        let _other = names.publisher("other", start + MINUTE + KEEP_ENDED_STREAM, || 2);
        assert_eq!(names.names(), ["other"], "publishing another stream forgets it");
        assert!(!cam.is_listed());
    }

    #[test]
    fn a_live_stream_is_never_forgotten() {
        let names = Names::default();
        let start = Instant::now();
        let _cam = names.publisher("cam", start, || ());
        names.forget_ended(start + 1000 * KEEP_ENDED_STREAM);
        assert_eq!(names.names(), ["cam"]);
    }

    #[test]
    fn a_stream_that_goes_on_within_the_keep_time_is_kept() {
        let names = Names::default();
        let start = Instant::now();
        let cam = names.publisher("cam", start, || ());
        cam.end(start);
        cam.live();
        names.forget_ended(start + 2 * KEEP_ENDED_STREAM);
        assert_eq!(names.names(), ["cam"]);
        // Publishing again under the same name is going on, too.
        cam.end(start);
        let again = names.publisher("cam", start + MINUTE, || ());
        names.forget_ended(start + 2 * KEEP_ENDED_STREAM);
        assert_eq!(names.names(), ["cam"]);
        drop(again);
    }

    #[test]
    fn a_forgotten_stream_that_publishes_again_is_listed_again() {
        let names = Names::default();
        let start = Instant::now();
        let cam = names.publisher("cam", start, || 7);
        cam.end(start);
        names.forget_ended(start + KEEP_ENDED_STREAM);
        assert!(names.names().is_empty());
        cam.live();
        assert_eq!(names.read("cam", |v| *v), Some(7));
        assert!(cam.is_listed());
    }

    #[test]
    fn a_stream_ends_when_its_last_publisher_is_dropped() {
        let names = Names::default();
        let start = Instant::now();
        let cam = names.publisher("cam", start, || ());
        let clone = cam.clone();
        drop(cam);
        names.forget_ended(Instant::now() + KEEP_ENDED_STREAM);
        assert_eq!(names.names(), ["cam"], "a publisher is left");
        drop(clone);
        names.forget_ended(Instant::now() + KEEP_ENDED_STREAM);
        assert!(names.names().is_empty(), "the node that published it stopped");
    }
}
