//! The graph file as written: plain serde types that mirror the YAML.
//!
//! These are read from a [`crate::graph::Document`] by [`crate::graph::load`]
//! and resolved into a [`crate::ValidatedGraph`] by [`crate::graph::validate`];
//! the executor accepts only the latter.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::exec::queue::QueuePolicy;

/// The only graph file version this runtime reads.
pub const GRAPH_VERSION: u32 = 1;

/// A whole graph file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GraphSpec {
    /// Graph file format version; must be 1.
    pub version: u32,
    /// Name of the graph (letters, digits, `_` and `-`); used in logs and in the
    /// keys of links between hosts.
    pub name: Name,
    /// Hosts that run parts of the graph; without it everything runs on this host.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub hosts: BTreeMap<Name, HostSpec>,
    /// How the hosts' links are secured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<LinksSpec>,
    /// The nodes, by id.
    pub nodes: BTreeMap<Name, NodeSpec>,
}

/// How the hosts of a graph secure the links between them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LinksSpec {
    /// A user and password every host presents and requires (zenoh's
    /// user/password authentication): a peer without them cannot join.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<LinkAuth>,
    /// Certificates for `tls/` endpoints: every host proves itself with
    /// `cert` and accepts only peers whose certificate `ca` signed (mutual
    /// TLS), so links between machines are encrypted and closed to strangers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<LinkTls>,
}

/// The PEM files of a graph's TLS links, relative to the directory `ooblex`
/// runs in; each host (and `ooblex status`, `ooblex deploy`) reads its own copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkTls {
    /// The certificate authority that signed every host's certificate.
    pub ca: String,
    /// This host's certificate; it names every address peers reach the host
    /// by (`IP:192.168.1.4` or `DNS:stage.local` as subject alternative names).
    pub cert: String,
    /// The private key of `cert`. Keep it readable by its user only.
    pub key: String,
}

impl LinkTls {
    /// Each file by its field: `ca`, `cert`, `key`.
    pub fn files(&self) -> [(&'static str, &str); 3] {
        [("ca", &self.ca), ("cert", &self.cert), ("key", &self.key)]
    }
}

/// The user and password of a graph's links.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkAuth {
    /// The user (default: the graph's name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The environment variable that holds the password on every host and
    /// for `ooblex status` and `ooblex deploy` (`OOBLEX_LINK_PASSWORD`): the
    /// password is never written in the graph file.
    pub password_env: String,
}

/// A machine that runs part of the graph.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HostSpec {
    /// Addresses this host listens on for links (`tcp/0.0.0.0:7447`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub listen: Vec<String>,
    /// Addresses of other hosts this host connects to (`tcp/stage.local:7447`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub connect: Vec<String>,
    /// Also find other hosts by zenoh's multicast scouting on the LAN. Off by
    /// default: hosts find each other through the endpoints named here.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub multicast_scouting: bool,
}

/// One node of the graph.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NodeSpec {
    /// The node kind (`ooblex nodes` lists them).
    pub kind: String,
    /// The kind's params (`ooblex nodes KIND` lists them).
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub params: serde_json::Value,
    /// Input ports and what feeds them: `port: node`, `port: node.port`, or
    /// `port: { from: node.port, queue: 2, policy: latest, link: { codec: jpeg } }`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub inputs: BTreeMap<String, InputRef>,
    /// The host that runs this node (one of `hosts`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<Name>,
    /// What to do when the node fails or panics.
    #[serde(default)]
    pub restart: RestartPolicy,
    /// With `restart: on-failure`, how many restarts are allowed (default 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub max_restarts: Option<u32>,
}

/// When a failed node is started again. A node whose stream ended normally
/// (end of file, `frames` reached) is finished and never restarted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RestartPolicy {
    /// Restart after every failure, with exponential backoff (the default).
    #[default]
    Always,
    /// Restart after a failure up to `max_restarts` times.
    OnFailure,
    /// Never restart; the node stays failed.
    Never,
}

