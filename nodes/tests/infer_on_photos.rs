//! The generic `infer` kind on a real photo: the model's outputs go out on `tensor`.

mod common;

use common::{photo, run};
use serde_json::json;

#[test]
fn infer_sends_the_model_outputs_on_the_tensor_port() {
    let out = run(
        "infer",
        json!({ "model": "selfie_segmentation" }),
        vec![photo("astronaut.png")],
    );
    let tensors = &out.frames["tensor"];
    assert_eq!(tensors.len(), 1);
    assert!(tensors[0].buffer.is_empty(), "no pixels on the tensor port");
    let outputs = tensors[0].meta.tensors.as_ref().expect("the outputs ride along");
    assert_eq!(outputs[0].name, "activation_10");
    assert_eq!(outputs[0].shape, [1, 256, 256, 1]);
    // The person is in the middle of the photo; the top-right corner is background.
    let mask = &outputs[0].data;
    assert!(mask[128 * 256 + 120] > 0.9 && mask[10 * 256 + 245] < 0.1);
}
