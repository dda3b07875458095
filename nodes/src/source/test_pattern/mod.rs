//! `test_pattern`: a live synthetic picture that moves, with a frame counter
//! and the wall clock drawn on it.

mod background;
mod overlay;

use std::time::SystemTime;

use ooblex_runtime::{
    FormatSet, Frame, Gives, InputPortSpec, Node, NodeContext, NodeError, NodeKind, OutputPortSpec, PixelFormat,
    Source, source_node,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::media::raw::RawMut;
use crate::params::RawFormat;
use crate::source::pacer::Pacer;
use overlay::Overlay;

/// Default width in pixels.
pub const DEFAULT_WIDTH: u32 = 640;
/// Default height in pixels.
pub const DEFAULT_HEIGHT: u32 = 480;
/// Default frame rate.
pub const DEFAULT_FPS: f64 = 30.0;
/// Default picture.
pub const DEFAULT_PATTERN: Pattern = Pattern::Bars;
/// Default pixel format.
pub const DEFAULT_FORMAT: RawFormat = RawFormat::Rgb24;

/// The static picture behind the moving box and the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Pattern {
    /// 75% colour bars over a gray ramp.
    Bars,
    /// A smooth colour gradient.
    Gradient,
    /// A checkerboard.
    Checkers,
}

/// Params of `test_pattern`. Changing any of them restarts the node.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct TestPatternParams {
    /// Width of the picture in pixels.
    #[schemars(range(min = 16, max = 8192))]
    pub width: u32,
    /// Height of the picture in pixels.
    #[schemars(range(min = 16, max = 8192))]
    pub height: u32,
    /// Frames per second.
    #[schemars(range(min = 0.1, max = 240))]
    pub fps: f64,
    /// The static picture: `bars` (colour bars), `gradient` or `checkers`.
    pub pattern: Pattern,
    /// Stop after this many frames; without it the source runs until stopped.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub frames: Option<u64>,
    /// Pixel format of the frames: rgb24, rgba, i420, nv12 or gray8.
    pub format: RawFormat,
}

impl Default for TestPatternParams {
    fn default() -> Self {
        TestPatternParams {
            width: DEFAULT_WIDTH,
            height: DEFAULT_HEIGHT,
            fps: DEFAULT_FPS,
            pattern: DEFAULT_PATTERN,
            frames: None,
            format: DEFAULT_FORMAT,
        }
    }
}

/// The `test_pattern` node kind.
pub struct TestPattern;

impl NodeKind for TestPattern {
    type Params = TestPatternParams;
    const NAME: &'static str = "test_pattern";
    const DESCRIPTION: &'static str = "synthetic moving picture with a frame counter and a clock, for trying graphs";
    const INPUTS: &'static [InputPortSpec] = &[];
    const OUTPUTS: &'static [OutputPortSpec] = &[OutputPortSpec::video(Gives::Only(FormatSet::ALL_RAW))];
    const LIVE: bool = true;

    fn output_formats(params: &TestPatternParams, _port: &OutputPortSpec, _input: FormatSet) -> FormatSet {
        FormatSet::of(&[params.format.into()])
    }

    fn build(params: &TestPatternParams) -> Result<Box<dyn Node>, NodeError> {
        let format = PixelFormat::from(params.format);
        let (width, height) = (params.width as usize, params.height as usize);
        Ok(source_node(TestPatternSource {
            background: background::render(params.pattern, format, width, height),
            format,
            width: params.width,
            height: params.height,
            fps: params.fps,
            frames: params.frames,
            pacer: Pacer::new(params.fps),
            overlay: Overlay::new(),
            seq: 0,
        }))
    }
}

/// State of a running `test_pattern`.
struct TestPatternSource {
    /// The static picture in the output format, copied into every frame.
    background: Vec<u8>,
    format: PixelFormat,
    width: u32,
    height: u32,
    fps: f64,
    frames: Option<u64>,
    pacer: Pacer,
    overlay: Overlay,
    seq: u64,
}

