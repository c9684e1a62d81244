"""Layers and models with NumPy weights, in the style of torch.nn.

A layer's weights are float32 NumPy arrays, readable and settable as
attributes (`layer.weight = w` checks the shape and bumps the model's
version, so a jitted model recompiles with the new values). Calling a layer
on NumPy arrays runs it op by op; `fc.compile(model, x)` or `fc.jit(model)`
traces it into one graph in which the weights are constants the compiler
can fold (a transposed Linear weight, batch-norm statistics).
Weight layouts follow PyTorch (Linear: out x in; Conv2d: OIHW), so
`layer.weight = torch_layer.weight.detach().numpy()` just works.
"""
from __future__ import annotations

import math

import numpy as np

from . import ops as F
from .ops import conv2d, relu


class Module:
    """Base class: parameters are float32 arrays registered with `param`."""

    def __init__(self):
        object.__setattr__(self, "_params", {})
        object.__setattr__(self, "_children", {})
        object.__setattr__(self, "_version", 0)

    def param(self, name: str, value) -> None:
        self._params[name] = np.ascontiguousarray(value, dtype=np.float32)
        object.__setattr__(self, name, self._params[name])

    def __setattr__(self, name, value):
        if name in self._params:
            old = self._params[name]
            value = np.asarray(value)
            if value.shape != old.shape:
                raise ValueError(f"{type(self).__name__}.{name}: expected shape {old.shape}, "
                                 f"got {value.shape}")
            self.param(name, value)
            self._bump()
            return
        if isinstance(value, Module):
            self._children[name] = value
            object.__setattr__(value, "_parent", self)
        object.__setattr__(self, name, value)

    def _bump(self):
        module = self
        while module is not None:
            object.__setattr__(module, "_version", module._version + 1)
            module = getattr(module, "_parent", None)

    def _weights_version(self):
        return (id(self), self._version)

    def named_parameters(self, prefix: str = ""):
        for name, value in self._params.items():
            yield prefix + name, value
        for name, child in self._children.items():
            yield from child.named_parameters(f"{prefix}{name}.")

    def state_dict(self) -> dict:
        return dict(self.named_parameters())

    def load_state_dict(self, state: dict) -> None:
        own = dict(self.named_parameters())
        missing = set(own) - set(state)
        unexpected = set(state) - set(own)
        if missing or unexpected:
            raise ValueError(f"{type(self).__name__}.load_state_dict: missing {sorted(missing)}, "
                             f"unexpected {sorted(unexpected)}")
        for name, value in state.items():
            module, attr = self, name
            while "." in attr:
                head, attr = attr.split(".", 1)
                module = module._children[head]
            setattr(module, attr, value)

    def forward(self, *args):
        raise NotImplementedError

    def __call__(self, *args):
        return self.forward(*args)

    def __repr__(self):
        return f"{type(self).__name__}()"


def _rng(seed):
    return np.random.default_rng(seed)


def _uniform(rng, bound, shape):
    return rng.uniform(-bound, bound, size=shape).astype(np.float32)


