//! Pixel-format negotiation, the last step of validation: every raw-video
//! edge gets frames in a format its input takes. Where a producer gives
//! formats a consumer does not take, a converter node is put on the edge —
//! one per producer port and need (the format to reach, the formats kept, the
//! queue policy), shared by every consumer with that need —
//! and the graph says so ([`Conversion`]). Users never have to know which
//! formats each kind takes, and a graph that validates never skips frames for
//! their format.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use crate::exec::queue::QueuePolicy;
use crate::frame::PixelFormat;
use crate::graph::document::Document;
use crate::graph::error::{Diagnostic, GraphError};
use crate::graph::spec::{InputRef, LongInput, Name, NodeSpec, RestartPolicy};
use crate::graph::validate::{ResolvedInput, ResolvedNode, default_queue};
use crate::node::formats::FormatSet;
use crate::node::kind::KindInfo;
use crate::node::port::MediaType;
use crate::node::registry::{Converter, Registry};

/// A converter the graph put on an edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversion {
    /// The converter's node id, which no node of a graph file can be called:
    /// `<from>.<port>><format>`, with `+<format>` for each format it passes as
    /// it is and `@latest` or `@block` when its consumers ask a queue policy
    /// other than the default below the producer.
    pub node: String,
    /// The producing node.
    pub from: String,
    /// Its output port.
    pub from_port: String,
    /// The formats it gives.
    pub gives: FormatSet,
    /// The format frames are converted to.
    pub to: PixelFormat,
    /// Formats taken by every consumer, which pass through as they are.
    pub keep: FormatSet,
    /// The inputs fed by the converter: node, port and the formats it takes.
    pub consumers: Vec<(String, String, FormatSet)>,
}

impl fmt::Display for Conversion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let consumers: Vec<String> = self
            .consumers
            .iter()
            .map(|(node, port, takes)| format!("`{node}.{port}` takes {takes}"))
            .collect();
        write!(
            f,
            "`{}.{}` gives {}, {}: converted to {} on the edge (node `{}`)",
            self.from,
            self.from_port,
            self.gives,
            consumers.join(", "),
            self.to,
            self.node
        )
    }
}

/// The edge a converter sits on and the need it meets.
struct Need {
    from: String,
    from_port: String,
    to: PixelFormat,
    keep: FormatSet,
    /// What the converter's own queue does when full: what its consumers ask.
    policy: QueuePolicy,
    /// Whether that is the default below this producer (the id then says nothing of it).
    default_policy: bool,
}

/// Negotiates the formats of `nodes` (in topological order): returns them
/// with converters inserted before the first node they feed, and the
/// conversions made. Fails, naming both ports, where a conversion is needed
/// and the registry has no converter.
pub(crate) fn negotiate(
    nodes: Vec<ResolvedNode>,
    registry: &Registry,
    doc: &Document,
) -> Result<(Vec<ResolvedNode>, Vec<Conversion>), Vec<Diagnostic>> {
    let mut gives: HashMap<(String, String), FormatSet> = HashMap::new();
    let hosts: HashMap<String, Option<Name>> = nodes.iter().map(|n| (n.id.clone(), n.spec.host.clone())).collect();
    let live: HashMap<String, bool> = nodes.iter().map(|n| (n.id.clone(), n.live)).collect();
    let mut out: Vec<ResolvedNode> = Vec::with_capacity(nodes.len());
    let mut converters: HashMap<String, (usize, usize)> = HashMap::new();
    let mut conversions: Vec<Conversion> = Vec::new();
    let mut errors = Vec::new();
    for mut node in nodes {
        let mut arriving: HashMap<String, FormatSet> = HashMap::new();
        for input in &mut node.inputs {
            if input.media != MediaType::RawVideo {
                continue;
            }
            let takes = node.kind.input(&input.port).map_or(FormatSet::ALL_RAW, |p| p.formats);
            let given = given_by(&gives, &input.from, &input.from_port);
            if given.is_subset(takes) {
                arriving.insert(input.port.clone(), given);
                continue;
            }
            let (Some(to), Some((kind, converter))) =
                (takes.conversion_target(given.difference(takes)), registry.converter())
            else {
                errors.push(Diagnostic::new(
                    GraphError::NoConversion {
                        from: input.from.clone(),
                        from_port: input.from_port.clone(),
                        gives: given.to_string(),
                        to: node.id.clone(),
                        to_port: input.port.clone(),
                        takes: takes.to_string(),
                    },
                    doc.span_of(
                        &["nodes".into(), node.id.clone(), "inputs".into(), input.port.clone()],
                        false,
                    ),
                ));
                continue;
            };
            let producer_live = live.get(&input.from).copied().unwrap_or(node.live);
            let need = Need {
                from: input.from.clone(),
                from_port: input.from_port.clone(),
                to,
                keep: given.intersection(takes),
                policy: input.policy,
                default_policy: input.policy == default_policy(producer_live),
            };
            let id = converter_id(&need);
            let (at, conversion) = match converters.get(&id) {
                Some(&found) => found,
                None => {
                    let producer = Producer {
                        host: hosts.get(&need.from).cloned().flatten(),
                        live: producer_live,
                    };
                    let (converter_node, converted) = converter_node(kind, converter, &need, &id, given, producer);
                    gives.insert((id.clone(), converter_node.kind.outputs[0].name.to_string()), converted);
                    out.push(converter_node);
                    conversions.push(Conversion {
                        node: id.clone(),
                        from: need.from.clone(),
                        from_port: need.from_port.clone(),
                        gives: given,
                        to,
                        keep: need.keep,
                        consumers: Vec::new(),
                    });
                    let found = (out.len() - 1, conversions.len() - 1);
                    converters.insert(id, found);
                    found
                }
            };
            let converter_node = &out[at];
            conversions[conversion]
                .consumers
                .push((node.id.clone(), input.port.clone(), takes));
            input.from = converter_node.id.clone();
            input.from_port = converter_node.kind.outputs[0].name.to_string();
            arriving.insert(input.port.clone(), given_by(&gives, &input.from, &input.from_port));
        }
        // The first raw-video input the kind declares decides what `as input` outputs give.
        let first = node
            .kind
            .inputs
            .iter()
            .find_map(|p| arriving.get(p.name).copied())
            .unwrap_or(FormatSet::ALL_RAW);
        for port in node.kind.outputs {
            let formats = match port.media {
                MediaType::RawVideo => node.factory.output_formats(port, first),
                _ => FormatSet::EMPTY,
            };
            gives.insert((node.id.clone(), port.name.to_string()), formats);
        }
        out.push(node);
    }
    for node in &mut out {
        node.output_formats = node
            .kind
            .outputs
            .iter()
            .filter(|port| port.media == MediaType::RawVideo)
            .map(|port| (port.name.to_string(), given_by(&gives, &node.id, port.name)))
            .collect();
    }
    if !errors.is_empty() {
        errors.sort_by_key(|d: &Diagnostic| d.span.map(|s| s.offset));
        return Err(errors);
    }
    for conversion in &mut conversions {
        conversion.consumers.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    }
    conversions.sort_by(|a, b| a.node.cmp(&b.node));
    Ok((out, conversions))
}

