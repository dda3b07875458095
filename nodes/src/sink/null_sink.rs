//! `null_sink`: takes any frames and drops them (for benchmarks and tests).

use ooblex_runtime::{
    Frame, InputPortSpec, MediaType, Node, NodeContext, NodeError, NodeKind, OutputPortSpec, Sink, sink_node,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Every media type, for sinks that take anything.
pub(crate) const ANY_MEDIA: &[MediaType] = &[
    MediaType::RawVideo,
    MediaType::H264,
    MediaType::Jpeg,
    MediaType::Detections,
    MediaType::Tensor,
];

/// Params of `null_sink`: none.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NullSinkParams {}

/// The `null_sink` node kind.
pub struct NullSink;

impl NodeKind for NullSink {
    type Params = NullSinkParams;
    const NAME: &'static str = "null_sink";
    const DESCRIPTION: &'static str = "takes frames of any type and drops them, counting them";
    const INPUTS: &'static [InputPortSpec] = &[InputPortSpec::new("video", ANY_MEDIA, true)];
    const OUTPUTS: &'static [OutputPortSpec] = &[];

    fn build(_params: &NullSinkParams) -> Result<Box<dyn Node>, NodeError> {
        Ok(sink_node(NullSinkNode))
    }
}

struct NullSinkNode;

impl Sink for NullSinkNode {
    fn consume(&mut self, _frame: Frame, _ctx: &NodeContext) -> Result<(), NodeError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use ooblex_runtime::PixelFormat;
    use ooblex_runtime::testing::{Harness, frame_from_fn};
    use serde_json::json;

    use crate::test_util::kind;

    #[test]
    fn consumes_everything() {
        let frames = (0..4)
            .map(|seq| frame_from_fn(PixelFormat::Gray8, 2, 2, seq, |_, _, _| 0))
            .collect();
        let out = Harness::new(&kind("null_sink"), json!({})).input("video", frames).run();
        out.result.expect("the sink ends cleanly");
        assert_eq!(out.metrics.frames_out.load(Ordering::Relaxed), 4);
    }
}
