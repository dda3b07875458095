//! 1080p RGB frames (6.2 MB) from one process to another, side by side in
//! one run: Ooblex over shared memory (frames born there), Ooblex over TCP,
//! raw zenoh over shared memory (the frame copied into a buffer of zenoh's,
//! as a zenoh user does; its latency taken from a FIFO channel as a task
//! reads it, and in zenoh's callback) and over TCP, a hop between two threads of one
//! process, and a plain memcpy of the frame. For each: per-frame latency
//! p50/p99 with frames 5 ms apart, and frames per second back to back.
//!
//! `cargo bench -p ooblex-runtime --bench links` (prints one JSON line per
//! case); the receiving process is this program run again.

#![allow(missing_docs)]

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ooblex_runtime::{
    Buffer, Frame, FrameAllocator, Hub, Packet, PixelFormat, Queue, QueuePolicy, ShmPool, Transport, TransportConfig,
};
use zenoh::Wait;
use zenoh::qos::CongestionControl;
use zenoh::shm::{BlockOn, GarbageCollect, ShmProviderBuilder};

const WIDTH: u32 = 1920;
const HEIGHT: u32 = 1080;
const LATENCY_FRAMES: usize = 300;
const THROUGHPUT_FRAMES: usize = 2000;
const WARM_UP: usize = 50;
const KEY: &str = "ooblex-bench/frames";

