//! The bench report: what changed between two samples of every node's
//! counters, as a table for people and as JSON for scripts. No I/O here.

use std::fmt::{self, Write as _};
use std::time::{Duration, Instant};

use ooblex_runtime::{Histogram, HistogramSnapshot, NodeMetrics, NodeState};
use serde_json::{Value, json};

use super::machine::Machine;

/// A source whose output rate is at least this share of its paced rate kept its pace.
const KEPT_PACE: f64 = 0.95;

/// Where a node sits in the graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// No inputs.
    Source,
    /// Inputs and outputs.
    Transform,
    /// No outputs.
    Sink,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::Source => "source",
            Role::Transform => "transform",
            Role::Sink => "sink",
        }
    }
}

/// What is known of a node before it runs.
#[derive(Debug, Clone)]
pub struct NodeInfo {
    /// Node id.
    pub id: String,
    /// Node kind.
    pub kind: String,
    /// Source, transform or sink.
    pub role: Role,
    /// For a source paced by its params, the frames per second it should send.
    pub paced_rate: Option<f64>,
}

/// One node's counters at one instant.
#[derive(Debug, Clone)]
pub struct NodeSample {
    /// Frames taken from input queues.
    pub frames_in: u64,
    /// Frames sent (consumed, for sinks).
    pub frames_out: u64,
    /// Frames dropped by input queues.
    pub drops: u64,
    /// Frames that failed to process.
    pub frame_errors: u64,
    /// Restarts after failures.
    pub restarts: u64,
    /// State, with the last error seen.
    pub state: (NodeState, Option<String>),
    /// Processing time per frame.
    pub process: HistogramSnapshot,
    /// Capture-to-output latency.
    pub latency: HistogramSnapshot,
}

impl NodeSample {
    /// The counters of a node not started yet: all zero.
    pub fn before_start() -> NodeSample {
        let empty = Histogram::default().snapshot();
        NodeSample {
            frames_in: 0,
            frames_out: 0,
            drops: 0,
            frame_errors: 0,
            restarts: 0,
            state: (NodeState::Starting, None),
            process: empty.clone(),
            latency: empty,
        }
    }

    /// Reads a running node's counters.
    pub fn of(metrics: &NodeMetrics) -> NodeSample {
        use std::sync::atomic::Ordering::Relaxed;
        NodeSample {
            frames_in: metrics.frames_in.load(Relaxed),
            frames_out: metrics.frames_out.load(Relaxed),
            drops: metrics.drops(),
            frame_errors: metrics.frame_errors.load(Relaxed),
            restarts: metrics.restarts.load(Relaxed),
            state: metrics.state(),
            process: metrics.process_time.snapshot(),
            latency: metrics.latency.snapshot(),
        }
    }
}

/// Every node's counters (in [`Plan::nodes`] order) and the process's CPU time at one instant.
#[derive(Debug, Clone)]
pub struct Sample {
    /// When it was taken.
    pub at: Instant,
    /// CPU time the process had used, when the OS tells.
    pub cpu: Option<Duration>,
    /// One per node.
    pub nodes: Vec<NodeSample>,
}

/// How one run was set up.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The graph's name.
    pub graph: String,
    /// The graph file.
    pub file: String,
    /// `--size`, when given.
    pub size: Option<(u32, u32)>,
    /// Whether sources kept their own pace (no `--unpaced`).
    pub paced: bool,
    /// Warm-up asked for.
    pub warmup: Duration,
    /// Measurement asked for.
    pub duration: Duration,
    /// The nodes, in the order of every [`Sample`]'s `nodes`.
    pub nodes: Vec<NodeInfo>,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The measurement ran its whole duration.
    Timed,
    /// Every node ended during the measurement.
    GraphEnded,
    /// Every node ended during the warm-up; the whole run was measured.
    GraphEndedInWarmup,
}

/// Percentiles (from histogram buckets) and mean (exact) of a duration, in ms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// Upper bound of the highest bucket reached: the true maximum is at most this.
    pub max: f64,
    /// Mean.
    pub mean: f64,
}

impl Timing {
    fn of(histogram: &HistogramSnapshot) -> Option<Timing> {
        let ms = |q: f64| histogram.quantile(q).map(|s| s * 1e3);
        Some(Timing {
            p50: ms(0.5)?,
            p95: ms(0.95)?,
            max: ms(1.0)?,
            mean: histogram.mean()? * 1e3,
        })
    }

