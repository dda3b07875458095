//! `gst_sink`: sends raw video into any `gst-launch-1.0` description that
//! starts with `appsrc name=src`: to record, stream or show it with GStreamer.
//!
//! Frames of any raw format are converted to I420; the caps say the size of
//! the first frame (a frame of another size is skipped and counted). When the
//! stream ends the pipeline is given up to 5 s to finish (files are closed).

use std::time::Duration;

use gstreamer_app::AppSrc;
use ooblex_runtime::{
    Frame, InputPortSpec, Node, NodeContext, NodeError, NodeKind, OutputPortSpec, ParamIssue, Sink, VIDEO_IN, sink_node,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::gst::pipeline::{Publish, init, named, parse};

/// The name of the `appsrc` frames are pushed into.
pub const SRC_NAME: &str = "src";
/// How long the pipeline is given to finish at the end of the stream.
pub const FINISH_TIMEOUT: Duration = Duration::from_secs(5);

/// Params of `gst_sink`. Changing them restarts the node with a new pipeline.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GstSinkParams {
    /// A `gst-launch-1.0` description that starts with `appsrc name=src`, such as
    /// `appsrc name=src ! videoconvert ! x264enc ! mp4mux ! filesink location=out.mp4`.
    /// Secret (a description may hold credentials anywhere, such as an
    /// `rtmpsink` stream key): the control plane shows it only to holders of the token.
    #[schemars(extend("writeOnly" = true))]
    pub pipeline: String,
}

/// The `gst_sink` node kind.
pub struct GstSink;

impl NodeKind for GstSink {
    type Params = GstSinkParams;
    const NAME: &'static str = "gst_sink";
    const DESCRIPTION: &'static str =
        "sends raw video into a gst-launch-1.0 description starting with `appsrc name=src`";
    const INPUTS: &'static [InputPortSpec] = &[VIDEO_IN];
    const OUTPUTS: &'static [OutputPortSpec] = &[];

    fn check(params: &GstSinkParams) -> Vec<ParamIssue> {
        match build_pipeline(&params.pipeline) {
            Ok(_) => Vec::new(),
            Err(issue) => vec![issue],
        }
    }

    fn build(params: &GstSinkParams) -> Result<Box<dyn Node>, NodeError> {
        init()?;
        let (pipeline, src) = build_pipeline(&params.pipeline).map_err(|issue| NodeError::startup(issue.message))?;
        let publish = Publish::start(pipeline, src)
            .map_err(|err| NodeError::startup(format!("`gst_sink` cannot start its pipeline: {err}")))?;
        Ok(sink_node(PublishSink {
            kind: Self::NAME,
            publish,
        }))
    }
}

/// The pipeline of `description` and its `appsrc`.
fn build_pipeline(description: &str) -> Result<(gstreamer::Pipeline, AppSrc), ParamIssue> {
    let example = "appsrc name=src ! videoconvert ! autovideosink";
    if description.trim().is_empty() {
        return Err(ParamIssue::new("pipeline", "is empty").with_hint(format!("for example `{example}`")));
    }
    let pipeline = parse(description).map_err(|err| {
        ParamIssue::new("pipeline", format!("GStreamer cannot build it: {err}"))
            .with_hint("`gst-inspect-1.0` lists the installed elements")
    })?;
    match named::<AppSrc>(&pipeline, SRC_NAME) {
        Some(src) => Ok((pipeline, src)),
        None => Err(ParamIssue::new(
            "pipeline",
            format!("it has no `appsrc` named `{SRC_NAME}` to push frames into"),
        )
        .with_hint(format!(
            "start it with `appsrc name={SRC_NAME} !`, for example `{example}`"
        ))),
    }
}

/// A sink that pushes every frame into a [`Publish`] pipeline.
pub(crate) struct PublishSink {
    /// The kind, for messages.
    pub kind: &'static str,
    pub publish: Publish,
}

impl Sink for PublishSink {
    fn consume(&mut self, frame: Frame, ctx: &NodeContext) -> Result<(), NodeError> {
        self.publish.push(&frame, self.kind, &ctx.shutdown)
    }

    fn finish(&mut self, _ctx: &NodeContext) -> Result<(), NodeError> {
        self.publish
            .finish(FINISH_TIMEOUT)
            .map_err(|err| NodeError::failed(format!("`{}` could not finish: {err}", self.kind)))
    }
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use ooblex_runtime::PixelFormat;
    use ooblex_runtime::testing::{Harness, frame_from_fn};
    use serde_json::json;

    use crate::test_util::{kind, temp_path};

    #[test]
    fn writes_frames_of_any_raw_format_that_ffprobe_reads() {
        let path = temp_path("gst-sink.mkv");
        let description = format!(
            "appsrc name=src ! videoconvert ! x264enc tune=zerolatency ! matroskamux ! filesink location={}",
            path.display()
        );
        let frames = (0..10)
            .map(|seq| {
                let mut frame = frame_from_fn(PixelFormat::Rgb24, 64, 48, seq, |x, y, c| (x * 3 + y + c * 60) as u8);
                frame.pts = std::time::Duration::from_millis(40 * seq);
                frame
            })
            .collect();
        let out = Harness::new(&kind("gst_sink"), json!({ "pipeline": description }))
            .input("video", frames)
            .run();
        out.result.as_ref().expect("the sink ends cleanly");
        let probe = Command::new("ffprobe")
            .args(["-v", "error", "-count_frames", "-select_streams", "v:0"])
            .args([
                "-show_entries",
                "stream=codec_name,width,height,nb_read_frames",
                "-of",
                "csv=p=0",
            ])
            .arg(&path)
            .output();
        std::fs::remove_file(&path).ok();
        let Ok(probe) = probe else {
            eprintln!("ffprobe is not installed; skipping");
            return;
        };
        assert_eq!(String::from_utf8_lossy(&probe.stdout).trim(), "h264,64,48,10");
    }

    #[test]
    fn a_pipeline_without_the_appsrc_is_an_issue() {
        let issues = kind("gst_sink")
            .prepare(json!({ "pipeline": "videotestsrc ! fakesink" }))
            .err()
            .expect("rejected");
        assert_eq!(issues[0].field, ["pipeline"]);
        assert!(issues[0].message.contains("appsrc"), "{:?}", issues[0]);
    }
}
