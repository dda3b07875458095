//! Which H.264 streams OpenH264 decodes — 8-bit 4:2:0 (or monochrome)
//! progressive video, as cameras, OBS and ffmpeg send by default — and what to
//! tell the publisher of a stream it cannot decode.
//!
//! OpenH264 refuses the rest when it parses the sequence parameter set, with
//! an error code that says nothing of why; here the SPS is read first, so the
//! log can say what the stream is and what to change at the publisher.

use std::fmt;

use h264_reader::nal::sps::ChromaFormat;
use ooblex_runtime::StreamId;

use crate::media::h264_format::{StreamFormat, chroma_name};

/// A stream OpenH264 cannot decode: its format and what of it OpenH264 lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unreadable {
    /// The stream's format.
    pub format: StreamFormat,
    /// What OpenH264 does not decode (`4:4:4 chroma`, `10-bit samples`, ...).
    pub lacks: Vec<String>,
}

/// `Err` with what OpenH264 lacks when it cannot decode a stream of `format`.
pub(crate) fn check(format: &StreamFormat) -> Result<(), Unreadable> {
    let mut lacks = Vec::new();
    if !matches!(format.chroma, ChromaFormat::YUV420 | ChromaFormat::Monochrome) {
        lacks.push(format!("{} chroma", chroma_name(format.chroma)));
    }
    if format.luma_bits != 8 || format.chroma_bits != 8 {
        lacks.push(format!("{}-bit samples", format.luma_bits.max(format.chroma_bits)));
    }
    if format.interlaced {
        lacks.push("interlaced (field) coding".to_string());
    }
    if lacks.is_empty() {
        Ok(())
    } else {
        Err(Unreadable {
            format: format.clone(),
            lacks,
        })
    }
}

impl Unreadable {
    /// The warning for `stream`, with how to fix it at the publisher.
    pub fn message(&self, stream: &StreamId) -> String {
        let named = if stream.is_default() {
            "the stream".to_string()
        } else {
            format!("stream `{stream}`")
        };
        format!(
            "`h264_decode` cannot decode {named}: it is H.264 {}, and OpenH264 decodes only 8-bit 4:2:0 \
             progressive H.264 (Constrained Baseline, Main and High profiles), not {}; its frames are dropped \
             until it sends a keyframe OpenH264 can decode (a publisher that comes back with new settings is \
             decoded again); hint: {}; or let libavcodec decode it: leave out `decoder: openh264`, in a build \
             with `--features gstreamer` on a machine with gstreamer1.0-libav",
            self.format,
            self.lacks.join(" or "),
            Hint(self)
        )
    }
}

/// What to change at the publisher.
struct Hint<'a>(&'a Unreadable);

impl fmt::Display for Hint<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let format = &self.0.format;
        let sampling = !matches!(format.chroma, ChromaFormat::YUV420 | ChromaFormat::Monochrome)
            || format.luma_bits != 8
            || format.chroma_bits != 8;
        if sampling {
            f.write_str(
                "publish 8-bit 4:2:0 video: with ffmpeg, add `-pix_fmt yuv420p -profile:v high` after \
                 `-c:v libx264` (without `-pix_fmt`, libx264 keeps RGB and 4:4:4 input at 4:4:4); in OBS, set \
                 Settings › Advanced › Video › Color Format to NV12 or I420 (I444, P010 and I010 are not \
                 8-bit 4:2:0)",
            )?;
        }
        if format.interlaced {
            if sampling {
                f.write_str("; ")?;
            }
            f.write_str(
                "publish progressive video: with ffmpeg, deinterlace with `-vf yadif` and leave out \
                 `-flags +ildct+ilme`",
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::h264_format::tests::x264_stream;

    fn format(args: &[&str]) -> StreamFormat {
        StreamFormat::find(&x264_stream(2, args)[0])
            .expect("a keyframe has an SPS")
            .expect("the SPS parses")
    }

    #[test]
    fn eight_bit_four_two_zero_progressive_streams_are_readable() {
        assert_eq!(check(&format(&["-pix_fmt", "yuv420p", "-profile:v", "high"])), Ok(()));
        assert_eq!(check(&format(&["-pix_fmt", "yuv420p", "-profile:v", "main"])), Ok(()));
        assert_eq!(check(&format(&["-pix_fmt", "gray"])), Ok(()));
    }

    #[test]
    fn high_444_and_high_10_are_named_with_the_publisher_fix() {
        let yuv444 = check(&format(&["-pix_fmt", "yuv444p"])).expect_err("4:4:4 is refused");
        assert_eq!(yuv444.lacks, ["4:4:4 chroma"]);
        let message = yuv444.message(&StreamId::new("studio"));
        for says in [
            "stream `studio`",
            "High 4:4:4 Predictive profile, 4:4:4 chroma, 8-bit",
            "-pix_fmt yuv420p",
            "Color Format to NV12 or I420",
        ] {
            assert!(message.contains(says), "`{says}` in: {message}");
        }
        let ten_bit = check(&format(&["-pix_fmt", "yuv420p10le"])).expect_err("10-bit is refused");
        assert_eq!(ten_bit.lacks, ["10-bit samples"]);
        assert!(
            ten_bit.message(&StreamId::default()).starts_with(
                "`h264_decode` cannot decode the stream: it is H.264 High 10 profile, 4:2:0 chroma, 10-bit"
            )
        );
    }

    #[test]
    fn interlaced_streams_are_told_to_deinterlace() {
        let interlaced = check(&format(&["-pix_fmt", "yuv420p", "-flags", "+ildct+ilme"])).expect_err("fields");
        assert_eq!(interlaced.lacks, ["interlaced (field) coding"]);
        let message = interlaced.message(&StreamId::default());
        assert!(message.contains("-vf yadif") && !message.contains("OBS"), "{message}");
    }
}
