//! Events of a running process — reloads, rejected graphs, node state changes —
//! broadcast to every `/api/events` WebSocket client.

use serde::Serialize;
use tokio::sync::broadcast;

use crate::graph::diff::GraphDiff;
use crate::graph::error::DiagnosticReport;
use crate::metrics::NodeState;

/// Events a slow client can fall behind by before it misses some.
const BACKLOG: usize = 256;

/// Something that happened.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A new graph was applied.
    GraphReloaded {
        /// Where it came from (file path, `<POST /api/graph>`).
        origin: String,
        /// What changed.
        diff: GraphDiff,
        /// How long applying took.
        took_ms: f64,
    },
    /// A new graph was invalid; the running graph is unchanged.
    GraphRejected {
        /// Where it came from.
        origin: String,
        /// Every problem.
        errors: Vec<DiagnosticReport>,
    },
    /// A node changed state (starting, running, restarting, failed, finished, stopped).
    NodeState {
        /// Node id.
        node: String,
        /// New state.
        state: NodeState,
        /// The error that caused it, if any.
        error: Option<String>,
    },
}

/// Broadcasts events; clones share the channel.
#[derive(Clone)]
pub struct EventBus {
    sender: broadcast::Sender<Event>,
}

impl Default for EventBus {
    fn default() -> Self {
        EventBus {
            sender: broadcast::channel(BACKLOG).0,
        }
    }
}

impl EventBus {
    /// Sends an event to every subscriber (none is fine).
    pub fn publish(&self, event: Event) {
        let _ = self.sender.send(event);
    }

    /// A new subscriber, receiving events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }
}
