//! `h264_encode`: raw pictures to H.264 access units, with OpenH264.

use std::collections::HashMap;

use ooblex_runtime::{
    Codec, Frame, MediaType, Node, NodeContext, NodeError, NodeKind, OutputPortSpec, ParamIssue, PixelFormat, StreamId,
    Transform, VIDEO_IN, transform_node,
};
use openh264::encoder::{
    BitRate, Encoder, EncoderConfig, FrameRate, FrameType, IntraFramePeriod, Profile, RateControlMode,
};
use openh264::formats::YUVSlices;
use openh264::{OpenH264API, Timestamp};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::media::pixels::convert;
use crate::media::raw::{ALL_RAW, RawMut, RawView, frame_bytes};

/// The H.264 profile to encode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum H264Profile {
    /// Constrained Baseline: every player and browser decodes it.
    #[default]
    Baseline,
    /// Main.
    Main,
    /// High.
    High,
}

/// Params of `h264_encode`. Changing them restarts the node.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct H264EncodeParams {
    /// Target bitrate in kilobits per second.
    #[schemars(range(min = 10, max = 100000))]
    pub bitrate: u32,
    /// A keyframe every this many frames; it bounds how long a new viewer or a
    /// decoder that lost a frame waits, and HLS segments start at keyframes.
    #[schemars(range(min = 1))]
    pub keyframe_interval: u32,
    /// The frame rate the rate control plans the bitrate for.
    #[schemars(range(min = 1.0, max = 240.0))]
    pub fps: f32,
    /// `baseline` (default, plays everywhere), `main` or `high`.
    pub profile: H264Profile,
}

impl Default for H264EncodeParams {
    fn default() -> Self {
        H264EncodeParams {
            bitrate: 2000,
            keyframe_interval: 60,
            fps: 30.0,
            profile: H264Profile::default(),
        }
    }
}

/// The `video` output of nodes that send H.264.
pub(crate) const H264_OUT: OutputPortSpec = OutputPortSpec::encoded("video", MediaType::H264);

/// The `h264_encode` node kind.
pub struct H264Encode;

impl NodeKind for H264Encode {
    type Params = H264EncodeParams;
    const NAME: &'static str = "h264_encode";
    const DESCRIPTION: &'static str = "encodes raw video as H.264 (OpenH264): bitrate, keyframe interval, profile";
    const INPUTS: &'static [ooblex_runtime::InputPortSpec] = &[VIDEO_IN];
    const OUTPUTS: &'static [OutputPortSpec] = &[H264_OUT];

    fn check(params: &H264EncodeParams) -> Vec<ParamIssue> {
        let mut issues = Vec::new();
        if !(10..=100_000).contains(&params.bitrate) {
            issues.push(ParamIssue::new(
                "bitrate",
                format!("{} kbit/s is outside 10..=100000", params.bitrate),
            ));
        }
        if params.keyframe_interval == 0 {
            issues.push(ParamIssue::new("keyframe_interval", "must be at least 1 frame"));
        }
        if !(1.0..=240.0).contains(&params.fps) {
            issues.push(ParamIssue::new("fps", format!("{} is outside 1..=240", params.fps)));
        }
        issues
    }

    fn build(params: &H264EncodeParams) -> Result<Box<dyn Node>, NodeError> {
        Ok(transform_node(H264EncodeNode::new(params)))
    }
}

/// The encoders of `h264_encode`, one per stream, also used where other
/// kinds encode (links between hosts).
pub(crate) struct H264EncodeNode {
    config: EncoderConfig,
    /// One encoder per stream, made on its first frame.
    encoders: HashMap<StreamId, Encoder>,
    /// The picture in tight I420, reused.
    i420: Vec<u8>,
    /// The encoded access unit, reused.
    bitstream: Vec<u8>,
}

