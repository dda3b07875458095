//! [`Segmenter`]: a person segmentation model giving a per-pixel alpha at frame size.

use ooblex_infer::{Layout, Task};
use ooblex_runtime::NodeError;

use crate::infer::picture::Fit;
use crate::infer::runner::{ModelRunner, RunOn};
use crate::media::raw::RawView;

/// Default person segmentation model.
pub const DEFAULT_SEGMENTATION_MODEL: &str = "selfie_segmentation";

/// A segmentation model ready to run on frames.
pub(crate) struct Segmenter {
    runner: ModelRunner,
    /// The last alpha, 0 (background) to 255 (person), one byte per frame pixel.
    pub alpha: Vec<u8>,
}

impl Segmenter {
    /// Loads `model`, a segmentation model with one probability output.
    pub fn open(kind: &'static str, model: &str, run_on: RunOn) -> Result<Segmenter, NodeError> {
        let runner = ModelRunner::open(kind, model, Task::Segmentation, run_on)?;
        Ok(Segmenter {
            runner,
            alpha: Vec::new(),
        })
    }

    /// Fills `self.alpha` for `view`: the model's mask, bilinearly scaled to the frame.
    pub fn segment(&mut self, view: &RawView<'_>) -> Result<&[u8], NodeError> {
        let size = self.runner.input_size((view.width, view.height), None);
        let (outputs, _) = self.runner.run(view, size, Fit::Stretch, &[])?;
        let mask = &outputs[0];
        let (mask_w, mask_h) = match (self.runner.manifest().input.layout, &mask.shape[..]) {
            (Layout::Nhwc, [1, h, w, 1]) | (Layout::Nchw, [1, 1, h, w]) => (*w, *h),
            (_, shape) => {
                return Err(NodeError::failed(format!(
                    "segmentation model `{}` gave a mask of shape {shape:?}; one channel is needed",
                    self.runner.manifest().name
                )));
            }
        };
        scale_mask(&mask.data, (mask_w, mask_h), (view.width, view.height), &mut self.alpha);
        Ok(&self.alpha)
    }
}

/// Scales a probability mask to `out_w` x `out_h` alpha bytes, bilinearly, pixel centres aligned.
fn scale_mask(mask: &[f32], (mask_w, mask_h): (usize, usize), (out_w, out_h): (usize, usize), alpha: &mut Vec<u8>) {
    alpha.clear();
    alpha.reserve(out_w * out_h);
    let sx = mask_w as f32 / out_w as f32;
    let sy = mask_h as f32 / out_h as f32;
    // Horizontal sample positions are the same on every row.
    let columns: Vec<(usize, usize, f32)> = (0..out_w)
        .map(|x| {
            let fx = ((x as f32 + 0.5) * sx - 0.5).clamp(0.0, (mask_w - 1) as f32);
            let x0 = fx as usize;
            (x0, (x0 + 1).min(mask_w - 1), fx - x0 as f32)
        })
        .collect();
    for y in 0..out_h {
        let fy = ((y as f32 + 0.5) * sy - 0.5).clamp(0.0, (mask_h - 1) as f32);
        let y0 = fy as usize;
        let (top, bottom) = (
            &mask[y0 * mask_w..][..mask_w],
            &mask[(y0 + 1).min(mask_h - 1) * mask_w..][..mask_w],
        );
        let wy = fy - y0 as f32;
        for &(x0, x1, wx) in &columns {
            let upper = top[x0] + (top[x1] - top[x0]) * wx;
            let lower = bottom[x0] + (bottom[x1] - bottom[x0]) * wx;
            let p = upper + (lower - upper) * wy;
            alpha.push((p.clamp(0.0, 1.0) * 255.0 + 0.5) as u8);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mask_scales_up_with_its_edges_kept() {
        let mut alpha = Vec::new();
        scale_mask(&[0.0, 1.0, 0.0, 1.0], (2, 2), (4, 2), &mut alpha);
        assert_eq!(alpha, [0, 64, 191, 255, 0, 64, 191, 255]);
    }
}
