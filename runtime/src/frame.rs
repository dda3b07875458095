//! Frames: one picture (or one encoded unit) with its timing and metadata.
//!
//! A [`Frame`] is cheap to clone: its pixels live in a reference-counted
//! [`Buffer`], so a frame that goes down an edge or fans out to several inputs
//! is never copied.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::buffer::Buffer;

/// How the bytes of a frame are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PixelFormat {
    /// Packed 8-bit R, G, B.
    Rgb24,
    /// Packed 8-bit R, G, B, A.
    Rgba,
    /// Planar Y, then U and V at half width and half height.
    I420,
    /// Planar Y, then interleaved U/V at half width and half height.
    Nv12,
    /// One 8-bit luma plane.
    Gray8,
    /// A compressed unit (a JPEG picture, an H.264 access unit): one opaque plane.
    Encoded(Codec),
    /// No picture: the frame carries only results (detections, tensors).
    Empty,
}

/// What compressed an encoded frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    /// One JPEG picture.
    Jpeg,
    /// One H.264 access unit in Annex B form (start codes); a keyframe starts
    /// with its SPS and PPS.
    H264,
    /// One AAC frame with its ADTS header (1024 samples, about 21 ms at
    /// 48 kHz), so that each frame says its profile, sample rate and channels.
    Aac,
}

impl Codec {
    /// The lower-case name (`jpeg`, `h264`, `aac`).
    pub fn name(self) -> &'static str {
        match self {
            Codec::Jpeg => "jpeg",
            Codec::H264 => "h264",
            Codec::Aac => "aac",
        }
    }
}

/// One plane of a frame: where it starts in the buffer and how it is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PlaneLayout {
    /// Byte offset of the plane's first row in the buffer.
    pub offset: usize,
    /// Bytes from the start of one row to the next.
    pub stride: usize,
    /// Pixels (samples groups) per row.
    pub width: usize,
    /// Rows.
    pub height: usize,
    /// Bytes per pixel within this plane.
    pub bytes_per_pixel: usize,
}

/// The plane layouts of a frame (at most three), stored inline so that making
/// a frame allocates nothing. Dereferences to a slice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Planes {
    layouts: [PlaneLayout; 3],
    count: usize,
}

impl Planes {
    /// Planes with these layouts (at most three: a broken invariant otherwise).
    pub fn from_layouts(layouts: &[PlaneLayout]) -> Planes {
        let mut planes = Planes::default();
        planes.layouts[..layouts.len()].copy_from_slice(layouts);
        planes.count = layouts.len();
        planes
    }
}

impl std::ops::Deref for Planes {
    type Target = [PlaneLayout];
    fn deref(&self) -> &[PlaneLayout] {
        &self.layouts[..self.count]
    }
}

impl PixelFormat {
    /// Every raw format, in the order they are documented.
    pub const RAW: [PixelFormat; 5] = [
        PixelFormat::Rgb24,
        PixelFormat::Rgba,
        PixelFormat::I420,
        PixelFormat::Nv12,
        PixelFormat::Gray8,
    ];

    /// The lower-case name used in graph files (`rgb24`, `i420`, ...).
    pub fn name(self) -> &'static str {
        match self {
            PixelFormat::Rgb24 => "rgb24",
            PixelFormat::Rgba => "rgba",
            PixelFormat::I420 => "i420",
            PixelFormat::Nv12 => "nv12",
            PixelFormat::Gray8 => "gray8",
            PixelFormat::Encoded(codec) => codec.name(),
            PixelFormat::Empty => "empty",
        }
    }

    /// The tightly packed plane layouts of a `width` x `height` frame.
    ///
    /// Chroma planes of odd sizes round up, as ffmpeg does.
    pub fn planes(self, width: u32, height: u32) -> Planes {
        let (w, h) = (width as usize, height as usize);
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        let packed = |bpp: usize| Planes::from_layouts(&[plane(0, w * bpp, w, h, bpp)]);
        match self {
            PixelFormat::Rgb24 => packed(3),
            PixelFormat::Rgba => packed(4),
            PixelFormat::Gray8 => packed(1),
            PixelFormat::I420 => {
                let luma = w * h;
                let chroma = cw * ch;
                Planes::from_layouts(&[
                    plane(0, w, w, h, 1),
                    plane(luma, cw, cw, ch, 1),
                    plane(luma + chroma, cw, cw, ch, 1),
                ])
            }
            PixelFormat::Nv12 => Planes::from_layouts(&[plane(0, w, w, h, 1), plane(w * h, cw * 2, cw, ch, 2)]),
            PixelFormat::Encoded(_) | PixelFormat::Empty => Planes::default(),
        }
    }

    /// Bytes of a tightly packed `width` x `height` frame.
    pub fn frame_size(self, width: u32, height: u32) -> usize {
        self.planes(width, height)
            .last()
            .map_or(0, |p| p.offset + p.stride * p.height)
    }
}

fn plane(offset: usize, stride: usize, width: usize, height: usize, bpp: usize) -> PlaneLayout {
    PlaneLayout {
        offset,
        stride,
        width,
        height,
        bytes_per_pixel: bpp,
    }
}

impl Serialize for PixelFormat {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl fmt::Display for PixelFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The name of one stream among the many a graph may carry: for now, each
/// stream key of an `rtmp_source` that takes any key. Single-stream sources
/// use the default, empty id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamId(Arc<str>);

impl StreamId {
    /// A stream id from its name.
    pub fn new(name: &str) -> Self {
        StreamId(Arc::from(name))
    }

