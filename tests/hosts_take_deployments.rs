//! `ooblex deploy` sends a new version of a graph to every host: each applies
//! its part as a hot reload and answers; invalid graphs and wrong tokens are
//! refused host by host; a host that was down catches up when it comes back.

mod support;

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use support::{Server, free_port, scratch, wait_for};

const TOKEN: &str = "deploy-test-token";

fn graph(port: u16, fps: u32, gray_on: &str) -> String {
    format!(
        "version: 1\nname: deployed\nhosts:\n  stage: {{ listen: [\"tcp/127.0.0.1:{port}\"] }}\n  gpu: {{ connect: [\"tcp/127.0.0.1:{port}\"] }}\nnodes:\n  cam: {{ kind: test_pattern, params: {{ width: 160, height: 120, fps: {fps} }}, host: stage }}\n  gray: {{ kind: grayscale, inputs: {{ video: cam }}, host: {gray_on} }}\n  out: {{ kind: json_sink, params: {{ path: out.jsonl }}, inputs: {{ video: gray }}, host: gpu }}\n"
    )
}

fn host(dir: &Path, host: &str) -> Server {
    Server::start_in(
        dir,
        "graph.yaml",
        &["--host", host, "--no-status", "--no-watch", "--token", TOKEN],
    )
}

/// Runs `ooblex deploy` of `text` with `token`; returns whether it succeeded and its JSON.
fn deploy(dir: &Path, text: &str, token: &str) -> (bool, Value) {
    let file = dir.join("next.yaml");
    std::fs::write(&file, text).expect("scratch is writable");
    let out = support::ooblex()
        .args(["deploy", file.to_str().expect("utf-8 path"), "--json", "--token", token])
        .output()
        .expect("ooblex runs");
    let shown = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("deploy prints JSON: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.success(), shown)
}

/// The answer of `host`.
fn answer<'a>(shown: &'a Value, host: &str) -> &'a Value {
    shown["answers"]
        .as_array()
        .and_then(|answers| answers.iter().find(|a| a["host"] == host))
        .unwrap_or_else(|| panic!("`{host}` answered: {shown}"))
}

fn ids(answer: &Value, what: &str) -> Vec<String> {
    answer["applied"]["diff"][what]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(String::from))
        .collect()
}

/// The graph `server` runs, as its token holder sees it.
fn running(server: &Server) -> Value {
    let body = ureq::get(&format!("{}/api/graph", server.base))
        .header("Authorization", &format!("Bearer {TOKEN}"))
        .call()
        .expect("the graph answers")
        .body_mut()
        .read_to_string()
        .expect("a body");
    serde_json::from_str(&body).expect("JSON")
}

fn lines(path: &Path) -> usize {
    std::fs::read_to_string(path).map_or(0, |text| text.lines().count())
}

#[test]
fn deployments_apply_host_by_host() {
    let dir = scratch("deploy");
    let port = free_port();
    std::fs::write(dir.join("graph.yaml"), graph(port, 15, "gpu")).expect("scratch is writable");
    let mut gpu = host(&dir, "gpu");
    let stage = host(&dir, "stage");
    let out = dir.join("out.jsonl");
    assert!(
        wait_for(Duration::from_secs(20), || lines(&out) > 5),
        "frames flow before any deployment"
    );

    // A param changes: only the node on `stage` restarts.
    let (ok, shown) = deploy(&dir, &graph(port, 10, "gpu"), TOKEN);
    assert!(ok, "{shown}");
    assert_eq!(ids(answer(&shown, "stage"), "changed"), ["cam"]);
    assert!(ids(answer(&shown, "gpu"), "changed").is_empty(), "{shown}");
    assert_eq!(running(&stage)["spec"]["nodes"]["cam"]["params"]["fps"], 10);

    // A node moves: it stops on `gpu` and starts on `stage`, and frames still reach the sink.
    let (ok, shown) = deploy(&dir, &graph(port, 10, "stage"), TOKEN);
    assert!(ok, "{shown}");
    assert!(
        ids(answer(&shown, "gpu"), "removed").contains(&"gray".to_string()),
        "{shown}"
    );
    assert!(
        ids(answer(&shown, "stage"), "added").contains(&"gray".to_string()),
        "{shown}"
    );
    let before = lines(&out);
    assert!(
        wait_for(Duration::from_secs(20), || lines(&out) > before + 10),
        "frames flow after the move"
    );

    // An invalid graph is rejected by every host, with its diagnostics; nothing changes.
    let invalid = graph(port, 10, "stage").replace("kind: grayscale", "kind: greyscale");
    let (ok, shown) = deploy(&dir, &invalid, TOKEN);
    assert!(!ok);
    for host in ["stage", "gpu"] {
        let answer = answer(&shown, host);
        assert_eq!(answer["outcome"], "rejected", "{shown}");
        assert!(
            answer["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("greyscale")),
            "{shown}"
        );
    }
    assert_eq!(running(&stage)["spec"]["nodes"]["gray"]["kind"], "grayscale");

    // A wrong token is refused by every host.
    let (ok, shown) = deploy(&dir, &graph(port, 5, "stage"), "not-the-token");
    assert!(!ok);
    for host in ["stage", "gpu"] {
        assert_eq!(answer(&shown, host)["outcome"], "refused", "{shown}");
    }
    assert_eq!(running(&stage)["spec"]["nodes"]["cam"]["params"]["fps"], 10);

    // A host that is down takes the newest version when it comes back.
    gpu.signal("KILL");
    let _ = gpu.child.wait();
    let (ok, shown) = deploy(&dir, &graph(port, 12, "stage"), TOKEN);
    assert!(!ok, "not every host applied it");
    assert_eq!(shown["down"], serde_json::json!(["gpu"]));
    assert_eq!(answer(&shown, "stage")["outcome"], "applied");
    gpu = host(&dir, "gpu"); // from graph.yaml, the first version
    assert!(
        wait_for(
            Duration::from_secs(15),
            || running(&gpu)["spec"]["nodes"]["cam"]["params"]["fps"] == 12
        ),
        "the host that was down caught up: {}",
        running(&gpu)["spec"]["nodes"]["cam"]
    );
    assert!(
        running(&gpu)["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .all(|n| n["node"] != "gray")
    );
}
