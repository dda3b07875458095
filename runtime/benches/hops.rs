//! Time per frame per hop through chains of pass-through nodes at 1920x1080,
//! and fan-out to 8 sinks. Frames are shared, never copied: the source sends
//! the same 6 MB buffer every time, as GStreamer's `fakesrc filltype=nothing`
//! does, so what is measured is the cost of a hop (queue, thread hand-off,
//! counters), comparable with GStreamer's `queue ! identity` (scripts/bench-hops.sh).

#![allow(missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use ooblex_runtime::{
    Buffer, Frame, InputPortSpec, Node, NodeContext, NodeError, NodeKind, OutputPortSpec, PixelFormat, Registry,
    RunningGraph, RuntimeEnv, Sink, Source, Transform, VIDEO_IN, VIDEO_OUT, load_str, sink_node, source_node,
    transform_node, validate,
};
use schemars::JsonSchema;
use serde::Deserialize;

const WIDTH: u32 = 1920;
const HEIGHT: u32 = 1080;

#[derive(Deserialize, JsonSchema)]
struct SourceParams {
    frames: u64,
}

struct Frames;
struct FrameSource {
    buffer: Buffer,
    next: u64,
    frames: u64,
}

impl Source for FrameSource {
    fn next_frame(&mut self, _ctx: &NodeContext) -> Result<Option<Frame>, NodeError> {
        if self.next == self.frames {
            return Ok(None);
        }
        self.next += 1;
        Ok(Some(Frame::new(
            self.buffer.clone(),
            PixelFormat::Rgb24,
            WIDTH,
            HEIGHT,
            Duration::ZERO,
            self.next,
        )))
    }
}

impl NodeKind for Frames {
    type Params = SourceParams;
    const NAME: &'static str = "frames";
    const DESCRIPTION: &'static str = "the same 1080p buffer, N times";
    const INPUTS: &'static [InputPortSpec] = &[];
    const OUTPUTS: &'static [OutputPortSpec] = &[VIDEO_OUT];
    fn build(params: &SourceParams) -> Result<Box<dyn Node>, NodeError> {
        let size = PixelFormat::Rgb24.frame_size(WIDTH, HEIGHT);
        Ok(source_node(FrameSource {
            buffer: Buffer::from_vec(vec![0; size]),
            next: 0,
            frames: params.frames,
        }))
    }
}

#[derive(Deserialize, JsonSchema)]
struct NoParams {}

struct Identity;
struct PassThrough;
impl Transform for PassThrough {
    fn process(&mut self, frame: Frame, _ctx: &NodeContext) -> Result<Option<Frame>, NodeError> {
        Ok(Some(frame))
    }
}
impl NodeKind for Identity {
    type Params = NoParams;
    const NAME: &'static str = "identity";
    const DESCRIPTION: &'static str = "passes frames through";
    const INPUTS: &'static [InputPortSpec] = &[VIDEO_IN];
    const OUTPUTS: &'static [OutputPortSpec] = &[VIDEO_OUT];
    fn build(_: &NoParams) -> Result<Box<dyn Node>, NodeError> {
        Ok(transform_node(PassThrough))
    }
}

/// Frames whose buffer is not the source's, across all sinks (must stay 0).
static COPIED: AtomicU64 = AtomicU64::new(0);
static SOURCE_ADDRESS: AtomicU64 = AtomicU64::new(0);

struct Count;
struct Counter;
impl Sink for Counter {
    fn consume(&mut self, frame: Frame, _ctx: &NodeContext) -> Result<(), NodeError> {
        let address = frame.buffer.as_ptr() as u64;
        let first = SOURCE_ADDRESS.compare_exchange(0, address, Ordering::Relaxed, Ordering::Relaxed);
        if first.is_err_and(|known| known != address) {
            COPIED.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }
}
impl NodeKind for Count {
    type Params = NoParams;
    const NAME: &'static str = "count";
    const DESCRIPTION: &'static str = "counts frames";
    const INPUTS: &'static [InputPortSpec] = &[VIDEO_IN];
    const OUTPUTS: &'static [OutputPortSpec] = &[];
    fn build(_: &NoParams) -> Result<Box<dyn Node>, NodeError> {
        Ok(sink_node(Counter))
    }
}

fn registry() -> Registry {
    let mut registry = Registry::new();
    registry.register::<Frames>().register::<Identity>().register::<Count>();
    registry
}

/// `frames -> identity x hops -> count x sinks`, as YAML.
fn chain(frames: u64, hops: usize, sinks: usize) -> String {
    let mut yaml =
        format!("version: 1\nname: bench\nnodes:\n  src: {{ kind: frames, params: {{ frames: {frames} }} }}\n");
    let mut last = "src".to_string();
    for hop in 0..hops {
        yaml.push_str(&format!(
            "  hop{hop}: {{ kind: identity, inputs: {{ video: {last} }} }}\n"
        ));
        last = format!("hop{hop}");
    }
    for sink in 0..sinks {
        yaml.push_str(&format!(
            "  sink{sink}: {{ kind: count, inputs: {{ video: {last} }} }}\n"
        ));
    }
    yaml
}

/// Wall time to push `frames` frames through the graph.
fn run_graph(runtime: &tokio::runtime::Runtime, registry: &Registry, yaml: &str) -> Duration {
    let loaded = load_str("bench.yaml", yaml).expect("the bench graph loads");
    let graph = validate(&loaded, registry).expect("the bench graph is valid");
    runtime.block_on(async {
        SOURCE_ADDRESS.store(0, Ordering::Relaxed);
        let started = Instant::now();
        let mut running = RunningGraph::start(graph, &RuntimeEnv::default());
        running.wait().await;
        started.elapsed()
    })
}

fn hops(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let registry = Arc::new(registry());
    const FRAMES: u64 = 5_000;
    let mut group = c.benchmark_group("hops_1080p");
    group.sample_size(10).measurement_time(Duration::from_secs(15));
    for (name, hops, sinks) in [("chain_0", 0, 1), ("chain_10", 10, 1), ("fanout_8", 0, 8)] {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let yaml = chain(FRAMES, hops, sinks);
                let total: Duration = (0..iters).map(|_| run_graph(&runtime, &registry, &yaml)).sum();
                // Report time per frame.
                total / FRAMES as u32
            })
        });
    }
    group.finish();
    assert_eq!(
        COPIED.load(Ordering::Relaxed),
        0,
        "a frame reached a sink in a different buffer"
    );
}

criterion_group!(benches, hops);
criterion_main!(benches);
