//! What the GStreamer kinds share: starting GStreamer once, building a pipeline
//! from a `gst-launch` description, reading I420 pictures from an `appsink`,
//! pushing them into an `appsrc`, and turning bus messages into node errors.

use std::sync::OnceLock;
use std::time::Duration;

use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app::{AppSink, AppSrc};
use gstreamer_video::prelude::*;
use gstreamer_video::{VideoFormat, VideoFrameRef, VideoInfo};
use ooblex_runtime::{Buffer, Frame, NodeContext, NodeError, PixelFormat, Shutdown};

use crate::media::pixels::convert;
use crate::media::raw::{ALL_RAW, RawMut, RawView};

/// The caps every source forces on its `appsink`: tight I420 is what most
/// nodes take without a conversion.
pub(crate) const I420_CAPS: &str = "video/x-raw,format=I420";

/// How long one wait for a picture lasts before the stop signal is checked again.
pub(crate) const PULL_TIMEOUT: Duration = Duration::from_millis(100);

/// Starts GStreamer once per process; later calls return the first result.
pub(crate) fn init() -> Result<(), NodeError> {
    static STARTED: OnceLock<Result<(), String>> = OnceLock::new();
    STARTED
        .get_or_init(|| gst::init().map_err(|err| err.to_string()))
        .clone()
        .map_err(|err| NodeError::startup(format!("cannot start GStreamer: {err}")))
}

/// Builds the pipeline of a `gst-launch` description. Missing elements and
/// links that cannot be made are errors, with GStreamer's message.
pub(crate) fn parse(description: &str) -> Result<gst::Pipeline, String> {
    init().map_err(|err| err.to_string())?;
    let element =
        gst::parse::launch_full(description, None, gst::ParseFlags::FATAL_ERRORS).map_err(|err| err.to_string())?;
    match element.downcast::<gst::Pipeline>() {
        Ok(pipeline) => Ok(pipeline),
        Err(element) => {
            // A description of one element gives that element, not a pipeline.
            let pipeline = gst::Pipeline::new();
            pipeline.add(&element).map_err(|err| err.to_string())?;
            Ok(pipeline)
        }
    }
}

/// The element named `name` in `pipeline`, when it is of type `T`.
pub(crate) fn named<T: IsA<gst::Element>>(pipeline: &gst::Pipeline, name: &str) -> Option<T> {
    pipeline.by_name(name)?.downcast::<T>().ok()
}

/// Why a pipeline stopped giving pictures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Stopped {
    /// The end of the stream.
    End,
    /// An element failed; the message names the element and says why.
    Error(String),
}

/// The first error or end of stream waiting on `bus`, if any.
fn stopped(bus: &gst::Bus) -> Option<Stopped> {
    while let Some(message) = bus.pop_filtered(&[gst::MessageType::Error, gst::MessageType::Eos]) {
        match message.view() {
            gst::MessageView::Error(err) => return Some(Stopped::Error(describe_error(err))),
            gst::MessageView::Eos(_) => return Some(Stopped::End),
            _ => {}
        }
    }
    None
}

/// `element: message (detail)`: the detail is the last line of GStreamer's
/// debug text (which file, which device), the whole of which goes to the log.
fn describe_error(err: &gst::message::Error) -> String {
    let element = err
        .src()
        .map_or_else(|| "pipeline".to_string(), |src| src.name().to_string());
    let mut message = format!("`{element}`: {}", err.error());
    if let Some(text) = err.debug() {
        tracing::debug!("GStreamer error from `{element}`: {text}");
        if let Some((_, detail)) = text.rsplit_once('\n')
            && !detail.trim().is_empty()
        {
            message.push_str(&format!(" ({})", detail.trim()));
        }
    }
    message
}

/// A running pipeline that ends in an `appsink` giving I420 pictures. It is
/// stopped when dropped.
pub(crate) struct Capture {
    pipeline: gst::Pipeline,
    sink: AppSink,
    bus: gst::Bus,
}

