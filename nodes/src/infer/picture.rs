//! Turning a frame into a model's picture tensor, and model coordinates back into
//! frame pixels.

use ooblex_infer::{Channels, Layout, PictureInput, Resize};
use ooblex_runtime::{NodeError, PixelFormat};

use crate::media::fit::Fitter;
use crate::media::raw::RawView;

/// How a frame is fitted into a model input of another shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fit {
    /// Scale each side on its own (the picture may be distorted).
    Stretch,
    /// Scale to fit inside, keeping the aspect ratio, and pad the rest.
    Letterbox,
}

impl Fit {
    /// The fit a manifest's `input.resize` asks for.
    pub fn of(resize: Resize) -> Fit {
        match resize {
            Resize::Stretch => Fit::Stretch,
            Resize::Letterbox => Fit::Letterbox,
        }
    }
}

/// Where the frame landed in the model input: `model = frame * scale + pad`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Placement {
    /// Horizontal scale from frame to model pixels.
    pub scale_x: f32,
    /// Vertical scale from frame to model pixels.
    pub scale_y: f32,
    /// Left padding in model pixels.
    pub pad_x: f32,
    /// Top padding in model pixels.
    pub pad_y: f32,
}

impl Placement {
    /// A point in model input pixels, in frame pixels.
    pub fn to_frame(self, [x, y]: [f32; 2]) -> [f32; 2] {
        [(x - self.pad_x) / self.scale_x, (y - self.pad_y) / self.scale_y]
    }

    /// The size of the frame inside the model input.
    fn inner(&self, frame_w: usize, frame_h: usize) -> (usize, usize) {
        (
            ((frame_w as f32 * self.scale_x).round() as usize).max(1),
            ((frame_h as f32 * self.scale_y).round() as usize).max(1),
        )
    }
}

/// Writes pictures into model tensors, reusing its buffers.
#[derive(Default)]
pub(crate) struct PictureTensor {
    fitter: Fitter,
    /// The tensor values, reused from frame to frame.
    pub data: Vec<f32>,
}

impl PictureTensor {
    /// Fills `self.data` with `view` fitted into a `width` x `height` tensor for `input`,
    /// and says where the frame landed. Padding is black.
    pub fn fill(
        &mut self,
        view: &RawView<'_>,
        input: &PictureInput,
        (width, height): (usize, usize),
        fit: Fit,
    ) -> Result<Placement, NodeError> {
        let placement = match fit {
            Fit::Stretch => Placement {
                scale_x: width as f32 / view.width as f32,
                scale_y: height as f32 / view.height as f32,
                pad_x: 0.0,
                pad_y: 0.0,
            },
            Fit::Letterbox => {
                let scale = (width as f32 / view.width as f32).min(height as f32 / view.height as f32);
                let inner_w = ((view.width as f32 * scale).round() as usize).clamp(1, width);
                let inner_h = ((view.height as f32 * scale).round() as usize).clamp(1, height);
                Placement {
                    scale_x: scale,
                    scale_y: scale,
                    pad_x: ((width - inner_w) / 2) as f32,
                    pad_y: ((height - inner_h) / 2) as f32,
                }
            }
        };
        let (inner_w, inner_h) = placement.inner(view.width, view.height);
        let (inner_w, inner_h) = (inner_w.min(width), inner_h.min(height));
        let rgb = self.fitter.fit(view, PixelFormat::Rgb24, inner_w, inner_h)?;
        let (pad_x, pad_y) = (placement.pad_x as usize, placement.pad_y as usize);
        let order = match input.channels {
            Channels::Rgb => [0, 1, 2],
            Channels::Bgr => [2, 1, 0],
        };
        let scale = input.std.map(|s| 1.0 / s);
        let black = [0, 1, 2].map(|c| -input.mean[c] * scale[c]);
        self.data.clear();
        self.data.resize(width * height * 3, 0.0);
        let plane = width * height;
        let plane0 = rgb.plane(0);
        for y in 0..height {
            let row = y.checked_sub(pad_y).filter(|&r| r < inner_h).map(|r| plane0.row(r));
            for x in 0..width {
                let pixel = row.and_then(|row| {
                    let col = x.checked_sub(pad_x).filter(|&c| c < inner_w)?;
                    Some(&row[col * 3..col * 3 + 3])
                });
                for c in 0..3 {
                    let value = match pixel {
                        Some(p) => (f32::from(p[order[c]]) - input.mean[c]) * scale[c],
                        None => black[c],
                    };
                    let at = match input.layout {
                        Layout::Nchw => c * plane + y * width + x,
                        Layout::Nhwc => (y * width + x) * 3 + c,
                    };
                    self.data[at] = value;
                }
            }
        }
        Ok(placement)
    }
}

/// The shape of a `width` x `height` picture tensor in `layout`.
pub(crate) fn tensor_shape(layout: Layout, (width, height): (usize, usize)) -> Vec<usize> {
    match layout {
        Layout::Nchw => vec![1, 3, height, width],
        Layout::Nhwc => vec![1, height, width, 3],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(layout: Layout, channels: Channels) -> PictureInput {
        PictureInput {
            name: "x".into(),
            layout,
            width: None,
            height: None,
            multiple_of: 1,
            channels,
            mean: [0.0, 0.0, 0.0],
            std: [255.0, 255.0, 255.0],
            resize: ooblex_infer::Resize::Stretch,
        }
    }

    fn assert_close(got: &[f32], want: &[f32]) {
        assert_eq!(got.len(), want.len());
        assert!(
            got.iter().zip(want).all(|(g, w)| (g - w).abs() < 1e-6),
            "{got:?} != {want:?}"
        );
    }

    #[test]
    fn channels_layout_and_normalisation_follow_the_manifest() {
        let rgb = [255u8, 0, 51, 255, 0, 51];
        let view = RawView::tight(&rgb, PixelFormat::Rgb24, 2, 1);
        let mut tensor = PictureTensor::default();
        tensor
            .fill(&view, &input(Layout::Nchw, Channels::Bgr), (2, 1), Fit::Stretch)
            .expect("rgb24 fits");
        assert_close(&tensor.data, &[0.2, 0.2, 0.0, 0.0, 1.0, 1.0]);
        tensor
            .fill(&view, &input(Layout::Nhwc, Channels::Rgb), (2, 1), Fit::Stretch)
            .expect("rgb24 fits");
        assert_close(&tensor.data, &[1.0, 0.0, 0.2, 1.0, 0.0, 0.2]);
    }

    #[test]
    fn a_letterbox_pads_and_maps_back() {
        let white = [255u8; 4 * 2 * 3];
        let view = RawView::tight(&white, PixelFormat::Rgb24, 4, 2);
        let mut tensor = PictureTensor::default();
        let placement = tensor
            .fill(&view, &input(Layout::Nhwc, Channels::Rgb), (4, 4), Fit::Letterbox)
            .expect("rgb24 fits");
        assert_eq!((placement.pad_x, placement.pad_y, placement.scale_x), (0.0, 1.0, 1.0));
        let rows: Vec<f32> = tensor.data.chunks(12).map(|row| row[0]).collect();
        assert_eq!(rows, [0.0, 1.0, 1.0, 0.0]);
        assert_eq!(placement.to_frame([2.0, 3.0]), [2.0, 2.0]);
    }
}
