//! Picture helpers shared by the compositors: the output's packed format, placing
//! inputs, and drawing labels. Inputs are converted and scaled by [`Fitter`].

use ooblex_runtime::{FormatSet, Gives, OutputPortSpec, PixelFormat};

use crate::media::canvas::{Paint, Rect, fill_rect};
pub(crate) use crate::media::fit::Fitter;
use crate::media::raw::{RawMut, RawView};
use crate::media::text::{draw_text, text_size};

/// The `video` output of compositors: packed RGB, as [`output_formats`] says.
pub(crate) const PACKED_OUT: OutputPortSpec = OutputPortSpec::video(Gives::Only(FormatSet::PACKED_RGB));

/// The formats a compositor writes when its first input carries `input`
/// (see [`output_format`]).
pub(crate) fn output_formats(input: FormatSet) -> FormatSet {
    input
        .iter()
        .map(output_format)
        .fold(FormatSet::EMPTY, |set, format| set.union(FormatSet::of(&[format])))
}

/// The packed format a compositor writes when its first input is in `format`:
/// rgba for rgba, rgb24 for everything else.
pub(crate) fn output_format(format: PixelFormat) -> PixelFormat {
    if format == PixelFormat::Rgba {
        PixelFormat::Rgba
    } else {
        PixelFormat::Rgb24
    }
}

/// Copies packed `src` (in `out`'s format) into `out` with its top-left
/// corner at (`x`, `y`), clipped to `out`.
pub(crate) fn blit(src: &RawView<'_>, out: &mut RawMut<'_>, x: usize, y: usize) {
    debug_assert_eq!(src.format, out.format, "blit copies between pictures of one format");
    let (out_w, out_h) = (out.width, out.height);
    if x >= out_w || y >= out_h {
        return;
    }
    let plane = src.plane(0);
    let bpp = plane.bpp();
    let columns = src.width.min(out_w - x) * bpp;
    let dst = &mut out.planes_mut()[0];
    for (row, dst_y) in plane.rows().zip(y..out_h) {
        dst.row_mut(dst_y)[x * bpp..][..columns].copy_from_slice(&row[..columns]);
    }
}

/// The largest `width` x `height` rectangle of the aspect of a picture that
/// fits inside `cell`, centred in it; at least one pixel each way.
pub(crate) fn fit_within(width: usize, height: usize, cell: Rect) -> Rect {
    let (w, h) = (width.max(1) as u64, height.max(1) as u64);
    let (cw, ch) = (cell.width as u64, cell.height as u64);
    // Width-limited when w / h >= cw / ch.
    let (fw, fh) = if w * ch >= h * cw {
        (cw, (h * cw + w / 2) / w)
    } else {
        ((w * ch + h / 2) / h, ch)
    };
    let (fw, fh) = (fw.max(1) as usize, fh.max(1) as usize);
    Rect {
        x: cell.x + (cell.width.saturating_sub(fw)) / 2,
        y: cell.y + (cell.height.saturating_sub(fh)) / 2,
        width: fw,
        height: fh,
    }
}

/// Fills the whole of `out` with black.
pub(crate) fn fill_black(out: &mut RawMut<'_>) {
    let whole = Rect {
        x: 0,
        y: 0,
        width: out.width,
        height: out.height,
    };
    fill_rect(out, whole, &Paint::rgb([0, 0, 0]));
}

/// Draws `text` in white on a black box, centred across the top of `area`
/// (where sources tend to leave their corners for their own captions).
pub(crate) fn draw_label(out: &mut RawMut<'_>, area: Rect, text: &str, scale: usize) {
    if text.is_empty() {
        return;
    }
    let (w, h) = text_size(text, scale);
    let pad = 2 * scale;
    let background = Rect {
        x: area.x + area.width.saturating_sub(w + 2 * pad) / 2,
        y: area.y + 2 * scale,
        width: w + 2 * pad,
        height: h + 2 * pad,
    };
    fill_rect(out, background, &Paint::rgb([0, 0, 0]));
    draw_text(
        out,
        background.x + pad,
        background.y + pad,
        scale,
        text,
        &Paint::rgb([255, 255, 255]),
    );
}

/// The text scale for labels on a picture `height` pixels high.
pub(crate) fn label_scale(height: usize) -> usize {
    (height / 240).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_within_keeps_the_aspect_and_centres() {
        let cell = Rect {
            x: 100,
            y: 10,
            width: 320,
            height: 240,
        };
        let wide = fit_within(1280, 720, cell);
        assert_eq!((wide.x, wide.y, wide.width, wide.height), (100, 40, 320, 180));
        let tall = fit_within(100, 200, cell);
        assert_eq!((tall.x, tall.y, tall.width, tall.height), (100 + 100, 10, 120, 240));
    }

    #[test]
    fn fitting_converts_and_scales() {
        let gray = [0u8, 255, 255, 0];
        let mut fitter = Fitter::default();
        let src = RawView::tight(&gray, PixelFormat::Gray8, 2, 2);
        let same = fitter.fit(&src, PixelFormat::Rgb24, 2, 2).expect("converts");
        assert_eq!(same.plane(0).row(0), [0, 0, 0, 255, 255, 255]);
        let big = fitter.fit(&src, PixelFormat::Rgba, 8, 6).expect("scales");
        assert_eq!((big.width, big.height, big.format), (8, 6, PixelFormat::Rgba));
        assert_eq!(big.plane(0).row(0)[..4], [0, 0, 0, 255], "the corner keeps its colour");
    }

    #[test]
    fn blit_clips_at_the_edges() {
        let src_bytes = [9u8; 3 * 4 * 2];
        let src = RawView::tight(&src_bytes, PixelFormat::Rgb24, 4, 2);
        let mut bytes = vec![0; 5 * 3 * 3];
        blit(&src, &mut RawMut::new(&mut bytes, PixelFormat::Rgb24, 5, 3), 3, 2);
        let lit: Vec<usize> = (0..15).filter(|&i| bytes[i * 3] == 9).collect();
        assert_eq!(lit, [13, 14]);
    }
}
