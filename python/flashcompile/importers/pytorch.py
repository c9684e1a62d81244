"""fc.from_pytorch: a torch.nn.Module as one compiled Flash graph.

torch.export captures the module's forward on the example inputs as an ATen
graph with its weights lifted out (parameters, buffers and constants, named
by the graph signature). Its decompositions then run to core ATen, except
for the composite ops FlashCompile has ops of its own for (linear, matmul,
layer_norm, softmax, gelu, scaled_dot_product_attention, ...), which stay
whole so they reach the compiler as one op each. Every ATen op maps to fc
ops through the handler table below, traced like an fc.jit function;
weights become constants, and ops whose operands are all constants fold
with NumPy at import time.

Where torch.export cannot capture a module (say, its forward computes with
NumPy on its own weights, which export sees as fake tensors), make_fx
traces it at the ATen level with the real weights instead, so whatever
Python computes from them is fixed at import; a warning says so. Python
branches on run-time tensor values defeat both, and are reported.

Anything the table does not take (an op, an argument value, a dtype)
raises UnsupportedTorch naming the node, its ATen op and the reason.
"""
from __future__ import annotations

import math
import operator
import warnings

import numpy as np

from .. import ops as F
from ..tracing import Trace, Tracer
from ..ops import add, conv2d, matmul, relu
from ..tracing import compile_trace
from .imported import ImportedModel


class UnsupportedTorch(ValueError):
    """A PyTorch construct FlashCompile does not import."""


def _torch():
    try:
        import torch
    except ImportError as e:  # the core package works without torch
        raise ImportError("fc.from_pytorch needs PyTorch: pip install torch") from e
    return torch


class _Node:
    """One call_function node with its arguments bound to the op's schema
    (defaults filled in), so handlers read arguments by name."""

    def __init__(self, node, args: dict):
        self.node = node
        self.name = node.name
        self.op = str(node.target)
        self.args = args

    def fail(self, reason: str):
        raise UnsupportedTorch(f"torch node '{self.name}' ({self.op}): {reason}")

    def __getitem__(self, key):
        return self.args[key]

    def get(self, key, default=None):
        value = self.args.get(key, default)
        return default if value is None else value


def _bind(node, env, schema=None) -> dict:
    """The node's arguments by name in `schema` (the node's op's by
    default), with values from `env`."""
    def value(a):
        torch = _torch()
        if isinstance(a, torch.fx.Node):
            return env[a.name]
        if isinstance(a, (list, tuple)):
            return type(a)(value(x) for x in a)
        return a

    schema = schema or getattr(node.target, "_schema", None)
    if schema is None:  # operator.getitem and other Python callables
        return {f"arg{i}": value(a) for i, a in enumerate(node.args)} | \
            {k: value(v) for k, v in node.kwargs.items()}
    bound = {}
    for i, arg in enumerate(schema.arguments):
        if i < len(node.args):
            bound[arg.name] = value(node.args[i])
        elif arg.name in node.kwargs:
            bound[arg.name] = value(node.kwargs[arg.name])
        elif arg.has_default_value():
            bound[arg.name] = arg.default_value
        else:
            bound[arg.name] = None
    return bound


def _is_const(v) -> bool:
    return isinstance(v, np.ndarray)


def _shape(v) -> tuple:
    return tuple(np.shape(v)) if not isinstance(v, Tracer) else v.shape


def _f32(node: _Node, v):
    """A float32 run-time value, constant or Python number. An integer
    run-time value (token ids, a mask) joins float arithmetic converted, as
    torch promotes it."""
    if isinstance(v, Tracer) and v.dtype != np.float32:
        return F.cast(v)
    if isinstance(v, (Tracer, float, int)) and not isinstance(v, bool):
        return v
    if _is_const(v):
        if v.dtype == np.float32:
            return v
        if np.issubdtype(v.dtype, np.floating) or v.dtype == np.int64 and v.ndim == 0 \
                or v.dtype == np.bool_:  # booleans: masks are 0/1 floats at run time
            return v.astype(np.float32)
        node.fail(f"a tensor of dtype {v.dtype} and shape {v.shape} (float32 only)")
    node.fail(f"expected a tensor or a number, got {type(v).__name__}")


def _all_const(*xs) -> bool:
    return all(_is_const(x) or isinstance(x, (int, float)) for x in xs if x is not None)


def _np32(x):
    return np.asarray(x, np.float32)


# Handlers: node -> value (a traced value, a constant, or a tuple of them) ---

def _binary(fc_fn, np_fn, reverse=False):
    def handler(n):
        a, b = _f32(n, n["self"]), _f32(n, n["other"])
        if reverse:  # rsub: other - alpha * self
            a, b = b, a
        alpha = n.get("alpha", 1)
        if alpha != 1:
            b = _np32(b * alpha) if _all_const(b) else F.mul(b, np.float32(alpha))
        if _all_const(a, b):
            return _np32(np_fn(a, b))
        return fc_fn(a, b)
    return handler


def _div(n):
    if n.get("rounding_mode") is not None:
        n.fail(f"rounding_mode={n['rounding_mode']!r} is not supported")
    return _binary(F.div, np.divide)(n)


def _unary(fc_fn, np_fn):
    def handler(n):
        x = _f32(n, n["self"])
        return _np32(np_fn(x)) if _all_const(x) else fc_fn(x)
    return handler


def _rsqrt(n):
    x = _f32(n, n["self"])
    return _np32(1 / np.sqrt(x)) if _all_const(x) else F.div(np.float32(1), F.sqrt(x))


def _reciprocal(n):
    x = _f32(n, n["self"])
    return _np32(1 / x) if _all_const(x) else F.div(np.float32(1), x)


def _pow(n):
    x, e = _f32(n, n["self"]), n["exponent"]
    if _all_const(x, e):
        return _np32(np.power(x, e))
    if isinstance(e, (int, float)) and e == 2:
        return F.mul(x, x)
    return F.pow(x, _f32(n, e))


