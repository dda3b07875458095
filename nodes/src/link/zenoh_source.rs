//! `zenoh_source`: gives the frames published on a zenoh key expression in
//! Ooblex's wire format (docs/WIRE.md), by another host of the graph or by
//! any zenoh client (a Python process with eclipse-zenoh). Each frame leaves
//! on the output of its media type, or decoded on `video` when the node
//! decodes JPEG or H.264 (the receiving end of a compressed link). Messages
//! that are not frames are counted (`ooblex_node_messages_rejected_total`)
//! and dropped; the first of each reason is logged.

use std::collections::{HashMap, HashSet};
use std::mem::Discriminant;
use std::sync::Arc;

use futures::future::BoxFuture;
use ooblex_runtime::{
    Codec, FormatSet, Frame, InputPortSpec, MediaType, Node, NodeContext, NodeError, NodeKind, OutputPort,
    OutputPortSpec, Packet, ParamIssue, PixelFormat, Queue, QueuePolicy, StreamId, Transform, VIDEO_OUT, WireError,
    on_blocking_thread,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::codec::h264_decode::H264DecodeNode;
use crate::link::zenoh_sink::check_key;
use crate::media::aac::AUDIO_OUT;
use crate::media::jpeg::RgbDecoder;
use crate::media::pixels::convert;
use crate::media::raw::{ALL_RAW, RawView, new_picture};
use crate::params::RawFormat;

/// H.264 streams decoded at once at most; frames of more are rejected, so
/// that a peer inventing stream ids cannot make decoders without end.
const MOST_H264_STREAMS: usize = 64;

/// Frames held for the graph when `depth` does not say.
pub const DEFAULT_DEPTH: usize = 4;

/// What a full receiving queue does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReceivePolicy {
    /// Keep the newest frames, drop the oldest (live video).
    #[default]
    Latest,
    /// Hold publishers that use `congestion: block` back.
    Block,
}

/// Params of `zenoh_source`. Changing them restarts the node.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ZenohSourceParams {
    /// The key expression to subscribe to (`ooblex/demo/blur/video`, `lab/*/frames`).
    pub key: String,
    /// The raw pixel formats it gives on `video` (default all); raw frames in
    /// others are counted as rejected and dropped.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub formats: Vec<RawFormat>,
    /// Decode JPEG pictures into raw video on `video` (in rgb24 when
    /// `formats` has it, else its first), instead of giving them on `jpeg`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub decode_jpeg: bool,
    /// Decode H.264 into raw video on `video` (in i420 when `formats` has it,
    /// else its first), instead of giving it on `h264`. A stream is decoded
    /// from its first keyframe; frames before it are counted as drops.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub decode_h264: bool,
    /// Frames held while the graph is busy.
    #[serde(default = "default_depth")]
    #[schemars(range(min = 1, max = 1000))]
    pub depth: usize,
    /// What a full queue does.
    #[serde(default)]
    pub policy: ReceivePolicy,
}

fn default_depth() -> usize {
    DEFAULT_DEPTH
}

impl ZenohSourceParams {
    fn formats(&self) -> FormatSet {
        if self.formats.is_empty() {
            return ALL_RAW;
        }
        let formats: Vec<PixelFormat> = self.formats.iter().map(|&f| f.into()).collect();
        FormatSet::of(&formats)
    }
}

/// The `zenoh_source` node kind.
pub struct ZenohSource;

const OUTPUTS: &[OutputPortSpec] = &[
    VIDEO_OUT,
    OutputPortSpec::encoded("h264", MediaType::H264),
    OutputPortSpec::encoded("jpeg", MediaType::Jpeg),
    OutputPortSpec::encoded("detections", MediaType::Detections),
    OutputPortSpec::encoded("tensor", MediaType::Tensor),
    AUDIO_OUT,
];

impl NodeKind for ZenohSource {
    type Params = ZenohSourceParams;
    const NAME: &'static str = "zenoh_source";
    const DESCRIPTION: &'static str =
        "gives the frames published on a zenoh key in Ooblex's wire format, on the output of their media type";
    const INPUTS: &'static [InputPortSpec] = &[];
    const OUTPUTS: &'static [OutputPortSpec] = OUTPUTS;
    const LIVE: bool = true;

    fn check(params: &ZenohSourceParams) -> Vec<ParamIssue> {
        check_key("key", &params.key)
    }

    fn build(params: &ZenohSourceParams) -> Result<Box<dyn Node>, NodeError> {
        Ok(Box::new(ZenohSourceNode { params: params.clone() }))
    }

    fn output_formats(params: &ZenohSourceParams, port: &OutputPortSpec, _input: FormatSet) -> FormatSet {
        match port.media {
            MediaType::RawVideo => params.formats(),
            _ => FormatSet::EMPTY,
        }
    }
}

struct ZenohSourceNode {
    params: ZenohSourceParams,
}

/// The outputs, by media type.
struct Outputs {
    video: OutputPort,
    h264: OutputPort,
    jpeg: OutputPort,
    detections: OutputPort,
    tensor: OutputPort,
    audio: OutputPort,
}

