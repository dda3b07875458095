//! Stage one of reading a graph: YAML text to [`GraphSpec`], checking only the
//! shape of what was written (no registry, no I/O). Every error found is
//! reported, each with its place.

use std::collections::{BTreeMap, HashMap};

use schemars::JsonSchema;
use serde::de::DeserializeOwned;

use crate::graph::document::{Document, Node, Span, Value};
use crate::graph::error::{Diagnostic, GraphError};
use crate::graph::spec::{GraphSpec, HostSpec, LinksSpec, Name, NodeSpec};
use crate::node::params::{did_you_mean, error_path, property_names};

/// A graph file that failed to load or validate: every problem, with the text
/// they point into.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{} has {} problem(s)", origin, diagnostics.len())]
pub struct GraphErrors {
    /// File name used in messages.
    pub origin: String,
    /// The text of the file.
    pub text: String,
    /// The problems, in file order.
    pub diagnostics: Vec<Diagnostic>,
}

/// A graph file read into its spec, with the document for error places.
#[derive(Debug, Clone)]
pub struct LoadedGraph {
    /// The graph as written.
    pub spec: GraphSpec,
    /// The parsed file.
    pub document: Document,
}

/// Reads graph YAML. `origin` names the file in messages.
pub fn load_str(origin: &str, source: &str) -> Result<LoadedGraph, GraphErrors> {
    let fail = |diagnostics: Vec<Diagnostic>| GraphErrors {
        origin: origin.to_string(),
        text: source.to_string(),
        diagnostics,
    };
    let document = match Document::parse(origin, source) {
        Ok(document) => document,
        Err(err) => {
            return Err(fail(vec![Diagnostic {
                error: GraphError::Syntax { message: err.message },
                span: err.span,
            }]));
        }
    };
    let mut diagnostics = Vec::new();
    find_duplicate_keys(&document.root, &mut Vec::new(), &mut diagnostics);
    let spec = read_graph(&document.root, &mut diagnostics);
    diagnostics.sort_by_key(|d| d.span.map(|s| s.offset));
    match spec {
        Some(spec) if diagnostics.is_empty() => Ok(LoadedGraph { spec, document }),
        _ => Err(fail(diagnostics)),
    }
}

/// Reads a graph file from disk.
pub fn load_file(path: &std::path::Path) -> Result<LoadedGraph, LoadFileError> {
    let source = std::fs::read_to_string(path).map_err(|err| LoadFileError::Read {
        path: path.display().to_string(),
        reason: err.to_string(),
    })?;
    load_str(&path.display().to_string(), &source).map_err(LoadFileError::Invalid)
}

/// Why a graph file could not be loaded.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LoadFileError {
    /// The file could not be read.
    #[error("cannot read graph file `{path}`: {reason}")]
    Read {
        /// The path.
        path: String,
        /// What the OS said.
        reason: String,
    },
    /// The file was read but is not a valid graph.
    #[error(transparent)]
    Invalid(GraphErrors),
}