def _gelu(n):
    x = _f32(n, n["self"])
    if n.get("approximate", "none") == "none":
        return F.gelu(x)
    # The tanh form: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
    inner = F.mul(F.add(x, F.mul(F.mul(F.mul(x, x), x), np.float32(0.044715))),
                  np.float32(math.sqrt(2 / math.pi)))
    return F.mul(F.mul(x, np.float32(0.5)), F.add(F.tanh(inner), np.float32(1)))


def _clamp(n):
    """clamp with number bounds, or tensor bounds (aten.clamp.Tensor) that
    broadcast."""
    x = _f32(n, n["self"])
    lo, hi = n.get("min"), n.get("max")
    lo = None if lo is None else (lo if isinstance(lo, (int, float)) else _f32(n, lo))
    hi = None if hi is None else (hi if isinstance(hi, (int, float)) else _f32(n, hi))
    return F.clip(x, lo, hi)  # (all-constant nodes are computed by _fold)


def _linear(n):
    x, w, b = _f32(n, n["input"]), _f32(n, n["weight"]), n.get("bias")
    if len(_shape(w)) != 2:
        n.fail(f"weight of shape {_shape(w)} (2-D only)")
    return F.linear(x, w, None if b is None else _f32(n, b))


def _matmul(n):
    a, b = _f32(n, n["self"]), _f32(n, n.get("other", n.get("mat2")))
    sa, sb = _shape(a), _shape(b)
    if _all_const(a, b):
        return _np32(np.matmul(a, b))
    if len(sa) < 2 or len(sb) < 2:
        n.fail(f"1-D operands {sa} @ {sb} are not supported")
    if len(sb) > 2 and sa[:-2] != sb[:-2]:
        n.fail(f"batch broadcasting {sa} @ {sb} is not supported")
    return F._matmul_nd(a, b)


def _addmm(n):
    y = matmul(_f32(n, n["mat1"]), _f32(n, n["mat2"]))
    alpha, beta = n.get("alpha", 1), n.get("beta", 1)
    if alpha != 1:
        y = F.mul(y, np.float32(alpha))
    bias = _f32(n, n["self"])
    if beta == 0:
        return y
    return add(y, bias if beta == 1 else F.mul(bias, np.float32(beta)))


def _bmm(n):
    return F.batch_matmul(_f32(n, n["self"]), _f32(n, n["mat2"]))


def _layout(np_fn, fc_fn):
    """A data-movement op: NumPy on constants, the fc op otherwise."""
    def handler(n, *args):
        x = n["self"] if "self" in n.args else n["input"]
        return np_fn(x, *args) if _is_const(x) else fc_fn(_f32(n, x), *args)
    return handler


def _axis(n, dim, rank):
    if not -rank <= dim < max(rank, 1):
        n.fail(f"dim {dim} is out of range for rank {rank}")
    return dim % max(rank, 1)


def _permute(n):
    return _layout(np.transpose, F.transpose)(n, list(n["dims"]))


def _transpose(n):
    x = n["self"]
    rank = len(_shape(x))
    perm = list(range(rank))
    a, b = _axis(n, n["dim0"], rank), _axis(n, n["dim1"], rank)
    perm[a], perm[b] = perm[b], perm[a]
    return _layout(np.transpose, F.transpose)(n, perm)


def _t(n):
    x = n["self"]
    return x if len(_shape(x)) < 2 else _layout(np.transpose, F.transpose)(n, [1, 0])


def _reshape_to(n, x, shape):
    shape = [int(s) for s in shape]
    if _is_const(x):
        return np.reshape(x, shape)
    # Integer indices keep their type through a reshape (flash.reshape takes them).
    return F.reshape(x if isinstance(x, Tracer) else _f32(n, x), shape)


def _view(n):
    x = n["self"] if "self" in n.args else n["input"]
    return _reshape_to(n, x, n.get("size", n.get("shape")))


def _flatten(n):
    x = n["input"] if "input" in n.args else n["self"]
    shape = _shape(x)
    if not shape:
        return _reshape_to(n, x, [1])
    start, end = _axis(n, n["start_dim"], len(shape)), _axis(n, n["end_dim"], len(shape))
    inner = int(np.prod(shape[start:end + 1], dtype=np.int64))
    return _reshape_to(n, x, [*shape[:start], inner, *shape[end + 1:]])


def _unflatten(n):
    x = n["self"]
    shape = list(_shape(x))
    dim = _axis(n, n["dim"], len(shape))
    sizes = list(n["sizes"])
    if -1 in sizes:
        known = int(np.prod([s for s in sizes if s != -1], dtype=np.int64))
        sizes[sizes.index(-1)] = shape[dim] // known
    return _reshape_to(n, x, shape[:dim] + sizes + shape[dim + 1:])


def _unsqueeze(n):
    x = n["self"]
    shape = list(_shape(x))
    shape.insert(_axis(n, n["dim"], len(shape) + 1), 1)
    return _reshape_to(n, x, shape)


def _squeeze(n):
    x = n["self"]
    shape = _shape(x)
    dims = n.get("dim")
    if dims is None:
        dims = [d for d, s in enumerate(shape) if s == 1]
    dims = [dims] if isinstance(dims, int) else list(dims)
    dims = {_axis(n, d, len(shape)) for d in dims}
    return _reshape_to(n, x, [s for d, s in enumerate(shape) if d not in dims or s != 1])


def _expand(n):
    x = n["self"]
    shape = _shape(x)
    size = list(n["size"])
    lead = len(size) - len(shape)
    target = [shape[i - lead] if s == -1 else int(s) for i, s in enumerate(size)]
    if _is_const(x):
        return np.ascontiguousarray(np.broadcast_to(x, target))
    if tuple(target) == shape:
        return x
    # Materialized by broadcasting against zeros; consumers that broadcast
    # themselves (add, mul, ...) never need this.
    return add(_f32(n, x), np.zeros(target, np.float32))


