//! The Ooblex engine: graph files, validation, the executor, frames and the
//! HTTP control plane. It knows nothing about particular node kinds; those
//! register themselves in a [`Registry`].
//!
//! Main types: [`Frame`] and [`FrameAllocator`] (the data), [`NodeKind`] and
//! the shapes [`Source`], [`Transform`], [`Sink`] (how a kind is written),
//! [`Registry`] (which kinds exist).

mod buffer;
mod exec;
mod frame;
mod metrics;
mod node;
mod streams;
pub mod testing;

pub use buffer::{Buffer, BufferMut, FrameAllocator};
pub use exec::hub::Hub;
pub use exec::queue::{PushOutcome, Queue, QueuePolicy};
pub use frame::{Detection, Frame, Metadata, PixelFormat, PlaneLayout, StreamId};
pub use metrics::{Histogram, MetricsRegistry, NodeMetrics, NodeSnapshot, NodeState};
pub use node::context::{InputPort, NodeContext, OutputPort};
pub use node::error::NodeError;
pub use node::kind::{KindInfo, Node, NodeFactory, NodeKind};
pub use node::params::{ParamIssue, did_you_mean};
pub use node::port::{InputPortSpec, MediaType, OutputPortSpec, VIDEO_IN, VIDEO_OUT};
pub use node::registry::Registry;
pub use node::shapes::{Sink, Source, Transform, sink_node, source_node, transform_node};
pub use node::shutdown::Shutdown;
pub use streams::{Picture, StreamPublisher, StreamRegistry};
