//! [`Detector`]: a detection model with its decoder, giving boxes in frame pixels.

use ooblex_infer::Task;
use ooblex_runtime::{Detection, Frame, NodeError, PixelFormat};

use crate::infer::decode::Decoder;
use crate::infer::picture::Fit;
use crate::infer::runner::{ModelRunner, RunOn};
use crate::media::raw::{ALL_RAW, RawView};

/// A detector ready to run on frames.
pub(crate) struct Detector {
    runner: ModelRunner,
    decoder: Decoder,
    threshold: f32,
    /// Long side of the input for models that take any size.
    long_side: Option<usize>,
    kind: &'static str,
}

impl Detector {
    /// Loads `model`, which must be a `task` model with a known decoder.
    pub fn open(
        kind: &'static str,
        model: &str,
        task: Task,
        run_on: RunOn,
        threshold: f32,
        long_side: Option<usize>,
    ) -> Result<Detector, NodeError> {
        let runner = ModelRunner::open(kind, model, task, run_on)?;
        let decoder = Decoder::named(runner.manifest().decoder.as_deref(), model)?;
        Ok(Detector {
            runner,
            decoder,
            threshold,
            long_side,
            kind,
        })
    }

    /// What the model finds in `frame`, in the frame's pixels, best first.
    pub fn detect(&mut self, frame: &Frame) -> Result<Vec<Detection>, NodeError> {
        let view = RawView::of(frame, self.kind, ALL_RAW)?;
        self.detect_view(&view)
    }

    /// [`Detector::detect`] on a picture already viewed.
    pub fn detect_view(&mut self, view: &RawView<'_>) -> Result<Vec<Detection>, NodeError> {
        debug_assert!(PixelFormat::RAW.contains(&view.format));
        let size = self.runner.input_size((view.width, view.height), self.long_side);
        let fit = Fit::of(self.runner.manifest().input.resize);
        let (outputs, placement) = self.runner.run(view, size, fit, &[])?;
        let found = self
            .decoder
            .decode(&outputs, size, &self.runner.manifest().labels, self.threshold)?;
        let (w, h) = (view.width as f32, view.height as f32);
        let clamp = |[x, y]: [f32; 2]| [x.clamp(0.0, w), y.clamp(0.0, h)];
        Ok(found
            .into_iter()
            .map(|d| {
                let [x0, y0] = clamp(placement.to_frame([d.bbox[0], d.bbox[1]]));
                let [x1, y1] = clamp(placement.to_frame([d.bbox[2], d.bbox[3]]));
                Detection {
                    bbox: [x0, y0, x1, y1],
                    landmarks: d.landmarks.into_iter().map(|p| placement.to_frame(p)).collect(),
                    ..d
                }
            })
            .filter(|d| d.bbox[2] > d.bbox[0] && d.bbox[3] > d.bbox[1])
            .collect())
    }
}
