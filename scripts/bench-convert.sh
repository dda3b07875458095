#!/usr/bin/env bash
# The cost of the pixel-format conversion a graph puts on an edge, side by side
# in one run with ffmpeg's swscale, one thread each, I420 to RGB24 (what every
# model and colour effect behind `h264_decode` or a camera needs).
# Ooblex's number is the converter node's mean time per frame (`ooblex bench`,
# test_pattern → sepia, whose input takes packed RGB); ffmpeg's is the real time
# of converting raw I420 frames read from a file, less that of reading them alone.
#
# Usage: scripts/bench-convert.sh [SIZES...]   (default: 1280x720 1920x1080)
# Needs a release build (cargo build --release) and ffmpeg.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=target/release/ooblex
[ -x "$bin" ] || { echo "build first: cargo build --release" >&2; exit 1; }
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1280x720 1920x1080)
frames=600
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ffmpeg's real time for ARGS, in seconds.
ffmpeg_seconds() {
    ffmpeg -hide_banner -nostdin -benchmark "$@" 2>&1 | sed -n 's/.*rtime=\([0-9.]*\)s.*/\1/p' | tail -n 1
}

printf '%-10s %14s %14s %8s\n' size "ooblex ms" "swscale ms" ratio
for size in "${sizes[@]}"; do
    width=${size%x*}
    height=${size#*x}
    cat >"$tmp/convert.yaml" <<EOF
version: 1
name: bench-convert
nodes:
  pattern: { kind: test_pattern, params: { width: $width, height: $height, format: i420 } }
  toned: { kind: sepia, inputs: { video: pattern } }
  out: { kind: null_sink, inputs: { video: toned } }
EOF
    "$bin" bench "$tmp/convert.yaml" --unpaced --duration 8 --json "$tmp/convert.json" >/dev/null 2>&1
    ooblex_ms=$(python3 - "$tmp/convert.json" <<'EOF'
import json, sys
nodes = json.load(open(sys.argv[1]))[0]["nodes"]
print(next(n for n in nodes if n["node"] == "pattern.video>rgb24")["process_ms"]["mean"])
EOF
    )
    ffmpeg -v error -nostdin -y -f lavfi -i "testsrc2=size=$size:rate=30" -frames:v $frames \
        -pix_fmt yuv420p -f rawvideo "$tmp/in.yuv"
    raw=(-threads 1 -f rawvideo -pix_fmt yuv420p -s "$size" -i "$tmp/in.yuv" -threads 1)
    converting=$(ffmpeg_seconds "${raw[@]}" -vf format=rgb24 -f null -)
    reading=$(ffmpeg_seconds "${raw[@]}" -f null -)
    python3 - "$size" "$ooblex_ms" "$converting" "$reading" $frames <<'EOF'
import sys
size, ooblex_ms, converting, reading, frames = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
swscale_ms = (converting - reading) * 1000 / frames
print(f"{size:<10} {ooblex_ms:14.2f} {swscale_ms:14.2f} {ooblex_ms / swscale_ms:8.2f}")
EOF
done
