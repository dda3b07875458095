//! `h264_decode`: H.264 access units to raw I420 pictures.
//!
//! Two decoders, chosen per node by the `decoder` param. libavcodec (through
//! GStreamer's `avdec_h264`, in builds with the `gstreamer` feature) decodes
//! every H.264 people publish: High 4:4:4, High 10, interlaced and
//! multi-slice streams come out as I420. OpenH264, always built in, decodes
//! 8-bit 4:2:0 progressive video; a stream it cannot decode (see
//! [`crate::codec::h264_support`]) is named in one warning with how to fix it
//! at the publisher and counted in the node's `streams_refused`; its frames
//! are then dropped, counted as frame errors without a log line each, until a
//! keyframe comes whose parameter set OpenH264 reads, or the stream ends.
//! `auto`, the default, takes libavcodec where it is there and says which
//! decoder it took in the log.

use std::collections::HashMap;
use std::sync::Once;
use std::sync::atomic::Ordering;

use ooblex_runtime::{
    Codec, Frame, InputPortSpec, MediaType, Node, NodeContext, NodeError, NodeKind, OutputPortSpec, ParamIssue,
    PixelFormat, StreamId, Transform, transform_node,
};
use openh264::OpenH264API;
use openh264::decoder::{DecodeOptions, DecodedYUV, Decoder, DecoderConfig, Flush};
use openh264::formats::YUVSource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::codec::h264_support;
#[cfg(feature = "gstreamer")]
use crate::gst::libav_decode::{self, LibavDecoder};
use crate::media::h264::is_keyframe;
use crate::media::h264_format::StreamFormat;
use crate::media::raw::{I420_OUT, new_picture};

/// Params of `h264_decode`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct H264DecodeParams {
    /// Which decoder reads the streams.
    #[serde(default)]
    pub decoder: DecoderChoice,
}

/// Which H.264 decoder `h264_decode` uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DecoderChoice {
    /// libavcodec where this build and machine have it, otherwise OpenH264.
    #[default]
    Auto,
    /// libavcodec through GStreamer's `avdec_h264`: every profile, 4:4:4,
    /// 10-bit and interlaced included (needs the `gstreamer` feature and
    /// `gstreamer1.0-libav`).
    Libavcodec,
    /// OpenH264: 8-bit 4:2:0 progressive streams only.
    Openh264,
}

/// The decoder a node ended up with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chosen {
    Libavcodec,
    OpenH264,
}

impl DecoderChoice {
    /// The decoder to use; `auto` says once per process which it took and why.
    fn resolve(self) -> Result<Chosen, NodeError> {
        match (self, libavcodec()) {
            (DecoderChoice::Openh264, _) => Ok(Chosen::OpenH264),
            (DecoderChoice::Libavcodec, Ok(())) => Ok(Chosen::Libavcodec),
            (DecoderChoice::Libavcodec, Err(why)) => Err(NodeError::startup(format!(
                "`h264_decode` cannot decode with libavcodec: {why}; or set `decoder: openh264` \
                 (8-bit 4:2:0 progressive streams only)"
            ))),
            (DecoderChoice::Auto, found) => {
                static SAID: Once = Once::new();
                SAID.call_once(|| match &found {
                    Ok(()) => tracing::info!("H.264 is decoded with libavcodec (GStreamer `avdec_h264`)"),
                    Err(why) => tracing::info!(
                        "H.264 is decoded with OpenH264, which reads 8-bit 4:2:0 progressive streams only: \
                         libavcodec cannot be used ({why})"
                    ),
                });
                Ok(if found.is_ok() {
                    Chosen::Libavcodec
                } else {
                    Chosen::OpenH264
                })
            }
        }
    }
}

/// Whether libavcodec decoding can be used, or why not.
fn libavcodec() -> Result<(), String> {
    #[cfg(feature = "gstreamer")]
    return libav_decode::available();
    #[cfg(not(feature = "gstreamer"))]
    Err("this build has no GStreamer; build with `--features gstreamer` and install gstreamer1.0-libav".to_string())
}

/// The `h264_decode` node kind.
pub struct H264Decode;

