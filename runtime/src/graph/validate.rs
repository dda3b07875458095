//! Stage two of reading a graph: resolve kinds, ports, params and hosts
//! against the [`Registry`], check the graph's shape with petgraph, and
//! produce the [`ValidatedGraph`] the executor runs.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use petgraph::algo::{tarjan_scc, toposort};
use petgraph::graph::{DiGraph, NodeIndex};

use crate::exec::queue::QueuePolicy;
use crate::graph::error::{Diagnostic, GraphError};
use crate::graph::load::{GraphErrors, LoadedGraph};
use crate::graph::negotiate::{Conversion, negotiate};
use crate::graph::place::Link;
use crate::graph::spec::{GraphSpec, InputRef, LinkAuth, LinkCodec, LinkSpec, LinkTls, NodeSpec};
use crate::node::formats::FormatSet;
use crate::node::kind::{KindInfo, NodeFactory};
use crate::node::params::did_you_mean;
use crate::node::port::MediaType;
use crate::node::registry::Registry;

/// The longest input queue a graph may ask for.
pub const MAX_QUEUE: usize = 1000;

/// Queue length of an input fed by live raw video, unless the graph says otherwise.
pub const DEFAULT_LIVE_QUEUE: usize = 2;
/// Queue length of an input fed by live H.264, unless the graph says
/// otherwise. A drop there takes the rest of a group of pictures
/// with it, so the queue is deep enough to take a burst from the network
/// (a quarter of a second at 30 fps) without losing seconds of video.
pub const DEFAULT_LIVE_H264_QUEUE: usize = 8;
/// Queue length of an input fed by live audio, unless the graph says
/// otherwise: over a second of AAC frames, so that audio waiting for the video
/// it goes with (a muxer holds it while effects delay the pictures) is not lost.
pub const DEFAULT_LIVE_AUDIO_QUEUE: usize = 64;
/// Queue length of an input fed by a file or other non-live source.
pub const DEFAULT_FILE_QUEUE: usize = 8;

/// The queue length of an input fed with `media`, from a live source or not,
/// unless the graph says otherwise.
pub fn default_queue(live: bool, media: MediaType) -> usize {
    match (live, media) {
        (false, _) => DEFAULT_FILE_QUEUE,
        (true, MediaType::H264) => DEFAULT_LIVE_H264_QUEUE,
        (true, MediaType::Aac) => DEFAULT_LIVE_AUDIO_QUEUE,
        (true, _) => DEFAULT_LIVE_QUEUE,
    }
}

/// A graph whose every node, edge and param was checked; the executor's input.
#[derive(Clone)]
pub struct ValidatedGraph {
    /// The graph's name.
    pub name: String,
    /// The spec it was made from.
    pub spec: GraphSpec,
    /// The nodes, each after the nodes that feed it, with the converters
    /// format negotiation put on edges.
    pub nodes: Vec<ResolvedNode>,
    /// The pixel-format conversions on edges, one per converter node.
    pub conversions: Vec<Conversion>,
    /// The host whose part of the graph this is ([`crate::place`]); `None`
    /// for the whole graph.
    pub host: Option<String>,
    /// The links of this part to other hosts.
    pub links: Vec<Link>,
    /// The nodes other hosts run, when this is one host's part.
    pub elsewhere: Vec<ResolvedNode>,
}

/// A checked node.
#[derive(Clone)]
pub struct ResolvedNode {
    /// Node id.
    pub id: String,
    /// The node as written; for a converter, as the graph would write it.
    pub spec: NodeSpec,
    /// Its kind.
    pub kind: KindInfo,
    /// Builds instances from the checked params.
    pub factory: Arc<dyn NodeFactory>,
    /// Connected inputs.
    pub inputs: Vec<ResolvedInput>,
    /// Whether live video reaches it (its input queues then default to `latest`).
    pub live: bool,
    /// The raw pixel formats each raw-video output gives, as negotiated.
    pub output_formats: BTreeMap<String, FormatSet>,
}

