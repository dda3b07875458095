//! `ooblex graph FILE --format dot|mermaid`

use std::path::Path;
use std::process::ExitCode;

use ooblex_runtime::{DrawFormat, draw};

/// Prints the drawing of a valid graph.
pub fn run(file: &Path, format: DrawFormat) -> anyhow::Result<ExitCode> {
    match super::load_and_validate(file)? {
        Some(graph) => {
            print!("{}", draw(&graph, format));
            Ok(ExitCode::SUCCESS)
        }
        None => Ok(ExitCode::FAILURE),
    }
}
