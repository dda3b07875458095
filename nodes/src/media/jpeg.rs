//! JPEG encoding of raw frames with `jpeg-encoder`, shared by `jpeg_encode`
//! and `mjpeg_sink` where libjpeg-turbo is missing, and JPEG decoding to RGB.
//!
//! RGB(A) and gray8 go to the encoder as they are. I420 and NV12 are handed
//! over as YCbCr rows (limited range widened to JPEG's full range through
//! lookup tables), so they are never converted to RGB and back.

use jpeg_encoder::{ColorType, Encoder, ImageBuffer, JpegColorType, rgb_to_ycbcr};
use ooblex_runtime::{Buffer, FrameAllocator, PixelFormat};

use crate::media::pixels::{CHROMA_TO_FULL, Y_TO_GRAY};
use crate::media::raw::{Plane, RawView};
use crate::media::turbojpeg::TurboDecoder;

/// The most pixels a decoded JPEG may have: 8K UHD.
#[cfg_attr(not(feature = "hosts"), allow(dead_code))] // used by JPEG links between hosts
const MOST_PIXELS: usize = 7680 * 4320;

/// Decodes JPEG files to packed RGB, with libjpeg-turbo where the machine has
/// it, straight into a pooled buffer, otherwise with the `image` crate.
#[cfg_attr(not(feature = "hosts"), allow(dead_code))] // used by JPEG links between hosts
pub(crate) struct RgbDecoder {
    turbo: Option<TurboDecoder>,
}

#[cfg_attr(not(feature = "hosts"), allow(dead_code))] // used by JPEG links between hosts
impl RgbDecoder {
    pub fn new() -> RgbDecoder {
        RgbDecoder {
            turbo: TurboDecoder::new().ok(),
        }
    }

    /// The RGB picture of `jpeg`, in a buffer from `alloc`, with its width and height.
    pub fn decode(&mut self, jpeg: &[u8], alloc: &FrameAllocator) -> Result<(Buffer, u32, u32), String> {
        if let Some(turbo) = &mut self.turbo {
            let size = turbo.size(jpeg)?;
            // The header is the sender's word: a picture claimed larger than
            // 8K is refused before any memory is taken for it.
            if size.0 * size.1 > MOST_PIXELS {
                return Err(format!(
                    "a {}x{} JPEG has more pixels than are decoded (8K, 7680x4320)",
                    size.0, size.1
                ));
            }
            let mut rgb = alloc.alloc(size.0 * size.1 * 3);
            turbo.decode_rgb(jpeg, size, &mut rgb)?;
            return Ok((rgb.freeze(), size.0 as u32, size.1 as u32));
        }
        let decoded = image::load_from_memory_with_format(jpeg, image::ImageFormat::Jpeg)
            .map_err(|err| err.to_string())?
            .into_rgb8();
        let (width, height) = decoded.dimensions();
        Ok((alloc.copy_from(decoded.as_raw()), width, height))
    }
}

/// Encodes `view` at `quality` (1..=100), appending the JPEG file to `out`.
/// Fails, with a message, on pictures larger than JPEG allows.
pub(crate) fn encode(view: &RawView<'_>, quality: u8, out: &mut Vec<u8>) -> Result<(), String> {
    let (Ok(width), Ok(height)) = (u16::try_from(view.width), u16::try_from(view.height)) else {
        return Err(format!(
            "a {}x{} picture is larger than JPEG allows (65535x65535)",
            view.width, view.height
        ));
    };
    let encoder = Encoder::new(out, quality.clamp(1, 100));
    let plane = view.plane(0);
    let packed = match view.format {
        PixelFormat::Rgb24 => Some(ColorType::Rgb),
        PixelFormat::Rgba => Some(ColorType::Rgba),
        PixelFormat::Gray8 => Some(ColorType::Luma),
        _ => None,
    };
    let result = match (packed, plane.tight_bytes()) {
        (Some(color), Some(bytes)) => encoder.encode(bytes, width, height, color),
        (Some(_), None) => encoder.encode_image(StridedPacked { plane, width, height }),
        (None, _) => encoder.encode_image(Yuv420 { view, width, height }),
    };
    result.map_err(|err| format!("jpeg encoding failed: {err}"))
}

/// Packed RGB(A) or gray rows with padding between them.
struct StridedPacked<'a> {
    plane: Plane<'a>,
    width: u16,
    height: u16,
}

