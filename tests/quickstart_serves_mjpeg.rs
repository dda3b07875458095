//! The quickstart, as a new user runs it: live MJPEG over HTTP, metrics, the
//! graph API, the page, and a clean stop on SIGINT.

mod support;

use std::time::Duration;

use support::{MjpegReader, Server};

fn decode(jpeg: &[u8]) -> image::RgbImage {
    image::load_from_memory_with_format(jpeg, image::ImageFormat::Jpeg)
        .expect("each part is a JPEG picture")
        .to_rgb8()
}

#[test]
fn quickstart_streams_live_processed_video() {
    let server = Server::start("graphs/quickstart.yaml", &["--no-status"]);

    let mut processed = MjpegReader::open(&format!("{}/streams/processed.mjpg", server.base));
    let first = decode(&processed.next_part());
    assert_eq!(first.dimensions(), (1280, 720));
    let mut later = first.clone();
    for _ in 0..10 {
        later = decode(&processed.next_part());
    }
    assert_eq!(later.dimensions(), (1280, 720));
    let changed = first.pixels().zip(later.pixels()).filter(|(a, b)| a != b).count();
    assert!(
        changed > 1000,
        "the picture moves between frames ({changed} pixels changed)"
    );

    // The processed stream is pixelated: within a 20x20 block away from edges,
    // pixels are (nearly) the same, unlike the original's sharp bars and text.
    let mut original = MjpegReader::open(&format!("{}/streams/original.mjpg", server.base));
    let sharp = decode(&original.next_part());
    let spread = |img: &image::RgbImage| {
        let mut worst = 0i32;
        for by in 1..30 {
            for bx in 1..60 {
                let base = img.get_pixel(bx * 20 + 6, by * 20 + 6)[1] as i32;
                for (dx, dy) in [(8, 8), (10, 4), (4, 10)] {
                    let p = img.get_pixel(bx * 20 + 6 + dx, by * 20 + 6 + dy)[1] as i32;
                    worst = worst.max((p - base).abs());
                }
            }
        }
        worst
    };
    assert!(
        spread(&later) < 40,
        "processed blocks are flat (spread {})",
        spread(&later)
    );
    assert!(
        spread(&sharp) > 100,
        "the original has edges inside blocks (spread {})",
        spread(&sharp)
    );

    let snapshot = ureq::get(&format!("{}/streams/original.jpg", server.base))
        .call()
        .expect("a snapshot is served")
        .body_mut()
        .read_to_vec()
        .expect("the snapshot has a body");
    assert_eq!(decode(&snapshot).dimensions(), (1280, 720));

    let metrics = server.get("/metrics").expect("metrics are served");
    let camera_frames: u64 = metrics
        .lines()
        .find(|l| l.starts_with("ooblex_node_frames_out_total{node=\"camera\""))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("camera's frame counter is in /metrics:\n{metrics}"));
    assert!(camera_frames > 5, "camera produced {camera_frames} frames");
    assert!(
        metrics.contains("ooblex_node_latency_seconds_bucket{node=\"processed\""),
        "{metrics}"
    );

    let graph: serde_json::Value = serde_json::from_str(&server.get("/api/graph").expect("the graph is served"))
        .expect("the graph API answers JSON");
    assert_eq!(graph["name"], "quickstart");
    let states: Vec<&str> = graph["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter_map(|n| n["state"].as_str())
        .collect();
    assert_eq!(states, ["running"; 4], "{graph}");

    let page = server.get("/").expect("the page is served");
    assert!(page.contains("/api/streams"), "the page lists streams");
    assert!(server.get("/streams/nope.mjpg").is_err(), "an unknown stream is a 404");

    server.signal("INT");
    let (status, stderr) = server.wait(Duration::from_secs(10));
    assert!(status.success(), "clean exit on SIGINT: {status}\n{stderr}");
    assert!(stderr.contains("graph stopped"), "{stderr}");
}
