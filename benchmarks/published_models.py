"""MobileNet v1 and v2 and ResNet-50 v1.5 (224x224, 1000 classes) as Flash
IR, for simulating published measurements of devices we do not have
(Coral's Edge TPU table, MLPerf Inference).

Only the graph matters to the simulator, so the weights are splat
constants (one value per tensor: small IR, the shapes of the real model)
and batch norms are folded into the convolutions' biases, as the
quantized models that run on such devices have them. ReLU6 is written as
ReLU (fused into its convolution either way).

    from published_models import mobilenet_v1, mobilenet_v2, resnet50
    fc.simulate(fc.compile_mlir(mobilenet_v1()), "google-edge-tpu", "int8")
"""
from __future__ import annotations

import itertools

import numpy as np

import flashcompile as fc


_layers = itertools.count(1)


def _splat(shape):
    """A weight of one value, a different one per layer: equal splats would
    be one constant after CSE, and the simulator would see shared weights
    (fewer bytes to cache or stream than the real model has)."""
    return np.full(shape, 0.01 * (1 + 1e-4 * next(_layers)), np.float32)


def _conv(x, c_in, c_out, kernel=1, stride=1, groups=1, relu=True):
    w = _splat((c_out, c_in // groups, kernel, kernel))
    b = _splat((c_out,))
    y = fc.conv2d(x, w, b, stride=stride, padding=kernel // 2, groups=groups)
    return fc.relu(y) if relu else y


def _classifier(x, channels):
    x = fc.flatten(fc.avg_pool2d(x, x.shape[2]), 1)
    return fc.matmul(x, _splat((channels, 1000))) + _splat((1000,))


# (output channels, stride) of v1's 13 depthwise-separable blocks
# (Howard et al. 2017, Table 1).
V1_BLOCKS = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + \
    [(1024, 2), (1024, 1)]

# (expansion t, output channels c, repeats n, first stride s) of v2's
# inverted-residual stages (Sandler et al. 2018, Table 2).
V2_STAGES = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
             (6, 160, 3, 2), (6, 320, 1, 1)]


def _v1(x):
    x = _conv(x, 3, 32, 3, 2)
    c = 32
    for out, stride in V1_BLOCKS:
        x = _conv(x, c, c, 3, stride, groups=c)   # depthwise 3x3
        x = _conv(x, c, out)                      # pointwise 1x1
        c = out
    return _classifier(x, c)


def _v2(x):
    x = _conv(x, 3, 32, 3, 2)
    c = 32
    for t, out, repeats, first_stride in V2_STAGES:
        for i in range(repeats):
            stride = first_stride if i == 0 else 1
            hidden = c * t
            y = _conv(x, c, hidden) if t != 1 else x          # expand 1x1
            y = _conv(y, hidden, hidden, 3, stride, groups=hidden)  # depthwise 3x3
            y = _conv(y, hidden, out, relu=False)             # linear bottleneck
            x = x + y if stride == 1 and c == out else y
            c = out
    x = _conv(x, c, 1280)
    return _classifier(x, 1280)


# (bottleneck width, blocks) of ResNet-50's four stages (He et al. 2016,
# Table 1); v1.5 (torchvision, MLPerf) strides the 3x3 convolution.
RESNET50_STAGES = [(64, 3), (128, 4), (256, 6), (512, 3)]


def _resnet50(x):
    x = _conv(x, 3, 64, 7, 2)
    x = fc.max_pool2d(x, 3, stride=2, padding=1)
    c = 64
    for stage, (width, blocks) in enumerate(RESNET50_STAGES):
        for i in range(blocks):
            stride = 2 if i == 0 and stage > 0 else 1
            y = _conv(x, c, width)
            y = _conv(y, width, width, 3, stride)
            y = _conv(y, width, 4 * width, relu=False)
            skip = _conv(x, c, 4 * width, 1, stride, relu=False) if i == 0 else x
            x = fc.relu(y + skip)
            c = 4 * width
    return _classifier(x, c)


def _ir(fn, batch: int, size: int = 224) -> str:
    return fc.jit(fn).lower(np.ones((batch, 3, size, size), np.float32)).source


def mobilenet_v1(batch: int = 1) -> str:
    return _ir(_v1, batch)


def mobilenet_v2(batch: int = 1) -> str:
    return _ir(_v2, batch)


def resnet50(batch: int = 1, size: int = 224) -> str:
    return _ir(_resnet50, batch, size)


def resnet50_299(batch: int = 1) -> str:
    """At 299x299, as Coral's Edge TPU table runs it."""
    return resnet50(batch, 299)


MODELS = {"mobilenet_v1": mobilenet_v1, "mobilenet_v2": mobilenet_v2, "resnet50": resnet50,
          "resnet50_299": resnet50_299}
