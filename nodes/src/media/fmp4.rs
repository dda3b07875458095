//! Fragmented MP4 of an H.264 stream and the AAC audio that goes with it,
//! cut into fragments at keyframes: what `mp4_sink` writes to a file and
//! `hls_sink` serves as HLS segments.
//!
//! Audio is held until the video it goes with arrives (effects delay the
//! pictures, not the sound): a fragment ending at a picture shown at `t` takes
//! every audio frame before `t`, so each fragment carries the sound of its
//! pictures and players keep both in step.

use std::collections::VecDeque;
use std::time::Duration;

use muxide::api::{AacProfile, AudioCodec};
use muxide::fragmented::{FragmentAudioConfig, FragmentConfig, FragmentedMuxer};
use ooblex_runtime::Frame;

use crate::media::aac::{AacConfig, SAMPLES_PER_FRAME, parse_adts};
use crate::media::h264::{StreamConfig, to_length_prefixed};

/// MP4 ticks per second: the usual 90 kHz of video.
const TIMESCALE: u32 = 90_000;
/// How long the first pictures wait for the audio's first frame, when audio
/// goes with the video, before the recording starts without sound.
const AUDIO_WAIT: Duration = Duration::from_secs(1);
/// Audio frames held for the video they go with: eleven seconds at 48 kHz.
const MOST_HELD_AUDIO: usize = 512;

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

/// Audio frames a [`Segmenter`] wrote or left out since it was last asked.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AudioCounts {
    /// Written beside the video.
    pub muxed: u64,
    /// Before the first picture of a timeline, after the last, overlapping the
    /// frame before, or held longer than [`MOST_HELD_AUDIO`] frames.
    pub left_out: u64,
}

/// Turns H.264 access units, and AAC frames when audio goes with them, into
/// fragmented MP4.
pub(crate) struct Segmenter {
    /// A fragment ends at the first keyframe this long after its start.
    target: Duration,
    /// A fragment ends at any picture this long after its start, keyframe or not,
    /// so that a stream without keyframes does not grow in memory.
    force_after: Option<Duration>,
    current: Option<Track>,
    length_prefixed: Vec<u8>,
    /// The audio held for the video, when audio goes with it.
    audio: Option<HeldAudio>,
    /// Pictures from the first keyframe on, held while the first audio frame
    /// is awaited (at most [`AUDIO_WAIT`] of them).
    waiting: Vec<Frame>,
    counts: AudioCounts,
}

/// Audio waiting for the video it goes with.
#[derive(Default)]
struct HeldAudio {
    /// The configuration of the newest frame.
    config: Option<AacConfig>,
    /// Presentation time, configuration and raw AAC payload, oldest first.
    frames: VecDeque<(Duration, AacConfig, Vec<u8>)>,
    /// Set when the video started without audio after waiting [`AUDIO_WAIT`].
    gave_up: bool,
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
    /// The audio track, when the timeline has one.
    audio: Option<AudioTrack>,
}

/// The audio track of a timeline.
struct AudioTrack {
    config: AacConfig,
    /// The tick, in samples, the next frame takes when it follows on.
    next_tick: Option<u64>,
}

impl Segmenter {
    /// Fragments of at least `target`, cut at keyframes, and at any picture
    /// once `force_after` long; with an audio track when `with_audio`.
    pub fn new(target: Duration, force_after: Option<Duration>, with_audio: bool) -> Segmenter {
        Segmenter {
            target,
            force_after,
            current: None,
            length_prefixed: Vec::new(),
            audio: with_audio.then(HeldAudio::default),
            waiting: Vec::new(),
            counts: AudioCounts::default(),
        }
    }

    /// The audio frames written and left out since the last call.
    pub fn take_audio_counts(&mut self) -> AudioCounts {
        std::mem::take(&mut self.counts)
    }

