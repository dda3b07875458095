"""Fold constant subgraphs, rename I/O and fix shapes of the tf2onnx NanoDet export."""
import sys, onnx, numpy as np, onnxruntime as ort
from onnx import helper, numpy_helper, shape_inference

src, dst = sys.argv[1], sys.argv[2]
m = onnx.load(src)
g = m.graph
const = {i.name for i in g.initializer}
for n in g.node:
    if n.op_type == "Constant":
        const.update(n.output)
# nodes whose inputs are all constant
foldable = []
changed = True
while changed:
    changed = False
    for n in g.node:
        if n in foldable or n.op_type == "Constant":
            continue
        if all((i == "" or i in const) for i in n.input):
            foldable.append(n); const.update(n.output); changed = True
print("foldable:", [n.op_type for n in foldable])
# evaluate folded outputs with onnxruntime
needed = [o for n in foldable for o in n.output]
tmp = onnx.ModelProto(); tmp.CopyFrom(m)
del tmp.graph.output[:]
tmp.graph.output.extend([onnx.ValueInfoProto(name=o) for o in needed])
sess = ort.InferenceSession(tmp.SerializeToString(), providers=["CPUExecutionProvider"])
feed = {i.name: np.zeros([d.dim_value for d in i.type.tensor_type.shape.dim], np.float32) for i in m.graph.input}
vals = dict(zip(needed, sess.run(needed, feed)))
keep = [n for n in g.node if n not in foldable]
del g.node[:]; g.node.extend(keep)
for k, v in vals.items():
    g.initializer.append(numpy_helper.from_array(np.asarray(v), k))
# drop unused initializers
used = {i for n in g.node for i in n.input}
inits = [i for i in g.initializer if i.name in used]
del g.initializer[:]; g.initializer.extend(inits)
# rename I/O
ren = {"input_1:0": "input"}
cls = {2704: "cls_s8", 676: "cls_s16", 169: "cls_s32"}
reg = {2704: "reg_s8", 676: "reg_s16", 169: "reg_s32"}
out_shapes = {}
s = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
res = s.run(None, {"input_1:0": np.zeros((1, 3, 416, 416), np.float32)})
for o, r in zip(s.get_outputs(), res):
    name = (cls if r.shape[2] == 80 else reg)[r.shape[1]]
    ren[o.name] = name; out_shapes[name] = r.shape
for n in g.node:
    for i, x in enumerate(n.input):
        if x in ren: n.input[i] = ren[x]
    for i, x in enumerate(n.output):
        if x in ren: n.output[i] = ren[x]
for i in g.input: i.name = ren.get(i.name, i.name)
order = ["cls_s8", "reg_s8", "cls_s16", "reg_s16", "cls_s32", "reg_s32"]
del g.output[:]
g.output.extend([helper.make_tensor_value_info(n, onnx.TensorProto.FLOAT, list(out_shapes[n])) for n in order])
del g.value_info[:]
g.name = "nanodet_g_416"
m.doc_string = "NanoDet-g 416x416 (COCO 80 classes)"
m = shape_inference.infer_shapes(m)
onnx.checker.check_model(m, full_check=True)
onnx.save(m, dst)
print("saved", dst)

# ---- second pass: fold constant zero Pad into the following Conv, -inf Pad into MaxPool
m = onnx.load(dst)
g = m.graph
inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}
consumers = {}
for n in g.node:
    for i in n.input:
        consumers.setdefault(i, []).append(n)
remove = []
for n in g.node:
    if n.op_type != "Pad":
        continue
    pads = inits[n.input[1]].tolist()
    val = float(inits[n.input[2]]) if len(n.input) > 2 and n.input[2] else 0.0
    mode = [a for a in n.attribute if a.name == "mode"]
    if mode and mode[0].s not in (b"constant",):
        continue
    cons = consumers.get(n.output[0], [])
    if len(cons) != 1 or pads[0] or pads[1] or pads[4] or pads[5]:
        continue
    c = cons[0]
    if (c.op_type == "Conv" and val == 0.0) or (c.op_type == "MaxPool" and val == float("-inf")):
        old = [a for a in c.attribute if a.name == "pads"]
        base = list(old[0].ints) if old else [0, 0, 0, 0]
        assert not [a for a in c.attribute if a.name == "auto_pad" and a.s not in (b"NOTSET",)]
        newp = [base[0] + pads[2], base[1] + pads[3], base[2] + pads[6], base[3] + pads[7]]
        for a in old:
            c.attribute.remove(a)
        c.attribute.append(helper.make_attribute("pads", newp))
        c.input[0] = n.input[0]
        remove.append(n)
for n in remove:
    g.node.remove(n)
used = {i for n in g.node for i in n.input}
keep_init = [i for i in g.initializer if i.name in used]
del g.initializer[:]; g.initializer.extend(keep_init)
# only the default domain is used
ops = [o for o in m.opset_import if o.domain in ("", "ai.onnx")]
del m.opset_import[:]; m.opset_import.extend(ops)
m.producer_name = "tf2onnx+fold"
onnx.checker.check_model(m, full_check=True)
onnx.save(m, dst)
print("folded", len(remove), "Pad nodes")
