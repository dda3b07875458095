#!/usr/bin/env python3
"""Benchmark every AI effect with `ooblex bench`, through tract and through ONNX Runtime.

For each effect and each frame size, a graph `image_source (astronaut photo at 240 fps)
-> scale -> EFFECT -> null_sink` runs headless for a few seconds, once with
`backend: tract` and once with `backend: onnxruntime`, and the effect node's mean time
per frame and the graph's output frames per second (the effect's capacity: the source
offers more than it can take) are reported. Both runs share the same pre- and
post-processing, so their ratio is the ratio of the two backends' inference times.

Usage (from the repository root):
    python3 scripts/bench-effects.py [--sizes 640x480,1280x720] [--duration 6] [--json out.json]

Needs a release build with ONNX Runtime: `cargo build --release --features onnxruntime`,
and ORT_DYLIB_PATH (scripts/test.sh sets one up under target/).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

EFFECTS = [
    # (label, kind, params)
    ("face_blur (blazeface)", "face_blur", {}),
    ("face_blur (centerface, 320 px)", "face_blur", {"model": "centerface", "size": 320}),
    ("face_detect (centerface, full frame)", "face_detect", {"model": "centerface", "size": 4096}),
    ("background_blur", "background_blur", {}),
    ("style_transfer (320 px)", "style_transfer", {"size": 320}),
    ("object_detect (nanodet_g)", "object_detect", {}),
    ("face_swap (centerface, 320 px)", "face_swap", {"reference": "tests/data/camera.png", "size": 320}),
]

GRAPH = """version: 1
name: bench
nodes:
  camera:
    kind: image_source
    params: {{ path: tests/data/astronaut.png, fps: 240 }}
  sized:
    kind: scale
    inputs: {{ video: camera }}
    params: {{ width: {width}, height: {height} }}
  effect:
    kind: {kind}
    inputs: {{ video: sized }}
    params: {params}
  out:
    kind: null_sink
    inputs: {{ video: effect }}
"""


def bench(binary, kind, params, width, height, duration):
    with tempfile.TemporaryDirectory() as tmp:
        graph = os.path.join(tmp, "bench.yaml")
        report = os.path.join(tmp, "report.json")
        with open(graph, "w") as f:
            f.write(GRAPH.format(kind=kind, params=json.dumps(params), width=width, height=height))
        cmd = [binary, "bench", graph, "--duration", str(duration), "--warmup", "3", "--json", report]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"{' '.join(cmd)} failed:\n{done.stderr}")
        with open(report) as f:
            runs = json.load(f)
    run = runs[0]
    effect = next(n for n in run["nodes"] if n["node"] == "effect")
    return {
        # Means are exact; the p50 comes from histogram buckets.
        "ms_per_frame": effect["process_ms"]["mean"],
        "fps": run["summary"]["output_fps"],
        "cores_used": run["summary"]["cores_used"],
        "machine": run["machine"],
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--binary", default="target/release/ooblex")
    ap.add_argument("--sizes", default="640x480,1280x720")
    ap.add_argument("--duration", type=float, default=6)
    ap.add_argument("--json")
    args = ap.parse_args()
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",")]
    rows = []
    print("| effect | size | tract ms/frame | tract fps | onnxruntime ms/frame | onnxruntime fps | tract / onnxruntime |")
    print("|---|---|---|---|---|---|---|")
    for label, kind, params in EFFECTS:
        for width, height in sizes:
            result = {}
            for backend in ("tract", "onnxruntime"):
                result[backend] = bench(args.binary, kind, {**params, "backend": backend}, width, height, args.duration)
            t, o = result["tract"], result["onnxruntime"]
            ratio = t["ms_per_frame"] / o["ms_per_frame"]
            print(
                f"| {label} | {width}x{height} | {t['ms_per_frame']:.1f} | {t['fps']:.1f} "
                f"| {o['ms_per_frame']:.1f} | {o['fps']:.1f} | {ratio:.2f} |",
                flush=True,
            )
            rows.append({"effect": label, "size": [width, height], **result})
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
