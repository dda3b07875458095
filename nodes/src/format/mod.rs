//! Format: transforms that change the size or the pixel format of raw video.

pub(crate) mod convert;
pub(crate) mod scale;
