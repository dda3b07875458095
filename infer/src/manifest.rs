//! Model manifests: `models/<name>.yaml`, one per model, saying what the file is,
//! where it came from, its licence, and how to feed it and read it.

use std::path::Path;

use serde::Deserialize;

use crate::error::InferError;

/// What a model is for; effects accept only models of their task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// Faces with boxes and key points.
    FaceDetection,
    /// Objects of several classes with boxes.
    ObjectDetection,
    /// A probability per pixel (person or background).
    Segmentation,
    /// A picture in, a restyled picture out.
    StyleTransfer,
    /// Anything else; only the generic `infer` node runs it.
    Generic,
}

impl Task {
    /// The name written in manifests.
    pub fn name(self) -> &'static str {
        match self {
            Task::FaceDetection => "face_detection",
            Task::ObjectDetection => "object_detection",
            Task::Segmentation => "segmentation",
            Task::StyleTransfer => "style_transfer",
            Task::Generic => "generic",
        }
    }
}

/// How the picture tensor is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    /// `[1, channels, height, width]`.
    Nchw,
    /// `[1, height, width, channels]`.
    Nhwc,
}

/// Channel order of the picture tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channels {
    /// Red, green, blue.
    Rgb,
    /// Blue, green, red.
    Bgr,
}

/// The picture input of a model.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PictureInput {
    /// The input's name in the model file.
    pub name: String,
    /// Tensor layout.
    pub layout: Layout,
    /// Fixed input width; absent when the model takes any size.
    #[serde(default)]
    pub width: Option<usize>,
    /// Fixed input height; absent when the model takes any size.
    #[serde(default)]
    pub height: Option<usize>,
    /// For models of any size: both sides must be multiples of this.
    #[serde(default = "one")]
    pub multiple_of: usize,
    /// Channel order.
    pub channels: Channels,
    /// Per tensor channel, in `channels` order: value = (pixel - mean) / std, pixel in 0..=255.
    pub mean: [f32; 3],
    /// Per tensor channel divisor, see `mean`.
    pub std: [f32; 3],
    /// How pictures of another shape are fitted into a fixed-size input.
    #[serde(default)]
    pub resize: Resize,
}

/// How a picture is fitted into a model input of another shape.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Resize {
    /// Scale each side on its own.
    #[default]
    Stretch,
    /// Keep the aspect ratio, centre the picture and pad with black.
    Letterbox,
}

fn one() -> usize {
    1
}

impl PictureInput {
    /// The fixed input size, if the model has one.
    pub fn fixed_size(&self) -> Option<(usize, usize)> {
        self.width.zip(self.height)
    }
}

/// One output of a model, documented.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSpec {
    /// The output's name in the model file.
    pub name: String,
    /// Its shape and what its numbers mean.
    pub meaning: String,
}

/// The style-weights input of a multi-style transfer model.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StyleInput {
    /// The input's name in the model file.
    pub name: String,
    /// How many styles the model knows (the input's length).
    pub count: usize,
    /// Style names in weight order, when the model's authors named them.
    #[serde(default)]
    pub names: Vec<String>,
}

/// A model manifest as written in `models/<name>.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The model's name, as used in graph files (`model: centerface`).
    pub name: String,
    /// One line about the model.
    pub description: String,
    /// What the model is for.
    pub task: Task,
    /// The model file, relative to the manifest.
    pub file: String,
    /// sha256 of the model file, 64 lowercase hex digits.
    pub sha256: String,
    /// SPDX licence of the model weights.
    pub licence: String,
    /// The licence text, relative to the manifest.
    pub licence_file: String,
    /// Where the file came from (registry, package, version, path).
    pub source: String,
    /// Where `ooblex models fetch` can download the file, for models not committed.
    #[serde(default)]
    pub url: Option<String>,
    /// The picture input.
    pub input: PictureInput,
    /// The style-weights input of multi-style transfer models.
    #[serde(default)]
    pub style_input: Option<StyleInput>,
    /// The outputs, in the order the decoder reads them.
    pub outputs: Vec<OutputSpec>,
    /// How detector outputs are decoded (`centerface`, `blazeface`, ...).
    #[serde(default)]
    pub decoder: Option<String>,
    /// Class names of detectors, in output order.
    #[serde(default)]
    pub labels: Vec<String>,
}

impl Manifest {
    /// Reads and checks the manifest at `path`.
    pub fn read(path: &Path) -> Result<Manifest, InferError> {
        let text = std::fs::read_to_string(path).map_err(|source| InferError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Manifest::parse(&text, path)
    }

    /// Parses manifest text; `path` is only for messages.
    pub fn parse(text: &str, path: &Path) -> Result<Manifest, InferError> {
        let invalid = |message: String| InferError::Manifest {
            manifest: path.to_path_buf(),
            message,
        };
        let manifest: Manifest = serde_saphyr::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let hex = |c: char| c.is_ascii_digit() || ('a'..='f').contains(&c);
        if manifest.sha256.len() != 64 || !manifest.sha256.chars().all(hex) {
            return Err(invalid(format!(
                "`sha256` must be 64 lowercase hex digits, found `{}`\nhint: `sha256sum {}` prints it",
                manifest.sha256, manifest.file
            )));
        }
        if manifest.input.width.is_some() != manifest.input.height.is_some() {
            return Err(invalid(
                "`input.width` and `input.height` go together: give both or neither".into(),
            ));
        }
        if manifest.input.multiple_of == 0 || manifest.input.std.contains(&0.0) {
            return Err(invalid(
                "`input.multiple_of` and every `input.std` must be non-zero".into(),
            ));
        }
        if manifest.outputs.is_empty() {
            return Err(invalid("`outputs` lists no output".into()));
        }
        Ok(manifest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "
name: m
description: d
task: face_detection
file: m.onnx
sha256: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
licence: MIT
licence_file: LICENSE
source: here
input: { name: x, layout: nchw, channels: rgb, mean: [0, 0, 0], std: [1, 1, 1], multiple_of: 32 }
outputs: [{ name: y, meaning: z }]
";

    #[test]
    fn a_complete_manifest_parses() {
        let m = Manifest::parse(GOOD, Path::new("m.yaml")).expect("valid");
        assert_eq!(
            (m.task, m.input.layout, m.input.multiple_of),
            (Task::FaceDetection, Layout::Nchw, 32)
        );
        assert_eq!(m.input.fixed_size(), None);
    }

    #[test]
    fn a_bad_digest_is_refused_with_the_manifest_named() {
        let text = GOOD.replace("0123456789abcdef0123", "XYZ");
        let err = Manifest::parse(&text, Path::new("models/m.yaml")).expect_err("bad sha");
        assert!(
            err.to_string().contains("models/m.yaml") && err.to_string().contains("sha256"),
            "{err}"
        );
    }

    #[test]
    fn unknown_fields_are_refused() {
        let err = Manifest::parse(&format!("{GOOD}colour: red\n"), Path::new("m.yaml")).expect_err("unknown field");
        assert!(err.to_string().contains("colour"), "{err}");
    }
}
