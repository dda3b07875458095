//! `y4m_sink`: writes raw video to a YUV4MPEG2 (`.y4m`) file that ffmpeg,
//! VLC and most encoders read.

use std::fs::File;
use std::io::{BufWriter, Write};

use ooblex_runtime::{
    Frame, InputPortSpec, Node, NodeContext, NodeError, NodeKind, OutputPortSpec, ParamIssue, PixelFormat, Sink,
    VIDEO_IN, sink_node,
};
use schemars::JsonSchema;

use crate::params::check_output_dir;
use serde::{Deserialize, Serialize};

use crate::media::pixels::convert;
use crate::media::raw::{ALL_RAW, RawMut, RawView, frame_bytes};
use crate::media::y4m::write_header;

/// Default frame rate written in the header.
pub const DEFAULT_FPS: f64 = 30.0;

/// Params of `y4m_sink`. Changing them restarts the node, which starts the file again.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Y4mSinkParams {
    /// Path of the `.y4m` file to write (replaced if it exists).
    pub path: String,
    /// Frame rate written in the file's header; frames are written as they come.
    #[serde(default = "default_fps")]
    #[schemars(range(min = 0.1, max = 240))]
    pub fps: f64,
}

fn default_fps() -> f64 {
    DEFAULT_FPS
}

/// The `y4m_sink` node kind.
pub struct Y4mSink;

impl NodeKind for Y4mSink {
    type Params = Y4mSinkParams;
    const NAME: &'static str = "y4m_sink";
    const DESCRIPTION: &'static str = "writes raw video to a YUV4MPEG2 (.y4m) file, 4:2:0 or mono";
    const INPUTS: &'static [InputPortSpec] = &[VIDEO_IN];
    const OUTPUTS: &'static [OutputPortSpec] = &[];

    fn check(params: &Y4mSinkParams) -> Vec<ParamIssue> {
        check_output_dir(&params.path)
    }

    fn build(params: &Y4mSinkParams) -> Result<Box<dyn Node>, NodeError> {
        let file = File::create(&params.path)
            .map_err(|err| NodeError::startup(format!("cannot create `{}`: {err}", params.path)))?;
        Ok(sink_node(Y4mSinkNode {
            path: params.path.clone(),
            fps: params.fps,
            out: BufWriter::with_capacity(1 << 20, file),
            stream: None,
            scratch: Vec::new(),
        }))
    }
}

/// What the header of the file being written says.
#[derive(Debug, Clone, Copy)]
struct StreamShape {
    width: u32,
    height: u32,
    /// I420, or gray8 when the first frame was gray.
    format: PixelFormat,
}

struct Y4mSinkNode {
    path: String,
    fps: f64,
    out: BufWriter<File>,
    /// Set by the first frame, when the header is written.
    stream: Option<StreamShape>,
    /// A converted frame, reused.
    scratch: Vec<u8>,
}

impl Y4mSinkNode {
    fn write_error(&self, err: std::io::Error) -> NodeError {
        NodeError::failed(format!("cannot write `{}`: {err}", self.path))
    }
}

impl Sink for Y4mSinkNode {
    fn consume(&mut self, frame: Frame, _ctx: &NodeContext) -> Result<(), NodeError> {
        let view = RawView::of(&frame, Y4mSink::NAME, ALL_RAW)?;
        let shape = match self.stream {
            Some(shape) => shape,
            None => {
                let format = if view.format == PixelFormat::Gray8 {
                    PixelFormat::Gray8
                } else {
                    PixelFormat::I420
                };
                let shape = StreamShape {
                    width: frame.width,
                    height: frame.height,
                    format,
                };
                write_header(&mut self.out, shape.width, shape.height, self.fps, format)
                    .map_err(|err| self.write_error(err))?;
                self.stream = Some(shape);
                shape
            }
        };
        if (frame.width, frame.height) != (shape.width, shape.height) {
            return Err(NodeError::frame(format!(
                "`y4m_sink` got a {}x{} frame but `{}` holds {}x{} frames; put a `scale` node before it",
                frame.width, frame.height, self.path, shape.width, shape.height
            )));
        }
        let written = if view.format == shape.format {
            write_planes(&mut self.out, &view)
        } else {
            let (w, h) = (view.width, view.height);
            self.scratch.resize(frame_bytes(shape.format, w, h), 0);
            convert(&view, &mut RawMut::new(&mut self.scratch, shape.format, w, h));
            self.out
                .write_all(b"FRAME\n")
                .and_then(|()| self.out.write_all(&self.scratch))
        };
        written.map_err(|err| self.write_error(err))
    }

    fn finish(&mut self, _ctx: &NodeContext) -> Result<(), NodeError> {
        self.out.flush().map_err(|err| self.write_error(err))
    }
}

