"""The op set: one table of every fc op, on NumPy arrays (run now, through
the eager cache) and traced values (recorded by fc.jit) alike. Each maps to
one Flash op; a few (linear, matmul on N-D operands, indexing, split) are
compositions of them. Axes may be negative, as in NumPy.

Ops that share a shape are made from the tables below (elementwise ops by
arity); the others are written out, each checking and normalizing its
attributes before the one `dispatch` (eager.py). The table also tells the
tracer what its operators and NumPy's ufuncs mean (tracing.OPERATORS).
"""
from __future__ import annotations

import builtins

import numpy as np

from . import eager, tracing
from .eager import dispatch


def _shape(x, op: str) -> tuple:
    shape = getattr(x, "shape", None)
    if shape is None:
        if isinstance(x, (int, float)) and not isinstance(x, bool):
            return ()
        raise TypeError(f"{op}: expected an array or a traced value, got {type(x).__name__}")
    return tuple(shape)


def _axis(axis, rank: int, op: str, shape=None) -> int:
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{op}: axis must be an int, got {axis!r}")
    if not -rank <= axis < max(rank, 1):
        raise ValueError(f"{op}: axis {axis} is out of range for shape {shape}")
    return int(axis) % max(rank, 1)


def _axes(axes, rank: int, op: str, shape) -> list:
    if axes is None:
        return list(range(rank))
    if isinstance(axes, (int, np.integer)) and not isinstance(axes, bool):
        axes = [axes]
    return [_axis(a, rank, op, shape) for a in axes]


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _pair(value, name: str, op: str = "flash.conv2d") -> tuple:
    """An int or a pair of ints -> (h, w)."""
    if _is_int(value):
        return (int(value), int(value))
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(map(_is_int, value)):
        return tuple(int(v) for v in value)
    raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")


def _padding(value, op: str = "flash.conv2d") -> tuple:
    """int, (h, w), or (top, left, bottom, right) -> (top, left, bottom, right)."""
    if isinstance(value, (tuple, list)) and len(value) == 4:
        if all(map(_is_int, value)):
            return tuple(int(v) for v in value)
        raise TypeError(f"{op}: padding must hold ints, got {value!r}")
    h, w = _pair(value, "padding", op)
    return (h, w, h, w)


# Elementwise, with NumPy broadcasting: (name, Flash op, doc) by arity ------

_BINARY = [
    ("sub", "flash.sub", "x - y with NumPy broadcasting."),
    ("mul", "flash.mul", "x * y with NumPy broadcasting."),
    ("div", "flash.div", "x / y with NumPy broadcasting."),
    ("pow", "flash.pow", "x ** y with NumPy broadcasting."),
    ("maximum", "flash.max", "np.maximum(x, y) (NaN propagates)."),
    ("equal", "flash.equal", "x == y as 1.0/0.0 (a float32 mask), with NumPy broadcasting."),
    ("not_equal", "flash.not_equal", "x != y as 1.0/0.0; NaN != NaN holds, so "
     "not_equal(x, x) is np.isnan(x)."),
    ("less", "flash.less", "x < y as 1.0/0.0, with NumPy broadcasting."),
    ("less_equal", "flash.less_equal", "x <= y as 1.0/0.0, with NumPy broadcasting."),
]
_UNARY = [
    ("exp", "flash.exp", "np.exp(x)."),
    ("tanh", "flash.tanh", "np.tanh(x)."),
    ("sigmoid", "flash.sigmoid", "1 / (1 + exp(-x))."),
    ("gelu", "flash.gelu", "0.5 * x * (1 + erf(x / sqrt(2))): the exact GELU (torch's default)."),
    ("erf", "flash.erf", "The error function."),
    ("sqrt", "flash.sqrt", "np.sqrt(x)."),
    ("neg", "flash.neg", "-x."),
]


def _binary_op(name: str, op: str, doc: str):
    def fn(x, y):
        return dispatch(op, [x, y])
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


def _unary_op(name: str, op: str, doc: str):
    def fn(x):
        return dispatch(op, [x])
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


sub, mul, div, pow, maximum, equal, not_equal, less, less_equal = (  # noqa: A001 - pow
    _binary_op(*row) for row in _BINARY)


def greater(x, y):
    """x > y as 1.0/0.0 (y < x)."""
    return less(y, x)


