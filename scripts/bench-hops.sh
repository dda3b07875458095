#!/usr/bin/env bash
# Cost of one hop (queue + thread hand-off) at 1920x1080, Ooblex against
# GStreamer's `queue ! identity`, measured in one run on this machine.
#
#   scripts/bench-hops.sh            # needs gst-launch-1.0 (gstreamer1.0-tools)
#
# GStreamer: fakesrc sends N fixed 6220800-byte buffers (filltype=nothing)
# through 10 `queue ! identity` hops and through none; per hop = the difference
# in median wall time of five runs / (10 N). Tee to 8 `queue ! fakesink` for fan-out.
# Ooblex: the criterion bench `hops` (runtime/benches/hops.rs), the same shapes.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-50000}

command -v gst-launch-1.0 >/dev/null || { echo "install gstreamer1.0-tools first" >&2; exit 1; }

# Median wall time of five runs.
wall() {
    python3 -c 'import statistics, subprocess, sys, time
def once():
    t = time.perf_counter(); subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); return time.perf_counter() - t
print(statistics.median(once() for _ in range(5)))' \
        gst-launch-1.0 -q "$@"
}
src="fakesrc num-buffers=$N sizetype=fixed sizemax=6220800 filltype=nothing"
hops=""; for _ in $(seq 10); do hops="$hops queue ! identity !"; done
tee=""; for _ in $(seq 8); do tee="$tee t. ! queue ! fakesink sync=false"; done

echo "==> GStreamer, $N buffers"
g0=$(wall $src ! fakesink sync=false)
g10=$(wall $src ! $hops fakesink sync=false)
g1=$(wall $src ! queue ! fakesink sync=false)
gf=$(wall $src ! tee name=t $tee)

echo "==> Ooblex (cargo bench --bench hops)"
cargo bench --quiet -p ooblex-runtime --bench hops -- --noplot >/dev/null 2>&1 || cargo bench -p ooblex-runtime --bench hops
est() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['median']['point_estimate']/1000)" "target/criterion/hops_1080p/$1/new/estimates.json"; }
o0=$(est chain_0); o10=$(est chain_10); of=$(est fanout_8)

python3 - "$N" "$g0" "$g10" "$g1" "$gf" "$o0" "$o10" "$of" <<'PY'
import sys
n, g0, g10, g1, gf, o0, o10, of = (float(x) for x in sys.argv[1:])
gst_hop = (g10 - g0) / (10 * n) * 1e6
gst_fan = (gf - g0) / n * 1e6
ours_hop = (o10 - o0) / 10
ours_fan = of - o0
print(f"| measure | Ooblex | GStreamer | ratio |")
print(f"|---|---|---|---|")
print(f"| one hop, µs wall per frame (10 hops minus none, / 10) | {ours_hop:.2f} | {gst_hop:.2f} | {ours_hop / gst_hop:.2f} |")
print(f"| fan-out to 8 sinks, µs wall per frame (minus no fan-out) | {ours_fan:.2f} | {gst_fan:.2f} | {ours_fan / gst_fan:.2f} |")
print(f"| source to one sink, µs per frame | {o0:.2f} | {g0 / n * 1e6:.2f} (no queue), {g1 / n * 1e6:.2f} (one queue) | |")
PY
