//! Pixel format conversion, row by row, in integer fixed point.
//!
//! RGB and gray8 are full range; I420 and NV12 are BT.601 limited range
//! (Y 16..=235, chroma 16..=240), which is what ffmpeg assumes for `yuv420p`.
//! 4:2:0 chroma is the average of each 2x2 block on the way in and is
//! repeated over the block on the way out (JPEG/MPEG-1 siting).

use ooblex_runtime::PixelFormat;

use crate::media::raw::{Plane, PlaneMut, RawMut, RawView};

const SHIFT: u32 = 16;
const HALF: i32 = 1 << (SHIFT - 1);

/// `x` in 16.16 fixed point, rounded to nearest.
const fn fix(x: f64) -> i32 {
    (x * 65536.0 + if x >= 0.0 { 0.5 } else { -0.5 }) as i32
}

// Full-range RGB to limited-range YCbCr (BT.601).
const Y_R: i32 = fix(65.481 / 255.0);
const Y_G: i32 = fix(128.553 / 255.0);
const Y_B: i32 = fix(24.966 / 255.0);
const U_R: i32 = fix(-37.797 / 255.0);
const U_G: i32 = fix(-74.203 / 255.0);
const U_B: i32 = fix(112.0 / 255.0);
const V_R: i32 = fix(112.0 / 255.0);
const V_G: i32 = fix(-93.786 / 255.0);
const V_B: i32 = fix(-18.214 / 255.0);

// Limited-range YCbCr to full-range RGB (BT.601).
const C_Y: i32 = fix(255.0 / 219.0);
const R_V: i32 = fix(1.402 * 255.0 / 224.0);
const G_U: i32 = fix(-0.344_136 * 255.0 / 224.0);
const G_V: i32 = fix(-0.714_136 * 255.0 / 224.0);
const B_U: i32 = fix(1.772 * 255.0 / 224.0);

// Full-range luma (BT.601 weights); they sum to exactly 1.0.
const L_R: i32 = fix(0.299);
const L_G: i32 = fix(0.587);
const L_B: i32 = fix(0.114);

/// Full-range gray to limited-range Y.
pub(crate) static GRAY_TO_Y: [u8; 256] = {
    let mut table = [0; 256];
    let mut v = 0;
    while v < 256 {
        table[v] = (16 + (v * 219 + 127) / 255) as u8;
        v += 1;
    }
    table
};

/// Limited-range Y to full-range gray.
pub(crate) static Y_TO_GRAY: [u8; 256] = {
    let mut table = [0; 256];
    let mut v = 0;
    while v < 256 {
        table[v] = clamp_u8(scale_around(v as i32, 16, 255, 219));
        v += 1;
    }
    table
};

/// Limited-range chroma to full-range chroma (as JPEG stores it).
pub(crate) static CHROMA_TO_FULL: [u8; 256] = {
    let mut table = [0; 256];
    let mut v = 0;
    while v < 256 {
        table[v] = clamp_u8(128 + scale_around(v as i32, 128, 255, 224));
        v += 1;
    }
    table
};

/// `(v - center) * num / den`, rounded half away from zero.
const fn scale_around(v: i32, center: i32, num: i32, den: i32) -> i32 {
    let n = (v - center) * num;
    if n >= 0 {
        (n + den / 2) / den
    } else {
        -((-n + den / 2) / den)
    }
}

const fn clamp_u8(v: i32) -> u8 {
    if v < 0 {
        0
    } else if v > 255 {
        255
    } else {
        v as u8
    }
}

/// Full-range BT.601 luma of one RGB pixel.
#[inline(always)]
pub(crate) fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((L_R * r as i32 + L_G * g as i32 + L_B * b as i32 + HALF) >> SHIFT) as u8
}

/// Limited-range Y of one RGB pixel.
#[inline(always)]
fn rgb_to_y(r: u8, g: u8, b: u8) -> u8 {
    ((Y_R * r as i32 + Y_G * g as i32 + Y_B * b as i32 + (16 << SHIFT) + HALF) >> SHIFT) as u8
}