impl ImageBuffer for StridedPacked<'_> {
    fn get_jpeg_color_type(&self) -> JpegColorType {
        if self.plane.bpp() == 1 {
            JpegColorType::Luma
        } else {
            JpegColorType::Ycbcr
        }
    }

    fn width(&self) -> u16 {
        self.width
    }

    fn height(&self) -> u16 {
        self.height
    }

    fn fill_buffers(&self, y: u16, buffers: &mut [Vec<u8>; 4]) {
        let row = self.plane.row(usize::from(y));
        if self.plane.bpp() == 1 {
            buffers[0].extend_from_slice(row);
            return;
        }
        for px in row.chunks_exact(self.plane.bpp()) {
            let (y, cb, cr) = rgb_to_ycbcr(px[0], px[1], px[2]);
            buffers[0].push(y);
            buffers[1].push(cb);
            buffers[2].push(cr);
        }
    }
}

/// An I420 or NV12 view as full-range YCbCr rows.
struct Yuv420<'a, 'v> {
    view: &'v RawView<'a>,
    width: u16,
    height: u16,
}

impl ImageBuffer for Yuv420<'_, '_> {
    fn get_jpeg_color_type(&self) -> JpegColorType {
        JpegColorType::Ycbcr
    }

    fn width(&self) -> u16 {
        self.width
    }

    fn height(&self) -> u16 {
        self.height
    }

    fn fill_buffers(&self, y: u16, buffers: &mut [Vec<u8>; 4]) {
        let y = usize::from(y);
        let luma = self.view.plane(0).row(y);
        buffers[0].extend(luma.iter().map(|&v| Y_TO_GRAY[v as usize]));
        let (u, v, step) = match self.view.planes() {
            [_, u, v] => (u.row(y / 2), v.row(y / 2), 1),
            [_, uv] => (uv.row(y / 2), &uv.row(y / 2)[1..], 2),
            _ => unreachable!("a 4:2:0 view has two or three planes"),
        };
        for x in 0..luma.len() {
            let i = (x / 2) * step;
            buffers[1].push(CHROMA_TO_FULL[u[i] as usize]);
            buffers[2].push(CHROMA_TO_FULL[v[i] as usize]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::pixels::convert;
    use crate::media::raw::{RawMut, frame_bytes};

    fn decode(jpeg: &[u8]) -> image::RgbImage {
        image::load_from_memory_with_format(jpeg, image::ImageFormat::Jpeg)
            .expect("the encoder writes valid JPEG")
            .to_rgb8()
    }

    #[test]
    fn every_raw_format_encodes_to_the_same_colour() {
        let (w, h) = (20, 10);
        let rgb: Vec<u8> = [200, 100, 50].repeat(w * h);
        for format in PixelFormat::RAW {
            let mut bytes = vec![0; frame_bytes(format, w, h)];
            convert(
                &RawView::tight(&rgb, PixelFormat::Rgb24, w, h),
                &mut RawMut::new(&mut bytes, format, w, h),
            );
            let mut jpeg = Vec::new();
            encode(&RawView::tight(&bytes, format, w, h), 90, &mut jpeg).expect("a small picture encodes");
            let decoded = decode(&jpeg);
            assert_eq!(decoded.dimensions(), (w as u32, h as u32));
            let px = decoded.get_pixel(5, 5).0;
            let expected = if format == PixelFormat::Gray8 {
                [124; 3]
            } else {
                [200, 100, 50]
            };
            for (got, want) in px.iter().zip(expected) {
                assert!(got.abs_diff(want) <= 6, "{format}: got {px:?}, want {expected:?}");
            }
        }
    }

    #[test]
    fn a_jpeg_that_claims_to_be_huge_is_refused_before_memory_is_taken() {
        let (w, h) = (16, 8);
        let mut jpeg = Vec::new();
        encode(
            &RawView::tight(&vec![90; w * h * 3], PixelFormat::Rgb24, w, h),
            80,
            &mut jpeg,
        )
        .expect("encodes");
        let mut decoder = RgbDecoder::new();
        let alloc = FrameAllocator::new();
        assert_eq!(decoder.decode(&jpeg, &alloc).expect("decodes").1, 16);
        // The frame header (SOF0): marker, length, precision, height, width.
        let sof = jpeg
            .windows(2)
            .position(|pair| pair == [0xff, 0xc0])
            .expect("a baseline frame header");
        jpeg[sof + 5..sof + 9].copy_from_slice(&[0x75, 0x30, 0x75, 0x30]);
        let refused = decoder.decode(&jpeg, &alloc).expect_err("30000x30000 is refused");
        assert!(decoder.turbo.is_none() || refused.contains("30000x30000"), "{refused}");
    }
}
