//! `blend`: one video laid over another, mixed or combined like a layer in an
//! image editor.

use ooblex_runtime::{FormatSet, Frame, InputPortSpec, Node, NodeContext, NodeError, NodeKind, OutputPortSpec};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::compose::picture::{Fitter, PACKED_OUT, output_format, output_formats};
use crate::compose::{Compose, compositor_node, required_input};
use crate::effect::mix;
use crate::media::raw::{ALL_RAW, RawView, new_picture};

/// Default opacity: half and half.
pub const DEFAULT_OPACITY: f64 = 0.5;

/// How a pixel of `b` combines with the pixel of `a` under it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum BlendMode {
    /// `b` itself: a cross-fade.
    #[default]
    Mix,
    /// `a + b`, saturating: lightens.
    Add,
    /// `a * b`: darkens; white in `b` leaves `a` as it is.
    Multiply,
    /// `1 - (1 - a) * (1 - b)`: lightens; black in `b` leaves `a` as it is.
    Screen,
}

/// Params of `blend`. Changing them restarts the node.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct BlendParams {
    /// How much the combined picture covers `a`: 0 shows `a` alone, 1 the
    /// full result of `mode`.
    #[schemars(range(min = 0, max = 1))]
    pub opacity: f64,
    /// How `b` combines with `a`: `mix` (cross-fade), `add`, `multiply` or `screen`.
    pub mode: BlendMode,
}

impl Default for BlendParams {
    fn default() -> Self {
        BlendParams {
            opacity: DEFAULT_OPACITY,
            mode: BlendMode::default(),
        }
    }
}

/// The `blend` node kind.
pub struct Blend;

const PORTS: &[InputPortSpec] = &[required_input("a"), required_input("b")];

impl NodeKind for Blend {
    type Params = BlendParams;
    const NAME: &'static str = "blend";
    const DESCRIPTION: &'static str =
        "lays `b`, scaled to a's size, over `a` by opacity (mix, add, multiply or screen); a's frames set the pace";
    const INPUTS: &'static [InputPortSpec] = PORTS;
    const OUTPUTS: &'static [OutputPortSpec] = &[PACKED_OUT];

    fn output_formats(_params: &BlendParams, _port: &OutputPortSpec, input: FormatSet) -> FormatSet {
        output_formats(input)
    }

    fn build(params: &BlendParams) -> Result<Box<dyn Node>, NodeError> {
        Ok(compositor_node(
            Self::NAME,
            PORTS,
            BlendNode {
                mode: params.mode,
                alpha: (params.opacity * 255.0).round() as u8,
                a: Fitter::default(),
                b: Fitter::default(),
            },
        ))
    }
}

struct BlendNode {
    mode: BlendMode,
    /// Opacity as a byte.
    alpha: u8,
    a: Fitter,
    b: Fitter,
}

impl Compose for BlendNode {
    /// Before `b` sends its first frame, `a` goes out as it is (converted to
    /// rgb24 when it is not packed RGB).
    fn compose(&mut self, main: &Frame, others: &[Option<Frame>], ctx: &NodeContext) -> Result<Frame, NodeError> {
        let a = RawView::of(main, Blend::NAME, ALL_RAW)?;
        let format = output_format(a.format);
        let b = match &others[0] {
            Some(frame) => Some(RawView::of(frame, Blend::NAME, ALL_RAW)?),
            None if a.format == format => return Ok(main.clone()),
            None => None,
        };
        let (width, height) = (a.width, a.height);
        new_picture(ctx, main, format, width as u32, height as u32, |out| {
            let a = self.a.fit(&a, format, width, height)?;
            let out_plane = &mut out.planes_mut()[0];
            let Some(b) = b else {
                for (row, out_row) in a.plane(0).rows().zip(out_plane.rows_mut()) {
                    out_row.copy_from_slice(row);
                }
                return Ok(());
            };
            let b = self.b.fit(&b, format, width, height)?;
            let bpp = a.plane(0).bpp();
            let alpha = self.alpha;
            let rows = a.plane(0).rows().zip(b.plane(0).rows()).zip(out_plane.rows_mut());
            for ((a_row, b_row), out_row) in rows {
                match self.mode {
                    BlendMode::Mix => combine(a_row, b_row, out_row, bpp, alpha, |_, b| b),
                    BlendMode::Add => combine(a_row, b_row, out_row, bpp, alpha, |a, b| a.saturating_add(b)),
                    BlendMode::Multiply => combine(a_row, b_row, out_row, bpp, alpha, |a, b| {
                        ((u32::from(a) * u32::from(b) + 127) / 255) as u8
                    }),
                    BlendMode::Screen => combine(a_row, b_row, out_row, bpp, alpha, |a, b| {
                        255 - ((u32::from(255 - a) * u32::from(255 - b) + 127) / 255) as u8
                    }),
                }
            }
            Ok(())
        })
    }
}

