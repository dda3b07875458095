//! Hot reload latency: time from writing the graph file to the first frame of
//! the changed node, on a 20-node graph, over many reloads; and the frames
//! dropped on the branches that were not touched (must be zero).
//!
//! Run: `cargo bench -p ooblex --bench reload`. Prints median and p95.

#![allow(missing_docs)]

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use ooblex_runtime::{Access, ControlState, GraphController, RunningGraph, RuntimeEnv, load_str, validate, watch_file};

const BRANCHES: usize = 10;
const RELOADS: usize = 60;

/// Ten branches of `test_pattern -> null_sink`; branch 0's width is the knob.
fn graph(width: u32) -> String {
    let mut yaml = String::from("version: 1\nname: reload-bench\nnodes:\n");
    for b in 0..BRANCHES {
        let w = if b == 0 { width } else { 320 };
        yaml.push_str(&format!(
            "  cam{b}: {{ kind: test_pattern, params: {{ width: {w}, height: 240, fps: 30 }} }}\n  sink{b}: {{ kind: null_sink, inputs: {{ video: cam{b} }} }}\n"
        ));
    }
    yaml
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
    std::fs::write(&path, graph(320)).expect("temp dir is writable");

    let samples = runtime.block_on(async {
        let loaded = load_str("graph.yaml", &graph(320)).expect("loads");
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

        let mut samples = Vec::new();
        for i in 0..RELOADS {
            let width = if i % 2 == 0 { 336 } else { 320 };
            // Held, so the new counters cannot take the old ones' address.
            let before = env.metrics.get("cam0").expect("cam0 runs");
            let written = Instant::now();
            std::fs::write(&path, graph(width)).expect("temp dir is writable");
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
        let drops: u64 = (1..BRANCHES)
            .filter_map(|b| env.metrics.get(&format!("sink{b}")))
            .map(|m| m.drops())
            .sum();
        let restarts: u64 = (1..BRANCHES)
            .filter_map(|b| env.metrics.get(&format!("cam{b}")))
            .map(|m| m.restarts.load(Ordering::Relaxed))
            .sum();
        let _ = stop_tx.send(());
        let (running, _) = controller.await.expect("the controller ends");
        running.stop(Duration::from_secs(2)).await;
        println!("untouched branches: {drops} frames dropped, {restarts} restarts");
        samples
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
}
