//! Keeping secrets in: the running graph as the control plane shows it to a
//! client without the token, with stream keys, tokens and URL credentials
//! masked, and the same secrets masked in the messages it sends out.
//!
//! What is secret is said in two generic ways, so no node kind is special here:
//! - a params field whose JSON Schema carries `writeOnly: true` (the standard
//!   keyword; a kind sets it with `#[schemars(extend("writeOnly" = true))]`)
//!   is masked whole;
//! - in every string, a URL's user info (`rtsp://user:***@host`) and the
//!   values of query parameters named like a secret (`?passphrase=***`).
//!
//! The values masked are remembered, so that an error message quoting one
//! (`cannot publish to rtmp://host/live/KEY`) is masked as well. The control
//! plane remembers the secrets of every graph it was given ([`secrets_of`]),
//! rejected ones included, so that an event raised under one graph and sent
//! under the next is masked too.

use serde_json::Value;

use crate::events::Event;
use crate::graph::spec::GraphSpec;
use crate::graph::validate::ValidatedGraph;
use crate::node::kind::KindInfo;
use crate::node::registry::Registry;

/// What a secret is replaced with.
pub const MASK: &str = "***";

/// Secrets shorter than this are masked where they stand (a field, a URL) but
/// not searched for in messages: a value that short would mask ordinary words.
const MIN_SEARCHED_LEN: usize = 4;

/// Query parameter names that hold secrets contain one of these.
const SECRET_QUERY_NAMES: &[&str] = &[
    "key",
    "token",
    "secret",
    "pass",
    "pwd",
    "auth",
    "sig",
    "credential",
    "session",
];

/// The running graph, in full and masked.
#[derive(Debug, Clone)]
pub struct ShownGraph {
    name: String,
    host: Option<String>,
    links: Vec<crate::graph::place::Link>,
    clear: Value,
    masked: Value,
    secrets: Vec<String>,
}

impl ShownGraph {
    /// The views of `graph`: each node's params masked by its kind's schema.
    pub fn of(graph: &ValidatedGraph) -> ShownGraph {
        let clear = spec_json(&graph.spec);
        let (masked, secrets) = masked_spec(&clear, |id| graph.kind_of(id));
        ShownGraph {
            name: graph.spec.name.to_string(),
            host: graph.host.clone(),
            links: graph.links.clone(),
            clear,
            masked,
            secrets,
        }
    }

    /// The secrets masked in the graph, longest first.
    pub fn secrets(&self) -> &[String] {
        &self.secrets
    }

    /// The graph's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The host whose part runs here; `None` for the whole graph.
    pub fn host(&self) -> Option<&str> {
        self.host.as_deref()
    }

    /// The part's links to other hosts.
    pub fn links(&self) -> &[crate::graph::place::Link] {
        &self.links
    }

    /// The spec as written when `clear`, else with its secrets masked.
    pub fn spec(&self, clear: bool) -> &Value {
        if clear { &self.clear } else { &self.masked }
    }
}

/// The secrets in `spec`, a graph as written that may not be valid: the
/// params its kinds mark secret (for kinds `registry` knows) and URL credentials.
pub fn secrets_of(spec: &GraphSpec, registry: &Registry) -> Vec<String> {
    let kinds: std::collections::HashMap<&str, &KindInfo> = spec
        .nodes
        .iter()
        .filter_map(|(id, node)| Some((id.as_str(), registry.get(&node.kind)?)))
        .collect();
    masked_spec(&spec_json(spec), |id| kinds.get(id).copied()).1
}

