//! A harness to test one node kind alone: push frames in, pull frames out.
//!
//! ```
//! # use ooblex_runtime::testing::Harness;
//! # fn demo(kind: &ooblex_runtime::KindInfo, frames: Vec<ooblex_runtime::Frame>) {
//! let out = Harness::new(kind, serde_json::json!({})).input("video", frames).run();
//! # }
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::buffer::FrameAllocator;
use crate::exec::hub::Hub;
use crate::exec::queue::{Queue, QueuePolicy};
use crate::frame::{Frame, Metadata, PixelFormat, StreamId};
use crate::metrics::NodeMetrics;
use crate::node::context::NodeContext;
use crate::node::error::NodeError;
use crate::node::kind::KindInfo;
use crate::node::shutdown::Shutdown;
use crate::packet::Packet;
use crate::streams::StreamRegistry;

/// Runs one node with the given input frames and collects what it outputs.
pub struct Harness {
    kind: KindInfo,
    params: serde_json::Value,
    inputs: Vec<(String, Vec<Packet>)>,
    /// Streams the node publishes to (MJPEG sinks).
    pub streams: StreamRegistry,
    /// Stop the node after this long (for live sources without an end).
    pub timeout: Duration,
    /// Node id given to the node.
    pub id: String,
}

/// What a harness run produced.
pub struct HarnessOutput {
    /// How the node ended.
    pub result: Result<(), NodeError>,
    /// Frames by output port.
    pub frames: BTreeMap<String, Vec<Frame>>,
    /// Everything sent, stream ends included, by output port.
    pub packets: BTreeMap<String, Vec<Packet>>,
    /// The node's counters.
    pub metrics: Arc<NodeMetrics>,
}

impl HarnessOutput {
    /// Frames of the first (default) output port.
    pub fn video(&self) -> &[Frame] {
        self.frames.values().next().map_or(&[], Vec::as_slice)
    }
}

impl Harness {
    /// A harness for `kind` with `params` (as in the graph's `params:`).
    pub fn new(kind: &KindInfo, params: serde_json::Value) -> Harness {
        Harness {
            kind: kind.clone(),
            params,
            inputs: Vec::new(),
            streams: StreamRegistry::new(),
            timeout: Duration::from_secs(10),
            id: "under_test".to_string(),
        }
    }

    /// Frames to feed into input port `port`.
    pub fn input(self, port: &str, frames: Vec<Frame>) -> Harness {
        self.input_packets(port, frames.into_iter().map(Packet::Frame).collect())
    }

    /// Frames and stream ends to feed into input port `port`.
    pub fn input_packets(mut self, port: &str, packets: Vec<Packet>) -> Harness {
        self.inputs.push((port.to_string(), packets));
        self
    }

    /// Stops the node after `timeout`.
    pub fn timeout(mut self, timeout: Duration) -> Harness {
        self.timeout = timeout;
        self
    }

    /// Runs the node to its end (or the timeout) on a fresh runtime.
    ///
    /// Panics when the params are invalid: a harness is given valid params.
    pub fn run(self) -> HarnessOutput {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a test runtime can be built");
        runtime.block_on(self.run_async())
    }

    async fn run_async(self) -> HarnessOutput {
        let factory = match self.kind.prepare(self.params.clone()) {
            Ok(factory) => factory,
            Err(issues) => panic!("invalid params for `{}`: {issues:?}", self.kind.name),
        };
        let metrics = Arc::new(NodeMetrics::new(&self.id, self.kind.name));
        let mut inputs = Vec::new();
        for (port, packets) in self.inputs {
            let queue = Arc::new(Queue::new(packets.len().max(1), QueuePolicy::Block));
            for packet in packets {
                match packet {
                    Packet::Frame(frame) => queue.push(frame).await,
                    Packet::StreamEnd(stream) => queue.push_stream_end(stream),
                };
            }
            queue.close();
            inputs.push((port, queue));
        }
        let mut outputs = Vec::new();
        let mut collectors = Vec::new();
        for port in self.kind.outputs {
            let hub = Arc::new(Hub::new());
            let queue = Arc::new(Queue::new(100_000, QueuePolicy::Block));
            hub.attach(queue.clone());
            outputs.push((port.name.to_string(), hub.clone()));
            collectors.push((port.name.to_string(), hub, queue));
        }
        let shutdown = Shutdown::new();
        let ctx = NodeContext::new(
            &self.id,
            inputs,
            outputs,
            FrameAllocator::new(),
            shutdown.clone(),
            metrics.clone(),
            self.streams.clone(),
        );
        let node = factory.build();
        let result = match node {
            Ok(node) => {
                let run = tokio::spawn(node.run(ctx));
                let stopper = tokio::spawn({
                    let timeout = self.timeout;
                    async move {
                        tokio::time::sleep(timeout).await;
                        shutdown.trigger();
                    }
                });
                let result = run.await.unwrap_or_else(|e| Err(NodeError::failed(e)));
                stopper.abort();
                result
            }
            Err(err) => Err(err),
        };
        let (mut frames, mut packets) = (BTreeMap::new(), BTreeMap::new());
        for (port, hub, queue) in collectors {
            hub.finish();
            let mut got = Vec::new();
            while let Some(packet) = queue.pop().await {
                got.push(packet);
            }
            frames.insert(
                port.clone(),
                got.iter().cloned().filter_map(Packet::into_frame).collect(),
            );
            packets.insert(port, got);
        }
        HarnessOutput {
            result,
            frames,
            packets,
            metrics,
        }
    }
}

/// A context without ports, for calling a node's own methods (a
/// [`Transform`](crate::Transform)'s `process`) directly in a test.
pub fn bare_context(id: &str) -> NodeContext {
    NodeContext::new(
        id,
        Vec::new(),
        Vec::new(),
        FrameAllocator::new(),
        Shutdown::new(),
        Arc::new(NodeMetrics::new(id, "test")),
        StreamRegistry::new(),
    )
}

/// A frame of `format` filled by `fill(x, y, channel)`, for tests.
pub fn frame_from_fn(
    format: PixelFormat,
    width: u32,
    height: u32,
    seq: u64,
    fill: impl Fn(usize, usize, usize) -> u8,
) -> Frame {
    let planes = format.planes(width, height);
    let mut bytes = vec![0; format.frame_size(width, height)];
    for (index, plane) in planes.iter().enumerate() {
        for y in 0..plane.height {
            for x in 0..plane.width {
                for c in 0..plane.bytes_per_pixel {
                    let channel = if planes.len() > 1 { index + c } else { c };
                    bytes[plane.offset + y * plane.stride + x * plane.bytes_per_pixel + c] = fill(x, y, channel);
                }
            }
        }
    }
    Frame {
        buffer: crate::buffer::Buffer::from_vec(bytes),
        format,
        width,
        height,
        planes,
        keyframe: true,
        pts: Duration::from_millis(seq * 33),
        dts: None,
        seq,
        capture: Instant::now(),
        stream: StreamId::default(),
        meta: Arc::new(Metadata::default()),
    }
}
