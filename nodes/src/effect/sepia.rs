//! `sepia`: the warm brown tone of old photographs, mixed with the original
//! colours by a strength.

use ooblex_runtime::{
    Frame, InputPortSpec, Node, NodeContext, NodeError, NodeKind, OutputPortSpec, Transform, VIDEO_OUT, transform_node,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::media::raw::{PACKED_RGB, PACKED_RGB_IN, PlaneMut, RawView, new_picture};

/// Default strength: full sepia.
pub const DEFAULT_STRENGTH: f64 = 1.0;

/// The classic sepia matrix (rows: output R, G, B; columns: input R, G, B).
const SEPIA: [[f64; 3]; 3] = [[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]];

/// Fixed-point shift of the mixed matrix.
const SHIFT: u32 = 16;

/// Params of `sepia`. Changing them restarts the node.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SepiaParams {
    /// How much of the sepia tone replaces the original colours: 0 leaves the
    /// picture as it is, 1 is full sepia.
    #[schemars(range(min = 0, max = 1))]
    pub strength: f64,
}

impl Default for SepiaParams {
    fn default() -> Self {
        SepiaParams {
            strength: DEFAULT_STRENGTH,
        }
    }
}

/// The `sepia` node kind.
pub struct Sepia;

impl NodeKind for Sepia {
    type Params = SepiaParams;
    const NAME: &'static str = "sepia";
    const DESCRIPTION: &'static str =
        "warm brown old-photograph tone, mixed with the original by `strength` (rgb24, rgba)";
    const INPUTS: &'static [InputPortSpec] = &[PACKED_RGB_IN];
    const OUTPUTS: &'static [OutputPortSpec] = &[VIDEO_OUT];

    fn build(params: &SepiaParams) -> Result<Box<dyn Node>, NodeError> {
        Ok(transform_node(SepiaNode {
            matrix: mixed_matrix(params.strength),
            identity: params.strength == 0.0,
        }))
    }
}

/// `strength` of sepia and `1 - strength` of the identity, in 16.16 fixed point.
fn mixed_matrix(strength: f64) -> [[i32; 3]; 3] {
    let mut matrix = [[0; 3]; 3];
    for (out, (row, sepia_row)) in matrix.iter_mut().zip(SEPIA.iter()).enumerate() {
        for (input, (m, &s)) in row.iter_mut().zip(sepia_row).enumerate() {
            let identity = if input == out { 1.0 } else { 0.0 };
            let value = identity + strength * (s - identity);
            *m = (value * f64::from(1u32 << SHIFT)).round() as i32;
        }
    }
    matrix
}

struct SepiaNode {
    matrix: [[i32; 3]; 3],
    /// Strength 0: frames pass through untouched, without a copy.
    identity: bool,
}

impl Transform for SepiaNode {
    fn process(&mut self, frame: Frame, ctx: &NodeContext) -> Result<Option<Frame>, NodeError> {
        let view = RawView::of(&frame, Sepia::NAME, PACKED_RGB)?;
        if self.identity {
            return Ok(Some(frame));
        }
        let out = new_picture(ctx, &frame, frame.format, frame.width, frame.height, |out| {
            let plane = &mut out.planes_mut()[0];
            match view.plane(0).bpp() {
                3 => tone::<3>(&view, plane, &self.matrix),
                _ => tone::<4>(&view, plane, &self.matrix),
            }
            Ok(())
        })?;
        Ok(Some(out))
    }
}

