//! A node that panics is restarted with backoff; its neighbours keep running.

mod common;

use std::time::Duration;

use ooblex_runtime::{NodeState, RunningGraph, RuntimeEnv};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_node_restarts_and_the_other_branch_is_untouched() {
    let (panic_tag, broken, healthy) = (common::unique("p"), common::unique("broken"), common::unique("healthy"));
    let yaml = format!(
        "version: 1\nname: restart\nnodes:\n  src: {{ kind: count, params: {{ frames: 30, interval_ms: 5 }} }}\n  flaky: {{ kind: pass, params: {{ panic_at: 5, tag: {panic_tag} }}, inputs: {{ video: {{ from: src, policy: block }} }} }}\n  out: {{ kind: record, params: {{ tag: {broken} }}, inputs: {{ video: flaky }} }}\n  other: {{ kind: record, params: {{ tag: {healthy} }}, inputs: {{ video: src }} }}\n"
    );
    let env = RuntimeEnv::default();
    let mut running = RunningGraph::start(common::graph(&yaml), &env);
    tokio::time::timeout(Duration::from_secs(10), running.wait())
        .await
        .expect("the graph ends");
    assert_eq!(common::panics(&panic_tag), 1);
    let flaky = env
        .metrics
        .snapshots()
        .into_iter()
        .find(|n| n.node == "flaky")
        .expect("flaky has metrics");
    assert_eq!(flaky.restarts, 1);
    assert_eq!(flaky.state, NodeState::Finished);
    assert!(
        flaky.last_error.as_deref().is_some_and(|e| e.contains("told to panic")),
        "{:?}",
        flaky.last_error
    );
    let healthy: Vec<u64> = common::recorded(&healthy).iter().map(|(s, _)| *s).collect();
    assert_eq!(
        healthy.len(),
        30,
        "the branch without the panic lost frames: {healthy:?}"
    );
    let after: Vec<u64> = common::recorded(&broken).iter().map(|(s, _)| *s).collect();
    assert!(
        after.contains(&4) && after.contains(&29),
        "frames before and after the restart arrive: {after:?}"
    );
    assert!(!after.contains(&5), "the frame that caused the panic is gone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_while_building_is_supervised_too() {
    let (panic_tag, out) = (common::unique("b"), common::unique("built"));
    let yaml = format!(
        "version: 1\nname: build\nnodes:\n  src: {{ kind: count, params: {{ frames: 10 }} }}\n  flaky: {{ kind: pass, params: {{ panic_in_build: true, tag: {panic_tag} }}, inputs: {{ video: src }} }}\n  out: {{ kind: record, params: {{ tag: {out} }}, inputs: {{ video: flaky }} }}\n"
    );
    let env = RuntimeEnv::default();
    let mut running = RunningGraph::start(common::graph(&yaml), &env);
    tokio::time::timeout(Duration::from_secs(10), running.wait())
        .await
        .expect("the graph ends");
    let flaky = env.metrics.get("flaky").expect("flaky has metrics").snapshot();
    assert_eq!(flaky.restarts, 1);
    assert_eq!(flaky.state, NodeState::Finished);
    assert_eq!(common::recorded(&out).len(), 10, "frames flow once the node is built");
}
