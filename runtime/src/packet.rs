//! What travels on an edge: frames, and word that one stream ended.

use crate::frame::{Frame, StreamId};

/// One item on an edge, delivered in the order it was sent.
#[derive(Debug, Clone)]
#[expect(
    clippy::large_enum_variant,
    reason = "nearly every packet is a frame; boxing it would allocate once per frame"
)]
pub enum Packet {
    /// A picture or encoded unit.
    Frame(Frame),
    /// The stream's publisher left (an RTMP client hung up): nodes send on what
    /// they still hold for it — a decoder's reordered pictures, a muxer's last
    /// fragment — and pass the word on. The stream may start again later, at a
    /// keyframe. Queues never drop it.
    StreamEnd(StreamId),
}

impl Packet {
    /// The frame, when this is one.
    pub fn into_frame(self) -> Option<Frame> {
        match self {
            Packet::Frame(frame) => Some(frame),
            Packet::StreamEnd(_) => None,
        }
    }

    /// The stream it belongs to.
    pub fn stream(&self) -> &StreamId {
        match self {
            Packet::Frame(frame) => &frame.stream,
            Packet::StreamEnd(stream) => stream,
        }
    }
}

impl From<Frame> for Packet {
    fn from(frame: Frame) -> Packet {
        Packet::Frame(frame)
    }
}
