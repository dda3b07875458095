#!/usr/bin/env python3
"""Convert a float TFLite model (MediaPipe style) to an equivalent ONNX model.

Usage:
    python3 scripts/models/convert_tflite_to_onnx.py MODEL.tflite MODEL.onnx

Requirements (PyPI): tflite (flatbuffer schema bindings), onnx, numpy.

What it does
------------
* Reads the first subgraph of the .tflite flatbuffer and prints its op list.
* Writes an ONNX model (opset 13, IR version 8) with fully static shapes and
  only standard operators (Conv, ConvTranspose, Add, Mul, Relu, Clip, Tanh,
  Sigmoid, HardSigmoid, PRelu, AveragePool, GlobalAveragePool, MaxPool,
  ReduceMean, Resize, Pad, Concat, Reshape, DepthToSpace, Transpose,
  Identity), so it loads in both ONNX Runtime and tract.
* Graph inputs and outputs keep the TFLite names, shapes and NHWC layout, so
  callers feed exactly the tensor the TFLite model takes. Internally 4-D
  activations are NCHW (ONNX convention): one Transpose after each 4-D input
  and one before each 4-D output.
* Constant weights that TFLite stores as float16 (DEQUANTIZE), as sparse
  tensors (DENSIFY) or as int8/uint8 with scale/zero point are decoded at
  conversion time and stored as float32 initializers.
* Fused activations (RELU, RELU6, RELU_N1_TO_1, TANH) are emitted as
  separate nodes after the op that carries them.

Supported TFLite ops: CONV_2D, DEPTHWISE_CONV_2D, ADD, MUL, HARD_SWISH,
LOGISTIC, RELU, RELU6, TANH, PRELU, AVERAGE_POOL_2D, MAX_POOL_2D, MEAN,
RESIZE_BILINEAR, PAD, CONCATENATION, RESHAPE, DEPTH_TO_SPACE, DEQUANTIZE,
DENSIFY and MediaPipe's custom op Convolution2DTransposeBias (transposed
convolution + bias; its custom options are the raw C struct
TfLiteTransposeConvParams {padding, stride_width, stride_height}).
Anything else aborts the conversion with the list of unsupported ops.
"""

import argparse
import collections
import struct
import sys

import numpy as np
import onnx
import tflite
from onnx import TensorProto, helper, numpy_helper

OPSET = 13
IR_VERSION = 8

BUILTIN_NAMES = {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}

# TFLite tensor type -> numpy dtype
TFLITE_DTYPES = {
    tflite.TensorType.FLOAT32: np.float32,
    tflite.TensorType.FLOAT16: np.float16,
    tflite.TensorType.INT32: np.int32,
    tflite.TensorType.INT64: np.int64,
    tflite.TensorType.UINT8: np.uint8,
    tflite.TensorType.INT8: np.int8,
    tflite.TensorType.INT16: np.int16,
}

# Axis of an NHWC tensor -> axis of the same tensor in NCHW.
NHWC_TO_NCHW_AXIS = {0: 0, 1: 2, 2: 3, 3: 1}

# Enum of the C struct TfLitePadding used by custom ops (differs from the
# flatbuffer enum tflite.Padding, where SAME = 0 and VALID = 1).
C_PADDING_SAME, C_PADDING_VALID = 1, 2


def op_name(model, op):
    """Readable name of a TFLite operator: builtin name or CUSTOM:<code>."""
    code = model.OperatorCodes(op.OpcodeIndex())
    builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
    if builtin == tflite.BuiltinOperator.CUSTOM:
        return "CUSTOM:" + code.CustomCode().decode()
    return BUILTIN_NAMES.get(builtin, f"BUILTIN_{builtin}")


def builtin_options(op, cls):
    """Decode the builtin options table of `op` as options class `cls`."""
    table = op.BuiltinOptions()
    opts = cls()
    if table is not None:
        opts.Init(table.Bytes, table.Pos)
    return opts


