//! `mjpeg_sink`: publishes JPEG pictures as named streams, which the control
//! plane serves as MJPEG (`/streams/<name>.mjpg`) and snapshots (`/streams/<name>.jpg`).

use std::collections::HashMap;

use ooblex_runtime::{
    Codec, Frame, InputPortSpec, MediaType, Node, NodeContext, NodeError, NodeKind, OutputPortSpec, ParamIssue,
    Picture, PixelFormat, Sink, StreamId, StreamPublisher, sink_node,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::codec::jpeg_encode::{DEFAULT_QUALITY, FrameEncoder};
use crate::sink::{check_stream_name, published_name};

/// Params of `mjpeg_sink`. Changing them restarts the node; viewers stay
/// connected to a stream whose name did not change.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct MjpegSinkParams {
    /// Stream name, served at `/streams/<name>.mjpg`; defaults to the node id.
    /// Frames of a named stream (an RTMP stream key) go to `<name>/<stream>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// JPEG quality for raw frames, 1 to 100; JPEG frames are published as they are.
    #[schemars(range(min = 1, max = 100))]
    pub quality: u8,
}

impl Default for MjpegSinkParams {
    fn default() -> Self {
        MjpegSinkParams {
            name: None,
            quality: DEFAULT_QUALITY,
        }
    }
}

/// The `mjpeg_sink` node kind.
pub struct MjpegSink;

impl NodeKind for MjpegSink {
    type Params = MjpegSinkParams;
    const NAME: &'static str = "mjpeg_sink";
    const DESCRIPTION: &'static str = "serves video to browsers as an MJPEG stream and JPEG snapshots";
    const INPUTS: &'static [InputPortSpec] = &[InputPortSpec::new(
        "video",
        &[MediaType::RawVideo, MediaType::Jpeg],
        true,
    )];
    const OUTPUTS: &'static [OutputPortSpec] = &[];

    fn check(params: &MjpegSinkParams) -> Vec<ParamIssue> {
        check_stream_name(params.name.as_deref()).into_iter().collect()
    }

    fn build(params: &MjpegSinkParams) -> Result<Box<dyn Node>, NodeError> {
        Ok(sink_node(MjpegSinkNode {
            name: params.name.clone(),
            encoder: FrameEncoder::new(Self::NAME, params.quality),
            publishers: HashMap::new(),
        }))
    }
}

struct MjpegSinkNode {
    /// The configured name; the node id when absent.
    name: Option<String>,
    encoder: FrameEncoder,
    /// One publisher per stream seen, looked up once.
    publishers: HashMap<StreamId, StreamPublisher>,
}

impl Sink for MjpegSinkNode {
    /// Announces the default stream at once, so viewers can connect before the first picture.
    fn start(&mut self, ctx: &NodeContext) -> Result<(), NodeError> {
        let name = self.name.as_deref().unwrap_or(&ctx.id);
        self.publishers.insert(StreamId::default(), ctx.streams.publisher(name));
        Ok(())
    }

    fn consume(&mut self, frame: Frame, ctx: &NodeContext) -> Result<(), NodeError> {
        let data = match frame.format {
            PixelFormat::Encoded(Codec::Jpeg) => frame.buffer.clone(),
            _ => self.encoder.encode(&frame, &ctx.alloc)?,
        };
        let publisher = self.publishers.entry(frame.stream.clone()).or_insert_with(|| {
            let base = self.name.as_deref().unwrap_or(&ctx.id);
            ctx.streams.publisher(&published_name(base, &frame.stream))
        });
        publisher.publish(Picture {
            data,
            seq: frame.seq,
            width: frame.width,
            height: frame.height,
        });
        Ok(())
    }

