//! Published picture streams: sinks publish encoded pictures by name, and the
//! HTTP control plane serves them to any number of viewers.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use tokio::sync::watch;

use crate::buffer::Buffer;
use crate::hls::HlsStreams;

/// One encoded picture as served to viewers.
#[derive(Debug, Clone)]
pub struct Picture {
    /// The encoded bytes (JPEG).
    pub data: Buffer,
    /// Sequence number of the frame it came from.
    pub seq: u64,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

type Slot = watch::Sender<Option<Arc<Picture>>>;

/// Streams by name. A stream outlives the node that publishes it, so viewers
/// stay connected while the node restarts.
#[derive(Clone, Default)]
pub struct StreamRegistry {
    streams: Arc<RwLock<BTreeMap<String, Slot>>>,
    hls: HlsStreams,
}

/// The publishing end of one stream.
#[derive(Clone)]
pub struct StreamPublisher {
    slot: Slot,
}

impl StreamPublisher {
    /// Replaces the stream's latest picture; viewers that are behind skip to it.
    pub fn publish(&self, picture: Picture) {
        self.slot.send_replace(Some(Arc::new(picture)));
    }
}

impl StreamRegistry {
    /// An empty registry.
    pub fn new() -> StreamRegistry {
        StreamRegistry::default()
    }

    /// The publisher of stream `name`, created on first use.
    pub fn publisher(&self, name: &str) -> StreamPublisher {
        let mut streams = self.streams.write().expect("stream lock is never held across a panic");
        let slot = streams
            .entry(name.to_string())
            .or_insert_with(|| watch::channel(None).0)
            .clone();
        StreamPublisher { slot }
    }

    /// A viewer of stream `name`: its latest picture and a way to wait for the next.
    pub fn subscribe(&self, name: &str) -> Option<watch::Receiver<Option<Arc<Picture>>>> {
        self.streams
            .read()
            .expect("stream lock is never held across a panic")
            .get(name)
            .map(watch::Sender::subscribe)
    }

    /// The HLS streams, served at `/hls/<name>/index.m3u8`.
    pub fn hls(&self) -> &HlsStreams {
        &self.hls
    }

    /// Names of every picture stream, sorted.
    pub fn names(&self) -> Vec<String> {
        self.streams
            .read()
            .expect("stream lock is never held across a panic")
            .keys()
            .cloned()
            .collect()
    }
}
