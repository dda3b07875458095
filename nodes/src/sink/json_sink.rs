//! `json_sink`: one JSON object per frame (JSON Lines), to a file or stdout,
//! for scripts and tests that follow what a graph sees.

use std::fs::File;
use std::io::{BufWriter, Write};

use ooblex_runtime::{
    Detection, Frame, InputPortSpec, MediaType, Node, NodeContext, NodeError, NodeKind, OutputPortSpec, ParamIssue,
    Sink, TensorData, sink_node,
};
use schemars::JsonSchema;

use crate::params::check_output_dir;
use serde::{Deserialize, Serialize};

/// Params of `json_sink`. Changing them restarts the node, which starts the file again.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct JsonSinkParams {
    /// File to write (replaced if it exists); absent or `-` writes to standard output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// The `json_sink` node kind.
pub struct JsonSink;

impl NodeKind for JsonSink {
    type Params = JsonSinkParams;
    const NAME: &'static str = "json_sink";
    const DESCRIPTION: &'static str =
        "writes one JSON line per frame (stream, seq, pts, size, latency, detections, tensors)";
    const INPUTS: &'static [InputPortSpec] = &[InputPortSpec::new(
        "video",
        &[
            MediaType::RawVideo,
            MediaType::Jpeg,
            MediaType::Detections,
            MediaType::Tensor,
        ],
        true,
    )];
    const OUTPUTS: &'static [OutputPortSpec] = &[];

    fn check(params: &JsonSinkParams) -> Vec<ParamIssue> {
        match params.path.as_deref() {
            None | Some("-") => Vec::new(),
            Some(path) => check_output_dir(path),
        }
    }

    fn build(params: &JsonSinkParams) -> Result<Box<dyn Node>, NodeError> {
        let out: Box<dyn Write + Send> = match params.path.as_deref() {
            None | Some("-") => Box::new(std::io::stdout()),
            Some(path) => Box::new(
                File::create(path).map_err(|err| NodeError::startup(format!("cannot create `{path}`: {err}")))?,
            ),
        };
        Ok(sink_node(JsonSinkNode {
            target: params.path.clone().unwrap_or_else(|| "-".to_string()),
            out: BufWriter::new(out),
        }))
    }
}

/// One line of output.
#[derive(Serialize)]
struct Record<'a> {
    node: &'a str,
    /// The stream (an RTMP key), left out for a single-stream source.
    #[serde(skip_serializing_if = "str::is_empty")]
    stream: &'a str,
    seq: u64,
    pts_ms: f64,
    width: u32,
    height: u32,
    latency_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    detections: Option<&'a [Detection]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tensors: Option<Vec<TensorSummary<'a>>>,
}

/// Tensors longer than this are summarised without their values.
const MAX_TENSOR_VALUES: usize = 64;

/// A model output as written: shape and range always, values when short.
#[derive(Serialize)]
struct TensorSummary<'a> {
    name: &'a str,
    shape: &'a [usize],
    min: f32,
    max: f32,
    mean: f32,
    #[serde(skip_serializing_if = "Option::is_none")]
    values: Option<&'a [f32]>,
}