/// Limited-range U and V from the sums of R, G and B over four pixels.
#[inline(always)]
fn sums_to_uv(r: i32, g: i32, b: i32) -> (u8, u8) {
    const SHIFT4: u32 = SHIFT + 2;
    const BIAS: i32 = (128 << SHIFT4) + (1 << (SHIFT4 - 1));
    let u = (U_R * r + U_G * g + U_B * b + BIAS) >> SHIFT4;
    let v = (V_R * r + V_G * g + V_B * b + BIAS) >> SHIFT4;
    (u as u8, v as u8)
}

/// Limited-range Y, U and V of one RGB colour.
pub(crate) fn rgb_to_yuv([r, g, b]: [u8; 3]) -> (u8, u8, u8) {
    let (u, v) = sums_to_uv(4 * r as i32, 4 * g as i32, 4 * b as i32);
    (rgb_to_y(r, g, b), u, v)
}

/// The chroma terms shared by the pixels of one 2x2 block.
#[derive(Clone, Copy)]
struct ChromaTerms {
    r: i32,
    g: i32,
    b: i32,
}

#[inline(always)]
fn chroma_terms(u: u8, v: u8) -> ChromaTerms {
    let (d, e) = (u as i32 - 128, v as i32 - 128);
    ChromaTerms {
        r: R_V * e + HALF,
        g: G_U * d + G_V * e + HALF,
        b: B_U * d + HALF,
    }
}

#[inline(always)]
fn put_rgb<const BPP: usize>(out: &mut [u8], y: u8, t: ChromaTerms) {
    let c = (y as i32 - 16) * C_Y;
    out[0] = ((c + t.r) >> SHIFT).clamp(0, 255) as u8;
    out[1] = ((c + t.g) >> SHIFT).clamp(0, 255) as u8;
    out[2] = ((c + t.b) >> SHIFT).clamp(0, 255) as u8;
    if BPP == 4 {
        out[3] = 255;
    }
}

/// Converts `src` into `dst`, which has the same size.
///
/// Panics when the sizes differ: callers allocate `dst` for `src`.
pub(crate) fn convert(src: &RawView<'_>, dst: &mut RawMut<'_>) {
    assert_eq!(
        (src.width, src.height),
        (dst.width, dst.height),
        "convert writes into a frame of the same size"
    );
    use PixelFormat::*;
    match (src.format, dst.format) {
        (Rgb24, Rgb24) | (Rgba, Rgba) | (Gray8, Gray8) | (I420, I420) | (Nv12, Nv12) => copy_planes(src, dst),
        (Rgb24, Rgba) => packed_to_packed::<3, 4>(src.plane(0), &mut dst.planes_mut()[0]),
        (Rgba, Rgb24) => packed_to_packed::<4, 3>(src.plane(0), &mut dst.planes_mut()[0]),
        (Rgb24, Gray8) => packed_to_gray::<3>(src.plane(0), &mut dst.planes_mut()[0]),
        (Rgba, Gray8) => packed_to_gray::<4>(src.plane(0), &mut dst.planes_mut()[0]),
        (Gray8, Rgb24) => gray_to_packed::<3>(src.plane(0), &mut dst.planes_mut()[0]),
        (Gray8, Rgba) => gray_to_packed::<4>(src.plane(0), &mut dst.planes_mut()[0]),
        (Rgb24, I420 | Nv12) => packed_to_yuv::<3>(src.plane(0), dst),
        (Rgba, I420 | Nv12) => packed_to_yuv::<4>(src.plane(0), dst),
        (I420 | Nv12, Rgb24) => yuv_to_packed::<3>(src, &mut dst.planes_mut()[0]),
        (I420 | Nv12, Rgba) => yuv_to_packed::<4>(src, &mut dst.planes_mut()[0]),
        (I420 | Nv12, I420 | Nv12) => yuv_to_yuv(src, dst),
        (Gray8, I420 | Nv12) => gray_to_yuv(src.plane(0), dst),
        (I420 | Nv12, Gray8) => map_plane(src.plane(0), &mut dst.planes_mut()[0], &Y_TO_GRAY),
        (Encoded(_) | Empty, _) | (_, Encoded(_) | Empty) => {
            unreachable!("raw views and raw buffers only hold raw pictures")
        }
    }
}

