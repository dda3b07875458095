//! Frames on zenoh keys: a publisher that sends a frame's bytes without
//! copying them, and a subscriber that turns samples back into frames.

use std::borrow::Cow;
use std::time::{Instant, SystemTime};

use zenoh::Wait;
use zenoh::bytes::ZBytes;
use zenoh::handlers::{FifoChannelHandler, RingChannelHandler};
use zenoh::pubsub::{Publisher, Subscriber};
use zenoh::sample::{Sample, SampleFields};
use zenoh::shm::ZShm;

use crate::buffer::Buffer;
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

    /// Publishes `frame`; its bytes are handed to zenoh, not copied, and
    /// reach a process on this machine without a copy when they are in shared
    /// memory. On a blocking publisher this waits while subscribers are slow,
    /// so call it from a blocking thread. Says where the bytes were.
    pub fn send(&self, frame: &Frame) -> Result<Memory, TransportError> {
        let (payload, memory) = match frame.buffer.foreign::<ZShm>() {
            Some(shared) => (ZBytes::from(shared.clone()), Memory::Shared),
            None => (
                ZBytes::from(bytes::Bytes::from_owner(frame.buffer.clone())),
                Memory::Heap,
            ),
        };
        self.put(payload, wire::encode_header(frame))?;
        Ok(memory)
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

/// Where the bytes of a frame that crossed processes were.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Memory {
    /// In zenoh shared memory: never copied.
    Shared,
    /// On the heap: copied into the socket, or out of it.
    Heap,
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
    /// buffer as they are; others (gathered from fragments) are copied once.
    pub async fn recv(&self) -> Option<Result<(Packet, Memory), WireError>> {
        let sample = match &self.receiving {
            Receiving::Fifo(subscriber) => subscriber.recv_async().await.ok()?,
            Receiving::Ring(subscriber) => subscriber.recv_async().await.ok()?,
        };
        Some(frame_of(sample))
    }
}

/// The frame or stream end a sample carries, and where its bytes are.
fn frame_of(sample: Sample) -> Result<(Packet, Memory), WireError> {
    let SampleFields {
        payload, attachment, ..
    } = sample.into();
    let header = attachment.ok_or(WireError::NoHeader)?;
    let header = header.to_bytes();
    let now = (Instant::now(), SystemTime::now());
    let memory = if payload.as_shm().is_some() {
        Memory::Shared
    } else {
        Memory::Heap
    };
    let buffer = match payload.to_bytes() {
        Cow::Borrowed(_) => Buffer::from_foreign(Contiguous(payload)),
        // Gathered from fragments into a vector of its own: that is the one copy.
        Cow::Owned(bytes) => Buffer::from_vec(bytes),
    };
    Ok((wire::decode(&header, buffer, now)?, memory))
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
