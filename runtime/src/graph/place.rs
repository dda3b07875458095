//! Placement: the part of a validated graph that one host runs. Its own
//! nodes, plus a link node for every edge that crosses to another host: a
//! sender below each of its producers that feeds other hosts, a receiver in
//! place of each producer on another host that feeds it. Both hosts compute
//! the same links from the same graph, so no coordinator is needed.
//!
//! Frames of `node.port` are published on `ooblex/<graph>/<node>/<port>`
//! (raw), or on that key with `/jpeg` or `/h264` appended when the link
//! compresses them.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::IpAddr;

use crate::exec::queue::QueuePolicy;
use crate::graph::spec::{HostSpec, InputRef, LinkCodec, LongInput, NodeSpec, RestartPolicy};
use crate::graph::validate::{ResolvedInput, ResolvedNode, ValidatedGraph, default_queue};
use crate::node::formats::FormatSet;
use crate::node::port::MediaType;
use crate::node::registry::{LinkEnd, Registry};

/// JPEG quality on links that do not say.
pub const DEFAULT_LINK_QUALITY: u8 = 85;

/// H.264 bitrate on links that do not say, in kilobits per second: 1080p30
/// of camera content looks clean at it, and a LAN carries it easily.
pub const DEFAULT_LINK_BITRATE: u32 = 8000;

/// One edge, or several that share a producer port and codec, between this
/// host and others.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Link {
    /// The link node's id: `<from>.<port>=>` sends, `<from>.<port><=` receives,
    /// with the codec appended when it is not `raw`.
    pub node: String,
    /// The producing node.
    pub from: String,
    /// Its output port.
    pub from_port: String,
    /// The key expression the frames travel on.
    pub key: String,
    /// What compresses raw video on the way.
    pub codec: LinkCodec,
    /// Whether this host sends (it runs the producer) or receives.
    pub sends: bool,
    /// The hosts at the other end.
    pub peers: Vec<String>,
    /// Whether raw frames go through shared memory: they are born there in
    /// the producing node, for peers on this machine.
    pub shared_memory: bool,
}

impl fmt::Display for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (way, peers) = (if self.sends { "to" } else { "from" }, self.peers.join(", "));
        let memory = if self.shared_memory { ", shared memory" } else { "" };
        write!(
            f,
            "`{}.{}` {way} host {peers} on `{}` ({}{memory}, node `{}`)",
            self.from,
            self.from_port,
            self.key,
            self.codec.name(),
            self.node
        )
    }
}

/// Why a host cannot run its part of a graph.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlaceError {
    /// `--host` names a host the graph does not define.
    #[error("the graph defines no host `{host}`{}", defined_hosts(.defined))]
    UnknownHost {
        /// The host asked for.
        host: String,
        /// The hosts the graph defines.
        defined: Vec<String>,
    },
    /// Nodes that say no `host:` in a graph that names hosts run nowhere.
    #[error("{} no `host:`: with hosts, every node names the host that runs it (or run without `--host` to run the whole graph here)", unplaced(.nodes))]
    Unplaced {
        /// The nodes without a host.
        nodes: Vec<String>,
    },
    /// A running host was given a graph with another name or other hosts,
    /// which its links and its session were set up for.
    #[error("the new graph changes `{what}`, which a running host cannot take: restart every host with the new file")]
    NeedsRestart {
        /// `name`, `hosts` or `links`.
        what: &'static str,
    },
    /// This build has no kinds to carry edges between hosts.
    #[error("edges cross hosts but this build has no link kinds")]
    NoLinkKinds,
}

fn defined_hosts(defined: &[String]) -> String {
    if defined.is_empty() {
        " (it names no hosts: run it without `--host`)".into()
    } else {
        format!(" (defined: {})", defined.join(", "))
    }
}

fn unplaced(nodes: &[String]) -> String {
    let list: Vec<String> = nodes.iter().map(|n| format!("`{n}`")).collect();
    match list.len() {
        1 => format!("node {} has", list[0]),
        _ => format!("nodes {} have", list.join(", ")),
    }
}

/// Whether every address of `host` is on this machine (loopback or a Unix
/// socket): two such hosts share a machine, and raw video between them
/// travels uncompressed by default.
pub fn on_loopback(host: &HostSpec) -> bool {
    host.listen
        .iter()
        .chain(&host.connect)
        .all(|endpoint| is_loopback(endpoint))
}

