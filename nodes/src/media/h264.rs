//! H.264 bitstream helpers: NAL units of Annex B access units, parameter sets
//! and picture size. What `video/h264` edges carry is one access unit per
//! frame in Annex B form, and a keyframe starts with its SPS and PPS.

use h264_reader::nal::sps::SeqParameterSet;
use h264_reader::nal::{Nal, RefNal};

/// NAL unit type of an IDR slice.
pub(crate) const NAL_IDR: u8 = 5;
/// NAL unit type of a sequence parameter set.
pub(crate) const NAL_SPS: u8 = 7;
/// NAL unit type of a picture parameter set.
pub(crate) const NAL_PPS: u8 = 8;

/// The NAL units of an Annex B byte stream, without their start codes.
pub(crate) fn nal_units(stream: &[u8]) -> impl Iterator<Item = &[u8]> {
    openh264::nal_units(stream)
        .map(strip_start_code)
        .filter(|nal| !nal.is_empty())
}

fn strip_start_code(nal: &[u8]) -> &[u8] {
    let zeros = nal.iter().take_while(|&&b| b == 0).count();
    if zeros >= 2 && nal.get(zeros) == Some(&1) {
        &nal[zeros + 1..]
    } else {
        nal
    }
}

/// The type of a NAL unit (its low five header bits).
pub(crate) fn nal_type(nal: &[u8]) -> u8 {
    nal.first().map_or(0, |header| header & 0x1f)
}

/// Whether an access unit holds an IDR picture, which decodes on its own.
pub(crate) fn is_keyframe(access_unit: &[u8]) -> bool {
    nal_units(access_unit).any(|nal| nal_type(nal) == NAL_IDR)
}

/// What a decoder needs to start: the parameter sets and the picture size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StreamConfig {
    /// The sequence parameter set, without start code.
    pub sps: Vec<u8>,
    /// The picture parameter set, without start code.
    pub pps: Vec<u8>,
    /// Picture width in pixels, after cropping.
    pub width: u32,
    /// Picture height in pixels, after cropping.
    pub height: u32,
}

impl StreamConfig {
    /// The configuration in an access unit that carries an SPS and a PPS
    /// (every keyframe on `video/h264` edges); `None` when it lacks one.
    pub fn find(access_unit: &[u8]) -> Result<Option<StreamConfig>, String> {
        let mut sps = None;
        let mut pps = None;
        for nal in nal_units(access_unit) {
            match nal_type(nal) {
                NAL_SPS if sps.is_none() => sps = Some(nal),
                NAL_PPS if pps.is_none() => pps = Some(nal),
                _ => {}
            }
        }
        let (Some(sps), Some(pps)) = (sps, pps) else {
            return Ok(None);
        };
        let (width, height) = sps_dimensions(sps)?;
        Ok(Some(StreamConfig {
            sps: sps.to_vec(),
            pps: pps.to_vec(),
            width,
            height,
        }))
    }
}

/// A sequence parameter set (a NAL unit without start code), parsed.
pub(crate) fn parse_sps(sps: &[u8]) -> Result<SeqParameterSet, String> {
    SeqParameterSet::from_bits(RefNal::new(sps, &[], true).rbsp_bits())
        .map_err(|err| format!("the H.264 sequence parameter set does not parse: {err:?}"))
}

/// The cropped picture size a sequence parameter set describes.
pub(crate) fn sps_dimensions(sps: &[u8]) -> Result<(u32, u32), String> {
    parse_sps(sps)?
        .pixel_dimensions()
        .map_err(|err| format!("the H.264 sequence parameter set has no valid size: {err:?}"))
}

/// Converts an Annex B access unit to length-prefixed NAL units (4-byte
/// big-endian lengths), as MP4 samples hold them, leaving out parameter sets
/// and access unit delimiters, which MP4 keeps in its sample description.
pub(crate) fn to_length_prefixed(access_unit: &[u8], out: &mut Vec<u8>) {
    out.clear();
    for nal in nal_units(access_unit) {
        if matches!(nal_type(nal), NAL_SPS | NAL_PPS | 9) {
            continue;
        }
        out.extend_from_slice(&(nal.len() as u32).to_be_bytes());
        out.extend_from_slice(nal);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A 64x48 Constrained Baseline stream of `frames` pictures, a keyframe every `gop`.
    pub(crate) fn encoded_stream(frames: usize, gop: u32) -> Vec<Vec<u8>> {
        use openh264::OpenH264API;
        use openh264::encoder::{Encoder, EncoderConfig, IntraFramePeriod};
        use openh264::formats::YUVBuffer;
        let config = EncoderConfig::new().intra_frame_period(IntraFramePeriod::from_num_frames(gop));
        let mut encoder = Encoder::with_api_config(OpenH264API::from_source(), config).expect("an encoder");
        (0..frames)
            .map(|i| {
                let mut yuv = vec![128u8; 64 * 48 * 3 / 2];
                for (at, v) in yuv[..64 * 48].iter_mut().enumerate() {
                    *v = ((at % 64) * 3 + i * 5) as u8;
                }
                let picture = YUVBuffer::from_vec(yuv, 64, 48);
                encoder.encode(&picture).expect("encodes").to_vec()
            })
            .collect()
    }

    #[test]
    fn a_keyframe_carries_its_configuration() {
        let stream = encoded_stream(3, 2);
        assert!(is_keyframe(&stream[0]) && !is_keyframe(&stream[1]) && is_keyframe(&stream[2]));
        let config = StreamConfig::find(&stream[0]).expect("parses").expect("SPS and PPS");
        assert_eq!((config.width, config.height), (64, 48));
        assert_eq!(StreamConfig::find(&stream[1]), Ok(None));
    }

    #[test]
    fn length_prefixed_units_leave_out_parameter_sets() {
        let stream = encoded_stream(1, 1);
        let mut out = Vec::new();
        to_length_prefixed(&stream[0], &mut out);
        let len = u32::from_be_bytes(out[..4].try_into().expect("4 bytes")) as usize;
        assert_eq!(len + 4, out.len(), "one slice NAL unit");
        assert_eq!(nal_type(&out[4..]), NAL_IDR);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(sps_dimensions(&[0x67, 0xff, 0xff]).is_err());
        assert_eq!(StreamConfig::find(&[1, 2, 3]), Ok(None));
    }
}