    /// Adds one access unit (Annex B). Before the first keyframe, pictures are
    /// left out (they cannot be decoded) and nothing comes out.
    pub fn push(&mut self, frame: &Frame) -> Result<Vec<Output>, String> {
        let awaits_audio = self.current.is_none()
            && self
                .audio
                .as_ref()
                .is_some_and(|audio| audio.config.is_none() && !audio.gave_up);
        if !awaits_audio {
            return self.push_video(frame);
        }
        if self.waiting.is_empty() && !frame.keyframe {
            return Ok(Vec::new());
        }
        self.waiting.push(frame.clone());
        let first = self.waiting[0].dts.unwrap_or(self.waiting[0].pts);
        if frame.dts.unwrap_or(frame.pts).saturating_sub(first) < AUDIO_WAIT {
            return Ok(Vec::new());
        }
        tracing::warn!(
            "no audio came within {} s of the first picture: the recording starts without sound \
             (it starts again with sound when audio comes)",
            AUDIO_WAIT.as_secs()
        );
        if let Some(audio) = &mut self.audio {
            audio.gave_up = true;
        }
        self.release_waiting()
    }

    /// Adds one AAC frame (ADTS), held until the video reaches its time.
    pub fn push_audio(&mut self, frame: &Frame) -> Result<Vec<Output>, String> {
        let Some(audio) = &mut self.audio else {
            return Ok(Vec::new());
        };
        let (config, payload) = parse_adts(frame.buffer.as_slice()).map_err(|err| format!("audio frame: {err}"))?;
        audio.config = Some(config);
        if audio.frames.len() >= MOST_HELD_AUDIO {
            audio.frames.pop_front();
            self.counts.left_out += 1;
        }
        audio.frames.push_back((frame.pts, config, payload.to_vec()));
        if self.waiting.is_empty() {
            Ok(Vec::new())
        } else {
            self.release_waiting()
        }
    }

    /// Writes the pictures held while the audio was awaited.
    fn release_waiting(&mut self) -> Result<Vec<Output>, String> {
        let mut out = Vec::new();
        for frame in std::mem::take(&mut self.waiting) {
            out.extend(self.push_video(&frame)?);
        }
        Ok(out)
    }

