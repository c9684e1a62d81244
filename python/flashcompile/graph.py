"""Tracing: Python functions over fc ops recorded as one Flash function.

While `fc.jit` traces a function, its arguments are `Tracer`s: every fc op
(and every operator on a Tracer) adds one op to the trace's native
GraphBuilder instead of running, with the caller's file and line as the op's
location. NumPy arrays met along the way (weights) become `flash.constant`s,
which the compiler can fold. Shapes are checked op by op by the ops' own
type inference, so a bad shape is reported at the line that made it.
"""
from __future__ import annotations

import sys

import numpy as np

from . import _flashcompile as _native
from .tuning.database import TUNABLE_OPS, with_tuning

_UFUNCS = {}  # np.ufunc -> fc op taking Tracers (filled in by ops.py)


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
        # ("input", handle, shape) / ("constant", handle, array) /
        # ("op", handle, name, operand handles, attrs, shape).
        self.record: list = []
        self.results: list = []

    def input(self, shape) -> "Tracer":
        handle = self.builder.add_input(list(shape))
        self.record.append(("input", handle, tuple(shape)))
        return Tracer(self, handle, tuple(shape))

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
            array = np.ascontiguousarray(value)
            if not array.flags.writeable:  # e.g. from onnx.numpy_helper
                array = array.copy()
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
        if name in TUNABLE_OPS:  # parameters from the tuning database, if any
            attrs = with_tuning(name, [tuple(self.builder.shape(h)) for h in handles], attrs)
        file, line = caller_location()
        handle = self.builder.add_op(name, handles, dict(attrs or {}), file, line)
        self.record.append(("op", handle, name, handles, dict(attrs or {}),
                            tuple(self.builder.shape(handle))))
        return Tracer(self, handle, tuple(self.builder.shape(handle)))


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
    """A float32 tensor value inside a traced function (shape known, data
    not): use fc ops and operators on it; converting it to NumPy or using it
    as a condition is an error, as the data only exists at run time."""

    __array_priority__ = 1000  # NumPy defers `ndarray + Tracer` to us

    def __init__(self, trace: Trace, handle: int, shape: tuple):
        self.trace, self.handle, self.shape = trace, handle, shape

    dtype = np.dtype(np.float32)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def __repr__(self):
        return f"<traced float32{list(self.shape)} in {self.trace.name}>"

    def _unsupported(self, what: str):
        raise TypeError(f"{self.trace.name}: {what} of a traced value (float32, shape "
                        f"{self.shape}) is not supported: its data only exists when the "
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
        fn = _UFUNCS.get(ufunc)
        if fn is None or method != "__call__" or kwargs:
            raise TypeError(f"{self.trace.name}: np.{ufunc.__name__} on a traced value "
                            f"(shape {self.shape}) is not supported; use the fc op")
        return fn(*inputs)

    def __array_function__(self, func, types, args, kwargs):
        raise TypeError(f"{self.trace.name}: np.{func.__name__} on a traced value (shape "
                        f"{self.shape}) is not supported; use the fc op")

    # Operators: filled in by ops.py, which owns the op functions.
