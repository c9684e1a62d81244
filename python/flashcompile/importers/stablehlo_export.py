"""fc.export_stablehlo: a traced Flash graph written as StableHLO, the
input XLA (CPU, GPU, TPU) and IREE compile.

Works on the same record fc.export_onnx reads (the graph as it was built,
op by op, weights as constants). Every Flash op maps to StableHLO ops
(convolution, dot_general, reduce, reduce_window, gather,
broadcast_in_dim, batch_norm_inference, ...); erf, which StableHLO lacks,
is CHLO's `chlo.erf` (the op JAX emits and every StableHLO consumer
legalizes). The text uses MLIR's generic op form, so it needs no
StableHLO parser here: we have no StableHLO dialect in our C++ build (it
lives outside LLVM), and writing text keeps the exporter a leaf.
"""
from __future__ import annotations

import math

import numpy as np

_BINARY = {"flash.add": "add", "flash.sub": "subtract", "flash.mul": "multiply",
           "flash.div": "divide", "flash.pow": "power", "flash.max": "maximum"}
_UNARY = {"flash.exp": "stablehlo.exponential", "flash.tanh": "stablehlo.tanh",
          "flash.sigmoid": "stablehlo.logistic", "flash.sqrt": "stablehlo.sqrt",
          "flash.neg": "stablehlo.negate", "flash.erf": "chlo.erf"}
_COMPARE = {"flash.equal": "EQ", "flash.not_equal": "NE", "flash.less": "LT",
            "flash.less_equal": "LE"}
_ELEMENT = {np.dtype(np.float32): "f32", np.dtype(np.int64): "i64", np.dtype(np.int32): "i32"}


def _type(shape, element="f32") -> str:
    return "tensor<" + "".join(f"{d}x" for d in shape) + element + ">"


def _i64s(values) -> str:
    return "array<i64" + (": " + ", ".join(str(int(v)) for v in values) if values else "") + ">"


class _Value:
    __slots__ = ("name", "shape", "element")

    def __init__(self, name, shape, element="f32"):
        self.name, self.shape, self.element = name, tuple(int(d) for d in shape), element

    @property
    def type(self):
        return _type(self.shape, self.element)


