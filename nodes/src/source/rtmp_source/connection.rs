//! One publisher's connection: the RTMP handshake and session (rml_rtmp), the
//! checks of app and key, and its video and audio turned into frames. Whatever a peer
//! sends, the worst outcome is that its own connection is closed with a
//! warning saying why.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ooblex_runtime::{Codec, Frame, KEEP_ENDED_STREAM, PixelFormat};
use rml_rtmp::handshake::{Handshake, HandshakeProcessResult, PeerType};
use rml_rtmp::sessions::{ServerSession, ServerSessionConfig, ServerSessionEvent, ServerSessionResult};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

use super::flv::{self, AvcConfig, VideoMessage};
use super::flv_audio::{self, AudioMessage, FlvAudioError};
use super::{Server, StreamState};
use crate::media::aac::AacConfig;
use crate::media::h264::{NAL_SPS, nal_type, sps_dimensions};

/// How long a peer may take to finish the handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a publisher may stay silent before it is dropped.
const IDLE_TIMEOUT: Duration = Duration::from_secs(15);
/// The gap left between a publisher's last frame and the first after it reconnects.
const RECONNECT_GAP: Duration = Duration::from_millis(33);

/// Forgets the keys whose publisher left [`KEEP_ENDED_STREAM`] or longer
/// before `now`: one that comes back after that starts its stream afresh, as
/// the sinks that served it have forgotten it too.
fn forget_left(streams: &mut HashMap<String, StreamState>, now: Instant) {
    streams.retain(|_, state| {
        state
            .left
            .is_none_or(|left| now.saturating_duration_since(left) < KEEP_ENDED_STREAM)
    });
}

/// Serves one connection until the peer leaves, logging why it ended.
pub(super) async fn serve(server: Arc<Server>, mut socket: TcpStream, peer: SocketAddr, id: u64) {
    let mut connection = Connection {
        server: &server,
        peer,
        id,
        publishing: None,
        config: None,
        size: (0, 0),
        first_timestamp: None,
        base: Duration::ZERO,
        annex_b: Vec::new(),
        audio_config: None,
        audio_refused: false,
        adts: Vec::new(),
        malformed: 0,
        close: None,
    };
    match connection.run(&mut socket).await {
        Ok(()) => tracing::info!(node = %server.node, "RTMP: {peer} {}", connection.ended()),
        Err(reason) => tracing::warn!(node = %server.node, "RTMP: {peer}: {reason}; connection closed"),
    }
    connection.end_stream();
}

/// A publish that was accepted.
struct Publishing {
    key: String,
    stream: ooblex_runtime::StreamId,
}

struct Connection<'a> {
    server: &'a Server,
    peer: SocketAddr,
    id: u64,
    publishing: Option<Publishing>,
    config: Option<AvcConfig>,
    /// Picture size from the sequence header's SPS.
    size: (u32, u32),
    /// The RTMP timestamp of the first picture or audio frame, which maps to
    /// `base`: video and audio share the clock.
    first_timestamp: Option<u32>,
    base: Duration,
    annex_b: Vec<u8>,
    /// The AAC configuration from the audio sequence header.
    audio_config: Option<AacConfig>,
    /// Set once audio we cannot take was reported; the video goes on.
    audio_refused: bool,
    adts: Vec<u8>,
    /// Broken video messages skipped so far.
    malformed: u64,
    /// Set when the connection must end after the replies are sent, with why.
    close: Option<String>,
}

