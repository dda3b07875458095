//! `background_blur`, `background_replace` and `background_remove`: a person
//! segmentation model separates the person from what is behind, which is then
//! blurred, replaced by a colour or picture, or made transparent or green.

use std::path::Path;

use ooblex_infer::Task;
use ooblex_runtime::{
    FormatSet, Frame, Gives, InputPortSpec, Node, NodeContext, NodeError, NodeKind, OutputPortSpec, ParamIssue,
    PixelFormat, Transform, VIDEO_OUT, transform_node,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::effect::blur::blur_plane;
use crate::effect::colour::Colour;
use crate::infer::params::InferenceParams;
use crate::infer::runner::{RunOn, check_model};
use crate::infer::segmenter::{DEFAULT_SEGMENTATION_MODEL, Segmenter};
use crate::media::fit::Fitter;
use crate::media::raw::{PACKED_RGB, PACKED_RGB_IN, RawMut, RawView, new_picture};
use crate::params::check_file_param;

/// Default blur radius of `background_blur`, in pixels of a 640-pixel-wide frame.
pub const DEFAULT_BACKGROUND_RADIUS: u32 = 12;
/// The green of `background_remove`'s green screen (chroma-key green).
pub const SCREEN_GREEN: Colour = Colour([0, 177, 64]);

fn default_model() -> String {
    DEFAULT_SEGMENTATION_MODEL.to_string()
}

/// Params of `background_blur`. Changing them restarts the node.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BackgroundBlurParams {
    /// A person segmentation model (`ooblex models list`) or a manifest path.
    #[serde(default = "default_model")]
    pub model: String,
    /// Blur radius in pixels, for a 640-pixel-wide frame (scaled with the frame).
    #[serde(default = "default_radius")]
    #[schemars(range(min = 1, max = 100))]
    pub radius: u32,
    /// Where and how the model runs: `backend`, `device` and `threads`.
    #[serde(flatten)]
    pub inference: InferenceParams,
}

fn default_radius() -> u32 {
    DEFAULT_BACKGROUND_RADIUS
}

/// Params of `background_replace`. Changing them restarts the node.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BackgroundReplaceParams {
    /// A person segmentation model (`ooblex models list`) or a manifest path.
    #[serde(default = "default_model")]
    pub model: String,
    /// The new background colour, `"#rrggbb"` or a CSS name; used when `image` is not given.
    #[serde(default = "default_colour")]
    pub color: Colour,
    /// A picture (PNG or JPEG) for the new background, stretched to the frame.
    #[serde(default)]
    pub image: Option<String>,
    /// Where and how the model runs: `backend`, `device` and `threads`.
    #[serde(flatten)]
    pub inference: InferenceParams,
}

fn default_colour() -> Colour {
    Colour([40, 40, 48])
}

/// What `background_remove` puts where the background was.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RemoveOutput {
    /// rgba frames whose alpha is the person mask.
    #[default]
    Alpha,
    /// Chroma-key green, for keying downstream (OBS, a vision mixer).
    Green,
}

/// Params of `background_remove`. Changing them restarts the node.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BackgroundRemoveParams {
    /// A person segmentation model (`ooblex models list`) or a manifest path.
    #[serde(default = "default_model")]
    pub model: String,
    /// `alpha`: rgba frames with the mask as alpha; `green`: a green screen behind the person.
    #[serde(default)]
    pub output: RemoveOutput,
    /// Where and how the model runs: `backend`, `device` and `threads`.
    #[serde(flatten)]
    pub inference: InferenceParams,
}

/// The `background_blur` node kind.
pub struct BackgroundBlur;

impl NodeKind for BackgroundBlur {
    type Params = BackgroundBlurParams;
    const NAME: &'static str = "background_blur";
    const DESCRIPTION: &'static str = "blurs what is behind the people in the picture (person segmentation)";
    const INPUTS: &'static [InputPortSpec] = &[PACKED_RGB_IN];
    const OUTPUTS: &'static [OutputPortSpec] = &[VIDEO_OUT];

    fn check(params: &BackgroundBlurParams) -> Vec<ParamIssue> {
        check_model(&params.model, Task::Segmentation)
    }

