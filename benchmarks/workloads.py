"""The benchmark workloads, as data: each has its FLOPs (or bytes), inputs,
a Flash IR module for FlashCompile, and the same computation for every
baseline (NumPy, PyTorch, JAX, ONNX)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np


@dataclass
class Workload:
    name: str
    kind: str                      # "matmul", "mlp", "elementwise", "conv"
    flops: float                   # or bytes moved, for memory-bound kinds
    unit: str                      # "GFLOP/s" or "GB/s"
    shapes: list                   # input shapes
    flash_source: str | Callable   # Flash IR (or () -> IR, traced on first use)
    numpy: Callable                # reference with NumPy ops
    onnx: Callable | None = None   # () -> onnx.ModelProto
    torch: Callable | None = None  # (torch module) -> fn on torch tensors
    jax: Callable | None = None    # (jax.numpy) -> fn on jax arrays
    tags: list = field(default_factory=list)
    # How each input is drawn, as a framework initialises it: an activation
    # N(0, 1), a weight or bias N(0, 1/fan_in) (LeCun normal, Flax's default;
    # PyTorch's U(+-1/sqrt(fan_in)) shrinks LeNet's logits to a uniform
    # softmax), a norm's scale and shift near 1 and 0. Unit normal weights
    # saturate every softmax: one-hot rows hide numerical bugs.
    init: list | None = None

    @property
    def flash(self) -> str:
        """The Flash IR. Traced workloads build it on first use only, so a
        process that never compiles ours (the torch.compile child) never
        loads FlashCompile's LLVM next to Triton's."""
        if callable(self.flash_source):
            self.flash_source = self.flash_source()
        return self.flash_source

    def inputs(self, seed=0):
        rng = np.random.default_rng(seed)
        return [draw(rng, shape, how) for shape, how in
                zip(self.shapes, self.init or [ACT] * len(self.shapes))]

    def reference(self, inputs):
        """The NumPy version in float64: what every contender is checked
        against before it is timed."""
        return self.numpy(*[np.asarray(x, np.float64) for x in inputs])


ACT, GAMMA, BETA = ("act",), ("gamma",), ("beta",)


def weight(fan_in):
    return ("weight", fan_in)


def draw(rng, shape, how):
    """One input drawn as `how` says (see Workload.init)."""
    x = rng.standard_normal(shape, dtype=np.float32)
    if how[0] == "weight":
        return (x / np.float32(np.sqrt(how[1]))).astype(np.float32)
    if how[0] == "gamma":
        return (1.0 + 0.1 * x).astype(np.float32)
    return (0.1 * x).astype(np.float32) if how[0] == "beta" else x


def _t(shape):
    return "tensor<" + "x".join(map(str, shape)) + "xf32>"


def matmul(m, k, n):
    a, b, c = (m, k), (k, n), (m, n)
    flash = f"""func.func @matmul(%a: {_t(a)}, %b: {_t(b)}) -> {_t(c)} {{
  %0 = flash.matmul %a, %b : ({_t(a)}, {_t(b)}) -> {_t(c)}
  return %0 : {_t(c)}
}}"""

    def onnx_model():
        from onnx import TensorProto, helper
        g = helper.make_graph(
            [helper.make_node("MatMul", ["a", "b"], ["c"])], "mm",
            [helper.make_tensor_value_info("a", TensorProto.FLOAT, a),
             helper.make_tensor_value_info("b", TensorProto.FLOAT, b)],
            [helper.make_tensor_value_info("c", TensorProto.FLOAT, c)])
        return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])

    return Workload(f"matmul {m}x{k}x{n}", "matmul", 2.0 * m * k * n, "GFLOP/s",
                    [a, b], flash, lambda a, b: a @ b, onnx_model,
                    torch=lambda t: (lambda a, b: a @ b),
                    jax=lambda jnp: (lambda a, b: a @ b), init=[ACT, weight(k)])


def mlp(batch, sizes=(784, 128, 10)):
    """Linear -> ReLU -> Linear with biases, compiled as one graph."""
    d0, d1, d2 = sizes
    x, w1, b1, w2, b2 = (batch, d0), (d0, d1), (d1,), (d1, d2), (d2,)
    h, y = (batch, d1), (batch, d2)
    flash = f"""func.func @mlp(%x: {_t(x)}, %w1: {_t(w1)}, %b1: {_t(b1)}, %w2: {_t(w2)}, %b2: {_t(b2)}) -> {_t(y)} {{
  %0 = flash.matmul %x, %w1 : ({_t(x)}, {_t(w1)}) -> {_t(h)}
  %1 = flash.add %0, %b1 : ({_t(h)}, {_t(b1)}) -> {_t(h)}
  %2 = flash.relu %1 : {_t(h)}
  %3 = flash.matmul %2, %w2 : ({_t(h)}, {_t(w2)}) -> {_t(y)}
  %4 = flash.add %3, %b2 : ({_t(y)}, {_t(b2)}) -> {_t(y)}
  return %4 : {_t(y)}
}}"""

    def onnx_model():
        from onnx import TensorProto, helper
        names = ["x", "w1", "b1", "w2", "b2"]
        shapes = [x, w1, b1, w2, b2]
        g = helper.make_graph(
            [helper.make_node("MatMul", ["x", "w1"], ["m1"]),
             helper.make_node("Add", ["m1", "b1"], ["a1"]),
             helper.make_node("Relu", ["a1"], ["r1"]),
             helper.make_node("MatMul", ["r1", "w2"], ["m2"]),
             helper.make_node("Add", ["m2", "b2"], ["y"])], "mlp",
            [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in zip(names, shapes)],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, y)])
        return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])

    def ref(x, w1, b1, w2, b2):
        return np.maximum(x @ w1 + b1, 0) @ w2 + b2

    flops = 2.0 * batch * (d0 * d1 + d1 * d2)
    return Workload(f"mlp {d0}-{d1}-{d2} batch {batch}", "mlp", flops, "GFLOP/s",
                    [x, w1, b1, w2, b2], flash, ref, onnx_model,
                    torch=lambda t: (lambda x, w1, b1, w2, b2: t.relu(x @ w1 + b1) @ w2 + b2),
                    jax=lambda jnp: (lambda x, w1, b1, w2, b2: jnp.maximum(x @ w1 + b1, 0) @ w2 + b2),
                    init=[ACT, weight(d0), weight(d0), weight(d1), weight(d1)])


def add_relu_chain(n):
    """relu(relu(x + y) + z): three elementwise ops, 4 arrays of traffic fused."""
    s = (n,)
    flash = f"""func.func @chain(%x: {_t(s)}, %y: {_t(s)}, %z: {_t(s)}) -> {_t(s)} {{
  %0 = flash.add %x, %y : ({_t(s)}, {_t(s)}) -> {_t(s)}
  %1 = flash.relu %0 : {_t(s)}
  %2 = flash.add %1, %z : ({_t(s)}, {_t(s)}) -> {_t(s)}
  %3 = flash.relu %2 : {_t(s)}
  return %3 : {_t(s)}
}}"""

    def onnx_model():
        from onnx import TensorProto, helper
        g = helper.make_graph(
            [helper.make_node("Add", ["x", "y"], ["a"]), helper.make_node("Relu", ["a"], ["r"]),
             helper.make_node("Add", ["r", "z"], ["b"]), helper.make_node("Relu", ["b"], ["o"])],
            "chain", [helper.make_tensor_value_info(v, TensorProto.FLOAT, s) for v in "xyz"],
            [helper.make_tensor_value_info("o", TensorProto.FLOAT, s)])
        return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])

    return Workload(f"add+relu+add+relu {n}", "elementwise", 16.0 * n, "GB/s", [s, s, s],
                    flash, lambda x, y, z: np.maximum(np.maximum(x + y, 0) + z, 0), onnx_model,
                    torch=lambda t: (lambda x, y, z: t.relu(t.relu(x + y) + z)),
                    jax=lambda jnp: (lambda x, y, z: jnp.maximum(jnp.maximum(x + y, 0) + z, 0)))


def conv_relu(n=1, c=64, h=56, w=56, o=64, k=3):
    """A ResNet-style 3x3 conv, stride 1, pad 1, with bias and ReLU."""
    xs, ws, bs, ys = (n, c, h, w), (o, c, k, k), (o,), (n, o, h, w)
    flash = f"""func.func @conv(%x: {_t(xs)}, %w: {_t(ws)}, %b: {_t(bs)}) -> {_t(ys)} {{
  %0 = flash.conv2d %x, %w, %b {{stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>}} : ({_t(xs)}, {_t(ws)}, {_t(bs)}) -> {_t(ys)}
  %1 = flash.relu %0 : {_t(ys)}
  return %1 : {_t(ys)}
}}"""

    def ref(x, wt, b):
        xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
        cols = np.lib.stride_tricks.sliding_window_view(xp, (k, k), axis=(2, 3))
        cols = cols.transpose(0, 2, 3, 1, 4, 5).reshape(n * h * w, c * k * k)
        out = (cols @ wt.reshape(o, -1).T + b).reshape(n, h, w, o).transpose(0, 3, 1, 2)
        return np.maximum(out, 0)

    def onnx_model():
        from onnx import TensorProto, helper
        g = helper.make_graph(
            [helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["y"])], "conv",
            [helper.make_tensor_value_info(v, TensorProto.FLOAT, s) for v, s in zip("xwb", (xs, ws, bs))],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, ys)])
        return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])

    def torch_fn(t):
        import torch.nn.functional as F
        return lambda x, wt, b: t.relu(F.conv2d(x, wt, b, padding=1))

    def jax_fn(jnp):
        import jax
        return lambda x, wt, b: jnp.maximum(jax.lax.conv_general_dilated(
            x, wt, (1, 1), [(1, 1), (1, 1)]) + b[None, :, None, None], 0)

    flops = 2.0 * n * o * h * w * c * k * k
    return Workload(f"conv2d {n}x{c}x{h}x{w} {o}x{k}x{k} +bias+relu", "conv", flops, "GFLOP/s",
                    [xs, ws, bs], flash, ref, onnx_model, torch=torch_fn, jax=jax_fn,
                    init=[ACT, weight(c * k * k), weight(c * k * k)])


def _trace(fn, example):
    """Flash IR of `fn` traced by fc.jit on `example` arrays."""
    import flashcompile as fc
    return fc.jit(fn).lower(*example).source


class _Ops:
    """The few array functions the encoder block needs, for NumPy, JAX and
    PyTorch alike (their reductions and transposes are spelled differently)."""

    def __init__(self, kind, mod):
        self.kind, self.m = kind, mod
        if kind == "torch":
            self.erf, self.exp, self.sqrt = mod.erf, mod.exp, mod.sqrt
        elif kind == "jax":
            import jax.scipy.special
            self.erf, self.exp, self.sqrt = jax.scipy.special.erf, mod.exp, mod.sqrt
        else:
            import math
            erf = np.vectorize(math.erf)  # float64; cast back to the input's dtype
            self.erf, self.exp, self.sqrt = (lambda x: erf(x).astype(x.dtype)), np.exp, np.sqrt

    def reduce(self, fn, x):
        if self.kind == "torch":
            r = getattr(x, fn)(-1, keepdim=True)
            return r[0] if fn == "max" else r
        return getattr(x, fn)(-1, keepdims=True)

    def perm(self, x, axes):
        return x.permute(*axes) if self.kind == "torch" else x.transpose(*axes)


def _encoder_block(ops, x, wq, bq, wk, bk, wv, bv, wo, bo, g1, be1, w1, b1, w2, b2, g2, be2,
                   heads):
    """A post-norm transformer encoder block (weights stored in x out)."""
    def layer_norm(h, g, b):
        c = h - ops.reduce("mean", h)
        return c / ops.sqrt(ops.reduce("mean", c * c) + 1e-5) * g + b

    bsz, s, e = x.shape
    d = e // heads
    split = lambda t: ops.perm(t.reshape(bsz, s, heads, d), (0, 2, 1, 3))  # noqa: E731
    q, k, v = split(x @ wq + bq), split(x @ wk + bk), split(x @ wv + bv)
    scores = q @ ops.perm(k, (0, 1, 3, 2)) * (1.0 / d ** 0.5)
    p = ops.exp(scores - ops.reduce("max", scores))
    o = ops.perm((p / ops.reduce("sum", p)) @ v, (0, 2, 1, 3)).reshape(bsz, s, e)
    h = layer_norm(x + (o @ wo + bo), g1, be1)
    f = h @ w1 + b1
    f = 0.5 * f * (1 + ops.erf(f * 0.7071067811865476))
    return layer_norm(h + (f @ w2 + b2), g2, be2)


def transformer_block(batch=1, seq=128, width=256, heads=4, ff=1024):
    """Attention + layer norm + GELU MLP + residuals, traced by fc.jit into
    one graph (weights as inputs, so every framework gets the same ones)."""
    e = width
    shapes = [(batch, seq, e)] + [(e, e), (e,)] * 4 + [(e,), (e,), (e, ff), (ff,), (ff, e), (e,),
                                                       (e,), (e,)]

    def flash_fn(x, wq, bq, wk, bk, wv, bv, wo, bo, g1, be1, w1, b1, w2, b2, g2, be2):
        import flashcompile as fc
        def split(t):
            return fc.transpose(fc.reshape(t, (batch, seq, heads, e // heads)), (0, 2, 1, 3))
        q, k, v = (split(fc.matmul(x, w) + b) for w, b in ((wq, bq), (wk, bk), (wv, bv)))
        o = fc.reshape(fc.transpose(fc.attention(q, k, v), (0, 2, 1, 3)), (batch, seq, e))
        h = fc.layer_norm(x + (fc.matmul(o, wo) + bo), g1, be1)
        f = fc.gelu(fc.matmul(h, w1) + b1)
        return fc.layer_norm(h + (fc.matmul(f, w2) + b2), g2, be2)

    example = [np.ones(sh, np.float32) for sh in shapes]
    flash = lambda: _trace(flash_fn, example)  # noqa: E731

    def onnx_model():
        from onnx import TensorProto, helper, numpy_helper
        names = ["x", "wq", "bq", "wk", "bk", "wv", "bv", "wo", "bo", "g1", "be1", "w1", "b1",
                 "w2", "b2", "g2", "be2"]
        nodes, inits = [], []

        def const(name, value):
            inits.append(numpy_helper.from_array(np.asarray(value), name))
            return name

        def node(op, ins, out, **attrs):
            nodes.append(helper.make_node(op, ins, [out], **attrs))
            return out

        hd = const("heads_shape", np.array([batch, seq, heads, e // heads], np.int64))
        flat = const("flat_shape", np.array([batch, seq, e], np.int64))
        scale = const("scale", np.array(1 / (e // heads) ** 0.5, np.float32))
        half, one = const("half", np.array(0.5, np.float32)), const("one", np.array(1, np.float32))
        rsqrt2 = const("rsqrt2", np.array(0.7071067811865476, np.float32))

        def proj(x, w, b, tag):
            return node("Add", [node("MatMul", [x, w], f"{tag}_mm"), b], tag)

        def split(t, tag):
            return node("Transpose", [node("Reshape", [t, hd], f"{tag}_r")], f"{tag}_t",
                        perm=[0, 2, 1, 3])

        q, k, v = (split(proj("x", f"w{n}", f"b{n}", n), n) for n in "qkv")
        kt = node("Transpose", [k], "kt", perm=[0, 1, 3, 2])
        sc = node("Mul", [node("MatMul", [q, kt], "qk"), scale], "scores")
        o = node("MatMul", [node("Softmax", [sc], "probs", axis=-1), v], "attn")
        o = node("Reshape", [node("Transpose", [o], "attn_t", perm=[0, 2, 1, 3]), flat], "attn_r")
        h = node("LayerNormalization", [node("Add", ["x", proj(o, "wo", "bo", "out")], "res1"),
                                        "g1", "be1"], "h", axis=-1, epsilon=1e-5)
        f = proj(h, "w1", "b1", "ff1")
        erf = node("Erf", [node("Mul", [f, rsqrt2], "ff_s")], "ff_erf")
        g = node("Mul", [node("Mul", [f, half], "ff_h"), node("Add", [erf, one], "ff_c")], "gelu")
        node("LayerNormalization", [node("Add", [h, proj(g, "w2", "b2", "ff2")], "res2"),
                                    "g2", "be2"], "y", axis=-1, epsilon=1e-5)
        graph = helper.make_graph(
            nodes, "encoder",
            [helper.make_tensor_value_info(n, TensorProto.FLOAT, sh) for n, sh in zip(names, shapes)],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, shapes[0])], inits)
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    flops = batch * (4 * 2 * seq * e * e + 2 * 2 * seq * seq * e + 2 * 2 * seq * e * ff)
    return Workload(f"transformer b{batch} s{seq} e{e} h{heads}", "model", flops, "GFLOP/s",
                    shapes, flash,
                    lambda *a: _encoder_block(_Ops("numpy", np), *a, heads=heads), onnx_model,
                    torch=lambda t: (lambda *a: _encoder_block(_Ops("torch", t), *a,
                                                               heads=heads)),
                    jax=lambda jnp: (lambda *a: _encoder_block(_Ops("jax", jnp), *a,
                                                               heads=heads)),
                    tags=["model"],
                    init=[ACT] + [weight(e), weight(e)] * 4 + [GAMMA, BETA, weight(e), weight(e),
                                                               weight(ff), weight(ff), GAMMA, BETA])


def lenet(batch=16):
    """A LeNet-5-style CNN on 1x28x28: conv5x5(6, pad 2) relu maxpool2,
    conv5x5(16) relu avgpool2, flatten, 400-120-84-10 with relu, softmax;
    weights are inputs. Traced by fc.jit into one graph."""
    shapes = [(batch, 1, 28, 28), (6, 1, 5, 5), (6,), (16, 6, 5, 5), (16,), (400, 120), (120,),
              (120, 84), (84,), (84, 10), (10,)]

    def flash_fn(x, c1, cb1, c2, cb2, w1, b1, w2, b2, w3, b3):
        import flashcompile as fc
        x = fc.max_pool2d(fc.relu(fc.conv2d(x, c1, cb1, padding=2)), 2)
        x = fc.avg_pool2d(fc.relu(fc.conv2d(x, c2, cb2)), 2)
        x = fc.relu(fc.matmul(fc.flatten(x, 1), w1) + b1)
        x = fc.relu(fc.matmul(x, w2) + b2)
        return fc.softmax(fc.matmul(x, w3) + b3, axis=-1)

    flash = lambda: _trace(flash_fn, [np.ones(sh, np.float32) for sh in shapes])  # noqa: E731

    def conv(x, w, b, pad):
        n, c, h, wd = x.shape
        o, _, k, _ = w.shape
        xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
        oh, ow = h + 2 * pad - k + 1, wd + 2 * pad - k + 1
        cols = np.lib.stride_tricks.sliding_window_view(xp, (k, k), axis=(2, 3))
        cols = cols.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * k * k)
        return (cols @ w.reshape(o, -1).T + b).reshape(n, oh, ow, o).transpose(0, 3, 1, 2)

    def pool(x, mode):
        n, c, h, w = x.shape
        win = x[:, :, :h // 2 * 2, :w // 2 * 2].reshape(n, c, h // 2, 2, w // 2, 2)
        return win.max(axis=(3, 5)) if mode == "max" else win.mean(axis=(3, 5))

    def ref(x, c1, cb1, c2, cb2, w1, b1, w2, b2, w3, b3):
        x = pool(np.maximum(conv(x, c1, cb1, 2), 0), "max")
        x = pool(np.maximum(conv(x, c2, cb2, 0), 0), "avg").reshape(x.shape[0], -1)
        x = np.maximum(np.maximum(x @ w1 + b1, 0) @ w2 + b2, 0) @ w3 + b3
        e = np.exp(x - x.max(-1, keepdims=True))
        return e / e.sum(-1, keepdims=True)

    def torch_fn(t):
        import torch.nn.functional as F

        def f(x, c1, cb1, c2, cb2, w1, b1, w2, b2, w3, b3):
            x = F.max_pool2d(t.relu(F.conv2d(x, c1, cb1, padding=2)), 2)
            x = F.avg_pool2d(t.relu(F.conv2d(x, c2, cb2)), 2).flatten(1)
            x = t.relu(t.relu(x @ w1 + b1) @ w2 + b2) @ w3 + b3
            return t.softmax(x, -1)
        return f

    def onnx_model():
        from onnx import TensorProto, helper
        names = ["x", "c1", "cb1", "c2", "cb2", "w1", "b1", "w2", "b2", "w3", "b3"]
        n = helper.make_node
        nodes = [n("Conv", ["x", "c1", "cb1"], ["a1"], pads=[2, 2, 2, 2]), n("Relu", ["a1"], ["r1"]),
                 n("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
                 n("Conv", ["p1", "c2", "cb2"], ["a2"]), n("Relu", ["a2"], ["r2"]),
                 n("AveragePool", ["r2"], ["p2"], kernel_shape=[2, 2], strides=[2, 2]),
                 n("Flatten", ["p2"], ["f"], axis=1),
                 n("MatMul", ["f", "w1"], ["m1"]), n("Add", ["m1", "b1"], ["h1"]), n("Relu", ["h1"], ["q1"]),
                 n("MatMul", ["q1", "w2"], ["m2"]), n("Add", ["m2", "b2"], ["h2"]), n("Relu", ["h2"], ["q2"]),
                 n("MatMul", ["q2", "w3"], ["m3"]), n("Add", ["m3", "b3"], ["h3"]),
                 n("Softmax", ["h3"], ["y"], axis=-1)]
        g = helper.make_graph(
            nodes, "lenet",
            [helper.make_tensor_value_info(v, TensorProto.FLOAT, sh) for v, sh in zip(names, shapes)],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, (batch, 10))])
        return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])

    flops = batch * 2.0 * (6 * 28 * 28 * 25 + 16 * 10 * 10 * 150 + 400 * 120 + 120 * 84 + 84 * 10)
    return Workload(f"lenet-5 batch {batch}", "model", flops, "GFLOP/s", shapes, flash, ref,
                    onnx_model, torch=torch_fn, tags=["model"],
                    init=[ACT, weight(25), weight(25), weight(150), weight(150), weight(400),
                          weight(400), weight(120), weight(120), weight(84), weight(84)])


def all_workloads(quick=False):
    sizes = [64, 128, 256, 512] if quick else [64, 128, 256, 512, 1024, 2048]
    ws = [matmul(n, n, n) for n in sizes]
    ws += [matmul(1, 4096, 4096), matmul(64, 784, 128)]
    ws += [mlp(b) for b in (1, 64, 256)]
    counts = [1 << 10, 1 << 16, 1 << 20] if quick else [1 << 10, 1 << 14, 1 << 18, 1 << 20, 1 << 22, 1 << 24]
    ws += [add_relu_chain(n) for n in counts]
    ws += [conv_relu()]
    ws += [lenet(16), transformer_block()]
    return ws
