//! Published HLS streams: a sink keeps each stream's playlist and segments here
//! by file name, and the control plane serves them at `/hls/<name>/<file>`.
//! Like picture streams, an HLS stream outlives the node that publishes it, so
//! players keep polling through a restart, and is forgotten a while after it
//! ended (`names`).

use std::collections::BTreeMap;
use std::sync::RwLock;
use std::time::Instant;

use crate::buffer::Buffer;
use crate::names::{Names, Published};

/// The files of one HLS stream, by name (`index.m3u8`, `init.mp4`, `12.m4s`).
type Files = RwLock<BTreeMap<String, Buffer>>;

/// HLS streams by name; one that ended is forgotten
/// [`KEEP_ENDED_STREAM`](crate::KEEP_ENDED_STREAM) later.
#[derive(Clone, Default)]
pub struct HlsStreams {
    streams: Names<Files>,
}

/// The publishing end of one HLS stream; the stream ends when the last clone
/// is dropped, or at [`HlsPublisher::end`].
#[derive(Clone)]
pub struct HlsPublisher {
    files: Published<Files>,
}

impl HlsPublisher {
    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Buffer>> {
        self.files
            .value()
            .write()
            .expect("HLS lock is never held across a panic")
    }

    /// Adds or replaces file `name`; a stream that ended goes on.
    pub fn put(&self, name: &str, data: Buffer) {
        self.files.live();
        self.write().insert(name.to_string(), data);
    }

    /// Removes file `name`, if there.
    pub fn remove(&self, name: &str) {
        self.write().remove(name);
    }

    /// Removes every file: the stream starts over.
    pub fn clear(&self) {
        self.write().clear();
    }

    /// Marks the stream ended at `at` (its publisher left): players can still
    /// read it, until it is forgotten [`KEEP_ENDED_STREAM`](crate::KEEP_ENDED_STREAM)
    /// later, unless [`HlsPublisher::put`] goes on with it before.
    pub fn end(&self, at: Instant) {
        self.files.end(at);
    }

    /// Whether the stream is still served (it was not forgotten).
    pub fn is_listed(&self) -> bool {
        self.files.is_listed()
    }
}

impl HlsStreams {
    /// The publisher of stream `name`, created on first use.
    pub fn publisher(&self, name: &str) -> HlsPublisher {
        HlsPublisher {
            files: self.streams.publisher(name, Instant::now(), Files::default),
        }
    }

    /// File `file` of stream `name`; `Err` tells whether the stream exists.
    pub fn file(&self, name: &str, file: &str) -> Result<Buffer, bool> {
        let found = self.streams.read(name, |files| {
            files
                .read()
                .expect("HLS lock is never held across a panic")
                .get(file)
                .cloned()
        });
        found.ok_or(false)?.ok_or(true)
    }

    /// Names of every stream, sorted.
    pub fn names(&self) -> Vec<String> {
        self.streams.names()
    }

    /// Forgets the streams that ended [`KEEP_ENDED_STREAM`](crate::KEEP_ENDED_STREAM)
    /// or longer before `now` (publishing a stream does it too).
    pub fn forget_ended(&self, now: Instant) {
        self.streams.forget_ended(now);
    }
}

/// The content type HLS players expect for a file of this name.
pub fn content_type(file: &str) -> &'static str {
    match file.rsplit('.').next() {
        Some("m3u8") => "application/vnd.apple.mpegurl",
        Some("mp4") => "video/mp4",
        Some("m4s") => "video/iso.segment",
        Some("ts") => "video/mp2t",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_served_until_removed() {
        let streams = HlsStreams::default();
        let publisher = streams.publisher("cam");
        publisher.put("index.m3u8", Buffer::from_vec(b"#EXTM3U\n".to_vec()));
        assert_eq!(
            streams.file("cam", "index.m3u8").map(|b| b.as_slice().to_vec()),
            Ok(b"#EXTM3U\n".to_vec())
        );
        publisher.remove("index.m3u8");
        assert_eq!(streams.file("cam", "index.m3u8").err(), Some(true));
        assert_eq!(streams.file("other", "index.m3u8").err(), Some(false));
        assert_eq!(content_type("3.m4s"), "video/iso.segment");
    }

    #[test]
    fn an_ended_stream_is_forgotten_and_its_files_let_go() {
        let pool = crate::FrameAllocator::new();
        let streams = HlsStreams::default();
        let publisher = streams.publisher("live/key");
        publisher.put("0.m4s", pool.copy_from(&[1; 1000]));
        let ended = Instant::now();
        publisher.end(ended);
        streams.forget_ended(ended + crate::KEEP_ENDED_STREAM / 2);
        assert!(
            streams.file("live/key", "0.m4s").is_ok(),
            "players can read it a while after"
        );
        streams.forget_ended(ended + crate::KEEP_ENDED_STREAM);
        assert_eq!(streams.file("live/key", "0.m4s").err(), Some(false));
        assert!(!publisher.is_listed());
        drop(publisher);
        assert_eq!(pool.free_buffers(), 1, "the segment went back to the pool");
    }
}
