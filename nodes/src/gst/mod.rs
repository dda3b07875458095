//! GStreamer node kinds (cargo feature `gstreamer`): RTSP cameras, webcams,
//! any file or URI, any `gst-launch-1.0` description in and out, and RTMP out.
//!
//! Sources give raw I420 frames, whatever the stream; sinks take any raw
//! format. GStreamer is started once, by the first node built.

mod capture;
pub(crate) mod gst_sink;
pub(crate) mod gst_source;
pub(crate) mod libav_decode;
mod pipeline;
pub(crate) mod rtmp_sink;
pub(crate) mod rtsp_source;
pub(crate) mod uri_source;
pub(crate) mod webcam_source;
