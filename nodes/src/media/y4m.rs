//! YUV4MPEG2 (Y4M) headers: parsing the ones files carry, writing ones ffmpeg reads.

use std::io::{self, BufRead, Read, Write};

use ooblex_runtime::PixelFormat;

/// The longest header or `FRAME` line accepted; longer means a corrupt file.
pub(crate) const MAX_LINE: usize = 4096;

/// The largest width or height accepted from a file.
const MAX_DIMENSION: u32 = 16384;

/// The frame rate assumed when a header has no `F` tag.
const DEFAULT_RATE: (u32, u32) = (30, 1);

/// What a Y4M stream header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Y4mHeader {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Frame rate as numerator and denominator.
    pub rate: (u32, u32),
    /// [`PixelFormat::I420`] or [`PixelFormat::Gray8`].
    pub format: PixelFormat,
}

impl Y4mHeader {
    /// Frames per second.
    pub fn fps(&self) -> f64 {
        f64::from(self.rate.0) / f64::from(self.rate.1)
    }
}

/// Parses a stream header line (with or without its newline).
pub(crate) fn parse_header(line: &[u8]) -> Result<Y4mHeader, String> {
    let line = std::str::from_utf8(line).map_err(|_| "the header is not text".to_string())?;
    let mut tokens = line.trim_end_matches('\n').split(' ').filter(|t| !t.is_empty());
    if tokens.next() != Some("YUV4MPEG2") {
        return Err("not a Y4M file (it does not start with `YUV4MPEG2`)".to_string());
    }
    let (mut width, mut height, mut rate, mut format) = (None, None, DEFAULT_RATE, PixelFormat::I420);
    for token in tokens {
        // The tag is one character, which may be any character in a file from outside.
        let tag_len = token.chars().next().map_or(0, char::len_utf8);
        let (tag, value) = token.split_at(tag_len);
        match tag {
            "W" => width = Some(dimension("W", value)?),
            "H" => height = Some(dimension("H", value)?),
            "F" => rate = ratio(value).ok_or_else(|| format!("bad frame rate `F{value}`"))?,
            "C" => format = colour_space(value)?,
            _ => {} // interlacing, aspect ratio and X comments do not change the bytes
        }
    }
    match (width, height) {
        (Some(width), Some(height)) => Ok(Y4mHeader {
            width,
            height,
            rate,
            format,
        }),
        _ => Err("the header has no `W` (width) or no `H` (height) tag".to_string()),
    }
}

fn dimension(tag: &str, value: &str) -> Result<u32, String> {
    match value.parse::<u32>() {
        Ok(n) if (1..=MAX_DIMENSION).contains(&n) => Ok(n),
        _ => Err(format!("bad size `{tag}{value}` (expected 1 to {MAX_DIMENSION})")),
    }
}

fn ratio(value: &str) -> Option<(u32, u32)> {
    let (num, den) = value.split_once(':')?;
    let (num, den) = (num.parse().ok()?, den.parse().ok()?);
    (num > 0 && den > 0).then_some((num, den))
}

fn colour_space(value: &str) -> Result<PixelFormat, String> {
    match value {
        "420" | "420jpeg" | "420paldv" | "420mpeg2" => Ok(PixelFormat::I420),
        "mono" => Ok(PixelFormat::Gray8),
        other => Err(format!(
            "colour space `C{other}` is not supported (only 4:2:0 8-bit and mono); \
             convert the file with `ffmpeg -i in.y4m -pix_fmt yuv420p out.y4m`"
        )),
    }
}

/// The frame rate `fps` as a ratio: whole rates over 1, NTSC rates over 1001,
/// others in thousandths.
pub(crate) fn rate_of(fps: f64) -> (u32, u32) {
    let ntsc = fps * 1001.0 / 1000.0;
    if (fps - fps.round()).abs() < 1e-9 {
        (fps.round() as u32, 1)
    } else if (ntsc - ntsc.round()).abs() < 1e-3 {
        (ntsc.round() as u32 * 1000, 1001)
    } else {
        ((fps * 1000.0).round() as u32, 1000)
    }
}

/// Writes the stream header of a `width` x `height` `format` (I420 or gray8) stream.
pub(crate) fn write_header(
    out: &mut impl Write,
    width: u32,
    height: u32,
    fps: f64,
    format: PixelFormat,
) -> io::Result<()> {
    let (num, den) = rate_of(fps);
    let colour = match format {
        PixelFormat::Gray8 => "Cmono",
        _ => "C420jpeg XYSCSS=420JPEG",
    };
    writeln!(out, "YUV4MPEG2 W{width} H{height} F{num}:{den} Ip A1:1 {colour}")
}

