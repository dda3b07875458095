//! `links: { tls: ... }`: hosts link over `tls/` endpoints, each proving
//! itself with a certificate the graph's CA signed and accepting only peers
//! that do the same (mutual TLS); so does a Python eclipse-zenoh process
//! that taps a link. Certificates are made by the real openssl.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use support::hosts::{host, seqs};
use support::python::python;
use support::{free_port, ooblex, scratch, wait_for};

/// Runs `openssl ARGS` in `dir`.
fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl is installed (the test command installs it)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Writes `ca.pem` and a host certificate it signed, `host.pem` with
/// `host.key`, for 127.0.0.1, into `dir`.
fn certificates(dir: &Path) {
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=links CA",
    ]);
    openssl(dir, &ca);
    let mut request = vec!["req"];
    request.extend(ec);
    request.extend(["-keyout", "host.key", "-out", "host.csr", "-subj", "/CN=host"]);
    openssl(dir, &request);
    std::fs::write(
        dir.join("host.ext"),
        "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n",
    )
    .expect("scratch is writable");
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "host.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "host.pem",
            "-days",
            "2",
            "-extfile",
            "host.ext",
        ],
    );
}

/// The two-host graph, linked over TLS on `port`.
fn graph(name: &str, port: u16) -> String {
    format!(
        "version: 1\nname: {name}\nhosts:\n  stage: {{ listen: [\"tls/127.0.0.1:{port}\"] }}\n  gpu: {{ connect: [\"tls/127.0.0.1:{port}\"] }}\nlinks:\n  tls: {{ ca: ca.pem, cert: host.pem, key: host.key }}\nnodes:\n  cam: {{ kind: test_pattern, params: {{ width: 160, height: 120, fps: 30 }}, host: stage }}\n  out: {{ kind: json_sink, params: {{ path: out.jsonl }}, inputs: {{ video: cam }}, host: gpu }}\n"
    )
}

/// A directory `name` with the graph and a fresh CA and host certificate.
fn host_dir(name: &str, graph: &str) -> PathBuf {
    let dir = scratch(name);
    certificates(&dir);
    std::fs::write(dir.join("graph.yaml"), graph).expect("scratch is writable");
    dir
}

/// `ooblex status --json` of the graph in `dir`: whether every host is up, and what it printed.
fn status(dir: &Path) -> (bool, String) {
    let out = ooblex()
        .current_dir(dir)
        .args(["status", "graph.yaml", "--json"])
        .output()
        .expect("ooblex status runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn hosts_with_the_graphs_certificates_link_over_tls() {
    let dir = host_dir("links-tls", &graph("links-tls", free_port()));
    let stage = host(&dir, "stage");
    let gpu = host(&dir, "gpu");
    let out = dir.join("out.jsonl");
    assert!(
        wait_for(Duration::from_secs(30), || seqs(&out).len() >= 30),
        "frames crossed the TLS link: {}",
        seqs(&out).len()
    );
    let (ok, shown) = status(&dir);
    assert!(ok, "status, with the certificates, sees both hosts up: {shown}");
    drop((stage, gpu));
}

#[test]
fn a_python_process_with_a_certificate_taps_a_tls_link() {
    let port = free_port();
    let dir = host_dir("links-tls-python", &graph("links-tls-python", port));
    let _stage = host(&dir, "stage");
    let _gpu = host(&dir, "gpu");
    let tapped = python(
        "tap.py",
        &[
            "--connect",
            &format!("tls/127.0.0.1:{port}"),
            "--key",
            "ooblex/links-tls-python/**",
            "--frames",
            "10",
            "--timeout",
            "30",
        ],
    )
    .env("OOBLEX_LINK_TLS_CA", dir.join("ca.pem"))
    .env("OOBLEX_LINK_TLS_CERT", dir.join("host.pem"))
    .env("OOBLEX_LINK_TLS_KEY", dir.join("host.key"))
    .output()
    .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&tapped.stdout);
    assert!(
        tapped.status.success(),
        "tap.py failed: {}",
        String::from_utf8_lossy(&tapped.stderr)
    );
    let frames = stdout.lines().filter(|line| line.contains("\"seq\"")).count();
    assert_eq!(frames, 10, "tap.py read frames over TLS:\n{stdout}");
}

#[test]
fn a_host_whose_certificate_another_ca_signed_gets_no_frames() {
    let graph = graph("links-tls-stranger", free_port());
    let stage_dir = host_dir("links-tls-stage", &graph);
    // The same graph, with a CA and certificate of its own.
    let stranger_dir = host_dir("links-tls-stranger", &graph);
    let stage = host(&stage_dir, "stage");
    let stranger = host(&stranger_dir, "gpu");
    std::thread::sleep(Duration::from_secs(5));
    assert!(
        seqs(&stranger_dir.join("out.jsonl")).is_empty(),
        "a host with a stranger's certificate was let in"
    );
    assert_eq!(stranger.metric("ooblex_node_frames_out_total", "cam.video<="), Some(0));
    let (ok, shown) = status(&stranger_dir);
    assert!(
        !ok,
        "status with a stranger's certificate must not see the stage: {shown}"
    );
    drop(stage);
}

#[test]
fn a_missing_certificate_is_named_with_where_it_was_looked_for() {
    let dir = scratch("links-tls-missing");
    std::fs::write(dir.join("graph.yaml"), graph("links-tls-missing", free_port())).expect("scratch is writable");
    let out = ooblex()
        .current_dir(&dir)
        .args(["run", "graph.yaml", "--host", "stage", "--no-status", "--no-watch"])
        .args(["--listen", &format!("127.0.0.1:{}", free_port())])
        .output()
        .expect("ooblex runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a host without its certificates must not start");
    assert!(
        err.contains("`links.tls.ca`: cannot read `ca.pem`") && err.contains("its own copy"),
        "{err}"
    );
}
