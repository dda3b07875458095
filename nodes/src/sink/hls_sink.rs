//! `hls_sink`: serves H.264 video, with the AAC audio of its `audio` input
//! when connected (in step with the video), as live HLS at `/hls/<name>/index.m3u8`:
//! fragmented MP4 segments (HLS version 7, which Safari, hls.js, VLC and
//! ffplay read) cut at keyframes, in a sliding window, kept in memory. A
//! stream without keyframes is cut by time, so memory stays bounded; a named
//! stream (an RTMP key) that ended is forgotten
//! [`KEEP_ENDED_STREAM`](ooblex_runtime::KEEP_ENDED_STREAM) later.

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use ooblex_runtime::{
    Buffer, Frame, HlsPublisher, InputPortSpec, Node, NodeContext, NodeError, NodeKind, OutputPortSpec, ParamIssue,
    Sink, StreamId, sink_node_with_inputs,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::codec::h264_decode::H264_IN;
use crate::media::aac::AUDIO_IN;
use crate::media::fmp4::{Output, Segmenter};
use crate::sink::{check_stream_name, count_audio, published_name};

/// Params of `hls_sink`. Changing them restarts the node; players keep the
/// stream if its name did not change.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct HlsSinkParams {
    /// Stream name, served at `/hls/<name>/index.m3u8`; defaults to the node id.
    /// Frames of a named stream (an RTMP key) go to `<name>/<stream>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Target segment length in seconds. Segments start at keyframes, so they
    /// last at least this long, up to the next keyframe: set the encoder's
    /// keyframe interval to match. A segment that reaches 12 s (or twice this,
    /// if longer) without a keyframe is cut anyway, and the next starts
    /// without one.
    #[schemars(range(min = 0.5, max = 30.0))]
    pub segment: f64,
    /// Segments listed in the live playlist; older ones are deleted.
    #[schemars(range(min = 2, max = 100))]
    pub window: u32,
}

impl Default for HlsSinkParams {
    fn default() -> Self {
        HlsSinkParams {
            name: None,
            segment: 2.0,
            window: 6,
        }
    }
}

/// The `hls_sink` node kind.
pub struct HlsSink;

impl NodeKind for HlsSink {
    type Params = HlsSinkParams;
    const NAME: &'static str = "hls_sink";
    const DESCRIPTION: &'static str =
        "serves H.264 video and optional AAC audio as live HLS (fMP4 segments) at /hls/<name>/index.m3u8";
    const INPUTS: &'static [InputPortSpec] = &[H264_IN, AUDIO_IN];
    const OUTPUTS: &'static [OutputPortSpec] = &[];

    fn check(params: &HlsSinkParams) -> Vec<ParamIssue> {
        let mut issues: Vec<ParamIssue> = check_stream_name(params.name.as_deref()).into_iter().collect();
        if !(0.5..=30.0).contains(&params.segment) {
            issues.push(ParamIssue::new(
                "segment",
                format!("{} s is outside 0.5..=30", params.segment),
            ));
        }
        if !(2..=100).contains(&params.window) {
            issues.push(ParamIssue::new(
                "window",
                format!("{} is outside 2..=100", params.window),
            ));
        }
        issues
    }

    fn build(params: &HlsSinkParams) -> Result<Box<dyn Node>, NodeError> {
        Ok(sink_node_with_inputs(
            HlsSinkNode {
                params: params.clone(),
                streams: HashMap::new(),
                with_audio: false,
            },
            H264_IN.name,
        ))
    }
}

struct HlsSinkNode {
    params: HlsSinkParams,
    streams: HashMap<StreamId, Playlist>,
    /// Whether the graph connects the `audio` input.
    with_audio: bool,
}

impl Sink for HlsSinkNode {
    /// Announces the default stream at once, so that players get a playlist
    /// (empty until the first segment) rather than a 404.
    fn start(&mut self, ctx: &NodeContext) -> Result<(), NodeError> {
        self.with_audio = ctx.input(AUDIO_IN.name).is_some();
        self.playlist(&StreamId::default(), ctx).publish();
        Ok(())
    }

