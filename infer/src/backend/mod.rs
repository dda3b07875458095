//! The [`InferenceBackend`] trait and the backends behind it: tract (pure Rust, always
//! built) and ONNX Runtime (feature `onnxruntime`, loaded at run time). The default,
//! [`BackendKind::Auto`], takes ONNX Runtime where it loads and tract elsewhere.

use std::sync::Once;

use serde::Deserialize;

use crate::error::InferError;
use crate::store::Model;
use crate::tensor::{Tensor, TensorView};

mod tract;
pub use self::tract::TractBackend;

#[cfg(feature = "onnxruntime")]
mod onnxruntime;
#[cfg(feature = "onnxruntime")]
pub use self::onnxruntime::OnnxRuntimeBackend;

/// Which backend runs a model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// ONNX Runtime when this build has it and its library loads, tract otherwise:
    /// on these models ONNX Runtime's CPU kernels are 1.6-3.3x faster than tract's.
    #[default]
    Auto,
    /// tract: pure Rust, CPU, always available.
    Tract,
    /// ONNX Runtime, loaded from `ORT_DYLIB_PATH` or the `onnxruntime` Python package.
    Onnxruntime,
}

impl BackendKind {
    /// The name used in graph files and messages.
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Auto => "auto",
            BackendKind::Tract => "tract",
            BackendKind::Onnxruntime => "onnxruntime",
        }
    }
}

/// Where a backend runs the model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Device {
    /// The CPU.
    #[default]
    Cpu,
    /// An NVIDIA GPU through CUDA (ONNX Runtime).
    Cuda,
    /// An NVIDIA GPU through TensorRT (ONNX Runtime).
    Tensorrt,
}

impl Device {
    /// The name used in graph files and messages.
    pub fn name(self) -> &'static str {
        match self {
            Device::Cpu => "cpu",
            Device::Cuda => "cuda",
            Device::Tensorrt => "tensorrt",
        }
    }
}

/// How to open a session.
#[derive(Debug, Clone, Default)]
pub struct SessionOptions {
    /// Where to run.
    pub device: Device,
    /// Threads one inference may use; 0 lets the backend decide.
    pub threads: usize,
    /// Concrete shapes for inputs, by name; models with fixed-size or mis-declared
    /// inputs (`centerface`) need them to be optimised for the frame size.
    pub input_shapes: Vec<(String, Vec<usize>)>,
}

/// A model ready to run, owned by one node.
pub trait Session: Send {
    /// Runs the model. Inputs are given by name; outputs come back in the order of the
    /// manifest's `outputs`.
    fn run(&mut self, inputs: &[(&str, TensorView<'_>)]) -> Result<Vec<Tensor>, InferError>;
}

/// Something that turns a checked model file into [`Session`]s.
pub trait InferenceBackend: Send + Sync {
    /// The backend's name.
    fn name(&self) -> &'static str;
    /// Loads `model` for running with `options`.
    fn open(&self, model: &Model, options: &SessionOptions) -> Result<Box<dyn Session>, InferError>;
}

/// The backend of `kind`, or why this build or machine has none.
pub fn backend(kind: BackendKind) -> Result<Box<dyn InferenceBackend>, InferError> {
    match kind {
        BackendKind::Auto => Ok(auto_backend()),
        BackendKind::Tract => Ok(Box::new(TractBackend)),
        #[cfg(feature = "onnxruntime")]
        BackendKind::Onnxruntime => Ok(Box::new(OnnxRuntimeBackend::load()?)),
        #[cfg(not(feature = "onnxruntime"))]
        BackendKind::Onnxruntime => Err(InferError::BackendUnavailable {
            backend: "onnxruntime",
            reason: "this ooblex was built without it; rebuild with `--features onnxruntime`".into(),
        }),
    }
}

/// ONNX Runtime when this build has it and its library loads, else tract,
/// saying once per process why tract was chosen.
fn auto_backend() -> Box<dyn InferenceBackend> {
    static EXPLAINED: Once = Once::new();
    #[cfg(feature = "onnxruntime")]
    let reason = match OnnxRuntimeBackend::load() {
        Ok(onnxruntime) => return Box::new(onnxruntime),
        Err(err) => err.to_string(),
    };
    #[cfg(not(feature = "onnxruntime"))]
    let reason = "this ooblex was built without the `onnxruntime` feature".to_string();
    EXPLAINED.call_once(|| {
        tracing::info!("inference runs on tract ({reason}); ONNX Runtime runs these models 1.6-3.3x faster on the CPU");
    });
    Box::new(TractBackend)
}

/// Opens `model` on the backend of `kind`.
pub fn open_session(
    kind: BackendKind,
    model: &Model,
    options: &SessionOptions,
) -> Result<Box<dyn Session>, InferError> {
    backend(kind)?.open(model, options)
}
