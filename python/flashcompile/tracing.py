"""Tracing: Python functions over fc ops recorded as one Flash function,
and the one way a finished trace is compiled.

While `fc.jit` traces a function (or an importer walks a model), its
arguments are `Tracer`s: every fc op (and every operator on a Tracer) adds
one op to the trace's native GraphBuilder instead of running, with the
caller's file and line as the op's location. NumPy arrays met along the way
(weights) become `flash.constant`s, which the compiler can fold. Shapes are
checked op by op by the ops' own type inference, so a bad shape is
reported at the line that made it.

    trace_function(fn, args)      fc.jit / fc.compile: trace a Python function, compile
    compile_trace(trace, results) every caller's "finish and compile" (jit, importers, tuner)
"""
from __future__ import annotations

import sys

import numpy as np

from . import _flashcompile as _native
from .compiled import NATIVE_DTYPES, NUMPY_DTYPES, Compiled, compile_built

# What each operator on a Tracer, and each NumPy ufunc applied to one, means:
# an fc op function, registered by the op table (flashcompile.ops) under the
# operator's name ("add", "matmul", "getitem", ...) or the ufunc. A table,
# so that this module needs no op definitions and does not import them.
OPERATORS: dict = {}
UFUNCS: dict = {}

# Integer tensors only index (flash.gather) or convert (flash.cast).
INDEX_DTYPES = (NUMPY_DTYPES["i64"], NUMPY_DTYPES["i32"])
_F32 = NUMPY_DTYPES["f32"]


def caller_location():
    """The user's file and line (first frame outside this package)."""
    frame = sys._getframe(1)
    here = __file__.rsplit("/", 1)[0]
    while frame is not None and frame.f_code.co_filename.startswith(here):
        frame = frame.f_back
    if frame is None:
        return "", 0
    return frame.f_code.co_filename, frame.f_lineno


class Trace:
    """One function being traced: the builder and its constants."""

    def __init__(self, name: str):
        self.name = name
        self.builder = _native.GraphBuilder()
        self._constants: dict = {}  # id(array) -> (array, handle)
        # What was built, in order, for exporters (fc.export_onnx):
        # ("input", handle, shape, dtype) / ("constant", handle, array) /
        # ("op", handle, name, operand handles, attrs, shape, dtype).
        self.record: list = []
        self.results: list = []

    def input(self, shape, dtype=np.float32) -> "Tracer":
        """A function argument: float32, or int64/int32 indices (token ids)."""
        dtype = np.dtype(dtype)
        if dtype not in INDEX_DTYPES and dtype != np.float32:
            raise TypeError(f"{self.name}: an input of dtype {dtype} and shape "
                            f"{tuple(shape)}; float32 (or int64/int32 indices) is required")
        handle = self.builder.add_input(list(shape), NATIVE_DTYPES[dtype])
        self.record.append(("input", handle, tuple(shape), dtype))
        return Tracer(self, handle, tuple(shape), dtype)

    def index_constant(self, value) -> "Tracer":
        """An integer NumPy array as a flash.constant of int64 indices."""
        array = np.ascontiguousarray(value, dtype=np.int64)
        file, line = caller_location()
        handle = self.builder.add_index_constant(array, file, line)
        self.record.append(("constant", handle, array))
        return Tracer(self, handle, array.shape, np.dtype(np.int64))

    def constant(self, value) -> int:
        """A handle for a NumPy array or Python number (float32)."""
        key = id(value)
        hit = self._constants.get(key)
        if hit is not None and hit[0] is value:
            return hit[1]
        if isinstance(value, (np.ndarray, np.generic)):
            if value.dtype != np.float32:
                raise TypeError(f"{self.name}: a constant of dtype {value.dtype} and shape "
                                f"{np.shape(value)}; float32 is required "
                                f"(use .astype(np.float32))")
            # Not np.ascontiguousarray: it turns a 0-d value into shape (1,).
            array = np.asarray(value)
            if not array.flags.c_contiguous:
                array = array.copy(order="C")
        else:  # a Python number
            array = np.asarray(value, dtype=np.float32)
        file, line = caller_location()
        handle = self.builder.add_constant(array, file, line)
        self.record.append(("constant", handle, array))
        self._constants[key] = (value, handle)  # keeps `value` alive: ids stay unique
        return handle

    def handle(self, value, op: str, index: int) -> int:
        if isinstance(value, Tracer):
            if value.trace is not self:
                raise ValueError(f"{op}: argument {index} belongs to another traced "
                                 f"function ({value.trace.name})")
            return value.handle
        if isinstance(value, (np.ndarray, np.generic, int, float)) and not isinstance(value, bool):
            return self.constant(value)
        raise TypeError(f"{op}: argument {index} must be a traced value, a NumPy "
                        f"array or a number, got {type(value).__name__}")

    def op(self, name: str, inputs, attrs=None) -> "Tracer":
        handles = [self.handle(x, name, i) for i, x in enumerate(inputs)]
        file, line = caller_location()
        handle = self.builder.add_op(name, handles, dict(attrs or {}), file, line)
        shape = tuple(self.builder.shape(handle))
        dtype = NUMPY_DTYPES[self.builder.dtype(handle)]
        self.record.append(("op", handle, name, handles, dict(attrs or {}), shape, dtype))
        return Tracer(self, handle, shape, dtype)


