//! Port declarations: the media types that flow on edges and the ports a kind has.

use std::fmt;

use serde::Serialize;

/// What flows on an edge. An output may feed an input only when the input accepts its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaType {
    /// Uncompressed pictures (`video/raw`), any [`crate::PixelFormat`].
    RawVideo,
    /// H.264 access units (`video/h264`).
    H264,
    /// JPEG pictures (`image/jpeg`).
    Jpeg,
    /// Lists of detections without pictures (`detections`).
    Detections,
    /// Model outputs (`tensor`).
    Tensor,
}

impl MediaType {
    /// The name used in messages and `ooblex nodes`.
    pub fn name(self) -> &'static str {
        match self {
            MediaType::RawVideo => "video/raw",
            MediaType::H264 => "video/h264",
            MediaType::Jpeg => "image/jpeg",
            MediaType::Detections => "detections",
            MediaType::Tensor => "tensor",
        }
    }
}

impl fmt::Display for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for MediaType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// An input port of a node kind.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct InputPortSpec {
    /// Port name, the key under `inputs:` in the graph file.
    pub name: &'static str,
    /// Media types this port accepts.
    pub accepts: &'static [MediaType],
    /// Whether the graph must connect this port.
    pub required: bool,
}

/// An output port of a node kind.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct OutputPortSpec {
    /// Port name, written `node.port` in the graph file; the first output is the default.
    pub name: &'static str,
    /// What the port produces.
    pub media: MediaType,
}

/// The required `video` input of raw-video nodes.
pub const VIDEO_IN: InputPortSpec = InputPortSpec {
    name: "video",
    accepts: &[MediaType::RawVideo],
    required: true,
};

/// The `video` output of raw-video nodes.
pub const VIDEO_OUT: OutputPortSpec = OutputPortSpec {
    name: "video",
    media: MediaType::RawVideo,
};
