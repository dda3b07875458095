//! `ooblex nodes [KIND]`

use std::process::ExitCode;

use ooblex_runtime::{FormatSet, Gives, KindInfo, MediaType, ParamType};
use serde_json::Value;

/// Lists kinds, or describes one.
pub fn run(kind: Option<&str>) -> anyhow::Result<ExitCode> {
    let registry = ooblex_nodes::registry();
    let Some(name) = kind else {
        let width = registry.kinds().map(|k| k.name.len()).max().unwrap_or(0);
        for kind in registry.kinds() {
            println!("{:width$}  {}", kind.name, kind.description);
        }
        println!("\n`ooblex nodes KIND` shows a kind's ports and params.");
        return Ok(ExitCode::SUCCESS);
    };
    match registry.get(name) {
        Some(kind) => {
            print!("{}", describe(kind));
            Ok(ExitCode::SUCCESS)
        }
        None => {
            let hint = registry
                .suggest(name)
                .map(|s| format!("did you mean `{s}`? "))
                .unwrap_or_default();
            eprintln!("error: unknown node kind `{name}`\nhelp: {hint}`ooblex nodes` lists every kind");
            Ok(ExitCode::FAILURE)
        }
    }
}

fn describe(kind: &KindInfo) -> String {
    let mut out = format!("{} — {}\n", kind.name, kind.description);
    if kind.live {
        out.push_str("live source: edges below it default to `policy: latest`\n");
    }
    out.push_str("\ninputs:\n");
    if kind.inputs.is_empty() {
        out.push_str("  (none)\n");
    }
    for port in kind.inputs {
        let accepts: Vec<&str> = port.accepts.iter().map(|t| t.name()).collect();
        let required = if port.required { "required" } else { "optional" };
        let formats = if port.takes_raw() && port.formats != FormatSet::ALL_RAW {
            format!(" — raw video in {} (others are converted on the edge)", port.formats)
        } else {
            String::new()
        };
        out.push_str(&format!(
            "  {:10} {} ({required}){formats}\n",
            port.name,
            accepts.join(" | ")
        ));
    }
    out.push_str("\noutputs:\n");
    if kind.outputs.is_empty() {
        out.push_str("  (none)\n");
    }
    for port in kind.outputs {
        let formats = match (port.media, port.formats) {
            (MediaType::RawVideo, Gives::AsInput) => " — in the format it was given".to_string(),
            (MediaType::RawVideo, Gives::Only(formats)) if formats == FormatSet::ALL_RAW => {
                " — in the format its params choose".to_string()
            }
            (MediaType::RawVideo, Gives::Only(formats)) => format!(" — {formats}"),
            _ => String::new(),
        };
        out.push_str(&format!("  {:10} {}{formats}\n", port.name, port.media));
    }
    out.push_str("\nparams:\n");
    let schema = kind.standalone_params_schema().to_value();
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let properties = schema.get("properties").and_then(Value::as_object);
    match properties {
        Some(properties) if !properties.is_empty() => {
            for (name, prop) in properties {
                let default = match prop.get("default") {
                    Some(d) => format!("default {d}"),
                    None if required.contains(&name.as_str()) => "required".to_string(),
                    None => "optional".to_string(),
                };
                out.push_str(&format!("  {name:10} {:28} {default}\n", type_of(prop)));
                if let Some(description) = prop.get("description").and_then(Value::as_str) {
                    for line in description.lines() {
                        out.push_str(&format!("  {:10} {line}\n", ""));
                    }
                }
            }
        }
        _ => out.push_str("  (none)\n"),
    }
    out
}

/// A param's type in words: `integer 1..=240`, `bars | gradient`, `string`.
fn type_of(prop: &Value) -> String {
    let param = ParamType::of(prop);
    if !param.choices.is_empty() {
        return param.choices.join(" | ");
    }
    let ty = if param.types.is_empty() {
        "value".to_string()
    } else {
        param.types.join(" | ")
    };
    match (param.minimum, param.maximum) {
        (Some(min), Some(max)) => format!("{ty} {min}..={max}"),
        (Some(min), None) => format!("{ty} >= {min}"),
        (None, Some(max)) => format!("{ty} <= {max}"),
        (None, None) => ty,
    }
}
