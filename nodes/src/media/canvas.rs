//! Drawing solid rectangles into a raw frame of any format.

use ooblex_runtime::PixelFormat;

use crate::media::pixels::{luma, rgb_to_yuv};
use crate::media::raw::RawMut;

/// A colour, converted once into every raw format's values.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Paint {
    rgba: [u8; 4],
    gray: u8,
    yuv: (u8, u8, u8),
}

impl Paint {
    /// An opaque RGB colour.
    pub fn rgb(rgb: [u8; 3]) -> Paint {
        Paint {
            rgba: [rgb[0], rgb[1], rgb[2], 255],
            gray: luma(rgb[0], rgb[1], rgb[2]),
            yuv: rgb_to_yuv(rgb),
        }
    }
}

/// A rectangle in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rect {
    /// Left edge.
    pub x: usize,
    /// Top edge.
    pub y: usize,
    /// Width.
    pub width: usize,
    /// Height.
    pub height: usize,
}

/// Fills `rect` (clipped to the frame) with `paint`. In 4:2:0 formats the
/// chroma of every 2x2 block the rectangle touches takes the colour, so draw
/// on even coordinates for crisp colour edges.
pub(crate) fn fill_rect(out: &mut RawMut<'_>, rect: Rect, paint: &Paint) {
    let x0 = rect.x.min(out.width);
    let y0 = rect.y.min(out.height);
    let x1 = rect.x.saturating_add(rect.width).min(out.width);
    let y1 = rect.y.saturating_add(rect.height).min(out.height);
    if x0 >= x1 || y0 >= y1 {
        return;
    }
    let format = out.format;
    let (y, u, v) = paint.yuv;
    let (cx0, cx1, cy0, cy1) = (x0 / 2, x1.div_ceil(2), y0 / 2, y1.div_ceil(2));
    match (format, out.planes_mut()) {
        (PixelFormat::Rgb24, [plane]) => fill(plane.rows_mut(), y0..y1, x0 * 3..x1 * 3, &paint.rgba[..3]),
        (PixelFormat::Rgba, [plane]) => fill(plane.rows_mut(), y0..y1, x0 * 4..x1 * 4, &paint.rgba),
        (PixelFormat::Gray8, [plane]) => fill(plane.rows_mut(), y0..y1, x0..x1, &[paint.gray]),
        (PixelFormat::I420, [luma, u_plane, v_plane]) => {
            fill(luma.rows_mut(), y0..y1, x0..x1, &[y]);
            fill(u_plane.rows_mut(), cy0..cy1, cx0..cx1, &[u]);
            fill(v_plane.rows_mut(), cy0..cy1, cx0..cx1, &[v]);
        }
        (PixelFormat::Nv12, [luma, uv]) => {
            fill(luma.rows_mut(), y0..y1, x0..x1, &[y]);
            fill(uv.rows_mut(), cy0..cy1, cx0 * 2..cx1 * 2, &[u, v]);
        }
        _ => unreachable!("a raw buffer has the planes of its format"),
    }
}

/// Writes `pixel` repeatedly over `bytes` of each row in `rows`.
fn fill<'a>(
    plane_rows: impl Iterator<Item = &'a mut [u8]>,
    rows: std::ops::Range<usize>,
    bytes: std::ops::Range<usize>,
    pixel: &[u8],
) {
    for row in plane_rows.skip(rows.start).take(rows.len()) {
        if let [value] = pixel {
            row[bytes.clone()].fill(*value);
        } else {
            for px in row[bytes.clone()].chunks_exact_mut(pixel.len()) {
                px.copy_from_slice(pixel);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::raw::frame_bytes;

    #[test]
    fn fills_only_the_clipped_rectangle() {
        let mut bytes = vec![0; frame_bytes(PixelFormat::Rgb24, 4, 3)];
        let mut out = RawMut::new(&mut bytes, PixelFormat::Rgb24, 4, 3);
        let rect = Rect {
            x: 2,
            y: 1,
            width: 10,
            height: 1,
        };
        fill_rect(&mut out, rect, &Paint::rgb([9, 8, 7]));
        let expected_row1 = [0, 0, 0, 0, 0, 0, 9, 8, 7, 9, 8, 7];
        assert_eq!(&bytes[12..24], &expected_row1);
        assert!(bytes[..12].iter().chain(&bytes[24..]).all(|&b| b == 0));
    }

    #[test]
    fn i420_fill_sets_luma_and_chroma() {
        let mut bytes = vec![0; frame_bytes(PixelFormat::I420, 4, 4)];
        let mut out = RawMut::new(&mut bytes, PixelFormat::I420, 4, 4);
        let rect = Rect {
            x: 0,
            y: 0,
            width: 2,
            height: 2,
        };
        fill_rect(&mut out, rect, &Paint::rgb([255, 255, 255]));
        assert_eq!(&bytes[..2], &[235, 235]);
        assert_eq!(bytes[2], 0);
        assert_eq!((bytes[16], bytes[17], bytes[20]), (128, 0, 128));
    }
}
