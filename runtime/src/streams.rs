//! Published picture streams: sinks publish encoded pictures by name, and the
//! HTTP control plane serves them to any number of viewers.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::watch;

use crate::buffer::Buffer;
use crate::hls::HlsStreams;
use crate::names::{Names, Published};

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
/// stay connected while the node restarts; one that ended is forgotten
/// [`KEEP_ENDED_STREAM`](crate::KEEP_ENDED_STREAM) later.
#[derive(Clone, Default)]
pub struct StreamRegistry {
    streams: Names<Slot>,
    hls: HlsStreams,
}

/// The publishing end of one stream; the stream ends when the last clone is
/// dropped.
#[derive(Clone)]
pub struct StreamPublisher {
    slot: Published<Slot>,
}

impl StreamPublisher {
    /// Replaces the stream's latest picture; viewers that are behind skip to it.
    pub fn publish(&self, picture: Picture) {
        self.slot.live();
        self.slot.value().send_replace(Some(Arc::new(picture)));
    }
}

impl StreamRegistry {
    /// An empty registry.
    pub fn new() -> StreamRegistry {
        StreamRegistry::default()
    }

    /// The publisher of stream `name`, created on first use.
    pub fn publisher(&self, name: &str) -> StreamPublisher {
        StreamPublisher {
            slot: self.streams.publisher(name, Instant::now(), || watch::channel(None).0),
        }
    }

    /// A viewer of stream `name`: its latest picture and a way to wait for the next.
    pub fn subscribe(&self, name: &str) -> Option<watch::Receiver<Option<Arc<Picture>>>> {
        self.streams.read(name, watch::Sender::subscribe)
    }

    /// The HLS streams, served at `/hls/<name>/index.m3u8`.
    pub fn hls(&self) -> &HlsStreams {
        &self.hls
    }

    /// Names of every picture stream, sorted.
    pub fn names(&self) -> Vec<String> {
        self.streams.names()
    }

    /// Forgets the picture and HLS streams that ended
    /// [`KEEP_ENDED_STREAM`](crate::KEEP_ENDED_STREAM) or longer before `now`
    /// (publishing a stream does it too).
    pub fn forget_ended(&self, now: Instant) {
        self.streams.forget_ended(now);
        self.hls.forget_ended(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KEEP_ENDED_STREAM;

    #[test]
    fn a_stream_whose_node_stopped_is_forgotten_and_its_viewers_let_go() {
        let registry = StreamRegistry::new();
        let publisher = registry.publisher("preview/cam2");
        publisher.publish(Picture {
            data: Buffer::from_vec(vec![0xff, 0xd8]),
            seq: 0,
            width: 2,
            height: 2,
        });
        let viewer = registry.subscribe("preview/cam2").expect("the stream exists");
        drop(publisher);
        registry.forget_ended(Instant::now() + KEEP_ENDED_STREAM / 2);
        assert_eq!(registry.names(), ["preview/cam2"], "viewers can still read it a while");
        registry.forget_ended(Instant::now() + KEEP_ENDED_STREAM);
        assert!(registry.names().is_empty());
        assert!(registry.subscribe("preview/cam2").is_none());
        assert!(viewer.has_changed().is_err(), "the viewer's stream is over");
    }
}
