//! The JSON Schema of the whole graph file, the params of every kind included,
//! so editors complete and check graphs as they are typed.

use schemars::generate::SchemaSettings;
use serde_json::{Value, json};

use crate::graph::spec::GraphSpec;
use crate::node::registry::Registry;

/// The `$id` of the published schema.
pub const SCHEMA_ID: &str = "https://ooblex.dev/schemas/graph.schema.json";

/// The schema of a graph file for the kinds in `registry`, as pretty JSON
/// ending with a newline (the form committed to `schemas/`).
pub fn graph_schema_json(registry: &Registry) -> String {
    let schema = graph_schema(registry);
    let mut text = serde_json::to_string_pretty(&schema).expect("a JSON value always serializes");
    text.push('\n');
    text
}

/// The schema of a graph file for the kinds in `registry`.
pub fn graph_schema(registry: &Registry) -> Value {
    let mut generator = SchemaSettings::draft2020_12().into_generator();
    let mut root = generator.root_schema_for::<GraphSpec>().to_value();
    let mut rules = Vec::new();
    let mut names = Vec::new();
    for kind in registry.kinds() {
        names.push(Value::from(kind.name));
        let params = kind.params_schema(&mut generator).to_value();
        let ports: Vec<&str> = kind.inputs.iter().map(|p| p.name).collect();
        rules.push(json!({
            "if": { "properties": { "kind": { "const": kind.name } }, "required": ["kind"] },
            "then": {
                "description": kind.description,
                "properties": {
                    "params": params,
                    "inputs": { "propertyNames": { "enum": ports } },
                },
            },
        }));
    }
    let defs = root
        .as_object_mut()
        .expect("a root schema is an object")
        .entry("$defs")
        .or_insert_with(|| json!({}));
    let defs = defs.as_object_mut().expect("`$defs` is an object");
    defs.extend(generator.take_definitions(true));
    let node = defs.get_mut("NodeSpec").expect("GraphSpec refers to NodeSpec");
    node["properties"]["kind"]["enum"] = Value::Array(names);
    node["allOf"] = Value::Array(rules);
    let object = root.as_object_mut().expect("a root schema is an object");
    object.insert("$id".into(), Value::from(SCHEMA_ID));
    object.insert("title".into(), Value::from("Ooblex graph"));
    root
}
