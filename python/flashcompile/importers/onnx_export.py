"""fc.export_onnx: a traced Flash graph written as an ONNX model.

Works on what fc.jit / fc.compile / fc.from_onnx traced (the graph as it
was built, before compiler rewrites), op by op: every Flash op has an ONNX
equivalent (opset 17) or a short decomposition (GELU as its erf form,
attention as MatMul-Softmax-MatMul). The model is checked with
onnx.checker before it is written.
"""
from __future__ import annotations

import math

import numpy as np

OPSET = 17

_SIMPLE = {"flash.add": "Add", "flash.sub": "Sub", "flash.mul": "Mul", "flash.div": "Div",
           "flash.pow": "Pow", "flash.max": "Max", "flash.relu": "Relu", "flash.exp": "Exp",
           "flash.tanh": "Tanh", "flash.sigmoid": "Sigmoid", "flash.erf": "Erf",
           "flash.sqrt": "Sqrt", "flash.neg": "Neg", "flash.matmul": "MatMul",
           "flash.batch_matmul": "MatMul"}


_COMPARE = {"flash.equal": ("Equal", False), "flash.not_equal": ("Equal", True),
            "flash.less": ("Less", False), "flash.less_equal": ("LessOrEqual", False)}


class _Writer:
    def __init__(self, helper, numpy_helper):
        self.h, self.nh = helper, numpy_helper
        self.nodes, self.inits = [], []
        self.count = 0

    def fresh(self, stem):
        self.count += 1
        return f"{stem}_{self.count}"

    def const(self, array, stem="c"):
        name = self.fresh(stem)
        self.inits.append(self.nh.from_array(np.asarray(array), name))
        return name

    def node(self, op, inputs, stem=None, **attrs):
        out = self.fresh(stem or op.lower())
        self.nodes.append(self.h.make_node(op, inputs, [out], **attrs))
        return out


def _emit(w: _Writer, name, ins, attrs, shape, shapes):
    """ONNX nodes for one Flash op; returns the output value name."""
    if name in _SIMPLE:
        return w.node(_SIMPLE[name], ins)
    if name == "flash.gelu":
        x = ins[0]
        erf = w.node("Erf", [w.node("Mul", [x, w.const(np.float32(1 / math.sqrt(2)))])])
        cdf = w.node("Add", [erf, w.const(np.float32(1.0))])
        return w.node("Mul", [w.node("Mul", [x, w.const(np.float32(0.5))]), cdf])
    if name == "flash.bias_add":
        axis, rank = attrs["axis"], len(shape)
        target = [1] * rank
        target[axis] = shape[axis]
        bias = w.node("Reshape", [ins[1], w.const(np.array(target, np.int64))])
        return w.node("Add", [ins[0], bias])
    if name == "flash.conv2d":
        return w.node("Conv", ins, strides=list(attrs["stride"]), pads=list(attrs["padding"]),
                      dilations=list(attrs["dilation"]), group=int(attrs.get("groups", 1)))
    if name == "flash.transpose":
        return w.node("Transpose", ins, perm=list(attrs["permutation"]))
    if name == "flash.reshape":
        return w.node("Reshape", [ins[0], w.const(np.array(attrs["shape"], np.int64))])
    if name == "flash.flatten":
        return w.node("Flatten", ins, axis=attrs["axis"])
    if name == "flash.concat":
        return w.node("Concat", ins, axis=attrs["axis"])
    if name == "flash.slice":
        starts, sizes, steps = attrs["starts"], attrs["sizes"], attrs["steps"]
        ends = [b + (n - 1) * k + 1 if n else b for b, n, k in zip(starts, sizes, steps)]
        consts = [w.const(np.array(v, np.int64)) for v in (starts, ends, range(len(starts)),
                                                           steps)]
        return w.node("Slice", [ins[0], *consts])
    if name in ("flash.reduce_sum", "flash.reduce_mean", "flash.reduce_max"):
        keep = int(attrs.get("keepdims", False))
        axes = list(attrs["axes"])
        if not axes:
            return w.node("Identity", ins)
        if name == "flash.reduce_sum":  # axes an input since opset 13
            return w.node("ReduceSum", [ins[0], w.const(np.array(axes, np.int64))], keepdims=keep)
        op = "ReduceMean" if name == "flash.reduce_mean" else "ReduceMax"
        return w.node(op, ins, axes=axes, keepdims=keep)
    if name == "flash.softmax":
        return w.node("Softmax", ins, axis=attrs["axis"])
    if name == "flash.layer_norm":
        return w.node("LayerNormalization", ins, axis=attrs["axis"], epsilon=attrs["epsilon"])
    if name == "flash.batch_norm":
        return w.node("BatchNormalization", ins, epsilon=attrs["epsilon"])
    if name in ("flash.max_pool2d", "flash.avg_pool2d"):
        extra = {} if name == "flash.max_pool2d" else \
            {"count_include_pad": int(attrs.get("count_include_pad", True))}
        return w.node("MaxPool" if name == "flash.max_pool2d" else "AveragePool", ins,
                      kernel_shape=list(attrs["kernel"]), strides=list(attrs["stride"]),
                      pads=list(attrs["padding"]), **extra)
    if name in _COMPARE:  # ONNX compares give bool: back to a 0/1 float mask
        op, negate = _COMPARE[name]
        out = w.node(op, ins)
        return w.node("Cast", [w.node("Not", [out]) if negate else out], to=1)
    if name == "flash.select":
        cond = w.node("Not", [w.node("Equal", [ins[0], w.const(np.float32(0))])])
        return w.node("Where", [cond, ins[1], ins[2]])
    if name == "flash.gather":
        return w.node("Gather", ins, axis=attrs["axis"])
    if name == "flash.cast":
        return w.node("Cast", ins, to=1)  # TensorProto.FLOAT
    if name == "flash.attention":
        q, k, v = ins
        rank = len(shapes[0])
        d = shapes[0][-1]
        perm = list(range(rank - 2)) + [rank - 1, rank - 2]
        scale = attrs.get("scale", 1 / math.sqrt(d))
        scores = w.node("Mul", [w.node("MatMul", [q, w.node("Transpose", [k], perm=perm)]),
                                w.const(np.float32(scale))])
        if attrs.get("causal"):
            sq, sk = shapes[0][-2], shapes[1][-2]
            mask = np.where(np.triu(np.ones((sq, sk), bool), 1), -np.inf, 0).astype(np.float32)
            scores = w.node("Add", [scores, w.const(mask, "causal_mask")])
        return w.node("MatMul", [w.node("Softmax", [scores], axis=-1), v])
    raise ValueError(f"export_onnx: no ONNX form for {name}")


