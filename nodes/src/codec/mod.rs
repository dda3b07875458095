//! Codecs: transforms between raw and encoded media.

pub(crate) mod jpeg_encode;
