//! What `ooblex bench` changes in a graph before validating it: the picture
//! size of sources (`--size`), their pacing (`--unpaced`) and any param
//! (`--set NODE.PARAM=VALUE`). Works on the spec as written, so that a bad
//! override is reported by the validator like a mistake in the file.

use std::fmt;
use std::str::FromStr;

use ooblex_runtime::{Document, GraphSpec, KindInfo, ParamType, Registry, did_you_mean};
use serde_json::{Map, Value};

/// The param a `realtime: false`-style source takes to run as fast as downstream takes frames.
const REALTIME_PARAM: &str = "realtime";
/// The frame-rate param of paced sources.
const FPS_PARAM: &str = "fps";

/// A picture size, written `WIDTHxHEIGHT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

impl FromStr for Size {
    type Err = String;

    fn from_str(text: &str) -> Result<Size, String> {
        let pixels = |part: &str| part.trim().parse::<u32>().ok().filter(|&p| p > 0);
        text.split_once(['x', 'X'])
            .and_then(|(w, h)| {
                Some(Size {
                    width: pixels(w)?,
                    height: pixels(h)?,
                })
            })
            .ok_or_else(|| format!("`{text}` is not a size; write WIDTHxHEIGHT, as in `1280x720`"))
    }
}

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}", self.width, self.height)
    }
}

/// `--set NODE.PARAM=VALUE`: one param of one node.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamOverride {
    /// The node id.
    pub node: String,
    /// The param name.
    pub param: String,
    /// The value, read as YAML.
    pub value: Value,
    /// As written on the command line, for messages.
    pub written: String,
}

impl FromStr for ParamOverride {
    type Err = String;

    fn from_str(text: &str) -> Result<ParamOverride, String> {
        let shape = || format!("`{text}` is not NODE.PARAM=VALUE, as in `camera.fps=60`");
        let (target, value) = text.split_once('=').ok_or_else(shape)?;
        let (node, param) = target
            .split_once('.')
            .filter(|(node, param)| !node.is_empty() && !param.is_empty())
            .ok_or_else(shape)?;
        Ok(ParamOverride {
            node: node.to_string(),
            param: param.to_string(),
            value: read_value(value)?,
            written: text.to_string(),
        })
    }
}

/// Reads a value with the graph file's own YAML reader: `60` and `2.5` are
/// numbers, `true` a boolean, `bars` and `"007"` strings.
fn read_value(text: &str) -> Result<Value, String> {
    Document::parse("--set", text)
        .map(|document| document.root.to_json())
        .map_err(|err| format!("`{text}` is not a YAML value: {}", err.message))
}

/// What to change in a graph for one bench run.
#[derive(Debug, Clone, Copy)]
pub struct Overrides<'a> {
    /// Size of every source with `width` and `height` params.
    pub size: Option<Size>,
    /// Run sources as fast as their params allow.
    pub unpaced: bool,
    /// Params to set, applied last (they win over `size` and `unpaced`).
    pub sets: &'a [ParamOverride],
}

/// An override the validator cannot report, because it names nothing in the graph.
#[derive(Debug, Clone, PartialEq)]
pub enum OverrideError {
    /// `--set` names a node the graph does not have.
    UnknownNode {
        /// The override as written.
        written: String,
        /// The node it names.
        node: String,
        /// The closest node id.
        suggestion: Option<String>,
        /// Every node id.
        nodes: Vec<String>,
    },
    /// `--size` was given but no source has both `width` and `height` params.
    NoSizedSource {
        /// The size asked for.
        size: Size,
    },
}

impl fmt::Display for OverrideError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OverrideError::UnknownNode {
                written,
                node,
                suggestion,
                nodes,
            } => {
                write!(f, "`--set {written}`: the graph has no node `{node}`\nhelp: ")?;
                if let Some(s) = suggestion {
                    write!(f, "did you mean `{s}`? ")?;
                }
                write!(f, "its nodes are {}", backticked(nodes))
            }
            OverrideError::NoSizedSource { size } => write!(
                f,
                "`--size {size}`: no source of the graph has `width` and `height` params\n\
                 help: `--size` sets sources such as `test_pattern`; resize elsewhere with \
                 `--set NODE.PARAM=VALUE` (on a `scale` node, for instance)"
            ),
        }
    }
}

