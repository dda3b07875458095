//! Frames on zenoh keys: a publisher that sends a frame's bytes without
//! copying them, and a subscriber that turns samples back into frames.

use std::borrow::Cow;
use std::time::{Instant, SystemTime};

use zenoh::Wait;
use zenoh::bytes::ZBytes;
use zenoh::handlers::{FifoChannelHandler, RingChannelHandler};
use zenoh::pubsub::{Publisher, Subscriber};
use zenoh::sample::{Sample, SampleFields};

use crate::buffer::{Buffer, FrameAllocator};
use crate::frame::{Frame, StreamId};
use crate::packet::Packet;
use crate::transport::session::TransportError;
use crate::transport::wire::{self, WireError};

/// Publishes frames on one key.
pub struct FramePublisher {
    key: String,
    publisher: Publisher<'static>,
}

impl FramePublisher {
    pub(crate) fn new(key: &str, publisher: Publisher<'static>) -> FramePublisher {
        FramePublisher {
            key: key.to_string(),
            publisher,
        }
    }

    /// The key expression.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Publishes `frame`; its bytes are handed to zenoh, not copied. On a
    /// blocking publisher this waits while subscribers are slow, so call it
    /// from a blocking thread.
    pub fn send(&self, frame: &Frame) -> Result<(), TransportError> {
        let payload = ZBytes::from(bytes::Bytes::from_owner(frame.buffer.clone()));
        self.put(payload, wire::encode_header(frame))
    }

    /// Tells subscribers that `stream` ended, after the frames sent before.
    pub fn end_stream(&self, stream: &StreamId) -> Result<(), TransportError> {
        self.put(ZBytes::new(), wire::encode_stream_end(stream))
    }

    fn put(&self, payload: ZBytes, header: Vec<u8>) -> Result<(), TransportError> {
        self.publisher
            .put(payload)
            .attachment(header)
            .wait()
            .map_err(|err| TransportError::Put {
                key: self.key.clone(),
                reason: err.to_string(),
            })
    }
}

/// How received samples wait to be taken.
pub(crate) enum Receiving {
    /// Up to a depth, then the publishers wait.
    Fifo(Subscriber<FifoChannelHandler<Sample>>),
    /// Up to a depth, then the oldest is dropped.
    Ring(Subscriber<RingChannelHandler<Sample>>),
}

/// Receives frames published on one key expression.
pub struct FrameSubscriber {
    key: String,
    receiving: Receiving,
}

impl FrameSubscriber {
    pub(crate) fn new(key: &str, receiving: Receiving) -> FrameSubscriber {
        FrameSubscriber {
            key: key.to_string(),
            receiving,
        }
    }

    /// The key expression.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The next frame or stream end, waiting for one: `Err` for a message
    /// that is not one (to count and drop), `None` once the session closed.
    /// Payloads in one piece (shared memory included) become the frame's
    /// buffer as they are; others are copied into a buffer from `alloc`.
    pub async fn recv(&self, alloc: &FrameAllocator) -> Option<Result<Packet, WireError>> {
        let sample = match &self.receiving {
            Receiving::Fifo(subscriber) => subscriber.recv_async().await.ok()?,
            Receiving::Ring(subscriber) => subscriber.recv_async().await.ok()?,
        };
        Some(frame_of(sample, alloc))
    }
}

/// The frame or stream end a sample carries.
fn frame_of(sample: Sample, alloc: &FrameAllocator) -> Result<Packet, WireError> {
    let SampleFields {
        payload, attachment, ..
    } = sample.into();
    let header = attachment.ok_or(WireError::NoHeader)?;
    let header = header.to_bytes();
    let now = (Instant::now(), SystemTime::now());
    let buffer = match payload.to_bytes() {
        Cow::Borrowed(_) => Buffer::from_foreign(Contiguous(payload)),
        Cow::Owned(bytes) => alloc.copy_from(&bytes),
    };
    wire::decode(&header, buffer, now)
}

/// A payload in one piece, read in place.
struct Contiguous(ZBytes);

impl AsRef<[u8]> for Contiguous {
    fn as_ref(&self) -> &[u8] {
        match self.0.to_bytes() {
            Cow::Borrowed(bytes) => bytes,
            Cow::Owned(_) => unreachable!("only payloads in one piece are wrapped"),
        }
    }
}
