//! Per-node counters and latency histograms, and their Prometheus text form.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use serde::Serialize;

use crate::buffer::FrameAllocator;
use crate::exec::queue::Queue;

/// Upper bounds of the histogram buckets, in seconds.
const BUCKETS: [f64; 16] = [
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// A fixed-bucket histogram of durations, safe to update from any thread.
pub struct Histogram {
    counts: [AtomicU64; BUCKETS.len() + 1],
    sum_nanos: AtomicU64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: std::array::from_fn(|_| AtomicU64::new(0)),
            sum_nanos: AtomicU64::new(0),
        }
    }
}

impl Histogram {
    /// Records one observation.
    pub fn observe(&self, value: Duration) {
        let secs = value.as_secs_f64();
        let bucket = BUCKETS.iter().position(|&b| secs <= b).unwrap_or(BUCKETS.len());
        self.counts[bucket].fetch_add(1, Ordering::Relaxed);
        self.sum_nanos
            .fetch_add(u64::try_from(value.as_nanos()).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// Observations so far.
    pub fn count(&self) -> u64 {
        self.counts.iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }

    /// Estimated `q`-quantile (0..=1) in seconds, interpolated within its bucket;
    /// `None` before the first observation.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        self.snapshot().quantile(q)
    }

    /// The counts so far; two snapshots give the distribution of what was
    /// observed between them ([`HistogramSnapshot::since`]).
    pub fn snapshot(&self) -> HistogramSnapshot {
        HistogramSnapshot {
            counts: std::array::from_fn(|i| self.counts[i].load(Ordering::Relaxed)),
            sum_nanos: self.sum_nanos.load(Ordering::Relaxed),
        }
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let mut cumulative = 0;
        for (i, bound) in BUCKETS.iter().enumerate() {
            cumulative += self.counts[i].load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{bound}\"}} {cumulative}");
        }
        cumulative += self.counts[BUCKETS.len()].load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {cumulative}");
        let sum = self.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
        let _ = writeln!(out, "{name}_sum{{{labels}}} {sum}");
        let _ = writeln!(out, "{name}_count{{{labels}}} {cumulative}");
    }
}

/// A [`Histogram`]'s counts at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistogramSnapshot {
    counts: [u64; BUCKETS.len() + 1],
    sum_nanos: u64,
}

impl HistogramSnapshot {
    /// What was observed after `earlier` (a snapshot of the same histogram).
    pub fn since(&self, earlier: &HistogramSnapshot) -> HistogramSnapshot {
        HistogramSnapshot {
            counts: std::array::from_fn(|i| self.counts[i].saturating_sub(earlier.counts[i])),
            sum_nanos: self.sum_nanos.saturating_sub(earlier.sum_nanos),
        }
    }

    /// Observations.
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Mean of the observations in seconds (exact, not from buckets); `None` without any.
    pub fn mean(&self) -> Option<f64> {
        let count = self.count();
        (count > 0).then(|| self.sum_nanos as f64 / 1e9 / count as f64)
    }

    /// Estimated `q`-quantile (0..=1) in seconds, interpolated within its bucket;
    /// `None` without observations. `quantile(1.0)` is the upper bound of the
    /// highest bucket that holds an observation.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let total = self.count();
        if total == 0 {
            return None;
        }
        let rank = q.clamp(0.0, 1.0) * total as f64;
        let mut seen = 0.0;
        for (i, &count) in self.counts.iter().enumerate() {
            let next = seen + count as f64;
            if next >= rank && count > 0 {
                let lower = if i == 0 { 0.0 } else { BUCKETS[i - 1] };
                let upper = BUCKETS.get(i).copied().unwrap_or(BUCKETS[BUCKETS.len() - 1]);
                return Some(lower + (upper - lower) * ((rank - seen) / count as f64).clamp(0.0, 1.0));
            }
            seen = next;
        }
        Some(BUCKETS[BUCKETS.len() - 1])
    }
}

/// Where a node is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeState {
    /// Being built or opening its resources.
    Starting,
    /// Processing frames.
    Running,
    /// Failed and waiting to be started again.
    Restarting,
    /// Failed and will not be started again (restart policy exhausted).
    Failed,
    /// Reached the end of its stream.
    Finished,
    /// Stopped by shutdown or reload.
    Stopped,
}

