//! `face_detect`: finds faces, with key points when the model gives them.

use ooblex_infer::Task;
use ooblex_runtime::{
    Frame, InputPortSpec, MediaType, Metadata, Node, NodeContext, NodeError, NodeKind, OutputPortSpec, ParamIssue,
    VIDEO_IN, VIDEO_OUT,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::infer::annotate::{Annotate, annotate_node};
use crate::infer::detector::Detector;
use crate::infer::params::InferenceParams;
use crate::infer::runner::check_model;

/// Default face model: small and fast enough for every frame on a CPU.
pub const DEFAULT_FACE_MODEL: &str = "blazeface";
/// Default score a face needs.
pub const DEFAULT_FACE_THRESHOLD: f32 = 0.6;
/// Default long side of the picture given to any-size models.
pub const DEFAULT_FACE_SIZE: u32 = 320;

/// The `detections` output of detectors.
pub const DETECTIONS_OUT: OutputPortSpec = OutputPortSpec::encoded("detections", MediaType::Detections);

/// Params of `face_detect`. Changing them restarts the node.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct FaceDetectParams {
    /// A face detection model: a name from `ooblex models list` (`blazeface`, `centerface`) or a manifest path.
    pub model: String,
    /// Lowest score a face needs, 0 to 1.
    #[schemars(range(min = 0.0, max = 1.0))]
    pub threshold: f32,
    /// For models that take any size (`centerface`): longest side of the picture the model sees, in pixels (frames are only scaled down); smaller is faster.
    #[schemars(range(min = 32, max = 4096))]
    pub size: u32,
    /// Where and how the model runs: `backend`, `device` and `threads`.
    #[serde(flatten)]
    pub inference: InferenceParams,
}

impl Default for FaceDetectParams {
    fn default() -> Self {
        FaceDetectParams {
            model: DEFAULT_FACE_MODEL.to_string(),
            threshold: DEFAULT_FACE_THRESHOLD,
            size: DEFAULT_FACE_SIZE,
            inference: InferenceParams::default(),
        }
    }
}

impl FaceDetectParams {
    /// Opens the detector these params describe, for node kind `kind`.
    pub(crate) fn open(&self, kind: &'static str) -> Result<Detector, NodeError> {
        let run_on = self.inference.run_on();
        Detector::open(
            kind,
            &self.model,
            Task::FaceDetection,
            run_on,
            self.threshold,
            Some(self.size as usize),
        )
    }
}

/// The `face_detect` node kind.
pub struct FaceDetect;

impl NodeKind for FaceDetect {
    type Params = FaceDetectParams;
    const NAME: &'static str = "face_detect";
    const DESCRIPTION: &'static str =
        "finds faces: the video goes on with `detections` metadata, and the faces alone go out on `detections`";
    const INPUTS: &'static [InputPortSpec] = &[VIDEO_IN];
    const OUTPUTS: &'static [OutputPortSpec] = &[VIDEO_OUT, DETECTIONS_OUT];

    fn check(params: &FaceDetectParams) -> Vec<ParamIssue> {
        check_model(&params.model, Task::FaceDetection)
    }

    fn build(params: &FaceDetectParams) -> Result<Box<dyn Node>, NodeError> {
        Ok(annotate_node(FaceDetectNode {
            detector: params.open(FaceDetect::NAME)?,
        }))
    }
}

struct FaceDetectNode {
    detector: Detector,
}

impl Annotate for FaceDetectNode {
    fn annotate(&mut self, frame: &Frame, _ctx: &NodeContext) -> Result<Metadata, NodeError> {
        let faces = self.detector.detect(frame)?;
        Ok(Metadata {
            detections: Some(faces),
            ..(*frame.meta).clone()
        })
    }
}
