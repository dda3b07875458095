//! `face_blur` and `face_pixelate`: privacy redaction of every face in the picture.

use ooblex_infer::Task;
use ooblex_runtime::{
    Detection, Frame, InputPortSpec, Node, NodeContext, NodeError, NodeKind, OutputPortSpec, ParamIssue, Transform,
    VIDEO_OUT, transform_node,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::effect::blur::blur_plane;
use crate::effect::pixelate::pixelate_plane;
use crate::infer::detector::Detector;
use crate::infer::face_detect::{DEFAULT_FACE_MODEL, DEFAULT_FACE_SIZE, DEFAULT_FACE_THRESHOLD, FaceDetectParams};
use crate::infer::params::InferenceParams;
use crate::infer::runner::check_model;
use crate::media::pixels::convert;
use crate::media::raw::{PACKED_RGB, PACKED_RGB_IN, RawMut, RawView, new_picture};

/// Default margin added around each face box, as a fraction of its size.
pub const DEFAULT_PADDING: f32 = 0.25;
/// Default number of blocks across a face for `face_pixelate`.
pub const DEFAULT_BLOCKS: u32 = 8;

/// Where the faces come from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FaceSource {
    /// Run the face model here.
    #[default]
    Detect,
    /// Use the `face` detections an upstream `face_detect` attached to the frame.
    Upstream,
}

/// Params of `face_blur` and `face_pixelate`. Changing them restarts the node.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct FaceRedactParams {
    /// `detect`: run the face model here; `upstream`: use the faces a `face_detect` before this node found.
    pub faces: FaceSource,
    /// A face detection model (`blazeface`, `centerface`) or a manifest path.
    pub model: String,
    /// Lowest score a face needs, 0 to 1; lower hides more doubtful faces.
    #[schemars(range(min = 0.0, max = 1.0))]
    pub threshold: f32,
    /// For models that take any size (`centerface`): longest side of the picture the model sees, in pixels (frames are only scaled down).
    #[schemars(range(min = 32, max = 4096))]
    pub size: u32,
    /// Margin added around each face box, as a fraction of its width and height.
    #[schemars(range(min = 0.0, max = 2.0))]
    pub padding: f32,
    /// `face_pixelate` only: blocks across each face; fewer is coarser.
    #[schemars(range(min = 2, max = 64))]
    pub blocks: u32,
    /// Where and how the model runs: `backend`, `device` and `threads`.
    #[serde(flatten)]
    pub inference: InferenceParams,
}

impl Default for FaceRedactParams {
    fn default() -> Self {
        FaceRedactParams {
            faces: FaceSource::Detect,
            model: DEFAULT_FACE_MODEL.to_string(),
            threshold: DEFAULT_FACE_THRESHOLD,
            size: DEFAULT_FACE_SIZE,
            padding: DEFAULT_PADDING,
            blocks: DEFAULT_BLOCKS,
            inference: InferenceParams::default(),
        }
    }
}

impl FaceRedactParams {
    fn check(&self) -> Vec<ParamIssue> {
        match self.faces {
            FaceSource::Detect => check_model(&self.model, Task::FaceDetection),
            FaceSource::Upstream => Vec::new(),
        }
    }

    fn build(&self, kind: &'static str, redaction: Redaction) -> Result<Box<dyn Node>, NodeError> {
        let detector = match self.faces {
            FaceSource::Detect => Some(
                FaceDetectParams {
                    model: self.model.clone(),
                    threshold: self.threshold,
                    size: self.size,
                    inference: self.inference,
                }
                .open(kind)?,
            ),
            FaceSource::Upstream => None,
        };
        Ok(transform_node(FaceRedactNode {
            kind,
            detector,
            redaction,
            padding: self.padding,
            blocks: self.blocks as usize,
            region: Vec::new(),
            blurred: Vec::new(),
            scratch: Vec::new(),
            sums: Vec::new(),
        }))
    }
}

/// The `face_blur` node kind.
pub struct FaceBlur;

impl NodeKind for FaceBlur {
    type Params = FaceRedactParams;
    const NAME: &'static str = "face_blur";
    const DESCRIPTION: &'static str = "blurs every face beyond recognition, with a soft oval edge";
    const INPUTS: &'static [InputPortSpec] = &[PACKED_RGB_IN];
    const OUTPUTS: &'static [OutputPortSpec] = &[VIDEO_OUT];

    fn check(params: &FaceRedactParams) -> Vec<ParamIssue> {
        params.check()
    }

    fn build(params: &FaceRedactParams) -> Result<Box<dyn Node>, NodeError> {
        params.build(Self::NAME, Redaction::Blur)
    }
}

/// The `face_pixelate` node kind.
pub struct FacePixelate;

impl NodeKind for FacePixelate {
    type Params = FaceRedactParams;
    const NAME: &'static str = "face_pixelate";
    const DESCRIPTION: &'static str = "pixelates every face into coarse blocks";
    const INPUTS: &'static [InputPortSpec] = &[PACKED_RGB_IN];
    const OUTPUTS: &'static [OutputPortSpec] = &[VIDEO_OUT];

    fn check(params: &FaceRedactParams) -> Vec<ParamIssue> {
        params.check()
    }

    fn build(params: &FaceRedactParams) -> Result<Box<dyn Node>, NodeError> {
        params.build(Self::NAME, Redaction::Pixelate)
    }
}

/// How faces are hidden.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Redaction {
    Blur,
    Pixelate,
}

struct FaceRedactNode {
    kind: &'static str,
    detector: Option<Detector>,
    redaction: Redaction,
    padding: f32,
    blocks: usize,
    /// The face region, tight, reused.
    region: Vec<u8>,
    blurred: Vec<u8>,
    scratch: Vec<u8>,
    sums: Vec<u32>,
}