impl H264EncodeNode {
    /// Encoders with `params`, checked by [`H264Encode::check`].
    pub(crate) fn new(params: &H264EncodeParams) -> H264EncodeNode {
        let profile = match params.profile {
            H264Profile::Baseline => Profile::Baseline,
            H264Profile::Main => Profile::Main,
            H264Profile::High => Profile::High,
        };
        let config = EncoderConfig::new()
            .bitrate(BitRate::from_bps(params.bitrate.saturating_mul(1000)))
            .rate_control_mode(RateControlMode::Bitrate)
            .skip_frames(false)
            .max_frame_rate(FrameRate::from_hz(params.fps))
            .intra_frame_period(IntraFramePeriod::from_num_frames(params.keyframe_interval))
            .profile(profile);
        H264EncodeNode {
            config,
            encoders: HashMap::new(),
            i420: Vec::new(),
            bitstream: Vec::new(),
        }
    }
}

impl H264EncodeNode {
    /// Makes the next picture of every stream a keyframe, for a decoder that
    /// joins now.
    #[cfg_attr(not(feature = "hosts"), allow(dead_code))] // used by H.264 links between hosts
    pub(crate) fn force_keyframes(&mut self) {
        for encoder in self.encoders.values_mut() {
            encoder.force_intra_frame();
        }
    }
}

impl Transform for H264EncodeNode {
    /// Lets the stream's encoder go: should the stream start again, its first
    /// picture is a keyframe that players can join at.
    fn end_stream(&mut self, stream: &StreamId, _ctx: &NodeContext) -> Result<Vec<Frame>, NodeError> {
        self.encoders.remove(stream);
        Ok(Vec::new())
    }

    fn process(&mut self, frame: Frame, ctx: &NodeContext) -> Result<Option<Frame>, NodeError> {
        let view = RawView::of(&frame, H264Encode::NAME, ALL_RAW)?;
        let (width, height) = (view.width, view.height);
        // OpenH264 codes even sizes: an odd last row or column is left out.
        let (even_w, even_h) = (width & !1, height & !1);
        if even_w < 16 || even_h < 16 {
            return Err(NodeError::frame(format!(
                "`h264_encode` needs pictures of at least 16x16, got {width}x{height}"
            )));
        }
        let (chroma_w, chroma_h) = (width.div_ceil(2), height.div_ceil(2));
        // Tight I420 is encoded in place; anything else is converted first.
        let [y, u, v] = match tight_i420(&view) {
            Some(planes) => planes,
            None => {
                self.i420.resize(frame_bytes(PixelFormat::I420, width, height), 0);
                convert(
                    &view,
                    &mut RawMut::new(&mut self.i420, PixelFormat::I420, width, height),
                );
                let (luma, chroma) = (width * height, chroma_w * chroma_h);
                let (y, chroma_planes) = self.i420.split_at(luma);
                let (u, v) = chroma_planes.split_at(chroma);
                [y, u, v]
            }
        };
        let chroma_len = even_h / 2 * chroma_w;
        let yuv = YUVSlices::new(
            (&y[..even_h * width], &u[..chroma_len], &v[..chroma_len]),
            (even_w, even_h),
            (width, chroma_w, chroma_w),
        );
        let encoder = match self.encoders.entry(frame.stream.clone()) {
            std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::hash_map::Entry::Vacant(entry) => entry.insert(
                Encoder::with_api_config(OpenH264API::from_source(), self.config)
                    .map_err(|err| NodeError::failed(format!("`h264_encode` cannot start OpenH264: {err}")))?,
            ),
        };
        let encoded = encoder
            .encode_at(&yuv, Timestamp::from_millis(frame.pts.as_millis() as u64))
            .map_err(|err| NodeError::frame(format!("`h264_encode` could not encode frame {}: {err}", frame.seq)))?;
        let keyframe = encoded.frame_type() == FrameType::IDR;
        self.bitstream.clear();
        encoded.write_vec(&mut self.bitstream);
        if self.bitstream.is_empty() {
            return Ok(None);
        }
        let mut out = frame.with_encoded(ctx.alloc.copy_from(&self.bitstream), Codec::H264, keyframe);
        (out.width, out.height) = (even_w as u32, even_h as u32);
        Ok(Some(out))
    }
}