impl Capture {
    /// Starts `pipeline`, reading from `sink`, whose caps are forced to I420.
    /// `live` drops old pictures when downstream is slow; otherwise the
    /// pipeline waits for it (a file is read no faster than it is used).
    pub fn start(pipeline: gst::Pipeline, sink: AppSink, live: bool) -> Result<Capture, String> {
        let caps: gst::Caps = I420_CAPS.parse().expect("the I420 caps string is valid");
        sink.set_caps(Some(&caps));
        sink.set_max_buffers(if live { 2 } else { 4 });
        sink.set_drop(live);
        let bus = pipeline.bus().expect("a pipeline has a bus");
        let capture = Capture { pipeline, sink, bus };
        if capture.pipeline.set_state(gst::State::Playing).is_err() {
            return Err(match stopped(&capture.bus) {
                Some(Stopped::Error(message)) => message,
                _ => "the pipeline refused to start".to_string(),
            });
        }
        Ok(capture)
    }

    /// The next sample, `Ok(None)` when none came within `timeout`, or why the
    /// pipeline stopped.
    pub fn pull(&self, timeout: Duration) -> Result<Option<gst::Sample>, Stopped> {
        if let Some(sample) = self
            .sink
            .try_pull_sample(gst::ClockTime::from_nseconds(timeout.as_nanos() as u64))
        {
            return Ok(Some(sample));
        }
        match stopped(&self.bus) {
            Some(stop) => Err(stop),
            None if self.sink.is_eos() => Err(Stopped::End),
            None => Ok(None),
        }
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        let _ = self.pipeline.set_state(gst::State::Null);
    }
}

/// The presentation time of a sample's buffer, when it has one.
pub(crate) fn sample_pts(sample: &gst::Sample) -> Option<Duration> {
    let pts = sample.buffer()?.pts()?;
    Some(Duration::from_nanos(pts.nseconds()))
}

/// Copies an I420 sample into a tight frame buffer from the node's allocator.
/// A sample of another format or a short buffer is a bad frame.
pub(crate) fn i420_picture(sample: &gst::Sample, ctx: &NodeContext) -> Result<(Buffer, u32, u32), NodeError> {
    let bad = |what: &dyn std::fmt::Display| NodeError::frame(format!("GStreamer gave an unusable picture: {what}"));
    let caps = sample.caps().ok_or_else(|| bad(&"no caps"))?;
    let info = VideoInfo::from_caps(caps).map_err(|err| bad(&err))?;
    if info.format() != VideoFormat::I420 {
        return Err(bad(&format!("{} instead of I420", info.format())));
    }
    let buffer = sample.buffer().ok_or_else(|| bad(&"no buffer"))?;
    let video = VideoFrameRef::from_buffer_ref_readable(buffer, &info).map_err(|err| bad(&err))?;
    let (width, height) = (info.width(), info.height());
    let mut out = ctx.alloc.alloc(PixelFormat::I420.frame_size(width, height));
    for (index, layout) in PixelFormat::I420.planes(width, height).iter().enumerate() {
        let data = video.plane_data(index as u32).map_err(|err| bad(&err))?;
        let stride = usize::try_from(video.plane_stride()[index]).map_err(|_| bad(&"a negative stride"))?;
        for row in 0..layout.height {
            let src = data
                .get(row * stride..row * stride + layout.width)
                .ok_or_else(|| bad(&"a plane shorter than its caps say"))?;
            let start = layout.offset + row * layout.stride;
            out[start..start + layout.width].copy_from_slice(src);
        }
    }
    Ok((out.freeze(), width, height))
}

/// Maps buffer times onto the node's own clock, which never goes back: after a
/// new pipeline (a reconnect) or a loop to the start, times go on from the
/// last frame.
#[derive(Debug, Default)]
pub(crate) struct Timeline {
    /// The first buffer time of the current run and the node time it maps to.
    anchor: Option<(Duration, Duration)>,
    /// The last buffer time and node time given.
    last: Option<(Duration, Duration)>,
    /// The gap between the last two frames, to place the next run after the last frame.
    step: Duration,
}

/// The gap assumed between frames until two have been seen.
const DEFAULT_STEP: Duration = Duration::from_millis(33);

impl Timeline {
    /// A new run starts: its first buffer goes one frame after the last.
    pub fn restart(&mut self) {
        self.anchor = None;
    }

