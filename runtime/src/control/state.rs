//! What the HTTP handlers read: counters, streams, the running graph and who
//! may come in.

use std::sync::{Arc, OnceLock, RwLock};
use std::time::Instant;

use crate::control::access::Access;
use crate::control::redact::{ShownGraph, scrub_text, sort_secrets};
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
    /// The secrets of every graph given to this process, longest first: what
    /// messages are scrubbed of, whichever graph was running when they were raised.
    secrets: Arc<RwLock<Vec<String>>>,
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
            secrets: Arc::default(),
            started: Instant::now(),
            access: Arc::new(access),
            reloader: Arc::new(OnceLock::new()),
        }
    }

    /// Records the graph being run (and remembers its secrets).
    pub fn set_graph(&self, graph: Option<&ValidatedGraph>) {
        let shown = graph.map(|graph| Arc::new(ShownGraph::of(graph)));
        if let Some(shown) = &shown {
            self.remember_secrets(shown.secrets().iter().cloned());
        }
        *self.graph.write().expect("graph lock is never held across a panic") = shown;
    }

    /// Remembers `secrets`, to scrub them from every message sent from now on.
    /// A graph's are remembered before it runs, even when it turns out invalid.
    pub fn remember_secrets(&self, secrets: impl IntoIterator<Item = String>) {
        let mut known = self.secrets.write().expect("secrets lock is never held across a panic");
        let before = known.len();
        known.extend(secrets);
        if known.len() != before {
            sort_secrets(&mut known);
        }
    }

    /// Every secret remembered, longest first.
    pub(crate) fn secrets(&self) -> Vec<String> {
        self.secrets
            .read()
            .expect("secrets lock is never held across a panic")
            .clone()
    }

    /// `text` scrubbed of URL credentials and of every secret remembered.
    pub(crate) fn scrub(&self, text: &str) -> String {
        scrub_text(
            text,
            &self.secrets.read().expect("secrets lock is never held across a panic"),
        )
    }

    /// The graph being run, as shown.
    pub(crate) fn shown_graph(&self) -> Option<Arc<ShownGraph>> {
        self.graph
            .read()
            .expect("graph lock is never held across a panic")
            .clone()
    }
}