    fn consume(&mut self, frame: Frame, ctx: &NodeContext) -> Result<(), NodeError> {
        let playlist = self.playlist(&frame.stream, ctx);
        let outputs = playlist
            .segmenter
            .push(&frame)
            .map_err(|err| NodeError::frame(format!("`hls_sink` frame {}: {err}", frame.seq)));
        count_audio(&mut playlist.segmenter, ctx);
        outputs?.into_iter().for_each(|output| playlist.add(output));
        Ok(())
    }

    fn consume_other(&mut self, _port: &str, frame: Frame, ctx: &NodeContext) -> Result<(), NodeError> {
        let playlist = self.playlist(&frame.stream, ctx);
        let outputs = playlist
            .segmenter
            .push_audio(&frame)
            .map_err(|err| NodeError::frame(format!("`hls_sink` audio frame {}: {err}", frame.seq)));
        count_audio(&mut playlist.segmenter, ctx);
        outputs?.into_iter().for_each(|output| playlist.add(output));
        Ok(())
    }

    /// Lists the stream's last segment at once. The playlist stays live: the
    /// stream may start again (a publisher reconnecting). A named stream is
    /// marked ended, to be forgotten if it does not; the default one is
    /// served as long as the node runs.
    fn end_stream(&mut self, stream: &StreamId, ctx: &NodeContext) -> Result<(), NodeError> {
        if let Some(playlist) = self.streams.get_mut(stream) {
            playlist.add_last_segment(ctx);
            if !stream.is_default() {
                playlist.publisher.end(Instant::now());
            }
        }
        Ok(())
    }

    fn finish(&mut self, ctx: &NodeContext) -> Result<(), NodeError> {
        for playlist in self.streams.values_mut() {
            playlist.add_last_segment(ctx);
            playlist.ended = true;
            playlist.publish();
        }
        Ok(())
    }
}

impl HlsSinkNode {
    fn playlist(&mut self, stream: &StreamId, ctx: &NodeContext) -> &mut Playlist {
        if !self.streams.contains_key(stream) {
            let base = self.params.name.as_deref().unwrap_or(&ctx.id);
            // Publishing forgets the streams that ended a while ago; so does the node.
            let publisher = ctx.streams.hls().publisher(&published_name(base, stream));
            self.streams.retain(|_, playlist| playlist.publisher.is_listed());
            // A restarted node starts the stream over: stale segments would not
            // follow on from the new ones.
            publisher.clear();
            let playlist = Playlist::new(publisher, &self.params, self.with_audio);
            self.streams.insert(stream.clone(), playlist);
        }
        self.streams.get_mut(stream).expect("the playlist was just made")
    }
}

/// One segment in the playlist.
struct Segment {
    sequence: u64,
    duration: Duration,
    /// The header it needs (`init-<n>.mp4`).
    init: u32,
}

/// One stream's live playlist and its files.
struct Playlist {
    publisher: HlsPublisher,
    segmenter: Segmenter,
    /// `#EXT-X-TARGETDURATION`: the segment length, or the longest segment's.
    target: u64,
    window: usize,
    /// Listed segments, oldest first, and up to two more that just left the
    /// list: a player that read the list a moment ago may still fetch them.
    segments: VecDeque<Segment>,
    next_sequence: u64,
    /// The current header's number.
    init: u32,
    /// The stream ended: the playlist gets `#EXT-X-ENDLIST`.
    ended: bool,
    /// Whether a segment was ever cut without a keyframe: the playlist then
    /// never promises independent segments again (a live playlist's tags
    /// may not come and go).
    cut_by_time: bool,
}

/// Segments kept after they leave the playlist.
const LINGER: usize = 2;