/// Writes one frame of a view already in the file's format.
fn write_planes(out: &mut impl Write, view: &RawView<'_>) -> std::io::Result<()> {
    out.write_all(b"FRAME\n")?;
    for plane in view.planes() {
        match plane.tight_bytes() {
            Some(bytes) => out.write_all(bytes)?,
            None => {
                for row in plane.rows() {
                    out.write_all(row)?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::process::Command;
    use std::sync::atomic::Ordering;

    use ooblex_runtime::testing::{Harness, frame_from_fn};
    use serde_json::json;

    use super::*;
    use crate::test_util::{kind, temp_path};

    fn write(path: &std::path::Path, frames: Vec<Frame>) -> ooblex_runtime::testing::HarnessOutput {
        let out = Harness::new(&kind("y4m_sink"), json!({ "path": path, "fps": 25 }))
            .input("video", frames)
            .run();
        out.result.as_ref().expect("the sink ends cleanly");
        out
    }

    #[test]
    fn round_trips_through_y4m_source() {
        let path = temp_path("round-trip.y4m");
        let frames: Vec<Frame> = (0..3)
            .map(|seq| {
                frame_from_fn(PixelFormat::I420, 13, 7, seq, |x, y, c| {
                    ((x * 9 + y * 5 + c * 40) as u8).wrapping_add(seq as u8)
                })
            })
            .collect();
        write(&path, frames.clone());
        let read = Harness::new(&kind("y4m_source"), json!({ "path": path })).run();
        std::fs::remove_file(&path).ok();
        read.result.as_ref().expect("the source ends cleanly");
        assert_eq!(read.video().len(), 3);
        for (got, sent) in read.video().iter().zip(&frames) {
            assert_eq!((got.width, got.height, got.format), (13, 7, PixelFormat::I420));
            assert_eq!(got.buffer.as_slice(), sent.buffer.as_slice());
            assert_eq!(got.pts, std::time::Duration::from_millis(40 * got.seq));
        }
    }

    #[test]
    fn rgb_is_converted_and_gray_is_mono() {
        let rgb = temp_path("rgb.y4m");
        write(&rgb, vec![frame_from_fn(PixelFormat::Rgb24, 4, 2, 0, |_, _, _| 255)]);
        let bytes = std::fs::read(&rgb).expect("the file was written");
        std::fs::remove_file(&rgb).ok();
        let header_end = bytes.iter().position(|&b| b == b'\n').expect("a header line") + 1;
        assert!(bytes[..header_end].ends_with(b"C420jpeg XYSCSS=420JPEG\n"));
        assert_eq!(&bytes[header_end..header_end + 6], b"FRAME\n");
        assert_eq!(bytes.len() - header_end - 6, 8 + 2 + 2);
        assert_eq!(bytes[header_end + 6], 235, "white is Y 235");

        let gray = temp_path("gray.y4m");
        write(&gray, vec![frame_from_fn(PixelFormat::Gray8, 4, 2, 0, |_, _, _| 9)]);
        let bytes = std::fs::read(&gray).expect("the file was written");
        std::fs::remove_file(&gray).ok();
        assert!(bytes.starts_with(b"YUV4MPEG2 W4 H2 F25:1 Ip A1:1 Cmono\nFRAME\n"));
        assert_eq!(bytes.len(), 36 + 6 + 8);
    }

    #[test]
    fn a_frame_of_another_size_is_skipped_and_counted() {
        let path = temp_path("sizes.y4m");
        let frames = vec![
            frame_from_fn(PixelFormat::I420, 4, 4, 0, |_, _, _| 1),
            frame_from_fn(PixelFormat::I420, 8, 4, 1, |_, _, _| 1),
            frame_from_fn(PixelFormat::I420, 4, 4, 2, |_, _, _| 1),
        ];
        let out = write(&path, frames);
        let len = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        std::fs::remove_file(&path).ok();
        assert_eq!(out.metrics.frame_errors.load(Ordering::Relaxed), 1);
        assert_eq!(out.metrics.frames_out.load(Ordering::Relaxed), 2);
        let header = "YUV4MPEG2 W4 H4 F25:1 Ip A1:1 C420jpeg XYSCSS=420JPEG\n".len() as u64;
        assert_eq!(len, header + 2 * (6 + 24));
    }

    #[test]
    fn a_missing_folder_is_a_param_issue() {
        let issues = kind("y4m_sink")
            .prepare(json!({ "path": "/no/such/dir/out.y4m" }))
            .err()
            .expect("rejected");
        assert_eq!(issues[0].field, ["path"]);
        assert!(issues[0].message.contains("/no/such/dir"), "{:?}", issues[0]);
    }

    #[test]
    fn an_unwritable_path_fails_at_startup() {
        // A folder where the file should be: the check passes, creating it fails.
        let path = std::env::temp_dir().display().to_string();
        let out = Harness::new(&kind("y4m_sink"), json!({ "path": path }))
            .input("video", Vec::new())
            .run();
        match out.result {
            Err(NodeError::Startup(message)) => assert!(message.contains(&path), "{message}"),
            other => panic!("expected a startup error, got {other:?}"),
        }
    }

    #[test]
    fn ffmpeg_reads_the_output() {
        if Command::new("ffmpeg").arg("-version").output().is_err() {
            eprintln!("ffmpeg is not installed; skipping");
            return;
        }
        for format in [PixelFormat::Nv12, PixelFormat::Gray8] {
            let path = temp_path("ffmpeg.y4m");
            let frames = (0..5)
                .map(|seq| frame_from_fn(format, 31, 17, seq, |x, y, c| (x * 8 + y + c * 50) as u8))
                .collect();
            write(&path, frames);
            let status = Command::new("ffmpeg")
                .args(["-v", "error", "-i"])
                .arg(&path)
                .args(["-f", "null", "-"])
                .status()
                .expect("ffmpeg runs");
            std::fs::remove_file(&path).ok();
            assert!(status.success(), "ffmpeg rejected a {format} y4m file");
        }
    }
}
