//! `infer`: runs any model on the video and sends its outputs on the `tensor` port.

use std::sync::Arc;

use ooblex_infer::ModelStore;
use ooblex_runtime::{
    Frame, InputPortSpec, MediaType, Metadata, Node, NodeContext, NodeError, NodeKind, OutputPortSpec, ParamIssue,
    TensorData, VIDEO_IN, VIDEO_OUT,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::infer::annotate::{Annotate, annotate_node};
use crate::infer::params::{BackendChoosesThreads, InferenceParams};
use crate::infer::picture::Fit;
use crate::infer::runner::ModelRunner;
use crate::media::raw::{ALL_RAW, RawView};

/// How `infer` fits frames into a fixed-size model input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FitParam {
    /// Scale each side on its own.
    Stretch,
    /// Keep the aspect ratio and pad with black.
    Letterbox,
}

/// Params of `infer`. Changing them restarts the node.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InferParams {
    /// Any model: a name from `ooblex models list` or a manifest path.
    pub model: String,
    /// How frames are fitted into a fixed-size input: `stretch` or `letterbox`; absent, as the manifest's `input.resize` says.
    #[serde(default)]
    pub fit: Option<FitParam>,
    /// For models that take any size: longest side of the picture the model sees (frames are only scaled down); absent, the frame's own size.
    #[serde(default)]
    #[schemars(range(min = 16, max = 8192))]
    pub size: Option<u32>,
    /// Where and how the model runs: `backend`, `device` and `threads`.
    #[serde(flatten)]
    pub inference: InferenceParams<BackendChoosesThreads>,
}

/// The `infer` node kind.
pub struct Infer;

/// The `tensor` output of `infer`.
const TENSOR_OUT: OutputPortSpec = OutputPortSpec::encoded("tensor", MediaType::Tensor);

impl NodeKind for Infer {
    type Params = InferParams;
    const NAME: &'static str = "infer";
    const DESCRIPTION: &'static str =
        "runs any model on the video: its outputs go out on `tensor`, and with the video as metadata";
    const INPUTS: &'static [InputPortSpec] = &[VIDEO_IN];
    const OUTPUTS: &'static [OutputPortSpec] = &[TENSOR_OUT, VIDEO_OUT];

    fn check(params: &InferParams) -> Vec<ParamIssue> {
        match ModelStore::discover().manifest(&params.model) {
            Ok(_) => Vec::new(),
            Err(err) => vec![
                ParamIssue::new("model", err.to_string().lines().next().unwrap_or_default())
                    .with_hint("`ooblex models list` shows the models"),
            ],
        }
    }

    fn build(params: &InferParams) -> Result<Box<dyn Node>, NodeError> {
        let run_on = params.inference.run_on();
        let runner = ModelRunner::open_any(Self::NAME, &params.model, run_on)?;
        let fit = match params.fit {
            Some(FitParam::Stretch) => Fit::Stretch,
            Some(FitParam::Letterbox) => Fit::Letterbox,
            None => Fit::of(runner.manifest().input.resize),
        };
        Ok(annotate_node(InferNode {
            runner,
            fit,
            size: params.size.map(|s| s as usize),
        }))
    }
}

struct InferNode {
    runner: ModelRunner,
    fit: Fit,
    size: Option<usize>,
}

impl Annotate for InferNode {
    fn annotate(&mut self, frame: &Frame, _ctx: &NodeContext) -> Result<Metadata, NodeError> {
        let view = RawView::of(frame, Infer::NAME, ALL_RAW)?;
        let size = self.runner.input_size((view.width, view.height), self.size);
        let (outputs, _) = self.runner.run(&view, size, self.fit, &[])?;
        let tensors = outputs
            .into_iter()
            .zip(&self.runner.manifest().outputs)
            .map(|(tensor, spec)| TensorData {
                name: spec.name.clone(),
                shape: tensor.shape,
                data: Arc::from(tensor.data),
            })
            .collect();
        Ok(Metadata {
            tensors: Some(tensors),
            ..(*frame.meta).clone()
        })
    }
}
