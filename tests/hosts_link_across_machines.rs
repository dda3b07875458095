//! Hosts on two machines: one host runs in a network namespace of its own,
//! joined to this one by a veth pair, so its frames cross a real network
//! interface over TCP as they would between machines, and the runtime sees
//! addresses that are not this machine's loopback. Raw video is compressed
//! to JPEG on such links unless an input asks for `raw` or `h264`; nothing goes
//! through shared memory. Needs root (to create the namespace); elsewhere it
//! says so and passes without running.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use support::hosts::{assert_nothing_lost, seqs};
use support::{Server, free_port, scratch, wait_for};

/// A network namespace joined to this one by a veth pair, with
/// `near` here and `far` inside it; removed when dropped.
struct Namespace {
    name: String,
    near_link: String,
    near: String,
    far: String,
}

/// Runs `ip ARGS`, panicking with what it said when it fails.
fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("`ip` (iproute2) runs");
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Namespace {
    /// Creates the namespace and its link, the `n`th of this process, or
    /// `None` when this process may not.
    fn create(n: u32) -> Option<Namespace> {
        let id = std::process::id() * 2 + n;
        let name = format!("ooblex-test-{id}");
        let added = Command::new("ip").args(["netns", "add", &name]).output().ok()?;
        if !added.status.success() {
            eprintln!(
                "skipped: cannot create a network namespace ({}); run as root to test links between machines",
                String::from_utf8_lossy(&added.stderr).trim()
            );
            return None;
        }
        // Interface names are at most 15 bytes; a /30 of 10.231.0.0/16 per process.
        let (net, first) = (format!("10.231.{}", (id >> 6) % 256), (id % 64) * 4);
        let namespace = Namespace {
            near_link: format!("oxn{}", id % 1_000_000),
            near: format!("{net}.{}", first + 1),
            far: format!("{net}.{}", first + 2),
            name,
        };
        let far_link = format!("oxf{}", id % 1_000_000);
        ip(&[
            "link",
            "add",
            &namespace.near_link,
            "type",
            "veth",
            "peer",
            "name",
            &far_link,
        ]);
        ip(&["link", "set", &far_link, "netns", &namespace.name]);
        ip(&[
            "addr",
            "add",
            &format!("{}/30", namespace.near),
            "dev",
            &namespace.near_link,
        ]);
        ip(&["link", "set", &namespace.near_link, "up"]);
        let inside = |args: &[&str]| {
            let mut all = vec!["netns", "exec", namespace.name.as_str(), "ip"];
            all.extend(args);
            ip(&all);
        };
        inside(&["addr", "add", &format!("{}/30", namespace.far), "dev", &far_link]);
        inside(&["link", "set", &far_link, "up"]);
        inside(&["link", "set", "lo", "up"]);
        Some(namespace)
    }

    /// Caps what this side of the link sends at `mbit` megabits per second,
    /// as a slow network would.
    fn cap(&self, mbit: u32) {
        let rate = format!("{mbit}mbit");
        let qdisc = ["qdisc", "add", "dev", &self.near_link, "root", "tbf", "rate", &rate];
        let out = Command::new("tc")
            .args(qdisc)
            .args(["burst", "256kb", "latency", "50ms"])
            .output()
            .expect("`tc` (iproute2) runs");
        assert!(out.status.success(), "tc: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// `ooblex run ARGS` inside the namespace, in `dir`, with its control
    /// plane on the namespace's side of the link (beyond loopback, so with a token).
    fn ooblex_run(&self, dir: &Path, args: &[&str]) -> Server {
        let listen = format!("{}:{}", self.far, free_port());
        let mut command = Command::new("ip");
        command
            .current_dir(dir)
            .args(["netns", "exec", &self.name, env!("CARGO_BIN_EXE_ooblex"), "run"])
            .args(args)
            .args(["--listen", &listen, "--token", "across-machines-token"]);
        Server::start_command(command, &listen)
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        // Deleting the near end deletes its peer in the namespace.
        let _ = Command::new("ip").args(["link", "del", &self.near_link]).status();
        let _ = Command::new("ip").args(["netns", "del", &self.name]).status();
    }
}

#[test]
fn video_crosses_a_network_link_as_jpeg_unless_an_input_asks_for_raw_or_h264() {
    let Some(namespace) = Namespace::create(0) else {
        return;
    };
    let dir = scratch("across-machines");
    let port = free_port();
    let near = &namespace.near;
    let graph = format!(
        "version: 1
name: across-machines
hosts:
  stage: {{ listen: [\"tcp/{near}:{port}\"] }}
  gpu: {{ connect: [\"tcp/{near}:{port}\"] }}
nodes:
  cam: {{ kind: test_pattern, params: {{ width: 320, height: 240, fps: 30 }}, host: stage }}
  inverted: {{ kind: invert, inputs: {{ video: cam }}, host: gpu }}
  log: {{ kind: json_sink, params: {{ path: out.jsonl }}, inputs: {{ video: {{ from: inverted, link: {{ codec: raw }} }} }}, host: stage }}
  preview: {{ kind: mjpeg_sink, params: {{ name: preview }}, inputs: {{ video: {{ from: inverted, link: {{ codec: h264, bitrate: 1000 }} }} }}, host: stage }}
"
    );
    std::fs::write(dir.join("graph.yaml"), graph).expect("scratch is writable");
    let stage = Server::start_in(&dir, "graph.yaml", &["--host", "stage", "--no-status", "--no-watch"]);
    let gpu = namespace.ooblex_run(&dir, &["graph.yaml", "--host", "gpu", "--no-status", "--no-watch"]);

    let out = dir.join("out.jsonl");
    assert!(
        wait_for(Duration::from_secs(30), || seqs(&out).len() >= 90),
        "the sink on `stage` got {} frames back from `gpu` across the link in 30 s",
        seqs(&out).len()
    );
    assert_nothing_lost(&seqs(&out), &[&stage, &gpu]);

    // Between machines: JPEG by default, raw or H.264 where the input asks,
    // never shared memory.
    let links = [
        (&stage, "cam.video=>jpeg"),
        (&gpu, "inverted.video=>"),
        (&gpu, "inverted.video=>h264"),
    ];
    for (host, sender) in links {
        assert!(
            host.metric("ooblex_node_heap_frames_total", sender) >= Some(30),
            "`{sender}` sent frames over the network"
        );
        assert_eq!(
            host.metric("ooblex_node_shm_frames_total", sender),
            Some(0),
            "`{sender}` used no shared memory between machines"
        );
    }
    assert!(gpu.metric("ooblex_node_frames_out_total", "cam.video<=jpeg") >= Some(30));
    for receiver in ["inverted.video<=", "inverted.video<=h264"] {
        assert!(
            stage.metric("ooblex_node_frames_out_total", receiver) >= Some(30),
            "{receiver}"
        );
        assert_eq!(stage.metric("ooblex_node_messages_rejected_total", receiver), Some(0));
    }

    // What arrived through a JPEG and an H.264 link is still a picture, not a gray blur.
    let snapshot = stage.get_bytes("/streams/preview.jpg");
    let picture = image::load_from_memory(&snapshot)
        .expect("the snapshot is a JPEG")
        .into_rgb8();
    assert_eq!(picture.dimensions(), (320, 240));
    let lumas: Vec<u8> = picture
        .pixels()
        .map(|p| ((p[0] as u16 + p[1] as u16 + p[2] as u16) / 3) as u8)
        .collect();
    let (darkest, brightest) = (lumas.iter().min(), lumas.iter().max());
    assert!(
        brightest.zip(darkest).is_some_and(|(b, d)| b - d > 100),
        "the picture keeps its contrast through the compressed links ({darkest:?}..{brightest:?})"
    );
}

#[test]
fn a_congested_network_loses_raw_frames_and_counts_each_but_never_an_h264_frame() {
    let Some(namespace) = Namespace::create(1) else {
        return;
    };
    // 320x240 RGB at 30 fps is 55 Mbit/s: more than half cannot get through.
    // Frames this size cross in a few fragments, so whole frames still arrive
    // between the losses even on a slow, loaded machine.
    namespace.cap(25);
    let dir = scratch("congested-link");
    let port = free_port();
    let near = &namespace.near;
    let graph = format!(
        "version: 1
name: congested-link
hosts:
  stage: {{ listen: [\"tcp/{near}:{port}\"] }}
  gpu: {{ connect: [\"tcp/{near}:{port}\"] }}
nodes:
  cam: {{ kind: test_pattern, params: {{ width: 320, height: 240, fps: 30 }}, host: stage }}
  raw: {{ kind: json_sink, params: {{ path: raw.jsonl }}, inputs: {{ video: {{ from: cam, link: {{ codec: raw }} }} }}, host: gpu }}
  h264: {{ kind: json_sink, params: {{ path: h264.jsonl }}, inputs: {{ video: {{ from: cam, link: {{ codec: h264, bitrate: 2000 }} }} }}, host: gpu }}
"
    );
    std::fs::write(dir.join("graph.yaml"), graph).expect("scratch is writable");
    let gpu = namespace.ooblex_run(&dir, &["graph.yaml", "--host", "gpu", "--no-status", "--no-watch"]);
    let stage = Server::start_in(&dir, "graph.yaml", &["--host", "stage", "--no-status", "--no-watch"]);

    let (raw, h264) = (dir.join("raw.jsonl"), dir.join("h264.jsonl"));
    assert!(
        wait_for(Duration::from_secs(30), || seqs(&raw).len() >= 15
            && seqs(&h264).len() >= 60),
        "through the congested link in 30 s: {} raw frames, {} H.264 frames",
        seqs(&raw).len(),
        seqs(&h264).len()
    );
    let lost = gpu.metric("ooblex_node_link_lost_total", "cam.video<=");
    assert!(
        lost > Some(0),
        "the network lost raw frames, and they were counted: {lost:?}"
    );
    assert_nothing_lost(&seqs(&raw), &[&stage, &gpu]);
    assert_nothing_lost(&seqs(&h264), &[&stage, &gpu]);
    for counter in [
        "ooblex_node_link_lost_total",
        "ooblex_node_messages_rejected_total",
        "ooblex_node_frame_errors_total",
    ] {
        assert_eq!(
            gpu.metric(counter, "cam.video<=h264"),
            Some(0),
            "{counter}: every H.264 frame arrived and decoded"
        );
    }
}
