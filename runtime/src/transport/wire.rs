//! The wire format of frames between processes (docs/WIRE.md): a small
//! versioned header, sent as the zenoh attachment, and the frame's bytes as
//! the payload, so that the bytes can stay in shared memory and any zenoh
//! client in any language can read and write frames.
//!
//! Pure: encoding and decoding take and return values; the zenoh links in
//! [`crate::transport`] do the I/O.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::buffer::Buffer;
use crate::frame::{Codec, Detection, Frame, Metadata, PixelFormat, PlaneLayout, Planes, StreamId, TensorData};
use crate::packet::Packet;

/// The first four bytes of every header.
pub const MAGIC: [u8; 4] = *b"OOBX";
/// The version of the header this runtime writes and reads.
pub const WIRE_VERSION: u8 = 1;
/// The largest width or height a raw frame on the wire may have (16K).
pub const MAX_SIDE: u32 = 16_384;
/// Bytes of the fixed part of the header, before the plane table.
const FIXED_LEN: usize = 48;
/// Flag bits.
const KEYFRAME: u8 = 1;
const HAS_DTS: u8 = 2;
const STREAM_END: u8 = 4;

/// Why received bytes are not an Ooblex frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The message has no header (the attachment is missing).
    #[error("the message has no Ooblex frame header (no attachment)")]
    NoHeader,
    /// The header ends before one of its fields.
    #[error("the header is {len} bytes, too short for its {field}")]
    Truncated {
        /// Bytes received.
        len: usize,
        /// The field that did not fit.
        field: &'static str,
    },
    /// The header does not start with `OOBX`.
    #[error("the header does not start with `OOBX`")]
    BadMagic,
    /// A header version this runtime does not read.
    #[error("header version {0} is not supported (this runtime reads version {WIRE_VERSION})")]
    UnsupportedVersion(u8),
    /// An unknown pixel format code.
    #[error("pixel format code {0} is unknown")]
    UnknownFormat(u8),
    /// A raw frame with no pixels, or with a side past [`MAX_SIDE`].
    #[error("a {width}x{height} {format} frame: raw frames are 1 to {MAX_SIDE} pixels on each side")]
    BadSize {
        /// Width.
        width: u32,
        /// Height.
        height: u32,
        /// The pixel format.
        format: PixelFormat,
    },
    /// A plane reaches past the payload or is narrower than its pixels.
    #[error(
        "plane {plane} (offset {offset}, stride {stride}) does not fit a {width}x{height} {format} frame in {len} bytes"
    )]
    BadPlane {
        /// The plane's index.
        plane: usize,
        /// Its offset.
        offset: usize,
        /// Its stride.
        stride: usize,
        /// Frame width.
        width: u32,
        /// Frame height.
        height: u32,
        /// The pixel format.
        format: PixelFormat,
        /// Payload bytes.
        len: usize,
    },
    /// The stream id or metadata is not what the format says.
    #[error("the {field} is malformed: {reason}")]
    Malformed {
        /// Which part.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
}

/// The code of a pixel format on the wire.
fn format_code(format: PixelFormat) -> u8 {
    match format {
        PixelFormat::Empty => 0,
        PixelFormat::Rgb24 => 1,
        PixelFormat::Rgba => 2,
        PixelFormat::I420 => 3,
        PixelFormat::Nv12 => 4,
        PixelFormat::Gray8 => 5,
        PixelFormat::Encoded(Codec::Jpeg) => 16,
        PixelFormat::Encoded(Codec::H264) => 17,
        PixelFormat::Encoded(Codec::Aac) => 32,
    }
}

fn format_of(code: u8) -> Result<PixelFormat, WireError> {
    Ok(match code {
        0 => PixelFormat::Empty,
        1 => PixelFormat::Rgb24,
        2 => PixelFormat::Rgba,
        3 => PixelFormat::I420,
        4 => PixelFormat::Nv12,
        5 => PixelFormat::Gray8,
        16 => PixelFormat::Encoded(Codec::Jpeg),
        17 => PixelFormat::Encoded(Codec::H264),
        32 => PixelFormat::Encoded(Codec::Aac),
        other => return Err(WireError::UnknownFormat(other)),
    })
}

/// Metadata as the header carries it: JSON, with tensor values after it.
#[derive(Serialize, Deserialize, Default)]
struct WireMeta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    detections: Option<Vec<WireDetection>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tensors: Option<Vec<WireTensor>>,
}

#[derive(Serialize, Deserialize)]
struct WireDetection {
    label: String,
    score: f32,
    #[serde(rename = "box")]
    bbox: [f32; 4],
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    landmarks: Vec<[f32; 2]>,
}

