//! `cartoon`: flat colours and dark outlines, the classic way: an
//! edge-preserving smoothing, colour quantisation, and Sobel edges drawn black.
//!
//! The smoothing is a cheap stand-in for a bilateral filter: five taps across
//! then five taps down, each averaging only the neighbours whose brightness is
//! close to the centre pixel's, so flat areas flatten while edges stay sharp.

use ooblex_runtime::{
    Frame, InputPortSpec, Node, NodeContext, NodeError, NodeKind, OutputPortSpec, Transform, VIDEO_OUT, transform_node,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::effect::sobel::{SobelScratch, sobel};
use crate::media::pixels::{luma, packed_row_to_gray};
use crate::media::raw::{PACKED_RGB, PACKED_RGB_IN, PlaneMut, RawView, new_picture};

/// Default number of levels per colour channel.
pub const DEFAULT_LEVELS: u8 = 6;
/// Default edge strength (a brightness step) from which outlines are drawn.
pub const DEFAULT_EDGE_THRESHOLD: u8 = 40;

/// Neighbours on each side averaged by the smoothing, across and down.
const RADIUS: usize = 2;
/// Neighbours whose brightness differs from the centre's by more than this are
/// not averaged in.
const SIMILAR: u8 = 28;

/// Params of `cartoon`. Changing them restarts the node.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct CartoonParams {
    /// Levels per colour channel after quantisation: fewer gives flatter,
    /// more poster-like colours.
    #[schemars(range(min = 2, max = 32))]
    pub levels: u8,
    /// Edge strength (a brightness step, 1 to 255) from which a pixel is drawn
    /// as a black outline; lower draws more outlines.
    #[schemars(range(min = 1, max = 255))]
    pub edge_threshold: u8,
}

impl Default for CartoonParams {
    fn default() -> Self {
        CartoonParams {
            levels: DEFAULT_LEVELS,
            edge_threshold: DEFAULT_EDGE_THRESHOLD,
        }
    }
}

/// The `cartoon` node kind.
pub struct Cartoon;

impl NodeKind for Cartoon {
    type Params = CartoonParams;
    const NAME: &'static str = "cartoon";
    const DESCRIPTION: &'static str = "cartoon look: smoothed, quantised colours with black outlines (rgb24, rgba)";
    const INPUTS: &'static [InputPortSpec] = &[PACKED_RGB_IN];
    const OUTPUTS: &'static [OutputPortSpec] = &[VIDEO_OUT];

    fn build(params: &CartoonParams) -> Result<Box<dyn Node>, NodeError> {
        Ok(transform_node(CartoonNode {
            quantise: quantise_table(params.levels),
            edge_threshold: params.edge_threshold,
            scratch: Scratch::default(),
        }))
    }
}

/// Maps each byte to the nearest of `levels` evenly spaced levels from 0 to 255.
fn quantise_table(levels: u8) -> [u8; 256] {
    let steps = u32::from(levels.max(2) - 1);
    std::array::from_fn(|v| {
        let level = (v as u32 * steps + 127) / 255;
        ((level * 255 + steps / 2) / steps) as u8
    })
}

/// Buffers reused from frame to frame.
#[derive(Debug, Default)]
struct Scratch {
    /// Luma of the input, repeated for each byte of its pixel: the guide of the smoothing.
    guide: Vec<u8>,
    /// The picture smoothed across.
    across: Vec<u8>,
    /// The picture smoothed across and down.
    smooth: Vec<u8>,
    /// Per byte of one row: the sum of the neighbours averaged in, and their count.
    sums: Vec<u16>,
    counts: Vec<u16>,
    /// Luma of the smoothed picture.
    smooth_luma: Vec<u8>,
    /// Edge strength of the smoothed picture.
    edges: Vec<u8>,
    sobel: SobelScratch,
}

struct CartoonNode {
    quantise: [u8; 256],
    edge_threshold: u8,
    scratch: Scratch,
}

impl Transform for CartoonNode {
    fn process(&mut self, frame: Frame, ctx: &NodeContext) -> Result<Option<Frame>, NodeError> {
        let view = RawView::of(&frame, Cartoon::NAME, PACKED_RGB)?;
        let out = new_picture(ctx, &frame, frame.format, frame.width, frame.height, |out| {
            let plane = &mut out.planes_mut()[0];
            match view.plane(0).bpp() {
                3 => self.draw::<3>(&view, plane),
                _ => self.draw::<4>(&view, plane),
            }
            Ok(())
        })?;
        Ok(Some(out))
    }
}