/// A checked edge, seen from the input it feeds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedInput {
    /// The input port.
    pub port: String,
    /// The upstream node.
    pub from: String,
    /// The upstream output port.
    pub from_port: String,
    /// What flows on the edge.
    pub media: MediaType,
    /// Queue length.
    pub capacity: usize,
    /// Queue policy.
    pub policy: QueuePolicy,
}

impl ValidatedGraph {
    /// The node with id `id`.
    pub fn node(&self, id: &str) -> Option<&ResolvedNode> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// The kind of node `id`, whichever host runs it.
    pub fn kind_of(&self, id: &str) -> Option<&KindInfo> {
        self.node(id)
            .or_else(|| self.elsewhere.iter().find(|n| n.id == id))
            .map(|n| &n.kind)
    }
}

fn path(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|p| p.to_string()).collect()
}

struct Edge<'a> {
    to: &'a str,
    port: &'a str,
    input: &'a InputRef,
    from: &'a str,
    from_port: &'static str,
    media: MediaType,
}

/// Checks a loaded graph against the registry. Reports every problem found.
pub fn validate(loaded: &LoadedGraph, registry: &Registry) -> Result<ValidatedGraph, GraphErrors> {
    let spec = &loaded.spec;
    let doc = &loaded.document;
    let mut out = Vec::new();
    let at = |parts: &[&str], key: bool| doc.span_of(&path(parts), key);

    let links = spec.links.as_ref();
    let link_sections = [
        ("auth", links.and_then(|l| l.auth.as_ref()).map(link_auth_issues)),
        ("tls", links.and_then(|l| l.tls.as_ref()).map(link_tls_issues)),
    ];
    for (section, issues) in link_sections {
        for (field, message) in issues.unwrap_or_default() {
            out.push(Diagnostic::new(
                GraphError::InvalidValue {
                    message,
                    context: format!("`links.{section}`"),
                },
                at(&["links", section, field], false),
            ));
        }
    }
    for (host, side, index, error) in endpoint_issues(spec) {
        out.push(Diagnostic::new(
            error,
            at(&["hosts", host, side, &index.to_string()], false),
        ));
    }

    let mut kinds: HashMap<&str, &KindInfo> = HashMap::new();
    let mut factories: HashMap<&str, Arc<dyn NodeFactory>> = HashMap::new();
    for (id, node) in &spec.nodes {
        let id = id.as_str();
        match registry.get(&node.kind) {
            Some(kind) => {
                kinds.insert(id, kind);
                match kind.prepare(node.params.clone()) {
                    Ok(factory) => {
                        factories.insert(id, factory);
                    }
                    Err(issues) => {
                        for issue in issues {
                            let mut parts = vec!["nodes", id, "params"];
                            parts.extend(issue.field.iter().map(String::as_str));
                            out.push(Diagnostic::new(
                                GraphError::InvalidParams {
                                    node: id.to_string(),
                                    kind: node.kind.clone(),
                                    field: issue.field.clone(),
                                    message: issue.message,
                                    hint: issue.hint,
                                },
                                at(&parts, issue.at_key),
                            ));
                        }
                    }
                }
            }
            None => out.push(Diagnostic::new(
                match registry.how_to_build(&node.kind) {
                    Some(how) => GraphError::KindNotBuilt {
                        node: id.to_string(),
                        kind: node.kind.clone(),
                        how: how.to_string(),
                    },
                    None => GraphError::UnknownKind {
                        node: id.to_string(),
                        kind: node.kind.clone(),
                        suggestion: registry.suggest(&node.kind),
                    },
                },
                at(&["nodes", id, "kind"], false),
            )),
        }
        if node.max_restarts == Some(0) {
            out.push(Diagnostic::new(
                GraphError::InvalidValue {
                    message: "`max_restarts` must be at least 1 (use `restart: never` for no restarts)".into(),
                    context: format!("node `{id}`"),
                },
                at(&["nodes", id, "max_restarts"], false),
            ));
        }
        for (port, input) in &node.inputs {
            if let InputRef::Long(long) = input
                && let Some(queue) = long.queue.filter(|q| !(1..=MAX_QUEUE).contains(q))
            {
                out.push(Diagnostic::new(
                    GraphError::InvalidValue {
                        message: format!("`queue` must be from 1 to {MAX_QUEUE} frames, found {queue}"),
                        context: format!("input `{port}` of node `{id}`"),
                    },
                    at(&["nodes", id, "inputs", port, "queue"], false),
                ));
            }
        }
        if let Some(host) = &node.host
            && !spec.hosts.contains_key(host.as_str())
        {
            out.push(Diagnostic::new(
                GraphError::UndefinedHost {
                    node: id.to_string(),
                    host: host.to_string(),
                    defined: spec.hosts.keys().map(|h| h.to_string()).collect(),
                },
                at(&["nodes", id, "host"], false),
            ));
        }
    }

    let mut edges: Vec<Edge<'_>> = Vec::new();
    for (id, node) in &spec.nodes {
        let id = id.as_str();
        let Some(kind) = kinds.get(id) else { continue };
        for (port, input) in &node.inputs {
            let Some(input_spec) = kind.input(port) else {
                out.push(Diagnostic::new(
                    GraphError::UnknownInputPort {
                        node: id.to_string(),
                        kind: kind.name.to_string(),
                        port: port.clone(),
                        available: kind.inputs.iter().map(|p| p.name.to_string()).collect(),
                    },
                    at(&["nodes", id, "inputs", port], true),
                ));
                continue;
            };
            let value_span = at(&["nodes", id, "inputs", port], false);
            let (from, from_port) = input.endpoint();
            let Some(from_node) = spec.nodes.get(from) else {
                out.push(Diagnostic::new(
                    GraphError::MissingNode {
                        node: id.to_string(),
                        port: port.clone(),
                        from: from.to_string(),
                        suggestion: did_you_mean(from, spec.nodes.keys().map(|k| k.as_str())),
                    },
                    value_span,
                ));
                continue;
            };
            let Some(from_kind) = kinds.get(from) else { continue };
            let output = match from_port {
                Some(name) => from_kind.output(name),
                None => from_kind.outputs.first(),
            };
            let Some(output) = output else {
                out.push(Diagnostic::new(
                    GraphError::UnknownOutputPort {
                        from: from.to_string(),
                        kind: from_node.kind.clone(),
                        port: from_port.unwrap_or("(default)").to_string(),
                        available: from_kind.outputs.iter().map(|p| p.name.to_string()).collect(),
                    },
                    value_span,
                ));
                continue;
            };
            if !input_spec.accepts.contains(&output.media) {
                out.push(Diagnostic::new(
                    GraphError::TypeMismatch {
                        from: from.to_string(),
                        from_port: output.name.to_string(),
                        from_type: output.media.to_string(),
                        to: id.to_string(),
                        to_port: port.clone(),
                        accepts: accepts(input_spec.accepts),
                    },
                    value_span,
                ));
                continue;
            }
            if output.media != MediaType::RawVideo
                && input.link().and_then(|l| l.codec).is_some_and(|c| c != LinkCodec::Raw)
            {
                out.push(Diagnostic::new(
                    GraphError::InvalidValue {
                        message: format!(
                            "a link codec compresses raw video, but `{from}.{}` gives {}, which travels between hosts as it is; remove `codec`",
                            output.name, output.media
                        ),
                        context: format!("input `{port}` of node `{id}`"),
                    },
                    at(&["nodes", id, "inputs", port, "link", "codec"], false),
                ));
            }
            if let Some(link) = input.link() {
                for (field, message) in link_issues(&link) {
                    out.push(Diagnostic::new(
                        GraphError::InvalidValue {
                            message,
                            context: format!("input `{port}` of node `{id}`"),
                        },
                        at(&["nodes", id, "inputs", port, "link", field], false),
                    ));
                }
            }
            edges.push(Edge {
                to: id,
                port,
                input,
                from,
                from_port: output.name,
                media: output.media,
            });
        }
        for required in kind.inputs.iter().filter(|p| p.required) {
            if !node.inputs.contains_key(required.name) {
                out.push(Diagnostic::new(
                    GraphError::MissingInput {
                        node: id.to_string(),
                        kind: kind.name.to_string(),
                        port: required.name.to_string(),
                        accepts: accepts(required.accepts),
                    },
                    at(&["nodes", id], true),
                ));
            }
        }
    }

    let mut graph: DiGraph<&str, ()> = DiGraph::new();
    let index: BTreeMap<&str, NodeIndex> = spec
        .nodes
        .keys()
        .map(|id| (id.as_str(), graph.add_node(id.as_str())))
        .collect();
    for edge in &edges {
        graph.add_edge(index[edge.from], index[edge.to], ());
    }
    for component in tarjan_scc(&graph) {
        let is_cycle = component.len() > 1 || graph.contains_edge(component[0], component[0]);
        if is_cycle {
            let cycle = cycle_through(&graph, &component);
            let first = cycle[0].clone();
            out.push(Diagnostic::new(
                GraphError::Cycle { cycle },
                at(&["nodes", &first], true),
            ));
        }
    }

    if !out.is_empty() {
        out.sort_by_key(|d| d.span.map(|s| s.offset));
        return Err(GraphErrors {
            origin: doc.origin.clone(),
            text: doc.source.clone(),
            diagnostics: out,
        });
    }

    let order = toposort(&graph, None).expect("cycles were reported above");
    let mut live: HashMap<&str, bool> = HashMap::new();
    let mut nodes = Vec::new();
    for ix in order {
        let id = graph[ix];
        let kind = kinds[id];
        let node_edges: Vec<&Edge<'_>> = edges.iter().filter(|e| e.to == id).collect();
        let is_live = kind.live || node_edges.iter().any(|e| live[e.from]);
        live.insert(id, is_live);
        let inputs = node_edges
            .iter()
            .map(|edge| {
                let from_live = live[edge.from];
                let (capacity, policy) = match edge.input {
                    InputRef::Long(long) => (long.queue, long.policy),
                    InputRef::Short(_) => (None, None),
                };
                ResolvedInput {
                    port: edge.port.to_string(),
                    from: edge.from.to_string(),
                    from_port: edge.from_port.to_string(),
                    media: edge.media,
                    capacity: capacity.unwrap_or_else(|| default_queue(from_live, edge.media)),
                    policy: policy.unwrap_or(if from_live {
                        QueuePolicy::Latest
                    } else {
                        QueuePolicy::Block
                    }),
                }
            })
            .collect();
        nodes.push(ResolvedNode {
            id: id.to_string(),
            spec: spec.nodes[id].clone(),
            kind: kind.clone(),
            factory: factories[id].clone(),
            inputs,
            live: is_live,
            output_formats: BTreeMap::new(),
        });
    }
    let (nodes, conversions) = negotiate(nodes, registry, doc).map_err(|diagnostics| GraphErrors {
        origin: doc.origin.clone(),
        text: doc.source.clone(),
        diagnostics,
    })?;
    Ok(ValidatedGraph {
        name: spec.name.to_string(),
        spec: spec.clone(),
        nodes,
        conversions,
        host: None,
        links: Vec::new(),
        elsewhere: Vec::new(),
    })
}

