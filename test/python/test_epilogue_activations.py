"""HardSwish fused into the ukernels' epilogues (Epilogue.cpp's
matchActivation, Ukernels.h's Activation): a matrix product, a 1x1 and a
3x3 convolution (compiled panels, the implicit GEMM) and depthwise
convolutions (the plane path and the eight-channel groups), each with a
bias and the activation as one call, against float64 NumPy on shapes
around the register tiles (edge rows and columns, one row, K in two
slices, rows not a multiple of 16 lanes) on one and two threads; special
values; the torch module MobileNetV3 uses, imported. SiLU is left to the
compiled loops (Epilogue.cpp says why): checked here to stay a loop."""
import numpy as np
import pytest

import flashcompile as fc
from conftest import assert_close


def hardswish(x):
    return x * np.clip(x / 6 + 0.5, 0, 1)


ACTIVATIONS = {"hardswish": (fc.hardswish, hardswish)}


def fused(compiled, call):
    """`call` (in a convolution's serial and parallel batch variants) and
    no loop nest left: the activation ran in the ukernel."""
    loops = compiled.ir("loops")
    return (f"call @{call}(" in loops and "linalg.generic" not in loops
            and "scf.for" not in loops)


@pytest.mark.parametrize("act", ACTIVATIONS)
@pytest.mark.parametrize("m,k,n", [(1, 7, 33), (5, 7, 3), (13, 300, 49), (30, 64, 17),
                                   (12, 40, 64), (64, 20, 2)])
def test_matmul_bias_activation(rng, threads, act, m, k, n):
    """x @ w + bias, then the activation: one epilogue call (a constant w in
    compiled panels; m = 1 streams B's rows, sgemmFewRows)."""
    ours, ref = ACTIVATIONS[act]
    a = (rng.standard_normal((m, k)) * 2).astype(np.float32)
    w = rng.standard_normal((k, n), dtype=np.float32)
    bias = rng.standard_normal((n,), dtype=np.float32)
    source = fc.jit(lambda x: ours(fc.add(fc.matmul(x, w), bias))).lower(a).source
    compiled = fc.compile_mlir(source)
    if m > 1:
        assert fused(compiled, "flash_matmul_epilogue_f32")
    assert_close(compiled(a), ref(a.astype(np.float64) @ w + bias), reduction=k)
    unfused = fc.compile_mlir(source, options="fuse-epilogue=false")
    assert "scf.for" in unfused.ir("loops")
    assert_close(unfused(a), ref(a.astype(np.float64) @ w + bias), reduction=k)


def conv_reference(x, w, b, pad):
    """float64 NCHW convolution, stride 1."""
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh, ow = h + 2 * pad - kh + 1, wd + 2 * pad - kw + 1
    out = np.zeros((n, o, oh, ow))
    for i in range(kh):
        for j in range(kw):
            out += np.einsum("nchw,oc->nohw", xp[:, :, i:i + oh, j:j + ow], w[:, :, i, j])
    return out + b.reshape(1, -1, 1, 1)


@pytest.mark.parametrize("act", ACTIVATIONS)
@pytest.mark.parametrize("c,o,h,k", [(16, 24, 7, 1), (24, 13, 14, 1), (5, 40, 23, 3),
                                     (3, 16, 30, 3)])