/// `spec` (as JSON) with its secrets masked, and the secrets, longest first;
/// `kind_of` gives a node's kind, whose schema marks its secret params.
fn masked_spec<'a>(spec: &Value, kind_of: impl Fn(&str) -> Option<&'a KindInfo>) -> (Value, Vec<String>) {
    let mut masked = spec.clone();
    let mut secrets = Vec::new();
    let ids: Vec<String> = spec["nodes"]
        .as_object()
        .map(|n| n.keys().cloned().collect())
        .unwrap_or_default();
    for id in ids {
        let (Some(kind), Some(params)) = (
            kind_of(&id),
            masked.pointer_mut(&format!("/nodes/{}/params", pointer_escape(&id))),
        ) else {
            continue;
        };
        let schema = kind.standalone_params_schema();
        mask_marked(schema.as_value(), schema.as_value(), params, &mut secrets);
    }
    mask_strings(&mut masked, &mut secrets);
    sort_secrets(&mut secrets);
    (masked, secrets)
}

/// Longest first, so that a secret inside another is masked after it; no repeats.
pub fn sort_secrets(secrets: &mut Vec<String>) {
    secrets.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    secrets.dedup();
}

fn spec_json(spec: &GraphSpec) -> Value {
    serde_json::to_value(spec).expect("a graph spec is plain data and always serializes")
}

/// A JSON pointer token for `key`.
fn pointer_escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// `text` with URL credentials masked, then every one of `secrets` (longest first).
pub fn scrub_text(text: &str, secrets: &[String]) -> String {
    let mut text = mask_urls(text, &mut Vec::new());
    for secret in secrets.iter().filter(|s| s.len() >= MIN_SEARCHED_LEN) {
        if text.contains(secret.as_str()) {
            text = text.replace(secret.as_str(), MASK);
        }
    }
    text
}

/// `event` as a client without the token sees it: messages scrubbed of URL
/// credentials and of `secrets`.
pub fn scrub_event(event: &Event, secrets: &[String]) -> Event {
    let scrub = |text: &str| scrub_text(text, secrets);
    match event {
        Event::GraphReloaded { .. } => event.clone(),
        Event::GraphRejected { origin, errors } => Event::GraphRejected {
            origin: origin.clone(),
            errors: errors
                .iter()
                .map(|report| {
                    let mut report = report.clone();
                    report.message = scrub(&report.message);
                    report.hint = report.hint.as_deref().map(scrub);
                    report
                })
                .collect(),
        },
        Event::NodeState { node, state, error } => Event::NodeState {
            node: node.clone(),
            state: *state,
            error: error.as_deref().map(scrub),
        },
    }
}

/// Masks, in `value` described by `schema`, every part marked `writeOnly`.
/// `root` resolves `$ref`s; alternatives (`anyOf`, `oneOf`, `allOf`) are each applied.
fn mask_marked(schema: &Value, root: &Value, value: &mut Value, secrets: &mut Vec<String>) {
    let Some(schema) = schema.as_object() else { return };
    if value.is_null() {
        return;
    }
    if schema.get("writeOnly") == Some(&Value::Bool(true)) {
        remember(value, secrets);
        *value = Value::String(MASK.to_string());
        return;
    }
    if let Some(target) = schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix('#'))
        .and_then(|pointer| root.pointer(pointer))
    {
        mask_marked(target, root, value, secrets);
    }
    for keyword in ["anyOf", "oneOf", "allOf"] {
        for alternative in schema.get(keyword).and_then(Value::as_array).into_iter().flatten() {
            mask_marked(alternative, root, value, secrets);
        }
    }
    match value {
        Value::Object(fields) => {
            let properties = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties");
            for (name, field) in fields.iter_mut() {
                if let Some(sub) = properties.and_then(|p| p.get(name)).or(additional) {
                    mask_marked(sub, root, field, secrets);
                }
            }
        }
        Value::Array(items) => {
            if let Some(sub) = schema.get("items") {
                for item in items {
                    mask_marked(sub, root, item, secrets);
                }
            }
        }
        _ => {}
    }
}

/// Remembers the text of a masked value, to find it in messages.
fn remember(value: &Value, secrets: &mut Vec<String>) {
    match value {
        Value::String(text) => secrets.push(text.clone()),
        Value::Number(_) | Value::Bool(_) => secrets.push(value.to_string()),
        Value::Array(items) => items.iter().for_each(|item| remember(item, secrets)),
        Value::Object(fields) => fields.values().for_each(|field| remember(field, secrets)),
        Value::Null => {}
    }
}