/// A face area in whole pixels: `x0..x1`, `y0..y1`.
#[derive(Debug, Clone, Copy)]
struct Area {
    x0: usize,
    y0: usize,
    x1: usize,
    y1: usize,
}

impl Transform for FaceRedactNode {
    fn process(&mut self, frame: Frame, ctx: &NodeContext) -> Result<Option<Frame>, NodeError> {
        let view = RawView::of(&frame, self.kind, PACKED_RGB)?;
        let faces: Vec<Detection> = match &mut self.detector {
            Some(detector) => detector.detect_view(&view)?,
            None => frame
                .meta
                .detections
                .iter()
                .flatten()
                .filter(|d| d.label == "face")
                .cloned()
                .collect(),
        };
        if faces.is_empty() {
            return Ok(Some(frame));
        }
        let (width, height) = (view.width, view.height);
        let areas: Vec<Area> = faces.iter().map(|face| self.area(face, width, height)).collect();
        let mut redacted = new_picture(ctx, &frame, view.format, frame.width, frame.height, |out| {
            convert(&view, out);
            for &area in &areas {
                match self.redaction {
                    Redaction::Blur => self.blur(&view, out, area),
                    Redaction::Pixelate => self.pixelate(&view, out, area),
                }
            }
            Ok(())
        })?;
        if self.detector.is_some() {
            let mut meta = (*frame.meta).clone();
            meta.detections = Some(faces);
            redacted = redacted.with_meta(meta);
        }
        Ok(Some(redacted))
    }
}

impl FaceRedactNode {
    /// The face's box with padding, clipped to the frame.
    fn area(&self, face: &Detection, width: usize, height: usize) -> Area {
        let [x0, y0, x1, y1] = face.bbox;
        let (pad_x, pad_y) = ((x1 - x0) * self.padding / 2.0, (y1 - y0) * self.padding / 2.0);
        let clip = |v: f32, max: usize| (v.max(0.0) as usize).min(max);
        Area {
            x0: clip(x0 - pad_x, width),
            y0: clip(y0 - pad_y, height),
            x1: clip((x1 + pad_x).ceil(), width),
            y1: clip((y1 + pad_y).ceil(), height),
        }
    }

    /// Copies the area of `view` into `self.region`, tight.
    fn copy_region(&mut self, view: &RawView<'_>, area: Area) {
        let bpp = view.plane(0).bpp();
        self.region.clear();
        for y in area.y0..area.y1 {
            self.region
                .extend_from_slice(&view.plane(0).row(y)[area.x0 * bpp..area.x1 * bpp]);
        }
    }

    /// Replaces the area with `blocks` blocks across, each its average colour.
    fn pixelate(&mut self, view: &RawView<'_>, out: &mut RawMut<'_>, area: Area) {
        let (w, h) = (area.x1 - area.x0, area.y1 - area.y0);
        if w == 0 || h == 0 {
            return;
        }
        let bpp = view.plane(0).bpp();
        self.copy_region(view, area);
        self.blurred.resize(self.region.len(), 0);
        let source = RawView::tight(&self.region, view.format, w, h);
        let mut target = RawMut::new(&mut self.blurred, view.format, w, h);
        let block = w.div_ceil(self.blocks).max(2);
        pixelate_plane(
            source.plane(0),
            &mut target.planes_mut()[0],
            block,
            &mut self.sums,
            &mut self.scratch,
        );
        let plane = &mut out.planes_mut()[0];
        for (ry, pixelated) in self.blurred.chunks_exact(w * bpp).enumerate() {
            plane.row_mut(area.y0 + ry)[area.x0 * bpp..area.x1 * bpp].copy_from_slice(pixelated);
        }
    }

    /// Blurs the area heavily (three box passes of a fifth of its size) and blends it
    /// in through an oval with a soft edge.
    fn blur(&mut self, view: &RawView<'_>, out: &mut RawMut<'_>, area: Area) {
        let (w, h) = (area.x1 - area.x0, area.y1 - area.y0);
        if w < 2 || h < 2 {
            return;
        }
        let bpp = view.plane(0).bpp();
        self.copy_region(view, area);
        let radius = (w.max(h) / 5).max(1);
        self.blurred.resize(self.region.len(), 0);
        for _ in 0..3 {
            let source = RawView::tight(&self.region, view.format, w, h);
            let mut target = RawMut::new(&mut self.blurred, view.format, w, h);
            blur_plane(
                source.plane(0),
                &mut target.planes_mut()[0],
                radius,
                &mut self.scratch,
                &mut self.sums,
            );
            std::mem::swap(&mut self.region, &mut self.blurred);
        }
        let plane = &mut out.planes_mut()[0];
        let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
        for ry in 0..h {
            let row = plane.row_mut(area.y0 + ry);
            for rx in 0..w {
                // 0 at the centre, 1 on the oval touching the box's sides.
                let (dx, dy) = ((rx as f32 + 0.5 - cx) / cx, (ry as f32 + 0.5 - cy) / cy);
                let r = (dx * dx + dy * dy).sqrt();
                let weight = ((1.0 - r) / 0.15).clamp(0.0, 1.0);
                let a = (weight * 256.0) as u32;
                if a == 0 {
                    continue;
                }
                let at = (area.x0 + rx) * bpp;
                for c in 0..3 {
                    let (orig, soft) = (u32::from(row[at + c]), u32::from(self.region[(ry * w + rx) * bpp + c]));
                    row[at + c] = ((soft * a + orig * (256 - a) + 128) >> 8) as u8;
                }
            }
        }
    }
}
