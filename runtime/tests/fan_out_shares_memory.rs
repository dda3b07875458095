//! A frame fanned out to several sinks through a chain is never copied.

mod common;

use std::time::Duration;

use ooblex_runtime::{RunningGraph, RuntimeEnv};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sink_sees_the_source_buffer() {
    let tags: Vec<String> = (0..3).map(|_| common::unique("fan")).collect();
    let yaml = format!(
        "version: 1\nname: fan\nnodes:\n  src: {{ kind: count, params: {{ frames: 20 }} }}\n  hop: {{ kind: pass, inputs: {{ video: src }} }}\n  a: {{ kind: record, params: {{ tag: {} }}, inputs: {{ video: hop }} }}\n  b: {{ kind: record, params: {{ tag: {} }}, inputs: {{ video: hop }} }}\n  c: {{ kind: record, params: {{ tag: {} }}, inputs: {{ video: src }} }}\n",
        tags[0], tags[1], tags[2]
    );
    let mut running = RunningGraph::start(common::graph(&yaml), &RuntimeEnv::default());
    tokio::time::timeout(Duration::from_secs(10), running.wait())
        .await
        .expect("a 20-frame graph ends");
    let seen: Vec<_> = tags.iter().map(|t| common::recorded(t)).collect();
    for frames in &seen {
        let seqs: Vec<u64> = frames.iter().map(|(s, _)| *s).collect();
        assert_eq!(
            seqs,
            (0..20).collect::<Vec<_>>(),
            "a file-like source feeds `block` queues: nothing is dropped"
        );
    }
    for i in 0..20 {
        let address = seen[0][i].1;
        assert!(
            seen.iter().all(|s| s[i].1 == address),
            "frame {i} reached the sinks at different addresses"
        );
    }
}
