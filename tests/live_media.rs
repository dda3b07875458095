//! Live video in and out with real peers: ffmpeg publishes over RTMP as OBS
//! would, and the MJPEG, HLS and MP4 outputs are read back by an HTTP client
//! and ffprobe. Bad peers (garbage, a dropped handshake, a wrong key, another
//! codec) are turned away without disturbing the stream, and so are streams
//! the decoder cannot read (High 4:4:4, High 10), each named once in the log.

mod support;

use std::ffi::OsStr;
use std::fmt::Debug;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::ExitStatus;
use std::time::Duration;

use support::{
    Server, X264, finish_ffmpeg, free_port, probe, rtmp_publish_args, run_graph, scratch, start_ffmpeg, try_probe,
    wait_for,
};

/// Runs ffmpeg with `args`, killing it after `timeout`.
fn ffmpeg<S: AsRef<OsStr> + Debug>(args: &[S], timeout: Duration) -> (ExitStatus, String) {
    finish_ffmpeg(start_ffmpeg(args), timeout)
}

/// Publishes `seconds` of a 320x240 test picture with `video_codec`, as OBS does.
fn publish(url: &str, seconds: u32, video_codec: &[&str]) -> (ExitStatus, String) {
    ffmpeg(&rtmp_publish_args(url, seconds, video_codec), Duration::from_secs(60))
}

/// Waits up to 5 s for a node's `frames_out` to reach `expected`, then returns it.
fn frames_out(server: &Server, node: &str, expected: u64) -> u64 {
    let count = || {
        server
            .metric("ooblex_node_frames_out_total", node)
            .unwrap_or_else(|| panic!("no frames_out for {node} in /metrics"))
    };
    wait_for(Duration::from_secs(5), || count() >= expected);
    count()
}

/// Sends `bytes` to the RTMP port, hangs up, and waits for the server to let go.
fn send_and_expect_close(port: u16, bytes: &[u8]) {
    let mut socket = TcpStream::connect(("127.0.0.1", port)).expect("the RTMP port accepts");
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("a timeout can be set");
    let _ = socket.write_all(bytes);
    let _ = socket.shutdown(std::net::Shutdown::Write);
    let mut sink = Vec::new();
    // Ok(n) at EOF, or a reset: either way the server let go.
    let _ = socket.read_to_end(&mut sink);
}

