//! Sinks: node kinds that consume frames (files, published streams).

pub(crate) mod hls_sink;
pub(crate) mod json_sink;
pub(crate) mod mjpeg_sink;
pub(crate) mod mp4_sink;
pub(crate) mod null_sink;
pub(crate) mod y4m_sink;

use std::sync::atomic::Ordering;

use ooblex_runtime::{NodeContext, ParamIssue, StreamId};

use crate::media::fmp4::Segmenter;

/// Adds the audio frames `segmenter` wrote and left out to the node's counters.
pub(crate) fn count_audio(segmenter: &mut Segmenter, ctx: &NodeContext) {
    let counts = segmenter.take_audio_counts();
    ctx.metrics.audio_frames.fetch_add(counts.muxed, Ordering::Relaxed);
    ctx.metrics.audio_left_out.fetch_add(counts.left_out, Ordering::Relaxed);
}

/// The name a sink publishes `stream` under: `base` for the default stream,
/// `<base>/<stream>` for a named one (an RTMP stream key).
pub(crate) fn published_name(base: &str, stream: &StreamId) -> String {
    if stream.is_default() {
        base.to_string()
    } else {
        format!("{base}/{stream}")
    }
}

/// The issue with a sink's `name` param when it cannot go in a URL path as it is.
pub(crate) fn check_stream_name(name: Option<&str>) -> Option<ParamIssue> {
    let name = name?;
    let valid = !name.is_empty()
        && !name.starts_with('/')
        && !name.ends_with('/')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
    (!valid).then(|| {
        ParamIssue::new("name", format!("`{name}` is not a valid stream name"))
            .with_hint("use letters, digits, `-`, `_`, `.` and `/`, not starting or ending with `/`")
    })
}
