//! Effects: transforms that change the look of raw video, in every raw format.

pub(crate) mod blur;
pub(crate) mod grayscale;
pub(crate) mod mirror;
pub(crate) mod pixelate;

/// Whether plane `index` of `format` is a 4:2:0 chroma plane (half size).
pub(crate) fn is_subsampled(format: ooblex_runtime::PixelFormat, index: usize) -> bool {
    use ooblex_runtime::PixelFormat::{I420, Nv12};
    matches!(format, I420 | Nv12) && index > 0
}
