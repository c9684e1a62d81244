"""fc.jit and fc.compile: a Python function (or model) over fc ops traced
into one Flash function, optimized as a whole graph and JIT-compiled.

A jitted function keeps one compiled graph per input signature (the shapes
and dtypes of its array arguments, the values of its other arguments, and
the weights' version for a model); a call with a known signature runs the
compiled code directly, a new one traces and compiles again.
"""
from __future__ import annotations

import functools
import weakref
from dataclasses import dataclass

from . import tuned as _tuned
from .tracing import CompiledGraph, Tracer, is_array, trace_function


def _signature(args, version) -> tuple:
    key = [version]
    for a in args:
        if is_array(a):
            key.append(("array", a.shape, a.dtype.str))
        else:
            try:
                hash(a)
            except TypeError:
                raise TypeError(f"fc.jit: a non-array argument must be hashable (it is part "
                                f"of the signature), got {type(a).__name__}") from None
            key.append(("static", type(a).__name__, a))
    return tuple(key)


@dataclass(frozen=True)
class JitCacheInfo:
    hits: int
    misses: int
    size: int
    signatures: tuple


_jit_functions = weakref.WeakSet()  # for clear_caches


@_tuned.on_change  # graphs compiled with other tuned parameters
def clear_caches() -> None:
    """Forgets every fc.jit function's compiled graphs (e.g. after the
    tuning database changed)."""
    for f in list(_jit_functions):
        f.cache_clear()


class JitFunction:
    """What fc.jit returns: call it like the function it wraps."""

    def __init__(self, fn, options: str = "", name: str | None = None):
        self._fn = fn
        self._options = options
        self._name = name
        self._cache: dict = {}
        self._hits = self._misses = 0
        functools.update_wrapper(self, fn, updated=())
        _jit_functions.add(self)

    def _version(self):
        return getattr(self._fn, "_weights_version", lambda: None)()

    def lower(self, *args) -> CompiledGraph:
        """The compiled graph for these arguments (traced if new), for
        inspection: `f.lower(x).ir("linalg")`."""
        key = _signature(args, self._version())
        compiled = self._cache.get(key)
        if compiled is None:
            self._misses += 1
            compiled = self._cache[key] = trace_function(self._fn, args, self._name,
                                                        self._options)
        else:
            self._hits += 1
        return compiled

    def __call__(self, *args):
        return self.lower(*args)(*args)

    def cache_info(self) -> JitCacheInfo:
        sigs = tuple(tuple(k[1:] for k in key[1:]) for key in self._cache)
        return JitCacheInfo(self._hits, self._misses, len(self._cache), sigs)

    def cache_clear(self) -> None:
        self._cache.clear()
        self._hits = self._misses = 0


def jit(fn=None, *, options: str = ""):
    """Trace-and-compile `fn` on first call per input signature.

        @fc.jit
        def mlp(x):
            return fc.relu(x @ w1 + b1) @ w2 + b2

    `options` are pipeline options (flash-opt syntax, e.g. "ukernels=false").
    A model (fc.Module) can be jitted too: `fc.jit(model)`.
    """
    if fn is None:
        return lambda f: jit(f, options=options)
    name = type(fn).__name__ if not hasattr(fn, "__name__") else None
    return JitFunction(fn, options=options, name=name)


def compile(fn_or_model, example_inputs, options: str = "",  # noqa: A001
            target: str = "host", allow_tf32: bool = False) -> CompiledGraph:
    """Traces `fn_or_model` on `example_inputs` (an array or a tuple of
    arguments) and returns the compiled graph for exactly that signature,
    for `target` (fc.targets(); "host" by default, see docs/gpu.md);
    `allow_tf32`: NVIDIA matrix products on TF32 tensor cores."""
    args = tuple(example_inputs) if isinstance(example_inputs, (tuple, list)) \
        else (example_inputs,)
    name = getattr(fn_or_model, "__name__", None) or type(fn_or_model).__name__
    return trace_function(fn_or_model, args, name, options, target, allow_tf32)


__all__ = ["jit", "compile", "JitFunction", "CompiledGraph", "Tracer"]
