//! What the tests of graphs spread over hosts read: the frames a `json_sink`
//! wrote, and whether any went missing that no queue counted.

use std::path::Path;

use super::Server;

/// Starts host `host` of the graph in `dir/graph.yaml`, from `dir`.
pub fn host(dir: &Path, host: &str) -> Server {
    Server::start_in(dir, "graph.yaml", &["--host", host, "--no-status", "--no-watch"])
}

/// The `seq` of every line a `json_sink` wrote so far.
pub fn seqs(path: &Path) -> Vec<u64> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|record| record["seq"].as_u64())
        .collect()
}

/// Frames every queue of these hosts dropped, as `/metrics` counts them.
pub fn counted_drops(hosts: &[&Server]) -> u64 {
    hosts
        .iter()
        .map(|host| {
            let text = host.get("/metrics").expect("metrics answer");
            text.lines()
                .filter(|line| line.starts_with("ooblex_node_drops_total{"))
                .filter_map(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
                .sum::<u64>()
        })
        .sum()
}

/// Asserts that `seqs` only goes up and that every frame missing from it was
/// counted as dropped by a queue (live queues drop under load, and say so):
/// nothing is lost, reordered or duplicated on the way between hosts.
pub fn assert_nothing_lost(seqs: &[u64], hosts: &[&Server]) {
    assert!(
        seqs.windows(2).all(|w| w[1] > w[0]),
        "frames in order, each once: {seqs:?}"
    );
    let missing: u64 = seqs.windows(2).map(|w| w[1] - w[0] - 1).sum();
    let dropped = counted_drops(hosts);
    assert!(
        missing <= dropped,
        "{missing} frames missing at the sink but only {dropped} counted as dropped: lost between hosts"
    );
}