#[derive(Serialize, Deserialize)]
struct WireTensor {
    name: String,
    shape: Vec<usize>,
}

/// The header that says `stream` ended (its publisher left); the payload is empty.
pub fn encode_stream_end(stream: &StreamId) -> Vec<u8> {
    let mut end = Frame::new(
        Buffer::from_vec(Vec::new()),
        PixelFormat::Empty,
        0,
        0,
        Duration::ZERO,
        0,
    );
    end.stream = stream.clone();
    let mut header = encode_header(&end);
    header[6] |= STREAM_END;
    header
}

/// The header of `frame`; its bytes (`frame.buffer`) are the payload.
pub fn encode_header(frame: &Frame) -> Vec<u8> {
    let mut out = Vec::with_capacity(FIXED_LEN + 24 + frame.stream.as_str().len());
    out.extend_from_slice(&MAGIC);
    out.push(WIRE_VERSION);
    out.push(format_code(frame.format));
    let mut flags = 0;
    if frame.keyframe {
        flags |= KEYFRAME;
    }
    if frame.dts.is_some() {
        flags |= HAS_DTS;
    }
    out.push(flags);
    out.push(frame.planes.len() as u8);
    out.extend_from_slice(&frame.width.to_le_bytes());
    out.extend_from_slice(&frame.height.to_le_bytes());
    out.extend_from_slice(&frame.seq.to_le_bytes());
    out.extend_from_slice(&nanos(frame.pts).to_le_bytes());
    out.extend_from_slice(&nanos(frame.dts.unwrap_or_default()).to_le_bytes());
    out.extend_from_slice(&wall_clock_nanos(frame.capture).to_le_bytes());
    for plane in frame.planes.iter() {
        out.extend_from_slice(&(plane.offset as u32).to_le_bytes());
        out.extend_from_slice(&(plane.stride as u32).to_le_bytes());
    }
    let mut cut = frame.stream.as_str().len().min(u16::MAX as usize);
    while !frame.stream.as_str().is_char_boundary(cut) {
        cut -= 1;
    }
    let stream = &frame.stream.as_str().as_bytes()[..cut];
    out.extend_from_slice(&(stream.len() as u16).to_le_bytes());
    out.extend_from_slice(stream);
    let meta = &*frame.meta;
    if meta.detections.is_none() && meta.tensors.is_none() {
        out.extend_from_slice(&0u32.to_le_bytes());
        return out;
    }
    let wire = WireMeta {
        detections: meta.detections.as_ref().map(|found| {
            found
                .iter()
                .map(|d| WireDetection {
                    label: d.label.clone(),
                    score: d.score,
                    bbox: d.bbox,
                    landmarks: d.landmarks.clone(),
                })
                .collect()
        }),
        tensors: meta.tensors.as_ref().map(|tensors| {
            tensors
                .iter()
                .map(|t| WireTensor {
                    name: t.name.clone(),
                    shape: t.shape.clone(),
                })
                .collect()
        }),
    };
    let json = serde_json::to_vec(&wire).expect("metadata of plain values always serializes");
    out.extend_from_slice(&(json.len() as u32).to_le_bytes());
    out.extend_from_slice(&json);
    for tensor in meta.tensors.iter().flatten() {
        for value in tensor.data.iter() {
            out.extend_from_slice(&value.to_le_bytes());
        }
    }
    out
}

