#!/usr/bin/env bash
# JPEG encoding speed, side by side in one run on the same pictures (ffmpeg's
# testsrc2, 300 frames of I420, read from a Y4M file), one thread each:
#   Ooblex's jpeg_encode (libjpeg-turbo when libturbojpeg0 is installed, at
#   quality 80) against GStreamer's jpegenc (libjpeg-turbo, quality 80) and
#   ffmpeg's mjpeg encoder (-q:v 5).
# Ooblex's number is the node's mean time per frame (`ooblex bench`), reading
# left out; GStreamer's is the median wall time of three runs of the pipeline
# less that of the same pipeline without the encoder; ffmpeg's is its
# -benchmark real time less that of decoding the Y4M alone.
#
# Usage: scripts/bench-jpeg.sh [SIZES...]   (default: 1280x720 1920x1080)
# Needs a release build (cargo build --release), ffmpeg and gst-launch-1.0
# with gstreamer1.0-plugins-good.
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

# Median wall time of three runs of the gst-launch description ARGS, in seconds.
gst_seconds() {
    python3 -c 'import statistics, subprocess, sys, time
def once():
    t = time.perf_counter(); subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); return time.perf_counter() - t
print(statistics.median(once() for _ in range(3)))' gst-launch-1.0 -q "$@"
}

printf '| size | Ooblex jpeg_encode | GStreamer jpegenc | ffmpeg mjpeg | Ooblex / GStreamer | Ooblex / ffmpeg |\n'
printf '|---|---|---|---|---|---|\n'
for size in "${sizes[@]}"; do
    ffmpeg -v error -nostdin -y -f lavfi -i "testsrc2=size=$size:rate=30" -frames:v $frames -pix_fmt yuv420p "$tmp/in.y4m"
    cat > "$tmp/encode.yaml" <<EOF
version: 1
name: bench-jpeg
nodes:
  file:
    kind: y4m_source
    params: { path: "$tmp/in.y4m", realtime: false }
  encode:
    kind: jpeg_encode
    inputs: { video: { from: file, policy: block } }
    params: { quality: 80 }
  out:
    kind: null_sink
    inputs: { video: { from: encode, policy: block } }
EOF
    "$bin" bench "$tmp/encode.yaml" --warmup 0 --duration 120 --json "$tmp/encode.json" >"$tmp/bench.log" 2>&1
    raw="filesrc location=$tmp/in.y4m ! y4mdec"
    gst_read=$(gst_seconds $raw ! fakesink)
    gst_jpeg=$(gst_seconds $raw ! jpegenc quality=80 ! fakesink)
    ff_read=$(ffmpeg_seconds -threads 1 -i "$tmp/in.y4m" -f null -)
    ff_jpeg=$(ffmpeg_seconds -threads 1 -i "$tmp/in.y4m" -c:v mjpeg -q:v 5 -f null -)
    python3 - "$size" "$frames" "$tmp/encode.json" "$gst_read" "$gst_jpeg" "$ff_read" "$ff_jpeg" <<'EOF'
import json, sys
size, frames, report = sys.argv[1], int(sys.argv[2]), sys.argv[3]
gst_read, gst_jpeg, ff_read, ff_jpeg = map(float, sys.argv[4:])
node = next(n for n in json.load(open(report))[0]["nodes"] if n["node"] == "encode")
if node["frames_out"] != frames:
    sys.exit(f"jpeg_encode gave {node['frames_out']} pictures, not {frames}")
ours = node["process_ms"]["mean"]
per_frame = lambda seconds: seconds * 1000 / frames
gst, ff = per_frame(gst_jpeg - gst_read), per_frame(ff_jpeg - ff_read)
ms = lambda value: f"{value:.2f} ms ({1000 / value:.0f} fps)"
print(f"| {size} | {ms(ours)} | {ms(gst)} | {ms(ff)} | {ours / gst:.2f} | {ours / ff:.2f} |")
EOF
done
grep -o 'JPEG is encoded with [^(]*' "$tmp/bench.log" | head -n 1
