//! `ooblex bench GRAPH`: run a graph headless for a while and report its
//! throughput and the cost of each node, once per `--size`.
//!
//! Counters are sampled at the end of the warm-up and at the end; the report
//! covers what happened in between, so start-up (model loading, first frames)
//! does not count.

mod machine;
mod overrides;
mod report;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use ooblex_runtime::{NodeMetrics, RunningGraph, RuntimeEnv, ValidatedGraph};

use machine::{Machine, cpu_time};
use overrides::{Overrides, ParamOverride, Size, apply, paced_rate};
use report::{BenchReport, Ending, NodeInfo, NodeSample, Plan, Role, Sample};

/// How long nodes get to drain their queues when a run ends.
const DRAIN_GRACE: Duration = Duration::from_secs(5);

/// Arguments of `ooblex bench`.
#[derive(clap::Args)]
pub struct BenchArgs {
    /// The graph file.
    graph: PathBuf,
    /// Seconds to measure, after the warm-up. A graph whose sources all end stops earlier.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = seconds)]
    duration: Duration,
    /// Seconds to run before measuring (start-up and first frames do not count).
    #[arg(long, value_name = "SECS", default_value = "2", value_parser = seconds)]
    warmup: Duration,
    /// Picture size of every source with `width` and `height` params (such as
    /// `test_pattern`); repeat to bench each size in turn.
    #[arg(long = "size", value_name = "WxH")]
    sizes: Vec<Size>,
    /// Set a param before validating: `NODE.PARAM=VALUE`, the value read as
    /// YAML (`60`, `true`, `bars`). Repeatable; wins over `--size` and `--unpaced`.
    #[arg(long = "set", value_name = "NODE.PARAM=VALUE")]
    sets: Vec<ParamOverride>,
    /// Measure capacity: live sources send at the highest `fps` their params
    /// allow, file sources as fast as they are read (`realtime: false`).
    #[arg(long)]
    unpaced: bool,
    /// Also write the report as JSON: an array with one object per size.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

/// A non-negative number of seconds.
fn seconds(text: &str) -> Result<Duration, String> {
    text.parse::<f64>()
        .ok()
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| format!("`{text}` is not a number of seconds"))
}