def trace_of(values):
    """The Trace any of `values` belongs to, or None (an eager call)."""
    for v in values:
        if isinstance(v, Tracer):
            return v.trace
        if isinstance(v, (list, tuple)):
            t = trace_of(v)
            if t is not None:
                return t
    return None


class Tracer:
    """A tensor value inside a traced function (shape and dtype known, data
    not): float32, or int64/int32 indices that fc.gather and fc.cast take.
    Use fc ops and operators on it; converting it to NumPy or using it as a
    condition is an error, as the data only exists at run time."""

    __array_priority__ = 1000  # NumPy defers `ndarray + Tracer` to us

    def __init__(self, trace: Trace, handle: int, shape: tuple, dtype=_F32):
        self.trace, self.handle, self.shape, self.dtype = trace, handle, shape, dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def __repr__(self):
        return f"<traced {self.dtype.name}{list(self.shape)} in {self.trace.name}>"

    def _unsupported(self, what: str):
        raise TypeError(f"{self.trace.name}: {what} of a traced value ({self.dtype.name}, "
                        f"shape {self.shape}) is not supported: its data only exists when the "
                        f"compiled function runs; use fc ops instead")

    def __array__(self, *args, **kwargs):
        self._unsupported("converting to a NumPy array")

    def __bool__(self):
        self._unsupported("data-dependent control flow (bool())")

    def __float__(self):
        self._unsupported("float()")

    def __int__(self):
        self._unsupported("int()")

    def __index__(self):
        self._unsupported("using as an index")

    def __iter__(self):
        self._unsupported("iterating")

    def __len__(self):
        if not self.shape:
            self._unsupported("len()")
        return self.shape[0]

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        fn = UFUNCS.get(ufunc)
        if fn is None or method != "__call__" or kwargs:
            raise TypeError(f"{self.trace.name}: np.{ufunc.__name__} on a traced value "
                            f"(shape {self.shape}) is not supported; use the fc op")
        return fn(*inputs)

    def __array_function__(self, func, types, args, kwargs):
        raise TypeError(f"{self.trace.name}: np.{func.__name__} on a traced value (shape "
                        f"{self.shape}) is not supported; use the fc op")

    # Operators: the fc ops of the op table (OPERATORS).
    def __add__(self, other):
        return OPERATORS["add"](self, other)

    def __radd__(self, other):
        return OPERATORS["add"](other, self)

    def __sub__(self, other):
        return OPERATORS["sub"](self, other)

    def __rsub__(self, other):
        return OPERATORS["sub"](other, self)

    def __mul__(self, other):
        return OPERATORS["mul"](self, other)

    def __rmul__(self, other):
        return OPERATORS["mul"](other, self)

    def __truediv__(self, other):
        return OPERATORS["div"](self, other)

    def __rtruediv__(self, other):
        return OPERATORS["div"](other, self)

    def __pow__(self, other):
        return OPERATORS["pow"](self, other)

    def __rpow__(self, other):
        return OPERATORS["pow"](other, self)

    def __matmul__(self, other):
        return OPERATORS["matmul"](self, other)

    def __rmatmul__(self, other):
        return OPERATORS["matmul"](other, self)

    def __neg__(self):
        return OPERATORS["neg"](self)

    def __getitem__(self, index):
        return OPERATORS["getitem"](self, index)

    @property
    def T(self):  # noqa: N802 - NumPy's name
        return OPERATORS["transpose"](self)

    def reshape(self, *shape):
        return OPERATORS["reshape"](
            self, shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape)

    def transpose(self, *perm):
        return OPERATORS["transpose"](
            self, (perm[0] if len(perm) == 1 and isinstance(perm[0], (tuple, list)) else perm)
            or None)


