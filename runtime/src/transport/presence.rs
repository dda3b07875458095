//! How the hosts of a graph know about each other, with no coordinator: each
//! announces itself with a zenoh liveliness token, follows the others' tokens
//! (logging who joins and leaves), answers queries for its status, and
//! relays the statuses of the hosts it reaches: `ooblex status` sees every
//! host through any one of them, even before zenoh has learnt the routes.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;
use zenoh::Wait;
use zenoh::liveliness::LivelinessToken;
use zenoh::sample::SampleKind;

use crate::metrics::{MetricsRegistry, NodeState};
use crate::transport::query::ask_all;
use crate::transport::session::{Transport, TransportError};

/// How long a host waits for the others' statuses when relaying them.
pub const STATUS_TIMEOUT: Duration = Duration::from_secs(2);

/// The liveliness key of `host` in `graph`; `*` for every host.
pub fn host_key(graph: &str, host: &str) -> String {
    format!("ooblex/{graph}/.host/{host}")
}

/// The key `host` answers its own status on.
pub fn status_key(graph: &str, host: &str) -> String {
    format!("ooblex/{graph}/.status/{host}")
}

/// The key `host` answers the statuses of every host it reaches on.
pub fn view_key(graph: &str, host: &str) -> String {
    format!("ooblex/{graph}/.view/{host}")
}

/// Whether a host was seen up or going down, and when (ms since the Unix epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerState {
    /// Whether its token is alive.
    pub up: bool,
    /// When that was first seen.
    pub since_unix_ms: u64,
}

/// One node as a status shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeStatus {
    /// Node id.
    pub node: String,
    /// Kind.
    pub kind: String,
    /// `running`, `restarting`, ...
    pub state: NodeState,
    /// Frames out per second over the last second.
    pub fps: f64,
    /// Frames out so far.
    pub frames_out: u64,
    /// Frames dropped by its input queues.
    pub drops: u64,
    /// Median capture-to-output latency.
    pub latency_p50_ms: Option<f64>,
}

/// What one host says of itself, and of the hosts it follows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostStatus {
    /// The host.
    pub host: String,
    /// When it started (ms since the Unix epoch).
    pub since_unix_ms: u64,
    /// When it said this.
    pub reported_unix_ms: u64,
    /// Its nodes.
    pub nodes: Vec<NodeStatus>,
    /// The other hosts it has seen, up or down.
    pub peers: BTreeMap<String, PeerState>,
}

