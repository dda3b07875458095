//! The `backend`, `device` and `threads` params every inference kind takes:
//! one [`InferenceParams`], flattened into each kind's params, and the
//! [`RunOn`] it gives the kind's model runner.

use std::marker::PhantomData;

use ooblex_infer::{BackendKind, Device};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::infer::runner::RunOn;

/// What `threads` is when a graph does not set it.
pub trait DefaultThreads: 'static {
    /// The default thread count.
    const THREADS: u32;
}

/// `threads` is 1 by default: one core per model run, as the machine's
/// inference slots (one run per core at a time) allot them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OneThread;

impl DefaultThreads for OneThread {
    const THREADS: u32 = 1;
}

/// `threads` is 0 by default: the backend chooses (the `infer` kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackendChoosesThreads;

impl DefaultThreads for BackendChoosesThreads {
    const THREADS: u32 = 0;
}

/// Where and how a node runs its model. Each inference kind's params hold one
/// under `#[serde(flatten)]`, so a graph writes `backend`, `device` and
/// `threads` beside the kind's other params; `T` gives the default of
/// `threads`. Changing them restarts the node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(default, bound = "")]
#[schemars(bound = "", inline)]
pub struct InferenceParams<T: DefaultThreads = OneThread> {
    /// Inference backend: `auto` (the default: ONNX Runtime where its library
    /// loads, tract otherwise), `tract` (built in) or `onnxruntime`.
    pub backend: BackendKind,
    /// Where `onnxruntime` runs the model: `cpu`, `cuda` or `tensorrt` (falls back to the CPU with a warning).
    pub device: Device,
    /// Threads one inference may use; 0 lets the backend choose.
    #[schemars(range(max = 256))]
    pub threads: u32,
    #[serde(skip)]
    #[schemars(skip)]
    default_threads: PhantomData<T>,
}

impl<T: DefaultThreads> Default for InferenceParams<T> {
    fn default() -> Self {
        InferenceParams {
            backend: BackendKind::default(),
            device: Device::default(),
            threads: T::THREADS,
            default_threads: PhantomData,
        }
    }
}

impl<T: DefaultThreads> InferenceParams<T> {
    /// Where the model runs.
    pub(crate) fn run_on(&self) -> RunOn {
        RunOn {
            backend: self.backend,
            device: self.device,
            threads: self.threads,
        }
    }
}

#[cfg(test)]
mod tests {
    use ooblex_infer::{BackendKind, Device};
    use serde_json::json;

    use crate::test_util::kind;
    use crate::{FaceDetectParams, InferParams};

    /// Every kind that runs a model.
    const INFERENCE_KINDS: [&str; 10] = [
        "face_detect",
        "face_blur",
        "face_pixelate",
        "face_swap",
        "object_detect",
        "background_blur",
        "background_replace",
        "background_remove",
        "style_transfer",
        "infer",
    ];

    #[test]
    fn every_inference_kind_takes_backend_device_and_threads_beside_its_own_params() {
        for name in INFERENCE_KINDS {
            let schema = kind(name).standalone_params_schema();
            let properties = schema.get("properties").expect("params are an object");
            for param in ["backend", "device", "threads", "model"] {
                assert!(properties.get(param).is_some(), "`{name}` takes `{param}`: {schema:?}");
            }
            assert_eq!(properties["threads"]["maximum"], 256, "`{name}`");
            let default_threads = if name == "infer" { 0 } else { 1 };
            assert_eq!(properties["threads"]["default"], default_threads, "`{name}`");
            assert_eq!(schema.get("additionalProperties"), Some(&json!(false)), "`{name}`");
        }
    }

    #[test]
    fn flattened_inference_params_still_refuse_unknown_fields() {
        // serde alone, without the schema's check in front of it.
        let err = serde_json::from_value::<FaceDetectParams>(json!({ "thredas": 2 })).expect_err("a typo");
        assert!(err.to_string().contains("unknown field `thredas`"), "{err}");
        let err = serde_json::from_value::<InferParams>(json!({ "model": "m", "devise": "cuda" })).expect_err("a typo");
        assert!(err.to_string().contains("unknown field `devise`"), "{err}");
        // And through the kind, with the hint.
        let issues = match kind("background_blur").prepare(json!({ "thredas": 2 })) {
            Ok(_) => panic!("`thredas` is refused"),
            Err(issues) => issues,
        };
        assert_eq!(issues.len(), 1, "{issues:?}");
        assert_eq!(issues[0].message, "unknown param `thredas`");
        assert_eq!(issues[0].hint.as_deref(), Some("did you mean `threads`?"));
    }

    #[test]
    fn inference_params_say_where_the_model_runs() {
        let params: FaceDetectParams = serde_json::from_value(json!({})).expect("defaults");
        let run_on = params.inference.run_on();
        assert_eq!(
            (run_on.backend, run_on.device, run_on.threads),
            (BackendKind::Auto, Device::Cpu, 1)
        );
        let params: InferParams =
            serde_json::from_value(json!({ "model": "m", "backend": "tract", "device": "cuda", "threads": 3 }))
                .expect("valid");
        let run_on = params.inference.run_on();
        assert_eq!(
            (run_on.backend, run_on.device, run_on.threads),
            (BackendKind::Tract, Device::Cuda, 3)
        );
        let params: InferParams = serde_json::from_value(json!({ "model": "m" })).expect("defaults");
        assert_eq!(params.inference.run_on().threads, 0, "`infer` lets the backend choose");
    }
}
