//! `face_swap`: puts a reference face on every face in the picture, or swaps the faces
//! of the people in it. Faces are aligned on their key points (eyes, nose, mouth) with a
//! similarity transform, warped, colour-matched and blended through a soft oval, so no
//! hard edge shows.

use ooblex_infer::Task;
use ooblex_runtime::{
    Detection, Frame, InputPortSpec, Node, NodeContext, NodeError, NodeKind, OutputPortSpec, ParamIssue, PixelFormat,
    Transform, VIDEO_OUT, transform_node,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::infer::detector::Detector;
use crate::infer::face_detect::{DEFAULT_FACE_SIZE, FaceDetectParams};
use crate::infer::params::InferenceParams;
use crate::infer::runner::check_model;
use crate::media::pixels::convert;
use crate::media::raw::{PACKED_RGB, PACKED_RGB_IN, RawMut, RawView, new_picture};
use crate::params::check_file_param;

/// Default face model: `centerface` gives the five points alignment needs at any size.
pub const DEFAULT_SWAP_MODEL: &str = "centerface";
/// Default score a face needs to be swapped.
pub const DEFAULT_SWAP_THRESHOLD: f32 = 0.5;

/// Params of `face_swap`. Changing them restarts the node.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct FaceSwapParams {
    /// A picture (PNG or JPEG) with one face to put on every face; absent, the faces in the picture swap places (with two or more people).
    pub reference: Option<String>,
    /// A face detection model with key points (`centerface`, `blazeface`) or a manifest path.
    pub model: String,
    /// Lowest score a face needs, 0 to 1.
    #[schemars(range(min = 0.0, max = 1.0))]
    pub threshold: f32,
    /// For models that take any size: longest side of the picture the model sees, in pixels (frames are only scaled down).
    #[schemars(range(min = 32, max = 4096))]
    pub size: u32,
    /// Where and how the model runs: `backend`, `device` and `threads`.
    #[serde(flatten)]
    pub inference: InferenceParams,
}

impl Default for FaceSwapParams {
    fn default() -> Self {
        FaceSwapParams {
            reference: None,
            model: DEFAULT_SWAP_MODEL.to_string(),
            threshold: DEFAULT_SWAP_THRESHOLD,
            size: DEFAULT_FACE_SIZE,
            inference: InferenceParams::default(),
        }
    }
}

/// The `face_swap` node kind.
pub struct FaceSwap;

impl NodeKind for FaceSwap {
    type Params = FaceSwapParams;
    const NAME: &'static str = "face_swap";
    const DESCRIPTION: &'static str =
        "puts a reference face on every face, or swaps the faces of the people in the picture";
    const INPUTS: &'static [InputPortSpec] = &[PACKED_RGB_IN];
    const OUTPUTS: &'static [OutputPortSpec] = &[VIDEO_OUT];

    fn check(params: &FaceSwapParams) -> Vec<ParamIssue> {
        let mut issues = check_model(&params.model, Task::FaceDetection);
        if let Some(reference) = &params.reference {
            issues.extend(check_file_param(
                "reference",
                reference,
                "a PNG or JPEG picture with one face",
            ));
        }
        issues
    }

    fn build(params: &FaceSwapParams) -> Result<Box<dyn Node>, NodeError> {
        let mut detector = FaceDetectParams {
            model: params.model.clone(),
            threshold: params.threshold,
            size: params.size,
            inference: params.inference,
        }
        .open(Self::NAME)?;
        let reference = match &params.reference {
            Some(path) => Some(Reference::load(path, &mut detector)?),
            None => None,
        };
        Ok(transform_node(FaceSwapNode { detector, reference }))
    }
}

/// The reference face: its picture (tight rgb24) and key points.
struct Reference {
    rgb: Vec<u8>,
    width: usize,
    height: usize,
    points: [[f32; 2]; 4],
}

impl Reference {
    fn load(path: &str, detector: &mut Detector) -> Result<Reference, NodeError> {
        let image = image::open(path)
            .map_err(|e| NodeError::startup(format!("`face_swap`: cannot read the reference `{path}`: {e}")))?
            .to_rgb8();
        let (width, height) = (image.width() as usize, image.height() as usize);
        let rgb = image.into_raw();
        let faces = detector.detect_view(&RawView::tight(&rgb, PixelFormat::Rgb24, width, height))?;
        let points = faces.iter().find_map(key_points).ok_or_else(|| {
            NodeError::startup(format!(
                "`face_swap`: no face with eyes, nose and mouth found in the reference `{path}`\n\
                 hint: use a photo of one face looking at the camera, or lower `threshold`"
            ))
        })?;
        Ok(Reference {
            rgb,
            width,
            height,
            points,
        })
    }
}

/// Right eye, left eye, nose tip and mouth centre, from a detector's landmarks:
/// CenterFace gives both mouth corners, BlazeFace the mouth centre.
fn key_points(face: &Detection) -> Option<[[f32; 2]; 4]> {
    let l = &face.landmarks;
    match l.len() {
        5 => Some([l[0], l[1], l[2], [(l[3][0] + l[4][0]) / 2.0, (l[3][1] + l[4][1]) / 2.0]]),
        n if n >= 4 => Some([l[0], l[1], l[2], l[3]]),
        _ => None,
    }
}