    /// The name; empty for the default stream.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is the default stream of a single-stream source.
    pub fn is_default(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One object found in a frame, in pixels of that frame.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Detection {
    /// What was found (`face`, `person`, ...).
    pub label: String,
    /// Confidence in 0..=1.
    pub score: f32,
    /// `[x0, y0, x1, y1]`.
    #[serde(rename = "box")]
    pub bbox: [f32; 4],
    /// Key points (eyes, nose, mouth corners, ...) when the model gives them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub landmarks: Vec<[f32; 2]>,
}

/// One named output of a model, as carried on `tensor` edges.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TensorData {
    /// The output's name in the model.
    pub name: String,
    /// Dimensions, outermost first.
    pub shape: Vec<usize>,
    /// Row-major values.
    #[serde(skip)]
    pub data: Arc<[f32]>,
}

/// What nodes learned about a frame, carried along with it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metadata {
    /// Objects found by detectors, if a detector ran.
    pub detections: Option<Vec<Detection>>,
    /// Model outputs, if an `infer` node ran.
    pub tensors: Option<Vec<TensorData>>,
}

/// A picture or encoded unit travelling through the graph.
#[derive(Clone)]
pub struct Frame {
    /// The bytes, shared by every holder of this frame.
    pub buffer: Buffer,
    /// Layout of `buffer`.
    pub format: PixelFormat,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The plane layouts within `buffer` (empty for encoded frames).
    pub planes: Planes,
    /// Whether the frame decodes on its own: always for raw and JPEG pictures;
    /// for H.264, an access unit with an IDR picture. Queues on encoded edges
    /// drop up to the next keyframe, never a frame a decoder still needs.
    pub keyframe: bool,
    /// Presentation time from the start of the stream.
    pub pts: Duration,
    /// Decode time, for encoded frames that come in decode order ahead of
    /// their presentation (H.264 with B-frames); `None` means at `pts`.
    pub dts: Option<Duration>,
    /// The source's frame number, consecutive when nothing was dropped.
    pub seq: u64,
    /// When the source captured or produced the frame, for end-to-end latency.
    pub capture: Instant,
    /// Which stream this frame belongs to.
    pub stream: StreamId,
    /// Detections, masks and other results of analysis.
    pub meta: Arc<Metadata>,
}

impl Frame {
    /// A new frame of tightly packed `format` pixels, captured now, on the default stream.
    pub fn new(buffer: Buffer, format: PixelFormat, width: u32, height: u32, pts: Duration, seq: u64) -> Frame {
        Frame {
            buffer,
            format,
            width,
            height,
            planes: format.planes(width, height),
            keyframe: true,
            pts,
            dts: None,
            seq,
            capture: Instant::now(),
            stream: StreamId::default(),
            meta: Arc::new(Metadata::default()),
        }
    }

    /// The bytes of plane `index`, from its first row to the end of its last.
    ///
    /// Panics if the frame has no such plane (a broken invariant of the node).
    pub fn plane(&self, index: usize) -> &[u8] {
        let p = &self.planes[index];
        &self.buffer.as_slice()[p.offset..p.offset + p.stride * p.height]
    }

    /// A frame with the same timing, stream and metadata and a new picture.
    pub fn with_picture(&self, buffer: Buffer, format: PixelFormat, width: u32, height: u32) -> Frame {
        Frame {
            buffer,
            format,
            width,
            height,
            planes: format.planes(width, height),
            keyframe: true,
            dts: None,
            ..self.clone()
        }
    }

    /// A frame with the same timing, stream and metadata carrying `data`, an
    /// encoded unit of `codec`.
    pub fn with_encoded(&self, data: Buffer, codec: Codec, keyframe: bool) -> Frame {
        Frame {
            buffer: data,
            format: PixelFormat::Encoded(codec),
            planes: Planes::default(),
            keyframe,
            ..self.clone()
        }
    }

    /// The same timing, stream and metadata without the picture: what `detections` and
    /// `tensor` ports carry, so results travel without pixels.
    pub fn without_picture(&self) -> Frame {
        Frame {
            buffer: Buffer::from_vec(Vec::new()),
            format: PixelFormat::Empty,
            planes: Planes::default(),
            keyframe: true,
            ..self.clone()
        }
    }

    /// A frame like this one with `meta` replaced.
    pub fn with_meta(&self, meta: Metadata) -> Frame {
        Frame {
            meta: Arc::new(meta),
            ..self.clone()
        }
    }

    /// Time from capture until now.
    pub fn age(&self) -> Duration {
        self.capture.elapsed()
    }
}

impl fmt::Debug for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Frame")
            .field("format", &self.format)
            .field("width", &self.width)
            .field("height", &self.height)
            .field("pts", &self.pts)
            .field("seq", &self.seq)
            .field("keyframe", &self.keyframe)
            .field("stream", &self.stream)
            .field("bytes", &self.buffer.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn i420_planes_round_odd_sizes_up() {
        let planes = PixelFormat::I420.planes(5, 3);
        assert_eq!(planes[1].width, 3);
        assert_eq!(planes[1].height, 2);
        assert_eq!(PixelFormat::I420.frame_size(5, 3), 15 + 6 + 6);
    }

    #[test]
    fn packed_sizes() {
        assert_eq!(PixelFormat::Rgb24.frame_size(1920, 1080), 6_220_800);
        assert_eq!(PixelFormat::Nv12.frame_size(4, 4), 16 + 8);
    }
}