/// A segment ends at any picture once it is this long (or twice the target,
/// if longer) without a keyframe: keyframe intervals up to this (x264's
/// default of 250 pictures lasts 10 s at 25 fps) are cut at keyframes only.
const LONGEST_SEGMENT: Duration = Duration::from_secs(12);

impl Playlist {
    /// An empty playlist, published through `publisher`.
    fn new(publisher: HlsPublisher, params: &HlsSinkParams, with_audio: bool) -> Playlist {
        let target = Duration::from_secs_f64(params.segment);
        Playlist {
            publisher,
            segmenter: Segmenter::new(target, Some(LONGEST_SEGMENT.max(2 * target)), with_audio),
            target: params.segment.ceil() as u64,
            window: params.window as usize,
            segments: VecDeque::new(),
            next_sequence: 0,
            init: 0,
            ended: false,
            cut_by_time: false,
        }
    }

    /// Lists the segment being filled, if any, with its audio.
    fn add_last_segment(&mut self, ctx: &NodeContext) {
        let outputs = self.segmenter.finish();
        count_audio(&mut self.segmenter, ctx);
        outputs.into_iter().for_each(|output| self.add(output));
    }

    fn add(&mut self, output: Output) {
        match output {
            Output::Init(header) => {
                self.init += 1;
                self.publisher
                    .put(&format!("init-{}.mp4", self.init), Buffer::from_vec(header));
            }
            Output::Fragment {
                data,
                duration,
                independent,
            } => {
                let sequence = self.next_sequence;
                self.next_sequence += 1;
                self.publisher.put(&format!("{sequence}.m4s"), Buffer::from_vec(data));
                self.target = self.target.max(duration.as_secs_f64().round() as u64);
                self.cut_by_time |= !independent;
                self.segments.push_back(Segment {
                    sequence,
                    duration,
                    init: self.init,
                });
                while self.segments.len() > self.window + LINGER {
                    self.forget_oldest();
                }
                self.publish();
            }
        }
    }

    /// Deletes the oldest segment, and its header once no segment needs it.
    fn forget_oldest(&mut self) {
        let Some(old) = self.segments.pop_front() else { return };
        self.publisher.remove(&format!("{}.m4s", old.sequence));
        if self.segments.front().is_some_and(|next| next.init != old.init) {
            self.publisher.remove(&format!("init-{}.mp4", old.init));
        }
    }

    /// Writes `index.m3u8` for the segments in the window.
    fn publish(&self) {
        let listed: Vec<&Segment> = self
            .segments
            .iter()
            .skip(self.segments.len().saturating_sub(self.window))
            .collect();
        let mut text = String::from("#EXTM3U\n#EXT-X-VERSION:7\n");
        // Promised only while every segment so far started at a keyframe.
        if !self.cut_by_time {
            text.push_str("#EXT-X-INDEPENDENT-SEGMENTS\n");
        }
        let _ = writeln!(text, "#EXT-X-TARGETDURATION:{}", self.target.max(1));
        let first = listed.first().map_or(self.next_sequence, |s| s.sequence);
        let _ = writeln!(text, "#EXT-X-MEDIA-SEQUENCE:{first}");
        // Each header change before the first listed segment was one discontinuity.
        let first_init = listed.first().map_or(self.init, |s| s.init);
        let _ = writeln!(text, "#EXT-X-DISCONTINUITY-SEQUENCE:{}", first_init.saturating_sub(1));
        let mut init = None;
        for segment in listed {
            if init != Some(segment.init) {
                if init.is_some() {
                    text.push_str("#EXT-X-DISCONTINUITY\n");
                }
                let _ = writeln!(text, "#EXT-X-MAP:URI=\"init-{}.mp4\"", segment.init);
                init = Some(segment.init);
            }
            let _ = writeln!(
                text,
                "#EXTINF:{:.3},\n{}.m4s",
                segment.duration.as_secs_f64(),
                segment.sequence
            );
        }
        if self.ended {
            text.push_str("#EXT-X-ENDLIST\n");
        }
        self.publisher.put("index.m3u8", Buffer::from_vec(text.into_bytes()));
    }
}

