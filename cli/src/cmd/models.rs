//! `ooblex models list|verify|fetch`: the model manifests and their files.

use std::path::Path;
use std::process::{Command, ExitCode};

use clap::Subcommand;
use ooblex_infer::{InferError, Manifest, ModelStore, sha256_of};

/// What `ooblex models` does.
#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// List the models with their task, licence, size and whether the file checks out.
    List,
    /// Check models' files against their manifests' sha256 (every model when none is named).
    Verify {
        /// Model names or manifest paths.
        names: Vec<String>,
    },
    /// Download a model's file from its manifest's `url` (with curl) and check its sha256.
    Fetch {
        /// The model name or manifest path.
        name: String,
    },
}

/// Runs an `ooblex models` command.
pub fn run(command: ModelsCommand) -> anyhow::Result<ExitCode> {
    let store = ModelStore::discover();
    match command {
        ModelsCommand::List => list(&store),
        ModelsCommand::Verify { names } => verify(&store, &names),
        ModelsCommand::Fetch { name } => fetch(&store, &name),
    }
}

fn list(store: &ModelStore) -> anyhow::Result<ExitCode> {
    let entries = store.list();
    if entries.is_empty() {
        let dirs: Vec<String> = store.dirs().iter().map(|d| d.display().to_string()).collect();
        eprintln!("no model manifests in {}", dirs.join(", "));
        return Ok(ExitCode::FAILURE);
    }
    println!("{:20} {:17} {:11} {:>9}  status", "model", "task", "licence", "size");
    for entry in entries {
        match entry {
            Ok((path, manifest)) => {
                let file = path.parent().unwrap_or(Path::new(".")).join(&manifest.file);
                let size = std::fs::metadata(&file)
                    .map(|m| format!("{:.1} MB", m.len() as f64 / 1e6))
                    .unwrap_or_else(|_| "-".into());
                let status = match store.load(path.to_string_lossy().as_ref()) {
                    Ok(_) => "ok".to_string(),
                    Err(InferError::MissingFile { .. }) if manifest.url.is_some() => {
                        format!("missing: `ooblex models fetch {}`", manifest.name)
                    }
                    Err(InferError::MissingFile { .. }) => "missing".to_string(),
                    Err(InferError::Corrupt { .. }) => "corrupt (sha256 differs)".to_string(),
                    Err(err) => err.to_string(),
                };
                println!(
                    "{:20} {:17} {:11} {:>9}  {status}",
                    manifest.name,
                    manifest.task.name(),
                    manifest.licence,
                    size
                );
            }
            Err(err) => println!("{err}"),
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn verify(store: &ModelStore, names: &[String]) -> anyhow::Result<ExitCode> {
    let names: Vec<String> = if names.is_empty() {
        store.names()
    } else {
        names.to_vec()
    };
    let mut failed = 0;
    for name in &names {
        match store.load(name) {
            Ok(model) => println!("ok       {} ({})", model.name(), model.file.display()),
            Err(err) => {
                failed += 1;
                eprintln!("error: {err}");
            }
        }
    }
    if failed > 0 {
        eprintln!("{failed} of {} models failed the check", names.len());
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

fn fetch(store: &ModelStore, name: &str) -> anyhow::Result<ExitCode> {
    let (path, manifest) = store.manifest(name)?;
    let Some(url) = &manifest.url else {
        eprintln!(
            "error: `{}` has no `url`; its file ships with Ooblex\nhelp: restore `{}` from the repository",
            path.display(),
            manifest.file
        );
        return Ok(ExitCode::FAILURE);
    };
    let file = path.parent().unwrap_or(Path::new(".")).join(&manifest.file);
    if store.load(&path.to_string_lossy()).is_ok() {
        println!("{} is already here and checks out", file.display());
        return Ok(ExitCode::SUCCESS);
    }
    let partial = file.with_extension("part");
    eprintln!("downloading {url}");
    let status = Command::new("curl")
        .args(["--fail", "--location", "--silent", "--show-error", "--output"])
        .arg(&partial)
        .arg(url)
        .status()
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot run curl: {e}\nhelp: install curl, or download {url} to {} by hand",
                file.display()
            )
        })?;
    if !status.success() {
        std::fs::remove_file(&partial).ok();
        eprintln!("error: downloading {url} failed ({status})");
        return Ok(ExitCode::FAILURE);
    }
    check_and_place(&manifest, &path, &partial, &file)
}

/// Moves a downloaded file into place if its sha256 matches the manifest.
fn check_and_place(manifest: &Manifest, manifest_path: &Path, partial: &Path, file: &Path) -> anyhow::Result<ExitCode> {
    let found = sha256_of(partial)?;
    if found != manifest.sha256 {
        std::fs::remove_file(partial).ok();
        eprintln!(
            "error: the download does not match the sha256 in `{}` (expected {}, got {found}); nothing was written",
            manifest_path.display(),
            manifest.sha256
        );
        return Ok(ExitCode::FAILURE);
    }
    std::fs::rename(partial, file)?;
    println!("{} fetched and checked", file.display());
    Ok(ExitCode::SUCCESS)
}
