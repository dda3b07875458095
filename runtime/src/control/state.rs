//! What the HTTP handlers read: counters, streams, the running graph and who
//! may come in.

use std::sync::{Arc, OnceLock, RwLock};
use std::time::Instant;

use crate::control::access::Access;
use crate::control::redact::ShownGraph;
use crate::exec::executor::RuntimeEnv;
use crate::graph::validate::ValidatedGraph;
use crate::reload::Reloader;

/// Shared state of the control plane.
#[derive(Clone)]
pub struct ControlState {
    /// Counters and streams of the process.
    pub env: RuntimeEnv,
    /// The graph being run, if any, in full and with its secrets masked.
    pub(crate) graph: Arc<RwLock<Option<Arc<ShownGraph>>>>,
    /// When the process started.
    pub started: Instant,
    /// The names, origins and token requests are checked against.
    pub access: Arc<Access>,
    /// Applies new graphs; set once the graph runs.
    pub reloader: Arc<OnceLock<Reloader>>,
}

impl ControlState {
    /// State over `env`, with no graph yet; `access` says who may come in.
    pub fn new(env: RuntimeEnv, access: Access) -> ControlState {
        ControlState {
            env,
            graph: Arc::new(RwLock::new(None)),
            started: Instant::now(),
            access: Arc::new(access),
            reloader: Arc::new(OnceLock::new()),
        }
    }

    /// Records the graph being run.
    pub fn set_graph(&self, graph: Option<&ValidatedGraph>) {
        let shown = graph.map(|graph| Arc::new(ShownGraph::of(graph)));
        *self.graph.write().expect("graph lock is never held across a panic") = shown;
    }

    /// The graph being run, as shown.
    pub(crate) fn shown_graph(&self) -> Option<Arc<ShownGraph>> {
        self.graph
            .read()
            .expect("graph lock is never held across a panic")
            .clone()
    }
}
