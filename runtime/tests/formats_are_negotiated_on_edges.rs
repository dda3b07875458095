//! Where a producer gives pixel formats a consumer does not take, validation puts
//! one converter on the edge for every consumer with that need, the frames that
//! arrive are in formats the consumer takes, and a registry without a converter
//! fails validation naming both ports.

mod common;

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use ooblex_runtime::{
    Converter, FormatSet, Frame, Gives, GraphDiff, GraphError, InputPortSpec, Node, NodeContext, NodeError, NodeKind,
    OutputPortSpec, PixelFormat, QueuePolicy, Registry, RunningGraph, RuntimeEnv, Sink, Transform, VIDEO_OUT,
    ValidatedGraph, sink_node, transform_node,
};
use schemars::JsonSchema;
use serde::Deserialize;

/// Formats each `yuv` sink received, by tag.
static SEEN: OnceLock<Mutex<HashMap<String, Vec<PixelFormat>>>> = OnceLock::new();

fn seen(tag: &str) -> Vec<PixelFormat> {
    SEEN.get_or_init(Default::default)
        .lock()
        .expect("no panic while locked")
        .get(tag)
        .cloned()
        .unwrap_or_default()
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct TagParams {
    tag: String,
}

/// A sink that takes I420 and NV12 only and records the format of every frame.
struct Yuv;

struct YuvSink(String);

impl Sink for YuvSink {
    fn consume(&mut self, frame: Frame, _ctx: &NodeContext) -> Result<(), NodeError> {
        SEEN.get_or_init(Default::default)
            .lock()
            .expect("no panic while locked")
            .entry(self.0.clone())
            .or_default()
            .push(frame.format);
        Ok(())
    }
}

impl NodeKind for Yuv {
    type Params = TagParams;
    const NAME: &'static str = "yuv";
    const DESCRIPTION: &'static str = "takes yuv";
    const INPUTS: &'static [InputPortSpec] = &[InputPortSpec::video(FormatSet::of(&[
        PixelFormat::I420,
        PixelFormat::Nv12,
    ]))];
    const OUTPUTS: &'static [OutputPortSpec] = &[];

    fn build(params: &TagParams) -> Result<Box<dyn Node>, NodeError> {
        Ok(sink_node(YuvSink(params.tag.clone())))
    }
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RepackParams {
    format: String,
    #[serde(default)]
    keep: Vec<String>,
}

fn format_named(name: &str) -> PixelFormat {
    PixelFormat::RAW
        .into_iter()
        .find(|f| f.name() == name)
        .expect("the converter is given raw format names")
}

/// A converter for these tests: it makes a frame of the target format and
/// size (its pixels do not matter here) and passes kept formats through.
struct Repack;

struct Repacker {
    to: PixelFormat,
    keep: FormatSet,
}

impl Transform for Repacker {
    fn process(&mut self, frame: Frame, ctx: &NodeContext) -> Result<Option<Frame>, NodeError> {
        if frame.format == self.to || self.keep.contains(frame.format) {
            return Ok(Some(frame));
        }
        let buffer = ctx.alloc.alloc_zeroed(self.to.frame_size(frame.width, frame.height));
        Ok(Some(frame.with_picture(
            buffer.freeze(),
            self.to,
            frame.width,
            frame.height,
        )))
    }
}

impl NodeKind for Repack {
    type Params = RepackParams;
    const NAME: &'static str = "repack";
    const DESCRIPTION: &'static str = "changes the format";
    const INPUTS: &'static [InputPortSpec] = &[ooblex_runtime::VIDEO_IN];
    const OUTPUTS: &'static [OutputPortSpec] = &[VIDEO_OUT];

    fn build(params: &RepackParams) -> Result<Box<dyn Node>, NodeError> {
        Ok(transform_node(Repacker {
            to: format_named(&params.format),
            keep: FormatSet::of(&params.keep.iter().map(|k| format_named(k)).collect::<Vec<_>>()),
        }))
    }

    fn output_formats(params: &RepackParams, _port: &OutputPortSpec, input: FormatSet) -> FormatSet {
        let keep: Vec<PixelFormat> = params.keep.iter().map(|k| format_named(k)).collect();
        FormatSet::of(&[format_named(&params.format)]).union(input.intersection(FormatSet::of(&keep)))
    }
}

/// A source of rgb24 frames only, declared as such.
struct Rgb;

impl NodeKind for Rgb {
    type Params = common::CountParams;
    const NAME: &'static str = "rgb";
    const DESCRIPTION: &'static str = "rgb24 frames";
    const INPUTS: &'static [InputPortSpec] = &[];
    const OUTPUTS: &'static [OutputPortSpec] =
        &[OutputPortSpec::video(Gives::Only(FormatSet::of(&[PixelFormat::Rgb24])))];

    fn build(params: &common::CountParams) -> Result<Box<dyn Node>, NodeError> {
        common::Count::build(params)
    }
}

fn registry(with_converter: bool) -> Registry {
    let mut registry = common::registry();
    registry.register::<Yuv>().register::<Repack>().register::<Rgb>();
    if with_converter {
        registry.set_converter(Converter {
            kind: Repack::NAME,
            params: |to, keep| {
                let keep: Vec<&str> = keep.iter().map(PixelFormat::name).collect();
                serde_json::json!({ "format": to.name(), "keep": keep })
            },
        });
    }
    registry
}

fn validate(yaml: &str, with_converter: bool) -> Result<ValidatedGraph, ooblex_runtime::GraphErrors> {
    let loaded = ooblex_runtime::load_str("test.yaml", yaml).unwrap_or_else(|e| panic!("{}", e.render(false)));
    ooblex_runtime::validate(&loaded, &registry(with_converter))
}

