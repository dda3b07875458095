//! Frame memory: shared read-only [`Buffer`]s, writable [`BufferMut`]s and
//! the pooling [`FrameAllocator`] that nodes get them from.
//!
//! Nodes never allocate frame memory on their own: the allocator recycles
//! buffers (a 1080p RGB frame is 6 MB; allocating it fresh every frame costs
//! page faults), serving every size from a size class so that outputs of
//! varying size (H.264 access units, JPEG pictures) reuse buffers too, and
//! later hands out shared or GPU memory without the nodes changing.

use std::any::Any;
use std::fmt;
use std::sync::{Arc, Mutex, Weak};

use crate::pool::{FreeLists, PoolStats, size_class};

/// The free bytes a pool may always keep for reuse, however few it hands out
/// (32 MiB: ten 1080p I420 frames); see [`FrameAllocator::with_floor`].
pub const DEFAULT_POOL_FLOOR: usize = 32 << 20;

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

/// Read-only memory owned elsewhere (a received zenoh payload, a shared
/// memory buffer) that a [`Buffer`] can hold and hand back by its type.
pub trait ForeignBytes: AsRef<[u8]> + Any + Send + Sync {}

impl<T: AsRef<[u8]> + Any + Send + Sync> ForeignBytes for T {}

/// Writable memory owned elsewhere, as a [`ForeignPool`] hands it out.
pub trait ForeignBytesMut: Send + Sync {
    /// The bytes.
    fn bytes(&self) -> &[u8];
    /// The bytes, writable.
    fn bytes_mut(&mut self) -> &mut [u8];
    /// The same memory, read-only, to share.
    fn freeze(self: Box<Self>) -> Box<dyn ForeignBytes>;
}

/// Memory other than the heap that frames can be born in (zenoh shared
/// memory): see [`FrameAllocator::with_foreign`].
pub trait ForeignPool: Send + Sync {
    /// `len` writable bytes, or `None` when the pool cannot give them now
    /// (full, or unavailable); the allocator then uses the heap.
    fn alloc(&self, len: usize) -> Option<Box<dyn ForeignBytesMut>>;
}

/// What a [`Buffer`] holds: bytes of a pool, or memory owned elsewhere.
enum Shared {
    Pooled(Storage),
    Foreign(Box<dyn ForeignBytes>),
}

impl Shared {
    fn bytes(&self) -> &[u8] {
        match self {
            Shared::Pooled(storage) => &storage.bytes,
            Shared::Foreign(bytes) => (**bytes).as_ref(),
        }
    }
}

/// Read-only frame bytes shared by reference counting; cloning never copies.
#[derive(Clone)]
pub struct Buffer {
    storage: Arc<Shared>,
}

impl Buffer {
    /// Wraps bytes that were made outside any pool (decoded files, tests).
    pub fn from_vec(bytes: Vec<u8>) -> Buffer {
        Buffer {
            storage: Arc::new(Shared::Pooled(Storage {
                bytes,
                pool: Weak::new(),
            })),
        }
    }

    /// Wraps memory owned elsewhere (a received zenoh payload, shared memory)
    /// without copying it; it is dropped with the last holder.
    pub fn from_foreign(bytes: impl ForeignBytes) -> Buffer {
        Buffer {
            storage: Arc::new(Shared::Foreign(Box::new(bytes))),
        }
    }

    /// The memory owned elsewhere that this buffer holds, when it is a `T`
    /// (a zenoh shared-memory buffer, to send on without a copy).
    pub fn foreign<T: Any>(&self) -> Option<&T> {
        match &*self.storage {
            Shared::Foreign(bytes) => {
                let any: &dyn Any = &**bytes;
                any.downcast_ref()
            }
            Shared::Pooled(_) => None,
        }
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        self.storage.bytes()
    }

    /// Number of bytes.
    pub fn len(&self) -> usize {
        self.as_slice().len()
    }

    /// Whether the buffer holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.as_slice().is_empty()
    }

    /// Address of the first byte: two buffers with the same address share memory.
    pub fn as_ptr(&self) -> *const u8 {
        self.as_slice().as_ptr()
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
    storage: Owned,
}

/// What a [`BufferMut`] holds.
enum Owned {
    Pooled(Storage),
    Foreign(Box<dyn ForeignBytesMut>),
}

impl BufferMut {
    /// The bytes, writable. A recycled buffer holds the previous frame's bytes.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        match &mut self.storage {
            Owned::Pooled(storage) => &mut storage.bytes,
            Owned::Foreign(bytes) => bytes.bytes_mut(),
        }
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        match &self.storage {
            Owned::Pooled(storage) => &storage.bytes,
            Owned::Foreign(bytes) => bytes.bytes(),
        }
    }

    /// Makes the bytes read-only and shareable.
    pub fn freeze(self) -> Buffer {
        let shared = match self.storage {
            Owned::Pooled(storage) => Shared::Pooled(storage),
            Owned::Foreign(bytes) => Shared::Foreign(bytes.freeze()),
        };
        Buffer {
            storage: Arc::new(shared),
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
    free: Mutex<FreeLists>,
}

impl PoolShared {
    fn lock(&self) -> std::sync::MutexGuard<'_, FreeLists> {
        self.free.lock().expect("pool lock is never held across a panic")
    }

    fn recycle(&self, bytes: Vec<u8>) {
        let evicted = self.lock().give_back(bytes);
        // Freed after the lock is released: giving back large buffers to the
        // system takes a while.
        drop(evicted);
    }
}

