//! `rtmp_sink`: publishes raw video to an RTMP server (YouTube, Twitch, an
//! nginx-rtmp or another ooblex), encoded with x264 for low latency and sent
//! as FLV by GStreamer, with the AAC audio of its `audio` input when connected.
//! Audio is held until the picture shown at its time has been sent, so the
//! two leave interleaved and in step however long the effects take.
//!
//! A server that refuses or drops the stream fails the node, which is then
//! restarted under its restart policy.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::time::Duration;

use gstreamer::prelude::*;
use gstreamer_app::AppSrc;
use ooblex_runtime::{
    Frame, InputPortSpec, Node, NodeContext, NodeError, NodeKind, OutputPortSpec, ParamIssue, Sink, VIDEO_IN,
    sink_node_with_inputs,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::gst::gst_sink::FINISH_TIMEOUT;
use crate::gst::pipeline::{Publish, init, named, parse, redact};
use crate::media::aac::AUDIO_IN;

/// Audio frames held for the pictures they go with: eleven seconds at 48 kHz.
const MOST_HELD_AUDIO: usize = 512;

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
    const DESCRIPTION: &'static str =
        "publishes raw video to an RTMP server as H.264 (GStreamer, x264), with optional AAC audio";
    const INPUTS: &'static [InputPortSpec] = &[VIDEO_IN, AUDIO_IN];
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
        // The pipeline is checked here and made again in `start`, where the
        // node knows whether audio comes.
        pipeline(params, true).map_err(NodeError::startup)?;
        Ok(sink_node_with_inputs(
            RtmpSinkNode {
                params: params.clone(),
                state: None,
            },
            VIDEO_IN.name,
        ))
    }
}

struct RtmpSinkNode {
    params: RtmpSinkParams,
    state: Option<State>,
}

/// The running pipeline and the audio waiting for its pictures.
struct State {
    publish: Publish,
    /// The `appsrc` AAC goes into, when the graph connects `audio`.
    audio: Option<AppSrc>,
    /// Presentation time and ADTS frame, oldest first.
    held: VecDeque<(Duration, Frame)>,
    /// The last picture's time.
    last_pts: Option<Duration>,
}

impl Sink for RtmpSinkNode {
    fn start(&mut self, ctx: &NodeContext) -> Result<(), NodeError> {
        let with_audio = ctx.input(AUDIO_IN.name).is_some();
        let (pipeline, src) = pipeline(&self.params, with_audio).map_err(NodeError::startup)?;
        let audio = with_audio.then(|| {
            let audio = named::<AppSrc>(&pipeline, "audio").expect("the description has an audio appsrc");
            audio.set_format(gstreamer::Format::Time);
            audio.set_is_live(true);
            audio.set_block(false);
            audio
        });
        let publish = Publish::start(pipeline, src).map_err(|err| {
            NodeError::startup(format!(
                "`rtmp_sink` cannot publish to `{}`: {err}",
                without_key(&self.params.url)
            ))
        })?;
        self.state = Some(State {
            publish,
            audio,
            held: VecDeque::new(),
            last_pts: None,
        });
        Ok(())
    }

    fn consume(&mut self, frame: Frame, ctx: &NodeContext) -> Result<(), NodeError> {
        let state = self.state.as_mut().expect("started before the first frame");
        state.publish.push(&frame, RtmpSink::NAME, &ctx.shutdown)?;
        state.last_pts = Some(frame.pts);
        state.send_audio(ctx)
    }

    fn consume_other(&mut self, _port: &str, frame: Frame, ctx: &NodeContext) -> Result<(), NodeError> {
        let state = self.state.as_mut().expect("started before the first frame");
        if state.held.len() >= MOST_HELD_AUDIO {
            state.held.pop_front();
            ctx.metrics.audio_left_out.fetch_add(1, Ordering::Relaxed);
        }
        state.held.push_back((frame.pts, frame));
        state.send_audio(ctx)
    }

    fn finish(&mut self, ctx: &NodeContext) -> Result<(), NodeError> {
        let Some(state) = &mut self.state else { return Ok(()) };
        let after_the_video = state.held.len() as u64;
        ctx.metrics.audio_left_out.fetch_add(after_the_video, Ordering::Relaxed);
        if let Some(audio) = &state.audio {
            let _ = audio.end_of_stream();
        }
        state
            .publish
            .finish(FINISH_TIMEOUT)
            .map_err(|err| NodeError::failed(format!("`rtmp_sink` could not finish: {err}")))
    }
}

impl State {
    /// Sends the held audio up to the last picture sent. Audio from before the
    /// first picture is left out: the pipeline's time starts there.
    fn send_audio(&mut self, ctx: &NodeContext) -> Result<(), NodeError> {
        let (Some(audio), Some(first), Some(last)) = (&self.audio, self.publish.first_pts(), self.last_pts) else {
            return Ok(());
        };
        while self.held.front().is_some_and(|(pts, _)| *pts <= last) {
            let (pts, frame) = self.held.pop_front().expect("checked above");
            let Some(time) = pts.checked_sub(first) else {
                ctx.metrics.audio_left_out.fetch_add(1, Ordering::Relaxed);
                continue;
            };
            let mut buffer = gstreamer::Buffer::from_slice(frame.buffer.clone());
            buffer
                .get_mut()
                .expect("a new buffer has one owner")
                .set_pts(gstreamer::ClockTime::from_nseconds(time.as_nanos() as u64));
            audio.push_buffer(buffer).map_err(|flow| {
                let message = self
                    .publish
                    .failure()
                    .unwrap_or_else(|| format!("the pipeline took no more audio ({flow:?})"));
                NodeError::failed(format!("`rtmp_sink`: {message}"))
            })?;
            ctx.metrics.audio_frames.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
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

/// `appsrc ! videoconvert ! x264enc ! h264parse ! flvmux ! rtmpsink`, and
/// `appsrc name=audio ! aacparse ! flvmux` with audio.
fn pipeline(params: &RtmpSinkParams, with_audio: bool) -> Result<(gstreamer::Pipeline, AppSrc), String> {
    let audio = if with_audio {
        " appsrc name=audio caps=\"audio/mpeg,mpegversion=4,stream-format=adts\" ! aacparse ! queue ! mux."
    } else {
        ""
    };
    let pipeline = parse(&format!(
        "appsrc name=src ! videoconvert ! x264enc tune=zerolatency speed-preset=veryfast bitrate={} key-int-max={} \
         ! h264parse ! flvmux name=mux streamable=true ! rtmpsink name=out{audio}",
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
