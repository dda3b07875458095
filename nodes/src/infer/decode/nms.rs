//! Non-maximum suppression: of overlapping boxes of one label, keep the best.

use ooblex_runtime::Detection;

/// Intersection over union of two `[x0, y0, x1, y1]` boxes.
pub(crate) fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let w = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let h = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = w * h;
    let area = |r: &[f32; 4]| (r[2] - r[0]).max(0.0) * (r[3] - r[1]).max(0.0);
    let union = area(a) + area(b) - inter;
    if union > 0.0 { inter / union } else { 0.0 }
}

/// The detections left after dropping each one that overlaps a better one of the
/// same label by more than `max_iou`, best first.
pub(crate) fn suppress(mut found: Vec<Detection>, max_iou: f32) -> Vec<Detection> {
    found.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<Detection> = Vec::new();
    for candidate in found {
        let overlaps = kept
            .iter()
            .any(|k| k.label == candidate.label && iou(&k.bbox, &candidate.bbox) > max_iou);
        if !overlaps {
            kept.push(candidate);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn det(label: &str, score: f32, bbox: [f32; 4]) -> Detection {
        Detection {
            label: label.into(),
            score,
            bbox,
            landmarks: Vec::new(),
        }
    }

    #[test]
    fn overlapping_boxes_of_one_label_collapse_to_the_best() {
        let kept = suppress(
            vec![
                det("face", 0.6, [0.0, 0.0, 10.0, 10.0]),
                det("face", 0.9, [1.0, 1.0, 11.0, 11.0]),
                det("face", 0.7, [50.0, 50.0, 60.0, 60.0]),
                det("cat", 0.5, [1.0, 1.0, 11.0, 11.0]),
            ],
            0.3,
        );
        let scores: Vec<f32> = kept.iter().map(|d| d.score).collect();
        assert_eq!(scores, [0.9, 0.7, 0.5]);
    }

    #[test]
    fn iou_of_half_overlapping_squares() {
        assert!((iou(&[0.0, 0.0, 2.0, 2.0], &[1.0, 0.0, 3.0, 2.0]) - 1.0 / 3.0).abs() < 1e-6);
    }
}
