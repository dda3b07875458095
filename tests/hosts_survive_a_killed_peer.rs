//! A host killed with SIGKILL comes back and rejoins: the other hosts never
//! restart, frames flow again by themselves within seconds, and nobody hangs
//! at shutdown because a peer is gone.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use support::hosts::host;
use support::{free_port, scratch, wait_for};

fn frames(path: &Path) -> usize {
    std::fs::read_to_string(path).map_or(0, |text| text.lines().count())
}

/// Which hosts `ooblex status` says are up, by name.
fn hosts_up(dir: &Path) -> Vec<(String, bool)> {
    let graph = dir.join("graph.yaml");
    let out = support::run(&["status", graph.to_str().expect("utf-8 path"), "--json"]);
    let hosts: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("status prints JSON: {}", String::from_utf8_lossy(&out.stderr)));
    let up: Vec<(String, bool)> = hosts
        .as_array()
        .expect("a list of hosts")
        .iter()
        .map(|h| (h["host"].as_str().unwrap_or_default().to_string(), h["up"] == true))
        .collect();
    assert_eq!(
        out.status.success(),
        up.iter().all(|(_, up)| *up),
        "status fails when a host is down"
    );
    up
}

#[test]
fn the_middle_host_is_killed_and_comes_back() {
    let dir = scratch("killed-peer");
    let (a, b) = (free_port(), free_port());
    let graph = format!(
        "version: 1\nname: killed-peer\nhosts:\n  camera: {{ listen: [\"tcp/127.0.0.1:{a}\"] }}\n  effects: {{ listen: [\"tcp/127.0.0.1:{b}\"], connect: [\"tcp/127.0.0.1:{a}\"] }}\n  viewer: {{ connect: [\"tcp/127.0.0.1:{b}\"] }}\nnodes:\n  cam: {{ kind: test_pattern, params: {{ width: 320, height: 240, fps: 30 }}, host: camera }}\n  mirrored: {{ kind: mirror, inputs: {{ video: cam }}, host: effects }}\n  log: {{ kind: json_sink, params: {{ path: out.jsonl }}, inputs: {{ video: mirrored }}, host: viewer }}\n"
    );
    std::fs::write(dir.join("graph.yaml"), graph).expect("scratch is writable");
    let out = dir.join("out.jsonl");
    let viewer = host(&dir, "viewer");
    let mut effects = host(&dir, "effects");
    let camera = host(&dir, "camera");
    assert!(
        wait_for(Duration::from_secs(30), || frames(&out) >= 30),
        "frames reach the viewer"
    );

    effects.signal("KILL");
    let _ = effects.child.wait();
    std::thread::sleep(Duration::from_secs(1));
    let before = frames(&out);
    std::thread::sleep(Duration::from_secs(1));
    assert!(frames(&out) - before < 5, "no frames while the middle host is down");
    let down = hosts_up(&dir);
    assert_eq!(
        down,
        [
            ("camera".into(), true),
            ("effects".into(), false),
            ("viewer".into(), true)
        ],
        "`ooblex status` sees the killed host down, the others up through any of them"
    );

    let restarted = Instant::now();
    effects = host(&dir, "effects");
    let after = frames(&out);
    assert!(
        wait_for(Duration::from_secs(20), || frames(&out) > after),
        "frames flow again"
    );
    eprintln!("frames flowed again {:?} after the restart", restarted.elapsed());
    assert!(
        wait_for(Duration::from_secs(20), || frames(&out) >= before + 60),
        "frames flow again after the middle host came back: {} more in 20 s",
        frames(&out) - before
    );
    assert!(hosts_up(&dir).iter().all(|(_, up)| *up), "every host is up again");
    for (server, node) in [(&camera, "cam"), (&viewer, "log"), (&viewer, "mirrored.video<=")] {
        assert_eq!(
            server.metric("ooblex_node_restarts_total", node),
            Some(0),
            "`{node}` never restarted"
        );
    }

    // Shutting down with a peer gone hangs nobody.
    effects.signal("KILL");
    for server in [camera, viewer] {
        server.signal("TERM");
        let (status, log) = server.wait(Duration::from_secs(10));
        assert!(status.success(), "{log}");
    }
}
