//! Face redaction on a real photo: the face is made unrecognisable (neither face model
//! finds it any more, and its fine detail no longer correlates with the original's) and
//! the rest of the picture is untouched.

mod common;

use common::{detail_kept, faces, mean_abs_diff, one_frame, photo, rect};
use serde_json::json;

fn check_redaction(kind: &str, detectors_blind: bool) {
    let astronaut = photo("astronaut.png");
    let face = faces(&astronaut, json!({ "model": "centerface", "size": 512 }))
        .pop()
        .expect("the astronaut has a face");
    let redacted = one_frame(kind, json!({ "model": "centerface", "size": 512 }), astronaut.clone());
    let face_box = rect(&face);
    // Eyes, nose and mouth: the middle 70% of the face box.
    let [x0, y0, x1, y1] = face_box;
    let (mx, my) = ((x1 - x0) * 15 / 100, (y1 - y0) * 15 / 100);
    let features = [x0 + mx, y0 + my, x1 - mx, y1 - my];
    let kept = detail_kept(&astronaut, &redacted, features);
    println!("{kind}: {:.1}% of the face's fine detail is left", kept * 100.0);
    assert!(
        kept < 0.15,
        "{kind}: {:.0}% of the face's fine detail is left",
        kept * 100.0
    );
    if detectors_blind {
        for model in ["centerface", "blazeface"] {
            let left = faces(&redacted, json!({ "model": model, "size": 512, "threshold": 0.5 }));
            assert!(left.is_empty(), "{kind}: {model} still finds {left:?}");
        }
    }
    // Outside the face box and its padding, nothing changed.
    let (pad_x, pad_y) = ((x1 - x0) / 4 + 2, (y1 - y0) / 4 + 2);
    let (w, h) = (astronaut.width as usize, astronaut.height as usize);
    for region in [
        [0, 0, w, y0.saturating_sub(pad_y)],
        [0, (y1 + pad_y).min(h), w, h],
        [0, 0, x0.saturating_sub(pad_x), h],
        [(x1 + pad_x).min(w), 0, w, h],
    ] {
        if region[2] > region[0] && region[3] > region[1] {
            assert_eq!(
                mean_abs_diff(&astronaut, &redacted, region),
                0.0,
                "{kind}: {region:?} changed"
            );
        }
    }
}

#[test]
fn face_blur_hides_the_face_and_keeps_the_rest() {
    check_redaction("face_blur", true);
}

#[test]
fn face_pixelate_hides_the_face_and_keeps_the_rest() {
    // Coarse blocks keep a face-shaped blob, which detectors may still call a face;
    // what matters is that the features are gone.
    check_redaction("face_pixelate", false);
}

#[test]
fn a_photo_without_faces_passes_through_untouched() {
    let cat = photo("chelsea.png");
    let out = one_frame("face_blur", json!({}), cat.clone());
    assert!(out.buffer.shares_memory_with(&cat.buffer), "no face, no copy");
}
