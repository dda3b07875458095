#!/usr/bin/env bash
# H.264 speed, side by side in one run on the same pictures (ffmpeg's testsrc2,
# 300 frames, 30 fps, read from a Y4M file), one thread each:
#   encode: Ooblex's h264_encode (OpenH264) against GStreamer's openh264enc (the
#           same library, Debian's build, same settings), GStreamer's x264enc and
#           ffmpeg's libx264 (both -preset ultrafast, Constrained Baseline), all
#           at the same bitrate;
#   decode: Ooblex's h264_decode with OpenH264 and, in a build with the
#           gstreamer feature, with libavcodec, against GStreamer's openh264dec
#           (avdec_h264 for libavcodec) and avdec_h264 and ffmpeg's own H.264
#           decoder, all decoding the file Ooblex encoded.
# Ooblex's numbers are the nodes' mean time per frame (`ooblex bench`), which
# leaves out reading the file, each measured alone (the decoder is fed Ooblex's
# MP4 over RTMP by ffmpeg); ffmpeg's include reading (its -benchmark real time);
# GStreamer's are the median wall time of three runs of the pipeline less that
# of the same pipeline without the codec (start-up and reading left out).
#
# Usage: scripts/bench-h264.sh [SIZES...]   (default: 1280x720 1920x1080)
# Needs a release build (cargo build --release [--features gstreamer]), ffmpeg and gst-launch-1.0
# with gstreamer1.0-plugins-{bad,ugly} and gstreamer1.0-libav.
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

# A free TCP port on loopback.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Median wall time of three runs of the gst-launch description ARGS, in seconds.
gst_seconds() {
    python3 -c 'import statistics, subprocess, sys, time
def once():
    t = time.perf_counter(); subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); return time.perf_counter() - t
print(statistics.median(once() for _ in range(3)))' gst-launch-1.0 -q "$@"
}