impl Outputs {
    fn of(ctx: &NodeContext) -> Result<Outputs, NodeError> {
        let port = |name: &str| {
            ctx.output(name)
                .ok_or_else(|| NodeError::failed(format!("zenoh_source has a `{name}` output")))
        };
        Ok(Outputs {
            video: port("video")?,
            h264: port("h264")?,
            jpeg: port("jpeg")?,
            detections: port("detections")?,
            tensor: port("tensor")?,
            audio: port(AUDIO_OUT.name)?,
        })
    }

    fn all(&self) -> [&OutputPort; 6] {
        [
            &self.video,
            &self.h264,
            &self.jpeg,
            &self.detections,
            &self.tensor,
            &self.audio,
        ]
    }
}

impl Node for ZenohSourceNode {
    fn run(self: Box<Self>, ctx: NodeContext) -> BoxFuture<'static, Result<(), NodeError>> {
        let params = self.params;
        on_blocking_thread(ctx, move |ctx| {
            let runtime = tokio::runtime::Handle::current();
            let policy = match params.policy {
                ReceivePolicy::Latest => QueuePolicy::Latest,
                ReceivePolicy::Block => QueuePolicy::Block,
            };
            let mut subscriber = runtime
                .block_on(
                    ctx.transport
                        .subscriber(&params.key, params.depth, policy, ctx.metrics.clone()),
                )
                .map_err(NodeError::startup)?;
            // What the link drops shows as this node's drops.
            ctx.metrics.set_inputs(vec![("link".to_string(), subscriber.queue())]);
            let outputs = Outputs::of(ctx)?;
            let mut receiver = Receiver {
                formats: params.formats(),
                jpeg: params.decode_jpeg.then(RgbDecoder::new),
                h264: params.decode_h264.then(|| H264Receiver::new(subscriber.queue())),
                logged: HashSet::new(),
                key: params.key.clone(),
            };
            loop {
                let received = runtime.block_on(async {
                    tokio::select! {
                        () = ctx.shutdown.wait() => None,
                        received = subscriber.recv() => Some(received),
                    }
                });
                match received {
                    // Stopped, or the queue closed as the process stops.
                    None | Some(None) => return Ok(()),
                    // Already counted as it arrived.
                    Some(Some(Err(err))) => {
                        receiver.log(ctx, &err.to_string(), Reason::Wire(std::mem::discriminant(&err)))
                    }
                    Some(Some(Ok(Packet::StreamEnd(stream)))) => {
                        receiver.end_stream(&stream, &outputs, ctx);
                        for out in outputs.all() {
                            out.end_stream(&stream);
                        }
                    }
                    Some(Some(Ok(Packet::Frame(frame)))) => receiver.route(frame, &outputs, ctx)?,
                }
            }
        })
    }
}

/// Why a message was dropped, to log each reason once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Reason {
    /// Not an Ooblex frame, for this reason.
    Wire(Discriminant<WireError>),
    /// A raw format this node does not give.
    Format,
    /// A JPEG picture that does not decode.
    Jpeg,
    /// An H.264 frame that does not decode.
    H264,
    /// An H.264 stream past the most decoded at once.
    H264Streams,
}

/// The H.264 decoders of a node that decodes, and the streams whose first
/// keyframe came: a subscriber that joins a stream midway cannot decode the
/// frames before the next keyframe, so they are dropped, and counted as the
/// drops of the queue they came from.
struct H264Receiver {
    decoders: H264DecodeNode,
    joined: HashSet<StreamId>,
    /// Frames skipped before each stream's first keyframe, to say so once.
    skipped: HashMap<StreamId, u64>,
    queue: Arc<Queue>,
}

impl H264Receiver {
    fn new(queue: Arc<Queue>) -> H264Receiver {
        H264Receiver {
            decoders: H264DecodeNode::default(),
            joined: HashSet::new(),
            skipped: HashMap::new(),
            queue,
        }
    }
}

/// What decides where a received frame goes.
struct Receiver {
    formats: FormatSet,
    /// With `decode_jpeg`.
    jpeg: Option<RgbDecoder>,
    /// With `decode_h264`.
    h264: Option<H264Receiver>,
    /// The reasons already logged: each is logged once, then only counted.
    logged: HashSet<Reason>,
    key: String,
}

impl Receiver {
    fn route(&mut self, frame: Frame, outputs: &Outputs, ctx: &NodeContext) -> Result<(), NodeError> {
        match frame.format {
            format if PixelFormat::RAW.contains(&format) => {
                if self.formats.contains(format) {
                    outputs.video.blocking_send(frame);
                } else {
                    let reason = format!("a {format} frame, but this node gives {} only", self.formats);
                    self.reject(ctx, &reason, Reason::Format);
                }
            }
            PixelFormat::Encoded(Codec::Jpeg) if self.jpeg.is_some() => {
                let decoder = self.jpeg.as_mut().expect("checked just above");
                match decode_jpeg(decoder, &frame, self.formats, ctx) {
                    Ok(picture) => outputs.video.blocking_send(picture),
                    Err(err) => self.reject(ctx, &err.to_string(), Reason::Jpeg),
                }
            }
            PixelFormat::Encoded(Codec::Jpeg) => outputs.jpeg.blocking_send(frame),
            PixelFormat::Encoded(Codec::H264) if self.h264.is_some() => self.decode_h264(frame, outputs, ctx),
            PixelFormat::Encoded(Codec::H264) => outputs.h264.blocking_send(frame),
            PixelFormat::Encoded(Codec::Aac) => outputs.audio.blocking_send(frame),
            _ if frame.meta.tensors.is_some() => outputs.tensor.blocking_send(frame),
            _ => outputs.detections.blocking_send(frame),
        }
        Ok(())
    }

