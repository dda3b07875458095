//! `blur`: a box blur, horizontal then vertical, with running sums so the cost
//! per pixel does not grow with the radius.

use ooblex_runtime::{
    Frame, InputPortSpec, Node, NodeContext, NodeError, NodeKind, OutputPortSpec, Transform, VIDEO_IN, VIDEO_OUT,
    transform_node,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::effect::is_subsampled;
use crate::media::raw::{ALL_RAW, Plane, PlaneMut, RawView, new_picture};

/// Default radius in pixels.
pub const DEFAULT_RADIUS: u32 = 8;

/// Params of `blur`. Changing them restarts the node.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct BlurParams {
    /// Pixels on each side of a pixel that are averaged into it.
    #[schemars(range(min = 1, max = 64))]
    pub radius: u32,
}

impl Default for BlurParams {
    fn default() -> Self {
        BlurParams { radius: DEFAULT_RADIUS }
    }
}

/// The `blur` node kind.
pub struct Blur;

impl NodeKind for Blur {
    type Params = BlurParams;
    const NAME: &'static str = "blur";
    const DESCRIPTION: &'static str = "box blur of the whole picture, any radius at the same cost";
    const INPUTS: &'static [InputPortSpec] = &[VIDEO_IN];
    const OUTPUTS: &'static [OutputPortSpec] = &[VIDEO_OUT];

    fn build(params: &BlurParams) -> Result<Box<dyn Node>, NodeError> {
        Ok(transform_node(BlurNode {
            radius: params.radius as usize,
            scratch: Vec::new(),
            sums: Vec::new(),
        }))
    }
}

struct BlurNode {
    radius: usize,
    /// The horizontally blurred plane, reused.
    scratch: Vec<u8>,
    /// Column sums of the vertical pass, reused.
    sums: Vec<u32>,
}

impl Transform for BlurNode {
    fn process(&mut self, frame: Frame, ctx: &NodeContext) -> Result<Option<Frame>, NodeError> {
        let view = RawView::of(&frame, Blur::NAME, ALL_RAW)?;
        let out = new_picture(ctx, &frame, frame.format, frame.width, frame.height, |out| {
            for (index, (src, dst)) in view.planes().iter().zip(out.planes_mut()).enumerate() {
                let radius = if is_subsampled(view.format, index) {
                    self.radius.div_ceil(2)
                } else {
                    self.radius
                };
                blur_plane(*src, dst, radius, &mut self.scratch, &mut self.sums);
            }
            Ok(())
        })?;
        Ok(Some(out))
    }
}

/// `1 / (2 * radius + 1)` in 16.16 fixed point.
fn reciprocal(radius: usize) -> u32 {
    let taps = 2 * radius as u32 + 1;
    ((1 << 16) + taps / 2) / taps
}

#[inline(always)]
fn average(sum: u32, reciprocal: u32) -> u8 {
    ((sum * reciprocal + (1 << 15)) >> 16) as u8
}

/// Box-blurs `src` into `dst`; samples beyond the edges repeat the edge.
pub(crate) fn blur_plane(
    src: Plane<'_>,
    dst: &mut PlaneMut<'_>,
    radius: usize,
    scratch: &mut Vec<u8>,
    sums: &mut Vec<u32>,
) {
    let row_bytes = src.width() * src.bpp();
    scratch.resize(row_bytes * src.height(), 0);
    let inv = reciprocal(radius);
    for (row, out) in src.rows().zip(scratch.chunks_exact_mut(row_bytes)) {
        match src.bpp() {
            1 => blur_row::<1>(row, out, radius, inv),
            2 => blur_row::<2>(row, out, radius, inv),
            3 => blur_row::<3>(row, out, radius, inv),
            _ => blur_row::<4>(row, out, radius, inv),
        }
    }
    blur_columns(scratch, row_bytes, dst, radius, inv, sums);
}

/// Horizontal pass over one row of `BPP`-byte pixels.
fn blur_row<const BPP: usize>(row: &[u8], out: &mut [u8], radius: usize, inv: u32) {
    let width = row.len() / BPP;
    let last = width - 1;
    let px = |x: usize| -> &[u8] { &row[x.min(last) * BPP..][..BPP] };
    let mut sum = [0u32; BPP];
    for (c, s) in sum.iter_mut().enumerate() {
        *s = (radius as u32 + 1) * u32::from(row[c]);
        for x in 1..=radius {
            *s += u32::from(px(x)[c]);
        }
    }
    let mut step = |o: &mut [u8], enter: &[u8], leave: &[u8]| {
        for c in 0..BPP {
            o[c] = average(sum[c], inv);
            sum[c] = sum[c] + u32::from(enter[c]) - u32::from(leave[c]);
        }
    };
    // In the interior neither end of the window needs clamping.
    let interior = radius..width.saturating_sub(radius + 1).max(radius);
    for x in 0..interior.start.min(width) {
        step(
            &mut out[x * BPP..][..BPP],
            px(x + radius + 1),
            px(x.saturating_sub(radius)),
        );
    }
    if !interior.is_empty() {
        let bytes = interior.start * BPP..interior.end * BPP;
        let entering = &row[bytes.start + (radius + 1) * BPP..bytes.end + (radius + 1) * BPP];
        let leaving = &row[bytes.start - radius * BPP..bytes.end - radius * BPP];
        let window = entering.chunks_exact(BPP).zip(leaving.chunks_exact(BPP));
        for (o, (enter, leave)) in out[bytes].chunks_exact_mut(BPP).zip(window) {
            step(o, enter, leave);
        }
    }
    for x in interior.end.max(interior.start.min(width))..width {
        step(
            &mut out[x * BPP..][..BPP],
            px(x + radius + 1),
            px(x.saturating_sub(radius)),
        );
    }
}

