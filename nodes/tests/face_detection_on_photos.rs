//! Face detection on real photos: the astronaut's one face is found where it is, by
//! both face models, and no face is found in photos without people.

mod common;

use common::{faces, photo, run};
use serde_json::json;

fn iou(a: [f32; 4], b: [f32; 4]) -> f32 {
    let w = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let h = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let area = |r: [f32; 4]| (r[2] - r[0]) * (r[3] - r[1]);
    w * h / (area(a) + area(b) - w * h)
}

#[test]
fn both_models_find_the_one_face_in_the_astronaut_photo_at_the_same_place() {
    let astronaut = photo("astronaut.png");
    let blaze = faces(&astronaut, json!({ "model": "blazeface" }));
    let center = faces(&astronaut, json!({ "model": "centerface", "size": 512 }));
    assert_eq!(
        (blaze.len(), center.len()),
        (1, 1),
        "blazeface {blaze:?}\ncenterface {center:?}"
    );
    let (b, c) = (&blaze[0], &center[0]);
    assert!(b.score > 0.8 && c.score > 0.8, "confident: {b:?} {c:?}");
    assert!(
        iou(b.bbox, c.bbox) > 0.5,
        "the two models agree on the box: {b:?} {c:?}"
    );
    // The face is in the upper middle of the photo, a fifth of its width.
    let [x0, y0, x1, y1] = c.bbox;
    assert!((150.0..260.0).contains(&x0) && (40.0..140.0).contains(&y0), "{c:?}");
    assert!((60.0..160.0).contains(&(x1 - x0)) && y1 < 300.0, "{c:?}");
    // Key points: eyes above the nose, the nose above the mouth, all inside the box.
    for face in [b, c] {
        let l = &face.landmarks;
        assert!(l.len() >= 5, "{face:?}");
        let inside = |p: &[f32; 2]| (x0 - 10.0..x1 + 10.0).contains(&p[0]) && (y0 - 10.0..y1 + 10.0).contains(&p[1]);
        assert!(l[..3].iter().all(inside), "{face:?}");
        assert!(l[0][1] < l[2][1] && l[1][1] < l[2][1], "eyes above the nose: {face:?}");
    }
}

#[test]
fn photos_without_people_have_no_faces() {
    for name in ["chelsea.png", "coffee.png"] {
        let frame = photo(name);
        for model in ["blazeface", "centerface"] {
            let found = faces(&frame, json!({ "model": model }));
            assert!(found.is_empty(), "{model} on {name}: {found:?}");
        }
    }
}

#[test]
fn faces_go_out_on_the_detections_port_without_the_picture() {
    let out = run("face_detect", json!({}), vec![photo("astronaut.png")]);
    let detections = &out.frames["detections"];
    assert_eq!(detections.len(), 1);
    assert!(detections[0].buffer.is_empty(), "no pixels on the detections port");
    assert_eq!(detections[0].meta.detections, out.video()[0].meta.detections);
}

#[test]
fn a_missing_model_is_a_clear_start_up_error() {
    let registry = ooblex_nodes::registry();
    let kind = registry.get("face_detect").expect("registered");
    let issues = match kind.prepare(json!({ "model": "blazefase" })) {
        Err(issues) => issues,
        Ok(_) => panic!("an unknown model is refused at validation"),
    };
    let text = format!("{issues:?}");
    assert!(
        text.contains("blazefase") && text.contains("did you mean `blazeface`"),
        "{text}"
    );
}