/// The `video` input of nodes that take H.264.
pub(crate) const H264_IN: InputPortSpec = InputPortSpec::new("video", &[MediaType::H264], true);

impl NodeKind for H264Decode {
    type Params = H264DecodeParams;
    const NAME: &'static str = "h264_decode";
    const DESCRIPTION: &'static str =
        "decodes H.264 video into raw I420 pictures (libavcodec where built in, every profile; else OpenH264)";
    const INPUTS: &'static [InputPortSpec] = &[H264_IN];
    const OUTPUTS: &'static [OutputPortSpec] = &[I420_OUT];

    fn check(params: &H264DecodeParams) -> Vec<ParamIssue> {
        match (params.decoder, libavcodec()) {
            (DecoderChoice::Libavcodec, Err(why)) => vec![
                ParamIssue::new("decoder", format!("libavcodec cannot be used: {why}"))
                    .with_hint("leave `decoder` out to take what this build has"),
            ],
            _ => Vec::new(),
        }
    }

    fn build(params: &H264DecodeParams) -> Result<Box<dyn Node>, NodeError> {
        Ok(transform_node(H264DecodeNode::new(params.decoder)?))
    }
}

/// The decoders of `h264_decode`, one per stream, also used where other
/// kinds decode (links between hosts).
pub(crate) struct H264DecodeNode {
    /// The decoder each stream gets.
    chosen: Chosen,
    /// One decoder per stream, made on its first frame.
    streams: HashMap<StreamId, StreamDecoder>,
    /// Pictures decoded beyond the one `process` gave, sent right after it.
    ready: Vec<Frame>,
}

impl Default for H264DecodeNode {
    /// The decoders `auto` chooses.
    fn default() -> H264DecodeNode {
        H264DecodeNode::new(DecoderChoice::Auto).expect("`auto` always finds a decoder")
    }
}

/// A decoder of one stream's access units.
enum Backend {
    OpenH264(Decoder),
    #[cfg(feature = "gstreamer")]
    Libavcodec(LibavDecoder),
}

struct StreamDecoder {
    backend: Backend,
    /// After an error, frames are skipped up to the next keyframe.
    broken: bool,
    /// The stream is coded in a way OpenH264 cannot decode (said once):
    /// frames are dropped until a keyframe with a parameter set it reads.
    refused: bool,
    /// Frames given to the decoder whose pictures have not come out yet. With
    /// B-frames pictures come out in presentation order, a few frames late:
    /// each picture belongs to the pending frame that shows first.
    pending: Vec<Frame>,
    /// Whether a frame came with a decode time ahead of its presentation: the
    /// stream has B-frames, and the decoder may hold pictures back to reorder
    /// them. Until then each picture is taken out as soon as it is decoded
    /// (OpenH264 otherwise holds one back in Main and High profile streams,
    /// a frame of latency).
    reordered: bool,
}

/// Most frames a decoder holds back; more means the stream lost track.
const MOST_PENDING: usize = 16;

impl StreamDecoder {
    /// A fresh decoder for one stream.
    fn new(chosen: Chosen) -> Result<StreamDecoder, NodeError> {
        let backend = match chosen {
            Chosen::OpenH264 => {
                // Flushing after each call (the crate's default) breaks streams
                // with B-frames; each call says whether to flush.
                let decoder = Decoder::with_api_config(
                    OpenH264API::from_source(),
                    DecoderConfig::new().flush_after_decode(Flush::NoFlush),
                )
                .map_err(|err| NodeError::failed(format!("`h264_decode` cannot start OpenH264: {err}")))?;
                Backend::OpenH264(decoder)
            }
            #[cfg(feature = "gstreamer")]
            Chosen::Libavcodec => Backend::Libavcodec(
                LibavDecoder::new()
                    .map_err(|err| NodeError::failed(format!("`h264_decode` cannot start libavcodec: {err}")))?,
            ),
            #[cfg(not(feature = "gstreamer"))]
            Chosen::Libavcodec => unreachable!("libavcodec is never chosen in builds without GStreamer"),
        };
        Ok(StreamDecoder {
            backend,
            broken: false,
            refused: false,
            pending: Vec::new(),
            reordered: false,
        })
    }

