//! CenterFace: a face-centre heatmap at a quarter of the input size, with box sizes,
//! centre offsets and 5 landmarks per cell.

use ooblex_infer::Tensor;
use ooblex_runtime::{Detection, NodeError};

use crate::infer::decode::bad_outputs;

/// Cells per input pixel side.
const STRIDE: f32 = 4.0;

/// Faces from outputs `[heatmap 1x1xHxW, scale 1x2xHxW, offset 1x2xHxW, landmarks 1x10xHxW]`.
pub(crate) fn decode(outputs: &[Tensor], threshold: f32) -> Result<Vec<Detection>, NodeError> {
    let [heatmap, scale, offset, landmarks] = outputs else {
        return Err(bad_outputs(
            "centerface",
            format!("{} outputs instead of 4", outputs.len()),
        ));
    };
    let (rows, cols) = match heatmap.shape[..] {
        [1, 1, rows, cols] => (rows, cols),
        _ => {
            return Err(bad_outputs(
                "centerface",
                format!("heatmap of shape {:?}", heatmap.shape),
            ));
        }
    };
    let cells = rows * cols;
    if scale.len() != 2 * cells || offset.len() != 2 * cells || landmarks.len() != 10 * cells {
        return Err(bad_outputs("centerface", "outputs of different grid sizes"));
    }
    let channel = |t: &Tensor, c: usize, cell: usize| t.data[c * cells + cell];
    let mut found = Vec::new();
    for (cell, &score) in heatmap.data.iter().enumerate() {
        if score < threshold {
            continue;
        }
        let (row, col) = ((cell / cols) as f32, (cell % cols) as f32);
        let height = channel(scale, 0, cell).exp() * STRIDE;
        let width = channel(scale, 1, cell).exp() * STRIDE;
        let cy = (row + channel(offset, 0, cell) + 0.5) * STRIDE;
        let cx = (col + channel(offset, 1, cell) + 0.5) * STRIDE;
        let (x0, y0) = ((cx - width / 2.0).max(0.0), (cy - height / 2.0).max(0.0));
        let points = (0..5)
            .map(|k| {
                [
                    x0 + channel(landmarks, 2 * k + 1, cell) * width,
                    y0 + channel(landmarks, 2 * k, cell) * height,
                ]
            })
            .collect();
        found.push(Detection {
            label: "face".into(),
            score,
            bbox: [x0, y0, x0 + width, y0 + height],
            landmarks: points,
        });
    }
    Ok(found)
}
