//! The HTTP control plane: health, metrics, the graph API, MJPEG streams and a page.

pub(crate) mod error;
pub(crate) mod mjpeg;
pub(crate) mod page;
pub(crate) mod router;
pub(crate) mod serve;
pub(crate) mod state;
