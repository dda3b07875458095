//! What a running node is handed: its ports, the frame allocator, the stop
//! signal, its counters and the published streams.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::buffer::FrameAllocator;
use crate::exec::hub::Hub;
use crate::exec::queue::Queue;
use crate::frame::{Codec, Frame, PixelFormat, StreamId};
use crate::metrics::NodeMetrics;
use crate::node::shutdown::Shutdown;
use crate::packet::Packet;
use crate::streams::StreamRegistry;
#[cfg(feature = "hosts")]
use crate::transport::session::Transport;

/// The receiving end of an input port.
#[derive(Clone)]
pub struct InputPort {
    queue: Arc<Queue>,
    metrics: Arc<NodeMetrics>,
}

impl InputPort {
    /// The next packet, waiting for one; `None` once every stream of the port ended.
    pub async fn recv(&self) -> Option<Packet> {
        let packet = self.queue.pop().await;
        self.count(packet)
    }

    /// [`InputPort::recv`] for blocking threads.
    pub fn blocking_recv(&self) -> Option<Packet> {
        let packet = self.queue.blocking_pop();
        self.count(packet)
    }

    /// The next packet if one is waiting.
    pub fn try_recv(&self) -> Option<Packet> {
        let packet = self.queue.try_pop();
        self.count(packet)
    }

    /// Counts a picture in `frames_in`; audio frames are counted where they are sent or written.
    fn count(&self, packet: Option<Packet>) -> Option<Packet> {
        if let Some(Packet::Frame(frame)) = &packet
            && frame.format != PixelFormat::Encoded(Codec::Aac)
        {
            self.metrics.frames_in.fetch_add(1, Ordering::Relaxed);
        }
        packet
    }
}

/// The sending end of an output port.
#[derive(Clone)]
pub struct OutputPort {
    hub: Arc<Hub>,
    metrics: Arc<NodeMetrics>,
}

impl OutputPort {
    /// Sends a frame to every connected input (waiting on `block` queues).
    pub async fn send(&self, frame: Frame) {
        self.record(&frame);
        self.hub.send(frame).await;
    }

    /// [`OutputPort::send`] for blocking threads.
    pub fn blocking_send(&self, frame: Frame) {
        self.record(&frame);
        self.hub.blocking_send(frame);
    }

    /// Sends one more view of a frame already counted on another port (a node giving
    /// one result per frame on several ports counts each frame once).
    pub fn blocking_send_also(&self, frame: Frame) {
        self.hub.blocking_send(frame);
    }

    /// Tells every connected input that `stream` ended (its publisher left),
    /// after the frames sent before. Never waits.
    pub fn end_stream(&self, stream: &StreamId) {
        self.hub.end_stream(stream);
    }

    /// Counts a picture in `frames_out` and its latency; an audio frame in `audio_frames`.
    fn record(&self, frame: &Frame) {
        if frame.format == PixelFormat::Encoded(Codec::Aac) {
            self.metrics.audio_frames.fetch_add(1, Ordering::Relaxed);
            return;
        }
        self.metrics.frames_out.fetch_add(1, Ordering::Relaxed);
        self.metrics.latency.observe(frame.age());
    }
}

/// Everything a node needs while it runs.
pub struct NodeContext {
    /// Node id from the graph file.
    pub id: String,
    /// Frame memory: nodes get pixel buffers here, never from `Vec::new`.
    pub alloc: FrameAllocator,
    /// Triggered when the node must stop (shutdown or reload).
    pub shutdown: Shutdown,
    /// The node's counters.
    pub metrics: Arc<NodeMetrics>,
    /// Streams served over HTTP (MJPEG, snapshots).
    pub streams: StreamRegistry,
    /// The process's zenoh session, for links to other processes.
    #[cfg(feature = "hosts")]
    pub transport: Transport,
    inputs: Vec<(String, Arc<Queue>)>,
    outputs: Vec<(String, Arc<Hub>)>,
}

impl NodeContext {
    /// A context over the given connected ports.
    pub fn new(
        id: &str,
        inputs: Vec<(String, Arc<Queue>)>,
        outputs: Vec<(String, Arc<Hub>)>,
        alloc: FrameAllocator,
        shutdown: Shutdown,
        metrics: Arc<NodeMetrics>,
        streams: StreamRegistry,
    ) -> NodeContext {
        NodeContext {
            id: id.to_string(),
            alloc,
            shutdown,
            metrics,
            streams,
            #[cfg(feature = "hosts")]
            transport: Transport::default(),
            inputs,
            outputs,
        }
    }

    /// The context with links to other processes going through `transport`.
    #[cfg(feature = "hosts")]
    pub fn with_transport(mut self, transport: Transport) -> NodeContext {
        self.transport = transport;
        self
    }

    /// The input port `name`, when the graph connects it.
    pub fn input(&self, name: &str) -> Option<InputPort> {
        self.inputs.iter().find(|(n, _)| n == name).map(|(_, queue)| InputPort {
            queue: queue.clone(),
            metrics: self.metrics.clone(),
        })
    }

    /// The names of the connected input ports.
    pub fn input_names(&self) -> impl Iterator<Item = &str> {
        self.inputs.iter().map(|(name, _)| name.as_str())
    }

    /// The first connected input port.
    pub fn first_input(&self) -> Option<InputPort> {
        self.inputs.first().map(|(_, queue)| InputPort {
            queue: queue.clone(),
            metrics: self.metrics.clone(),
        })
    }

    /// The output port `name`. Every declared output exists, connected or not.
    pub fn output(&self, name: &str) -> Option<OutputPort> {
        self.outputs.iter().find(|(n, _)| n == name).map(|(_, hub)| OutputPort {
            hub: hub.clone(),
            metrics: self.metrics.clone(),
        })
    }

    /// The names of the declared output ports, the default first.
    pub fn output_names(&self) -> impl Iterator<Item = &str> {
        self.outputs.iter().map(|(name, _)| name.as_str())
    }

    /// The first (default) output port.
    pub fn first_output(&self) -> Option<OutputPort> {
        self.outputs.first().map(|(_, hub)| OutputPort {
            hub: hub.clone(),
            metrics: self.metrics.clone(),
        })
    }
}
