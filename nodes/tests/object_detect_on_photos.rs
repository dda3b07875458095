//! Object detection on real photos: a person in the astronaut photo, a cat in Chelsea's.

mod common;

use common::{one_frame, photo};
use serde_json::json;

fn labels(name: &str) -> Vec<String> {
    one_frame("object_detect", json!({}), photo(name))
        .meta
        .detections
        .clone()
        .expect("object_detect attaches detections")
        .into_iter()
        .map(|d| d.label)
        .collect()
}

#[test]
fn the_astronaut_is_a_person_and_chelsea_is_a_cat() {
    assert_eq!(labels("astronaut.png").first().map(String::as_str), Some("person"));
    let cat = labels("chelsea.png");
    assert!(
        cat.contains(&"cat".to_string()) && !cat.contains(&"person".to_string()),
        "{cat:?}"
    );
}

#[test]
fn a_label_filter_keeps_only_those_classes() {
    let kept = one_frame("object_detect", json!({ "labels": ["dog"] }), photo("chelsea.png"));
    assert_eq!(kept.meta.detections.as_deref(), Some(&[][..]));
}
