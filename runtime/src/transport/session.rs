//! The zenoh session of a process, opened the first time a link needs it.

use std::sync::Arc;

use tokio::sync::OnceCell;
use zenoh::Wait;
use zenoh::qos::{CongestionControl, Priority};

use crate::exec::queue::QueuePolicy;
use crate::metrics::NodeMetrics;
use crate::transport::config::TransportConfig;
use crate::transport::link::{FramePublisher, FrameSubscriber};

/// Why a link could not be set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// The session's configuration is not one zenoh takes, or its password is missing.
    #[error("cannot configure the zenoh session: {0}")]
    Config(String),
    /// Zenoh could not start (an endpoint to listen on is taken, say).
    #[error("cannot open the zenoh session (listening on {listen}): {reason}")]
    Open {
        /// The endpoints it was to listen on.
        listen: String,
        /// What zenoh said.
        reason: String,
    },
    /// A key expression zenoh refuses, or a declaration that failed.
    #[error("cannot declare `{key}` on zenoh: {reason}")]
    Declare {
        /// The key expression.
        key: String,
        /// What zenoh said.
        reason: String,
    },
    /// A frame could not be published.
    #[error("cannot publish on `{key}`: {reason}")]
    Put {
        /// The key expression.
        key: String,
        /// What zenoh said.
        reason: String,
    },
}

/// A process's zenoh session, shared by its links and opened once, the
/// first time one is set up. Cloning gives another handle to it.
#[derive(Clone, Default)]
pub struct Transport {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    config: TransportConfig,
    session: OnceCell<zenoh::Session>,
}

impl Transport {
    /// A transport that opens its session with `config` when first used.
    pub fn new(config: TransportConfig) -> Transport {
        Transport {
            inner: Arc::new(Inner {
                config,
                session: OnceCell::new(),
            }),
        }
    }

    /// The session, opened now if it is not yet. Must run on a multi-thread
    /// tokio runtime (zenoh blocks the calling worker while it opens).
    pub async fn session(&self) -> Result<zenoh::Session, TransportError> {
        self.inner
            .session
            .get_or_try_init(|| async {
                let (config, dictionary) = self.inner.config.zenoh().map_err(TransportError::Config)?;
                let session = zenoh::open(config).await.map_err(|err| TransportError::Open {
                    listen: listing(&self.inner.config.listen),
                    reason: err.to_string(),
                })?;
                // Zenoh read the users and passwords as it opened.
                drop(dictionary);
                tracing::info!(
                    "zenoh session {} open: listening on {}, connecting to {}",
                    session.zid(),
                    listing(&self.inner.config.listen),
                    listing(&self.inner.config.connect)
                );
                Ok(session)
            })
            .await
            .cloned()
    }

    /// A publisher of frames on `key`. With `block`, a slow subscriber holds
    /// the sender back; otherwise frames it cannot take are dropped.
    pub async fn publisher(&self, key: &str, block: bool) -> Result<FramePublisher, TransportError> {
        let session = self.session().await?;
        let congestion = if block {
            CongestionControl::Block
        } else {
            CongestionControl::Drop
        };
        let publisher = session
            .declare_publisher(key.to_string())
            .congestion_control(congestion)
            .priority(Priority::DataHigh)
            .express(true)
            .wait()
            .map_err(|err| declare_error(key, err))?;
        Ok(FramePublisher::new(key, publisher))
    }

    /// A subscriber of frames published on `key` into a queue of `depth`
    /// frames with `policy`; `metrics` counts its frames by where they were
    /// and the messages that are not frames.
    pub async fn subscriber(
        &self,
        key: &str,
        depth: usize,
        policy: QueuePolicy,
        metrics: Arc<NodeMetrics>,
    ) -> Result<FrameSubscriber, TransportError> {
        let session = self.session().await?;
        FrameSubscriber::declare(&session, key, depth, policy, metrics).map_err(|e| declare_error(key, e))
    }

    /// Closes the session, if it was opened: peers see this process leave
    /// at once, and the shared-memory segments nobody maps any more are removed.
    pub async fn close(&self) {
        if let Some(session) = self.inner.session.get() {
            if let Err(err) = session.close().await {
                tracing::debug!("closing the zenoh session: {err}");
            }
            zenoh::shm::cleanup_orphaned_shm_segments();
        }
    }
}

fn declare_error(key: &str, err: zenoh::Error) -> TransportError {
    TransportError::Declare {
        key: key.to_string(),
        reason: err.to_string(),
    }
}

fn listing(endpoints: &[String]) -> String {
    if endpoints.is_empty() {
        "nothing".into()
    } else {
        endpoints.join(", ")
    }
}

/// Checks a key expression as zenoh would, for params checked at validation.
pub fn check_key_expr(key: &str) -> Result<(), String> {
    zenoh::key_expr::KeyExpr::try_from(key.to_string())
        .map(drop)
        .map_err(|err| err.to_string())
}
