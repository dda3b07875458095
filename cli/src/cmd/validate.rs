//! `ooblex validate FILE...`

use std::path::PathBuf;
use std::process::ExitCode;

/// Checks every file; succeeds only when all are valid.
pub fn run(files: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let mut invalid = 0;
    for file in files {
        match super::load_and_validate(file)? {
            Some(graph) => {
                let written = graph.spec.nodes.len();
                match graph.conversions.len() {
                    0 => println!("{}: ok ({written} nodes)", file.display()),
                    1 => println!("{}: ok ({written} nodes, 1 format conversion)", file.display()),
                    n => println!("{}: ok ({written} nodes, {n} format conversions)", file.display()),
                }
                for conversion in &graph.conversions {
                    println!("  note: {conversion}");
                }
            }
            None => invalid += 1,
        }
    }
    if invalid > 0 {
        eprintln!("{invalid} of {} graph file(s) invalid", files.len());
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
