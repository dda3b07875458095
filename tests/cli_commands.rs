//! `ooblex validate`, `schema`, `nodes` and `graph` as a user runs them.

mod support;

use support::{repo_root, run};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

#[test]
fn every_example_graph_validates() {
    let mut graphs: Vec<String> = std::fs::read_dir(repo_root().join("graphs"))
        .expect("graphs/ exists")
        .filter_map(|e| e.ok())
        .map(|e| format!("graphs/{}", e.file_name().to_string_lossy()))
        .filter(|p| p.ends_with(".yaml"))
        .collect();
    graphs.sort();
    assert!(graphs.len() >= 3);
    let mut args = vec!["validate"];
    args.extend(graphs.iter().map(String::as_str));
    let out = run(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for graph in &graphs {
        let source = std::fs::read_to_string(repo_root().join(graph)).expect("graph readable");
        assert!(
            source.starts_with("# yaml-language-server: $schema=../schemas/graph.schema.json"),
            "{graph} names the schema on its first line"
        );
    }
}

#[test]
fn validate_says_which_edges_convert_pixel_formats() {
    let out = run(&["validate", "graphs/obs-to-hls.yaml"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(
        said.contains(
            "note: `decoded.video` gives i420, `blurred.video` takes rgb24, rgba: converted to rgb24 on the edge"
        ),
        "{said}"
    );
}

#[test]
fn validate_prints_every_problem_with_its_place_and_fails() {
    let out = run(&[
        "validate",
        "tests/fixtures/invalid-many-problems.yaml",
        "graphs/quickstart.yaml",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    for place in [":6:", ":8:", ":12:", ":13:"] {
        assert!(
            stderr.contains(&format!("invalid-many-problems.yaml{place}")),
            "missing {place} in:\n{stderr}"
        );
    }
    assert!(stderr.contains("error: unknown node kind `bluur`"), "{stderr}");
    assert!(stderr.contains("help: did you mean `blur`?"), "{stderr}");
    assert!(stderr.contains("1 of 2 graph file(s) invalid"), "{stderr}");
    assert!(text(&out.stdout).contains("graphs/quickstart.yaml: ok"));
}

#[test]
fn validate_reports_an_unreadable_file() {
    let out = run(&["validate", "graphs/does-not-exist.yaml"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("cannot read graph file `graphs/does-not-exist.yaml`"));
}

#[test]
fn committed_schema_is_current_and_a_stale_one_fails() {
    // The committed schema lists every kind; a build without the `gstreamer`
    // feature checks the kinds it has and that the file lists the others (the
    // comparison itself is tested in ooblex-runtime's `schema_check`).
    let out = run(&["schema", "--check", "schemas/graph.schema.json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("up to date"), "{}", text(&out.stdout));

    let printed = run(&["schema"]);
    let schema: serde_json::Value = serde_json::from_slice(&printed.stdout).expect("the schema is JSON");
    let kinds = &schema["$defs"]["NodeSpec"]["properties"]["kind"]["enum"];
    assert!(
        kinds.as_array().is_some_and(|k| k.iter().any(|v| v == "test_pattern")),
        "{kinds}"
    );
    let rules = schema["$defs"]["NodeSpec"]["allOf"].as_array().expect("per-kind rules");
    let blur = rules
        .iter()
        .find(|r| r["if"]["properties"]["kind"]["const"] == "blur")
        .expect("a rule for blur");
    assert_eq!(blur["then"]["properties"]["params"]["$ref"], "#/$defs/BlurParams");
    assert_eq!(schema["$defs"]["BlurParams"]["properties"]["radius"]["maximum"], 64);

    let stale = std::env::temp_dir().join(format!("ooblex-stale-{}.json", std::process::id()));
    std::fs::write(&stale, "{}\n").expect("temp dir is writable");
    let out = run(&["schema", "--check", stale.to_str().expect("utf-8 temp path")]);
    let _ = std::fs::remove_file(&stale);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("is stale"));
}

#[test]
fn nodes_lists_kinds_and_describes_one() {
    let out = run(&["nodes"]);
    assert!(out.status.success());
    let list = text(&out.stdout);
    for kind in [
        "test_pattern",
        "image_source",
        "y4m_source",
        "y4m_sink",
        "scale",
        "convert",
        "grayscale",
        "pixelate",
        "mirror",
        "blur",
        "jpeg_encode",
        "mjpeg_sink",
        "json_sink",
        "null_sink",
    ] {
        assert!(
            list.lines().any(|l| l.starts_with(kind)),
            "{kind} missing from:\n{list}"
        );
    }

    let out = run(&["nodes", "blur"]);
    assert!(out.status.success());
    let blur = text(&out.stdout);
    assert!(blur.contains("video      video/raw (required)"), "{blur}");
    assert!(blur.contains("radius"), "{blur}");
    assert!(blur.contains("default 8"), "{blur}");

    let out = run(&["nodes", "style_transfer"]);
    let style = text(&out.stdout);
    assert!(
        style.contains("raw video in rgb24, rgba (others are converted on the edge)"),
        "{style}"
    );

    let out = run(&["nodes", "blurr"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("did you mean `blur`?"));
}

#[test]
fn graph_draws_dot_and_mermaid() {
    let dot = run(&["graph", "graphs/quickstart.yaml", "--format", "dot"]);
    assert!(dot.status.success());
    let dot = text(&dot.stdout);
    assert!(dot.starts_with("digraph \"quickstart\""), "{dot}");
    assert!(dot.contains("\"camera\" -> \"pixelated\""), "{dot}");

    let mermaid = run(&["graph", "graphs/quickstart.yaml", "--format", "mermaid"]);
    let mermaid = text(&mermaid.stdout);
    assert!(mermaid.starts_with("flowchart LR"), "{mermaid}");
    assert!(mermaid.contains("pixelated -->"), "{mermaid}");
}