fn copy_planes(src: &RawView<'_>, dst: &mut RawMut<'_>) {
    for (from, to) in src.planes().iter().zip(dst.planes_mut()) {
        match from.tight_bytes() {
            Some(bytes) => to.bytes_mut().copy_from_slice(bytes),
            None => {
                for (row, out) in from.rows().zip(to.rows_mut()) {
                    out.copy_from_slice(row);
                }
            }
        }
    }
}

/// Applies a lookup table to every byte of a plane.
pub(crate) fn map_plane(src: Plane<'_>, dst: &mut PlaneMut<'_>, table: &[u8; 256]) {
    for (row, out) in src.rows().zip(dst.rows_mut()) {
        for (o, &v) in out.iter_mut().zip(row) {
            *o = table[v as usize];
        }
    }
}

fn packed_to_packed<const S: usize, const D: usize>(src: Plane<'_>, dst: &mut PlaneMut<'_>) {
    for (row, out) in src.rows().zip(dst.rows_mut()) {
        for (s, d) in row.chunks_exact(S).zip(out.chunks_exact_mut(D)) {
            d[..3].copy_from_slice(&s[..3]);
            if D == 4 {
                d[3] = if S == 4 { s[3] } else { 255 };
            }
        }
    }
}

/// Full-range luma of a row of packed RGB(A) pixels.
pub(crate) fn packed_row_to_gray<const BPP: usize>(row: &[u8], out: &mut [u8]) {
    for (p, o) in row.chunks_exact(BPP).zip(out.iter_mut()) {
        *o = luma(p[0], p[1], p[2]);
    }
}

fn packed_to_gray<const BPP: usize>(src: Plane<'_>, dst: &mut PlaneMut<'_>) {
    for (row, out) in src.rows().zip(dst.rows_mut()) {
        packed_row_to_gray::<BPP>(row, out);
    }
}

fn gray_to_packed<const BPP: usize>(src: Plane<'_>, dst: &mut PlaneMut<'_>) {
    for (row, out) in src.rows().zip(dst.rows_mut()) {
        for (&g, d) in row.iter().zip(out.chunks_exact_mut(BPP)) {
            d[..3].fill(g);
            if BPP == 4 {
                d[3] = 255;
            }
        }
    }
}

fn packed_to_yuv<const BPP: usize>(src: Plane<'_>, dst: &mut RawMut<'_>) {
    match dst.planes_mut() {
        [y_plane, u_plane, v_plane] => {
            for cy in 0..u_plane.height() {
                let (u_row, v_row) = (u_plane.row_mut(cy), v_plane.row_mut(cy));
                rows_to_chroma::<BPP>(src, cy, |i, u, v| {
                    u_row[i] = u;
                    v_row[i] = v;
                });
            }
            packed_to_luma::<BPP>(src, y_plane);
        }
        [y_plane, uv_plane] => {
            for cy in 0..uv_plane.height() {
                let uv_row = uv_plane.row_mut(cy);
                rows_to_chroma::<BPP>(src, cy, |i, u, v| {
                    uv_row[2 * i] = u;
                    uv_row[2 * i + 1] = v;
                });
            }
            packed_to_luma::<BPP>(src, y_plane);
        }
        _ => unreachable!("a 4:2:0 frame has two or three planes"),
    }
}

fn packed_to_luma<const BPP: usize>(src: Plane<'_>, y_plane: &mut PlaneMut<'_>) {
    for (row, out) in src.rows().zip(y_plane.rows_mut()) {
        for (p, o) in row.chunks_exact(BPP).zip(out.iter_mut()) {
            *o = rgb_to_y(p[0], p[1], p[2]);
        }
    }
}