/// A similarity transform `p -> [a -b; b a] p + t`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Similarity {
    a: f32,
    b: f32,
    tx: f32,
    ty: f32,
}

impl Similarity {
    /// The least-squares similarity taking each `from` point to its `to` point.
    fn fit(from: &[[f32; 2]], to: &[[f32; 2]]) -> Similarity {
        let n = from.len() as f32;
        let mean = |ps: &[[f32; 2]]| {
            let s = ps.iter().fold([0.0, 0.0], |acc, p| [acc[0] + p[0], acc[1] + p[1]]);
            [s[0] / n, s[1] / n]
        };
        let (mf, mt) = (mean(from), mean(to));
        let (mut dot, mut cross, mut norm) = (0.0, 0.0, 0.0);
        for (f, t) in from.iter().zip(to) {
            let (fx, fy, tx, ty) = (f[0] - mf[0], f[1] - mf[1], t[0] - mt[0], t[1] - mt[1]);
            dot += fx * tx + fy * ty;
            cross += fx * ty - fy * tx;
            norm += fx * fx + fy * fy;
        }
        let (a, b) = if norm > 0.0 {
            (dot / norm, cross / norm)
        } else {
            (1.0, 0.0)
        };
        Similarity {
            a,
            b,
            tx: mt[0] - (a * mf[0] - b * mf[1]),
            ty: mt[1] - (b * mf[0] + a * mf[1]),
        }
    }

    fn apply(&self, [x, y]: [f32; 2]) -> [f32; 2] {
        [self.a * x - self.b * y + self.tx, self.b * x + self.a * y + self.ty]
    }
}

/// A picture to take a face from: tight packed pixels.
#[derive(Clone, Copy)]
struct Source<'a> {
    bytes: &'a [u8],
    width: usize,
    height: usize,
    bpp: usize,
}

impl Source<'_> {
    /// Bilinear sample of channel `c` at `(x, y)`, or `None` outside.
    fn sample(&self, x: f32, y: f32, c: usize) -> Option<f32> {
        if x < 0.0 || y < 0.0 || x > (self.width - 1) as f32 || y > (self.height - 1) as f32 {
            return None;
        }
        let (x0, y0) = (x as usize, y as usize);
        let (x1, y1) = ((x0 + 1).min(self.width - 1), (y0 + 1).min(self.height - 1));
        let (wx, wy) = (x - x0 as f32, y - y0 as f32);
        let at = |x: usize, y: usize| f32::from(self.bytes[(y * self.width + x) * self.bpp + c]);
        let top = at(x0, y0) + (at(x1, y0) - at(x0, y0)) * wx;
        let bottom = at(x0, y1) + (at(x1, y1) - at(x0, y1)) * wx;
        Some(top + (bottom - top) * wy)
    }
}

struct FaceSwapNode {
    detector: Detector,
    reference: Option<Reference>,
}

impl Transform for FaceSwapNode {
    fn process(&mut self, frame: Frame, ctx: &NodeContext) -> Result<Option<Frame>, NodeError> {
        let view = RawView::of(&frame, FaceSwap::NAME, PACKED_RGB)?;
        let faces: Vec<(Detection, [[f32; 2]; 4])> = self
            .detector
            .detect_view(&view)?
            .into_iter()
            .filter_map(|face| key_points(&face).map(|points| (face, points)))
            .collect();
        let pairs: Vec<(usize, Option<usize>)> = match &self.reference {
            Some(_) => (0..faces.len()).map(|i| (i, None)).collect(),
            None if faces.len() >= 2 => (0..faces.len()).map(|i| (i, Some((i + 1) % faces.len()))).collect(),
            None => Vec::new(),
        };
        if pairs.is_empty() {
            return Ok(Some(frame));
        }
        let bpp = view.plane(0).bpp();
        // Every face is taken from the unchanged input, so swaps do not feed each other.
        let packed: Vec<u8>;
        let original = match view.plane(0).tight_bytes() {
            Some(bytes) => bytes,
            None => {
                packed = view.plane(0).rows().flatten().copied().collect();
                &packed
            }
        };
        let frame_source = Source {
            bytes: original,
            width: view.width,
            height: view.height,
            bpp,
        };
        let reference = self.reference.as_ref();
        let mut swapped = new_picture(ctx, &frame, view.format, frame.width, frame.height, |out| {
            convert(&view, out);
            for &(target, from) in &pairs {
                let (source, source_points) = match (from, reference) {
                    (Some(i), _) => (frame_source, faces[i].1),
                    (None, Some(r)) => (
                        Source {
                            bytes: &r.rgb,
                            width: r.width,
                            height: r.height,
                            bpp: 3,
                        },
                        r.points,
                    ),
                    (None, None) => unreachable!("pairs without a source face exist only with a reference"),
                };
                let (face, target_points) = &faces[target];
                // Maps target pixels to source pixels, for sampling.
                let back = Similarity::fit(target_points, &source_points);
                paste_face(&frame_source, &source, out, face.bbox, back);
            }
            Ok(())
        })?;
        let mut meta = (*frame.meta).clone();
        meta.detections = Some(faces.into_iter().map(|(face, _)| face).collect());
        swapped = swapped.with_meta(meta);
        Ok(Some(swapped))
    }
}

