"""fc ops against NumPy on random inputs, odd shapes and broadcasting."""
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import flashcompile as fc
from conftest import assert_close


def randn(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


# ---------------------------------------------------------------- matmul
MATMUL_SHAPES = [
    (1, 1, 1), (1, 7, 1), (1, 13, 17), (2, 3, 5), (7, 11, 13), (16, 16, 16),
    (17, 1, 31), (31, 37, 41), (64, 64, 64), (1, 128, 64), (128, 1, 3),
    (3, 97, 2), (100, 50, 1), (5, 256, 7), (127, 65, 129), (32, 784, 128),
    (64, 128, 10), (97, 89, 83), (200, 3, 200), (257, 19, 4),
]


@pytest.mark.parametrize("m,k,n", MATMUL_SHAPES)
def test_matmul(rng, m, k, n):
    a, b = randn(rng, m, k), randn(rng, k, n)
    assert_close(fc.matmul(a, b), a.astype(np.float64) @ b, reduction=k)


@pytest.mark.parametrize("m,k,n", [(6, 5, 4), (9, 3, 7), (2, 8, 1)])
def test_matmul_non_contiguous(rng, m, k, n):
    a = randn(rng, k, m).T            # transposed view
    b = randn(rng, k, 2 * n)[:, ::2]  # strided view
    assert not a.flags.c_contiguous and not b.flags.c_contiguous
    assert_close(fc.matmul(a, b), a.astype(np.float64) @ b, reduction=k)


# ---------------------------------------------------------------- add
ADD_SHAPES = [
    ((), ()), ((), (3,)), ((4,), ()), ((1,), (5,)), ((5,), (1,)),
    ((7,), (7,)), ((3, 4), (4,)), ((3, 4), (3, 1)), ((3, 1), (1, 4)),
    ((1, 4), (3, 1)), ((2, 3), (2, 3)), ((2, 1, 4), (3, 1)),
    ((5, 1, 1, 3), (2, 1)), ((1, 1), (1, 1)), ((1, 1), (13,)),
    ((2, 3, 5, 7), (7,)), ((2, 3, 5, 7), (3, 1, 1)), ((2, 1, 5, 1), (1, 3, 1, 7)),
    ((11, 13), (11, 1)), ((1,), (2, 3, 4)), ((1000,), (1000,)),
    ((64, 1), (1, 127)), ((4, 1, 6), (1, 5, 1)), ((3, 1, 1), (1, 1)),
]


@pytest.mark.parametrize("xs,ys", ADD_SHAPES)
def test_add_broadcast(rng, xs, ys):
    x, y = randn(rng, *xs), randn(rng, *ys)
    out = fc.add(x, y)
    assert_close(np.asarray(out), x.astype(np.float64) + y)


@settings(max_examples=40, deadline=None)
@given(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4,
                                         min_side=1, max_side=6),
       st.integers(0, 2**31 - 1))
def test_add_broadcast_property(shapes, seed):
    rng = np.random.default_rng(seed)
    x, y = (randn(rng, *s) for s in shapes.input_shapes)
    out = fc.add(x, y)
    assert out.shape == shapes.result_shape
    assert_close(out, x.astype(np.float64) + y)


def test_add_non_contiguous(rng):
    x = randn(rng, 6, 8)[::2, 1::2]
    y = randn(rng, 4, 3).T
    assert_close(fc.add(x, y), x.astype(np.float64) + y)


def test_add_python_scalar(rng):
    x = randn(rng, 3, 2)
    assert_close(fc.add(x, 2.5), x.astype(np.float64) + 2.5)


# ---------------------------------------------------------------- relu
RELU_SHAPES = [(), (1,), (2,), (7,), (1, 1), (3, 5), (13, 17), (2, 3, 5),
               (1, 3, 1, 7), (4096,), (31, 1, 29), (2, 2, 2, 2, 2)]


@pytest.mark.parametrize("shape", RELU_SHAPES)
def test_relu(rng, shape):
    x = randn(rng, *shape)
    np.testing.assert_array_equal(fc.relu(x), np.maximum(x, 0))


def test_relu_special_values():
    x = np.array([-np.inf, -1.0, -0.0, 0.0, 1e-30, np.inf, np.nan], np.float32)
    out = fc.relu(x)
    np.testing.assert_array_equal(out, np.maximum(x, np.float32(0)))


def test_relu_non_contiguous(rng):
    x = randn(rng, 5, 9)[:, ::3]
    np.testing.assert_array_equal(fc.relu(x), np.maximum(x, 0))


