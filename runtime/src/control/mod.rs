//! The HTTP control plane: health, metrics, the graph API, MJPEG streams and a
//! page, behind a guard that checks `Host`, `Origin` and the token.

pub(crate) mod access;
pub(crate) mod error;
pub(crate) mod guard;
pub(crate) mod mjpeg;
pub(crate) mod page;
pub(crate) mod redact;
pub(crate) mod router;
pub(crate) mod serve;
pub(crate) mod state;
