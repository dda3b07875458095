//! Time to get a frame buffer from the pool and give it back: fixed 1080p RGB
//! frames (four in flight, as a short queue holds them) and H.264-sized access
//! units of varying size copied in from a socket's bytes (eight in flight).
//! The second is what grew memory without bound when the pool recycled by
//! exact length (issue 11); `tests/memory_stays_bounded.rs` checks the memory.

#![allow(missing_docs)]

use std::collections::VecDeque;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use ooblex_runtime::{Buffer, FrameAllocator};

/// Keeps the last `depth` buffers alive, dropping the oldest.
fn hold(held: &mut VecDeque<Buffer>, buffer: Buffer, depth: usize) {
    held.push_back(buffer);
    if held.len() > depth {
        held.pop_front();
    }
}

fn pool(c: &mut Criterion) {
    let mut group = c.benchmark_group("pool");
    group.sample_size(20).measurement_time(Duration::from_secs(5));
    let pool = FrameAllocator::new();
    let mut held = VecDeque::new();
    group.bench_function("fixed_1080p_rgb", |b| {
        b.iter(|| {
            let mut frame = pool.alloc(1920 * 1080 * 3);
            frame[0] = 1;
            hold(&mut held, frame.freeze(), 4);
        })
    });
    held.clear();
    // Sizes from a fixed-seed generator: 16 KB to 48 KB, about what 8 Mbit/s at
    // 30 fps gives.
    let bytes = vec![7u8; 48 * 1024];
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    group.bench_function("access_units_16k_48k", |b| {
        b.iter(|| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let len = 16 * 1024 + (state >> 33) as usize % (32 * 1024);
            hold(&mut held, pool.copy_from(&bytes[..len]), 8);
        })
    });
    group.finish();
}

criterion_group!(benches, pool);
criterion_main!(benches);
