//! Port declarations: the media types that flow on edges and the ports a kind has.

use std::fmt;

use serde::Serialize;

use crate::node::formats::{FormatSet, Gives};

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
    /// AAC audio, one ADTS frame per [`crate::Frame`] (`audio/aac`).
    Aac,
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
            MediaType::Aac => "audio/aac",
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
    /// The raw pixel formats it takes (for `video/raw`; frames in others are
    /// converted on the edge).
    #[serde(serialize_with = "serialize_formats")]
    pub formats: FormatSet,
}

/// An output port of a node kind.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct OutputPortSpec {
    /// Port name, written `node.port` in the graph file; the first output is the default.
    pub name: &'static str,
    /// What the port produces.
    pub media: MediaType,
    /// The raw pixel formats it gives (for `video/raw`), unless the kind says
    /// otherwise from its params ([`crate::NodeKind::output_formats`]).
    #[serde(serialize_with = "serialize_gives")]
    pub formats: Gives,
}

impl InputPortSpec {
    /// The required `video` input of a raw-video node that takes `formats`.
    pub const fn video(formats: FormatSet) -> InputPortSpec {
        InputPortSpec {
            name: "video",
            accepts: &[MediaType::RawVideo],
            required: true,
            formats,
        }
    }

    /// An input that takes `accepts`, raw video in any format.
    pub const fn new(name: &'static str, accepts: &'static [MediaType], required: bool) -> InputPortSpec {
        InputPortSpec {
            name,
            accepts,
            required,
            formats: FormatSet::ALL_RAW,
        }
    }

    /// Whether frames of this media type on this port carry pixel formats to negotiate.
    pub fn takes_raw(&self) -> bool {
        self.accepts.contains(&MediaType::RawVideo)
    }
}

impl OutputPortSpec {
    /// The `video` output of a raw-video node that gives `formats`.
    pub const fn video(formats: Gives) -> OutputPortSpec {
        OutputPortSpec {
            name: "video",
            media: MediaType::RawVideo,
            formats,
        }
    }

    /// An output of `media` that carries no raw pictures (encoded video, results).
    pub const fn encoded(name: &'static str, media: MediaType) -> OutputPortSpec {
        OutputPortSpec {
            name,
            media,
            formats: Gives::Only(FormatSet::EMPTY),
        }
    }
}

/// The required `video` input of raw-video nodes that take every raw format.
pub const VIDEO_IN: InputPortSpec = InputPortSpec::video(FormatSet::ALL_RAW);

/// The `video` output of raw-video nodes that keep the format they were given.
pub const VIDEO_OUT: OutputPortSpec = OutputPortSpec::video(Gives::AsInput);

fn serialize_formats<S: serde::Serializer>(formats: &FormatSet, s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(formats.iter().map(crate::PixelFormat::name))
}

fn serialize_gives<S: serde::Serializer>(gives: &Gives, s: S) -> Result<S::Ok, S::Error> {
    match gives {
        Gives::AsInput => s.serialize_str("as input"),
        Gives::Only(formats) => serialize_formats(formats, s),
    }
}