class CompiledGraph(Compiled):
    """A traced and compiled function: call it like the original on arrays of
    the traced shapes; inspect it like any Compiled (`stages`, `ir(stage)`,
    `llvm_ir()`, `asm()`, `dump(folder)`); `.trace` is what it was built
    from (fc.export_onnx reads it)."""

    def __init__(self, compiled: Compiled, structure, static, trace: Trace | None = None):
        super().__init__(compiled._exe, compiled._source, compiled._original)
        self.options = compiled.options
        self._structure = structure  # None: one result; else tuple or list
        self._static = static        # positions and values of non-array args
        self.trace = trace

    def __call__(self, *args):
        arrays = [a for i, a in enumerate(args) if i not in self._static]
        out = super().__call__(*arrays)
        if self._structure is None:
            return out
        out = out if isinstance(out, tuple) else (out,)
        return self._structure(out)


def compile_trace(trace: Trace, results: list, name: str, options: str = "",
                  structure=None, static=None, target: str = "host",
                  allow_tf32: bool = False) -> CompiledGraph:
    """Finishes `trace` with `results` (traced values, arrays or numbers)
    as its outputs and compiles it: the one path from a trace to code, for
    fc.jit, the importers and the tuner alike."""
    if not results:
        raise ValueError(f"{name}: the traced function returned no values")
    handles = [trace.handle(r, name, i) for i, r in enumerate(results)]
    trace.builder.close(name, handles)
    trace.results = handles
    compiled = compile_built(trace.builder, name=f"<{name}>", options=options, target=target,
                             allow_tf32=allow_tf32)
    return CompiledGraph(compiled, structure, static or {}, trace)


def is_array(value) -> bool:
    """Whether a traced function's argument becomes an input (an array) or
    stays a Python value."""
    return isinstance(value, np.ndarray)


def trace_function(fn, args, name: str | None = None, options: str = "",
                   target: str = "host", allow_tf32: bool = False) -> CompiledGraph:
    """Traces `fn(*args)` (arrays become inputs, other arguments stay
    Python values) and compiles the graph."""
    name = name or getattr(fn, "__name__", "traced")
    name = "".join(c if c.isalnum() or c == "_" else "_" for c in name) or "traced"
    t = Trace(name)
    inputs, static = [], {}
    for i, a in enumerate(args):
        if is_array(a):
            if a.dtype != np.float32 and a.dtype not in INDEX_DTYPES:
                raise TypeError(f"{name}: argument {i} has dtype {a.dtype} and shape "
                                f"{a.shape}; float32 (or int64/int32 indices for fc.gather) "
                                f"is required (use .astype(np.float32))")
            inputs.append(t.input(a.shape, a.dtype))
        else:
            static[i] = a
            inputs.append(a)
    out = fn(*inputs)
    structure = None
    if isinstance(out, (tuple, list)):
        structure = type(out)
        results = list(out)
    else:
        results = [out]
    return compile_trace(t, results, name, options, structure, static, target, allow_tf32)
