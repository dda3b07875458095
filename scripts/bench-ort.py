#!/usr/bin/env python3
"""Time the project's models under ONNX Runtime (Python) on this machine.

The numbers are a reference point for the Rust runtime: same models, same
input sizes, plain CPU execution provider.

Usage:
    python3 scripts/bench-ort.py [--threads 1,all] [--iterations 30] [--warmup 3]
                                 [--models NAME,...] [--sizes 640x480,1280x720]
                                 [--models-dir models] [--json out.json]

Requirements (PyPI): onnxruntime, onnx, numpy, pyyaml.

What it does, for every manifest models/*.yaml (see models/*.yaml for the
fields):
  * a model whose file is missing is skipped with a message;
  * fixed-size models (manifest input.width and input.height) are timed at
    that size; any-size models (no width/height) at each --sizes entry
    (default 640x480 and 1280x720), each side rounded up to a multiple of
    input.multiple_of (default 32 when input.override_shape is set, else 1):
    1280x720 -> 1280x736 for a model that needs multiples of 32;
  * weights that the model also lists as graph inputs are dropped from the
    inputs (they are constants; ORT folds them only then);
  * when input.override_shape is true, or the model declares fixed input dims
    that differ from the requested size (centerface declares [10,3,32,32]),
    the graph input dims are rewritten to [1, C, H, W] (or [1, H, W, C] for
    input.layout nhwc), output dims are made symbolic and stored shape hints
    are dropped, before the session is created;
  * the input is random with a fixed seed: pixels uniform in 0..255, then
    (pixel - input.mean) / input.std when the manifest gives them. Any other
    graph input (e.g. multistyle26's style_weights [26]) gets uniform 0..1
    values, normalised to sum 1 when it is a vector; free dims become 1;
  * each --threads entry sets intra_op_num_threads ("all" = every core);
    inter_op_num_threads is 1 and execution is sequential. The default "1,all"
    gives the single-thread figure that matches the runtime's one inference
    per node, and the all-cores figure;
  * session.run is called --warmup times untimed, then --iterations times;
    the table shows median and 90th percentile wall time in milliseconds.
"""

import argparse
import glob
import json
import os
import platform
import sys
import time

MISSING = []
try:
    import numpy as np
except ImportError:
    MISSING.append("numpy")
try:
    import yaml
except ImportError:
    MISSING.append("pyyaml")
try:
    import onnx
except ImportError:
    MISSING.append("onnx")
try:
    import onnxruntime as ort
except ImportError:
    MISSING.append("onnxruntime")
if MISSING:
    sys.exit(f"bench-ort: missing Python package(s): {', '.join(MISSING)}\n"
             f"install with: pip install {' '.join(MISSING)}")

SEED = 1234
ORT_DTYPES = {
    "tensor(float)": np.float32,
    "tensor(float16)": np.float16,
    "tensor(double)": np.float64,
    "tensor(uint8)": np.uint8,
    "tensor(int8)": np.int8,
    "tensor(int32)": np.int32,
    "tensor(int64)": np.int64,
}


def parse_size(text):
    w, h = text.lower().split("x")
    return int(w), int(h)


