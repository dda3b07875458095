//! `ooblex models`: the shipped models check out, a corrupt or missing file is named
//! with its manifest, and `fetch` checks what it downloads.

mod support;

use std::path::Path;

use support::ooblex;

fn temp_models(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ooblex-models-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A manifest for `file` in `dir` with `sha256` and an optional `url`.
fn write_manifest(dir: &Path, sha256: &str, url: Option<&str>) {
    let url = url.map(|u| format!("url: {u}\n")).unwrap_or_default();
    std::fs::write(
        dir.join("tiny.yaml"),
        format!(
            "name: tiny\ndescription: a test file\ntask: generic\nfile: tiny.onnx\nsha256: {sha256}\nlicence: MIT\n\
             licence_file: LICENSE\nsource: a test\n{url}input: {{ name: x, layout: nchw, channels: rgb, mean: [0, 0, 0], std: [1, 1, 1] }}\n\
             outputs: [{{ name: y, meaning: z }}]\n"
        ),
    )
    .expect("write manifest");
}

/// sha256 of "abc".
const ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

#[test]
fn the_shipped_models_check_out() {
    let out = ooblex().args(["models", "verify"]).output().expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    for model in [
        "blazeface",
        "centerface",
        "selfie_segmentation",
        "multistyle26",
        "nanodet_g",
    ] {
        assert!(text.contains(&format!("ok       {model}")), "{model}: {text}");
    }
}

#[test]
fn a_corrupt_file_fails_naming_its_manifest() {
    let dir = temp_models("corrupt");
    write_manifest(&dir, ABC, None);
    std::fs::write(dir.join("tiny.onnx"), b"abd").expect("write model");
    let out = ooblex()
        .args(["models", "verify", "tiny"])
        .env("OOBLEX_MODELS", &dir)
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("tiny.yaml") && err.contains("does not match the sha256"),
        "{err}"
    );
}

#[test]
fn fetch_downloads_checks_and_refuses_a_wrong_file() {
    let dir = temp_models("fetch");
    let source = dir.join("upstream.bin");
    std::fs::write(&source, b"abc").expect("write upstream");
    let url = format!("file://{}", source.display());
    write_manifest(&dir, ABC, Some(&url));
    let fetch = || {
        ooblex()
            .args(["models", "fetch", "tiny"])
            .env("OOBLEX_MODELS", &dir)
            .output()
            .expect("runs")
    };
    let out = fetch();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read(dir.join("tiny.onnx")).expect("fetched"), b"abc");

    std::fs::remove_file(dir.join("tiny.onnx")).expect("remove");
    std::fs::write(&source, b"evil").expect("replace upstream");
    let out = fetch();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("does not match"), "{err}");
    assert!(!dir.join("tiny.onnx").exists(), "nothing was written");
}