# ---------------------------------------------------------------- conv2d
def conv2d_reference(x, w, b, stride, padding, dilation):
    """Direct float64 convolution (cross-correlation, NCHW / OIHW)."""
    top, left, bottom, right = padding
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (top, bottom), (left, right)))
    n, c, h, wd = xp.shape
    o, _, kh, kw = w.shape
    (sh, sw), (dh, dw) = stride, dilation
    oh = (h - dh * (kh - 1) - 1) // sh + 1
    ow = (wd - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, o, oh, ow))
    for i, j in itertools.product(range(kh), range(kw)):
        patch = xp[:, :, i * dh: i * dh + sh * (oh - 1) + 1: sh,
                   j * dw: j * dw + sw * (ow - 1) + 1: sw]
        out += np.einsum("nchw,oc->nohw", patch, w[:, :, i, j])
    if b is not None:
        out += b[None, :, None, None]
    return out


def _quad(p):
    if isinstance(p, int):
        return (p, p, p, p)
    if len(p) == 2:
        return (p[0], p[1], p[0], p[1])
    return tuple(p)


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


# (N, C, H, W), (O, KH, KW), stride, padding, dilation, bias
CONV_CASES = [
    ((1, 1, 1, 1), (1, 1, 1), 1, 0, 1, False),
    ((1, 1, 5, 5), (1, 3, 3), 1, 0, 1, False),
    ((1, 3, 8, 8), (4, 3, 3), 1, 1, 1, True),
    ((2, 3, 9, 9), (4, 3, 3), 2, 1, 1, True),
    ((1, 2, 7, 11), (3, 3, 5), 1, 0, 1, True),
    ((1, 4, 13, 13), (2, 3, 3), 3, 0, 1, False),
    ((2, 1, 10, 10), (5, 3, 3), 1, 0, 2, True),
    ((1, 3, 17, 13), (6, 5, 3), (2, 1), (2, 1), (1, 2), True),
    ((1, 2, 6, 6), (3, 2, 2), 2, 0, 1, False),
    ((3, 5, 7, 7), (7, 1, 1), 1, 0, 1, True),
    ((1, 1, 9, 9), (1, 9, 9), 1, 0, 1, True),
    ((1, 3, 8, 8), (2, 3, 3), 1, (1, 2, 0, 3), 1, True),
    ((1, 2, 11, 5), (3, 3, 3), (3, 2), 2, (2, 1), False),
    ((2, 3, 32, 32), (16, 3, 3), 1, 1, 1, True),
    ((1, 16, 14, 14), (32, 3, 3), 2, 1, 1, True),
    ((1, 7, 5, 3), (11, 2, 2), 1, 1, 1, True),
    ((4, 2, 6, 6), (3, 3, 3), 1, 0, 1, False),
    ((1, 3, 31, 29), (5, 7, 7), 2, 3, 1, True),
    ((1, 1, 3, 3), (2, 3, 3), 1, 5, 1, True),
    ((1, 4, 12, 12), (4, 3, 3), 1, 2, 2, True),
]


@pytest.mark.parametrize("xs,ws,stride,padding,dilation,bias", CONV_CASES)
def test_conv2d(rng, xs, ws, stride, padding, dilation, bias):
    x = randn(rng, *xs)
    w = randn(rng, ws[0], xs[1], ws[1], ws[2])
    b = randn(rng, ws[0]) if bias else None
    out = fc.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation)
    ref = conv2d_reference(x, w, b, _pair(stride), _quad(padding), _pair(dilation))
    assert_close(out, ref, reduction=xs[1] * ws[1] * ws[2])


def test_conv2d_non_contiguous(rng):
    x = randn(rng, 1, 3, 10, 20)[:, :, :, ::2]
    w = randn(rng, 3, 3, 3, 4).transpose(3, 0, 1, 2)  # (4, 3, 3, 3) view
    out = fc.conv2d(x, w, padding=1)
    assert_close(out, conv2d_reference(x, w, None, (1, 1), (1, 1, 1, 1), (1, 1)), 27)


# ---------------------------------------------------------------- caching
def test_repeated_calls_do_not_recompile(rng):
    a, b = randn(rng, 19, 23), randn(rng, 23, 29)
    fc.matmul(a, b)
    before = fc.cache_info()
    for _ in range(5):
        fc.matmul(randn(rng, 19, 23), randn(rng, 23, 29))
    after = fc.cache_info()
    assert after.misses == before.misses
    assert after.hits == before.hits + 5
    fc.matmul(randn(rng, 19, 23), randn(rng, 23, 30))  # new shape: compiles
    assert fc.cache_info().misses == before.misses + 1


