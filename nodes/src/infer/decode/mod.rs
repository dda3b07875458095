//! Decoders: from a detector's raw outputs to boxes in model input pixels.

pub(crate) mod blazeface;
pub(crate) mod centerface;
pub(crate) mod nanodet;
pub(crate) mod nms;

use ooblex_infer::Tensor;
use ooblex_runtime::{Detection, NodeError};

/// How a detector's outputs are read, from the manifest's `decoder`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decoder {
    /// CenterFace heatmaps (any input size, 5 landmarks).
    CenterFace,
    /// BlazeFace anchors (128x128, 6 key points).
    BlazeFace,
    /// NanoDet distance bins over strides 8, 16, 32.
    NanoDet,
}

impl Decoder {
    /// The decoder a manifest names.
    pub fn named(name: Option<&str>, model: &str) -> Result<Decoder, NodeError> {
        match name {
            Some("centerface") => Ok(Decoder::CenterFace),
            Some("blazeface") => Ok(Decoder::BlazeFace),
            Some("nanodet") => Ok(Decoder::NanoDet),
            other => Err(NodeError::startup(format!(
                "model `{model}` has `decoder: {}`, which this version cannot read\n\
                 hint: detectors need `decoder: centerface`, `blazeface` or `nanodet` in their manifest",
                other.unwrap_or("(none)")
            ))),
        }
    }

    /// Detections scoring at least `threshold`, after non-maximum suppression, in
    /// pixels of the `size` model input.
    pub fn decode(
        self,
        outputs: &[Tensor],
        size: (usize, usize),
        labels: &[String],
        threshold: f32,
    ) -> Result<Vec<Detection>, NodeError> {
        let found = match self {
            Decoder::CenterFace => centerface::decode(outputs, threshold)?,
            Decoder::BlazeFace => blazeface::decode(outputs, size, threshold)?,
            Decoder::NanoDet => nanodet::decode(outputs, labels, threshold)?,
        };
        let iou = match self {
            Decoder::NanoDet => nanodet::NMS_IOU,
            Decoder::CenterFace | Decoder::BlazeFace => 0.3,
        };
        Ok(nms::suppress(found, iou))
    }
}

/// The error for outputs that do not have the shape a decoder reads.
pub(crate) fn bad_outputs(decoder: &str, what: impl std::fmt::Display) -> NodeError {
    NodeError::failed(format!(
        "the {decoder} decoder cannot read the model's outputs: {what}\n\
         hint: check the manifest's `outputs` order and `decoder`"
    ))
}