printf '| work | size | Ooblex | GStreamer, same codec | GStreamer x264enc / avdec_h264 | ffmpeg libx264 / h264 | Ooblex / GStreamer same codec | Ooblex / ffmpeg |\n'
printf '|---|---|---|---|---|---|---|---|\n'
for size in "${sizes[@]}"; do
    height=${size#*x}
    bitrate=$(( height >= 1080 ? 6000 : 3000 ))
    ffmpeg -v error -nostdin -y -f lavfi -i "testsrc2=size=$size:rate=30" -frames:v $frames -pix_fmt yuv420p "$tmp/in.y4m"
    # Encoding alone: the file through h264_encode into an MP4 for the decoders.
    cat > "$tmp/encode.yaml" <<EOF
version: 1
name: bench-h264-encode
nodes:
  file:
    kind: y4m_source
    params: { path: "$tmp/in.y4m", realtime: false }
  encode:
    kind: h264_encode
    inputs: { video: { from: file, policy: block } }
    params: { bitrate: $bitrate, keyframe_interval: 60, fps: 30 }
  record:
    kind: mp4_sink
    inputs: { video: { from: encode, policy: block } }
    params: { path: "$tmp/ooblex.mp4" }
EOF
    "$bin" bench "$tmp/encode.yaml" --warmup 0 --duration 120 --json "$tmp/encode.json" >/dev/null 2>&1
    # Decoding alone, with each decoder: ffmpeg sends that MP4 over RTMP as fast as it is taken.
    for decoder in openh264 libavcodec; do
        port=$(free_port)
        cat > "$tmp/decode.yaml" <<EOF
version: 1
name: bench-h264-decode
nodes:
  rtmp:
    kind: rtmp_source
    params: { listen: "127.0.0.1:$port", app: live, key: bench }
  decode:
    kind: h264_decode
    params: { decoder: $decoder }
    inputs: { video: { from: rtmp, policy: block } }
  out:
    kind: null_sink
    inputs: { video: { from: decode, policy: block } }
EOF
        if ! "$bin" validate "$tmp/decode.yaml" >/dev/null 2>&1; then
            echo "no $decoder in this build (cargo build --release --features gstreamer)" >&2
            echo '[{"nodes": []}]' > "$tmp/decode-$decoder.json"
            continue
        fi
        "$bin" bench "$tmp/decode.yaml" --warmup 0 --duration 8 --json "$tmp/decode-$decoder.json" >/dev/null 2>&1 &
        bench=$!
        sleep 1
        ffmpeg -v error -nostdin -i "$tmp/ooblex.mp4" -c copy -f flv "rtmp://127.0.0.1:$port/live/bench"
        wait $bench
    done
    read -r encode_ms decode_ms libav_ms < <(python3 - "$tmp/encode.json" "$tmp/decode-openh264.json" \
        "$tmp/decode-libavcodec.json" $frames <<'EOF'
import json, sys
def mean(path, name):
    node = next((n for n in json.load(open(path))[0]["nodes"] if n["node"] == name), None)
    if node is None:
        return "nan"
    if node["frames_out"] != int(sys.argv[4]):
        sys.exit(f"{name} gave {node['frames_out']} pictures, not {sys.argv[4]}")
    return node["process_ms"]["mean"]
print(mean(sys.argv[1], "encode"), mean(sys.argv[2], "decode"), mean(sys.argv[3], "decode"))
EOF
)
    x264=$(ffmpeg_seconds -i "$tmp/in.y4m" -threads 1 -c:v libx264 -preset ultrafast -profile:v baseline \
        -b:v "${bitrate}k" -g 60 -f null -)
    native=$(ffmpeg_seconds -threads 1 -i "$tmp/ooblex.mp4" -f null -)
    raw="filesrc location=$tmp/in.y4m ! y4mdec"
    gst_read=$(gst_seconds $raw ! fakesink)
    gst_openh264enc=$(gst_seconds $raw ! openh264enc multi-thread=1 rate-control=bitrate \
        bitrate=$((bitrate * 1000)) gop-size=60 enable-frame-skip=false ! fakesink)
    gst_x264=$(gst_seconds $raw ! x264enc threads=1 speed-preset=ultrafast bitrate=$bitrate key-int-max=60 \
        ! video/x-h264,profile=constrained-baseline ! fakesink)
    parsed="filesrc location=$tmp/ooblex.mp4 ! qtdemux ! h264parse"
    gst_parse=$(gst_seconds $parsed ! fakesink)
    gst_openh264dec=$(gst_seconds $parsed ! openh264dec ! fakesink)
    gst_avdec=$(gst_seconds $parsed ! avdec_h264 max-threads=1 ! fakesink)
    python3 - "$size" "$frames" "$encode_ms" "$decode_ms" "$libav_ms" "$x264" "$native" "$gst_read" \
        "$gst_openh264enc" "$gst_x264" "$gst_parse" "$gst_openh264dec" "$gst_avdec" <<'EOF'
import sys
size, frames = sys.argv[1], int(sys.argv[2])
enc, dec, libav, x264, native, read, oenc, genc, parse, odec, avdec = map(float, sys.argv[3:])
per_frame = lambda seconds: seconds * 1000 / frames
ms = lambda value: f"{value:.2f} ms ({1000 / value:.0f} fps)"
rows = [
    ("encode", enc, per_frame(oenc - read), per_frame(genc - read), per_frame(x264)),
    ("decode (OpenH264)", dec, per_frame(odec - parse), per_frame(avdec - parse), per_frame(native)),
]
if libav == libav:  # not NaN: the build has libavcodec, whose same codec is avdec_h264
    rows.append(("decode (libavcodec)", libav, per_frame(avdec - parse), per_frame(avdec - parse), per_frame(native)))
for work, ours, same, gst, ffmpeg in rows:
    print(f"| {work} | {size} | {ms(ours)} | {ms(same)} | {ms(gst)} | {ms(ffmpeg)} | {ours / same:.2f} | {ours / ffmpeg:.2f} |")
EOF
done

# Latency from RTMP in to MJPEG out: ffmpeg publishes 720p30 (x264, zerolatency)
# to rtmp_source -> h264_decode -> mjpeg_sink; the sink's latency is from the
# instant each frame arrived to the moment its JPEG is published.
port=$(free_port)
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
