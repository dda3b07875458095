//! Frames born in zenoh shared memory, for nodes whose output goes to
//! another process on this machine: the producing node writes its pixels
//! straight into a segment the receiver maps, so nothing is copied on the
//! way out or in.
//!
//! A pool is made on the first frame, sized for [`FRAMES_IN_FLIGHT`] frames
//! of that size (what the queues on both sides of a link can hold at once).
//! Where shared memory cannot be had (a segment cannot be locked in memory,
//! the pool is full) frames go on the heap: the reason and the fix are
//! logged once, and link nodes count each frame by where it was
//! (`ooblex_node_shm_frames_total`, `ooblex_node_heap_frames_total`).

use std::sync::Mutex;

use zenoh::Wait;
use zenoh::shm::{GarbageCollect, ShmProviderBuilder, ZShm, ZShmMut, cleanup_orphaned_shm_segments};

use crate::buffer::{ForeignBytes, ForeignBytesMut, ForeignPool};

/// Frames of the first size a pool is made for: the producer's, the
/// sender's and receiver's queues and the consumer's, with room to spare.
pub const FRAMES_IN_FLIGHT: usize = 16;

/// Hands out buffers in one shared-memory pool, made on first use.
pub struct ShmPool {
    node: String,
    state: Mutex<State>,
}

enum State {
    /// No frame yet.
    Unmade,
    /// Buffers come from here.
    Made(Box<dyn Fn(usize) -> Option<ZShmMut> + Send + Sync>),
    /// Shared memory cannot be had; frames go on the heap.
    Unavailable,
}

impl ShmPool {
    /// A pool for the frames of node `node`.
    pub fn new(node: &str) -> ShmPool {
        ShmPool {
            node: node.to_string(),
            state: Mutex::new(State::Unmade),
        }
    }
}

impl ForeignPool for ShmPool {
    fn alloc(&self, len: usize) -> Option<Box<dyn ForeignBytesMut>> {
        let mut state = self.state.lock().expect("pool lock is never held across a panic");
        if let State::Unmade = *state {
            // Segments a crashed run left behind go first.
            cleanup_orphaned_shm_segments();
            let size = len.saturating_mul(FRAMES_IN_FLIGHT).max(1 << 20);
            *state = match ShmProviderBuilder::default_backend(size).wait() {
                Ok(provider) => {
                    tracing::info!(node = %self.node, "frames are born in shared memory ({} MiB pool)", size >> 20);
                    State::Made(Box::new(move |len: usize| {
                        provider.alloc(len).with_policy::<GarbageCollect>().wait().ok()
                    }))
                }
                Err(err) => {
                    tracing::warn!(node = %self.node, "frames go on the heap, copied on the way to the other process: {}", why_no_shared_memory(size, &err.to_string()));
                    State::Unavailable
                }
            };
        }
        match &*state {
            State::Made(alloc) => alloc(len).map(|buffer| Box::new(ShmBuffer(buffer)) as Box<dyn ForeignBytesMut>),
            State::Unmade | State::Unavailable => None,
        }
    }
}

/// Why a pool of `size` bytes could not be made, and what to do.
fn why_no_shared_memory(size: usize, error: &str) -> String {
    // ENOMEM (12) past the limit, EPERM (1) when it is zero.
    let code = error
        .split("OS error ")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next()?.parse::<i32>().ok());
    if matches!(code, Some(1 | 12)) {
        let limit = locked_memory_limit().unwrap_or_else(|| "unknown".into());
        format!(
            "cannot lock a {} MiB shared-memory pool in memory ({error}); this process may lock {limit}: \
             raise the limit (`ulimit -l unlimited`, or `LimitMEMLOCK=infinity` for a systemd service) \
             or send smaller frames",
            size >> 20
        )
    } else {
        format!("cannot make a {} MiB shared-memory pool: {error}", size >> 20)
    }
}

/// This process's limit of locked memory, as /proc says it.
fn locked_memory_limit() -> Option<String> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max locked memory"))?;
    let soft = line.split_whitespace().nth(3)?;
    Some(match soft.parse::<u64>() {
        Ok(bytes) => format!("{} KiB", bytes >> 10),
        Err(_) => soft.to_string(),
    })
}

/// A writable buffer in shared memory.
struct ShmBuffer(ZShmMut);

impl ForeignBytesMut for ShmBuffer {
    fn bytes(&self) -> &[u8] {
        &self.0
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.0
    }

    fn freeze(self: Box<Self>) -> Box<dyn ForeignBytes> {
        Box::new(ZShm::from(self.0))
    }
}
