//! Media helpers shared by the node kinds: checked views of raw frames, pixel
//! format conversion, JPEG encoding, AAC framing, H.264 bitstreams and their coding format,
//! Y4M headers and a bitmap text renderer.

pub(crate) mod aac;
pub(crate) mod canvas;
pub(crate) mod fit;
pub(crate) mod fmp4;
pub(crate) mod h264;
pub(crate) mod h264_format;
pub(crate) mod jpeg;
pub(crate) mod pixels;
pub(crate) mod raw;
pub(crate) mod text;
pub(crate) mod turbojpeg;
pub(crate) mod y4m;
