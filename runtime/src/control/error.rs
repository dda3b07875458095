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
    #[error("this request needs `Authorization: Bearer <token>` with the token given to `ooblex run --token`")]
    Unauthorized,
    /// The new graph is invalid; the running graph is unchanged.
    #[error("the new graph is invalid; the running graph is unchanged")]
    InvalidGraph(Vec<crate::graph::error::DiagnosticReport>),
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
            ApiError::InvalidGraph(_) => StatusCode::UNPROCESSABLE_ENTITY,
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