fn accepts(types: &[MediaType]) -> String {
    types.iter().map(|t| t.name()).collect::<Vec<_>>().join(" or ")
}

/// The nodes of one cycle inside a strongly connected component, the first
/// node repeated at the end.
fn cycle_through(graph: &DiGraph<&str, ()>, component: &[NodeIndex]) -> Vec<String> {
    let start = *component
        .iter()
        .min_by_key(|ix| graph[**ix])
        .expect("components are never empty");
    let mut path = vec![start];
    let mut current = start;
    loop {
        let next = graph
            .neighbors(current)
            .filter(|n| component.contains(n))
            .min_by_key(|n| (path.contains(n) && *n != start, graph[*n]))
            .expect("every node of a cycle has a successor on it");
        if next == start || path.contains(&next) {
            let from = path.iter().position(|&n| n == next).unwrap_or(0);
            let mut names: Vec<String> = path[from..].iter().map(|&n| graph[n].to_string()).collect();
            names.push(graph[next].to_string());
            return names;
        }
        path.push(next);
        current = next;
    }
}

/// What is wrong with a link's settings, by field: a value out of range, or
/// a setting of another codec than the one the link names.
fn link_issues(link: &LinkSpec) -> Vec<(&'static str, String)> {
    let mut issues = Vec::new();
    if let Some(quality) = link.quality {
        if !(1..=100).contains(&quality) {
            issues.push(("quality", format!("JPEG quality {quality} is outside 1..=100")));
        } else if link.codec.is_some_and(|c| c != LinkCodec::Jpeg) {
            issues.push((
                "quality",
                "`quality` is for `codec: jpeg`; remove it or set the codec to jpeg".into(),
            ));
        }
    }
    if let Some(bitrate) = link.bitrate {
        if !(10..=100_000).contains(&bitrate) {
            issues.push(("bitrate", format!("{bitrate} kbit/s is outside 10..=100000")));
        } else if link.codec != Some(LinkCodec::H264) {
            issues.push((
                "bitrate",
                "`bitrate` is for `codec: h264`; add `codec: h264` or remove it".into(),
            ));
        }
    }
    issues
}