class _Writer:
    """Generic-form StableHLO lines, one SSA value per line."""

    def __init__(self):
        self.lines: list = []
        self.count = 0

    def op(self, name, operands, shape, attrs="", element="f32", region="") -> _Value:
        result = _Value(f"%v{self.count}", shape, element)
        self.count += 1
        ins = ", ".join(v.name for v in operands)
        types = ", ".join(v.type for v in operands)
        attrs = f" {{{attrs}}}" if attrs else ""
        self.lines.append(f"    {result.name} = \"{name}\"({ins}){region}{attrs} : "
                          f"({types}) -> {result.type}")
        return result

    def constant(self, array) -> _Value:
        array = np.asarray(array)  # not ascontiguousarray: it makes 0-d arrays 1-d
        element = _ELEMENT[array.dtype]
        if array.size == 1:
            scalar = array.reshape(()).item()
            if element == "f32":
                bits = int(np.asarray(scalar, np.float32).view(np.uint32))
                text = f"0x{bits:08X}"
            else:
                text = str(int(scalar))
        else:  # raw little-endian bytes, exact and compact
            text = '"0x' + array.astype(array.dtype.newbyteorder("<")).tobytes().hex().upper() + '"'
        return self.op("stablehlo.constant", [], array.shape,
                       f"value = dense<{text}> : {_type(array.shape, element)}", element)

    def scalar(self, value, shape) -> _Value:
        return self.broadcast(self.constant(np.float32(value)), shape)

    def broadcast(self, v: _Value, shape, dims=None) -> _Value:
        """NumPy broadcasting of `v` to `shape` (or onto `dims` of it)."""
        shape = tuple(shape)
        if v.shape == shape and dims is None:
            return v
        if dims is None:
            dims = range(len(shape) - len(v.shape), len(shape))
        return self.op("stablehlo.broadcast_in_dim", [v], shape,
                       f"broadcast_dimensions = {_i64s(dims)}", v.element)

    def binary(self, name, a: _Value, b: _Value) -> _Value:
        shape = np.broadcast_shapes(a.shape, b.shape)
        return self.op(f"stablehlo.{name}", [self.broadcast(a, shape), self.broadcast(b, shape)],
                       shape)

    def reshape(self, v: _Value, shape) -> _Value:
        return v if tuple(shape) == v.shape else self.op("stablehlo.reshape", [v], shape,
                                                         element=v.element)

    def reduce(self, kind, v: _Value, axes, keepdims=False) -> _Value:
        """A sum or max over `axes` (StableHLO's reduce with its body)."""
        axes = sorted(axes)
        shape = [d for i, d in enumerate(v.shape) if i not in axes]
        init = self.constant(np.float32(0.0 if kind == "add" else -np.inf))
        body = (" ({\n    ^bb0(%a: tensor<f32>, %b: tensor<f32>):\n"
                f"      %r = \"stablehlo.{kind}\"(%a, %b) : (tensor<f32>, tensor<f32>) -> tensor<f32>\n"
                "      \"stablehlo.return\"(%r) : (tensor<f32>) -> ()\n    })")
        out = self.op("stablehlo.reduce", [v, init], shape, f"dimensions = {_i64s(axes)}",
                      region=body)
        if keepdims:
            out = self.reshape(out, [1 if i in axes else d for i, d in enumerate(v.shape)])
        return out

    def reduce_window(self, kind, v: _Value, window, strides, padding, shape, init):
        body = (" ({\n    ^bb0(%a: tensor<f32>, %b: tensor<f32>):\n"
                f"      %r = \"stablehlo.{kind}\"(%a, %b) : (tensor<f32>, tensor<f32>) -> tensor<f32>\n"
                "      \"stablehlo.return\"(%r) : (tensor<f32>) -> ()\n    })")
        pads = ", ".join(f"[{lo}, {hi}]" for lo, hi in padding)
        attrs = (f"window_dimensions = {_i64s(window)}, window_strides = {_i64s(strides)}, "
                 f"padding = dense<[{pads}]> : tensor<{len(padding)}x2xi64>")
        return self.op("stablehlo.reduce_window", [v, self.constant(np.float32(init))], shape,
                       attrs, region=body)

    def dot(self, a: _Value, b: _Value, batch, a_contract, b_contract, shape) -> _Value:
        parts = []
        if batch:
            listed = ", ".join(map(str, batch))
            parts += [f"lhs_batching_dimensions = [{listed}]",
                      f"rhs_batching_dimensions = [{listed}]"]
        parts += [f"lhs_contracting_dimensions = [{a_contract}]",
                  f"rhs_contracting_dimensions = [{b_contract}]"]
        dims = ", ".join(parts)
        return self.op("stablehlo.dot_general", [a, b], shape,
                       f"dot_dimension_numbers = #stablehlo.dot<{dims}>")

    def compare(self, direction, a: _Value, b: _Value, element="f32") -> _Value:
        kind = "FLOAT" if element == "f32" else "SIGNED"
        return self.op("stablehlo.compare", [a, b], a.shape,
                       f"comparison_direction = #stablehlo<comparison_direction {direction}>, "
                       f"compare_type = #stablehlo<comparison_type {kind}>", "i1")

    def select(self, pred: _Value, a: _Value, b: _Value) -> _Value:
        return self.op("stablehlo.select", [pred, a, b], a.shape, element=a.element)

    def softmax(self, x: _Value, axis) -> _Value:
        peak = self.broadcast(self.reduce("maximum", x, [axis], keepdims=True), x.shape)
        e = self.op("stablehlo.exponential", [self.binary("subtract", x, peak)], x.shape)
        total = self.broadcast(self.reduce("add", e, [axis], keepdims=True), x.shape)
        return self.binary("divide", e, total)


