//! [`Fitter`]: any raw picture as a tightly packed rgb24 or rgba picture of a given
//! size, converted and scaled with reused buffers. Compositors fit their inputs with it,
//! and inference nodes fit frames into model inputs.

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use ooblex_runtime::{NodeError, PixelFormat};

use crate::media::pixels::convert;
use crate::media::raw::{RawMut, RawView, frame_bytes};

/// Turns pictures of any raw format and size into tightly packed pictures of
/// one packed format and size, reusing its buffers from frame to frame.
pub(crate) struct Fitter {
    resizer: Resizer,
    options: ResizeOptions,
    /// The input in the output format, at its own size.
    converted: Vec<u8>,
    /// A tight copy of an input with padded rows.
    packed: Vec<u8>,
    /// The input at the output size.
    scaled: Vec<u8>,
}

impl Default for Fitter {
    fn default() -> Self {
        Fitter {
            resizer: Resizer::new(),
            options: ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Bilinear)),
            converted: Vec::new(),
            packed: Vec::new(),
            scaled: Vec::new(),
        }
    }
}

impl Fitter {
    /// `src` as a `width` x `height` picture in `format` (rgb24 or rgba):
    /// `src` itself when it already is one, else a converted and bilinearly
    /// scaled copy held by the fitter.
    pub fn fit<'a>(
        &'a mut self,
        src: &RawView<'a>,
        format: PixelFormat,
        width: usize,
        height: usize,
    ) -> Result<RawView<'a>, NodeError> {
        debug_assert!(matches!(format, PixelFormat::Rgb24 | PixelFormat::Rgba));
        let converted = if src.format == format {
            *src
        } else {
            self.converted.resize(frame_bytes(format, src.width, src.height), 0);
            convert(
                src,
                &mut RawMut::new(&mut self.converted, format, src.width, src.height),
            );
            RawView::tight(&self.converted, format, src.width, src.height)
        };
        if (converted.width, converted.height) == (width, height) {
            return Ok(converted);
        }
        let plane = converted.plane(0);
        let bytes = match plane.tight_bytes() {
            Some(bytes) => bytes,
            None => {
                self.packed.clear();
                plane.rows().for_each(|row| self.packed.extend_from_slice(row));
                &self.packed
            }
        };
        let pixel_type = if format == PixelFormat::Rgba {
            PixelType::U8x4
        } else {
            PixelType::U8x3
        };
        self.scaled.resize(frame_bytes(format, width, height), 0);
        let failed = |err: &dyn std::fmt::Display| NodeError::frame(format!("cannot scale a picture: {err}"));
        let from = ImageRef::new(converted.width as u32, converted.height as u32, bytes, pixel_type)
            .map_err(|err| failed(&err))?;
        {
            let mut to = Image::from_slice_u8(width as u32, height as u32, &mut self.scaled, pixel_type)
                .map_err(|err| failed(&err))?;
            self.resizer
                .resize(&from, &mut to, &self.options)
                .map_err(|err| failed(&err))?;
        }
        Ok(RawView::tight(&self.scaled, format, width, height))
    }
}
