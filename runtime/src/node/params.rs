//! Reading a kind's params from the graph: unknown fields, wrong types and
//! values out of the schema's range each become a [`ParamIssue`] with its field.

use schemars::Schema;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// One problem with a node's params.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamIssue {
    /// Path of the field inside `params` (`["size", "0"]`); empty for the whole map.
    pub field: Vec<String>,
    /// What is wrong, lower-case.
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
    /// Whether the field name itself is wrong (point at the key, not the value).
    pub at_key: bool,
}

impl ParamIssue {
    /// An issue with `field` (a top-level field name).
    pub fn new(field: &str, message: impl Into<String>) -> ParamIssue {
        ParamIssue {
            field: vec![field.to_string()],
            message: message.into(),
            hint: None,
            at_key: false,
        }
    }

    /// Adds a hint.
    pub fn with_hint(mut self, hint: impl Into<String>) -> ParamIssue {
        self.hint = Some(hint.into());
        self
    }
}

/// The names of a struct schema's properties.
pub fn property_names(schema: &Schema) -> Vec<String> {
    schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

/// The closest of `candidates` to `word`, if one is close enough to suggest.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c.to_string())
}

/// The keys and indexes of a serde error's path, as strings.
pub(crate) fn error_path(path: &serde_path_to_error::Path) -> Vec<String> {
    path.iter()
        .filter_map(|segment| match segment {
            serde_path_to_error::Segment::Seq { index } => Some(index.to_string()),
            serde_path_to_error::Segment::Map { key } => Some(key.clone()),
            serde_path_to_error::Segment::Enum { variant } => Some(variant.clone()),
            serde_path_to_error::Segment::Unknown => None,
        })
        .collect()
}

/// Reads params of type `T` from `value`, checking them against `schema`.
pub(crate) fn parse_params<T: DeserializeOwned>(schema: &Schema, value: Value) -> Result<T, Vec<ParamIssue>> {
    let value = if value.is_null() {
        Value::Object(Default::default())
    } else {
        value
    };
    // Every field is checked against the schema first, so that all problems
    // are reported at once; serde then reports whatever the schema cannot say.
    let mut issues = unknown_fields(schema, &value);
    issues.extend(wrong_fields(schema, &value));
    if !issues.is_empty() {
        return Err(issues);
    }
    match serde_path_to_error::deserialize::<_, T>(value.clone()) {
        Ok(params) => Ok(params),
        Err(err) => {
            let field = error_path(err.path());
            let hint = field
                .first()
                .and_then(|f| describe(schema, f))
                .map(|d| format!("`{}` is {d}", field.join(".")));
            Err(vec![ParamIssue {
                field,
                message: err.inner().to_string(),
                hint,
                at_key: false,
            }])
        }
    }
}

fn unknown_fields(schema: &Schema, value: &Value) -> Vec<ParamIssue> {
    let Some(map) = value.as_object() else {
        return vec![ParamIssue {
            field: Vec::new(),
            message: "params must be a mapping of field names to values".to_string(),
            hint: Some("write `params: { field: value }`".to_string()),
            at_key: false,
        }];
    };
    let known = property_names(schema);
    map.keys()
        .filter(|k| !known.contains(k))
        .map(|k| {
            let hint = match did_you_mean(k, known.iter().map(String::as_str)) {
                Some(s) => format!("did you mean `{s}`?"),
                None if known.is_empty() => "this kind takes no params".to_string(),
                None => format!("known params: {}", known.join(", ")),
            };
            ParamIssue {
                field: vec![k.clone()],
                message: format!("unknown param `{k}`"),
                hint: Some(hint),
                at_key: true,
            }
        })
        .collect()
}

fn property<'a>(schema: &'a Schema, field: &str) -> Option<&'a Value> {
    schema.get("properties")?.get(field)
}

