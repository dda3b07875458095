//! Placing a graph on one host: each input fed from another host reads the
//! receiver of its own codec, and the producing host has one sender per codec
//! with that codec's settings.

use ooblex_runtime::{LinkCodec, load_str, place, validate};

const GRAPH: &str = r#"
version: 1
name: placed
hosts:
  stage: { listen: ["tcp/127.0.0.1:7447"] }
  gpu: { connect: ["tcp/127.0.0.1:7447"] }
nodes:
  cam: { kind: test_pattern, host: stage }
  exact: { kind: grayscale, inputs: { video: cam }, host: gpu }
  small: { kind: grayscale, inputs: { video: { from: cam, link: { codec: jpeg, quality: 60 } } }, host: gpu }
  lean: { kind: invert, inputs: { video: { from: cam, link: { codec: h264, bitrate: 1500 } } }, host: gpu }
"#;

#[test]
fn each_input_reads_the_receiver_of_its_codec() {
    let registry = ooblex_nodes::registry();
    let loaded = load_str("placed.yaml", GRAPH).unwrap_or_else(|e| panic!("{}", e.render(false)));
    let graph = validate(&loaded, &registry).unwrap_or_else(|e| panic!("{}", e.render(false)));

    let gpu = place(&graph, "gpu", &registry).expect("gpu's part places");
    let feed = |id: &str| gpu.node(id).expect("placed here").inputs[0].from.clone();
    assert_eq!(
        feed("exact"),
        "cam.video<=",
        "between hosts on loopback, raw by default"
    );
    assert_eq!(feed("small"), "cam.video<=jpeg");
    assert_eq!(feed("lean"), "cam.video<=h264");
    let decoding = gpu.node("cam.video<=h264").expect("an H.264 receiver");
    assert_eq!(decoding.spec.params["decode_h264"], true);
    assert!(gpu.node("cam").is_none(), "the source runs on stage");
    assert!(gpu.links.iter().all(|l| !l.sends));

    let stage = place(&graph, "stage", &registry).expect("stage's part places");
    let mut sent: Vec<(LinkCodec, bool)> = stage.links.iter().map(|l| (l.codec, l.shared_memory)).collect();
    sent.sort();
    assert_eq!(
        sent,
        [
            (LinkCodec::Raw, true),
            (LinkCodec::Jpeg, false),
            (LinkCodec::H264, false)
        ]
    );
    let jpeg = stage.node("cam.video=>jpeg").expect("a JPEG sender");
    assert_eq!(jpeg.spec.params["quality"], 60);
    let h264 = stage.node("cam.video=>h264").expect("an H.264 sender");
    assert_eq!(h264.spec.params["encode"], "h264");
    assert_eq!(h264.spec.params["bitrate"], 1500);
    assert_eq!(
        h264.spec.params["congestion"], "block",
        "zenoh never drops an H.264 frame that later ones need"
    );

    let Err(err) = place(&graph, "nowhere", &registry) else {
        panic!("an unknown host places nothing");
    };
    assert!(err.to_string().contains("defined: gpu, stage"), "{err}");
}
