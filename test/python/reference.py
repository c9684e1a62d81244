"""Independent NumPy (float64) implementations the tests compare against."""
import math

import numpy as np

erf = np.vectorize(math.erf, otypes=[np.float64])


def gelu(x):
    return 0.5 * x * (1 + erf(x / math.sqrt(2)))


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def layer_norm(x, scale, bias, ndim=1, eps=1e-5):
    axes = tuple(range(x.ndim - ndim, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * scale + bias


def batch_norm(x, scale, bias, mean, var, eps=1e-5):
    shape = (1, -1) + (1,) * (x.ndim - 2)
    return (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps) \
        * scale.reshape(shape) + bias.reshape(shape)


def pool2d(x, kernel, stride, padding, mode, count_include_pad=True):
    """Direct loops over windows; padding is (top, left, bottom, right)."""
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (t, l, b, r) = kernel, stride, padding
    fill = -np.inf if mode == "max" else 0.0
    xp = np.full((n, c, h + t + b, w + l + r), fill)
    xp[:, :, t:t + h, l:l + w] = x
    valid = np.zeros((h + t + b, w + l + r))
    valid[t:t + h, l:l + w] = 1
    oh, ow = (h + t + b - kh) // sh + 1, (w + l + r - kw) // sw + 1
    out = np.empty((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            win = xp[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw]
            if mode == "max":
                out[:, :, i, j] = win.max(axis=(2, 3))
            else:
                count = kh * kw if count_include_pad else \
                    valid[i * sh:i * sh + kh, j * sw:j * sw + kw].sum()
                out[:, :, i, j] = win.sum(axis=(2, 3)) / count
    return out


def conv2d(x, w, b=None, stride=1, padding=0, dilation=1):
    """Direct float64 convolution, NCHW, one tap of the filter at a time."""
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    oh = (h + 2 * padding - dilation * (kh - 1) - 1) // stride + 1
    ow = (wd + 2 * padding - dilation * (kw - 1) - 1) // stride + 1
    out = np.zeros((n, o, oh, ow))
    for i in range(kh):
        for j in range(kw):
            y0, x0 = i * dilation, j * dilation
            patch = xp[:, :, y0:y0 + stride * oh:stride, x0:x0 + stride * ow:stride]
            out += np.einsum("nchw,oc->nohw", patch, w[:, :, i, j])
    return out if b is None else out + b.reshape(1, -1, 1, 1)


def attention(q, k, v, causal=False, scale=None):
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    s = q @ np.swapaxes(k, -1, -2) * scale
    if causal:
        sq, sk = s.shape[-2:]
        s = np.where(np.triu(np.ones((sq, sk), bool), 1), -np.inf, s)
    return softmax(s, -1) @ v
