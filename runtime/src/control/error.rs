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
    /// Nothing at this path.
    #[error("not found: {0}")]
    NotFound(String),
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::NoSuchStream { .. } | ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::NoPictureYet(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status(), Json(json!({ "error": self.to_string() }))).into_response()
    }
}
