//! `invert`: the photographic negative, in every raw format.

use ooblex_runtime::{
    Frame, InputPortSpec, Node, NodeContext, NodeError, NodeKind, OutputPortSpec, PixelFormat, Transform, VIDEO_IN,
    VIDEO_OUT, transform_node,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::effect::is_subsampled;
use crate::media::pixels::map_plane;
use crate::media::raw::{ALL_RAW, RawView, new_picture};

/// Params of `invert`: none.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InvertParams {}

/// The `invert` node kind.
pub struct Invert;

impl NodeKind for Invert {
    type Params = InvertParams;
    const NAME: &'static str = "invert";
    const DESCRIPTION: &'static str = "photographic negative: every colour becomes its opposite, alpha is kept";
    const INPUTS: &'static [InputPortSpec] = &[VIDEO_IN];
    const OUTPUTS: &'static [OutputPortSpec] = &[VIDEO_OUT];

    fn build(_params: &InvertParams) -> Result<Box<dyn Node>, NodeError> {
        Ok(transform_node(InvertNode))
    }
}

/// `255 - v`: full-range RGB and gray.
static FULL: [u8; 256] = table(255);
/// `251 - y`: limited-range luma (16..=235 maps onto 235..=16), which is
/// exactly the luma of the inverted RGB colour.
static LUMA: [u8; 256] = table(251);
/// `256 - c`: chroma mirrored around 128.
static CHROMA: [u8; 256] = table(256);

/// `sum - v` for every byte `v`, clamped to a byte.
const fn table(sum: i32) -> [u8; 256] {
    let mut table = [0; 256];
    let mut v = 0;
    while v < 256 {
        let inverted = sum - v as i32;
        table[v] = if inverted < 0 {
            0
        } else if inverted > 255 {
            255
        } else {
            inverted as u8
        };
        v += 1;
    }
    table
}

struct InvertNode;

impl Transform for InvertNode {
    fn process(&mut self, frame: Frame, ctx: &NodeContext) -> Result<Option<Frame>, NodeError> {
        let view = RawView::of(&frame, Invert::NAME, ALL_RAW)?;
        let out = new_picture(ctx, &frame, frame.format, frame.width, frame.height, |out| {
            for (index, (src, dst)) in view.planes().iter().zip(out.planes_mut()).enumerate() {
                match view.format {
                    PixelFormat::Rgba => {
                        for (row, out_row) in src.rows().zip(dst.rows_mut()) {
                            for (px, o) in row.chunks_exact(4).zip(out_row.chunks_exact_mut(4)) {
                                o.copy_from_slice(&[255 - px[0], 255 - px[1], 255 - px[2], px[3]]);
                            }
                        }
                    }
                    PixelFormat::I420 | PixelFormat::Nv12 if is_subsampled(view.format, index) => {
                        map_plane(*src, dst, &CHROMA)
                    }
                    PixelFormat::I420 | PixelFormat::Nv12 => map_plane(*src, dst, &LUMA),
                    _ => map_plane(*src, dst, &FULL),
                }
            }
            Ok(())
        })?;
        Ok(Some(out))
    }
}

#[cfg(test)]
mod tests {
    use ooblex_runtime::PixelFormat;
    use ooblex_runtime::testing::frame_from_fn;
    use serde_json::json;

    use crate::media::pixels::convert;
    use crate::media::raw::{RawMut, RawView, frame_bytes};
    use crate::test_util::{kind, run_transform};

    #[test]
    fn rgb_and_gray_bytes_become_their_opposite() {
        for format in [PixelFormat::Rgb24, PixelFormat::Gray8] {
            let input = frame_from_fn(format, 5, 3, 0, |x, y, c| (x * 50 + y * 7 + c) as u8);
            let out = run_transform("invert", json!({}), vec![input.clone()]);
            let expected: Vec<u8> = input.buffer.as_slice().iter().map(|v| 255 - v).collect();
            assert_eq!(out[0].buffer.as_slice(), expected, "{format}");
        }
    }

    #[test]
    fn rgba_keeps_alpha() {
        let input = frame_from_fn(PixelFormat::Rgba, 2, 1, 0, |x, _, c| [10, 20, 30, 40 + x as u8][c]);
        let out = run_transform("invert", json!({}), vec![input]);
        assert_eq!(out[0].buffer.as_slice(), [245, 235, 225, 40, 245, 235, 225, 41]);
    }

    #[test]
    fn yuv_inverts_the_colour_it_encodes() {
        let (w, h) = (8, 6);
        let rgb: Vec<u8> = (0..w * h * 3).map(|i| (i * 37 % 256) as u8).collect();
        for format in [PixelFormat::I420, PixelFormat::Nv12] {
            let mut yuv = vec![0; frame_bytes(format, w, h)];
            convert(
                &RawView::tight(&rgb, PixelFormat::Rgb24, w, h),
                &mut RawMut::new(&mut yuv, format, w, h),
            );
            let frame = ooblex_runtime::Frame::new(
                ooblex_runtime::Buffer::from_vec(yuv.clone()),
                format,
                w as u32,
                h as u32,
                std::time::Duration::ZERO,
                0,
            );
            let out = run_transform("invert", json!({}), vec![frame]);
            let mut expected = vec![0; yuv.len()];
            let negative: Vec<u8> = rgb.iter().map(|v| 255 - v).collect();
            convert(
                &RawView::tight(&negative, PixelFormat::Rgb24, w, h),
                &mut RawMut::new(&mut expected, format, w, h),
            );
            let worst = out[0]
                .buffer
                .as_slice()
                .iter()
                .zip(&expected)
                .map(|(a, b)| a.abs_diff(*b))
                .max();
            assert!(worst <= Some(1), "{format}: off by {worst:?}");
        }
    }

    #[test]
    fn yuv_white_becomes_black_and_neutral_chroma_stays_neutral() {
        for format in [PixelFormat::I420, PixelFormat::Nv12] {
            let input = frame_from_fn(format, 4, 2, 0, |x, _, c| if c == 0 { [235, 16][x % 2] } else { 128 });
            let out = run_transform("invert", json!({}), vec![input]);
            assert_eq!(out[0].plane(0), [16, 235, 16, 235, 16, 235, 16, 235], "{format}");
            assert!(out[0].plane(1).iter().all(|&c| c == 128), "{format}");
        }
    }

    #[test]
    fn inverting_twice_gives_the_original() {
        for format in PixelFormat::RAW {
            // Stay within the limited range, where YUV inversion is exact.
            let input = frame_from_fn(format, 7, 5, 0, |x, y, c| (16 + (x * 31 + y * 11 + c * 5) % 220) as u8);
            let once = run_transform("invert", json!({}), vec![input.clone()]);
            let twice = run_transform("invert", json!({}), once);
            assert_eq!(twice[0].buffer.as_slice(), input.buffer.as_slice(), "{format}");
        }
    }

    #[test]
    fn takes_no_params() {
        assert!(kind("invert").prepare(json!({ "strength": 1 })).is_err());
    }
}
