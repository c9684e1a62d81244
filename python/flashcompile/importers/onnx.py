"""fc.from_onnx: an ONNX model as one compiled Flash graph.

The graph is traced like an fc.jit function: graph inputs become function
arguments (static shapes required), initializers become constants, and
every node maps to fc ops through the handler table below. Shape
computations on constants (Shape, Gather, Unsqueeze, Concat of shape
vectors, as exported transformer graphs have) fold with NumPy at import
time. Anything else — an op type, attribute value, dtype or dynamic shape
the table does not take — raises UnsupportedOnnx naming the node, its op
type and the reason; nothing is silently approximated.
"""
from __future__ import annotations

import numpy as np

from .. import ops as F
from ..tracing import Trace, Tracer
from ..ops import add, conv2d, matmul, relu
from ..tracing import compile_trace
from .imported import ImportedModel


class UnsupportedOnnx(ValueError):
    """An ONNX construct FlashCompile does not import."""


def _onnx():
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError as e:  # the core package works without onnx
        raise ImportError("fc.from_onnx needs the `onnx` package: pip install onnx") from e
    return onnx, numpy_helper


class _Node:
    def __init__(self, node, onnx):
        self.node = node
        self.op = node.op_type
        self.name = node.name or (node.output[0] if node.output else node.op_type)
        self.attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}

    def fail(self, reason: str):
        raise UnsupportedOnnx(f"ONNX node '{self.name}' ({self.op}): {reason}")

    def attr(self, key, default=None):
        value = self.attrs.get(key, default)
        return value.decode() if isinstance(value, bytes) else value

    def only(self, **allowed):
        """Rejects attributes outside `allowed` values (None: any value)."""
        for key, value in self.attrs.items():
            if key not in allowed:
                self.fail(f"attribute {key}={self.attr(key)!r} is not supported")
            ok = allowed[key]
            if ok is not None and self.attr(key) not in ok:
                self.fail(f"attribute {key}={self.attr(key)!r} is not supported "
                          f"(supported: {ok})")


def _is_const(v) -> bool:
    return isinstance(v, np.ndarray)


def _const(node: _Node, v, what: str) -> np.ndarray:
    if not _is_const(v):
        node.fail(f"{what} must be a constant (it is computed at run time)")
    return v


def _f32(node: _Node, v):
    """A float32 runtime value or constant; other dtypes are rejected. An
    integer run-time value (an int64 input) is converted (flash.cast)."""
    if isinstance(v, Tracer) and v.dtype != np.float32:
        return F.cast(v)
    if _is_const(v):
        if v.dtype == np.float32:
            return v
        if np.issubdtype(v.dtype, np.floating) or v.dtype == np.bool_:
            return v.astype(np.float32)  # booleans: masks are 0/1 floats in Flash
        node.fail(f"dtype {v.dtype} is not supported (float32 only)")
    return v


def _ints(v) -> list:
    return [int(x) for x in np.asarray(v).reshape(-1)]


def _shape(v) -> tuple:
    return tuple(v.shape)


# Handlers: (node, inputs) -> list of outputs --------------------------------

def _binary(fn, np_fn):
    def handler(node, xs):
        node.only()
        a, b = (_f32(node, x) for x in xs[:2])
        if _is_const(a) and _is_const(b):
            return [np_fn(a, b).astype(np.float32)]
        return [fn(a, b)]
    return handler


def _unary(fn, np_fn=None):
    def handler(node, xs):
        node.only()
        x = _f32(node, xs[0])
        if _is_const(x) and np_fn is not None:
            return [np_fn(x).astype(np.float32)]
        return [fn(x)]
    return handler


def _clip(node, xs):
    """Clip: bounds from its optional inputs (opset 11+) or attributes."""
    node.only(min=None, max=None)
    x = _f32(node, xs[0])
    lo = node.attr("min", None)
    hi = node.attr("max", None)
    if len(xs) > 1 and xs[1] is not None:
        lo = float(_const(node, xs[1], "the min input"))
    if len(xs) > 2 and xs[2] is not None:
        hi = float(_const(node, xs[2], "the max input"))
    return [F.clip(x, lo, hi)]