impl std::error::Error for OverrideError {}

/// What [`apply`] changed, as `node.param=value`, and what it could not.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Applied {
    /// Changes made by `size` and `unpaced` (`--set` ones are as written).
    pub changes: Vec<String>,
    /// Live sources that `unpaced` could not speed up.
    pub still_paced: Vec<String>,
}

/// Applies `overrides` to `spec`: sizes first, then pacing, then `--set`.
/// Kinds the registry does not know are left alone for the validator to report.
pub fn apply(spec: &mut GraphSpec, registry: &Registry, overrides: &Overrides<'_>) -> Result<Applied, OverrideError> {
    let mut applied = Applied::default();
    let mut sized = false;
    for (id, node) in &mut spec.nodes {
        let Some(kind) = registry.get(&node.kind).filter(|k| k.inputs.is_empty()) else {
            continue;
        };
        let properties = param_schemas(kind);
        let mut set = |name: &str, value: Value, applied: &mut Applied| {
            applied.changes.push(format!("{id}.{name}={value}"));
            set_param(&mut node.params, name, value);
        };
        if let Some(size) = overrides.size
            && properties.contains_key("width")
            && properties.contains_key("height")
        {
            set("width", size.width.into(), &mut applied);
            set("height", size.height.into(), &mut applied);
            sized = true;
        }
        if overrides.unpaced {
            let fps_max = properties.get(FPS_PARAM).and_then(|p| ParamType::of(p).maximum);
            if properties.get(REALTIME_PARAM).is_some_and(is_boolean) {
                set(REALTIME_PARAM, Value::Bool(false), &mut applied);
            } else if let (true, Some(max)) = (kind.live, fps_max) {
                set(FPS_PARAM, max, &mut applied);
            } else if kind.live {
                applied.still_paced.push(format!("{id} ({})", kind.name));
            }
        }
    }
    if let (Some(size), false) = (overrides.size, sized) {
        return Err(OverrideError::NoSizedSource { size });
    }
    for set in overrides.sets {
        let Some(node) = spec.nodes.get_mut(set.node.as_str()) else {
            let nodes: Vec<String> = spec.nodes.keys().map(|k| k.to_string()).collect();
            return Err(OverrideError::UnknownNode {
                written: set.written.clone(),
                node: set.node.clone(),
                suggestion: did_you_mean(&set.node, nodes.iter().map(String::as_str)),
                nodes,
            });
        };
        set_param(&mut node.params, &set.param, set.value.clone());
    }
    Ok(applied)
}

/// A param as the node will run with it: as written, or the kind's default.
pub fn effective_param(kind: &KindInfo, params: &Value, name: &str) -> Option<Value> {
    params
        .get(name)
        .cloned()
        .or_else(|| param_schemas(kind).get(name)?.get("default").cloned())
}

/// The frames per second a source is paced at, when its params say so:
/// `None` for kinds without `fps` and for sources told not to run in real time.
pub fn paced_rate(kind: &KindInfo, params: &Value) -> Option<f64> {
    if effective_param(kind, params, REALTIME_PARAM) == Some(Value::Bool(false)) {
        return None;
    }
    effective_param(kind, params, FPS_PARAM)?.as_f64()
}

/// The schema of each of a kind's params, by name.
fn param_schemas(kind: &KindInfo) -> Map<String, Value> {
    match kind.standalone_params_schema().to_value() {
        Value::Object(mut schema) => match schema.remove("properties") {
            Some(Value::Object(properties)) => properties,
            _ => Map::new(),
        },
        _ => Map::new(),
    }
}

fn is_boolean(schema: &Value) -> bool {
    ParamType::of(schema).types.iter().any(|t| t == "boolean")
}

/// Sets `params.name`; params that are not a mapping are left for the validator to report.
fn set_param(params: &mut Value, name: &str, value: Value) {
    if params.is_null() {
        *params = Value::Object(Map::new());
    }
    if let Value::Object(map) = params {
        map.insert(name.to_string(), value);
    }
}