impl Connection<'_> {
    fn ended(&self) -> String {
        match &self.publishing {
            Some(p) => format!("stopped publishing `{}`", p.key),
            None => "left without publishing".to_string(),
        }
    }

    /// Tells the nodes downstream that the stream ended, so that they send on
    /// what they hold for it, unless another publisher has taken it over.
    fn end_stream(&self) {
        let Some(publishing) = &self.publishing else { return };
        let mut streams = self
            .server
            .streams
            .lock()
            .expect("RTMP stream lock is never held across a panic");
        // Under the lock, so a publisher taking over sends its frames after the end.
        if let Some(state) = streams.get_mut(&publishing.key)
            && state.publisher == self.id
        {
            state.left = Some(Instant::now());
            self.server.out.end_stream(&publishing.stream);
            self.server.audio.end_stream(&publishing.stream);
        }
    }

    async fn run(&mut self, socket: &mut TcpStream) -> Result<(), String> {
        socket.set_nodelay(true).ok();
        let rest = timeout(HANDSHAKE_TIMEOUT, handshake(socket))
            .await
            .map_err(|_| format!("no RTMP handshake within {} s", HANDSHAKE_TIMEOUT.as_secs()))??;
        let (mut session, mut pending) =
            ServerSession::new(ServerSessionConfig::new()).map_err(|err| format!("RTMP session: {err}"))?;
        pending.extend(feed(&mut session, &rest)?);
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            while !pending.is_empty() {
                let mut more = Vec::new();
                for result in pending.drain(..) {
                    match result {
                        ServerSessionResult::OutboundResponse(packet) => socket
                            .write_all(&packet.bytes)
                            .await
                            .map_err(|err| format!("cannot reply: {err}"))?,
                        ServerSessionResult::RaisedEvent(event) => {
                            more.extend(self.on_event(event, &mut session).await?)
                        }
                        ServerSessionResult::UnhandleableMessageReceived(_) => {}
                    }
                }
                pending = more;
            }
            if let Some(reason) = self.close.take() {
                // Let the peer read the refusal before the connection goes.
                socket.flush().await.ok();
                tokio::time::sleep(Duration::from_millis(200)).await;
                return Err(reason);
            }
            let read = tokio::select! {
                () = self.server.shutdown.wait() => return Ok(()),
                read = timeout(IDLE_TIMEOUT, socket.read(&mut buffer)) => read
                    .map_err(|_| format!("nothing received for {} s", IDLE_TIMEOUT.as_secs()))?
                    .map_err(|err| format!("read failed: {err}"))?,
            };
            if read == 0 {
                return Ok(());
            }
            pending = feed(&mut session, &buffer[..read])?;
        }
    }

    async fn on_event(
        &mut self,
        event: ServerSessionEvent,
        session: &mut ServerSession,
    ) -> Result<Vec<ServerSessionResult>, String> {
        let params = &self.server.params;
        let replies = match event {
            ServerSessionEvent::ConnectionRequested { request_id, app_name } => {
                if app_name == params.app {
                    session.accept_request(request_id)
                } else {
                    self.close = Some(format!(
                        "refused: it asked for app `{app_name}`, this node serves `{}` \
                         (rtmp://{}/{}/<key>)",
                        params.app, params.listen, params.app
                    ));
                    session.reject_request(request_id, "NetConnection.Connect.Rejected", "unknown application")
                }
            }
            ServerSessionEvent::PublishStreamRequested {
                request_id, stream_key, ..
            } => {
                if params.key.as_deref().is_some_and(|key| key != stream_key) {
                    self.close = Some("refused: wrong stream key".to_string());
                    session.reject_request(request_id, "NetStream.Publish.BadName", "wrong stream key")
                } else {
                    self.start_publishing(stream_key);
                    session.accept_request(request_id)
                }
            }
            ServerSessionEvent::VideoDataReceived { data, timestamp, .. } => {
                self.on_video(&data, timestamp.value).await?;
                Ok(Vec::new())
            }
            ServerSessionEvent::AudioDataReceived { data, timestamp, .. } => {
                self.on_audio(&data, timestamp.value).await?;
                Ok(Vec::new())
            }
            _ => Ok(Vec::new()),
        };
        replies.map_err(|err| format!("RTMP session: {err}"))
    }

    /// Takes over the stream of `key`, going on from its last frame.
    fn start_publishing(&mut self, key: String) {
        let mut streams = self
            .server
            .streams
            .lock()
            .expect("RTMP stream lock is never held across a panic");
        forget_left(&mut streams, Instant::now());
        let state = streams.entry(key.clone()).or_default();
        state.publisher = self.id;
        state.left = None;
        self.base = state.last_pts.map_or(Duration::ZERO, |last| last + RECONNECT_GAP);
        drop(streams);
        tracing::info!(node = %self.server.node, "RTMP: {} publishes `{key}`", self.peer);
        self.publishing = Some(Publishing {
            stream: self.server.stream_id(&key),
            key,
        });
    }

    async fn on_video(&mut self, data: &[u8], timestamp: u32) -> Result<(), String> {
        let Some(publishing) = &self.publishing else {
            return Ok(());
        };
        let stream = publishing.stream.clone();
        let message = match flv::parse(data) {
            Ok(message) => message,
            Err(err) if err.is_unsupported_codec() => {
                return Err(format!(
                    "{err}; `rtmp_source` takes H.264 only: set the encoder to H.264 (x264, NVENC H.264)"
                ));
            }
            Err(err) => {
                self.skip_malformed(&err);
                return Ok(());
            }
        };
        let (composition, units) = match message {
            VideoMessage::SequenceHeader(config) => {
                let sps = config.parameter_sets.iter().find(|set| nal_type(set) == NAL_SPS);
                self.size = match sps.map(|sps| sps_dimensions(sps)) {
                    Some(Ok(size)) => size,
                    Some(Err(err)) => return Err(err),
                    None => return Err("the H.264 sequence header has no SPS".to_string()),
                };
                self.config = Some(config);
                return Ok(());
            }
            VideoMessage::EndOfSequence => return Ok(()),
            VideoMessage::Picture { composition, units } => (composition, units),
        };
        let Some(config) = &self.config else {
            return Err("H.264 pictures came before the sequence header".to_string());
        };
        let keyframe = match flv::to_annex_b(config, units, &mut self.annex_b) {
            Ok(keyframe) => keyframe,
            Err(err) => {
                self.malformed += 1;
                tracing::warn!(node = %self.server.node, "RTMP: {}: {err} (picture skipped)", self.peer);
                return Ok(());
            }
        };
        let decode_time = self.stream_time(timestamp);
        let pts = if composition >= 0 {
            decode_time + Duration::from_millis(composition as u64)
        } else {
            decode_time.saturating_sub(Duration::from_millis(u64::from(composition.unsigned_abs())))
        };
        let seq = self.number(pts, |state| &mut state.next_seq)?;
        let (width, height) = self.size;
        let mut frame = Frame::new(
            self.server.alloc.copy_from(&self.annex_b),
            PixelFormat::Encoded(Codec::H264),
            width,
            height,
            pts,
            seq,
        );
        frame.keyframe = keyframe;
        frame.dts = (pts != decode_time).then_some(decode_time);
        frame.capture = Instant::now();
        frame.stream = stream;
        self.server.out.send(frame).await;
        Ok(())
    }
}

