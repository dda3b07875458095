//! `ooblex validate FILE...`

use std::path::PathBuf;
use std::process::ExitCode;

/// Checks every file; succeeds only when all are valid.
pub fn run(files: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let mut invalid = 0;
    for file in files {
        match super::load_and_validate(file)? {
            Some(graph) => println!("{}: ok ({} nodes)", file.display(), graph.nodes.len()),
            None => invalid += 1,
        }
    }
    if invalid > 0 {
        eprintln!("{invalid} of {} graph file(s) invalid", files.len());
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