#[test]
fn an_rtmp_publisher_reaches_mjpeg_hls_and_mp4() {
    let dir = scratch("rtmp");
    let rtmp = free_port();
    let recording = dir.join("recording.mp4");
    let graph = dir.join("graph.yaml");
    std::fs::write(
        &graph,
        format!(
            r#"version: 1
name: rtmp-ingest
nodes:
  obs:
    kind: rtmp_source
    params: {{ listen: "127.0.0.1:{rtmp}", app: live, key: secret }}
  decoded:
    kind: h264_decode
    inputs: {{ video: {{ from: obs, policy: block }} }}
  gray:
    kind: grayscale
    inputs: {{ video: {{ from: decoded, policy: block }} }}
  preview:
    kind: mjpeg_sink
    inputs: {{ video: gray }}
  live:
    kind: hls_sink
    inputs: {{ video: obs }}
    params: {{ segment: 1, window: 4 }}
  record:
    kind: mp4_sink
    inputs: {{ video: {{ from: obs, policy: block, queue: 64 }} }}
    params: {{ path: "{}" }}
"#,
            recording.display()
        ),
    )
    .expect("the graph is written");
    let server = Server::start(graph.to_str().expect("utf-8 path"), &["--no-status"]);

    // Bad peers first: none of them may take the node down.
    send_and_expect_close(rtmp, &[0x55; 1600]);
    send_and_expect_close(rtmp, &[0x03, 0, 0, 0, 0]);
    let url = |key: &str| format!("rtmp://127.0.0.1:{rtmp}/live/{key}");
    let (status, _) = publish(&url("wrong"), 1, X264);
    assert!(!status.success(), "a wrong key is refused");
    let (status, _) = publish(&url("secret"), 1, &["-c:v", "flv1"]);
    assert!(!status.success(), "Sorenson video is refused");

    let (status, err) = publish(&url("secret"), 3, X264);
    assert!(status.success(), "ffmpeg publishes: {err}");
    assert_eq!(frames_out(&server, "obs", 90), 90, "every frame of the first publish");
    let snapshot = server.get_bytes("/streams/preview.jpg");
    let picture = image::load_from_memory(&snapshot).expect("the snapshot is a JPEG");
    assert_eq!((picture.width(), picture.height()), (320, 240));

    // The publisher left: its last group of pictures is listed and recorded at
    // once, not when the next frame comes. The playlist of fMP4 segments, which
    // ffprobe reads as H.264, holds all three seconds.
    let listed_seconds = || -> f64 {
        let playlist = server.get("/hls/live/index.m3u8").expect("the playlist is served");
        playlist
            .lines()
            .filter_map(|line| line.strip_prefix("#EXTINF:"))
            .filter_map(|duration| duration.trim_end_matches(',').parse::<f64>().ok())
            .sum()
    };
    assert!(
        wait_for(Duration::from_secs(5), || listed_seconds() > 2.9),
        "the playlist lists the whole publish: {} s",
        listed_seconds()
    );
    let playlist = server.get("/hls/live/index.m3u8").expect("the playlist is served");
    assert!(playlist.contains("#EXT-X-MAP:URI=\"init-1.mp4\""), "{playlist}");
    assert!(
        !playlist.contains("#EXT-X-ENDLIST"),
        "the stream may come back: {playlist}"
    );
    let mut joined = server.get_bytes("/hls/live/init-1.mp4");
    for segment in playlist.lines().filter(|l| l.ends_with(".m4s")) {
        joined.extend(server.get_bytes(&format!("/hls/live/{segment}")));
    }
    let hls = dir.join("hls.mp4");
    std::fs::write(&hls, joined).expect("the segments are written");
    assert_eq!(probe(&hls), "h264,320,240,90", "{playlist}");
    let recorded = || try_probe(&recording);
    assert!(
        wait_for(Duration::from_secs(5), || recorded().as_deref()
            == Ok("h264,320,240,90")),
        "the recording holds the whole publish: {:?}",
        recorded()
    );

    // The publisher comes back on the same key: the stream goes on.
    let (status, err) = publish(&url("secret"), 2, X264);
    assert!(status.success(), "ffmpeg publishes again: {err}");
    assert_eq!(frames_out(&server, "obs", 150), 150, "the second publish follows on");
    assert_eq!(frames_out(&server, "record", 150), 150, "the recorder took every frame");
    // Every picture decoded, B-frames included: those the decoder held back
    // for reordering came out when each publisher left (the decoding branch
    // blocks, so that no frame is dropped as live edges would on a busy machine).
    assert_eq!(frames_out(&server, "gray", 150), 150, "every picture was decoded");

    server.signal("INT");
    let (status, log) = server.wait(Duration::from_secs(20));
    assert!(status.success(), "{log}");
    for reason in [
        "not an RTMP handshake",
        "left during the RTMP handshake",
        "wrong stream key",
        "not H.264",
    ] {
        assert!(log.contains(reason), "the log says `{reason}`:\n{log}");
    }
    // Both publishes, in one recording that ffprobe reads to the last frame.
    assert_eq!(probe(&recording), "h264,320,240,150", "{log}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs `rtmp_source -> h264_decode (with `decoder_params`) -> mjpeg_sink`,
/// with every edge blocking so that every frame is counted (live edges would
/// drop on a busy machine), and publishes 3 s on each of `publishers` (stream
/// key, ffmpeg's video codec arguments) at once. Without a `key`, every stream
/// key is a stream of its own. Returns the server, still running.
fn decode_published(name: &str, decoder_params: &str, publishers: Vec<(&'static str, Vec<&'static str>)>) -> Server {
    let dir = scratch(name);
    let rtmp = free_port();
    let graph = dir.join("graph.yaml");
    std::fs::write(
        &graph,
        format!(
            r#"version: 1
name: {name}
nodes:
  obs:
    kind: rtmp_source
    params: {{ listen: "127.0.0.1:{rtmp}", app: live }}
  decoded:
    kind: h264_decode
    params: {decoder_params}
    inputs: {{ video: {{ from: obs, policy: block }} }}
  preview:
    kind: mjpeg_sink
    inputs: {{ video: {{ from: decoded, policy: block }} }}
"#
        ),
    )
    .expect("the graph is written");
    let server = Server::start(graph.to_str().expect("utf-8 path"), &["--no-status"]);
    let publishers = publishers.into_iter().map(|(key, codec)| {
        let url = format!("rtmp://127.0.0.1:{rtmp}/live/{key}");
        std::thread::spawn(move || publish(&url, 3, &codec))
    });
    for publisher in publishers.collect::<Vec<_>>() {
        let (status, err) = publisher.join().expect("the publisher thread ends");
        assert!(status.success(), "ffmpeg publishes: {err}");
    }
    server
}

/// libx264 as ffmpeg sets it up for RGB input (no `-pix_fmt`: High 4:4:4,
/// with B-frames), and 10-bit 4:2:0 (High 10). Each sends three keyframes,
/// each with its parameter sets.
fn what_openh264_cannot_read() -> Vec<(&'static str, Vec<&'static str>)> {
    vec![
        ("rgb", vec!["-c:v", "libx264", "-g", "30"]),
        ("tenbit", vec!["-c:v", "libx264", "-pix_fmt", "yuv420p10le", "-g", "30"]),
    ]
}

#[test]
fn streams_openh264_cannot_read_are_named_once_and_counted_while_others_decode() {
    let mut publishers = what_openh264_cannot_read();
    publishers.push(("good", X264.to_vec()));
    let server = decode_published("refused-profiles", "{ decoder: openh264 }", publishers);
    assert_eq!(frames_out(&server, "obs", 270), 270, "the source takes every stream");
    assert_eq!(
        frames_out(&server, "decoded", 90),
        90,
        "the good stream is decoded, frame for frame"
    );
    assert_eq!(frames_out(&server, "preview", 90), 90, "and served");
    assert_eq!(server.metric("ooblex_node_streams_refused_total", "decoded"), Some(2));
    assert_eq!(server.metric("ooblex_node_frame_errors_total", "decoded"), Some(180));
    let graph_state: serde_json::Value =
        serde_json::from_str(&server.get("/api/graph").expect("the graph API answers")).expect("JSON");
    let decoded = graph_state["nodes"]
        .as_array()
        .and_then(|nodes| nodes.iter().find(|node| node["node"] == "decoded"))
        .unwrap_or_else(|| panic!("`decoded` in /api/graph: {graph_state}"));
    assert_eq!(decoded["streams_refused"], 2, "{decoded}");

    server.signal("INT");
    let (status, log) = server.wait(Duration::from_secs(20));
    assert!(status.success(), "{log}");
    for (key, what) in [
        (
            "rgb",
            "H.264 High 4:4:4 Predictive profile, 4:4:4 chroma, 8-bit, progressive",
        ),
        ("tenbit", "H.264 High 10 profile, 4:2:0 chroma, 10-bit, progressive"),
    ] {
        let told = format!("cannot decode stream `{key}`: it is {what}");
        assert_eq!(log.matches(&told).count(), 1, "`{told}` once in the log:\n{log}");
    }
    for fix in ["-pix_fmt yuv420p -profile:v high", "Color Format to NV12 or I420"] {
        assert_eq!(log.matches(fix).count(), 2, "`{fix}` with each refusal:\n{log}");
    }
    assert!(
        !log.contains("OpenH264 error"),
        "nothing was fed to OpenH264 to fail:\n{log}"
    );
}

#[test]
fn every_h264_people_publish_decodes_where_libavcodec_is_built_in() {
    let mut publishers = what_openh264_cannot_read();
    publishers.extend([
        (
            "slices",
            vec!["-c:v", "libx264", "-pix_fmt", "yuv420p", "-slices", "4", "-g", "30"],
        ),
        (
            "interlaced",
            vec![
                "-c:v",
                "libx264",
                "-pix_fmt",
                "yuv420p",
                "-flags",
                "+ildct+ilme",
                "-g",
                "30",
            ],
        ),
    ]);
    let server = decode_published("every-profile", "{}", publishers);
    let said = if cfg!(feature = "gstreamer") {
        "H.264 is decoded with libavcodec"
    } else {
        "H.264 is decoded with OpenH264"
    };
    if cfg!(feature = "gstreamer") {
        assert_eq!(frames_out(&server, "obs", 360), 360, "the source takes every stream");
        assert_eq!(
            frames_out(&server, "decoded", 360),
            360,
            "every stream is decoded, frame for frame"
        );
        assert_eq!(frames_out(&server, "preview", 360), 360, "and served");
        assert_eq!(server.metric("ooblex_node_streams_refused_total", "decoded"), Some(0));
        assert_eq!(server.metric("ooblex_node_frame_errors_total", "decoded"), Some(0));
    }
    server.signal("INT");
    let (status, log) = server.wait(Duration::from_secs(20));
    assert!(status.success(), "{log}");
    assert_eq!(log.matches(said).count(), 1, "`{said}` once in the log:\n{log}");
}

#[test]
fn a_file_is_encoded_to_mp4() {
    let dir = scratch("encode");
    let source = dir.join("source.y4m");
    let (status, err) = ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=320x240:rate=25",
            "-frames:v",
            "50",
            "-pix_fmt",
            "yuv420p",
        ]
        .iter()
        .copied()
        .chain([source.to_str().expect("utf-8 path")])
        .collect::<Vec<_>>(),
        Duration::from_secs(60),
    );
    assert!(status.success(), "{err}");
    let output = dir.join("encoded.mp4");
    let graph = dir.join("graph.yaml");
    std::fs::write(
        &graph,
        format!(
            r#"version: 1
name: encode-file
nodes:
  file:
    kind: y4m_source
    params: {{ path: "{}", realtime: false }}
  encode:
    kind: h264_encode
    inputs: {{ video: {{ from: file, policy: block }} }}
    params: {{ bitrate: 800, keyframe_interval: 25 }}
  record:
    kind: mp4_sink
    inputs: {{ video: {{ from: encode, policy: block }} }}
    params: {{ path: "{}" }}
"#,
            source.display(),
            output.display()
        ),
    )
    .expect("the graph is written");
    let out = run_graph(&graph);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert_eq!(probe(&output), "h264,320,240,50");
    let _ = std::fs::remove_dir_all(&dir);
}
