//! `draw_detections`: draws the detections a detector attached to each frame
//! (boxes, labels with scores, landmarks) onto the picture.

use std::fmt::Write as _;

use ooblex_runtime::{
    Detection, Frame, InputPortSpec, Node, NodeContext, NodeError, NodeKind, OutputPortSpec, Transform, VIDEO_IN,
    VIDEO_OUT, transform_node,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::effect::colour::Colour;
use crate::media::canvas::{Paint, Rect, fill_rect};
use crate::media::pixels::convert;
use crate::media::raw::{ALL_RAW, RawMut, RawView, new_picture};
use crate::media::text::{draw_text, text_size};

/// Default thickness of box outlines in pixels.
pub const DEFAULT_THICKNESS: u32 = 2;
/// Default colour of boxes, label backgrounds and landmarks.
pub const DEFAULT_COLOR: Colour = Colour::LIME;
/// Default for `labels`: draw them.
pub const DEFAULT_LABELS: bool = true;

/// Params of `draw_detections`. Changing them restarts the node.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct DrawDetectionsParams {
    /// Thickness of box outlines in pixels, drawn inside the box.
    #[schemars(range(min = 1, max = 64))]
    pub thickness: u32,
    /// Write each detection's label and score (`face 0.93`) above its box.
    pub labels: bool,
    /// Colour of boxes, label backgrounds and landmarks: `#rrggbb`, `#rgb` or a name.
    pub color: Colour,
}

impl Default for DrawDetectionsParams {
    fn default() -> Self {
        DrawDetectionsParams {
            thickness: DEFAULT_THICKNESS,
            labels: DEFAULT_LABELS,
            color: DEFAULT_COLOR,
        }
    }
}

/// The `draw_detections` node kind.
pub struct DrawDetections;

impl NodeKind for DrawDetections {
    type Params = DrawDetectionsParams;
    const NAME: &'static str = "draw_detections";
    const DESCRIPTION: &'static str =
        "draws each frame's detections (boxes, labels and scores, landmarks); frames without any pass untouched";
    const INPUTS: &'static [InputPortSpec] = &[VIDEO_IN];
    const OUTPUTS: &'static [OutputPortSpec] = &[VIDEO_OUT];

    fn build(params: &DrawDetectionsParams) -> Result<Box<dyn Node>, NodeError> {
        Ok(transform_node(DrawDetectionsNode {
            thickness: params.thickness as usize,
            labels: params.labels,
            paint: params.color.paint(),
            text_paint: params.color.contrasting().paint(),
            text: String::new(),
        }))
    }
}

struct DrawDetectionsNode {
    thickness: usize,
    labels: bool,
    paint: Paint,
    /// Label text, black or white to read on `paint`.
    text_paint: Paint,
    /// The label being drawn, reused.
    text: String,
}

impl Transform for DrawDetectionsNode {
    fn process(&mut self, frame: Frame, ctx: &NodeContext) -> Result<Option<Frame>, NodeError> {
        let detections = match frame.meta.detections.as_deref() {
            Some(detections) if !detections.is_empty() => detections,
            _ => return Ok(Some(frame)),
        };
        let view = RawView::of(&frame, DrawDetections::NAME, ALL_RAW)?;
        let out = new_picture(ctx, &frame, frame.format, frame.width, frame.height, |out| {
            convert(&view, out);
            let scale = (view.height / 240).max(1);
            for detection in detections {
                self.draw(out, detection, scale);
            }
            Ok(())
        })?;
        Ok(Some(out))
    }
}

/// A coordinate from a detector, clamped into `0..=limit` (NaN becomes 0).
fn clamp(v: f32, limit: usize) -> usize {
    (v.max(0.0).round() as usize).min(limit)
}

