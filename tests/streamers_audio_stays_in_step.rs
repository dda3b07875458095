//! The streamer's path with sound: ffmpeg publishes 720p30 H.264 and AAC over
//! RTMP, faces are blurred and the video re-encoded, and the HLS and MP4
//! outputs carry the audio in step with the pictures. The source flashes white
//! and beeps at the same instants; ffmpeg's `blackdetect` and `silencedetect`
//! find both in the outputs, and their difference is the A/V offset.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use support::{Server, X264, finish_ffmpeg, free_port, scratch, start_ffmpeg, wait_for};

/// Seconds published.
const SECONDS: u32 = 8;
/// The most the audio may be off the video: one frame at 30 fps and a bit.
const MOST_OFFSET: f64 = 0.040;

/// ffmpeg's inputs: black 720p30 video that turns white from 0.5 to 0.7 s of
/// every second, and a 1 kHz tone sounding over the same spans, sample-exact.
fn flash_and_beep() -> Vec<String> {
    [
        "-f",
        "lavfi",
        "-i",
        "color=c=black:s=1280x720:r=30,drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:\
         enable='between(mod(t,1),0.5,0.7)'",
        "-f",
        "lavfi",
        "-i",
        "aevalsrc='if(between(mod(t,1),0.5,0.7),0.5*sin(2*PI*1000*t),0)':s=48000",
        "-t",
    ]
    .iter()
    .map(|arg| arg.to_string())
    .chain([SECONDS.to_string()])
    .chain(X264.iter().map(|arg| arg.to_string()))
    .chain(["-c:a", "aac", "-ar", "48000", "-f", "flv"].map(String::from))
    .collect()
}

/// Codec and packet count of the first stream of `kind` (`v` or `a`) in `path`.
fn stream(path: &Path, kind: &str) -> Option<(String, u64)> {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", &format!("{kind}:0"), "-count_packets"])
        .args(["-show_entries", "stream=codec_name,nb_read_packets", "-of", "csv=p=0"])
        .arg(path)
        .output()
        .expect("ffprobe is installed");
    let text = String::from_utf8_lossy(&out.stdout);
    let (codec, packets) = text.trim().split_once(',')?;
    Some((codec.to_string(), packets.parse().ok()?))
}

