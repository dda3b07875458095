//! MJPEG over HTTP (`multipart/x-mixed-replace`, as browsers, VLC and ffmpeg
//! read it) and single-picture snapshots.

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use futures::stream;
use tokio::sync::watch;

use crate::control::error::ApiError;
use crate::control::state::ControlState;
use crate::streams::Picture;

/// The multipart boundary.
pub const BOUNDARY: &str = "ooblexframe";

type Viewer = watch::Receiver<Option<Arc<Picture>>>;

fn viewer(state: &ControlState, name: &str) -> Result<Viewer, ApiError> {
    state.env.streams.subscribe(name).ok_or_else(|| ApiError::NoSuchStream {
        name: name.to_string(),
        available: state.env.streams.names().join(", "),
    })
}

/// The live stream `name`: every new picture as one part, skipping pictures a
/// slow client could not take in time. The pipeline never waits for a viewer.
pub fn stream_response(state: &ControlState, name: &str) -> Result<Response, ApiError> {
    let mut rx = viewer(state, name)?;
    rx.mark_changed();
    let parts = stream::unfold(rx, |mut rx| async move {
        loop {
            rx.changed().await.ok()?;
            let picture = rx.borrow_and_update().clone();
            if let Some(picture) = picture {
                return Some((picture, rx));
            }
        }
    })
    .flat_map(|picture| {
        let head = format!(
            "--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\nX-Frame-Seq: {}\r\n\r\n",
            picture.data.len(),
            picture.seq
        );
        let body = Bytes::from_owner(picture.data.clone());
        stream::iter([
            Ok::<_, Infallible>(Bytes::from(head)),
            Ok(body),
            Ok(Bytes::from_static(b"\r\n")),
        ])
    });
    Ok((
        [
            (
                header::CONTENT_TYPE,
                format!("multipart/x-mixed-replace; boundary={BOUNDARY}"),
            ),
            (header::CACHE_CONTROL, "no-cache, no-store".to_string()),
        ],
        Body::from_stream(parts),
    )
        .into_response())
}

/// The latest picture of stream `name`.
pub fn snapshot_response(state: &ControlState, name: &str) -> Result<Response, ApiError> {
    let rx = viewer(state, name)?;
    let picture = rx
        .borrow()
        .clone()
        .ok_or_else(|| ApiError::NoPictureYet(name.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/jpeg".to_string()),
            (header::CACHE_CONTROL, "no-cache, no-store".to_string()),
        ],
        Bytes::from_owner(picture.data.clone()),
    )
        .into_response())
}