def greater_equal(x, y):
    """x >= y as 1.0/0.0 (y <= x)."""
    return less_equal(y, x)


def where(cond, x, y):
    """np.where(cond != 0, x, y) with NumPy broadcasting of all three; cond
    is a 0/1 mask, as the comparisons give."""
    return dispatch("flash.select", [cond, x, y])
exp, tanh, sigmoid, gelu, erf, sqrt, neg = (_unary_op(*row) for row in _UNARY)

# Ops without attributes that are native Dispatchers: a cached call is one
# native call (the eager cache's fast path).
add = eager.native_op("flash.add", 2, "x + y with NumPy broadcasting.")
relu = eager.native_op("flash.relu", 1, "max(x, 0) elementwise (NaN stays NaN).")
matmul = eager.native_op("flash.matmul", 2, "(M, K) @ (K, N) -> (M, N).",
                         other_ranks=lambda a, b: _matmul_nd(a, b))


def bias_add(x, bias, axis: int = -1):
    """x + bias along dimension `axis` (1 for NCHW channels)."""
    shape = _shape(x, "flash.bias_add")
    return dispatch("flash.bias_add", [x, bias],
                    {"axis": _axis(axis, len(shape), "flash.bias_add", shape)})


def minimum(x, y):
    """np.minimum(x, y), as -max(-x, -y)."""
    return neg(maximum(neg(x), neg(y)))


def clip(x, lo=None, hi=None):
    """np.clip(x, lo, hi); either bound may be None, a number, or an array
    or traced value that broadcasts (torch.clamp, ONNX Clip)."""
    def bound(v):
        return np.float32(v) if isinstance(v, (int, float, np.number)) else v
    if lo is not None:
        x = maximum(x, bound(lo))
    if hi is not None:
        x = minimum(x, bound(hi))
    return x


def hardsigmoid(x, alpha: float = 1 / 6, beta: float = 0.5):
    """clip(alpha * x + beta, 0, 1) (torch's defaults; ONNX's are 0.2, 0.5)."""
    return clip(add(mul(x, np.float32(alpha)), np.float32(beta)), 0.0, 1.0)


def hardswish(x):
    """x * relu6(x + 3) / 6."""
    return mul(x, hardsigmoid(x))


def silu(x):
    """x * sigmoid(x) (swish)."""
    return mul(x, sigmoid(x))


# Linear algebra ----------------------------------------------------------

def batch_matmul(a, b):
    """(B, M, K) @ (B, K, N) -> (B, M, N)."""
    return dispatch("flash.batch_matmul", [a, b])


def _spec(build):
    """Attaches the op's (op, arrays, attrs) builder for `fc.lower`."""
    def attach(fn):
        fn._flash_spec = build
        return fn
    return attach


