//! The routes of the control plane.

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use crate::control::error::ApiError;
use crate::control::mjpeg::{snapshot_response, stream_response};
use crate::control::page::INDEX_HTML;
use crate::control::state::ControlState;

/// The HTTP app: `/`, `/health`, `/metrics`, `/api/graph`, `/api/streams` and
/// `/streams/<name>.mjpg|.jpg`. Tests drive it without a socket.
pub fn router(state: ControlState) -> Router {
    Router::new()
        .route("/", get(|| async { Html(INDEX_HTML) }))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/api/graph", get(graph))
        .route("/api/streams", get(streams))
        .route("/streams/{*file}", get(stream_file))
        .fallback(|uri: axum::http::Uri| async move { ApiError::NotFound(uri.path().to_string()) })
        .with_state(state)
}

async fn health(State(state): State<ControlState>) -> Json<serde_json::Value> {
    Json(json!({
        "status": "ok",
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

async fn graph(State(state): State<ControlState>) -> Json<serde_json::Value> {
    let spec = state
        .graph
        .read()
        .expect("graph lock is never held across a panic")
        .clone();
    Json(json!({
        "name": spec.as_ref().map(|s| s.name.to_string()),
        "spec": spec,
        "nodes": state.env.metrics.snapshots(),
    }))
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
