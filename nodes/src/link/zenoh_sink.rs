//! `zenoh_sink`: publishes frames on a zenoh key, in Ooblex's wire format
//! (docs/WIRE.md), for other hosts of the graph or any zenoh client.

use ooblex_runtime::{
    Codec, Frame, FramePublisher, InputPortSpec, MediaType, Memory, Node, NodeContext, NodeError, NodeKind,
    OutputPortSpec, ParamIssue, PixelFormat, Sink, StreamId, Transform, check_key_expr, sink_node,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::codec::h264_encode::{H264EncodeNode, H264EncodeParams, H264Profile};
use crate::codec::jpeg_encode::FrameEncoder;

/// JPEG quality when `encode: jpeg` does not say.
pub const DEFAULT_QUALITY: u8 = 85;

/// H.264 bitrate in kilobits per second when `encode: h264` does not say.
pub const DEFAULT_BITRATE: u32 = 8000;

/// Frames between H.264 keyframes when `encode: h264` does not say. The
/// first subscriber gets a keyframe at once; one that joins while others
/// already receive waits at most this long for a picture it can decode.
pub const DEFAULT_KEYFRAME_INTERVAL: u32 = 30;

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
    /// H.264, one encoder per stream (OpenH264, Constrained Baseline).
    H264,
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
    /// `jpeg` or `h264` compresses raw pictures before they leave (for links
    /// between machines); other frames are published as they are. H.264
    /// needs every frame to decode the next, so publish it with `congestion:
    /// block`: a congested link then holds this node back, and its input
    /// queue drops raw pictures before they are encoded.
    #[serde(default)]
    pub encode: Encode,
    /// JPEG quality, 1 to 100, with `encode: jpeg`.
    #[serde(default = "default_quality")]
    #[schemars(range(min = 1, max = 100))]
    pub quality: u8,
    /// H.264 bitrate in kilobits per second, with `encode: h264`.
    #[serde(default = "default_bitrate")]
    #[schemars(range(min = 10, max = 100000))]
    pub bitrate: u32,
    /// Frames between H.264 keyframes, with `encode: h264`.
    #[serde(default = "default_keyframe_interval")]
    #[schemars(range(min = 1, max = 1000))]
    pub keyframe_interval: u32,
}

fn default_quality() -> u8 {
    DEFAULT_QUALITY
}

fn default_bitrate() -> u32 {
    DEFAULT_BITRATE
}

fn default_keyframe_interval() -> u32 {
    DEFAULT_KEYFRAME_INTERVAL
}

impl ZenohSinkParams {
    /// The encoder's settings with `encode: h264`.
    fn h264(&self) -> H264EncodeParams {
        H264EncodeParams {
            bitrate: self.bitrate,
            keyframe_interval: self.keyframe_interval,
            profile: H264Profile::Baseline,
            ..H264EncodeParams::default()
        }
    }
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
            MediaType::Aac,
        ],
        true,
    )];
    const OUTPUTS: &'static [OutputPortSpec] = &[];

    fn check(params: &ZenohSinkParams) -> Vec<ParamIssue> {
        let mut issues = check_key("key", &params.key);
        if !(1..=100).contains(&params.quality) {
            issues.push(ParamIssue::new(
                "quality",
                format!("{} is outside 1..=100", params.quality),
            ));
        }
        if params.encode == Encode::H264 {
            issues.extend(crate::codec::h264_encode::H264Encode::check(&params.h264()));
        }
        issues
    }

    fn build(params: &ZenohSinkParams) -> Result<Box<dyn Node>, NodeError> {
        let encoder = match params.encode {
            Encode::Raw => None,
            Encode::Jpeg => Some(PictureEncoder::Jpeg(FrameEncoder::new(Self::NAME, params.quality))),
            Encode::H264 => Some(PictureEncoder::H264(Box::new(H264EncodeNode::new(&params.h264())))),
        };
        Ok(sink_node(ZenohSinkNode {
            params: params.clone(),
            publisher: None,
            encoder,
            joined: Arc::new(AtomicBool::new(false)),
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
    /// What compresses raw pictures, with `encode: jpeg | h264`.
    encoder: Option<PictureEncoder>,
    /// Set when subscribers appear where there were none: an H.264 encoder
    /// then sends a keyframe at once instead of making them wait for one.
    joined: Arc<AtomicBool>,
}

/// Compresses raw pictures before they are published.
enum PictureEncoder {
    Jpeg(FrameEncoder),
    H264(Box<H264EncodeNode>),
}

impl PictureEncoder {
    /// The encoded frame of a raw `frame`; `None` while the encoder holds it.
    fn encode(&mut self, frame: Frame, ctx: &NodeContext) -> Result<Option<Frame>, NodeError> {
        match self {
            PictureEncoder::Jpeg(encoder) => {
                let data = encoder.encode(&frame, &ctx.alloc)?;
                Ok(Some(frame.with_encoded(data, Codec::Jpeg, true)))
            }
            PictureEncoder::H264(encoder) => encoder.process(frame, ctx),
        }
    }

    /// Makes the next picture of every stream decodable on its own.
    fn force_keyframes(&mut self) {
        if let PictureEncoder::H264(encoder) = self {
            encoder.force_keyframes();
        }
    }

    /// Lets an ended stream's encoder go.
    fn end_stream(&mut self, stream: &StreamId, ctx: &NodeContext) -> Result<(), NodeError> {
        if let PictureEncoder::H264(encoder) = self {
            encoder.end_stream(stream, ctx)?;
        }
        Ok(())
    }
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
        if matches!(self.encoder, Some(PictureEncoder::H264(_))) {
            let joined = self.joined.clone();
            publisher
                .on_subscribers(move || joined.store(true, Ordering::Relaxed))
                .map_err(NodeError::startup)?;
        }
        self.publisher = Some(publisher);
        Ok(())
    }

    fn consume(&mut self, frame: Frame, ctx: &NodeContext) -> Result<(), NodeError> {
        if self.joined.swap(false, Ordering::Relaxed)
            && let Some(encoder) = &mut self.encoder
        {
            encoder.force_keyframes();
        }
        let frame = match &mut self.encoder {
            Some(encoder) if PixelFormat::RAW.contains(&frame.format) => match encoder.encode(frame, ctx)? {
                Some(encoded) => encoded,
                None => return Ok(()),
            },
            _ => frame,
        };
        let counter = match self.publisher()?.send(&frame).map_err(NodeError::failed)? {
            Memory::Shared => &ctx.metrics.shm_frames,
            Memory::Heap => &ctx.metrics.heap_frames,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn end_stream(&mut self, stream: &StreamId, ctx: &NodeContext) -> Result<(), NodeError> {
        if let Some(encoder) = &mut self.encoder {
            encoder.end_stream(stream, ctx)?;
        }
        self.publisher()?.end_stream(stream).map_err(NodeError::failed)
    }
}