def _identity(n):
    """Copies and dtype conversions: to float32 (from an integer run-time
    value, a flash.cast), or between integer types of an index."""
    x = n["self"] if "self" in n.args else n["input"]
    if "dtype" in n.args and n.get("dtype") is not None:
        torch = _torch()
        if _is_const(x):
            return x
        if n["dtype"] == torch.float32:
            return _f32(n, x)
        if n["dtype"] in (torch.int64, torch.int32) and x.dtype != np.float32:
            return x
        if n["dtype"] == torch.bool:  # booleans are 0/1 float masks
            return F.not_equal(_f32(n, x), np.float32(0))
        n.fail(f"converting a run-time {x.dtype} value to {n['dtype']} is not supported "
               f"(float32, and int64/int32 indices only)")
    return x


def _dropout(n):
    if n.get("train", False) and n.get("p", 0.0) > 0:
        n.fail("dropout in training mode (call module.eval() first)")
    return n["input"]


def _index(n, x, dim, item):
    rank = len(_shape(x))
    index = [slice(None)] * rank
    index[_axis(n, dim, rank)] = item
    return x[tuple(index)] if _is_const(x) else F.getitem(_f32(n, x), tuple(index))


def _select(n):
    return _index(n, n["self"], n["dim"], int(n["index"]))


def _slice(n):
    start, end, step = n.get("start", 0), n.get("end", None), n.get("step", 1)
    if step < 1:
        n.fail(f"step {step} (only positive steps)")
    return _index(n, n["self"], n["dim"], slice(start, end, step))


def _split(n):
    x = n["self"]
    shape = _shape(x)
    dim = _axis(n, n["dim"], len(shape))
    sizes = n.get("split_sizes", n.get("split_size"))
    if isinstance(sizes, int):  # pieces of that size, the last one smaller
        sizes = [min(sizes, shape[dim] - i) for i in range(0, shape[dim], sizes)]
    if _is_const(x):
        return tuple(np.split(x, np.cumsum(sizes)[:-1], dim))
    return tuple(F.split(_f32(n, x), list(sizes), dim))