impl Connection<'_> {
    /// Counts a broken message that is skipped, logging the first few and then
    /// every power of two.
    fn skip_malformed(&mut self, err: &dyn std::fmt::Display) {
        self.malformed += 1;
        if self.malformed < 5 || self.malformed.is_power_of_two() {
            tracing::warn!(node = %self.server.node, "RTMP: {}: {err} (skipped; {} so far)", self.peer, self.malformed);
        }
    }

    /// The stream time of an RTMP timestamp.
    fn stream_time(&mut self, timestamp: u32) -> Duration {
        let first = *self.first_timestamp.get_or_insert(timestamp);
        self.base + Duration::from_millis(u64::from(timestamp.wrapping_sub(first)))
    }

    /// The next number from the stream's `counter`, noting a frame shown at
    /// `pts`; an error once another publisher took the stream over.
    fn number(&self, pts: Duration, counter: impl FnOnce(&mut StreamState) -> &mut u64) -> Result<u64, String> {
        let publishing = self.publishing.as_ref().expect("frames are numbered while publishing");
        let mut streams = self
            .server
            .streams
            .lock()
            .expect("RTMP stream lock is never held across a panic");
        let state = streams.entry(publishing.key.clone()).or_default();
        if state.publisher != self.id {
            return Err(format!("another publisher took over `{}`", publishing.key));
        }
        state.last_pts = Some(state.last_pts.map_or(pts, |last| last.max(pts)));
        let next = counter(state);
        *next += 1;
        Ok(*next - 1)
    }

    /// Sends one AAC frame on as ADTS. Audio that cannot be taken is reported
    /// once and left out; the video goes on.
    async fn on_audio(&mut self, data: &[u8], timestamp: u32) -> Result<(), String> {
        let Some(publishing) = &self.publishing else {
            return Ok(());
        };
        let stream = publishing.stream.clone();
        let payload = match flv_audio::parse(data) {
            Ok(AudioMessage::SequenceHeader(config)) => {
                self.audio_config = Some(config);
                return Ok(());
            }
            Ok(AudioMessage::Frame(payload)) => payload,
            Err(err @ FlvAudioError::Malformed(_)) => {
                self.skip_malformed(&err);
                return Ok(());
            }
            Err(err) => {
                if !self.audio_refused {
                    self.audio_refused = true;
                    tracing::warn!(
                        node = %self.server.node,
                        "RTMP: {}: {err}; its audio is left out, the video goes on; hint: set the \
                         encoder's audio to AAC",
                        self.peer
                    );
                }
                return Ok(());
            }
        };
        let Some(config) = self.audio_config else {
            return Err("AAC frames came before the audio sequence header".to_string());
        };
        let header = match config.adts_header(payload.len()) {
            Ok(header) => header,
            Err(err) => {
                self.malformed += 1;
                tracing::warn!(node = %self.server.node, "RTMP: {}: {err} (audio frame skipped)", self.peer);
                return Ok(());
            }
        };
        let pts = self.stream_time(timestamp);
        let seq = self.number(pts, |state| &mut state.next_audio_seq)?;
        self.adts.clear();
        self.adts.extend_from_slice(&header);
        self.adts.extend_from_slice(payload);
        let mut frame = Frame::new(
            self.server.alloc.copy_from(&self.adts),
            PixelFormat::Encoded(Codec::Aac),
            0,
            0,
            pts,
            seq,
        );
        frame.stream = stream;
        self.server.audio.send(frame).await;
        Ok(())
    }
}

