//! Helpers for the tests that run node kinds on the photos in `tests/data`.

#![allow(dead_code)]

use std::path::PathBuf;

use ooblex_runtime::testing::{Harness, HarnessOutput};
use ooblex_runtime::{Buffer, Detection, Frame, PixelFormat};

/// A photo from `tests/data` as an rgb24 frame.
pub fn photo(name: &str) -> Frame {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data")
        .join(name);
    let image = image::open(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
        .to_rgb8();
    let (width, height) = image.dimensions();
    Frame::new(
        Buffer::from_vec(image.into_raw()),
        PixelFormat::Rgb24,
        width,
        height,
        std::time::Duration::ZERO,
        0,
    )
}

/// Runs kind `name` with `params` over `frames` on its `video` input; panics if it fails.
pub fn run(name: &str, params: serde_json::Value, frames: Vec<Frame>) -> HarnessOutput {
    let registry = ooblex_nodes::registry();
    let kind = registry.get(name).unwrap_or_else(|| panic!("`{name}` is registered"));
    let out = Harness::new(kind, params).input("video", frames).run();
    if let Err(err) = &out.result {
        panic!("`{name}` failed: {err}");
    }
    out
}

/// The single output frame on the `video` port.
pub fn one_frame(name: &str, params: serde_json::Value, frame: Frame) -> Frame {
    let out = run(name, params, vec![frame]);
    assert_eq!(out.video().len(), 1, "`{name}` sent one frame");
    out.video()[0].clone()
}

/// The faces `face_detect` finds in `frame` with `params`.
pub fn faces(frame: &Frame, params: serde_json::Value) -> Vec<Detection> {
    one_frame("face_detect", params, frame.clone())
        .meta
        .detections
        .clone()
        .expect("face_detect attaches detections")
}

/// Mean absolute difference per channel value over the rectangle `[x0, y0, x1, y1)`.
pub fn mean_abs_diff(a: &Frame, b: &Frame, [x0, y0, x1, y1]: [usize; 4]) -> f64 {
    let (w, bpp) = (a.width as usize, 3);
    let (pa, pb) = (a.buffer.as_slice(), b.buffer.as_slice());
    let mut total = 0u64;
    for y in y0..y1 {
        for x in x0..x1 {
            for c in 0..bpp {
                let i = (y * w + x) * bpp + c;
                total += u64::from(pa[i].abs_diff(pb[i]));
            }
        }
    }
    total as f64 / ((x1 - x0) * (y1 - y0) * bpp) as f64
}

/// The Laplacian of the luma (fine detail) at each pixel of a rectangle, edges excluded.
fn laplacian(frame: &Frame, [x0, y0, x1, y1]: [usize; 4]) -> Vec<f64> {
    let w = frame.width as usize;
    let p = frame.buffer.as_slice();
    let luma = |x: usize, y: usize| {
        let i = (y * w + x) * 3;
        (f64::from(p[i]) * 0.299) + (f64::from(p[i + 1]) * 0.587) + (f64::from(p[i + 2]) * 0.114)
    };
    let mut out = Vec::new();
    for y in y0.max(1)..y1.min(frame.height as usize - 1) {
        for x in x0.max(1)..x1.min(w - 1) {
            out.push(4.0 * luma(x, y) - luma(x - 1, y) - luma(x + 1, y) - luma(x, y - 1) - luma(x, y + 1));
        }
    }
    out
}

/// Fine detail in a rectangle: mean absolute Laplacian of the luma.
pub fn detail(frame: &Frame, rect: [usize; 4]) -> f64 {
    let l = laplacian(frame, rect);
    l.iter().map(|v| v.abs()).sum::<f64>() / l.len() as f64
}

/// How much of `a`'s fine detail (eyes, mouth, edges) survives in `b` over a rectangle:
/// the correlation of their Laplacians, 1 for the same picture, near 0 when none is left.
pub fn detail_kept(a: &Frame, b: &Frame, rect: [usize; 4]) -> f64 {
    let (la, lb) = (laplacian(a, rect), laplacian(b, rect));
    let n = la.len() as f64;
    let (ma, mb) = (la.iter().sum::<f64>() / n, lb.iter().sum::<f64>() / n);
    let (mut cov, mut va, mut vb) = (0.0, 0.0, 0.0);
    for (x, y) in la.iter().zip(&lb) {
        cov += (x - ma) * (y - mb);
        va += (x - ma) * (x - ma);
        vb += (y - mb) * (y - mb);
    }
    if va == 0.0 || vb == 0.0 {
        0.0
    } else {
        cov / (va * vb).sqrt()
    }
}

/// A detection's box in whole pixels.
pub fn rect(d: &Detection) -> [usize; 4] {
    d.bbox.map(|v| v.max(0.0) as usize)
}
