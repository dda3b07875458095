//! What the HTTP handlers read: counters, streams and the running graph.

use std::sync::{Arc, RwLock};
use std::time::Instant;

use crate::exec::executor::RuntimeEnv;
use crate::graph::spec::GraphSpec;

/// Shared state of the control plane.
#[derive(Clone)]
pub struct ControlState {
    /// Counters and streams of the process.
    pub env: RuntimeEnv,
    /// The graph being run, if any.
    pub graph: Arc<RwLock<Option<GraphSpec>>>,
    /// When the process started.
    pub started: Instant,
}

impl ControlState {
    /// State over `env`, with no graph yet.
    pub fn new(env: RuntimeEnv) -> ControlState {
        ControlState {
            env,
            graph: Arc::new(RwLock::new(None)),
            started: Instant::now(),
        }
    }

    /// Records the graph being run.
    pub fn set_graph(&self, spec: Option<GraphSpec>) {
        *self.graph.write().expect("graph lock is never held across a panic") = spec;
    }
}