def _hardsigmoid(node, xs):
    node.only(alpha=None, beta=None)
    return [F.hardsigmoid(_f32(node, xs[0]), node.attr("alpha", 0.2), node.attr("beta", 0.5))]


def _variadic(fn):
    """Max/Min over any number of inputs, with broadcasting (all-constant
    nodes never get here: _fold computes them)."""
    def handler(node, xs):
        node.only()
        values = [_f32(node, x) for x in xs]
        out = values[0]
        for v in values[1:]:
            out = fn(out, v)
        return [out]
    return handler


def _pad(node, xs):
    """Pad, constant mode: pads [x1_begin, ..., x1_end, ...] (optionally
    over `axes`), negative amounts crop."""
    node.only(mode=["constant"])
    x = _f32(node, xs[0])
    pads = _ints(_const(node, xs[1], "pads"))
    value = 0.0
    if len(xs) > 2 and xs[2] is not None:
        given = _const(node, xs[2], "constant_value")
        value = float(given) if np.size(given) else 0.0
    rank = len(_shape(x))
    axes = list(range(rank))
    if len(xs) > 3 and xs[3] is not None:
        axes = [a % rank for a in _ints(_const(node, xs[3], "axes"))]
    if len(pads) != 2 * len(axes):
        node.fail(f"{len(pads)} pads for {len(axes)} axes")
    widths = [(0, 0)] * rank
    for i, axis in enumerate(axes):
        widths[axis] = (pads[i], pads[i + len(axes)])
    return [F.pad(x, widths, value)]


def _gelu(node, xs):
    node.only(approximate=["none"])
    return [F.gelu(_f32(node, xs[0]))]


def _gemm(node, xs):
    node.only(alpha=None, beta=None, transA=[0, 1], transB=[0, 1])
    a, b = _f32(node, xs[0]), _f32(node, xs[1])
    if node.attr("transA", 0):
        a = F.transpose(a, (1, 0))
    if node.attr("transB", 0):
        b = F.transpose(b, (1, 0))
    y = matmul(a, b)
    alpha, beta = node.attr("alpha", 1.0), node.attr("beta", 1.0)
    if alpha != 1.0:
        y = F.mul(y, np.float32(alpha))
    if len(xs) > 2 and xs[2] is not None:
        c = _f32(node, xs[2])
        y = add(y, c if beta == 1.0 else F.mul(c, np.float32(beta)))
    return [y]


def _matmul(node, xs):
    node.only()
    a, b = _f32(node, xs[0]), _f32(node, xs[1])
    sa, sb = _shape(a), _shape(b)
    if len(sa) < 2 or len(sb) < 2:
        node.fail(f"1-D operands {sa} @ {sb} are not supported")
    if len(sb) > 2 and sa[:-2] != sb[:-2]:
        node.fail(f"batch broadcasting {sa} @ {sb} is not supported")
    return [F._matmul_nd(a, b)]


def _softmax(node, xs):
    node.only(axis=None)
    return [F.softmax(_f32(node, xs[0]), node.attr("axis", -1))]


def _layer_norm(node, xs):
    node.only(axis=None, epsilon=None, stash_type=[1])
    x = _f32(node, xs[0])
    rank = len(_shape(x))
    axis = node.attr("axis", -1) % rank
    scale = _f32(node, xs[1])
    bias = _f32(node, xs[2]) if len(xs) > 2 and xs[2] is not None else \
        np.zeros(_shape(x)[axis:], np.float32)
    if _shape(scale) != _shape(x)[axis:] or _shape(bias) != _shape(x)[axis:]:
        node.fail(f"scale {_shape(scale)} and bias {_shape(bias)} must have the normalized "
                  f"shape {_shape(x)[axis:]} (broadcast forms are not supported)")
    eps = node.attr("epsilon", 1e-5)
    y = F.layer_norm(x, scale, bias, axis=axis, eps=eps)
    if len(node.node.output) == 1:
        return [y]
    # The optional Mean and InvStdDev outputs (what training graphs keep).
    axes = tuple(range(axis, rank))
    mean = F.reduce_mean(x, axes, keepdims=True)
    centered = F.sub(x, mean)
    var = F.reduce_mean(F.mul(centered, centered), axes, keepdims=True)
    inv = F.div(np.float32(1.0), F.sqrt(F.add(var, np.float32(eps))))
    return [y, mean, inv]


