//! `ooblex bench` runs a graph headless, once per `--size`, and reports each node's throughput.

mod support;

use std::path::PathBuf;
use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::ooblex;

/// test_pattern → pixelate → null_sink, plus a JSON Lines log that shows the frame size.
const GRAPH: &str = "version: 1
name: bench-small
nodes:
  cam:
    kind: test_pattern
    params: { width: 64, height: 48, fps: 30 }
  pix:
    kind: pixelate
    inputs: { video: cam }
  out:
    kind: null_sink
    inputs: { video: pix }
  log:
    kind: json_sink
    inputs: { video: pix }
    params: { path: frames.jsonl }
";

/// A fresh directory holding `graph.yaml`.
fn graph_dir(name: &str, graph: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ooblex-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir is writable");
    std::fs::write(dir.join("graph.yaml"), graph).expect("temp dir is writable");
    dir
}

fn bench(dir: &PathBuf, args: &[&str]) -> Output {
    ooblex()
        .current_dir(dir)
        .args(["bench", "graph.yaml"])
        .args(args)
        .output()
        .expect("the ooblex binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

#[test]
fn bench_reports_every_node_once_per_size() {
    let dir = graph_dir("sizes", GRAPH);
    let out = bench(
        &dir,
        &[
            "--duration",
            "1",
            "--warmup",
            "0.5",
            "--size",
            "320x240",
            "--size",
            "160x120",
            "--json",
            "out.json",
        ],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("`bench-small` at 320x240"), "{stdout}");
    assert!(stdout.contains("summary: output "), "{stdout}");

    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("out.json")).expect("--json wrote the file"))
            .expect("the report is JSON");
    let runs = json.as_array().expect("one object per size");
    assert_eq!(runs.len(), 2, "{json:#}");
    for (run, (size, width, height)) in runs.iter().zip([("320x240", 320, 240), ("160x120", 160, 120)]) {
        assert_eq!(
            (&run["size"], &run["width"], &run["height"]),
            (&size.into(), &width.into(), &height.into())
        );
        assert_eq!(run["graph"], "bench-small");
        assert_eq!(run["paced"], true);
        let nodes = run["nodes"].as_array().expect("nodes are listed");
        let node = |id: &str| {
            nodes
                .iter()
                .find(|n| n["node"] == id)
                .unwrap_or_else(|| panic!("node `{id}` in {run:#}"))
        };
        assert_eq!(node("cam")["kind"], "test_pattern");
        assert_eq!(node("cam")["role"], "source");
        assert_eq!(node("pix")["kind"], "pixelate");
        assert_eq!(node("out")["kind"], "null_sink");
        assert_eq!(node("out")["role"], "sink");
        for id in ["cam", "pix", "out"] {
            let fps = node(id)["fps"].as_f64().expect("fps is a number");
            assert!(fps > 0.0, "`{id}` ran at {fps} fps");
        }
        assert!(node("pix")["process_ms"]["p50"].as_f64().is_some(), "{run:#}");
        assert!(node("out")["latency_ms"]["p95"].as_f64().is_some(), "{run:#}");
        assert!(
            run["summary"]["output_fps"].as_f64().is_some_and(|fps| fps > 0.0),
            "{run:#}"
        );
        assert!(run["machine"]["cores"].as_u64().is_some_and(|c| c >= 1), "{run:#}");
    }
    // The last run wrote the log: its frames have the size asked for, not the graph's.
    let log = std::fs::read_to_string(dir.join("frames.jsonl")).expect("json_sink wrote its file");
    let last: Value = serde_json::from_str(log.lines().last().expect("frames were logged")).expect("a JSON line");
    assert_eq!((&last["width"], &last["height"]), (&160.into(), &120.into()), "{last}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bench_stops_when_every_source_has_ended() {
    let dir = graph_dir("finite", &GRAPH.replace("fps: 30 }", "fps: 30, frames: 15 }"));
    let started = Instant::now();
    let out = bench(&dir, &["--duration", "30", "--warmup", "0", "--json", "out.json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "bench ran its whole duration"
    );
    let json: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("out.json")).expect("--json wrote"))
        .expect("the report is JSON");
    assert_eq!(json[0]["ended"], "graph_ended", "{json:#}");
    assert_eq!(json[0]["size"], Value::Null);
    let out_node = json[0]["nodes"]
        .as_array()
        .and_then(|n| n.iter().find(|n| n["node"] == "out"));
    assert_eq!(out_node.map(|n| &n["frames_out"]), Some(&15.into()), "{json:#}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bad_override_fails_with_the_validation_error() {
    let dir = graph_dir("bad-set", GRAPH);
    let out = bench(&dir, &["--duration", "1", "--set", "pix.blocc=8"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("unknown param `blocc`"), "{stderr}");
    assert!(stderr.contains("did you mean `block`?"), "{stderr}");
    assert!(stderr.contains("graph.yaml:"), "the place in the file: {stderr}");
    assert!(stderr.contains("note: checked with --set pix.blocc=8"), "{stderr}");

    let out = bench(&dir, &["--duration", "1", "--set", "pixx.block=8"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("the graph has no node `pixx`"), "{stderr}");
    assert!(stderr.contains("did you mean `pix`?"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
