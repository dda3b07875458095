//! Editing the graph file (or POSTing a graph) while it runs changes only what
//! changed: an untouched branch loses no frame, an invalid edit changes nothing.

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use support::{MjpegReader, Server};

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let dir = std::env::temp_dir().join(format!("ooblex-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir is writable");
        Dir(dir)
    }
    fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Two independent branches, each a test pattern into a JSON Lines file.
fn two_branches(dir: &Dir, b_width: u32, extra: &str) -> String {
    let a = dir.path("a.jsonl").display().to_string();
    let b = dir.path("b.jsonl").display().to_string();
    format!(
        "version: 1\nname: branches\nnodes:\n  cam_a: {{ kind: test_pattern, params: {{ width: 64, height: 48, fps: 60 }} }}\n  sink_a: {{ kind: json_sink, inputs: {{ video: cam_a }}, params: {{ path: \"{a}\" }} }}\n  cam_b: {{ kind: test_pattern, params: {{ width: {b_width}, height: 48, fps: 60 }} }}\n  sink_b: {{ kind: json_sink, inputs: {{ video: cam_b }}, params: {{ path: \"{b}\" }} }}\n{extra}"
    )
}

fn records(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Waits until `check` holds for the records of `path`.
fn wait_for(path: &Path, what: &str, check: impl Fn(&[serde_json::Value]) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if check(&records(path)) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("timed out waiting for {what} in {}", path.display());
}

fn assert_consecutive(records: &[serde_json::Value]) {
    let seqs: Vec<u64> = records.iter().filter_map(|r| r["seq"].as_u64()).collect();
    let gaps: Vec<_> = seqs.windows(2).filter(|w| w[1] != w[0] + 1).collect();
    assert!(gaps.is_empty(), "the untouched branch lost frames: {gaps:?}");
}

/// Replaces the file the way editors that save by rename do.
fn save_by_rename(path: &Path, text: &str) {
    let temp = path.with_extension("yaml.tmp");
    std::fs::write(&temp, text).expect("temp dir is writable");
    std::fs::rename(&temp, path).expect("rename works");
}

#[test]
fn editing_one_branch_leaves_the_other_without_a_gap() {
    let dir = Dir::new("reload-edit");
    let graph = dir.path("graph.yaml");
    std::fs::write(&graph, two_branches(&dir, 64, "")).expect("temp dir is writable");
    let server = Server::start(graph.to_str().expect("utf-8 path"), &["--no-status"]);
    wait_for(&dir.path("a.jsonl"), "frames of A", |r| r.len() > 20);

    // An edit of B's params, written in place.
    std::fs::write(&graph, two_branches(&dir, 96, "")).expect("temp dir is writable");
    wait_for(&dir.path("b.jsonl"), "B at its new width", |r| {
        r.iter().any(|x| x["width"] == 96)
    });

    // An invalid edit: reported, and both branches keep running.
    let invalid = two_branches(&dir, 96, "").replace(
        "kind: json_sink, inputs: { video: cam_b }",
        "kind: json_snk, inputs: { video: cam_b }",
    );
    save_by_rename(&graph, &invalid);
    std::thread::sleep(Duration::from_millis(500));
    let (a_before, b_before) = (records(&dir.path("a.jsonl")).len(), records(&dir.path("b.jsonl")).len());
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        records(&dir.path("a.jsonl")).len() > a_before,
        "A keeps running after an invalid edit"
    );
    assert!(
        records(&dir.path("b.jsonl")).len() > b_before,
        "B keeps running after an invalid edit"
    );

    // Fixing the file applies normally, here by rename with a new node added.
    let extra = "  cam_c: { kind: test_pattern, params: { width: 32, height: 32, fps: 30 } }\n  sink_c: { kind: null_sink, inputs: { video: cam_c } }\n";
    save_by_rename(&graph, &two_branches(&dir, 128, extra));
    wait_for(&dir.path("b.jsonl"), "B at width 128", |r| {
        r.iter().any(|x| x["width"] == 128)
    });
    let graph_state: serde_json::Value =
        serde_json::from_str(&server.get("/api/graph").expect("graph API")).expect("JSON");
    let nodes: Vec<&str> = graph_state["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter_map(|n| n["node"].as_str())
        .collect();
    assert!(nodes.contains(&"cam_c") && nodes.contains(&"sink_c"), "{nodes:?}");
    let metrics = server.get("/metrics").expect("metrics");
    assert!(
        metrics.contains("ooblex_graph_reloads_total{result=\"applied\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("ooblex_graph_reloads_total{result=\"rejected\"} 1"),
        "{metrics}"
    );

    server.signal("INT");
    let (status, stderr) = server.wait(Duration::from_secs(10));
    assert!(status.success(), "{stderr}");
    assert!(
        stderr.contains("changed cam_b"),
        "the reload is logged with its diff:\n{stderr}"
    );
    assert!(
        stderr.contains("unknown node kind `json_snk`"),
        "the invalid edit is reported:\n{stderr}"
    );
    assert_consecutive(&records(&dir.path("a.jsonl")));
}

#[test]
fn post_api_graph_applies_with_the_token_and_rejects_invalid_graphs() {
    let dir = Dir::new("reload-post");
    let graph = dir.path("graph.yaml");
    std::fs::write(&graph, two_branches(&dir, 64, "")).expect("temp dir is writable");
    let server = Server::start(
        graph.to_str().expect("utf-8 path"),
        &["--no-status", "--no-watch", "--token", "s3cret"],
    );
    wait_for(&dir.path("a.jsonl"), "frames of A", |r| r.len() > 10);
    let url = format!("{}/api/graph", server.base);

    let ws_url = format!("{}/api/events", server.base.replace("http://", "ws://"));
    let (mut events, _) = tungstenite::connect(ws_url.as_str()).expect("the events WebSocket opens");

    // Renaming a node: the old id is removed, the new one added; A is untouched.
    let renamed = two_branches(&dir, 64, "").replace("cam_b", "camera_b");
    let denied = ureq::post(&url)
        .header("Content-Type", "application/yaml")
        .send(renamed.as_str());
    assert!(matches!(denied, Err(ureq::Error::StatusCode(401))), "{denied:?}");

    let mut response = ureq::post(&url)
        .header("Authorization", "Bearer s3cret")
        .header("Content-Type", "application/yaml")
        .send(renamed.as_str())
        .expect("an authorized valid graph is applied");
    let applied: serde_json::Value =
        serde_json::from_str(&response.body_mut().read_to_string().expect("body")).expect("JSON");
    assert_eq!(applied["diff"]["added"], serde_json::json!(["camera_b"]));
    assert_eq!(applied["diff"]["removed"], serde_json::json!(["cam_b"]));
    assert_eq!(applied["diff"]["changed"], serde_json::json!(["sink_b"]));
    assert_eq!(applied["diff"]["unchanged"], serde_json::json!(["cam_a", "sink_a"]));

    let reloaded = loop {
        let message = events.read().expect("events arrive");
        let event: serde_json::Value = serde_json::from_str(message.to_text().expect("text")).expect("JSON");
        if event["type"] == "graph_reloaded" {
            break event;
        }
        assert_eq!(event["type"], "node_state", "{event}");
    };
    assert_eq!(reloaded["diff"]["added"], serde_json::json!(["camera_b"]));

    let invalid = ureq::post(&url)
        .header("Authorization", "Bearer s3cret")
        .header("Content-Type", "application/yaml")
        .config()
        .http_status_as_error(false)
        .build()
        .send("version: 1\nname: x\nnodes:\n  a: { kind: nope }\n")
        .expect("the server answers");
    assert_eq!(invalid.status().as_u16(), 422);
    let body: serde_json::Value =
        serde_json::from_str(&invalid.into_body().read_to_string().expect("body")).expect("JSON");
    assert_eq!(body["errors"][0]["line"], 4);
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("unknown node kind `nope`")),
        "{body}"
    );

    std::thread::sleep(Duration::from_millis(300));
    server.signal("TERM");
    let (status, stderr) = server.wait(Duration::from_secs(10));
    assert!(status.success(), "{stderr}");
    assert_consecutive(&records(&dir.path("a.jsonl")));
}