/// What reading one line found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Line {
    /// A whole line (newline included) is in the buffer.
    Complete,
    /// The input ended before any byte.
    End,
    /// The input ended in the middle of a line.
    Truncated,
    /// No newline within [`MAX_LINE`] bytes.
    TooLong,
}

/// Reads one line into `buf` (cleared first), reading at most [`MAX_LINE`] bytes.
pub(crate) fn read_line(reader: &mut impl BufRead, buf: &mut Vec<u8>) -> io::Result<Line> {
    buf.clear();
    let read = Read::take(&mut *reader, MAX_LINE as u64).read_until(b'\n', buf)?;
    Ok(match read {
        0 => Line::End,
        _ if buf.ends_with(b"\n") => Line::Complete,
        n if n >= MAX_LINE => Line::TooLong,
        _ => Line::Truncated,
    })
}

/// Whether `line` is a frame header (`FRAME`, maybe with parameters).
pub(crate) fn is_frame_line(line: &[u8]) -> bool {
    line.strip_prefix(b"FRAME")
        .is_some_and(|rest| matches!(rest.first(), Some(b' ' | b'\n')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_multibyte_tag_is_ignored_not_a_panic() {
        let header = parse_header(b"YUV4MPEG2 W4 H2 F10:1 \xc3\xa9x Cmono\n").expect("unknown tags are ignored");
        assert_eq!((header.width, header.height), (4, 2));
    }

    #[test]
    fn parses_what_ffmpeg_writes() {
        let header = parse_header(b"YUV4MPEG2 W640 H480 F30000:1001 Ip A1:1 C420jpeg XYSCSS=420JPEG\n").unwrap();
        assert_eq!((header.width, header.height, header.rate), (640, 480, (30000, 1001)));
        assert_eq!(header.format, PixelFormat::I420);
        assert!((header.fps() - 29.97).abs() < 0.01);
    }

    #[test]
    fn no_colour_tag_means_420_and_mono_is_gray() {
        assert_eq!(
            parse_header(b"YUV4MPEG2 W2 H2 F25:1").unwrap().format,
            PixelFormat::I420
        );
        assert_eq!(
            parse_header(b"YUV4MPEG2 W2 H2 F25:1 Cmono").unwrap().format,
            PixelFormat::Gray8
        );
    }

    #[test]
    fn other_colour_spaces_say_how_to_convert() {
        let err = parse_header(b"YUV4MPEG2 W2 H2 F25:1 C444").unwrap_err();
        assert!(err.contains("-pix_fmt yuv420p"), "{err}");
        assert!(parse_header(b"YUV4MPEG2 W2 H2 F25:1 C420p10").is_err());
    }

    #[test]
    fn rejects_broken_headers() {
        assert!(parse_header(b"RIFF").is_err());
        assert!(parse_header(b"YUV4MPEG2 W0 H2").is_err());
        assert!(parse_header(b"YUV4MPEG2 W2").is_err());
        assert!(parse_header(b"YUV4MPEG2 W2 H2 F1:0").is_err());
    }

    #[test]
    fn rates_become_ratios() {
        assert_eq!(rate_of(30.0), (30, 1));
        assert_eq!(rate_of(29.97), (30000, 1001));
        assert_eq!(rate_of(12.5), (12500, 1000));
    }

    #[test]
    fn written_headers_parse_back() {
        let mut out = Vec::new();
        write_header(&mut out, 320, 240, 29.97, PixelFormat::I420).unwrap();
        let header = parse_header(&out).unwrap();
        assert_eq!((header.width, header.height, header.rate), (320, 240, (30000, 1001)));
    }

    #[test]
    fn frame_lines_may_carry_parameters() {
        assert!(is_frame_line(b"FRAME\n"));
        assert!(is_frame_line(b"FRAME Ixyz\n"));
        assert!(!is_frame_line(b"FRAMES\n"));
    }

    #[test]
    fn lines_are_capped() {
        let mut buf = Vec::new();
        let long = vec![b'x'; MAX_LINE + 10];
        assert_eq!(read_line(&mut &long[..], &mut buf).unwrap(), Line::TooLong);
        assert_eq!(read_line(&mut &b"FRA"[..], &mut buf).unwrap(), Line::Truncated);
        assert_eq!(read_line(&mut &b""[..], &mut buf).unwrap(), Line::End);
        assert_eq!(read_line(&mut &b"FRAME\nxx"[..], &mut buf).unwrap(), Line::Complete);
    }
}
