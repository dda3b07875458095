//! One graph, several `ooblex run --host` processes: each runs its own nodes
//! and the edges between them go over zenoh, every frame arriving in order
//! and none lost on the way but those a queue counted as dropped.

mod support;

use std::path::Path;
use std::time::Duration;

use support::{Server, free_port, scratch, wait_for};

/// The `seq` of every line a `json_sink` wrote so far.
fn seqs(path: &Path) -> Vec<u64> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|record| record["seq"].as_u64())
        .collect()
}

/// Starts host `host` of the graph in `dir/graph.yaml`.
fn host(dir: &Path, host: &str) -> Server {
    Server::start_in(dir, "graph.yaml", &["--host", host, "--no-status", "--no-watch"])
}

/// Frames every queue of these hosts dropped, as `/metrics` counts them.
fn counted_drops(hosts: &[&Server]) -> u64 {
    hosts
        .iter()
        .map(|host| {
            let text = host.get("/metrics").expect("metrics answer");
            text.lines()
                .filter(|line| line.starts_with("ooblex_node_drops_total{"))
                .filter_map(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
                .sum::<u64>()
        })
        .sum()
}

/// Asserts that `seqs` only goes up and that every frame missing from it was
/// counted as dropped by a queue (live queues drop under load, and say so):
/// nothing is lost, reordered or duplicated on the way between hosts.
fn assert_nothing_lost(seqs: &[u64], hosts: &[&Server]) {
    assert!(
        seqs.windows(2).all(|w| w[1] > w[0]),
        "frames in order, each once: {seqs:?}"
    );
    let missing: u64 = seqs.windows(2).map(|w| w[1] - w[0] - 1).sum();
    let dropped = counted_drops(hosts);
    assert!(
        missing <= dropped,
        "{missing} frames missing at the sink but only {dropped} counted as dropped: lost between hosts"
    );
}

#[test]
fn a_source_on_one_host_feeds_an_effect_and_a_sink_on_another() {
    let dir = scratch("two-hosts");
    let port = free_port();
    let graph = format!(
        "version: 1\nname: two-hosts\nhosts:\n  stage: {{ listen: [\"tcp/127.0.0.1:{port}\"] }}\n  gpu: {{ connect: [\"tcp/127.0.0.1:{port}\"] }}\nnodes:\n  cam: {{ kind: test_pattern, params: {{ width: 320, height: 240, fps: 30, format: i420 }}, host: stage }}\n  gray: {{ kind: grayscale, inputs: {{ video: cam }}, host: gpu }}\n  out: {{ kind: json_sink, params: {{ path: out.jsonl }}, inputs: {{ video: gray }}, host: gpu }}\n"
    );
    std::fs::write(dir.join("graph.yaml"), graph).expect("scratch is writable");
    let gpu = host(&dir, "gpu");
    let stage = host(&dir, "stage");
    let out = dir.join("out.jsonl");
    assert!(
        wait_for(Duration::from_secs(30), || seqs(&out).len() >= 90),
        "the sink on `gpu` got {} frames from `stage` in 30 s",
        seqs(&out).len()
    );
    assert_nothing_lost(&seqs(&out), &[&stage, &gpu]);
    assert!(stage.metric("ooblex_node_frames_out_total", "cam.video=>") >= Some(90));
    assert!(gpu.metric("ooblex_node_frames_out_total", "cam.video<=") >= Some(90));
    assert_eq!(
        gpu.metric("ooblex_node_messages_rejected_total", "cam.video<="),
        Some(0)
    );
    assert_eq!(
        gpu.metric("ooblex_node_frames_out_total", "cam"),
        None,
        "`gpu` runs no source"
    );
}

#[test]
fn three_hosts_chain_source_effect_and_sinks() {
    let dir = scratch("three-hosts");
    let (a, b) = (free_port(), free_port());
    let graph = format!(
        "version: 1\nname: three-hosts\nhosts:\n  camera: {{ listen: [\"tcp/127.0.0.1:{a}\"] }}\n  effects: {{ listen: [\"tcp/127.0.0.1:{b}\"], connect: [\"tcp/127.0.0.1:{a}\"] }}\n  viewer: {{ connect: [\"tcp/127.0.0.1:{b}\"] }}\nnodes:\n  cam: {{ kind: test_pattern, params: {{ width: 320, height: 240, fps: 30 }}, host: camera }}\n  inverted: {{ kind: invert, inputs: {{ video: cam }}, host: effects }}\n  log: {{ kind: json_sink, params: {{ path: out.jsonl }}, inputs: {{ video: inverted }}, host: viewer }}\n  preview: {{ kind: mjpeg_sink, params: {{ name: preview }}, inputs: {{ video: inverted }}, host: viewer }}\n"
    );
    std::fs::write(dir.join("graph.yaml"), graph).expect("scratch is writable");
    let viewer = host(&dir, "viewer");
    let effects = host(&dir, "effects");
    let camera = host(&dir, "camera");
    let out = dir.join("out.jsonl");
    assert!(
        wait_for(Duration::from_secs(30), || seqs(&out).len() >= 90),
        "the sink on `viewer` got {} frames in 30 s",
        seqs(&out).len()
    );
    assert_nothing_lost(&seqs(&out), &[&camera, &effects, &viewer]);
    assert!(effects.metric("ooblex_node_frames_out_total", "inverted") >= Some(90));
    let jpeg = viewer.get_bytes("/streams/preview.jpg");
    let picture = image::load_from_memory(&jpeg)
        .expect("the snapshot is a JPEG")
        .into_rgb8();
    assert_eq!(picture.dimensions(), (320, 240));
}

#[test]
fn a_host_masks_the_secrets_of_nodes_other_hosts_run() {
    let dir = scratch("hosts-secrets");
    let port = free_port();
    let graph = format!(
        "version: 1\nname: hosts-secrets\nhosts:\n  stage: {{ listen: [\"tcp/127.0.0.1:{port}\"] }}\n  gpu: {{ connect: [\"tcp/127.0.0.1:{port}\"] }}\nnodes:\n  obs: {{ kind: rtmp_source, params: {{ listen: \"127.0.0.1:{}\", key: studio-secret-key }}, host: stage }}\n  decoded: {{ kind: h264_decode, inputs: {{ video: obs }}, host: gpu }}\n  out: {{ kind: null_sink, inputs: {{ video: decoded }}, host: gpu }}\n",
        free_port()
    );
    std::fs::write(dir.join("graph.yaml"), graph).expect("scratch is writable");
    let gpu = host(&dir, "gpu");
    let shown = gpu.get("/api/graph").expect("the graph answers");
    assert!(!shown.contains("studio-secret-key"), "{shown}");
    assert!(shown.contains("***"), "{shown}");
}