/// Hands out frame buffers and takes them back when their last holder drops them.
///
/// Buffers come in size classes (quarter steps between powers of two), so a
/// request reuses any free buffer of its class. Free buffers are kept up to a
/// byte budget, the larger of a floor ([`DEFAULT_POOL_FLOOR`]) and the recent
/// peak of bytes handed out at once (a burst is forgotten over a few thousand
/// frames); past it the least recently freed are let go.
/// Cloning gives another handle to the same pool.
#[derive(Clone)]
pub struct FrameAllocator {
    shared: Arc<PoolShared>,
    /// Where buffers come from first, when set.
    foreign: Option<Arc<dyn ForeignPool>>,
}

impl Default for FrameAllocator {
    fn default() -> Self {
        FrameAllocator::new()
    }
}

impl FrameAllocator {
    /// A pool in CPU memory with the default floor.
    pub fn new() -> FrameAllocator {
        FrameAllocator::with_floor(DEFAULT_POOL_FLOOR)
    }

    /// A pool that keeps free buffers up to the larger of `floor` bytes and
    /// the recent peak of bytes it handed out at once.
    pub fn with_floor(floor: usize) -> FrameAllocator {
        FrameAllocator {
            shared: Arc::new(PoolShared {
                free: Mutex::new(FreeLists::new(floor)),
            }),
            foreign: None,
        }
    }

    /// This allocator, handing out buffers of `pool` first (frames born in
    /// shared memory for another process) and heap buffers when it has none.
    pub fn with_foreign(&self, pool: Arc<dyn ForeignPool>) -> FrameAllocator {
        FrameAllocator {
            shared: self.shared.clone(),
            foreign: Some(pool),
        }
    }

    /// A writable buffer of `len` bytes whose contents are unspecified
    /// (a recycled buffer keeps what it held).
    pub fn alloc(&self, len: usize) -> BufferMut {
        if let Some(bytes) = self
            .foreign
            .as_ref()
            .filter(|_| len > 0)
            .and_then(|pool| pool.alloc(len))
        {
            return BufferMut {
                storage: Owned::Foreign(bytes),
            };
        }
        let Some((class, capacity)) = size_class(len) else {
            // Empty, or too large to pool: a buffer of its own.
            return BufferMut {
                storage: Owned::Pooled(Storage {
                    bytes: vec![0; len],
                    pool: Weak::new(),
                }),
            };
        };
        let recycled = self.shared.lock().take(class, capacity);
        let bytes = match recycled {
            // Within the capacity: no reallocation, and only bytes past the
            // previous length are written.
            Some(mut bytes) => {
                bytes.resize(len, 0);
                bytes
            }
            None => {
                let mut bytes = vec![0; capacity];
                bytes.truncate(len);
                bytes
            }
        };
        BufferMut {
            storage: Owned::Pooled(Storage {
                bytes,
                pool: Arc::downgrade(&self.shared),
            }),
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
        self.stats().free_buffers
    }

    /// The pool's counts: bytes free and in use, buffers let go.
    pub fn stats(&self) -> PoolStats {
        self.shared.lock().stats()
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

    #[test]
    fn buffers_of_varying_size_reuse_one_class() {
        let pool = FrameAllocator::new();
        let first = pool.copy_from(&[7; 34_000]);
        let address = first.as_ptr();
        drop(first);
        let second = pool.alloc(40_000);
        assert_eq!(second.len(), 40_000, "exactly the bytes asked for are visible");
        assert_eq!(second.as_ptr(), address, "34,000 and 40,000 bytes share a class");
        assert_eq!(second[33_999], 7, "a recycled buffer keeps what it held");
        assert_eq!(second[34_000], 0, "bytes past what it held are zero, never stale");
        let stats = pool.stats();
        assert_eq!((stats.free_buffers, stats.in_use_bytes), (0, 40 * 1024));
        drop(second);
        assert_eq!(pool.stats().free_bytes, 40 * 1024);
        assert_eq!(pool.stats().in_use_bytes, 0);
    }

    #[test]
    fn many_sizes_do_not_pile_up_past_the_floor() {
        let pool = FrameAllocator::with_floor(1 << 20);
        for len in (10_000..400_000).step_by(997) {
            drop(pool.alloc(len));
        }
        let stats = pool.stats();
        assert!(stats.free_bytes <= 1 << 20, "{stats:?}");
        assert!(stats.evicted_buffers > 0, "{stats:?}");
    }

    #[test]
    fn empty_buffers_are_not_pooled() {
        let pool = FrameAllocator::new();
        assert!(pool.alloc(0).is_empty());
        assert_eq!(pool.stats(), PoolStats::default());
    }
}
