//! `uri_source`: raw video from any file or URI GStreamer can play (MP4, MKV,
//! WebM, HTTP, HLS, ...), decoded by `uridecodebin` and sent as I420. Audio
//! is left out. Times come from the stream.

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
use crate::params::check_file_param;

/// Default for `loop`: end the stream at the end of the file.
pub const DEFAULT_LOOP: bool = false;
/// Default for `realtime`: read as fast as downstream takes frames.
pub const DEFAULT_REALTIME: bool = false;

/// Params of `uri_source`. Changing them restarts the node from the start.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UriSourceParams {
    /// A file path (relative to the directory ooblex runs in) or a URI
    /// (`file:///...`, `https://...`, `rtsp://...`).
    pub uri: String,
    /// Start again from the beginning at the end of the stream.
    #[serde(rename = "loop", default = "default_loop")]
    pub looping: bool,
    /// Send frames at the stream's own rate (`true`) or as fast as downstream
    /// takes them (`false`).
    #[serde(default = "default_realtime")]
    pub realtime: bool,
}

fn default_loop() -> bool {
    DEFAULT_LOOP
}

fn default_realtime() -> bool {
    DEFAULT_REALTIME
}

/// The `uri_source` node kind.
pub struct UriSource;

impl NodeKind for UriSource {
    type Params = UriSourceParams;
    const NAME: &'static str = "uri_source";
    const DESCRIPTION: &'static str = "raw video from any file or URI GStreamer plays (MP4, MKV, HTTP, HLS), as I420";
    const INPUTS: &'static [InputPortSpec] = &[];
    const OUTPUTS: &'static [OutputPortSpec] = &[I420_OUT];

    fn check(params: &UriSourceParams) -> Vec<ParamIssue> {
        if params.uri.trim().is_empty() {
            return vec![
                ParamIssue::new("uri", "is empty")
                    .with_hint("give a file path or a URI such as `https://host/video.mp4`"),
            ];
        }
        if has_scheme(&params.uri) {
            return match params.uri.strip_prefix("file://") {
                Some(path) if !Path::new(path).is_file() => check_file_param("uri", path, "a video file"),
                _ => Vec::new(),
            };
        }
        check_file_param("uri", &params.uri, "a video file")
    }

    fn build(params: &UriSourceParams) -> Result<Box<dyn Node>, NodeError> {
        init()?;
        let uri = to_uri(&params.uri).map_err(NodeError::startup)?;
        let realtime = params.realtime;
        let make = {
            let uri = uri.clone();
            move || pipeline(&uri, realtime)
        };
        let (pipeline, sink) = make().map_err(NodeError::startup)?;
        let first = Capture::start(pipeline, sink, false)
            .map_err(|err| NodeError::startup(format!("`uri_source` cannot open `{uri}`: {err}")))?;
        let at_stop = if params.looping { AtStop::Restart } else { AtStop::End };
        Ok(source_node(CaptureSource::new(
            Self::NAME,
            uri,
            Box::new(make),
            false,
            at_stop,
            Some(first),
        )))
    }
}

/// Whether `text` starts with a URI scheme (`file:`, `https:`), not a path.
fn has_scheme(text: &str) -> bool {
    let Some((scheme, _)) = text.split_once("://") else {
        return false;
    };
    scheme.len() > 1
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
}

/// `uri` as it is when it has a scheme; a path made absolute and turned into a `file://` URI.
fn to_uri(uri: &str) -> Result<String, String> {
    if has_scheme(uri) {
        return Ok(uri.to_string());
    }
    let path = std::path::absolute(uri).map_err(|err| format!("`{uri}`: {err}"))?;
    gst::glib::filename_to_uri(&path, None)
        .map(|uri| uri.to_string())
        .map_err(|err| format!("`{}` cannot be a URI: {err}", path.display()))
}

/// `uridecodebin uri=URI ! videoconvert ! video/x-raw,format=I420 ! appsink`,
/// decoding only the video.
fn pipeline(uri: &str, realtime: bool) -> Result<(gst::Pipeline, AppSink), String> {
    let pipeline = parse(&format!(
        "uridecodebin name=decode expose-all-streams=false ! videoconvert ! {I420_CAPS} ! appsink name=sink"
    ))?;
    let decode = pipeline.by_name("decode").expect("the description names `decode`");
    decode.set_property("uri", uri);
    // Decoding stops at raw video, in any memory; other streams are not exposed.
    let video: gst::Caps = "video/x-raw(ANY)".parse().expect("the caps string is valid");
    decode.set_property("caps", &video);
    let sink = named::<AppSink>(&pipeline, "sink").expect("the description ends in an appsink");
    sink.set_sync(realtime);
    Ok((pipeline, sink))
}

#[cfg(test)]
mod tests {
    use std::process::Command;
    use std::time::Duration;

    use ooblex_runtime::PixelFormat;
    use ooblex_runtime::testing::Harness;
    use serde_json::json;

    use super::*;
    use crate::test_util::{kind, temp_path};

    #[test]
    fn paths_become_file_uris_and_uris_stay() {
        assert!(has_scheme("https://example.com/a.mp4"));
        assert!(has_scheme("file:///tmp/a.mp4"));
        assert!(!has_scheme("videos/a.mp4"));
        assert!(!has_scheme("://x"));
        init().expect("GStreamer starts");
        let uri = to_uri("/tmp/a b.mp4").expect("a path is a URI");
        assert_eq!(uri, "file:///tmp/a%20b.mp4");
    }

    #[test]
    fn a_missing_file_is_a_uri_issue() {
        for uri in ["/no/such.mp4", "file:///no/such.mp4"] {
            let issues = kind("uri_source")
                .prepare(json!({ "uri": uri }))
                .err()
                .expect("rejected");
            assert_eq!(issues[0].field, ["uri"], "{uri}");
        }
    }

    #[test]
    fn reads_every_frame_of_a_file_and_loops() {
        let path = temp_path("uri-source.mp4");
        let made = Command::new("ffmpeg")
            .args([
                "-v",
                "error",
                "-f",
                "lavfi",
                "-i",
                "testsrc=size=64x48:rate=25",
                "-frames:v",
                "6",
            ])
            .args(["-c:v", "libx264", "-pix_fmt", "yuv420p", "-y"])
            .arg(&path)
            .status();
        if !made.is_ok_and(|status| status.success()) {
            eprintln!("ffmpeg is not installed or failed; skipping");
            return;
        }
        let out = Harness::new(&kind("uri_source"), json!({ "uri": path }))
            .timeout(Duration::from_secs(10))
            .run();
        out.result.as_ref().expect("the end of the file ends the node");
        let frames = out.video();
        assert_eq!(frames.len(), 6);
        assert_eq!(
            (frames[5].format, frames[5].width, frames[5].height),
            (PixelFormat::I420, 64, 48)
        );
        // x264's B-frames start the presentation times a little after zero.
        assert_eq!(frames[5].pts - frames[0].pts, Duration::from_millis(200));

        let out = Harness::new(
            &kind("uri_source"),
            json!({ "uri": path, "loop": true, "realtime": true }),
        )
        .timeout(Duration::from_millis(1500))
        .run();
        std::fs::remove_file(&path).ok();
        let frames = out.video();
        assert!(frames.len() > 6, "got {} frames", frames.len());
        assert_eq!(frames[7].seq, 7);
        assert_eq!(
            frames[7].pts - frames[0].pts,
            Duration::from_millis(280),
            "a loop goes on in time"
        );
    }
}