/// Averages the 2x2 blocks of source rows `2 * cy` and `2 * cy + 1` into chroma
/// row `cy`, handing each (index, U, V) to `put`. An odd last row or column
/// repeats itself.
#[inline(always)]
fn rows_to_chroma<const BPP: usize>(src: Plane<'_>, cy: usize, mut put: impl FnMut(usize, u8, u8)) {
    let top = src.row(2 * cy);
    let bottom = src.row((2 * cy + 1).min(src.height() - 1));
    let pairs = top.chunks_exact(2 * BPP).zip(bottom.chunks_exact(2 * BPP));
    for (i, (t, b)) in pairs.enumerate() {
        let sum = |c: usize| t[c] as i32 + t[BPP + c] as i32 + b[c] as i32 + b[BPP + c] as i32;
        let (u, v) = sums_to_uv(sum(0), sum(1), sum(2));
        put(i, u, v);
    }
    if src.width() % 2 == 1 {
        let x = (src.width() - 1) * BPP;
        let sum = |c: usize| 2 * (top[x + c] as i32 + bottom[x + c] as i32);
        let (u, v) = sums_to_uv(sum(0), sum(1), sum(2));
        put(src.width() / 2, u, v);
    }
}

fn yuv_to_packed<const BPP: usize>(src: &RawView<'_>, dst: &mut PlaneMut<'_>) {
    let luma = src.plane(0);
    for (y, out) in dst.rows_mut().enumerate() {
        match src.planes() {
            [_, u, v] => {
                let chroma = u.row(y / 2).iter().copied().zip(v.row(y / 2).iter().copied());
                yuv_row_to_packed::<BPP>(luma.row(y), chroma, out);
            }
            [_, uv] => {
                let chroma = uv.row(y / 2).chunks_exact(2).map(|pair| (pair[0], pair[1]));
                yuv_row_to_packed::<BPP>(luma.row(y), chroma, out);
            }
            _ => unreachable!("a 4:2:0 view has two or three planes"),
        }
    }
}

/// One row of 4:2:0 pixels to packed RGB(A), given the row's (U, V) samples in order.
#[inline(always)]
fn yuv_row_to_packed<const BPP: usize>(y: &[u8], mut chroma: impl Iterator<Item = (u8, u8)>, out: &mut [u8]) {
    let pixels = y.chunks_exact(2).zip(out.chunks_exact_mut(2 * BPP));
    for ((ys, px), (u, v)) in pixels.zip(chroma.by_ref()) {
        let t = chroma_terms(u, v);
        put_rgb::<BPP>(&mut px[..BPP], ys[0], t);
        put_rgb::<BPP>(&mut px[BPP..], ys[1], t);
    }
    if y.len() % 2 == 1
        && let Some((u, v)) = chroma.next()
    {
        put_rgb::<BPP>(&mut out[(y.len() - 1) * BPP..], y[y.len() - 1], chroma_terms(u, v));
    }
}

fn yuv_to_yuv(src: &RawView<'_>, dst: &mut RawMut<'_>) {
    let luma = src.plane(0);
    match (src.planes(), dst.planes_mut()) {
        ([_, u, v], [y_out, uv_out]) => {
            for ((u_row, v_row), out) in u.rows().zip(v.rows()).zip(uv_out.rows_mut()) {
                for ((pair, &u), &v) in out.chunks_exact_mut(2).zip(u_row).zip(v_row) {
                    pair[0] = u;
                    pair[1] = v;
                }
            }
            copy_plane(luma, y_out);
        }
        ([_, uv], [y_out, u_out, v_out]) => {
            for ((uv_row, u_row), v_row) in uv.rows().zip(u_out.rows_mut()).zip(v_out.rows_mut()) {
                for ((pair, u), v) in uv_row.chunks_exact(2).zip(u_row).zip(v_row) {
                    *u = pair[0];
                    *v = pair[1];
                }
            }
            copy_plane(luma, y_out);
        }
        _ => unreachable!("yuv_to_yuv converts between i420 and nv12"),
    }
}

/// Copies a plane row by row.
pub(crate) fn copy_plane(src: Plane<'_>, dst: &mut PlaneMut<'_>) {
    match src.tight_bytes() {
        Some(bytes) => dst.bytes_mut().copy_from_slice(bytes),
        None => {
            for (row, out) in src.rows().zip(dst.rows_mut()) {
                out.copy_from_slice(row);
            }
        }
    }
}