impl<'a> TensorSummary<'a> {
    fn of(tensor: &'a TensorData) -> TensorSummary<'a> {
        let data = &tensor.data[..];
        let (min, max) = data.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
        let mean = data.iter().map(|&v| f64::from(v)).sum::<f64>() / data.len().max(1) as f64;
        TensorSummary {
            name: &tensor.name,
            shape: &tensor.shape,
            min,
            max,
            mean: mean as f32,
            values: (data.len() <= MAX_TENSOR_VALUES).then_some(data),
        }
    }
}

struct JsonSinkNode {
    /// The path, or `-` for stdout, for messages.
    target: String,
    out: BufWriter<Box<dyn Write + Send>>,
}

impl JsonSinkNode {
    fn write_error(&self, err: impl std::fmt::Display) -> NodeError {
        NodeError::failed(format!("cannot write to `{}`: {err}", self.target))
    }
}

impl Sink for JsonSinkNode {
    fn consume(&mut self, frame: Frame, ctx: &NodeContext) -> Result<(), NodeError> {
        let record = Record {
            node: &ctx.id,
            stream: frame.stream.as_str(),
            seq: frame.seq,
            pts_ms: frame.pts.as_secs_f64() * 1000.0,
            width: frame.width,
            height: frame.height,
            latency_ms: frame.age().as_secs_f64() * 1000.0,
            detections: frame.meta.detections.as_deref(),
            tensors: frame
                .meta
                .tensors
                .as_ref()
                .map(|tensors| tensors.iter().map(TensorSummary::of).collect()),
        };
        serde_json::to_writer(&mut self.out, &record).map_err(|err| self.write_error(err))?;
        // Others tail the file while the graph runs: every line goes out whole, at once.
        self.out
            .write_all(b"\n")
            .and_then(|()| self.out.flush())
            .map_err(|err| self.write_error(err))
    }

    fn finish(&mut self, _ctx: &NodeContext) -> Result<(), NodeError> {
        self.out.flush().map_err(|err| self.write_error(err))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use ooblex_runtime::testing::{Harness, frame_from_fn};
    use ooblex_runtime::{Metadata, PixelFormat};
    use serde_json::{Value, json};

    use super::*;
    use crate::test_util::{kind, temp_path};

    #[test]
    fn writes_one_line_per_frame_with_the_exact_fields() {
        let path = temp_path("frames.jsonl");
        let plain = frame_from_fn(PixelFormat::Rgb24, 4, 2, 0, |_, _, _| 0);
        let mut detected = frame_from_fn(PixelFormat::Rgb24, 4, 2, 1, |_, _, _| 0);
        detected.stream = ooblex_runtime::StreamId::new("studio");
        detected.meta = Arc::new(Metadata {
            detections: Some(vec![Detection {
                label: "face".to_string(),
                score: 0.5,
                bbox: [1.0, 2.0, 3.0, 4.0],
                landmarks: Vec::new(),
            }]),
            ..Metadata::default()
        });
        let out = Harness::new(&kind("json_sink"), json!({ "path": path }))
            .input("video", vec![plain, detected])
            .run();
        out.result.expect("the sink ends cleanly");
        let text = std::fs::read_to_string(&path).expect("the file was written");
        std::fs::remove_file(&path).ok();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("each line is JSON"))
            .collect();
        assert_eq!(lines.len(), 2);
        let keys = |v: &Value| v.as_object().expect("an object").keys().cloned().collect::<Vec<_>>();
        assert_eq!(
            keys(&lines[0]),
            ["height", "latency_ms", "node", "pts_ms", "seq", "width"]
        );
        assert_eq!(lines[0]["node"], "under_test");
        assert_eq!(lines[1]["stream"], "studio", "a named stream is said");
        assert_eq!(
            (lines[1]["seq"].as_u64(), lines[1]["pts_ms"].as_f64()),
            (Some(1), Some(33.0))
        );
        assert_eq!(lines[1]["width"], 4);
        assert!(lines[1]["latency_ms"].as_f64().is_some_and(|ms| ms >= 0.0));
        assert_eq!(
            lines[1]["detections"],
            json!([{ "label": "face", "score": 0.5, "box": [1.0, 2.0, 3.0, 4.0] }])
        );
    }

    #[test]
    fn an_uncreatable_file_fails_at_startup() {
        assert!(
            kind("json_sink")
                .prepare(json!({ "path": "/no/such/dir/x.jsonl" }))
                .is_err()
        );
        // A folder where the file should be: the check passes, creating it fails.
        let path = std::env::temp_dir().display().to_string();
        let out = Harness::new(&kind("json_sink"), json!({ "path": path }))
            .input("video", Vec::new())
            .run();
        assert!(matches!(out.result, Err(NodeError::Startup(m)) if m.contains(&path)));
    }
}
