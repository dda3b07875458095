//! Every class of graph error is reported with its line and a hint, using the
//! real built-in node kinds and the fixtures in tests/fixtures.

use ooblex_runtime::{GraphError, GraphErrors, load_str, validate};

fn fixture(name: &str) -> String {
    let path = format!("{}/../tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

/// Loads and validates a fixture that must fail; returns its errors.
fn errors(name: &str) -> GraphErrors {
    let source = fixture(name);
    let registry = ooblex_nodes::registry();
    match load_str(name, &source) {
        Err(errors) => errors,
        Ok(loaded) => match validate(&loaded, &registry) {
            Err(errors) => errors,
            Ok(_) => panic!("{name} should be invalid"),
        },
    }
}

/// The only error of a fixture, with its line.
fn single(name: &str) -> (GraphError, u32) {
    let errors = errors(name);
    assert_eq!(errors.diagnostics.len(), 1, "{}", errors.render(false));
    let d = &errors.diagnostics[0];
    assert!(d.error.hint().is_some(), "every error has a hint: {}", d.error);
    (d.error.clone(), d.span.expect("errors have a place").line)
}

#[test]
fn yaml_syntax_error() {
    let (error, line) = single("invalid-yaml-syntax.yaml");
    assert!(matches!(error, GraphError::Syntax { .. }), "{error:?}");
    assert!((4..=5).contains(&line), "line {line}");
}

#[test]
fn duplicate_key() {
    let (error, line) = single("invalid-duplicate-key.yaml");
    assert_eq!(
        error,
        GraphError::DuplicateKey {
            key: "name".into(),
            first_line: 2
        }
    );
    assert_eq!(line, 3);
}

#[test]
fn unknown_top_level_field() {
    let (error, line) = single("invalid-unknown-top-level-field.yaml");
    assert!(
        matches!(&error, GraphError::UnknownField { field, suggestion: Some(s), .. } if field == "nodez" && s == "nodes"),
        "{error:?}"
    );
    assert_eq!(line, 3);
    assert_eq!(error.hint().as_deref(), Some("did you mean `nodes`?"));
}

#[test]
fn unknown_kind_suggests_the_closest() {
    let (error, line) = single("invalid-unknown-kind.yaml");
    assert_eq!(
        error,
        GraphError::UnknownKind {
            node: "camera".into(),
            kind: "test_patern".into(),
            suggestion: Some("test_pattern".into())
        }
    );
    assert_eq!(line, 5);
    assert_eq!(error.to_string(), "unknown node kind `test_patern` for node `camera`");
}

#[test]
fn a_kind_this_build_leaves_out_says_how_to_get_it() {
    let mut registry = ooblex_nodes::registry();
    registry.not_built(&["ndi_source"], "it comes with the `ndi` feature");
    let source = "version: 1\nname: left-out\nnodes:\n  cam:\n    kind: ndi_source\n";
    let loaded = load_str("left-out.yaml", source).expect("the graph loads");
    let Err(errors) = validate(&loaded, &registry) else {
        panic!("the kind is not in this build")
    };
    let error = &errors.diagnostics[0].error;
    assert_eq!(
        error.to_string(),
        "node `cam` is a `ndi_source`, which this build of ooblex does not have"
    );
    assert_eq!(error.hint().as_deref(), Some("it comes with the `ndi` feature"));
}

#[test]
fn unknown_input_port() {
    let (error, line) = single("invalid-unknown-input-port.yaml");
    assert!(
        matches!(&error, GraphError::UnknownInputPort { port, available, .. } if port == "audio" && available == &["video"]),
        "{error:?}"
    );
    assert_eq!(line, 7);
}

#[test]
fn unknown_output_port() {
    let (error, line) = single("invalid-unknown-output-port.yaml");
    assert!(
        matches!(&error, GraphError::UnknownOutputPort { from, port, .. } if from == "camera" && port == "audio"),
        "{error:?}"
    );
    assert_eq!(line, 8);
}

#[test]
fn input_from_a_missing_node() {
    let (error, line) = single("invalid-missing-node.yaml");
    assert!(
        matches!(&error, GraphError::MissingNode { from, suggestion: Some(s), .. } if from == "camra" && s == "camera"),
        "{error:?}"
    );
    assert_eq!(line, 8);
}

#[test]
fn media_type_mismatch_names_both_ports() {
    let (error, line) = single("invalid-type-mismatch.yaml");
    assert_eq!(line, 9);
    assert_eq!(
        error.to_string(),
        "`encode.jpeg` produces image/jpeg, but `gray.video` accepts video/raw"
    );
}

#[test]
fn required_input_not_connected() {
    let (error, line) = single("invalid-missing-input.yaml");
    assert!(
        matches!(&error, GraphError::MissingInput { node, port, .. } if node == "gray" && port == "video"),
        "{error:?}"
    );
    assert_eq!(line, 5);
}

#[test]
fn port_fed_twice() {
    let (error, line) = single("invalid-fed-twice.yaml");
    assert_eq!(
        error,
        GraphError::InputFedTwice {
            node: "gray".into(),
            port: "video".into(),
            first_line: 9
        }
    );
    assert_eq!(line, 10);
}

#[test]
fn cycle_names_the_nodes_on_it() {
    let (error, _) = single("invalid-cycle.yaml");
    assert_eq!(
        error,
        GraphError::Cycle {
            cycle: vec!["first".into(), "second".into(), "third".into(), "first".into()]
        }
    );
    assert_eq!(
        error.to_string(),
        "the graph has a cycle: first -> second -> third -> first"
    );
}

#[test]
fn node_on_an_undefined_host() {
    let (error, line) = single("invalid-undefined-host.yaml");
    assert!(
        matches!(&error, GraphError::UndefinedHost { host, defined, .. } if host == "gpu" && defined == &["stage"]),
        "{error:?}"
    );
    assert_eq!(line, 8);
}

#[test]
fn link_settings_out_of_range_or_for_another_codec() {
    let errors = errors("invalid-link-settings.yaml");
    let found: Vec<(String, u32)> = errors
        .diagnostics
        .iter()
        .map(|d| (d.error.to_string(), d.span.expect("errors have a place").line))
        .collect();
    assert_eq!(found.len(), 2, "{}", errors.render(false));
    assert!(found[0].0.contains("`bitrate` is for `codec: h264`"), "{found:?}");
    assert_eq!(found[0].1, 12);
    assert!(found[1].0.contains("JPEG quality 0 is outside 1..=100"), "{found:?}");
    assert_eq!(found[1].1, 17);
}

#[test]
fn a_password_written_where_its_variable_goes() {
    let errors = errors("invalid-link-auth.yaml");
    assert_eq!(errors.diagnostics.len(), 1, "{}", errors.render(false));
    let d = &errors.diagnostics[0];
    assert!(
        d.error.to_string().contains("is not an environment variable name"),
        "{}",
        d.error
    );
    assert_eq!(d.span.expect("errors have a place").line, 7);
}

#[test]
fn links_with_certificates_take_tls_endpoints_only() {
    let errors = errors("invalid-link-tls.yaml");
    let found: Vec<(String, Option<String>, u32)> = errors
        .diagnostics
        .iter()
        .map(|d| {
            (
                d.error.to_string(),
                d.error.hint(),
                d.span.expect("errors have a place").line,
            )
        })
        .collect();
    assert_eq!(found.len(), 2, "{}", errors.render(false));
    assert!(
        found[0]
            .0
            .contains("host `gpu`: `tcp/stage.local:7447` would carry frames in clear"),
        "{found:?}"
    );
    assert!(
        found[0].1.as_deref().is_some_and(|hint| hint.contains("write `tls/`")),
        "{found:?}"
    );
    assert_eq!(found[0].2, 7);
    assert!(found[1].0.contains("`key` must name a PEM file"), "{found:?}");
    assert_eq!(found[1].2, 9);
}

#[test]
fn a_tls_endpoint_without_certificates() {
    let (error, line) = single("invalid-tls-without-certificates.yaml");
    assert!(
        error
            .to_string()
            .contains("host `stage`: `tls/0.0.0.0:7447` is a TLS endpoint"),
        "{error}"
    );
    assert!(
        error.hint().is_some_and(|hint| hint.contains("links: { tls:")),
        "{error}"
    );
    assert_eq!(line, 4);
}

#[test]
fn params_unknown_field() {
    let (error, line) = single("invalid-params-unknown-field.yaml");
    assert!(
        matches!(&error, GraphError::InvalidParams { field, .. } if field == &["widht"]),
        "{error:?}"
    );
    assert_eq!(line, 7);
    assert_eq!(error.hint().as_deref(), Some("did you mean `width`?"));
}

#[test]
fn params_wrong_type() {
    let (error, line) = single("invalid-params-wrong-type.yaml");
    assert!(
        matches!(&error, GraphError::InvalidParams { field, .. } if field == &["height"]),
        "{error:?}"
    );
    assert_eq!(line, 8);
    assert!(error.to_string().ends_with("`height` cannot be \"tall\""), "{error}");
    assert_eq!(
        error.hint().as_deref(),
        Some("`height` must be an integer from 16 to 8192")
    );
}

#[test]
fn params_out_of_range() {
    let (error, line) = single("invalid-params-out-of-range.yaml");
    assert!(
        matches!(&error, GraphError::InvalidParams { field, .. } if field == &["radius"]),
        "{error:?}"
    );
    assert_eq!(line, 9);
    assert!(error.hint().is_some_and(|h| h.contains("64")), "{:?}", error.hint());
}

#[test]
fn every_params_problem_of_a_node_is_reported_at_once() {
    let errors = errors("invalid-params-many.yaml");
    let fields: Vec<String> = errors
        .diagnostics
        .iter()
        .map(|d| match &d.error {
            GraphError::InvalidParams { field, .. } => field.join("."),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        fields,
        ["widht", "width", "height", "fps", "pattern"],
        "{}",
        errors.render(false)
    );
}

#[test]
fn unsupported_version() {
    let (error, line) = single("invalid-version.yaml");
    assert_eq!(error, GraphError::UnsupportedVersion { found: 2 });
    assert_eq!(line, 1);
}

#[test]
fn queue_length_and_restart_limit_are_bounded() {
    let errors = errors("invalid-queue-and-restarts.yaml");
    let lines: Vec<u32> = errors
        .diagnostics
        .iter()
        .filter_map(|d| d.span.map(|s| s.line))
        .collect();
    assert_eq!(lines, vec![7, 8], "{}", errors.render(false));
    assert!(
        errors.diagnostics[0]
            .error
            .to_string()
            .contains("`queue` must be from 1 to 1000")
    );
    assert!(
        errors.diagnostics[1]
            .error
            .to_string()
            .contains("`max_restarts` must be at least 1")
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let errors = errors("invalid-many-problems.yaml");
    let lines: Vec<u32> = errors
        .diagnostics
        .iter()
        .filter_map(|d| d.span.map(|s| s.line))
        .collect();
    assert_eq!(errors.diagnostics.len(), 4, "{}", errors.render(false));
    assert_eq!(lines, vec![6, 8, 12, 13]);
    let text = errors.render(false);
    assert!(text.contains("invalid-many-problems.yaml:8:11"), "{text}");
    assert!(text.contains("help: did you mean `blur`?"), "{text}");
}

#[test]
fn long_form_inputs_hosts_and_restart_policies_are_valid() {
    let source = fixture("valid-long-inputs.yaml");
    let loaded = load_str("valid-long-inputs.yaml", &source).unwrap_or_else(|e| panic!("{}", e.render(false)));
    let graph = validate(&loaded, &ooblex_nodes::registry()).unwrap_or_else(|e| panic!("{}", e.render(false)));
    let gray = graph.node("gray").expect("gray exists");
    assert_eq!(gray.inputs[0].capacity, 4);
    assert_eq!(gray.inputs[0].policy, ooblex_runtime::QueuePolicy::Block);
    let sink = graph.node("sink").expect("sink exists");
    assert_eq!(
        sink.inputs[0].policy,
        ooblex_runtime::QueuePolicy::Latest,
        "live video defaults to latest"
    );
}
