//! What can go wrong between a model name and a tensor result.

use std::path::PathBuf;

/// An inference failure. Loading errors name the manifest so the user knows which file to fix.
#[derive(Debug, thiserror::Error)]
pub enum InferError {
    /// No manifest of this name in any models directory.
    #[error(
        "no model `{name}` in {searched}{suggestion}\nhint: `ooblex models list` shows the models; a path to a manifest (`my/model.yaml`) works too"
    )]
    UnknownModel {
        /// The name asked for.
        name: String,
        /// The directories looked in, for the message.
        searched: String,
        /// `"; did you mean `x`?"` or empty.
        suggestion: String,
    },
    /// The manifest cannot be read or parsed.
    #[error("model manifest `{}`: {message}", manifest.display())]
    Manifest {
        /// The manifest file.
        manifest: PathBuf,
        /// What is wrong, with its location.
        message: String,
    },
    /// The model file the manifest names is missing.
    #[error("model file `{}` named by `{}` is missing\nhint: {hint}", file.display(), manifest.display())]
    MissingFile {
        /// The manifest.
        manifest: PathBuf,
        /// The expected model file.
        file: PathBuf,
        /// How to get it.
        hint: String,
    },
    /// The model file's sha256 is not the one in the manifest.
    #[error("model file `{}` does not match the sha256 in `{}` (expected {expected}, found {found})\nhint: the file is corrupt or was replaced; restore it (`git checkout -- {}`, or `ooblex models fetch {name}`) or update the manifest's sha256 if the new file is intended", file.display(), manifest.display(), file.display())]
    Corrupt {
        /// The model's name.
        name: String,
        /// The manifest.
        manifest: PathBuf,
        /// The model file.
        file: PathBuf,
        /// sha256 written in the manifest.
        expected: String,
        /// sha256 of the file.
        found: String,
    },
    /// A backend could not load the model.
    #[error("{backend} cannot load model `{name}`: {message}")]
    Load {
        /// The backend's name.
        backend: &'static str,
        /// The model's name.
        name: String,
        /// The backend's message.
        message: String,
    },
    /// A backend was asked for that this build or machine lacks.
    #[error("backend `{backend}` is not available: {reason}")]
    BackendUnavailable {
        /// The backend's name.
        backend: &'static str,
        /// Why, and how to get it.
        reason: String,
    },
    /// Running the model failed.
    #[error("{backend} failed to run model `{name}`: {message}")]
    Run {
        /// The backend's name.
        backend: &'static str,
        /// The model's name.
        name: String,
        /// The backend's message.
        message: String,
    },
    /// Input or output tensors do not have the shapes the caller expects.
    #[error("model `{name}`: {message}")]
    Shape {
        /// The model's name.
        name: String,
        /// Which tensor and what was expected.
        message: String,
    },
    /// Reading a file failed.
    #[error("cannot read `{}`: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}