def test_cache_key_includes_attributes(rng):
    x, w = randn(rng, 1, 1, 8, 8), randn(rng, 1, 1, 3, 3)
    fc.conv2d(x, w, stride=1)
    misses = fc.cache_info().misses
    fc.conv2d(x, w, stride=2)
    assert fc.cache_info().misses == misses + 1


# ---------------------------------------------------------------- random configurations
@settings(max_examples=40, deadline=None)
@given(st.integers(1, 70), st.integers(1, 70), st.integers(1, 70), st.integers(0, 2**31 - 1))
def test_matmul_property(m, k, n, seed):
    rng = np.random.default_rng(seed)
    a, b = randn(rng, m, k), randn(rng, k, n)
    assert_close(fc.matmul(a, b), a.astype(np.float64) @ b, reduction=k)


@settings(max_examples=20, deadline=None)
@given(hnp.array_shapes(min_dims=0, max_dims=4, max_side=9), st.integers(0, 2**31 - 1))
def test_relu_property(shape, seed):
    x = randn(np.random.default_rng(seed), *shape)
    np.testing.assert_array_equal(fc.relu(x), np.maximum(x, 0))


@st.composite
def conv_configs(draw):
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = tuple(draw(st.integers(0, 2)) for _ in range(4))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    # An input at least as large as the dilated kernel after padding.
    h = draw(st.integers(max(1, dilation[0] * (kh - 1) + 1 - padding[0] - padding[2]), 12))
    w = draw(st.integers(max(1, dilation[1] * (kw - 1) + 1 - padding[1] - padding[3]), 12))
    n, c, o = draw(st.integers(1, 2)), draw(st.integers(1, 4)), draw(st.integers(1, 5))
    return (n, c, h, w), (o, c, kh, kw), stride, padding, dilation, draw(st.booleans())


@settings(max_examples=50, deadline=None)
@given(conv_configs(), st.integers(0, 2**31 - 1))
def test_conv2d_property(config, seed):
    xs, ws, stride, padding, dilation, bias = config
    rng = np.random.default_rng(seed)
    x, w = randn(rng, *xs), randn(rng, *ws)
    b = randn(rng, ws[0]) if bias else None
    out = fc.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation)
    ref = conv2d_reference(x, w, b, stride, padding, dilation)
    assert_close(out, ref, reduction=ws[1] * ws[2] * ws[3])


@pytest.mark.parametrize("options", ["conv-im2col=false", "ukernels=false", "conv-im2col=true"])
@pytest.mark.parametrize("case", [CONV_CASES[i] for i in (2, 3, 7, 11, 12, 16)], ids=str)
def test_conv2d_pipeline_variants(rng, options, case):
    """Direct loops, im2col without ukernels and im2col + ukernel all agree."""
    xs, ws, stride, padding, dilation, bias = case
    x = randn(rng, *xs)
    w = randn(rng, ws[0], xs[1], ws[1], ws[2])
    b = randn(rng, ws[0])
    (top, left, bottom, right), (sh, sw), (dh, dw) = _quad(padding), _pair(stride), _pair(dilation)
    oh = (xs[2] + top + bottom - dh * (ws[1] - 1) - 1) // sh + 1
    ow = (xs[3] + left + right - dw * (ws[2] - 1) - 1) // sw + 1
    t = lambda s: "tensor<" + "x".join(map(str, s)) + "xf32>"
    ys = (xs[0], ws[0], oh, ow)
    src = f"""func.func @conv(%x: {t(xs)}, %w: {t(w.shape)}, %b: {t(b.shape)}) -> {t(ys)} {{
      %0 = flash.conv2d %x, %w, %b {{stride = array<i64: {sh}, {sw}>, padding = array<i64: {top}, {left}, {bottom}, {right}>, dilation = array<i64: {dh}, {dw}>}} : ({t(xs)}, {t(w.shape)}, {t(b.shape)}) -> {t(ys)}
      return %0 : {t(ys)}
    }}"""
    out = fc.compile_mlir(src, options=options)(x, w, b)
    ref = conv2d_reference(x, w, b, (sh, sw), (top, left, bottom, right), (dh, dw))
    assert_close(out, ref, reduction=xs[1] * ws[1] * ws[2])