    /// Whether `frame` is to be dropped because the stream's format is one
    /// OpenH264 cannot decode. The parameter set of each keyframe decides:
    /// the first unreadable one is told once and counts the stream as
    /// refused; a readable one after it starts the stream on a fresh decoder.
    fn refuses(&mut self, frame: &Frame, ctx: &NodeContext) -> Result<bool, NodeError> {
        if !matches!(self.backend, Backend::OpenH264(_)) {
            return Ok(false);
        }
        // A parameter set that does not parse is left to OpenH264 to reject.
        // Parameter sets come with keyframes; other frames are not searched.
        let format = frame
            .keyframe
            .then(|| StreamFormat::find(frame.buffer.as_slice()))
            .flatten();
        if let Some(Ok(format)) = format {
            match h264_support::check(&format) {
                Ok(()) if self.refused => {
                    tracing::info!(node = %ctx.id, stream = %frame.stream, "H.264 {format}: decoding resumes");
                    *self = StreamDecoder::new(Chosen::OpenH264)?;
                }
                Ok(()) => {}
                Err(unreadable) if !self.refused => {
                    tracing::warn!(node = %ctx.id, "{}", unreadable.message(&frame.stream));
                    ctx.metrics.streams_refused.fetch_add(1, Ordering::Relaxed);
                    self.refused = true;
                    self.pending.clear();
                }
                Err(_) => {}
            }
        }
        if self.refused {
            ctx.metrics.frame_errors.fetch_add(1, Ordering::Relaxed);
        }
        Ok(self.refused)
    }

    /// Decodes `frame` and gives the pictures that came out.
    fn decode(&mut self, frame: Frame, ctx: &NodeContext) -> Result<Vec<Frame>, NodeError> {
        let StreamDecoder {
            backend,
            broken,
            pending,
            reordered,
            ..
        } = self;
        let data = frame.buffer.as_slice();
        let (seq, len) = (frame.seq, data.len());
        *reordered |= frame.dts.is_some();
        let decoded = match backend {
            Backend::OpenH264(decoder) => {
                let flush = if *reordered { Flush::NoFlush } else { Flush::Flush };
                match decoder.decode_with_options(data, DecodeOptions::new().flush_after_decode(flush)) {
                    Ok(Some(picture)) => {
                        pending.push(frame);
                        let shown = take_first(pending).expect("the frame just pushed is pending");
                        let out = to_frame(&picture, &shown, ctx);
                        if pending.len() > MOST_PENDING {
                            pending.remove(0);
                        }
                        return out.map(|frame| vec![frame]);
                    }
                    Ok(None) => {
                        // Parameter sets and SEI come out as nothing; a held-back picture will later.
                        if frame_has_picture(&frame) {
                            pending.push(frame);
                        }
                        return Ok(Vec::new());
                    }
                    Err(err) => Err(format!("OpenH264 error {:#x}", err.native_code())),
                }
            }
            #[cfg(feature = "gstreamer")]
            Backend::Libavcodec(decoder) => {
                let pictures = decoder.decode(data, frame.pts, frame.dts);
                if frame_has_picture(&frame) {
                    pending.push(frame.clone());
                }
                pictures.map(|pictures| libav_frames(pictures, pending, ctx))
            }
        };
        match decoded {
            Ok(frames) => {
                if pending.len() > MOST_PENDING {
                    pending.remove(0);
                }
                frames
            }
            Err(why) => {
                *broken = true;
                pending.clear();
                let named = if frame.stream.is_default() {
                    String::new()
                } else {
                    format!(", stream `{}`", frame.stream)
                };
                Err(NodeError::frame(format!(
                    "`h264_decode` could not decode frame {seq} ({len} bytes{named}): {why}; \
                     frames are skipped until the next keyframe"
                )))
            }
        }
    }

