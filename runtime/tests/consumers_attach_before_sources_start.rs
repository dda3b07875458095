//! A finite source that is faster than graph start-up still reaches its sinks:
//! every input queue is attached before the node that feeds it starts.

mod common;

use std::time::Duration;

use ooblex_runtime::{RunningGraph, RuntimeEnv};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_frame_is_sent_before_its_consumers_listen() {
    for _ in 0..50 {
        let tag = common::unique("fast");
        let yaml = format!(
            "version: 1\nname: fast\nnodes:\n  src: {{ kind: count, params: {{ frames: 3 }} }}\n  hop: {{ kind: pass, inputs: {{ video: src }} }}\n  out: {{ kind: record, params: {{ tag: {tag} }}, inputs: {{ video: hop }} }}\n"
        );
        let mut running = RunningGraph::start(common::graph(&yaml), &RuntimeEnv::default());
        tokio::time::timeout(Duration::from_secs(10), running.wait())
            .await
            .expect("the graph ends");
        assert_eq!(common::recorded(&tag).len(), 3);
    }
}
