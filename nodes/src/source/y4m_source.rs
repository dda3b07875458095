//! `y4m_source`: raw video from a YUV4MPEG2 (`.y4m`) file.

use std::fs::File;
use std::io::{BufReader, ErrorKind, Read, Seek, SeekFrom};

use ooblex_runtime::{
    BufferMut, FormatSet, Frame, Gives, InputPortSpec, Node, NodeContext, NodeError, NodeKind, OutputPortSpec,
    ParamIssue, PixelFormat, Source, source_node,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::media::raw::frame_bytes;
use crate::media::y4m::{Line, Y4mHeader, is_frame_line, parse_header, read_line};
use crate::params::check_file;
use crate::source::pacer::Pacer;

/// Default for `realtime`: read as fast as downstream takes frames.
pub const DEFAULT_REALTIME: bool = false;
/// Default for `loop`: end the stream at the end of the file.
pub const DEFAULT_LOOP: bool = false;

/// Params of `y4m_source`. Changing any of them restarts the node from the
/// start of the file.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Y4mSourceParams {
    /// Path of a `.y4m` file (4:2:0 8-bit or mono), relative to the directory ooblex runs in.
    pub path: String,
    /// Send frames at the file's frame rate (`true`) or as fast as downstream takes them (`false`).
    #[serde(default = "default_realtime")]
    pub realtime: bool,
    /// Start again from the first frame at the end of the file.
    #[serde(rename = "loop", default = "default_loop")]
    pub looping: bool,
}

fn default_realtime() -> bool {
    DEFAULT_REALTIME
}

fn default_loop() -> bool {
    DEFAULT_LOOP
}

/// The `y4m_source` node kind.
pub struct Y4mSource;

impl NodeKind for Y4mSource {
    type Params = Y4mSourceParams;
    const NAME: &'static str = "y4m_source";
    const DESCRIPTION: &'static str = "raw video from a YUV4MPEG2 (.y4m) file, 4:2:0 or mono";
    const INPUTS: &'static [InputPortSpec] = &[];
    const OUTPUTS: &'static [OutputPortSpec] = &[OutputPortSpec::video(Gives::Only(FormatSet::of(&[
        PixelFormat::I420,
        PixelFormat::Gray8,
    ])))];

    fn check(params: &Y4mSourceParams) -> Vec<ParamIssue> {
        check_file(&params.path, "a .y4m file")
    }

    fn build(params: &Y4mSourceParams) -> Result<Box<dyn Node>, NodeError> {
        let path = params.path.clone();
        let startup = |what: &dyn std::fmt::Display| NodeError::startup(format!("`{path}`: {what}"));
        let file = File::open(&path).map_err(|err| startup(&err))?;
        let mut reader = BufReader::with_capacity(1 << 20, file);
        let mut line = Vec::with_capacity(128);
        match read_line(&mut reader, &mut line).map_err(|err| startup(&err))? {
            Line::Complete => {}
            _ => return Err(startup(&"not a Y4M file (no header line)")),
        }
        let header = parse_header(&line).map_err(|err| startup(&err))?;
        let data_start = reader.stream_position().map_err(|err| startup(&err))?;
        Ok(source_node(Y4mSourceNode {
            frame_bytes: frame_bytes(header.format, header.width as usize, header.height as usize),
            pacer: Pacer::new(header.fps()),
            realtime: params.realtime,
            looping: params.looping,
            frames_this_pass: 0,
            seq: 0,
            path,
            reader,
            header,
            data_start,
            line,
        }))
    }
}

/// State of a running `y4m_source`.
struct Y4mSourceNode {
    path: String,
    reader: BufReader<File>,
    header: Y4mHeader,
    /// Where the first `FRAME` line starts, to loop back to.
    data_start: u64,
    frame_bytes: usize,
    pacer: Pacer,
    realtime: bool,
    looping: bool,
    frames_this_pass: u64,
    seq: u64,
    /// The last `FRAME` line read, reused.
    line: Vec<u8>,
}

