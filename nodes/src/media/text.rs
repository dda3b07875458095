//! Text drawn with the 8x8 bitmap font of `font8x8`, scaled up by whole pixels.

use font8x8::legacy::BASIC_LEGACY;

use crate::media::canvas::{Paint, Rect, fill_rect};
use crate::media::raw::RawMut;

/// Width and height of one glyph before scaling.
pub(crate) const GLYPH_SIZE: usize = 8;

/// The bitmap of `c`: one byte per row, bit 0 the leftmost pixel. Characters
/// outside ASCII draw as `?`.
fn glyph(c: char) -> [u8; 8] {
    let index = if c.is_ascii() { c as usize } else { '?' as usize };
    BASIC_LEGACY[index]
}

/// The size in pixels of `text` drawn at `scale`.
pub(crate) fn text_size(text: &str, scale: usize) -> (usize, usize) {
    (text.chars().count() * GLYPH_SIZE * scale, GLYPH_SIZE * scale)
}

/// Draws `text` with its top-left corner at (`x`, `y`), each font pixel a
/// `scale` x `scale` square of `paint`. Only the glyphs' set pixels are drawn.
pub(crate) fn draw_text(out: &mut RawMut<'_>, x: usize, y: usize, scale: usize, text: &str, paint: &Paint) {
    for (index, c) in text.chars().enumerate() {
        let left = x + index * GLYPH_SIZE * scale;
        if left >= out.width {
            break;
        }
        for (row, bits) in glyph(c).into_iter().enumerate() {
            let mut col = 0;
            while col < GLYPH_SIZE {
                if bits & (1 << col) == 0 {
                    col += 1;
                    continue;
                }
                let start = col;
                while col < GLYPH_SIZE && bits & (1 << col) != 0 {
                    col += 1;
                }
                let rect = Rect {
                    x: left + start * scale,
                    y: y + row * scale,
                    width: (col - start) * scale,
                    height: scale,
                };
                fill_rect(out, rect, paint);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::raw::frame_bytes;
    use ooblex_runtime::PixelFormat;

    #[test]
    fn draws_set_pixels_of_the_glyph() {
        let (w, h) = text_size("1", 2);
        let mut bytes = vec![0; frame_bytes(PixelFormat::Gray8, w, h)];
        let mut out = RawMut::new(&mut bytes, PixelFormat::Gray8, w, h);
        draw_text(&mut out, 0, 0, 2, "1", &Paint::rgb([255, 255, 255]));
        let lit = bytes.iter().filter(|&&b| b == 255).count();
        let font_pixels: u32 = glyph('1').iter().map(|row| row.count_ones()).sum();
        assert_eq!(lit, font_pixels as usize * 4);
    }
}
