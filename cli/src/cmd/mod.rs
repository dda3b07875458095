//! One module per subcommand.

pub mod graph;
pub mod nodes;
pub mod run;
pub mod schema;
pub mod validate;

use std::io::IsTerminal;
use std::path::Path;

use ooblex_runtime::{LoadFileError, ValidatedGraph, load_file, validate};

/// Loads and validates a graph file; on failure prints every diagnostic to
/// stderr and returns `None`.
pub fn load_and_validate(path: &Path) -> anyhow::Result<Option<ValidatedGraph>> {
    let registry = ooblex_nodes::registry();
    let loaded = match load_file(path) {
        Ok(loaded) => loaded,
        Err(LoadFileError::Read { path, reason }) => {
            anyhow::bail!("cannot read graph file `{path}`: {reason}")
        }
        Err(LoadFileError::Invalid(errors)) => {
            eprint!("{}", errors.render(std::io::stderr().is_terminal()));
            return Ok(None);
        }
    };
    match validate(&loaded, &registry) {
        Ok(graph) => Ok(Some(graph)),
        Err(errors) => {
            eprint!("{}", errors.render(std::io::stderr().is_terminal()));
            Ok(None)
        }
    }
}
