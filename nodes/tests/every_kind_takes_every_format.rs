//! Every kind with a raw video input runs behind a source of each pixel format
//! and behind `h264_decode`: validation converts on the edges where needed, and
//! every frame reaches the node and the sink after it, none skipped for its format.
//! Each frame a node sends is checked (in debug builds, as tests run) against
//! the formats its kind declares: a kind that gives another one fails here.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ooblex_runtime::{NodeState, PixelFormat, RunningGraph, RuntimeEnv, load_str, validate};
use serde_json::{Value, json};

/// Frames each source sends.
const FRAMES: u64 = 3;

/// Params for kinds that have required params; every other kind runs with
/// none. Files are written to `dir`.
fn params_of(kind: &str, dir: &Path) -> Option<Value> {
    let model = |name: &str| {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../models")
            .join(format!("{name}.yaml"))
            .display()
            .to_string()
    };
    Some(match kind {
        "convert" => json!({ "format": "nv12" }),
        "scale" => json!({ "width": 80, "height": 60 }),
        "infer" => json!({ "model": model("blazeface") }),
        "y4m_sink" => {
            json!({ "path": dir.join("out.y4m").display().to_string() })
        }
        "json_sink" => {
            json!({ "path": dir.join("out.jsonl").display().to_string() })
        }
        // Publishes where nobody listens: the frames still reach it.
        "zenoh_sink" => json!({ "key": "ooblex-test/every-kind/frames" }),
        _ => return None,
    })
}

/// Kinds left out here, and why.
const LEFT_OUT: &[(&str, &str)] = &[
    (
        "rtmp_sink",
        "pushes to an RTMP server; tests/gstreamer_media.rs runs it",
    ),
    (
        "gst_sink",
        "runs a user's GStreamer description; tests/gstreamer_media.rs runs it",
    ),
];

/// A kind under test: its name, params, required inputs and whether it is a sink.
struct Kind {
    name: &'static str,
    params: Value,
    inputs: Vec<&'static str>,
    is_sink: bool,
}

/// The kinds under test: every kind whose first input takes raw video.
fn kinds(dir: &Path) -> Vec<Kind> {
    let registry = ooblex_nodes::registry();
    let mut kinds = Vec::new();
    let mut unprepared = Vec::new();
    let under_test = registry
        .kinds()
        .filter(|k| k.inputs.first().is_some_and(|p| p.takes_raw()))
        .filter(|k| !LEFT_OUT.iter().any(|(name, _)| *name == k.name));
    for kind in under_test {
        let params = params_of(kind.name, dir).unwrap_or_else(|| json!({}));
        match kind.prepare(params.clone()) {
            Ok(_) => kinds.push(Kind {
                name: kind.name,
                params,
                inputs: kind.inputs.iter().filter(|p| p.required).map(|p| p.name).collect(),
                is_sink: kind.outputs.is_empty(),
            }),
            Err(issues) => unprepared.push(format!("`{}`: {issues:?}", kind.name)),
        }
    }
    assert!(
        unprepared.is_empty(),
        "these kinds need params to run here; add them to `params_of`:\n{}",
        unprepared.join("\n")
    );
    kinds
}

/// A graph of `source` (YAML nodes feeding `head`) and every kind under
/// test behind `head`, each followed by a `null_sink` unless it is a sink.
fn graph(name: &str, source: &str, dir: &Path) -> String {
    let mut yaml = format!("version: 1\nname: {name}\nnodes:\n{source}");
    for (i, kind) in kinds(dir).into_iter().enumerate() {
        let inputs: Vec<String> = kind
            .inputs
            .iter()
            .map(|port| format!("{port}: {{ from: head, policy: block }}"))
            .collect();
        yaml.push_str(&format!(
            "  k{i}: {{ kind: {}, params: {}, inputs: {{ {} }} }}\n",
            kind.name,
            kind.params,
            inputs.join(", ")
        ));
        if !kind.is_sink {
            yaml.push_str(&format!(
                "  s{i}: {{ kind: null_sink, inputs: {{ video: {{ from: k{i}, policy: block }} }} }}\n"
            ));
        }
    }
    yaml
}

/// Runs `yaml` to its end and checks that every node under test and every
/// sink took every frame, with no frame error, failure or restart.
fn runs_every_frame_through(yaml: &str, what: &str, dir: &Path) {
    let loaded = load_str(what, yaml).unwrap_or_else(|e| panic!("{}", e.render(false)));
    let graph = validate(&loaded, &ooblex_nodes::registry()).unwrap_or_else(|e| panic!("{}", e.render(false)));
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let env = RuntimeEnv::default();
    let snapshots = runtime.block_on(async {
        let mut running = RunningGraph::start(graph, &env);
        tokio::time::timeout(Duration::from_secs(180), running.wait())
            .await
            .unwrap_or_else(|_| panic!("{what}: the graph ends"));
        env.metrics.snapshots()
    });
    // Nodes under test (`k<i>`, every input fed by `head`) and their sinks
    // (`s<i>`). A compositor follows its first input: it may end before it
    // read the last frame of another, so its sink's count is what counts.
    let frames_in = |id: &str| {
        snapshots
            .iter()
            .find(|n| n.node == id)
            .unwrap_or_else(|| panic!("{what}: `{id}` reports"))
            .frames_in
    };
    for node in &snapshots {
        assert_eq!(node.frame_errors, 0, "{what}: {node:?}");
        assert_eq!(node.restarts, 0, "{what}: {node:?}");
        assert_eq!(node.state, NodeState::Finished, "{what}: {node:?}");
    }
    for (i, kind) in kinds(dir).iter().enumerate() {
        let last = if kind.is_sink { format!("k{i}") } else { format!("s{i}") };
        assert_eq!(
            frames_in(&last),
            FRAMES,
            "{what}: every frame goes through `{}`",
            kind.name
        );
        assert!(
            frames_in(&format!("k{i}")) >= FRAMES,
            "{what}: every frame reaches `{}`",
            kind.name
        );
    }
}

/// A fresh directory for one graph's files.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ooblex-formats-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the temp dir is writable");
    dir
}

fn pattern(format: PixelFormat) -> String {
    format!(
        "  head: {{ kind: test_pattern, params: {{ width: 160, height: 120, frames: {FRAMES}, format: {} }} }}\n",
        format.name()
    )
}

#[test]
fn every_kind_runs_behind_a_source_of_each_pixel_format() {
    for format in PixelFormat::RAW {
        let dir = scratch(&format!("from-{}", format.name()));
        let yaml = graph(&format!("from-{}", format.name()), &pattern(format), &dir);
        runs_every_frame_through(&yaml, &format!("behind a {format} source"), &dir);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn every_kind_runs_behind_h264_decode() {
    let source = format!(
        "{}  encode: {{ kind: h264_encode, inputs: {{ video: {{ from: pattern, policy: block }} }} }}\n  \
         head: {{ kind: h264_decode, inputs: {{ video: {{ from: encode, policy: block }} }} }}\n",
        pattern(PixelFormat::Rgb24).replacen("head:", "pattern:", 1)
    );
    let dir = scratch("from-h264");
    runs_every_frame_through(&graph("from-h264", &source, &dir), "behind h264_decode", &dir);
    let _ = std::fs::remove_dir_all(&dir);
}
