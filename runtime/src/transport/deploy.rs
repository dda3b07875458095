//! `ooblex deploy`: a new version of the graph, sent to every host over
//! zenoh; each applies its part through the same load, validate, diff and
//! apply path as an edit of the file, and answers what it did.
//!
//! A deployment carries its version (the sender's clock, in ms) and an
//! HMAC-SHA256 of version and text keyed with the graph's token: the token
//! itself never travels, a host without a token takes no deployment, and a
//! replayed or older version is refused. Each host keeps the newest version it
//! applied and hands it to a host that starts later, so a host that was down
//! catches up when it comes back.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::task::JoinHandle;
use zenoh::Wait;

use crate::control::access::same_secret;
use crate::reload::{ReloadError, Reloader};
use crate::transport::presence::unix_ms;
use crate::transport::query::ask_all;
use crate::transport::session::{Transport, TransportError};

/// How long `ooblex deploy` waits for the hosts' answers (models may load).
pub const DEPLOY_TIMEOUT: Duration = Duration::from_secs(20);

/// The key `host` takes deployments of `graph` on; `*` for every host.
pub fn deploy_key(graph: &str, host: &str) -> String {
    format!("ooblex/{graph}/.deploy/{host}")
}

/// The key `host` hands the newest deployment it applied on.
fn deployed_key(graph: &str, host: &str) -> String {
    format!("ooblex/{graph}/.deployed/{host}")
}

/// One version of a graph, signed with its token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    /// Milliseconds since the Unix epoch when it was sent; newer wins.
    pub version: u64,
    /// The graph file's text.
    pub graph: String,
    /// HMAC-SHA256 of the version (8 bytes, little-endian) and the text,
    /// keyed with the token, in hex.
    pub mac: String,
}

impl Deployment {
    /// `graph` as version `version`, signed with `token`.
    pub fn sign(version: u64, graph: String, token: &str) -> Deployment {
        let mac = hex(&hmac(token.as_bytes(), version, &graph));
        Deployment { version, graph, mac }
    }

    /// Whether it was signed with `token`.
    pub fn signed_with(&self, token: &str) -> bool {
        let expected = hex(&hmac(token.as_bytes(), self.version, &self.graph));
        same_secret(self.mac.as_bytes(), expected.as_bytes())
    }
}

/// HMAC-SHA256 (RFC 2104) of the version and text.
fn hmac(key: &[u8], version: u64, text: &str) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|b| b ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(version.to_le_bytes())
        .chain_update(text.as_bytes())
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What one host did with a deployment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeployAnswer {
    /// The host.
    pub host: String,
    /// `applied`, `rejected` (the graph is invalid here) or `refused`
    /// (no token, a wrong one, or an older version).
    pub outcome: String,
    /// For `applied`: what changed here and how long it took.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied: Option<serde_json::Value>,
    /// For `rejected` and `refused`: every reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<serde_json::Value>,
}

