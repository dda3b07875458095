//! `webcam_source`: raw video from a V4L2 camera (a webcam, a capture card),
//! read by GStreamer's `v4l2src`, decoded when the camera sends MJPEG, scaled
//! and paced to the size and rate asked for, and sent as I420.

use std::path::Path;

use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app::AppSink;
use ooblex_runtime::{InputPortSpec, Node, NodeError, NodeKind, OutputPortSpec, ParamIssue, source_node};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::gst::capture::{AtStop, CaptureSource};
use crate::gst::pipeline::{Capture, I420_CAPS, init, named, parse};
use crate::media::raw::I420_OUT;

/// Default for `device`.
pub const DEFAULT_DEVICE: &str = "/dev/video0";

/// Params of `webcam_source`. Changing them restarts the node, which reopens the camera.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebcamSourceParams {
    /// The camera's device file.
    #[serde(default = "default_device")]
    pub device: String,
    /// Picture width in pixels; the camera's own when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 16, max = 7680))]
    pub width: Option<u32>,
    /// Picture height in pixels; the camera's own when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 16, max = 4320))]
    pub height: Option<u32>,
    /// Frames per second; the camera's own when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 240))]
    pub fps: Option<u32>,
}

fn default_device() -> String {
    DEFAULT_DEVICE.to_string()
}

/// The `webcam_source` node kind.
pub struct WebcamSource;

impl NodeKind for WebcamSource {
    type Params = WebcamSourceParams;
    const NAME: &'static str = "webcam_source";
    const DESCRIPTION: &'static str = "raw video from a V4L2 webcam or capture card (GStreamer), as I420";
    const INPUTS: &'static [InputPortSpec] = &[];
    const OUTPUTS: &'static [OutputPortSpec] = &[I420_OUT];
    const LIVE: bool = true;

    fn check(params: &WebcamSourceParams) -> Vec<ParamIssue> {
        let mut issues = Vec::new();
        if params.device.is_empty() {
            issues.push(ParamIssue::new("device", "is empty").with_hint(format!("for example `{DEFAULT_DEVICE}`")));
        }
        for (field, value, min, max) in [
            ("width", params.width, 16, 7680),
            ("height", params.height, 16, 4320),
            ("fps", params.fps, 1, 240),
        ] {
            if let Some(value) = value.filter(|v| !(min..=max).contains(v)) {
                issues.push(ParamIssue::new(field, format!("{value} is outside {min}..={max}")));
            }
        }
        issues
    }

    fn build(params: &WebcamSourceParams) -> Result<Box<dyn Node>, NodeError> {
        init()?;
        if !Path::new(&params.device).exists() {
            return Err(NodeError::startup(format!(
                "`webcam_source`: there is no camera at `{}`; hint: {}",
                params.device,
                cameras_hint()
            )));
        }
        let device = params.device.clone();
        let params = params.clone();
        let make = move || pipeline(&params);
        let (pipeline, sink) = make().map_err(NodeError::startup)?;
        let first = Capture::start(pipeline, sink, true)
            .map_err(|err| NodeError::startup(format!("`webcam_source` cannot open `{device}`: {err}")))?;
        Ok(source_node(CaptureSource::new(
            Self::NAME,
            device,
            Box::new(make),
            true,
            AtStop::End,
            Some(first),
        )))
    }
}

/// The cameras this machine has, to put in a hint.
fn cameras_hint() -> String {
    let mut found: Vec<String> = std::fs::read_dir("/dev")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().display().to_string())
        .filter(|path| path.starts_with("/dev/video"))
        .collect();
    found.sort();
    if found.is_empty() {
        "no /dev/video* device exists: is a camera plugged in, and its driver loaded?".to_string()
    } else {
        format!("set `device` to one of {}", found.join(", "))
    }
}

/// `v4l2src ! decodebin ! videoconvert ! videoscale ! videorate ! CAPS ! appsink`,
/// with the size and rate asked for in the caps.
fn pipeline(params: &WebcamSourceParams) -> Result<(gst::Pipeline, AppSink), String> {
    let mut caps = I420_CAPS.to_string();
    if let Some(width) = params.width {
        caps.push_str(&format!(",width={width}"));
    }
    if let Some(height) = params.height {
        caps.push_str(&format!(",height={height}"));
    }
    if let Some(fps) = params.fps {
        caps.push_str(&format!(",framerate={fps}/1"));
    }
    let pipeline = parse(&format!(
        "v4l2src name=src ! decodebin ! videoconvert ! videoscale ! videorate ! {caps} ! appsink name=sink sync=false"
    ))?;
    let src = pipeline.by_name("src").expect("the description names `src`");
    src.set_property("device", &params.device);
    let sink = named::<AppSink>(&pipeline, "sink").expect("the description ends in an appsink");
    Ok((pipeline, sink))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use ooblex_runtime::testing::Harness;
    use serde_json::json;

    use crate::test_util::kind;

    #[test]
    fn a_missing_camera_is_a_startup_error_naming_it() {
        let out = Harness::new(&kind("webcam_source"), json!({ "device": "/dev/video-none" }))
            .timeout(Duration::from_secs(2))
            .run();
        match out.result {
            Err(ooblex_runtime::NodeError::Startup(message)) => {
                assert!(message.contains("`/dev/video-none`"), "{message}")
            }
            other => panic!("expected a startup error, got {other:?}"),
        }
    }

    #[test]
    fn sizes_out_of_range_are_issues() {
        let issues = kind("webcam_source")
            .prepare(json!({ "width": 8, "fps": 1000 }))
            .err()
            .expect("rejected");
        let mut fields: Vec<_> = issues.iter().map(|i| i.field[0].as_str()).collect();
        fields.sort_unstable();
        assert_eq!(fields, ["fps", "width"]);
    }
}
