//! Ooblex inference: model manifests ([`Manifest`]), a [`ModelStore`] that finds models by
//! name and checks their sha256, and the [`InferenceBackend`]s that run them — tract
//! (pure Rust, the default) and ONNX Runtime (feature `onnxruntime`).
//!
//! ```no_run
//! use ooblex_infer::{BackendKind, ModelStore, SessionOptions, open_session};
//!
//! let model = ModelStore::discover().load("blazeface")?;
//! let mut session = open_session(BackendKind::Tract, &model, &SessionOptions::default())?;
//! let picture = ooblex_infer::Tensor::new(vec![1, 128, 128, 3], vec![0.0; 128 * 128 * 3]);
//! let outputs = session.run(&[(model.manifest.input.name.as_str(), picture.view())])?;
//! # Ok::<(), ooblex_infer::InferError>(())
//! ```

mod backend;
mod error;
mod manifest;
mod slots;
mod store;
mod tensor;

#[cfg(feature = "onnxruntime")]
pub use backend::OnnxRuntimeBackend;
pub use backend::{
    BackendKind, Device, InferenceBackend, Session, SessionOptions, TractBackend, backend, open_session,
};
pub use error::InferError;
pub use manifest::{Channels, Layout, Manifest, OutputSpec, PictureInput, Resize, StyleInput, Task};
pub use slots::{InferenceSlots, SlotGuard};
pub use store::{Model, ModelStore, sha256_of};
pub use tensor::{Tensor, TensorView};
