//! AAC framing: the `AudioSpecificConfig` RTMP and MP4 carry, and the ADTS
//! header that makes each frame on an `audio/aac` edge say its own profile,
//! sample rate and channels (ISO/IEC 14496-3, 1.6.2.1 and 1.A.2).

use std::fmt;

use ooblex_runtime::{InputPortSpec, MediaType, OutputPortSpec};

/// The `audio` output of a source that gives AAC.
pub(crate) const AUDIO_OUT: OutputPortSpec = OutputPortSpec::encoded("audio", MediaType::Aac);
/// The optional `audio` input of a muxer that takes AAC.
pub(crate) const AUDIO_IN: InputPortSpec = InputPortSpec::new("audio", &[MediaType::Aac], false);

/// Samples in one AAC frame.
pub(crate) const SAMPLES_PER_FRAME: u32 = 1024;

/// Sample rates by the index AAC headers carry.
const SAMPLE_RATES: [u32; 13] = [
    96_000, 88_200, 64_000, 48_000, 44_100, 32_000, 24_000, 22_050, 16_000, 12_000, 11_025, 8_000, 7_350,
];

/// The parameters an AAC decoder needs, as ADTS can carry them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AacConfig {
    /// The audio object type: 1 Main, 2 LC, 3 SSR, 4 LTP.
    pub object_type: u8,
    /// Index into the table of sample rates.
    pub rate_index: u8,
    /// Channel configuration, 1 to 7.
    pub channels: u8,
}

/// Why AAC framing cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AacError(pub &'static str);

impl fmt::Display for AacError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl AacConfig {
    /// Reads an `AudioSpecificConfig`. HE-AAC (SBR, PS) is carried as its
    /// AAC-LC core, which every AAC decoder plays (without the high band).
    pub fn from_audio_specific_config(asc: &[u8]) -> Result<AacConfig, AacError> {
        let mut bits = Bits { data: asc, at: 0 };
        let mut object_type = bits.take(5)?;
        if object_type == 31 {
            object_type = 32 + bits.take(6)?;
        }
        let rate_index = bits.take(4)?;
        if rate_index == 15 {
            return Err(AacError("explicit sample rates are not supported"));
        }
        let channels = bits.take(4)?;
        if object_type == 5 || object_type == 29 {
            // SBR or PS: the extension's rate (the core's is the one above),
            // then the core's object type.
            bits.take(4)?;
            object_type = bits.take(5)?;
        }
        AacConfig::new(object_type as u8, rate_index as u8, channels as u8)
    }

    fn new(object_type: u8, rate_index: u8, channels: u8) -> Result<AacConfig, AacError> {
        if !(1..=4).contains(&object_type) {
            return Err(AacError("only AAC Main, LC, SSR and LTP are supported"));
        }
        if usize::from(rate_index) >= SAMPLE_RATES.len() {
            return Err(AacError("unknown sample rate index"));
        }
        if !(1..=7).contains(&channels) {
            return Err(AacError(
                "channel layouts given by a program config element are not supported",
            ));
        }
        Ok(AacConfig {
            object_type,
            rate_index,
            channels,
        })
    }

    /// Samples per second.
    pub fn sample_rate(self) -> u32 {
        SAMPLE_RATES[usize::from(self.rate_index)]
    }

    /// Channels (7 stands for 7.1, eight channels).
    pub fn channel_count(self) -> u16 {
        match self.channels {
            7 => 8,
            n => u16::from(n),
        }
    }

    /// The 7-byte ADTS header (no CRC) of a frame of `payload_len` bytes.
    pub fn adts_header(self, payload_len: usize) -> Result<[u8; 7], AacError> {
        let len = payload_len + 7;
        if len >= 1 << 13 {
            return Err(AacError("frame longer than ADTS can carry"));
        }
        let len = len as u32;
        let profile = self.object_type - 1;
        Ok([
            0xff,
            0xf1, // MPEG-4, layer 0, no CRC
            (profile << 6) | (self.rate_index << 2) | (self.channels >> 2),
            ((self.channels & 3) << 6) | (len >> 11) as u8,
            (len >> 3) as u8,
            (((len & 7) << 5) as u8) | 0x1f, // buffer fullness 0x7ff: variable rate
            0xfc,
        ])
    }
}

/// Splits one ADTS frame into its configuration and raw payload.
pub(crate) fn parse_adts(frame: &[u8]) -> Result<(AacConfig, &[u8]), AacError> {
    let header = frame.get(..7).ok_or(AacError("shorter than an ADTS header"))?;
    if header[0] != 0xff || header[1] & 0xf6 != 0xf0 {
        return Err(AacError("no ADTS sync word"));
    }
    let header_len = if header[1] & 1 == 1 { 7 } else { 9 };
    if header[6] & 3 != 0 {
        return Err(AacError("several raw data blocks in one ADTS frame are not supported"));
    }
    let object_type = (header[2] >> 6) + 1;
    let rate_index = (header[2] >> 2) & 0x0f;
    let channels = ((header[2] & 1) << 2) | (header[3] >> 6);
    let len = (usize::from(header[3] & 3) << 11) | (usize::from(header[4]) << 3) | usize::from(header[5] >> 5);
    if len != frame.len() || len < header_len {
        return Err(AacError("the ADTS frame length does not match the frame"));
    }
    let config = AacConfig::new(object_type, rate_index, channels)?;
    Ok((config, &frame[header_len..]))
}

/// A big-endian bit reader over a short buffer.
struct Bits<'a> {
    data: &'a [u8],
    at: usize,
}

impl Bits<'_> {
    fn take(&mut self, count: usize) -> Result<u32, AacError> {
        let mut value = 0;
        for _ in 0..count {
            let byte = self
                .data
                .get(self.at / 8)
                .ok_or(AacError("truncated AudioSpecificConfig"))?;
            value = (value << 1) | u32::from((byte >> (7 - self.at % 8)) & 1);
            self.at += 1;
        }
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_lc_config_round_trips_through_adts() {
        // AAC-LC, 48 kHz, stereo: what ffmpeg and OBS send.
        let config = AacConfig::from_audio_specific_config(&[0x11, 0x90]).expect("valid");
        assert_eq!(
            (config.object_type, config.sample_rate(), config.channel_count()),
            (2, 48_000, 2)
        );
        let mut frame = config.adts_header(3).expect("short").to_vec();
        frame.extend_from_slice(&[1, 2, 3]);
        let (parsed, payload) = parse_adts(&frame).expect("valid ADTS");
        assert_eq!(parsed, config);
        assert_eq!(payload, [1, 2, 3]);
    }

    #[test]
    fn he_aac_is_carried_as_its_core() {
        // HE-AAC v1: object type 5, 24 kHz core, stereo, 48 kHz extension, LC core.
        let config = AacConfig::from_audio_specific_config(&[0x2b, 0x11, 0x88, 0x00]).expect("valid");
        assert_eq!(config.object_type, 2);
        assert_eq!(config.sample_rate(), 24_000);
    }

    #[test]
    fn broken_framing_is_an_error() {
        assert!(parse_adts(&[0xff, 0xf1, 0x50, 0x80]).is_err());
        assert!(parse_adts(&[0xff, 0xf1, 0x50, 0x80, 0x02, 0x1f, 0xfc, 0, 0, 0]).is_err());
        assert!(AacConfig::from_audio_specific_config(&[0x11]).is_err());
        // Main profile, 8 channels by a program config element.
        assert!(AacConfig::from_audio_specific_config(&[0x0b, 0x80]).is_err());
    }
}
