//! The tract backend: pure Rust, CPU, always built.

use std::sync::Arc;

use tract_onnx::prelude::*;
use tract_onnx::tract_core::runtime::RunOptions;
use tract_onnx::tract_hir::internal::InferenceModelExt;

use crate::backend::{Device, InferenceBackend, Session, SessionOptions};
use crate::error::InferError;
use crate::store::Model;
use crate::tensor::{Tensor, TensorView};

/// Runs ONNX models with tract.
#[derive(Debug, Default, Clone, Copy)]
pub struct TractBackend;

impl InferenceBackend for TractBackend {
    fn name(&self) -> &'static str {
        "tract"
    }

    fn open(&self, model: &Model, options: &SessionOptions) -> Result<Box<dyn Session>, InferError> {
        if options.device != Device::Cpu {
            tracing::warn!(
                model = model.name(),
                "tract runs on the CPU only; `device: {}` needs `backend: onnxruntime`, using the CPU",
                options.device.name()
            );
        }
        let load_error = |e: TractError| InferError::Load {
            backend: "tract",
            name: model.name().to_string(),
            message: format!("{e:#}"),
        };
        let mut graph = tract_onnx::onnx().model_for_path(&model.file).map_err(load_error)?;
        let mut input_names = Vec::new();
        for (index, outlet) in graph
            .input_outlets()
            .map_err(load_error)?
            .to_vec()
            .into_iter()
            .enumerate()
        {
            let name = graph.node(outlet.node).name.clone();
            if let Some((_, shape)) = options.input_shapes.iter().find(|(n, _)| *n == name) {
                graph
                    .set_input_fact(index, f32::fact(shape).into())
                    .map_err(load_error)?;
            }
            input_names.push(name);
        }
        let outputs: Vec<&str> = model.manifest.outputs.iter().map(|o| o.name.as_str()).collect();
        graph.select_outputs_by_name(&outputs).map_err(load_error)?;
        let optimized = graph.into_optimized().map_err(load_error)?;
        let run_options = RunOptions {
            executor: (options.threads > 1)
                .then(|| tract_onnx::prelude::multithread::Executor::multithread(options.threads)),
            ..RunOptions::default()
        };
        let plan = optimized.into_runnable_with_options(&run_options).map_err(load_error)?;
        Ok(Box::new(TractSession {
            name: model.name().to_string(),
            input_names,
            plan,
        }))
    }
}

struct TractSession {
    name: String,
    input_names: Vec<String>,
    plan: Arc<TypedRunnableModel>,
}

impl Session for TractSession {
    fn run(&mut self, inputs: &[(&str, TensorView<'_>)]) -> Result<Vec<Tensor>, InferError> {
        let run_error = |e: TractError| InferError::Run {
            backend: "tract",
            name: self.name.clone(),
            message: format!("{e:#}"),
        };
        let mut values: TVec<TValue> = TVec::new();
        for name in &self.input_names {
            let Some((_, view)) = inputs.iter().find(|(n, _)| n == name) else {
                return Err(InferError::Shape {
                    name: self.name.clone(),
                    message: format!("input `{name}` was not given"),
                });
            };
            let tensor = tract_onnx::prelude::Tensor::from_shape(view.shape, view.data).map_err(run_error)?;
            values.push(tensor.into());
        }
        let outputs = self.plan.run(values).map_err(run_error)?;
        outputs
            .into_iter()
            .map(|value| {
                let view = value.to_plain_array_view::<f32>().map_err(run_error)?;
                Ok(Tensor::new(view.shape().to_vec(), view.iter().copied().collect()))
            })
            .collect()
    }
}
