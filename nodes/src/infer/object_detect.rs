//! `object_detect`: finds objects of the model's classes (people, cars, cats, ...).

use ooblex_infer::Task;
use ooblex_runtime::{
    Frame, InputPortSpec, Metadata, Node, NodeContext, NodeError, NodeKind, OutputPortSpec, ParamIssue, VIDEO_IN,
    VIDEO_OUT,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::infer::annotate::{Annotate, annotate_node};
use crate::infer::detector::Detector;
use crate::infer::face_detect::DETECTIONS_OUT;
use crate::infer::params::InferenceParams;
use crate::infer::runner::manifest_for;

/// Default object detection model (80 COCO classes).
pub const DEFAULT_OBJECT_MODEL: &str = "nanodet_g";
/// Default score an object needs.
pub const DEFAULT_OBJECT_THRESHOLD: f32 = 0.4;

/// Params of `object_detect`. Changing them restarts the node.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ObjectDetectParams {
    /// An object detection model (`ooblex models list`) or a manifest path.
    pub model: String,
    /// Lowest score an object needs, 0 to 1.
    #[schemars(range(min = 0.0, max = 1.0))]
    pub threshold: f32,
    /// Keep only these labels (e.g. `[person, car]`); empty keeps every class.
    pub labels: Vec<String>,
    /// Where and how the model runs: `backend`, `device` and `threads`.
    #[serde(flatten)]
    pub inference: InferenceParams,
}

impl Default for ObjectDetectParams {
    fn default() -> Self {
        ObjectDetectParams {
            model: DEFAULT_OBJECT_MODEL.to_string(),
            threshold: DEFAULT_OBJECT_THRESHOLD,
            labels: Vec::new(),
            inference: InferenceParams::default(),
        }
    }
}

/// The `object_detect` node kind.
pub struct ObjectDetect;

impl NodeKind for ObjectDetect {
    type Params = ObjectDetectParams;
    const NAME: &'static str = "object_detect";
    const DESCRIPTION: &'static str = "finds objects (people, cars, animals, ...): the video goes on with `detections` metadata, and the objects alone go out on `detections`";
    const INPUTS: &'static [InputPortSpec] = &[VIDEO_IN];
    const OUTPUTS: &'static [OutputPortSpec] = &[VIDEO_OUT, DETECTIONS_OUT];

    fn check(params: &ObjectDetectParams) -> Vec<ParamIssue> {
        let manifest = match manifest_for(&params.model, Task::ObjectDetection) {
            Ok(manifest) => manifest,
            Err(issue) => return vec![issue],
        };
        params
            .labels
            .iter()
            .filter(|label| !manifest.labels.contains(label))
            .map(|label| {
                let close = ooblex_runtime::did_you_mean(label, manifest.labels.iter().map(String::as_str));
                ParamIssue::new("labels", format!("`{}` has no class `{label}`", manifest.name)).with_hint(
                    match close {
                        Some(close) => format!("did you mean `{close}`?"),
                        None => format!("its classes: {}", manifest.labels.join(", ")),
                    },
                )
            })
            .collect()
    }

    fn build(params: &ObjectDetectParams) -> Result<Box<dyn Node>, NodeError> {
        let run_on = params.inference.run_on();
        let detector = Detector::open(
            Self::NAME,
            &params.model,
            Task::ObjectDetection,
            run_on,
            params.threshold,
            None,
        )?;
        Ok(annotate_node(ObjectDetectNode {
            detector,
            labels: params.labels.clone(),
        }))
    }
}

struct ObjectDetectNode {
    detector: Detector,
    labels: Vec<String>,
}

impl Annotate for ObjectDetectNode {
    fn annotate(&mut self, frame: &Frame, _ctx: &NodeContext) -> Result<Metadata, NodeError> {
        let mut found = self.detector.detect(frame)?;
        if !self.labels.is_empty() {
            found.retain(|d| self.labels.contains(&d.label));
        }
        Ok(Metadata {
            detections: Some(found),
            ..(*frame.meta).clone()
        })
    }
}
