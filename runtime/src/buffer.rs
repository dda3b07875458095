//! Frame memory: shared read-only [`Buffer`]s, writable [`BufferMut`]s and
//! the pooling [`FrameAllocator`] that nodes get them from.
//!
//! Nodes never allocate frame memory on their own: the allocator recycles
//! buffers of the sizes in use (a 1080p RGB frame is 6 MB; allocating it fresh
//! every frame costs page faults), and later hands out shared or GPU memory
//! without the nodes changing.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, Weak};

/// How many free buffers of one size the pool keeps.
const DEFAULT_FREE_PER_SIZE: usize = 16;

/// Bytes that are returned to their pool when the last holder drops them.
struct Storage {
    bytes: Vec<u8>,
    pool: Weak<PoolShared>,
}

impl Drop for Storage {
    fn drop(&mut self) {
        if let Some(pool) = self.pool.upgrade() {
            pool.recycle(std::mem::take(&mut self.bytes));
        }
    }
}

/// Read-only frame bytes shared by reference counting; cloning never copies.
#[derive(Clone)]
pub struct Buffer {
    storage: Arc<Storage>,
}

impl Buffer {
    /// Wraps bytes that were made outside any pool (decoded files, tests).
    pub fn from_vec(bytes: Vec<u8>) -> Buffer {
        Buffer {
            storage: Arc::new(Storage {
                bytes,
                pool: Weak::new(),
            }),
        }
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.storage.bytes
    }

    /// Number of bytes.
    pub fn len(&self) -> usize {
        self.storage.bytes.len()
    }

    /// Whether the buffer holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.storage.bytes.is_empty()
    }

    /// Address of the first byte: two buffers with the same address share memory.
    pub fn as_ptr(&self) -> *const u8 {
        self.storage.bytes.as_ptr()
    }

    /// Whether both handles point at the same memory (no copy was made).
    pub fn shares_memory_with(&self, other: &Buffer) -> bool {
        Arc::ptr_eq(&self.storage, &other.storage)
    }
}

impl AsRef<[u8]> for Buffer {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl fmt::Debug for Buffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Buffer({} bytes)", self.len())
    }
}

/// Frame bytes owned by one writer; [`BufferMut::freeze`] shares them.
pub struct BufferMut {
    storage: Storage,
}

impl BufferMut {
    /// The bytes, writable. A recycled buffer holds the previous frame's bytes.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.storage.bytes
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.storage.bytes
    }

    /// Makes the bytes read-only and shareable.
    pub fn freeze(self) -> Buffer {
        Buffer {
            storage: Arc::new(self.storage),
        }
    }
}

impl std::ops::Deref for BufferMut {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl std::ops::DerefMut for BufferMut {
    fn deref_mut(&mut self) -> &mut [u8] {
        self.as_mut_slice()
    }
}

struct PoolShared {
    free: Mutex<HashMap<usize, Vec<Vec<u8>>>>,
    free_per_size: usize,
}

impl PoolShared {
    fn recycle(&self, bytes: Vec<u8>) {
        let mut free = self.free.lock().expect("pool lock is never held across a panic");
        let list = free.entry(bytes.len()).or_default();
        if list.len() < self.free_per_size {
            list.push(bytes);
        }
    }
}

/// Hands out frame buffers and takes them back when their last holder drops them.
///
/// Cloning gives another handle to the same pool.
#[derive(Clone)]
pub struct FrameAllocator {
    shared: Arc<PoolShared>,
}

impl Default for FrameAllocator {
    fn default() -> Self {
        FrameAllocator::new()
    }
}

impl FrameAllocator {
    /// A pool in CPU memory.
    pub fn new() -> FrameAllocator {
        FrameAllocator {
            shared: Arc::new(PoolShared {
                free: Mutex::new(HashMap::new()),
                free_per_size: DEFAULT_FREE_PER_SIZE,
            }),
        }
    }

    /// A writable buffer of `len` bytes whose contents are unspecified
    /// (a recycled buffer keeps what it held).
    pub fn alloc(&self, len: usize) -> BufferMut {
        let recycled = self
            .shared
            .free
            .lock()
            .expect("pool lock is never held across a panic")
            .get_mut(&len)
            .and_then(Vec::pop);
        let bytes = recycled.unwrap_or_else(|| vec![0; len]);
        BufferMut {
            storage: Storage {
                bytes,
                pool: Arc::downgrade(&self.shared),
            },
        }
    }

    /// A writable buffer of `len` bytes, all zero.
    pub fn alloc_zeroed(&self, len: usize) -> BufferMut {
        let mut buffer = self.alloc(len);
        buffer.as_mut_slice().fill(0);
        buffer
    }

    /// A pooled copy of `bytes`, for data that arrives from outside (a socket, a file).
    pub fn copy_from(&self, bytes: &[u8]) -> Buffer {
        let mut buffer = self.alloc(bytes.len());
        buffer.as_mut_slice().copy_from_slice(bytes);
        buffer.freeze()
    }

    /// Number of free buffers held for reuse (for tests and metrics).
    pub fn free_buffers(&self) -> usize {
        self.shared
            .free
            .lock()
            .expect("pool lock is never held across a panic")
            .values()
            .map(Vec::len)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropped_buffers_are_reused() {
        let pool = FrameAllocator::new();
        let first = pool.alloc(1024).freeze();
        let address = first.as_ptr();
        drop(first);
        assert_eq!(pool.free_buffers(), 1);
        let second = pool.alloc(1024);
        assert_eq!(second.as_slice().as_ptr(), address);
        assert_eq!(pool.free_buffers(), 0);
    }

    #[test]
    fn clones_share_memory() {
        let pool = FrameAllocator::new();
        let buffer = pool.alloc_zeroed(16).freeze();
        let clone = buffer.clone();
        assert!(buffer.shares_memory_with(&clone));
        drop(buffer);
        assert_eq!(pool.free_buffers(), 0, "a clone still holds the bytes");
        drop(clone);
        assert_eq!(pool.free_buffers(), 1);
    }
}
