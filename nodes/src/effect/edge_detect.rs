//! `edge_detect`: the Sobel gradient magnitude of the picture's brightness,
//! shown as white edges on black or drawn in a colour over the picture.

use ooblex_runtime::{
    Frame, InputPortSpec, Node, NodeContext, NodeError, NodeKind, OutputPortSpec, PixelFormat, Transform, VIDEO_IN,
    VIDEO_OUT, transform_node,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::effect::colour::Colour;
use crate::effect::mix;
use crate::effect::sobel::{SobelScratch, luma_plane, sobel};
use crate::media::pixels::GRAY_TO_Y;
use crate::media::raw::{ALL_RAW, PlaneMut, RawMut, RawView, new_picture};

/// Default colour of edges drawn over the picture.
pub const DEFAULT_COLOR: Colour = Colour::LIME;

/// Params of `edge_detect`. Changing them restarts the node.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct EdgeDetectParams {
    /// Edge strength (a brightness step, 1 to 255) at or above which a pixel
    /// is an edge; edges are then all-or-nothing. Without it the output shows
    /// every pixel's edge strength in shades.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 255))]
    pub threshold: Option<u8>,
    /// Draw the edges in `color` over the picture (`true`) instead of white
    /// edges on black (`false`).
    pub overlay: bool,
    /// Colour of the edges when `overlay` is on: `#rrggbb`, `#rgb` or a name.
    pub color: Colour,
}

impl Default for EdgeDetectParams {
    fn default() -> Self {
        EdgeDetectParams {
            threshold: None,
            overlay: false,
            color: DEFAULT_COLOR,
        }
    }
}

/// The `edge_detect` node kind.
pub struct EdgeDetect;

impl NodeKind for EdgeDetect {
    type Params = EdgeDetectParams;
    const NAME: &'static str = "edge_detect";
    const DESCRIPTION: &'static str =
        "Sobel edges of the brightness, as white on black or in a colour over the picture";
    const INPUTS: &'static [InputPortSpec] = &[VIDEO_IN];
    const OUTPUTS: &'static [OutputPortSpec] = &[VIDEO_OUT];

    fn build(params: &EdgeDetectParams) -> Result<Box<dyn Node>, NodeError> {
        Ok(transform_node(EdgeDetectNode {
            threshold: params.threshold,
            overlay: params.overlay.then_some(params.color),
            luma: Vec::new(),
            edges: Vec::new(),
            scratch: SobelScratch::default(),
        }))
    }
}

struct EdgeDetectNode {
    threshold: Option<u8>,
    /// The colour to draw edges in over the picture; `None` for white on black.
    overlay: Option<Colour>,
    /// Full-range luma of the frame, reused.
    luma: Vec<u8>,
    /// Edge strength per pixel, reused.
    edges: Vec<u8>,
    scratch: SobelScratch,
}

impl Transform for EdgeDetectNode {
    fn process(&mut self, frame: Frame, ctx: &NodeContext) -> Result<Option<Frame>, NodeError> {
        let view = RawView::of(&frame, EdgeDetect::NAME, ALL_RAW)?;
        luma_plane(&view, &mut self.luma);
        sobel(&self.luma, view.width, view.height, &mut self.edges, &mut self.scratch);
        if let Some(threshold) = self.threshold {
            for e in &mut self.edges {
                *e = if *e >= threshold { 255 } else { 0 };
            }
        }
        let edges = &self.edges;
        let out = new_picture(ctx, &frame, frame.format, frame.width, frame.height, |out| {
            match self.overlay {
                Some(colour) => paint_over(&view, edges, colour, out),
                None => edges_on_black(&view, edges, out),
            }
            Ok(())
        })?;
        Ok(Some(out))
    }
}

