//! SIGTERM stops a live graph and leaves complete files; a port in use and a
//! non-loopback address without a token are clear errors.

mod support;

use std::process::Command;
use std::time::Duration;

use support::{Server, ooblex, repo_root};

#[test]
fn sigterm_drains_and_finishes_files() {
    let dir = std::env::temp_dir().join(format!("ooblex-sigterm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir is writable");
    let out = dir.join("live.y4m");
    let graph = dir.join("live.yaml");
    std::fs::write(
        &graph,
        format!(
            "version: 1\nname: live\nnodes:\n  cam: {{ kind: test_pattern, params: {{ width: 160, height: 120, fps: 30 }} }}\n  file: {{ kind: y4m_sink, inputs: {{ video: cam }}, params: {{ path: \"{}\" }} }}\n",
            out.display()
        ),
    )
    .expect("temp dir is writable");
    let server = Server::start(graph.to_str().expect("utf-8 path"), &["--no-status"]);
    std::thread::sleep(Duration::from_millis(700));
    server.signal("TERM");
    let (status, stderr) = server.wait(Duration::from_secs(10));
    assert!(status.success(), "{status}\n{stderr}");
    let decoded = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(&out)
        .args(["-f", "null", "-"])
        .output()
        .expect("ffmpeg is installed (the test command installs it)");
    assert!(decoded.status.success(), "{}", String::from_utf8_lossy(&decoded.stderr));
    let size = std::fs::metadata(&out).expect("the file exists").len();
    assert!(size > 10 * 160 * 120, "several frames were written ({size} bytes)");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_port_in_use_names_the_flag_to_change() {
    let holder = std::net::TcpListener::bind("127.0.0.1:0").expect("loopback has free ports");
    let addr = holder.local_addr().expect("bound").to_string();
    let out = ooblex()
        .args(["run", "graphs/quickstart.yaml", "--no-status", "--listen", &addr])
        .output()
        .expect("ooblex runs");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("already in use"), "{stderr}");
    assert!(stderr.contains("--listen"), "{stderr}");
}

#[test]
fn listening_beyond_loopback_needs_a_token() {
    let out = ooblex()
        .current_dir(repo_root())
        .env_remove("OOBLEX_TOKEN")
        .args(["run", "graphs/quickstart.yaml", "--no-status", "--listen", "0.0.0.0:0"])
        .output()
        .expect("ooblex runs");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("without a token"), "{stderr}");
    assert!(stderr.contains("--token"), "{stderr}");
}

#[test]
fn an_invalid_graph_does_not_start() {
    let out = ooblex()
        .args(["run", "tests/fixtures/invalid-unknown-kind.yaml", "--no-status"])
        .output()
        .expect("ooblex runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid-unknown-kind.yaml:5:11"));
}
