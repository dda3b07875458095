//! Checking a committed graph schema against the kinds of this build, on
//! every build a user can make.
//!
//! The committed schema lists every kind, those of optional cargo features
//! included. A build with every feature must print it exactly. A build that
//! leaves kinds out (see [`Registry::not_built`]) cannot generate their params,
//! so it checks the rest exactly and that the file still lists the kinds it
//! lacks: the committed file with those kinds taken out (their enum entries,
//! rules and the definitions only they use) must equal what it generates.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::graph::schema::{graph_schema, graph_schema_json};
use crate::node::registry::Registry;

/// What a committed schema lacks or gets wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaDrift {
    /// It is not JSON.
    #[error("it is not JSON ({0})")]
    NotJson(String),
    /// It lacks kinds that this build leaves out: a build without them wrote it.
    #[error(
        "it lacks {}, which this build leaves out: it was written by a build without them",
        quoted(.0)
    )]
    LacksUnbuiltKinds(Vec<String>),
    /// It does not match the kinds of this build.
    #[error("it does not match the node kinds of this build")]
    Stale,
}

/// The kinds `schema --check` could not check, because this build lacks them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SchemaChecked {
    /// Kinds the committed schema lists but this build leaves out: their
    /// presence was checked, their params were not.
    pub unchecked: Vec<String>,
}

/// Checks `committed` (a schema file's text) against the schema of the kinds
/// in `registry`: exactly, when the registry has every kind; otherwise as
/// described in the [module docs](self).
pub fn check_graph_schema(committed: &str, registry: &Registry) -> Result<SchemaChecked, SchemaDrift> {
    let unbuilt: Vec<String> = registry.unbuilt_kinds().map(str::to_string).collect();
    if unbuilt.is_empty() {
        return if committed == graph_schema_json(registry) {
            Ok(SchemaChecked::default())
        } else {
            Err(SchemaDrift::Stale)
        };
    }
    let committed: Value = serde_json::from_str(committed).map_err(|err| SchemaDrift::NotJson(err.to_string()))?;
    let listed = kind_names(&committed);
    let lacking: Vec<String> = unbuilt.iter().filter(|kind| !listed.contains(*kind)).cloned().collect();
    if !lacking.is_empty() {
        return Err(SchemaDrift::LacksUnbuiltKinds(lacking));
    }
    let mut built = graph_schema(registry);
    prune_definitions(&mut built);
    if without_kinds(committed, &unbuilt) == built {
        Ok(SchemaChecked { unchecked: unbuilt })
    } else {
        Err(SchemaDrift::Stale)
    }
}

/// `a`, `b` and `c` as `` `a`, `b` and `c` ``, with "kind" or "kinds" before.
fn quoted(kinds: &[String]) -> String {
    let names: Vec<String> = kinds.iter().map(|kind| format!("`{kind}`")).collect();
    match names.split_last() {
        Some((last, [])) => format!("kind {last}"),
        Some((last, rest)) => format!("kinds {} and {last}", rest.join(", ")),
        None => "no kind".to_string(),
    }
}

/// The node spec's schema, where kinds are listed.
fn node_spec(schema: &Value) -> Option<&Value> {
    schema.get("$defs")?.get("NodeSpec")
}

/// The kinds a schema lists in the node spec's `kind` enum and has a rule for.
fn kind_names(schema: &Value) -> BTreeSet<String> {
    let Some(node) = node_spec(schema) else {
        return BTreeSet::new();
    };
    let names = |values: Option<&Vec<Value>>, of: fn(&Value) -> &Value| -> BTreeSet<String> {
        values
            .into_iter()
            .flatten()
            .filter_map(|value| of(value).as_str().map(str::to_string))
            .collect()
    };
    let listed = names(node["properties"]["kind"]["enum"].as_array(), |kind| kind);
    let ruled = names(node["allOf"].as_array(), rule_kind);
    listed.intersection(&ruled).cloned().collect()
}

/// The kind a per-kind rule (`if kind is ... then ...`) is for.
fn rule_kind(rule: &Value) -> &Value {
    &rule["if"]["properties"]["kind"]["const"]
}

/// `schema` without `kinds`: their enum entries, their rules and the
/// definitions nothing else refers to.
fn without_kinds(mut schema: Value, kinds: &[String]) -> Value {
    let named = |value: &Value| value.as_str().is_some_and(|name| kinds.iter().any(|kind| kind == name));
    if let Some(node) = schema.get_mut("$defs").and_then(|defs| defs.get_mut("NodeSpec")) {
        if let Some(listed) = node.pointer_mut("/properties/kind/enum").and_then(Value::as_array_mut) {
            listed.retain(|kind| !named(kind));
        }
        if let Some(rules) = node.get_mut("allOf").and_then(Value::as_array_mut) {
            rules.retain(|rule| !named(rule_kind(rule)));
        }
    }
    prune_definitions(&mut schema);
    schema
}

