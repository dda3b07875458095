//! What the HTTP handlers read: counters, streams and the running graph.

use std::sync::{Arc, OnceLock, RwLock};
use std::time::Instant;

use crate::exec::executor::RuntimeEnv;
use crate::graph::spec::GraphSpec;
use crate::reload::Reloader;

/// Shared state of the control plane.
#[derive(Clone)]
pub struct ControlState {
    /// Counters and streams of the process.
    pub env: RuntimeEnv,
    /// The graph being run, if any.
    pub graph: Arc<RwLock<Option<GraphSpec>>>,
    /// When the process started.
    pub started: Instant,
    /// Bearer token required by requests that change state, when set.
    pub token: Option<String>,
    /// Applies new graphs; set once the graph runs.
    pub reloader: Arc<OnceLock<Reloader>>,
}

impl ControlState {
    /// State over `env`, with no graph yet; `token` guards state changes.
    pub fn new(env: RuntimeEnv, token: Option<String>) -> ControlState {
        ControlState {
            env,
            graph: Arc::new(RwLock::new(None)),
            started: Instant::now(),
            token: token.filter(|t| !t.is_empty()),
            reloader: Arc::new(OnceLock::new()),
        }
    }

    /// Records the graph being run.
    pub fn set_graph(&self, spec: Option<GraphSpec>) {
        *self.graph.write().expect("graph lock is never held across a panic") = spec;
    }
}
