//! `convert`: changes the pixel format of raw video. It is also the kind the
//! graph puts on edges where a producer gives formats a consumer does not take
//! ([`Convert::converter`]).

use ooblex_runtime::{
    Converter, FormatSet, Frame, InputPortSpec, Node, NodeContext, NodeError, NodeKind, OutputPortSpec, PixelFormat,
    Transform, VIDEO_IN, VIDEO_OUT, transform_node,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::media::pixels::convert;
use crate::media::raw::{ALL_RAW, RawView, new_picture};
use crate::params::RawFormat;

/// Params of `convert`. Changing them restarts the node.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConvertParams {
    /// Output pixel format: rgb24, rgba, i420, nv12 or gray8. YUV is BT.601 limited range.
    pub format: RawFormat,
    /// Formats passed on as they are, besides `format` (frames in any other are converted).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keep: Vec<RawFormat>,
}

/// The `convert` node kind.
pub struct Convert;

impl NodeKind for Convert {
    type Params = ConvertParams;
    const NAME: &'static str = "convert";
    const DESCRIPTION: &'static str = "converts raw video to another pixel format (BT.601 limited-range YUV)";
    const INPUTS: &'static [InputPortSpec] = &[VIDEO_IN];
    const OUTPUTS: &'static [OutputPortSpec] = &[VIDEO_OUT];

    fn build(params: &ConvertParams) -> Result<Box<dyn Node>, NodeError> {
        Ok(transform_node(ConvertNode {
            format: params.format.into(),
            keep: kept(params),
        }))
    }

    fn output_formats(params: &ConvertParams, _port: &OutputPortSpec, input: FormatSet) -> FormatSet {
        FormatSet::of(&[params.format.into()]).union(input.intersection(kept(params)))
    }
}

impl Convert {
    /// How the graph configures `convert` to convert on an edge.
    pub const fn converter() -> Converter {
        Converter {
            kind: Convert::NAME,
            params: |to, keep| {
                let keep: Vec<&str> = keep.iter().map(PixelFormat::name).collect();
                serde_json::json!({ "format": to.name(), "keep": keep })
            },
        }
    }
}

/// The formats `params` passes on as they are.
fn kept(params: &ConvertParams) -> FormatSet {
    let formats: Vec<PixelFormat> = params.keep.iter().map(|&f| f.into()).collect();
    FormatSet::of(&formats)
}

struct ConvertNode {
    format: PixelFormat,
    keep: FormatSet,
}

impl Transform for ConvertNode {
    fn process(&mut self, frame: Frame, ctx: &NodeContext) -> Result<Option<Frame>, NodeError> {
        let view = RawView::of(&frame, Convert::NAME, ALL_RAW)?;
        if view.format == self.format || self.keep.contains(view.format) {
            return Ok(Some(frame));
        }
        let out = new_picture(ctx, &frame, self.format, frame.width, frame.height, |out| {
            convert(&view, out);
            Ok(())
        })?;
        Ok(Some(out))
    }
}

#[cfg(test)]
mod tests {
    use ooblex_runtime::testing::frame_from_fn;
    use serde_json::json;

    use super::*;
    use crate::test_util::{kind, run_transform};

    #[test]
    fn round_trips_rgb_through_every_format() {
        let smooth = |x: usize, y: usize, c: usize| (x * 3 + y * 2 + c * 30) as u8;
        let input = frame_from_fn(PixelFormat::Rgb24, 40, 30, 5, smooth);
        for via in ["rgba", "i420", "nv12"] {
            let there = run_transform("convert", json!({ "format": via }), vec![input.clone()]);
            assert_eq!(there[0].format.name(), via);
            assert_eq!(there[0].seq, 5);
            let back = run_transform("convert", json!({ "format": "rgb24" }), there);
            let worst = input
                .buffer
                .as_slice()
                .iter()
                .zip(back[0].buffer.as_slice())
                .map(|(a, b)| a.abs_diff(*b))
                .max();
            assert!(worst <= Some(6), "via {via}: worst error {worst:?}");
        }
    }

    #[test]
    fn the_same_format_passes_through() {
        let input = frame_from_fn(PixelFormat::I420, 8, 8, 0, |_, _, _| 1);
        let out = run_transform("convert", json!({ "format": "i420" }), vec![input.clone()]);
        assert!(out[0].buffer.shares_memory_with(&input.buffer));
    }

    #[test]
    fn kept_formats_pass_through() {
        let rgba = frame_from_fn(PixelFormat::Rgba, 8, 8, 0, |_, _, _| 1);
        let i420 = frame_from_fn(PixelFormat::I420, 8, 8, 1, |_, _, _| 1);
        let params = json!({ "format": "rgb24", "keep": ["rgba"] });
        let out = run_transform("convert", params.clone(), vec![rgba.clone(), i420]);
        assert!(out[0].buffer.shares_memory_with(&rgba.buffer));
        assert_eq!(out[1].format, PixelFormat::Rgb24);
        let factory = kind("convert").prepare(params).expect("valid params");
        let given = factory.output_formats(&VIDEO_OUT, FormatSet::ALL_RAW);
        assert_eq!(given, FormatSet::PACKED_RGB);
    }

    #[test]
    fn an_encoded_frame_is_skipped_and_counted() {
        let mut jpeg = frame_from_fn(PixelFormat::Gray8, 8, 8, 0, |_, _, _| 1);
        jpeg.format = PixelFormat::Encoded(ooblex_runtime::Codec::Jpeg);
        jpeg.planes = ooblex_runtime::Planes::default();
        let harness = ooblex_runtime::testing::Harness::new(&kind("convert"), json!({ "format": "rgb24" }));
        let out = harness.input("video", vec![jpeg]).run();
        out.result.as_ref().expect("a bad frame does not stop the node");
        assert!(out.video().is_empty());
        assert_eq!(out.metrics.frame_errors.load(std::sync::atomic::Ordering::Relaxed), 1);
    }

    #[test]
    fn format_is_required() {
        assert!(kind("convert").prepare(json!({})).is_err());
        assert!(kind("convert").prepare(json!({ "format": "yuyv" })).is_err());
    }
}