/// Takes deployments for `host` until dropped.
pub struct DeployService {
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for DeployService {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// The newest deployment applied here; held while one is checked, applied
/// and recorded, so that two at once cannot leave an older one recorded.
type Newest = Arc<tokio::sync::Mutex<Option<Deployment>>>;

/// How long a signed request for the newest deployment stays good.
const ASK_FRESH_MS: u64 = 60_000;

/// Takes deployments of `graph` for `host`, applying them with `reloader`;
/// first catches up with the newest version the hosts up have applied.
pub async fn serve_deployments(
    transport: &Transport,
    graph: &str,
    host: &str,
    token: Option<String>,
    reloader: Reloader,
) -> Result<DeployService, TransportError> {
    let session = transport.session().await?;
    let newest: Newest = Arc::default();
    let declare = |key: String| {
        let declared = session.declare_queryable(key.clone()).wait();
        declared.map_err(|err| TransportError::Declare {
            key,
            reason: err.to_string(),
        })
    };
    let deploys = declare(deploy_key(graph, host))?;
    let handing = declare(deployed_key(graph, host))?;
    let catch_up = tokio::spawn({
        let (session, key, token, reloader, newest, host) = (
            session.clone(),
            deployed_key(graph, "*"),
            token.clone(),
            reloader.clone(),
            newest.clone(),
            host.to_string(),
        );
        async move {
            let Some(token) = token else { return };
            // Links to the other hosts take a moment to come up: ask a few
            // times, until one hands a deployment signed with our token.
            for wait in [1, 2, 4, 8] {
                tokio::time::sleep(Duration::from_secs(wait)).await;
                let ask = Deployment::sign(unix_ms(), String::new(), &token);
                let Some(latest) = newest_deployed(&session, &key, &ask)
                    .await
                    .into_iter()
                    .find(|d| d.signed_with(&token))
                else {
                    continue;
                };
                tracing::info!("host `{host}` catches up with deployment {}", latest.version);
                let answer = apply(&host, &reloader, &newest, Some(&token), latest).await;
                if answer.outcome != "applied" {
                    tracing::warn!(
                        "the newest deployment does not apply here ({}: {} problems)",
                        answer.outcome,
                        answer.errors.len()
                    );
                }
                return;
            }
        }
    });
    let take = tokio::spawn({
        let (host, newest, graph, token) = (host.to_string(), newest.clone(), graph.to_string(), token.clone());
        let answer_key = deploy_key(&graph, &host);
        async move {
            while let Ok(query) = deploys.recv_async().await {
                let offered = query
                    .payload()
                    .and_then(|p| serde_json::from_slice::<Deployment>(&p.to_bytes()).ok());
                let answer = match offered {
                    None => refused(&host, "the deployment is not one `ooblex deploy` sends".into()),
                    Some(deployment) => apply(&host, &reloader, &newest, token.as_deref(), deployment).await,
                };
                tracing::info!(graph = %graph, "deployment {}: {}", answer.outcome, host);
                let body = serde_json::to_vec(&answer).expect("an answer serializes");
                if let Err(err) = query.reply(answer_key.clone(), body).wait() {
                    tracing::debug!("answering a deployment: {err}");
                }
            }
        }
    });
    // The newest deployment goes only to a host that proves it holds the token.
    let hand = tokio::spawn({
        let (newest, key) = (newest.clone(), deployed_key(graph, host));
        async move {
            let Some(token) = token else { return };
            while let Ok(query) = handing.recv_async().await {
                let ask = query
                    .payload()
                    .and_then(|p| serde_json::from_slice::<Deployment>(&p.to_bytes()).ok());
                let proven = ask.is_some_and(|ask| {
                    ask.graph.is_empty() && ask.signed_with(&token) && unix_ms().abs_diff(ask.version) < ASK_FRESH_MS
                });
                let held = newest.lock().await.clone();
                if let (true, Some(deployment)) = (proven, held) {
                    let body = serde_json::to_vec(&deployment).expect("a deployment serializes");
                    if let Err(err) = query.reply(key.clone(), body).wait() {
                        tracing::debug!("handing the newest deployment: {err}");
                    }
                }
            }
        }
    });
    Ok(DeployService {
        tasks: vec![catch_up, take, hand],
    })
}

fn refused(host: &str, why: String) -> DeployAnswer {
    DeployAnswer {
        host: host.to_string(),
        outcome: "refused".into(),
        applied: None,
        errors: vec![serde_json::json!({ "message": why })],
    }
}

/// Checks a deployment's signature and version and applies it.
async fn apply(
    host: &str,
    reloader: &Reloader,
    newest: &Newest,
    token: Option<&str>,
    deployment: Deployment,
) -> DeployAnswer {
    let Some(token) = token else {
        return refused(
            host,
            "this host has no token: start it with `--token` (or OOBLEX_TOKEN) to take deployments".into(),
        );
    };
    if !deployment.signed_with(token) {
        return refused(host, "the deployment is not signed with this host's token".into());
    }
    let mut held = newest.lock().await;
    if let Some(current) = held.as_ref().map(|d| d.version).filter(|&v| v >= deployment.version) {
        return refused(
            host,
            format!(
                "version {} is not newer than version {current}, which runs here",
                deployment.version
            ),
        );
    }
    let origin = format!("<deployment {}>", deployment.version);
    match reloader.apply(&origin, deployment.graph.clone()).await {
        Ok(reloaded) => {
            *held = Some(deployment);
            DeployAnswer {
                host: host.to_string(),
                outcome: "applied".into(),
                applied: Some(serde_json::to_value(&reloaded).expect("a reload serializes")),
                errors: Vec::new(),
            }
        }
        Err(ReloadError::Invalid(errors)) => DeployAnswer {
            host: host.to_string(),
            outcome: "rejected".into(),
            applied: None,
            errors: errors
                .diagnostics
                .iter()
                .map(|d| serde_json::to_value(d.to_report(&errors.origin)).expect("a report serializes"))
                .collect(),
        },
        Err(err) => DeployAnswer {
            host: host.to_string(),
            outcome: "rejected".into(),
            applied: None,
            errors: vec![serde_json::json!({ "message": err.to_string() })],
        },
    }
}

/// The deployments the hosts up hand out to `ask` (a signed request), newest first.
async fn newest_deployed(session: &zenoh::Session, key: &str, ask: &Deployment) -> Vec<Deployment> {
    let payload = serde_json::to_vec(ask).expect("a request serializes");
    let mut found: Vec<Deployment> = ask_all(session, key, Some(payload), crate::transport::presence::STATUS_TIMEOUT)
        .await
        .into_iter()
        .filter_map(|bytes| serde_json::from_slice(&bytes).ok())
        .collect();
    found.sort_by_key(|d: &Deployment| std::cmp::Reverse(d.version));
    found
}

/// Sends `deployment` to every host of `graph` that is up and returns their answers.
pub async fn deploy(session: &zenoh::Session, graph: &str, deployment: &Deployment) -> Vec<DeployAnswer> {
    let payload = serde_json::to_vec(deployment).expect("a deployment serializes");
    ask_all(session, &deploy_key(graph, "*"), Some(payload), DEPLOY_TIMEOUT)
        .await
        .into_iter()
        .filter_map(|bytes| serde_json::from_slice(&bytes).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_sha256_matches_rfc_4231() {
        // Test case 2 of RFC 4231, with the message split as version + text.
        let message = "what do ya want for nothing?";
        let (version, text) = message.split_at(8);
        let version = u64::from_le_bytes(version.as_bytes().try_into().expect("eight bytes"));
        assert_eq!(
            hex(&hmac(b"Jefe", version, text)),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn a_deployment_is_bound_to_its_token_version_and_text() {
        let signed = Deployment::sign(7, "version: 1".into(), "secret");
        assert!(signed.signed_with("secret"));
        assert!(!signed.signed_with("Secret"));
        assert!(
            !Deployment {
                version: 8,
                ..signed.clone()
            }
            .signed_with("secret")
        );
        assert!(
            !Deployment {
                graph: "version: 2".into(),
                ..signed
            }
            .signed_with("secret")
        );
    }
}