/// The frame a header describes, over `payload` (its bytes, which are
/// checked to hold every plane), or the end of a stream. `now` is the
/// receiving instant: the capture time on the wire is wall-clock time,
/// turned back into an instant here.
pub fn decode(header: &[u8], payload: Buffer, now: (Instant, SystemTime)) -> Result<Packet, WireError> {
    let mut read = Reader { bytes: header, at: 0 };
    if read.take(4, "magic")? != MAGIC {
        return Err(WireError::BadMagic);
    }
    let version = read.u8("version")?;
    if version != WIRE_VERSION {
        return Err(WireError::UnsupportedVersion(version));
    }
    let format = format_of(read.u8("pixel format")?)?;
    let flags = read.u8("flags")?;
    let plane_count = read.u8("plane count")? as usize;
    let width = read.u32("width")?;
    let height = read.u32("height")?;
    let seq = read.u64("sequence number")?;
    let pts = Duration::from_nanos(read.u64("pts")?);
    let dts = Duration::from_nanos(read.u64("dts")?);
    let capture_wall = read.u64("capture time")?;
    let raw = PixelFormat::RAW.contains(&format);
    if raw && !((1..=MAX_SIDE).contains(&width) && (1..=MAX_SIDE).contains(&height)) {
        return Err(WireError::BadSize { width, height, format });
    }
    let expected = format.planes(width, height);
    if plane_count != expected.len() {
        return Err(malformed(
            "plane table",
            format!(
                "a {format} frame has {} planes, the header lists {plane_count}",
                expected.len()
            ),
        ));
    }
    let mut layouts = [PlaneLayout::default(); 3];
    for (index, tight) in expected.iter().enumerate() {
        let offset = read.u32("plane table")? as usize;
        let stride = read.u32("plane table")? as usize;
        let fits = offset
            .checked_add(stride.saturating_mul(tight.height))
            .is_some_and(|end| end <= payload.len());
        if stride < tight.width * tight.bytes_per_pixel || !fits {
            return Err(WireError::BadPlane {
                plane: index,
                offset,
                stride,
                width,
                height,
                format,
                len: payload.len(),
            });
        }
        layouts[index] = PlaneLayout {
            offset,
            stride,
            ..*tight
        };
    }
    let stream_len = read.u16("stream id length")? as usize;
    let stream =
        std::str::from_utf8(read.take(stream_len, "stream id")?).map_err(|e| malformed("stream id", e.to_string()))?;
    let stream = StreamId::new(stream);
    if flags & STREAM_END != 0 {
        return Ok(Packet::StreamEnd(stream));
    }
    let meta_len = read.u32("metadata length")? as usize;
    let meta = if meta_len == 0 {
        Metadata::default()
    } else {
        let json = read.take(meta_len, "metadata")?;
        let wire: WireMeta = serde_json::from_slice(json).map_err(|e| malformed("metadata", e.to_string()))?;
        read_meta(wire, &mut read)?
    };
    let (now_instant, now_wall) = now;
    let now_nanos = now_wall.duration_since(UNIX_EPOCH).map_or(0, nanos);
    let age = Duration::from_nanos(now_nanos.saturating_sub(capture_wall));
    Ok(Packet::Frame(Frame {
        buffer: payload,
        format,
        width,
        height,
        planes: Planes::from_layouts(&layouts[..plane_count]),
        keyframe: flags & KEYFRAME != 0,
        pts,
        dts: (flags & HAS_DTS != 0).then_some(dts),
        seq,
        capture: now_instant.checked_sub(age).unwrap_or(now_instant),
        stream,
        meta: Arc::new(meta),
    }))
}

fn read_meta(wire: WireMeta, read: &mut Reader<'_>) -> Result<Metadata, WireError> {
    let detections = wire.detections.map(|found| {
        found
            .into_iter()
            .map(|d| Detection {
                label: d.label,
                score: d.score,
                bbox: d.bbox,
                landmarks: d.landmarks,
            })
            .collect()
    });
    let tensors = match wire.tensors {
        None => None,
        Some(tensors) => {
            let mut out = Vec::with_capacity(tensors.len());
            for tensor in tensors {
                let count = tensor
                    .shape
                    .iter()
                    .try_fold(1usize, |n, d| n.checked_mul(*d))
                    .ok_or_else(|| malformed("metadata", format!("tensor `{}` is too large", tensor.name)))?;
                let bytes = read.take(count.saturating_mul(4), "tensor values")?;
                let data: Arc<[f32]> = bytes
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes(b.try_into().expect("chunks of four bytes")))
                    .collect();
                out.push(TensorData {
                    name: tensor.name,
                    shape: tensor.shape,
                    data,
                });
            }
            Some(out)
        }
    };
    Ok(Metadata { detections, tensors })
}

