//! The routes of the control plane.

use std::collections::BTreeMap;

use axum::body::{Body, Bytes};
use axum::extract::ws::{Message, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router, middleware};
use serde_json::json;
use tokio::sync::broadcast;

use crate::control::error::ApiError;
use crate::control::guard::{Authorized, guard};
use crate::control::mjpeg::{snapshot_response, stream_response};
use crate::control::page::INDEX_HTML;
use crate::control::redact::scrub_event;
use crate::control::state::ControlState;
use crate::hls::content_type;
use crate::metrics::NodeState;
use crate::reload::{ReloadError, Reloaded};

/// The HTTP app: `/`, `/health`, `/metrics`, `/api/graph`, `/api/streams`,
/// `/streams/<name>.mjpg|.jpg` and `/hls/<name>/<file>`, every route behind
/// the guard (`Host`, `Origin`, token). Tests drive it without a socket.
pub fn router(state: ControlState) -> Router {
    Router::new()
        .route("/", get(|| async { Html(INDEX_HTML) }))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/api/graph", get(graph).post(post_graph))
        .route("/api/streams", get(streams))
        .route("/api/events", get(events))
        .route("/streams/{*file}", get(stream_file))
        .route("/hls/{*path}", get(hls_file))
        .fallback(|uri: axum::http::Uri| async move { ApiError::NotFound(uri.path().to_string()) })
        .layer(middleware::from_fn_with_state(state.clone(), guard))
        .with_state(state)
}

/// `ready` once the graph runs and no node is starting or waiting to restart:
/// from then on every source takes input (an `rtmp_source` has its port).
async fn health(State(state): State<ControlState>) -> Json<serde_json::Value> {
    let mut nodes = BTreeMap::<NodeState, usize>::new();
    for snapshot in state.env.metrics.snapshots() {
        *nodes.entry(snapshot.state).or_default() += 1;
    }
    let settling = nodes.contains_key(&NodeState::Starting) || nodes.contains_key(&NodeState::Restarting);
    Json(json!({
        "status": "ok",
        "ready": state.reloader.get().is_some() && !settling,
        "nodes": nodes,
        "uptime_s": state.started.elapsed().as_secs_f64(),
        "version": env!("CARGO_PKG_VERSION"),
    }))
}

async fn metrics(State(state): State<ControlState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.env.metrics.render_prometheus(),
    )
        .into_response()
}

/// The running graph and each node's state; secrets are shown only to a
/// request that carries the token.
async fn graph(
    State(state): State<ControlState>,
    Extension(Authorized(clear)): Extension<Authorized>,
) -> Json<serde_json::Value> {
    let shown = state.shown_graph();
    let mut nodes = state.env.metrics.snapshots();
    if !clear {
        for node in &mut nodes {
            node.last_error = node.last_error.as_deref().map(|error| state.scrub(error));
        }
    }
    // Each link to another host, with the state of the node that carries it.
    let links: Vec<serde_json::Value> = shown
        .iter()
        .flat_map(|s| s.links())
        .map(|link| {
            let carrier = nodes.iter().find(|n| n.node == link.node);
            let mut shown = json!(link);
            shown["state"] = json!(carrier.map(|n| n.state));
            shown["frames"] = json!(carrier.map(|n| n.frames_out));
            shown["rejected"] = json!(carrier.map(|n| n.messages_rejected));
            shown
        })
        .collect();
    Json(json!({
        "name": shown.as_ref().map(|s| s.name()),
        "host": shown.as_ref().and_then(|s| s.host()),
        "spec": shown.as_ref().map(|s| s.spec(clear)),
        "nodes": nodes,
        "links": links,
    }))
}

/// A WebSocket of events, one JSON object per message; messages are scrubbed
/// of secrets unless the upgrade carried the token.
async fn events(
    State(state): State<ControlState>,
    Extension(Authorized(clear)): Extension<Authorized>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let mut events = state.env.events.subscribe();
    upgrade.on_upgrade(move |mut socket| async move {
        loop {
            let event = match events.recv().await {
                Ok(event) => event,
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::debug!("an events client fell {missed} events behind");
                    continue;
                }
                Err(broadcast::error::RecvError::Closed) => break,
            };
            let event = if clear {
                event
            } else {
                scrub_event(&event, &state.secrets())
            };
            let text = serde_json::to_string(&event).expect("events always serialize");
            if socket.send(Message::Text(text.into())).await.is_err() {
                break;
            }
        }
    })
}

