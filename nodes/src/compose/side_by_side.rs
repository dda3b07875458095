//! `side_by_side`: two videos next to each other, for before/after comparisons.

use ooblex_runtime::{
    FormatSet, Frame, InputPortSpec, Node, NodeContext, NodeError, NodeKind, OutputPortSpec, ParamIssue,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::compose::picture::{Fitter, PACKED_OUT, blit, draw_label, label_scale, output_format, output_formats};
use crate::compose::{Compose, compositor_node, required_input};
use crate::media::canvas::{Paint, Rect, fill_rect};
use crate::media::raw::{ALL_RAW, RawView, new_picture};

/// The widest picture `side_by_side` makes; a right input far wider than it
/// is tall is squeezed to fit.
const MAX_WIDTH: usize = 16384;

/// Params of `side_by_side`. Changing them restarts the node.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SideBySideParams {
    /// Text drawn centred at the top of each half, the first over `left` and the
    /// second over `right` (for example `[before, after]`); none by default.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 2))]
    pub labels: Vec<String>,
}

/// The `side_by_side` node kind.
pub struct SideBySide;

const PORTS: &[InputPortSpec] = &[required_input("left"), required_input("right")];

impl NodeKind for SideBySide {
    type Params = SideBySideParams;
    const NAME: &'static str = "side_by_side";
    const DESCRIPTION: &'static str =
        "puts `right` next to `left` at left's height, with optional labels; left's frames set the pace";
    const INPUTS: &'static [InputPortSpec] = PORTS;
    const OUTPUTS: &'static [OutputPortSpec] = &[PACKED_OUT];

    fn output_formats(_params: &SideBySideParams, _port: &OutputPortSpec, input: FormatSet) -> FormatSet {
        output_formats(input)
    }

    fn check(params: &SideBySideParams) -> Vec<ParamIssue> {
        if params.labels.len() <= 2 {
            return Vec::new();
        }
        vec![
            ParamIssue::new("labels", format!("`labels` has {} entries", params.labels.len()))
                .with_hint("give at most two: one for `left`, one for `right`"),
        ]
    }

    fn build(params: &SideBySideParams) -> Result<Box<dyn Node>, NodeError> {
        Ok(compositor_node(
            Self::NAME,
            PORTS,
            SideBySideNode {
                labels: params.labels.clone(),
                left: Fitter::default(),
                right: Fitter::default(),
            },
        ))
    }
}

struct SideBySideNode {
    labels: Vec<String>,
    left: Fitter,
    right: Fitter,
}

/// The width of a `width` x `height` picture scaled to `to_height`.
fn scaled_width(width: usize, height: usize, to_height: usize) -> usize {
    ((width * to_height + height / 2) / height).clamp(1, MAX_WIDTH)
}

