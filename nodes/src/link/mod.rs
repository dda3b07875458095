//! Node kinds that carry frames between processes over zenoh, in the wire
//! format of docs/WIRE.md: they are the two ends of every edge between
//! hosts ([`links`]), and graphs use them to talk to any zenoh client.

pub(crate) mod zenoh_sink;
pub(crate) mod zenoh_source;

use ooblex_runtime::{LinkCodec, LinkEnd, LinkKinds, PixelFormat};

use zenoh_sink::ZenohSink;
use zenoh_source::ZenohSource;

/// The kinds and params the graph puts on edges between hosts: a
/// `zenoh_sink` below the producer, a `zenoh_source` in its place on each
/// consuming host.
pub const fn links() -> LinkKinds {
    LinkKinds {
        receive: <ZenohSource as ooblex_runtime::NodeKind>::NAME,
        send: <ZenohSink as ooblex_runtime::NodeKind>::NAME,
        receive_params: |end: &LinkEnd<'_>| {
            let formats: Vec<&str> = end.formats.iter().map(PixelFormat::name).collect();
            let mut params = serde_json::json!({
                "key": end.key,
                "policy": if end.block { "block" } else { "latest" },
            });
            if !formats.is_empty() {
                params["formats"] = serde_json::json!(formats);
            }
            match end.codec {
                LinkCodec::Raw => {}
                LinkCodec::Jpeg => params["decode_jpeg"] = serde_json::json!(true),
                LinkCodec::H264 => params["decode_h264"] = serde_json::json!(true),
            }
            params
        },
        // H.264 frames need the frames before them: zenoh must not drop any,
        // so a congested link holds the sender back, whose input queue then
        // drops raw pictures (counted) before they are encoded.
        send_params: |end: &LinkEnd<'_>| {
            let block = end.block || end.codec == LinkCodec::H264;
            let mut params = serde_json::json!({
                "key": end.key,
                "congestion": if block { "block" } else { "drop" },
            });
            match end.codec {
                LinkCodec::Raw => {}
                LinkCodec::Jpeg => {
                    params["encode"] = serde_json::json!("jpeg");
                    params["quality"] = serde_json::json!(end.quality);
                }
                LinkCodec::H264 => {
                    params["encode"] = serde_json::json!("h264");
                    params["bitrate"] = serde_json::json!(end.bitrate);
                }
            }
            params
        },
    }
}