#[cfg(test)]
mod tests {
    use ooblex_runtime::testing::{Harness, bare_context};
    use ooblex_runtime::{KEEP_ENDED_STREAM, StreamRegistry};
    use serde_json::json;

    use super::*;
    use crate::codec::h264_decode::tests::h264_frames;
    use crate::media::h264::tests::encoded_stream;
    use crate::test_util::kind;

    /// The `#EXTINF` durations of a playlist, in seconds.
    fn durations(playlist: &str) -> Vec<f64> {
        playlist
            .lines()
            .filter_map(|line| line.strip_prefix("#EXTINF:")?.trim_end_matches(',').parse().ok())
            .collect()
    }

    fn playlist(streams: &StreamRegistry, name: &str) -> String {
        let file = streams.hls().file(name, "index.m3u8").expect("the playlist is served");
        String::from_utf8(file.as_slice().to_vec()).expect("a playlist is text")
    }

    #[test]
    fn a_stream_with_one_keyframe_is_cut_by_time() {
        // 40 s at 30 fps, a keyframe only at the start.
        let frames = h264_frames(encoded_stream(1200, 100_000));
        assert_eq!(frames.iter().filter(|f| f.keyframe).count(), 1);
        let harness = Harness::new(&kind("hls_sink"), json!({ "segment": 2, "window": 6 })).input("video", frames);
        let streams = harness.streams.clone();
        harness.run().result.expect("the sink ends cleanly");
        let text = playlist(&streams, "under_test");
        let durations = durations(&text);
        assert!(durations.len() >= 3, "{text}");
        assert!(
            durations.iter().all(|&d| d <= LONGEST_SEGMENT.as_secs_f64() + 0.1),
            "no segment grows past {LONGEST_SEGMENT:?}: {text}"
        );
        assert!(
            !text.contains("#EXT-X-INDEPENDENT-SEGMENTS"),
            "segments cut by time do not start at a keyframe: {text}"
        );
        for sequence in 0..durations.len() {
            assert!(streams.hls().file("under_test", &format!("{sequence}.m4s")).is_ok());
        }
    }

    #[test]
    fn a_named_stream_that_ended_is_forgotten_and_the_default_one_kept() {
        let ctx = bare_context("live");
        let mut sink = HlsSinkNode {
            params: HlsSinkParams::default(),
            streams: HashMap::new(),
            with_audio: false,
        };
        sink.start(&ctx).expect("the sink starts");
        let named = |key: &str| {
            let mut frames = h264_frames(encoded_stream(3, 30));
            for frame in &mut frames {
                frame.stream = StreamId::new(key);
            }
            frames
        };
        for frame in named("cam1").into_iter().chain(h264_frames(encoded_stream(3, 30))) {
            sink.consume(frame, &ctx).expect("a frame is taken");
        }
        sink.end_stream(&StreamId::new("cam1"), &ctx).expect("the stream ends");
        sink.end_stream(&StreamId::default(), &ctx).expect("the stream ends");
        let ended = Instant::now();
        ctx.streams.forget_ended(ended + KEEP_ENDED_STREAM / 2);
        assert_eq!(
            ctx.streams.hls().names(),
            ["live", "live/cam1"],
            "kept a while for players"
        );
        ctx.streams.forget_ended(ended + KEEP_ENDED_STREAM);
        assert_eq!(ctx.streams.hls().names(), ["live"], "the default stream stays");
        for frame in named("cam2") {
            sink.consume(frame, &ctx).expect("a frame is taken");
        }
        let mut held: Vec<String> = sink.streams.keys().map(|s| s.to_string()).collect();
        held.sort();
        assert_eq!(held, ["", "cam2"], "the node let go of the forgotten stream too");
    }
}