/// Endpoints whose protocol does not match `links.tls`: with it, links
/// between machines go over `tls/` only; a `tls/` endpoint needs it. Unix
/// sockets never leave the machine and take either. By host, side
/// (`listen` or `connect`) and index.
fn endpoint_issues(spec: &GraphSpec) -> Vec<(&str, &'static str, usize, GraphError)> {
    let tls = spec.links.as_ref().is_some_and(|links| links.tls.is_some());
    let mut issues = Vec::new();
    for (host, host_spec) in &spec.hosts {
        let sides = [("listen", &host_spec.listen), ("connect", &host_spec.connect)];
        for (side, endpoints) in sides {
            for (index, endpoint) in endpoints.iter().enumerate() {
                let protocol = endpoint.split_once('/').map_or("", |(protocol, _)| protocol);
                let (problem, fix) = match protocol {
                    "tls" if !tls => (
                        "is a TLS endpoint, but the graph has no certificates for it",
                        "add `links: { tls: { ca: ca.pem, cert: host.pem, key: host.key } }`, or write `tcp/`",
                    ),
                    "tcp" if tls => (
                        "would carry frames in clear, while `links.tls` asks for TLS",
                        "write `tls/` instead of `tcp/`: every host then proves itself with `links.tls.cert`",
                    ),
                    _ => continue,
                };
                let error = GraphError::LinkEndpoint {
                    host: host.to_string(),
                    endpoint: endpoint.clone(),
                    problem: problem.into(),
                    fix: fix.into(),
                };
                issues.push((host.as_str(), side, index, error));
            }
        }
    }
    issues
}

/// What is wrong with the links' certificate settings, by field.
fn link_tls_issues(tls: &LinkTls) -> Vec<(&'static str, String)> {
    tls.files()
        .into_iter()
        .filter(|(_, path)| path.trim().is_empty())
        .map(|(field, _)| (field, format!("`{field}` must name a PEM file")))
        .collect()
}

/// What is wrong with the links' user and password settings, by field.
fn link_auth_issues(auth: &LinkAuth) -> Vec<(&'static str, String)> {
    let mut issues = Vec::new();
    if let Some(user) = &auth.user
        && (user.is_empty() || user.contains(':') || user.chars().any(char::is_whitespace))
    {
        issues.push((
            "user",
            format!("user `{user}` must be non-empty, without `:` or spaces"),
        ));
    }
    let name = &auth.password_env;
    let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        issues.push((
            "password_env",
            format!(
                "`{name}` is not an environment variable name: it names the variable that holds the password (`OOBLEX_LINK_PASSWORD`), not the password"
            ),
        ));
    }
    issues
}