def _conv2d_spec(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    attrs = {"stride": _pair(stride, "stride"),
             "padding": _padding(padding),
             "dilation": _pair(dilation, "dilation")}
    if not _is_int(groups) or groups < 1:
        raise ValueError(f"flash.conv2d: groups must be a positive int, got {groups!r}")
    if groups != 1:  # the default stays out of the IR (and of cache keys)
        attrs["groups"] = int(groups)
    arrays = (x, weight) if bias is None else (x, weight, bias)
    return "flash.conv2d", arrays, attrs


@_spec(_conv2d_spec)
def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution as torch.nn.functional.conv2d: x is NCHW, weight
    O x C/groups x KH x KW, bias (O,) or None; padding is int, (h, w) or
    (top, left, bottom, right); groups = C is a depthwise convolution."""
    op, arrays, attrs = _conv2d_spec(x, weight, bias, stride, padding, dilation, groups)
    if tracing.trace_of(arrays) is None:
        out = eager.fast(op, arrays, attrs)
        if out is not None:
            return out
    return dispatch(op, arrays, attrs)


def _matmul_nd(a, b):
    """np.matmul for N-D operands: (..., M, K) @ (K, N) runs as one 2-D
    matmul; (..., M, K) @ (..., K, N) with equal leading dimensions as a
    batch_matmul."""
    sa, sb = _shape(a, "flash.matmul"), _shape(b, "flash.matmul")
    if len(sa) < 2 or len(sb) < 2:
        raise ValueError(f"flash.matmul: operands must be at least 2-D, got {sa} and {sb}")
    if len(sb) == 2:
        rows = int(np.prod(sa[:-1], dtype=np.int64))
        out = matmul(reshape(a, (rows, sa[-1])), b)
        return reshape(out, (*sa[:-1], sb[-1]))
    if sa[:-2] != sb[:-2]:
        raise ValueError(f"flash.matmul: leading dimensions of {sa} and {sb} differ "
                         f"(batch broadcasting is not supported)")
    batch = int(np.prod(sa[:-2], dtype=np.int64))
    out = batch_matmul(reshape(a, (batch, *sa[-2:])), reshape(b, (batch, *sb[-2:])))
    return reshape(out, (*sa[:-2], sa[-2], sb[-1]))


def linear(x, weight, bias=None):
    """x @ weight.T + bias, as torch.nn.functional.linear (weight is
    out_features x in_features; x may be 1-D, as torch allows)."""
    shape = _shape(x, "flash.linear")
    if len(shape) == 1:  # a vector: one row, then back to a vector
        y = linear(reshape(x, (1, shape[0])), weight, bias)
        return reshape(y, (_shape(y, "flash.linear")[-1],))
    # A constant weight (an importer's) is transposed by NumPy: exactly the
    # same values, without compiling an eager transpose kernel per shape.
    wt = np.ascontiguousarray(weight.T) if isinstance(weight, np.ndarray) and \
        weight.ndim == 2 else transpose(weight, (1, 0))
    y = _matmul_nd(x, wt)
    return y if bias is None else bias_add(y, bias, -1)


# Layout ------------------------------------------------------------------

def transpose(x, perm=None):
    """np.transpose(x, perm); no perm reverses the dimensions."""
    shape = _shape(x, "flash.transpose")
    perm = list(reversed(range(len(shape)))) if perm is None else \
        [_axis(p, len(shape), "flash.transpose", shape) for p in perm]
    return dispatch("flash.transpose", [x], {"permutation": perm})


def reshape(x, shape):
    """np.reshape(x, shape); one size may be -1."""
    src = _shape(x, "flash.reshape")
    shape = [shape] if isinstance(shape, (int, np.integer)) else list(shape)
    if shape.count(-1) > 1:
        raise ValueError(f"flash.reshape: at most one -1 in shape {tuple(shape)}")
    if -1 in shape:
        known = int(np.prod([s for s in shape if s != -1], dtype=np.int64))
        total = int(np.prod(src, dtype=np.int64))
        if known == 0 or total % known:
            raise ValueError(f"flash.reshape: cannot reshape {src} to {tuple(shape)}")
        shape[shape.index(-1)] = total // known
    if tuple(shape) == src:
        return x
    return dispatch("flash.reshape", [x], {"shape": [int(s) for s in shape]})


def flatten(x, axis: int = 1):
    """To 2-D: dimensions before `axis` by those from `axis` on (ONNX Flatten)."""
    shape = _shape(x, "flash.flatten")
    if not -len(shape) <= axis <= len(shape):
        raise ValueError(f"flash.flatten: axis {axis} is out of range for shape {shape}")
    return dispatch("flash.flatten", [x], {"axis": axis + len(shape) if axis < 0 else axis})


def concat(xs, axis: int = 0):
    """np.concatenate(xs, axis)."""
    xs = list(xs)
    if not xs:
        raise ValueError("flash.concat: needs at least one array")
    shape = _shape(xs[0], "flash.concat")
    return dispatch("flash.concat", xs, {"axis": _axis(axis, len(shape), "flash.concat", shape)})


def pad(x, widths, value: float = 0.0):
    """np.pad(x, widths, constant_values=value): `widths` is one (before,
    after) pair per dimension; negative amounts crop. Runs as slices and a
    concatenation with constant blocks."""
    shape = _shape(x, "flash.pad")
    widths = [tuple(int(v) for v in w) for w in widths]
    if len(widths) != len(shape):
        raise ValueError(f"flash.pad: {len(widths)} (before, after) pairs for shape {shape}")
    for dim, (before, after) in enumerate(widths):
        if not before and not after:
            continue
        size = _shape(x, "flash.pad")[dim]
        if before < 0 or after < 0:
            x = slice(x, [max(0, -before)], [size - max(0, -after)], [dim])
            before, after = max(0, before), max(0, after)
        rest = list(_shape(x, "flash.pad"))
        pieces = []
        for amount in (before, None, after):
            if amount is None:
                pieces.append(x)
            elif amount:
                rest[dim] = amount
                pieces.append(np.full(rest, value, np.float32))
        x = concat(pieces, dim) if len(pieces) > 1 else x
    return x


def _slice_box(shape, index, op="flash.slice"):
    """A NumPy basic index (ints, slices with positive steps, one Ellipsis)
    as (starts, sizes, steps, kept dims) of a flash.slice."""
    index = index if isinstance(index, tuple) else (index,)
    if sum(i is Ellipsis for i in index) > 1:
        raise IndexError(f"{op}: at most one Ellipsis in index {index}")
    at = next((k for k, i in enumerate(index) if i is Ellipsis), None)
    if at is not None:
        index = index[:at] + (builtins.slice(None),) * (len(shape) - len(index) + 1) + \
            index[at + 1:]
    if len(index) > len(shape):
        raise IndexError(f"{op}: index {index} has more entries than shape {shape} has dims")
    index = index + (builtins.slice(None),) * (len(shape) - len(index))
    starts, sizes, steps, kept = [], [], [], []
    for d, (i, dim) in enumerate(zip(index, shape)):
        if isinstance(i, builtins.slice):
            start, stop, step = i.indices(dim)
            if step < 1:
                raise IndexError(f"{op}: step {step} in dimension {d} of shape {shape} "
                                 f"(only positive steps)")
            starts.append(start)
            sizes.append(len(range(start, stop, step)))
            steps.append(step)
            kept.append(sizes[-1])
        elif isinstance(i, (int, np.integer)) and not isinstance(i, bool):
            if not -dim <= i < dim:
                raise IndexError(f"{op}: index {i} is out of range for dimension {d} "
                                 f"of shape {shape}")
            starts.append(int(i) % dim)
            sizes.append(1)
            steps.append(1)
        else:
            raise IndexError(f"{op}: index entry {i!r} in dimension {d} (ints, slices and "
                             f"... only; no arrays or None)")
    return starts, sizes, steps, kept


def getitem(x, index):
    """x[index] for NumPy basic indexing: ints, slices (positive steps) and
    an Ellipsis. Runs as one flash.slice (plus a reshape dropping the
    dimensions an int index removes)."""
    shape = _shape(x, "flash.slice")
    starts, sizes, steps, kept = _slice_box(shape, index)
    y = x
    if (starts, sizes, steps) != ([0] * len(shape), list(shape), [1] * len(shape)):
        y = dispatch("flash.slice", [x], {"starts": starts, "sizes": sizes, "steps": steps})
    return reshape(y, kept) if len(kept) != len(shape) else y


def slice(x, starts, ends, axes=None, steps=None):  # noqa: A001 - ONNX's name
    """ONNX Slice: along each of `axes` (default all), elements from
    `starts` up to `ends` every `steps`, with Python's clamping of negative
    and out-of-range bounds."""
    shape = _shape(x, "flash.slice")
    axes = list(range(len(starts))) if axes is None else list(axes)
    steps = [1] * len(axes) if steps is None else list(steps)
    if not len(starts) == len(ends) == len(axes) == len(steps):
        raise ValueError(f"flash.slice: starts {starts}, ends {ends}, axes {axes} and steps "
                         f"{steps} differ in length")
    index = [builtins.slice(None)] * len(shape)
    for a, b, e, k in zip(axes, starts, ends, steps):
        index[_axis(a, len(shape), "flash.slice", shape)] = builtins.slice(int(b), int(e), int(k))
    return getitem(x, tuple(index))


def split(x, sizes, axis: int = 0):
    """torch.split / ONNX Split: consecutive pieces of `sizes` along `axis`."""
    shape = _shape(x, "flash.slice")
    axis = _axis(axis, len(shape), "flash.slice", shape)
    if sum(sizes) != shape[axis]:
        raise ValueError(f"flash.slice: split sizes {list(sizes)} do not add up to "
                         f"dimension {axis} of shape {shape}")
    pieces, start = [], 0
    for size in sizes:
        index = [builtins.slice(None)] * len(shape)
        index[axis] = builtins.slice(start, start + size)
        pieces.append(getitem(x, tuple(index)))
        start += size
    return pieces


# Indexing ----------------------------------------------------------------

def gather(x, indices, axis: int = 0):
    """np.take(x, indices, axis) (ONNX Gather) with run-time integer
    `indices` (int64 or int32; an integer NumPy array is a constant):
    the result has shape x.shape[:axis] + indices.shape + x.shape[axis+1:].
    Indices in [-n, n) select, negative ones from the end; a compiled call
    rejects an input index outside that range (ValueError)."""
    shape = _shape(x, "flash.gather")
    axis = _axis(axis, len(shape), "flash.gather", shape)
    trace = tracing.trace_of([x, indices])
    if trace is not None and isinstance(indices, (np.ndarray, list, tuple)):
        index_array = np.asarray(indices)
        if not np.issubdtype(index_array.dtype, np.integer):
            raise TypeError(f"flash.gather: indices of dtype {index_array.dtype}; "
                            f"integer indices are required")
        n = shape[axis]
        if index_array.size and (index_array.min() < -n or index_array.max() >= n):
            raise ValueError(f"flash.gather: constant indices outside [{-n}, {n}) "
                             f"for axis {axis} of shape {shape}")
        indices = trace.index_constant(index_array)
    return dispatch("flash.gather", [x, indices], {"axis": axis})


def gather_nd(x, indices):
    """ONNX GatherND (batch_dims 0) with constant integer `indices` of
    shape (..., k): x[indices[..., 0], ..., indices[..., k-1]] followed by
    x's other dimensions (NumPy's x[tuple(np.moveaxis(indices, -1, 0))]),
    as one gather over x's first k dimensions flattened. Negative indices
    count from the end."""
    idx = np.asarray(indices)
    shape = _shape(x, "flash.gather")
    if not np.issubdtype(idx.dtype, np.integer) or idx.ndim < 1 or \
            not 1 <= idx.shape[-1] <= len(shape):
        raise ValueError(f"flash.gather: indices of shape {idx.shape} and dtype {idx.dtype} "
                         f"do not index the leading dimensions of shape {shape}")
    lead = shape[:idx.shape[-1]]
    bounds = np.array(lead, np.int64)
    if idx.size and (np.any(idx < -bounds) or np.any(idx >= bounds)):
        raise ValueError(f"flash.gather: indices out of range for the leading dimensions "
                         f"{lead} of shape {shape}")
    idx = np.where(idx < 0, idx + bounds, idx)
    linear = np.ravel_multi_index(tuple(np.moveaxis(idx, -1, 0)), lead)
    flat = reshape(x, (int(np.prod(lead, dtype=np.int64)), *shape[len(lead):]))
    return gather(flat, np.asarray(linear, np.int64), 0)


def embedding(indices, table):
    """torch.nn.functional.embedding: the rows of `table` (V x D) at
    `indices`, shape indices.shape + (D,)."""
    return gather(table, indices, 0)


def cast(x):
    """An integer tensor (a traced index input or an integer array) as
    float32, as x.astype(np.float32)."""
    return dispatch("flash.cast", [x])


# Reductions --------------------------------------------------------------

def _reduce(op: str, x, axis, keepdims: bool):
    shape = _shape(x, op)
    return dispatch(op, [x], {"axes": _axes(axis, len(shape), op, shape),
                               "keepdims": bool(keepdims)})


def reduce_sum(x, axis=None, keepdims: bool = False):
    """np.sum(x, axis, keepdims=keepdims); axis: None, an int or a tuple."""
    return _reduce("flash.reduce_sum", x, axis, keepdims)


def reduce_mean(x, axis=None, keepdims: bool = False):
    """np.mean(x, axis, keepdims=keepdims)."""
    return _reduce("flash.reduce_mean", x, axis, keepdims)


def reduce_max(x, axis=None, keepdims: bool = False):
    """np.max(x, axis, keepdims=keepdims)."""
    return _reduce("flash.reduce_max", x, axis, keepdims)


# Normalization -----------------------------------------------------------

def softmax(x, axis: int = -1):
    """exp(x - max) / sum(exp(x - max)) along `axis` (stable)."""
    shape = _shape(x, "flash.softmax")
    return dispatch("flash.softmax", [x], {"axis": _axis(axis, len(shape), "flash.softmax", shape)})


def layer_norm(x, scale, bias, axis: int = -1, eps: float = 1e-5):
    """Normalize over dimensions `axis`.. (scale and bias have that shape)."""
    shape = _shape(x, "flash.layer_norm")
    return dispatch("flash.layer_norm", [x, scale, bias],
                     {"axis": _axis(axis, len(shape), "flash.layer_norm", shape),
                      "epsilon": float(eps)})


def batch_norm(x, scale, bias, mean, var, eps: float = 1e-5):
    """Inference batch norm over channel dimension 1."""
    return dispatch("flash.batch_norm", [x, scale, bias, mean, var], {"epsilon": float(eps)})


# Pooling -----------------------------------------------------------------

def _pool_attrs(op, x, kernel_size, stride, padding, ceil_mode=False):
    kernel = _pair(kernel_size, "kernel_size", op)
    stride = kernel if stride is None else _pair(stride, "stride", op)
    padding = _padding(padding, op)
    if ceil_mode:
        padding = _ceil_padding(op, _shape(x, op), kernel, stride, padding)
    return {"kernel": kernel, "stride": stride, "padding": padding}


def _ceil_padding(op, shape, kernel, stride, padding) -> tuple:
    """`padding` with the bottom and right grown so that the windows cover
    what ceil_mode=True counts: ceil((H + pads - K) / S) + 1 windows, less
    one if the last would start in the bottom padding (torch's and ONNX
    Runtime's rule)."""
    if len(shape) != 4:
        raise ValueError(f"{op}: expected an NCHW input, got shape {shape}")
    extra = []
    for d in (0, 1):
        size, k, s = shape[2 + d], kernel[d], stride[d]
        low, high = padding[d], padding[2 + d]
        span = size + low + high - k
        if span < 0:
            return padding  # no window fits: the verifier reports it
        out = -(-span // s) + 1
        if (out - 1) * s >= size + low:
            out -= 1
        extra.append(max(0, (out - 1) * s + k - (size + low + high)))
    return (padding[0], padding[1], padding[2] + extra[0], padding[3] + extra[1])


def max_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode: bool = False):
    """torch.nn.functional.max_pool2d on NCHW (stride defaults to the kernel);
    padding is int, (h, w) or (top, left, bottom, right); ceil_mode counts
    a last, partial window (it sees only real and padded elements)."""
    return dispatch("flash.max_pool2d", [x], _pool_attrs("flash.max_pool2d", x, kernel_size,
                                                          stride, padding, ceil_mode))


def avg_pool2d(x, kernel_size, stride=None, padding=0, count_include_pad: bool = True,
               ceil_mode: bool = False):
    """torch.nn.functional.avg_pool2d on NCHW. With ceil_mode, a partial
    last window averages what it covers of the (padded) input, as torch."""
    op = "flash.avg_pool2d"
    attrs = _pool_attrs(op, x, kernel_size, stride, padding)
    if ceil_mode:
        grown = _pool_attrs(op, x, kernel_size, stride, padding, True)["padding"]
        if grown != attrs["padding"]:
            if any(attrs["padding"]) and count_include_pad:
                raise ValueError(f"{op}: ceil_mode with padding {attrs['padding']} and "
                                 f"count_include_pad=True is not supported (a partial last "
                                 f"window counts the padding but not the ceil extension)")
            # Without padding torch divides a partial window by what it
            # covers: the in-bounds count.
            count_include_pad = False
            attrs["padding"] = grown
    attrs["count_include_pad"] = bool(count_include_pad)
    return dispatch(op, [x], attrs)


# Attention ---------------------------------------------------------------

def attention(q, k, v, causal: bool = False, scale=None):
    """softmax(q @ k^T * scale [+ causal mask]) @ v over (..., S, D) tensors
    (torch's scaled_dot_product_attention); scale defaults to 1/sqrt(D)."""
    attrs = {"causal": bool(causal)}
    if scale is not None:
        attrs["scale"] = float(scale)
    return dispatch("flash.attention", [q, k, v], attrs)


scaled_dot_product_attention = attention
lower = eager.lower


# What the tracer's operators and NumPy's ufuncs on traced values mean.
tracing.OPERATORS.update(add=add, sub=sub, mul=mul, div=div, pow=pow, neg=neg,
                         matmul=_matmul_nd, getitem=getitem, transpose=transpose,
                         reshape=reshape)
tracing.UFUNCS.update({np.add: add, np.subtract: sub, np.multiply: mul, np.divide: div,
                       np.power: pow, np.maximum: maximum, np.exp: exp, np.tanh: tanh,
                       np.sqrt: sqrt, np.negative: neg, np.matmul: _matmul_nd})