/// Counters of one node, updated by the node's runner and read by `/metrics`.
pub struct NodeMetrics {
    /// Node id.
    pub node: String,
    /// Node kind.
    pub kind: String,
    /// Frames taken from input queues.
    pub frames_in: AtomicU64,
    /// Frames sent on outputs (or consumed, for sinks).
    pub frames_out: AtomicU64,
    /// Frames that could not be processed (a corrupt frame, an encoder error).
    pub frame_errors: AtomicU64,
    /// Times the node was started again after a failure.
    pub restarts: AtomicU64,
    /// Streams the node turned away because it cannot read them (an H.264
    /// profile its decoder lacks): one per stream, however many frames.
    pub streams_refused: AtomicU64,
    /// Messages received from another process that are not frames (garbage
    /// on a key, another wire version): dropped.
    pub messages_rejected: AtomicU64,
    /// Frames a link node sent or received in zenoh shared memory.
    pub shm_frames: AtomicU64,
    /// Frames a link node sent or received on the heap (copied on the way).
    pub heap_frames: AtomicU64,
    /// Messages a receiving link node never got: the gaps in each Ooblex
    /// publisher's message numbers (zenoh's congestion control dropped them
    /// on the way). Counted in the node's drops too.
    pub link_lost: AtomicU64,
    /// Audio frames the node sent (a source) or wrote beside the video (a
    /// muxing sink); they are not counted in `frames_in` and `frames_out`, which count pictures.
    pub audio_frames: AtomicU64,
    /// Audio frames a muxing sink left out: before the first picture of a
    /// recording, after its last, or held longer than it could wait for the video.
    pub audio_left_out: AtomicU64,
    /// Time spent processing one frame.
    pub process_time: Histogram,
    /// Time from capture to this node's output.
    pub latency: Histogram,
    state: Mutex<(NodeState, Option<String>)>,
    inputs: Mutex<Vec<(String, Arc<Queue>)>>,
}

impl NodeMetrics {
    /// Counters for a node that is about to start.
    pub fn new(node: &str, kind: &str) -> NodeMetrics {
        NodeMetrics {
            node: node.to_string(),
            kind: kind.to_string(),
            frames_in: AtomicU64::new(0),
            frames_out: AtomicU64::new(0),
            frame_errors: AtomicU64::new(0),
            restarts: AtomicU64::new(0),
            streams_refused: AtomicU64::new(0),
            messages_rejected: AtomicU64::new(0),
            shm_frames: AtomicU64::new(0),
            heap_frames: AtomicU64::new(0),
            link_lost: AtomicU64::new(0),
            audio_frames: AtomicU64::new(0),
            audio_left_out: AtomicU64::new(0),
            process_time: Histogram::default(),
            latency: Histogram::default(),
            state: Mutex::new((NodeState::Starting, None)),
            inputs: Mutex::new(Vec::new()),
        }
    }

    /// Sets the state, with the last error when there is one.
    pub fn set_state(&self, state: NodeState, error: Option<String>) {
        let mut guard = self.state.lock().expect("metrics lock is never held across a panic");
        guard.0 = state;
        if error.is_some() {
            guard.1 = error;
        }
    }

    /// The current state and the last error seen.
    pub fn state(&self) -> (NodeState, Option<String>) {
        self.state
            .lock()
            .expect("metrics lock is never held across a panic")
            .clone()
    }

    /// Records which queues feed this node, for depth and drop counts.
    pub fn set_inputs(&self, inputs: Vec<(String, Arc<Queue>)>) {
        *self.inputs.lock().expect("metrics lock is never held across a panic") = inputs;
    }

    /// Frames dropped by this node's input queues, and those a link lost on
    /// the way to it.
    pub fn drops(&self) -> u64 {
        let queued: u64 = self
            .inputs
            .lock()
            .expect("metrics lock is never held across a panic")
            .iter()
            .map(|(_, q)| q.dropped())
            .sum();
        queued + self.link_lost.load(Ordering::Relaxed)
    }