impl CartoonNode {
    fn draw<const BPP: usize>(&mut self, view: &RawView<'_>, out: &mut PlaneMut<'_>) {
        let (width, height) = (view.width, view.height);
        let row_bytes = width * BPP;
        let Scratch {
            guide,
            across,
            smooth,
            sums,
            counts,
            smooth_luma,
            edges,
            sobel: sobel_scratch,
        } = &mut self.scratch;
        let src = view.plane(0);
        guide.resize(row_bytes * height, 0);
        for (row, guide_row) in src.rows().zip(guide.chunks_exact_mut(row_bytes)) {
            for (px, g) in row.chunks_exact(BPP).zip(guide_row.chunks_exact_mut(BPP)) {
                g.fill(luma(px[0], px[1], px[2]));
            }
        }
        sums.resize(row_bytes, 0);
        counts.resize(row_bytes, 0);

        // Across: each byte with the same byte of the `RADIUS` pixels on each side.
        across.resize(row_bytes * height, 0);
        let rows = src.rows().zip(guide.chunks_exact(row_bytes));
        for ((row, guide_row), out_row) in rows.zip(across.chunks_exact_mut(row_bytes)) {
            begin(row, sums, counts);
            for shift in (1..=RADIUS).map(|d| d * BPP).filter(|&shift| shift < row_bytes) {
                let rest = row_bytes - shift;
                let (left, right) = (&guide_row[..rest], &guide_row[shift..]);
                accumulate(&mut sums[shift..], &mut counts[shift..], &row[..rest], left, right);
                accumulate(&mut sums[..rest], &mut counts[..rest], &row[shift..], right, left);
            }
            finish(sums, counts, out_row);
        }

        // Down: each row with the `RADIUS` rows above and below.
        smooth.resize(row_bytes * height, 0);
        smooth_luma.resize(width * height, 0);
        let row_of = |y: usize| y * row_bytes..(y + 1) * row_bytes;
        let outputs = smooth
            .chunks_exact_mut(row_bytes)
            .zip(smooth_luma.chunks_exact_mut(width));
        for (y, (out_row, luma_row)) in outputs.enumerate() {
            let own_guide = &guide[row_of(y)];
            begin(&across[row_of(y)], sums, counts);
            for ny in y.saturating_sub(RADIUS)..(y + RADIUS + 1).min(height) {
                if ny != y {
                    let (values, their_guide) = (&across[row_of(ny)], &guide[row_of(ny)]);
                    accumulate(sums, counts, values, their_guide, own_guide);
                }
            }
            finish(sums, counts, out_row);
            packed_row_to_gray::<BPP>(out_row, luma_row);
        }
        sobel(smooth_luma, width, height, edges, sobel_scratch);

        let rows = smooth.chunks_exact(row_bytes).zip(edges.chunks_exact(width));
        for (((smooth_row, edge_row), out_row), src_row) in rows.zip(out.rows_mut()).zip(src.rows()) {
            let pixels = smooth_row.chunks_exact(BPP).zip(out_row.chunks_exact_mut(BPP));
            for ((&edge, (px, o)), src_px) in edge_row.iter().zip(pixels).zip(src_row.chunks_exact(BPP)) {
                if edge >= self.edge_threshold {
                    o[..3].fill(0);
                } else {
                    o[0] = self.quantise[px[0] as usize];
                    o[1] = self.quantise[px[1] as usize];
                    o[2] = self.quantise[px[2] as usize];
                }
                if BPP == 4 {
                    o[3] = src_px[3];
                }
            }
        }
    }
}

/// Starts the averages of one row with each byte itself.
fn begin(values: &[u8], sums: &mut [u16], counts: &mut [u16]) {
    for ((s, c), &v) in sums.iter_mut().zip(counts.iter_mut()).zip(values) {
        *s = u16::from(v);
        *c = 1;
    }
}

