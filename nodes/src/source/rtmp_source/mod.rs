//! `rtmp_source`: an RTMP server that OBS, ffmpeg or any encoder publishes to
//! at `rtmp://<listen>/<app>/<key>`. It sends the H.264 video on as it comes,
//! on `video`; decode it with `h264_decode` to process it. AAC audio goes on
//! `audio` as ADTS frames, on the same clock as the video, for a muxer
//! (`hls_sink`, `mp4_sink`, `rtmp_sink`) to put beside the processed video.
//!
//! With `key` set, only that key may publish, on the node's default stream;
//! without, every key is its own stream (keys act as names, so a `key` is
//! required when listening beyond loopback). A publisher that drops and comes
//! back within [`KEEP_ENDED_STREAM`](ooblex_runtime::KEEP_ENDED_STREAM) (five
//! minutes) resumes its stream: numbering and timestamps go on from where they
//! were; after that, its key is forgotten. A new publisher on a key that is live takes over from the old one.
//! When a publisher leaves, the nodes downstream are told its stream ended,
//! so that they send on what they hold for it (an HLS segment, an MP4 fragment).

mod connection;
mod flv;
mod flv_audio;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::FutureExt;
use futures::future::BoxFuture;
use ooblex_runtime::{
    FrameAllocator, InputPortSpec, Node, NodeContext, NodeError, NodeKind, OutputPort, OutputPortSpec, ParamIssue,
    Shutdown, StreamId,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

use crate::codec::h264_encode::H264_OUT;
use crate::media::aac::AUDIO_OUT;

/// Params of `rtmp_source`. Changing them restarts the node (publishers reconnect).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct RtmpSourceParams {
    /// Address to listen on. The default takes publishers on this machine only;
    /// `0.0.0.0:1935` takes them from anywhere (then `key` is required).
    pub listen: String,
    /// The application name, the first path segment of the URL.
    pub app: String,
    /// The stream key publishers must use. Without it every key is accepted
    /// and is its own stream.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("writeOnly" = true))]
    pub key: Option<String>,
}

impl Default for RtmpSourceParams {
    fn default() -> Self {
        RtmpSourceParams {
            listen: "127.0.0.1:1935".to_string(),
            app: "live".to_string(),
            key: None,
        }
    }
}

/// The `rtmp_source` node kind.
pub struct RtmpSource;

impl NodeKind for RtmpSource {
    type Params = RtmpSourceParams;
    const NAME: &'static str = "rtmp_source";
    const DESCRIPTION: &'static str =
        "RTMP server that OBS or ffmpeg publishes H.264 and AAC to at rtmp://<listen>/<app>/<key>";
    const INPUTS: &'static [InputPortSpec] = &[];
    const OUTPUTS: &'static [OutputPortSpec] = &[H264_OUT, AUDIO_OUT];
    const LIVE: bool = true;

    fn check(params: &RtmpSourceParams) -> Vec<ParamIssue> {
        let mut issues = Vec::new();
        match params.listen.parse::<SocketAddr>() {
            Ok(addr) if !addr.ip().is_loopback() && params.key.is_none() => issues.push(
                ParamIssue::new(
                    "key",
                    format!("listening on {addr}, beyond this machine, needs a stream key"),
                )
                .with_hint("set `key` to a secret publishers put at the end of the URL"),
            ),
            Ok(_) => {}
            Err(_) => issues.push(
                ParamIssue::new("listen", format!("`{}` is not an address and port", params.listen))
                    .with_hint("for example `127.0.0.1:1935` or `0.0.0.0:1935`"),
            ),
        }
        if params.app.is_empty() || params.app.contains('/') {
            issues.push(ParamIssue::new("app", "must be one non-empty path segment"));
        }
        if params.key.as_deref().is_some_and(str::is_empty) {
            issues.push(ParamIssue::new("key", "must not be empty"));
        }
        issues
    }