    fn to_json(timing: Option<Timing>) -> Value {
        timing.map_or(Value::Null, |t| {
            json!({ "p50": round(t.p50, 3), "p95": round(t.p95, 3), "max": round(t.max, 3), "mean": round(t.mean, 3) })
        })
    }
}

/// One node over the measured window.
#[derive(Debug, Clone)]
pub struct NodeReport {
    /// What is known of it.
    pub info: NodeInfo,
    /// Frames taken in.
    pub frames_in: u64,
    /// Frames sent (consumed, for sinks).
    pub frames_out: u64,
    /// Frames out per second.
    pub fps: f64,
    /// Frames dropped by its input queues.
    pub drops: u64,
    /// Frames it failed to process.
    pub frame_errors: u64,
    /// Restarts after failures.
    pub restarts: u64,
    /// State at the end, with the last error seen.
    pub state: (NodeState, Option<String>),
    /// Processing time per frame (sources report none).
    pub process: Option<Timing>,
    /// Capture to this node's output (for a sink, end to end).
    pub latency: Option<Timing>,
}

/// One bench run: every node over the measured window, and a summary.
#[derive(Debug, Clone)]
pub struct BenchReport {
    /// How it was set up.
    pub plan: Plan,
    /// How it ended.
    pub ending: Ending,
    /// Length of the measured window.
    pub measured: Duration,
    /// The nodes.
    pub nodes: Vec<NodeReport>,
    /// CPU time the process used in the window.
    pub cpu: Option<Duration>,
    /// The machine it ran on.
    pub machine: Machine,
}

impl BenchReport {
    /// The report of the window between `from` and `to`.
    pub fn between(plan: Plan, ending: Ending, from: &Sample, to: &Sample, machine: Machine) -> BenchReport {
        let measured = to.at.saturating_duration_since(from.at);
        let seconds = measured.as_secs_f64().max(1e-9);
        let nodes = plan
            .nodes
            .iter()
            .zip(from.nodes.iter().zip(&to.nodes))
            .map(|(info, (a, b))| {
                let frames_out = b.frames_out.saturating_sub(a.frames_out);
                NodeReport {
                    info: info.clone(),
                    frames_in: b.frames_in.saturating_sub(a.frames_in),
                    frames_out,
                    fps: frames_out as f64 / seconds,
                    drops: b.drops.saturating_sub(a.drops),
                    frame_errors: b.frame_errors.saturating_sub(a.frame_errors),
                    restarts: b.restarts.saturating_sub(a.restarts),
                    state: b.state.clone(),
                    process: Timing::of(&b.process.since(&a.process)),
                    latency: Timing::of(&b.latency.since(&a.latency)),
                }
            })
            .collect();
        let cpu = to.cpu.zip(from.cpu).map(|(b, a)| b.saturating_sub(a));
        BenchReport {
            plan,
            ending,
            measured,
            nodes,
            cpu,
            machine,
        }
    }

    /// The sink with the lowest output rate.
    pub fn slowest_sink(&self) -> Option<&NodeReport> {
        self.nodes
            .iter()
            .filter(|n| n.info.role == Role::Sink)
            .min_by(|a, b| a.fps.total_cmp(&b.fps))
    }

    /// Frames dropped by every queue of the graph.
    pub fn drops(&self) -> u64 {
        self.nodes.iter().map(|n| n.drops).sum()
    }

    /// Processor cores busy on average (CPU time over wall time).
    pub fn cores_used(&self) -> Option<f64> {
        self.cpu
            .map(|cpu| cpu.as_secs_f64() / self.measured.as_secs_f64().max(1e-9))
    }

    /// Nodes that failed or restarted: the numbers then say little.
    pub fn troubled(&self) -> impl Iterator<Item = &NodeReport> {
        self.nodes
            .iter()
            .filter(|n| n.restarts > 0 || matches!(n.state.0, NodeState::Failed | NodeState::Restarting))
    }

    /// Paced sources that sent fewer frames than their rate asks for.
    fn behind(&self) -> impl Iterator<Item = (&NodeReport, f64)> {
        let seconds = self.measured.as_secs_f64();
        self.nodes.iter().filter_map(move |n| {
            let rate = n.info.paced_rate?;
            // One frame of slack: the window rarely starts on a frame boundary.
            (((n.frames_out + 1) as f64) < KEPT_PACE * rate * seconds).then_some((n, rate))
        })
    }

