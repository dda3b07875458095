//! `pixelate`: replaces each block of pixels with its average colour.

use ooblex_runtime::{
    Frame, InputPortSpec, Node, NodeContext, NodeError, NodeKind, OutputPortSpec, Transform, VIDEO_IN, VIDEO_OUT,
    transform_node,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::effect::is_subsampled;
use crate::media::raw::{ALL_RAW, Plane, PlaneMut, RawView, new_picture};

/// Default block size in pixels.
pub const DEFAULT_BLOCK: u32 = 16;

/// Params of `pixelate`. Changing them restarts the node.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct PixelateParams {
    /// Side of the square blocks, in pixels (rounded up to even for i420 and nv12).
    #[schemars(range(min = 2, max = 256))]
    pub block: u32,
}

impl Default for PixelateParams {
    fn default() -> Self {
        PixelateParams { block: DEFAULT_BLOCK }
    }
}

/// The `pixelate` node kind.
pub struct Pixelate;

impl NodeKind for Pixelate {
    type Params = PixelateParams;
    const NAME: &'static str = "pixelate";
    const DESCRIPTION: &'static str = "replaces each square block of pixels with its average colour";
    const INPUTS: &'static [InputPortSpec] = &[VIDEO_IN];
    const OUTPUTS: &'static [OutputPortSpec] = &[VIDEO_OUT];

    fn build(params: &PixelateParams) -> Result<Box<dyn Node>, NodeError> {
        Ok(transform_node(PixelateNode {
            block: params.block as usize,
            sums: Vec::new(),
            averages: Vec::new(),
        }))
    }
}

struct PixelateNode {
    block: usize,
    /// Per-byte column sums over one band of rows, reused.
    sums: Vec<u32>,
    /// One averaged row, reused.
    averages: Vec<u8>,
}

impl Transform for PixelateNode {
    fn process(&mut self, frame: Frame, ctx: &NodeContext) -> Result<Option<Frame>, NodeError> {
        let view = RawView::of(&frame, Pixelate::NAME, ALL_RAW)?;
        // In 4:2:0 a chroma block covers two luma blocks' worth of pixels per
        // side, so blocks are made even to keep colour and brightness aligned.
        let subsampled = view.planes().len() > 1;
        let luma_block = if subsampled {
            self.block.next_multiple_of(2)
        } else {
            self.block
        };
        let out = new_picture(ctx, &frame, frame.format, frame.width, frame.height, |out| {
            for (index, (src, dst)) in view.planes().iter().zip(out.planes_mut()).enumerate() {
                let block = if is_subsampled(view.format, index) {
                    luma_block / 2
                } else {
                    luma_block
                };
                pixelate_plane(*src, dst, block, &mut self.sums, &mut self.averages);
            }
            Ok(())
        })?;
        Ok(Some(out))
    }
}

/// Fills each `block` x `block` square of `dst` (smaller at the right and
/// bottom edges) with the rounded average of that square of `src`.
pub(crate) fn pixelate_plane(
    src: Plane<'_>,
    dst: &mut PlaneMut<'_>,
    block: usize,
    sums: &mut Vec<u32>,
    averages: &mut Vec<u8>,
) {
    let (width, bpp) = (src.width(), src.bpp());
    let row_bytes = width * bpp;
    sums.resize(row_bytes, 0);
    averages.resize(row_bytes, 0);
    let mut out_rows = dst.rows_mut();
    for band_start in (0..src.height()).step_by(block) {
        let band_rows = block.min(src.height() - band_start);
        sums.fill(0);
        for y in band_start..band_start + band_rows {
            for (sum, &v) in sums.iter_mut().zip(src.row(y)) {
                *sum += u32::from(v);
            }
        }
        for block_start in (0..width).step_by(block) {
            let block_cols = block.min(width - block_start);
            let count = (block_cols * band_rows) as u32;
            let bytes = block_start * bpp..(block_start + block_cols) * bpp;
            for c in 0..bpp {
                let total: u32 = sums[bytes.clone()].iter().skip(c).step_by(bpp).sum();
                let average = ((total + count / 2) / count) as u8;
                for v in averages[bytes.clone()].iter_mut().skip(c).step_by(bpp) {
                    *v = average;
                }
            }
        }
        for out_row in out_rows.by_ref().take(band_rows) {
            out_row.copy_from_slice(averages);
        }
    }
}

#[cfg(test)]
mod tests {
    use ooblex_runtime::PixelFormat;
    use ooblex_runtime::testing::frame_from_fn;
    use serde_json::json;

    use crate::test_util::{kind, run_transform};

    #[test]
    fn blocks_become_uniform_averages() {
        let input = frame_from_fn(PixelFormat::Gray8, 4, 2, 0, |x, y, _| (x * 10 + y * 100) as u8);
        let out = run_transform("pixelate", json!({ "block": 2 }), vec![input]);
        // Left block: 0, 10, 100, 110 -> 55; right block: 20, 30, 120, 130 -> 75.
        assert_eq!(out[0].buffer.as_slice(), &[55, 55, 75, 75, 55, 55, 75, 75]);
    }

    #[test]
    fn every_block_is_uniform_in_every_format() {
        for format in PixelFormat::RAW {
            let input = frame_from_fn(format, 37, 21, 0, |x, y, c| (x * 7 + y * 3 + c * 50) as u8);
            let out = &run_transform("pixelate", json!({ "block": 8 }), vec![input])[0];
            let luma = out.planes[0];
            let bytes = out.plane(0);
            for by in (0..luma.height).step_by(8) {
                for bx in (0..luma.width).step_by(8) {
                    let at = |x: usize, y: usize| {
                        &bytes[y * luma.stride + x * luma.bytes_per_pixel..][..luma.bytes_per_pixel]
                    };
                    let first = at(bx, by);
                    for y in by..(by + 8).min(luma.height) {
                        for x in bx..(bx + 8).min(luma.width) {
                            assert_eq!(at(x, y), first, "{format} block at {bx},{by}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn block_is_range_checked() {
        assert!(kind("pixelate").prepare(json!({ "block": 1 })).is_err());
        assert!(kind("pixelate").prepare(json!({ "block": 257 })).is_err());
        assert!(kind("pixelate").prepare(json!({ "block": 256 })).is_ok());
    }
}
