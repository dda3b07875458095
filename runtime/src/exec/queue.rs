//! The bounded queue in front of every input port.
//!
//! It holds [`Packet`]s: frames, bounded by the capacity and dropped by the
//! `latest` policy, and stream ends, which are small and rare and so are
//! always queued, never dropped, and never make a producer wait.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use crate::frame::{Frame, StreamId};
use crate::packet::Packet;

/// What a full queue does with a new frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum QueuePolicy {
    /// Keep the newest frames: drop the oldest and count the drop (live video).
    /// Encoded video drops whole groups of pictures: with a frame go the
    /// frames after it that need it, up to the stream's next keyframe or end.
    Latest,
    /// Make the producer wait for room (files, offline work).
    Block,
}

/// What happened to a pushed frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushOutcome {
    /// Queued.
    Queued,
    /// Frames were dropped: the oldest to make room and those that needed it,
    /// or the pushed frame itself, which needed a dropped one. The pushed frame
    /// is queued unless it was among them.
    Dropped(usize),
    /// The queue is closed; the frame was discarded.
    Closed,
}

struct State {
    items: VecDeque<Packet>,
    /// How many of `items` are frames (what the capacity bounds).
    frames: usize,
    closed: bool,
    /// Streams that lost a frame which later frames need: their frames are
    /// dropped until their next keyframe.
    awaiting_keyframe: Vec<StreamId>,
}

impl State {
    /// Drops the oldest frame and the queued frames of its stream that need it,
    /// up to its next keyframe or the stream's end; returns how many were dropped.
    fn drop_oldest(&mut self) -> usize {
        let Some(at) = self.items.iter().position(|item| matches!(item, Packet::Frame(_))) else {
            return 0;
        };
        let stream = self.remove_frame(at).stream;
        let mut dropped = 1;
        let mut next = at;
        while let Some(offset) = self.items.range(next..).position(|item| *item.stream() == stream) {
            next += offset;
            match &self.items[next] {
                Packet::Frame(frame) if frame.keyframe => return dropped,
                Packet::Frame(_) => {
                    self.remove_frame(next);
                    dropped += 1;
                }
                // What follows the end is a new start that needs nothing before it.
                Packet::StreamEnd(_) => return dropped,
            }
        }
        self.awaiting_keyframe.push(stream);
        dropped
    }

    /// Removes the frame at `at`.
    fn remove_frame(&mut self, at: usize) -> Frame {
        let Some(Packet::Frame(frame)) = self.items.remove(at) else {
            unreachable!("`at` was found to hold a frame");
        };
        self.frames -= 1;
        frame
    }

    /// Whether `frame` needs a frame that was dropped; a keyframe ends its stream's wait.
    fn needs_dropped(&mut self, frame: &Frame) -> bool {
        let Some(at) = self.awaiting_keyframe.iter().position(|s| *s == frame.stream) else {
            return false;
        };
        if frame.keyframe {
            self.awaiting_keyframe.swap_remove(at);
            return false;
        }
        true
    }
}

/// A bounded single-producer, single-consumer queue of frames and stream ends.
///
/// Closing it lets the consumer drain what is queued, then see the end of the
/// stream; a producer pushing into a closed queue is turned away at once.
pub struct Queue {
    state: Mutex<State>,
    capacity: usize,
    policy: QueuePolicy,
    readable: Notify,
    writable: Notify,
    dropped: AtomicU64,
}

