//! Published HLS streams: a sink keeps each stream's playlist and segments here
//! by file name, and the control plane serves them at `/hls/<name>/<file>`.
//! Like picture streams, an HLS stream outlives the node that publishes it, so
//! players keep polling through a restart.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use crate::buffer::Buffer;

/// The files of one HLS stream, by name (`index.m3u8`, `init.mp4`, `12.m4s`).
type Files = Arc<RwLock<BTreeMap<String, Buffer>>>;

/// HLS streams by name.
#[derive(Clone, Default)]
pub struct HlsStreams {
    streams: Arc<RwLock<BTreeMap<String, Files>>>,
}

/// The publishing end of one HLS stream.
#[derive(Clone)]
pub struct HlsPublisher {
    files: Files,
}

impl HlsPublisher {
    /// Adds or replaces file `name`.
    pub fn put(&self, name: &str, data: Buffer) {
        self.files
            .write()
            .expect("HLS lock is never held across a panic")
            .insert(name.to_string(), data);
    }

    /// Removes file `name`, if there.
    pub fn remove(&self, name: &str) {
        self.files
            .write()
            .expect("HLS lock is never held across a panic")
            .remove(name);
    }

    /// Removes every file: the stream starts over.
    pub fn clear(&self) {
        self.files
            .write()
            .expect("HLS lock is never held across a panic")
            .clear();
    }
}

impl HlsStreams {
    /// The publisher of stream `name`, created on first use.
    pub fn publisher(&self, name: &str) -> HlsPublisher {
        let mut streams = self.streams.write().expect("HLS lock is never held across a panic");
        HlsPublisher {
            files: streams.entry(name.to_string()).or_default().clone(),
        }
    }

    /// File `file` of stream `name`; `Err` tells whether the stream exists.
    pub fn file(&self, name: &str, file: &str) -> Result<Buffer, bool> {
        let streams = self.streams.read().expect("HLS lock is never held across a panic");
        let files = streams.get(name).ok_or(false)?;
        let found = files
            .read()
            .expect("HLS lock is never held across a panic")
            .get(file)
            .cloned();
        found.ok_or(true)
    }

    /// Names of every stream, sorted.
    pub fn names(&self) -> Vec<String> {
        self.streams
            .read()
            .expect("HLS lock is never held across a panic")
            .keys()
            .cloned()
            .collect()
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
}