    /// Paced runs: whether every frame the sources sent reached every node and
    /// every source kept its rate. `None` for unpaced runs.
    pub fn kept_up(&self) -> Option<bool> {
        self.plan
            .paced
            .then(|| self.drops() == 0 && self.behind().next().is_none())
    }

    /// Unpaced runs: the rate every source was held to, when the slowest sink
    /// reached it without drops (the pipeline can then do more than measured).
    pub fn capped_by_sources(&self) -> Option<f64> {
        if self.plan.paced || self.drops() > 0 {
            return None;
        }
        let cap = self
            .nodes
            .iter()
            .filter_map(|n| n.info.paced_rate)
            .min_by(f64::total_cmp)?;
        let out = self.slowest_sink()?.fps;
        (out >= KEPT_PACE * cap).then_some(cap)
    }

    /// The report as JSON, for scripts.
    pub fn to_json(&self) -> Value {
        let plan = &self.plan;
        let nodes: Vec<Value> = self
            .nodes
            .iter()
            .map(|n| {
                json!({
                    "node": n.info.id,
                    "kind": n.info.kind,
                    "role": n.info.role.name(),
                    "frames_in": n.frames_in,
                    "frames_out": n.frames_out,
                    "fps": round(n.fps, 2),
                    "drops": n.drops,
                    "frame_errors": n.frame_errors,
                    "restarts": n.restarts,
                    "state": n.state.0,
                    "last_error": n.state.1,
                    "paced_fps": n.info.paced_rate,
                    "process_ms": Timing::to_json(n.process),
                    "latency_ms": Timing::to_json(n.latency),
                })
            })
            .collect();
        let slowest = self.slowest_sink();
        json!({
            "graph": plan.graph,
            "file": plan.file,
            "size": plan.size.map(|(w, h)| format!("{w}x{h}")),
            "width": plan.size.map(|(w, _)| w),
            "height": plan.size.map(|(_, h)| h),
            "paced": plan.paced,
            "warmup_s": plan.warmup.as_secs_f64(),
            "duration_s": plan.duration.as_secs_f64(),
            "measured_s": round(self.measured.as_secs_f64(), 3),
            "ended": match self.ending {
                Ending::Timed => "timed",
                Ending::GraphEnded => "graph_ended",
                Ending::GraphEndedInWarmup => "graph_ended_in_warmup",
            },
            "nodes": nodes,
            "summary": {
                "output_fps": slowest.map(|s| round(s.fps, 2)),
                "slowest_sink": slowest.map(|s| s.info.id.clone()),
                "drops": self.drops(),
                "kept_up": self.kept_up(),
                "capped_by_source_fps": self.capped_by_sources(),
                "cpu_s": self.cpu.map(|c| round(c.as_secs_f64(), 3)),
                "cores_used": self.cores_used().map(|c| round(c, 3)),
            },
            "machine": { "cpu": self.machine.cpu, "cores": self.machine.cores },
        })
    }
}