/// The offsets, in seconds, of each beep's start after the flash nearest it.
fn offsets(path: &Path) -> Vec<f64> {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-i"])
        .arg(path)
        .args([
            "-vf",
            "blackdetect=d=0.05:pix_th=0.2",
            "-af",
            "silencedetect=n=-30dB:d=0.05",
        ])
        .args(["-f", "null", "-"])
        .output()
        .expect("ffmpeg is installed");
    let log = String::from_utf8_lossy(&out.stderr);
    let times = |key: &str| -> Vec<f64> {
        log.split(key)
            .skip(1)
            .filter_map(|rest| rest.split_whitespace().next()?.parse().ok())
            .collect()
    };
    let flashes = times("black_end:");
    let beeps = times("silence_end:");
    flashes
        .iter()
        .filter_map(|flash| {
            beeps
                .iter()
                .map(|beep| beep - flash)
                .min_by(|a, b| a.abs().total_cmp(&b.abs()))
        })
        .filter(|offset| offset.abs() < 0.5)
        .collect()
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

#[test]
fn audio_reaches_hls_and_mp4_in_step_with_blurred_video() {
    let dir = scratch("audio-in-step");
    let rtmp = free_port();
    let recording = dir.join("recording.mp4");
    let graph = dir.join("graph.yaml");
    // The video branch blocks, so that no picture is dropped on a busy machine
    // and every flash is seen where it was; the audio waits for it in the sinks.
    std::fs::write(
        &graph,
        format!(
            r#"version: 1
name: audio-in-step
nodes:
  obs:
    kind: rtmp_source
    params: {{ listen: "127.0.0.1:{rtmp}", app: live, key: studio }}
  decoded:
    kind: h264_decode
    inputs: {{ video: {{ from: obs, policy: block }} }}
  blurred:
    kind: face_blur
    inputs: {{ video: {{ from: decoded, policy: block }} }}
  encoded:
    kind: h264_encode
    inputs: {{ video: {{ from: blurred, policy: block }} }}
    params: {{ bitrate: 2500, keyframe_interval: 30, fps: 30 }}
  live:
    kind: hls_sink
    inputs: {{ video: {{ from: encoded, policy: block }}, audio: obs.audio }}
    params: {{ segment: 1, window: 30 }}
  record:
    kind: mp4_sink
    inputs: {{ video: {{ from: encoded, policy: block }}, audio: {{ from: obs.audio, policy: block, queue: 512 }} }}
    params: {{ path: "{}" }}
"#,
            recording.display()
        ),
    )
    .expect("the graph is written");

    // What the publisher sends, written straight to a file by ffmpeg: the
    // audio frames to account for, and the offset RTMP itself brings (AAC's
    // priming samples, which FLV cannot say to skip).
    let sent = dir.join("sent.flv");
    let mut args = flash_and_beep();
    args.push(sent.to_str().expect("utf-8 path").to_string());
    let (status, err) = finish_ffmpeg(start_ffmpeg(&args), Duration::from_secs(120));
    assert!(status.success(), "ffmpeg writes the reference: {err}");
    let (_, sent_audio) = stream(&sent, "a").expect("the reference has audio");
    let reference = median(&offsets(&sent));

    let server = Server::start(graph.to_str().expect("utf-8 path"), &["--no-status"]);
    let mut args = vec!["-re".to_string()];
    args.extend(flash_and_beep());
    args.push(format!("rtmp://127.0.0.1:{rtmp}/live/studio"));
    let (status, err) = finish_ffmpeg(start_ffmpeg(&args), Duration::from_secs(120));
    assert!(status.success(), "ffmpeg publishes: {err}");

    // Every audio frame sent is in the recording or counted as left out (the
    // few before the first picture).
    let accounted = || {
        server.metric("ooblex_node_audio_frames_total", "record").unwrap_or(0)
            + server.metric("ooblex_node_audio_left_out_total", "record").unwrap_or(0)
    };
    assert!(
        wait_for(Duration::from_secs(60), || accounted() >= sent_audio),
        "{} of {sent_audio} audio frames accounted for",
        accounted()
    );
    let playlist = server.get("/hls/live/index.m3u8").expect("the playlist is served");
    let mut joined = server.get_bytes("/hls/live/init-1.mp4");
    for segment in playlist.lines().filter(|l| l.ends_with(".m4s")) {
        joined.extend(server.get_bytes(&format!("/hls/live/{segment}")));
    }
    let hls = dir.join("hls.mp4");
    std::fs::write(&hls, joined).expect("the segments are written");
    let left_out = server.metric("ooblex_node_audio_left_out_total", "record").unwrap_or(0);
    server.signal("INT");
    let (status, log) = server.wait(Duration::from_secs(20));
    assert!(status.success(), "{log}");

    let (video, _) = stream(&recording, "v").expect("the recording has video");
    let (audio, recorded_audio) = stream(&recording, "a").expect("the recording has audio");
    assert_eq!((video.as_str(), audio.as_str()), ("h264", "aac"));
    assert_eq!(
        recorded_audio + left_out,
        sent_audio,
        "every audio frame is accounted for"
    );
    assert!(
        left_out <= 3,
        "{left_out} audio frames left out: only those before the first picture"
    );
    assert_eq!(
        stream(&hls, "a").map(|(codec, _)| codec).as_deref(),
        Some("aac"),
        "the HLS segments have audio: {playlist}"
    );

    for (output, path) in [("MP4", &recording), ("HLS", &hls)] {
        let found = offsets(path);
        assert!(
            found.len() as u32 >= SECONDS - 2,
            "{output}: flashes and beeps are found ({found:?})"
        );
        let offset = median(&found);
        eprintln!(
            "{output}: A/V offset {:+.1} ms (median of {}), ffmpeg's own FLV {:+.1} ms",
            offset * 1000.0,
            found.len(),
            reference * 1000.0
        );
        assert!(
            offset.abs() <= MOST_OFFSET,
            "{output}: the audio is {:+.1} ms off the video ({found:?})",
            offset * 1000.0
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