    /// The pictures the decoder still holds, matched to their frames.
    fn drain(&mut self, ctx: &NodeContext) -> Result<Vec<Frame>, NodeError> {
        let StreamDecoder { backend, pending, .. } = self;
        match backend {
            Backend::OpenH264(decoder) => {
                let pictures = decoder.flush_remaining().map_err(|err| {
                    NodeError::frame(format!(
                        "`h264_decode` could not flush: OpenH264 error {:#x}",
                        err.native_code()
                    ))
                })?;
                let mut out = Vec::new();
                for picture in pictures {
                    let Some(shown) = take_first(pending) else { break };
                    out.push(to_frame(&picture, &shown, ctx)?);
                }
                Ok(out)
            }
            #[cfg(feature = "gstreamer")]
            Backend::Libavcodec(decoder) => libav_frames(decoder.drain(), pending, ctx),
        }
    }
}

/// The pending frame that shows first.
fn take_first(pending: &mut Vec<Frame>) -> Option<Frame> {
    let first = (0..pending.len()).min_by_key(|&i| (pending[i].pts, pending[i].seq))?;
    Some(pending.remove(first))
}

/// Frames of libavcodec's pictures. A picture carries the time of the frame it
/// was coded in; pending frames that show before it never gave a picture
/// (libavcodec dropped them) and are counted as frame errors.
#[cfg(feature = "gstreamer")]
fn libav_frames(
    pictures: Vec<libav_decode::Picture>,
    pending: &mut Vec<Frame>,
    ctx: &NodeContext,
) -> Result<Vec<Frame>, NodeError> {
    let mut out = Vec::with_capacity(pictures.len());
    for picture in pictures {
        let coded_in = picture
            .pts()
            .and_then(|pts| pending.iter().position(|frame| frame.pts == pts));
        let shown = match coded_in {
            Some(index) => {
                let shown = pending.remove(index);
                let before = pending.len();
                pending.retain(|frame| frame.pts > shown.pts);
                let lost = (before - pending.len()) as u64;
                ctx.metrics.frame_errors.fetch_add(lost, Ordering::Relaxed);
                shown
            }
            None => match take_first(pending) {
                Some(shown) => shown,
                None => continue,
            },
        };
        out.push(picture.to_frame(&shown, ctx)?);
    }
    Ok(out)
}

impl Transform for H264DecodeNode {
    /// Sends the pictures the stream's decoder held back, and lets it go.
    fn end_stream(&mut self, stream: &StreamId, ctx: &NodeContext) -> Result<Vec<Frame>, NodeError> {
        match self.streams.remove(stream) {
            Some(mut decoder) => decoder.drain(ctx),
            None => Ok(Vec::new()),
        }
    }

    /// Sends the pictures the decoders held back for reordering.
    fn flush(&mut self, ctx: &NodeContext) -> Result<Vec<Frame>, NodeError> {
        let mut out = Vec::new();
        for stream in self.streams.values_mut() {
            match stream.drain(ctx) {
                Ok(frames) => out.extend(frames),
                Err(err) => tracing::warn!(node = %ctx.id, "{err}"),
            }
        }
        Ok(out)
    }

    fn process(&mut self, frame: Frame, ctx: &NodeContext) -> Result<Option<Frame>, NodeError> {
        let mut pictures = self.decode(frame, ctx)?.into_iter();
        let first = pictures.next();
        self.ready.extend(pictures);
        Ok(first)
    }

    fn ready(&mut self) -> Vec<Frame> {
        std::mem::take(&mut self.ready)
    }
}

impl H264DecodeNode {
    /// Decoders of `choice`.
    pub(crate) fn new(choice: DecoderChoice) -> Result<H264DecodeNode, NodeError> {
        Ok(H264DecodeNode {
            chosen: choice.resolve()?,
            streams: HashMap::new(),
            ready: Vec::new(),
        })
    }