def test_conv_bias_activation(rng, threads, act, c, o, h, k):
    """A convolution's bias and activation in its product's epilogue: 1x1
    (a plain product on the constant filter's panels) and 3x3 (the implicit
    GEMM), O and H*W not multiples of the tile."""
    ours, ref = ACTIVATIONS[act]
    x = (rng.standard_normal((1, c, h, h)) * 2).astype(np.float32)
    w = (rng.standard_normal((o, c, k, k)) / np.sqrt(c * k * k)).astype(np.float32)
    b = rng.standard_normal((o,), dtype=np.float32)
    compiled = fc.compile_mlir(
        fc.jit(lambda t: ours(fc.conv2d(t, w, b, padding=k // 2))).lower(x).source)
    call = "flash_matmul_epilogue_f32" if k == 1 else "flash_conv_im2col_f32"
    assert fused(compiled, call)
    assert_close(compiled(x), ref(conv_reference(x, w, b, k // 2)), reduction=c * k * k)


@pytest.mark.parametrize("act", ACTIVATIONS)
@pytest.mark.parametrize("c,h,w,k,stride", [
    (3, 33, 71, 3, 1),    # plane by plane, blocks and a partial tail
    (16, 7, 7, 3, 1),     # two eight-channel groups
    (13, 14, 14, 5, 2),   # a group and five planes
    (9, 60, 40, 3, 1),    # strips of a group, and a plane
])
def test_depthwise_bias_activation(rng, threads, act, c, h, w, k, stride):
    """Depthwise convolutions with the activation applied in registers, on
    both of the ukernel's paths."""
    ours, ref = ACTIVATIONS[act]
    x = (rng.standard_normal((1, c, h, w)) * 2).astype(np.float32)
    wt = rng.standard_normal((c, 1, k, k), dtype=np.float32)
    b = rng.standard_normal((c,), dtype=np.float32)
    pad = k // 2
    compiled = fc.compile_mlir(fc.jit(
        lambda t: ours(fc.conv2d(t, wt, b, stride=stride, padding=pad, groups=c))).lower(x).source)
    assert fused(compiled, "flash_depthwise_conv2d_f32")
    full = np.stack([conv_reference(x[:, i:i + 1], wt[i:i + 1], b[i:i + 1], pad)[:, 0]
                     for i in range(c)], axis=1)
    expected = ref(full[:, :, ::stride, ::stride])
    assert_close(compiled(x), expected, reduction=k * k)


@pytest.mark.parametrize("act", ACTIVATIONS)
@pytest.mark.parametrize("groups", [1, 8])
def test_special_values(act, groups):
    """NaN stays NaN; +-inf and large magnitudes as NumPy computes them
    (HardSwish(-inf) is NaN: -inf * 0); one input pixel per output through
    a 1x1 filter of ones."""
    ours, ref = ACTIVATIONS[act]
    values = np.array([np.nan, np.inf, -np.inf, -100.0, -88.5, -20.0, -3.0, -1e-3, 0.0,
                       1e-3, 2.9, 3.0, 20.0, 100.0, 1e30, -1e30], dtype=np.float32)
    x = np.tile(values, 8 * 2).reshape(1, 8, 4, 8)
    w = np.ones((8, 8 // groups, 1, 1), dtype=np.float32) / (8 // groups)
    if groups == 1:
        x = np.repeat(x[:, :1], 8, axis=1)  # every channel sums to the value
    b = np.zeros((8,), dtype=np.float32)
    compiled = fc.compile_mlir(
        fc.jit(lambda t: ours(fc.conv2d(t, w, b, groups=groups))).lower(x).source)
    call = "flash_matmul_epilogue_f32" if groups == 1 else "flash_depthwise_conv2d_f32"
    assert fused(compiled, call)
    got = compiled(x)
    with np.errstate(invalid="ignore", over="ignore"):
        expected = ref(x[:, :1].astype(np.float64)).astype(np.float32)
    np.testing.assert_allclose(got, np.broadcast_to(expected, got.shape), rtol=1e-6,
                               atol=1e-30, equal_nan=True)


def test_silu_stays_a_loop(rng):
    """A SiLU after a product is not fused (a loop computes it) and is right."""
    a = rng.standard_normal((13, 40), dtype=np.float32)
    w = rng.standard_normal((40, 33), dtype=np.float32)
    compiled = fc.compile_mlir(fc.jit(lambda x: fc.silu(fc.matmul(x, w))).lower(a).source)
    loops = compiled.ir("loops")
    assert "call @flash_matmul" in loops and "math.exp" in loops
    z = a.astype(np.float64) @ w
    assert_close(compiled(a), z / (1 + np.exp(-z)), reduction=40)


def test_torch_hardswish(rng):
    """nn.Conv2d + nn.Hardswish and a depthwise nn.Conv2d + nn.Hardswish (as
    MobileNetV3 builds them), imported: both activations fused, as torch.
    (The second writes a buffer of its own only because its input's
    HardSwish wrote another: with one buffer for both, the padded depthwise
    call would read what it writes, and keeps the HardSwish a loop.)"""
    torch = pytest.importorskip("torch")
    model = torch.nn.Sequential(torch.nn.Conv2d(16, 40, 1), torch.nn.Hardswish(),
                                torch.nn.Conv2d(40, 40, 3, groups=40),
                                torch.nn.Hardswish(), torch.nn.Conv2d(40, 24, 1)).eval()
    x = torch.from_numpy(rng.standard_normal((1, 16, 15, 15), dtype=np.float32) * 3)
    imported = fc.from_pytorch(model, (x,))
    loops = imported.compiled.ir("loops")
    body = loops[loops.index("func.func @torch_model"):]
    # No loop clamps (HardSwish's clamp), and both calls carry terms 9: the
    # bias (1) and HardSwish (8).
    assert "arith.maximumf" not in body
    calls = [line for line in body.splitlines() if "call @flash_" in line]
    depthwise = [line for line in calls if "flash_depthwise_conv2d_f32(" in line]
    assert len(depthwise) == 1 and "%c9_i64" in depthwise[0]
    assert any("flash_matmul_epilogue_f32(" in line and "%c9_i64" in line for line in calls)
    with torch.no_grad():
        expected = model(x).numpy()
    np.testing.assert_allclose(imported(x.numpy()), expected, rtol=1e-4, atol=1e-5)
