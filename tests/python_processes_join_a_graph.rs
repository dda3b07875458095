//! A Python process with eclipse-zenoh is a node of a graph: it feeds frames
//! to `zenoh_source`, reads them back from `zenoh_sink` and checks their
//! pixels, and the garbage it publishes is counted and dropped.

mod support;

use std::time::Duration;

use support::python::python;
use support::{Server, free_port, repo_root, scratch, wait_for};

#[test]
fn a_python_process_feeds_the_graph_and_reads_its_output() {
    let dir = scratch("python-node");
    let endpoint = format!("tcp/127.0.0.1:{}", free_port());
    let example = std::fs::read_to_string(repo_root().join("examples/zenoh_python/graph.yaml"))
        .expect("the example graph is in the repository");
    assert!(example.contains("tcp/127.0.0.1:7447"));
    std::fs::write(dir.join("graph.yaml"), example.replace("tcp/127.0.0.1:7447", &endpoint))
        .expect("scratch is writable");
    let server = Server::start_in(&dir, "graph.yaml", &["--no-status", "--no-watch"]);

    let tap = python(
        "tap.py",
        &[
            "--connect",
            &endpoint,
            "--check-inverted",
            "--frames",
            "30",
            "--timeout",
            "60",
        ],
    )
    .spawn()
    .expect("python3 runs");
    std::thread::sleep(Duration::from_millis(500));
    let feed = python(
        "feed.py",
        &["--connect", &endpoint, "--frames", "90", "--fps", "15", "--garbage"],
    )
    .spawn()
    .expect("python3 runs");

    let tapped = tap.wait_with_output().expect("tap.py ends");
    let stdout = String::from_utf8_lossy(&tapped.stdout);
    assert!(
        tapped.status.success(),
        "tap.py failed: {}\n{stdout}",
        String::from_utf8_lossy(&tapped.stderr)
    );
    let summary: serde_json::Value = stdout
        .lines()
        .last()
        .and_then(|line| serde_json::from_str(line).ok())
        .unwrap_or_else(|| panic!("tap.py printed no summary:\n{stdout}"));
    assert_eq!(summary["frames"], 30, "{summary}");
    assert_eq!(
        summary["wrong_pixels"], 0,
        "the pixels that came back are feed.py's inverted"
    );
    let seqs: Vec<u64> = summary["seqs"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|s| s.as_u64())
        .collect();
    assert!(
        seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "frames in order, none lost: {seqs:?}"
    );

    assert!(
        wait_for(Duration::from_secs(10), || {
            server.metric("ooblex_node_messages_rejected_total", "from_python") == Some(2)
        }),
        "the two garbage messages are counted: {:?}",
        server.metric("ooblex_node_messages_rejected_total", "from_python")
    );
    assert!(server.get("/health").is_ok(), "garbage takes nothing down");
    let fed = feed.wait_with_output().expect("feed.py ends");
    assert!(
        fed.status.success(),
        "feed.py failed: {}",
        String::from_utf8_lossy(&fed.stderr)
    );
    assert!(server.metric("ooblex_node_frames_out_total", "from_python") >= Some(60));
}
