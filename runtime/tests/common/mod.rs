//! Small real node kinds for executor tests: a counting source, a pass-through
//! that can be told to panic, and a sink that records what it receives.

#![allow(dead_code, missing_docs)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use ooblex_runtime::{
    Frame, InputPortSpec, Node, NodeContext, NodeError, NodeKind, PixelFormat, Registry, Sink, Source, Transform,
    VIDEO_IN, VIDEO_OUT, sink_node, source_node, transform_node,
};
use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CountParams {
    pub frames: u64,
    #[serde(default)]
    pub width: Option<u32>,
    #[serde(default)]
    pub interval_ms: u64,
}

/// Emits `frames` gray frames numbered from 0, every `interval_ms`.
pub struct Count;

struct CountSource {
    next: u64,
    frames: u64,
    width: u32,
    interval: Duration,
}

impl Source for CountSource {
    fn next_frame(&mut self, ctx: &NodeContext) -> Result<Option<Frame>, NodeError> {
        if self.next == self.frames {
            return Ok(None);
        }
        if !self.interval.is_zero() && !ctx.shutdown.sleep_until(std::time::Instant::now() + self.interval) {
            return Ok(None);
        }
        let size = PixelFormat::Rgb24.frame_size(self.width, self.width);
        let buffer = ctx.alloc.alloc(size).freeze();
        let frame = Frame::new(
            buffer,
            PixelFormat::Rgb24,
            self.width,
            self.width,
            Duration::ZERO,
            self.next,
        );
        self.next += 1;
        Ok(Some(frame))
    }
}

impl NodeKind for Count {
    type Params = CountParams;
    const NAME: &'static str = "count";
    const DESCRIPTION: &'static str = "numbered frames";
    const INPUTS: &'static [InputPortSpec] = &[];
    const OUTPUTS: &'static [ooblex_runtime::OutputPortSpec] = &[VIDEO_OUT];

    fn build(params: &CountParams) -> Result<Box<dyn Node>, NodeError> {
        Ok(source_node(CountSource {
            next: 0,
            frames: params.frames,
            width: params.width.unwrap_or(8),
            interval: Duration::from_millis(params.interval_ms),
        }))
    }
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PassParams {
    /// Panic on this frame number, in the first instance only.
    #[serde(default)]
    pub panic_at: Option<u64>,
    /// Name of the panic counter to use.
    #[serde(default)]
    pub tag: String,
    /// Panic while being built, the first time only.
    #[serde(default)]
    pub panic_in_build: bool,
}

/// Passes frames through untouched; optionally panics once.
pub struct Pass;

static PANICS: OnceLock<Mutex<HashMap<String, u32>>> = OnceLock::new();

/// How many times the pass node tagged `tag` panicked.
pub fn panics(tag: &str) -> u32 {
    PANICS
        .get_or_init(Default::default)
        .lock()
        .expect("no panic while locked")
        .get(tag)
        .copied()
        .unwrap_or(0)
}

struct PassThrough {
    panic_at: Option<u64>,
    tag: String,
}

impl Transform for PassThrough {
    fn process(&mut self, frame: Frame, _ctx: &NodeContext) -> Result<Option<Frame>, NodeError> {
        if self.panic_at == Some(frame.seq) {
            let mut map = PANICS
                .get_or_init(Default::default)
                .lock()
                .expect("no panic while locked");
            let count = map.entry(self.tag.clone()).or_insert(0);
            if *count == 0 {
                *count += 1;
                drop(map);
                panic!("told to panic at frame {}", frame.seq);
            }
        }
        Ok(Some(frame))
    }
}

impl NodeKind for Pass {
    type Params = PassParams;
    const NAME: &'static str = "pass";
    const DESCRIPTION: &'static str = "passes frames through";
    const INPUTS: &'static [InputPortSpec] = &[VIDEO_IN];
    const OUTPUTS: &'static [ooblex_runtime::OutputPortSpec] = &[VIDEO_OUT];

    fn build(params: &PassParams) -> Result<Box<dyn Node>, NodeError> {
        if params.panic_in_build {
            let mut map = PANICS
                .get_or_init(Default::default)
                .lock()
                .expect("no panic while locked");
            let count = map.entry(params.tag.clone()).or_insert(0);
            if *count == 0 {
                *count += 1;
                drop(map);
                panic!("told to panic while being built");
            }
        }
        Ok(transform_node(PassThrough {
            panic_at: params.panic_at,
            tag: params.tag.clone(),
        }))
    }
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordParams {
    pub tag: String,
}

/// What a recording sink saw: (seq, buffer address).
pub fn recorded(tag: &str) -> Vec<(u64, usize)> {
    RECORDS
        .get_or_init(Default::default)
        .lock()
        .expect("no panic while locked")
        .get(tag)
        .cloned()
        .unwrap_or_default()
}

/// (seq, buffer address) of every frame, by sink tag.
type Records = HashMap<String, Vec<(u64, usize)>>;

static RECORDS: OnceLock<Mutex<Records>> = OnceLock::new();

/// Records the sequence number and buffer address of every frame.
pub struct Record;

struct Recorder {
    tag: String,
}

impl Sink for Recorder {
    fn consume(&mut self, frame: Frame, _ctx: &NodeContext) -> Result<(), NodeError> {
        RECORDS
            .get_or_init(Default::default)
            .lock()
            .expect("no panic while locked")
            .entry(self.tag.clone())
            .or_default()
            .push((frame.seq, frame.buffer.as_ptr() as usize));
        Ok(())
    }
}

impl NodeKind for Record {
    type Params = RecordParams;
    const NAME: &'static str = "record";
    const DESCRIPTION: &'static str = "records frames";
    const INPUTS: &'static [InputPortSpec] = &[VIDEO_IN];
    const OUTPUTS: &'static [ooblex_runtime::OutputPortSpec] = &[];

    fn build(params: &RecordParams) -> Result<Box<dyn Node>, NodeError> {
        Ok(sink_node(Recorder {
            tag: params.tag.clone(),
        }))
    }
}

/// A registry of the test kinds.
pub fn registry() -> Registry {
    let mut registry = Registry::new();
    registry.register::<Count>().register::<Pass>().register::<Record>();
    registry
}

/// Counter used to make unique tags per test.
pub static NEXT_TAG: AtomicU32 = AtomicU32::new(0);

/// Validates YAML against the test registry.
pub fn graph(yaml: &str) -> ooblex_runtime::ValidatedGraph {
    let loaded = ooblex_runtime::load_str("test.yaml", yaml).unwrap_or_else(|e| panic!("{}", e.render(false)));
    ooblex_runtime::validate(&loaded, &registry()).unwrap_or_else(|e| panic!("{}", e.render(false)))
}

pub fn unique(prefix: &str) -> String {
    format!("{prefix}{}", NEXT_TAG.fetch_add(1, Ordering::Relaxed))
}