    /// Frames waiting in this node's input queues.
    pub fn queue_depth(&self) -> usize {
        self.inputs
            .lock()
            .expect("metrics lock is never held across a panic")
            .iter()
            .map(|(_, q)| q.depth())
            .sum()
    }

    /// A snapshot for the API and the status line.
    pub fn snapshot(&self) -> NodeSnapshot {
        let (state, last_error) = self.state();
        let ms = |v: Option<f64>| v.map(|s| (s * 1e5).round() / 100.0);
        NodeSnapshot {
            node: self.node.clone(),
            kind: self.kind.clone(),
            state,
            last_error,
            frames_in: self.frames_in.load(Ordering::Relaxed),
            frames_out: self.frames_out.load(Ordering::Relaxed),
            frame_errors: self.frame_errors.load(Ordering::Relaxed),
            drops: self.drops(),
            queue_depth: self.queue_depth(),
            restarts: self.restarts.load(Ordering::Relaxed),
            streams_refused: self.streams_refused.load(Ordering::Relaxed),
            messages_rejected: self.messages_rejected.load(Ordering::Relaxed),
            latency_p50_ms: ms(self.latency.quantile(0.5)),
            latency_p95_ms: ms(self.latency.quantile(0.95)),
            latency_p99_ms: ms(self.latency.quantile(0.99)),
            process_p50_ms: ms(self.process_time.quantile(0.5)),
        }
    }
}

/// A node's counters at one instant.
#[derive(Debug, Clone, Serialize)]
pub struct NodeSnapshot {
    /// Node id.
    pub node: String,
    /// Node kind.
    pub kind: String,
    /// Current state.
    pub state: NodeState,
    /// Last error seen, if any.
    pub last_error: Option<String>,
    /// Frames in.
    pub frames_in: u64,
    /// Frames out.
    pub frames_out: u64,
    /// Frames that failed to process.
    pub frame_errors: u64,
    /// Frames dropped by input queues.
    pub drops: u64,
    /// Frames waiting in input queues.
    pub queue_depth: usize,
    /// Restarts after failures.
    pub restarts: u64,
    /// Streams turned away because the node cannot read them.
    pub streams_refused: u64,
    /// Messages from other processes that were not frames, dropped.
    pub messages_rejected: u64,
    /// Median capture-to-output latency.
    pub latency_p50_ms: Option<f64>,
    /// 95th percentile latency.
    pub latency_p95_ms: Option<f64>,
    /// 99th percentile latency.
    pub latency_p99_ms: Option<f64>,
    /// Median processing time per frame.
    pub process_p50_ms: Option<f64>,
}

/// A metric as exposed: name, help text, and how to read it from a node.
type Exposed<T> = (&'static str, &'static str, fn(&NodeMetrics) -> T);

/// Reads one of a node's histograms.
type HistogramOf = for<'a> fn(&'a NodeMetrics) -> &'a Histogram;

/// All node counters of a process.
#[derive(Default, Clone)]
pub struct MetricsRegistry {
    nodes: Arc<RwLock<BTreeMap<String, Arc<NodeMetrics>>>>,
    /// Graph reloads: `[applied, rejected]`.
    reloads: Arc<[AtomicU64; 2]>,
    /// The frame pool whose bytes are reported.
    pool: Arc<RwLock<Option<FrameAllocator>>>,
}

impl MetricsRegistry {
    /// An empty registry.
    pub fn new() -> MetricsRegistry {
        MetricsRegistry::default()
    }

    /// Adds (or replaces) a node's counters.
    pub fn insert(&self, metrics: Arc<NodeMetrics>) {
        self.nodes
            .write()
            .expect("metrics lock is never held across a panic")
            .insert(metrics.node.clone(), metrics);
    }

    /// A node's counters.
    pub fn get(&self, node: &str) -> Option<Arc<NodeMetrics>> {
        self.nodes
            .read()
            .expect("metrics lock is never held across a panic")
            .get(node)
            .cloned()
    }

    /// Removes a node's counters.
    pub fn remove(&self, node: &str) {
        self.nodes
            .write()
            .expect("metrics lock is never held across a panic")
            .remove(node);
    }

