//! Python processes with eclipse-zenoh, which the test command installs into
//! `target/python`, running the scripts of `examples/zenoh_python`.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use super::repo_root;

/// Where the test command installs eclipse-zenoh for the tests.
fn python_path() -> PathBuf {
    let site = repo_root().join("target/python");
    assert!(
        site.join("zenoh").exists(),
        "eclipse-zenoh is not installed in {}: run the tests with scripts/test.sh, which installs it",
        site.display()
    );
    site
}

/// `python3 examples/zenoh_python/SCRIPT ARGS`, with eclipse-zenoh on its
/// path and its output piped.
pub fn python(script: &str, args: &[&str]) -> Command {
    let examples = repo_root().join("examples/zenoh_python");
    let mut command = Command::new("python3");
    command
        .arg(examples.join(script))
        .args(args)
        .env(
            "PYTHONPATH",
            format!("{}:{}", python_path().display(), examples.display()),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}