def _pads(node, rank=2):
    pads = node.attr("pads", [0] * (2 * rank))
    return [int(p) for p in pads]


def _conv(node, xs):
    node.only(auto_pad=["NOTSET", "VALID"], dilations=None, group=None, kernel_shape=None,
              pads=None, strides=None)
    x, w = _f32(node, xs[0]), _f32(node, xs[1])
    if len(_shape(x)) != 4:
        node.fail(f"only 2-D convolutions (NCHW) are supported, got input {_shape(x)}")
    b = _f32(node, xs[2]) if len(xs) > 2 and xs[2] is not None else None
    return [conv2d(x, w, b, stride=tuple(node.attr("strides", [1, 1])), padding=tuple(_pads(node)),
                   dilation=tuple(node.attr("dilations", [1, 1])), groups=node.attr("group", 1))]


def _pool(kind):
    def handler(node, xs):
        if len(node.node.output) > 1 and any(node.node.output[1:]):
            node.fail("the Indices output is not supported")
        allowed = dict(auto_pad=["NOTSET", "VALID"], ceil_mode=[0, 1], kernel_shape=None,
                       pads=None, strides=None)
        if kind == "max":
            allowed.update(dilations=None, storage_order=[0])
        else:
            allowed.update(count_include_pad=[0, 1], dilations=None)
        node.only(**allowed)
        if any(d != 1 for d in node.attr("dilations", [1, 1])):
            node.fail("dilated pooling is not supported")
        x = _f32(node, xs[0])
        kernel = node.attr("kernel_shape")
        if len(_shape(x)) != 4 or len(kernel) != 2:
            node.fail(f"only 2-D pooling (NCHW) is supported, got input {_shape(x)}")
        pads, strides = _pads(node), tuple(node.attr("strides", [1, 1]))
        if any(p >= k for p, k in zip(pads, kernel + kernel)):
            node.fail(f"padding {pads} not smaller than the kernel {kernel} is not supported")
        ceil = bool(node.attr("ceil_mode", 0))
        if kind == "max":
            return [F.max_pool2d(x, tuple(kernel), strides, pads, ceil_mode=ceil)]
        return [F.avg_pool2d(x, tuple(kernel), strides, pads,
                             count_include_pad=bool(node.attr("count_include_pad", 0)),
                             ceil_mode=ceil)]
    return handler


def _global_avg_pool(node, xs):
    node.only()
    x = _f32(node, xs[0])
    if len(_shape(x)) != 4:
        node.fail(f"only NCHW inputs are supported, got {_shape(x)}")
    return [F.reduce_mean(x, (2, 3), keepdims=True)]


def _batch_norm(node, xs):
    node.only(epsilon=None, momentum=None, training_mode=[0])
    if len(node.node.output) > 1 and any(node.node.output[1:]):
        node.fail("training outputs (running mean/var) are not supported")
    x, scale, bias, mean, var = (_f32(node, v) for v in xs[:5])
    return [F.batch_norm(x, scale, bias, mean, var, node.attr("epsilon", 1e-5))]


def _flatten(node, xs):
    node.only(axis=None)
    x = xs[0]
    axis = node.attr("axis", 1)
    if _is_const(x):
        axis = axis % (x.ndim + 1) if axis < 0 else axis
        return [x.reshape(int(np.prod(x.shape[:axis], dtype=np.int64)), -1)]
    return [F.flatten(_f32(node, x), axis)]


def _reshape(node, xs):
    node.only(allowzero=[0, 1])
    x = xs[0]
    shape = _ints(_const(node, xs[1], "the shape"))
    if not node.attr("allowzero", 0):  # 0 copies the input's size; with allowzero it is 0
        shape = [_shape(x)[i] if s == 0 else s for i, s in enumerate(shape)]
    if _is_const(x):
        return [x.reshape(shape)]
    return [F.reshape(x, shape)]  # integer indices stay indices


def _transpose(node, xs):
    node.only(perm=None)
    x = xs[0]
    perm = node.attr("perm")
    if _is_const(x):
        return [np.transpose(x, perm)]
    return [F.transpose(_f32(node, x), perm)]


def _concat(node, xs):
    node.only(axis=None)
    axis = node.attr("axis")
    if all(_is_const(x) for x in xs):
        return [np.concatenate(xs, axis)]
    return [F.concat([_f32(node, x) for x in xs], axis)]


