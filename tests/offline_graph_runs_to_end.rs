//! A finite graph runs to its end: every frame reaches the JSON Lines and Y4M
//! sinks, in order, and ffmpeg reads the Y4M file.

mod support;

use std::process::Command;

use support::{ooblex, repo_root};

#[test]
fn record_graph_writes_every_frame() {
    let dir = std::env::temp_dir().join(format!("ooblex-record-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir is writable");
    let graph = repo_root().join("graphs/record.yaml");
    let port = support::free_port().to_string();
    let out = ooblex()
        .current_dir(&dir)
        .args([
            "run",
            graph.to_str().expect("utf-8 path"),
            "--no-status",
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .output()
        .expect("ooblex runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("every node has ended"), "{stderr}");

    let lines = std::fs::read_to_string(dir.join("record.jsonl")).expect("the JSON Lines file exists");
    let records: Vec<serde_json::Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l}: {e}")))
        .collect();
    assert_eq!(records.len(), 150);
    for (i, record) in records.iter().enumerate() {
        assert_eq!(record["node"], "timing");
        assert_eq!(record["seq"], i as u64, "seq is consecutive");
        assert_eq!(record["width"], 640);
        assert_eq!(record["height"], 480);
        assert!(
            record["pts_ms"].is_number() && record["latency_ms"].is_number(),
            "{record}"
        );
    }

    let y4m = dir.join("record.y4m");
    let probe = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-count_frames",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=width,height,nb_read_frames",
            "-of",
            "csv=p=0",
        ])
        .arg(&y4m)
        .output()
        .expect("ffprobe is installed (the test command installs ffmpeg)");
    assert!(probe.status.success(), "{}", String::from_utf8_lossy(&probe.stderr));
    assert_eq!(String::from_utf8_lossy(&probe.stdout).trim(), "320,240,150");
    let _ = std::fs::remove_dir_all(&dir);
}