/// Drops the `$defs` entries that nothing outside `$defs` refers to, directly
/// or through other definitions.
fn prune_definitions(schema: &mut Value) {
    let Some(defs) = schema.get("$defs").and_then(Value::as_object) else {
        return;
    };
    let mut reached = BTreeSet::new();
    let mut todo: Vec<String> = Vec::new();
    if let Some(root) = schema.as_object() {
        for (key, value) in root {
            if key != "$defs" {
                references(value, &mut todo);
            }
        }
    }
    while let Some(name) = todo.pop() {
        if reached.insert(name.clone())
            && let Some(def) = defs.get(&name)
        {
            references(def, &mut todo);
        }
    }
    if let Some(defs) = schema.get_mut("$defs").and_then(Value::as_object_mut) {
        defs.retain(|name, _| reached.contains(name));
    }
}

/// Adds the definitions `value` refers to (`"$ref": "#/$defs/NAME"`) to `out`.
fn references(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value.as_str().and_then(|r| r.strip_prefix("#/$defs/"))) {
                    ("$ref", Some(name)) => out.push(name.to_string()),
                    _ => references(value, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| references(item, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use schemars::JsonSchema;
    use serde::Deserialize;

    use super::*;
    use crate::node::error::NodeError;
    use crate::node::kind::{Node, NodeKind};
    use crate::node::port::{InputPortSpec, OutputPortSpec};

    /// A choice only `camera`'s params use, so it has a definition of its own.
    #[derive(Deserialize, JsonSchema)]
    #[serde(rename_all = "lowercase")]
    enum CameraTransport {
        Tcp,
        Udp,
    }

    /// Params of `camera`.
    #[derive(Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    struct CameraParams {
        /// How packets travel.
        #[serde(rename = "transport")]
        _transport: Option<CameraTransport>,
    }

    /// Params of `blur`.
    #[derive(Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    struct BlurParams {
        /// Radius.
        #[serde(rename = "radius")]
        _radius: u32,
    }

    struct Camera;
    struct Blur;

    impl NodeKind for Camera {
        type Params = CameraParams;
        const NAME: &'static str = "camera";
        const DESCRIPTION: &'static str = "a kind of an optional feature";
        const INPUTS: &'static [InputPortSpec] = &[];
        const OUTPUTS: &'static [OutputPortSpec] = &[];
        fn build(_: &CameraParams) -> Result<Box<dyn Node>, NodeError> {
            Err(NodeError::failed("only its schema is used"))
        }
    }

    impl NodeKind for Blur {
        type Params = BlurParams;
        const NAME: &'static str = "blur";
        const DESCRIPTION: &'static str = "a kind every build has";
        const INPUTS: &'static [InputPortSpec] = &[];
        const OUTPUTS: &'static [OutputPortSpec] = &[];
        fn build(_: &BlurParams) -> Result<Box<dyn Node>, NodeError> {
            Err(NodeError::failed("only its schema is used"))
        }
    }

    /// The build with every feature, and one without `camera`'s.
    fn builds() -> (Registry, Registry) {
        let mut full = Registry::new();
        full.register::<Blur>().register::<Camera>();
        let mut lacking = Registry::new();
        lacking
            .register::<Blur>()
            .not_built(&["camera"], "it comes with the `camera` feature");
        (full, lacking)
    }

    #[test]
    fn a_build_with_every_kind_checks_the_schema_exactly() {
        let (full, lacking) = builds();
        let committed = graph_schema_json(&full);
        assert_eq!(check_graph_schema(&committed, &full), Ok(SchemaChecked::default()));
        let reformatted = serde_json::to_string(&graph_schema(&full)).expect("a schema serializes");
        assert_eq!(check_graph_schema(&reformatted, &full), Err(SchemaDrift::Stale));
        assert_eq!(
            check_graph_schema(&graph_schema_json(&lacking), &full),
            Err(SchemaDrift::Stale)
        );
    }

    #[test]
    fn a_build_without_a_feature_checks_its_kinds_and_that_the_others_are_listed() {
        let (full, lacking) = builds();
        let committed = graph_schema_json(&full);
        assert!(
            committed.contains("CameraTransport"),
            "the feature's kind has a definition of its own"
        );
        assert_eq!(
            check_graph_schema(&committed, &lacking),
            Ok(SchemaChecked {
                unchecked: vec!["camera".to_string()]
            })
        );
        // Written by the build that lacks `camera`: the kind is gone.
        assert_eq!(
            check_graph_schema(&graph_schema_json(&lacking), &lacking),
            Err(SchemaDrift::LacksUnbuiltKinds(vec!["camera".to_string()]))
        );
        // A kind both builds have changed: stale on either.
        let changed = committed.replace("\"Radius.\"", "\"The radius.\"");
        assert_ne!(changed, committed);
        assert_eq!(check_graph_schema(&changed, &lacking), Err(SchemaDrift::Stale));
        assert_eq!(check_graph_schema(&changed, &full), Err(SchemaDrift::Stale));
        assert!(matches!(
            check_graph_schema("{", &lacking),
            Err(SchemaDrift::NotJson(_))
        ));
    }

    #[test]
    fn drift_names_the_kinds_a_schema_lacks() {
        let drift = SchemaDrift::LacksUnbuiltKinds(vec!["gst_sink".into(), "rtsp_source".into()]);
        assert_eq!(
            drift.to_string(),
            "it lacks kinds `gst_sink` and `rtsp_source`, which this build leaves out: it was written by a build without them"
        );
    }
}