/// Where a converter runs: with the node that feeds it.
struct Producer {
    host: Option<Name>,
    live: bool,
}

/// The converter node `id` for `need`, and the formats it gives. Its queue has
/// the default length of its policy whatever its consumers' queues are (each
/// keeps its own behind it), so that a reload that adds, removes or changes
/// one of them leaves it, and the others it feeds, untouched.
fn converter_node(
    kind: &KindInfo,
    converter: Converter,
    need: &Need,
    id: &str,
    given: FormatSet,
    producer: Producer,
) -> (ResolvedNode, FormatSet) {
    let params = (converter.params)(need.to, need.keep);
    let factory = kind
        .prepare(params.clone())
        .expect("the converter's params are made by its own kind's function");
    let output = kind.outputs.first().expect("a converter has a `video` output");
    let converted = factory.output_formats(output, given);
    let feed = ResolvedInput {
        port: kind
            .inputs
            .first()
            .expect("a converter has a `video` input")
            .name
            .to_string(),
        from: need.from.clone(),
        from_port: need.from_port.clone(),
        media: MediaType::RawVideo,
        capacity: default_queue(need.policy == QueuePolicy::Latest, MediaType::RawVideo),
        policy: need.policy,
    };
    let node = ResolvedNode {
        id: id.to_string(),
        spec: NodeSpec {
            kind: kind.name.to_string(),
            params,
            // The written form of its feed, so that reloads compare it.
            inputs: BTreeMap::from([(
                feed.port.clone(),
                InputRef::Long(LongInput {
                    from: format!("{}.{}", need.from, need.from_port),
                    queue: Some(feed.capacity),
                    policy: Some(feed.policy),
                    link: None,
                }),
            )]),
            host: producer.host,
            restart: RestartPolicy::Always,
            max_restarts: None,
        },
        kind: kind.clone(),
        factory,
        inputs: vec![feed],
        live: producer.live,
        output_formats: BTreeMap::new(),
    };
    (node, converted)
}

/// What output `port` of node `from` gives; nodes come after their producers.
fn given_by(gives: &HashMap<(String, String), FormatSet>, from: &str, port: &str) -> FormatSet {
    *gives
        .get(&(from.to_string(), port.to_string()))
        .expect("nodes are negotiated after the nodes that feed them")
}

/// The policy of queues below a producer, unless the graph says otherwise.
fn default_policy(live: bool) -> QueuePolicy {
    if live { QueuePolicy::Latest } else { QueuePolicy::Block }
}

/// `<from>.<port>><format>`, with `+<kept>` for each format passed as it is,
/// and `@latest` or `@block` for a queue policy other than the producer's default.
fn converter_id(need: &Need) -> String {
    let mut id = format!("{}.{}>{}", need.from, need.from_port, need.to);
    for kept in need.keep.iter() {
        id.push('+');
        id.push_str(kept.name());
    }
    if !need.default_policy {
        id.push_str(match need.policy {
            QueuePolicy::Latest => "@latest",
            QueuePolicy::Block => "@block",
        });
    }
    id
}
