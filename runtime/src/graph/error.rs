//! Everything that can be wrong with a graph file, each with its place and a hint.

use serde::Serialize;

use crate::graph::document::Span;

/// One problem in a graph file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GraphError {
    /// The text is not valid YAML.
    #[error("invalid YAML: {message}")]
    Syntax {
        /// What the YAML parser said.
        message: String,
    },
    /// A mapping has the same key twice.
    #[error("duplicate key `{key}`")]
    DuplicateKey {
        /// The key.
        key: String,
        /// Line of its first occurrence.
        first_line: u32,
    },
    /// An input port appears twice under one node's `inputs`.
    #[error("input port `{port}` of node `{node}` is fed twice")]
    InputFedTwice {
        /// The node.
        node: String,
        /// The port.
        port: String,
        /// Line of the first feed.
        first_line: u32,
    },
    /// A field that the graph format does not have.
    #[error("unknown field `{field}` in {context}")]
    UnknownField {
        /// The field as written.
        field: String,
        /// Where it was (`the graph`, `node \`cam\``).
        context: String,
        /// Fields that exist there.
        expected: Vec<String>,
        /// The closest existing field.
        suggestion: Option<String>,
    },
    /// A field has a value of the wrong shape (or a required field is missing).
    #[error("{message} in {context}")]
    InvalidValue {
        /// What serde said.
        message: String,
        /// Where it was.
        context: String,
    },
    /// A required field is missing.
    #[error("missing field `{field}` in {context}")]
    MissingField {
        /// The field.
        field: String,
        /// Where it should be.
        context: String,
        /// An example of the field, for the hint.
        example: String,
    },
    /// `version` is not one this runtime reads.
    #[error("unsupported graph version {found}")]
    UnsupportedVersion {
        /// The version written.
        found: u32,
    },
    /// The graph has no nodes.
    #[error("the graph has no nodes")]
    NoNodes,
    /// `kind` names no registered kind.
    #[error("unknown node kind `{kind}` for node `{node}`")]
    UnknownKind {
        /// The node.
        node: String,
        /// The kind as written.
        kind: String,
        /// The closest known kind.
        suggestion: Option<String>,
    },
    /// `kind` exists but this build leaves it out.
    #[error("node `{node}` is a `{kind}`, which this build of ooblex does not have")]
    KindNotBuilt {
        /// The node.
        node: String,
        /// The kind as written.
        kind: String,
        /// How to get it.
        how: String,
    },
    /// An input names a port the kind does not have.
    #[error("node `{node}` ({kind}) has no input port `{port}`")]
    UnknownInputPort {
        /// The node.
        node: String,
        /// Its kind.
        kind: String,
        /// The port as written.
        port: String,
        /// The kind's input ports.
        available: Vec<String>,
    },
    /// An input reads from a port the upstream kind does not have.
    #[error("node `{from}` ({kind}) has no output port `{port}`")]
    UnknownOutputPort {
        /// The upstream node.
        from: String,
        /// Its kind.
        kind: String,
        /// The port as written.
        port: String,
        /// The kind's output ports.
        available: Vec<String>,
    },
    /// An input reads from a node that does not exist.
    #[error("input `{port}` of node `{node}` reads from `{from}`, which is not a node of this graph")]
    MissingNode {
        /// The node with the input.
        node: String,
        /// The input port.
        port: String,
        /// The missing node as written.
        from: String,
        /// The closest existing node.
        suggestion: Option<String>,
    },
    /// An edge joins ports of incompatible media types.
    #[error("`{from}.{from_port}` produces {from_type}, but `{to}.{to_port}` accepts {accepts}")]
    TypeMismatch {
        /// Upstream node.
        from: String,
        /// Upstream port.
        from_port: String,
        /// What it produces.
        from_type: String,
        /// Downstream node.
        to: String,
        /// Downstream port.
        to_port: String,
        /// What it accepts, joined with ` or `.
        accepts: String,
    },
    /// Raw video in formats an input does not take, where no conversion exists.
    #[error(
        "`{from}.{from_port}` gives {gives} video, but `{to}.{to_port}` takes only {takes}, and this build has no converter"
    )]
    NoConversion {
        /// Upstream node.
        from: String,
        /// Upstream port.
        from_port: String,
        /// The pixel formats it gives.
        gives: String,
        /// Downstream node.
        to: String,
        /// Downstream port.
        to_port: String,
        /// The pixel formats it takes.
        takes: String,
    },
    /// A required input port is not connected.
    #[error("node `{node}` ({kind}) needs its input `{port}` connected")]
    MissingInput {
        /// The node.
        node: String,
        /// Its kind.
        kind: String,
        /// The port.
        port: String,
        /// What the port accepts.
        accepts: String,
    },
    /// The edges form a cycle.
    #[error("the graph has a cycle: {}", cycle.join(" -> "))]
    Cycle {
        /// The nodes on the cycle, the first repeated at the end.
        cycle: Vec<String>,
    },
    /// A node is placed on a host that `hosts` does not define.
    #[error("node `{node}` runs on host `{host}`, which is not defined")]
    UndefinedHost {
        /// The node.
        node: String,
        /// The host as written.
        host: String,
        /// Hosts that are defined.
        defined: Vec<String>,
    },
    /// A host's endpoint does not match how the graph secures its links.
    #[error("host `{host}`: `{endpoint}` {problem}")]
    LinkEndpoint {
        /// The host.
        host: String,
        /// The endpoint as written.
        endpoint: String,
        /// What is wrong with it.
        problem: String,
        /// How to fix it.
        fix: String,
    },
    /// A node's params do not fit its kind.
    #[error("invalid params for node `{node}` ({kind}): {message}")]
    InvalidParams {
        /// The node.
        node: String,
        /// Its kind.
        kind: String,
        /// Path of the field inside `params`.
        field: Vec<String>,
        /// What is wrong.
        message: String,
        /// How to fix it, from the kind.
        hint: Option<String>,
    },
}