def _emit(w: _Writer, name, ins, attrs, shape) -> _Value:
    """StableHLO for one Flash op; returns its result."""
    if name in _BINARY:
        return w.binary(_BINARY[name], *ins)
    if name in _UNARY:
        return w.op(_UNARY[name], ins, ins[0].shape)
    x = ins[0]
    if name == "flash.relu":
        return w.binary("maximum", x, w.scalar(0.0, x.shape))
    if name == "flash.gelu":  # x * (1 + erf(x / sqrt 2)) / 2, as flash.gelu
        scaled = w.binary("multiply", x, w.scalar(1 / math.sqrt(2), x.shape))
        cdf = w.binary("add", w.op("chlo.erf", [scaled], x.shape), w.scalar(1.0, x.shape))
        return w.binary("multiply", w.binary("multiply", x, w.scalar(0.5, x.shape)), cdf)
    if name == "flash.matmul":
        return w.dot(x, ins[1], [], 1, 0, shape)
    if name == "flash.batch_matmul":
        return w.dot(x, ins[1], [0], 2, 1, shape)
    if name == "flash.bias_add":
        return w.binary("add", x, w.broadcast(ins[1], x.shape, [attrs["axis"] % len(x.shape)]))
    if name == "flash.conv2d":
        top, left, bottom, right = attrs["padding"]
        conv = w.op("stablehlo.convolution", ins[:2], shape,
                    "dimension_numbers = #stablehlo.conv<[b, f, 0, 1]x[o, i, 0, 1]->[b, f, 0, 1]>, "
                    f"window_strides = {_i64s(attrs['stride'])}, "
                    f"padding = dense<[[{top}, {bottom}], [{left}, {right}]]> : tensor<2x2xi64>, "
                    f"lhs_dilation = {_i64s([1, 1])}, rhs_dilation = {_i64s(attrs['dilation'])}, "
                    f"feature_group_count = {int(attrs.get('groups', 1))} : i64, "
                    "batch_group_count = 1 : i64")
        return conv if len(ins) < 3 else w.binary("add", conv, w.broadcast(ins[2], shape, [1]))
    if name == "flash.transpose":
        return w.op("stablehlo.transpose", [x], shape,
                    f"permutation = {_i64s(attrs['permutation'])}", x.element)
    if name in ("flash.reshape", "flash.flatten"):
        return w.reshape(x, shape)
    if name == "flash.concat":
        return w.op("stablehlo.concatenate", ins, shape, f"dimension = {attrs['axis']} : i64")
    if name == "flash.slice":
        starts, sizes, steps = attrs["starts"], attrs["sizes"], attrs["steps"]
        limits = [b + (n - 1) * k + 1 if n else b for b, n, k in zip(starts, sizes, steps)]
        return w.op("stablehlo.slice", [x], shape,
                    f"start_indices = {_i64s(starts)}, limit_indices = {_i64s(limits)}, "
                    f"strides = {_i64s(steps)}", x.element)
    if name in ("flash.reduce_sum", "flash.reduce_mean", "flash.reduce_max"):
        axes = list(attrs["axes"])
        if not axes:
            return x
        out = w.reduce("maximum" if name == "flash.reduce_max" else "add", x, axes,
                       attrs.get("keepdims", False))
        if name == "flash.reduce_mean":
            count = int(np.prod([x.shape[a] for a in axes]))
            out = w.binary("divide", out, w.scalar(float(count), out.shape))
        return out
    if name == "flash.softmax":
        return w.softmax(x, attrs["axis"])
    if name == "flash.layer_norm":
        axes = list(range(attrs["axis"], len(x.shape)))
        count = float(np.prod([x.shape[a] for a in axes]))
        mean = w.binary("divide", w.reduce("add", x, axes, True), w.scalar(count, ()))
        centred = w.binary("subtract", x, mean)
        var = w.binary("divide", w.reduce("add", w.binary("multiply", centred, centred), axes,
                                          True), w.scalar(count, ()))
        inv = w.op("stablehlo.rsqrt", [w.binary("add", var, w.scalar(attrs["epsilon"], ()))],
                   var.shape)
        normed = w.binary("multiply", centred, inv)
        return w.binary("add", w.binary("multiply", normed, ins[1]), ins[2])
    if name == "flash.batch_norm":
        scale, bias, mean, var = ins[1:]
        return w.op("stablehlo.batch_norm_inference", [x, scale, bias, mean, var], shape,
                    f"epsilon = {float(np.float32(attrs['epsilon'])):.9e} : f32, "
                    "feature_index = 1 : i64")
    if name in ("flash.max_pool2d", "flash.avg_pool2d"):
        kh, kw = attrs["kernel"]
        top, left, bottom, right = attrs["padding"]
        window, strides = [1, 1, kh, kw], [1, 1, *attrs["stride"]]
        padding = [(0, 0), (0, 0), (top, bottom), (left, right)]
        if name == "flash.max_pool2d":
            return w.reduce_window("maximum", x, window, strides, padding, shape, -np.inf)
        total = w.reduce_window("add", x, window, strides, padding, shape, 0.0)
        if attrs.get("count_include_pad", True):
            return w.binary("divide", total, w.scalar(float(kh * kw), shape))
        ones = w.scalar(1.0, x.shape)  # the in-bounds count per window
        count = w.reduce_window("add", ones, window, strides, padding, shape, 0.0)
        return w.binary("divide", total, count)
    if name in _COMPARE:  # 0/1 floats, as Flash's comparisons
        out_shape = np.broadcast_shapes(x.shape, ins[1].shape)
        pred = w.compare(_COMPARE[name], w.broadcast(x, out_shape), w.broadcast(ins[1], out_shape))
        return w.select(pred, w.scalar(1.0, out_shape), w.scalar(0.0, out_shape))
    if name == "flash.select":
        out_shape = np.broadcast_shapes(*(v.shape for v in ins))
        cond, a, b = (w.broadcast(v, out_shape) for v in ins)
        pred = w.compare("NE", cond, w.scalar(0.0, out_shape))
        return w.select(pred, a, b)
    if name == "flash.gather":
        return _gather(w, x, ins[1], attrs["axis"], shape)
    if name == "flash.cast":
        return w.op("stablehlo.convert", [x], shape)
    if name == "flash.attention":
        return _attention(w, *ins, attrs)
    raise ValueError(f"export_stablehlo: no StableHLO form for {name}")