fn malformed(field: &'static str, reason: String) -> WireError {
    WireError::Malformed { field, reason }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// `instant` as nanoseconds since the Unix epoch, by this machine's clock.
fn wall_clock_nanos(instant: Instant) -> u64 {
    let wall = SystemTime::now() - instant.elapsed();
    wall.duration_since(UNIX_EPOCH).map_or(0, nanos)
}

/// Reads little-endian fields in order.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], WireError> {
        let end = self.at.checked_add(n).filter(|end| *end <= self.bytes.len());
        let end = end.ok_or(WireError::Truncated {
            len: self.bytes.len(),
            field,
        })?;
        let taken = &self.bytes[self.at..end];
        self.at = end;
        Ok(taken)
    }

    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], WireError> {
        Ok(self.take(N, field)?.try_into().expect("took exactly N bytes"))
    }

    fn u8(&mut self, field: &'static str) -> Result<u8, WireError> {
        Ok(self.array::<1>(field)?[0])
    }

    fn u16(&mut self, field: &'static str) -> Result<u16, WireError> {
        self.array(field).map(u16::from_le_bytes)
    }

    fn u32(&mut self, field: &'static str) -> Result<u32, WireError> {
        self.array(field).map(u32::from_le_bytes)
    }

    fn u64(&mut self, field: &'static str) -> Result<u64, WireError> {
        self.array(field).map(u64::from_le_bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clock() -> (Instant, SystemTime) {
        (Instant::now(), SystemTime::now())
    }

    fn frame_of(decoded: Result<Packet, WireError>) -> Frame {
        decoded
            .expect("a header we wrote decodes")
            .into_frame()
            .expect("a frame, not a stream end")
    }

    #[test]
    fn the_end_of_a_stream_travels() {
        let header = encode_stream_end(&StreamId::new("studio"));
        let got = decode(&header, Buffer::from_vec(Vec::new()), clock()).expect("decodes");
        assert!(matches!(got, Packet::StreamEnd(stream) if stream.as_str() == "studio"));
    }

    fn frame() -> Frame {
        let pixels: Vec<u8> = (0..PixelFormat::I420.frame_size(6, 4)).map(|i| i as u8).collect();
        let mut frame = Frame::new(
            Buffer::from_vec(pixels),
            PixelFormat::I420,
            6,
            4,
            Duration::from_millis(40),
            7,
        );
        frame.stream = StreamId::new("studio");
        frame.dts = Some(Duration::from_millis(33));
        frame.keyframe = false;
        frame.capture = Instant::now() - Duration::from_millis(25);
        frame.meta = Arc::new(Metadata {
            detections: Some(vec![Detection {
                label: "face".into(),
                score: 0.9,
                bbox: [1.0, 2.0, 3.0, 4.0],
                landmarks: vec![[1.5, 2.5]],
            }]),
            tensors: Some(vec![TensorData {
                name: "scores".into(),
                shape: vec![1, 3],
                data: Arc::from(vec![0.25, -1.0, 3.5]),
            }]),
        });
        frame
    }

    #[test]
    fn a_frame_keeps_its_identity_across_the_wire() {
        let sent = frame();
        let header = encode_header(&sent);
        let got = frame_of(decode(&header, sent.buffer.clone(), clock()));
        assert_eq!(
            (
                got.format,
                got.width,
                got.height,
                got.seq,
                got.pts,
                got.dts,
                got.keyframe
            ),
            (sent.format, 6, 4, 7, sent.pts, sent.dts, false)
        );
        assert_eq!(got.stream, sent.stream);
        assert_eq!(got.planes, sent.planes);
        assert_eq!(*got.meta, *sent.meta);
        assert_eq!(got.buffer.as_slice(), sent.buffer.as_slice());
        let age = got.age().as_millis();
        assert!(
            (20..1000).contains(&age),
            "capture time survives as wall-clock time: {age} ms"
        );
    }

    #[test]
    fn padded_strides_survive() {
        let mut sent = Frame::new(
            Buffer::from_vec(vec![9; 8 * 2]),
            PixelFormat::Gray8,
            5,
            2,
            Duration::ZERO,
            0,
        );
        sent.planes = Planes::from_layouts(&[PlaneLayout {
            stride: 8,
            ..sent.planes[0]
        }]);
        let got = frame_of(decode(&encode_header(&sent), sent.buffer.clone(), clock()));
        assert_eq!(got.planes[0].stride, 8);
    }

    #[test]
    fn garbage_is_refused_with_a_reason() {
        let sent = frame();
        let header = encode_header(&sent);
        let payload = || sent.buffer.clone();
        assert_eq!(
            decode(b"", payload(), clock()).unwrap_err(),
            WireError::Truncated { len: 0, field: "magic" }
        );
        assert_eq!(decode(b"GIF89a", payload(), clock()).unwrap_err(), WireError::BadMagic);
        let mut future = header.clone();
        future[4] = 9;
        assert_eq!(
            decode(&future, payload(), clock()).unwrap_err(),
            WireError::UnsupportedVersion(9)
        );
        let mut huge = header.clone();
        huge[8..16].copy_from_slice(&[0xff; 8]);
        assert!(matches!(
            decode(&huge, payload(), clock()),
            Err(WireError::BadSize { .. })
        ));
        let mut empty = header.clone();
        empty[8..12].copy_from_slice(&0u32.to_le_bytes());
        assert!(matches!(
            decode(&empty, payload(), clock()),
            Err(WireError::BadSize { .. })
        ));
        let short = Buffer::from_vec(vec![0; 10]);
        assert!(matches!(
            decode(&header, short, clock()),
            Err(WireError::BadPlane { .. })
        ));
        for cut in 0..header.len() {
            assert!(decode(&header[..cut], payload(), clock()).is_err(), "cut at {cut}");
        }
    }
}