/// Writes `edges` (one byte per pixel) as a gray picture in `out`'s format;
/// RGBA keeps the input's alpha.
fn edges_on_black(view: &RawView<'_>, edges: &[u8], out: &mut RawMut<'_>) {
    let width = view.width;
    let format = out.format;
    let planes = out.planes_mut();
    let rows = edges.chunks_exact(width).zip(planes[0].rows_mut());
    match format {
        PixelFormat::Rgb24 => {
            for (edge_row, out_row) in rows {
                for (&e, o) in edge_row.iter().zip(out_row.chunks_exact_mut(3)) {
                    o.fill(e);
                }
            }
        }
        PixelFormat::Rgba => {
            for ((edge_row, out_row), row) in rows.zip(view.plane(0).rows()) {
                let pixels = out_row.chunks_exact_mut(4).zip(row.chunks_exact(4));
                for (&e, (o, px)) in edge_row.iter().zip(pixels) {
                    o.copy_from_slice(&[e, e, e, px[3]]);
                }
            }
        }
        PixelFormat::Gray8 => {
            for (edge_row, out_row) in rows {
                out_row.copy_from_slice(edge_row);
            }
        }
        _ => {
            for (edge_row, out_row) in rows {
                for (&e, o) in edge_row.iter().zip(out_row.iter_mut()) {
                    *o = GRAY_TO_Y[e as usize];
                }
            }
            for chroma in &mut planes[1..] {
                chroma.bytes_mut().fill(128);
            }
        }
    }
}

/// Copies `view` into `out` with `colour` laid over it, each pixel's
/// `alpha` (one byte per pixel) saying how much. In 4:2:0 formats the chroma
/// of a 2x2 block takes the block's average alpha.
fn paint_over(view: &RawView<'_>, alpha: &[u8], colour: Colour, out: &mut RawMut<'_>) {
    let width = view.width;
    let format = out.format;
    let planes = out.planes_mut();
    let rows = view
        .plane(0)
        .rows()
        .zip(alpha.chunks_exact(width))
        .zip(planes[0].rows_mut());
    let [r, g, b] = colour.0;
    match format {
        PixelFormat::Rgb24 | PixelFormat::Rgba => {
            let bpp = view.plane(0).bpp();
            for ((row, alpha_row), out_row) in rows {
                let pixels = row.chunks_exact(bpp).zip(out_row.chunks_exact_mut(bpp));
                for (&a, (px, o)) in alpha_row.iter().zip(pixels) {
                    o[0] = mix(px[0], r, a);
                    o[1] = mix(px[1], g, a);
                    o[2] = mix(px[2], b, a);
                    if bpp == 4 {
                        o[3] = px[3];
                    }
                }
            }
        }
        PixelFormat::Gray8 => {
            let luma = colour.luma();
            for ((row, alpha_row), out_row) in rows {
                for ((&v, &a), o) in row.iter().zip(alpha_row).zip(out_row.iter_mut()) {
                    *o = mix(v, luma, a);
                }
            }
        }
        _ => {
            let (y, u, v) = colour.yuv();
            for ((row, alpha_row), out_row) in rows {
                for ((&luma, &a), o) in row.iter().zip(alpha_row).zip(out_row.iter_mut()) {
                    *o = mix(luma, y, a);
                }
            }
            let block_alpha = |cx: usize, cy: usize| {
                let (x0, y0) = (2 * cx, 2 * cy);
                let (x1, y1) = ((x0 + 1).min(width - 1), (y0 + 1).min(view.height - 1));
                let at = |x: usize, y: usize| u32::from(alpha[y * width + x]);
                ((at(x0, y0) + at(x1, y0) + at(x0, y1) + at(x1, y1) + 2) / 4) as u8
            };
            match (view.planes(), &mut planes[1..]) {
                ([_, u_src, v_src], [u_out, v_out]) => {
                    paint_chroma(u_src.rows(), u_out, 1, &[u], block_alpha);
                    paint_chroma(v_src.rows(), v_out, 1, &[v], block_alpha);
                }
                ([_, uv_src], [uv_out]) => paint_chroma(uv_src.rows(), uv_out, 2, &[u, v], block_alpha),
                _ => unreachable!("a 4:2:0 frame has two or three planes"),
            }
        }
    }
}

