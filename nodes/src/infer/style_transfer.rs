//! `style_transfer`: repaints the video in the style of a painting, one of a
//! multi-style model's styles or a blend of several.

use std::collections::BTreeMap;

use ooblex_infer::{Layout, Manifest, Task, TensorView};
use ooblex_runtime::{
    Frame, InputPortSpec, Node, NodeContext, NodeError, NodeKind, OutputPortSpec, ParamIssue, PixelFormat, Transform,
    VIDEO_OUT, transform_node,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::infer::params::InferenceParams;
use crate::infer::picture::Fit;
use crate::infer::runner::{ModelRunner, manifest_for};
use crate::media::fit::Fitter;
use crate::media::raw::{PACKED_RGB, PACKED_RGB_IN, RawView, new_picture};

/// Default style transfer model.
pub const DEFAULT_STYLE_MODEL: &str = "multistyle26";
/// Default long side of the picture the model restyles.
pub const DEFAULT_STYLE_SIZE: u32 = 320;

/// One style, by index or by the name the model's manifest gives it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum StyleRef {
    /// The style's index, from 0.
    Index(u32),
    /// The style's name, for models whose manifest names its styles.
    Name(String),
}

/// Params of `style_transfer`. Changing them restarts the node.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct StyleTransferParams {
    /// A style transfer model (`ooblex models list`) or a manifest path.
    pub model: String,
    /// One style: its index (0 to 25 for `multistyle26`) or name. Ignored when `styles` is given.
    pub style: StyleRef,
    /// Several styles blended: style index (or name) to weight, e.g. `{3: 0.5, 12: 0.5}`.
    pub styles: BTreeMap<String, f32>,
    /// Longest side of the picture the model restyles, in pixels (frames are only scaled down); the result is scaled back to the frame. Smaller is faster.
    #[schemars(range(min = 64, max = 4096))]
    pub size: u32,
    /// How much of the restyled picture to show over the original, 0 to 1.
    #[schemars(range(min = 0.0, max = 1.0))]
    pub strength: f32,
    /// Where and how the model runs: `backend`, `device` and `threads`.
    #[serde(flatten)]
    pub inference: InferenceParams,
}

impl Default for StyleTransferParams {
    fn default() -> Self {
        StyleTransferParams {
            model: DEFAULT_STYLE_MODEL.to_string(),
            style: StyleRef::Index(0),
            styles: BTreeMap::new(),
            size: DEFAULT_STYLE_SIZE,
            strength: 1.0,
            inference: InferenceParams::default(),
        }
    }
}

/// The style weights `params` ask for, normalised to sum 1, or what is wrong with them.
fn style_weights(params: &StyleTransferParams, manifest: &Manifest) -> Result<Vec<f32>, ParamIssue> {
    let Some(style_input) = &manifest.style_input else {
        return Err(ParamIssue::new(
            "model",
            format!("`{}` has no `style_input` in its manifest", manifest.name),
        ));
    };
    let count = style_input.count;
    let index_of = |field: &str, style: &StyleRef| -> Result<usize, ParamIssue> {
        let found = match style {
            StyleRef::Index(i) => Some(*i as usize).filter(|&i| i < count),
            StyleRef::Name(name) => match name.parse::<usize>() {
                Ok(i) => Some(i).filter(|&i| i < count),
                Err(_) => style_input.names.iter().position(|n| n == name),
            },
        };
        found.ok_or_else(|| {
            let names = if style_input.names.is_empty() {
                "its styles have no names".to_string()
            } else {
                format!("or a name: {}", style_input.names.join(", "))
            };
            ParamIssue::new(field, format!("`{}` has no style {style:?}", manifest.name))
                .with_hint(format!("give an index from 0 to {} ({names})", count - 1))
        })
    };
    let mut weights = vec![0.0f32; count];
    if params.styles.is_empty() {
        weights[index_of("style", &params.style)?] = 1.0;
    } else {
        for (key, &weight) in &params.styles {
            if !(weight >= 0.0 && weight.is_finite()) {
                return Err(
                    ParamIssue::new("styles", format!("the weight of style `{key}` is {weight}"))
                        .with_hint("weights are zero or more"),
                );
            }
            weights[index_of("styles", &StyleRef::Name(key.clone()))?] += weight;
        }
    }
    let total: f32 = weights.iter().sum();
    if total <= 0.0 {
        return Err(
            ParamIssue::new("styles", "every weight is zero").with_hint("give at least one style a weight above 0")
        );
    }
    Ok(weights.into_iter().map(|w| w / total).collect())
}