    fn push_video(&mut self, frame: &Frame) -> Result<Vec<Output>, String> {
        let (access_unit, pts, keyframe) = (frame.buffer.as_slice(), frame.pts, frame.keyframe);
        let dts = frame.dts.unwrap_or(pts);
        let mut out = Vec::new();
        if keyframe {
            let found = StreamConfig::find(access_unit)?;
            let audio = self.audio.as_ref().and_then(|audio| audio.config);
            let changed = match (&found, &self.current) {
                (Some(config), Some(track)) => {
                    *config != track.config || audio != track.audio.as_ref().map(|a| a.config)
                }
                (Some(_), None) => true,
                (None, Some(track)) => audio != track.audio.as_ref().map(|a| a.config),
                (None, None) => return Err("the first keyframe carries no SPS and PPS".into()),
            };
            if changed {
                let config = match found {
                    Some(config) => config,
                    None => self.current.as_ref().expect("checked above").config.clone(),
                };
                out.extend(self.end_track());
                out.push(self.start_track(config, audio, dts)?);
            }
        }
        let Some(track) = &mut self.current else {
            return Ok(out);
        };
        if let Some(start) = track.fragment_start {
            let age = dts.saturating_sub(start);
            let forced = self.force_after.is_some_and(|limit| age >= limit);
            if (keyframe && age >= self.target) || forced {
                feed_audio(track, self.audio.as_mut(), pts, &mut self.counts);
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

    /// Starts a timeline at the keyframe decoded at `dts`, with an audio track
    /// when `audio` is known; returns its header.
    fn start_track(&mut self, config: StreamConfig, audio: Option<AacConfig>, dts: Duration) -> Result<Output, String> {
        let video = FragmentConfig {
            sps: config.sps.clone(),
            pps: config.pps.clone(),
            ..FragmentConfig::new(config.width, config.height, TIMESCALE)
        };
        let muxer = match audio {
            Some(audio) => FragmentedMuxer::new_with_audio(
                video,
                FragmentAudioConfig {
                    codec: AudioCodec::Aac(profile(audio)),
                    sample_rate: audio.sample_rate(),
                    channels: audio.channel_count(),
                },
            ),
            None => FragmentedMuxer::new(video),
        };
        let mut muxer =
            muxer.map_err(|err| format!("cannot start an MP4 of {}x{}: {err}", config.width, config.height))?;
        let header = muxer.init_segment();
        self.current = Some(Track {
            config,
            muxer,
            origin: dts,
            fragment_start: None,
            fragment_independent: false,
            last_dts: dts,
            last_tick: None,
            pictures: 0,
            audio: audio.map(|config| AudioTrack {
                config,
                next_tick: None,
            }),
        });
        Ok(Output::Init(header))
    }

    /// What is held at the end of the stream: the pictures still waiting for
    /// audio, and the last, partial fragment with the audio up to its end.
    /// Audio after the last picture is left out.
    pub fn finish(&mut self) -> Vec<Output> {
        let mut out = Vec::new();
        if !self.waiting.is_empty() {
            if let Some(audio) = &mut self.audio {
                audio.gave_up = true;
            }
            match self.release_waiting() {
                Ok(outputs) => out.extend(outputs),
                Err(err) => tracing::warn!("the last pictures cannot be written: {err}"),
            }
        }
        out.extend(self.end_track());
        if let Some(audio) = &mut self.audio {
            self.counts.left_out += audio.frames.len() as u64;
            audio.frames.clear();
        }
        out
    }

    /// The last, partial fragment of the timeline, with the audio up to its end.
    fn end_track(&mut self) -> Option<Output> {
        let track = self.current.as_mut()?;
        let end = track.last_dts + track.frame_duration();
        feed_audio(track, self.audio.as_mut(), end, &mut self.counts);
        track.flush(end)
    }
}

/// Moves the held audio shown before `until` into the fragment being filled.
/// Frames follow on from the one before (1024 samples later) unless their
/// time says they are more than half a frame away: a gap is kept, an overlap
/// left out, so the sound stays at the time the source gave it.
fn feed_audio(track: &mut Track, held: Option<&mut HeldAudio>, until: Duration, counts: &mut AudioCounts) {
    let Some(held) = held else { return };
    while held.frames.front().is_some_and(|(pts, _, _)| *pts < until) {
        let (pts, config, payload) = held.frames.pop_front().expect("checked above");
        let Some(audio) = track.audio.as_mut().filter(|audio| audio.config == config) else {
            counts.left_out += 1;
            continue;
        };
        let rate = i128::from(config.sample_rate());
        let half = i128::from(SAMPLES_PER_FRAME / 2);
        let offset = pts.as_nanos() as i128 - track.origin.as_nanos() as i128;
        let at = offset * rate / 1_000_000_000;
        let tick = match audio.next_tick.map(i128::from) {
            // Each track of a fragmented MP4 starts its timeline at 0.
            None if at >= -half => 0,
            Some(next) if (at - next).abs() <= half => next,
            Some(next) if at > next => at,
            _ => {
                counts.left_out += 1;
                continue;
            }
        };
        let tick = tick as u64;
        track
            .muxer
            .write_audio(tick, tick, &payload)
            .expect("the timeline has an audio track and its ticks only grow");
        audio.next_tick = Some(tick + u64::from(SAMPLES_PER_FRAME));
        counts.muxed += 1;
    }
}

/// The profile muxide writes for an AAC object type.
fn profile(config: AacConfig) -> AacProfile {
    match config.object_type {
        1 => AacProfile::Main,
        3 => AacProfile::Ssr,
        4 => AacProfile::Ltp,
        _ => AacProfile::Lc,
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

#[cfg(test)]
mod tests {
    use ooblex_runtime::testing::frame_from_fn;
    use ooblex_runtime::{Buffer, Codec, PixelFormat};

    use super::*;
    use crate::codec::h264_decode::tests::h264_frames;
    use crate::media::h264::tests::encoded_stream;

    /// An AAC-LC 48 kHz stereo frame shown at `pts`.
    fn audio(pts: Duration) -> Frame {
        let config = AacConfig::from_audio_specific_config(&[0x11, 0x90]).expect("valid");
        let mut adts = config.adts_header(4).expect("short").to_vec();
        adts.extend_from_slice(&[0x21, 0x10, 0x04, 0x60]);
        let mut frame = frame_from_fn(PixelFormat::Gray8, 1, 1, 0, |_, _, _| 0).with_encoded(
            Buffer::from_vec(adts),
            Codec::Aac,
            true,
        );
        frame.pts = pts;
        frame
    }

    /// Audio frames (1024 samples at 48 kHz, 21.3 ms) from 0 until `until_ms`.
    fn audio_until(until_ms: u64) -> Vec<Frame> {
        (0..)
            .map(|n| Duration::from_nanos(n * 1_000_000_000 * 1024 / 48_000))
            .take_while(|pts| *pts < Duration::from_millis(until_ms))
            .map(audio)
            .collect()
    }

    /// How many of `frames` are shown before `before`.
    fn shown_before(frames: &[Frame], before: Duration) -> u64 {
        frames.iter().filter(|frame| frame.pts < before).count() as u64
    }

    fn fragments(outputs: &[Output]) -> usize {
        outputs.iter().filter(|o| matches!(o, Output::Fragment { .. })).count()
    }

    #[test]
    fn audio_waits_for_the_pictures_of_its_time() {
        let mut segmenter = Segmenter::new(Duration::from_millis(900), None, true);
        // The sound runs ahead: two seconds of it before any picture.
        let sound = audio_until(2000);
        for frame in &sound {
            assert!(segmenter.push_audio(frame).expect("valid ADTS").is_empty());
        }
        let pictures = h264_frames(encoded_stream(61, 30));
        let mut outputs = Vec::new();
        for picture in &pictures[..30] {
            outputs.extend(segmenter.push(picture).expect("valid H.264"));
        }
        assert!(
            matches!(outputs[0], Output::Init(_)),
            "audio was known: the header comes at once"
        );
        assert_eq!(segmenter.take_audio_counts(), AudioCounts::default(), "nothing cut yet");
        // The keyframe at 990 ms cuts the first fragment: the audio before it goes in.
        outputs = segmenter.push(&pictures[30]).expect("valid H.264");
        assert_eq!(fragments(&outputs), 1);
        let before_cut = shown_before(&sound, Duration::from_millis(990));
        assert_eq!(segmenter.take_audio_counts().muxed, before_cut);
        // At the end, audio up to the last picture goes in; the rest is left out.
        for picture in &pictures[31..] {
            segmenter.push(picture).expect("valid H.264");
        }
        assert_eq!(fragments(&segmenter.finish()), 1);
        let counts = segmenter.take_audio_counts();
        assert_eq!(
            counts.muxed + counts.left_out + before_cut,
            sound.len() as u64,
            "{counts:?}"
        );
        assert!(
            counts.left_out <= 1,
            "only what comes after the last picture: {counts:?}"
        );
    }

    #[test]
    fn pictures_wait_a_second_for_audio_then_go_on_without() {
        let mut segmenter = Segmenter::new(Duration::from_secs(1), None, true);
        let pictures = h264_frames(encoded_stream(40, 30));
        let mut outputs = Vec::new();
        // Pictures 0 to 30 span 990 ms.
        for picture in &pictures[..31] {
            outputs.extend(segmenter.push(picture).expect("valid H.264"));
        }
        assert!(outputs.is_empty(), "held while the audio may still come");
        outputs = segmenter.push(&pictures[31]).expect("valid H.264");
        assert!(
            matches!(outputs[0], Output::Init(_)),
            "a second later it starts without sound"
        );
        assert_eq!(fragments(&segmenter.finish()), 1, "the held pictures were written");
    }

    #[test]
    fn audio_before_the_first_picture_is_left_out_and_counted() {
        let mut segmenter = Segmenter::new(Duration::from_secs(1), None, true);
        let sound = audio_until(1500);
        for frame in &sound {
            segmenter.push_audio(frame).expect("valid ADTS");
        }
        let mut pictures = h264_frames(encoded_stream(31, 30));
        for picture in &mut pictures {
            picture.pts += Duration::from_millis(500);
        }
        for picture in &pictures {
            segmenter.push(picture).expect("valid H.264");
        }
        segmenter.finish();
        let counts = segmenter.take_audio_counts();
        // Frames more than half a frame (10.7 ms) before 500 ms are left out.
        let early = shown_before(&sound, Duration::from_micros(500_000 - 10_667));
        assert_eq!(counts.left_out, early, "{counts:?}");
        assert_eq!(
            counts.muxed + early,
            sound.len() as u64,
            "the rest is written: {counts:?}"
        );
    }
}
