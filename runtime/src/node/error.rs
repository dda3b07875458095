//! What can go wrong inside a node.

/// A node's failure, split by phase: it could not start, one frame was bad, or
/// it cannot go on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NodeError {
    /// Opening a resource failed (a missing file, a port in use). The node is
    /// restarted under its restart policy.
    #[error("cannot start: {0}")]
    Startup(String),
    /// One frame could not be processed; it is skipped and counted, and the node goes on.
    #[error("bad frame: {0}")]
    Frame(String),
    /// The node cannot go on; it is restarted under its restart policy.
    #[error("{0}")]
    Failed(String),
    /// The node panicked (a bug); it is restarted under its restart policy.
    #[error("panicked: {0}")]
    Panicked(String),
}

impl NodeError {
    /// A startup error from anything printable.
    pub fn startup(message: impl std::fmt::Display) -> NodeError {
        NodeError::Startup(message.to_string())
    }

    /// A bad-frame error from anything printable.
    pub fn frame(message: impl std::fmt::Display) -> NodeError {
        NodeError::Frame(message.to_string())
    }

    /// A fatal error from anything printable.
    pub fn failed(message: impl std::fmt::Display) -> NodeError {
        NodeError::Failed(message.to_string())
    }

    /// The message of a panic payload.
    pub fn from_panic(payload: &(dyn std::any::Any + Send)) -> NodeError {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic payload".to_string());
        NodeError::Panicked(message)
    }
}
