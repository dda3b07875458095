//! `ooblex status GRAPH`: each host of a graph, up or down and since when,
//! with its nodes' state, fps, drops and latency, asked over zenoh of the
//! hosts themselves.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use ooblex_runtime::{HostStatus, Transport, TransportConfig, reach_hosts, unix_ms};

/// How long to keep asking for the hosts that have not answered.
const HOSTS_TIMEOUT: Duration = Duration::from_secs(3);

/// Arguments of `ooblex status`.
#[derive(clap::Args)]
pub struct StatusArgs {
    /// The graph file the hosts run.
    graph: PathBuf,
    /// Print JSON (every host's status as it answered) instead of a table.
    #[arg(long)]
    json: bool,
}

/// What is known of one host.
#[derive(serde::Serialize)]
struct HostView {
    host: String,
    up: bool,
    /// When it came up (up) or was seen going down (down); `None` when no
    /// host has seen it.
    since_unix_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<HostStatus>,
}

/// Prints the hosts; exits non-zero when one is down.
pub fn run(args: StatusArgs) -> anyhow::Result<ExitCode> {
    let Some(loaded) = super::load(&args.graph)? else {
        return Ok(ExitCode::FAILURE);
    };
    let spec = loaded.spec;
    anyhow::ensure!(
        !spec.hosts.is_empty(),
        "`{}` names no hosts: `ooblex status` asks the hosts of a graph that has `hosts:`",
        args.graph.display()
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let views = runtime.block_on(async {
        let transport = Transport::new(TransportConfig::reaching(&spec));
        let session = transport.session().await?;
        let hosts: Vec<String> = spec.hosts.keys().map(|h| h.to_string()).collect();
        let statuses = reach_hosts(&session, spec.name.as_str(), &hosts, true, HOSTS_TIMEOUT).await;
        transport.close().await;
        anyhow::Ok(statuses)
    })?;
    runtime.shutdown_timeout(Duration::from_secs(1));

    let answered: BTreeMap<String, HostStatus> = views.into_iter().map(|s| (s.host.clone(), s)).collect();
    let hosts: Vec<HostView> = spec
        .hosts
        .keys()
        .map(|host| {
            let status = answered.get(host.as_str()).cloned();
            // A host that did not answer: when the others last saw it go.
            let seen_down = answered
                .values()
                .filter_map(|other| other.peers.get(host.as_str()))
                .filter(|peer| !peer.up)
                .map(|peer| peer.since_unix_ms)
                .max();
            HostView {
                host: host.to_string(),
                up: status.is_some(),
                since_unix_ms: status.as_ref().map(|s| s.since_unix_ms).or(seen_down),
                status,
            }
        })
        .collect();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&hosts).expect("statuses serialize"));
    } else {
        print_table(&hosts);
    }
    Ok(if hosts.iter().all(|h| h.up) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_table(hosts: &[HostView]) {
    let now = unix_ms();
    for host in hosts {
        let since = host
            .since_unix_ms
            .map(|t| format!(" for {}", ago(now.saturating_sub(t))))
            .unwrap_or_default();
        println!("host {}: {}{since}", host.host, if host.up { "up" } else { "down" });
        let Some(status) = &host.status else { continue };
        println!(
            "  {:<24} {:<16} {:<11} {:>7} {:>9} {:>7} {:>11}",
            "node", "kind", "state", "fps", "frames", "drops", "latency p50"
        );
        for node in &status.nodes {
            let latency = node.latency_p50_ms.map_or("-".to_string(), |ms| format!("{ms:.1} ms"));
            let state = serde_json::to_value(node.state)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default();
            println!(
                "  {:<24} {:<16} {:<11} {:>7.1} {:>9} {:>7} {:>11}",
                node.node, node.kind, state, node.fps, node.frames_out, node.drops, latency
            );
        }
    }
}

/// `3 s`, `4 min`, `2 h`.
fn ago(ms: u64) -> String {
    match ms / 1000 {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s => format!("{} h", s / 3600),
    }
}
