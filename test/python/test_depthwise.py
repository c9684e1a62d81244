"""The depthwise convolution ukernel (lib/Runtime/Ukernels/Depthwise.cpp,
flash-depthwise-to-ukernel) against a float64 NumPy reference and against
the generated loops (`ukernels=false`): widths around its 8-wide vectors
and 4-vector blocks, heights around its 8/4/2-row groups, strides 1-3,
asymmetric padding, dilation, channel multipliers, batches, the fused
bias / residual / clamp, NaN, on 1 and 2 threads."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import flashcompile as fc


def depthwise_reference(x, w, b, stride, padding, dilation):
    """float64; padding (top, left, bottom, right); w: (C*M, 1, KH, KW)."""
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    m = o // c
    (sh, sw), (dh, dw), (t, l, bo, r) = stride, dilation, padding
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (t, bo), (l, r)))
    xp = np.repeat(xp, m, axis=1)  # output channel k reads input k // m
    oh = (h + t + bo - dh * (kh - 1) - 1) // sh + 1
    ow = (wd + l + r - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, o, oh, ow))
    for i in range(kh):
        for j in range(kw):
            patch = xp[:, :, i * dh:i * dh + sh * oh:sh, j * dw:j * dw + sw * ow:sw]
            out += patch * w[:, 0, i, j].astype(np.float64).reshape(1, o, 1, 1)
    return out if b is None else out + b.reshape(1, -1, 1, 1)


def _source(xs, ws, ys, stride, padding, dilation, groups, bias, clamp, residual):
    t = lambda s: "tensor<" + "x".join(map(str, s)) + "xf32>"
    args = [f"%x: {t(xs)}", f"%w: {t(ws)}"] + ([f"%b: {t((ws[0],))}"] if bias else []) \
        + ([f"%r: {t(ys)}"] if residual else [])
    operands = "%x, %w" + (", %b" if bias else "")
    types = f"{t(xs)}, {t(ws)}" + (f", {t((ws[0],))}" if bias else "")
    body = [f"%0 = flash.conv2d {operands} {{stride = array<i64: {stride[0]}, {stride[1]}>, "
            f"padding = array<i64: {', '.join(map(str, padding))}>, "
            f"dilation = array<i64: {dilation[0]}, {dilation[1]}>, groups = {groups}}} "
            f": ({types}) -> {t(ys)}"]
    last = "%0"
    if residual:
        body.append(f"%1 = flash.add %0, %r : ({t(ys)}, {t(ys)}) -> {t(ys)}")
        last = "%1"
    if clamp:
        lo, hi = clamp
        body += [f"%lo = flash.constant dense<{lo:e}> : tensor<f32>",
                 f"%mhi = flash.constant dense<{-hi:e}> : tensor<f32>",
                 f"%c1 = flash.max {last}, %lo : ({t(ys)}, tensor<f32>) -> {t(ys)}",
                 f"%c2 = flash.neg %c1 : {t(ys)}",
                 f"%c3 = flash.max %c2, %mhi : ({t(ys)}, tensor<f32>) -> {t(ys)}",
                 f"%c4 = flash.neg %c3 : {t(ys)}"]
        last = "%c4"
    return (f"func.func @dw({', '.join(args)}) -> {t(ys)} {{\n  " + "\n  ".join(body)
            + f"\n  return {last} : {t(ys)}\n}}")


def run_case(rng, n, c, h, w, k, stride=(1, 1), padding=(0, 0, 0, 0), dilation=(1, 1),
             multiplier=1, bias=True, clamp=None, residual=False, options=""):
    kh, kw = k
    x = rng.standard_normal((n, c, h, w), dtype=np.float32)
    wt = rng.standard_normal((c * multiplier, 1, kh, kw), dtype=np.float32)
    b = rng.standard_normal(c * multiplier, dtype=np.float32) if bias else None
    expected = depthwise_reference(x, wt, b, stride, padding, dilation)
    r = rng.standard_normal(expected.shape, dtype=np.float32) if residual else None
    if residual:
        expected = expected + r
    if clamp:
        expected = np.clip(expected, *clamp)
    src = _source(x.shape, wt.shape, expected.shape, stride, padding, dilation, c,
                  bias, clamp, residual)
    compiled = fc.compile_mlir(src, options=options)
    args = [x, wt] + ([b] if bias else []) + ([r] if residual else [])
    got = compiled(*args)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5 * np.sqrt(kh * kw))
    return compiled, args, got


# (n, c, h, w, k, stride, padding, dilation, multiplier)
CASES = [
    (1, 3, 1, 1, (1, 1), (1, 1), (0, 0, 0, 0), (1, 1), 1),       # one pixel
    (1, 5, 7, 7, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1),       # 7 wide: one partial vector
    (2, 4, 9, 8, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1),       # exactly one vector
    (1, 3, 17, 9, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1),      # 9: a vector and one lane
    (1, 2, 5, 16, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1),      # two vectors, 5 rows: 4 + 1
    (1, 2, 6, 23, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1),      # 3 vectors, the last partial
    (1, 2, 3, 32, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1),      # one 4-vector block
    (1, 2, 3, 45, (5, 5), (1, 1), (2, 2, 2, 2), (1, 1), 1),      # a block, then single vectors
    (1, 3, 33, 71, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1),     # blocks and a partial tail
    (1, 4, 28, 28, (3, 3), (2, 2), (1, 1, 1, 1), (1, 1), 1),     # MobileNet's stride 2
    (1, 4, 29, 37, (3, 3), (2, 2), (0, 1, 1, 0), (1, 1), 1),     # odd, asymmetric padding
    (1, 3, 40, 40, (3, 3), (2, 2), (1, 0, 1, 0), (1, 1), 1),     # even left pad, 16-wide pairs
    (1, 3, 15, 50, (5, 5), (2, 2), (2, 2, 2, 2), (1, 1), 1),     # EfficientNet's 5x5 stride 2
    (1, 2, 14, 22, (3, 3), (3, 3), (1, 2, 0, 1), (1, 1), 1),     # stride 3: the scalar layout
    (2, 3, 12, 19, (3, 3), (1, 2), (1, 1, 1, 1), (2, 1), 1),     # mixed strides, dilation
    (1, 3, 16, 16, (3, 3), (1, 1), (2, 2, 2, 2), (2, 2), 1),     # dilated
    (1, 4, 10, 13, (3, 5), (1, 1), (1, 2, 1, 2), (1, 1), 3),     # 3 outputs per channel
    (3, 6, 11, 11, (7, 7), (1, 1), (3, 3, 3, 3), (1, 1), 1),     # ConvNeXt's 7x7, a batch
    (1, 2, 4, 4, (3, 3), (1, 1), (4, 4, 4, 4), (1, 1), 1),       # padding wider than the input
    (1, 2, 9, 9, (3, 3), (1, 1), (0, 0, 0, 0), (1, 1), 2),       # unpadded, multiplier 2
    # Rows of at most 16 outputs and 8+ channels: eight channels interleaved
    # at once (groupAvx2), the channels past the last group plane by plane.
    (1, 16, 7, 7, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1),      # MobileNet's 7x7: two groups
    (2, 13, 14, 14, (3, 3), (2, 2), (1, 1, 1, 1), (1, 1), 1),    # a group and 5 planes, a batch
    (1, 24, 9, 11, (5, 5), (1, 1), (2, 2, 2, 2), (1, 1), 1),     # 5x5; 11 wide: 8 + 3 pixels
    (1, 9, 12, 16, (3, 3), (1, 2), (0, 1, 2, 1), (2, 1), 1),     # mixed strides, dilation
    (1, 8, 4, 4, (3, 3), (1, 1), (4, 4, 4, 4), (1, 1), 1),       # padding wider than the input
    (1, 8, 10, 10, (3, 3), (3, 3), (1, 1, 1, 1), (1, 1), 1),     # stride 3
    (1, 16, 9, 9, (3, 3), (1, 1), (0, 0, 0, 0), (1, 1), 2),      # multiplier 2: plane by plane
    # Rows of up to 64 that 32 does not divide go by groups too, in strips
    # of about 1024 output pixels (here 25, 25, 10 rows; 23, 23, 3).
    (1, 9, 60, 40, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1),     # strips, a group and a plane
    (1, 8, 100, 90, (3, 3), (2, 2), (1, 1, 1, 1), (2, 2), 1),    # strips, stride 2, dilation 2
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_depthwise_matches_reference(rng, threads, case):
    n, c, h, w, k, stride, padding, dilation, m = case
    run_case(rng, n, c, h, w, k, stride, padding, dilation, m)


@pytest.mark.parametrize("case", [CASES[i] for i in (1, 5, 9, 13, 16, 21, 24)], ids=str)
def test_depthwise_epilogue(rng, threads, case):
    """Residual add and ReLU6 fused into the call, and the same with
    `fuse-epilogue=false` (a separate pass) and without ukernels."""
    n, c, h, w, k, stride, padding, dilation, m = case
    for options in ["", "fuse-epilogue=false", "ukernels=false"]:
        compiled, _, _ = run_case(rng, n, c, h, w, k, stride, padding, dilation, m,
                                  bias=(options != "ukernels=false"), clamp=(0.0, 6.0),
                                  residual=True, options=options)
    calls = compiled.ir("loops").count("call @flash_depthwise_conv2d_f32")
    assert calls == 0  # the last variant: no ukernels
    compiled, _, _ = run_case(rng, n, c, h, w, k, stride, padding, dilation, m,
                              clamp=(0.0, 6.0), residual=True)
    loops = compiled.ir("loops")
    assert loops.count("call @flash_depthwise_conv2d_f32(") == 1
    assert "linalg.generic" not in loops and "scf.for" not in loops.split("func.func @dw")[1]


def test_depthwise_nan_and_large_planes(rng, threads):
    """NaN in the input reaches exactly the outputs whose window covers it
    (the clamp keeps NaN, as arith.maximumf); a 112x112 plane (MobileNet's
    first depthwise layer size) on the threads."""
    x = rng.standard_normal((1, 4, 12, 12), dtype=np.float32)
    x[0, 1, 5, 7] = np.nan
    w = rng.standard_normal((4, 1, 3, 3), dtype=np.float32)
    f = fc.jit(lambda x: fc.clip(fc.conv2d(x, w, None, padding=1, groups=4), 0.0, 6.0))
    got = f(x)
    nan = np.isnan(got)
    assert nan[0, 1, 4:7, 6:9].all() and nan.sum() == 9
    # The same through eight interleaved channels (rows of at most 16).
    x = rng.standard_normal((1, 8, 7, 7), dtype=np.float32)
    x[0, 6, 3, 0] = np.nan
    w = rng.standard_normal((8, 1, 3, 3), dtype=np.float32)
    got = fc.jit(lambda x: fc.clip(fc.conv2d(x, w, None, padding=1, groups=8), 0.0, 6.0))(x)
    nan = np.isnan(got)
    assert nan[0, 6, 2:5, 0:2].all() and nan.sum() == 6
    run_case(rng, 1, 8, 112, 112, (3, 3), (1, 1), (1, 1, 1, 1), clamp=(0.0, 6.0))
    run_case(rng, 1, 8, 112, 112, (3, 3), (2, 2), (0, 0, 1, 1), clamp=(0.0, 6.0))


@settings(max_examples=25, deadline=None)
@given(h=st.integers(1, 20), w=st.integers(1, 40), k=st.integers(1, 5),
       s=st.integers(1, 3), d=st.integers(1, 2), pad=st.lists(st.integers(0, 3), min_size=4, max_size=4),
       m=st.integers(1, 2), c=st.sampled_from([3, 11]), seed=st.integers(0, 2**31))
def test_depthwise_random_shapes(h, w, k, s, d, pad, m, c, seed):
    """Random shapes, strides, dilations and padding: the ukernel agrees
    with the generated loops and the reference (invalid shapes skipped)."""
    top, left, bottom, right = pad
    if h + top + bottom < d * (k - 1) + 1 or w + left + right < d * (k - 1) + 1:
        return
    rng = np.random.default_rng(seed)
    _, args, got = run_case(rng, 1, c, h, w, (k, k), (s, s), tuple(pad), (d, d), m)
    x, wt, b = args
    src = _source(x.shape, wt.shape, got.shape, (s, s), tuple(pad), (d, d), c, True, None, False)
    loops = fc.compile_mlir(src, options="ukernels=false")(*args)
    np.testing.assert_allclose(got, loops, rtol=1e-5, atol=1e-5 * k)


def test_depthwise_shared_padded_input(rng):
    """Two depthwise convolutions of one input with the same padding share
    one padded copy (CSE): neither call may take it away from the other."""
    x = rng.standard_normal((1, 4, 9, 11), dtype=np.float32)
    w1, w2 = (rng.standard_normal((4, 1, 3, 3), dtype=np.float32) for _ in range(2))
    b1, b2 = (rng.standard_normal(4, dtype=np.float32) for _ in range(2))
    f = fc.jit(lambda x: fc.conv2d(x, w1, b1, padding=1, groups=4)
               + fc.conv2d(x, w2, b2, padding=1, groups=4))
    expected = (depthwise_reference(x, w1, b1, (1, 1), (1, 1, 1, 1), (1, 1))
                + depthwise_reference(x, w2, b2, (1, 1), (1, 1, 1, 1), (1, 1)))
    np.testing.assert_allclose(f(x), expected, rtol=1e-5, atol=1e-5)
    assert f.lower(x).ir("loops").count("call @flash_depthwise_conv2d_f32(") == 2


def test_depthwise_equal_biases(rng, threads):
    """A 1x1 convolution and a depthwise one with equal biases (zeros, as a
    freshly built torchvision model's folded batch norms give): CSE merged
    their bias broadcasts, and bufferization copied the shared one, so the
    depthwise convolution ran as generated scalar loops
    (flash-distinct-inits gives each its own)."""
    x = rng.standard_normal((1, 3, 13, 10), dtype=np.float32)
    w1 = rng.standard_normal((6, 3, 1, 1), dtype=np.float32)
    w2 = rng.standard_normal((6, 1, 3, 3), dtype=np.float32)
    zero = np.zeros(6, np.float32)
    f = fc.jit(lambda x: fc.conv2d(fc.conv2d(x, w1, zero), w2, zero, padding=1, groups=6))
    pointwise = np.einsum("oc,nchw->nohw", w1[:, :, 0, 0].astype(np.float64), x)
    expected = depthwise_reference(pointwise, w2, None, (1, 1), (1, 1, 1, 1), (1, 1))
    np.testing.assert_allclose(f(x), expected, rtol=1e-4, atol=1e-4)
    loops = f.lower(x).ir("loops")
    assert loops.count("call @flash_depthwise_conv2d_f32(") == 1
    assert "memref.copy" not in loops


# Stride 1, square 3x3 / 5x5 filters, rows of 14+ outputs: with AVX-512 the
# row-reuse blocks (Depthwise.cpp's rowReuseBlock512: 4x4, 5x3, 8x2, 8x1
# blocks of 16-lane vectors, rows halving at the bottom, the last vector
# masked) and their masked copy of each plane; AVX2 machines run the other
# paths on the same cases. (n, c, h, w, k, padding, dilation, multiplier)
ROW_REUSE_CASES = [
    (1, 2, 5, 14, 3, (1, 1, 1, 1), (1, 1), 1),    # the narrowest: 1 vector, 14 lanes
    (1, 3, 9, 17, 3, (1, 1, 1, 1), (1, 1), 1),    # 2 vectors, 1 lane; 8 + 1 rows
    (1, 2, 13, 31, 3, (0, 1, 2, 0), (1, 1), 1),   # asymmetric padding; 8 + 4 + 1 rows
    (2, 3, 7, 33, 3, (1, 1, 1, 1), (1, 1), 1),    # 3 vectors, 1 lane; 5 + 2 rows; a batch
    (1, 4, 11, 56, 3, (1, 1, 1, 1), (1, 1), 1),   # MobileNet's 56: 4 vectors, 8 lanes
    (1, 2, 6, 64, 3, (2, 2, 2, 2), (1, 1), 1),    # one whole 64-column block, wide padding
    (1, 2, 5, 65, 3, (1, 1, 1, 1), (1, 1), 1),    # a block and one column
    (1, 2, 9, 113, 3, (1, 0, 1, 2), (1, 1), 1),   # 64 + 49 columns
    (1, 3, 10, 28, 5, (2, 2, 2, 2), (1, 1), 1),   # EfficientNet's 5x5 at 28
    (1, 2, 6, 20, 5, (0, 0, 0, 0), (1, 1), 1),    # unpadded: 16 columns
    (1, 2, 8, 24, 3, (1, 2, 1, 2), (1, 2), 1),    # horizontal dilation only
    (1, 3, 7, 30, 3, (1, 1, 1, 1), (1, 1), 2),    # 2 outputs per channel
    (1, 4, 2, 40, 5, (2, 2, 2, 2), (1, 1), 1),    # fewer rows than the filter
    (1, 2, 4, 300, 3, (1, 1, 1, 1), (1, 1), 1),   # past the 16 copy masks kept (256 columns)
]


@pytest.mark.parametrize("case", ROW_REUSE_CASES, ids=str)
def test_depthwise_row_reuse_blocks(rng, threads, case):
    n, c, h, w, k, padding, dilation, m = case
    run_case(rng, n, c, h, w, (k, k), (1, 1), padding, dilation, m)
    run_case(rng, n, c, h, w, (k, k), (1, 1), padding, dilation, m, clamp=(0.0, 6.0),
             residual=True)


def test_depthwise_row_reuse_nan_edges(rng, threads):
    """NaN at a plane's corners and last column reaches exactly the outputs
    whose windows cover it: the masked copy's zeros are padding, not the
    neighbouring row's values."""
    x = rng.standard_normal((1, 2, 10, 37), dtype=np.float32)
    x[0, 0, 0, 0] = x[0, 1, 9, 36] = x[0, 1, 4, 15] = np.nan
    w = rng.standard_normal((2, 1, 3, 3), dtype=np.float32)
    got = fc.jit(lambda x: fc.conv2d(x, w, None, padding=1, groups=2))(x)
    nan = np.isnan(got)
    assert nan[0, 0, 0:2, 0:2].all() and nan[0, 0].sum() == 4
    assert nan[0, 1, 8:10, 35:37].all() and nan[0, 1, 3:6, 14:17].all()
    assert nan[0, 1].sum() == 4 + 9