def export_onnx(compiled, path: str | None = None, name: str = "flashcompile"):
    """Writes the graph `compiled` was traced from (fc.compile, fc.jit(...).lower,
    fc.from_onnx) as an ONNX model at `path`; returns the ModelProto."""
    try:
        import onnx
        from onnx import TensorProto, helper, numpy_helper
    except ImportError as e:
        raise ImportError("fc.export_onnx needs the `onnx` package: pip install onnx") from e
    trace = getattr(compiled, "trace", None)
    if trace is None:
        model_trace = getattr(getattr(compiled, "compiled", None), "trace", None)
        trace = model_trace
    if trace is None:
        raise TypeError("export_onnx: expected a traced program (fc.compile, fc.jit(...).lower "
                        f"or fc.from_onnx), got {type(compiled).__name__}")
    w = _Writer(helper, numpy_helper)
    names, shapes, inputs = {}, {}, []
    for entry in trace.record:
        kind, handle = entry[0], entry[1]
        if kind == "input":
            names[handle] = f"input_{len(inputs)}"
            shapes[handle] = entry[2]
            element = {np.dtype(np.int64): TensorProto.INT64,
                       np.dtype(np.int32): TensorProto.INT32}.get(entry[3], TensorProto.FLOAT)
            inputs.append(helper.make_tensor_value_info(names[handle], element,
                                                        list(entry[2])))
        elif kind == "constant":
            names[handle] = w.const(entry[2], "weight")
            shapes[handle] = tuple(entry[2].shape)
        else:
            _, _, op, operands, attrs, shape = entry[:6]
            names[handle] = _emit(w, op, [names[h] for h in operands], attrs, shape,
                                  [shapes[h] for h in operands])
            shapes[handle] = shape
    outputs = []
    for i, h in enumerate(trace.results):
        out = f"output_{i}"
        w.nodes.append(helper.make_node("Identity", [names[h]], [out]))
        outputs.append(helper.make_tensor_value_info(out, TensorProto.FLOAT, list(shapes[h])))
    graph = helper.make_graph(w.nodes, name, inputs, outputs, w.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="flashcompile")
    model.ir_version = min(model.ir_version, 10)
    onnx.checker.check_model(model, full_check=True)
    if path is not None:
        onnx.save(model, path)
    return model