    /// Binds the port here, so that a node reported running takes publishers.
    fn build(params: &RtmpSourceParams) -> Result<Box<dyn Node>, NodeError> {
        let listener = std::net::TcpListener::bind(&params.listen)
            .and_then(|listener| listener.set_nonblocking(true).map(|()| listener))
            .map_err(|err| {
                NodeError::startup(format!(
                    "`rtmp_source` cannot listen on {}: {err}; hint: another program (or node) \
                     may hold the port: pick another `listen`",
                    params.listen
                ))
            })?;
        Ok(Box::new(RtmpSourceNode {
            params: params.clone(),
            listener,
            streams: Arc::default(),
        }))
    }
}

struct RtmpSourceNode {
    params: RtmpSourceParams,
    /// Bound and non-blocking; taken over by tokio when the node runs.
    listener: std::net::TcpListener,
    streams: Streams,
}

/// What a stream keeps across publisher connections, by key.
pub(crate) type Streams = Arc<Mutex<HashMap<String, StreamState>>>;

/// One stream's numbering and clock, which outlive a connection.
#[derive(Debug, Default)]
pub(crate) struct StreamState {
    /// The connection allowed to publish; an older one that sees another
    /// number here ends.
    pub publisher: u64,
    /// The next video frame's number.
    pub next_seq: u64,
    /// The next audio frame's number.
    pub next_audio_seq: u64,
    /// The last frame's presentation time.
    pub last_pts: Option<Duration>,
    /// When its publisher left; `None` while one publishes.
    pub left: Option<Instant>,
}

/// What each connection needs from the node.
pub(crate) struct Server {
    pub params: RtmpSourceParams,
    pub streams: Streams,
    pub out: OutputPort,
    /// Where AAC frames go.
    pub audio: OutputPort,
    pub alloc: FrameAllocator,
    pub node: String,
    /// Triggered when the node stops: connections end at a message boundary.
    pub shutdown: Shutdown,
}

impl Server {
    /// The stream frames of `key` go on.
    pub fn stream_id(&self, key: &str) -> StreamId {
        if self.params.key.is_some() {
            StreamId::default()
        } else {
            StreamId::new(key)
        }
    }
}

impl Node for RtmpSourceNode {
    fn run(self: Box<Self>, ctx: NodeContext) -> BoxFuture<'static, Result<(), NodeError>> {
        let RtmpSourceNode {
            params,
            listener,
            streams,
        } = *self;
        async move {
            let out = ctx
                .first_output()
                .ok_or_else(|| NodeError::failed("`rtmp_source` needs its output port"))?;
            let listener = TcpListener::from_std(listener)
                .map_err(|err| NodeError::failed(format!("`rtmp_source` cannot poll its socket: {err}")))?;
            let key = params.key.as_deref().unwrap_or("<any key>");
            tracing::info!(
                node = %ctx.id,
                "RTMP: publish to rtmp://{}/{}/{key}",
                params.listen,
                params.app
            );
            let server = Arc::new(Server {
                params: params.clone(),
                streams,
                out,
                audio: ctx
                    .output(AUDIO_OUT.name)
                    .ok_or_else(|| NodeError::failed("`rtmp_source` needs its audio port"))?,
                alloc: ctx.alloc.clone(),
                node: ctx.id.clone(),
                shutdown: ctx.shutdown.clone(),
            });
            let mut connections = tokio::task::JoinSet::new();
            let mut next_connection = 1u64;
            loop {
                tokio::select! {
                    () = ctx.shutdown.wait() => break,
                    accepted = listener.accept() => match accepted {
                        Ok((socket, peer)) => {
                            let id = next_connection;
                            next_connection += 1;
                            connections.spawn(connection::serve(server.clone(), socket, peer, id));
                        }
                        Err(err) => {
                            tracing::warn!(node = %ctx.id, "RTMP: accept failed: {err}");
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                    },
                    Some(_) = connections.join_next(), if !connections.is_empty() => {}
                }
            }
            // Connections see the stop between messages; a frame being sent is delivered.
            if tokio::time::timeout(Duration::from_secs(2), async {
                while connections.join_next().await.is_some() {}
            })
            .await
            .is_err()
            {
                connections.shutdown().await;
            }
            Ok(())
        }
        .boxed()
    }
}
