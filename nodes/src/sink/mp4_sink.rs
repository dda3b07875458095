//! `mp4_sink`: records H.264 video, and the AAC audio of its `audio` input
//! when connected (in step with the video), to an MP4 file that players,
//! editors and ffprobe read. The file is fragmented MP4, written one fragment per group of
//! pictures, so memory stays flat and a file cut short by a crash plays up to
//! its last fragment.

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ooblex_runtime::{
    Frame, InputPortSpec, Node, NodeContext, NodeError, NodeKind, OutputPortSpec, ParamIssue, Sink, StreamId,
    sink_node_with_inputs,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::codec::h264_decode::H264_IN;
use crate::media::aac::AUDIO_IN;
use crate::media::fmp4::{Output, Segmenter};
use crate::params::check_output_dir;
use crate::sink::count_audio;

/// Params of `mp4_sink`. Changing them restarts the node, which starts the file again.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Mp4SinkParams {
    /// Path of the `.mp4` file (replaced if it exists). Frames of a named stream
    /// (an RTMP key) go to `<stem>-<stream>.mp4` beside it.
    pub path: String,
}

/// The `mp4_sink` node kind.
pub struct Mp4Sink;

impl NodeKind for Mp4Sink {
    type Params = Mp4SinkParams;
    const NAME: &'static str = "mp4_sink";
    const DESCRIPTION: &'static str =
        "records H.264 video and optional AAC audio to an MP4 file (fragmented, one fragment per keyframe)";
    const INPUTS: &'static [InputPortSpec] = &[H264_IN, AUDIO_IN];
    const OUTPUTS: &'static [OutputPortSpec] = &[];

    fn check(params: &Mp4SinkParams) -> Vec<ParamIssue> {
        check_output_dir(&params.path)
    }

    fn build(params: &Mp4SinkParams) -> Result<Box<dyn Node>, NodeError> {
        Ok(sink_node_with_inputs(
            Mp4SinkNode {
                path: PathBuf::from(&params.path),
                recordings: HashMap::new(),
                with_audio: false,
            },
            H264_IN.name,
        ))
    }
}

/// Fragments start at the first keyframe a second after the last one began,
/// and at any picture after ten seconds.
const FRAGMENT: Duration = Duration::from_secs(1);
const LONGEST_FRAGMENT: Duration = Duration::from_secs(10);

struct Mp4SinkNode {
    path: PathBuf,
    recordings: HashMap<StreamId, Recording>,
    /// Whether the graph connects the `audio` input.
    with_audio: bool,
}

/// One stream's file.
struct Recording {
    /// The file being written and its path, once the first keyframe came.
    file: Option<(File, PathBuf)>,
    /// Where it goes; a change of picture size starts `<stem>-<n>.mp4`.
    path: PathBuf,
    /// Files started for this stream.
    files: u32,
    segmenter: Segmenter,
}

impl Sink for Mp4SinkNode {
    fn start(&mut self, ctx: &NodeContext) -> Result<(), NodeError> {
        self.with_audio = ctx.input(AUDIO_IN.name).is_some();
        Ok(())
    }

    fn consume(&mut self, frame: Frame, ctx: &NodeContext) -> Result<(), NodeError> {
        let recording = self.recording(&frame.stream);
        let outputs = recording
            .segmenter
            .push(&frame)
            .map_err(|err| NodeError::frame(format!("`mp4_sink` frame {}: {err}", frame.seq)));
        count_audio(&mut recording.segmenter, ctx);
        for output in outputs? {
            recording.write(output)?;
        }
        Ok(())
    }

    fn consume_other(&mut self, _port: &str, frame: Frame, ctx: &NodeContext) -> Result<(), NodeError> {
        let recording = self.recording(&frame.stream);
        let outputs = recording
            .segmenter
            .push_audio(&frame)
            .map_err(|err| NodeError::frame(format!("`mp4_sink` audio frame {}: {err}", frame.seq)));
        count_audio(&mut recording.segmenter, ctx);
        for output in outputs? {
            recording.write(output)?;
        }
        Ok(())
    }

