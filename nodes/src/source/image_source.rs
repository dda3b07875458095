//! `image_source`: one PNG or JPEG picture, sent again and again as a live stream.

use ooblex_runtime::{
    Buffer, FormatSet, Frame, Gives, InputPortSpec, Node, NodeContext, NodeError, NodeKind, OutputPortSpec, ParamIssue,
    PixelFormat, Source, source_node,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::params::check_file;
use crate::source::pacer::Pacer;

/// Default frame rate.
pub const DEFAULT_FPS: f64 = 30.0;
/// Default for `loop`: send the picture until stopped.
pub const DEFAULT_LOOP: bool = true;

/// Params of `image_source`. Changing any of them restarts the node (and
/// decodes the file again).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImageSourceParams {
    /// Path of a PNG or JPEG file, relative to the directory ooblex runs in.
    pub path: String,
    /// Frames per second.
    #[serde(default = "default_fps")]
    #[schemars(range(min = 0.1, max = 240))]
    pub fps: f64,
    /// Send the picture until stopped (`true`) or once, then end the stream (`false`).
    #[serde(rename = "loop", default = "default_loop")]
    pub looping: bool,
}

fn default_fps() -> f64 {
    DEFAULT_FPS
}

fn default_loop() -> bool {
    DEFAULT_LOOP
}

/// The `image_source` node kind.
pub struct ImageSource;

impl NodeKind for ImageSource {
    type Params = ImageSourceParams;
    const NAME: &'static str = "image_source";
    const DESCRIPTION: &'static str = "a PNG or JPEG picture sent as a live stream at a frame rate";
    const INPUTS: &'static [InputPortSpec] = &[];
    const OUTPUTS: &'static [OutputPortSpec] = &[OutputPortSpec::video(Gives::Only(FormatSet::PACKED_RGB))];
    const LIVE: bool = true;

    fn check(params: &ImageSourceParams) -> Vec<ParamIssue> {
        check_file(&params.path, "a PNG or JPEG file")
    }

    fn build(params: &ImageSourceParams) -> Result<Box<dyn Node>, NodeError> {
        let (buffer, format, width, height) = decode(&params.path)?;
        Ok(source_node(ImageSourceNode {
            buffer,
            format,
            width,
            height,
            looping: params.looping,
            pacer: Pacer::new(params.fps),
            seq: 0,
        }))
    }
}

/// Decodes the picture at `path` once, as RGB (or RGBA when it has alpha).
fn decode(path: &str) -> Result<(Buffer, PixelFormat, u32, u32), NodeError> {
    let failed = |err: &dyn std::fmt::Display| NodeError::startup(format!("cannot read picture `{path}`: {err}"));
    let image = image::ImageReader::open(path)
        .map_err(|err| failed(&err))?
        .with_guessed_format()
        .map_err(|err| failed(&err))?
        .decode()
        .map_err(|err| failed(&err))?;
    let (width, height) = (image.width(), image.height());
    if image.color().has_alpha() {
        Ok((
            Buffer::from_vec(image.into_rgba8().into_raw()),
            PixelFormat::Rgba,
            width,
            height,
        ))
    } else {
        Ok((
            Buffer::from_vec(image.into_rgb8().into_raw()),
            PixelFormat::Rgb24,
            width,
            height,
        ))
    }
}

/// State of a running `image_source`.
struct ImageSourceNode {
    /// The decoded picture, shared by every frame (never copied).
    buffer: Buffer,
    format: PixelFormat,
    width: u32,
    height: u32,
    looping: bool,
    pacer: Pacer,
    seq: u64,
}

impl Source for ImageSourceNode {
    fn next_frame(&mut self, ctx: &NodeContext) -> Result<Option<Frame>, NodeError> {
        if !self.looping && self.seq > 0 {
            return Ok(None);
        }
        if !self.pacer.wait(self.seq, &ctx.shutdown) {
            return Ok(None);
        }
        let pts = self.pacer.pts(self.seq);
        let frame = Frame::new(self.buffer.clone(), self.format, self.width, self.height, pts, self.seq);
        self.seq += 1;
        Ok(Some(frame))
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::time::Duration;

    use ooblex_runtime::testing::Harness;
    use serde_json::json;

    use super::*;
    use crate::test_util::temp_path;

    fn kind() -> ooblex_runtime::KindInfo {
        crate::test_util::kind("image_source")
    }

    fn write_png(name: &str, alpha: bool) -> PathBuf {
        let path = temp_path(name);
        if alpha {
            image::RgbaImage::from_fn(8, 6, |x, y| image::Rgba([x as u8 * 30, y as u8 * 40, 7, 128])).save(&path)
        } else {
            image::RgbImage::from_fn(8, 6, |x, y| image::Rgb([x as u8 * 30, y as u8 * 40, 7])).save(&path)
        }
        .expect("a temp PNG can be written");
        path
    }

    #[test]
    fn sends_the_same_buffer_with_new_timing() {
        let path = write_png("rgb.png", false);
        let params = json!({ "path": path, "fps": 100 });
        let out = Harness::new(&kind(), params).timeout(Duration::from_millis(200)).run();
        std::fs::remove_file(&path).ok();
        let frames = out.video();
        assert!(frames.len() >= 3, "got {} frames", frames.len());
        assert_eq!(
            (frames[0].width, frames[0].height, frames[0].format),
            (8, 6, PixelFormat::Rgb24)
        );
        assert_eq!(&frames[0].buffer.as_slice()[3..6], &[30, 0, 7]);
        for (i, frame) in frames.iter().enumerate() {
            assert_eq!(frame.seq, i as u64);
            assert!(frame.buffer.shares_memory_with(&frames[0].buffer), "no per-frame copy");
        }
    }

    #[test]
    fn without_loop_sends_one_frame() {
        let path = write_png("alpha.png", true);
        let out = Harness::new(&kind(), json!({ "path": path, "loop": false })).run();
        std::fs::remove_file(&path).ok();
        out.result.as_ref().expect("the source ends cleanly");
        assert_eq!(out.video().len(), 1);
        assert_eq!(out.video()[0].format, PixelFormat::Rgba);
    }

    #[test]
    fn a_missing_file_is_a_path_issue() {
        let issues = kind()
            .prepare(json!({ "path": "/no/such/picture.png" }))
            .err()
            .expect("a missing file is rejected");
        assert_eq!(issues[0].field, ["path"]);
        assert!(issues[0].hint.is_some());
    }

    #[test]
    fn a_corrupt_file_fails_at_startup_naming_the_path() {
        let path = temp_path("corrupt.png");
        std::fs::write(&path, b"\x89PNG\r\n\x1a\nnot really").expect("a temp file can be written");
        let out = Harness::new(&kind(), json!({ "path": path })).run();
        std::fs::remove_file(&path).ok();
        match out.result {
            Err(NodeError::Startup(message)) => {
                assert!(message.contains("corrupt.png"), "{message}")
            }
            other => panic!("expected a startup error, got {other:?}"),
        }
    }
}