impl GraphError {
    /// How to fix it.
    pub fn hint(&self) -> Option<String> {
        let one_of = |items: &[String]| {
            if items.is_empty() {
                "none".to_string()
            } else {
                items.iter().map(|i| format!("`{i}`")).collect::<Vec<_>>().join(", ")
            }
        };
        match self {
            GraphError::Syntax { .. } => Some("check indentation, colons and brackets around this place".into()),
            GraphError::DuplicateKey { key, first_line } => {
                Some(format!("`{key}` is already set on line {first_line}; keep one of them"))
            }
            GraphError::InputFedTwice { port, first_line, .. } => Some(format!(
                "`{port}` is already fed on line {first_line}; an input takes one upstream port (use a compositor such as `mosaic` to merge streams)"
            )),
            GraphError::UnknownField {
                suggestion: Some(s), ..
            } => Some(format!("did you mean `{s}`?")),
            GraphError::UnknownField { expected, .. } => Some(format!("expected one of {}", one_of(expected))),
            // YAML 1.1 reads on/off/yes/no/y/n as booleans.
            GraphError::InvalidValue { message, .. } if message.contains("boolean") => Some(
                "YAML reads `on`, `off`, `yes`, `no`, `y` and `n` as true or false: quote the value (\"on\")".into(),
            ),
            GraphError::InvalidValue { .. } => None,
            GraphError::MissingField { example, .. } => Some(format!("add `{example}`")),
            GraphError::UnsupportedVersion { .. } => Some("write `version: 1`".into()),
            GraphError::NoNodes => Some("add nodes under `nodes:`; see graphs/quickstart.yaml".into()),
            GraphError::UnknownKind {
                suggestion: Some(s), ..
            } => Some(format!("did you mean `{s}`? (`ooblex nodes` lists every kind)")),
            GraphError::UnknownKind { .. } => Some("`ooblex nodes` lists every kind".into()),
            GraphError::KindNotBuilt { how, .. } => Some(how.clone()),
            GraphError::UnknownInputPort { kind, available, .. } => {
                Some(format!("`{kind}` has input ports {}", one_of(available)))
            }
            GraphError::UnknownOutputPort { kind, available, .. } => {
                Some(format!("`{kind}` has output ports {}", one_of(available)))
            }
            GraphError::MissingNode {
                suggestion: Some(s), ..
            } => Some(format!("did you mean `{s}`?")),
            GraphError::MissingNode { .. } => Some("name a node defined under `nodes:`".into()),
            GraphError::TypeMismatch { accepts, .. } => Some(format!(
                "put a node between them that turns it into {accepts} (`ooblex nodes` shows each kind's ports)"
            )),
            GraphError::NoConversion { takes, .. } => Some(format!(
                "put a node between them that gives {takes} (`ooblex nodes` shows each kind's formats)"
            )),
            GraphError::MissingInput { port, accepts, .. } => Some(format!(
                "add `inputs: {{ {port}: <node> }}` with a node that produces {accepts}"
            )),
            GraphError::Cycle { .. } => Some("frames must flow one way; remove one of these inputs".into()),
            GraphError::UndefinedHost { host, defined, .. } if defined.is_empty() => Some(format!(
                "define it under `hosts:` (`{host}: {{ listen: [\"tcp/0.0.0.0:7447\"] }}`) or remove `host:`"
            )),
            GraphError::UndefinedHost { defined, .. } => Some(format!("defined hosts: {}", one_of(defined))),
            GraphError::LinkEndpoint { fix, .. } => Some(fix.clone()),
            GraphError::InvalidParams { hint, kind, .. } => hint
                .clone()
                .or_else(|| Some(format!("`ooblex nodes {kind}` lists its params"))),
        }
    }
}

/// A [`GraphError`] with where it is in the file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{error}")]
pub struct Diagnostic {
    /// What is wrong.
    pub error: GraphError,
    /// Where; `None` only when the parser could not tell.
    pub span: Option<Span>,
}

impl Diagnostic {
    /// An error at a place.
    pub fn new(error: GraphError, span: Span) -> Diagnostic {
        Diagnostic {
            error,
            span: Some(span),
        }
    }

    /// The machine-readable form, for the HTTP API.
    pub fn to_report(&self, origin: &str) -> DiagnosticReport {
        DiagnosticReport {
            file: origin.to_string(),
            line: self.span.map(|s| s.line),
            column: self.span.map(|s| s.column),
            message: self.error.to_string(),
            hint: self.error.hint(),
        }
    }
}

/// A diagnostic as JSON: file, line, column, message, hint.
#[derive(Debug, Clone, Serialize)]
pub struct DiagnosticReport {
    /// File name.
    pub file: String,
    /// Line, from 1.
    pub line: Option<u32>,
    /// Column, from 1.
    pub column: Option<u32>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
}
