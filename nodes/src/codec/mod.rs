//! Codecs: transforms between raw and encoded media.

pub(crate) mod h264_decode;
pub(crate) mod h264_encode;
pub(crate) mod h264_support;
pub(crate) mod jpeg_encode;
