//! The video messages of RTMP: FLV `VIDEODATA` bodies carrying H.264 as an
//! `AVCDecoderConfigurationRecord` (the sequence header) and length-prefixed
//! NAL units, turned into the Annex B access units `video/h264` edges carry.

use std::fmt;

use crate::media::h264::{NAL_IDR, nal_type};

/// The H.264 parameters from a sequence header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AvcConfig {
    /// Bytes in each NAL unit's length prefix: 1, 2 or 4.
    pub length_size: usize,
    /// Sequence and picture parameter sets, without start codes.
    pub parameter_sets: Vec<Vec<u8>>,
}

/// One parsed video message.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum VideoMessage<'a> {
    /// The decoder configuration, sent before the first picture.
    SequenceHeader(AvcConfig),
    /// One access unit: length-prefixed NAL units, shown `composition` ms after
    /// its decode time.
    Picture { composition: i32, units: &'a [u8] },
    /// The publisher ends the sequence.
    EndOfSequence,
}

/// Why a video message is not H.264 we can take.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum FlvError {
    /// Another codec (legacy FLV codec id), named.
    Codec(&'static str),
    /// An Enhanced RTMP codec (its FourCC).
    EnhancedCodec(String),
    /// Broken framing.
    Malformed(&'static str),
}

impl fmt::Display for FlvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FlvError::Codec(codec) => write!(f, "the video is {codec}, not H.264"),
            FlvError::EnhancedCodec(fourcc) => write!(f, "the video is `{fourcc}` (Enhanced RTMP), not H.264"),
            FlvError::Malformed(what) => write!(f, "malformed video message: {what}"),
        }
    }
}

impl FlvError {
    /// Whether the publisher sends a codec we do not take (as opposed to a broken message).
    pub fn is_unsupported_codec(&self) -> bool {
        !matches!(self, FlvError::Malformed(_))
    }
}

/// Parses the body of one RTMP video message.
pub(crate) fn parse(data: &[u8]) -> Result<VideoMessage<'_>, FlvError> {
    let first = *data.first().ok_or(FlvError::Malformed("empty"))?;
    if first & 0x80 != 0 {
        // Enhanced RTMP: the codec is a FourCC after the first byte.
        let fourcc = data.get(1..5).ok_or(FlvError::Malformed("truncated FourCC"))?;
        return Err(FlvError::EnhancedCodec(String::from_utf8_lossy(fourcc).into_owned()));
    }
    match first & 0x0f {
        7 => {}
        2 => return Err(FlvError::Codec("Sorenson H.263")),
        3 | 6 => return Err(FlvError::Codec("Screen video")),
        4 | 5 => return Err(FlvError::Codec("On2 VP6")),
        12 => return Err(FlvError::Codec("HEVC")),
        _ => return Err(FlvError::Codec("an unknown codec")),
    }
    let header = data.get(..5).ok_or(FlvError::Malformed("truncated AVC header"))?;
    let composition = i32::from_be_bytes([header[2], header[3], header[4], 0]) >> 8;
    let body = &data[5..];
    match header[1] {
        0 => parse_config(body).map(VideoMessage::SequenceHeader),
        1 => Ok(VideoMessage::Picture {
            composition,
            units: body,
        }),
        2 => Ok(VideoMessage::EndOfSequence),
        _ => Err(FlvError::Malformed("unknown AVC packet type")),
    }
}

/// Parses an `AVCDecoderConfigurationRecord` (ISO/IEC 14496-15).
fn parse_config(record: &[u8]) -> Result<AvcConfig, FlvError> {
    let malformed = FlvError::Malformed;
    if record.len() < 6 || record[0] != 1 {
        return Err(malformed("bad AVC decoder configuration"));
    }
    let length_size = usize::from(record[4] & 0x03) + 1;
    if length_size == 3 {
        return Err(malformed("NAL unit length of 3 bytes"));
    }
    let mut at = 5;
    let mut parameter_sets = Vec::new();
    for count_mask in [0x1f, 0xff] {
        let count = record.get(at).ok_or(malformed("truncated parameter sets"))? & count_mask;
        at += 1;
        for _ in 0..count {
            let len = record.get(at..at + 2).ok_or(malformed("truncated parameter set"))?;
            let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
            let set = record
                .get(at + 2..at + 2 + len)
                .ok_or(malformed("truncated parameter set"))?;
            parameter_sets.push(set.to_vec());
            at += 2 + len;
        }
    }
    Ok(AvcConfig {
        length_size,
        parameter_sets,
    })
}

