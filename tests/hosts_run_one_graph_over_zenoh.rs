//! One graph, several `ooblex run --host` processes: each runs its own nodes
//! and the edges between them go over zenoh, through shared memory (no heap
//! fallback), every frame arriving in order and none lost on the way but
//! those a queue counted as dropped.

mod support;

use std::time::Duration;

use support::hosts::{assert_nothing_lost, host, seqs};
use support::{Server, free_port, scratch, wait_for};

/// Asserts that every frame link node `node` of `host` carried went through
/// shared memory (at least `frames`), none on the heap.
fn assert_shared_memory(host: &Server, node: &str, frames: u64) {
    let shm = host.metric("ooblex_node_shm_frames_total", node);
    assert!(shm >= Some(frames), "`{node}` carried {shm:?} frames in shared memory");
    assert_eq!(
        host.metric("ooblex_node_heap_frames_total", node),
        Some(0),
        "`{node}` fell back to the heap on this machine"
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
    assert_shared_memory(&stage, "cam.video=>", 90);
    assert_shared_memory(&gpu, "cam.video<=", 90);
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
    for (host, link) in [
        (&camera, "cam.video=>"),
        (&effects, "cam.video<="),
        (&effects, "inverted.video=>"),
        (&viewer, "inverted.video<="),
    ] {
        assert_shared_memory(host, link, 90);
    }
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
    // The control plane answers while the host still starts its nodes; the
    // graph is shown once it runs.
    let mut shown = String::new();
    wait_for(Duration::from_secs(10), || {
        shown = gpu.get("/api/graph").expect("the graph answers");
        serde_json::from_str::<serde_json::Value>(&shown).is_ok_and(|graph| graph["spec"].is_object())
    });
    assert!(!shown.contains("studio-secret-key"), "{shown}");
    assert!(shown.contains("***"), "{shown}");
}

#[test]
fn an_h264_link_gives_raw_video_on_the_other_host() {
    let dir = scratch("h264-link");
    let port = free_port();
    let graph = format!(
        "version: 1\nname: h264-link\nhosts:\n  stage: {{ listen: [\"tcp/127.0.0.1:{port}\"] }}\n  gpu: {{ connect: [\"tcp/127.0.0.1:{port}\"] }}\nnodes:\n  cam: {{ kind: test_pattern, params: {{ width: 320, height: 240, fps: 30 }}, host: stage }}\n  log: {{ kind: json_sink, params: {{ path: out.jsonl }}, inputs: {{ video: {{ from: cam, policy: block, link: {{ codec: h264, bitrate: 1000 }} }} }}, host: gpu }}\n  preview: {{ kind: mjpeg_sink, params: {{ name: preview }}, inputs: {{ video: {{ from: cam, policy: block, link: {{ codec: h264 }} }} }}, host: gpu }}\n"
    );
    std::fs::write(dir.join("graph.yaml"), graph).expect("scratch is writable");
    // The sender runs and encodes before anyone receives: the receiver that
    // comes gets a keyframe at once, not up to a second later. The inputs
    // block, so that what is counted is the wait for that keyframe, not
    // frames a loaded machine drops behind it (which then wait for the next).
    let stage = host(&dir, "stage");
    std::thread::sleep(Duration::from_secs(2));
    let gpu = host(&dir, "gpu");
    let out = dir.join("out.jsonl");
    assert!(
        wait_for(Duration::from_secs(30), || seqs(&out).len() >= 90),
        "the sink on `gpu` got {} frames over the H.264 link in 30 s",
        seqs(&out).len()
    );
    assert_nothing_lost(&seqs(&out), &[&stage, &gpu]);
    // Both inputs share one link; what it carried decoded, frame for frame.
    let sent = stage.metric("ooblex_node_frames_in_total", "cam.video=>h264");
    assert!(sent >= Some(90), "the sender encoded {sent:?} frames");
    assert!(gpu.metric("ooblex_node_frames_out_total", "cam.video<=h264") >= Some(90));
    assert_eq!(
        gpu.metric("ooblex_node_messages_rejected_total", "cam.video<=h264"),
        Some(0)
    );
    let skipped = gpu.metric("ooblex_node_drops_total", "cam.video<=h264");
    assert!(
        skipped <= Some(3),
        "the receiver waited {skipped:?} frames for a keyframe"
    );
    let snapshot = gpu.get_bytes("/streams/preview.jpg");
    let picture = image::load_from_memory(&snapshot)
        .expect("the snapshot is a JPEG")
        .into_rgb8();
    assert_eq!(picture.dimensions(), (320, 240));
}
