//! `ooblex schema [--check FILE]`

use std::path::Path;
use std::process::ExitCode;

use ooblex_runtime::{Registry, SchemaDrift, check_graph_schema, graph_schema_json};

/// How to write the committed schema, which lists every kind.
const REGENERATE: &str = "cargo run --features gstreamer -- schema >";

/// Prints the schema, or checks a committed copy for drift.
pub fn run(check: Option<&Path>) -> anyhow::Result<ExitCode> {
    let registry = ooblex_nodes::registry();
    let Some(path) = check else {
        print!("{}", graph_schema_json(&registry));
        if let Some(kinds) = unbuilt(&registry) {
            eprintln!(
                "warning: this build leaves out {kinds}, so the schema printed lacks them\n\
                 help: the committed `schemas/graph.schema.json` lists every kind: write it with \
                 `{REGENERATE} schemas/graph.schema.json`"
            );
        }
        return Ok(ExitCode::SUCCESS);
    };
    let committed =
        std::fs::read_to_string(path).map_err(|err| anyhow::anyhow!("cannot read `{}`: {err}", path.display()))?;
    match check_graph_schema(&committed, &registry) {
        Ok(checked) if checked.unchecked.is_empty() => {
            println!("{}: up to date", path.display());
            Ok(ExitCode::SUCCESS)
        }
        Ok(_) => {
            let kinds = unbuilt(&registry).unwrap_or_default();
            println!(
                "{}: up to date for the kinds of this build; it lists {kinds}, which this build leaves out, \
                 and a build with them checks their params",
                path.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(drift) => {
            let help = match (&drift, unbuilt(&registry)) {
                (SchemaDrift::LacksUnbuiltKinds(_), _) | (_, Some(_)) => {
                    format!(
                        "regenerate it with a build that has every kind: `{REGENERATE} {}`",
                        path.display()
                    )
                }
                (_, None) => format!("regenerate it with `ooblex schema > {}`", path.display()),
            };
            eprintln!("error: `{}` is stale: {drift}\nhelp: {help}", path.display());
            Ok(ExitCode::FAILURE)
        }
    }
}

/// "kinds `a`, `b`" when this build leaves kinds out (a cargo feature is off).
fn unbuilt(registry: &Registry) -> Option<String> {
    let names: Vec<String> = registry.unbuilt_kinds().map(|kind| format!("`{kind}`")).collect();
    (!names.is_empty()).then(|| format!("kinds {}", names.join(", ")))
}