/// What a param's JSON Schema says of its values: types, choices, range.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParamType {
    /// JSON types other than `null` (`integer`, `string`, ...).
    pub types: Vec<String>,
    /// The allowed values of an enumeration (from `enum` or `oneOf` constants).
    pub choices: Vec<String>,
    /// Inclusive lower bound.
    pub minimum: Option<Value>,
    /// Inclusive upper bound.
    pub maximum: Option<Value>,
}

impl ParamType {
    /// Reads a property's schema.
    pub fn of(prop: &Value) -> ParamType {
        let strings = |values: &[Value]| {
            values
                .iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect::<Vec<_>>()
        };
        let choices = match (prop.get("enum"), prop.get("oneOf")) {
            (Some(Value::Array(values)), _) => strings(values),
            (_, Some(Value::Array(variants))) => variants
                .iter()
                .filter_map(|v| v.get("const").or_else(|| v.get("enum").and_then(|e| e.get(0))))
                .filter_map(Value::as_str)
                .map(String::from)
                .collect(),
            _ => Vec::new(),
        };
        let types = match prop.get("type") {
            Some(Value::String(t)) => vec![t.clone()],
            Some(Value::Array(types)) => strings(types).into_iter().filter(|t| t != "null").collect(),
            _ => Vec::new(),
        };
        ParamType {
            types,
            choices,
            minimum: prop.get("minimum").cloned(),
            maximum: prop.get("maximum").cloned(),
        }
    }
}

/// The type and range of `field` in words, from the schema
/// (`an integer from 16 to 8192`, `one of "bars", "gradient"`).
fn describe(schema: &Schema, field: &str) -> Option<String> {
    let param = ParamType::of(property(schema, field)?);
    if !param.choices.is_empty() {
        let quoted: Vec<String> = param.choices.iter().map(|c| format!("\"{c}\"")).collect();
        return Some(format!("one of {}", quoted.join(", ")));
    }
    let ty = param.types.join(" or ");
    if ty.is_empty() {
        return None;
    }
    let range = match (&param.minimum, &param.maximum) {
        (Some(min), Some(max)) => format!(" from {min} to {max}"),
        (Some(min), None) => format!(" of at least {min}"),
        (None, Some(max)) => format!(" of at most {max}"),
        (None, None) => String::new(),
    };
    let article = if ty.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    Some(format!("{article} {ty}{range}"))
}

/// Fields whose value has the wrong type, is not one of the choices, or is out of range.
fn wrong_fields(schema: &Schema, value: &Value) -> Vec<ParamIssue> {
    let Some(map) = value.as_object() else {
        return Vec::new();
    };
    map.iter()
        .filter_map(|(field, v)| {
            let param = ParamType::of(property(schema, field)?);
            let must_be = || format!("`{field}` must be {}", describe(schema, field).unwrap_or_default());
            if !param.choices.is_empty() {
                let known = v.as_str().is_some_and(|s| param.choices.iter().any(|c| c == s));
                return (!known)
                    .then(|| ParamIssue::new(field, format!("`{field}` cannot be {v}")).with_hint(must_be()));
            }
            let fits = |ty: &str| match ty {
                "integer" => v.is_i64() || v.is_u64(),
                "number" => v.is_number(),
                "string" => v.is_string(),
                "boolean" => v.is_boolean(),
                "array" => v.is_array(),
                "object" => v.is_object(),
                _ => true,
            };
            if !param.types.is_empty() && !v.is_null() && !param.types.iter().any(|t| fits(t)) {
                return Some(ParamIssue::new(field, format!("`{field}` cannot be {v}")).with_hint(must_be()));
            }
            let n = v.as_f64()?;
            let low = param.minimum.as_ref().and_then(Value::as_f64).is_some_and(|m| n < m);
            let high = param.maximum.as_ref().and_then(Value::as_f64).is_some_and(|m| n > m);
            (low || high)
                .then(|| ParamIssue::new(field, format!("`{field}` is {v}, out of range")).with_hint(must_be()))
        })
        .collect()
}