    /// Decodes an H.264 frame from its stream's first keyframe on, and sends
    /// the picture on `video`.
    fn decode_h264(&mut self, frame: Frame, outputs: &Outputs, ctx: &NodeContext) {
        let Some(h264) = &mut self.h264 else { return };
        let known = h264.joined.contains(&frame.stream);
        if !known && h264.joined.len() >= MOST_H264_STREAMS {
            let reason = format!("a frame of a new stream while {MOST_H264_STREAMS} H.264 streams are decoded");
            return self.reject(ctx, &reason, Reason::H264Streams);
        }
        if !frame.keyframe && !known {
            h264.queue.count_dropped(1);
            if h264.skipped.len() < MOST_H264_STREAMS || h264.skipped.contains_key(&frame.stream) {
                *h264.skipped.entry(frame.stream.clone()).or_default() += 1;
            }
            return;
        }
        if h264.joined.insert(frame.stream.clone())
            && let Some(skipped) = h264.skipped.remove(&frame.stream)
        {
            tracing::info!(
                node = %ctx.id,
                stream = %frame.stream,
                "joined an H.264 stream on `{}` at a keyframe, after skipping {skipped} frames that need earlier ones",
                self.key
            );
        }
        match h264.decoders.decode(frame, ctx) {
            Ok(pictures) => {
                for picture in pictures {
                    self.send_picture(picture, outputs, ctx);
                }
            }
            Err(err) => self.reject(ctx, &err.to_string(), Reason::H264),
        }
    }

    /// Sends what the decoder of an ended stream held back, and forgets the stream.
    fn end_stream(&mut self, stream: &StreamId, outputs: &Outputs, ctx: &NodeContext) {
        let Some(h264) = &mut self.h264 else { return };
        h264.joined.remove(stream);
        h264.skipped.remove(stream);
        match h264.decoders.end_stream(stream, ctx) {
            Ok(pictures) => {
                for picture in pictures {
                    self.send_picture(picture, outputs, ctx);
                }
            }
            Err(err) => self.reject(ctx, &err.to_string(), Reason::H264),
        }
    }

    /// Sends a decoded picture on `video`, in a format this node gives.
    fn send_picture(&mut self, picture: Frame, outputs: &Outputs, ctx: &NodeContext) {
        match in_one_of(picture, self.formats, ctx) {
            Ok(picture) => outputs.video.blocking_send(picture),
            Err(err) => self.reject(ctx, &err.to_string(), Reason::Format),
        }
    }

    /// Counts a message that is not a frame this node gives, and logs the
    /// first of each reason.
    fn reject(&mut self, ctx: &NodeContext, reason: &str, kind: Reason) {
        use std::sync::atomic::Ordering;
        ctx.metrics.messages_rejected.fetch_add(1, Ordering::Relaxed);
        self.log(ctx, reason, kind);
    }

    /// Logs the first rejected message of each reason.
    fn log(&mut self, ctx: &NodeContext, reason: &str, kind: Reason) {
        use std::sync::atomic::Ordering;
        let count = ctx.metrics.messages_rejected.load(Ordering::Relaxed);
        if self.logged.insert(kind) {
            tracing::warn!(
                node = %ctx.id,
                "dropped a message on `{}`: {reason} ({count} rejected so far; the format is in docs/WIRE.md)",
                self.key
            );
        }
    }
}

/// The raw picture of a JPEG frame, in rgb24 when `formats` has it, else in its first.
fn decode_jpeg(
    decoder: &mut RgbDecoder,
    frame: &Frame,
    formats: FormatSet,
    ctx: &NodeContext,
) -> Result<Frame, NodeError> {
    let (rgb, width, height) = decoder
        .decode(frame.buffer.as_slice(), &ctx.alloc)
        .map_err(|err| NodeError::frame(format!("a JPEG picture does not decode: {err}")))?;
    in_one_of(frame.with_picture(rgb, PixelFormat::Rgb24, width, height), formats, ctx)
}

/// `picture` as it is when `formats` has its format, else converted to the
/// first of `formats`.
fn in_one_of(picture: Frame, formats: FormatSet, ctx: &NodeContext) -> Result<Frame, NodeError> {
    let Some(target) = formats.iter().next().filter(|_| !formats.contains(picture.format)) else {
        return Ok(picture);
    };
    let view = RawView::of(&picture, ZenohSource::NAME, ALL_RAW)?;
    let (width, height) = (picture.width, picture.height);
    new_picture(ctx, &picture, target, width, height, |out| {
        convert(&view, out);
        Ok(())
    })
}
