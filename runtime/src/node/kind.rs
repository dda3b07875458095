//! The [`NodeKind`] trait a node kind implements, and its type-erased form
//! [`KindInfo`] that the registry and the validator work with.

use std::sync::Arc;

use futures::future::BoxFuture;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::DeserializeOwned;

use crate::node::context::NodeContext;
use crate::node::error::NodeError;
use crate::node::formats::FormatSet;
use crate::node::params::{ParamIssue, parse_params};
use crate::node::port::{InputPortSpec, OutputPortSpec};

/// A running node instance. Built fresh from its params at every (re)start.
pub trait Node: Send + 'static {
    /// Runs until the stream ends (`Ok`), the node fails (`Err`) or
    /// `ctx.shutdown` is triggered.
    fn run(self: Box<Self>, ctx: NodeContext) -> BoxFuture<'static, Result<(), NodeError>>;
}

/// A kind of node: its name, ports and params type, and how to build one.
///
/// Adding a kind is one file implementing this trait plus one
/// `registry.register::<MyKind>()` line.
pub trait NodeKind: Send + Sync + 'static {
    /// The params as written in the graph file. Use `#[serde(deny_unknown_fields)]`
    /// and put `#[schemars(range(...))]` on numbers: ranges are checked on load.
    type Params: DeserializeOwned + JsonSchema + Send + Sync + 'static;
    /// The name used as `kind:` in graph files.
    const NAME: &'static str;
    /// One line, shown by `ooblex nodes`.
    const DESCRIPTION: &'static str;
    /// Input ports.
    const INPUTS: &'static [InputPortSpec];
    /// Output ports; the first is the default.
    const OUTPUTS: &'static [OutputPortSpec];
    /// Whether this is a source of live video (edges below it default to `latest`).
    const LIVE: bool = false;

    /// Checks that need more than the schema (a combination of fields, a file
    /// that must exist). Runs at validation time.
    fn check(_params: &Self::Params) -> Vec<ParamIssue> {
        Vec::new()
    }

    /// Builds an instance; called at start and at every restart.
    fn build(params: &Self::Params) -> Result<Box<dyn Node>, NodeError>;

    /// The raw pixel formats output `port` gives with these params, when the
    /// node's first raw-video input carries `input` (after any conversion on
    /// its edge). Override it when params choose the format (a source's
    /// `format`); the default reads the port's declaration. Validation relies
    /// on it: a node must never send a format it does not declare here.
    fn output_formats(_params: &Self::Params, port: &OutputPortSpec, input: FormatSet) -> FormatSet {
        port.formats.resolve(input)
    }
}

/// Builds instances of one node from its checked params.
pub trait NodeFactory: Send + Sync {
    /// A fresh instance.
    fn build(&self) -> Result<Box<dyn Node>, NodeError>;

    /// [`NodeKind::output_formats`] with the node's params.
    fn output_formats(&self, port: &OutputPortSpec, input: FormatSet) -> FormatSet;
}

struct Prepared<K: NodeKind> {
    params: K::Params,
}

impl<K: NodeKind> NodeFactory for Prepared<K> {
    fn build(&self) -> Result<Box<dyn Node>, NodeError> {
        K::build(&self.params)
    }

    fn output_formats(&self, port: &OutputPortSpec, input: FormatSet) -> FormatSet {
        K::output_formats(&self.params, port, input)
    }
}

/// Checks params against a kind's schema and binds them into a factory.
type PrepareFn = fn(&Schema, serde_json::Value) -> Result<Arc<dyn NodeFactory>, Vec<ParamIssue>>;

/// A node kind with its types erased, as kept in the [`crate::Registry`].
#[derive(Clone)]
pub struct KindInfo {
    /// Kind name.
    pub name: &'static str,
    /// One-line description.
    pub description: &'static str,
    /// Input ports.
    pub inputs: &'static [InputPortSpec],
    /// Output ports.
    pub outputs: &'static [OutputPortSpec],
    /// Whether it is a live source.
    pub live: bool,
    schema: fn(&mut SchemaGenerator) -> Schema,
    prepare: PrepareFn,
}

impl KindInfo {
    /// The erased form of `K`.
    pub fn of<K: NodeKind>() -> KindInfo {
        KindInfo {
            name: K::NAME,
            description: K::DESCRIPTION,
            inputs: K::INPUTS,
            outputs: K::OUTPUTS,
            live: K::LIVE,
            schema: |generator| generator.subschema_for::<K::Params>(),
            prepare: |schema, value| {
                let params: K::Params = parse_params(schema, value)?;
                let issues = K::check(&params);
                if issues.is_empty() {
                    Ok(Arc::new(Prepared::<K> { params }) as Arc<dyn NodeFactory>)
                } else {
                    Err(issues)
                }
            },
        }
    }

    /// The JSON Schema of the params, with definitions going into `generator`.
    pub fn params_schema(&self, generator: &mut SchemaGenerator) -> Schema {
        (self.schema)(generator)
    }

    /// The JSON Schema of the params, standalone (definitions inlined).
    pub fn standalone_params_schema(&self) -> Schema {
        let mut generator = schemars::generate::SchemaSettings::draft2020_12()
            .with(|s| s.inline_subschemas = true)
            .into_generator();
        (self.schema)(&mut generator)
    }

    /// Checks `params` (the graph's `params:` as JSON) and returns a factory of instances.
    pub fn prepare(&self, params: serde_json::Value) -> Result<Arc<dyn NodeFactory>, Vec<ParamIssue>> {
        (self.prepare)(&self.standalone_params_schema(), params)
    }

    /// The input port `name`.
    pub fn input(&self, name: &str) -> Option<&InputPortSpec> {
        self.inputs.iter().find(|p| p.name == name)
    }

    /// The output port `name`.
    pub fn output(&self, name: &str) -> Option<&OutputPortSpec> {
        self.outputs.iter().find(|p| p.name == name)
    }
}