impl Queue {
    /// A queue holding at most `capacity` frames (at least one).
    pub fn new(capacity: usize, policy: QueuePolicy) -> Queue {
        Queue {
            state: Mutex::new(State {
                items: VecDeque::with_capacity(capacity.clamp(1, 16)),
                frames: 0,
                closed: false,
                awaiting_keyframe: Vec::new(),
            }),
            capacity: capacity.max(1),
            policy,
            readable: Notify::new(),
            writable: Notify::new(),
            dropped: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("queue lock is never held across a panic")
    }

    /// Adds a frame. Under `block` this waits while the queue is full.
    pub async fn push(&self, frame: Frame) -> PushOutcome {
        let mut frame = Some(frame);
        loop {
            if let Some(outcome) = self.try_push_inner(&mut frame) {
                return outcome;
            }
            self.writable.notified().await;
        }
    }

    /// Queues `frame` (taking it) unless the queue is full under `block`.
    fn try_push_inner(&self, frame: &mut Option<Frame>) -> Option<PushOutcome> {
        let mut state = self.lock();
        if state.closed {
            return Some(PushOutcome::Closed);
        }
        if self.policy == QueuePolicy::Latest
            && state.needs_dropped(frame.as_ref().expect("a frame is pushed at most once"))
        {
            frame.take();
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return Some(PushOutcome::Dropped(1));
        }
        let outcome = if state.frames < self.capacity {
            PushOutcome::Queued
        } else if self.policy == QueuePolicy::Latest {
            let dropped = state.drop_oldest();
            self.dropped.fetch_add(dropped as u64, Ordering::Relaxed);
            if state.needs_dropped(frame.as_ref().expect("a frame is pushed at most once")) {
                frame.take();
                self.dropped.fetch_add(1, Ordering::Relaxed);
                return Some(PushOutcome::Dropped(dropped + 1));
            }
            PushOutcome::Dropped(dropped)
        } else {
            return None;
        };
        let frame = frame.take().expect("a frame is pushed at most once");
        state.items.push_back(Packet::Frame(frame));
        state.frames += 1;
        drop(state);
        self.readable.notify_one();
        Some(outcome)
    }

    /// Queues word that `stream` ended, after the frames already queued. It is
    /// never dropped and never waits for room.
    pub fn push_stream_end(&self, stream: StreamId) -> PushOutcome {
        let mut state = self.lock();
        if state.closed {
            return PushOutcome::Closed;
        }
        // Frames after the end start afresh: they need none dropped before it.
        state.awaiting_keyframe.retain(|waiting| *waiting != stream);
        state.items.push_back(Packet::StreamEnd(stream));
        drop(state);
        self.readable.notify_one();
        PushOutcome::Queued
    }

    /// Takes the oldest packet, waiting for one; `None` once closed and drained.
    pub async fn pop(&self) -> Option<Packet> {
        loop {
            {
                let mut state = self.lock();
                if let Some(packet) = state.items.pop_front() {
                    self.taken(state, &packet);
                    return Some(packet);
                }
                if state.closed {
                    return None;
                }
            }
            self.readable.notified().await;
        }
    }

    /// [`Queue::pop`] for a thread that is not an async task.
    pub fn blocking_pop(&self) -> Option<Packet> {
        futures::executor::block_on(self.pop())
    }

    /// Takes the oldest packet if there is one, without waiting.
    pub fn try_pop(&self) -> Option<Packet> {
        let mut state = self.lock();
        let packet = state.items.pop_front()?;
        self.taken(state, &packet);
        Some(packet)
    }

    /// Accounts for `packet`, just taken off the front: a frame makes room.
    fn taken(&self, mut state: std::sync::MutexGuard<'_, State>, packet: &Packet) {
        if matches!(packet, Packet::Frame(_)) {
            state.frames -= 1;
            drop(state);
            self.writable.notify_one();
        }
    }

    /// No more frames will be accepted; the consumer drains what is queued.
    pub fn close(&self) {
        self.lock().closed = true;
        self.readable.notify_one();
        self.writable.notify_one();
    }

    /// Whether [`Queue::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Frames waiting now.
    pub fn depth(&self) -> usize {
        self.lock().frames
    }

    /// The most frames it holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Its policy when full.
    pub fn policy(&self) -> QueuePolicy {
        self.policy
    }

    /// Frames dropped so far: to make room (`latest` only), and those its
    /// consumer dropped as they came out ([`Queue::count_dropped`]).
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Counts `frames` that the consumer dropped as it took them out, as
    /// this queue's drops: frames that need one it never got (an H.264
    /// receiver waits for a keyframe when it joins a stream midway).
    pub fn count_dropped(&self, frames: u64) {
        self.dropped.fetch_add(frames, Ordering::Relaxed);
    }
}