/// Whether a zenoh endpoint (`tcp/127.0.0.1:7447`, `unixsock-stream//tmp/s`)
/// reaches only this machine.
fn is_loopback(endpoint: &str) -> bool {
    let Some((protocol, address)) = endpoint.split_once('/') else {
        return false;
    };
    if protocol.starts_with("unixsock") {
        return true;
    }
    let address = address.split(['#', '?']).next().unwrap_or_default();
    let host = address.rsplit_once(':').map_or(address, |(host, _)| host);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The codec raw video takes between `a` and `b` unless the edge says:
/// `raw` when both hosts are on this machine, `jpeg` otherwise.
fn default_codec(a: Option<&HostSpec>, b: Option<&HostSpec>) -> LinkCodec {
    if a.zip(b).is_some_and(|(a, b)| on_loopback(a) && on_loopback(b)) {
        LinkCodec::Raw
    } else {
        LinkCodec::Jpeg
    }
}

/// One edge that crosses hosts.
struct Crossing<'a> {
    producer: &'a ResolvedNode,
    from_port: &'a str,
    media: MediaType,
    codec: LinkCodec,
    quality: Option<u8>,
    bitrate: Option<u32>,
    policy: QueuePolicy,
    consumer_host: String,
}

/// Refuses a new graph for a running host when it changes what the host's
/// session and keys were made from: the graph's name, its hosts or links.
pub fn check_replaceable(running: &ValidatedGraph, new: &ValidatedGraph) -> Result<(), PlaceError> {
    if running.spec.name != new.spec.name {
        return Err(PlaceError::NeedsRestart { what: "name" });
    }
    if running.spec.hosts != new.spec.hosts {
        return Err(PlaceError::NeedsRestart { what: "hosts" });
    }
    if running.spec.links != new.spec.links {
        return Err(PlaceError::NeedsRestart { what: "links" });
    }
    Ok(())
}