/// The table people read.
impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plan = &self.plan;
        let size = plan.size.map(|(w, h)| format!(" at {w}x{h}")).unwrap_or_default();
        let pacing = if plan.paced {
            "sources at their own pace"
        } else {
            "unpaced"
        };
        let window = match self.ending {
            Ending::Timed => format!(
                "{:.1} s measured after {:.1} s warm-up",
                self.measured.as_secs_f64(),
                plan.warmup.as_secs_f64()
            ),
            Ending::GraphEnded => format!(
                "{:.1} s measured after {:.1} s warm-up, until the graph ended",
                self.measured.as_secs_f64(),
                plan.warmup.as_secs_f64()
            ),
            Ending::GraphEndedInWarmup => format!(
                "the graph ended during the warm-up: all {:.1} s measured",
                self.measured.as_secs_f64()
            ),
        };
        writeln!(f, "`{}`{size} · {pacing} · {window}\n", plan.graph)?;

        let id_width = column_width("node", self.nodes.iter().map(|n| n.info.id.as_str()));
        let kind_width = column_width("kind", self.nodes.iter().map(|n| n.info.kind.as_str()));
        // Columns: node, kind, frames (8), fps (8), drops (7); processing (31); latency (15).
        let lead = id_width + 2 + kind_width + 8 + 8 + 7;
        let groups = format!("{:lead$}  {:^31}  {:^15}", "", "processing, ms", "latency, ms");
        writeln!(f, "{}", groups.trim_end())?;
        writeln!(
            f,
            "{:id_width$}  {:kind_width$}{:>8}{:>8}{:>7}  {:>7}{:>8}{:>8}{:>8}  {:>7}{:>8}",
            "node", "kind", "frames", "fps", "drops", "p50", "p95", "max", "mean", "p50", "p95"
        )?;
        for n in &self.nodes {
            let process = n.process.map_or_else(
                || format!("{:>7}{:>8}{:>8}{:>8}", "-", "-", "-", "-"),
                |t| format!("{:>7.2}{:>8.2}{:>8.2}{:>8.2}", t.p50, t.p95, t.max, t.mean),
            );
            let latency = n.latency.map_or_else(
                || format!("{:>7}{:>8}", "-", "-"),
                |t| format!("{:>7.2}{:>8.2}", t.p50, t.p95),
            );
            writeln!(
                f,
                "{:id_width$}  {:kind_width$}{:>8}{:>8.1}{:>7}  {process}  {latency}",
                n.info.id, n.info.kind, n.frames_out, n.fps, n.drops
            )?;
        }
        writeln!(
            f,
            "latency: from capture to the node's output. p50, p95 and max come from histogram buckets \
             (max: the top of the highest bucket reached); means are exact."
        )?;
        for n in self.troubled() {
            let error = n.state.1.as_deref().unwrap_or("no error recorded");
            writeln!(
                f,
                "warning: `{}` restarted {} time(s), now {:?}: {error}",
                n.info.id, n.restarts, n.state.0
            )?;
        }
        write!(f, "\n{}", self.summary())
    }
}

impl BenchReport {
    /// `output 30.0 fps (slowest sink `x`) · kept up: ... · CPU ... · machine`
    fn summary(&self) -> String {
        let mut parts = Vec::new();
        match self.slowest_sink() {
            Some(sink) => parts.push(format!("output {:.1} fps (slowest sink `{}`)", sink.fps, sink.info.id)),
            None => parts.push("no sink".to_string()),
        }
        match self.kept_up() {
            Some(true) => parts.push("kept up with the sources: no frame dropped".to_string()),
            Some(false) => {
                let mut why = Vec::new();
                let dropping: Vec<String> = self
                    .nodes
                    .iter()
                    .filter(|n| n.drops > 0)
                    .map(|n| format!("`{}` {}", n.info.id, n.drops))
                    .collect();
                if !dropping.is_empty() {
                    why.push(format!("{} frames dropped ({})", self.drops(), dropping.join(", ")));
                }
                for (n, rate) in self.behind() {
                    why.push(format!("`{}` sent {:.1} of {rate} fps", n.info.id, n.fps));
                }
                parts.push(format!("did NOT keep up: {}", why.join(", ")));
            }
            None => {
                if let Some(cap) = self.capped_by_sources() {
                    parts.push(format!(
                        "held back by the sources' top rate ({cap} fps): the pipeline can do more"
                    ));
                } else {
                    parts.push(format!("{} frames dropped", self.drops()));
                }
            }
        }
        match (self.cpu, self.cores_used()) {
            (Some(cpu), Some(cores)) => parts.push(format!("CPU {:.2} s = {cores:.2} cores", cpu.as_secs_f64())),
            _ => parts.push("CPU time unknown".to_string()),
        }
        parts.push(format!(
            "{}, {} cores",
            self.machine.cpu.as_deref().unwrap_or("unknown CPU"),
            self.machine.cores
        ));
        let mut line = String::new();
        let _ = write!(line, "summary: {}", parts.join(" · "));
        line
    }
}

fn column_width<'a>(header: &str, values: impl Iterator<Item = &'a str>) -> usize {
    values.map(str::len).chain([header.len()]).max().unwrap_or(0)
}