def same_padding(in_size, kernel, stride, dilation=1):
    """TensorFlow SAME padding (before, after) and output size for one axis."""
    out = -(-in_size // stride)
    effective_kernel = (kernel - 1) * dilation + 1
    total = max((out - 1) * stride + effective_kernel - in_size, 0)
    return total // 2, total - total // 2


def nhwc_to_nchw(array):
    return np.ascontiguousarray(np.transpose(array, (0, 3, 1, 2)))


def densify(values, shape, sparsity):
    """Decode a TFLite sparse tensor (DENSE / SPARSE_CSR dims, no blocks)."""
    if sparsity.BlockMapLength() > 0:
        raise NotImplementedError("sparse tensors with block maps are not supported")
    order = [int(i) for i in sparsity.TraversalOrderAsNumpy()]
    index_classes = {
        tflite.SparseIndexVector.Int32Vector: tflite.Int32Vector,
        tflite.SparseIndexVector.Uint16Vector: tflite.Uint16Vector,
        tflite.SparseIndexVector.Uint8Vector: tflite.Uint8Vector,
    }

    def index_vector(kind, table):
        vec = index_classes[kind]()
        vec.Init(table.Bytes, table.Pos)
        return vec.ValuesAsNumpy().astype(np.int64)

    # Walk the dims in traversal order, level by level: `pos` is the position
    # of each surviving entry in the next level, `coords` its coordinates.
    pos = np.zeros(1, dtype=np.int64)
    coords = np.zeros((1, 0), dtype=np.int64)
    for level in range(sparsity.DimMetadataLength()):
        dim = sparsity.DimMetadata(level)
        if dim.Format() == tflite.DimensionType.DENSE:
            size = dim.DenseSize()
            child = np.arange(size, dtype=np.int64)
            pos = (pos[:, None] * size + child[None, :]).reshape(-1)
            coords = np.repeat(coords, size, axis=0)
            coords = np.concatenate([coords, np.tile(child, len(coords) // size)[:, None]], 1)
        else:
            segments = index_vector(dim.ArraySegmentsType(), dim.ArraySegments())
            indices = index_vector(dim.ArrayIndicesType(), dim.ArrayIndices())
            starts, counts = segments[pos], segments[pos + 1] - segments[pos]
            pos = np.concatenate([np.arange(s, s + c) for s, c in zip(starts, counts)] + [[]]).astype(np.int64)
            coords = np.repeat(coords, counts, axis=0)
            coords = np.concatenate([coords, indices[pos][:, None]], 1)
    traversed_shape = [shape[i] for i in order]
    dense = np.zeros(traversed_shape, dtype=values.dtype)
    dense[tuple(coords.T)] = values[pos]
    return np.transpose(dense, np.argsort(order))


class Converter:
    """Builds an ONNX graph from one TFLite subgraph."""

    def __init__(self, data):
        self.data = data
        self.model = tflite.Model.GetRootAsModel(data, 0)
        if self.model.SubgraphsLength() != 1:
            print(f"note: model has {self.model.SubgraphsLength()} subgraphs, converting the first")
        self.graph = self.model.Subgraphs(0)
        self.nodes, self.initializers = [], []
        self.consts = {}  # tensor index -> numpy value (TFLite layout)
        self.names = {}  # tensor index -> ONNX value name
        self.nchw = set()  # tensor indices stored as NCHW in the ONNX graph
        self.unique = collections.Counter()

    # ----- tensors ---------------------------------------------------------

    def tensor(self, index):
        return self.graph.Tensors(index)

    def shape(self, index):
        return [int(d) for d in self.tensor(index).ShapeAsNumpy()]

    def name(self, index):
        """ONNX name of the value bound to TFLite tensor `index`."""
        if index not in self.names:
            raise ValueError(f"tensor {index} ({self.tensor(index).Name()}) used before it is produced")
        return self.names[index]

    def fresh(self, hint):
        self.unique[hint] += 1
        return f"{hint}_{self.unique[hint]}"

    def buffer_value(self, index):
        """Raw constant value of tensor `index`, or None when it has no data."""
        tensor = self.tensor(index)
        buf = self.model.Buffers(tensor.Buffer())
        if buf.Offset() > 1:  # data stored after the flatbuffer (large models)
            raw = self.data[buf.Offset(): buf.Offset() + buf.Size()]
        elif buf.DataLength() > 0:
            raw = buf.DataAsNumpy().tobytes()
        else:
            return None
        dtype = TFLITE_DTYPES[tensor.Type()]
        values = np.frombuffer(raw, dtype=dtype)
        if tensor.Sparsity() is not None:
            return densify(values, self.shape(index), tensor.Sparsity())
        return values.reshape(self.shape(index))

    def const(self, index):
        if index not in self.consts:
            raise NotImplementedError(f"tensor {index} ({self.tensor(index).Name()}) must be constant")
        return self.consts[index]

    def initializer(self, value, hint):
        name = self.fresh(hint)
        self.initializers.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def node(self, op_type, inputs, outputs=None, **attrs):
        outputs = outputs or [self.fresh(op_type.lower())]
        self.nodes.append(helper.make_node(op_type, inputs, outputs, name=self.fresh("n_" + op_type), **attrs))
        return outputs[0]

    def activation_input(self, index):
        """ONNX name for tensor `index` used as an op input (constants become initializers)."""
        if index in self.consts:
            value = self.consts[index].astype(np.float32)
            if value.ndim == 4:
                value = nhwc_to_nchw(value)
            return self.initializer(value, f"c{index}")
        return self.name(index)

    def finish(self, out_index, src, fused=tflite.ActivationFunctionType.NONE):
        """Apply a fused activation to `src` and bind the result to tensor `out_index`."""
        act = {
            tflite.ActivationFunctionType.NONE: None,
            tflite.ActivationFunctionType.RELU: ("Relu", None),
            tflite.ActivationFunctionType.RELU6: ("Clip", (0.0, 6.0)),
            tflite.ActivationFunctionType.RELU_N1_TO_1: ("Clip", (-1.0, 1.0)),
            tflite.ActivationFunctionType.TANH: ("Tanh", None),
        }
        if fused not in act:
            raise NotImplementedError(f"fused activation {fused}")
        if act[fused] is not None:
            src = self.emit_activation(act[fused], src)
        self.names[out_index] = src
        if len(self.shape(out_index)) == 4:
            self.nchw.add(out_index)

    def emit_activation(self, act, src):
        op_type, clip = act
        inputs = [src]
        if clip is not None:
            inputs += [self.initializer(np.float32(clip[0]), "clip_min"),
                       self.initializer(np.float32(clip[1]), "clip_max")]
        return self.node(op_type, inputs)

    # ----- op helpers (one per TFLite op kind) -----------------------------

    def op_dequantize(self, op):
        src, dst = op.Inputs(0), op.Outputs(0)
        value = self.const(src)
        quant = self.tensor(src).Quantization()
        if value.dtype in (np.int8, np.uint8, np.int16, np.int32) and quant is not None and quant.ScaleLength():
            scale = quant.ScaleAsNumpy().astype(np.float32)
            zero = quant.ZeroPointAsNumpy().astype(np.float32) if quant.ZeroPointLength() else 0.0
            if scale.size > 1:  # per-channel along quantized_dimension
                bshape = [1] * value.ndim
                bshape[quant.QuantizedDimension()] = -1
                scale, zero = scale.reshape(bshape), np.reshape(zero, bshape)
            value = (value.astype(np.float32) - zero) * scale
        self.consts[dst] = value.astype(np.float32)

    def op_densify(self, op):
        self.consts[op.Outputs(0)] = self.const(op.Inputs(0))  # already dense, see buffer_value

    def conv_pads(self, in_shape, kernel_hw, strides, dilations, padding):
        if padding == tflite.Padding.VALID:
            return [0, 0, 0, 0]
        (t, b), (l, r) = (same_padding(in_shape[1 + i], kernel_hw[i], strides[i], dilations[i]) for i in range(2))
        return [t, l, b, r]

    def op_conv_2d(self, op, depthwise=False):
        cls = tflite.DepthwiseConv2DOptions if depthwise else tflite.Conv2DOptions
        opts = builtin_options(op, cls)
        x, w_index = op.Inputs(0), op.Inputs(1)
        weights = self.const(w_index).astype(np.float32)  # OHWI, or 1HW(C*M) for depthwise
        in_shape = self.shape(x)
        if depthwise:
            group = in_shape[3]
            weights = np.ascontiguousarray(np.transpose(weights, (3, 0, 1, 2)))  # (C*M)1HW
        else:
            group = in_shape[3] // weights.shape[3]
            weights = nhwc_to_nchw(weights)  # OIHW
        strides = [opts.StrideH(), opts.StrideW()]
        dilations = [opts.DilationHFactor(), opts.DilationWFactor()]
        pads = self.conv_pads(in_shape, weights.shape[2:], strides, dilations, opts.Padding())
        inputs = [self.name(x), self.initializer(weights, f"w{w_index}")]
        if op.InputsLength() > 2 and op.Inputs(2) >= 0:
            inputs.append(self.initializer(self.const(op.Inputs(2)).astype(np.float32), f"b{op.Inputs(2)}"))
        y = self.node("Conv", inputs, kernel_shape=list(weights.shape[2:]), strides=strides,
                      dilations=dilations, pads=pads, group=group)
        self.finish(op.Outputs(0), y, opts.FusedActivationFunction())

    def op_depthwise_conv_2d(self, op):
        self.op_conv_2d(op, depthwise=True)

    def op_transpose_conv_bias(self, op):
        """MediaPipe Convolution2DTransposeBias: transposed conv (OHWI weights) + bias."""
        padding, stride_w, stride_h = struct.unpack("<3i", op.CustomOptionsAsNumpy().tobytes()[:12])
        x, w_index, b_index = op.Inputs(0), op.Inputs(1), op.Inputs(2)
        weights = self.const(w_index).astype(np.float32)  # O H W I
        kh, kw = weights.shape[1:3]
        in_shape, out_shape = self.shape(x), self.shape(op.Outputs(0))
        pads_begin, pads_end, out_pad = [], [], []
        for axis, (k, s) in enumerate([(kh, stride_h), (kw, stride_w)]):
            full = (in_shape[1 + axis] - 1) * s + k
            total = max(full - out_shape[1 + axis], 0) if padding == C_PADDING_SAME else 0
            pads_begin.append(total // 2)
            pads_end.append(total - total // 2)
            out_pad.append(out_shape[1 + axis] - (full - total))
        inputs = [self.name(x),
                  self.initializer(np.ascontiguousarray(np.transpose(weights, (3, 0, 1, 2))), f"w{w_index}"),
                  self.initializer(self.const(b_index).astype(np.float32), f"b{b_index}")]
        attrs = dict(kernel_shape=[kh, kw], strides=[stride_h, stride_w], pads=pads_begin + pads_end)
        if any(out_pad):
            attrs["output_padding"] = out_pad
        y = self.node("ConvTranspose", inputs, **attrs)
        self.finish(op.Outputs(0), y)

    def binary(self, op, op_type, cls):
        opts = builtin_options(op, cls)
        out_rank4 = len(self.shape(op.Outputs(0))) == 4
        inputs = []
        for i in range(2):
            index = op.Inputs(i)
            if index in self.consts and out_rank4:
                value = self.consts[index].astype(np.float32)
                value = nhwc_to_nchw(value.reshape([1] * (4 - value.ndim) + list(value.shape)))
                inputs.append(self.initializer(value, f"c{index}"))
            else:
                inputs.append(self.activation_input(index))
        y = self.node(op_type, inputs)
        self.finish(op.Outputs(0), y, opts.FusedActivationFunction())

    def op_add(self, op):
        self.binary(op, "Add", tflite.AddOptions)

    def op_mul(self, op):
        self.binary(op, "Mul", tflite.MulOptions)

    def op_hard_swish(self, op):
        # x * relu6(x + 3) / 6 == x * HardSigmoid(x, alpha=1/6, beta=0.5)
        x = self.name(op.Inputs(0))
        gate = self.node("HardSigmoid", [x], alpha=1.0 / 6.0, beta=0.5)
        self.finish(op.Outputs(0), self.node("Mul", [x, gate]))

    def unary(self, op, act):
        self.finish(op.Outputs(0), self.emit_activation(act, self.name(op.Inputs(0))))

    def op_logistic(self, op):
        self.unary(op, ("Sigmoid", None))

    def op_relu(self, op):
        self.unary(op, ("Relu", None))

    def op_relu6(self, op):
        self.unary(op, ("Clip", (0.0, 6.0)))

    def op_tanh(self, op):
        self.unary(op, ("Tanh", None))

    def op_prelu(self, op):
        # The slope (alpha) is a constant broadcast against NHWC, usually 1x1xC.
        x, alpha = op.Inputs(0), self.const(op.Inputs(1)).astype(np.float32)
        if x in self.nchw:
            alpha = nhwc_to_nchw(alpha.reshape([1] * (4 - alpha.ndim) + list(alpha.shape)))[0]
        y = self.node("PRelu", [self.name(x), self.initializer(alpha, f"alpha{op.Inputs(1)}")])
        self.finish(op.Outputs(0), y)

    def pool(self, op, op_type):
        opts = builtin_options(op, tflite.Pool2DOptions)
        x = op.Inputs(0)
        in_shape, out_shape = self.shape(x), self.shape(op.Outputs(0))
        kernel, strides = [opts.FilterHeight(), opts.FilterWidth()], [opts.StrideH(), opts.StrideW()]
        pads = self.conv_pads(in_shape, kernel, strides, [1, 1], opts.Padding())
        if op_type == "AveragePool" and out_shape[1:3] == [1, 1] and kernel == in_shape[1:3] and not any(pads):
            y = self.node("GlobalAveragePool", [self.name(x)])
        else:
            # TFLite excludes padded cells from averages: count_include_pad=0 (default).
            y = self.node(op_type, [self.name(x)], kernel_shape=kernel, strides=strides, pads=pads)
        self.finish(op.Outputs(0), y, opts.FusedActivationFunction())

    def op_average_pool_2d(self, op):
        self.pool(op, "AveragePool")

    def op_max_pool_2d(self, op):
        self.pool(op, "MaxPool")

    def op_mean(self, op):
        opts = builtin_options(op, tflite.ReducerOptions)
        x = op.Inputs(0)
        rank = len(self.shape(x))
        axes = [int(a) % rank for a in np.reshape(self.const(op.Inputs(1)), -1)]
        if x in self.nchw:
            axes = [NHWC_TO_NCHW_AXIS[a] for a in axes]
        keep = int(bool(opts.KeepDims()))
        if rank == 4 and not keep:
            raise NotImplementedError("MEAN on a 4-D tensor without keep_dims")
        y = self.node("ReduceMean", [self.name(x)], axes=sorted(axes), keepdims=keep)
        self.finish(op.Outputs(0), y)

    def op_resize_bilinear(self, op):
        opts = builtin_options(op, tflite.ResizeBilinearOptions)
        x = op.Inputs(0)
        n, h, w, c = self.shape(op.Outputs(0))
        if opts.AlignCorners():
            mode = "align_corners"
        elif opts.HalfPixelCenters():
            mode = "half_pixel"
        else:
            mode = "asymmetric"
        sizes = self.initializer(np.array([n, c, h, w], dtype=np.int64), "resize_sizes")
        y = self.node("Resize", [self.name(x), "", "", sizes], mode="linear",
                      coordinate_transformation_mode=mode)
        self.finish(op.Outputs(0), y)

    def op_pad(self, op):
        x = op.Inputs(0)
        paddings = np.asarray(self.const(op.Inputs(1)), dtype=np.int64).reshape(-1, 2)
        if x in self.nchw:
            paddings = paddings[[0, 3, 1, 2]]
        pads = self.initializer(np.concatenate([paddings[:, 0], paddings[:, 1]]), "pads")
        y = self.node("Pad", [self.name(x), pads], mode="constant")
        self.finish(op.Outputs(0), y)

    def op_concatenation(self, op):
        opts = builtin_options(op, tflite.ConcatenationOptions)
        rank = len(self.shape(op.Outputs(0)))
        axis = opts.Axis() % rank
        if rank == 4:
            axis = NHWC_TO_NCHW_AXIS[axis]
        inputs = [self.activation_input(op.Inputs(i)) for i in range(op.InputsLength())]
        y = self.node("Concat", inputs, axis=axis)
        self.finish(op.Outputs(0), y, opts.FusedActivationFunction())

    def op_reshape(self, op):
        # Reshape has NHWC semantics: go back to NHWC, reshape to the (static)
        # output shape, and go to NCHW again if the result is 4-D.
        x = op.Inputs(0)
        src = self.name(x)
        if x in self.nchw:
            src = self.node("Transpose", [src], perm=[0, 2, 3, 1])
        out_shape = self.shape(op.Outputs(0))
        y = self.node("Reshape", [src, self.initializer(np.array(out_shape, dtype=np.int64), "shape")])
        if len(out_shape) == 4:
            y = self.node("Transpose", [y], perm=[0, 3, 1, 2])
        self.finish(op.Outputs(0), y)

    def op_depth_to_space(self, op):
        # TF depth_to_space channel order is ONNX DepthToSpace mode DCR.
        opts = builtin_options(op, tflite.DepthToSpaceOptions)
        y = self.node("DepthToSpace", [self.name(op.Inputs(0))], blocksize=opts.BlockSize(), mode="DCR")
        self.finish(op.Outputs(0), y)

    HANDLERS = {
        "CONV_2D": op_conv_2d,
        "DEPTHWISE_CONV_2D": op_depthwise_conv_2d,
        "CUSTOM:Convolution2DTransposeBias": op_transpose_conv_bias,
        "ADD": op_add,
        "MUL": op_mul,
        "HARD_SWISH": op_hard_swish,
        "LOGISTIC": op_logistic,
        "RELU": op_relu,
        "RELU6": op_relu6,
        "TANH": op_tanh,
        "PRELU": op_prelu,
        "AVERAGE_POOL_2D": op_average_pool_2d,
        "MAX_POOL_2D": op_max_pool_2d,
        "MEAN": op_mean,
        "RESIZE_BILINEAR": op_resize_bilinear,
        "PAD": op_pad,
        "CONCATENATION": op_concatenation,
        "RESHAPE": op_reshape,
        "DEPTH_TO_SPACE": op_depth_to_space,
        "DEQUANTIZE": op_dequantize,
        "DENSIFY": op_densify,
    }

    # ----- driver ----------------------------------------------------------

    def op_list(self):
        ops = [self.graph.Operators(i) for i in range(self.graph.OperatorsLength())]
        return ops, collections.Counter(op_name(self.model, op) for op in ops)

    def io_value_info(self, index):
        return helper.make_tensor_value_info(self.tensor(index).Name().decode(), TensorProto.FLOAT, self.shape(index))

    def convert(self):
        ops, counts = self.op_list()
        unsupported = sorted(set(counts) - set(self.HANDLERS))
        if unsupported:
            raise NotImplementedError("unsupported ops: " + ", ".join(unsupported))

        for index in range(self.graph.TensorsLength()):
            value = self.buffer_value(index)
            if value is not None:
                self.consts[index] = value

        inputs, outputs = [], []
        for i in range(self.graph.InputsLength()):
            index = self.graph.Inputs(i)
            if self.tensor(index).Type() != tflite.TensorType.FLOAT32:
                raise NotImplementedError("only float32 model inputs are supported")
            inputs.append(self.io_value_info(index))
            self.names[index] = inputs[-1].name
            if len(self.shape(index)) == 4:
                self.names[index] = self.node("Transpose", [inputs[-1].name], perm=[0, 3, 1, 2])
                self.nchw.add(index)

        for op in ops:
            self.HANDLERS[op_name(self.model, op)](self, op)

        for i in range(self.graph.OutputsLength()):
            index = self.graph.Outputs(i)
            outputs.append(self.io_value_info(index))
            if index in self.nchw:
                self.node("Transpose", [self.name(index)], [outputs[-1].name], perm=[0, 2, 3, 1])
            else:
                self.node("Identity", [self.name(index)], [outputs[-1].name])

        graph = helper.make_graph(self.nodes, "converted_from_tflite", inputs, outputs, self.initializers)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                  producer_name="convert_tflite_to_onnx.py")
        model.ir_version = IR_VERSION
        onnx.checker.check_model(model, full_check=True)
        return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("input", help="path of the .tflite model")
    parser.add_argument("output", help="path of the .onnx model to write")
    args = parser.parse_args()

    with open(args.input, "rb") as f:
        converter = Converter(f.read())
    _, counts = converter.op_list()
    print(f"{args.input}: {sum(counts.values())} ops")
    for name, count in sorted(counts.items()):
        mark = "" if name in Converter.HANDLERS else "   <-- unsupported"
        print(f"  {name:36s} {count:4d}{mark}")
    try:
        model = converter.convert()
    except NotImplementedError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    onnx.save(model, args.output)
    for kind, values in (("input", model.graph.input), ("output", model.graph.output)):
        for v in values:
            dims = [d.dim_value for d in v.type.tensor_type.shape.dim]
            print(f"{kind}: {v.name} float32 {dims}")
    print(f"wrote {args.output} ({len(model.graph.node)} nodes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