    /// The node time of a buffer at `buffer_time` (`None` when it has none).
    pub fn map(&mut self, buffer_time: Option<Duration>) -> Duration {
        let step = if self.step.is_zero() { DEFAULT_STEP } else { self.step };
        let next = self.last.map_or(Duration::ZERO, |(_, node)| node + step);
        let Some(time) = buffer_time else {
            self.anchor = None;
            self.advance(None, next);
            return next;
        };
        let anchor = match (self.anchor, self.last) {
            // Times that go back start a new run (a seek, a restarted server).
            (Some(anchor), Some((last, _))) if time >= last => anchor,
            (_, None) => (time, time),
            _ => (time, next),
        };
        self.anchor = Some(anchor);
        let node = anchor.1 + (time - anchor.0);
        self.advance(Some(time), node);
        node
    }

    fn advance(&mut self, buffer_time: Option<Duration>, node: Duration) {
        if let Some((_, last)) = self.last
            && node > last
        {
            self.step = node - last;
        }
        let buffer_time = buffer_time.unwrap_or_default();
        self.last = Some((buffer_time, node));
    }
}

/// A running pipeline that starts with an `appsrc`, fed I420 pictures. Its
/// caps follow the first picture; it is stopped when dropped.
pub(crate) struct Publish {
    pipeline: gst::Pipeline,
    src: AppSrc,
    bus: gst::Bus,
    /// The size of the first picture, which the caps say.
    size: Option<(u32, u32)>,
    /// The first picture's time, which is time zero for the pipeline.
    first_pts: Option<Duration>,
}

/// How many pictures may wait in the `appsrc`; more wait in the node's input
/// queue (where a live edge drops the oldest).
const PUBLISH_QUEUE: u64 = 4;
/// How often a full `appsrc` is looked at again.
const PUBLISH_POLL: Duration = Duration::from_millis(5);

impl Publish {
    /// Starts `pipeline`, fed through `src`.
    pub fn start(pipeline: gst::Pipeline, src: AppSrc) -> Result<Publish, String> {
        src.set_format(gst::Format::Time);
        src.set_is_live(true);
        // Not `block`: a pipeline that failed would never take the picture, and
        // the node would hang instead of reporting the error.
        src.set_block(false);
        let bus = pipeline.bus().expect("a pipeline has a bus");
        let publish = Publish {
            pipeline,
            src,
            bus,
            size: None,
            first_pts: None,
        };
        if publish.pipeline.set_state(gst::State::Playing).is_err() {
            return Err(match stopped(&publish.bus) {
                Some(Stopped::Error(message)) => message,
                _ => "the pipeline refused to start".to_string(),
            });
        }
        Ok(publish)
    }

    /// The first picture's time, time zero of the pipeline, once a picture was pushed.
    pub fn first_pts(&self) -> Option<Duration> {
        self.first_pts
    }

    /// Why the pipeline stopped, if it did.
    pub fn failure(&self) -> Option<String> {
        match stopped(&self.bus)? {
            Stopped::Error(message) => Some(message),
            Stopped::End => Some("the pipeline ended".to_string()),
        }
    }