    /// Counts one reload, applied or rejected.
    pub fn count_reload(&self, applied: bool) {
        self.reloads[usize::from(!applied)].fetch_add(1, Ordering::Relaxed);
    }

    /// Reports `pool`'s free and in-use bytes from now on.
    pub fn report_pool(&self, pool: &FrameAllocator) {
        *self.pool.write().expect("metrics lock is never held across a panic") = Some(pool.clone());
    }

    /// Snapshots of every node, by id.
    pub fn snapshots(&self) -> Vec<NodeSnapshot> {
        self.nodes
            .read()
            .expect("metrics lock is never held across a panic")
            .values()
            .map(|m| m.snapshot())
            .collect()
    }

    /// The Prometheus text exposition of every node.
    pub fn render_prometheus(&self) -> String {
        let nodes = self.nodes.read().expect("metrics lock is never held across a panic");
        let mut out = String::new();
        let counters: [Exposed<u64>; 13] = [
            (
                "ooblex_node_frames_in_total",
                "Frames taken from the node's input queues.",
                |m| m.frames_in.load(Ordering::Relaxed),
            ),
            (
                "ooblex_node_frames_out_total",
                "Frames sent on the node's outputs (consumed, for sinks).",
                |m| m.frames_out.load(Ordering::Relaxed),
            ),
            (
                "ooblex_node_drops_total",
                "Frames dropped by the node's input queues, and those a link lost on the way to it.",
                |m| m.drops(),
            ),
            (
                "ooblex_node_frame_errors_total",
                "Frames the node could not process.",
                |m| m.frame_errors.load(Ordering::Relaxed),
            ),
            ("ooblex_node_restarts_total", "Restarts after failures.", |m| {
                m.restarts.load(Ordering::Relaxed)
            }),
            (
                "ooblex_node_streams_refused_total",
                "Streams the node cannot read and turned away (the log says why and how to fix it).",
                |m| m.streams_refused.load(Ordering::Relaxed),
            ),
            (
                "ooblex_node_messages_rejected_total",
                "Messages from other processes that are not Ooblex frames (docs/WIRE.md), dropped.",
                |m| m.messages_rejected.load(Ordering::Relaxed),
            ),
            (
                "ooblex_node_shm_frames_total",
                "Frames a link node sent or received in zenoh shared memory, never copied.",
                |m| m.shm_frames.load(Ordering::Relaxed),
            ),
            (
                "ooblex_node_heap_frames_total",
                "Frames a link node sent or received on the heap, copied on the way (between machines, \
                 or where shared memory could not be had: the log says why).",
                |m| m.heap_frames.load(Ordering::Relaxed),
            ),
            (
                "ooblex_node_link_lost_total",
                "Messages a receiving link node never got from an Ooblex publisher (zenoh dropped them \
                 on a congested link); also counted in its drops.",
                |m| m.link_lost.load(Ordering::Relaxed),
            ),
            (
                "ooblex_node_audio_frames_total",
                "Audio frames the node sent (a source) or wrote beside the video (a muxing sink).",
                |m| m.audio_frames.load(Ordering::Relaxed),
            ),
            (
                "ooblex_node_audio_left_out_total",
                "Audio frames a muxing sink left out: before the first picture, after the last, or \
                 held longer than it could wait for the video.",
                |m| m.audio_left_out.load(Ordering::Relaxed),
            ),
            (
                "ooblex_node_queue_depth",
                "Frames waiting in the node's input queues.",
                |m| m.queue_depth() as u64,
            ),
        ];
        for (name, help, read) in counters {
            let kind = if name.ends_with("_total") { "counter" } else { "gauge" };
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for m in nodes.values() {
                let _ = writeln!(out, "{name}{{node=\"{}\",kind=\"{}\"}} {}", m.node, m.kind, read(m));
            }
        }
        let _ = writeln!(
            out,
            "# HELP ooblex_node_up Whether the node is running (1) or not (0).\n# TYPE ooblex_node_up gauge"
        );
        for m in nodes.values() {
            let up = u8::from(m.state().0 == NodeState::Running);
            let _ = writeln!(out, "ooblex_node_up{{node=\"{}\",kind=\"{}\"}} {up}", m.node, m.kind);
        }
        let _ = writeln!(
            out,
            "# HELP ooblex_graph_reloads_total New graphs applied or rejected (invalid).\n# TYPE ooblex_graph_reloads_total counter"
        );
        for (i, result) in ["applied", "rejected"].iter().enumerate() {
            let _ = writeln!(
                out,
                "ooblex_graph_reloads_total{{result=\"{result}\"}} {}",
                self.reloads[i].load(Ordering::Relaxed)
            );
        }
        let histograms: [(&str, &str, HistogramOf); 2] = [
            (
                "ooblex_node_process_seconds",
                "Time the node spent on one frame.",
                |m| &m.process_time,
            ),
            (
                "ooblex_node_latency_seconds",
                "Time from capture to the node's output.",
                |m| &m.latency,
            ),
        ];
        for (name, help, read) in histograms {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
            for m in nodes.values() {
                read(m).render(&mut out, name, &format!("node=\"{}\",kind=\"{}\"", m.node, m.kind));
            }
        }
        self.render_pool(&mut out);
        out
    }