impl Source for TestPatternSource {
    fn next_frame(&mut self, ctx: &NodeContext) -> Result<Option<Frame>, NodeError> {
        if self.frames.is_some_and(|frames| self.seq >= frames) {
            return Ok(None);
        }
        if !self.pacer.wait(self.seq, &ctx.shutdown) {
            return Ok(None);
        }
        let mut buffer = ctx.alloc.alloc(self.background.len());
        buffer.copy_from_slice(&self.background);
        let mut picture = RawMut::new(&mut buffer, self.format, self.width as usize, self.height as usize);
        self.overlay.draw(&mut picture, self.seq, self.fps, SystemTime::now());
        let pts = self.pacer.pts(self.seq);
        let frame = Frame::new(buffer.freeze(), self.format, self.width, self.height, pts, self.seq);
        self.seq += 1;
        Ok(Some(frame))
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use ooblex_runtime::testing::Harness;
    use serde_json::json;

    use super::*;

    fn kind() -> ooblex_runtime::KindInfo {
        crate::test_util::kind("test_pattern")
    }

    #[test]
    fn produces_moving_frames_with_consecutive_seq() {
        let params = json!({ "width": 160, "height": 120, "fps": 100, "frames": 6 });
        let out = Harness::new(&kind(), params).run();
        out.result.as_ref().expect("the source ends cleanly");
        let frames = out.video();
        assert_eq!(frames.len(), 6);
        for (i, frame) in frames.iter().enumerate() {
            assert_eq!(
                (frame.width, frame.height, frame.format),
                (160, 120, PixelFormat::Rgb24)
            );
            assert_eq!(frame.buffer.len(), 160 * 120 * 3);
            assert_eq!(frame.seq, i as u64);
            assert_eq!(frame.pts, Duration::from_millis(10 * i as u64));
        }
        for pair in frames.windows(2) {
            assert_ne!(
                pair[0].buffer.as_slice(),
                pair[1].buffer.as_slice(),
                "the picture moves"
            );
        }
    }

    #[test]
    fn every_format_and_pattern_has_the_right_size() {
        for format in ["rgb24", "rgba", "i420", "nv12", "gray8"] {
            for pattern in ["bars", "gradient", "checkers"] {
                let params =
                    json!({ "width": 34, "height": 18, "fps": 200, "frames": 2, "format": format, "pattern": pattern });
                let out = Harness::new(&kind(), params).run();
                let frame = &out.video()[1];
                assert_eq!(frame.format.name(), format);
                assert_eq!(frame.buffer.len(), frame.format.frame_size(34, 18));
            }
        }
    }

    #[test]
    fn paces_itself_at_its_frame_rate() {
        let started = Instant::now();
        let out = Harness::new(&kind(), json!({ "width": 32, "height": 32, "fps": 20, "frames": 5 })).run();
        assert_eq!(out.video().len(), 5);
        assert!(
            started.elapsed() >= Duration::from_millis(190),
            "5 frames at 20 fps take 200 ms"
        );
    }

    #[test]
    fn stops_promptly_without_a_frame_limit() {
        let harness = Harness::new(&kind(), json!({ "width": 32, "height": 32, "fps": 1 }));
        let out = harness.timeout(Duration::from_millis(300)).run();
        out.result.as_ref().expect("a stopped source ends cleanly");
        assert_eq!(out.video().len(), 1, "only the first frame is due within 300 ms");
    }

    #[test]
    fn rejects_bad_params() {
        assert!(kind().prepare(json!({ "width": 4 })).is_err());
        assert!(kind().prepare(json!({ "fps": 0 })).is_err());
        assert!(kind().prepare(json!({ "frames": 0 })).is_err());
        assert!(kind().prepare(json!({ "pattern": "stripes" })).is_err());
        assert!(kind().prepare(json!({ "colour": "red" })).is_err());
        assert!(kind().prepare(json!({ "format": "i420", "frames": 3 })).is_ok());
    }
}