def round_up(value, multiple):
    return -(-value // multiple) * multiple


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def load_manifests(models_dir, only):
    manifests = []
    for path in sorted(glob.glob(os.path.join(models_dir, "*.yaml"))):
        try:
            with open(path) as f:
                man = yaml.safe_load(f)
        except (OSError, yaml.YAMLError) as err:
            print(f"skip {path}: cannot read manifest ({err})")
            continue
        if not isinstance(man, dict) or "file" not in man:
            print(f"skip {path}: not a model manifest (no 'file')")
            continue
        man.setdefault("name", os.path.splitext(os.path.basename(path))[0])
        if only and man["name"] not in only:
            continue
        man["_path"] = os.path.join(models_dir, man["file"])
        manifests.append(man)
    return manifests


def requested_sizes(man, sizes):
    """The (width, height) pairs to time this model at."""
    spec = man.get("input") or {}
    if spec.get("width") and spec.get("height"):
        return [(int(spec["width"]), int(spec["height"]))]
    multiple = int(spec.get("multiple_of") or (32 if spec.get("override_shape") else 1))
    out = []
    for w, h in sizes:
        size = (round_up(w, multiple), round_up(h, multiple))
        if size not in out:
            out.append(size)
    return out


def image_input(model, spec):
    """The graph input that takes the picture (manifest input.name, else the first one)."""
    inits = {i.name for i in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in inits]
    for inp in inputs:
        if inp.name == spec.get("name"):
            return inp
    return inputs[0]


def image_dims(spec, width, height, channels):
    if (spec.get("layout") or "nchw").lower() == "nhwc":
        return [1, height, width, channels]
    return [1, channels, height, width]


def prepare_model(man, width, height):
    """Returns (model bytes, image input name, image dims, whether dims were rewritten)."""
    spec = man.get("input") or {}
    model = onnx.load(man["_path"])
    # Old exporters list every weight as a graph input too; ORT then cannot
    # constant-fold them. They are constants, so drop them from the inputs.
    inits = {i.name for i in model.graph.initializer}
    graph_inputs = [i for i in model.graph.input if i.name not in inits]
    del model.graph.input[:]
    model.graph.input.extend(graph_inputs)
    inp = image_input(model, spec)
    dims = inp.type.tensor_type.shape.dim
    layout = (spec.get("layout") or "nchw").lower()
    declared = [d.dim_value if d.HasField("dim_value") else None for d in dims]
    if len(declared) != 4:
        raise ValueError(f"input {inp.name} has rank {len(declared)}, expected 4")
    c_axis = 3 if layout == "nhwc" else 1
    channels = declared[c_axis] or 3
    want = image_dims(spec, width, height, channels)
    fixed_and_different = all(v is not None for v in declared) and declared != want
    rewrite = bool(spec.get("override_shape")) or fixed_and_different
    if rewrite:
        for d, v in zip(dims, want):
            d.ClearField("dim_param")
            d.dim_value = v
        for out in model.graph.output:
            for i, d in enumerate(out.type.tensor_type.shape.dim):
                d.ClearField("dim_value")
                d.dim_param = f"{out.name}_d{i}"
        del model.graph.value_info[:]
    return model.SerializeToString(), inp.name, want, rewrite


def make_feeds(session, image_name, image_shape, spec, rng):
    feeds = {}
    for inp in session.get_inputs():
        dtype = ORT_DTYPES.get(inp.type)
        if dtype is None:
            raise ValueError(f"input {inp.name}: unsupported type {inp.type}")
        if inp.name == image_name:
            pixels = rng.uniform(0.0, 255.0, size=image_shape)
            if np.issubdtype(dtype, np.floating):
                layout = (spec.get("layout") or "nchw").lower()
                shape = [1, 1, 1, -1] if layout == "nhwc" else [1, -1, 1, 1]
                if spec.get("mean") is not None:
                    pixels = pixels - np.asarray(spec["mean"], np.float64).reshape(shape)
                if spec.get("std") is not None:
                    pixels = pixels / np.asarray(spec["std"], np.float64).reshape(shape)
            feeds[inp.name] = pixels.astype(dtype)
            continue
        shape = [d if isinstance(d, int) and d > 0 else 1 for d in inp.shape]
        if np.issubdtype(dtype, np.floating):
            values = rng.uniform(0.0, 1.0, size=shape)
            if len(shape) == 1:
                values = values / values.sum()
            feeds[inp.name] = values.astype(dtype)
        else:
            feeds[inp.name] = np.zeros(shape, dtype)
    return feeds


def time_session(session, feeds, warmup, iterations):
    for _ in range(warmup):
        session.run(None, feeds)
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        session.run(None, feeds)
        times.append((time.perf_counter() - start) * 1000.0)
    return times


def main():
    ap = argparse.ArgumentParser(description="Benchmark the project's ONNX models under ONNX Runtime.")
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--models-dir", default=os.path.join(here, "..", "models"))
    ap.add_argument("--models", default="", help="comma-separated manifest names (default: all)")
    ap.add_argument("--threads", default="1,all",
                    help="comma-separated intra-op thread counts; 'all' = every core (default 1,all)")
    ap.add_argument("--iterations", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--sizes", default="640x480,1280x720", help="sizes for any-size models")
    ap.add_argument("--json", help="write the results to this file")
    args = ap.parse_args()

    ort.set_default_logger_severity(3)
    cores = os.cpu_count() or 1
    threads = []
    for t in args.threads.split(","):
        n = cores if t.strip() == "all" else int(t)
        if n not in threads:
            threads.append(n)
    sizes = [parse_size(s) for s in args.sizes.split(",") if s]
    only = {m for m in args.models.split(",") if m}

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"onnxruntime {ort.__version__}, {cores} cores ({cpu_name()}), load average {load:.2f}, "
          f"{args.iterations} iterations after {args.warmup} warm-up, seed {SEED}")
    results = []
    for man in load_manifests(args.models_dir, only):
        if not os.path.isfile(man["_path"]):
            print(f"skip {man['name']}: model file {man['_path']} is missing")
            continue
        spec = man.get("input") or {}
        for width, height in requested_sizes(man, sizes):
            try:
                model_bytes, image_name, image_shape, rewritten = prepare_model(man, width, height)
            except (ValueError, onnx.onnx_cpp2py_export.checker.ValidationError) as err:
                print(f"skip {man['name']} {width}x{height}: {err}")
                continue
            for n in threads:
                opts = ort.SessionOptions()
                opts.intra_op_num_threads = n
                opts.inter_op_num_threads = 1
                opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
                opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
                opts.log_severity_level = 3  # errors only
                try:
                    session = ort.InferenceSession(model_bytes, opts, providers=["CPUExecutionProvider"])
                    feeds = make_feeds(session, image_name, image_shape, spec, np.random.default_rng(SEED))
                    times = time_session(session, feeds, args.warmup, args.iterations)
                except Exception as err:  # an ORT failure on one model must not stop the others
                    print(f"skip {man['name']} {width}x{height} threads={n}: {err}")
                    continue
                row = {
                    "model": man["name"],
                    "width": width,
                    "height": height,
                    "threads": n,
                    "shape_overridden": rewritten,
                    "median_ms": float(np.median(times)),
                    "p90_ms": float(np.percentile(times, 90)),
                    "min_ms": float(np.min(times)),
                    "mean_ms": float(np.mean(times)),
                    "iterations": len(times),
                }
                results.append(row)
                print(f"  done {row['model']} {width}x{height} threads={n}: {row['median_ms']:.2f} ms", flush=True)

    print()
    header = f"{'model':<24} {'size':>10} {'threads':>7} {'median ms':>10} {'p90 ms':>10}"
    print(header)
    print("-" * len(header))
    for r in results:
        print(f"{r['model']:<24} {str(r['width']) + 'x' + str(r['height']):>10} {r['threads']:>7} "
              f"{r['median_ms']:>10.2f} {r['p90_ms']:>10.2f}")

    if args.json:
        doc = {
            "onnxruntime": ort.__version__,
            "cpu": cpu_name(),
            "cores": cores,
            "load_average_at_start": load,
            "iterations": args.iterations,
            "warmup": args.warmup,
            "seed": SEED,
            "results": results,
        }
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