def _reduce(kind):
    fns = {"mean": (F.reduce_mean, np.mean), "sum": (F.reduce_sum, np.sum),
           "max": (F.reduce_max, np.max)}

    def handler(node, xs):
        node.only(axes=None, keepdims=[0, 1], noop_with_empty_axes=[0])
        x = _f32(node, xs[0])
        axes = node.attr("axes")
        if len(xs) > 1 and xs[1] is not None:
            axes = _ints(_const(node, xs[1], "axes"))
        axes = None if axes is None or len(axes) == 0 else tuple(int(a) for a in axes)
        keep = bool(node.attr("keepdims", 1))
        fn, np_fn = fns[kind]
        if _is_const(x):
            return [np.asarray(np_fn(x, axis=axes, keepdims=keep), np.float32)]
        return [fn(x, axes, keepdims=keep)]
    return handler


def _constant(node, xs):
    _, numpy_helper = _onnx()
    node.only(value=None, value_float=None, value_floats=None, value_int=None,
              value_ints=None)
    for key, dtype in (("value_float", np.float32), ("value_floats", np.float32),
                       ("value_int", np.int64), ("value_ints", np.int64)):
        if key in node.attrs:
            return [np.asarray(node.attrs[key], dtype)]
    return [numpy_helper.to_array(node.attrs["value"])]


def _identity(node, xs):
    node.only()
    return [xs[0]]


def _shape_op(node, xs):
    node.only(start=None, end=None)
    shape = np.asarray(_shape(xs[0]), np.int64)
    return [shape[node.attr("start", 0):node.attr("end", None)]]


def _gather(node, xs):
    node.only(axis=None)
    data, idx = xs[0], xs[1]
    axis = node.attr("axis", 0)
    if isinstance(idx, Tracer):  # run-time indices: token ids into a table
        if idx.dtype == np.float32:
            node.fail("float indices (integer indices only)")
        return [F.gather(_f32(node, data), idx, axis)]
    if _is_const(data):
        return [np.take(data, idx, axis=axis)]
    # Constant indices into a run-time tensor (exported graphs pick q, k
    # and v this way): slices, one per run of evenly spaced indices.
    shape = _shape(data)
    axis %= len(shape)
    flat = np.asarray(idx, np.int64).reshape(-1) % shape[axis]
    if idx.ndim == 0:
        return [F.getitem(data, (slice(None),) * axis + (int(flat[0]),))]
    steps = np.diff(flat)
    if len(flat) > 0 and (len(flat) == 1 or (np.all(steps == steps[0]) and steps[0] > 0)):
        step = int(steps[0]) if len(flat) > 1 else 1
        picked = F.getitem(data, (slice(None),) * axis +
                           (slice(int(flat[0]), int(flat[-1]) + 1, step),))
    elif len(flat) <= 64:
        picked = F.concat([F.getitem(data, (slice(None),) * axis + (slice(int(i), int(i) + 1),))
                           for i in flat], axis)
    else:
        node.fail(f"{len(flat)} scattered indices into a run-time tensor (64 at most)")
    return [F.reshape(picked, shape[:axis] + tuple(idx.shape) + shape[axis + 1:])]


def _unsqueeze(node, xs):
    node.only(axes=None)
    x = xs[0]
    axes = node.attr("axes") if len(xs) < 2 else _ints(_const(node, xs[1], "axes"))
    rank = len(_shape(x)) + len(axes)
    axes = sorted(a % rank for a in axes)
    shape = list(_shape(x))
    for a in axes:
        shape.insert(a, 1)
    return [x.reshape(shape) if _is_const(x) else F.reshape(x, shape)]


def _squeeze(node, xs):
    node.only(axes=None)
    x = xs[0]
    axes = node.attr("axes") if len(xs) < 2 or xs[1] is None else \
        _ints(_const(node, xs[1], "axes"))
    rank = len(_shape(x))
    axes = [a % rank for a in axes] if axes is not None else \
        [i for i, d in enumerate(_shape(x)) if d == 1]
    shape = [d for i, d in enumerate(_shape(x)) if i not in axes]
    return [x.reshape(shape) if _is_const(x) else F.reshape(x, shape)]