/// What feeds an input port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum InputRef {
    /// `node` (its default output) or `node.port`.
    Short(String),
    /// The long form, with queue settings.
    Long(LongInput),
}

/// The long form of an input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LongInput {
    /// `node` or `node.port`.
    pub from: String,
    /// Frames the input queue holds (default 2 for live video, 8 otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1000))]
    pub queue: Option<usize>,
    /// What a full queue does: `latest` drops the oldest frame (default for
    /// live sources), `block` makes the producer wait (default for files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<QueuePolicy>,
    /// How frames travel when the feeding node runs on another host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<LinkSpec>,
}

/// How raw video travels on an edge between hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkSpec {
    /// `raw` sends pixels as they are (the default between hosts on one
    /// machine), `jpeg` compresses each picture in the sending process (the
    /// default between machines), `h264` encodes the video there (far fewer
    /// bytes than JPEG, a keyframe every second); the receiver gets raw video
    /// either way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codec: Option<LinkCodec>,
    /// JPEG quality, 1 to 100 (default 85).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub quality: Option<u8>,
    /// H.264 bitrate in kilobits per second, with `codec: h264` (default 8000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 10, max = 100000))]
    pub bitrate: Option<u32>,
}

/// What compresses raw video on a link between hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LinkCodec {
    /// Pixels as they are.
    Raw,
    /// One JPEG picture per frame.
    Jpeg,
    /// H.264 (OpenH264, Constrained Baseline).
    H264,
}

impl LinkCodec {
    /// The name written in graph files.
    pub fn name(self) -> &'static str {
        match self {
            LinkCodec::Raw => "raw",
            LinkCodec::Jpeg => "jpeg",
            LinkCodec::H264 => "h264",
        }
    }
}

impl InputRef {
    /// The `node` or `node.port` it names.
    pub fn from(&self) -> &str {
        match self {
            InputRef::Short(from) => from,
            InputRef::Long(long) => &long.from,
        }
    }

    /// How the edge travels between hosts, when the graph says.
    pub fn link(&self) -> Option<LinkSpec> {
        match self {
            InputRef::Short(_) => None,
            InputRef::Long(long) => long.link,
        }
    }

    /// The node and, when named, the port.
    pub fn endpoint(&self) -> (&str, Option<&str>) {
        match self.from().split_once('.') {
            Some((node, port)) => (node, Some(port)),
            None => (self.from(), None),
        }
    }
}

impl<'de> Deserialize<'de> for InputRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<InputRef, D::Error> {
        struct InputVisitor;
        impl<'de> Visitor<'de> for InputVisitor {
            type Value = InputRef;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("`node`, `node.port` or `{ from: node.port, queue: N, policy: latest|block }`")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<InputRef, E> {
                Ok(InputRef::Short(s.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<InputRef, A::Error> {
                LongInput::deserialize(de::value::MapAccessDeserializer::new(map)).map(InputRef::Long)
            }
        }
        deserializer.deserialize_any(InputVisitor)
    }
}

/// A node, host or graph name: letters, digits, `_` and `-`, starting with a
/// letter or `_`. Checked when read, so an invalid name never exists.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Name(String);

impl JsonSchema for Name {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Name".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^[A-Za-z_][A-Za-z0-9_-]*$",
            "description": "Letters, digits, `_` and `-`, starting with a letter or `_`."
        })
    }
}

impl Name {
    /// Checks and wraps a name.
    pub fn new(name: &str) -> Result<Name, String> {
        let mut chars = name.chars();
        let valid_start = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
        if valid_start && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            Ok(Name(name.to_string()))
        } else {
            Err(format!(
                "`{name}` is not a valid name: use letters, digits, `_` and `-`, starting with a letter or `_`"
            ))
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::borrow::Borrow<str> for Name {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Name, D::Error> {
        let name = String::deserialize(deserializer)?;
        Name::new(&name).map_err(de::Error::custom)
    }
}