#[test]
fn mjpeg_viewers_stay_connected_across_a_reload() {
    let dir = Dir::new("reload-mjpeg");
    let graph = dir.path("graph.yaml");
    let yaml = |quality: u32| {
        format!(
            "version: 1\nname: views\nnodes:\n  cam: {{ kind: test_pattern, params: {{ width: 320, height: 240, fps: 30 }} }}\n  changed: {{ kind: mjpeg_sink, inputs: {{ video: cam }}, params: {{ quality: {quality} }} }}\n  kept: {{ kind: mjpeg_sink, inputs: {{ video: cam }} }}\n"
        )
    };
    std::fs::write(&graph, yaml(20)).expect("temp dir is writable");
    let server = Server::start(graph.to_str().expect("utf-8 path"), &["--no-status"]);
    let mut changed = MjpegReader::open(&format!("{}/streams/changed.mjpg", server.base));
    let mut kept = MjpegReader::open(&format!("{}/streams/kept.mjpg", server.base));
    let low = changed.next_part().len();
    kept.next_part();

    save_by_rename(&graph, &yaml(95));
    // The same HTTP responses go on: the restarted sink's pictures (larger at
    // quality 95) arrive on the connection opened before the reload.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let size = changed.next_part().len();
        if size > low * 2 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no picture at the new quality arrived ({size} vs {low} bytes)"
        );
    }
    for _ in 0..5 {
        kept.next_part();
    }
}
