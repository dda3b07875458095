//! `mirror`: flips the picture left-right or upside down.

use ooblex_runtime::{
    Frame, InputPortSpec, Node, NodeContext, NodeError, NodeKind, OutputPortSpec, Transform, VIDEO_IN, VIDEO_OUT,
    transform_node,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::media::raw::{ALL_RAW, Plane, PlaneMut, RawView, new_picture};

/// Default axis: a left-right flip, as a selfie camera shows.
pub const DEFAULT_AXIS: MirrorAxis = MirrorAxis::Horizontal;

/// Which way to flip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum MirrorAxis {
    /// Left becomes right.
    Horizontal,
    /// Top becomes bottom.
    Vertical,
}

/// Params of `mirror`. Changing them restarts the node.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct MirrorParams {
    /// `horizontal` (left becomes right) or `vertical` (top becomes bottom).
    pub axis: MirrorAxis,
}

impl Default for MirrorParams {
    fn default() -> Self {
        MirrorParams { axis: DEFAULT_AXIS }
    }
}

/// The `mirror` node kind.
pub struct Mirror;

impl NodeKind for Mirror {
    type Params = MirrorParams;
    const NAME: &'static str = "mirror";
    const DESCRIPTION: &'static str = "flips the picture left-right (horizontal) or upside down (vertical)";
    const INPUTS: &'static [InputPortSpec] = &[VIDEO_IN];
    const OUTPUTS: &'static [OutputPortSpec] = &[VIDEO_OUT];

    fn build(params: &MirrorParams) -> Result<Box<dyn Node>, NodeError> {
        Ok(transform_node(MirrorNode { axis: params.axis }))
    }
}

struct MirrorNode {
    axis: MirrorAxis,
}

impl Transform for MirrorNode {
    fn process(&mut self, frame: Frame, ctx: &NodeContext) -> Result<Option<Frame>, NodeError> {
        let view = RawView::of(&frame, Mirror::NAME, ALL_RAW)?;
        let out = new_picture(ctx, &frame, frame.format, frame.width, frame.height, |out| {
            for (src, dst) in view.planes().iter().zip(out.planes_mut()) {
                match self.axis {
                    MirrorAxis::Horizontal => flip_rows(*src, dst),
                    MirrorAxis::Vertical => {
                        for (row, out_row) in src.rows().rev().zip(dst.rows_mut()) {
                            out_row.copy_from_slice(row);
                        }
                    }
                }
            }
            Ok(())
        })?;
        Ok(Some(out))
    }
}

/// Reverses the order of the pixels of every row.
fn flip_rows(src: Plane<'_>, dst: &mut PlaneMut<'_>) {
    match src.bpp() {
        1 => flip::<1>(src, dst),
        2 => flip::<2>(src, dst),
        3 => flip::<3>(src, dst),
        _ => flip::<4>(src, dst),
    }
}

fn flip<const BPP: usize>(src: Plane<'_>, dst: &mut PlaneMut<'_>) {
    for (row, out_row) in src.rows().zip(dst.rows_mut()) {
        for (o, p) in out_row.chunks_exact_mut(BPP).zip(row.chunks_exact(BPP).rev()) {
            o.copy_from_slice(p);
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
    fn horizontal_flips_each_row() {
        let input = frame_from_fn(PixelFormat::Rgb24, 3, 2, 0, |x, y, c| (10 * x + 100 * y + c) as u8);
        let out = run_transform("mirror", json!({}), vec![input]);
        let expected = [
            20, 21, 22, 10, 11, 12, 0, 1, 2, 120, 121, 122, 110, 111, 112, 100, 101, 102,
        ];
        assert_eq!(out[0].buffer.as_slice(), &expected);
    }

    #[test]
    fn vertical_flips_the_rows() {
        let input = frame_from_fn(PixelFormat::Gray8, 2, 3, 0, |x, y, _| (10 * y + x) as u8);
        let out = run_transform("mirror", json!({ "axis": "vertical" }), vec![input]);
        assert_eq!(out[0].buffer.as_slice(), &[20, 21, 10, 11, 0, 1]);
    }

    #[test]
    fn nv12_chroma_pairs_stay_together() {
        let input = frame_from_fn(PixelFormat::Nv12, 4, 2, 0, |x, _, c| (10 * x + c) as u8);
        let out = run_transform("mirror", json!({}), vec![input]);
        assert_eq!(out[0].plane(0), &[30, 20, 10, 0, 30, 20, 10, 0]);
        assert_eq!(out[0].plane(1), &[11, 12, 1, 2]);
    }

    #[test]
    fn flipping_twice_gives_the_input() {
        for format in PixelFormat::RAW {
            let input = frame_from_fn(format, 7, 5, 0, |x, y, c| (x * 31 + y * 7 + c) as u8);
            let once = run_transform("mirror", json!({}), vec![input.clone()]);
            let twice = run_transform("mirror", json!({}), once);
            assert_eq!(twice[0].buffer.as_slice(), input.buffer.as_slice(), "{format}");
        }
    }

    #[test]
    fn rejects_unknown_axes() {
        assert!(kind("mirror").prepare(json!({ "axis": "diagonal" })).is_err());
    }
}
