//! `scale`: resizes raw video with `fast_image_resize` (SIMD), plane by plane.

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use ooblex_runtime::{
    Frame, InputPortSpec, Node, NodeContext, NodeError, NodeKind, OutputPortSpec, PixelFormat, Transform, VIDEO_IN,
    VIDEO_OUT, transform_node,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::media::raw::{ALL_RAW, Plane, PlaneMut, RawView, new_picture};

/// Default filter.
pub const DEFAULT_FILTER: ScaleFilter = ScaleFilter::Bilinear;

/// How output pixels are computed from input pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ScaleFilter {
    /// The closest input pixel: fastest, blocky.
    Nearest,
    /// Linear interpolation: fast, smooth.
    Bilinear,
    /// Lanczos with three lobes: sharpest, slowest.
    Lanczos3,
}

impl Default for ScaleFilter {
    fn default() -> Self {
        DEFAULT_FILTER
    }
}

/// Params of `scale`. Changing them restarts the node.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScaleParams {
    /// Output width in pixels.
    #[schemars(range(min = 1, max = 16384))]
    pub width: u32,
    /// Output height in pixels.
    #[schemars(range(min = 1, max = 16384))]
    pub height: u32,
    /// `nearest`, `bilinear` or `lanczos3`.
    #[serde(default)]
    pub filter: ScaleFilter,
}

/// The `scale` node kind.
pub struct Scale;

impl NodeKind for Scale {
    type Params = ScaleParams;
    const NAME: &'static str = "scale";
    const DESCRIPTION: &'static str = "resizes raw video to a fixed size, keeping the pixel format";
    const INPUTS: &'static [InputPortSpec] = &[VIDEO_IN];
    const OUTPUTS: &'static [OutputPortSpec] = &[VIDEO_OUT];

    fn build(params: &ScaleParams) -> Result<Box<dyn Node>, NodeError> {
        let algorithm = match params.filter {
            ScaleFilter::Nearest => ResizeAlg::Nearest,
            ScaleFilter::Bilinear => ResizeAlg::Convolution(FilterType::Bilinear),
            ScaleFilter::Lanczos3 => ResizeAlg::Convolution(FilterType::Lanczos3),
        };
        Ok(transform_node(ScaleNode {
            width: params.width,
            height: params.height,
            options: ResizeOptions::new().resize_alg(algorithm),
            resizer: Resizer::new(),
            packed: Vec::new(),
        }))
    }
}

struct ScaleNode {
    width: u32,
    height: u32,
    options: ResizeOptions,
    /// Keeps its internal buffers between frames.
    resizer: Resizer,
    /// A tight copy of a plane that arrived with padded rows, reused.
    packed: Vec<u8>,
}

impl Transform for ScaleNode {
    fn process(&mut self, frame: Frame, ctx: &NodeContext) -> Result<Option<Frame>, NodeError> {
        let view = RawView::of(&frame, Scale::NAME, ALL_RAW)?;
        if (frame.width, frame.height) == (self.width, self.height) {
            return Ok(Some(frame));
        }
        let out = new_picture(ctx, &frame, frame.format, self.width, self.height, |out| {
            // Only RGBA has a real alpha channel; NV12's U/V pairs must not be premultiplied.
            let options = self.options.use_alpha(view.format == PixelFormat::Rgba);
            for (src, dst) in view.planes().iter().zip(out.planes_mut()) {
                resize_plane(&mut self.resizer, &options, *src, dst, &mut self.packed).map_err(|err| {
                    NodeError::frame(format!("`scale` could not resize a {} frame: {err}", view.format))
                })?;
            }
            Ok(())
        })?;
        Ok(Some(out))
    }
}

fn resize_plane(
    resizer: &mut Resizer,
    options: &ResizeOptions,
    src: Plane<'_>,
    dst: &mut PlaneMut<'_>,
    packed: &mut Vec<u8>,
) -> Result<(), String> {
    let pixel_type = match src.bpp() {
        1 => PixelType::U8,
        2 => PixelType::U8x2,
        3 => PixelType::U8x3,
        _ => PixelType::U8x4,
    };
    let bytes = match src.tight_bytes() {
        Some(bytes) => bytes,
        None => {
            packed.clear();
            src.rows().for_each(|row| packed.extend_from_slice(row));
            packed
        }
    };
    let (src_w, src_h) = (src.width() as u32, src.height() as u32);
    let (dst_w, dst_h) = (dst.width() as u32, dst.height() as u32);
    let src_image = ImageRef::new(src_w, src_h, bytes, pixel_type).map_err(|err| err.to_string())?;
    let mut dst_image =
        Image::from_slice_u8(dst_w, dst_h, dst.bytes_mut(), pixel_type).map_err(|err| err.to_string())?;
    resizer
        .resize(&src_image, &mut dst_image, options)
        .map_err(|err| err.to_string())
}

#[cfg(test)]
mod tests {
    use ooblex_runtime::testing::frame_from_fn;
    use serde_json::json;

    use super::*;
    use crate::test_util::{kind, run_transform};

    #[test]
    fn gives_the_requested_size_in_every_format_and_filter() {
        for format in PixelFormat::RAW {
            for filter in ["nearest", "bilinear", "lanczos3"] {
                let input = frame_from_fn(format, 64, 48, 3, |x, y, c| (x + y + c * 40) as u8);
                let params = json!({ "width": 33, "height": 17, "filter": filter });
                let out = run_transform("scale", params, vec![input]);
                assert_eq!((out[0].width, out[0].height, out[0].format), (33, 17, format));
                assert_eq!(out[0].buffer.len(), format.frame_size(33, 17));
                assert_eq!(out[0].seq, 3);
            }
        }
    }

    #[test]
    fn a_flat_picture_stays_flat() {
        let input = frame_from_fn(PixelFormat::Nv12, 40, 30, 0, |_, _, c| [100, 90, 160][c]);
        let out = run_transform("scale", json!({ "width": 100, "height": 76 }), vec![input]);
        assert!(out[0].plane(0).iter().all(|&v| v == 100));
        assert!(out[0].plane(1).chunks_exact(2).all(|uv| uv == [90, 160]));
    }

    #[test]
    fn the_right_size_passes_through() {
        let input = frame_from_fn(PixelFormat::Rgb24, 8, 8, 0, |_, _, _| 1);
        let out = run_transform("scale", json!({ "width": 8, "height": 8 }), vec![input.clone()]);
        assert!(out[0].buffer.shares_memory_with(&input.buffer));
    }

    #[test]
    fn size_is_required_and_range_checked() {
        assert!(kind("scale").prepare(json!({})).is_err());
        assert!(kind("scale").prepare(json!({ "width": 0, "height": 10 })).is_err());
        assert!(
            kind("scale")
                .prepare(json!({ "width": 10, "height": 10, "filter": "cubic" }))
                .is_err()
        );
    }
}