/// The `style_transfer` node kind.
pub struct StyleTransfer;

impl NodeKind for StyleTransfer {
    type Params = StyleTransferParams;
    const NAME: &'static str = "style_transfer";
    const DESCRIPTION: &'static str =
        "repaints the video in a painting's style (one style or a blend), at the input's size";
    const INPUTS: &'static [InputPortSpec] = &[PACKED_RGB_IN];
    const OUTPUTS: &'static [OutputPortSpec] = &[VIDEO_OUT];

    fn check(params: &StyleTransferParams) -> Vec<ParamIssue> {
        manifest_for(&params.model, Task::StyleTransfer)
            .and_then(|manifest| style_weights(params, &manifest))
            .err()
            .into_iter()
            .collect()
    }

    fn build(params: &StyleTransferParams) -> Result<Box<dyn Node>, NodeError> {
        let run_on = params.inference.run_on();
        let runner = ModelRunner::open(Self::NAME, &params.model, Task::StyleTransfer, run_on)?;
        let weights = style_weights(params, runner.manifest())
            .map_err(|issue| NodeError::startup(format!("`{}`: {}", Self::NAME, issue.message)))?;
        let style_input = runner
            .manifest()
            .style_input
            .as_ref()
            .expect("style_weights checked that the model has a style input")
            .name
            .clone();
        Ok(transform_node(StyleTransferNode {
            runner,
            style_input,
            weights,
            size: params.size as usize,
            strength: (params.strength * 256.0).round() as u32,
            styled: Vec::new(),
            fitter: Fitter::default(),
        }))
    }
}

struct StyleTransferNode {
    runner: ModelRunner,
    /// The model's style-weights input.
    style_input: String,
    weights: Vec<f32>,
    size: usize,
    /// `strength` in 256ths.
    strength: u32,
    /// The model's picture as tight rgb24 at the model's size.
    styled: Vec<u8>,
    fitter: Fitter,
}

impl Transform for StyleTransferNode {
    fn process(&mut self, frame: Frame, ctx: &NodeContext) -> Result<Option<Frame>, NodeError> {
        let view = RawView::of(&frame, StyleTransfer::NAME, PACKED_RGB)?;
        let size = self.runner.input_size((view.width, view.height), Some(self.size));
        let weights_shape = [self.weights.len()];
        let extra = [(
            self.style_input.as_str(),
            TensorView {
                shape: &weights_shape,
                data: &self.weights,
            },
        )];
        let (outputs, _) = self.runner.run(&view, size, Fit::Stretch, &extra)?;
        let (w, h) = size;
        let picture = &outputs[0];
        let nchw = self.runner.manifest().input.layout == Layout::Nchw;
        if picture.len() != w * h * 3 {
            return Err(NodeError::failed(format!(
                "`style_transfer`: the model gave a picture of shape {:?} for a {w}x{h} input",
                picture.shape
            )));
        }
        self.styled.resize(w * h * 3, 0);
        for (i, out) in self.styled.chunks_exact_mut(3).enumerate() {
            for (c, value) in out.iter_mut().enumerate() {
                let v = if nchw {
                    picture.data[c * w * h + i]
                } else {
                    picture.data[i * 3 + c]
                };
                *value = (v.clamp(0.0, 1.0) * 255.0 + 0.5) as u8;
            }
        }
        let styled = RawView::tight(&self.styled, PixelFormat::Rgb24, w, h);
        let fitted = self.fitter.fit(&styled, view.format, view.width, view.height)?;
        let strength = self.strength;
        let out = new_picture(ctx, &frame, view.format, frame.width, frame.height, |out| {
            let dst = &mut out.planes_mut()[0];
            let (src, new) = (view.plane(0), fitted.plane(0));
            let bpp = src.bpp();
            for y in 0..view.height {
                let (orig, styled, row) = (src.row(y), new.row(y), dst.row_mut(y));
                for (i, o) in row.iter_mut().enumerate() {
                    *o = if bpp == 4 && i % 4 == 3 {
                        orig[i]
                    } else {
                        ((u32::from(styled[i]) * strength + u32::from(orig[i]) * (256 - strength) + 128) >> 8) as u8
                    };
                }
            }
            Ok(())
        })?;
        Ok(Some(out))
    }
}
