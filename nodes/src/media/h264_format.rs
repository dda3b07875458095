//! What an H.264 stream's sequence parameter set says of how it is coded —
//! profile, chroma subsampling, bit depth, field coding — in the words
//! encoders use, so a log line can tell a publisher what it sent.

use std::fmt;

use h264_reader::nal::sps::{ChromaFormat, FrameMbsFlags, Profile, SeqParameterSet};

use crate::media::h264::{NAL_SPS, nal_type, nal_units, parse_sps};

/// How an H.264 stream is coded, from its sequence parameter set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StreamFormat {
    /// The profile's name (`High`, `High 4:4:4 Predictive`, ...).
    pub profile: String,
    /// Chroma subsampling.
    pub chroma: ChromaFormat,
    /// Bits per luma sample.
    pub luma_bits: u8,
    /// Bits per chroma sample.
    pub chroma_bits: u8,
    /// Whether pictures may be coded as fields (interlaced video).
    pub interlaced: bool,
}

impl StreamFormat {
    /// The format given by the first SPS of an access unit; `None` when the
    /// access unit has no SPS (only keyframes carry one).
    pub fn find(access_unit: &[u8]) -> Option<Result<StreamFormat, String>> {
        let sps = nal_units(access_unit).find(|nal| nal_type(nal) == NAL_SPS)?;
        Some(parse_sps(sps).map(|sps| StreamFormat::of(&sps)))
    }

    /// The format a parsed SPS describes.
    pub fn of(sps: &SeqParameterSet) -> StreamFormat {
        let info = &sps.chroma_info;
        StreamFormat {
            profile: profile_name(&sps.profile()),
            chroma: info.chroma_format,
            luma_bits: info.bit_depth_luma_minus8.saturating_add(8),
            chroma_bits: info.bit_depth_chroma_minus8.saturating_add(8),
            interlaced: !matches!(sps.frame_mbs_flags, FrameMbsFlags::Frames),
        }
    }
}

/// `High 4:4:4 Predictive profile, 4:4:4 chroma, 8-bit, progressive`.
impl fmt::Display for StreamFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} profile, {} chroma, ", self.profile, chroma_name(self.chroma))?;
        if self.luma_bits == self.chroma_bits {
            write!(f, "{}-bit", self.luma_bits)?;
        } else {
            write!(f, "{}-bit luma and {}-bit chroma", self.luma_bits, self.chroma_bits)?;
        }
        f.write_str(if self.interlaced {
            ", interlaced"
        } else {
            ", progressive"
        })
    }
}

/// Chroma subsampling as encoders write it.
pub(crate) fn chroma_name(chroma: ChromaFormat) -> String {
    match chroma {
        ChromaFormat::Monochrome => "4:0:0 (monochrome)".to_string(),
        ChromaFormat::YUV420 => "4:2:0".to_string(),
        ChromaFormat::YUV422 => "4:2:2".to_string(),
        ChromaFormat::YUV444 => "4:4:4".to_string(),
        ChromaFormat::Invalid(idc) => format!("invalid (chroma_format_idc {idc})"),
    }
}

