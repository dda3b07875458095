//! One module per subcommand.

pub mod bench;
#[cfg(feature = "hosts")]
pub mod deploy;
pub mod graph;
pub mod host_part;
pub mod models;
pub mod nodes;
pub mod run;
pub mod schema;
#[cfg(feature = "hosts")]
pub mod status;
pub mod validate;

use std::io::IsTerminal;
use std::path::Path;

use ooblex_runtime::{LoadFileError, LoadedGraph, Registry, ValidatedGraph, load_file, validate};

/// Loads and validates a graph file; on failure prints every diagnostic to
/// stderr and returns `None`.
pub fn load_and_validate(path: &Path) -> anyhow::Result<Option<ValidatedGraph>> {
    let Some(loaded) = load(path)? else {
        return Ok(None);
    };
    Ok(check(&loaded, &ooblex_nodes::registry()))
}

/// Loads a graph file as written; on failure prints every diagnostic to
/// stderr and returns `None`. An unreadable file is an error.
pub fn load(path: &Path) -> anyhow::Result<Option<LoadedGraph>> {
    match load_file(path) {
        Ok(loaded) => Ok(Some(loaded)),
        Err(LoadFileError::Read { path, reason }) => {
            anyhow::bail!("cannot read graph file `{path}`: {reason}")
        }
        Err(LoadFileError::Invalid(errors)) => {
            eprint!("{}", errors.render(std::io::stderr().is_terminal()));
            Ok(None)
        }
    }
}

/// Validates a loaded graph; on failure prints every diagnostic to stderr and
/// returns `None`.
pub fn check(loaded: &LoadedGraph, registry: &Registry) -> Option<ValidatedGraph> {
    match validate(loaded, registry) {
        Ok(graph) => Some(graph),
        Err(errors) => {
            eprint!("{}", errors.render(std::io::stderr().is_terminal()));
            None
        }
    }
}
