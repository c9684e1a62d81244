"""Eager-style ops on NumPy arrays, each compiled on first use and cached.

An op call builds a one-op Flash function through the native GraphBuilder
(MLIR's own builders, type inference and verifier), JIT-compiles it with the
same pipeline as flash-opt's --flash-to-llvm, caches it by (op, shapes,
dtype, attributes) and runs it.
"""
from __future__ import annotations

import contextvars
import functools
import sys
from dataclasses import dataclass

from . import _flashcompile as _native
from .compiled import Compiled, _as_f32, compile_mlir

_cache: dict = {}
_stats = {"hits": 0, "misses": 0}
_lowering = contextvars.ContextVar("flashcompile_lowering", default=False)


@dataclass(frozen=True)
class CacheInfo:
    hits: int
    misses: int
    size: int


def cache_info() -> CacheInfo:
    return CacheInfo(_stats["hits"], _stats["misses"], len(_cache))


def clear_cache() -> None:
    _cache.clear()
    _stats.update(hits=0, misses=0)


def _caller_location():
    """The user's file and line (first frame outside this package)."""
    frame = sys._getframe(1)
    here = __file__.rsplit("/", 1)[0]
    while frame is not None and frame.f_code.co_filename.startswith(here):
        frame = frame.f_back
    if frame is None:
        return "", 0
    return frame.f_code.co_filename, frame.f_lineno


def _build(op: str, shapes, attrs) -> Compiled:
    file, line = _caller_location()
    builder = _native.GraphBuilder()
    args = [builder.add_input(list(s)) for s in shapes]
    result = builder.add_op(op, args, attrs, file, line)
    text = builder.finish(op.split(".")[1], [result])
    return compile_mlir(text, name=f"<{op}>")


def _apply(op: str, arrays, attrs=None):
    attrs = attrs or {}
    arrays = [_as_f32(a, op, i) for i, a in enumerate(arrays)]
    key = (op, tuple(a.shape for a in arrays), "f32",
           tuple(sorted((k, tuple(v) if isinstance(v, list) else v)
                        for k, v in attrs.items())))
    compiled = _cache.get(key)
    if compiled is None:
        _stats["misses"] += 1
        compiled = _cache[key] = _build(op, [a.shape for a in arrays], attrs)
    else:
        _stats["hits"] += 1
    if _lowering.get():
        return compiled
    return compiled(*arrays)


def lower(fn, *args, **kwargs) -> Compiled:
    """The compiled object an op call would run, for inspection:
    `fc.lower(fc.conv2d, x, w, stride=2).ir("linalg")`."""
    token = _lowering.set(True)
    try:
        result = fn(*args, **kwargs)
    finally:
        _lowering.reset(token)
    if not isinstance(result, Compiled):
        raise TypeError(f"lower: {getattr(fn, '__name__', fn)!r} is not a flashcompile op")
    return result


def matmul(a, b):
    """(M, K) @ (K, N) -> (M, N)."""
    return _apply("flash.matmul", (a, b))


def add(x, y):
    """x + y with NumPy broadcasting."""
    return _apply("flash.add", (x, y))


def relu(x):
    """max(x, 0) elementwise (NaN stays NaN)."""
    return _apply("flash.relu", (x,))


def _pair(value, name: str) -> list[int]:
    if isinstance(value, int) and not isinstance(value, bool):
        return [value, value]
    if (isinstance(value, (tuple, list)) and len(value) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in value)):
        return list(value)
    raise TypeError(f"flash.conv2d: {name} must be an int or a pair of ints, got {value!r}")


def _padding(value) -> list[int]:
    """int, (h, w), or (top, left, bottom, right) -> [top, left, bottom, right]."""
    if isinstance(value, (tuple, list)) and len(value) == 4:
        if all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            return list(value)
        raise TypeError(f"flash.conv2d: padding must hold ints, got {value!r}")
    h, w = _pair(value, "padding")
    return [h, w, h, w]


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    """2-D convolution as torch.nn.functional.conv2d: x is NCHW, weight OIHW,
    bias (O,) or None; padding is int, (h, w) or (top, left, bottom, right)."""
    attrs = {"stride": _pair(stride, "stride"),
             "padding": _padding(padding),
             "dilation": _pair(dilation, "dilation")}
    arrays = (x, weight) if bias is None else (x, weight, bias)
    return _apply("flash.conv2d", arrays, attrs)