/// Applies `matrix` to every pixel; alpha is kept.
fn tone<const BPP: usize>(view: &RawView<'_>, out: &mut PlaneMut<'_>, matrix: &[[i32; 3]; 3]) {
    const HALF: i32 = 1 << (SHIFT - 1);
    for (row, out_row) in view.plane(0).rows().zip(out.rows_mut()) {
        for (px, o) in row.chunks_exact(BPP).zip(out_row.chunks_exact_mut(BPP)) {
            let (r, g, b) = (i32::from(px[0]), i32::from(px[1]), i32::from(px[2]));
            for (channel, m) in o.iter_mut().zip(matrix) {
                *channel = ((m[0] * r + m[1] * g + m[2] * b + HALF) >> SHIFT).clamp(0, 255) as u8;
            }
            if BPP == 4 {
                o[3] = px[3];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use ooblex_runtime::PixelFormat;
    use ooblex_runtime::testing::frame_from_fn;
    use serde_json::json;

    use crate::media::raw::{PACKED_RGB, RawView};
    use crate::test_util::{kind, run_transform};

    fn pixel(format: PixelFormat, rgba: [u8; 4]) -> ooblex_runtime::Frame {
        frame_from_fn(format, 3, 2, 4, move |_, _, c| rgba[c])
    }

    #[test]
    fn full_strength_applies_the_sepia_matrix() {
        let out = run_transform("sepia", json!({}), vec![pixel(PixelFormat::Rgb24, [100, 150, 201, 0])]);
        // R = .393*100 + .769*150 + .189*201 = 192.64; G = 171.57; B = 133.63.
        for px in out[0].buffer.as_slice().chunks_exact(3) {
            assert_eq!(px, [193, 172, 134]);
        }
        assert_eq!(out[0].seq, 4);
    }

    #[test]
    fn gray_turns_warm_and_bright_colours_saturate() {
        let out = run_transform("sepia", json!({}), vec![pixel(PixelFormat::Rgb24, [128, 128, 128, 0])]);
        let px = &out[0].buffer.as_slice()[..3];
        assert!(px[0] > px[1] && px[1] > px[2], "{px:?}");
        let white = run_transform("sepia", json!({}), vec![pixel(PixelFormat::Rgb24, [255; 4])]);
        assert_eq!(&white[0].buffer.as_slice()[..3], [255, 255, 239]);
    }

    #[test]
    fn half_strength_lies_between_the_original_and_full_sepia() {
        let input = pixel(PixelFormat::Rgba, [100, 150, 201, 77]);
        let out = run_transform("sepia", json!({ "strength": 0.5 }), vec![input]);
        // Halfway from (100, 150, 201) to (192.64, 171.57, 133.63); alpha kept.
        assert_eq!(&out[0].buffer.as_slice()[..4], [146, 161, 167, 77]);
    }

    #[test]
    fn zero_strength_passes_frames_through_without_a_copy() {
        let input = pixel(PixelFormat::Rgb24, [1, 2, 3, 0]);
        let out = run_transform("sepia", json!({ "strength": 0 }), vec![input.clone()]);
        assert!(out[0].buffer.shares_memory_with(&input.buffer));
    }

    #[test]
    fn a_format_its_port_does_not_declare_is_skipped_as_a_bug_upstream() {
        let harness = ooblex_runtime::testing::Harness::new(&kind("sepia"), json!({}));
        let out = harness.input("video", vec![pixel(PixelFormat::I420, [0; 4])]).run();
        assert!(out.video().is_empty());
        assert_eq!(out.metrics.frame_errors.load(std::sync::atomic::Ordering::Relaxed), 1);
        let frame = pixel(PixelFormat::Nv12, [0; 4]);
        let err = RawView::of(&frame, "sepia", PACKED_RGB).expect_err("nv12 is not packed");
        let message = err.to_string();
        assert!(
            message.contains("`sepia`") && message.contains("`nv12`") && message.contains("rgb24, rgba"),
            "{message}"
        );
        assert!(message.contains("bug"), "{message}");
    }

    #[test]
    fn strength_is_range_checked() {
        assert!(kind("sepia").prepare(json!({ "strength": 1.5 })).is_err());
        assert!(kind("sepia").prepare(json!({ "strength": -0.1 })).is_err());
        assert!(kind("sepia").prepare(json!({ "strenght": 0.5 })).is_err());
    }
}