/// Mixes each `bpp`-byte chroma sample of `rows` towards `paint` by the
/// alpha of its 2x2 block.
fn paint_chroma<'a>(
    rows: impl Iterator<Item = &'a [u8]>,
    out: &mut PlaneMut<'_>,
    bpp: usize,
    paint: &[u8],
    block_alpha: impl Fn(usize, usize) -> u8,
) {
    for (cy, (row, out_row)) in rows.zip(out.rows_mut()).enumerate() {
        let samples = row.chunks_exact(bpp).zip(out_row.chunks_exact_mut(bpp));
        for (cx, (sample, o)) in samples.enumerate() {
            let a = block_alpha(cx, cy);
            for ((o, &s), &p) in o.iter_mut().zip(sample).zip(paint) {
                *o = mix(s, p, a);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use ooblex_runtime::PixelFormat;
    use ooblex_runtime::testing::frame_from_fn;
    use serde_json::json;

    use crate::test_util::{kind, run_transform};

    /// Dark on the left half, bright on the right: one vertical edge at x = 4 | 5.
    fn step(format: PixelFormat) -> ooblex_runtime::Frame {
        frame_from_fn(format, 10, 6, 0, |x, _, c| match (format, c) {
            (PixelFormat::I420 | PixelFormat::Nv12, 1..) => 128,
            (PixelFormat::I420 | PixelFormat::Nv12, _) => [16, 235][usize::from(x >= 5)],
            (PixelFormat::Rgba, 3) => 200,
            _ => [0, 255][usize::from(x >= 5)],
        })
    }

    #[test]
    fn white_edges_on_black_mark_only_the_step() {
        let out = run_transform(
            "edge_detect",
            json!({ "threshold": 64 }),
            vec![step(PixelFormat::Rgb24)],
        );
        for row in out[0].buffer.as_slice().chunks_exact(30) {
            let lit: Vec<bool> = row.chunks_exact(3).map(|px| px == [255, 255, 255]).collect();
            let dark = row.chunks_exact(3).filter(|px| *px == [0, 0, 0]).count();
            assert_eq!(
                lit.iter().filter(|&&l| l).count() + dark,
                10,
                "pixels are black or white"
            );
            assert!(lit[4] && lit[5] && !lit[2] && !lit[7], "{lit:?}");
        }
    }

    #[test]
    fn every_format_finds_the_same_edge() {
        for format in PixelFormat::RAW {
            let out = run_transform("edge_detect", json!({ "threshold": 64 }), vec![step(format)]);
            let frame = &out[0];
            let luma = frame.plane(0);
            let stride = frame.planes[0].stride;
            let bpp = frame.planes[0].bytes_per_pixel;
            let bright = |x: usize| luma[2 * stride + x * bpp] > 128;
            assert!(bright(4) && bright(5) && !bright(1) && !bright(8), "{format}");
            if format == PixelFormat::Rgba {
                assert_eq!(luma[3], 200, "alpha is kept");
            }
        }
    }

    #[test]
    fn without_threshold_shades_follow_the_edge_strength() {
        let soft = frame_from_fn(PixelFormat::Gray8, 10, 4, 0, |x, _, _| [40, 120][usize::from(x >= 5)]);
        let out = run_transform("edge_detect", json!({}), vec![soft]);
        assert_eq!(&out[0].buffer.as_slice()[..10], [0, 0, 0, 0, 80, 80, 0, 0, 0, 0]);
    }

    #[test]
    fn overlay_paints_the_colour_on_edges_and_keeps_the_rest() {
        let params = json!({ "threshold": 64, "overlay": true, "color": "#ff0000" });
        let input = step(PixelFormat::Rgb24);
        let out = run_transform("edge_detect", params, vec![input.clone()]);
        let row = &out[0].buffer.as_slice()[..30];
        assert_eq!(&row[4 * 3..6 * 3], [255, 0, 0, 255, 0, 0]);
        assert_eq!(&row[..4 * 3], &input.buffer.as_slice()[..4 * 3]);
        assert_eq!(&row[6 * 3..], &input.buffer.as_slice()[6 * 3..30]);
    }

    #[test]
    fn overlay_in_i420_tints_the_chroma_of_edge_blocks() {
        let params = json!({ "threshold": 64, "overlay": true, "color": "red" });
        let out = run_transform("edge_detect", params, vec![step(PixelFormat::I420)]);
        let (u, v) = (out[0].plane(1), out[0].plane(2));
        // Chroma column 2 covers luma columns 4 and 5, both edges; column 0 none.
        assert_eq!((u[0], v[0]), (128, 128));
        assert_eq!((u[2], v[2]), (90, 240), "BT.601 red");
    }

    #[test]
    fn params_are_checked() {
        assert!(kind("edge_detect").prepare(json!({ "threshold": 0 })).is_err());
        assert!(kind("edge_detect").prepare(json!({ "color": "#12345" })).is_err());
        assert!(kind("edge_detect").prepare(json!({ "overlay": "yes" })).is_err());
        assert!(
            kind("edge_detect")
                .prepare(json!({ "threshold": 30, "overlay": true, "color": "white" }))
                .is_ok()
        );
    }
}