/// `src` (rgb24, not live) feeding `a` and `b` (yuv, both blocking, `b` with a
/// queue of `b_queue`), `c` (yuv, `latest`) and `plain` (takes rgb24).
fn consumers(a: &str, b: &str, b_queue: usize) -> String {
    format!(
        "version: 1\nname: fmt\nnodes:\n  src: {{ kind: rgb, params: {{ frames: 5 }} }}\n  \
         a: {{ kind: yuv, params: {{ tag: {a} }}, inputs: {{ video: src }} }}\n  \
         b: {{ kind: yuv, params: {{ tag: {b} }}, inputs: {{ video: {{ from: src, policy: block, queue: {b_queue} }} }} }}\n  \
         c: {{ kind: yuv, params: {{ tag: {a}-c }}, inputs: {{ video: {{ from: src, policy: latest, queue: 1 }} }} }}\n  \
         plain: {{ kind: record, params: {{ tag: {a}-plain }}, inputs: {{ video: src }} }}\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumers_with_one_need_share_one_converter_and_get_formats_they_take() {
    let (a, b) = (common::unique("yuv-a"), common::unique("yuv-b"));
    let graph = validate(&consumers(&a, &b, 4), true).expect("the graph converts on the edge");
    assert_eq!(
        graph.conversions.len(),
        2,
        "one converter per need: {:?}",
        graph.conversions
    );
    let conversion = &graph.conversions[0];
    assert_eq!(conversion.node, "src.video>i420");
    assert_eq!(conversion.to, PixelFormat::I420);
    let consumers: Vec<&str> = conversion.consumers.iter().map(|(n, _, _)| n.as_str()).collect();
    assert_eq!(consumers, ["a", "b"]);
    let message = conversion.to_string();
    assert!(
        message.contains("`src.video` gives rgb24") && message.contains("`a.video` takes i420, nv12"),
        "{message}"
    );

    let converter = graph
        .node("src.video>i420")
        .expect("the converter is a node of the graph");
    let feed = &converter.inputs[0];
    assert_eq!(
        (feed.policy, feed.capacity),
        (QueuePolicy::Block, 8),
        "the policy its consumers ask, the default length (each consumer keeps its own queue)"
    );
    let live = graph
        .node("src.video>i420@latest")
        .expect("a consumer asking another policy has a converter of its own");
    assert_eq!(
        (live.inputs[0].policy, live.inputs[0].capacity),
        (QueuePolicy::Latest, 2)
    );
    assert_eq!(graph.conversions[1].consumers[0].0, "c");
    let order: Vec<&str> = graph.nodes.iter().map(|n| n.id.as_str()).collect();
    let at = |id: &str| order.iter().position(|n| *n == id).expect("every node is ordered");
    assert!(
        at("src") < at("src.video>i420") && at("src.video>i420") < at("a"),
        "{order:?}"
    );
    assert_eq!(
        graph.node("plain").expect("plain is a node").inputs[0].from,
        "src",
        "a consumer that takes rgb24 reads the source itself"
    );

    let mut running = RunningGraph::start(graph, &RuntimeEnv::default());
    tokio::time::timeout(Duration::from_secs(10), running.wait())
        .await
        .expect("the graph ends");
    assert_eq!(
        seen(&b),
        vec![PixelFormat::I420; 5],
        "every frame arrives, in a format `b` takes"
    );
    assert!(seen(&a).iter().all(|f| *f == PixelFormat::I420) && !seen(&a).is_empty());
    assert_eq!(common::recorded(&format!("{a}-plain")).len(), 5);
}

#[test]
fn without_a_converter_validation_names_both_ports() {
    let errors = match validate(&consumers("p", "q", 4), false) {
        Ok(_) => panic!("no converter: the graph cannot run"),
        Err(errors) => errors,
    };
    assert_eq!(
        errors.diagnostics.len(),
        3,
        "one error per input: {}",
        errors.render(false)
    );
    let GraphError::NoConversion {
        from,
        from_port,
        to,
        to_port,
        ..
    } = &errors.diagnostics[0].error
    else {
        panic!("{:?}", errors.diagnostics[0].error);
    };
    assert_eq!((from.as_str(), from_port.as_str()), ("src", "video"));
    assert_eq!((to.as_str(), to_port.as_str()), ("a", "video"));
    let message = errors.diagnostics[0].error.to_string();
    assert!(message.contains("takes only i420, nv12"), "{message}");
}

#[test]
fn a_reload_that_keeps_the_edge_keeps_its_converter() {
    let before = validate(&consumers("r1", "r2", 4), true).expect("valid");
    let edited = consumers("r1", "r2", 4) + "  extra: { kind: record, params: { tag: r3 }, inputs: { video: src } }\n";
    let after = validate(&edited, true).expect("valid");
    let diff = GraphDiff::between(&before, &after);
    assert_eq!(diff.added, ["extra"]);
    assert!(diff.changed.is_empty(), "{diff}");
    assert!(diff.unchanged.contains(&"src.video>i420".to_string()), "{diff}");
}

#[test]
fn a_consumer_that_changes_its_queue_leaves_the_shared_converter_and_the_others_untouched() {
    let before = validate(&consumers("q1", "q2", 4), true).expect("valid");
    let after = validate(&consumers("q1", "q2", 50), true).expect("valid");
    let diff = GraphDiff::between(&before, &after);
    assert_eq!(diff.changed, ["b"], "{diff}");
    for untouched in ["src.video>i420", "a", "src.video>i420@latest", "c"] {
        assert!(diff.unchanged.contains(&untouched.to_string()), "`{untouched}`: {diff}");
    }
}
