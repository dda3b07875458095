//! Background effects on a real photo: the background changes and the person stays.

mod common;

use common::{detail, mean_abs_diff, one_frame, photo};
use ooblex_runtime::PixelFormat;
use serde_json::json;

/// Where the astronaut is (face and shoulders) and a corner of plain background, in
/// the 512x512 photo.
const PERSON: [usize; 4] = [185, 100, 265, 300];
const BACKGROUND: [usize; 4] = [430, 0, 512, 80];

#[test]
fn background_blur_softens_the_background_and_keeps_the_person() {
    let astronaut = photo("astronaut.png");
    let blurred = one_frame("background_blur", json!({ "radius": 16 }), astronaut.clone());
    let person = mean_abs_diff(&astronaut, &blurred, PERSON);
    assert!(person < 4.0, "the person changed by {person:.2} on average");
    let (before, after) = (detail(&astronaut, BACKGROUND), detail(&blurred, BACKGROUND));
    assert!(after < before * 0.5, "background detail {before:.2} -> {after:.2}");
}

#[test]
fn background_replace_paints_the_background_with_the_colour() {
    let astronaut = photo("astronaut.png");
    let replaced = one_frame("background_replace", json!({ "color": "#ff00ff" }), astronaut.clone());
    let pixels = replaced.buffer.as_slice();
    let [x0, y0, x1, y1] = BACKGROUND;
    let mut magenta = 0;
    for y in y0..y1 {
        for x in x0..x1 {
            let p = &pixels[(y * 512 + x) * 3..][..3];
            if p[0] > 230 && p[1] < 25 && p[2] > 230 {
                magenta += 1;
            }
        }
    }
    assert!(magenta * 10 > (x1 - x0) * (y1 - y0) * 9, "{magenta} magenta pixels");
    let person = mean_abs_diff(&astronaut, &replaced, PERSON);
    assert!(person < 4.0, "the person changed by {person:.2} on average");
}

#[test]
fn background_remove_gives_the_person_as_alpha() {
    let removed = one_frame(
        "background_remove",
        json!({ "output": "alpha" }),
        photo("astronaut.png"),
    );
    assert_eq!(removed.format, PixelFormat::Rgba);
    let alpha = |x: usize, y: usize| removed.buffer.as_slice()[(y * 512 + x) * 4 + 3];
    assert!(alpha(240, 200) > 200, "person opaque: {}", alpha(240, 200));
    assert!(alpha(470, 40) < 30, "background transparent: {}", alpha(470, 40));
}