/// A host's presence; withdrawn (its token dropped) when dropped.
pub struct Presence {
    _token: LivelinessToken,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Presence {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Milliseconds since the Unix epoch, now.
pub fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Announces `host` of `graph` and answers for it until the returned
/// presence is dropped.
pub async fn announce(
    transport: &Transport,
    graph: &str,
    host: &str,
    metrics: MetricsRegistry,
) -> Result<Presence, TransportError> {
    let session = transport.session().await?;
    let declare_error = |key: String| {
        move |err: zenoh::Error| TransportError::Declare {
            key,
            reason: err.to_string(),
        }
    };
    let token = session
        .liveliness()
        .declare_token(host_key(graph, host))
        .wait()
        .map_err(declare_error(host_key(graph, host)))?;
    let peers: Arc<Mutex<BTreeMap<String, PeerState>>> = Arc::default();
    let rates: Arc<Mutex<BTreeMap<String, f64>>> = Arc::default();
    let since = unix_ms();

    let watching = session
        .liveliness()
        .declare_subscriber(host_key(graph, "*"))
        .history(true)
        .wait()
        .map_err(declare_error(host_key(graph, "*")))?;
    let follow = tokio::spawn({
        let (peers, me, prefix) = (peers.clone(), host.to_string(), host_key(graph, ""));
        async move {
            while let Ok(sample) = watching.recv_async().await {
                let Some(peer) = sample.key_expr().as_str().strip_prefix(&prefix) else {
                    continue;
                };
                if peer == me {
                    continue;
                }
                let up = sample.kind() == SampleKind::Put;
                tracing::info!("host `{peer}` {}", if up { "is up" } else { "is down" });
                let state = PeerState {
                    up,
                    since_unix_ms: unix_ms(),
                };
                peers
                    .lock()
                    .expect("peers lock is never held across a panic")
                    .insert(peer.to_string(), state);
            }
        }
    });

    let sample_rates = tokio::spawn({
        let (rates, metrics) = (rates.clone(), metrics.clone());
        async move {
            let mut last: BTreeMap<String, (u64, Instant)> = BTreeMap::new();
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tick.tick().await;
                let mut now = BTreeMap::new();
                for node in metrics.snapshots() {
                    let fps = last.get(&node.node).map_or(0.0, |(frames, at)| {
                        node.frames_out.saturating_sub(*frames) as f64 / at.elapsed().as_secs_f64().max(1e-3)
                    });
                    now.insert(node.node.clone(), fps);
                    last.insert(node.node, (node.frames_out, Instant::now()));
                }
                *rates.lock().expect("rates lock is never held across a panic") = now;
            }
        }
    });

    let status = {
        let (host, peers, rates) = (host.to_string(), peers.clone(), rates.clone());
        move || HostStatus {
            host: host.clone(),
            since_unix_ms: since,
            reported_unix_ms: unix_ms(),
            nodes: {
                let rates = rates.lock().expect("rates lock is never held across a panic");
                metrics
                    .snapshots()
                    .into_iter()
                    .map(|n| NodeStatus {
                        fps: rates.get(&n.node).copied().unwrap_or(0.0),
                        node: n.node,
                        kind: n.kind,
                        state: n.state,
                        frames_out: n.frames_out,
                        drops: n.drops,
                        latency_p50_ms: n.latency_p50_ms,
                    })
                    .collect()
            },
            peers: peers.lock().expect("peers lock is never held across a panic").clone(),
        }
    };

    let own_key = status_key(graph, host);
    let queries = session
        .declare_queryable(own_key.clone())
        .wait()
        .map_err(declare_error(own_key.clone()))?;
    let answer = tokio::spawn({
        let status = status.clone();
        async move {
            while let Ok(query) = queries.recv_async().await {
                let body = serde_json::to_vec(&status()).expect("a status serializes");
                if let Err(err) = query.reply(own_key.clone(), body).wait() {
                    tracing::debug!("answering a status query: {err}");
                }
            }
        }
    });

    let relay_key = view_key(graph, host);
    let views = session
        .declare_queryable(relay_key.clone())
        .wait()
        .map_err(declare_error(relay_key.clone()))?;
    let relay = tokio::spawn({
        let (session, everyone) = (session.clone(), status_key(graph, "*"));
        async move {
            while let Ok(query) = views.recv_async().await {
                let seen = collect_statuses(&session, &everyone).await;
                let body = serde_json::to_vec(&seen).expect("statuses serialize");
                if let Err(err) = query.reply(relay_key.clone(), body).wait() {
                    tracing::debug!("answering a view query: {err}");
                }
            }
        }
    });

    Ok(Presence {
        _token: token,
        tasks: vec![follow, sample_rates, answer, relay],
    })
}

/// The statuses of the hosts of `graph` that answer, asked until every one
/// in `hosts` has or `timeout` passed: routes to hosts reached through
/// another are learnt a moment after a session opens. With `relayed`, a
/// status relayed by a host that reaches the host counts too; without, only
/// hosts this session can query itself count (before sending them work).
pub async fn reach_hosts(
    session: &zenoh::Session,
    graph: &str,
    hosts: &[String],
    relayed: bool,
    timeout: Duration,
) -> Vec<HostStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        let mut statuses = collect_statuses(session, &status_key(graph, "*")).await;
        if relayed {
            statuses.extend(collect_views(session, &view_key(graph, "*")).await);
        }
        let statuses = freshest(statuses);
        let all = hosts.iter().all(|h| statuses.iter().any(|s| &s.host == h));
        if all || Instant::now() >= deadline {
            return statuses;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The statuses answered on `key` (a key expression), in any order.
pub async fn collect_statuses(session: &zenoh::Session, key: &str) -> Vec<HostStatus> {
    collect(session, key, |bytes| {
        serde_json::from_slice::<HostStatus>(bytes).ok().map(|s| vec![s])
    })
    .await
}

/// The statuses relayed on `key`, every host's freshest once.
async fn collect_views(session: &zenoh::Session, key: &str) -> Vec<HostStatus> {
    let all = collect(session, key, |bytes| {
        serde_json::from_slice::<Vec<HostStatus>>(bytes).ok()
    })
    .await;
    freshest(all)
}

/// Each host's freshest status, once.
fn freshest(all: Vec<HostStatus>) -> Vec<HostStatus> {
    let mut freshest: BTreeMap<String, HostStatus> = BTreeMap::new();
    for status in all {
        let newer = freshest
            .get(&status.host)
            .is_none_or(|known| known.reported_unix_ms < status.reported_unix_ms);
        if newer {
            freshest.insert(status.host.clone(), status);
        }
    }
    freshest.into_values().collect()
}

async fn collect(
    session: &zenoh::Session,
    key: &str,
    parse: impl Fn(&[u8]) -> Option<Vec<HostStatus>>,
) -> Vec<HostStatus> {
    ask_all(session, key, None, STATUS_TIMEOUT)
        .await
        .iter()
        .filter_map(|bytes| parse(bytes))
        .flatten()
        .collect()
}