/// Masks URL credentials in every string of `value`.
fn mask_strings(value: &mut Value, secrets: &mut Vec<String>) {
    match value {
        Value::String(text) if text.contains("://") => *text = mask_urls(text, secrets),
        Value::Array(items) => items.iter_mut().for_each(|item| mask_strings(item, secrets)),
        Value::Object(fields) => fields.values_mut().for_each(|field| mask_strings(field, secrets)),
        _ => {}
    }
}

/// `text` with the credentials of every URL in it masked: the user info
/// (`rtsp://admin:***@cam`, `https://***@host` for a bare token) and the values
/// of query parameters named like a secret. What was masked goes into `secrets`.
pub fn mask_urls(text: &str, secrets: &mut Vec<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (before, after) = rest.split_at(at + 3);
        out.push_str(before);
        let end = after
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '<' | '>' | '\\'))
            .unwrap_or(after.len());
        let (url, tail) = after.split_at(end);
        mask_url(url, &mut out, secrets);
        rest = tail;
    }
    out.push_str(rest);
    out
}

/// Writes `url` (what follows `scheme://`) to `out` with its credentials masked.
fn mask_url(url: &str, out: &mut String, secrets: &mut Vec<String>) {
    // A password may hold an unencoded `/`: the user info runs to the last `@`
    // before the query when what comes before it is `user:password` (or has
    // no `/`); otherwise that `@` is in the path.
    let before_query = url.find(['?', '#']).unwrap_or(url.len());
    let host_start = url[..before_query]
        .rfind('@')
        .filter(|&at| {
            let userinfo = &url[..at];
            userinfo.split('/').next().is_some_and(|first| first.contains(':')) || !userinfo.contains('/')
        })
        .map_or(0, |at| at + 1);
    let authority_end = url[host_start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |end| host_start + end);
    let (authority, path) = url.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            match userinfo.split_once(':') {
                Some((user, password)) => {
                    secrets.push(password.to_string());
                    out.push_str(user);
                    out.push(':');
                }
                None => secrets.push(userinfo.to_string()),
            }
            out.push_str(MASK);
            out.push('@');
            out.push_str(host);
        }
        None => out.push_str(authority),
    }
    let Some((path, query)) = path.split_once('?') else {
        out.push_str(path);
        return;
    };
    let (query, fragment) = query.split_once('#').map_or((query, None), |(q, f)| (q, Some(f)));
    out.push_str(path);
    out.push('?');
    for (i, pair) in query.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        match pair.split_once('=') {
            Some((name, value)) if !value.is_empty() && is_secret_name(name) => {
                secrets.push(value.to_string());
                out.push_str(name);
                out.push('=');
                out.push_str(MASK);
            }
            _ => out.push_str(pair),
        }
    }
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
}

fn is_secret_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SECRET_QUERY_NAMES.iter().any(|secret| name.contains(secret))
}

#[cfg(test)]
mod tests {
    use schemars::JsonSchema;
    use serde::Deserialize;
    use serde_json::json;

    use super::*;
    use crate::graph::error::DiagnosticReport;
    use crate::graph::load::load_str;
    use crate::graph::validate::validate;
    use crate::metrics::NodeState;
    use crate::node::error::NodeError;
    use crate::node::kind::{Node, NodeKind};
    use crate::node::port::{InputPortSpec, OutputPortSpec, VIDEO_OUT};
    use crate::node::registry::Registry;