def _chunk(n):
    x = n["self"]
    shape = _shape(x)
    dim = _axis(n, n["dim"], len(shape))
    piece = -(-shape[dim] // n["chunks"])
    sizes = [min(piece, shape[dim] - i) for i in range(0, shape[dim], piece)]
    n.args.update(dim=dim, split_sizes=sizes)
    return _split(n)


def _cat(n):
    xs = [x for x in n["tensors"] if _shape(x) != (0,)]  # torch skips empty 1-D tensors
    dim = _axis(n, n["dim"], len(_shape(xs[0])))
    if all(_is_const(x) for x in xs):
        return np.concatenate(xs, dim)
    return F.concat([_f32(n, x) for x in xs], dim)


def _constant_pad(n):
    """aten.constant_pad_nd: (left, right) amounts from the last dimension
    backwards."""
    x = _f32(n, n["self"])
    pad, value = list(n["pad"]), float(n.get("value", 0.0))
    rank = len(_shape(x))
    if len(pad) % 2 or len(pad) // 2 > rank:
        n.fail(f"padding {pad} does not fit a rank-{rank} input")
    widths = [(0, 0)] * rank
    for i in range(len(pad) // 2):
        widths[rank - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    return F.pad(x, widths, value)


def _pad(n):
    """aten.pad (F.pad): constant mode only, as aten.constant_pad_nd."""
    mode = n.get("mode", "constant")
    if mode != "constant":
        n.fail(f"padding mode '{mode}' is not supported (constant only)")
    if n.get("value") is None:
        n.args["value"] = 0.0
    return _constant_pad(n)


def _masked_fill(n):
    """x.masked_fill(mask, value): where(mask, value, x)."""
    return F.where(_f32(n, n["mask"]), _f32(n, n["value"]), _f32(n, n["self"]))


def _roll(n):
    """torch.roll: each dimension's elements shifted cyclically."""
    x = _f32(n, n["self"])
    shifts, dims = list(n["shifts"]), list(n.get("dims") or [])
    if not dims:
        n.fail("roll over the flattened tensor (no dims) is not supported")
    for shift, dim in zip(shifts, dims):
        dim = _axis(n, dim, len(_shape(x)))
        size = _shape(x)[dim]
        k = int(shift) % size if size else 0
        if k:
            tail = F.slice(x, [size - k], [size], [dim])
            head = F.slice(x, [0], [size - k], [dim])
            x = F.concat([tail, head], dim)
    return x


def _take(x, indices, dim: int):
    """x's entries at constant `indices` along `dim`: one strided slice when
    they step evenly forward, else a concatenation of their contiguous runs."""
    size = _shape(x)[dim]
    idx = [int(i) % size if size else int(i) for i in np.asarray(indices).reshape(-1)]
    if not idx:
        raise ValueError(f"an empty index along dimension {dim}")
    step = idx[1] - idx[0] if len(idx) > 1 else 1
    if step > 0 and idx == list(range(idx[0], idx[0] + step * len(idx), step)):
        return F.slice(x, [idx[0]], [idx[-1] + 1], [dim], [step])
    runs, start = [], 0
    for i in range(1, len(idx) + 1):
        if i == len(idx) or idx[i] != idx[i - 1] + 1:
            runs.append(F.slice(x, [idx[start]], [idx[i - 1] + 1], [dim]))
            start = i
    return F.concat(runs, dim) if len(runs) > 1 else runs[0]


def _torch_dtype(n, arg: str):
    """The torch dtype of a node's tensor argument, from export's metadata
    (booleans are 0/1 floats once imported, so only torch knows)."""
    torch = _torch()
    schema = getattr(n.node.target, "_schema", None)
    names = [a.name for a in schema.arguments] if schema is not None else []
    node = n.node.kwargs.get(arg)
    if node is None and arg in names and names.index(arg) < len(n.node.args):
        node = n.node.args[names.index(arg)]
    val = node.meta.get("val") if isinstance(node, torch.fx.Node) else None
    return getattr(val, "dtype", None)


def _where(n):
    cond, x, y = (_f32(n, n[k]) for k in ("condition", "self", "other"))
    return F.where(cond, x, y)


def _logical(fn, *names):
    """Logic on booleans, which are 0/1 float masks at run time."""
    def handler(n):
        val = n.node.meta.get("val")
        if getattr(val, "dtype", None) != _torch().bool:
            n.fail(f"on {getattr(val, 'dtype', 'non-tensor')} values (booleans only)")
        return fn(*(_f32(n, n[k]) for k in names))
    return handler


def _advanced_index(n):
    """x[i0, i1, ...] with constant integer index arrays on the leading
    dimensions (NumPy's advanced indexing, which broadcasts them)."""
    x, indices = n["self"], list(n["indices"])
    if any(i is None or not _is_const(i) for i in indices):
        n.fail("only constant index arrays on the leading dimensions are supported")
    try:
        idx = np.broadcast_arrays(*[np.asarray(i, np.int64) for i in indices])
    except ValueError as e:
        n.fail(f"index arrays do not broadcast: {e}")
    return F.gather_nd(_f32(n, x), np.stack(idx, -1))


def _embedding(n):
    """aten.embedding: rows of the weight at run-time indices (padding_idx
    only matters for gradients)."""
    return F.gather(_f32(n, n["weight"]), _indices(n, n["indices"]), 0)


def _indices(n, index):
    if not isinstance(index, Tracer) or index.dtype == np.float32:
        n.fail(f"indices must be an integer tensor, got {getattr(index, 'dtype', index)}")
    return index


def _index_select(n):
    x, index = n["self"], n["index"]
    if not _is_const(index):
        return F.gather(_f32(n, x), _indices(n, index), _axis(n, n["dim"], len(_shape(x))))
    if np.ndim(index) > 1:
        n.fail(f"index of shape {np.shape(index)} (1-D only)")
    return _take(_f32(n, x), index, _axis(n, n["dim"], len(_shape(x))))


def _reduce(fc_fn, np_fn):
    def handler(n):
        x = _f32(n, n["self"])
        dims = n.get("dim")
        if isinstance(dims, int):
            dims = [dims]
        dims = None if not dims else tuple(_axis(n, d, len(_shape(x))) for d in dims)
        keep = bool(n.get("keepdim", False))
        if n.get("dtype") is not None and n["dtype"] != _torch().float32:
            n.fail(f"dtype={n['dtype']} (float32 only)")
        if _all_const(x):
            return _np32(np_fn(x, axis=dims, keepdims=keep))
        return fc_fn(x, dims, keepdims=keep)
    return handler


def _softmax(n):
    if n.get("half_to_float", False) or n.get("dtype") not in (None, _torch().float32):
        n.fail("a softmax changing the dtype (float32 only)")
    return F.softmax(_f32(n, n["self"]), n["dim"])


def _layer_norm(n):
    x = _f32(n, n["input"])
    normalized = list(n["normalized_shape"])
    shape = _shape(x)
    axis = len(shape) - len(normalized)
    if axis < 0 or list(shape[axis:]) != normalized:
        n.fail(f"normalized_shape {normalized} does not end the input shape {shape}")
    w, b = n.get("weight"), n.get("bias")
    w = np.ones(normalized, np.float32) if w is None else _f32(n, w)
    b = np.zeros(normalized, np.float32) if b is None else _f32(n, b)
    y = F.layer_norm(x, w, b, axis=axis, eps=float(n["eps"]))
    # native_layer_norm also returns mean and rstd: only training uses them.
    return (y, None, None) if n.op.startswith("aten.native_layer_norm") else y


def _batch_norm(n):
    if n.get("training", False):
        n.fail("batch norm in training mode (call module.eval() first)")
    x = _f32(n, n["input"])
    channels = _shape(x)[1]
    w, b = n.get("weight"), n.get("bias")
    w = np.ones(channels, np.float32) if w is None else _f32(n, w)
    b = np.zeros(channels, np.float32) if b is None else _f32(n, b)
    mean, var = _f32(n, n["running_mean"]), _f32(n, n["running_var"])
    y = F.batch_norm(x, w, b, mean, var, float(n["eps"]))
    return y if n.op.startswith("aten.batch_norm") else (y, None, None)


def _pair(n, v, what):
    v = [v] if isinstance(v, int) else list(v)
    if len(v) == 1:
        v = v * 2
    if len(v) != 2:
        n.fail(f"{what} {v} (2-D only)")
    return tuple(int(x) for x in v)


def _conv(n):
    x, w = _f32(n, n["input"]), _f32(n, n["weight"])
    if len(_shape(x)) != 4:
        n.fail(f"only 2-D convolutions (NCHW) are supported, got input {_shape(x)}")
    if n.get("transposed", False):
        n.fail("transposed convolutions are not supported")
    padding = n["padding"]
    dilation = _pair(n, n.get("dilation", 1), "dilation")
    if isinstance(padding, str):  # conv2d.padding: 'valid' or 'same'
        if padding == "valid":
            padding = (0, 0)
        elif any(s != 1 for s in _pair(n, n.get("stride", 1), "stride")):
            n.fail("padding='same' with a stride is not supported")
        else:
            total = [d * (k - 1) for d, k in zip(dilation, _shape(w)[2:])]
            # (top, left, bottom, right), the odd element at the end as torch does
            padding = (total[0] // 2, total[1] // 2, total[0] - total[0] // 2,
                       total[1] - total[1] // 2)
    else:
        padding = _pair(n, padding, "padding")
    b = n.get("bias")
    return conv2d(x, w, None if b is None else _f32(n, b),
                  stride=_pair(n, n.get("stride", 1), "stride"), padding=padding,
                  dilation=dilation, groups=int(n.get("groups", 1)))


def _pool_common(n):
    x = _f32(n, n["self"])
    if len(_shape(x)) != 4:
        n.fail(f"only 2-D pooling (NCHW) is supported, got input {_shape(x)}")
    kernel = _pair(n, n["kernel_size"], "kernel_size")
    stride = n.get("stride") or kernel
    return x, kernel, _pair(n, stride, "stride"), _pair(n, n.get("padding", 0), "padding")


def _max_pool(n):
    x, kernel, stride, padding = _pool_common(n)
    if any(d != 1 for d in _pair(n, n.get("dilation", 1), "dilation")):
        n.fail("dilated pooling is not supported")
    y = F.max_pool2d(x, kernel, stride, padding, ceil_mode=bool(n.get("ceil_mode", False)))
    return (y, None) if n.op.startswith("aten.max_pool2d_with_indices") else y


def _avg_pool(n):
    x, kernel, stride, padding = _pool_common(n)
    if n.get("divisor_override") is not None:
        n.fail("divisor_override is not supported")
    return F.avg_pool2d(x, kernel, stride, padding,
                        count_include_pad=bool(n.get("count_include_pad", True)),
                        ceil_mode=bool(n.get("ceil_mode", False)))


def _adaptive_avg_pool(n):
    x = _f32(n, n["self"])
    shape = _shape(x)
    if len(shape) != 4:
        n.fail(f"only NCHW inputs are supported, got {shape}")
    out = _pair(n, n["output_size"], "output_size")
    if out == (1, 1):
        return F.reduce_mean(x, (2, 3), keepdims=True)
    if shape[2] % out[0] or shape[3] % out[1]:
        n.fail(f"output size {out} does not divide the input {shape[2:]} (uneven windows)")
    kernel = (shape[2] // out[0], shape[3] // out[1])
    return F.avg_pool2d(x, kernel, kernel, 0)


def _sdpa(n):
    """scaled_dot_product_attention: flash.attention, or with an explicit
    mask (boolean: attend where True; float: added to the scores) the
    same computation written out, since flash.attention has no mask
    operand. A constant mask that masks nothing is dropped."""
    if n.get("dropout_p", 0.0) != 0.0:
        n.fail("attention dropout (call module.eval() first)")
    if n.get("enable_gqa", False):
        n.fail("grouped-query attention (enable_gqa) is not supported")
    q, k, v = (_f32(n, n[key]) for key in ("query", "key", "value"))
    causal, scale = bool(n.get("is_causal", False)), n.get("scale")
    mask = n.get("attn_mask")
    if _is_const(mask):
        if mask.dtype == np.bool_:
            mask = None if mask.all() else np.where(mask, 0, -np.inf).astype(np.float32)
        elif not mask.any():
            mask = None
    if mask is None:
        return F.attention(q, k, v, causal=causal, scale=scale)
    if causal:
        n.fail("is_causal=True together with an explicit attn_mask")
    if isinstance(mask, Tracer):
        if _torch_dtype(n, "attn_mask") == _torch().bool:  # attend where True
            mask = F.where(mask, np.float32(0), np.float32(-np.inf))
        elif mask.dtype != np.float32:
            n.fail(f"an attn_mask of dtype {_torch_dtype(n, 'attn_mask')} "
                   f"(boolean or float masks only)")
    shape = _shape(q)
    rank = len(shape)
    scale = 1 / math.sqrt(shape[-1]) if scale is None else scale
    perm = list(range(rank - 2)) + [rank - 1, rank - 2]
    scores = F.mul(F._matmul_nd(q, F.transpose(k, perm)), np.float32(scale))
    probs = F.softmax(F.add(scores, _f32(n, mask)), -1)
    return F._matmul_nd(probs, v)


def _factory(fill):
    """full/zeros/ones (and their _like forms): a constant."""
    def handler(n):
        like = n.args.get("self")
        shape = _shape(like) if like is not None else tuple(n.get("size", ()))
        value = fill if fill is not None else n["fill_value"]
        return np.full(shape, value, np.float32)
    return handler


def _scalar_tensor(n):
    return np.asarray(n["s"], np.float32)


def _getitem(n):
    value = n["arg0"][n["arg1"]]
    if value is None:
        n.fail(f"output {n['arg1']} (a statistic or index that only training uses) "
               f"is not supported")
    return value


def _ignore(n):
    return None


HANDLERS = {
    "aten.constant_pad_nd": _constant_pad, "aten.pad": _pad, "aten.roll": _roll,
    "aten.masked_fill": _masked_fill,
    "aten.index_select": _index_select, "aten.embedding": _embedding,
    "aten.index": _advanced_index,
    # comparisons and logic: 0/1 float masks
    "aten.eq": _binary(F.equal, np.equal), "aten.ne": _binary(F.not_equal, np.not_equal),
    "aten.lt": _binary(F.less, np.less), "aten.le": _binary(F.less_equal, np.less_equal),
    "aten.gt": _binary(F.greater, np.greater),
    "aten.ge": _binary(F.greater_equal, np.greater_equal),
    "aten.where": _where,
    "aten.logical_not": _logical(lambda x: F.sub(np.float32(1), x), "self"),
    "aten.bitwise_not": _logical(lambda x: F.sub(np.float32(1), x), "self"),
    "aten.logical_and": _logical(F.mul, "self", "other"),
    "aten.bitwise_and": _logical(F.mul, "self", "other"),
    "aten.logical_or": _logical(F.maximum, "self", "other"),
    "aten.bitwise_or": _logical(F.maximum, "self", "other"),
    "aten.any": _reduce(F.reduce_max, np.max),
    # elementwise
    "aten.add": _binary(add, np.add), "aten.sub": _binary(F.sub, np.subtract),
    "aten.rsub": _binary(F.sub, np.subtract, reverse=True),
    "aten.mul": _binary(F.mul, np.multiply), "aten.div": _div, "aten.pow": _pow,
    "aten.maximum": _binary(F.maximum, np.maximum),
    "aten.relu": _unary(relu, lambda x: np.maximum(x, 0)), "aten.gelu": _gelu,
    "aten.sigmoid": _unary(F.sigmoid, lambda x: 1 / (1 + np.exp(-x))),
    # as torch.export leaves them (decompositions would spell them out)
    "aten.silu": _unary(F.silu, lambda x: x / (1 + np.exp(-x))),
    "aten.hardsigmoid": _unary(F.hardsigmoid, lambda x: np.clip(x / 6 + 0.5, 0, 1)),
    "aten.hardswish": _unary(F.hardswish, lambda x: x * np.clip(x / 6 + 0.5, 0, 1)),
    "aten.tanh": _unary(F.tanh, np.tanh), "aten.exp": _unary(F.exp, np.exp),
    "aten.erf": _unary(F.erf, None), "aten.sqrt": _unary(F.sqrt, np.sqrt),
    "aten.rsqrt": _rsqrt, "aten.reciprocal": _reciprocal, "aten.neg": _unary(F.neg, np.negative),
    "aten.clamp": _clamp, "aten.hardtanh": lambda n: _clamp(_rename(n, min_val="min",
                                                                    max_val="max")),
    # linear algebra
    "aten.linear": _linear, "aten.matmul": _matmul, "aten.mm": _matmul, "aten.bmm": _bmm,
    "aten.addmm": _addmm,
    # layout
    "aten.permute": _permute, "aten.transpose": _transpose, "aten.t": _t,
    "aten.view": _view, "aten.reshape": _view, "aten._unsafe_view": _view,
    "aten.flatten": _flatten, "aten.unflatten": _unflatten, "aten.unsqueeze": _unsqueeze,
    "aten.squeeze": _squeeze, "aten.expand": _expand, "aten.select": _select,
    "aten.slice": _slice, "aten.split": _split, "aten.split_with_sizes": _split,
    "aten.chunk": _chunk, "aten.cat": _cat, "aten.contiguous": _identity,
    "aten.clone": _identity, "aten.alias": _identity, "aten.detach": _identity,
    "aten.lift_fresh_copy": _identity, "aten._to_copy": _identity, "aten.to": _identity,
    "aten.dropout": _dropout,
    # reductions and normalizations
    "aten.mean": _reduce(F.reduce_mean, np.mean), "aten.sum": _reduce(F.reduce_sum, np.sum),
    "aten.amax": _reduce(F.reduce_max, np.max), "aten.softmax": _softmax,
    "aten._softmax": _softmax, "aten.layer_norm": _layer_norm,
    "aten.native_layer_norm": _layer_norm, "aten.batch_norm": _batch_norm,
    "aten._native_batch_norm_legit_no_training": _batch_norm,
    # convolution and pooling
    "aten.conv2d": _conv, "aten.convolution": _conv, "aten.max_pool2d": _max_pool,
    "aten.max_pool2d_with_indices": _max_pool, "aten.avg_pool2d": _avg_pool,
    "aten.adaptive_avg_pool2d": _adaptive_avg_pool,
    "aten._adaptive_avg_pool2d": _adaptive_avg_pool,
    # attention
    "aten.scaled_dot_product_attention": _sdpa,
    # constants and bookkeeping
    "aten.full": _factory(None), "aten.full_like": _factory(None),
    "aten.zeros": _factory(0.0), "aten.zeros_like": _factory(0.0),
    "aten.ones": _factory(1.0), "aten.ones_like": _factory(1.0),
    "aten.scalar_tensor": _scalar_tensor, "getitem": _getitem,
    "aten._assert_tensor_metadata": _ignore, "aten._assert_scalar": _ignore,
    "aten.sym_constrain_range_for_size": _ignore,
}


def _rename(n, **names):
    n.args.update({new: n.args.get(old) for old, new in names.items()})
    n.args["self"] = n.args.get("self", n.args.get("input"))
    return n


# Ops kept whole through torch.export's decompositions, as fc has ops (or
# direct compositions) for them that compile better than their ATen pieces.
_KEEP = ("linear", "matmul", "scaled_dot_product_attention", "layer_norm", "softmax",
         "gelu", "flatten", "conv2d", "batch_norm", "adaptive_avg_pool2d", "max_pool2d")


def pytorch_support() -> list:
    """The ATen ops fc.from_pytorch imports."""
    return sorted(k for k, h in HANDLERS.items() if k.startswith("aten.") and h is not _ignore)


def _key(target) -> str:
    if target is operator.getitem:
        return "getitem"
    name = str(target)  # "aten.add.Tensor": the overload packet and overload
    return name.rsplit(".", 1)[0] if name.count(".") >= 2 else name


def _capture(module, example_inputs, decompose=None):
    """(graph module, {placeholder name: weight or None for a user input},
    user input names, whether the graph is decomposed) from torch.export,
    else make_fx. decompose=None decomposes only when needed."""
    torch = _torch()
    try:
        with torch.no_grad():
            program = torch.export.export(module, tuple(example_inputs))
        # Decomposing re-traces the whole graph (half of ResNet-18's import
        # from a warm cache): skipped when every op already has a handler.
        user_inputs = [spec.arg.name for spec in program.graph_signature.input_specs
                       if spec.kind == torch.export.graph_signature.InputKind.USER_INPUT]
        decomposed = decompose or not _importable_as_exported(program.graph_module.graph,
                                                               user_inputs)
        if decomposed:
            table = torch.export.default_decompositions()
            for name in _KEEP:
                packet = getattr(torch.ops.aten, name)
                for overload in packet.overloads():
                    table.pop(getattr(packet, overload), None)
            program = program.run_decompositions(table)
    except Exception as e:  # noqa: BLE001 - any capture failure falls back
        return _capture_fx(module, example_inputs, e)
    weights, inputs = {}, []
    state = dict(program.state_dict) | dict(program.constants)
    kinds = torch.export.graph_signature.InputKind
    for spec in program.graph_signature.input_specs:
        if spec.kind == kinds.USER_INPUT:
            inputs.append(spec.arg.name)
        elif spec.kind in (kinds.PARAMETER, kinds.BUFFER, kinds.CONSTANT_TENSOR):
            weights[spec.arg.name] = state[spec.target]
        else:
            raise UnsupportedTorch(f"from_pytorch: graph input '{spec.arg.name}' of kind "
                                   f"{spec.kind.name} is not supported")
    for spec in program.graph_signature.output_specs:
        if spec.kind.name != "USER_OUTPUT":
            raise UnsupportedTorch(f"from_pytorch: the module mutates '{spec.target}' "
                                   f"({spec.kind.name}); call module.eval() first")
    return program.graph_module, weights, inputs, decomposed


def _written(node) -> list:
    """The positions of the arguments the node's op writes (relu_, add_:
    [0])."""
    schema = getattr(node.target, "_schema", None)
    return [] if schema is None else [
        i for i, a in enumerate(schema.arguments)
        if a.alias_info is not None and a.alias_info.is_write]


def _writes(node) -> bool:
    """Whether the node's op writes one of its arguments (relu_, add_)."""
    return bool(_written(node))


def _functional_in_place(node) -> bool:
    """Whether an in-place node (relu_, add_) can run as its functional op:
    it writes only its first argument, which is a fresh tensor (made by an
    op whose result aliases nothing) that nothing else reads, so no other
    value can see the write."""
    torch = _torch()
    schema = node.target._schema
    if _functional_schema(node) is None:
        return False
    if schema.name == "aten::dropout_":  # (self, p, train): in eval, writes nothing
        train = node.args[2] if len(node.args) > 2 else node.kwargs.get("train", True)
        if train is False:
            return True
    if _written(node) != [0] or not node.args or not isinstance(node.args[0], torch.fx.Node):
        return False
    producer = node.args[0]
    returns = getattr(getattr(producer.target, "_schema", None), "returns", None)
    fresh = returns is not None and (
        all(r.alias_info is None for r in returns)
        or (_writes(producer) and _functional_in_place(producer)))  # relu_(add_(..))
    return (producer.op == "call_function" and fresh and list(producer.users) == [node]
            and _key(node.target)[:-1] in HANDLERS)


def _writes_fresh_constant(node) -> bool:
    """Whether an in-place node on constants writes only into a tensor the
    graph itself made (a factory's result, through views of it), so that
    _fold can run it at import time in graph order: the views and the
    tensor share memory as NumPy arrays, and no weight of the model is
    written (Swin's attention mask: slices of x.new_zeros(...) filled)."""
    if _written(node) != [0] or not node.args:
        return False
    base = node.args[0]
    while True:
        if not hasattr(base, "op") or base.op != "call_function":
            return False  # a placeholder (weight or input) or a literal
        returns = getattr(getattr(base.target, "_schema", None), "returns", None)
        if returns is None or len(returns) != 1:
            return False
        if returns[0].alias_info is None:
            return _key(base.target) in _SHAPE_ONLY + ("aten.zeros", "aten.ones", "aten.full")
        base = base.args[0] if base.args else None  # a view: follow its input


def _functional_schema(node):
    """The schema of an in-place node's functional op (dropout_ ->
    dropout, whose first argument is `input`, not `self`), or None when
    there is no such op and overload."""
    torch = _torch()
    name = node.target._schema.name.split("::")[-1][:-1]
    packet = getattr(torch.ops.aten, name, None)
    overload = getattr(packet, node.target._overloadname, None) or \
        getattr(packet, "default", None)
    return overload._schema if overload is not None else None


def _importable_as_exported(graph, user_inputs) -> bool:
    """Whether torch.export's graph imports without run_decompositions:
    every op has a handler (the decomposed graph is what the handlers were
    written for, but each handler binds its op's own schema) or only
    constant inputs (_fold computes it), and every in-place op can run
    functionally (_functional_in_place)."""
    traced = set(user_inputs)  # nodes whose value depends on an input
    for node in graph.nodes:
        if node.op != "call_function":
            continue
        constant = ((_key(node.target) in _SHAPE_ONLY
                     or not any(i.name in traced for i in node.all_input_nodes))
                    and _key(node.target) not in _NEVER_FOLD)  # _fold computes it
        if not constant:
            traced.add(node.name)
        if _writes(node):
            if not (constant and _writes_fresh_constant(node)) and \
                    not _functional_in_place(node):
                return False
        elif not constant and _key(node.target) not in HANDLERS:
            return False
    return True


def _capture_fx(module, example_inputs, export_error):
    torch = _torch()
    from torch.fx.experimental.proxy_tensor import make_fx
    try:
        with torch.no_grad():
            gm = make_fx(module, tracing_mode="real")(*example_inputs)
    except Exception as e:  # noqa: BLE001
        raise UnsupportedTorch(f"from_pytorch: neither torch.export ({type(export_error).__name__}: "
                               f"{str(export_error).splitlines()[0][:200]}) nor make_fx "
                               f"({type(e).__name__}: {str(e).splitlines()[0][:200]}) could "
                               f"capture {type(module).__name__}") from None
    warnings.warn(f"from_pytorch: torch.export could not capture {type(module).__name__} "
                  f"({type(export_error).__name__}: {str(export_error).splitlines()[0][:200]}); "
                  f"traced with make_fx and the real weights instead, so values Python computes "
                  f"from them are fixed at import", stacklevel=3)
    inputs = [n.name for n in gm.graph.nodes if n.op == "placeholder"]
    weights = {}
    for node in gm.graph.nodes:
        if node.op == "get_attr":
            weights[node.name] = getattr(gm, node.target)
    return gm, weights, inputs, True


_NOT_CONSTANT = object()
# Ops whose value must not be computed at import time even on constants.
_NEVER_FOLD = ("aten.rand", "aten.randn", "aten.rand_like", "aten.randn_like", "aten.randint",
               "aten.bernoulli", "aten.native_dropout", "aten.dropout", "aten.empty",
               "aten.empty_like", "aten.empty_strided")
# Ops whose value depends on their tensor arguments' shapes and dtypes
# only: constants even on run-time values (Swin's attention mask starts
# as x.new_zeros(...)).
_SHAPE_ONLY = ("aten.new_zeros", "aten.new_ones", "aten.new_full", "aten.zeros_like",
               "aten.ones_like", "aten.full_like")


def _fold(node, env):
    """The node's value computed by torch now, when none of its inputs is a
    run-time value: shapes are static, so index arithmetic (arange, a
    relative-position table indexed by a constant index, masks) and weight
    arithmetic become constants with torch's own semantics instead of
    graph ops. _NOT_CONSTANT when an input is traced."""
    torch = _torch()
    traced = []

    shape_only = _key(node.target) in _SHAPE_ONLY

    def value(a):
        if isinstance(a, torch.fx.Node):
            a = env[a.name]
        if isinstance(a, Tracer):
            if shape_only:  # its values are never read
                return torch.from_numpy(np.empty(a.shape, a.dtype))
            traced.append(a)
            return a
        if isinstance(a, np.ndarray):
            return torch.from_numpy(a if a.flags.writeable else a.copy())
        if isinstance(a, (list, tuple)):
            return type(a)(value(x) for x in a)
        return a

    if _key(node.target) in _NEVER_FOLD:
        return _NOT_CONSTANT
    args = value(node.args)
    kwargs = {k: value(v) for k, v in node.kwargs.items()}
    if traced:
        return _NOT_CONSTANT
    with torch.no_grad():
        out = node.target(*args, **kwargs)
    if isinstance(out, (list, tuple)):
        return type(out)(_to_numpy(o) for o in out)
    return _to_numpy(out)


def _to_numpy(tensor):
    torch = _torch()
    if not isinstance(tensor, torch.Tensor):
        return tensor
    array = tensor.detach().cpu().numpy()
    return array if array.dtype != np.float64 else array.astype(np.float32)


class TorchModel(ImportedModel):
    """An imported torch.nn.Module (see ImportedModel); takes NumPy arrays
    or CPU torch tensors."""

    source = "PyTorch"


def from_pytorch(module, example_inputs, name: str = "torch_model",
                 options: str = "", target: str = "host") -> TorchModel:
    """Imports `module` (a torch.nn.Module, evaluated in eval mode) traced on
    `example_inputs` (a tensor or a tuple of tensors: float32, or int64/int32
    indices such as token ids; the compiled model keeps their shapes and
    dtypes) as one compiled graph, for `target` (fc.targets())."""
    torch = _torch()
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"from_pytorch: expected a torch.nn.Module, got {type(module).__name__}")
    if isinstance(example_inputs, torch.Tensor):
        example_inputs = (example_inputs,)
    example_inputs = tuple(example_inputs)
    for i, x in enumerate(example_inputs):
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"from_pytorch: example input {i} is a {type(x).__name__} "
                            f"(tensors only)")
        if x.dtype not in (torch.float32, torch.int64, torch.int32):
            raise UnsupportedTorch(f"from_pytorch: example input {i} has dtype {x.dtype} "
                                   f"(float32, or int64/int32 indices such as token ids)")
    was_training = module.training
    module.eval()
    try:
        gm, weights, input_names, decomposed = _capture(module, example_inputs)
        try:
            trace, results, output_names = _trace_graph(gm, weights, example_inputs, name)
        except (UnsupportedTorch, ValueError):
            if decomposed:
                raise
            # A handler refused an op as torch.export left it (an edge case
            # its decomposition covers): import the decomposed graph.
            gm, weights, input_names, _ = _capture(module, example_inputs, decompose=True)
            trace, results, output_names = _trace_graph(gm, weights, example_inputs, name)
    finally:
        module.train(was_training)
    compiled = compile_trace(trace, results, name, options, target=target)
    return TorchModel(compiled, input_names, output_names)


def _trace_graph(gm, weights, example_inputs, name):
    """(trace, results, output names): the graph's nodes through HANDLERS."""
    trace = Trace(name)
    env: dict = {}
    shapes = iter((tuple(x.shape), _to_numpy(x.new_empty(0)).dtype) for x in example_inputs)
    results, output_names = None, []
    for node in gm.graph.nodes:
        if node.op == "placeholder":
            if node.name in weights:
                env[node.name] = _to_numpy(weights[node.name])
            else:
                env[node.name] = trace.input(*next(shapes))
        elif node.op == "get_attr":
            env[node.name] = _to_numpy(weights[node.name])
        elif node.op == "call_function":
            folded = _fold(node, env)
            if folded is not _NOT_CONSTANT:
                env[node.name] = folded
                continue
            key, schema = _key(node.target), None
            if _writes(node) and _functional_in_place(node):  # relu_ as relu
                key, schema = key[:-1], _functional_schema(node)
            handler = HANDLERS.get(key)
            n = _Node(node, _bind(node, env, schema))
            if handler is None:
                n.fail("op not supported (fc.pytorch_support() lists the supported ones)")
            try:
                env[node.name] = handler(n)
            except UnsupportedTorch:
                raise
            except (ValueError, TypeError, IndexError, KeyError) as e:
                raise ValueError(f"torch node '{n.name}' ({n.op}): {e}") from None
        elif node.op == "output":
            outs = node.args[0]
            outs = list(outs) if isinstance(outs, (tuple, list)) else [outs]
            results = [env[o.name] for o in outs]
            output_names = [o.name for o in outs]
        else:
            raise UnsupportedTorch(f"from_pytorch: node '{node.name}' of kind {node.op} "
                                   f"is not supported")
    for out_name, r in zip(output_names, results):
        if isinstance(r, Tracer) and r.dtype != np.float32:
            raise UnsupportedTorch(f"from_pytorch: output '{out_name}' is a {r.dtype} tensor "
                                   f"(float32 outputs only; integer values only index)")
        if not isinstance(r, Tracer) and not (_is_const(r) and r.dtype == np.float32):
            raise UnsupportedTorch(f"from_pytorch: output '{out_name}' is a "
                                   f"{getattr(r, 'dtype', type(r).__name__)} "
                                   f"(float32 tensors only)")
    return trace, results, output_names
