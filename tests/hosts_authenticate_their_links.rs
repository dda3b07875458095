//! `links: { auth: ... }`: hosts present and require one user and password
//! (zenoh's user/password authentication), read from an environment
//! variable; a peer with another password, or none, cannot join the graph.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use support::hosts::seqs;
use support::{Server, free_port, ooblex, scratch, wait_for};

const PASSWORD_ENV: &str = "OOBLEX_TEST_LINK_PASSWORD";

/// A two-host graph whose links require the password in [`PASSWORD_ENV`].
fn graph(name: &str) -> PathBuf {
    let dir = scratch(name);
    let port = free_port();
    let graph = format!(
        "version: 1\nname: {name}\nhosts:\n  stage: {{ listen: [\"tcp/127.0.0.1:{port}\"] }}\n  gpu: {{ connect: [\"tcp/127.0.0.1:{port}\"] }}\nlinks:\n  auth: {{ password_env: {PASSWORD_ENV} }}\nnodes:\n  cam: {{ kind: test_pattern, params: {{ width: 160, height: 120, fps: 30 }}, host: stage }}\n  out: {{ kind: json_sink, params: {{ path: out.jsonl }}, inputs: {{ video: cam }}, host: gpu }}\n"
    );
    std::fs::write(dir.join("graph.yaml"), graph).expect("scratch is writable");
    dir
}

/// Host `host` of the graph in `dir`, with `password` (or none) in the environment.
fn host(dir: &Path, host: &str, password: Option<&str>) -> Server {
    let listen = format!("127.0.0.1:{}", free_port());
    let mut command = ooblex();
    command.current_dir(dir).args([
        "run",
        "graph.yaml",
        "--host",
        host,
        "--listen",
        &listen,
        "--no-status",
        "--no-watch",
    ]);
    match password {
        Some(password) => command.env(PASSWORD_ENV, password),
        None => command.env_remove(PASSWORD_ENV),
    };
    Server::start_command(command, &listen)
}

/// `ooblex status` of the graph in `dir` with `password`: whether it
/// succeeded, what it printed and what it said on stderr.
fn status(dir: &Path, password: Option<&str>) -> (bool, String, String) {
    let mut command = ooblex();
    command.current_dir(dir).args(["status", "graph.yaml", "--json"]);
    match password {
        Some(password) => command.env(PASSWORD_ENV, password),
        None => command.env_remove(PASSWORD_ENV),
    };
    let out = command.output().expect("ooblex status runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn hosts_with_the_password_link_and_others_are_kept_out() {
    let dir = graph("links-auth");
    let stage = host(&dir, "stage", Some("the-right-one"));
    let gpu = host(&dir, "gpu", Some("the-right-one"));
    let out = dir.join("out.jsonl");
    assert!(
        wait_for(Duration::from_secs(30), || seqs(&out).len() >= 30),
        "frames crossed the authenticated link: {}",
        seqs(&out).len()
    );
    let (ok, shown, err) = status(&dir, Some("the-right-one"));
    assert!(ok, "status with the password sees both hosts up: {shown}{err}");

    // A tool with another password reaches no host.
    let (ok, shown, _) = status(&dir, Some("a-guess"));
    assert!(!ok, "status with a wrong password must not see the hosts: {shown}");
    let hosts: serde_json::Value = serde_json::from_str(&shown).expect("status prints JSON");
    assert!(
        hosts.as_array().is_some_and(|all| all.iter().all(|h| h["up"] == false)),
        "{shown}"
    );
    drop((stage, gpu));
}

#[test]
fn a_host_with_another_password_gets_no_frames() {
    let dir = graph("links-auth-wrong");
    let _stage = host(&dir, "stage", Some("the-right-one"));
    let gpu = host(&dir, "gpu", Some("a-guess"));
    std::thread::sleep(Duration::from_secs(5));
    assert!(
        seqs(&dir.join("out.jsonl")).is_empty(),
        "a host with a wrong password was let in"
    );
    assert_eq!(gpu.metric("ooblex_node_frames_out_total", "cam.video<="), Some(0));
}

#[test]
fn a_missing_password_is_named_with_how_to_set_it() {
    let dir = graph("links-auth-missing");
    let out = ooblex()
        .current_dir(&dir)
        .args(["run", "graph.yaml", "--host", "stage", "--no-status", "--no-watch"])
        .args(["--listen", &format!("127.0.0.1:{}", free_port())])
        .env_remove(PASSWORD_ENV)
        .output()
        .expect("ooblex runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a host without its password must not start");
    assert!(
        err.contains(&format!("`{PASSWORD_ENV}` is not set")) && err.contains("on every host"),
        "{err}"
    );
    let (ok, _, err) = status(&dir, None);
    assert!(!ok && err.contains(PASSWORD_ENV), "{err}");
}