    /// Decodes one access unit: the pictures that came out, in presentation
    /// order (none while a decoder holds pictures back to reorder them).
    pub(crate) fn decode(&mut self, frame: Frame, ctx: &NodeContext) -> Result<Vec<Frame>, NodeError> {
        if frame.format != PixelFormat::Encoded(Codec::H264) {
            return Err(NodeError::frame(format!(
                "`h264_decode` takes H.264 access units, not `{}` frames",
                frame.format
            )));
        }
        let stream = match self.streams.entry(frame.stream.clone()) {
            std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::hash_map::Entry::Vacant(entry) => entry.insert(StreamDecoder::new(self.chosen)?),
        };
        if stream.refuses(&frame, ctx)? {
            return Ok(Vec::new());
        }
        if stream.broken {
            if !is_keyframe(frame.buffer.as_slice()) {
                return Err(NodeError::frame(format!(
                    "`h264_decode` skipped frame {}: it needs a frame that did not decode; \
                     decoding resumes at the next keyframe",
                    frame.seq
                )));
            }
            stream.broken = false;
            // libavcodec's pipeline may have stopped on the error: a fresh one takes the keyframe.
            if !matches!(stream.backend, Backend::OpenH264(_)) {
                *stream = StreamDecoder::new(self.chosen)?;
            }
        }
        stream.decode(frame, ctx)
    }
}

/// Whether an access unit holds a picture (a slice), not only parameter sets or SEI.
fn frame_has_picture(frame: &Frame) -> bool {
    crate::media::h264::nal_units(frame.buffer.as_slice()).any(|nal| matches!(crate::media::h264::nal_type(nal), 1..=5))
}