fn frame_len() -> usize {
    PixelFormat::Rgb24.frame_size(WIDTH, HEIGHT)
}

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// p50, p99 in µs.
fn percentiles(mut us: Vec<f64>) -> (f64, f64) {
    us.sort_by(f64::total_cmp);
    let at = |q: f64| us[((us.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.99))
}

fn report(case: &str, p50: f64, p99: f64, fps: f64) {
    println!(
        "{}",
        serde_json::json!({ "case": case, "p50_us": p50.round(), "p99_us": p99.round(), "fps": fps.round() })
    );
}

fn transport(listen: Option<&str>, connect: Option<&str>) -> Transport {
    Transport::new(TransportConfig {
        listen: listen.into_iter().map(String::from).collect(),
        connect: connect.into_iter().map(String::from).collect(),
        ..TransportConfig::default()
    })
}

/// The receiving process: takes every frame of the case, prints latencies and the rate.
async fn receive(case: &str, endpoint: &str) {
    let transport = transport(None, Some(endpoint));
    let session = transport.session().await.expect("the receiver's session opens");
    let mut ages = Vec::new();
    let mut first_fast = None;
    let total = WARM_UP + LATENCY_FRAMES + THROUGHPUT_FRAMES;
    if case.starts_with("ooblex") {
        let metrics = Arc::new(ooblex_runtime::NodeMetrics::new("receiver", "bench"));
        let mut subscriber = transport
            .subscriber(KEY, 4, QueuePolicy::Block, metrics)
            .await
            .expect("subscribes");
        for n in 0..total {
            let Some(Ok(Packet::Frame(frame))) = subscriber.recv().await else {
                break;
            };
            assert_eq!(frame.buffer.len(), frame_len());
            if n == WARM_UP + LATENCY_FRAMES {
                first_fast = Some(Instant::now());
            }
            if (WARM_UP..WARM_UP + LATENCY_FRAMES).contains(&n) {
                ages.push(frame.age().as_secs_f64() * 1e6);
            }
        }
    } else if case == "zenoh-shm-callback" {
        // The age is taken in zenoh's callback, before any hand-off to a task.
        let (tell, mut told) = tokio::sync::mpsc::unbounded_channel();
        let _subscriber = session
            .declare_subscriber(KEY)
            .callback(move |sample| {
                let at = now_ns();
                let sent = sample.attachment().map(|a| a.to_bytes()).expect("a send time");
                let sent = u64::from_le_bytes(sent[..8].try_into().expect("eight bytes"));
                assert_eq!(sample.payload().len(), frame_len());
                let _ = tell.send((at.saturating_sub(sent) as f64 / 1e3, Instant::now()));
            })
            .wait()
            .expect("subscribes");
        for n in 0..total {
            let Some((age, at)) = told.recv().await else {
                break;
            };
            if n == WARM_UP + LATENCY_FRAMES {
                first_fast = Some(at);
            }
            if (WARM_UP..WARM_UP + LATENCY_FRAMES).contains(&n) {
                ages.push(age);
            }
        }
    } else {
        let subscriber = session
            .declare_subscriber(KEY)
            .with(zenoh::handlers::FifoChannel::new(4))
            .wait()
            .expect("subscribes");
        for n in 0..total {
            let Ok(sample) = subscriber.recv_async().await else {
                break;
            };
            let sent = sample.attachment().map(|a| a.to_bytes()).expect("a send time");
            let sent = u64::from_le_bytes(sent[..8].try_into().expect("eight bytes"));
            let bytes = sample.payload().to_bytes();
            assert_eq!(bytes.len(), frame_len());
            if n == WARM_UP + LATENCY_FRAMES {
                first_fast = Some(Instant::now());
            }
            if (WARM_UP..WARM_UP + LATENCY_FRAMES).contains(&n) {
                ages.push(now_ns().saturating_sub(sent) as f64 / 1e3);
            }
        }
    }
    let fps = THROUGHPUT_FRAMES as f64 / first_fast.expect("frames came").elapsed().as_secs_f64();
    let (p50, p99) = percentiles(ages);
    report(case, p50, p99, fps);
    transport.close().await;
}

/// The sending side of a case between processes.
async fn send(case: &str, endpoint: &str) {
    let transport = transport(Some(endpoint), None);
    let session = transport.session().await.expect("the sender's session opens");
    let mut receiver = Command::new(std::env::current_exe().expect("this program"))
        .env("LINK_BENCH_ROLE", "receive")
        .env("LINK_BENCH_CASE", case)
        .env("LINK_BENCH_ENDPOINT", endpoint)
        .stdout(Stdio::inherit())
        .spawn()
        .expect("the receiver starts");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let source = vec![7u8; frame_len()];
    let shared_source = bytes::Bytes::from(source.clone());
    let heap = FrameAllocator::new();
    let shared = heap.with_foreign(Arc::new(ShmPool::new("bench")));
    let publisher = transport.publisher(KEY, true).await.expect("declares");
    let raw = session
        .declare_publisher(KEY)
        .congestion_control(CongestionControl::Block)
        .express(true)
        .wait()
        .expect("declares");
    let provider = ShmProviderBuilder::default_backend(frame_len() * 16)
        .wait()
        .expect("a pool of shared memory");
    for n in 0..WARM_UP + LATENCY_FRAMES + THROUGHPUT_FRAMES {
        let paced = n < WARM_UP + LATENCY_FRAMES;
        match case {
            // Born in shared memory: the producer writes its picture there.
            "ooblex-shm" => {
                let mut buffer = shared.alloc(frame_len());
                buffer[0] = n as u8;
                let frame = Frame::new(
                    buffer.freeze(),
                    PixelFormat::Rgb24,
                    WIDTH,
                    HEIGHT,
                    Duration::ZERO,
                    n as u64,
                );
                publisher.send(&frame).expect("sends");
            }
            "ooblex-tcp" => {
                let frame = Frame::new(
                    heap.copy_from(&source),
                    PixelFormat::Rgb24,
                    WIDTH,
                    HEIGHT,
                    Duration::ZERO,
                    n as u64,
                );
                publisher.send(&frame).expect("sends");
            }
            "zenoh-shm" | "zenoh-shm-callback" => {
                let mut buffer = provider
                    .alloc(frame_len())
                    .with_policy::<BlockOn<GarbageCollect>>()
                    .await
                    .expect("room in the pool");
                buffer.copy_from_slice(&source);
                raw.put(buffer)
                    .attachment(now_ns().to_le_bytes().to_vec())
                    .wait()
                    .expect("sends");
            }
            _ => {
                raw.put(shared_source.clone())
                    .attachment(now_ns().to_le_bytes().to_vec())
                    .wait()
                    .expect("sends");
            }
        }
        if paced {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    let _ = tokio::task::spawn_blocking(move || receiver.wait()).await;
    transport.close().await;
}

/// A hop between two threads of one process, through a hub and a queue.
fn in_process() {
    let hub = Hub::new();
    let queue = Arc::new(Queue::new(4, QueuePolicy::Block));
    hub.attach(queue.clone());
    let buffer = Buffer::from_vec(vec![7; frame_len()]);
    let total = WARM_UP + LATENCY_FRAMES + THROUGHPUT_FRAMES;
    let taker = std::thread::spawn(move || {
        let mut ages = Vec::new();
        let mut fast = None;
        for n in 0..total {
            let Some(Packet::Frame(frame)) = queue.blocking_pop() else {
                break;
            };
            if n == WARM_UP + LATENCY_FRAMES {
                fast = Some(Instant::now());
            }
            if (WARM_UP..WARM_UP + LATENCY_FRAMES).contains(&n) {
                ages.push(frame.age().as_secs_f64() * 1e6);
            }
        }
        (
            ages,
            THROUGHPUT_FRAMES as f64 / fast.expect("frames came").elapsed().as_secs_f64(),
        )
    });
    for n in 0..total {
        hub.blocking_send(Frame::new(
            buffer.clone(),
            PixelFormat::Rgb24,
            WIDTH,
            HEIGHT,
            Duration::ZERO,
            n as u64,
        ));
        if n < WARM_UP + LATENCY_FRAMES {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    let (ages, fps) = taker.join().expect("the taker ends");
    let (p50, p99) = percentiles(ages);
    report("in-process", p50, p99, fps);
}

/// A plain copy of the frame, the cost any copy on the way adds.
fn memcpy() {
    let source = vec![7u8; frame_len()];
    let mut target = vec![0u8; frame_len()];
    let mut times = Vec::new();
    let started = Instant::now();
    for _ in 0..500 {
        let at = Instant::now();
        target.copy_from_slice(std::hint::black_box(&source));
        times.push(at.elapsed().as_secs_f64() * 1e6);
        std::hint::black_box(&target);
    }
    let fps = 500.0 / started.elapsed().as_secs_f64();
    let (p50, p99) = percentiles(times);
    report("memcpy", p50, p99, fps);
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    if std::env::var("LINK_BENCH_ROLE").as_deref() == Ok("receive") {
        let case = std::env::var("LINK_BENCH_CASE").expect("a case");
        let endpoint = std::env::var("LINK_BENCH_ENDPOINT").expect("an endpoint");
        runtime.block_on(receive(&case, &endpoint));
        return;
    }
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    memcpy();
    in_process();
    for (i, case) in [
        "ooblex-shm",
        "zenoh-shm",
        "zenoh-shm-callback",
        "ooblex-tcp",
        "zenoh-tcp",
    ]
    .iter()
    .enumerate()
    {
        let endpoint = format!("tcp/127.0.0.1:{}", 17700 + i);
        runtime.block_on(send(case, &endpoint));
    }
}
