//! The frame loop the GStreamer sources share: one pipeline ending in an
//! `appsink`, its pictures sent on as I420 frames, and what to do when it
//! stops (end, start again, or reconnect with a backoff).

use std::time::{Duration, Instant};

use gstreamer as gst;
use gstreamer_app::AppSink;
use ooblex_runtime::{Frame, NodeContext, NodeError, PixelFormat, Source, StreamId};

use crate::gst::pipeline::{Capture, PULL_TIMEOUT, Stopped, Timeline, i420_picture, sample_pts};

/// Builds the pipeline of one run and finds its `appsink`.
pub(crate) type MakePipeline = Box<dyn Fn() -> Result<(gst::Pipeline, AppSink), String> + Send>;

/// What a source does when its pipeline stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AtStop {
    /// An end of stream ends the node; an error fails it.
    End,
    /// An end of stream starts the pipeline again (a looped file); an error fails the node.
    Restart,
    /// Any stop, and `stall` without a picture, reconnects after a growing
    /// delay; the node never ends by itself (a camera).
    Reconnect {
        /// How long without a picture counts as a lost connection.
        stall: Duration,
    },
}

/// A [`Source`] over pipelines made by `make`.
pub(crate) struct CaptureSource {
    /// The kind, for messages.
    kind: &'static str,
    /// What the pipeline reads, for messages (a URL, a device).
    what: String,
    make: MakePipeline,
    /// Whether old pictures are dropped when downstream is slow.
    live: bool,
    at_stop: AtStop,
    /// The running pipeline; `None` between a lost connection and the next try.
    capture: Option<Capture>,
    timeline: Timeline,
    backoff: Backoff,
    /// When the last picture came (or the pipeline started).
    last_picture: Instant,
    frames_this_run: u64,
    seq: u64,
}

impl CaptureSource {
    /// A source whose first pipeline, `first`, is already running (so that
    /// start-up errors were reported by `build`).
    pub fn new(
        kind: &'static str,
        what: String,
        make: MakePipeline,
        live: bool,
        at_stop: AtStop,
        first: Option<Capture>,
    ) -> CaptureSource {
        CaptureSource {
            kind,
            what,
            make,
            live,
            at_stop,
            capture: first,
            timeline: Timeline::default(),
            backoff: Backoff::default(),
            last_picture: Instant::now(),
            frames_this_run: 0,
            seq: 0,
        }
    }

    /// Starts a new pipeline from `make`.
    fn start(&mut self) -> Result<(), String> {
        let (pipeline, sink) = (self.make)()?;
        self.capture = Some(Capture::start(pipeline, sink, self.live)?);
        self.timeline.restart();
        self.last_picture = Instant::now();
        self.frames_this_run = 0;
        Ok(())
    }

    /// Drops the pipeline after `reason` and waits out the backoff; `false` on stop.
    /// When pictures came since the last start, downstream is told the stream
    /// ended, so that it sends on what it holds (an HLS segment).
    fn lost(&mut self, reason: &str, ctx: &NodeContext) -> bool {
        self.capture = None;
        if std::mem::take(&mut self.frames_this_run) > 0
            && let Some(out) = ctx.first_output()
        {
            out.end_stream(&StreamId::default());
        }
        if ctx.shutdown.is_triggered() {
            return false;
        }
        let delay = self.backoff.failed();
        tracing::warn!(
            node = %ctx.id,
            "`{}` lost `{}`: {reason}; reconnecting in {:.1} s",
            self.kind,
            self.what,
            delay.as_secs_f64()
        );
        ctx.shutdown.sleep_until(Instant::now() + delay)
    }

    fn frame(&mut self, sample: &gst::Sample, ctx: &NodeContext) -> Result<Frame, NodeError> {
        let (buffer, width, height) = i420_picture(sample, ctx)?;
        let pts = self.timeline.map(sample_pts(sample));
        let frame = Frame::new(buffer, PixelFormat::I420, width, height, pts, self.seq);
        self.seq += 1;
        Ok(frame)
    }
}

impl Source for CaptureSource {
    fn next_frame(&mut self, ctx: &NodeContext) -> Result<Option<Frame>, NodeError> {
        while !ctx.shutdown.is_triggered() {
            let Some(capture) = &self.capture else {
                if let Err(err) = self.start() {
                    let at_stop = self.at_stop;
                    match at_stop {
                        AtStop::Reconnect { .. } if !self.lost(&err, ctx) => return Ok(None),
                        AtStop::Reconnect { .. } => continue,
                        _ => return Err(NodeError::failed(format!("`{}` cannot start again: {err}", self.kind))),
                    }
                }
                continue;
            };
            let stop = match capture.pull(PULL_TIMEOUT) {
                Ok(Some(sample)) => {
                    let captured = Instant::now();
                    let mut frame = self.frame(&sample, ctx)?;
                    frame.capture = captured;
                    self.last_picture = captured;
                    self.frames_this_run += 1;
                    self.backoff.succeeded();
                    return Ok(Some(frame));
                }
                Ok(None) => match self.at_stop {
                    AtStop::Reconnect { stall } if self.last_picture.elapsed() >= stall => {
                        Stopped::Error(format!("no picture for {} s", stall.as_secs()))
                    }
                    _ => continue,
                },
                Err(stop) => stop,
            };
            match (self.at_stop, stop) {
                (AtStop::Reconnect { .. }, stop) => {
                    let reason = match stop {
                        Stopped::End => "the stream ended".to_string(),
                        Stopped::Error(message) => message,
                    };
                    if !self.lost(&reason, ctx) {
                        return Ok(None);
                    }
                }
                (AtStop::Restart, Stopped::End) if self.frames_this_run > 0 => self.capture = None,
                (_, Stopped::End) => return Ok(None),
                (_, Stopped::Error(message)) => {
                    return Err(NodeError::failed(format!("`{}` `{}`: {message}", self.kind, self.what)));
                }
            }
        }
        Ok(None)
    }
}

/// The delay before the next reconnection: 0.5 s, doubling up to 10 s, back to
/// 0.5 s once a picture comes.
#[derive(Debug)]
pub(crate) struct Backoff {
    next: Duration,
}

/// The first delay.
pub(crate) const FIRST_RETRY: Duration = Duration::from_millis(500);
/// The longest delay.
pub(crate) const MAX_RETRY: Duration = Duration::from_secs(10);

impl Default for Backoff {
    fn default() -> Self {
        Backoff { next: FIRST_RETRY }
    }
}

impl Backoff {
    /// The delay to wait after a failure; the next one is twice as long.
    pub fn failed(&mut self) -> Duration {
        let delay = self.next;
        self.next = (self.next * 2).min(MAX_RETRY);
        delay
    }

    /// A connection worked: the next failure waits the first delay again.
    pub fn succeeded(&mut self) {
        self.next = FIRST_RETRY;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_to_ten_seconds_and_resets() {
        let mut backoff = Backoff::default();
        let delays: Vec<u64> = (0..7).map(|_| backoff.failed().as_millis() as u64).collect();
        assert_eq!(delays, [500, 1000, 2000, 4000, 8000, 10000, 10000]);
        backoff.succeeded();
        assert_eq!(backoff.failed(), FIRST_RETRY);
    }
}
