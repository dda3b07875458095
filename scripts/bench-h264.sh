#!/usr/bin/env bash
# H.264 speed, side by side in one run on the same pictures (ffmpeg's testsrc2,
# 300 frames, 30 fps, read from a Y4M file):
#   encode: Ooblex's h264_encode (OpenH264) against ffmpeg with libx264
#           (-preset ultrafast, Constrained Baseline, one thread) at the same bitrate;
#   decode: Ooblex's h264_decode (OpenH264) against ffmpeg's own H.264 decoder
#           (one thread), both decoding the file Ooblex encoded.
# Ooblex's numbers are the nodes' mean time per frame (`ooblex bench`), which
# leaves out reading the file; ffmpeg's include it (its -benchmark real time).
#
# Usage: scripts/bench-h264.sh [SIZES...]   (default: 1280x720 1920x1080)
# Needs a release build: cargo build --release
set -euo pipefail
cd "$(dirname "$0")/.."
bin=target/release/ooblex
[ -x "$bin" ] || { echo "build first: cargo build --release" >&2; exit 1; }
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1280x720 1920x1080)
frames=300
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ffmpeg's real time for ARGS, in seconds.
ffmpeg_seconds() {
    ffmpeg -hide_banner -nostdin -benchmark "$@" 2>&1 | sed -n 's/.*rtime=\([0-9.]*\)s.*/\1/p' | tail -n 1
}

printf '| work | size | Ooblex ms/frame | Ooblex fps | ffmpeg ms/frame | ffmpeg fps | Ooblex / ffmpeg time |\n'
printf '|---|---|---|---|---|---|---|\n'
for size in "${sizes[@]}"; do
    height=${size#*x}
    bitrate=$(( height >= 1080 ? 6000 : 3000 ))
    ffmpeg -v error -nostdin -y -f lavfi -i "testsrc2=size=$size:rate=30" -frames:v $frames -pix_fmt yuv420p "$tmp/in.y4m"
    cat > "$tmp/graph.yaml" <<EOF
version: 1
name: bench-h264
nodes:
  file:
    kind: y4m_source
    params: { path: "$tmp/in.y4m", realtime: false }
  encode:
    kind: h264_encode
    inputs: { video: { from: file, policy: block } }
    params: { bitrate: $bitrate, keyframe_interval: 60, fps: 30 }
  decode:
    kind: h264_decode
    inputs: { video: { from: encode, policy: block } }
  out:
    kind: null_sink
    inputs: { video: { from: decode, policy: block } }
  record:
    kind: mp4_sink
    inputs: { video: { from: encode, policy: block } }
    params: { path: "$tmp/ooblex.mp4" }
EOF
    "$bin" bench "$tmp/graph.yaml" --warmup 0 --duration 120 --json "$tmp/report.json" >/dev/null 2>&1
    read -r encode_ms decode_ms < <(python3 - "$tmp/report.json" <<'EOF'
import json, sys
nodes = {n["node"]: n for n in json.load(open(sys.argv[1]))[0]["nodes"]}
print(nodes["encode"]["process_ms"]["mean"], nodes["decode"]["process_ms"]["mean"])
EOF
)
    x264=$(ffmpeg_seconds -i "$tmp/in.y4m" -threads 1 -c:v libx264 -preset ultrafast -profile:v baseline \
        -b:v "${bitrate}k" -g 60 -f null -)
    native=$(ffmpeg_seconds -threads 1 -i "$tmp/ooblex.mp4" -f null -)
    python3 - "$size" "$encode_ms" "$decode_ms" "$x264" "$native" "$frames" <<'EOF'
import sys
size, enc, dec, x264, native, frames = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
for work, ours, theirs in (("encode (OpenH264 / x264 ultrafast)", enc, x264 * 1000 / frames),
                           ("decode (OpenH264 / ffmpeg h264)", dec, native * 1000 / frames)):
    print(f"| {work} | {size} | {ours:.2f} | {1000 / ours:.0f} | {theirs:.2f} | {1000 / theirs:.0f} | {ours / theirs:.2f} |")
EOF
done

# Latency from RTMP in to MJPEG out: ffmpeg publishes 720p30 (x264, zerolatency)
# to rtmp_source -> h264_decode -> mjpeg_sink; the sink's latency is from the
# instant each frame arrived to the moment its JPEG is published.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$tmp/rtmp.yaml" <<EOF
version: 1
name: bench-rtmp
nodes:
  obs:
    kind: rtmp_source
    params: { listen: "127.0.0.1:$port", app: live, key: bench }
  decoded:
    kind: h264_decode
    inputs: { video: obs }
  preview:
    kind: mjpeg_sink
    inputs: { video: decoded }
EOF
"$bin" bench "$tmp/rtmp.yaml" --warmup 2 --duration 7 --json "$tmp/rtmp.json" >/dev/null 2>&1 &
bench=$!
sleep 1
ffmpeg -v error -nostdin -re -f lavfi -i "testsrc2=size=1280x720:rate=30" -t 9 -c:v libx264 -preset veryfast \
    -tune zerolatency -pix_fmt yuv420p -g 60 -f flv "rtmp://127.0.0.1:$port/live/bench" 2>/dev/null || true
wait $bench
python3 - "$tmp/rtmp.json" <<'EOF'
import json, sys
nodes = {n["node"]: n for n in json.load(open(sys.argv[1]))[0]["nodes"]}
latency, decode, jpeg = nodes["preview"]["latency_ms"], nodes["decoded"]["process_ms"], nodes["preview"]["process_ms"]
print()
print("| RTMP in -> MJPEG out, 1280x720 | p50 ms | p95 ms | max ms |")
print("|---|---|---|---|")
print(f"| latency (arrival to JPEG published) | {latency['p50']} | {latency['p95']} | {latency['max']} |")
print(f"| of which h264_decode | {decode['p50']} | {decode['p95']} | {decode['max']} |")
print(f"| of which JPEG encoding in mjpeg_sink | {jpeg['p50']} | {jpeg['p95']} | {jpeg['max']} |")
EOF