impl Compose for SideBySideNode {
    /// Before `right` sends its first frame, its half is black and as wide as `left`.
    fn compose(&mut self, main: &Frame, others: &[Option<Frame>], ctx: &NodeContext) -> Result<Frame, NodeError> {
        let left = RawView::of(main, SideBySide::NAME, ALL_RAW)?;
        let right = match &others[0] {
            Some(frame) => Some(RawView::of(frame, SideBySide::NAME, ALL_RAW)?),
            None => None,
        };
        let format = output_format(left.format);
        let height = left.height;
        let left_width = left.width.min(MAX_WIDTH - 1);
        let right_width = match &right {
            Some(right) => scaled_width(right.width, right.height, height).min(MAX_WIDTH - left_width),
            None => left_width,
        };
        let width = left_width + right_width;
        new_picture(ctx, main, format, width as u32, height as u32, |out| {
            blit(&self.left.fit(&left, format, left.width, height)?, out, 0, 0);
            match &right {
                Some(right) => blit(&self.right.fit(right, format, right_width, height)?, out, left_width, 0),
                None => {
                    let half = Rect {
                        x: left_width,
                        y: 0,
                        width: right_width,
                        height,
                    };
                    fill_rect(out, half, &Paint::rgb([0, 0, 0]));
                }
            }
            let halves = [(0, left_width), (left_width, right_width)];
            for (label, (x, width)) in self.labels.iter().zip(halves) {
                let half = Rect { x, y: 0, width, height };
                draw_label(out, half, label, label_scale(height));
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use ooblex_runtime::testing::{Harness, frame_from_fn};
    use ooblex_runtime::{Frame, PixelFormat};
    use serde_json::json;

    use crate::test_util::kind;

    fn flat(format: PixelFormat, width: u32, height: u32, rgb: [u8; 3]) -> Frame {
        frame_from_fn(format, width, height, 1, move |_, _, c| match c {
            3 => 255,
            c => rgb[c],
        })
    }

    fn run(params: serde_json::Value, left: Vec<Frame>, right: Vec<Frame>) -> Vec<Frame> {
        let out = Harness::new(&kind("side_by_side"), params)
            .input("left", left)
            .input("right", right)
            .run();
        out.result.as_ref().expect("runs cleanly");
        out.video().to_vec()
    }

    fn pixel(frame: &Frame, x: usize, y: usize) -> &[u8] {
        let bpp = frame.planes[0].bytes_per_pixel;
        &frame.buffer.as_slice()[(y * frame.width as usize + x) * bpp..][..bpp]
    }

    #[test]
    fn right_is_scaled_to_the_height_of_left_and_placed_after_it() {
        let left = flat(PixelFormat::Rgb24, 8, 4, [255, 0, 0]);
        let right = flat(PixelFormat::Rgb24, 4, 2, [0, 0, 255]);
        let out = run(json!({}), vec![left.clone(), left], vec![right]);
        assert_eq!(out.len(), 2, "one output per left frame");
        assert_eq!(
            (out[0].width, out[0].height, out[0].format),
            (16, 4, PixelFormat::Rgb24)
        );
        assert_eq!(out[0].seq, 1);
        for y in 0..4 {
            assert_eq!(pixel(&out[0], 7, y), [255, 0, 0]);
            assert_eq!(pixel(&out[0], 8, y), [0, 0, 255]);
            assert_eq!(pixel(&out[0], 15, y), [0, 0, 255]);
        }
    }

    #[test]
    fn keeps_the_aspect_of_right_and_converts_its_format() {
        let left = flat(PixelFormat::Rgba, 10, 6, [0, 255, 0]);
        let right = flat(PixelFormat::I420, 6, 12, [235, 128, 128]);
        let out = run(json!({}), vec![left], vec![right]);
        assert_eq!((out[0].width, out[0].height, out[0].format), (13, 6, PixelFormat::Rgba));
        assert_eq!(pixel(&out[0], 11, 3), [255, 255, 255, 255], "white from i420");
    }

    #[test]
    fn before_right_sends_a_frame_its_half_is_black() {
        let left = flat(PixelFormat::Rgb24, 6, 4, [9, 9, 9]);
        let out = run(json!({}), vec![left], vec![]);
        assert_eq!((out[0].width, out[0].height), (12, 4));
        assert_eq!(pixel(&out[0], 5, 3), [9, 9, 9]);
        assert_eq!(pixel(&out[0], 6, 0), [0, 0, 0]);
    }

    #[test]
    fn labels_are_drawn_at_the_top_of_each_half() {
        let left = flat(PixelFormat::Rgb24, 80, 40, [100, 100, 100]);
        let right = flat(PixelFormat::Rgb24, 80, 40, [100, 100, 100]);
        let out = run(json!({ "labels": ["before", "after"] }), vec![left], vec![right]);
        // "before" is 48x8 at scale 1: a 52x12 box centred at the top of its half.
        let white_in = |x0: usize| (x0..x0 + 52).any(|x| (2..14).any(|y| pixel(&out[0], x, y) == [255, 255, 255]));
        assert!(white_in(14) && white_in(80 + 20));
        assert_eq!(pixel(&out[0], 13, 8), [100, 100, 100], "the label is centred");
        assert_eq!(pixel(&out[0], 14, 8), [0, 0, 0], "the label box");
        assert_eq!(pixel(&out[0], 40, 30), [100, 100, 100], "nothing below the labels");
    }

    #[test]
    fn at_most_two_labels() {
        assert!(
            kind("side_by_side")
                .prepare(json!({ "labels": ["a", "b", "c"] }))
                .is_err()
        );
        assert!(kind("side_by_side").prepare(json!({ "labels": ["a"] })).is_ok());
    }
}
