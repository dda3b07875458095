//! Frames on zenoh keys: a publisher that sends a frame's bytes without
//! copying them, and a subscriber that turns samples back into frames.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use zenoh::Wait;
use zenoh::bytes::ZBytes;
use zenoh::pubsub::{Publisher, Subscriber};
use zenoh::sample::{Sample, SampleFields, SourceInfo, SourceSn};
use zenoh::session::EntityGlobalId;
use zenoh::shm::ZShm;

use tokio::sync::mpsc;

use crate::buffer::Buffer;
use crate::exec::queue::{Queue, QueuePolicy};
use crate::frame::{Frame, StreamId};
use crate::metrics::NodeMetrics;
use crate::packet::Packet;
use crate::transport::session::TransportError;
use crate::transport::wire::{self, WireError};

/// Publishes frames on one key. Each message carries the publisher's id
/// and a number one higher than the last (zenoh's source info), so that
/// receivers count the messages zenoh dropped on the way.
pub struct FramePublisher {
    key: String,
    publisher: Publisher<'static>,
    sent: AtomicU32,
}

impl FramePublisher {
    pub(crate) fn new(key: &str, publisher: Publisher<'static>) -> FramePublisher {
        FramePublisher {
            key: key.to_string(),
            publisher,
            sent: AtomicU32::new(0),
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

    /// Calls `joined` each time this publisher gains subscribers after it
    /// had none (a receiving host came up, or came back), for as long as
    /// the publisher lives; on zenoh's thread, so it must not block.
    pub fn on_subscribers(&self, joined: impl Fn() + Send + Sync + 'static) -> Result<(), TransportError> {
        self.publisher
            .matching_listener()
            .callback(move |status| {
                if status.matching() {
                    joined();
                }
            })
            .background()
            .wait()
            .map_err(|err| TransportError::Declare {
                key: self.key.clone(),
                reason: err.to_string(),
            })
    }

    /// Tells subscribers that `stream` ended, after the frames sent before.
    pub fn end_stream(&self, stream: &StreamId) -> Result<(), TransportError> {
        self.put(ZBytes::new(), wire::encode_stream_end(stream))
    }

    fn put(&self, payload: ZBytes, header: Vec<u8>) -> Result<(), TransportError> {
        let number = self.sent.fetch_add(1, Ordering::Relaxed);
        self.publisher
            .put(payload)
            .attachment(header)
            .source_info(SourceInfo::new(self.publisher.id(), number))
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

/// Receives the frames published on one key expression into a queue of its
/// own, which keeps the newest and counts what it drops (`latest`) or holds
/// the publishers back when full (`block`), as every input queue does.
pub struct FrameSubscriber {
    key: String,
    queue: Arc<Queue>,
    rejected: mpsc::Receiver<WireError>,
    _subscriber: Subscriber<()>,
}

/// Messages that are not frames, kept for the taker to log; more are only counted.
const REJECTED_KEPT: usize = 16;

impl FrameSubscriber {
    /// Subscribes to `key` on `session` with a queue of `depth` frames and
    /// `policy`. Counts, in `metrics`, where each frame's bytes were and the
    /// messages that are not frames.
    pub(crate) fn declare(
        session: &zenoh::Session,
        key: &str,
        depth: usize,
        policy: QueuePolicy,
        metrics: Arc<NodeMetrics>,
    ) -> Result<FrameSubscriber, zenoh::Error> {
        let queue = Arc::new(Queue::new(depth, policy));
        let (tell, rejected) = mpsc::channel(REJECTED_KEPT);
        let into = queue.clone();
        let numbers = Mutex::new(MessageNumbers::<EntityGlobalId>::default());
        // Runs on zenoh's receiving thread: a `block` queue that is full holds it.
        let subscriber = session
            .declare_subscriber(key.to_string())
            .callback(move |sample| {
                if let Some(source) = sample.source_info() {
                    let lost = numbers
                        .lock()
                        .expect("the numbers lock is never held across a panic")
                        .missed(*source.source_id(), source.source_sn());
                    metrics.link_lost.fetch_add(lost, Ordering::Relaxed);
                }
                receive(sample, &into, &metrics, &tell);
            })
            .wait()?;
        Ok(FrameSubscriber {
            key: key.to_string(),
            queue,
            rejected,
            _subscriber: subscriber,
        })
    }

    /// The key expression.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The queue frames wait in, to report its depth and drops as an input's.
    pub fn queue(&self) -> Arc<Queue> {
        self.queue.clone()
    }

    /// The next frame or stream end, waiting for one, or `Err` for a message
    /// that was not one (already counted; to log). Payloads in one piece
    /// (shared memory included) are the frame's buffer as they are; others
    /// (gathered from fragments) are copied once.
    pub async fn recv(&mut self) -> Option<Result<Packet, WireError>> {
        tokio::select! {
            biased;
            Some(err) = self.rejected.recv() => Some(Err(err)),
            packet = self.queue.pop() => packet.map(Ok),
        }
    }
}

/// Puts the frame or stream end of `sample` into `queue`, or tells `rejected`
/// why it is not one; counts where frames were and what was rejected.
fn receive(sample: Sample, queue: &Queue, metrics: &NodeMetrics, rejected: &mpsc::Sender<WireError>) {
    match frame_of(sample) {
        Ok((Packet::Frame(frame), memory)) => {
            let counter = match memory {
                Memory::Shared => &metrics.shm_frames,
                Memory::Heap => &metrics.heap_frames,
            };
            counter.fetch_add(1, Ordering::Relaxed);
            futures::executor::block_on(queue.push(frame));
        }
        Ok((Packet::StreamEnd(stream), _)) => {
            queue.push_stream_end(stream);
        }
        Err(err) => {
            metrics.messages_rejected.fetch_add(1, Ordering::Relaxed);
            let _ = rejected.try_send(err);
        }
    }
}

/// Publishers remembered at most; past it, they are forgotten and counting
/// starts afresh (a publisher restarts under a new id, so old ones pile up).
const PUBLISHERS_KEPT: usize = 64;

/// The last message number seen from each publisher (an [`EntityGlobalId`]).
struct MessageNumbers<P> {
    last: HashMap<P, SourceSn>,
}

impl<P> Default for MessageNumbers<P> {
    fn default() -> Self {
        MessageNumbers { last: HashMap::new() }
    }
}

impl<P: std::hash::Hash + Eq> MessageNumbers<P> {
    /// How many messages of `publisher` were skipped before `number`: none
    /// for its first message, or for a number that is not ahead of the last
    /// (a duplicate, or a late one), which is taken as the new last.
    fn missed(&mut self, publisher: P, number: SourceSn) -> u64 {
        if self.last.len() >= PUBLISHERS_KEPT && !self.last.contains_key(&publisher) {
            self.last.clear();
        }
        let Some(last) = self.last.insert(publisher, number) else {
            return 0;
        };
        let ahead = number.wrapping_sub(last);
        if ahead == 0 || ahead > SourceSn::MAX / 2 {
            return 0;
        }
        u64::from(ahead - 1)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_in_a_publishers_numbers_are_counted_once() {
        let (a, b) = ("a", "b");
        let mut numbers = MessageNumbers::default();
        assert_eq!(numbers.missed(a, 7), 0, "the first message is the start");
        assert_eq!(numbers.missed(a, 8), 0);
        assert_eq!(numbers.missed(a, 11), 2);
        assert_eq!(numbers.missed(b, 100), 0, "each publisher counts on its own");
        assert_eq!(numbers.missed(a, 10), 0, "a late message is not a gap");
        assert_eq!(numbers.missed(a, 11), 0);
        assert_eq!(numbers.missed(a, u32::MAX), 0, "far behind reads as late");
        assert_eq!(numbers.missed(a, 1), 1, "numbers wrap around");
    }
}
