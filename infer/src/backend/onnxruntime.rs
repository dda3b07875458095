//! The ONNX Runtime backend (feature `onnxruntime`): the shared library is loaded at run
//! time, from `ORT_DYLIB_PATH` or the `capi/` folder of the `onnxruntime` Python package.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ort::environment::Environment;
use ort::ep::{self, ExecutionProvider};
use ort::session::Session as OrtSession;
use ort::value::Tensor as OrtTensor;

use crate::backend::{Device, InferenceBackend, Session, SessionOptions};
use crate::error::InferError;
use crate::store::Model;
use crate::tensor::{Tensor, TensorView};

/// Runs ONNX models with ONNX Runtime on the CPU, CUDA or TensorRT.
#[derive(Clone)]
pub struct OnnxRuntimeBackend {
    environment: &'static Environment,
}

impl OnnxRuntimeBackend {
    /// Loads the ONNX Runtime library once per process.
    pub fn load() -> Result<OnnxRuntimeBackend, InferError> {
        static LOADED: OnceLock<Result<Environment, String>> = OnceLock::new();
        let loaded = LOADED.get_or_init(|| {
            let path = library_path().ok_or_else(|| {
                "no ONNX Runtime library found; set ORT_DYLIB_PATH to libonnxruntime.so, \
                 or `pip install onnxruntime` (its capi/ folder is searched)"
                    .to_string()
            })?;
            let environment = ort::init_from(&path)
                .map_err(|e| format!("cannot load `{}`: {e}", path.display()))?
                .with_name("ooblex")
                .build()
                .map_err(|e| format!("cannot start ONNX Runtime from `{}`: {e}", path.display()))?;
            tracing::info!("ONNX Runtime loaded from {}", path.display());
            Ok(environment)
        });
        match loaded {
            Ok(environment) => Ok(OnnxRuntimeBackend { environment }),
            Err(reason) => Err(InferError::BackendUnavailable {
                backend: "onnxruntime",
                reason: reason.clone(),
            }),
        }
    }
}

/// `ORT_DYLIB_PATH`, else `libonnxruntime.so*` in the `onnxruntime` Python package.
fn library_path() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("ORT_DYLIB_PATH") {
        return Some(PathBuf::from(path));
    }
    let output = std::process::Command::new("python3")
        .args([
            "-c",
            "import onnxruntime, os; print(os.path.dirname(onnxruntime.__file__))",
        ])
        .output()
        .ok()?;
    let package = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    find_library(&package.join("capi"))
}

fn find_library(dir: &Path) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("libonnxruntime.so"))
        })
        .collect();
    found.sort();
    found.into_iter().next()
}

impl InferenceBackend for OnnxRuntimeBackend {
    fn name(&self) -> &'static str {
        "onnxruntime"
    }

    fn open(&self, model: &Model, options: &SessionOptions) -> Result<Box<dyn Session>, InferError> {
        let load_error = |e: ort::Error| InferError::Load {
            backend: "onnxruntime",
            name: model.name().to_string(),
            message: e.to_string(),
        };
        let mut builder = OrtSession::builder(self.environment).map_err(load_error)?;
        if options.threads > 0 {
            builder = builder
                .with_intra_threads(options.threads)
                .map_err(|e| load_error(e.into()))?;
        }
        let provider = match options.device {
            Device::Cpu => None,
            Device::Cuda => Some(ep::CUDA::default().build()),
            Device::Tensorrt => Some(ep::TensorRT::default().build()),
        };
        if let Some(provider) = provider {
            let available = match options.device {
                Device::Cuda => <ep::CUDA as ExecutionProvider>::is_available(),
                _ => <ep::TensorRT as ExecutionProvider>::is_available(),
            };
            if available.unwrap_or(false) {
                builder = builder
                    .with_execution_providers([provider])
                    .map_err(|e| load_error(e.into()))?;
            } else {
                tracing::warn!(
                    model = model.name(),
                    "ONNX Runtime has no {} execution provider here; running on the CPU",
                    options.device.name()
                );
            }
        }
        let session = builder.commit_from_file(&model.file).map_err(load_error)?;
        Ok(Box::new(OrtRunner {
            name: model.name().to_string(),
            outputs: model.manifest.outputs.iter().map(|o| o.name.clone()).collect(),
            session,
        }))
    }
}

struct OrtRunner {
    name: String,
    outputs: Vec<String>,
    session: OrtSession,
}

impl Session for OrtRunner {
    fn run(&mut self, inputs: &[(&str, TensorView<'_>)]) -> Result<Vec<Tensor>, InferError> {
        let name = self.name.clone();
        let run_error = move |e: ort::Error| InferError::Run {
            backend: "onnxruntime",
            name: name.clone(),
            message: e.to_string(),
        };
        let mut values = Vec::with_capacity(inputs.len());
        for (input, view) in inputs {
            let shape: Vec<i64> = view.shape.iter().map(|&d| d as i64).collect();
            let tensor = OrtTensor::from_array((shape, view.data.to_vec())).map_err(&run_error)?;
            values.push((input.to_string(), tensor.into_dyn()));
        }
        let outputs = self.session.run(values).map_err(&run_error)?;
        self.outputs
            .iter()
            .map(|name| {
                let (shape, data) = outputs[name.as_str()].try_extract_tensor::<f32>().map_err(&run_error)?;
                let shape = shape.iter().map(|&d| d as usize).collect();
                Ok(Tensor::new(shape, data.to_vec()))
            })
            .collect()
    }
}