/// Adds each byte of `values` to the average of the byte at the same index
/// when its brightness (`their_guide`) is within `SIMILAR` of the brightness
/// there (`own_guide`). Written over whole rows so that it vectorises.
#[inline(always)]
fn accumulate(sums: &mut [u16], counts: &mut [u16], values: &[u8], their_guide: &[u8], own_guide: &[u8]) {
    let inputs = values.iter().zip(their_guide).zip(own_guide);
    for ((s, c), ((&v, &theirs), &own)) in sums.iter_mut().zip(counts.iter_mut()).zip(inputs) {
        let take = u16::from(theirs.abs_diff(own) <= SIMILAR);
        *s += take * u16::from(v);
        *c += take;
    }
}

/// Writes the rounded averages.
fn finish(sums: &[u16], counts: &[u16], out: &mut [u8]) {
    for ((o, &s), &c) in out.iter_mut().zip(sums).zip(counts) {
        *o = (f32::from(s) / f32::from(c) + 0.5) as u8;
    }
}

#[cfg(test)]
mod tests {
    use ooblex_runtime::PixelFormat;
    use ooblex_runtime::testing::frame_from_fn;
    use serde_json::json;

    use super::quantise_table;
    use crate::test_util::{kind, run_transform};

    #[test]
    fn quantisation_uses_evenly_spaced_levels() {
        let two = quantise_table(2);
        assert_eq!((two[0], two[127], two[128], two[255]), (0, 0, 255, 255));
        let mut levels = quantise_table(5).to_vec();
        levels.dedup();
        assert_eq!(levels, [0, 64, 128, 191, 255]);
    }

    #[test]
    fn flat_areas_become_flat_quantised_colour_and_the_border_between_turns_black() {
        // Two flat colours with a little texture, split down the middle.
        let input = frame_from_fn(PixelFormat::Rgba, 24, 12, 0, |x, y, c| {
            let texture = ((x * 7 + y * 3) % 5) as u8;
            match c {
                3 => 99,
                _ if x < 12 => [200, 30, 20][c] + texture,
                _ => [20, 170, 220][c] + texture,
            }
        });
        let out = run_transform("cartoon", json!({ "levels": 4, "edge_threshold": 40 }), vec![input]);
        let bytes = out[0].buffer.as_slice();
        let at = |x: usize, y: usize| &bytes[(y * 24 + x) * 4..][..4];
        for y in 0..12 {
            assert_eq!(at(2, y), [170, 0, 0, 99], "left area, row {y}");
            assert_eq!(at(21, y), [0, 170, 255, 99], "right area, row {y}");
            assert_eq!(&at(11, y)[..3], [0, 0, 0], "outline, row {y}");
            assert_eq!(&at(12, y)[..3], [0, 0, 0], "outline, row {y}");
        }
    }

    #[test]
    fn smoothing_does_not_blur_across_an_edge() {
        // A bright line one pixel wide on dark: no outline (threshold too high),
        // and the line keeps its colour instead of being averaged away.
        let input = frame_from_fn(PixelFormat::Rgb24, 9, 9, 0, |x, _, _| if x == 4 { 250 } else { 10 });
        let out = run_transform("cartoon", json!({ "levels": 32, "edge_threshold": 255 }), vec![input]);
        let row = &out[0].buffer.as_slice()[4 * 27..5 * 27];
        assert!(row[4 * 3] >= 245, "{row:?}");
        assert!(row[3 * 3] <= 16 && row[5 * 3] <= 16, "{row:?}");
    }

    #[test]
    fn yuv_is_rejected() {
        let harness = ooblex_runtime::testing::Harness::new(&kind("cartoon"), json!({}));
        let frame = frame_from_fn(PixelFormat::I420, 8, 8, 0, |_, _, _| 128);
        let out = harness.input("video", vec![frame]).run();
        assert!(out.video().is_empty());
    }

    #[test]
    fn params_are_range_checked() {
        assert!(kind("cartoon").prepare(json!({ "levels": 1 })).is_err());
        assert!(kind("cartoon").prepare(json!({ "levels": 33 })).is_err());
        assert!(kind("cartoon").prepare(json!({ "edge_threshold": 0 })).is_err());
        assert!(
            kind("cartoon")
                .prepare(json!({ "levels": 8, "edge_threshold": 60 }))
                .is_ok()
        );
    }
}
