//! NanoDet: per cell of strides 8, 16 and 32, class scores (sigmoid already applied)
//! and box side distances as 11 bins each, read as a softmax expectation.

use ooblex_infer::Tensor;
use ooblex_runtime::{Detection, NodeError};

use crate::infer::decode::bad_outputs;

/// Overlap above which a box of the same class is dropped.
pub(crate) const NMS_IOU: f32 = 0.5;
/// Distance bins per box side.
const BINS: usize = 11;
/// The output strides, in the order of the manifest's `(cls, reg)` output pairs.
const STRIDES: [usize; 3] = [8, 16, 32];

/// Objects from outputs `[cls_s8, reg_s8, cls_s16, reg_s16, cls_s32, reg_s32]` of a
/// square input.
pub(crate) fn decode(outputs: &[Tensor], labels: &[String], threshold: f32) -> Result<Vec<Detection>, NodeError> {
    if outputs.len() != 2 * STRIDES.len() || labels.is_empty() {
        return Err(bad_outputs(
            "nanodet",
            format!(
                "{} outputs and {} labels (6 outputs and the class names are needed)",
                outputs.len(),
                labels.len()
            ),
        ));
    }
    let classes = labels.len();
    let mut found = Vec::new();
    for (pair, stride) in outputs.chunks_exact(2).zip(STRIDES) {
        let (cls, reg) = (&pair[0], &pair[1]);
        let cells = cls.len() / classes;
        let side = (cells as f64).sqrt() as usize;
        if side * side != cells || cls.len() != cells * classes || reg.len() != cells * 4 * BINS {
            return Err(bad_outputs(
                "nanodet",
                format!(
                    "stride {stride}: shapes {:?} and {:?} for {classes} classes",
                    cls.shape, reg.shape
                ),
            ));
        }
        for cell in 0..cells {
            let scores = &cls.data[cell * classes..(cell + 1) * classes];
            let (class, &score) = scores
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .expect("there is at least one class");
            if score < threshold {
                continue;
            }
            let cx = ((cell % side) as f32 + 0.5) * stride as f32;
            let cy = ((cell / side) as f32 + 0.5) * stride as f32;
            let bins = &reg.data[cell * 4 * BINS..(cell + 1) * 4 * BINS];
            let [left, top, right, bottom] =
                [0, 1, 2, 3].map(|k| expected_bin(&bins[k * BINS..(k + 1) * BINS]) * stride as f32);
            found.push(Detection {
                label: labels[class].clone(),
                score,
                bbox: [cx - left, cy - top, cx + right, cy + bottom],
                landmarks: Vec::new(),
            });
        }
    }
    Ok(found)
}

/// The softmax-weighted mean bin index of `logits`.
fn expected_bin(logits: &[f32]) -> f32 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let weights: Vec<f32> = logits.iter().map(|&l| (l - max).exp()).collect();
    let total: f32 = weights.iter().sum();
    weights.iter().enumerate().map(|(i, w)| i as f32 * w).sum::<f32>() / total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sharp_bin_gives_its_index() {
        let mut logits = [0.0; BINS];
        logits[3] = 50.0;
        assert!((expected_bin(&logits) - 3.0).abs() < 1e-4);
    }
}
