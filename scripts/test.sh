#!/usr/bin/env bash
# Runs every check: formatting, lints, all tests (which start the real binary
# and talk to it over HTTP, ffmpeg, ffprobe and a headless browser), graph
# validation and schema drift.
# Installs what the tests need when it is missing: ffmpeg, curl, nasm, npm, iproute2, openssl, GStreamer,
# Chromium and its WebDriver (Debian packages; nasm builds OpenH264's assembly,
# without which it is 2-3x slower), hls.js with npm, eclipse-zenoh (the Python
# zenoh client) with pip, and the ONNX
# Runtime library from the `onnxruntime` wheel on PyPI, so that the tests compare
# the tract and ONNX Runtime backends.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
command -v ffprobe >/dev/null 2>&1 || missing+=(ffmpeg)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v nasm >/dev/null 2>&1 || missing+=(nasm)
command -v npm >/dev/null 2>&1 || missing+=(npm)
# `ip netns` stands a second machine up for the tests of links between hosts.
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
# openssl makes the certificates of the tests of TLS links.
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
# GStreamer 1.22 for the `gstreamer` feature: headers to build against, the
# elements its node kinds use (x264, RTSP, RTMP, decoders) and the RTSP server
# the tests stand a camera up with.
pkg-config --exists gstreamer-1.0 gstreamer-app-1.0 gstreamer-video-1.0 gstreamer-rtsp-server-1.0 2>/dev/null ||
    missing+=(pkg-config libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstrtspserver-1.0-dev)
gst-inspect-1.0 x264enc >/dev/null 2>&1 ||
    missing+=(gstreamer1.0-tools gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly
        gstreamer1.0-libav gstreamer1.0-rtsp)
# libavcodec's H.264 decoder, which `h264_decode` takes where GStreamer has it.
gst-inspect-1.0 avdec_h264 >/dev/null 2>&1 || missing+=(gstreamer1.0-libav)
# libjpeg-turbo, which the JPEG encoders load at run time.
/sbin/ldconfig -p | grep -q 'libturbojpeg\.so\.0 ' || missing+=(libturbojpeg0)
# A real browser for the HLS player test.
[ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] || missing+=(chromium chromium-driver)
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

# eclipse-zenoh, the Python zenoh client of the same 1.10 line as the runtime,
# for the tests where a Python process joins a graph; kept under target/.
zenoh_py_version=1.10.2
if [ "$(cat target/python/version 2>/dev/null)" != "$zenoh_py_version" ]; then
    echo "==> fetching eclipse-zenoh $zenoh_py_version (PyPI)"
    rm -rf target/python
    python3 -m pip install --quiet --disable-pip-version-check --target target/python "eclipse-zenoh==$zenoh_py_version"
    echo "$zenoh_py_version" >target/python/version
fi

# hls.js, the player most web pages use for HLS, packed by npm from the registry
# its own settings name (a mirror or proxy included), and checked by its sha256.
hlsjs_version=1.7.4
hlsjs_sha256=e4ab3d5d13f7cca9ef241d098f39686e19fd451831ba07dc9943482fd5ff75c7
if [ "$(cat target/hls.js/version 2>/dev/null)" != "$hlsjs_version" ]; then
    echo "==> fetching hls.js $hlsjs_version (npm pack)"
    rm -rf target/hls.js
    mkdir -p target/hls.js
    (cd target/hls.js && npm pack --silent "hls.js@$hlsjs_version" >/dev/null)
    mv "target/hls.js/hls.js-$hlsjs_version.tgz" target/hls.js/hls.js.tgz
    echo "$hlsjs_sha256  target/hls.js/hls.js.tgz" | sha256sum --check --quiet
    tar -xzf target/hls.js/hls.js.tgz -C target/hls.js package/dist/hls.min.js
    echo "$hlsjs_version" >target/hls.js/version
fi

# Every feature the tests cover: GStreamer (with the RTSP camera stand-in), hosts
# (zenoh) and ONNX Runtime.
features=ooblex/onnxruntime,ooblex/test-rtsp-camera,ooblex/hosts

echo "==> cargo fmt --check"
cargo fmt --all --check

echo "==> cargo clippy"
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings
# The default build (no GStreamer, no hosts) compiles other code paths.
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "==> cargo test"
cargo test --workspace --locked --features "$features"

echo "==> ooblex validate graphs/*.yaml examples/*/*.yaml"
cargo run --quiet --locked --features "$features" -- validate graphs/*.yaml examples/*/*.yaml

echo "==> ooblex schema --check"
cargo run --quiet --locked --features "$features" -- schema --check schemas/graph.schema.json

echo "all checks passed"