    /// Lets a named stream's publisher go: its stream ends, viewers keep its
    /// last picture until it is forgotten, and it goes on should the stream
    /// start again before. The default stream is served as long as the node runs.
    fn end_stream(&mut self, stream: &StreamId, _ctx: &NodeContext) -> Result<(), NodeError> {
        if !stream.is_default() {
            self.publishers.remove(stream);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use ooblex_runtime::testing::{Harness, frame_from_fn};
    use serde_json::json;

    use super::*;
    use crate::test_util::{kind, run_transform};

    #[test]
    fn publishes_raw_frames_as_jpeg_under_the_node_id() {
        let frames = (0..3)
            .map(|seq| frame_from_fn(PixelFormat::I420, 32, 16, seq, |x, _, _| x as u8))
            .collect();
        let harness = Harness::new(&kind("mjpeg_sink"), json!({})).input("video", frames);
        let streams = harness.streams.clone();
        harness.run().result.expect("the sink ends cleanly");
        let viewer = streams.subscribe("under_test").expect("the stream exists");
        let picture = viewer.borrow().clone().expect("a picture was published");
        assert_eq!((picture.seq, picture.width, picture.height), (2, 32, 16));
        let decoded = image::load_from_memory_with_format(picture.data.as_slice(), image::ImageFormat::Jpeg)
            .expect("the picture is a JPEG file");
        assert_eq!((decoded.width(), decoded.height()), (32, 16));
    }

    #[test]
    fn jpeg_frames_are_published_as_they_are_and_streams_get_their_own_name() {
        let raw = frame_from_fn(PixelFormat::Rgb24, 8, 8, 4, |_, _, _| 50);
        let mut jpeg = run_transform("jpeg_encode", json!({}), vec![raw]).remove(0);
        jpeg.stream = StreamId::new("cam2");
        let harness =
            Harness::new(&kind("mjpeg_sink"), json!({ "name": "preview" })).input("video", vec![jpeg.clone()]);
        let streams = harness.streams.clone();
        harness.run().result.expect("the sink ends cleanly");
        assert_eq!(
            streams.names(),
            ["preview", "preview/cam2"],
            "the default stream is announced at start"
        );
        let picture = streams
            .subscribe("preview/cam2")
            .and_then(|v| v.borrow().clone())
            .expect("a picture");
        assert!(picture.data.shares_memory_with(&jpeg.buffer), "no re-encoding, no copy");
    }

    #[test]
    fn a_named_stream_that_ended_is_forgotten_and_the_default_one_kept() {
        let ctx = ooblex_runtime::testing::bare_context("preview");
        let mut sink = MjpegSinkNode {
            name: None,
            encoder: FrameEncoder::new(MjpegSink::NAME, DEFAULT_QUALITY),
            publishers: HashMap::new(),
        };
        sink.start(&ctx).expect("the sink starts");
        for key in ["", "cam2"] {
            let mut frame = frame_from_fn(PixelFormat::Gray8, 8, 8, 0, |_, _, _| 9);
            frame.stream = StreamId::new(key);
            sink.consume(frame, &ctx).expect("a frame is taken");
            sink.end_stream(&StreamId::new(key), &ctx).expect("the stream ends");
        }
        let ended = std::time::Instant::now();
        ctx.streams.forget_ended(ended + ooblex_runtime::KEEP_ENDED_STREAM / 2);
        assert_eq!(
            ctx.streams.names(),
            ["preview", "preview/cam2"],
            "kept a while for viewers"
        );
        ctx.streams.forget_ended(ended + ooblex_runtime::KEEP_ENDED_STREAM);
        assert_eq!(ctx.streams.names(), ["preview"], "the default stream stays");
        assert_eq!(sink.publishers.len(), 1);
    }

    #[test]
    fn names_are_checked() {
        assert!(kind("mjpeg_sink").prepare(json!({ "name": "a b" })).is_err());
        assert!(kind("mjpeg_sink").prepare(json!({ "name": "cams/front" })).is_ok());
        assert!(kind("mjpeg_sink").prepare(json!({ "quality": 0 })).is_err());
    }
}