/// The server side of the handshake; returns bytes that came after it.
async fn handshake(socket: &mut TcpStream) -> Result<Vec<u8>, String> {
    let mut handshake = Handshake::new(PeerType::Server);
    let mut buffer = [0u8; 4096];
    loop {
        let read = socket
            .read(&mut buffer)
            .await
            .map_err(|err| format!("read failed during the RTMP handshake: {err}"))?;
        if read == 0 {
            return Err("left during the RTMP handshake".to_string());
        }
        let step = handshake
            .process_bytes(&buffer[..read])
            .map_err(|err| format!("not an RTMP handshake ({err})"))?;
        let (reply, done) = match step {
            HandshakeProcessResult::InProgress { response_bytes } => (response_bytes, None),
            HandshakeProcessResult::Completed {
                response_bytes,
                remaining_bytes,
            } => (response_bytes, Some(remaining_bytes)),
        };
        socket
            .write_all(&reply)
            .await
            .map_err(|err| format!("cannot reply to the RTMP handshake: {err}"))?;
        if let Some(rest) = done {
            return Ok(rest);
        }
    }
}

/// Feeds received bytes to the session. The chunk parser can panic on crafted
/// input; that ends this connection only.
fn feed(session: &mut ServerSession, bytes: &[u8]) -> Result<Vec<ServerSessionResult>, String> {
    match catch_unwind(AssertUnwindSafe(|| session.handle_input(bytes))) {
        Ok(Ok(results)) => Ok(results),
        Ok(Err(err)) => Err(format!("broken RTMP message: {err}")),
        Err(_) => Err("broken RTMP chunk stream".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_forgotten_a_while_after_its_publisher_left() {
        let start = Instant::now();
        let state = |left: Option<Instant>| StreamState {
            next_seq: 100,
            left,
            ..StreamState::default()
        };
        let mut streams = HashMap::from([
            ("live".to_string(), state(None)),
            ("back-soon".to_string(), state(Some(start + KEEP_ENDED_STREAM))),
            ("gone".to_string(), state(Some(start))),
        ]);
        forget_left(&mut streams, start + KEEP_ENDED_STREAM);
        let mut kept: Vec<&str> = streams.keys().map(String::as_str).collect();
        kept.sort();
        assert_eq!(kept, ["back-soon", "live"], "a publisher may still come back and go on");
        forget_left(&mut streams, start + 100 * KEEP_ENDED_STREAM);
        assert_eq!(
            streams.keys().collect::<Vec<_>>(),
            ["live"],
            "a live key is never forgotten"
        );
    }
}
