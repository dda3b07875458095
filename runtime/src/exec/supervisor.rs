//! Keeps one node running: builds it, runs it, and restarts it with
//! exponential backoff under its restart policy when it fails or panics.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::events::{Event, EventBus};
use crate::graph::spec::RestartPolicy;
use crate::metrics::{NodeMetrics, NodeState};
use crate::node::context::NodeContext;
use crate::node::error::NodeError;
use crate::node::kind::NodeFactory;
use crate::node::shutdown::Shutdown;

/// First wait before a restart.
pub const INITIAL_BACKOFF: Duration = Duration::from_millis(100);
/// Longest wait before a restart.
pub const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// A node that ran this long before failing starts again from the initial backoff.
const HEALTHY_RUN: Duration = Duration::from_secs(10);
/// Restarts allowed under `on-failure` when the graph does not say.
pub const DEFAULT_MAX_RESTARTS: u32 = 5;

/// How a node's supervision ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    /// The stream ended.
    Finished,
    /// It was told to stop.
    Stopped,
    /// It failed and its restart policy allows no more restarts.
    Failed(NodeError),
}

/// When to restart, and the backoff between restarts.
#[derive(Debug, Clone, Copy)]
pub struct RestartRule {
    /// The policy.
    pub policy: RestartPolicy,
    /// Restarts allowed under `on-failure`.
    pub max_restarts: u32,
}

impl RestartRule {
    /// Whether a node that already restarted `restarts` times may restart again.
    pub fn allows(&self, restarts: u32) -> bool {
        match self.policy {
            RestartPolicy::Always => true,
            RestartPolicy::OnFailure => restarts < self.max_restarts,
            RestartPolicy::Never => false,
        }
    }
}

/// The backoff after `backoff`, doubled up to [`MAX_BACKOFF`].
pub fn next_backoff(backoff: Duration) -> Duration {
    (backoff * 2).min(MAX_BACKOFF)
}

/// Runs a node until it finishes, is stopped, or fails for good.
/// `make_context` gives a fresh context for every start.
pub async fn supervise(
    id: String,
    factory: Arc<dyn NodeFactory>,
    rule: RestartRule,
    shutdown: Shutdown,
    metrics: Arc<NodeMetrics>,
    events: EventBus,
    make_context: impl Fn() -> NodeContext + Send + 'static,
) -> Exit {
    let set_state = |state: NodeState, error: Option<String>| announce(&id, &metrics, &events, state, error);
    let mut restarts = 0u32;
    let mut backoff = INITIAL_BACKOFF;
    loop {
        set_state(NodeState::Starting, None);
        let started = Instant::now();
        // Building (which may open files or decode pictures) runs on a blocking
        // thread, and a panic in it or in the node is caught like any failure.
        let attempt = tokio::spawn({
            let (id, factory, metrics, events, ctx) = (
                id.clone(),
                factory.clone(),
                metrics.clone(),
                events.clone(),
                make_context(),
            );
            async move {
                let node = match tokio::task::spawn_blocking(move || factory.build()).await {
                    Ok(built) => built?,
                    Err(err) => return Err(joined_error(err)),
                };
                announce(&id, &metrics, &events, NodeState::Running, None);
                node.run(ctx).await
            }
        });
        let result = attempt.await.unwrap_or_else(|err| Err(joined_error(err)));
        let err = match result {
            Ok(()) if shutdown.is_triggered() => {
                set_state(NodeState::Stopped, None);
                return Exit::Stopped;
            }
            Ok(()) => {
                set_state(NodeState::Finished, None);
                tracing::info!(node = %id, "finished");
                return Exit::Finished;
            }
            Err(err) => err,
        };
        if shutdown.is_triggered() {
            set_state(NodeState::Stopped, Some(err.to_string()));
            return Exit::Stopped;
        }
        if !rule.allows(restarts) {
            tracing::error!(node = %id, "{err}; not restarting (restart: {:?}, {restarts} restart(s) so far)", rule.policy);
            set_state(NodeState::Failed, Some(err.to_string()));
            return Exit::Failed(err);
        }
        if started.elapsed() >= HEALTHY_RUN {
            backoff = INITIAL_BACKOFF;
        }
        tracing::warn!(node = %id, "{err}; restarting in {} ms", backoff.as_millis());
        set_state(NodeState::Restarting, Some(err.to_string()));
        restarts += 1;
        metrics.restarts.fetch_add(1, Ordering::Relaxed);
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            () = shutdown.wait() => {
                set_state(NodeState::Stopped, None);
                return Exit::Stopped;
            }
        }
        backoff = next_backoff(backoff);
    }
}

/// Records a node's new state and tells `/api/events`.
fn announce(id: &str, metrics: &NodeMetrics, events: &EventBus, state: NodeState, error: Option<String>) {
    metrics.set_state(state, error.clone());
    events.publish(Event::NodeState {
        node: id.to_string(),
        state,
        error,
    });
}

/// The error of a task that panicked or was cancelled.
fn joined_error(err: tokio::task::JoinError) -> NodeError {
    if err.is_panic() {
        NodeError::from_panic(&*err.into_panic())
    } else {
        NodeError::failed(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_limit() {
        let mut backoff = INITIAL_BACKOFF;
        let mut seen = vec![];
        for _ in 0..10 {
            seen.push(backoff.as_millis());
            backoff = next_backoff(backoff);
        }
        assert_eq!(&seen[..4], &[100, 200, 400, 800]);
        assert_eq!(*seen.last().expect("ten values"), MAX_BACKOFF.as_millis());
    }

    #[test]
    fn policies_bound_restarts() {
        let rule = |policy| RestartRule {
            policy,
            max_restarts: 2,
        };
        assert!(rule(RestartPolicy::Always).allows(1000));
        assert!(rule(RestartPolicy::OnFailure).allows(1));
        assert!(!rule(RestartPolicy::OnFailure).allows(2));
        assert!(!rule(RestartPolicy::Never).allows(0));
    }
}