impl Y4mSourceNode {
    /// The next frame's bytes, or `None` at the end of the file (a truncated
    /// or corrupt end is logged and ends the pass too).
    fn read_frame(&mut self, ctx: &NodeContext) -> Result<Option<BufferMut>, NodeError> {
        let failed = |err: std::io::Error| NodeError::failed(format!("cannot read `{}`: {err}", self.path));
        match read_line(&mut self.reader, &mut self.line).map_err(failed)? {
            Line::End => return Ok(None),
            Line::Complete if is_frame_line(&self.line) => {}
            Line::Truncated | Line::TooLong | Line::Complete => {
                tracing::warn!(node = %ctx.id, path = %self.path, "no `FRAME` line after frame {}; stopping there", self.frames_this_pass);
                return Ok(None);
            }
        }
        let mut buffer = ctx.alloc.alloc(self.frame_bytes);
        match self.reader.read_exact(&mut buffer) {
            Ok(()) => Ok(Some(buffer)),
            Err(err) if err.kind() == ErrorKind::UnexpectedEof => {
                tracing::warn!(node = %ctx.id, path = %self.path, "the last frame is truncated; dropping it");
                Ok(None)
            }
            Err(err) => Err(failed(err)),
        }
    }

    fn rewind(&mut self) -> Result<(), NodeError> {
        self.frames_this_pass = 0;
        self.reader
            .seek(SeekFrom::Start(self.data_start))
            .map(drop)
            .map_err(|err| NodeError::failed(format!("cannot seek in `{}`: {err}", self.path)))
    }
}

