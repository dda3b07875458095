//! Inference node kinds — detectors, segmentation and style effects, face redaction
//! and the generic `infer` — running models through `ooblex-infer`.

pub(crate) mod annotate;
pub(crate) mod background;
pub(crate) mod decode;
pub(crate) mod detector;
pub(crate) mod face_detect;
pub(crate) mod face_redact;
pub(crate) mod face_swap;
pub(crate) mod generic;
pub(crate) mod object_detect;
pub(crate) mod params;
pub(crate) mod picture;
pub(crate) mod runner;
pub(crate) mod segmenter;
pub(crate) mod style_transfer;