def _slice(node, xs):
    node.only()
    x = xs[0]
    starts, ends = (_ints(_const(node, v, what)) for v, what in ((xs[1], "starts"),
                                                                 (xs[2], "ends")))
    axes = _ints(_const(node, xs[3], "axes")) if len(xs) > 3 and xs[3] is not None else None
    steps = _ints(_const(node, xs[4], "steps")) if len(xs) > 4 and xs[4] is not None else None
    if steps is not None and any(k < 1 for k in steps):
        node.fail(f"steps {steps}: only positive steps are supported")
    # ONNX clamps INT64_MAX-style ends; Python's slice.indices does the same.
    if _is_const(x):
        index = [slice(None)] * x.ndim
        for i, (b, e) in enumerate(zip(starts, ends)):
            a = axes[i] if axes is not None else i
            index[a] = slice(b, e, steps[i] if steps is not None else 1)
        return [x[tuple(index)]]
    return [F.slice(_f32(node, x), starts, ends, axes, steps)]


def _split(node, xs):
    node.only(axis=None, num_outputs=None)
    x = _f32(node, xs[0])
    axis = node.attr("axis", 0)
    dim = _shape(x)[axis]
    count = len(node.node.output)
    if len(xs) > 1 and xs[1] is not None:
        sizes = _ints(_const(node, xs[1], "split"))
    else:  # equal pieces, the last one smaller (opset 18's num_outputs rule)
        piece = -(-dim // count)
        sizes = [min(piece, dim - i * piece) for i in range(count)]
    if _is_const(x):
        return np.split(x, np.cumsum(sizes)[:-1], axis)
    return F.split(x, sizes, axis)


def _cast(node, xs):
    onnx, _ = _onnx()
    node.only(to=None, saturate=None, round_mode=None)
    to = onnx.helper.tensor_dtype_to_np_dtype(node.attr("to"))
    x = xs[0]
    if _is_const(x):
        return [x.astype(to)]
    if to == np.float32:
        return [_f32(node, x)]
    if x.dtype != np.float32 and to in (np.int64, np.int32):
        return [x]  # indices stay indices
    if to == np.bool_:  # booleans are 0/1 float masks
        return [F.not_equal(_f32(node, x), np.float32(0))]
    node.fail(f"casting a run-time {x.dtype} value to {to} is not supported "
              f"(float32, and int64/int32 indices only)")


def _gather_nd(node, xs):
    """GatherND (batch_dims 0) with constant indices into a run-time tensor."""
    node.only(batch_dims=[0])
    return [F.gather_nd(_f32(node, xs[0]), _const(node, xs[1], "the indices"))]


def _where(node, xs):
    node.only()
    cond, x, y = (_f32(node, v) for v in xs)
    return [F.where(cond, x, y)]


def _logical(fn):
    """Not/And/Or on booleans, which are 0/1 float masks at run time."""
    def handler(node, xs):
        node.only()
        return [fn(*(_f32(node, x) for x in xs))]
    return handler


HANDLERS = {
    "Add": _binary(add, np.add), "Sub": _binary(F.sub, np.subtract),
    "Mul": _binary(F.mul, np.multiply), "Div": _binary(F.div, np.divide),
    "Pow": _binary(F.pow, np.power),
    "Relu": _unary(relu, lambda x: np.maximum(x, 0)), "Sigmoid": _unary(F.sigmoid),
    "Tanh": _unary(F.tanh, np.tanh), "Exp": _unary(F.exp, np.exp), "Erf": _unary(F.erf),
    "Sqrt": _unary(F.sqrt, np.sqrt), "Neg": _unary(F.neg, np.negative), "Gelu": _gelu,
    "Gemm": _gemm, "MatMul": _matmul, "Softmax": _softmax,
    "LayerNormalization": _layer_norm, "Conv": _conv, "MaxPool": _pool("max"),
    "AveragePool": _pool("avg"), "GlobalAveragePool": _global_avg_pool,
    "BatchNormalization": _batch_norm, "Flatten": _flatten, "Reshape": _reshape,
    "Transpose": _transpose, "Concat": _concat, "ReduceMean": _reduce("mean"),
    "ReduceSum": _reduce("sum"), "ReduceMax": _reduce("max"), "Constant": _constant,
    "Identity": _identity, "Shape": _shape_op, "Gather": _gather, "Unsqueeze": _unsqueeze,
    "Squeeze": _squeeze, "Cast": _cast, "Slice": _slice, "Split": _split,
    "Clip": _clip, "HardSigmoid": _hardsigmoid,
    "HardSwish": _unary(F.hardswish), "Max": _variadic(F.maximum),
    "Min": _variadic(F.minimum), "Pad": _pad,
    # Comparisons and logic give 0/1 float masks (Flash has no bool type).
    "Equal": _binary(F.equal, np.equal), "Less": _binary(F.less, np.less),
    "LessOrEqual": _binary(F.less_equal, np.less_equal),
    "Greater": _binary(F.greater, np.greater),
    "GreaterOrEqual": _binary(F.greater_equal, np.greater_equal),
    "IsNaN": _unary(lambda x: F.not_equal(x, x), np.isnan), "Where": _where,
    "Not": _logical(lambda x: F.sub(np.float32(1), x)), "And": _logical(F.mul),
    "Or": _logical(F.maximum), "GatherND": _gather_nd,
}


def onnx_support() -> list:
    """The ONNX op types fc.from_onnx imports (default domain, opset 13+)."""
    return sorted(HANDLERS)


class OnnxModel(ImportedModel):
    """An imported ONNX model (see ImportedModel)."""

    source = "ONNX"


# Ops never computed at import time, even on constants.
_NEVER_FOLD = ("RandomNormal", "RandomNormalLike", "RandomUniform", "RandomUniformLike",
               "Multinomial", "Bernoulli", "Dropout", "If", "Loop", "Scan")


def _fold(proto, xs):
    """The node's outputs computed now by ONNX's reference implementation
    (onnx.reference), when none of its inputs is a run-time value: shapes
    are static, so shape arithmetic, index tables and masks (Range,
    ConstantOfShape, Where on constants, ...) become constants with ONNX's
    own semantics. None when an input is traced."""
    if proto.op_type in _NEVER_FOLD or any(x is not None and not _is_const(x) for x in xs):
        return None
    if proto.op_type == "GatherElements":
        # onnx.reference's GatherElements uses np.choose, which takes at
        # most 32 choices (its fallback reshapes wrongly): NumPy's
        # take_along_axis is the op exactly.
        axis = next((a.i for a in proto.attribute if a.name == "axis"), 0)
        data, idx = xs
        idx = np.where(idx < 0, idx + data.shape[axis], idx)
        return [np.take_along_axis(data, idx, axis)]
    from onnx.reference import ReferenceEvaluator
    feeds = {n: x for n, x in zip(proto.input, xs) if n}
    try:
        outs = ReferenceEvaluator(proto).run(None, feeds)
    except Exception as e:  # noqa: BLE001 - the reference's own error, named
        raise ValueError(f"computing it on its constant inputs failed: "
                         f"{type(e).__name__}: {str(e).splitlines()[0][:200]}") from None
    return [np.asarray(o) if not (isinstance(o, np.ndarray) and o.dtype == np.float64)
            else o.astype(np.float32) for o in outs]


def from_onnx(model, name: str = "onnx_model", options: str = "",
              constants: dict | None = None, target: str = "host") -> OnnxModel:
    """Imports an ONNX model (a path or a ModelProto) as one compiled graph.
    `constants` binds graph inputs to fixed values (e.g. an int64 shape or
    axes input), which then fold like initializers. `target`: what to
    compile for (fc.targets(), docs/gpu.md)."""
    onnx, numpy_helper = _onnx()
    path = None
    if isinstance(model, (str, bytes)) or hasattr(model, "__fspath__"):
        path = model
        try:
            model = onnx.load(model)
        except Exception as e:  # corrupt, truncated or missing file
            raise ValueError(f"from_onnx: cannot read ONNX model {model!r}: "
                             f"{type(e).__name__}: {e}") from None
    else:
        # An in-memory model's external tensors would be read relative to
        # the current folder: only a path says where they belong.
        for init in getattr(getattr(model, "graph", None), "initializer", []):
            if init.data_location == onnx.TensorProto.EXTERNAL:
                raise ValueError(f"from_onnx: initializer '{init.name}' keeps its data in an "
                                 f"external file; pass the model's path (its external data "
                                 f"is then read from the model's folder only)")
    try:
        # A path is checked from the file: checking a loaded model
        # serializes it again first (half of a cached import's time).
        onnx.checker.check_model(path if isinstance(path, str) else model)
    except Exception as e:  # a truncated file can parse into a broken proto
        raise ValueError(f"from_onnx: invalid ONNX model: {str(e).splitlines()[0][:300]}") from None
    graph = model.graph
    if not graph.output:
        raise ValueError("from_onnx: the ONNX graph has no outputs")
    for opset in model.opset_import:
        if opset.domain in ("", "ai.onnx") and opset.version < 13:
            raise UnsupportedOnnx(f"from_onnx: opset {opset.version} is older than 13")
    values: dict = {}
    for init in graph.initializer:
        try:
            values[init.name] = numpy_helper.to_array(init)
        except Exception as e:  # noqa: BLE001 - onnx raises what its parsing meets
            raise ValueError(f"ONNX initializer '{init.name}' (dims {list(init.dims)}) cannot "
                             f"be read: {type(e).__name__}: {e}") from e
    trace = Trace(name)
    input_names = []
    for name_, value in (constants or {}).items():
        values[name_] = np.asarray(value)
    for vi in graph.input:
        if vi.name in values:
            continue
        if not vi.type.HasField("tensor_type"):
            raise UnsupportedOnnx(f"ONNX input '{vi.name}': only tensors are supported "
                                  f"(not sequences, maps or optionals)")
        t = vi.type.tensor_type
        dims = [d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim]
        if any(d is None for d in dims):
            raise UnsupportedOnnx(f"ONNX input '{vi.name}': dynamic shape "
                                  f"{[d.dim_param or '?' for d in t.shape.dim]} (static shapes only)")
        try:
            dtype = onnx.helper.tensor_dtype_to_np_dtype(t.elem_type)
        except KeyError:
            raise UnsupportedOnnx(f"ONNX input '{vi.name}': element type {t.elem_type} is not "
                                  f"an ONNX tensor type") from None
        if dtype not in (np.float32, np.int64, np.int32):
            raise UnsupportedOnnx(f"ONNX input '{vi.name}': dtype {dtype} "
                                  f"(float32, or int64/int32 indices such as token ids)")
        values[vi.name] = trace.input(dims, dtype)
        input_names.append(vi.name)
    for proto in graph.node:
        node = _Node(proto, onnx)
        if proto.domain not in ("", "ai.onnx"):
            node.fail(f"domain '{proto.domain}' is not supported")
        try:
            xs = [values[n] if n else None for n in proto.input]
        except KeyError as e:
            node.fail(f"input {e} is not defined")
        handler = HANDLERS.get(node.op)
        try:
            outs = _fold(proto, xs)
            if outs is None:
                if handler is None:
                    node.fail("op type not supported (fc.onnx_support() lists the supported "
                              "ones)")
                outs = handler(node, xs)
        except UnsupportedOnnx:
            raise
        except (ValueError, TypeError, IndexError, KeyError, OverflowError,
                ZeroDivisionError) as e:  # a malformed node: its attributes, its inputs
            why = f"no entry {e}" if isinstance(e, KeyError) else str(e)
            raise ValueError(f"ONNX node '{node.name}' ({node.op}): {why}") from None
        for out_name, value in zip(proto.output, outs):
            if out_name:
                values[out_name] = value
    output_names = [o.name for o in graph.output]
    missing = [n for n in output_names if n not in values]
    if missing:
        raise ValueError(f"from_onnx: graph output(s) {missing} are produced by no node "
                         f"and are no input or initializer")
    results = [values[n] for n in output_names]
    for n, r in zip(output_names, results):
        if isinstance(r, Tracer) and r.dtype != np.float32:
            raise UnsupportedOnnx(f"ONNX output '{n}': an {r.dtype} tensor (float32 outputs "
                                  f"only; integer values only index)")
        if _is_const(r) and r.dtype != np.float32:
            raise UnsupportedOnnx(f"ONNX output '{n}': a constant of dtype {r.dtype} (float32 only)")
    return OnnxModel(compile_trace(trace, results, name, options, target=target),
                     input_names, output_names)