    fn build(params: &BackgroundBlurParams) -> Result<Box<dyn Node>, NodeError> {
        let run_on = params.inference.run_on();
        background_node(Self::NAME, &params.model, run_on, Background::Blur(params.radius))
    }
}

/// The `background_replace` node kind.
pub struct BackgroundReplace;

impl NodeKind for BackgroundReplace {
    type Params = BackgroundReplaceParams;
    const NAME: &'static str = "background_replace";
    const DESCRIPTION: &'static str =
        "puts a colour or a picture behind the people in the picture (person segmentation)";
    const INPUTS: &'static [InputPortSpec] = &[PACKED_RGB_IN];
    const OUTPUTS: &'static [OutputPortSpec] = &[VIDEO_OUT];

    fn check(params: &BackgroundReplaceParams) -> Vec<ParamIssue> {
        let mut issues = check_model(&params.model, Task::Segmentation);
        if let Some(image) = &params.image {
            issues.extend(check_file_param("image", image, "a PNG or JPEG picture"));
        }
        issues
    }

    fn build(params: &BackgroundReplaceParams) -> Result<Box<dyn Node>, NodeError> {
        let run_on = params.inference.run_on();
        let background = match &params.image {
            Some(path) => Background::Picture(load_picture(path)?),
            None => Background::Colour(params.color),
        };
        background_node(Self::NAME, &params.model, run_on, background)
    }
}

/// The `background_remove` node kind.
pub struct BackgroundRemove;

impl NodeKind for BackgroundRemove {
    type Params = BackgroundRemoveParams;
    const NAME: &'static str = "background_remove";
    const DESCRIPTION: &'static str =
        "removes what is behind the people: rgba with the person as alpha, or a green screen";
    const INPUTS: &'static [InputPortSpec] = &[PACKED_RGB_IN];
    const OUTPUTS: &'static [OutputPortSpec] = &[OutputPortSpec::video(Gives::Only(FormatSet::PACKED_RGB))];

    fn check(params: &BackgroundRemoveParams) -> Vec<ParamIssue> {
        check_model(&params.model, Task::Segmentation)
    }

    fn output_formats(params: &BackgroundRemoveParams, _port: &OutputPortSpec, input: FormatSet) -> FormatSet {
        match params.output {
            RemoveOutput::Alpha => FormatSet::of(&[PixelFormat::Rgba]),
            RemoveOutput::Green => input,
        }
    }

    fn build(params: &BackgroundRemoveParams) -> Result<Box<dyn Node>, NodeError> {
        let run_on = params.inference.run_on();
        let background = match params.output {
            RemoveOutput::Alpha => Background::Transparent,
            RemoveOutput::Green => Background::Colour(SCREEN_GREEN),
        };
        background_node(Self::NAME, &params.model, run_on, background)
    }
}

/// A decoded picture: tight rgb24 bytes and size.
struct Picture {
    rgb: Vec<u8>,
    width: usize,
    height: usize,
}

fn load_picture(path: &str) -> Result<Picture, NodeError> {
    let image = image::open(Path::new(path))
        .map_err(|e| NodeError::startup(format!("cannot read the background picture `{path}`: {e}")))?
        .to_rgb8();
    let (width, height) = (image.width() as usize, image.height() as usize);
    Ok(Picture {
        rgb: image.into_raw(),
        width,
        height,
    })
}

/// What goes behind the person.
enum Background {
    /// The frame itself, blurred with this radius (at 640 pixels wide).
    Blur(u32),
    /// One colour.
    Colour(Colour),
    /// A picture, stretched to the frame.
    Picture(Picture),
    /// Nothing: the output is rgba with the mask as alpha.
    Transparent,
}

fn background_node(
    kind: &'static str,
    model: &str,
    run_on: RunOn,
    background: Background,
) -> Result<Box<dyn Node>, NodeError> {
    Ok(transform_node(BackgroundNode {
        kind,
        segmenter: Segmenter::open(kind, model, run_on)?,
        background,
        fitter: Fitter::default(),
        behind: Vec::new(),
        blurred_once: Vec::new(),
        scratch: Vec::new(),
        sums: Vec::new(),
    }))
}

