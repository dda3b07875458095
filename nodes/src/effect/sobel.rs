//! The luma of a picture and its Sobel gradient magnitude, shared by
//! `edge_detect` and `cartoon`.

use ooblex_runtime::PixelFormat;

use crate::media::pixels::{Y_TO_GRAY, packed_row_to_gray};
use crate::media::raw::RawView;

/// Writes the full-range luma of `view` (any raw format) into `out`, one byte
/// per pixel, rows tightly packed.
pub(crate) fn luma_plane(view: &RawView<'_>, out: &mut Vec<u8>) {
    let width = view.width;
    out.resize(width * view.height, 0);
    let plane = view.plane(0);
    for (row, out_row) in plane.rows().zip(out.chunks_exact_mut(width)) {
        match view.format {
            PixelFormat::Rgb24 => packed_row_to_gray::<3>(row, out_row),
            PixelFormat::Rgba => packed_row_to_gray::<4>(row, out_row),
            PixelFormat::Gray8 => out_row.copy_from_slice(row),
            _ => {
                for (o, &y) in out_row.iter_mut().zip(row) {
                    *o = Y_TO_GRAY[y as usize];
                }
            }
        }
    }
}

/// Scratch rows of [`sobel`], kept between frames.
#[derive(Debug, Default)]
pub(crate) struct SobelScratch {
    /// Per column: above + 2 * centre + below.
    smooth: Vec<i32>,
    /// Per column: below - above.
    diff: Vec<i32>,
}

/// The Sobel gradient magnitude of a `width` x `height` luma plane, written
/// into `out` (resized to match). It is scaled so that a sharp step between
/// two flat areas reads as the step's height: black to white is 255. Pixels
/// beyond the border repeat the border.
pub(crate) fn sobel(luma: &[u8], width: usize, height: usize, out: &mut Vec<u8>, scratch: &mut SobelScratch) {
    out.resize(width * height, 0);
    scratch.smooth.resize(width, 0);
    scratch.diff.resize(width, 0);
    let row = |y: usize| &luma[y * width..][..width];
    for (y, out_row) in out.chunks_exact_mut(width).enumerate() {
        let (above, centre, below) = (row(y.saturating_sub(1)), row(y), row((y + 1).min(height - 1)));
        let columns = scratch.smooth.iter_mut().zip(scratch.diff.iter_mut());
        for ((smooth, diff), ((&a, &c), &b)) in columns.zip(above.iter().zip(centre).zip(below)) {
            let (a, c, b) = (i32::from(a), i32::from(c), i32::from(b));
            *smooth = a + 2 * c + b;
            *diff = b - a;
        }
        let (smooth, diff) = (&scratch.smooth, &scratch.diff);
        let at = |x: usize| {
            let (left, right) = (x.saturating_sub(1), (x + 1).min(width - 1));
            magnitude(smooth[right] - smooth[left], diff[left] + 2 * diff[x] + diff[right])
        };
        if width < 3 {
            for (x, o) in out_row.iter_mut().enumerate() {
                *o = at(x);
            }
            continue;
        }
        out_row[0] = at(0);
        out_row[width - 1] = at(width - 1);
        let windows = smooth.windows(3).zip(diff.windows(3));
        for (o, (s, d)) in out_row[1..width - 1].iter_mut().zip(windows) {
            *o = magnitude(s[2] - s[0], d[0] + 2 * d[1] + d[2]);
        }
    }
}

/// `sqrt(gx² + gy²) / 4`, rounded and saturated to a byte.
#[inline(always)]
fn magnitude(gx: i32, gy: i32) -> u8 {
    let squared = (gx * gx + gy * gy) as f32;
    (squared.sqrt() * 0.25 + 0.5).min(255.0) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sobel_of(luma: &[u8], width: usize) -> Vec<u8> {
        let mut out = Vec::new();
        sobel(luma, width, luma.len() / width, &mut out, &mut SobelScratch::default());
        out
    }

    #[test]
    fn a_flat_plane_has_no_edges() {
        assert!(sobel_of(&[77; 6 * 5], 6).iter().all(|&m| m == 0));
    }

    #[test]
    fn a_vertical_step_reads_as_its_height_on_both_sides() {
        // Columns 0..3 at 20, 3..6 at 220: a step of 200.
        let luma: Vec<u8> = (0..6 * 4).map(|i| if i % 6 < 3 { 20 } else { 220 }).collect();
        let out = sobel_of(&luma, 6);
        for row in out.chunks_exact(6) {
            assert_eq!(row, [0, 0, 200, 200, 0, 0]);
        }
    }

    #[test]
    fn the_direction_of_a_step_does_not_matter() {
        let across: Vec<u8> = (0..5 * 5).map(|i| if i % 5 < 2 { 0 } else { 255 }).collect();
        let down: Vec<u8> = (0..5 * 5).map(|i| if i / 5 < 2 { 0 } else { 255 }).collect();
        let (a, d) = (sobel_of(&across, 5), sobel_of(&down, 5));
        for y in 0..5 {
            for x in 0..5 {
                assert_eq!(a[y * 5 + x], d[x * 5 + y]);
            }
        }
        assert_eq!((a[0], a[1], a[2], a[3]), (0, 255, 255, 0));
    }

    #[test]
    fn tiny_planes_do_not_panic() {
        assert_eq!(sobel_of(&[0, 255], 2), [255, 255]);
        assert_eq!(sobel_of(&[9], 1), [0]);
    }
}
