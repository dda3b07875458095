//! `grayscale`: removes colour, keeping the pixel format.

use ooblex_runtime::{
    Frame, InputPortSpec, Node, NodeContext, NodeError, NodeKind, OutputPortSpec, PixelFormat, Transform, VIDEO_IN,
    VIDEO_OUT, transform_node,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::media::pixels::{copy_plane, luma};
use crate::media::raw::{ALL_RAW, RawView, new_picture};

/// Params of `grayscale`: none.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GrayscaleParams {}

/// The `grayscale` node kind.
pub struct Grayscale;

impl NodeKind for Grayscale {
    type Params = GrayscaleParams;
    const NAME: &'static str = "grayscale";
    const DESCRIPTION: &'static str = "removes colour (BT.601 luma), keeping the pixel format";
    const INPUTS: &'static [InputPortSpec] = &[VIDEO_IN];
    const OUTPUTS: &'static [OutputPortSpec] = &[VIDEO_OUT];

    fn build(_params: &GrayscaleParams) -> Result<Box<dyn Node>, NodeError> {
        Ok(transform_node(GrayscaleNode))
    }
}

struct GrayscaleNode;

impl Transform for GrayscaleNode {
    fn process(&mut self, frame: Frame, ctx: &NodeContext) -> Result<Option<Frame>, NodeError> {
        let view = RawView::of(&frame, Grayscale::NAME, ALL_RAW)?;
        if view.format == PixelFormat::Gray8 {
            return Ok(Some(frame));
        }
        let out = new_picture(ctx, &frame, frame.format, frame.width, frame.height, |out| {
            let format = out.format;
            let planes = out.planes_mut();
            match format {
                PixelFormat::Rgb24 => gray_packed::<3>(&view, &mut planes[0]),
                PixelFormat::Rgba => gray_packed::<4>(&view, &mut planes[0]),
                _ => {
                    copy_plane(view.plane(0), &mut planes[0]);
                    for chroma in &mut planes[1..] {
                        chroma.bytes_mut().fill(128);
                    }
                }
            }
            Ok(())
        })?;
        Ok(Some(out))
    }
}

fn gray_packed<const BPP: usize>(view: &RawView<'_>, out: &mut crate::media::raw::PlaneMut<'_>) {
    for (row, out_row) in view.plane(0).rows().zip(out.rows_mut()) {
        for (px, o) in row.chunks_exact(BPP).zip(out_row.chunks_exact_mut(BPP)) {
            let l = luma(px[0], px[1], px[2]);
            o[..3].fill(l);
            if BPP == 4 {
                o[3] = px[3];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use ooblex_runtime::testing::frame_from_fn;
    use serde_json::json;

    use super::*;
    use crate::test_util::{kind, run_transform};

    fn colourful(format: PixelFormat) -> Frame {
        frame_from_fn(format, 6, 4, 7, |x, y, c| (x * 40 + y * 13 + c * 70) as u8)
    }

    #[test]
    fn packed_pixels_get_equal_channels() {
        for format in [PixelFormat::Rgb24, PixelFormat::Rgba] {
            let out = run_transform("grayscale", json!({}), vec![colourful(format)]);
            let bpp = if format == PixelFormat::Rgba { 4 } else { 3 };
            assert_eq!((out[0].format, out[0].seq), (format, 7));
            for px in out[0].buffer.as_slice().chunks_exact(bpp) {
                assert!(px[0] == px[1] && px[1] == px[2], "{px:?}");
            }
        }
    }

    #[test]
    fn alpha_is_kept() {
        let out = run_transform("grayscale", json!({}), vec![colourful(PixelFormat::Rgba)]);
        let input = colourful(PixelFormat::Rgba);
        let alphas = |f: &Frame| f.buffer.as_slice().chunks_exact(4).map(|p| p[3]).collect::<Vec<_>>();
        assert_eq!(alphas(&out[0]), alphas(&input));
    }

    #[test]
    fn yuv_keeps_luma_and_neutralises_chroma() {
        for format in [PixelFormat::I420, PixelFormat::Nv12] {
            let input = colourful(format);
            let out = run_transform("grayscale", json!({}), vec![input.clone()]);
            assert_eq!(out[0].plane(0), input.plane(0));
            assert!(out[0].plane(1).iter().all(|&v| v == 128));
        }
    }

    #[test]
    fn gray_frames_pass_through_without_a_copy() {
        let input = colourful(PixelFormat::Gray8);
        let out = run_transform("grayscale", json!({}), vec![input.clone()]);
        assert!(out[0].buffer.shares_memory_with(&input.buffer));
    }

    #[test]
    fn takes_no_params() {
        assert!(kind("grayscale").prepare(json!({ "strength": 1 })).is_err());
        assert!(kind("grayscale").prepare(serde_json::Value::Null).is_ok());
    }
}
