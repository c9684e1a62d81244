"""The eager cache: an op called on NumPy arrays is compiled on first use
as a one-op Flash function and cached by (op, shapes, attributes).

An op call builds the function through the native GraphBuilder (MLIR's own
builders, type inference and verifier), compiles it with compile_mlir (the
same pipeline as flash-opt's --flash-to-llvm) and runs it.

A cached call is kept to about one native call: ops without attributes
are native Dispatchers (a shape lookup and the call, no Python frame);
the others look up their executable by key and call it directly. The
native side checks dtype, layout and shapes and raises TypeError for
anything it cannot take as is, and only then does the checked,
converting path below run.
"""
from __future__ import annotations

import atexit
from dataclasses import dataclass

import numpy as np

from . import _flashcompile as _native
from . import tuned as _tuned
from .compiled import NATIVE_DTYPES, Compiled, as_f32, as_index, compile_mlir
from .tracing import caller_location, trace_of

_cache: dict = {}   # key -> Compiled
_fast: dict = {}    # the same key -> the native executable, for the fast path
_stats = {"hits": 0, "misses": 0}
_dispatchers: list = []  # the native eager ops; they count their own hits


@dataclass(frozen=True)
class CacheInfo:
    hits: int
    misses: int
    size: int


def cache_info() -> CacheInfo:
    hits = _stats["hits"] + sum(d.hits for d in _dispatchers)
    return CacheInfo(hits, _stats["misses"], len(_cache))


@_tuned.on_change  # code compiled with other tuned parameters
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


def key(op: str, shapes, attrs) -> tuple:
    return (op, *shapes, *((k, _hashable(v)) for k, v in (attrs or {}).items()))


# The operand that holds integer indices, for the ops that take one; every
# other operand is float32.
_INDEX_OPERAND = {"flash.gather": 1, "flash.cast": 0}


def _checked(op: str, arrays) -> list:
    """`arrays` as the op takes them: float32, or int64/int32 indices."""
    at = _INDEX_OPERAND.get(op)
    out = []
    for i, a in enumerate(arrays):
        if i != at:
            out.append(as_f32(a, op, i))
        else:
            dtype = np.int32 if getattr(a, "dtype", None) == np.int32 else np.int64
            out.append(as_index(a, dtype, op, i))
    return out


def compiled_op(op: str, arrays, attrs) -> tuple[Compiled, list]:
    """The cached (or newly compiled) executable and the checked arrays."""
    arrays = _checked(op, arrays)
    k = key(op, [(a.shape, a.dtype.str) if a.dtype != np.float32 else a.shape
                 for a in arrays], attrs)
    compiled = _cache.get(k)
    if compiled is None:
        _stats["misses"] += 1
        file, line = caller_location()
        builder = _native.GraphBuilder()
        args = [builder.add_input(list(a.shape), NATIVE_DTYPES[a.dtype])
                for a in arrays]
        result = builder.add_op(op, args, dict(attrs or {}), file, line)
        text = builder.finish(op.split(".")[1], [result])
        compiled = _cache[k] = compile_mlir(text, name=f"<{op}>")
        _fast[k] = compiled._exe
    else:
        _stats["hits"] += 1
    return compiled, arrays


def apply(op: str, arrays, attrs=None):
    """The checked path: convert, compile if needed, run."""
    compiled, arrays = compiled_op(op, arrays, attrs)
    return compiled._exe(*arrays)


def dispatch(op: str, inputs, attrs=None):
    """Run `op` now on NumPy arrays, or record it when tracing."""
    trace = trace_of(inputs)
    if trace is not None:
        return trace.op(op, inputs, attrs)
    return apply(op, inputs, attrs)


def fast(op: str, arrays, attrs):
    """The cached executable's result, or None when not cached (or the
    arrays need converting): the hot path of an op with attributes."""
    try:
        out = _fast[key(op, [a.shape for a in arrays], attrs)](*arrays)
    except (KeyError, AttributeError, TypeError):
        return None
    _stats["hits"] += 1
    return out


def native_op(op: str, arity: int, doc: str, other_ranks=None):
    """An eager op without attributes, as a native Dispatcher: a cached call
    is a shape lookup and one native call, with no Python frame (the whole
    cost of a small call). `other_ranks(*arrays)` serves operands of
    other ranks than the op takes (N-D matmul, composed of ops)."""
    def fallback(dispatcher, *arrays):
        """Everything the Dispatcher cannot serve from its cache: compile
        (and register the executable with it), convert, or report."""
        if other_ranks is not None and len(arrays) == 2 and any(
                getattr(a, "ndim", 2) != 2 for a in arrays):
            return other_ranks(*arrays)
        if len(arrays) != arity:
            raise TypeError(f"{op} takes {arity} array(s), got {len(arrays)}")
        trace = trace_of(arrays)
        if trace is not None:
            return trace.op(op, arrays)
        compiled, arrays = compiled_op(op, arrays, None)
        dispatcher.add([list(a.shape) for a in arrays], compiled._exe)
        return compiled._exe(*arrays)

    dispatcher = _native.Dispatcher(op, op.split(".")[1], doc, fallback)
    _dispatchers.append(dispatcher)
    return dispatcher


def lower(fn, *args, **kwargs) -> Compiled:
    """The compiled object an op call would run, for inspection:
    `fc.lower(fc.conv2d, x, w, stride=2).ir("linalg")`."""
    if isinstance(fn, _native.Dispatcher):
        if kwargs:
            raise TypeError(f"lower: {fn.op} takes no keyword arguments")
        return compiled_op(fn.op, args, None)[0]
    spec = getattr(fn, "_flash_spec", None)
    if spec is None:
        raise TypeError(f"lower: {getattr(fn, '__name__', fn)!r} is not a flashcompile op")
    return compiled_op(*spec(*args, **kwargs))[0]
