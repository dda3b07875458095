//! Live HLS from `hls_sink` plays in real players: headless Chromium with
//! hls.js loads the playlist from another origin (CORS), decodes the fMP4
//! segments and shows moving pictures, and ffmpeg's HLS reader (ffplay's)
//! opens the live playlist — both OpenH264's stream from `h264_encode` and
//! x264's, with B-frames, passed through from RTMP with its AAC sound, which
//! Chromium decodes too.

mod support;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::browser::Browser;
use support::{Server, X264, ffprobe, free_port, repo_root, rtmp_publish_args, scratch, wait_for};

/// hls.js as scripts/test.sh unpacks it from the npm registry.
fn hls_js() -> String {
    let path = repo_root().join("target/hls.js/package/dist/hls.min.js");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("{}: {err} (scripts/test.sh fetches hls.js)", path.display()))
}

/// Puts hls.js in the page and plays `url` in a muted `<video>`.
const START: &str = r#"
const [source, url] = arguments;
const script = document.createElement('script');
script.textContent = source;
document.head.appendChild(script);
const video = document.createElement('video');
video.muted = true;
document.body.appendChild(video);
window.fatal = [];
window.tracks = [];
const hls = new Hls();
hls.on(Hls.Events.BUFFER_CODECS, (_, data) => {
  window.tracks = Object.keys(data).map((track) => track + ':' + (data[track].codec || ''));
});
hls.on(Hls.Events.ERROR, (_, data) => { if (data.fatal) window.fatal.push(data.type + ': ' + data.details); });
hls.loadSource(url);
hls.attachMedia(video);
video.play().catch((err) => window.fatal.push('play: ' + err));
window.video = video;
"#;

/// How far playback got, how many coarse colours the current picture has
/// (one for a black or blank picture, several for test bars), the tracks
/// hls.js buffered and how many bytes of sound Chromium decoded.
const STATE: &str = r#"
const video = window.video;
let colours = 0;
if (video.videoWidth > 0) {
  const canvas = document.createElement('canvas');
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  const context = canvas.getContext('2d');
  context.drawImage(video, 0, 0);
  const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
  const seen = new Set();
  for (let i = 0; i < pixels.length; i += 4 * 61) {
    seen.add((pixels[i] >> 6) * 16 + (pixels[i + 1] >> 6) * 4 + (pixels[i + 2] >> 6));
  }
  colours = seen.size;
}
return {
  time: video.currentTime,
  frames: video.getVideoPlaybackQuality().totalVideoFrames,
  width: video.videoWidth,
  height: video.videoHeight,
  colours,
  tracks: window.tracks,
  audio_bytes: video.webkitAudioDecodedByteCount,
  fatal: window.fatal,
};
"#;

/// Plays `url` in a fresh page at `page` until two seconds have played;
/// returns the last state seen.
fn play(browser: &Browser, page: &str, url: &str) -> Value {
    browser.open(page);
    browser.run(START, &[json!(hls_js()), json!(url)]);
    let mut state = Value::Null;
    wait_for(Duration::from_secs(30), || {
        state = browser.run(STATE, &[]);
        let played = state["time"].as_f64().unwrap_or(0.0) >= 2.0;
        played || state["fatal"].as_array().is_some_and(|fatal| !fatal.is_empty())
    });
    state
}

/// `codec,width,height` of a live playlist's video as ffmpeg's HLS reader sees it.
fn probe_live(url: &str) -> String {
    let args = [
        "-rw_timeout",
        "10000000",
        "-show_entries",
        "stream=codec_name,width,height",
    ];
    let printed = ffprobe(url.as_ref(), &args).unwrap_or_else(|err| panic!("ffprobe {url}: {err}"));
    // The stream is printed once more as part of the playlist's program.
    printed.lines().next().unwrap_or_default().to_string()
}

/// ffmpeg publishing to `url` as OBS does (x264 with B-frames, AAC), for `seconds`.
fn publish(url: &str, seconds: u32) -> Child {
    Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin"])
        .args(rtmp_publish_args(url, seconds, X264))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("ffmpeg is installed (the test command installs it)")
}

#[test]
fn live_hls_plays_in_chromium_with_hls_js() {
    let dir = scratch("hls-browser");
    let rtmp = free_port();
    let graph = dir.join("graph.yaml");
    std::fs::write(
        &graph,
        format!(
            r#"version: 1
name: hls-browser
nodes:
  camera:
    kind: test_pattern
    params: {{ width: 320, height: 240, fps: 30 }}
  encode:
    kind: h264_encode
    inputs: {{ video: camera }}
    params: {{ keyframe_interval: 30, fps: 30 }}
  pattern:
    kind: hls_sink
    inputs: {{ video: encode }}
    params: {{ segment: 1, window: 4 }}
  obs:
    kind: rtmp_source
    params: {{ listen: "127.0.0.1:{rtmp}", key: studio }}
  live:
    kind: hls_sink
    inputs: {{ video: obs, audio: obs.audio }}
    params: {{ segment: 1, window: 4 }}
"#
        ),
    )
    .expect("the graph is written");
    let server = Server::start(graph.to_str().expect("utf-8 path"), &["--no-status"]);
    let mut ffmpeg = publish(&format!("rtmp://127.0.0.1:{rtmp}/live/studio"), 60);
    let listed = |name: &str| {
        let playlist = server.get(&format!("/hls/{name}/index.m3u8")).unwrap_or_default();
        playlist.lines().filter(|line| line.ends_with(".m4s")).count() >= 3
    };
    assert!(
        wait_for(Duration::from_secs(20), || listed("pattern") && listed("live")),
        "both playlists list three segments within 20 s"
    );

    for name in ["pattern", "live"] {
        let url = format!("{}/hls/{name}/index.m3u8", server.base);
        assert_eq!(probe_live(&url), "h264,320,240", "ffmpeg reads `{name}`");
    }

    let browser = Browser::start(&dir.join("chromium"));
    // The page comes from another origin than the stream: `localhost` is not
    // `127.0.0.1`. Both name this server, so the control plane lets the page read it.
    let page = server.base.replace("127.0.0.1", "localhost") + "/health";
    for name in ["pattern", "live"] {
        let started = Instant::now();
        let state = play(&browser, &page, &format!("{}/hls/{name}/index.m3u8", server.base));
        assert_eq!(
            state["fatal"],
            json!([]),
            "`{name}`: hls.js reported no fatal error: {state}"
        );
        assert!(
            state["time"].as_f64() >= Some(2.0),
            "`{name}` played two seconds: {state}"
        );
        assert!(
            state["frames"].as_u64() >= Some(30),
            "`{name}` decoded pictures: {state}"
        );
        assert_eq!(
            (&state["width"], &state["height"]),
            (&json!(320), &json!(240)),
            "{state}"
        );
        assert!(
            state["colours"].as_u64() >= Some(4),
            "`{name}` shows the test bars: {state}"
        );
        let tracks = state["tracks"].to_string();
        if name == "live" {
            assert!(tracks.contains("mp4a.40"), "`live` buffers its AAC track: {state}");
            assert!(
                state["audio_bytes"].as_u64() > Some(0),
                "`live` plays its sound: {state}"
            );
        } else {
            assert!(!tracks.contains("mp4a"), "`pattern` has no sound: {state}");
        }
        eprintln!("`{name}` played in {:.1} s: {state}", started.elapsed().as_secs_f64());
    }
    let _ = ffmpeg.kill();
    let _ = ffmpeg.wait();
    drop(browser);
    let _ = std::fs::remove_dir_all(&dir);
}