def _grouped_reference(x, w, b, stride, padding, groups):
    from reference import conv2d as ref_conv
    c = x.shape[1] // groups
    o = w.shape[0] // groups
    outs = [ref_conv(x[:, g * c:(g + 1) * c].astype(np.float64),
                     w[g * o:(g + 1) * o].astype(np.float64), None, stride, padding)
            for g in range(groups)]
    out = np.concatenate(outs, axis=1)
    return out if b is None else out + b.reshape(1, -1, 1, 1)


@pytest.mark.parametrize("n,c,h,o,k,stride,pad,groups", [
    (2, 6, 9, 6, 3, 1, 1, 6),     # depthwise
    (1, 8, 10, 12, 3, 2, 1, 4),   # grouped, strided, O != C
    (3, 4, 7, 8, 1, 1, 0, 2),     # grouped pointwise
    (1, 32, 15, 32, 5, 2, 2, 32), # depthwise 5x5, stride 2, odd size
])
def test_grouped_conv2d_matches_numpy(rng, n, c, h, o, k, stride, pad, groups):
    x = rng.standard_normal((n, c, h, h), dtype=np.float32)
    w = rng.standard_normal((o, c // groups, k, k), dtype=np.float32)
    b = rng.standard_normal(o, dtype=np.float32)
    got = fc.conv2d(x, w, b, stride=stride, padding=pad, groups=groups)
    expected = _grouped_reference(x, w, b, stride, pad, groups)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    traced = fc.jit(lambda x: fc.relu(fc.conv2d(x, w, b, stride=stride, padding=pad,
                                                 groups=groups)))(x)
    np.testing.assert_allclose(traced, np.maximum(expected, 0), rtol=1e-4, atol=1e-4)


def test_grouped_conv2d_errors(rng):
    x = np.ones((1, 6, 8, 8), np.float32)
    with pytest.raises(ValueError, match=r"groups 4 must be positive and divide"):
        fc.conv2d(x, np.ones((4, 3, 3, 3), np.float32), groups=4)
    with pytest.raises(ValueError, match=r"groups must be a positive int"):
        fc.conv2d(x, np.ones((6, 1, 3, 3), np.float32), groups=0)


@pytest.mark.parametrize("shape,perm", [
    ((512, 512), (1, 0)), ((5, 37, 19), (0, 2, 1)), ((3, 17, 33, 5), (3, 1, 0, 2)),
    ((8, 64, 32, 32), (0, 2, 3, 1)), ((2, 9, 8, 16), (0, 2, 1, 3)), ((7, 1, 13), (2, 1, 0))])
def test_transpose_tiles_and_rows(rng, shape, perm):
    """Transposes that move the innermost axis run in 8x8 tiles (with
    remainder tiles when 8 does not divide), the others copy rows: both
    exact, on shapes large enough to run in parallel and small ones."""
    x = rng.standard_normal(shape, dtype=np.float32)
    y = fc.jit(lambda t: fc.transpose(t, perm))(x)
    np.testing.assert_array_equal(y, np.transpose(x, perm))


@pytest.mark.parametrize("hw,window,channels", [
    ((14, 14), (7, 7), 384), ((28, 28), (7, 7), 192), ((15, 9), (5, 3), 20), ((4, 4), (2, 2), 3)])
def test_window_partition_and_reverse(rng, threads, hw, window, channels):
    """Swin's window partition and its reverse: 6-D transposes with the
    channels inner and every outer axis short, which run in parallel over
    the first few axes whose product is enough to share, the channel rows
    as loops (exact, on both thread counts)."""
    (h, w), (a, b) = hw, window
    x = rng.standard_normal((1, h, w, channels), dtype=np.float32)
    windows = (1, h // a, a, w // b, b, channels)

    def partition(t):
        return fc.reshape(fc.transpose(fc.reshape(t, windows), (0, 1, 3, 2, 4, 5)),
                          (-1, a * b, channels))

    def reverse(t):
        t = fc.reshape(t, (1, h // a, w // b, a, b, channels))
        return fc.reshape(fc.transpose(t, (0, 1, 3, 2, 4, 5)), (1, h, w, channels))

    expected = np.transpose(x.reshape(windows), (0, 1, 3, 2, 4, 5)).reshape(-1, a * b, channels)
    parts = fc.jit(partition)(x)
    np.testing.assert_array_equal(parts, expected)
    np.testing.assert_array_equal(fc.jit(reverse)(parts), x)