fn round(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(id: &str, role: Role, paced_rate: Option<f64>) -> NodeInfo {
        NodeInfo {
            id: id.to_string(),
            kind: "k".to_string(),
            role,
            paced_rate,
        }
    }

    fn node(frames_out: u64, drops: u64, process: &Histogram) -> NodeSample {
        NodeSample {
            frames_in: frames_out,
            frames_out,
            drops,
            frame_errors: 0,
            restarts: 0,
            state: (NodeState::Running, None),
            process: process.snapshot(),
            latency: Histogram::default().snapshot(),
        }
    }

    fn plan(paced: bool, rate: f64) -> Plan {
        Plan {
            graph: "g".to_string(),
            file: "g.yaml".to_string(),
            size: Some((320, 240)),
            paced,
            warmup: Duration::from_secs(1),
            duration: Duration::from_secs(2),
            nodes: vec![info("cam", Role::Source, Some(rate)), info("out", Role::Sink, None)],
        }
    }

    /// Two samples 2 s apart; `sink_drops` frames dropped in between.
    fn samples(source_frames: u64, sink_frames: u64, sink_drops: u64) -> (Sample, Sample) {
        let sink = Histogram::default();
        for _ in 0..50 {
            sink.observe(Duration::from_millis(40));
        }
        let t0 = Instant::now();
        let from = Sample {
            at: t0,
            cpu: Some(Duration::from_secs(3)),
            nodes: vec![node(100, 0, &Histogram::default()), node(90, 5, &sink)],
        };
        for _ in 0..10 {
            sink.observe(Duration::from_millis(2));
        }
        let to = Sample {
            at: t0 + Duration::from_secs(2),
            cpu: Some(Duration::from_secs(4)),
            nodes: vec![
                node(100 + source_frames, 0, &Histogram::default()),
                node(90 + sink_frames, 5 + sink_drops, &sink),
            ],
        };
        (from, to)
    }

    fn machine() -> Machine {
        Machine {
            cpu: Some("Test CPU".to_string()),
            cores: 2,
        }
    }

    #[test]
    fn only_the_window_counts() {
        let (from, to) = samples(60, 60, 0);
        let report = BenchReport::between(plan(true, 30.0), Ending::Timed, &from, &to, machine());
        let sink = report.slowest_sink().expect("the graph has a sink");
        assert_eq!((sink.frames_out, sink.drops), (60, 0));
        assert!((sink.fps - 30.0).abs() < 1e-9, "{}", sink.fps);
        let process = sink.process.expect("frames were processed in the window");
        assert!(
            process.max <= 2.5,
            "the 40 ms frames came before the window: {process:?}"
        );
        assert!((process.mean - 2.0).abs() < 1e-9, "{process:?}");
        assert_eq!(report.nodes[0].process, None, "sources report no processing time");
        assert_eq!(report.cores_used(), Some(0.5));
        assert_eq!(report.kept_up(), Some(true));
        let json = report.to_json();
        assert_eq!(json["size"], "320x240");
        assert_eq!(json["summary"]["output_fps"], 30.0);
        assert_eq!(json["nodes"][1]["process_ms"]["mean"], 2.0);
        let text = report.to_string();
        assert!(text.contains("output 30.0 fps (slowest sink `out`)"), "{text}");
        assert!(text.contains("kept up with the sources"), "{text}");
        assert!(text.contains("CPU 1.00 s = 0.50 cores · Test CPU, 2 cores"), "{text}");
    }

    #[test]
    fn drops_or_a_slow_source_mean_it_did_not_keep_up() {
        let (from, to) = samples(60, 50, 10);
        let report = BenchReport::between(plan(true, 30.0), Ending::Timed, &from, &to, machine());
        assert_eq!(report.kept_up(), Some(false));
        assert!(report.to_string().contains("10 frames dropped (`out` 10)"));

        let (from, to) = samples(40, 40, 0);
        let report = BenchReport::between(plan(true, 30.0), Ending::Timed, &from, &to, machine());
        assert_eq!(report.kept_up(), Some(false));
        assert!(report.to_string().contains("`cam` sent 20.0 of 30 fps"));
    }

    #[test]
    fn an_unpaced_run_says_when_the_source_was_the_limit() {
        let (from, to) = samples(480, 480, 0);
        let report = BenchReport::between(plan(false, 240.0), Ending::Timed, &from, &to, machine());
        assert_eq!(report.kept_up(), None);
        assert_eq!(report.capped_by_sources(), Some(240.0));

        let (from, to) = samples(480, 100, 380);
        let report = BenchReport::between(plan(false, 240.0), Ending::Timed, &from, &to, machine());
        assert_eq!(report.capped_by_sources(), None);
        assert_eq!(report.slowest_sink().map(|s| s.fps), Some(50.0));
    }
}
