//! Style transfer and face swap on a real photo.

mod common;

use common::{faces, mean_abs_diff, one_frame, photo, rect};
use serde_json::json;

#[test]
fn style_transfer_repaints_the_picture_at_its_size_and_styles_differ() {
    let astronaut = photo("astronaut.png");
    let three = one_frame("style_transfer", json!({ "style": 3, "size": 256 }), astronaut.clone());
    let nineteen = one_frame("style_transfer", json!({ "style": 19, "size": 256 }), astronaut.clone());
    assert_eq!((three.width, three.height), (512, 512));
    let whole = [0, 0, 512, 512];
    assert!(mean_abs_diff(&astronaut, &three, whole) > 20.0, "repainted");
    assert!(
        mean_abs_diff(&three, &nineteen, whole) > 10.0,
        "two styles look different"
    );
    let half = one_frame(
        "style_transfer",
        json!({ "style": 3, "size": 256, "strength": 0.5 }),
        astronaut.clone(),
    );
    let (full, partial) = (
        mean_abs_diff(&astronaut, &three, whole),
        mean_abs_diff(&astronaut, &half, whole),
    );
    assert!(
        (partial - full / 2.0).abs() < full * 0.1,
        "strength 0.5 is halfway: {partial} vs {full}"
    );
}

#[test]
fn face_swap_replaces_the_face_without_a_hard_edge() {
    let astronaut = photo("astronaut.png");
    let reference = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/camera.png");
    let swapped = one_frame(
        "face_swap",
        json!({ "reference": reference, "size": 512 }),
        astronaut.clone(),
    );
    let face = faces(&astronaut, json!({ "model": "centerface", "size": 512 }))
        .pop()
        .expect("a face");
    let [x0, y0, x1, y1] = rect(&face);
    let (cx, cy, w, h) = ((x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0);
    let core = [cx - w / 5, cy - h / 5, cx + w / 5, cy + h / 5];
    assert!(mean_abs_diff(&astronaut, &swapped, core) > 8.0, "the face changed");
    // Far from the face nothing changed.
    assert_eq!(mean_abs_diff(&astronaut, &swapped, [0, 400, 512, 512]), 0.0);
    // No seam: along the blend oval's edge the picture stays within a few levels of the original.
    let ring = [cx - w / 2, cy - (h * 55) / 100, cx + w / 2, cy - (h * 50) / 100];
    assert!(mean_abs_diff(&astronaut, &swapped, ring) < 6.0, "seam at the edge");
}

/// The same style through both backends: pictures within a few levels of each other.
#[cfg(feature = "onnxruntime")]
#[test]
fn style_transfer_through_tract_and_onnxruntime_agrees() {
    let astronaut = photo("astronaut.png");
    let run = |backend: &str| {
        one_frame(
            "style_transfer",
            json!({ "styles": { "3": 0.5, "19": 0.5 }, "size": 256, "backend": backend }),
            astronaut.clone(),
        )
    };
    let (tract, ort) = (run("tract"), run("onnxruntime"));
    let worst = tract
        .buffer
        .as_slice()
        .iter()
        .zip(ort.buffer.as_slice())
        .map(|(a, b)| a.abs_diff(*b))
        .max()
        .unwrap_or(0);
    let mean = mean_abs_diff(&tract, &ort, [0, 0, 512, 512]);
    assert!(
        worst <= 3 && mean < 0.1,
        "tract and onnxruntime differ by up to {worst} (mean {mean})"
    );
}