    /// Converts any raw `frame` to I420 and pushes it, once the pipeline has
    /// room for it. `node` names the kind in messages. A picture of another
    /// size than the first is a bad frame.
    pub fn push(&mut self, frame: &Frame, node: &str, shutdown: &Shutdown) -> Result<(), NodeError> {
        loop {
            if let Some(message) = self.failure() {
                return Err(NodeError::failed(format!("`{node}`: {message}")));
            }
            if self.src.current_level_buffers() < PUBLISH_QUEUE {
                break;
            }
            if !shutdown.sleep_until(std::time::Instant::now() + PUBLISH_POLL) {
                return Ok(());
            }
        }
        let view = RawView::of(frame, node, ALL_RAW)?;
        let (width, height) = (frame.width, frame.height);
        match self.size {
            Some(size) if size != (width, height) => {
                return Err(NodeError::frame(format!(
                    "`{node}` got a {width}x{height} frame but its stream is {}x{}; put a `scale` node before it",
                    size.0, size.1
                )));
            }
            Some(_) => {}
            None => {
                let caps = VideoInfo::builder(VideoFormat::I420, width, height)
                    .fps(gst::Fraction::new(0, 1))
                    .build()
                    .and_then(|info| info.to_caps())
                    .map_err(|err| NodeError::failed(format!("`{node}` cannot describe {width}x{height}: {err}")))?;
                self.src.set_caps(Some(&caps));
                self.size = Some((width, height));
            }
        }
        let first = *self.first_pts.get_or_insert(frame.pts);
        let mut buffer = gst::Buffer::with_size(PixelFormat::I420.frame_size(width, height))
            .map_err(|err| NodeError::failed(format!("`{node}` cannot allocate a buffer: {err}")))?;
        {
            let buffer = buffer.get_mut().expect("a new buffer has one owner");
            let pts = frame.pts.saturating_sub(first);
            buffer.set_pts(gst::ClockTime::from_nseconds(pts.as_nanos() as u64));
            let mut map = buffer
                .map_writable()
                .map_err(|err| NodeError::failed(format!("`{node}` cannot write a buffer: {err}")))?;
            let (w, h) = (width as usize, height as usize);
            convert(&view, &mut RawMut::new(map.as_mut_slice(), PixelFormat::I420, w, h));
        }
        self.src.push_buffer(buffer).map_err(|flow| {
            let message = self
                .failure()
                .unwrap_or_else(|| format!("the pipeline took no more pictures ({flow:?})"));
            NodeError::failed(format!("`{node}`: {message}"))
        })?;
        Ok(())
    }

    /// Ends the stream and waits up to `timeout` for the pipeline to finish
    /// (files are closed, streams flushed).
    pub fn finish(&self, timeout: Duration) -> Result<(), String> {
        if self.size.is_none() {
            return Ok(());
        }
        let _ = self.src.end_of_stream();
        let wait = gst::ClockTime::from_nseconds(timeout.as_nanos() as u64);
        match self
            .bus
            .timed_pop_filtered(wait, &[gst::MessageType::Error, gst::MessageType::Eos])
        {
            Some(message) => match message.view() {
                gst::MessageView::Error(err) => Err(describe_error(err)),
                _ => Ok(()),
            },
            None => Err(format!("the pipeline did not finish within {timeout:?}")),
        }
    }
}

impl Drop for Publish {
    fn drop(&mut self) {
        let _ = self.pipeline.set_state(gst::State::Null);
    }
}

/// `url` with its password, if any, replaced by `***`, for logs and messages.
pub(crate) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
            format!("{scheme}://{user}:***@{host}{path}")
        }
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn times_keep_the_stream_start_and_spacing() {
        let mut timeline = Timeline::default();
        assert_eq!(timeline.map(Some(ms(0))), ms(0));
        assert_eq!(timeline.map(Some(ms(40))), ms(40));
        assert_eq!(timeline.map(Some(ms(80))), ms(80));
    }

    #[test]
    fn a_restart_goes_on_one_frame_after_the_last() {
        let mut timeline = Timeline::default();
        timeline.map(Some(ms(1000)));
        timeline.map(Some(ms(1040)));
        timeline.restart();
        assert_eq!(timeline.map(Some(ms(5))), ms(1080));
        assert_eq!(timeline.map(Some(ms(45))), ms(1120));
    }

    #[test]
    fn times_that_go_back_start_a_new_run() {
        let mut timeline = Timeline::default();
        timeline.map(Some(ms(0)));
        timeline.map(Some(ms(40)));
        assert_eq!(timeline.map(Some(ms(0))), ms(80), "a loop to the start");
        assert_eq!(timeline.map(Some(ms(40))), ms(120));
    }

    #[test]
    fn buffers_without_times_are_one_step_apart() {
        let mut timeline = Timeline::default();
        assert_eq!(timeline.map(None), ms(0));
        assert_eq!(timeline.map(None), ms(33));
    }

    #[test]
    fn passwords_stay_out_of_messages() {
        assert_eq!(
            redact("rtsp://admin:hunter2@10.0.0.5:554/stream1"),
            "rtsp://admin:***@10.0.0.5:554/stream1"
        );
        assert_eq!(redact("rtsp://cam/live"), "rtsp://cam/live");
        assert_eq!(redact("rtsp://user@cam/a@b"), "rtsp://user:***@cam/a@b");
    }
}