impl Source for Y4mSourceNode {
    fn next_frame(&mut self, ctx: &NodeContext) -> Result<Option<Frame>, NodeError> {
        let buffer = loop {
            match self.read_frame(ctx)? {
                Some(buffer) => break buffer,
                None if self.looping && self.frames_this_pass > 0 => self.rewind()?,
                None => return Ok(None),
            }
        };
        if self.realtime && !self.pacer.wait(self.seq, &ctx.shutdown) {
            return Ok(None);
        }
        let Y4mHeader {
            format, width, height, ..
        } = self.header;
        let frame = Frame::new(
            buffer.freeze(),
            format,
            width,
            height,
            self.pacer.pts(self.seq),
            self.seq,
        );
        self.seq += 1;
        self.frames_this_pass += 1;
        Ok(Some(frame))
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::time::{Duration, Instant};

    use ooblex_runtime::PixelFormat;
    use ooblex_runtime::testing::Harness;
    use serde_json::json;

    use super::*;
    use crate::test_util::{kind, temp_path};

    /// A file of `frames` 4x2 mono frames whose bytes are the frame number, then `tail`.
    fn mono_file(name: &str, frames: u8, tail: &[u8]) -> PathBuf {
        let path = temp_path(name);
        let mut bytes = b"YUV4MPEG2 W4 H2 F10:1 Ip Cmono XCOLORRANGE=FULL\n".to_vec();
        for n in 0..frames {
            bytes.extend_from_slice(if n % 2 == 0 { b"FRAME\n" } else { b"FRAME Ip XDUMMY=1\n" });
            bytes.extend_from_slice(&[n; 8]);
        }
        bytes.extend_from_slice(tail);
        std::fs::write(&path, bytes).expect("a temp file can be written");
        path
    }

    fn read(path: &PathBuf, params: serde_json::Value) -> ooblex_runtime::testing::HarnessOutput {
        let mut params = params;
        params["path"] = json!(path);
        // A looping source paces itself here: the harness drains its output only at the end.
        let out = Harness::new(&kind("y4m_source"), params)
            .timeout(Duration::from_millis(650))
            .run();
        std::fs::remove_file(path).ok();
        out
    }

    #[test]
    fn reads_mono_frames_with_frame_parameters() {
        let out = read(&mono_file("mono.y4m", 3, b""), json!({}));
        out.result.as_ref().expect("the source ends cleanly");
        let frames = out.video();
        assert_eq!(frames.len(), 3);
        for (n, frame) in frames.iter().enumerate() {
            assert_eq!(
                (frame.format, frame.width, frame.height, frame.seq),
                (PixelFormat::Gray8, 4, 2, n as u64)
            );
            assert_eq!(frame.buffer.as_slice(), &[n as u8; 8]);
            assert_eq!(frame.pts, Duration::from_millis(100 * n as u64));
        }
    }

    #[test]
    fn a_truncated_last_frame_ends_the_stream() {
        let out = read(&mono_file("truncated.y4m", 2, b"FRAME\n\x01\x02"), json!({}));
        out.result.as_ref().expect("a truncated file ends cleanly");
        assert_eq!(out.video().len(), 2);
    }

    #[test]
    fn garbage_after_a_frame_ends_the_stream() {
        let out = read(&mono_file("garbage.y4m", 1, b"JUNK\n"), json!({}));
        out.result.as_ref().expect("a corrupt end ends cleanly");
        assert_eq!(out.video().len(), 1);
    }

    #[test]
    fn loop_starts_again_with_increasing_seq() {
        let out = read(
            &mono_file("loop.y4m", 2, b""),
            json!({ "loop": true, "realtime": true }),
        );
        let frames = out.video();
        assert!(frames.len() > 4, "got {} frames", frames.len());
        assert_eq!(frames[3].seq, 3);
        assert_eq!(frames[3].buffer.as_slice(), &[1; 8]);
    }

    #[test]
    fn an_empty_file_with_loop_ends() {
        let out = read(&mono_file("empty.y4m", 0, b""), json!({ "loop": true }));
        out.result.as_ref().expect("an empty file ends cleanly");
        assert!(out.video().is_empty());
    }

    #[test]
    fn realtime_paces_at_the_file_rate() {
        let started = Instant::now();
        let out = read(&mono_file("realtime.y4m", 3, b""), json!({ "realtime": true }));
        assert_eq!(out.video().len(), 3);
        assert!(
            started.elapsed() >= Duration::from_millis(190),
            "3 frames at 10 fps take 200 ms"
        );
    }

    #[test]
    fn an_unsupported_colour_space_fails_at_startup_with_a_hint() {
        let path = temp_path("c444.y4m");
        std::fs::write(&path, b"YUV4MPEG2 W4 H2 F10:1 C444\nFRAME\n").expect("a temp file can be written");
        let out = read(&path, json!({}));
        match out.result {
            Err(NodeError::Startup(message)) => {
                assert!(
                    message.contains("c444.y4m") && message.contains("-pix_fmt yuv420p"),
                    "{message}"
                )
            }
            other => panic!("expected a startup error, got {other:?}"),
        }
    }

    #[test]
    fn reads_what_ffmpeg_writes() {
        for (pix_fmt, format) in [("yuv420p", PixelFormat::I420), ("gray", PixelFormat::Gray8)] {
            let path = temp_path("from-ffmpeg.y4m");
            let made = std::process::Command::new("ffmpeg")
                .args([
                    "-v",
                    "error",
                    "-f",
                    "lavfi",
                    "-i",
                    "testsrc=size=33x17:rate=25",
                    "-frames:v",
                    "3",
                ])
                .args(["-pix_fmt", pix_fmt, "-strict", "-1", "-y"])
                .arg(&path)
                .status();
            if !made.is_ok_and(|status| status.success()) {
                eprintln!("ffmpeg is not installed or failed; skipping");
                return;
            }
            let out = read(&path, json!({}));
            let frames = out.video();
            assert_eq!(frames.len(), 3, "{pix_fmt}");
            assert_eq!((frames[2].format, frames[2].width, frames[2].height), (format, 33, 17));
            assert_eq!(frames[2].pts, Duration::from_millis(80));
        }
    }

    #[test]
    fn a_missing_file_is_a_path_issue() {
        let issues = kind("y4m_source")
            .prepare(json!({ "path": "/no/such.y4m" }))
            .err()
            .expect("rejected");
        assert_eq!(issues[0].field, ["path"]);
    }
}