/// One row of `a` moved towards `op(a, b)` by `alpha`; the alpha channel of
/// RGBA (`bpp` 4) is kept from `a`.
#[inline(always)]
fn combine(a: &[u8], b: &[u8], out: &mut [u8], bpp: usize, alpha: u8, op: impl Fn(u8, u8) -> u8) {
    for ((a, b), o) in a
        .chunks_exact(bpp)
        .zip(b.chunks_exact(bpp))
        .zip(out.chunks_exact_mut(bpp))
    {
        for c in 0..3 {
            o[c] = mix(a[c], op(a[c], b[c]), alpha);
        }
        if bpp == 4 {
            o[3] = a[3];
        }
    }
}

#[cfg(test)]
mod tests {
    use ooblex_runtime::testing::{Harness, frame_from_fn};
    use ooblex_runtime::{Frame, PixelFormat};
    use serde_json::json;

    use crate::test_util::kind;

    fn flat(format: PixelFormat, width: u32, height: u32, rgb: [u8; 3]) -> Frame {
        frame_from_fn(format, width, height, 0, move |_, _, c| match c {
            3 => 77,
            c => rgb[c],
        })
    }

    fn blend(params: serde_json::Value, a: Frame, b: Vec<Frame>) -> Frame {
        let out = Harness::new(&kind("blend"), params)
            .input("a", vec![a])
            .input("b", b)
            .run();
        out.result.as_ref().expect("runs cleanly");
        out.video()[0].clone()
    }

    #[test]
    fn every_mode_combines_as_documented() {
        let (a, b) = ([200, 100, 0], [100, 200, 255]);
        let cases = [
            ("mix", [150, 150, 128]),
            ("add", [228, 178, 128]),
            ("multiply", [139, 89, 0]),
            ("screen", [211, 161, 128]),
        ];
        for (mode, expected) in cases {
            let a = flat(PixelFormat::Rgb24, 4, 2, a);
            let b = flat(PixelFormat::Rgb24, 4, 2, b);
            let out = blend(json!({ "mode": mode, "opacity": 0.5 }), a, vec![b]);
            assert_eq!(&out.buffer.as_slice()[..3], expected, "{mode}");
        }
    }

    #[test]
    fn full_opacity_mix_shows_b_scaled_to_a_with_a_alpha() {
        let a = flat(PixelFormat::Rgba, 8, 6, [0, 0, 0]);
        let b = flat(PixelFormat::Gray8, 3, 3, [90, 0, 0]);
        let out = blend(json!({ "opacity": 1 }), a, vec![b]);
        assert_eq!((out.width, out.height, out.format), (8, 6, PixelFormat::Rgba));
        for px in out.buffer.as_slice().chunks_exact(4) {
            assert_eq!(px, [90, 90, 90, 77]);
        }
    }

    #[test]
    fn before_b_sends_a_frame_a_passes_through() {
        let a = flat(PixelFormat::Rgb24, 4, 2, [1, 2, 3]);
        let out = blend(json!({}), a.clone(), vec![]);
        assert!(out.buffer.shares_memory_with(&a.buffer));
        let yuv = flat(PixelFormat::Nv12, 4, 2, [235, 128, 128]);
        let out = blend(json!({}), yuv, vec![]);
        assert_eq!(out.format, PixelFormat::Rgb24);
        assert!(out.buffer.as_slice().iter().all(|&v| v == 255));
    }

    #[test]
    fn params_are_checked() {
        assert!(kind("blend").prepare(json!({ "opacity": 2 })).is_err());
        assert!(kind("blend").prepare(json!({ "mode": "overlay" })).is_err());
        assert!(
            kind("blend")
                .prepare(json!({ "mode": "screen", "opacity": 0.3 }))
                .is_ok()
        );
    }
}
