//! Asking every host at once: a zenoh query whose replies are all kept.

use std::time::Duration;

use zenoh::Wait;
use zenoh::query::{ConsolidationMode, QueryTarget};

/// The payloads of every reply to a query on `key`.
pub(crate) async fn ask_all(
    session: &zenoh::Session,
    key: &str,
    payload: Option<Vec<u8>>,
    timeout: Duration,
) -> Vec<Vec<u8>> {
    let mut get = session
        .get(key)
        .target(QueryTarget::All)
        .consolidation(ConsolidationMode::None)
        .timeout(timeout);
    if let Some(payload) = payload {
        get = get.payload(payload);
    }
    let replies = match get.wait() {
        Ok(replies) => replies,
        Err(err) => {
            tracing::debug!("querying `{key}`: {err}");
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    while let Ok(reply) = replies.recv_async().await {
        if let Ok(sample) = reply.result() {
            out.push(sample.payload().to_bytes().into_owned());
        }
    }
    out
}
