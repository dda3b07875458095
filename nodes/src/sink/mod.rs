//! Sinks: node kinds that consume frames (files, published streams).

pub(crate) mod hls_sink;
pub(crate) mod json_sink;
pub(crate) mod mjpeg_sink;
pub(crate) mod mp4_sink;
pub(crate) mod null_sink;
pub(crate) mod y4m_sink;