class Linear(Module):
    """y = x @ weight.T + bias; weight is out_features x in_features."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, seed=None):
        super().__init__()
        rng, bound = _rng(seed), 1 / math.sqrt(in_features)
        self.in_features, self.out_features = in_features, out_features
        self.param("weight", _uniform(rng, bound, (out_features, in_features)))
        self.has_bias = bias
        if bias:
            self.param("bias", _uniform(rng, bound, (out_features,)))

    def forward(self, x):
        return F.linear(x, self.weight, self.bias if self.has_bias else None)

    def __repr__(self):
        return f"Linear({self.in_features}, {self.out_features}, bias={self.has_bias})"


class MatMul(Module):
    """y = x @ weight with weight in x out (no bias)."""

    def __init__(self, in_features: int, out_features: int, seed=None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.param("weight", _uniform(_rng(seed), 1 / math.sqrt(in_features),
                                      (in_features, out_features)))

    def forward(self, x):
        return F._matmul_nd(x, self.weight)

    def __repr__(self):
        return f"MatMul({self.in_features}, {self.out_features})"


class Conv2d(Module):
    """torch.nn.Conv2d on NCHW; weight OIHW."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1,
                 padding=0, dilation=1, bias: bool = True, seed=None, groups: int = 1):
        super().__init__()
        kh, kw = F._pair(kernel_size, "kernel_size", "Conv2d")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"Conv2d: groups {groups} must divide in_channels {in_channels} "
                             f"and out_channels {out_channels}")
        rng, bound = _rng(seed), 1 / math.sqrt(in_channels // groups * kh * kw)
        self.stride, self.padding, self.dilation = stride, padding, dilation
        self.groups = groups
        self.param("weight", _uniform(rng, bound,
                                      (out_channels, in_channels // groups, kh, kw)))
        self.has_bias = bias
        if bias:
            self.param("bias", _uniform(rng, bound, (out_channels,)))

    def forward(self, x):
        return conv2d(x, self.weight, self.bias if self.has_bias else None,
                      stride=self.stride, padding=self.padding, dilation=self.dilation,
                      groups=self.groups)

    def __repr__(self):
        o, c, kh, kw = self.weight.shape
        groups = f", groups={self.groups}" if self.groups != 1 else ""
        return f"Conv2d({c * self.groups}, {o}, kernel_size=({kh}, {kw}), " \
               f"stride={self.stride}, padding={self.padding}{groups})"


class BatchNorm2d(Module):
    """Inference batch norm with running statistics (folded when compiled)."""

    def __init__(self, num_features: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.param("weight", np.ones(num_features))
        self.param("bias", np.zeros(num_features))
        self.param("running_mean", np.zeros(num_features))
        self.param("running_var", np.ones(num_features))

    def forward(self, x):
        return F.batch_norm(x, self.weight, self.bias, self.running_mean, self.running_var,
                            self.eps)


class LayerNorm(Module):
    """torch.nn.LayerNorm(normalized_shape) over the trailing dimensions."""

    def __init__(self, normalized_shape, eps: float = 1e-5):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) \
            else tuple(normalized_shape)
        self.normalized_shape, self.eps = shape, eps
        self.param("weight", np.ones(shape))
        self.param("bias", np.zeros(shape))

    def forward(self, x):
        return F.layer_norm(x, self.weight, self.bias, axis=-len(self.normalized_shape),
                            eps=self.eps)


class _Stateless(Module):
    def __init__(self, fn, **kwargs):
        super().__init__()
        self._fn, self._kwargs = fn, kwargs

    def forward(self, x):
        return self._fn(x, **self._kwargs)

    def __repr__(self):
        args = ", ".join(f"{k}={v}" for k, v in self._kwargs.items())
        return f"{type(self).__name__}({args})"


class ReLU(_Stateless):
    def __init__(self):
        super().__init__(relu)


class GELU(_Stateless):
    def __init__(self):
        super().__init__(F.gelu)


class Sigmoid(_Stateless):
    def __init__(self):
        super().__init__(F.sigmoid)


class Tanh(_Stateless):
    def __init__(self):
        super().__init__(F.tanh)


class Softmax(_Stateless):
    def __init__(self, axis: int = -1):
        super().__init__(F.softmax, axis=axis)


class Flatten(_Stateless):
    def __init__(self, axis: int = 1):
        super().__init__(F.flatten, axis=axis)


class MaxPool2d(_Stateless):
    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__(F.max_pool2d, kernel_size=kernel_size, stride=stride, padding=padding)


class AvgPool2d(_Stateless):
    def __init__(self, kernel_size, stride=None, padding=0, count_include_pad=True):
        super().__init__(F.avg_pool2d, kernel_size=kernel_size, stride=stride,
                         padding=padding, count_include_pad=count_include_pad)


class Sequential(Module):
    """Layers applied in order: Sequential([a, b]) or Sequential(a, b)."""

    def __init__(self, *layers):
        super().__init__()
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = tuple(layers[0])
        self.layers = list(layers)
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential: layer {i} is a {type(layer).__name__}, "
                                f"not an fc.Module")
            setattr(self, str(i), layer)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def __getitem__(self, i):
        return self.layers[i]

    def __len__(self):
        return len(self.layers)

    def __repr__(self):
        inner = "".join(f"\n  ({i}): {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential({inner}\n)"


class MultiHeadAttention(Module):
    """Multi-head attention over batch-first (B, S, E) inputs, with
    torch.nn.MultiheadAttention's parameters: in_proj_weight (3E x E, rows
    q, k, v), in_proj_bias (3E), out_proj_weight (E x E), out_proj_bias."""

    def __init__(self, embed_dim: int, num_heads: int, causal: bool = False, seed=None):
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError(f"MultiHeadAttention: embed_dim {embed_dim} is not divisible "
                             f"by num_heads {num_heads}")
        self.embed_dim, self.num_heads, self.causal = embed_dim, num_heads, causal
        rng, bound = _rng(seed), math.sqrt(6 / (2 * embed_dim))
        self.param("in_proj_weight", _uniform(rng, bound, (3 * embed_dim, embed_dim)))
        self.param("in_proj_bias", np.zeros(3 * embed_dim))
        self.param("out_proj_weight", _uniform(rng, 1 / math.sqrt(embed_dim),
                                               (embed_dim, embed_dim)))
        self.param("out_proj_bias", np.zeros(embed_dim))

    def _heads(self, x, b, s):
        # (B, S, E) -> (B, H, S, E/H)
        h = self.num_heads
        return F.transpose(F.reshape(x, (b, s, h, self.embed_dim // h)), (0, 2, 1, 3))

    def forward(self, query, key=None, value=None):
        key = query if key is None else key
        value = key if value is None else value
        e = self.embed_dim
        w, bias = self.in_proj_weight, self.in_proj_bias
        b, sq = query.shape[0], query.shape[1]
        sk = key.shape[1]
        q = F.linear(query, w[:e], bias[:e])
        k = F.linear(key, w[e:2 * e], bias[e:2 * e])
        v = F.linear(value, w[2 * e:], bias[2 * e:])
        o = F.attention(self._heads(q, b, sq), self._heads(k, b, sk), self._heads(v, b, sk),
                        causal=self.causal)
        o = F.reshape(F.transpose(o, (0, 2, 1, 3)), (b, sq, e))
        return F.linear(o, self.out_proj_weight, self.out_proj_bias)


class TransformerEncoderLayer(Module):
    """torch.nn.TransformerEncoderLayer(batch_first=True, norm_first=False,
    activation="gelu") in eval mode: x = norm1(x + attn(x));
    x = norm2(x + linear2(gelu(linear1(x))))."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 eps: float = 1e-5, seed=None):
        super().__init__()
        rng = _rng(seed)
        seeds = rng.integers(0, 2**31, size=3)
        self.self_attn = MultiHeadAttention(d_model, nhead, seed=int(seeds[0]))
        self.linear1 = Linear(d_model, dim_feedforward, seed=int(seeds[1]))
        self.linear2 = Linear(dim_feedforward, d_model, seed=int(seeds[2]))
        self.norm1 = LayerNorm(d_model, eps)
        self.norm2 = LayerNorm(d_model, eps)

    def forward(self, x):
        x = self.norm1(F.add(x, self.self_attn(x)))
        h = self.linear2(F.gelu(self.linear1(x)))
        return self.norm2(F.add(x, h))