fn backticked(items: &[String]) -> String {
    items.iter().map(|i| format!("`{i}`")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use ooblex_runtime::load_str;
    use serde_json::json;

    const GRAPH: &str = "version: 1
name: t
nodes:
  cam: { kind: test_pattern, params: { fps: 25 } }
  file: { kind: y4m_source, params: { path: in.y4m, realtime: true } }
  blur: { kind: blur, inputs: { video: cam } }
  out: { kind: null_sink, inputs: { video: blur } }
";

    fn spec() -> GraphSpec {
        load_str("t.yaml", GRAPH).expect("the test graph loads").spec
    }

    fn params(spec: &GraphSpec, node: &str) -> Value {
        spec.nodes[node].params.clone()
    }

    #[test]
    fn sizes_and_overrides_are_read_as_written() {
        assert_eq!(
            "1280x720".parse(),
            Ok(Size {
                width: 1280,
                height: 720
            })
        );
        assert!("1280".parse::<Size>().is_err());
        assert!("0x720".parse::<Size>().is_err());
        let set: ParamOverride = "cam.fps=60".parse().expect("a valid override");
        assert_eq!(
            (set.node.as_str(), set.param.as_str(), &set.value),
            ("cam", "fps", &json!(60))
        );
        let set: ParamOverride = "cam.pattern=checkers".parse().expect("a valid override");
        assert_eq!(set.value, json!("checkers"));
        assert_eq!("cam.x=true".parse::<ParamOverride>().map(|s| s.value), Ok(json!(true)));
        assert!("cam=1".parse::<ParamOverride>().is_err());
        assert!(".fps=1".parse::<ParamOverride>().is_err());
    }

    #[test]
    fn size_goes_to_sources_with_width_and_height_and_set_wins() {
        let mut spec = spec();
        let sets = ["cam.height=100".parse().expect("a valid override")];
        let overrides = Overrides {
            size: Some(Size {
                width: 320,
                height: 240,
            }),
            unpaced: false,
            sets: &sets,
        };
        apply(&mut spec, &ooblex_nodes::registry(), &overrides).expect("overrides apply");
        assert_eq!(params(&spec, "cam"), json!({ "fps": 25, "width": 320, "height": 100 }));
        assert_eq!(params(&spec, "file"), json!({ "path": "in.y4m", "realtime": true }));
        assert_eq!(params(&spec, "blur"), Value::Null);
    }

    #[test]
    fn unpaced_sources_run_at_their_fastest() {
        let mut spec = spec();
        let overrides = Overrides {
            size: None,
            unpaced: true,
            sets: &[],
        };
        let registry = ooblex_nodes::registry();
        let applied = apply(&mut spec, &registry, &overrides).expect("overrides apply");
        assert_eq!(params(&spec, "cam")["fps"], json!(240));
        assert_eq!(params(&spec, "file")["realtime"], json!(false));
        assert!(applied.still_paced.is_empty());
        let kind = registry.get("y4m_source").expect("a built-in kind");
        assert_eq!(paced_rate(kind, &params(&spec, "file")), None);
        let kind = registry.get("test_pattern").expect("a built-in kind");
        assert_eq!(paced_rate(kind, &params(&spec, "cam")), Some(240.0));
        assert_eq!(paced_rate(kind, &Value::Null), Some(30.0), "the default rate");
    }

    #[test]
    fn an_unknown_node_or_a_size_nothing_takes_is_an_error() {
        let registry = ooblex_nodes::registry();
        let sets = ["camm.fps=1".parse().expect("a valid override")];
        let overrides = Overrides {
            size: None,
            unpaced: false,
            sets: &sets,
        };
        let err = apply(&mut spec(), &registry, &overrides).expect_err("`camm` is no node");
        assert!(
            matches!(&err, OverrideError::UnknownNode { suggestion: Some(s), .. } if s == "cam"),
            "{err:?}"
        );
        let mut spec = spec();
        spec.nodes.retain(|id, _| id.as_str() != "cam");
        let overrides = Overrides {
            size: Some(Size { width: 8, height: 8 }),
            unpaced: false,
            sets: &[],
        };
        let err = apply(&mut spec, &registry, &overrides).expect_err("no source takes a size");
        assert!(matches!(err, OverrideError::NoSizedSource { .. }), "{err:?}");
    }
}
