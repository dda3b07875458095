//! Hot reload latency: time from writing the graph file to the first frame of
//! the changed node, on a 20-node graph, over many reloads; and what the
//! branches that were not touched lost across them (must be nothing).
//!
//! Losses are measured where they would happen: each untouched sink writes
//! the sequence number of every frame it gets, so a frame lost anywhere
//! between its source and its sink (a queue that dropped it, a hub that had no
//! queue attached) is a gap; the queues' own drop counters and the nodes'
//! counters are read from the objects held since before the first reload, so
//! a node that restarted shows as such instead of as fresh, empty counters.
//!
//! Run: `cargo bench -p ooblex --bench reload`. Prints median and p95, and
//! exits non-zero when an untouched branch lost a frame or restarted.

#![allow(missing_docs)]

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use ooblex_runtime::{Access, ControlState, GraphController, RunningGraph, RuntimeEnv, load_str, validate, watch_file};

const BRANCHES: usize = 10;
const RELOADS: usize = 60;

/// Ten branches of `test_pattern` 320x240 at 30 fps; branch 0's width is the
/// knob and its sink a `null_sink`; the untouched branches end in a
/// `json_sink` writing `dir/sinkN.jsonl`, one line per frame.
fn graph(width: u32, dir: &Path) -> String {
    let mut yaml = String::from("version: 1\nname: reload-bench\nnodes:\n");
    for b in 0..BRANCHES {
        let w = if b == 0 { width } else { 320 };
        yaml.push_str(&format!(
            "  cam{b}: {{ kind: test_pattern, params: {{ width: {w}, height: 240, fps: 30 }} }}\n"
        ));
        if b == 0 {
            yaml.push_str("  sink0: { kind: null_sink, inputs: { video: cam0 } }\n");
        } else {
            let path = dir.join(format!("sink{b}.jsonl"));
            yaml.push_str(&format!(
                "  sink{b}: {{ kind: json_sink, inputs: {{ video: cam{b} }}, params: {{ path: \"{}\" }} }}\n",
                path.display()
            ));
        }
    }
    yaml
}

/// What one untouched sink saw, from the sequence numbers of its JSON lines
/// in the order they came.
#[derive(Default)]
struct Seen {
    /// Frames that reached the sink.
    frames: u64,
    /// Sequence numbers skipped: frames lost between the source and the sink.
    missing: u64,
    /// Times the numbers went back: the source started again.
    restarts: u64,
}

impl Seen {
    fn read(path: &Path) -> Seen {
        let text = std::fs::read_to_string(path).expect("the sink wrote its file");
        let mut seen = Seen::default();
        let mut next = 0;
        for line in text.lines() {
            let frame: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
            let seq = frame["seq"].as_u64().expect("every line has a seq");
            if seq >= next {
                seen.missing += seq - next;
            } else {
                seen.restarts += 1;
            }
            seen.frames += 1;
            next = seq + 1;
        }
        seen
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let registry = ooblex_nodes::registry();
    let dir = std::env::temp_dir().join(format!("ooblex-reload-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir is writable");
    let path = dir.join("graph.yaml");
    std::fs::write(&path, graph(320, &dir)).expect("temp dir is writable");

    let (samples, lost) = runtime.block_on(async {
        let loaded = load_str("graph.yaml", &graph(320, &dir)).expect("loads");
        let env = RuntimeEnv::default();
        let running = RunningGraph::start(validate(&loaded, &registry).expect("valid"), &env);
        let control = ControlState::new(env.clone(), Access::new(([127, 0, 0, 1], 0).into(), None));
        let (controller, reloader) = GraphController::new(running, registry.clone(), control);
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let controller = tokio::spawn(controller.run(async {
            let _ = stop_rx.await;
        }));
        let _watch = watch_file(&path, reloader).expect("the file can be watched");
        tokio::time::sleep(Duration::from_millis(500)).await;
        // The untouched nodes' counters, held across every reload.
        let untouched: Vec<(String, Arc<ooblex_runtime::NodeMetrics>)> = (1..BRANCHES)
            .flat_map(|b| [format!("cam{b}"), format!("sink{b}")])
            .map(|id| {
                let metrics = env.metrics.get(&id).expect("every node runs");
                (id, metrics)
            })
            .collect();

        let mut samples = Vec::new();
        for i in 0..RELOADS {
            let width = if i % 2 == 0 { 336 } else { 320 };
            // Held, so the new counters cannot take the old ones' address.
            let before = env.metrics.get("cam0").expect("cam0 runs");
            let written = Instant::now();
            std::fs::write(&path, graph(width, &dir)).expect("temp dir is writable");
            // The changed node gets new counters when it restarts; wait for its first frame.
            loop {
                if let Some(m) = env.metrics.get("cam0")
                    && !std::sync::Arc::ptr_eq(&m, &before)
                    && m.frames_out.load(Ordering::Relaxed) > 0
                {
                    samples.push(written.elapsed());
                    break;
                }
                assert!(written.elapsed() < Duration::from_secs(5), "reload {i} did not happen");
                tokio::time::sleep(Duration::from_micros(200)).await;
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
        // Restarted by a reload (new counters) or after a failure.
        let restarted = untouched
            .iter()
            .filter(|(id, held)| {
                env.metrics.get(id).is_none_or(|now| !Arc::ptr_eq(&now, held))
                    || held.restarts.load(Ordering::Relaxed) > 0
            })
            .count();
        let _ = stop_tx.send(());
        let (running, _) = controller.await.expect("the controller ends");
        // Stopping finishes the sinks, which flushes their files.
        running.stop(Duration::from_secs(2)).await;
        let queue_drops: u64 = untouched.iter().map(|(_, held)| held.drops()).sum();
        let mut seen = Seen::default();
        for b in 1..BRANCHES {
            let branch = Seen::read(&dir.join(format!("sink{b}.jsonl")));
            seen.frames += branch.frames;
            seen.missing += branch.missing;
            seen.restarts += branch.restarts;
        }
        println!(
            "untouched branches ({} of them, {} nodes): {} frames reached their sinks, {} missing from the \
             sources' sequence numbers ({queue_drops} dropped by their queues), {} times numbers started again, \
             {restarted} nodes restarted",
            BRANCHES - 1,
            untouched.len(),
            seen.frames,
            seen.missing,
            seen.restarts
        );
        (samples, seen.missing + seen.restarts + queue_drops + restarted as u64)
    });
    let _ = std::fs::remove_dir_all(&dir);

    let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    ms.sort_by(f64::total_cmp);
    let pick = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
    println!(
        "file write -> first frame of the changed node, {} reloads of a {}-node graph: median {:.1} ms, p95 {:.1} ms, min {:.1} ms, max {:.1} ms",
        ms.len(),
        BRANCHES * 2,
        pick(0.5),
        pick(0.95),
        ms[0],
        ms[ms.len() - 1]
    );
    if lost > 0 {
        eprintln!("error: the untouched branches lost frames or restarted across the reloads");
        std::process::exit(1);
    }
}