impl DrawDetectionsNode {
    fn draw(&mut self, out: &mut RawMut<'_>, detection: &Detection, scale: usize) {
        let (width, height) = (out.width, out.height);
        let [x0, y0, x1, y1] = detection.bbox;
        let (left, right) = (clamp(x0.min(x1), width), clamp(x0.max(x1), width));
        let (top, bottom) = (clamp(y0.min(y1), height), clamp(y0.max(y1), height));
        let (box_w, box_h) = (right - left, bottom - top);
        if box_w > 0 && box_h > 0 {
            let t = self.thickness.min(box_w).min(box_h);
            let sides = [
                Rect {
                    x: left,
                    y: top,
                    width: box_w,
                    height: t,
                },
                Rect {
                    x: left,
                    y: bottom - t,
                    width: box_w,
                    height: t,
                },
                Rect {
                    x: left,
                    y: top,
                    width: t,
                    height: box_h,
                },
                Rect {
                    x: right - t,
                    y: top,
                    width: t,
                    height: box_h,
                },
            ];
            for side in sides {
                fill_rect(out, side, &self.paint);
            }
        }
        let dot = (self.thickness + 2).max(3);
        for &[x, y] in &detection.landmarks {
            let (x, y) = (clamp(x, width), clamp(y, height));
            let rect = Rect {
                x: x.saturating_sub(dot / 2),
                y: y.saturating_sub(dot / 2),
                width: dot,
                height: dot,
            };
            fill_rect(out, rect, &self.paint);
        }
        if self.labels && box_w > 0 && box_h > 0 {
            self.text.clear();
            write!(self.text, "{} {:.2}", detection.label, detection.score).expect("writing to a String cannot fail");
            let (text_w, text_h) = text_size(&self.text, scale);
            let pad = scale;
            let label_h = text_h + 2 * pad;
            // Above the box when there is room, else just inside its top.
            let label_y = if top >= label_h { top - label_h } else { top };
            let background = Rect {
                x: left,
                y: label_y,
                width: text_w + 2 * pad,
                height: label_h,
            };
            fill_rect(out, background, &self.paint);
            draw_text(out, left + pad, label_y + pad, scale, &self.text, &self.text_paint);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use ooblex_runtime::testing::frame_from_fn;
    use ooblex_runtime::{Detection, Frame, Metadata, PixelFormat};
    use serde_json::json;

    use crate::test_util::{kind, run_transform};

    fn with_detections(format: PixelFormat, detections: Option<Vec<Detection>>) -> Frame {
        let mut frame = frame_from_fn(format, 64, 48, 9, |_, _, c| [40, 128, 128][c.min(2)]);
        frame.meta = Arc::new(Metadata {
            detections,
            ..Metadata::default()
        });
        frame
    }

    fn face(bbox: [f32; 4]) -> Detection {
        Detection {
            label: "face".to_string(),
            score: 0.93,
            bbox,
            landmarks: vec![[40.0, 30.0]],
        }
    }

    fn rgb_at(frame: &Frame, x: usize, y: usize) -> [u8; 3] {
        let px = &frame.buffer.as_slice()[(y * frame.width as usize + x) * 3..];
        [px[0], px[1], px[2]]
    }

    #[test]
    fn frames_without_detections_pass_through_without_a_copy() {
        for detections in [None, Some(Vec::new())] {
            let input = with_detections(PixelFormat::Rgb24, detections);
            let out = run_transform("draw_detections", json!({}), vec![input.clone()]);
            assert!(out[0].buffer.shares_memory_with(&input.buffer));
        }
    }

    #[test]
    fn draws_the_outline_inside_the_box_and_the_landmark() {
        let input = with_detections(PixelFormat::Rgb24, Some(vec![face([10.0, 20.0, 50.0, 40.0])]));
        let params = json!({ "thickness": 3, "labels": false, "color": "#ff0000" });
        let out = run_transform("draw_detections", params, vec![input.clone()]);
        let red = [255, 0, 0];
        let background = [40, 128, 128];
        assert_eq!((out[0].seq, out[0].meta.clone()), (9, input.meta.clone()));
        for (x, y) in [(10, 20), (12, 30), (49, 39), (30, 22), (47, 30)] {
            assert_eq!(rgb_at(&out[0], x, y), red, "outline at {x},{y}");
        }
        for (x, y) in [(9, 20), (13, 30), (30, 23), (46, 30), (50, 30), (30, 19), (30, 40)] {
            assert_eq!(rgb_at(&out[0], x, y), background, "not outline at {x},{y}");
        }
        assert_eq!(rgb_at(&out[0], 40, 30), red, "landmark dot");
        assert_eq!(rgb_at(&out[0], 36, 26), background, "the dot is small");
    }

    #[test]
    fn the_label_sits_above_the_box_with_contrasting_text() {
        let input = with_detections(PixelFormat::Rgb24, Some(vec![face([10.0, 20.0, 50.0, 40.0])]));
        let out = run_transform("draw_detections", json!({ "color": "white" }), vec![input]);
        // Scale 1 at 48 rows: a label 10 px high at y 10..20, text black on white.
        let label: Vec<[u8; 3]> = (10..20)
            .flat_map(|y| (10..20).map(move |x| (x, y)))
            .map(|(x, y)| rgb_at(&out[0], x, y))
            .collect();
        assert!(
            label.contains(&[255, 255, 255]) && label.contains(&[0, 0, 0]),
            "{label:?}"
        );
        assert_eq!(rgb_at(&out[0], 10, 9), [40, 128, 128], "nothing above the label");
    }

    #[test]
    fn boxes_outside_the_frame_are_clipped_not_a_panic() {
        let wild = vec![
            face([-100.0, -50.0, 1000.0, 900.0]),
            face([f32::NAN, 3.0, f32::INFINITY, -4.0]),
            face([70.0, 60.0, 90.0, 80.0]),
        ];
        for format in PixelFormat::RAW {
            let input = with_detections(format, Some(wild.clone()));
            let out = run_transform("draw_detections", json!({ "thickness": 64 }), vec![input]);
            assert_eq!(out[0].buffer.len(), format.frame_size(64, 48), "{format}");
        }
    }

    #[test]
    fn params_are_checked() {
        assert!(kind("draw_detections").prepare(json!({ "thickness": 0 })).is_err());
        assert!(kind("draw_detections").prepare(json!({ "color": "rainbow" })).is_err());
        assert!(kind("draw_detections").prepare(json!({ "colour": "red" })).is_err());
    }
}
