//! `zenoh_sink`: publishes frames on a zenoh key, in Ooblex's wire format
//! (docs/WIRE.md), for other hosts of the graph or any zenoh client.

use ooblex_runtime::{
    Codec, Frame, FramePublisher, InputPortSpec, MediaType, Memory, Node, NodeContext, NodeError, NodeKind,
    OutputPortSpec, ParamIssue, PixelFormat, Sink, StreamId, check_key_expr, sink_node,
};
use std::sync::atomic::Ordering;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::codec::jpeg_encode::FrameEncoder;

/// JPEG quality when `encode: jpeg` does not say.
pub const DEFAULT_QUALITY: u8 = 85;

/// What a congested link does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Congestion {
    /// Drop frames a slow subscriber cannot take (live video).
    #[default]
    Drop,
    /// Wait for slow subscribers (files, offline work).
    Block,
}

/// How raw pictures are published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Encode {
    /// Pixels as they are.
    #[default]
    Raw,
    /// One JPEG picture per frame.
    Jpeg,
}

/// Params of `zenoh_sink`. Changing them restarts the node.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ZenohSinkParams {
    /// The key expression to publish on (`ooblex/demo/blur/video`, `lab/camera1`).
    pub key: String,
    /// What a slow subscriber does: `drop` loses frames, `block` holds this node back.
    #[serde(default)]
    pub congestion: Congestion,
    /// `jpeg` compresses raw pictures before they leave (for links between
    /// machines); other frames are published as they are.
    #[serde(default)]
    pub encode: Encode,
    /// JPEG quality, 1 to 100, with `encode: jpeg`.
    #[serde(default = "default_quality")]
    #[schemars(range(min = 1, max = 100))]
    pub quality: u8,
}

fn default_quality() -> u8 {
    DEFAULT_QUALITY
}

/// The `zenoh_sink` node kind.
pub struct ZenohSink;

impl NodeKind for ZenohSink {
    type Params = ZenohSinkParams;
    const NAME: &'static str = "zenoh_sink";
    const DESCRIPTION: &'static str = "publishes frames on a zenoh key in Ooblex's wire format (docs/WIRE.md)";
    const INPUTS: &'static [InputPortSpec] = &[InputPortSpec::new(
        "frames",
        &[
            MediaType::RawVideo,
            MediaType::H264,
            MediaType::Jpeg,
            MediaType::Detections,
            MediaType::Tensor,
        ],
        true,
    )];
    const OUTPUTS: &'static [OutputPortSpec] = &[];

    fn check(params: &ZenohSinkParams) -> Vec<ParamIssue> {
        check_key("key", &params.key)
    }

    fn build(params: &ZenohSinkParams) -> Result<Box<dyn Node>, NodeError> {
        Ok(sink_node(ZenohSinkNode {
            params: params.clone(),
            publisher: None,
            jpeg: (params.encode == Encode::Jpeg).then(|| FrameEncoder::new(Self::NAME, params.quality)),
        }))
    }
}

/// A `key` issue when zenoh would refuse the key expression.
pub(crate) fn check_key(field: &str, key: &str) -> Vec<ParamIssue> {
    match check_key_expr(key) {
        Ok(()) => Vec::new(),
        Err(reason) => vec![ParamIssue {
            field: vec![field.to_string()],
            message: format!("`{key}` is not a zenoh key expression: {reason}"),
            hint: Some("use `/`-separated chunks of letters, digits, `_` and `-`, like `lab/camera1`".into()),
            at_key: false,
        }],
    }
}

struct ZenohSinkNode {
    params: ZenohSinkParams,
    publisher: Option<FramePublisher>,
    jpeg: Option<FrameEncoder>,
}

impl ZenohSinkNode {
    fn publisher(&self) -> Result<&FramePublisher, NodeError> {
        self.publisher
            .as_ref()
            .ok_or_else(|| NodeError::failed("zenoh_sink consumed a frame before it started"))
    }
}

impl Sink for ZenohSinkNode {
    fn start(&mut self, ctx: &NodeContext) -> Result<(), NodeError> {
        let block = self.params.congestion == Congestion::Block;
        let publisher = tokio::runtime::Handle::current()
            .block_on(ctx.transport.publisher(&self.params.key, block))
            .map_err(NodeError::startup)?;
        self.publisher = Some(publisher);
        Ok(())
    }

    fn consume(&mut self, frame: Frame, ctx: &NodeContext) -> Result<(), NodeError> {
        let frame = match &mut self.jpeg {
            Some(encoder) if PixelFormat::RAW.contains(&frame.format) => {
                let data = encoder.encode(&frame, &ctx.alloc)?;
                frame.with_encoded(data, Codec::Jpeg, true)
            }
            _ => frame,
        };
        let counter = match self.publisher()?.send(&frame).map_err(NodeError::failed)? {
            Memory::Shared => &ctx.metrics.shm_frames,
            Memory::Heap => &ctx.metrics.heap_frames,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn end_stream(&mut self, stream: &StreamId, _ctx: &NodeContext) -> Result<(), NodeError> {
        self.publisher()?.end_stream(stream).map_err(NodeError::failed)
    }
}
