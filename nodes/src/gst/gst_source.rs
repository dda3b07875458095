//! `gst_source`: raw video from any `gst-launch-1.0` description.
//!
//! The description either ends in `appsink name=sink`, used as it is (its caps
//! are forced to I420, so put a `videoconvert` before it), or has no element
//! named `sink`, and then `! videoconvert ! video/x-raw,format=I420 ! appsink
//! name=sink` is added to it. The added `appsink` keeps to the pipeline clock
//! (a file plays at its own rate); write your own `appsink name=sink
//! sync=false` to read as fast as downstream takes frames. The end of stream
//! ends the node; an error fails it with GStreamer's message.

use gstreamer::prelude::*;
use gstreamer_app::AppSink;
use ooblex_runtime::{InputPortSpec, Node, NodeError, NodeKind, OutputPortSpec, ParamIssue, source_node};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::gst::capture::{AtStop, CaptureSource};
use crate::gst::pipeline::{Capture, I420_CAPS, init, named, parse};
use crate::media::raw::I420_OUT;

/// The name of the `appsink` frames are read from.
pub const SINK_NAME: &str = "sink";

/// Params of `gst_source`. Changing them restarts the node with a new pipeline.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GstSourceParams {
    /// A `gst-launch-1.0` description of the video to read, such as
    /// `videotestsrc is-live=true ! video/x-raw,width=640,height=480`. It may end
    /// in `appsink name=sink` (after a `videoconvert`); without one,
    /// `! videoconvert ! video/x-raw,format=I420 ! appsink name=sink` is added.
    /// Secret (a description may hold credentials anywhere): the control plane
    /// shows it only to holders of the token.
    #[schemars(extend("writeOnly" = true))]
    pub pipeline: String,
}

/// The `gst_source` node kind.
pub struct GstSource;

impl NodeKind for GstSource {
    type Params = GstSourceParams;
    const NAME: &'static str = "gst_source";
    const DESCRIPTION: &'static str = "raw video from any gst-launch-1.0 description (GStreamer), as I420";
    const INPUTS: &'static [InputPortSpec] = &[];
    const OUTPUTS: &'static [OutputPortSpec] = &[I420_OUT];
    const LIVE: bool = true;

    fn check(params: &GstSourceParams) -> Vec<ParamIssue> {
        match full_pipeline(&params.pipeline) {
            Ok(_) => Vec::new(),
            Err(issue) => vec![issue],
        }
    }

    fn build(params: &GstSourceParams) -> Result<Box<dyn Node>, NodeError> {
        init()?;
        let description = params.pipeline.clone();
        let make = move || full_pipeline(&description).map_err(|issue| issue.message);
        let (pipeline, sink) = make().map_err(NodeError::startup)?;
        let first = Capture::start(pipeline, sink, false)
            .map_err(|err| NodeError::startup(format!("`gst_source` cannot start its pipeline: {err}")))?;
        Ok(source_node(CaptureSource::new(
            Self::NAME,
            "pipeline".to_string(),
            Box::new(make),
            false,
            AtStop::End,
            Some(first),
        )))
    }
}

/// The pipeline of `description`, with the `appsink` added when it has none.
fn full_pipeline(description: &str) -> Result<(gstreamer::Pipeline, AppSink), ParamIssue> {
    if description.trim().is_empty() {
        return Err(ParamIssue::new("pipeline", "is empty")
            .with_hint("for example `videotestsrc is-live=true ! video/x-raw,width=640,height=480`"));
    }
    // As written, when it ends in the `appsink`; a description that ends in
    // caps does not parse on its own, so a failure here is not final.
    if let Ok(pipeline) = parse(description)
        && let Some(sink) = pipeline.by_name(SINK_NAME)
    {
        return match sink.downcast::<AppSink>() {
            Ok(sink) => Ok((pipeline, sink)),
            Err(_) => Err(ParamIssue::new(
                "pipeline",
                format!("the element named `{SINK_NAME}` is not an `appsink`"),
            )
            .with_hint(format!(
                "end the description in `appsink name={SINK_NAME}`, or leave it out to have it added"
            ))),
        };
    }
    let full = format!("{description} ! videoconvert ! {I420_CAPS} ! appsink name={SINK_NAME}");
    let pipeline = parse(&full).map_err(|err| {
        ParamIssue::new("pipeline", format!("GStreamer cannot build it: {err}"))
            .with_hint("`gst-inspect-1.0` lists the installed elements; try the description with `gst-launch-1.0`")
    })?;
    let sink = named::<AppSink>(&pipeline, SINK_NAME).expect("the added element is an appsink");
    Ok((pipeline, sink))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use ooblex_runtime::PixelFormat;
    use ooblex_runtime::testing::Harness;
    use serde_json::json;

    use crate::test_util::kind;

    #[test]
    fn reads_a_test_pattern_as_i420_with_the_appsink_added() {
        let description = "videotestsrc num-buffers=5 ! video/x-raw,width=64,height=48,framerate=50/1";
        let out = Harness::new(&kind("gst_source"), json!({ "pipeline": description }))
            .timeout(Duration::from_secs(5))
            .run();
        out.result.as_ref().expect("the end of stream ends the node");
        let frames = out.video();
        assert_eq!(frames.len(), 5);
        for (n, frame) in frames.iter().enumerate() {
            assert_eq!((frame.format, frame.width, frame.height), (PixelFormat::I420, 64, 48));
            assert_eq!(frame.seq, n as u64);
            assert_eq!(frame.pts, Duration::from_millis(20 * n as u64));
        }
    }

    #[test]
    fn a_given_appsink_is_used() {
        let description =
            "videotestsrc num-buffers=3 ! video/x-raw,width=33,height=17 ! videoconvert ! appsink name=sink sync=false";
        let out = Harness::new(&kind("gst_source"), json!({ "pipeline": description }))
            .timeout(Duration::from_secs(5))
            .run();
        out.result.as_ref().expect("the end of stream ends the node");
        let frames = out.video();
        assert_eq!(frames.len(), 3);
        assert_eq!((frames[0].width, frames[0].height), (33, 17));
        assert_eq!(frames[0].buffer.len(), 33 * 17 + 2 * 17 * 9);
    }

    #[test]
    fn an_unknown_element_is_a_pipeline_issue() {
        let issues = kind("gst_source")
            .prepare(json!({ "pipeline": "nosuchelement ! fakesink" }))
            .err()
            .expect("rejected");
        assert_eq!(issues[0].field, ["pipeline"]);
        assert!(issues[0].message.contains("nosuchelement"), "{:?}", issues[0]);
    }

    #[test]
    fn a_sink_that_is_not_an_appsink_is_an_issue() {
        let issues = kind("gst_source")
            .prepare(json!({ "pipeline": "videotestsrc ! fakesink name=sink" }))
            .err()
            .expect("rejected");
        assert!(issues[0].message.contains("not an `appsink`"), "{:?}", issues[0]);
    }

    #[test]
    fn a_pipeline_error_fails_the_node_with_the_message() {
        let description = "filesrc location=/no/such/file.raw ! videoparse width=8 height=8";
        let out = Harness::new(&kind("gst_source"), json!({ "pipeline": description }))
            .timeout(Duration::from_secs(5))
            .run();
        let message = match out.result {
            Err(err) => err.to_string(),
            Ok(()) => panic!("a missing file fails the node"),
        };
        assert!(message.contains("/no/such/file.raw"), "{message}");
    }
}
