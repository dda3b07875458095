//! Every graph in `graphs/` runs as a user runs it, from a fresh working
//! directory, with real input (ffmpeg publishing H.264 and AAC at 720p as OBS
//! does, where the graph has an `rtmp_source`), and every one of its sinks
//! takes frames: validating is not enough. A graph that names hosts runs both
//! ways: in one process, and (in builds with the `hosts` feature) as one
//! `ooblex run --host` process per host.

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
/// and returns the most frames each sink was seen to take, and the graph as
/// written: in one process, or with `hosts`, in one process per host.
fn frames_at_sinks(graph: &str, hosts: &[String]) -> (BTreeMap<String, u64>, Value) {
    let dir = scratch(&format!("graph-{}", graph.trim_end_matches(".yaml")));
    // Run where a user would: relative outputs land here, and the photos the
    // demos play are where the graphs say.
    std::os::unix::fs::symlink(repo_root().join("tests"), dir.join("tests")).expect("a symlink can be made");
    let path = repo_root().join("graphs").join(graph);
    let start = |host: Option<&str>| {
        let mut args = vec!["--no-status", "--no-watch", "--token", TOKEN];
        args.extend(host.map(|h| ["--host", h]).into_iter().flatten());
        let mut server = Server::start_in(&dir, path.to_str().expect("utf-8 path"), &args);
        // A graph that writes JSON lines to stdout must not stall on a full pipe.
        let mut stdout = server.child.stdout.take().expect("stdout is piped");
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        server
    };
    let mut servers: Vec<Server> = if hosts.is_empty() {
        vec![start(None)]
    } else {
        hosts.iter().map(|host| start(Some(host))).collect()
    };
    let spec = graph_state(&servers[0]).expect("the graph state answers")["spec"].clone();
    let mut publishers = publish_to_rtmp_sources(&spec);

    let mut seen: BTreeMap<String, u64> = BTreeMap::new();
    let deadline = Instant::now() + PATIENCE;
    'watch: while Instant::now() < deadline {
        for server in &servers {
            let Some(state) = graph_state(server) else {
                break 'watch; // A finite graph ended.
            };
            for node in state["nodes"].as_array().into_iter().flatten() {
                let kind = node["kind"].as_str().unwrap_or_default();
                let id = node["node"].as_str().unwrap_or_default();
                // Link senders are sinks of a process, not of the graph.
                if kind.ends_with("_sink") && !id.contains("=>") {
                    let best = seen.entry(id.to_string()).or_default();
                    *best = (*best).max(node["frames_out"].as_u64().unwrap_or(0));
                }
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
        let mut logs = String::new();
        for server in servers.drain(..) {
            server.signal("INT");
            logs.push_str(&server.wait(Duration::from_secs(20)).1);
        }
        panic!("`{graph}` (hosts {hosts:?}): a sink took no frame within {PATIENCE:?}: {seen:?}\n{logs}");
    }
    drop(servers);
    let _ = std::fs::remove_dir_all(&dir);
    (seen, spec)
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
    let mut placed = 0;
    for graph in &graphs {
        let (sinks, spec) = frames_at_sinks(graph, &[]);
        assert!(!sinks.is_empty(), "`{graph}` has sinks");
        eprintln!("{graph}: {sinks:?}");
        let hosts: Vec<String> = spec["hosts"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(h, _)| h.clone())
            .collect();
        if !hosts.is_empty() && cfg!(feature = "hosts") {
            let (across, _) = frames_at_sinks(graph, &hosts);
            assert_eq!(across.keys().collect::<Vec<_>>(), sinks.keys().collect::<Vec<_>>());
            eprintln!("{graph} on hosts {hosts:?}: {across:?}");
            placed += 1;
        }
    }
    if cfg!(feature = "hosts") {
        assert!(placed >= 1, "a shipped graph runs across hosts");
    }
}