    /// Params with a secret marked as node kinds mark theirs.
    #[derive(Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct SecretParams {
        #[schemars(extend("writeOnly" = true))]
        key: Option<String>,
        url: String,
    }

    struct SecretSource;

    impl NodeKind for SecretSource {
        type Params = SecretParams;
        const NAME: &'static str = "secret_source";
        const DESCRIPTION: &'static str = "a source with a secret";
        const INPUTS: &'static [InputPortSpec] = &[];
        const OUTPUTS: &'static [OutputPortSpec] = &[VIDEO_OUT];

        fn build(_: &SecretParams) -> Result<Box<dyn Node>, NodeError> {
            Err(NodeError::startup("never built in these tests"))
        }
    }

    fn graph_with_secrets(yaml: &str) -> ValidatedGraph {
        let mut registry = Registry::default();
        registry.register::<SecretSource>();
        let loaded = load_str("graph.yaml", yaml).expect("the graph loads");
        validate(&loaded, &registry).expect("the graph is valid")
    }

    fn masked(text: &str) -> (String, Vec<String>) {
        let mut secrets = Vec::new();
        (mask_urls(text, &mut secrets), secrets)
    }

    #[test]
    fn url_passwords_are_masked_wherever_the_url_stands() {
        let (text, secrets) = masked("rtspsrc location=rtsp://admin:hunter2@10.0.0.5:554/stream1 latency=0 ! fakesink");
        assert_eq!(
            text,
            "rtspsrc location=rtsp://admin:***@10.0.0.5:554/stream1 latency=0 ! fakesink"
        );
        assert_eq!(secrets, ["hunter2"]);
        assert_eq!(masked("https://ghp_abc@github.com/x").0, "https://***@github.com/x");
        assert_eq!(
            masked("\"rtsp://u:p@cam\" and rtsp://cam/a@b").0,
            "\"rtsp://u:***@cam\" and rtsp://cam/a@b"
        );
        assert_eq!(masked("no url here").0, "no url here");
        assert_eq!(masked("rtsp://cam.local/stream1").0, "rtsp://cam.local/stream1");
    }

    #[test]
    fn query_values_named_like_secrets_are_masked() {
        let (text, secrets) =
            masked("srt://host:9000?mode=caller&passphrase=longsecret#x https://b/o?X-Amz-Signature=abcd&size=2");
        assert_eq!(
            text,
            "srt://host:9000?mode=caller&passphrase=***#x https://b/o?X-Amz-Signature=***&size=2"
        );
        assert_eq!(secrets, ["longsecret", "abcd"]);
    }

    #[test]
    fn messages_lose_known_secrets_but_keep_short_words() {
        let secrets = vec!["rtmp://a.example/live/streamkey123".to_string(), "abc".to_string()];
        assert_eq!(
            scrub_text(
                "cannot publish to `rtmp://a.example/live/streamkey123`: refused (abc)",
                &secrets
            ),
            "cannot publish to `***`: refused (abc)"
        );
    }

    #[test]
    fn write_only_fields_are_masked_through_options_arrays_and_refs() {
        let schema = json!({
            "type": "object",
            "$defs": { "Login": { "type": "object", "properties": {
                "user": { "type": "string" },
                "password": { "type": "string", "writeOnly": true } } } },
            "properties": {
                "key": { "type": ["string", "null"], "writeOnly": true },
                "name": { "type": "string" },
                "logins": { "type": "array", "items": { "$ref": "#/$defs/Login" } },
                "maybe": { "anyOf": [{ "$ref": "#/$defs/Login" }, { "type": "null" }] },
                "extra": { "type": "object", "additionalProperties": { "type": "string", "writeOnly": true } }
            }
        });
        let mut value = json!({
            "key": "studio",
            "name": "cam",
            "logins": [{ "user": "a", "password": "pw1" }],
            "maybe": { "user": "b", "password": "pw2" },
            "extra": { "x": "pw3" }
        });
        let mut secrets = Vec::new();
        mask_marked(&schema, &schema, &mut value, &mut secrets);
        assert_eq!(
            value,
            json!({
                "key": "***",
                "name": "cam",
                "logins": [{ "user": "a", "password": "***" }],
                "maybe": { "user": "b", "password": "***" },
                "extra": { "x": "***" }
            })
        );
        secrets.sort();
        assert_eq!(secrets, ["pw1", "pw2", "pw3", "studio"]);
        let mut absent = json!({ "key": null });
        mask_marked(&schema, &schema, &mut absent, &mut secrets);
        assert_eq!(absent, json!({ "key": null }), "an absent secret stays absent");
    }

    #[test]
    fn messages_lose_the_secrets_of_every_graph_the_process_was_given() {
        let control = crate::control::state::ControlState::new(
            crate::exec::executor::RuntimeEnv::default(),
            crate::control::access::Access::new("127.0.0.1:8800".parse().expect("an address"), None),
        );
        let graph = |key: &str| {
            graph_with_secrets(&format!(
                "version: 1\nname: g\nnodes:\n  cam: {{ kind: secret_source, params: {{ key: {key}, url: x }} }}\n"
            ))
        };
        control.set_graph(Some(&graph("firstkey")));
        // A reload: an error raised under the first graph is sent under the second.
        control.set_graph(Some(&graph("secondkey")));
        assert_eq!(
            control.scrub("push to rtmp://h/live/firstkey failed; now secondkey"),
            "push to rtmp://h/live/*** failed; now ***"
        );
    }

    #[test]
    fn a_password_with_a_slash_is_masked_whole() {
        let (text, secrets) = masked("rtsp://admin:pa/ss@cam.local/stream1");
        assert_eq!(text, "rtsp://admin:***@cam.local/stream1");
        assert_eq!(secrets, ["pa/ss"]);
    }

    #[test]
    fn the_secrets_of_an_invalid_graph_are_found_to_scrub_its_errors() {
        let mut registry = Registry::default();
        registry.register::<SecretSource>();
        let yaml = "version: 1\nname: g\nnodes:\n  cam: { kind: secret_source, params: { key: newsecret, url: 7 } }\n  \
                    other: { kind: no_such_kind, params: { url: \"rtmp://a:pw1234@h/x\" } }\n";
        let loaded = load_str("graph.yaml", yaml).expect("the graph loads");
        assert!(validate(&loaded, &registry).is_err(), "`url` has the wrong type");
        assert_eq!(secrets_of(&loaded.spec, &registry), ["newsecret", "pw1234"]);
    }

    #[test]
    fn a_graph_shows_its_secrets_only_in_the_clear_view() {
        let graph = graph_with_secrets(
            "version: 1\nname: g\nnodes:\n  cam: { kind: secret_source, params: { key: topsecret, url: \"rtsp://u:hunter2@cam/x\" } }\n",
        );
        let shown = ShownGraph::of(&graph);
        let masked = shown.spec(false).to_string();
        assert!(!masked.contains("topsecret") && !masked.contains("hunter2"), "{masked}");
        assert_eq!(shown.spec(false)["nodes"]["cam"]["params"]["key"], "***");
        assert_eq!(shown.spec(false)["nodes"]["cam"]["params"]["url"], "rtsp://u:***@cam/x");
        assert_eq!(shown.spec(true)["nodes"]["cam"]["params"]["key"], "topsecret");
        assert_eq!(
            scrub_text("node failed: key topsecret refused", shown.secrets()),
            "node failed: key *** refused"
        );
        let event = Event::NodeState {
            node: "cam".into(),
            state: NodeState::Restarting,
            error: Some("login hunter2 failed for topsecret".into()),
        };
        let Event::NodeState { error, .. } = scrub_event(&event, shown.secrets()) else {
            unreachable!("scrubbing keeps the variant")
        };
        assert_eq!(error.as_deref(), Some("login *** failed for ***"));
        let rejected = Event::GraphRejected {
            origin: "<POST /api/graph>".into(),
            errors: vec![DiagnosticReport {
                file: "x".into(),
                line: None,
                column: None,
                message: "bad url `rtsp://v:pw9999@cam`".into(),
                hint: Some("topsecret".into()),
            }],
        };
        let Event::GraphRejected { errors, .. } = scrub_event(&rejected, shown.secrets()) else {
            unreachable!("scrubbing keeps the variant")
        };
        assert_eq!(errors[0].message, "bad url `rtsp://v:***@cam`");
        assert_eq!(errors[0].hint.as_deref(), Some("***"));
    }
}