/// A profile's name as the H.264 standard (Annex A) gives it.
fn profile_name(profile: &Profile) -> String {
    let name = match profile {
        Profile::Baseline => "Baseline",
        Profile::ConstrainedBaseline => "Constrained Baseline",
        Profile::Main => "Main",
        Profile::Extended => "Extended",
        Profile::High => "High",
        Profile::ProgressiveHigh => "Progressive High",
        Profile::ConstrainedHigh => "Constrained High",
        Profile::High10 => "High 10",
        Profile::High10Intra => "High 10 Intra",
        Profile::High422 => "High 4:2:2",
        Profile::High422Intra => "High 4:2:2 Intra",
        Profile::High444 => "High 4:4:4 Predictive",
        Profile::High444Intra => "High 4:4:4 Intra",
        Profile::CavlcIntra444 => "CAVLC 4:4:4 Intra",
        Profile::ScalableBase => "Scalable Baseline",
        Profile::ScalableConstrainedBaseline => "Scalable Constrained Baseline",
        Profile::ScalableHigh => "Scalable High",
        Profile::ScalableConstrainedHigh => "Scalable Constrained High",
        Profile::ScalableHighIntra => "Scalable High Intra",
        Profile::MultiviewHigh => "Multiview High",
        Profile::StereoHigh => "Stereo High",
        Profile::MFCHigh => "MFC High",
        Profile::MFCDepthHigh => "MFC Depth High",
        Profile::MultiviewDepthHigh => "Multiview Depth High",
        Profile::EnhancedMultiviewDepthHigh => "Enhanced Multiview Depth High",
        Profile::Unknown(idc) => return format!("unknown (profile_idc {idc})"),
    };
    name.to_string()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::media::h264::tests::encoded_stream;

    /// Access units of a 64x48 stream of `frames` pictures that ffmpeg's
    /// libx264 encodes with `args` (`-pix_fmt yuv444p`, `-slices 4`, ...): each
    /// holds one picture's slices, the first also the parameter sets.
    pub(crate) fn x264_stream(frames: u32, args: &[&str]) -> Vec<Vec<u8>> {
        let path = crate::test_util::temp_path("x264.h264");
        let out = std::process::Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
            .args(["-f", "lavfi", "-i", "testsrc=size=64x48:rate=10", "-frames:v"])
            .arg(frames.to_string())
            .args(["-c:v", "libx264", "-threads", "1", "-bf", "0"])
            .args(args)
            .args(["-f", "h264"])
            .arg(&path)
            .output()
            .expect("ffmpeg is installed (scripts/test.sh installs it)");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let stream = std::fs::read(&path).expect("ffmpeg wrote the stream");
        let _ = std::fs::remove_file(&path);
        let mut units = Vec::new();
        let mut unit = Vec::new();
        let mut has_slice = false;
        for nal in nal_units(&stream) {
            let slice = matches!(nal_type(nal), 1..=5);
            // A slice whose first macroblock is 0 (`ue(v)` 0 is a single 1 bit) starts a picture.
            let starts_picture = !slice || nal.get(1).is_some_and(|byte| byte & 0x80 != 0);
            if has_slice && starts_picture {
                units.push(std::mem::take(&mut unit));
                has_slice = false;
            }
            unit.extend_from_slice(&[0, 0, 0, 1]);
            unit.extend_from_slice(nal);
            has_slice |= slice;
        }
        if has_slice {
            units.push(unit);
        }
        units
    }

    fn format_of(units: &[Vec<u8>]) -> StreamFormat {
        StreamFormat::find(&units[0])
            .expect("the first access unit has an SPS")
            .expect("the SPS parses")
    }

    #[test]
    fn an_sps_tells_profile_chroma_depth_and_scan() {
        let high = format_of(&x264_stream(1, &["-pix_fmt", "yuv420p", "-profile:v", "high"]));
        assert_eq!(high.to_string(), "High profile, 4:2:0 chroma, 8-bit, progressive");
        let yuv444 = format_of(&x264_stream(1, &["-pix_fmt", "yuv444p"]));
        assert_eq!(
            yuv444.to_string(),
            "High 4:4:4 Predictive profile, 4:4:4 chroma, 8-bit, progressive"
        );
        let ten_bit = format_of(&x264_stream(1, &["-pix_fmt", "yuv420p10le"]));
        assert_eq!(
            ten_bit.to_string(),
            "High 10 profile, 4:2:0 chroma, 10-bit, progressive"
        );
        let yuv422 = format_of(&x264_stream(1, &["-pix_fmt", "yuv422p"]));
        assert_eq!(
            (yuv422.profile.as_str(), yuv422.chroma),
            ("High 4:2:2", ChromaFormat::YUV422)
        );
        let interlaced = format_of(&x264_stream(2, &["-pix_fmt", "yuv420p", "-flags", "+ildct+ilme"]));
        assert!(interlaced.interlaced, "{interlaced}");
    }

    #[test]
    fn only_access_units_with_an_sps_tell_a_format() {
        let units = encoded_stream(2, 2);
        let baseline = StreamFormat::find(&units[0]).expect("a keyframe has an SPS");
        assert_eq!(
            baseline.map(|f| f.to_string()),
            Ok("Constrained Baseline profile, 4:2:0 chroma, 8-bit, progressive".to_string())
        );
        assert_eq!(StreamFormat::find(&units[1]), None);
        assert!(matches!(StreamFormat::find(&[0, 0, 0, 1, 0x67, 0xff]), Some(Err(_))));
    }
}
