//! The static part of the test pattern, drawn once at start.

use ooblex_runtime::PixelFormat;

use crate::media::pixels::convert;
use crate::media::raw::{RawMut, RawView, frame_bytes};
use crate::source::test_pattern::Pattern;

/// 75% colour bars, left to right: white, yellow, cyan, green, magenta, red, blue.
const BARS: [[u8; 3]; 7] = [
    [191, 191, 191],
    [191, 191, 0],
    [0, 191, 191],
    [0, 191, 0],
    [191, 0, 191],
    [191, 0, 0],
    [0, 0, 191],
];

/// The two colours of the checkerboard.
const CHECKERS: [[u8; 3]; 2] = [[48, 48, 48], [200, 200, 200]];

/// `pattern` at `width` x `height`, tightly packed in `format`.
pub(crate) fn render(pattern: Pattern, format: PixelFormat, width: usize, height: usize) -> Vec<u8> {
    let mut rgb = vec![0; width * height * 3];
    for (y, row) in rgb.chunks_exact_mut(width * 3).enumerate() {
        for (x, px) in row.chunks_exact_mut(3).enumerate() {
            px.copy_from_slice(&colour(pattern, x, y, width, height));
        }
    }
    if format == PixelFormat::Rgb24 {
        return rgb;
    }
    let mut out = vec![0; frame_bytes(format, width, height)];
    convert(
        &RawView::tight(&rgb, PixelFormat::Rgb24, width, height),
        &mut RawMut::new(&mut out, format, width, height),
    );
    out
}

fn colour(pattern: Pattern, x: usize, y: usize, width: usize, height: usize) -> [u8; 3] {
    let ramp = |v: usize, of: usize| (v * 255 / of.saturating_sub(1).max(1)) as u8;
    match pattern {
        Pattern::Bars if y < height * 3 / 4 => BARS[x * BARS.len() / width],
        Pattern::Bars => [ramp(x, width); 3],
        Pattern::Gradient => [ramp(x, width), ramp(y, height), 255 - ramp(x, width) / 2],
        Pattern::Checkers => {
            let square = (height / 12).max(8);
            CHECKERS[(x / square + y / square) % 2]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_start_white_and_end_blue() {
        let rgb = render(Pattern::Bars, PixelFormat::Rgb24, 70, 40);
        assert_eq!(&rgb[..3], &BARS[0]);
        assert_eq!(&rgb[69 * 3..70 * 3], &BARS[6]);
    }

    #[test]
    fn renders_every_format_at_odd_sizes() {
        for format in PixelFormat::RAW {
            let bytes = render(Pattern::Checkers, format, 33, 17);
            assert_eq!(bytes.len(), format.frame_size(33, 17));
        }
    }
}
