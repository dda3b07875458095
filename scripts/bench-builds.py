#!/usr/bin/env python3
"""Compare two builds of `ooblex` node by node: what a change of build settings costs at run time.

Each case is a graph `image_source (astronaut photo at 240 fps) -> scale -> NODE -> null_sink`,
run headless with `ooblex bench` by each binary in turn (A, B, A, B, ...), so both see the
same machine load; the table gives the node's mean time per frame under each binary, the
median over the rounds, and B / A. The AI effects run on tract (the embedded backend the
release profile has to keep fast); the others are Ooblex's own pixel code and the JPEG
encoder.

Usage (from the repository root):
    python3 scripts/bench-builds.py A_BINARY B_BINARY [--rounds 3] [--duration 4]
"""

import argparse
import importlib.util
import os
import statistics

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("bench_effects", os.path.join(HERE, "bench-effects.py"))
bench_effects = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench_effects)

# (label, kind, params, width, height)
CASES = [(label, kind, {**params, "backend": "tract"}, 640, 480) for label, kind, params in bench_effects.EFFECTS] + [
    ("pixelate", "pixelate", {"block": 20}, 1280, 720),
    ("blur", "blur", {}, 1280, 720),
    ("cartoon", "cartoon", {}, 1280, 720),
    ("edge_detect", "edge_detect", {"threshold": 24}, 1280, 720),
    ("jpeg_encode (q80)", "jpeg_encode", {"quality": 80}, 1280, 720),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=float, default=4)
    args = ap.parse_args()
    print(f"A = {args.a}\nB = {args.b}\n")
    print("| node | size | A ms/frame | B ms/frame | B / A |")
    print("|---|---|---|---|---|")
    ratios = []
    for label, kind, params, width, height in CASES:
        times = {args.a: [], args.b: []}
        for _ in range(args.rounds):
            for binary in (args.a, args.b):
                run = bench_effects.bench(binary, kind, params, width, height, args.duration)
                times[binary].append(run["ms_per_frame"])
        a, b = statistics.median(times[args.a]), statistics.median(times[args.b])
        ratios.append(b / a)
        print(f"| {label} | {width}x{height} | {a:.2f} | {b:.2f} | {b / a:.2f} |", flush=True)
    print(f"\ngeometric mean of B / A: {statistics.geometric_mean(ratios):.3f}")


if __name__ == "__main__":
    main()