/// Warps the source face into `bbox` of `out` through `back` (target to source), matches
/// its colours to the target face, and blends it through an oval with a wide soft edge.
fn paste_face(target: &Source<'_>, source: &Source<'_>, out: &mut RawMut<'_>, bbox: [f32; 4], back: Similarity) {
    let (w, h) = (target.width, target.height);
    let [bx0, by0, bx1, by1] = bbox;
    let (cx, cy) = ((bx0 + bx1) / 2.0, (by0 + by1) / 2.0);
    // The oval covers the face from brow to chin, cheek to cheek.
    let (rx, ry) = ((bx1 - bx0) * 0.5, (by1 - by0) * 0.55);
    let x0 = ((cx - rx).floor().max(0.0) as usize).min(w);
    let x1 = ((cx + rx).ceil().max(0.0) as usize).min(w);
    let y0 = ((cy - ry).floor().max(0.0) as usize).min(h);
    let y1 = ((cy + ry).ceil().max(0.0) as usize).min(h);
    if x1 <= x0 + 1 || y1 <= y0 + 1 {
        return;
    }
    // Warped source and blend weight per pixel of the box, then colour statistics over the oval.
    let (bw, bh) = (x1 - x0, y1 - y0);
    let mut warped = vec![0.0f32; bw * bh * 3];
    let mut weight = vec![0.0f32; bw * bh];
    let mut stats = [[0.0f64; 4]; 3]; // per channel: sum source, sum² source, sum target, sum² target
    let mut count = 0.0f64;
    for y in y0..y1 {
        for x in x0..x1 {
            let (dx, dy) = ((x as f32 + 0.5 - cx) / rx, (y as f32 + 0.5 - cy) / ry);
            let r = (dx * dx + dy * dy).sqrt();
            // Full inside 70% of the oval, fading to nothing at its edge.
            let alpha = ((1.0 - r) / 0.3).clamp(0.0, 1.0);
            if alpha <= 0.0 {
                continue;
            }
            let [sx, sy] = back.apply([x as f32 + 0.5, y as f32 + 0.5]);
            let i = (y - y0) * bw + (x - x0);
            let mut inside = true;
            for c in 0..3 {
                match source.sample(sx - 0.5, sy - 0.5, c) {
                    Some(v) => warped[i * 3 + c] = v,
                    None => inside = false,
                }
            }
            if !inside {
                continue;
            }
            weight[i] = alpha;
            count += 1.0;
            for c in 0..3 {
                let (s, t) = (
                    f64::from(warped[i * 3 + c]),
                    f64::from(target.bytes[(y * w + x) * target.bpp + c]),
                );
                stats[c][0] += s;
                stats[c][1] += s * s;
                stats[c][2] += t;
                stats[c][3] += t * t;
            }
        }
    }
    if count < 16.0 {
        return;
    }
    // Match the source face's mean and spread to the target's, per channel.
    let gain_offset = stats.map(|[s, s2, t, t2]| {
        let (ms, mt) = (s / count, t / count);
        let (vs, vt) = ((s2 / count - ms * ms).max(1.0), (t2 / count - mt * mt).max(1.0));
        let gain = (vt / vs).sqrt().clamp(0.5, 2.0);
        (gain as f32, (mt - gain * ms) as f32)
    });
    let plane = &mut out.planes_mut()[0];
    let bpp = plane.bpp();
    for y in y0..y1 {
        let row = plane.row_mut(y);
        for x in x0..x1 {
            let i = (y - y0) * bw + (x - x0);
            let alpha = weight[i];
            if alpha <= 0.0 {
                continue;
            }
            for (c, (gain, offset)) in gain_offset.iter().enumerate() {
                let face = (warped[i * 3 + c] * gain + offset).clamp(0.0, 255.0);
                let at = x * bpp + c;
                row[at] = (face * alpha + f32::from(row[at]) * (1.0 - alpha) + 0.5) as u8;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_similarity_is_recovered_from_its_points() {
        let truth = Similarity {
            a: 0.8,
            b: 0.3,
            tx: 5.0,
            ty: -2.0,
        };
        let from = [[10.0, 10.0], [30.0, 12.0], [20.0, 25.0], [21.0, 35.0]];
        let to = from.map(|p| truth.apply(p));
        let fitted = Similarity::fit(&from, &to);
        for (got, want) in [fitted.a, fitted.b, fitted.tx, fitted.ty]
            .iter()
            .zip([0.8, 0.3, 5.0, -2.0])
        {
            assert!((got - want).abs() < 1e-3, "{fitted:?}");
        }
    }
}