struct BackgroundNode {
    kind: &'static str,
    segmenter: Segmenter,
    background: Background,
    fitter: Fitter,
    /// The background at frame size, tight, in the frame's format.
    behind: Vec<u8>,
    /// The first of the two blur passes.
    blurred_once: Vec<u8>,
    scratch: Vec<u8>,
    sums: Vec<u32>,
}

impl Transform for BackgroundNode {
    fn process(&mut self, frame: Frame, ctx: &NodeContext) -> Result<Option<Frame>, NodeError> {
        let view = RawView::of(&frame, self.kind, PACKED_RGB)?;
        let (width, height, format) = (view.width, view.height, view.format);
        let bpp = format.planes(1, 1)[0].bytes_per_pixel;
        self.segmenter.segment(&view)?;
        let out_format = match self.background {
            Background::Transparent => PixelFormat::Rgba,
            _ => format,
        };
        self.fill_behind(&view)?;
        let alpha = &self.segmenter.alpha;
        let behind = &self.behind;
        let out = new_picture(ctx, &frame, out_format, width as u32, height as u32, |out| {
            let out_bpp = out.planes_mut()[0].bpp();
            let plane = view.plane(0);
            let dst = &mut out.planes_mut()[0];
            for y in 0..height {
                let src = plane.row(y);
                let mask = &alpha[y * width..][..width];
                let back = (!behind.is_empty()).then(|| &behind[y * width * bpp..][..width * bpp]);
                let row = dst.row_mut(y);
                for x in 0..width {
                    let a = u32::from(mask[x]);
                    let (s, o) = (&src[x * bpp..][..3], &mut row[x * out_bpp..][..out_bpp]);
                    match back {
                        Some(back) => {
                            let b = &back[x * bpp..][..3];
                            for c in 0..3 {
                                o[c] = ((u32::from(s[c]) * a + u32::from(b[c]) * (255 - a) + 127) / 255) as u8;
                            }
                        }
                        None => o[..3].copy_from_slice(s),
                    }
                    if out_bpp == 4 {
                        o[3] = if matches!(self.background, Background::Transparent) {
                            mask[x]
                        } else {
                            src.get(x * bpp + 3).copied().unwrap_or(255)
                        };
                    }
                }
            }
            Ok(())
        })?;
        Ok(Some(out))
    }
}

impl BackgroundNode {
    /// Fills `self.behind` with the background for `view`, tight, in its format
    /// (left empty when the background is transparent).
    fn fill_behind(&mut self, view: &RawView<'_>) -> Result<(), NodeError> {
        let (width, height, format) = (view.width, view.height, view.format);
        let bytes = format.frame_size(width as u32, height as u32);
        match &mut self.background {
            Background::Transparent => self.behind.clear(),
            Background::Colour(colour) => {
                let bpp = bytes / (width * height);
                let mut pixel = [255u8; 4];
                pixel[..3].copy_from_slice(&colour.0);
                if self.behind.len() != bytes {
                    self.behind = pixel[..bpp].repeat(width * height);
                }
            }
            Background::Picture(picture) => {
                if self.behind.len() != bytes {
                    let source = RawView::tight(&picture.rgb, PixelFormat::Rgb24, picture.width, picture.height);
                    let fitted = self.fitter.fit(&source, format, width, height)?;
                    self.behind = fitted.plane(0).rows().flatten().copied().collect();
                }
            }
            Background::Blur(radius) => {
                let radius = ((*radius as usize * width) / 640).max(1);
                // Two box passes make a smooth, nearly Gaussian blur.
                self.blurred_once.resize(bytes, 0);
                self.behind.resize(bytes, 0);
                let mut once = RawMut::new(&mut self.blurred_once, format, width, height);
                blur_plane(
                    view.plane(0),
                    &mut once.planes_mut()[0],
                    radius,
                    &mut self.scratch,
                    &mut self.sums,
                );
                let once = RawView::tight(&self.blurred_once, format, width, height);
                let mut out = RawMut::new(&mut self.behind, format, width, height);
                blur_plane(
                    once.plane(0),
                    &mut out.planes_mut()[0],
                    radius,
                    &mut self.scratch,
                    &mut self.sums,
                );
            }
        }
        Ok(())
    }
}