    /// Writes the stream's last fragment; should the stream start again, the
    /// file goes on.
    fn end_stream(&mut self, stream: &StreamId, ctx: &NodeContext) -> Result<(), NodeError> {
        match self.recordings.get_mut(stream) {
            Some(recording) => recording.write_last_fragment(ctx),
            None => Ok(()),
        }
    }

    fn finish(&mut self, ctx: &NodeContext) -> Result<(), NodeError> {
        for recording in self.recordings.values_mut() {
            recording.write_last_fragment(ctx)?;
            if let Some((file, path)) = &recording.file {
                file.sync_data()
                    .map_err(|err| NodeError::failed(format!("cannot finish `{}`: {err}", path.display())))?;
            }
        }
        Ok(())
    }
}

impl Mp4SinkNode {
    /// The recording of `stream`, started on its first frame.
    fn recording(&mut self, stream: &StreamId) -> &mut Recording {
        let (path, with_audio) = (&self.path, self.with_audio);
        self.recordings.entry(stream.clone()).or_insert_with(|| Recording {
            file: None,
            path: stream_path(path, stream),
            files: 0,
            segmenter: Segmenter::new(FRAGMENT, Some(LONGEST_FRAGMENT), with_audio),
        })
    }
}

impl Recording {
    /// Writes what is held: the fragment being filled and its audio.
    fn write_last_fragment(&mut self, ctx: &NodeContext) -> Result<(), NodeError> {
        let outputs = self.segmenter.finish();
        count_audio(&mut self.segmenter, ctx);
        outputs.into_iter().try_for_each(|output| self.write(output))
    }

    fn write(&mut self, output: Output) -> Result<(), NodeError> {
        let data = match output {
            Output::Init(header) => {
                self.files += 1;
                let path = numbered(&self.path, self.files);
                if self.files > 1 {
                    tracing::warn!(
                        "`mp4_sink`: the picture size, H.264 parameters or audio changed; going on in `{}`",
                        path.display()
                    );
                }
                let file = File::create(&path)
                    .map_err(|err| NodeError::failed(format!("cannot create `{}`: {err}", path.display())))?;
                self.file = Some((file, path));
                header
            }
            Output::Fragment { data, .. } => data,
        };
        let (file, path) = self.file.as_mut().expect("the header comes before any fragment");
        file.write_all(&data)
            .map_err(|err| NodeError::failed(format!("cannot write `{}`: {err}", path.display())))
    }
}

/// `path` for the default stream; `<stem>-<stream>.<ext>` for a named one.
fn stream_path(path: &Path, stream: &StreamId) -> PathBuf {
    if stream.is_default() {
        return path.to_path_buf();
    }
    let name: String = stream
        .as_str()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    with_suffix(path, &name)
}

/// The `n`-th file of a recording: `path` itself for the first, `<stem>-<n>.<ext>` after.
fn numbered(path: &Path, n: u32) -> PathBuf {
    if n <= 1 {
        path.to_path_buf()
    } else {
        with_suffix(path, &n.to_string())
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let stem = path.file_stem().map(|s| s.to_string_lossy()).unwrap_or_default();
    let name = match path.extension() {
        Some(ext) => format!("{stem}-{suffix}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{suffix}"),
    };
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_streams_and_later_files_get_their_own_names() {
        let path = Path::new("/tmp/rec/out.mp4");
        assert_eq!(stream_path(path, &StreamId::default()), path);
        assert_eq!(
            stream_path(path, &StreamId::new("cam/1")),
            Path::new("/tmp/rec/out-cam_1.mp4")
        );
        assert_eq!(numbered(path, 2), Path::new("/tmp/rec/out-2.mp4"));
    }
}
