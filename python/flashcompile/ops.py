"""Eager-style ops on NumPy arrays, each compiled on first use and cached.

An op call builds a one-op Flash function through the native GraphBuilder
(MLIR's own builders, type inference and verifier), JIT-compiles it with the
same pipeline as flash-opt's --flash-to-llvm, caches it by (op, shapes,
dtype, attributes) and runs it.

A cached call is kept to about one native call: the op looks up its
executable by (op, shapes) and calls it directly; the native side checks
dtype, layout and shapes and raises TypeError for anything it cannot take
as is, and only then does the checked, converting path below run.
"""
from __future__ import annotations

import atexit
from dataclasses import dataclass

import numpy as np

from . import _flashcompile as _native
from .compiled import Compiled, _as_f32, compile_mlir
from .graph import caller_location, trace_of
from .tuning.database import TUNABLE_OPS, with_tuning

_cache: dict = {}   # key -> Compiled
_fast: dict = {}    # the same key -> the native executable, for the fast path
_stats = {"hits": 0, "misses": 0}
_dispatchers: list = []  # the native eager ops; they count their own hits
_arity: dict = {}


@dataclass(frozen=True)
class CacheInfo:
    hits: int
    misses: int
    size: int


def cache_info() -> CacheInfo:
    hits = _stats["hits"] + sum(d.hits for d in _dispatchers)
    return CacheInfo(hits, _stats["misses"], len(_cache))


def clear_cache() -> None:
    _cache.clear()
    _fast.clear()
    for d in _dispatchers:
        d.clear()
    _stats.update(hits=0, misses=0)


# Release the compiled code before the interpreter tears down the native
# module, rather than leaving it to whatever order finalization picks.
atexit.register(clear_cache)


def _hashable(value):
    return tuple(value) if isinstance(value, list) else value


def _key(op: str, shapes, attrs) -> tuple:
    return (op, *shapes, *((k, _hashable(v)) for k, v in (attrs or {}).items()))


def _compiled(op: str, arrays, attrs) -> tuple[Compiled, list]:
    """The cached (or newly compiled) executable and the checked arrays."""
    arrays = [_as_f32(a, op, i) for i, a in enumerate(arrays)]
    key = _key(op, [a.shape for a in arrays], attrs)
    compiled = _cache.get(key)
    if compiled is None:
        _stats["misses"] += 1
        file, line = caller_location()
        builder = _native.GraphBuilder()
        args = [builder.add_input(list(a.shape)) for a in arrays]
        if op in TUNABLE_OPS:  # parameters from the tuning database, if any
            attrs = with_tuning(op, [a.shape for a in arrays], attrs)
        result = builder.add_op(op, args, dict(attrs or {}), file, line)
        text = builder.finish(op.split(".")[1], [result])
        compiled = _cache[key] = compile_mlir(text, name=f"<{op}>")
        _fast[key] = compiled._exe
    else:
        _stats["hits"] += 1
    return compiled, arrays


def _apply(op: str, arrays, attrs=None):
    """The checked path: convert, compile if needed, run."""
    compiled, arrays = _compiled(op, arrays, attrs)
    return compiled._exe(*arrays)


def _dispatch(op: str, inputs, attrs=None):
    """Run `op` now on NumPy arrays, or record it when tracing."""
    trace = trace_of(inputs)
    if trace is not None:
        return trace.op(op, inputs, attrs)
    return _apply(op, inputs, attrs)


def lower(fn, *args, **kwargs) -> Compiled:
    """The compiled object an op call would run, for inspection:
    `fc.lower(fc.conv2d, x, w, stride=2).ir("linalg")`."""
    if isinstance(fn, _native.Dispatcher):
        if kwargs:
            raise TypeError(f"lower: {fn.op} takes no keyword arguments")
        return _compiled(fn.op, args, None)[0]
    spec = getattr(fn, "_flash_spec", None)
    if spec is None:
        raise TypeError(f"lower: {getattr(fn, '__name__', fn)!r} is not a flashcompile op")
    return _compiled(*spec(*args, **kwargs))[0]


def _spec(build):
    """Attaches the op's (op, arrays, attrs) builder for `lower`."""
    def attach(fn):
        fn._flash_spec = build
        return fn
    return attach


def _eager_fallback(dispatcher, *arrays):
    """Everything a Dispatcher cannot serve from its cache: compile (and
    register the executable with it), convert, or report."""
    arity = _arity[dispatcher.op]
    if dispatcher.op == "flash.matmul" and len(arrays) == 2 and any(
            getattr(a, "ndim", 2) != 2 for a in arrays):
        from .functional import _matmul_nd  # the N-D form is composed of ops
        return _matmul_nd(*arrays)
    trace = trace_of(arrays)
    if trace is not None:
        if len(arrays) != arity:
            raise TypeError(f"{dispatcher.op} takes {arity} array(s), got {len(arrays)}")
        return trace.op(dispatcher.op, arrays)
    if len(arrays) != arity:
        raise TypeError(f"{dispatcher.op} takes {arity} array(s), got {len(arrays)}")
    compiled, arrays = _compiled(dispatcher.op, arrays, None)
    dispatcher.add([list(a.shape) for a in arrays], compiled._exe)
    return compiled._exe(*arrays)


def _eager(op: str, arity: int, doc: str):
    """An eager op without attributes, as a native Dispatcher: a cached call
    is a shape lookup and one native call, with no Python frame (the whole
    cost of a small call)."""
    _arity[op] = arity
    dispatcher = _native.Dispatcher(op, op.split(".")[1], doc, _eager_fallback)
    _dispatchers.append(dispatcher)
    return dispatcher


matmul = _eager("flash.matmul", 2, "(M, K) @ (K, N) -> (M, N).")
add = _eager("flash.add", 2, "x + y with NumPy broadcasting.")
relu = _eager("flash.relu", 1, "max(x, 0) elementwise (NaN stays NaN).")


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
    if trace_of(arrays) is not None:
        return _dispatch(op, arrays, attrs)
    try:
        out = _fast[_key(op, [a.shape for a in arrays], attrs)](*arrays)
        _stats["hits"] += 1
        return out
    except (KeyError, AttributeError, TypeError):
        return _apply(op, arrays, attrs)
