//! Effects: transforms that change the look of raw video, in every raw format
//! unless their docs say otherwise.

pub(crate) mod blur;
pub(crate) mod cartoon;
pub(crate) mod colour;
pub(crate) mod draw_detections;
pub(crate) mod edge_detect;
pub(crate) mod grayscale;
pub(crate) mod invert;
pub(crate) mod mirror;
pub(crate) mod pixelate;
pub(crate) mod sepia;
mod sobel;

/// Whether plane `index` of `format` is a 4:2:0 chroma plane (half size).
pub(crate) fn is_subsampled(format: ooblex_runtime::PixelFormat, index: usize) -> bool {
    use ooblex_runtime::PixelFormat::{I420, Nv12};
    matches!(format, I420 | Nv12) && index > 0
}

/// `v` moved towards `paint` by `alpha` (0 keeps `v`, 255 gives `paint`), rounded.
#[inline(always)]
pub(crate) fn mix(v: u8, paint: u8, alpha: u8) -> u8 {
    let (v, paint, alpha) = (u32::from(v), u32::from(paint), u32::from(alpha));
    ((v * (255 - alpha) + paint * alpha + 127) / 255) as u8
}

#[cfg(test)]
mod tests {
    use super::mix;

    #[test]
    fn mix_reaches_both_ends() {
        assert_eq!((mix(10, 200, 0), mix(10, 200, 255), mix(0, 255, 128)), (10, 200, 128));
    }
}