fn gray_to_yuv(src: Plane<'_>, dst: &mut RawMut<'_>) {
    let planes = dst.planes_mut();
    map_plane(src, &mut planes[0], &GRAY_TO_Y);
    for chroma in &mut planes[1..] {
        chroma.bytes_mut().fill(128);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::raw::frame_bytes;

    fn smooth_rgb(w: usize, h: usize) -> Vec<u8> {
        let mut rgb = vec![0; w * h * 3];
        for (i, px) in rgb.chunks_exact_mut(3).enumerate() {
            let (x, y) = (i % w, i / w);
            px[0] = (x * 4) as u8;
            px[1] = (y * 5) as u8;
            px[2] = (255 - 2 * (x + y)) as u8;
        }
        rgb
    }

    fn convert_tight(src: &[u8], from: PixelFormat, to: PixelFormat, w: usize, h: usize) -> Vec<u8> {
        let mut out = vec![0; frame_bytes(to, w, h)];
        convert(&RawView::tight(src, from, w, h), &mut RawMut::new(&mut out, to, w, h));
        out
    }

    fn max_and_mean_error(a: &[u8], b: &[u8]) -> (u8, f64) {
        let diffs = a.iter().zip(b).map(|(a, b)| a.abs_diff(*b));
        let max = diffs.clone().max().unwrap_or(0);
        let mean = diffs.map(f64::from).sum::<f64>() / a.len() as f64;
        (max, mean)
    }

    #[test]
    fn rgb_round_trips_through_every_yuv_format() {
        for (w, h) in [(64, 48), (33, 17)] {
            let rgb = smooth_rgb(w, h);
            for yuv in [PixelFormat::I420, PixelFormat::Nv12] {
                let there = convert_tight(&rgb, PixelFormat::Rgb24, yuv, w, h);
                let back = convert_tight(&there, yuv, PixelFormat::Rgb24, w, h);
                let (max, mean) = max_and_mean_error(&rgb, &back);
                assert!(max <= 6 && mean < 2.5, "{yuv} {w}x{h}: max {max}, mean {mean}");
            }
        }
    }

    #[test]
    fn i420_and_nv12_convert_losslessly() {
        let (w, h) = (9, 7);
        let i420: Vec<u8> = (0..frame_bytes(PixelFormat::I420, w, h))
            .map(|i| (i * 7) as u8)
            .collect();
        let nv12 = convert_tight(&i420, PixelFormat::I420, PixelFormat::Nv12, w, h);
        assert_eq!(convert_tight(&nv12, PixelFormat::Nv12, PixelFormat::I420, w, h), i420);
    }

    #[test]
    fn primaries_match_bt601_limited_range() {
        assert_eq!(rgb_to_yuv([0, 0, 0]), (16, 128, 128));
        assert_eq!(rgb_to_yuv([255, 255, 255]), (235, 128, 128));
        assert_eq!(rgb_to_yuv([255, 0, 0]), (81, 90, 240));
        let white = convert_tight(
            &[235, 235, 235, 235, 128, 128],
            PixelFormat::I420,
            PixelFormat::Rgb24,
            2,
            2,
        );
        assert!(white.iter().all(|&v| v == 255), "{white:?}");
    }

    #[test]
    fn gray_round_trips_through_rgb_and_yuv() {
        let gray: Vec<u8> = (0..=255).collect();
        for via in [PixelFormat::Rgb24, PixelFormat::Rgba, PixelFormat::I420] {
            let there = convert_tight(&gray, PixelFormat::Gray8, via, 16, 16);
            let back = convert_tight(&there, via, PixelFormat::Gray8, 16, 16);
            let (max, _) = max_and_mean_error(&gray, &back);
            assert!(max <= 1, "via {via}: max error {max}");
        }
    }

    #[test]
    fn rgba_keeps_alpha_and_rgb_gets_opaque_alpha() {
        let rgb = [1, 2, 3, 4, 5, 6];
        let rgba = convert_tight(&rgb, PixelFormat::Rgb24, PixelFormat::Rgba, 2, 1);
        assert_eq!(rgba, [1, 2, 3, 255, 4, 5, 6, 255]);
        assert_eq!(convert_tight(&rgba, PixelFormat::Rgba, PixelFormat::Rgb24, 2, 1), rgb);
    }
}