/// Graph bodies a browser cannot send from a page without a preflight. A JSON
/// document is a YAML document, so all go through the same loader.
const GRAPH_TYPES: &[&str] = &["application/yaml", "application/x-yaml", "application/json"];

/// Applies a new graph (YAML or JSON in the body) through the same path as a
/// file edit. The guard has checked the origin and the token.
async fn post_graph(
    State(state): State<ControlState>,
    headers: HeaderMap,
    body: String,
) -> Result<Json<Reloaded>, ApiError> {
    check_graph_type(&headers)?;
    let reloader = state.reloader.get().ok_or(ApiError::NotRunning)?;
    match reloader.apply("<POST /api/graph>", body).await {
        Ok(reloaded) => Ok(Json(reloaded)),
        Err(ReloadError::Invalid(errors)) => Err(ApiError::InvalidGraph(
            errors.diagnostics.iter().map(|d| d.to_report(&errors.origin)).collect(),
        )),
        Err(ReloadError::Unplaceable(why)) => Err(ApiError::Unplaceable(why.to_string())),
        Err(ReloadError::Stopped) => Err(ApiError::NotRunning),
    }
}

/// Refuses a body that is not typed as a graph: `text/plain` (and the form
/// types) are what any page may send to any server without asking.
fn check_graph_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let given = headers
        .get(header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let essence = given
        .as_deref()
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    if essence.is_some_and(|essence| GRAPH_TYPES.contains(&essence.as_str())) {
        return Ok(());
    }
    Err(ApiError::UnsupportedGraphType {
        given: given.map_or_else(|| "no content type".to_string(), |given| format!("`{given}`")),
    })
}

async fn streams(State(state): State<ControlState>) -> Json<serde_json::Value> {
    let streams: Vec<_> = state
        .env
        .streams
        .names()
        .into_iter()
        .map(|name| {
            json!({
                "name": name,
                "mjpeg": format!("/streams/{name}.mjpg"),
                "snapshot": format!("/streams/{name}.jpg"),
            })
        })
        .collect();
    Json(json!({ "streams": streams }))
}

async fn stream_file(State(state): State<ControlState>, Path(file): Path<String>) -> Result<Response, ApiError> {
    if let Some(name) = file.strip_suffix(".mjpg") {
        stream_response(&state, name)
    } else if let Some(name) = file.strip_suffix(".jpg") {
        snapshot_response(&state, name)
    } else {
        Err(ApiError::NotFound(format!(
            "/streams/{file} (use /streams/<name>.mjpg for the live stream or /streams/<name>.jpg for a snapshot)"
        )))
    }
}

/// A playlist or segment of an HLS stream: `/hls/<name>/<file>`, where the
/// name may itself hold slashes (`cam/<stream>`). Pages of our own origins
/// (and those allowed with `--allow-origin`) may read it through the guard's
/// CORS headers; no other page can read the user's video.
async fn hls_file(State(state): State<ControlState>, Path(path): Path<String>) -> Result<Response, ApiError> {
    let hls = state.env.streams.hls();
    let Some((name, file)) = path.rsplit_once('/') else {
        return Err(ApiError::NotFound(format!("/hls/{path} (use /hls/<name>/index.m3u8)")));
    };
    match hls.file(name, file) {
        Ok(data) => Ok((
            [
                (header::CONTENT_TYPE, content_type(file)),
                (
                    header::CACHE_CONTROL,
                    if file.ends_with(".m3u8") {
                        "no-cache"
                    } else {
                        "max-age=60"
                    },
                ),
            ],
            Body::from(Bytes::from_owner(data)),
        )
            .into_response()),
        Err(true) => Err(ApiError::NotFound(format!(
            "/hls/{path}: stream `{name}` has no `{file}` (a segment that left the playlist's window, or none written yet)"
        ))),
        Err(false) => Err(ApiError::NoSuchStream {
            name: name.to_string(),
            available: hls.names().join(", "),
        }),
    }
}
