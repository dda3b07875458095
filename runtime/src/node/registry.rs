//! The registry of node kinds.

use std::collections::BTreeMap;

use crate::frame::PixelFormat;
use crate::node::formats::FormatSet;
use crate::node::kind::{KindInfo, NodeKind};
use crate::node::params::did_you_mean;

/// The kind the graph converts raw video with, where a producer gives pixel
/// formats a consumer does not take.
#[derive(Clone, Copy)]
pub struct Converter {
    /// The kind (it has a `video` input and a `video` output).
    pub kind: &'static str,
    /// Its params to convert to `to`, passing frames already in `keep` as they are.
    pub params: fn(to: PixelFormat, keep: FormatSet) -> serde_json::Value,
}

/// The kinds that carry edges between hosts: one publishes the frames of its
/// input on a key, the other gives the frames published on a key.
#[derive(Clone, Copy)]
pub struct LinkKinds {
    /// The receiving kind: no inputs, one output per media type.
    pub receive: &'static str,
    /// The sending kind: one input that takes every media type, no outputs.
    pub send: &'static str,
    /// The receiver's params for one link.
    pub receive_params: fn(&LinkEnd<'_>) -> serde_json::Value,
    /// The sender's params for one link.
    pub send_params: fn(&LinkEnd<'_>) -> serde_json::Value,
}

/// What both ends of a link between hosts are configured with.
#[derive(Debug, Clone, Copy)]
pub struct LinkEnd<'a> {
    /// The key expression frames are published on.
    pub key: &'a str,
    /// What compresses raw video on the way.
    pub codec: crate::graph::spec::LinkCodec,
    /// JPEG quality, 1 to 100.
    pub quality: u8,
    /// H.264 bitrate in kilobits per second.
    pub bitrate: u32,
    /// Whether a slow receiver holds the sender back (`block`) instead of
    /// losing frames (`latest`).
    pub block: bool,
    /// The raw formats the producer gives (empty for other media).
    pub formats: FormatSet,
}

/// Every node kind a process knows, by name.
#[derive(Clone, Default)]
pub struct Registry {
    kinds: BTreeMap<&'static str, KindInfo>,
    /// Kinds this build leaves out, with how to get them.
    not_built: BTreeMap<&'static str, &'static str>,
    converter: Option<Converter>,
    links: Option<LinkKinds>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Adds kind `K`. Registering a name twice is a bug in the caller.
    pub fn register<K: NodeKind>(&mut self) -> &mut Registry {
        let previous = self.kinds.insert(K::NAME, KindInfo::of::<K>());
        assert!(previous.is_none(), "node kind `{}` is registered twice", K::NAME);
        self
    }

    /// Records kinds that exist but are not in this build (a cargo feature is
    /// off), so that a graph naming one is told `how` to get it.
    pub fn not_built(&mut self, names: &[&'static str], how: &'static str) -> &mut Registry {
        for name in names {
            self.not_built.insert(name, how);
        }
        self
    }

    /// Names the kind that converts pixel formats on edges; it must be registered.
    pub fn set_converter(&mut self, converter: Converter) -> &mut Registry {
        assert!(
            self.kinds.contains_key(converter.kind),
            "the converter `{}` is a registered kind",
            converter.kind
        );
        self.converter = Some(converter);
        self
    }

    /// The converter kind and how to configure it, when one is set.
    pub fn converter(&self) -> Option<(&KindInfo, Converter)> {
        let converter = self.converter?;
        Some((self.kinds.get(converter.kind)?, converter))
    }

    /// Names the kinds that carry edges between hosts; both must be registered.
    pub fn set_links(&mut self, links: LinkKinds) -> &mut Registry {
        for kind in [links.receive, links.send] {
            assert!(
                self.kinds.contains_key(kind),
                "the link kind `{kind}` is a registered kind"
            );
        }
        self.links = Some(links);
        self
    }

    /// The link kinds and how to configure them, when they are set.
    pub fn links(&self) -> Option<(&KindInfo, &KindInfo, LinkKinds)> {
        let links = self.links?;
        Some((self.kinds.get(links.receive)?, self.kinds.get(links.send)?, links))
    }

    /// The kinds this build leaves out, sorted by name.
    pub fn unbuilt_kinds(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.not_built.keys().copied()
    }

    /// How to get kind `name` when this build leaves it out.
    pub fn how_to_build(&self, name: &str) -> Option<&'static str> {
        self.not_built.get(name).copied()
    }

    /// The kind called `name`.
    pub fn get(&self, name: &str) -> Option<&KindInfo> {
        self.kinds.get(name)
    }

    /// Every kind, sorted by name.
    pub fn kinds(&self) -> impl Iterator<Item = &KindInfo> {
        self.kinds.values()
    }

    /// The known kind whose name is closest to `name`.
    pub fn suggest(&self, name: &str) -> Option<String> {
        did_you_mean(name, self.kinds.keys().copied())
    }
}