/// The part of `graph` that `host` runs: its nodes and the links to the
/// nodes of other hosts.
pub fn place(graph: &ValidatedGraph, host: &str, registry: &Registry) -> Result<ValidatedGraph, PlaceError> {
    let hosts = &graph.spec.hosts;
    if !hosts.contains_key(host) {
        return Err(PlaceError::UnknownHost {
            host: host.to_string(),
            defined: hosts.keys().map(|h| h.to_string()).collect(),
        });
    }
    let unplaced: Vec<String> = graph
        .nodes
        .iter()
        .filter(|n| n.spec.host.is_none())
        .map(|n| n.id.clone())
        .collect();
    if !unplaced.is_empty() {
        return Err(PlaceError::Unplaced { nodes: unplaced });
    }
    let host_of = |node: &ResolvedNode| node.spec.host.as_ref().map_or("", |h| h.as_str()).to_string();
    let by_id: BTreeMap<&str, &ResolvedNode> = graph.nodes.iter().map(|n| (n.id.as_str(), n)).collect();

    let mut crossings = Vec::new();
    // The codec of each input of this host fed from another host.
    let mut arriving: BTreeMap<(String, String), LinkCodec> = BTreeMap::new();
    for consumer in &graph.nodes {
        for input in &consumer.inputs {
            let producer = by_id[input.from.as_str()];
            let (from_host, to_host) = (host_of(producer), host_of(consumer));
            if from_host == to_host || (from_host != host && to_host != host) {
                continue;
            }
            let written = consumer.spec.inputs.get(&input.port).and_then(InputRef::link);
            let codec = match input.media {
                MediaType::RawVideo => written
                    .and_then(|l| l.codec)
                    .unwrap_or_else(|| default_codec(hosts.get(from_host.as_str()), hosts.get(to_host.as_str()))),
                _ => LinkCodec::Raw,
            };
            if to_host == host {
                arriving.insert((consumer.id.clone(), input.port.clone()), codec);
            }
            crossings.push(Crossing {
                producer,
                from_port: &input.from_port,
                media: input.media,
                codec,
                quality: written.and_then(|l| l.quality),
                bitrate: written.and_then(|l| l.bitrate),
                policy: input.policy,
                consumer_host: to_host,
            });
        }
    }
    if crossings.is_empty() {
        return Ok(local_part(graph, host, Vec::new(), BTreeMap::new(), Vec::new()));
    }
    let (receive_kind, send_kind, kinds) = registry.links().ok_or(PlaceError::NoLinkKinds)?;

    // Links by (producer, port, codec): one sender on the producer's host,
    // one receiver on each consuming host.
    let mut groups: BTreeMap<(String, String, LinkCodec), Vec<&Crossing<'_>>> = BTreeMap::new();
    for crossing in &crossings {
        let key = (
            crossing.producer.id.clone(),
            crossing.from_port.to_string(),
            crossing.codec,
        );
        groups.entry(key).or_default().push(crossing);
    }
    let mut links = Vec::new();
    let mut senders: BTreeMap<String, Vec<ResolvedNode>> = BTreeMap::new();
    let mut receivers = Vec::new();
    let mut rewired: BTreeMap<(String, String, LinkCodec), (String, String)> = BTreeMap::new();
    for ((from, from_port, codec), group) in &groups {
        let first = group[0];
        let producer = first.producer;
        let suffix = match codec {
            LinkCodec::Raw => String::new(),
            other => other.name().to_string(),
        };
        let mut key = format!("ooblex/{}/{from}/{from_port}", graph.name);
        if !suffix.is_empty() {
            key = format!("{key}/{suffix}");
        }
        let block = group.iter().any(|c| c.policy == QueuePolicy::Block);
        let formats = producer
            .output_formats
            .get(from_port.as_str())
            .copied()
            .unwrap_or(FormatSet::EMPTY);
        let end = LinkEnd {
            key: &key,
            codec: *codec,
            quality: group
                .iter()
                .filter_map(|c| c.quality)
                .max()
                .unwrap_or(DEFAULT_LINK_QUALITY),
            bitrate: group
                .iter()
                .filter_map(|c| c.bitrate)
                .max()
                .unwrap_or(DEFAULT_LINK_BITRATE),
            block,
            formats,
        };
        let sends = host_of(producer) == host;
        let node_id = format!("{from}.{from_port}{}{suffix}", if sends { "=>" } else { "<=" });
        let peers: BTreeSet<String> = if sends {
            group.iter().map(|c| c.consumer_host.clone()).collect()
        } else {
            BTreeSet::from([host_of(producer)])
        };
        if sends {
            let params = (kinds.send_params)(&end);
            let policy = if block { QueuePolicy::Block } else { QueuePolicy::Latest };
            let feed = ResolvedInput {
                port: send_kind
                    .inputs
                    .first()
                    .expect("the sending link kind has an input")
                    .name
                    .to_string(),
                from: from.clone(),
                from_port: from_port.clone(),
                media: first.media,
                capacity: default_queue(policy == QueuePolicy::Latest, first.media),
                policy,
            };
            let spec = NodeSpec {
                kind: send_kind.name.to_string(),
                params: params.clone(),
                inputs: BTreeMap::from([(
                    feed.port.clone(),
                    InputRef::Long(LongInput {
                        from: format!("{from}.{from_port}"),
                        queue: Some(feed.capacity),
                        policy: Some(feed.policy),
                        link: None,
                    }),
                )]),
                host: producer.spec.host.clone(),
                restart: RestartPolicy::Always,
                max_restarts: None,
            };
            senders.entry(from.clone()).or_default().push(ResolvedNode {
                id: node_id.clone(),
                spec,
                kind: send_kind.clone(),
                factory: send_kind
                    .prepare(params)
                    .expect("the link's params are made by its own kind's function"),
                inputs: vec![feed],
                live: producer.live,
                output_formats: BTreeMap::new(),
            });
        } else {
            let params = (kinds.receive_params)(&end);
            let port = receive_kind
                .outputs
                .iter()
                .find(|p| p.media == first.media)
                .expect("the receiving link kind has an output for every media type");
            rewired.insert(
                (from.clone(), from_port.clone(), *codec),
                (node_id.clone(), port.name.to_string()),
            );
            let spec = NodeSpec {
                kind: receive_kind.name.to_string(),
                params: params.clone(),
                inputs: BTreeMap::new(),
                host: Some(crate::graph::spec::Name::new(host).expect("host names are checked names")),
                restart: RestartPolicy::Always,
                max_restarts: None,
            };
            let output_formats = match first.media {
                MediaType::RawVideo => BTreeMap::from([(port.name.to_string(), formats)]),
                _ => BTreeMap::new(),
            };
            receivers.push(ResolvedNode {
                id: node_id.clone(),
                spec,
                kind: receive_kind.clone(),
                factory: receive_kind
                    .prepare(params)
                    .expect("the link's params are made by its own kind's function"),
                inputs: Vec::new(),
                live: producer.live,
                output_formats,
            });
        }
        let on_this_machine = |h: &str| hosts.get(h).is_some_and(on_loopback);
        let shared_memory = first.media == MediaType::RawVideo
            && *codec == LinkCodec::Raw
            && on_this_machine(host)
            && peers.iter().all(|peer| on_this_machine(peer));
        links.push(Link {
            node: node_id,
            from: from.clone(),
            from_port: from_port.clone(),
            key,
            codec: *codec,
            sends,
            peers: peers.into_iter().collect(),
            shared_memory,
        });
    }
    Ok(local_part(graph, host, receivers, senders, links).rewire(&arriving, &rewired))
}

