//! `rtmp_sink`: publishes raw video to an RTMP server (YouTube, Twitch, an
//! nginx-rtmp or another ooblex), encoded with x264 for low latency and sent
//! as FLV by GStreamer.
//!
//! A server that refuses or drops the stream fails the node, which is then
//! restarted under its restart policy.

use gstreamer::prelude::*;
use gstreamer_app::AppSrc;
use ooblex_runtime::{InputPortSpec, Node, NodeError, NodeKind, OutputPortSpec, ParamIssue, VIDEO_IN, sink_node};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::gst::gst_sink::PublishSink;
use crate::gst::pipeline::{Publish, init, named, parse, redact};

/// Default for `bitrate`, in kbit/s.
pub const DEFAULT_BITRATE: u32 = 2500;
/// Default for `keyframe_interval`, in frames.
pub const DEFAULT_KEYFRAME_INTERVAL: u32 = 60;

/// Params of `rtmp_sink`. Changing them restarts the node, which reconnects.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RtmpSinkParams {
    /// Where to publish, `rtmp://host[:port]/app/stream-key`. Secret (it holds
    /// the stream key): the control plane shows it only to holders of the token.
    #[schemars(extend("writeOnly" = true))]
    pub url: String,
    /// Target bitrate in kilobits per second.
    #[serde(default = "default_bitrate")]
    #[schemars(range(min = 10, max = 100000))]
    pub bitrate: u32,
    /// A keyframe every this many frames: viewers that join wait up to this long.
    #[serde(default = "default_keyframe_interval")]
    #[schemars(range(min = 1, max = 1000))]
    pub keyframe_interval: u32,
}

fn default_bitrate() -> u32 {
    DEFAULT_BITRATE
}

fn default_keyframe_interval() -> u32 {
    DEFAULT_KEYFRAME_INTERVAL
}

/// The `rtmp_sink` node kind.
pub struct RtmpSink;

impl NodeKind for RtmpSink {
    type Params = RtmpSinkParams;
    const NAME: &'static str = "rtmp_sink";
    const DESCRIPTION: &'static str = "publishes raw video to an RTMP server as H.264 (GStreamer, x264)";
    const INPUTS: &'static [InputPortSpec] = &[VIDEO_IN];
    const OUTPUTS: &'static [OutputPortSpec] = &[];

    fn check(params: &RtmpSinkParams) -> Vec<ParamIssue> {
        let mut issues = Vec::new();
        let scheme = params.url.split_once("://").map(|(scheme, _)| scheme);
        if !matches!(scheme, Some("rtmp" | "rtmps")) {
            issues.push(
                ParamIssue::new("url", format!("`{}` is not an RTMP URL", without_key(&params.url)))
                    .with_hint("write it as `rtmp://host/app/stream-key`"),
            );
        }
        if !(10..=100_000).contains(&params.bitrate) {
            issues.push(ParamIssue::new(
                "bitrate",
                format!("{} kbit/s is outside 10..=100000", params.bitrate),
            ));
        }
        if !(1..=1000).contains(&params.keyframe_interval) {
            issues.push(ParamIssue::new(
                "keyframe_interval",
                format!("{} frames is outside 1..=1000", params.keyframe_interval),
            ));
        }
        issues
    }

    fn build(params: &RtmpSinkParams) -> Result<Box<dyn Node>, NodeError> {
        init()?;
        let (pipeline, src) = pipeline(params).map_err(NodeError::startup)?;
        let publish = Publish::start(pipeline, src).map_err(|err| {
            NodeError::startup(format!(
                "`rtmp_sink` cannot publish to `{}`: {err}",
                without_key(&params.url)
            ))
        })?;
        Ok(sink_node(PublishSink {
            kind: Self::NAME,
            publish,
        }))
    }
}

/// `url` for messages and logs: its password and its stream key (the last
/// segment of the path, and any query) replaced by `***`.
fn without_key(url: &str) -> String {
    let url = redact(url);
    let Some((scheme, rest)) = url.split_once("://") else {
        // Not a URL: nothing tells its key from the rest.
        return "***".to_string();
    };
    match rest.split_once('/') {
        Some((authority, path)) => match path.split_once('/') {
            Some((app, _)) => format!("{scheme}://{authority}/{app}/***"),
            None => format!("{scheme}://{authority}/***"),
        },
        None => url,
    }
}

/// `appsrc ! videoconvert ! x264enc ! h264parse ! flvmux ! rtmpsink`.
fn pipeline(params: &RtmpSinkParams) -> Result<(gstreamer::Pipeline, AppSrc), String> {
    let pipeline = parse(&format!(
        "appsrc name=src ! videoconvert ! x264enc tune=zerolatency speed-preset=veryfast bitrate={} key-int-max={} \
         ! h264parse ! flvmux streamable=true ! rtmpsink name=out",
        params.bitrate, params.keyframe_interval
    ))?;
    let out = pipeline.by_name("out").expect("the description names `out`");
    out.set_property("location", &params.url);
    let src = named::<AppSrc>(&pipeline, "src").expect("the description starts with an appsrc");
    Ok((pipeline, src))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::test_util::kind;

    #[test]
    fn a_url_that_is_not_rtmp_is_an_issue_without_its_password() {
        let issues = kind("rtmp_sink")
            .prepare(json!({ "url": "http://user:secret@host/live" }))
            .err()
            .expect("rejected");
        assert_eq!(issues[0].field, ["url"]);
        assert!(!issues[0].message.contains("secret"), "{:?}", issues[0]);
    }

    #[test]
    fn messages_show_the_server_but_not_the_stream_key() {
        assert_eq!(
            super::without_key("rtmp://a.rtmp.youtube.com/live2/abcd-1234?x=y"),
            "rtmp://a.rtmp.youtube.com/live2/***"
        );
        assert_eq!(
            super::without_key("rtmp://u:pw@host/app/key"),
            "rtmp://u:***@host/app/***"
        );
        assert_eq!(super::without_key("rtmp://host/key"), "rtmp://host/***");
        assert_eq!(super::without_key("rtmp://host"), "rtmp://host");
    }

    #[test]
    fn the_defaults_build_a_pipeline() {
        let factory = kind("rtmp_sink")
            .prepare(json!({ "url": "rtmp://127.0.0.1:1/live/key" }))
            .expect("valid params");
        assert!(factory.build().is_ok(), "nothing connects before the first frame");
    }
}