def _gather(w: _Writer, data: _Value, idx: _Value, axis: int, shape) -> _Value:
    """np.take(data, idx, axis): negative indices wrap; in range after that
    (Flash's compiled calls reject others; StableHLO clamps)."""
    n = data.shape[axis]
    zero = w.broadcast(w.constant(np.zeros((), np.int64).astype(
        np.int64 if idx.element == "i64" else np.int32)), idx.shape)
    size = w.broadcast(w.constant(np.asarray(n, np.int64 if idx.element == "i64" else np.int32)),
                       idx.shape)
    negative = w.compare("LT", idx, zero, idx.element)
    wrapped = w.select(negative, w.op("stablehlo.add", [idx, size], idx.shape,
                                      element=idx.element), idx)
    rank = len(idx.shape)
    offset = list(range(axis)) + list(range(axis + rank, len(shape)))
    slice_sizes = [1 if d == axis else s for d, s in enumerate(data.shape)]
    return w.op("stablehlo.gather", [data, wrapped], shape,
                f"dimension_numbers = #stablehlo.gather<offset_dims = [{', '.join(map(str, offset))}], "
                f"collapsed_slice_dims = [{axis}], start_index_map = [{axis}], "
                f"index_vector_dim = {rank}>, slice_sizes = {_i64s(slice_sizes)}, "
                "indices_are_sorted = false")


def _attention(w: _Writer, q: _Value, k: _Value, v: _Value, attrs) -> _Value:
    rank = len(q.shape)
    lead = q.shape[:-2]
    batch = list(range(rank - 2))
    sq, d = q.shape[-2:]
    sk = k.shape[-2]
    scores = w.dot(q, k, batch, rank - 1, rank - 1, (*lead, sq, sk))
    scale = attrs.get("scale", 1 / math.sqrt(d))
    scores = w.binary("multiply", scores, w.scalar(scale, ()))
    if attrs.get("causal"):
        mask = np.where(np.triu(np.ones((sq, sk), bool), 1), -np.inf, 0).astype(np.float32)
        scores = w.binary("add", scores, w.constant(mask))
    probs = w.softmax(scores, rank - 1)
    return w.dot(probs, v, batch, rank - 1, rank - 2, (*lead, sq, v.shape[-1]))


def trace_of_program(program, what: str):
    """The trace record behind a compiled or imported program (or a
    finished Trace itself)."""
    if hasattr(program, "record") and hasattr(program, "results"):
        return program
    trace = getattr(program, "trace", None)
    if trace is None:
        trace = getattr(getattr(program, "compiled", None), "trace", None)
    if trace is None:
        raise TypeError(f"{what}: expected a traced program (fc.compile, fc.jit(...).lower, "
                        f"fc.from_onnx or fc.from_pytorch), got {type(program).__name__}")
    return trace


def export_stablehlo(program, path: str | None = None, name: str = "main") -> str:
    """Writes the graph `program` was traced from (fc.compile, fc.jit(...).lower,
    fc.from_onnx, fc.from_pytorch) as a StableHLO module: one function
    `@name` over the program's inputs, weights as constants. Returns the
    text (and writes it to `path` when given)."""
    trace = trace_of_program(program, "export_stablehlo")
    w = _Writer()
    values, args = {}, []
    for entry in trace.record:
        kind, handle = entry[0], entry[1]
        if kind == "input":
            element = _ELEMENT[np.dtype(entry[3])]
            values[handle] = _Value(f"%arg{len(args)}", entry[2], element)
            args.append(values[handle])
        elif kind == "constant":
            values[handle] = w.constant(entry[2])
        else:
            _, _, op, operands, attrs, shape = entry[:6]
            try:
                values[handle] = _emit(w, op, [values[h] for h in operands], attrs, shape)
            except (KeyError, IndexError, TypeError) as e:  # a record we did not expect
                raise ValueError(f"export_stablehlo: cannot write {op} with operands "
                                 f"{[values[h].shape for h in operands]} and attributes "
                                 f"{attrs}: {e!r}") from None
            if values[handle].shape != tuple(shape):
                raise ValueError(f"export_stablehlo: {op} gave shape {values[handle].shape}, "
                                 f"the trace has {tuple(shape)}")
    results = [values[h] for h in trace.results]
    signature = ", ".join(f"{a.name}: {a.type}" for a in args)
    returns = ", ".join(r.type for r in results)
    text = "\n".join(
        [f"// StableHLO written by FlashCompile from the traced graph of {trace.name}",
         "module {",
         f"  func.func @{name}({signature}) -> ({returns}) {{",
         *w.lines,
         f"    \"func.return\"({', '.join(r.name for r in results)}) : ({returns}) -> ()",
         "  }", "}", ""])
    if path is not None:
        with open(path, "w") as f:
            f.write(text)
    return text
