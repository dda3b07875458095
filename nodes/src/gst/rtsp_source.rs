//! `rtsp_source`: raw video from an RTSP camera or server, decoded by GStreamer
//! and sent as I420.
//!
//! A camera that drops, stalls or does not answer is logged (with its URL,
//! less any password) and reconnected after 0.5 s, then 1, 2, 4... up to 10 s
//! between tries; the node never ends by itself, and frame numbers go on
//! across reconnections.

use std::time::Duration;

use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app::AppSink;
use ooblex_runtime::{InputPortSpec, Node, NodeError, NodeKind, OutputPortSpec, ParamIssue, source_node};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::gst::capture::{AtStop, CaptureSource};
use crate::gst::pipeline::{I420_CAPS, init, named, parse, redact};
use crate::media::raw::I420_OUT;

/// Default for `latency_ms`.
pub const DEFAULT_LATENCY_MS: u32 = 100;
/// How long without a picture counts as a lost camera.
pub const STALL: Duration = Duration::from_secs(5);

/// How the RTP packets travel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RtspTransport {
    /// Inside the RTSP connection: passes firewalls and NAT, no packet loss.
    #[default]
    Tcp,
    /// Separate UDP ports: lower latency on a good network, but lost packets show.
    Udp,
}

/// Params of `rtsp_source`. Changing them restarts the node, which reconnects.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RtspSourceParams {
    /// The stream's URL, `rtsp://[user:password@]host[:port]/path`.
    pub url: String,
    /// How long packets are held to put them back in order, in milliseconds:
    /// more smooths a poor network, less lowers the delay.
    #[serde(default = "default_latency_ms")]
    #[schemars(range(max = 10000))]
    pub latency_ms: u32,
    /// `tcp` (default: passes firewalls, no loss) or `udp` (lower latency).
    #[serde(default)]
    pub transport: RtspTransport,
}

fn default_latency_ms() -> u32 {
    DEFAULT_LATENCY_MS
}

/// The `rtsp_source` node kind.
pub struct RtspSource;

impl NodeKind for RtspSource {
    type Params = RtspSourceParams;
    const NAME: &'static str = "rtsp_source";
    const DESCRIPTION: &'static str = "raw video from an RTSP camera (GStreamer), reconnecting when it drops";
    const INPUTS: &'static [InputPortSpec] = &[];
    const OUTPUTS: &'static [OutputPortSpec] = &[I420_OUT];
    const LIVE: bool = true;

    fn check(params: &RtspSourceParams) -> Vec<ParamIssue> {
        let mut issues = Vec::new();
        let scheme = params.url.split_once("://").map(|(scheme, _)| scheme);
        if !matches!(scheme, Some("rtsp" | "rtsps" | "rtspt" | "rtspu")) {
            issues.push(
                ParamIssue::new("url", format!("`{}` is not an RTSP URL", redact(&params.url)))
                    .with_hint("write it as `rtsp://host:554/path`, with `user:password@` before the host if needed"),
            );
        }
        if params.latency_ms > 10_000 {
            issues.push(ParamIssue::new(
                "latency_ms",
                format!("{} ms is more than 10000", params.latency_ms),
            ));
        }
        issues
    }

    fn build(params: &RtspSourceParams) -> Result<Box<dyn Node>, NodeError> {
        init()?;
        let url = redact(&params.url);
        let stall = STALL + Duration::from_millis(params.latency_ms.into());
        let params = params.clone();
        // The first connection is made by the frame loop, so that a camera
        // that is down at start is retried like one that drops later.
        Ok(source_node(CaptureSource::new(
            Self::NAME,
            url,
            Box::new(move || pipeline(&params)),
            true,
            AtStop::Reconnect { stall },
            None,
        )))
    }
}

/// `rtspsrc ! decodebin ! videoconvert ! video/x-raw,format=I420 ! appsink`.
fn pipeline(params: &RtspSourceParams) -> Result<(gst::Pipeline, AppSink), String> {
    let pipeline = parse(&format!(
        "rtspsrc name=src ! decodebin ! videoconvert ! {I420_CAPS} ! appsink name=sink sync=false"
    ))?;
    let src = pipeline.by_name("src").expect("the description names `src`");
    src.set_property("location", &params.url);
    src.set_property("latency", params.latency_ms);
    let (protocols, timeout) = match params.transport {
        RtspTransport::Tcp => ("tcp", "tcp-timeout"),
        RtspTransport::Udp => ("udp", "timeout"),
    };
    src.set_property_from_str("protocols", protocols);
    // Microseconds: how long a silent connection is waited on.
    src.set_property(timeout, STALL.as_micros() as u64);
    let sink = named::<AppSink>(&pipeline, "sink").expect("the description ends in an appsink");
    Ok((pipeline, sink))
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use ooblex_runtime::testing::Harness;
    use serde_json::json;

    use super::*;
    use crate::test_util::kind;

    #[test]
    fn a_url_that_is_not_rtsp_is_an_issue() {
        let issues = kind("rtsp_source")
            .prepare(json!({ "url": "http://cam/live" }))
            .err()
            .expect("rejected");
        assert_eq!(issues[0].field, ["url"]);
    }

    #[test]
    fn a_camera_that_does_not_answer_is_retried_until_stop() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("loopback has free ports");
        let started = Instant::now();
        let out = Harness::new(
            &kind("rtsp_source"),
            json!({ "url": format!("rtsp://127.0.0.1:{port}/none") }),
        )
        .timeout(Duration::from_millis(1500))
        .run();
        out.result.as_ref().expect("the node never fails by itself");
        assert!(out.video().is_empty());
        assert!(started.elapsed() >= Duration::from_millis(1400), "it ran until stopped");
    }
}
