//! Every shipped model gives the same outputs through tract and ONNX Runtime.
//! Needs `--features onnxruntime` and the ONNX Runtime library (`pip install onnxruntime`).

#![cfg(feature = "onnxruntime")]

use ooblex_infer::{BackendKind, Layout, ModelStore, SessionOptions, Tensor, open_session};

/// A smooth, deterministic picture in the model's normalised range.
fn picture(layout: Layout, (w, h): (usize, usize), mean: [f32; 3], std: [f32; 3]) -> Tensor {
    let shape = match layout {
        Layout::Nchw => vec![1, 3, h, w],
        Layout::Nhwc => vec![1, h, w, 3],
    };
    let mut data = vec![0.0; w * h * 3];
    for y in 0..h {
        for x in 0..w {
            for c in 0..3 {
                let pixel = 127.5 + 127.5 * ((x as f32 * 0.07 + c as f32).sin() * (y as f32 * 0.05).cos());
                let at = match layout {
                    Layout::Nchw => c * w * h + y * w + x,
                    Layout::Nhwc => (y * w + x) * 3 + c,
                };
                data[at] = (pixel - mean[c]) / std[c];
            }
        }
    }
    Tensor::new(shape, data)
}

#[test]
fn tract_and_onnxruntime_agree_on_every_model() {
    let store = ModelStore::discover();
    let names = store.names();
    assert!(names.len() >= 5, "the shipped models are found: {names:?}");
    for name in names {
        let model = store.load(&name).expect("shipped models check out");
        let input = &model.manifest.input;
        let size = input.fixed_size().unwrap_or((256, 192));
        let image = picture(input.layout, size, input.mean, input.std);
        let mut shapes = vec![(input.name.clone(), image.shape.clone())];
        let mut inputs = vec![(input.name.clone(), image)];
        if let Some(style) = &model.manifest.style_input {
            let mut weights = vec![0.0; style.count];
            weights[3] = 0.5;
            weights[19] = 0.5;
            shapes.push((style.name.clone(), vec![style.count]));
            inputs.push((style.name.clone(), Tensor::new(vec![style.count], weights)));
        }
        let options = SessionOptions {
            input_shapes: shapes,
            ..SessionOptions::default()
        };
        let views: Vec<_> = inputs.iter().map(|(n, t)| (n.as_str(), t.view())).collect();
        let run = |backend| {
            open_session(backend, &model, &options)
                .unwrap_or_else(|e| panic!("{name}: {e}"))
                .run(&views)
                .unwrap_or_else(|e| panic!("{name}: {e}"))
        };
        let (tract, ort) = (run(BackendKind::Tract), run(BackendKind::Onnxruntime));
        assert_eq!(tract.len(), ort.len(), "{name}");
        for ((a, b), spec) in tract.iter().zip(&ort).zip(&model.manifest.outputs) {
            assert_eq!(a.shape, b.shape, "{name} {}", spec.name);
            let scale = b.data.iter().fold(1.0f32, |m, v| m.max(v.abs()));
            let worst = a
                .data
                .iter()
                .zip(&b.data)
                .fold(0.0f32, |m, (x, y)| m.max((x - y).abs()));
            println!("{name} {}: max difference {worst:e} (largest value {scale})", spec.name);
            assert!(
                worst <= 1e-3 * scale,
                "{name} {}: max difference {worst} of {scale}",
                spec.name
            );
        }
    }
}
