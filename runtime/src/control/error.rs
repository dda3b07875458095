//! Typed HTTP errors: a status and a message fit for the client.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error answered to an HTTP client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No stream of that name.
    #[error("no stream named `{name}`; streams: {available}")]
    NoSuchStream {
        /// The name asked for.
        name: String,
        /// Names that exist, comma-separated.
        available: String,
    },
    /// The stream exists but has no picture yet.
    #[error("stream `{0}` has no picture yet; try again in a moment")]
    NoPictureYet(String),
    /// A request that changes state came without the right bearer token.
    #[error(
        "this request needs `Authorization: Bearer <token>`; hint: send the token given to `ooblex run --token` (or OOBLEX_TOKEN)"
    )]
    Unauthorized,
    /// The request names a host this server does not answer to: a page
    /// reaching it through DNS rebinding, or a name the user did not allow.
    #[error(
        "this server does not answer to host `{host}` (it answers to {allowed}); hint: if that name is yours, start ooblex with `--allow-host {name}`"
    )]
    ForeignHost {
        /// The `Host` header as sent.
        host: String,
        /// The name without its port, for the hint.
        name: String,
        /// The names it answers to.
        allowed: String,
    },
    /// A web page of another origin tried to change state or open the events.
    #[error(
        "a page at `{origin}` may not change this server's state or read its events; hint: to let that page in, start ooblex with `--allow-origin {origin}`"
    )]
    ForeignOrigin {
        /// The `Origin` header as sent.
        origin: String,
    },
    /// A graph came in a body type a browser may send from any page without asking.
    #[error(
        "a graph is sent as `application/yaml`, `application/x-yaml` or `application/json`, not {given}; hint: `curl -H 'Content-Type: application/yaml' --data-binary @graph.yaml URL`"
    )]
    UnsupportedGraphType {
        /// The content type given, quoted, or `no content type`.
        given: String,
    },
    /// The new graph is invalid; the running graph is unchanged.
    #[error("the new graph is invalid; the running graph is unchanged")]
    InvalidGraph(Vec<crate::graph::error::DiagnosticReport>),
    /// The graph validates, but this host cannot run its part of it.
    #[error("{0}")]
    Unplaceable(String),
    /// No graph is running to apply a new one to.
    #[error("no graph is running")]
    NotRunning,
    /// Nothing at this path.
    #[error("not found: {0}")]
    NotFound(String),
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::NoSuchStream { .. } | ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::NoPictureYet(_) | ApiError::NotRunning => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::ForeignHost { .. } => StatusCode::MISDIRECTED_REQUEST,
            ApiError::ForeignOrigin { .. } => StatusCode::FORBIDDEN,
            ApiError::UnsupportedGraphType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::InvalidGraph(_) | ApiError::Unplaceable(_) => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = match &self {
            ApiError::InvalidGraph(errors) => json!({ "error": self.to_string(), "errors": errors }),
            _ => json!({ "error": self.to_string() }),
        };
        (self.status(), Json(body)).into_response()
    }
}
