//! `ooblex schema [--check FILE]`

use std::path::Path;
use std::process::ExitCode;

use ooblex_runtime::graph_schema_json;

/// Prints the schema, or checks a committed copy for drift.
pub fn run(check: Option<&Path>) -> anyhow::Result<ExitCode> {
    let schema = graph_schema_json(&ooblex_nodes::registry());
    let Some(path) = check else {
        print!("{schema}");
        return Ok(ExitCode::SUCCESS);
    };
    let committed =
        std::fs::read_to_string(path).map_err(|err| anyhow::anyhow!("cannot read `{}`: {err}", path.display()))?;
    if committed == schema {
        println!("{}: up to date", path.display());
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "error: `{}` is stale: it does not match the node kinds of this build\nhelp: regenerate it with `ooblex schema > {}`",
            path.display(),
            path.display()
        );
        Ok(ExitCode::FAILURE)
    }
}