/// Copies a decoded picture into a frame from the node's allocator.
fn to_frame(picture: &DecodedYUV<'_>, frame: &Frame, ctx: &NodeContext) -> Result<Frame, NodeError> {
    let (width, height) = picture.dimensions();
    let (y_stride, u_stride, v_stride) = picture.strides();
    new_picture(ctx, frame, PixelFormat::I420, width as u32, height as u32, |out| {
        let sources = [
            (picture.y(), y_stride),
            (picture.u(), u_stride),
            (picture.v(), v_stride),
        ];
        for (plane, (data, stride)) in out.planes_mut().iter_mut().zip(sources) {
            for (y, row) in plane.rows_mut().enumerate() {
                let width = row.len();
                row.copy_from_slice(&data[y * stride..y * stride + width]);
            }
        }
        Ok(())
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use ooblex_runtime::testing::{Harness, bare_context, frame_from_fn};
    use ooblex_runtime::{Buffer, Codec, Packet, PixelFormat, StreamId, Transform};
    use serde_json::json;

    use super::{DecoderChoice, H264DecodeNode, libavcodec};
    use crate::media::h264::tests::encoded_stream;
    use crate::media::h264_format::tests::x264_stream;
    use crate::test_util::kind;

    /// H.264 frames of `units`, 33 ms apart, keyframes marked.
    pub(crate) fn h264_frames(units: Vec<Vec<u8>>) -> Vec<ooblex_runtime::Frame> {
        units
            .into_iter()
            .enumerate()
            .map(|(seq, unit)| {
                let base = frame_from_fn(PixelFormat::Gray8, 2, 2, seq as u64, |_, _, _| 0);
                let keyframe = crate::media::h264::is_keyframe(&unit);
                base.with_encoded(Buffer::from_vec(unit), Codec::H264, keyframe)
            })
            .collect()
    }

    /// The decoders this build and machine have, as the `decoder` param names them.
    fn decoders() -> Vec<&'static str> {
        let mut decoders = vec!["openh264"];
        decoders.extend(libavcodec().ok().map(|()| "libavcodec"));
        decoders
    }

    #[test]
    fn decodes_every_picture_at_its_size() {
        for decoder in decoders() {
            let out = Harness::new(&kind("h264_decode"), json!({ "decoder": decoder }))
                .input("video", h264_frames(encoded_stream(6, 3)))
                .run();
            every_picture_at_its_size(out.video());
        }
    }

    fn every_picture_at_its_size(video: &[ooblex_runtime::Frame]) {
        assert_eq!(video.len(), 6);
        for (seq, frame) in video.iter().enumerate() {
            assert_eq!(
                (frame.format, frame.width, frame.height, frame.seq),
                (PixelFormat::I420, 64, 48, seq as u64)
            );
        }
        // The luma ramp the encoder was given survives (±4 levels).
        let row = &video[0].plane(0)[..64];
        assert!(row[10].abs_diff(30) <= 4 && row[50].abs_diff(150) <= 4, "{row:?}");
    }

    #[test]
    fn a_stream_end_comes_after_its_pictures_and_the_stream_can_start_again() {
        let stream = StreamId::new("studio");
        let on_stream = |frames: Vec<ooblex_runtime::Frame>| {
            frames.into_iter().map(|mut frame| {
                frame.stream = stream.clone();
                Packet::Frame(frame)
            })
        };
        let units = encoded_stream(6, 3);
        for decoder in decoders() {
            let mut input: Vec<Packet> = on_stream(h264_frames(units[..3].to_vec())).collect();
            input.push(Packet::StreamEnd(stream.clone()));
            // A new publisher starts at a keyframe, on a fresh decoder.
            input.extend(on_stream(h264_frames(units[3..].to_vec())));
            let out = Harness::new(&kind("h264_decode"), json!({ "decoder": decoder }))
                .input_packets("video", input)
                .run();
            out.result.as_ref().expect("the node ends cleanly");
            let sent: Vec<String> = out.packets["video"]
                .iter()
                .map(|packet| match packet {
                    Packet::Frame(frame) => frame.seq.to_string(),
                    Packet::StreamEnd(stream) => format!("end {stream}"),
                })
                .collect();
            assert_eq!(sent, ["0", "1", "2", "end studio", "0", "1", "2"], "{decoder}");
            assert_eq!(out.metrics.frame_errors.load(std::sync::atomic::Ordering::Relaxed), 0);
        }
    }

    #[test]
    fn a_stream_without_reordering_is_shown_as_each_frame_is_decoded() {
        // High profile, where OpenH264 holds a picture back unless told the
        // stream has no B-frames; the frames say so (no decode time of their own).
        let pictures = (0..4)
            .map(|seq| {
                frame_from_fn(PixelFormat::I420, 64, 48, seq, |x, y, _| {
                    (x * 3 + y + seq as usize) as u8
                })
            })
            .collect();
        let encoded = Harness::new(&kind("h264_encode"), json!({ "profile": "high" }))
            .input("video", pictures)
            .run();
        let ctx = bare_context("decode");
        for choice in [DecoderChoice::Openh264, DecoderChoice::Auto] {
            let mut decode = H264DecodeNode::new(choice).expect("the decoder starts");
            for frame in encoded.video() {
                let seq = frame.seq;
                let shown = decode.process(frame.clone(), &ctx).expect("decodes");
                assert_eq!(
                    shown.map(|f| f.seq),
                    Some(seq),
                    "frame {seq} is shown at once ({choice:?})"
                );
            }
        }
    }

    /// `units` as frames of stream `name`.
    fn on_stream(name: &str, units: Vec<Vec<u8>>) -> Vec<Packet> {
        h264_frames(units)
            .into_iter()
            .map(|mut frame| {
                frame.stream = StreamId::new(name);
                Packet::Frame(frame)
            })
            .collect()
    }

    #[test]
    fn a_stream_openh264_cannot_decode_is_refused_once_while_others_decode() {
        let x264 = |frames, pix_fmt| x264_stream(frames, &["-pix_fmt", pix_fmt, "-g", "3"]);
        // High 4:4:4 on `studio`, interleaved with a good stream on `other`.
        let mut input = Vec::new();
        for (bad, good) in on_stream("studio", x264(6, "yuv444p"))
            .into_iter()
            .zip(on_stream("other", x264(6, "yuv420p")))
        {
            input.extend([bad, good]);
        }
        // The publisher comes back with 8-bit 4:2:0: its first keyframe resumes decoding.
        input.extend(on_stream("studio", x264(3, "yuv420p")));
        // After a stream end, a new High 10 publisher on the key is refused anew.
        input.push(Packet::StreamEnd(StreamId::new("studio")));
        input.extend(on_stream("studio", x264(3, "yuv420p10le")));
        let out = Harness::new(&kind("h264_decode"), json!({ "decoder": "openh264" }))
            .input_packets("video", input)
            .run();
        out.result.as_ref().expect("refusing a stream does not stop the node");
        let decoded = |name: &str| {
            out.video()
                .iter()
                .filter(|frame| frame.stream == StreamId::new(name))
                .map(|frame| (frame.seq, frame.width, frame.height))
                .collect::<Vec<_>>()
        };
        assert_eq!(decoded("other"), (0..6).map(|seq| (seq, 64, 48)).collect::<Vec<_>>());
        assert_eq!(decoded("studio"), [(0, 64, 48), (1, 64, 48), (2, 64, 48)]);
        let count = |counter: &std::sync::atomic::AtomicU64| counter.load(std::sync::atomic::Ordering::Relaxed);
        assert_eq!(count(&out.metrics.streams_refused), 2, "High 4:4:4, then High 10");
        assert_eq!(count(&out.metrics.frame_errors), 9, "every refused frame is counted");
    }

    #[test]
    fn a_monochrome_stream_decodes_with_grey_chroma() {
        for decoder in decoders() {
            let out = Harness::new(&kind("h264_decode"), json!({ "decoder": decoder }))
                .input("video", h264_frames(x264_stream(2, &["-pix_fmt", "gray"])))
                .run();
            let video = out.video();
            assert_eq!(video.len(), 2, "{decoder}");
            assert!(
                video[0].plane(1).iter().all(|&v| v.abs_diff(128) <= 2),
                "{decoder}: {:?}",
                &video[0].plane(1)[..8]
            );
        }
    }

    #[test]
    fn libavcodec_decodes_what_openh264_cannot() {
        if libavcodec().is_err() {
            return;
        }
        // 4:4:4, 10-bit, interlaced and four slices per picture.
        let formats: [&[&str]; 4] = [
            &["-pix_fmt", "yuv444p"],
            &["-pix_fmt", "yuv420p10le"],
            &["-pix_fmt", "yuv420p", "-flags", "+ildct+ilme"],
            &["-pix_fmt", "yuv420p", "-slices", "4"],
        ];
        for args in formats {
            let out = Harness::new(&kind("h264_decode"), json!({ "decoder": "libavcodec" }))
                .input("video", h264_frames(x264_stream(8, args)))
                .run();
            out.result.as_ref().expect("the node ends cleanly");
            let video = out.video();
            let seqs: Vec<u64> = video.iter().map(|frame| frame.seq).collect();
            assert_eq!(seqs, (0..8).collect::<Vec<_>>(), "{args:?}: every picture, in order");
            for frame in video {
                assert_eq!(
                    (frame.format, frame.width, frame.height),
                    (PixelFormat::I420, 64, 48),
                    "{args:?}"
                );
            }
            let count = |counter: &std::sync::atomic::AtomicU64| counter.load(std::sync::atomic::Ordering::Relaxed);
            assert_eq!(count(&out.metrics.streams_refused), 0, "{args:?}");
            assert_eq!(count(&out.metrics.frame_errors), 0, "{args:?}");
        }
    }

    #[test]
    fn a_corrupt_frame_does_not_stop_decoding_and_the_next_keyframe_decodes() {
        let mut units = encoded_stream(8, 4);
        // Frame 1 (a P frame) is replaced by garbage with a slice header.
        units[1] = vec![0, 0, 0, 1, 0x41, 0xff, 0x13, 0x37, 0x00, 0xde, 0xad];
        for decoder in decoders() {
            let out = Harness::new(&kind("h264_decode"), json!({ "decoder": decoder }))
                .input("video", h264_frames(units.clone()))
                .run();
            out.result.as_ref().expect("a corrupt frame does not stop the node");
            let seqs: Vec<u64> = out.video().iter().map(|f| f.seq).collect();
            assert!(
                seqs.starts_with(&[0]) && seqs.ends_with(&[4, 5, 6, 7]),
                "{decoder}: {seqs:?}"
            );
            // libavcodec conceals the damage and shows the frame; OpenH264 skips it.
            if decoder == "openh264" {
                assert!(out.metrics.frame_errors.load(std::sync::atomic::Ordering::Relaxed) >= 1);
            }
        }
    }
}
