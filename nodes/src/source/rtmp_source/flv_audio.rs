//! The audio messages of RTMP: FLV `AUDIODATA` bodies carrying AAC as an
//! `AudioSpecificConfig` (the sequence header) and raw frames, turned into
//! the ADTS frames `audio/aac` edges carry.

use std::fmt;

use crate::media::aac::{AacConfig, AacError};

/// One parsed audio message.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum AudioMessage<'a> {
    /// The decoder configuration, sent before the first frame.
    SequenceHeader(AacConfig),
    /// One raw AAC frame.
    Frame(&'a [u8]),
}

/// Why an audio message is not AAC we can take.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum FlvAudioError {
    /// Another codec, named.
    Codec(&'static str),
    /// An AAC configuration we cannot carry.
    Config(AacError),
    /// Broken framing.
    Malformed(&'static str),
}

impl fmt::Display for FlvAudioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FlvAudioError::Codec(codec) => write!(f, "the audio is {codec}, not AAC"),
            FlvAudioError::Config(err) => write!(f, "the AAC configuration cannot be carried: {err}"),
            FlvAudioError::Malformed(what) => write!(f, "malformed audio message: {what}"),
        }
    }
}

/// Parses the body of one RTMP audio message.
pub(crate) fn parse(data: &[u8]) -> Result<AudioMessage<'_>, FlvAudioError> {
    let first = *data.first().ok_or(FlvAudioError::Malformed("empty"))?;
    match first >> 4 {
        10 => {}
        2 | 14 => return Err(FlvAudioError::Codec("MP3")),
        0 | 3 => return Err(FlvAudioError::Codec("PCM")),
        1 => return Err(FlvAudioError::Codec("ADPCM")),
        4..=6 => return Err(FlvAudioError::Codec("Nellymoser")),
        7 | 8 => return Err(FlvAudioError::Codec("G.711")),
        9 => return Err(FlvAudioError::Codec("an Enhanced RTMP codec")),
        11 => return Err(FlvAudioError::Codec("Speex")),
        _ => return Err(FlvAudioError::Codec("an unknown codec")),
    }
    let body = data.get(2..).ok_or(FlvAudioError::Malformed("truncated AAC header"))?;
    match data[1] {
        0 => AacConfig::from_audio_specific_config(body)
            .map(AudioMessage::SequenceHeader)
            .map_err(FlvAudioError::Config),
        1 => Ok(AudioMessage::Frame(body)),
        _ => Err(FlvAudioError::Malformed("unknown AAC packet type")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aac_messages_give_the_config_and_the_frames() {
        // 0xaf: AAC, 44 kHz, 16-bit, stereo (the flags FLV always sets for AAC).
        let header = parse(&[0xaf, 0, 0x11, 0x90]).expect("parses");
        let AudioMessage::SequenceHeader(config) = header else {
            panic!("a sequence header")
        };
        assert_eq!(config.sample_rate(), 48_000);
        assert_eq!(parse(&[0xaf, 1, 7, 8]), Ok(AudioMessage::Frame(&[7, 8])));
    }

    #[test]
    fn other_codecs_and_broken_messages_are_errors() {
        assert_eq!(parse(&[0x2f, 0]), Err(FlvAudioError::Codec("MP3")));
        assert!(matches!(parse(&[0xaf]), Err(FlvAudioError::Malformed(_))));
        assert!(matches!(parse(&[0xaf, 0, 0x11]), Err(FlvAudioError::Config(_))));
        assert!(parse(&[]).is_err());
    }
}