/// Vertical pass: running sums per column, one whole row at a time.
fn blur_columns(src: &[u8], row_bytes: usize, dst: &mut PlaneMut<'_>, radius: usize, inv: u32, sums: &mut Vec<u32>) {
    let height = src.len() / row_bytes;
    let row = |y: usize| &src[y.min(height - 1) * row_bytes..][..row_bytes];
    sums.clear();
    sums.extend(row(0).iter().map(|&v| (radius as u32 + 1) * u32::from(v)));
    for y in 1..=radius {
        for (s, &v) in sums.iter_mut().zip(row(y)) {
            *s += u32::from(v);
        }
    }
    for (y, out) in dst.rows_mut().enumerate() {
        let (enter, leave) = (row(y + radius + 1), row(y.saturating_sub(radius)));
        for (((o, s), &e), &l) in out.iter_mut().zip(sums.iter_mut()).zip(enter).zip(leave) {
            *o = average(*s, inv);
            *s = *s + u32::from(e) - u32::from(l);
        }
    }
}

#[cfg(test)]
mod tests {
    use ooblex_runtime::PixelFormat;
    use ooblex_runtime::testing::frame_from_fn;
    use serde_json::json;

    use super::{average, blur_row, reciprocal};
    use crate::test_util::{kind, run_transform};

    fn variance(bytes: &[u8]) -> f64 {
        let mean = bytes.iter().map(|&v| f64::from(v)).sum::<f64>() / bytes.len() as f64;
        bytes.iter().map(|&v| (f64::from(v) - mean).powi(2)).sum::<f64>() / bytes.len() as f64
    }

    /// Deterministic noise (an LCG), the same on every run.
    fn noise(x: usize, y: usize, c: usize) -> u8 {
        let n = (x * 7919 + y * 104_729 + c * 31) as u64;
        (n.wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407)
            >> 56) as u8
    }

    #[test]
    fn reduces_the_variance_of_noise() {
        for format in PixelFormat::RAW {
            let input = frame_from_fn(format, 64, 48, 0, noise);
            let out = run_transform("blur", json!({ "radius": 3 }), vec![input.clone()]);
            let (before, after) = (variance(input.plane(0)), variance(out[0].plane(0)));
            assert!(after < before / 5.0, "{format}: variance {before} -> {after}");
        }
    }

    #[test]
    fn keeps_a_flat_picture_flat() {
        for radius in [1, 8, 64] {
            let input = frame_from_fn(PixelFormat::Rgba, 40, 30, 0, |_, _, c| [17, 200, 255, 90][c]);
            let out = run_transform("blur", json!({ "radius": radius }), vec![input.clone()]);
            assert_eq!(out[0].buffer.as_slice(), input.buffer.as_slice(), "radius {radius}");
        }
    }

    #[test]
    fn matches_a_direct_box_average() {
        let input = frame_from_fn(PixelFormat::Gray8, 9, 1, 0, |x, _, _| if x == 4 { 90 } else { 0 });
        let out = run_transform("blur", json!({ "radius": 1 }), vec![input]);
        assert_eq!(out[0].buffer.as_slice(), &[0, 0, 0, 30, 30, 30, 0, 0, 0]);
    }

    #[test]
    fn rows_match_a_naive_blur_at_every_width() {
        for width in 1..40 {
            for radius in [1, 2, 5, 19, 64] {
                let row: Vec<u8> = (0..width * 3).map(|i| noise(i, width, radius)).collect();
                let mut fast = vec![0; row.len()];
                blur_row::<3>(&row, &mut fast, radius, reciprocal(radius));
                for x in 0..width {
                    for c in 0..3 {
                        let taps = (x as isize - radius as isize..=(x + radius) as isize)
                            .map(|i| u32::from(row[i.clamp(0, width as isize - 1) as usize * 3 + c]));
                        let expected = average(taps.sum(), reciprocal(radius));
                        assert_eq!(fast[x * 3 + c], expected, "width {width} radius {radius} x {x}");
                    }
                }
            }
        }
    }

    #[test]
    fn radius_is_range_checked() {
        assert!(kind("blur").prepare(json!({ "radius": 1000 })).is_err());
        assert!(kind("blur").prepare(json!({ "radius": 0 })).is_err());
        assert!(kind("blur").prepare(json!({ "radious": 3 })).is_err());
    }
}
