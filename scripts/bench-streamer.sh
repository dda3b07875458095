#!/usr/bin/env bash
# The streamer's path before and after libjpeg-turbo and libavcodec, with one
# binary in one run: "before" hides libturbojpeg from the process (a private
# mount namespace binds /dev/null over it, so the built-in JPEG encoder runs)
# and pins `decoder: openh264`; "after" is what `auto` and libjpeg-turbo give.
#   1. graphs/quickstart.yaml (720p30, two MJPEG streams): cores used, and the
#      JPEG encoding time of its mjpeg_sinks.
#   2. ffmpeg publishes 1280x720 at 30 fps over RTMP (x264 veryfast,
#      zerolatency) into rtmp_source -> h264_decode -> mjpeg_sink: latency from
#      each frame's arrival to its JPEG published, and the time of each step.
#
# Usage: scripts/bench-streamer.sh
# Needs root (for the mount namespace), a release build with the gstreamer
# feature (cargo build --release --features gstreamer), ffmpeg, libturbojpeg0
# and gstreamer1.0-libav.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=target/release/ooblex
[ -x "$bin" ] || { echo "build first: cargo build --release --features gstreamer" >&2; exit 1; }
library=$(/sbin/ldconfig -p | sed -n 's/.*libturbojpeg\.so\.0 .*=> \(.*\)/\1/p' | head -n 1)
[ -n "$library" ] || { echo "install libturbojpeg0" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Runs `ooblex ARGS` as it was before: without libjpeg-turbo.
# The log at info level says which encoder and decoder run.
before() {
    OOBLEX_LOG=info unshare -m sh -c 'mount --bind /dev/null "$0" && exec "$@"' "$library" "$bin" "$@"
}
after() {
    OOBLEX_LOG=info "$bin" "$@"
}

# A free TCP port on loopback.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

echo "| quickstart, 1280x720 at 30 fps | JPEG encoder | cores used | JPEG encoding p50 (original, pixelated) |"
echo "|---|---|---|---|"
for when in before after; do
    $when bench graphs/quickstart.yaml --warmup 2 --duration 10 --json "$tmp/quickstart-$when.json" \
        >"$tmp/quickstart-$when.log" 2>&1
    python3 - "$when" "$tmp/quickstart-$when.json" "$tmp/quickstart-$when.log" <<'EOF'
import json, re, sys
when, report, log = sys.argv[1], json.load(open(sys.argv[2]))[0], open(sys.argv[3]).read()
encoder = re.search(r"JPEG is encoded with (.+?)(?: \(|,|$)", log, re.M)
nodes = {n["node"]: n for n in report["nodes"]}
p50 = lambda name: nodes[name]["process_ms"]["p50"]
print(f"| {when} | {encoder.group(1) if encoder else '?'} | {report['summary']['cores_used']} | "
      f"{p50('original')} ms, {p50('processed')} ms |")
EOF
done

echo
echo "| RTMP in -> MJPEG out, 1280x720 | decoder, JPEG encoder | latency p50 / p95 / max | h264_decode p50 / p95 | JPEG encoding p50 / p95 |"
echo "|---|---|---|---|---|"
for when in before after; do
    port=$(free_port)
    decoder=$([ $when = before ] && echo openh264 || echo auto)
    cat > "$tmp/rtmp.yaml" <<EOF
version: 1
name: bench-rtmp
nodes:
  obs:
    kind: rtmp_source
    params: { listen: "127.0.0.1:$port", app: live, key: bench }
  decoded:
    kind: h264_decode
    params: { decoder: $decoder }
    inputs: { video: obs }
  preview:
    kind: mjpeg_sink
    inputs: { video: decoded }
EOF
    $when bench "$tmp/rtmp.yaml" --warmup 2 --duration 7 --json "$tmp/rtmp-$when.json" >"$tmp/rtmp-$when.log" 2>&1 &
    bench=$!
    sleep 1
    ffmpeg -v error -nostdin -re -f lavfi -i "testsrc2=size=1280x720:rate=30" -t 9 -c:v libx264 -preset veryfast \
        -tune zerolatency -pix_fmt yuv420p -g 60 -f flv "rtmp://127.0.0.1:$port/live/bench" 2>/dev/null || true
    wait $bench
    python3 - "$when" "$tmp/rtmp-$when.json" "$tmp/rtmp-$when.log" "$decoder" <<'EOF'
import json, re, sys
when, report, log = sys.argv[1], json.load(open(sys.argv[2]))[0], open(sys.argv[3]).read()
said = lambda what: (re.search(what + r" is (?:en|de)coded with (.+?)(?: \(|,|$)", log, re.M) or [None, sys.argv[4]])[1]
nodes = {n["node"]: n for n in report["nodes"]}
latency, decode, jpeg = nodes["preview"]["latency_ms"], nodes["decoded"]["process_ms"], nodes["preview"]["process_ms"]
print(f"| {when} | {said('H.264')}, {said('JPEG')} | {latency['p50']} / {latency['p95']} / {latency['max']} ms | "
      f"{decode['p50']} / {decode['p95']} ms | {jpeg['p50']} / {jpeg['p95']} ms |")
EOF
done