/// The planes of a tightly packed I420 frame, as they are.
fn tight_i420<'a>(view: &RawView<'a>) -> Option<[&'a [u8]; 3]> {
    if view.format != PixelFormat::I420 {
        return None;
    }
    Some([
        view.plane(0).tight_bytes()?,
        view.plane(1).tight_bytes()?,
        view.plane(2).tight_bytes()?,
    ])
}

#[cfg(test)]
mod tests {
    use ooblex_runtime::testing::{Harness, frame_from_fn};
    use ooblex_runtime::{Codec, Packet, PixelFormat, StreamId};
    use serde_json::json;

    use crate::media::h264::{StreamConfig, is_keyframe};
    use crate::test_util::kind;

    fn pictures(format: PixelFormat, count: u64) -> Vec<ooblex_runtime::Frame> {
        (0..count)
            .map(|seq| frame_from_fn(format, 99, 41, seq, |x, y, c| (x * 2 + y + c * 40 + seq as usize) as u8))
            .collect()
    }

    #[test]
    fn keyframes_come_at_the_interval_and_carry_the_size() {
        let out = Harness::new(&kind("h264_encode"), json!({ "keyframe_interval": 4, "bitrate": 300 }))
            .input("video", pictures(PixelFormat::Rgb24, 9))
            .run();
        let video = out.video();
        assert_eq!(video.len(), 9);
        let keyframes: Vec<u64> = video.iter().filter(|f| f.keyframe).map(|f| f.seq).collect();
        assert_eq!(keyframes, [0, 4, 8]);
        for frame in video {
            assert_eq!(frame.format, PixelFormat::Encoded(Codec::H264));
            assert_eq!(frame.keyframe, is_keyframe(frame.buffer.as_slice()));
        }
        let config = StreamConfig::find(video[0].buffer.as_slice())
            .expect("parses")
            .expect("a keyframe carries SPS and PPS");
        // The odd last column and row are left out.
        assert_eq!((config.width, config.height), (98, 40));
        assert_eq!((video[0].width, video[0].height), (98, 40));
    }

    #[test]
    fn a_stream_that_starts_again_starts_at_a_keyframe() {
        let mut input: Vec<Packet> = pictures(PixelFormat::I420, 3).into_iter().map(Packet::from).collect();
        input.push(Packet::StreamEnd(StreamId::default()));
        input.extend(pictures(PixelFormat::I420, 2).into_iter().map(Packet::from));
        let out = Harness::new(&kind("h264_encode"), json!({ "keyframe_interval": 100 }))
            .input_packets("video", input)
            .run();
        let sent: Vec<String> = out.packets["video"]
            .iter()
            .map(|packet| match packet {
                Packet::Frame(frame) => format!("{}{}", if frame.keyframe { "I" } else { "P" }, frame.seq),
                Packet::StreamEnd(_) => "end".to_string(),
            })
            .collect();
        assert_eq!(sent, ["I0", "P1", "P2", "end", "I0", "P1"]);
    }

    #[test]
    fn the_profile_is_written_in_the_stream() {
        for (profile, idc) in [("baseline", 66), ("main", 77), ("high", 100)] {
            let out = Harness::new(&kind("h264_encode"), json!({ "profile": profile }))
                .input("video", pictures(PixelFormat::I420, 1))
                .run();
            let config = StreamConfig::find(out.video()[0].buffer.as_slice())
                .expect("parses")
                .expect("SPS and PPS");
            assert_eq!(config.sps[1], idc, "{profile}");
        }
    }

    #[test]
    fn encode_then_decode_gives_the_picture_back() {
        let encoded = Harness::new(&kind("h264_encode"), json!({ "bitrate": 5000 }))
            .input("video", pictures(PixelFormat::I420, 3))
            .run();
        let decoded = Harness::new(&kind("h264_decode"), json!({}))
            .input("video", encoded.video().to_vec())
            .run();
        let video = decoded.video();
        assert_eq!(video.len(), 3);
        // Luma of row 0 of picture 2, as `pictures` drew it.
        let row = &video[2].plane(0)[..98];
        let expected = |x: usize| (x * 2 + 2) as u8;
        let worst = row.iter().enumerate().map(|(x, &v)| v.abs_diff(expected(x))).max();
        assert!(worst <= Some(12), "{row:?}");
    }
}