fn find_duplicate_keys(node: &Node, path: &mut Vec<String>, out: &mut Vec<Diagnostic>) {
    match &node.value {
        Value::Map(entries) => {
            let mut seen: HashMap<&str, Span> = HashMap::new();
            for entry in entries {
                if let Some(first) = seen.get(entry.key.as_str()) {
                    let error = match path.as_slice() {
                        [nodes, node, inputs] if nodes == "nodes" && inputs == "inputs" => GraphError::InputFedTwice {
                            node: node.clone(),
                            port: entry.key.clone(),
                            first_line: first.line,
                        },
                        _ => GraphError::DuplicateKey {
                            key: entry.key.clone(),
                            first_line: first.line,
                        },
                    };
                    out.push(Diagnostic::new(error, entry.key_span));
                } else {
                    seen.insert(&entry.key, entry.key_span);
                }
                path.push(entry.key.clone());
                find_duplicate_keys(&entry.value, path, out);
                path.pop();
            }
        }
        Value::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(i.to_string());
                find_duplicate_keys(item, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn read_graph(root: &Node, out: &mut Vec<Diagnostic>) -> Option<GraphSpec> {
    let context = "the graph";
    if root.entries().is_none() {
        out.push(Diagnostic::new(
            GraphError::InvalidValue {
                message: format!(
                    "expected a mapping with `version`, `name` and `nodes`, found {}",
                    root.value.type_name()
                ),
                context: context.to_string(),
            },
            root.span,
        ));
        return None;
    }
    check_fields::<GraphSpec>(root, context, out);
    let version = required::<u32>(root, "version", "version: 1", context, out);
    let name = required::<Name>(root, "name", "name: my-graph", context, out);
    let hosts = match root.get("hosts") {
        Some(entry) => read::<BTreeMap<Name, HostSpec>>(&entry.value, &["hosts"], context, out),
        None => Some(BTreeMap::new()),
    };
    let links = match root.get("links") {
        Some(entry) => read::<LinksSpec>(&entry.value, &["links"], context, out).map(Some),
        None => Some(None),
    };
    let nodes = match root.get("nodes") {
        Some(entry) => read_nodes(&entry.value, out),
        None => {
            out.push(missing(root, "nodes", "nodes: { ... }", context));
            None
        }
    };
    if let Some(v) = version.filter(|&v| v != crate::graph::spec::GRAPH_VERSION) {
        let span = root.get("version").map_or(root.span, |e| e.value.span);
        out.push(Diagnostic::new(GraphError::UnsupportedVersion { found: v }, span));
    }
    Some(GraphSpec {
        version: version?,
        name: name?,
        hosts: hosts?,
        links: links?,
        nodes: nodes?,
    })
}

fn read_nodes(nodes: &Node, out: &mut Vec<Diagnostic>) -> Option<BTreeMap<Name, NodeSpec>> {
    let Some(entries) = nodes.entries() else {
        out.push(Diagnostic::new(
            GraphError::InvalidValue {
                message: format!(
                    "`nodes` must be a mapping of node ids to nodes, found {}",
                    nodes.value.type_name()
                ),
                context: "the graph".to_string(),
            },
            nodes.span,
        ));
        return None;
    };
    if entries.is_empty() {
        out.push(Diagnostic::new(GraphError::NoNodes, nodes.span));
        return None;
    }
    let mut specs = BTreeMap::new();
    let mut ok = true;
    for entry in entries {
        let context = format!("node `{}`", entry.key);
        let id = match Name::new(&entry.key) {
            Ok(id) => Some(id),
            Err(message) => {
                out.push(Diagnostic::new(
                    GraphError::InvalidValue {
                        message,
                        context: "`nodes`".into(),
                    },
                    entry.key_span,
                ));
                None
            }
        };
        if entry.value.entries().is_none() {
            out.push(Diagnostic::new(
                GraphError::InvalidValue {
                    message: format!(
                        "a node must be a mapping with at least `kind`, found {}",
                        entry.value.value.type_name()
                    ),
                    context,
                },
                entry.value.span,
            ));
            ok = false;
            continue;
        }
        let fields_ok = check_fields::<NodeSpec>(&entry.value, &context, out);
        if entry.value.get("kind").is_none() {
            out.push(missing(&entry.value, "kind", "kind: test_pattern", &context));
            ok = false;
            continue;
        }
        let path = ["nodes".to_string(), entry.key.clone()];
        match (id, fields_ok, read::<NodeSpec>(&entry.value, &path, &context, out)) {
            (Some(id), true, Some(spec)) => {
                specs.insert(id, spec);
            }
            _ => ok = false,
        }
    }
    ok.then_some(specs)
}

/// Reports fields of a mapping that `T` does not have; returns whether all are known.
fn check_fields<T: JsonSchema>(node: &Node, context: &str, out: &mut Vec<Diagnostic>) -> bool {
    let known = property_names(&schemars::schema_for!(T));
    let mut ok = true;
    for entry in node.entries().unwrap_or_default() {
        if !known.contains(&entry.key) {
            ok = false;
            out.push(Diagnostic::new(
                GraphError::UnknownField {
                    field: entry.key.clone(),
                    context: context.to_string(),
                    expected: known.clone(),
                    suggestion: did_you_mean(&entry.key, known.iter().map(String::as_str)),
                },
                entry.key_span,
            ));
        }
    }
    ok
}

fn missing(node: &Node, field: &str, example: &str, context: &str) -> Diagnostic {
    Diagnostic::new(
        GraphError::MissingField {
            field: field.to_string(),
            context: context.to_string(),
            example: example.to_string(),
        },
        node.span,
    )
}

fn required<T: DeserializeOwned>(
    root: &Node,
    field: &str,
    example: &str,
    context: &str,
    out: &mut Vec<Diagnostic>,
) -> Option<T> {
    match root.get(field) {
        Some(entry) => read(&entry.value, &[field.to_string()], context, out),
        None => {
            out.push(missing(root, field, example, context));
            None
        }
    }
}

/// Deserializes `node` into `T`; an error points at the offending value.
/// `base` is the path of `node` from the root, for messages.
fn read<T: DeserializeOwned>(
    node: &Node,
    base: &[impl AsRef<str>],
    context: &str,
    out: &mut Vec<Diagnostic>,
) -> Option<T> {
    match serde_path_to_error::deserialize::<_, T>(node.to_json()) {
        Ok(value) => Some(value),
        Err(err) => {
            let path = error_path(err.path());
            let span = node.span_at(&path, false);
            let mut full: Vec<String> = base.iter().map(|s| s.as_ref().to_string()).collect();
            full.extend(path);
            let message = if full.len() > 1 {
                format!("`{}`: {}", full[1..].join("."), err.inner())
            } else {
                format!("`{}`: {}", full.join("."), err.inner())
            };
            out.push(Diagnostic::new(
                GraphError::InvalidValue {
                    message,
                    context: context.to_string(),
                },
                span,
            ));
            None
        }
    }
}