/// Benches the graph once per size and prints a report of each.
pub fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    init_logging();
    if args.duration.is_zero() {
        anyhow::bail!("`--duration` must be more than 0 seconds");
    }
    let registry = ooblex_nodes::registry();
    let Some(loaded) = super::load(&args.graph)? else {
        return Ok(ExitCode::FAILURE);
    };
    let sizes: Vec<Option<Size>> = if args.sizes.is_empty() {
        vec![None]
    } else {
        args.sizes.iter().copied().map(Some).collect()
    };
    // Every variant is checked before the first one runs.
    let mut runs = Vec::new();
    for size in sizes {
        let overrides = Overrides {
            size,
            unpaced: args.unpaced,
            sets: &args.sets,
        };
        let mut variant = loaded.clone();
        let applied = apply(&mut variant.spec, &registry, &overrides)?;
        let Some(graph) = super::check(&variant, &registry) else {
            let overrides = describe_overrides(&args, size);
            if !overrides.is_empty() {
                eprintln!("note: checked with {overrides}");
            }
            return Ok(ExitCode::FAILURE);
        };
        for node in &applied.still_paced {
            eprintln!("warning: `--unpaced` cannot speed up {node}: its kind has no `fps` or `realtime` param");
        }
        runs.push((size, graph));
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("ooblex-worker")
        .build()
        .context("cannot start the async runtime")?;
    let machine = Machine::this();
    let mut reports = Vec::new();
    for (size, graph) in runs {
        let plan = plan(&args, size, &graph);
        eprintln!(
            "bench: `{}`{} — warming up {:.1} s, then measuring {:.1} s",
            plan.graph,
            size.map(|s| format!(" at {s}")).unwrap_or_default(),
            args.warmup.as_secs_f64(),
            args.duration.as_secs_f64()
        );
        let report = runtime.block_on(bench_once(graph, plan, machine.clone()));
        println!("{report}\n");
        reports.push(report);
    }
    // Threads still blocked (a sink writing into a stalled pipe) do not keep the process alive.
    runtime.shutdown_timeout(Duration::from_secs(1));

    if let Some(path) = &args.json {
        let json: Vec<serde_json::Value> = reports.iter().map(BenchReport::to_json).collect();
        let text = serde_json::to_string_pretty(&json).context("a report is plain JSON")?;
        std::fs::write(path, text + "\n").with_context(|| format!("cannot write `{}`", path.display()))?;
    }
    let troubled = reports.iter().any(|r| r.troubled().next().is_some());
    Ok(if troubled { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// Log lines would break up the report: only warnings unless `OOBLEX_LOG` says otherwise.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("OOBLEX_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

/// `--size 640x480 --set cam.fps=60 --unpaced`, for the note under validation errors.
fn describe_overrides(args: &BenchArgs, size: Option<Size>) -> String {
    let mut parts = Vec::new();
    if let Some(size) = size {
        parts.push(format!("--size {size}"));
    }
    if args.unpaced {
        parts.push("--unpaced".to_string());
    }
    parts.extend(args.sets.iter().map(|s| format!("--set {}", s.written)));
    parts.join(" ")
}

/// What the report needs to know of the graph before it runs.
fn plan(args: &BenchArgs, size: Option<Size>, graph: &ValidatedGraph) -> Plan {
    let nodes = graph
        .nodes
        .iter()
        .map(|node| {
            let role = if node.kind.inputs.is_empty() {
                Role::Source
            } else if node.kind.outputs.is_empty() {
                Role::Sink
            } else {
                Role::Transform
            };
            NodeInfo {
                id: node.id.clone(),
                kind: node.kind.name.to_string(),
                role,
                paced_rate: (role == Role::Source)
                    .then(|| paced_rate(&node.kind, &node.spec.params))
                    .flatten(),
            }
        })
        .collect();
    Plan {
        graph: graph.name.clone(),
        file: args.graph.display().to_string(),
        size: size.map(|s| (s.width, s.height)),
        paced: !args.unpaced,
        warmup: args.warmup,
        duration: args.duration,
        nodes,
    }
}

/// Runs the graph through the warm-up and the measurement, then stops it.
async fn bench_once(graph: ValidatedGraph, plan: Plan, machine: Machine) -> BenchReport {
    let env = RuntimeEnv::default();
    // Every run starts with fresh counters: before the start, all are zero.
    let start = Sample {
        at: Instant::now(),
        cpu: cpu_time(),
        nodes: vec![NodeSample::before_start(); plan.nodes.len()],
    };
    let mut running = RunningGraph::start(graph, &env);
    let metrics: Vec<Arc<NodeMetrics>> = plan
        .nodes
        .iter()
        .map(|node| {
            env.metrics
                .get(&node.id)
                .expect("RunningGraph::start registers the metrics of every node it starts")
        })
        .collect();
    let (from, ending) = if plan.warmup.is_zero() {
        (start, Ending::Timed)
    } else {
        tokio::select! {
            () = tokio::time::sleep(plan.warmup) => (sample(&metrics), Ending::Timed),
            () = running.wait() => (start, Ending::GraphEndedInWarmup),
        }
    };
    let ending = match ending {
        Ending::GraphEndedInWarmup => ending,
        _ => tokio::select! {
            () = tokio::time::sleep(plan.duration) => Ending::Timed,
            () = running.wait() => Ending::GraphEnded,
        },
    };
    let to = sample(&metrics);
    running.stop(DRAIN_GRACE).await;
    BenchReport::between(plan, ending, &from, &to, machine)
}

/// Every node's counters and the process's CPU time, now.
fn sample(metrics: &[Arc<NodeMetrics>]) -> Sample {
    Sample {
        at: Instant::now(),
        cpu: cpu_time(),
        nodes: metrics.iter().map(|m| NodeSample::of(m)).collect(),
    }
}
