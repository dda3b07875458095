//! Every effect graph in `graphs/` runs in the real binary: each of its MJPEG streams
//! delivers decodable pictures, no node fails or restarts, and detections reach a
//! `json_sink` through the `detections` port.

mod support;

use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{MjpegReader, Server, wait_for};

/// The graphs of the AI and compositing effects.
const GRAPHS: [&str; 8] = [
    "graphs/face-detect.yaml",
    "graphs/face-blur.yaml",
    "graphs/face-swap.yaml",
    "graphs/background.yaml",
    "graphs/style-transfer.yaml",
    "graphs/object-detect.yaml",
    "graphs/classic-effects.yaml",
    "graphs/compositors.yaml",
];

fn json(server: &Server, path: &str) -> Value {
    serde_json::from_str(&server.get(path).unwrap_or_else(|e| panic!("GET {path}: {e}"))).expect("JSON")
}

#[test]
fn every_effect_graph_streams_pictures_without_failures() {
    for graph in GRAPHS {
        let server = Server::start(graph, &["--no-status", "--no-watch"]);
        // Sinks announce their streams as they start, which may be after `/health` answers.
        let streams = || {
            json(&server, "/api/streams")["streams"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        };
        assert!(
            wait_for(Duration::from_secs(30), || !streams().is_empty()),
            "{graph} serves at least one stream"
        );
        let streams = streams();
        for stream in &streams {
            let url = format!("{}{}", server.base, stream["mjpeg"].as_str().expect("an mjpeg url"));
            let mut reader = MjpegReader::open(&url);
            for _ in 0..2 {
                let part = reader.next_part();
                let picture = image::load_from_memory_with_format(&part, image::ImageFormat::Jpeg)
                    .unwrap_or_else(|e| panic!("{graph} {url}: not a JPEG: {e}"));
                assert!(picture.width() >= 64 && picture.height() >= 64, "{graph} {url}");
            }
        }
        for node in json(&server, "/api/graph")["nodes"].as_array().expect("nodes") {
            assert_eq!(node["restarts"], 0, "{graph}: {node}");
            assert_eq!(node["frame_errors"], 0, "{graph}: {node}");
            assert!(node["last_error"].is_null(), "{graph}: {node}");
        }
    }
}

#[test]
fn object_detections_reach_the_json_sink() {
    let mut server = Server::start("graphs/object-detect.yaml", &["--no-status", "--no-watch"]);
    let stdout = server.child.stdout.take().expect("stdout is piped");
    let mut lines = BufReader::new(stdout).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(Instant::now() < deadline, "no detection line within 60 s");
        let line = lines.next().expect("the sink writes lines").expect("utf-8 lines");
        let Ok(record) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        let labels: Vec<&str> = record["detections"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| d["label"].as_str())
            .collect();
        if labels.contains(&"cat") {
            let cat = &record["detections"][0];
            assert_eq!(cat["box"].as_array().map(Vec::len), Some(4), "{record}");
            assert!(cat["score"].as_f64().is_some_and(|s| s > 0.4), "{record}");
            break;
        }
    }
}
