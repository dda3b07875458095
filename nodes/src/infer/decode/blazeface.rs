//! BlazeFace (short range, 128x128): scores and boxes for 896 anchors on a 16x16 grid
//! (2 per cell) and an 8x8 grid (6 per cell), with 6 key points each (right eye, left
//! eye, nose tip, mouth, right ear, left ear).

use ooblex_infer::Tensor;
use ooblex_runtime::{Detection, NodeError};

use crate::infer::decode::bad_outputs;

/// The two anchor grids: cells per side and anchors per cell.
const GRIDS: [(usize, usize); 2] = [(16, 2), (8, 6)];
/// Values per anchor: box centre and size, then 6 (x, y) key points.
const VALUES: usize = 16;

/// Faces from outputs `[scores 16x16, scores 8x8, boxes 16x16, boxes 8x8]`, in pixels of
/// the `size` input.
pub(crate) fn decode(outputs: &[Tensor], size: (usize, usize), threshold: f32) -> Result<Vec<Detection>, NodeError> {
    let [scores_a, scores_b, boxes_a, boxes_b] = outputs else {
        return Err(bad_outputs(
            "blazeface",
            format!("{} outputs instead of 4", outputs.len()),
        ));
    };
    let (width, height) = (size.0 as f32, size.1 as f32);
    let mut found = Vec::new();
    for ((cells, per_cell), (scores, boxes)) in GRIDS.into_iter().zip([(scores_a, boxes_a), (scores_b, boxes_b)]) {
        let anchors = cells * cells * per_cell;
        if scores.len() != anchors || boxes.len() != anchors * VALUES {
            return Err(bad_outputs(
                "blazeface",
                format!("a {cells}x{cells} grid needs {anchors} scores, found {}", scores.len()),
            ));
        }
        for anchor in 0..anchors {
            let score = sigmoid(scores.data[anchor]);
            if score < threshold {
                continue;
            }
            let cell = anchor / per_cell;
            // Anchor centres in input pixels; offsets are in input pixels too.
            let ax = ((cell % cells) as f32 + 0.5) / cells as f32 * width;
            let ay = ((cell / cells) as f32 + 0.5) / cells as f32 * height;
            let v = &boxes.data[anchor * VALUES..(anchor + 1) * VALUES];
            let (cx, cy, w, h) = (ax + v[0], ay + v[1], v[2], v[3]);
            found.push(Detection {
                label: "face".into(),
                score,
                bbox: [cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0],
                landmarks: v[4..].chunks_exact(2).map(|p| [ax + p[0], ay + p[1]]).collect(),
            });
        }
    }
    Ok(found)
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}
