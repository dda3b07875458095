//! Output ports: hubs that hand each frame to every attached queue.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use crate::exec::queue::{PushOutcome, Queue, QueuePolicy};
use crate::frame::{Frame, PixelFormat, StreamId};
use crate::node::formats::FormatSet;

/// An output port. Queues attach and detach while frames flow; a frame sent to
/// several queues is shared, never copied.
pub struct Hub {
    /// Copy-on-write list, so a send takes the lock only to clone one `Arc`.
    queues: Mutex<Arc<[Arc<Queue>]>>,
    finished: AtomicBool,
    /// The raw formats the producer declared it gives ([`FormatSet::bits`]).
    formats: AtomicU8,
}

impl Default for Hub {
    fn default() -> Hub {
        Hub::new()
    }
}

impl Hub {
    /// A hub with no queue attached.
    pub fn new() -> Hub {
        Hub {
            queues: Mutex::new(Arc::from(Vec::new())),
            finished: AtomicBool::new(false),
            formats: AtomicU8::new(FormatSet::ALL_RAW.bits()),
        }
    }

    /// The raw pixel formats the producing node declared, as validation
    /// negotiated them: consumers behind the hub take these and no others.
    /// Debug builds check every frame sent against them.
    pub fn declare_formats(&self, formats: FormatSet) {
        self.formats.store(formats.bits(), Ordering::Relaxed);
    }

    /// Whether `format` is one the producer declared (encoded frames always are).
    fn declared(&self, format: PixelFormat) -> bool {
        !PixelFormat::RAW.contains(&format)
            || FormatSet::from_bits(self.formats.load(Ordering::Relaxed)).contains(format)
    }

    fn snapshot(&self) -> Arc<[Arc<Queue>]> {
        self.queues
            .lock()
            .expect("hub lock is never held across a panic")
            .clone()
    }

    /// Adds a queue: it receives every frame sent from now on. Attaching to a
    /// hub whose producer has finished closes the queue at once.
    pub fn attach(&self, queue: Arc<Queue>) {
        let mut queues = self.queues.lock().expect("hub lock is never held across a panic");
        if self.finished.load(Ordering::Acquire) {
            queue.close();
        }
        let mut list: Vec<_> = queues.iter().cloned().collect();
        list.push(queue);
        *queues = list.into();
    }

    /// Removes a queue; it receives nothing more from this hub.
    pub fn detach(&self, queue: &Arc<Queue>) {
        let mut queues = self.queues.lock().expect("hub lock is never held across a panic");
        let list: Vec<_> = queues.iter().filter(|q| !Arc::ptr_eq(q, queue)).cloned().collect();
        *queues = list.into();
    }

    /// Number of queues attached.
    pub fn fan_out(&self) -> usize {
        self.snapshot().len()
    }

    /// Hands `frame` to every attached queue, waiting on those with `block` policy.
    /// `latest` queues get it first, so a slow `block` branch never delays a
    /// live one. Returns how many frames the queues dropped to take it.
    pub async fn send(&self, frame: Frame) -> usize {
        debug_assert!(
            self.declared(frame.format),
            "a node sent a {} frame on an output that declares {}: its kind's `OUTPUTS` or \
             `output_formats` does not say what it gives",
            frame.format,
            FormatSet::from_bits(self.formats.load(Ordering::Relaxed))
        );
        let queues = self.snapshot();
        let mut drops = 0;
        let live = queues.iter().filter(|q| q.policy() == QueuePolicy::Latest);
        let blocking = queues.iter().filter(|q| q.policy() == QueuePolicy::Block);
        for queue in live.chain(blocking) {
            if let PushOutcome::Dropped(count) = queue.push(frame.clone()).await {
                drops += count;
            }
        }
        drops
    }

    /// [`Hub::send`] for a thread that is not an async task.
    pub fn blocking_send(&self, frame: Frame) -> usize {
        futures::executor::block_on(self.send(frame))
    }

    /// Tells every attached queue that `stream` ended, after the frames sent
    /// before. Never waits.
    pub fn end_stream(&self, stream: &StreamId) {
        for queue in self.snapshot().iter() {
            queue.push_stream_end(stream.clone());
        }
    }

    /// The producer is done: every attached queue drains and then ends.
    pub fn finish(&self) {
        let queues = self.queues.lock().expect("hub lock is never held across a panic");
        self.finished.store(true, Ordering::Release);
        for queue in queues.iter() {
            queue.close();
        }
    }
}