    /// The frame pool's gauges, when one is reported.
    fn render_pool(&self, out: &mut String) {
        let pool = self.pool.read().expect("metrics lock is never held across a panic");
        let Some(stats) = pool.as_ref().map(FrameAllocator::stats) else {
            return;
        };
        let series = [
            (
                "ooblex_pool_free_bytes",
                "gauge",
                "Bytes of free frame buffers the pool keeps for reuse.",
                stats.free_bytes as u64,
            ),
            (
                "ooblex_pool_in_use_bytes",
                "gauge",
                "Bytes of pooled frame buffers handed out and not yet given back.",
                stats.in_use_bytes as u64,
            ),
            (
                "ooblex_pool_evicted_total",
                "counter",
                "Free frame buffers let go because the pool was over its byte budget.",
                stats.evicted_buffers,
            ),
        ];
        for (name, kind, help, value) in series {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_fall_in_the_right_bucket() {
        let h = Histogram::default();
        for _ in 0..90 {
            h.observe(Duration::from_micros(200));
        }
        for _ in 0..10 {
            h.observe(Duration::from_millis(40));
        }
        let p50 = h.quantile(0.5).expect("observations were made");
        assert!(p50 > 0.0001 && p50 <= 0.00025, "{p50}");
        let p99 = h.quantile(0.99).expect("observations were made");
        assert!(p99 > 0.025 && p99 <= 0.05, "{p99}");
        assert_eq!(h.count(), 100);
    }

    #[test]
    fn a_snapshot_difference_holds_only_what_came_after() {
        let h = Histogram::default();
        for _ in 0..100 {
            h.observe(Duration::from_millis(40));
        }
        let before = h.snapshot();
        for _ in 0..10 {
            h.observe(Duration::from_micros(200));
        }
        let window = h.snapshot().since(&before);
        assert_eq!(window.count(), 10);
        let max = window.quantile(1.0).expect("observations were made");
        assert!(max > 0.0001 && max <= 0.00025, "{max}");
        let mean = window.mean().expect("observations were made");
        assert!((mean - 0.0002).abs() < 1e-9, "{mean}");
        assert_eq!(before.since(&before).quantile(0.5), None);
    }

    #[test]
    fn the_frame_pool_bytes_are_exposed() {
        let registry = MetricsRegistry::new();
        assert!(
            !registry.render_prometheus().contains("ooblex_pool_"),
            "no pool reported yet"
        );
        let pool = FrameAllocator::new();
        registry.report_pool(&pool);
        let held = pool.alloc(1000);
        drop(pool.alloc(100_000));
        let text = registry.render_prometheus();
        assert!(text.contains("\nooblex_pool_in_use_bytes 1024\n"), "{text}");
        assert!(text.contains("\nooblex_pool_free_bytes 114688\n"), "{text}");
        assert!(text.contains("# TYPE ooblex_pool_evicted_total counter\nooblex_pool_evicted_total 0\n"));
        drop(held);
    }
}