/// Writes one picture's length-prefixed NAL units as an Annex B access unit,
/// led by the parameter sets when it holds an IDR picture, so every keyframe
/// on a `video/h264` edge decodes on its own. Returns whether it is a keyframe.
pub(crate) fn to_annex_b(config: &AvcConfig, units: &[u8], out: &mut Vec<u8>) -> Result<bool, FlvError> {
    const START: [u8; 4] = [0, 0, 0, 1];
    let mut nals = Vec::new();
    let mut at = 0;
    while at < units.len() {
        let prefix = units
            .get(at..at + config.length_size)
            .ok_or(FlvError::Malformed("truncated NAL unit length"))?;
        let len = prefix.iter().fold(0usize, |len, &b| (len << 8) | usize::from(b));
        at += config.length_size;
        let nal = units
            .get(at..at + len)
            .ok_or(FlvError::Malformed("NAL unit longer than the message"))?;
        if !nal.is_empty() {
            nals.push(nal);
        }
        at += len;
    }
    let keyframe = nals.iter().any(|nal| nal_type(nal) == NAL_IDR);
    out.clear();
    if keyframe {
        for set in &config.parameter_sets {
            out.extend_from_slice(&START);
            out.extend_from_slice(set);
        }
    }
    for nal in nals {
        out.extend_from_slice(&START);
        out.extend_from_slice(nal);
    }
    Ok(keyframe)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPS: &[u8] = &[0x67, 0x42, 0xc0, 0x1e];
    const PPS: &[u8] = &[0x68, 0xce, 0x3c, 0x80];

    fn sequence_header() -> Vec<u8> {
        let mut tag = vec![0x17, 0, 0, 0, 0, 1, 0x42, 0xc0, 0x1e, 0xff, 0xe1, 0, 4];
        tag.extend_from_slice(SPS);
        tag.extend_from_slice(&[1, 0, 4]);
        tag.extend_from_slice(PPS);
        tag
    }

    #[test]
    fn a_sequence_header_gives_the_parameter_sets() {
        let tag = sequence_header();
        let VideoMessage::SequenceHeader(config) = parse(&tag).expect("parses") else {
            panic!("a sequence header")
        };
        assert_eq!(config.length_size, 4);
        assert_eq!(config.parameter_sets, [SPS.to_vec(), PPS.to_vec()]);
    }

    #[test]
    fn a_keyframe_is_led_by_its_parameter_sets() {
        let tag = sequence_header();
        let VideoMessage::SequenceHeader(config) = parse(&tag).expect("parses") else {
            panic!("a sequence header")
        };
        // Composition time -2 ms (24-bit signed), one IDR NAL unit of 3 bytes.
        let picture = [0x17, 1, 0xff, 0xff, 0xfe, 0, 0, 0, 3, 0x65, 0x88, 0x84];
        let VideoMessage::Picture { composition, units } = parse(&picture).expect("parses") else {
            panic!("a picture")
        };
        assert_eq!(composition, -2);
        let mut out = Vec::new();
        assert!(to_annex_b(&config, units, &mut out).expect("well framed"));
        let mut expected = vec![0, 0, 0, 1];
        expected.extend_from_slice(SPS);
        expected.extend_from_slice(&[0, 0, 0, 1]);
        expected.extend_from_slice(PPS);
        expected.extend_from_slice(&[0, 0, 0, 1, 0x65, 0x88, 0x84]);
        assert_eq!(out, expected);
        // A length running past the end is an error, not a panic.
        assert!(to_annex_b(&config, &[0, 0, 0, 9, 0x41], &mut out).is_err());
    }

    #[test]
    fn other_codecs_are_named() {
        assert_eq!(parse(&[0x12, 0]), Err(FlvError::Codec("Sorenson H.263")));
        assert_eq!(
            parse(&[0x90, b'h', b'v', b'c', b'1']),
            Err(FlvError::EnhancedCodec("hvc1".into()))
        );
        assert!(parse(&[0x17, 0, 0]).is_err());
    }
}
