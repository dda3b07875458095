//! H.264 decoding with libavcodec, through GStreamer's `avdec_h264`
//! (`gstreamer1.0-libav`): every profile people publish, 4:4:4, 10-bit,
//! interlaced and multi-slice streams included, given out as I420.
//!
//! Access units are pushed from the node's own thread straight into the
//! decoder's sink pad, so decoding runs in the call and each picture is in
//! the `appsink` when the push returns: no streaming thread, no queue, no
//! latency added on top of the decoder's own reordering.

use std::sync::OnceLock;
use std::time::Duration;

use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app::AppSink;

use ooblex_runtime::{Frame, NodeContext, NodeError, PixelFormat};

use crate::gst::pipeline::{I420_CAPS, i420_picture, init, named, parse, sample_pts};

/// What `avdec_h264` is given: one whole access unit per buffer, start codes.
const H264_CAPS: &str = "video/x-h264,stream-format=byte-stream,alignment=au";

/// Slice threads only: frame threads would hold a picture back per thread.
/// Interlaced pictures are deinterlaced (progressive ones pass untouched), one
/// picture per frame, and every format leaves as I420.
const PIPELINE: &str = "avdec_h264 name=decode thread-type=slice std-compliance=normal \
     ! deinterlace fields=top method=linear ! videoconvert ! appsink name=pictures sync=false async=false wait-on-eos=false";

/// Whether libavcodec decoding can be used: GStreamer starts, has
/// `avdec_h264` and `deinterlace` (`videoconvert` comes with GStreamer's base
/// plugins), and a decoder starts. Found out once per process.
pub(crate) fn available() -> Result<(), String> {
    static FOUND: OnceLock<Result<(), String>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            init().map_err(|err| err.to_string())?;
            let missing: Vec<String> = [
                ("avdec_h264", "gstreamer1.0-libav"),
                ("deinterlace", "gstreamer1.0-plugins-good"),
            ]
            .into_iter()
            .filter(|(element, _)| gst::ElementFactory::find(element).is_none())
            .map(|(element, package)| format!("`{element}` (install {package})"))
            .collect();
            if !missing.is_empty() {
                return Err(format!("GStreamer has no {}", missing.join(" and no ")));
            }
            // One decoder built and let go loads libavcodec now, at start:
            // otherwise the first stream's keyframe would wait for it while
            // the frames behind it fill the queue.
            LibavDecoder::new().map(drop)
        })
        .clone()
}

/// One stream's libavcodec decoder. Stopped when dropped.
pub(crate) struct LibavDecoder {
    pipeline: gst::Pipeline,
    feed: gst::Pad,
    pictures: AppSink,
    bus: gst::Bus,
}

impl LibavDecoder {
    /// A started decoder, ready for the first access unit.
    pub fn new() -> Result<LibavDecoder, String> {
        let pipeline = parse(PIPELINE)?;
        let decode: gst::Element = named(&pipeline, "decode").ok_or("the pipeline has no `decode` element")?;
        let pictures: AppSink = named(&pipeline, "pictures").ok_or("the pipeline has no `pictures` sink")?;
        pictures.set_caps(Some(
            &I420_CAPS.parse::<gst::Caps>().expect("the I420 caps string is valid"),
        ));
        let feed = gst::Pad::builder(gst::PadDirection::Src).name("feed").build();
        let sink = decode.static_pad("sink").ok_or("`avdec_h264` has no sink pad")?;
        feed.link(&sink)
            .map_err(|err| format!("cannot feed `avdec_h264`: {err}"))?;
        let bus = pipeline.bus().expect("a pipeline has a bus");
        pipeline
            .set_state(gst::State::Playing)
            .map_err(|_| "the libavcodec decoder refused to start".to_string())?;
        feed.set_active(true)
            .map_err(|err| format!("cannot feed `avdec_h264`: {err}"))?;
        let caps: gst::Caps = H264_CAPS.parse().expect("the H.264 caps string is valid");
        let started = feed.push_event(gst::event::StreamStart::new("h264"))
            && feed.push_event(gst::event::Caps::new(&caps))
            && feed.push_event(gst::event::Segment::new(&gst::FormattedSegment::<gst::ClockTime>::new()));
        if !started {
            return Err("`avdec_h264` refused the H.264 stream's caps".to_string());
        }
        Ok(LibavDecoder {
            pipeline,
            feed,
            pictures,
            bus,
        })
    }

    /// Decodes one access unit shown at `pts` (decoded at `dts`, with B-frames)
    /// and gives the pictures that came out, in presentation order, each with
    /// the `pts` of the access unit it was coded in.
    pub fn decode(&mut self, unit: &[u8], pts: Duration, dts: Option<Duration>) -> Result<Vec<Picture>, String> {
        let mut buffer = gst::Buffer::from_slice(unit.to_vec());
        {
            let buffer = buffer.get_mut().expect("a new buffer has one owner");
            buffer.set_pts(clock_time(pts));
            buffer.set_dts(dts.map(clock_time));
        }
        let pushed = self.feed.push(buffer);
        // Read every frame, so that the bus's other messages (the decoder's
        // warnings on a damaged stream) are let go instead of piling up.
        if let Some(message) = self.failure() {
            return Err(message);
        }
        pushed.map_err(|flow| format!("libavcodec stopped ({flow:?})"))?;
        Ok(self.take())
    }

    /// Ends the stream: the pictures the decoder still held.
    pub fn drain(&mut self) -> Vec<Picture> {
        self.feed.push_event(gst::event::Eos::new());
        self.take()
    }

    /// The pictures waiting in the sink.
    fn take(&self) -> Vec<Picture> {
        std::iter::from_fn(|| self.pictures.try_pull_sample(gst::ClockTime::ZERO))
            .map(Picture)
            .collect()
    }

    /// The first error the decoder posted, with GStreamer's message; the
    /// other messages waiting on the bus are dropped.
    fn failure(&self) -> Option<String> {
        let message = self.bus.pop_filtered(&[gst::MessageType::Error])?;
        match message.view() {
            gst::MessageView::Error(err) => Some(format!("libavcodec: {}", err.error())),
            _ => None,
        }
    }
}

/// A decoded I420 picture.
pub(crate) struct Picture(gst::Sample);

impl Picture {
    /// The presentation time of the access unit the picture was coded in.
    pub fn pts(&self) -> Option<Duration> {
        sample_pts(&self.0)
    }

    /// The picture in a frame from the node's allocator, with the timing,
    /// stream and metadata of `shown`.
    pub fn to_frame(&self, shown: &Frame, ctx: &NodeContext) -> Result<Frame, NodeError> {
        let (buffer, width, height) = i420_picture(&self.0, ctx)?;
        Ok(shown.with_picture(buffer, PixelFormat::I420, width, height))
    }
}

impl Drop for LibavDecoder {
    fn drop(&mut self) {
        let _ = self.feed.set_active(false);
        let _ = self.pipeline.set_state(gst::State::Null);
    }
}

fn clock_time(time: Duration) -> gst::ClockTime {
    gst::ClockTime::from_nseconds(time.as_nanos() as u64)
}
