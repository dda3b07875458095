#!/usr/bin/env bash
# Runs every check: formatting, lints, all tests (which start the real binary
# and talk to it over HTTP, ffmpeg and ffprobe), graph validation and schema drift.
# Installs what the tests need when it is missing: ffmpeg, curl, nasm and GStreamer
# (Debian packages; nasm builds OpenH264's assembly, without which it is 2-3x slower),
# and the ONNX Runtime library from the `onnxruntime` wheel on PyPI, so that the
# tests compare the tract and ONNX Runtime backends.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
command -v ffprobe >/dev/null 2>&1 || missing+=(ffmpeg)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v nasm >/dev/null 2>&1 || missing+=(nasm)
# GStreamer 1.22 for the `gstreamer` feature: headers to build against, the
# elements its node kinds use (x264, RTSP, RTMP, decoders) and the RTSP server
# the tests stand a camera up with.
pkg-config --exists gstreamer-1.0 gstreamer-app-1.0 gstreamer-video-1.0 gstreamer-rtsp-server-1.0 2>/dev/null ||
    missing+=(pkg-config libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstrtspserver-1.0-dev)
gst-inspect-1.0 x264enc >/dev/null 2>&1 ||
    missing+=(gstreamer1.0-tools gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly
        gstreamer1.0-libav gstreamer1.0-rtsp)
if ((${#missing[@]})); then
    echo "==> installing ${missing[*]}"
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# ONNX Runtime, unpacked from its wheel (no Python environment is changed).
ort_version=1.32.0
ort_dir=target/onnxruntime-$ort_version
if ! ls "$ort_dir"/onnxruntime/capi/libonnxruntime.so.* >/dev/null 2>&1; then
    echo "==> fetching onnxruntime $ort_version (PyPI wheel)"
    python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$ort_dir/wheel" "onnxruntime==$ort_version"
    python3 -m zipfile -e "$ort_dir"/wheel/onnxruntime-*.whl "$ort_dir"
fi
ORT_DYLIB_PATH="$(ls "$PWD/$ort_dir"/onnxruntime/capi/libonnxruntime.so.* | head -n 1)"
export ORT_DYLIB_PATH

echo "==> cargo fmt --check"
cargo fmt --all --check

echo "==> cargo clippy"
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings

echo "==> cargo test"
cargo test --workspace --locked --features ooblex/onnxruntime,ooblex/gstreamer

echo "==> ooblex validate graphs/*.yaml"
cargo run --quiet --locked --features gstreamer -- validate graphs/*.yaml

echo "==> ooblex schema --check"
cargo run --quiet --locked --features gstreamer -- schema --check schemas/graph.schema.json

echo "all checks passed"