/// The nodes of `host` in order: receivers first (they are sources), each
/// sender right after the producer it reads.
fn local_part(
    graph: &ValidatedGraph,
    host: &str,
    receivers: Vec<ResolvedNode>,
    mut senders: BTreeMap<String, Vec<ResolvedNode>>,
    links: Vec<Link>,
) -> ValidatedGraph {
    let mut nodes = receivers;
    for node in graph
        .nodes
        .iter()
        .filter(|n| n.spec.host.as_ref().is_some_and(|h| h.as_str() == host))
    {
        nodes.push(node.clone());
        nodes.extend(senders.remove(&node.id).unwrap_or_default());
    }
    let local: BTreeSet<&str> = nodes.iter().map(|n| n.id.as_str()).collect();
    let conversions = graph
        .conversions
        .iter()
        .filter(|c| local.contains(c.node.as_str()))
        .cloned()
        .collect();
    let elsewhere = graph
        .nodes
        .iter()
        .filter(|n| n.spec.host.as_ref().is_some_and(|h| h.as_str() != host))
        .cloned()
        .collect();
    ValidatedGraph {
        name: graph.name.clone(),
        spec: graph.spec.clone(),
        nodes,
        conversions,
        host: Some(host.to_string()),
        links,
        elsewhere,
    }
}

impl ValidatedGraph {
    /// Points each input fed from another host (`arriving`, with its codec)
    /// at the receiver that stands in for its producer here.
    fn rewire(
        mut self,
        arriving: &BTreeMap<(String, String), LinkCodec>,
        receivers: &BTreeMap<(String, String, LinkCodec), (String, String)>,
    ) -> ValidatedGraph {
        for node in &mut self.nodes {
            for input in &mut node.inputs {
                let Some(codec) = arriving.get(&(node.id.clone(), input.port.clone())) else {
                    continue;
                };
                if let Some((to, port)) = receivers.get(&(input.from.clone(), input.from_port.clone(), *codec)) {
                    input.from = to.clone();
                    input.from_port = port.clone();
                }
            }
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_endpoints_are_this_machine() {
        for local in [
            "tcp/127.0.0.1:7447",
            "tcp/[::1]:7447",
            "tcp/localhost:7447",
            "unixsock-stream//tmp/ooblex.sock",
            "tcp/127.0.0.2:7447#iface=lo",
        ] {
            assert!(is_loopback(local), "{local}");
        }
        for remote in [
            "tcp/192.168.1.4:7447",
            "tcp/stage.local:7447",
            "tcp/0.0.0.0:7447",
            "garbage",
        ] {
            assert!(!is_loopback(remote), "{remote}");
        }
    }

    #[test]
    fn raw_video_is_compressed_between_machines_only() {
        let local = HostSpec {
            listen: vec!["tcp/127.0.0.1:7447".into()],
            ..HostSpec::default()
        };
        let lan = HostSpec {
            connect: vec!["tcp/10.0.0.2:7447".into()],
            ..HostSpec::default()
        };
        assert_eq!(default_codec(Some(&local), Some(&local)), LinkCodec::Raw);
        assert_eq!(default_codec(Some(&local), Some(&lan)), LinkCodec::Jpeg);
        assert_eq!(default_codec(Some(&lan), Some(&local)), LinkCodec::Jpeg);
    }
}
