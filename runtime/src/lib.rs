//! The Ooblex engine: graph files, validation, the executor, frames and the
//! HTTP control plane. It knows nothing about particular node kinds; those
//! register themselves in a [`Registry`].
//!
//! Main types: [`Frame`] and [`FrameAllocator`] (the data), [`Packet`] (a
//! frame or a stream's end, as edges carry them), [`NodeKind`] and
//! the shapes [`Source`], [`Transform`], [`Sink`] (how a kind is written),
//! [`Registry`] (which kinds exist).

mod buffer;
mod control;
mod events;
mod exec;
mod frame;
mod graph;
mod hls;
mod metrics;
mod names;
mod node;
mod packet;
mod pool;
mod reload;
mod streams;
pub mod testing;
#[cfg(feature = "hosts")]
mod transport;

pub use buffer::{Buffer, BufferMut, DEFAULT_POOL_FLOOR, ForeignBytes, ForeignBytesMut, ForeignPool, FrameAllocator};
pub use control::access::{Access, AccessError, AllowedHost, AllowedOrigin};
pub use control::error::ApiError;
pub use control::router::router;
pub use control::serve::{ServeError, bind};
pub use control::state::ControlState;
pub use events::{Event, EventBus};
pub use exec::executor::{RunningGraph, RuntimeEnv};
pub use exec::hub::Hub;
pub use exec::queue::{PushOutcome, Queue, QueuePolicy};
pub use exec::supervisor::{Exit, RestartRule};
pub use frame::{Codec, Detection, Frame, Metadata, PixelFormat, PlaneLayout, Planes, StreamId, TensorData};
pub use graph::diff::GraphDiff;
pub use graph::document::{Document, Span};
pub use graph::draw::{DrawFormat, draw};
pub use graph::error::{Diagnostic, DiagnosticReport, GraphError};
pub use graph::load::{GraphErrors, LoadFileError, LoadedGraph, load_file, load_str};
pub use graph::negotiate::Conversion;
pub use graph::place::{DEFAULT_LINK_QUALITY, Link, PlaceError, on_loopback, place};
pub use graph::schema::{SCHEMA_ID, graph_schema, graph_schema_json};
pub use graph::schema_check::{SchemaChecked, SchemaDrift, check_graph_schema};
pub use graph::spec::{
    GRAPH_VERSION, GraphSpec, HostSpec, InputRef, LinkAuth, LinkCodec, LinkSpec, LinksSpec, LongInput, Name, NodeSpec,
    RestartPolicy,
};
pub use graph::validate::{
    DEFAULT_FILE_QUEUE, DEFAULT_LIVE_AUDIO_QUEUE, DEFAULT_LIVE_H264_QUEUE, DEFAULT_LIVE_QUEUE, ResolvedInput,
    ResolvedNode, ValidatedGraph, default_queue, validate,
};
pub use hls::{HlsPublisher, HlsStreams};
pub use metrics::{Histogram, HistogramSnapshot, MetricsRegistry, NodeMetrics, NodeSnapshot, NodeState};
pub use names::KEEP_ENDED_STREAM;
pub use node::context::{InputPort, NodeContext, OutputPort};
pub use node::error::NodeError;
pub use node::formats::{FormatSet, Gives};
pub use node::kind::{KindInfo, Node, NodeFactory, NodeKind};
pub use node::params::{ParamIssue, ParamType, did_you_mean};
pub use node::port::{InputPortSpec, MediaType, OutputPortSpec, VIDEO_IN, VIDEO_OUT};
pub use node::registry::{Converter, LinkEnd, LinkKinds, Registry};
pub use node::shapes::{
    Sink, Source, Transform, on_blocking_thread, sink_node, sink_node_with_inputs, skip_frame, source_node,
    transform_node,
};
pub use node::shutdown::Shutdown;
pub use packet::Packet;
pub use pool::PoolStats;
pub use reload::{DEBOUNCE, GraphController, ReloadError, Reloaded, Reloader, WatchGuard, watch_file};
pub use streams::{Picture, StreamPublisher, StreamRegistry};
#[cfg(feature = "hosts")]
pub use transport::config::{LinkCredentials, TransportConfig};
#[cfg(feature = "hosts")]
pub use transport::deploy::{
    DEPLOY_TIMEOUT, DeployAnswer, DeployService, Deployment, deploy, deploy_key, serve_deployments,
};
#[cfg(feature = "hosts")]
pub use transport::link::{FramePublisher, FrameSubscriber, Memory};
#[cfg(feature = "hosts")]
pub use transport::presence::{
    HostStatus, NodeStatus, PeerState, Presence, STATUS_TIMEOUT, announce, host_key, reach_hosts, status_key, unix_ms,
};
#[cfg(feature = "hosts")]
pub use transport::session::{Transport, TransportError, check_key_expr};
#[cfg(feature = "hosts")]
pub use transport::shm::{FRAMES_IN_FLIGHT, ShmPool};
#[cfg(feature = "hosts")]
pub use transport::wire::{MAX_SIDE, WIRE_VERSION, WireError};
