//! Every graph in `graphs/` runs as a user runs it, from a fresh working
//! directory, with real input (ffmpeg publishing H.264 and AAC at 720p as OBS
//! does, where the graph has an `rtmp_source`), and every one of its sinks
//! takes frames: validating is not enough.

mod support;

use std::collections::BTreeMap;
use std::process::Child;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{Server, repo_root, scratch};

/// The bearer token the graphs run with, so the test may read their stream keys.
const TOKEN: &str = "every-graph-test";

/// How long a graph gets to bring a frame to every sink (models load in debug builds).
const PATIENCE: Duration = Duration::from_secs(120);

/// The running graph as the API shows it to the token's holder.
fn graph_state(server: &Server) -> Option<Value> {
    let body = ureq::get(&format!("{}/api/graph", server.base))
        .header("Authorization", &format!("Bearer {TOKEN}"))
        .call()
        .ok()?
        .body_mut()
        .read_to_string()
        .ok()?;
    serde_json::from_str(&body).ok()
}

/// ffmpeg publishing 720p H.264 with B-frames and AAC, in real time, to each
/// `rtmp_source` of `spec`, on its key (or `test` when it takes any key).
fn publish_to_rtmp_sources(spec: &Value) -> Vec<Child> {
    let nodes = spec["nodes"].as_object().cloned().unwrap_or_default();
    nodes
        .values()
        .filter(|node| node["kind"] == "rtmp_source")
        .map(|node| {
            let params = &node["params"];
            let url = format!(
                "rtmp://{}/{}/{}",
                params["listen"].as_str().unwrap_or("127.0.0.1:1935"),
                params["app"].as_str().unwrap_or("live"),
                params["key"].as_str().unwrap_or("test")
            );
            let mut args = vec!["-re", "-f", "lavfi", "-i", "testsrc=size=1280x720:rate=30"];
            args.extend(["-f", "lavfi", "-i", "sine", "-t", "100"]);
            args.extend(support::X264);
            args.extend(["-c:a", "aac", "-f", "flv", &url]);
            support::start_ffmpeg(&args)
        })
        .collect()
}

/// Runs `graph` until each of its sinks took a frame (or it ended by itself)
/// and returns the most frames each sink was seen to take.
fn frames_at_sinks(graph: &str) -> BTreeMap<String, u64> {
    let dir = scratch(&format!("graph-{}", graph.trim_end_matches(".yaml")));
    // Run where a user would: relative outputs land here, and the photos the
    // demos play are where the graphs say.
    std::os::unix::fs::symlink(repo_root().join("tests"), dir.join("tests")).expect("a symlink can be made");
    let path = repo_root().join("graphs").join(graph);
    let mut server = Server::start_in(
        &dir,
        path.to_str().expect("utf-8 path"),
        &["--no-status", "--no-watch", "--token", TOKEN],
    );
    // A graph that writes JSON lines to stdout must not stall on a full pipe.
    let mut stdout = server.child.stdout.take().expect("stdout is piped");
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let spec = graph_state(&server).expect("the graph state answers")["spec"].clone();
    let mut publishers = publish_to_rtmp_sources(&spec);

    let mut seen: BTreeMap<String, u64> = BTreeMap::new();
    let deadline = Instant::now() + PATIENCE;
    while Instant::now() < deadline {
        let Some(state) = graph_state(&server) else {
            break; // A finite graph ended.
        };
        for node in state["nodes"].as_array().into_iter().flatten() {
            let kind = node["kind"].as_str().unwrap_or_default();
            if kind.ends_with("_sink") {
                let frames = node["frames_out"].as_u64().unwrap_or(0);
                let best = seen
                    .entry(node["node"].as_str().unwrap_or_default().to_string())
                    .or_default();
                *best = (*best).max(frames);
            }
        }
        if !seen.is_empty() && seen.values().all(|&n| n > 0) {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    for publisher in &mut publishers {
        let _ = publisher.kill();
        let _ = publisher.wait();
    }
    if seen.values().any(|&n| n == 0) {
        server.signal("INT");
        let (_, log) = server.wait(Duration::from_secs(20));
        panic!("`{graph}`: a sink took no frame within {PATIENCE:?}: {seen:?}\n{log}");
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    seen
}

#[test]
fn every_shipped_graph_brings_frames_to_each_of_its_sinks() {
    let mut graphs: Vec<String> = std::fs::read_dir(repo_root().join("graphs"))
        .expect("graphs/ is there")
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".yaml"))
        .collect();
    graphs.sort();
    assert!(graphs.len() >= 10, "the graphs are found: {graphs:?}");
    for graph in &graphs {
        let sinks = frames_at_sinks(graph);
        assert!(!sinks.is_empty(), "`{graph}` has sinks");
        eprintln!("{graph}: {sinks:?}");
    }
}
