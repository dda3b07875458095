//! Fragmented MP4 of an H.264 stream, cut into fragments at keyframes: what
//! `mp4_sink` writes to a file and `hls_sink` serves as HLS segments.

use std::time::Duration;

use muxide::fragmented::{FragmentConfig, FragmentedMuxer};
use ooblex_runtime::Frame;

use crate::media::h264::{StreamConfig, to_length_prefixed};

/// MP4 ticks per second: the usual 90 kHz of video.
const TIMESCALE: u32 = 90_000;

/// What [`Segmenter::push`] produced.
#[derive(Debug)]
pub(crate) enum Output {
    /// The header (`ftyp` + `moov`) a player needs before the fragments: at
    /// the start, and again when the stream's size or parameters change (the
    /// fragments after it need the new one; they start their timeline at 0).
    Init(Vec<u8>),
    /// One fragment (`moof` + `mdat`), starting at a keyframe unless it was
    /// cut by time ([`Segmenter::new`]'s `force_after`).
    Fragment {
        /// The bytes.
        data: Vec<u8>,
        /// From its first picture to the first of the next fragment.
        duration: Duration,
        /// Whether it starts at a keyframe, so that a player can begin there.
        independent: bool,
    },
}

/// Turns H.264 access units into fragmented MP4.
pub(crate) struct Segmenter {
    /// A fragment ends at the first keyframe this long after its start.
    target: Duration,
    /// A fragment ends at any picture this long after its start, keyframe or not,
    /// so that a stream without keyframes does not grow in memory.
    force_after: Option<Duration>,
    current: Option<Track>,
    length_prefixed: Vec<u8>,
}

/// The fragment being filled, in one MP4 timeline.
struct Track {
    config: StreamConfig,
    muxer: FragmentedMuxer,
    /// The presentation time tick 0 stands for.
    origin: Duration,
    /// The decode times of the fragment being filled and of its last picture.
    fragment_start: Option<Duration>,
    /// Whether the fragment being filled starts at a keyframe.
    fragment_independent: bool,
    last_dts: Duration,
    last_tick: Option<u64>,
    /// Pictures written in this timeline.
    pictures: u64,
}

impl Segmenter {
    /// Fragments of at least `target`, cut at keyframes, and at any picture
    /// once `force_after` long.
    pub fn new(target: Duration, force_after: Option<Duration>) -> Segmenter {
        Segmenter {
            target,
            force_after,
            current: None,
            length_prefixed: Vec::new(),
        }
    }

    /// Adds one access unit (Annex B). Before the first keyframe, pictures are
    /// left out (they cannot be decoded) and nothing comes out.
    pub fn push(&mut self, frame: &Frame) -> Result<Vec<Output>, String> {
        let (access_unit, pts, keyframe) = (frame.buffer.as_slice(), frame.pts, frame.keyframe);
        let dts = frame.dts.unwrap_or(pts);
        let mut out = Vec::new();
        if keyframe {
            let found = StreamConfig::find(access_unit)?;
            let changed = match (&found, &self.current) {
                (Some(config), Some(track)) => *config != track.config,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => return Err("the first keyframe carries no SPS and PPS".into()),
            };
            if changed {
                let config = found.expect("a change comes with a configuration");
                out.extend(self.finish());
                let mut muxer = FragmentedMuxer::new(FragmentConfig {
                    sps: config.sps.clone(),
                    pps: config.pps.clone(),
                    ..FragmentConfig::new(config.width, config.height, TIMESCALE)
                })
                .map_err(|err| format!("cannot start an MP4 of {}x{}: {err}", config.width, config.height))?;
                out.push(Output::Init(muxer.init_segment()));
                self.current = Some(Track {
                    config,
                    muxer,
                    origin: dts,
                    fragment_start: None,
                    fragment_independent: false,
                    last_dts: dts,
                    last_tick: None,
                    pictures: 0,
                });
            }
        }
        let Some(track) = &mut self.current else {
            return Ok(out);
        };
        if let Some(start) = track.fragment_start {
            let age = dts.saturating_sub(start);
            let forced = self.force_after.is_some_and(|limit| age >= limit);
            if (keyframe && age >= self.target) || forced {
                out.extend(track.flush(dts));
            }
        }
        to_length_prefixed(access_unit, &mut self.length_prefixed);
        // Decode ticks must grow; a picture whose time does not (a source's clock
        // stepping back) takes the next tick. It is shown no earlier than decoded.
        let mut tick = duration_to_ticks(dts.saturating_sub(track.origin));
        if let Some(last) = track.last_tick
            && tick <= last
        {
            tick = last + 1;
        }
        let shown = duration_to_ticks(pts.saturating_sub(track.origin)).max(tick);
        track
            .muxer
            .write_video(shown, tick, &self.length_prefixed, keyframe)
            .map_err(|err| format!("cannot add a picture to the MP4: {err}"))?;
        track.last_tick = Some(tick);
        if track.fragment_start.is_none() {
            track.fragment_start = Some(dts);
            track.fragment_independent = keyframe;
        }
        track.last_dts = dts;
        track.pictures += 1;
        Ok(out)
    }

    /// The last, partial fragment, at the end of the stream.
    pub fn finish(&mut self) -> Option<Output> {
        let track = self.current.as_mut()?;
        let frame = track.frame_duration();
        track.flush(track.last_dts + frame)
    }
}

impl Track {
    /// Ends the fragment being filled at `next_start`.
    fn flush(&mut self, next_start: Duration) -> Option<Output> {
        let start = self.fragment_start.take()?;
        let data = self.muxer.flush_segment()?;
        Some(Output::Fragment {
            data,
            duration: next_start.saturating_sub(start),
            independent: self.fragment_independent,
        })
    }

    /// The mean spacing of the pictures so far, for the duration of the last
    /// one; 30 fps when there was only one.
    fn frame_duration(&self) -> Duration {
        match self.pictures {
            0 | 1 => Duration::from_millis(33),
            n => self.last_dts.saturating_sub(self.origin) / (n - 1).min(u64::from(u32::MAX)) as u32,
        }
    }
}

fn duration_to_ticks(duration: Duration) -> u64 {
    (duration.as_nanos() * u128::from(TIMESCALE) / 1_000_000_000) as u64
}
