"""Every op of the whole-model op set against NumPy, run eagerly and traced
with fc.jit (one graph), on shapes that do and do not divide the tiles."""
import numpy as np
import pytest

import flashcompile as fc
import reference as ref
from conftest import assert_close

f32 = np.float32


@pytest.fixture(params=["eager", "jit"])
def run(request):
    """Calls fn(*arrays) op by op, or as one traced and compiled graph."""
    def call(fn, *arrays):
        if request.param == "eager":
            return fn(*arrays)
        return fc.jit(lambda *xs: fn(*xs))(*arrays)
    return call


def randn(rng, *shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(f32)


# Size-2 results of size-1 dimensions included: the smallest broadcast,
# where a lowering that misses it reads one element past the operand.
BROADCAST = [((5,), (5,)), ((3, 1), (1, 7)), ((2, 3, 4), (4,)), ((1,), (6, 5)),
             ((7, 1, 3), (5, 1)), ((), (2, 3)), ((13, 17), (13, 17)), ((2, 1), (1, 2)),
             ((1, 2, 1), (2, 1, 2))]


@pytest.mark.parametrize("lhs,rhs", BROADCAST)
@pytest.mark.parametrize("name,np_fn", [("sub", np.subtract), ("mul", np.multiply),
                                        ("div", np.divide), ("maximum", np.maximum)])
def test_binary_broadcasting(rng, run, name, np_fn, lhs, rhs):
    x, y = randn(rng, *lhs), randn(rng, *rhs)
    if name == "div":
        y = np.where(np.abs(y) < 0.1, 0.5, y).astype(f32)
    assert_close(run(getattr(fc, name), x, y), np_fn(x.astype(float), y.astype(float)))


def test_pow(rng, run):
    x = np.abs(randn(rng, 4, 9)) + 0.1
    y = randn(rng, 9)
    assert_close(run(fc.pow, x, y), np.power(x.astype(float), y.astype(float)))


@pytest.mark.parametrize("shape", [(1,), (7,), (3, 129), (2, 5, 33)])
@pytest.mark.parametrize("name,np_fn", [
    ("exp", np.exp), ("tanh", np.tanh), ("sigmoid", lambda x: 1 / (1 + np.exp(-x))),
    ("gelu", ref.gelu), ("erf", ref.erf), ("neg", np.negative),
    ("sqrt", lambda x: np.sqrt(np.abs(x)))])
def test_unary(rng, run, name, np_fn, shape):
    x = randn(rng, *shape, scale=3.0)
    if name == "sqrt":
        x = np.abs(x)
    np.testing.assert_allclose(run(getattr(fc, name), x), np_fn(x.astype(float)),
                               rtol=1e-4, atol=2e-6)


def test_unary_extremes(run):
    x = np.array([-100, -20, -5, -1e-3, 0, 1e-3, 5, 20, 80], f32)
    np.testing.assert_allclose(run(fc.sigmoid, x), 1 / (1 + np.exp(-x.astype(float))),
                               rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(run(fc.tanh, x), np.tanh(x), rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(run(fc.gelu, x), ref.gelu(x.astype(float)), rtol=1e-4,
                               atol=1e-6)


@pytest.mark.parametrize("shape,axis", [((4, 6), -1), ((2, 3, 5, 5), 1), ((7,), 0)])
def test_bias_add(rng, run, shape, axis):
    x, b = randn(rng, *shape), randn(rng, shape[axis])
    expected = x + b.reshape([-1 if d == axis % len(shape) else 1 for d in range(len(shape))])
    assert_close(run(lambda x, b: fc.bias_add(x, b, axis), x, b), expected)


@pytest.mark.parametrize("b,m,k,n", [(1, 1, 1, 1), (3, 7, 13, 5), (2, 64, 32, 48), (4, 17, 129, 31)])
def test_batch_matmul(rng, run, b, m, k, n):
    x, y = randn(rng, b, m, k), randn(rng, b, k, n)
    assert_close(run(fc.batch_matmul, x, y), x.astype(float) @ y, reduction=k)


def test_matmul_nd(rng, run):
    x, w, y = randn(rng, 2, 5, 7), randn(rng, 7, 3), randn(rng, 2, 7, 4)
    assert_close(run(fc.matmul, x, w), x.astype(float) @ w, reduction=7)
    assert_close(run(fc.matmul, x, y), x.astype(float) @ y, reduction=7)


@pytest.mark.parametrize("shape,perm", [((3, 5), None), ((2, 3, 4), (1, 0, 2)),
                                        ((2, 3, 4, 5), (0, 2, 1, 3)), ((2, 3, 4), (-1, 0, 1))])
def test_transpose(rng, run, shape, perm):
    x = randn(rng, *shape)
    assert_close(run(lambda x: fc.transpose(x, perm), x), np.transpose(x, perm))


@pytest.mark.parametrize("shape,new", [((6, 4), (3, 8)), ((2, 3, 4), (-1, 4)), ((5,), (1, 5, 1)),
                                       ((1, 1), ()), ((), (1,)), ((2, 6), (2, 2, 3))])
def test_reshape(rng, run, shape, new):
    x = randn(rng, *shape)
    assert_close(run(lambda x: fc.reshape(x, new), x), np.reshape(x, new))


@pytest.mark.parametrize("axis", [0, 1, 2, 3, 4, -1])
def test_flatten(rng, run, axis):
    x = randn(rng, 2, 3, 4, 5)
    outer = int(np.prod(x.shape[:axis])) if axis >= 0 else int(np.prod(x.shape[:3]))
    assert_close(run(lambda x: fc.flatten(x, axis), x), x.reshape(outer, -1))


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concat(rng, run, axis):
    shapes = {0: [(2, 3), (5, 3), (1, 3)], 1: [(2, 3), (2, 1), (2, 4)], -1: [(2, 3), (2, 1), (2, 4)]}
    xs = [randn(rng, *s) for s in shapes[axis]]
    assert_close(run(lambda *xs: fc.concat(xs, axis), *xs), np.concatenate(xs, axis))


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 2), (1, 2)])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("name,np_fn", [("reduce_sum", np.sum), ("reduce_mean", np.mean),
                                        ("reduce_max", np.max)])
def test_reductions(rng, run, name, np_fn, axis, keepdims):
    x = randn(rng, 3, 17, 5)
    got = run(lambda x: getattr(fc, name)(x, axis=axis, keepdims=keepdims), x)
    assert_close(got, np_fn(x.astype(float), axis=axis, keepdims=keepdims), reduction=255)


@pytest.mark.parametrize("shape", [(1, 672, 14, 14), (2, 3, 7, 7), (1, 5, 1, 33), (1, 4, 112, 112)])
@pytest.mark.parametrize("name,np_fn", [("reduce_sum", np.sum), ("reduce_mean", np.mean),
                                        ("reduce_max", np.max)])
def test_pooling_reductions_over_hw(rng, run, shape, name, np_fn):
    """A reduction over H and W of NCHW (global average pooling) runs as one
    loop over the pixels with its sum in a register, vectorized
    (LinalgToLoops' promoteAccumulator): right on pixel counts that are
    not a multiple of the vector width, and a NaN or an infinity in one
    plane reaches that plane's result only."""
    x = randn(rng, *shape)
    x[0, 1, 0, -1] = np.nan
    x[-1, 0, -1, 0] = np.inf
    got = np.asarray(run(lambda x: getattr(fc, name)(x, axis=(2, 3), keepdims=True), x))
    expected = np_fn(x.astype(float), axis=(2, 3), keepdims=True)
    assert np.isnan(got[0, 1, 0, 0]) and got[-1, 0, 0, 0] == np.inf
    mask = np.isfinite(expected)
    assert_close(got[mask], expected[mask], reduction=shape[2] * shape[3])


@pytest.mark.parametrize("shape,axis", [((4, 10), -1), ((3, 5, 7), 1), ((2, 129), 1), ((6,), 0)])
def test_softmax(rng, run, shape, axis):
    x = randn(rng, *shape, scale=3)
    assert_close(run(lambda x: fc.softmax(x, axis), x), ref.softmax(x.astype(float), axis))


def test_softmax_nan_and_infinities_as_numpy(run):
    """The softmax's maximum skips NaNs (cheaper), but a NaN still makes its
    whole row NaN, as in NumPy and torch, over rows shorter and longer than
    a vector; an all -inf row is NaN, +inf makes its row NaN."""
    x = np.tile(np.linspace(-2.0, 3.0, 37, dtype=f32), (5, 1))
    x[1, 0] = np.nan
    x[2, 36] = np.nan
    x[3, :] = -np.inf
    x[4, 7] = np.inf
    got = np.asarray(run(lambda x: fc.softmax(x, -1), x))
    with np.errstate(invalid="ignore"):
        expected = ref.softmax(x.astype(float))
    assert np.isnan(got[1:]).all() and np.isnan(expected[1:]).all()
    assert_close(got[0], expected[0])
    short = np.array([[np.nan, 1.0], [0.5, 1.0]], f32)
    got = np.asarray(run(lambda x: fc.softmax(x, -1), short))
    assert np.isnan(got[0]).all() and np.isfinite(got[1]).all()
    # np.max itself keeps propagating NaN.
    assert np.isnan(np.asarray(run(lambda x: fc.reduce_max(x, axis=-1), x))[1])


def test_softmax_is_stable(run):
    x = np.array([[1000.0, 1001.0, 999.0], [-1000.0, -1001.0, -1002.0]], f32)
    got = run(lambda x: fc.softmax(x, -1), x)
    assert np.isfinite(got).all()
    assert_close(got, ref.softmax(x.astype(float)))


@pytest.mark.parametrize("shape,ndim", [((4, 16), 1), ((2, 5, 33), 1), ((2, 3, 4, 5), 2)])
def test_layer_norm(rng, run, shape, ndim):
    x = randn(rng, *shape, scale=2) + 5  # an offset: E[x^2]-E[x]^2 would cancel
    scale, bias = randn(rng, *shape[-ndim:]), randn(rng, *shape[-ndim:])
    got = run(lambda x, s, b: fc.layer_norm(x, s, b, axis=-ndim, eps=1e-5), x, scale, bias)
    assert_close(got, ref.layer_norm(x.astype(float), scale, bias, ndim))


@pytest.mark.parametrize("eps", [1e-5, 0.1, 0.5])
def test_layer_norm_epsilon(rng, run, eps):
    """Unit-variance rows and a large epsilon: an epsilon scaled or dropped
    changes every output by several percent (a variance of ~4, as above,
    hides it)."""
    x = randn(rng, 6, 40)
    scale, bias = np.ones(40, f32), np.zeros(40, f32)
    got = run(lambda x, s, b: fc.layer_norm(x, s, b, eps=eps), x, scale, bias)
    assert_close(got, ref.layer_norm(x.astype(float), scale, bias, 1, eps))


@pytest.mark.parametrize("eps", [1e-5, 0.5])
def test_batch_norm_epsilon(rng, run, eps):
    x = randn(rng, 2, 3, 4, 5)
    one, zero = np.ones(3, f32), np.zeros(3, f32)
    var = np.array([0.2, 1.0, 3.0], f32)
    got = run(lambda *a: fc.batch_norm(*a, eps=eps), x, one, zero, zero, var)
    assert_close(got, ref.batch_norm(x.astype(float), one, zero, zero, var, eps))


@pytest.mark.parametrize("shape", [(2, 3, 5, 5), (4, 6)])
def test_batch_norm(rng, run, shape):
    c = shape[1]
    x = randn(rng, *shape)
    scale, bias, mean = randn(rng, c), randn(rng, c), randn(rng, c)
    var = np.abs(randn(rng, c)) + 0.5
    got = run(lambda *a: fc.batch_norm(*a, eps=1e-3), x, scale, bias, mean, var)
    assert_close(got, ref.batch_norm(x.astype(float), scale, bias, mean, var, 1e-3))


# Stride 1 runs each channel's plane as one flat row (Convolution.cpp,
# poolFlatRows): square, one-sided and asymmetric windows and paddings.
POOLS = [((2, 2), None, 0), ((3, 3), (2, 2), 1), ((3, 2), (1, 2), (1, 0)), ((2, 2), 1, (0, 0, 1, 1)),
         ((5, 5), (3, 3), 2), ((3, 3), 1, 1), ((5, 5), 1, 2), ((3, 1), 1, (1, 0)), ((1, 3), 1, (0, 1)),
         ((4, 3), 1, (1, 2, 2, 0)), ((1, 1), 1, 0)]


def _strides(stride, kernel):
    if stride is None:
        return kernel
    return (stride, stride) if isinstance(stride, int) else stride


def _pads(padding):
    if isinstance(padding, int):
        return (padding,) * 4
    return (padding[0], padding[1]) * 2 if len(padding) == 2 else tuple(padding)


@pytest.mark.parametrize("kernel,stride,padding", POOLS)
def test_max_pool2d(rng, run, kernel, stride, padding):
    x = randn(rng, 2, 3, 11, 13)
    got = run(lambda x: fc.max_pool2d(x, kernel, stride, padding), x)
    assert_close(got, ref.pool2d(x, kernel, _strides(stride, kernel), _pads(padding), "max"))


@pytest.mark.parametrize("stride", [1, 2])
def test_max_pool2d_propagates_nan(run, stride):
    # torch's max_pool2d: a window holding a NaN gives NaN.
    x = np.arange(2 * 3 * 9 * 17, dtype=np.float32).reshape(2, 3, 9, 17) % 7
    x[0, 1, 4, 5] = x[1, 2, 0, 16] = np.nan
    got = run(lambda x: fc.max_pool2d(x, 3, stride, 1), x)
    want = ref.pool2d(x, (3, 3), (stride, stride), (1, 1, 1, 1), "max")
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    assert np.isnan(got).sum() > 2
    np.testing.assert_array_equal(got[~np.isnan(got)], want[~np.isnan(want)])


@pytest.mark.parametrize("kernel,stride,padding", POOLS + [((3, 3), 2, (0, 0, 1, 1)), ((2, 2), 2, 0)])
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pooling_ukernel_and_generated_loops(rng, threads, kind, kernel, stride, padding):
    """The pooling ukernel (the default: flash-pool-to-ukernel) and the
    generated loops (pool-ukernel=false: the padded copy, at stride 1 the
    flat rows) against NumPy, on planes of 17 x 23 over 2 x 40 channels
    (enough work to run over two threads) with NaNs in some windows, and on
    a plane 70 wide (several 16-output blocks of the row-by-row kernel, a
    partial last one)."""
    pool = fc.max_pool2d if kind == "max" else fc.avg_pool2d
    for shape in ((2, 40, 17, 23), (1, 3, 9, 70)):
        x = randn(rng, *shape)
        x[0, 2, 5, 7] = x[-1, -1, -1, -1] = x[-1, 0, 0, 0] = np.nan
        _check_pooling(x, pool, kind, kernel, stride, padding)


@pytest.mark.parametrize("shape", [(1, 1, 5, 1), (1, 3, 9, 20), (2, 4, 7, 33)])
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pooling_ukernel_does_not_write_what_it_reads(rng, kind, shape):
    """A 3x3 stride-1 pool keeps its input's shape, and bufferization may
    give its output the buffer of its (unpadded) input, an intermediate
    here: the call, writing rows while later rows still read the input,
    must read the padded copy (the differential fuzzer's relu + max pool
    over 5 x 1 read rows it had overwritten)."""
    x = randn(rng, *shape)
    pool = fc.max_pool2d if kind == "max" else fc.avg_pool2d
    got = fc.jit(lambda t: pool(fc.relu(t), 3, 1, 1))(x)
    want = ref.pool2d(np.maximum(x, 0), (3, 3), (1, 1), (1, 1, 1, 1), kind)
    assert_close(got, want)


def _check_pooling(x, pool, kind, kernel, stride, padding):
    source = fc.jit(lambda t: pool(t, kernel, stride, padding)).lower(x).source
    want = ref.pool2d(x, kernel, _strides(stride, kernel), _pads(padding), kind)
    for options, ukernel in (("", True), ("pool-ukernel=false", False)):
        compiled = fc.compile_mlir(source, options=options)
        assert ("flash_pool2d_f32" in compiled.ir("loops")) == ukernel
        got = compiled(x)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        finite = ~np.isnan(want)
        assert_close(got[finite], want[finite])


@pytest.mark.parametrize("kernel,stride,padding", POOLS)
@pytest.mark.parametrize("include", [True, False])
def test_avg_pool2d(rng, run, kernel, stride, padding, include):
    x = randn(rng, 2, 3, 11, 13)
    got = run(lambda x: fc.avg_pool2d(x, kernel, stride, padding, count_include_pad=include), x)
    assert_close(got, ref.pool2d(x, kernel, _strides(stride, kernel), _pads(padding), "avg", include))


@pytest.mark.parametrize("qs,ks,causal", [((2, 4, 16, 8), (2, 4, 16, 8), False),
                                          ((2, 4, 16, 8), (2, 4, 16, 8), True),
                                          ((3, 5, 7), (3, 9, 7), False),
                                          ((3, 5, 7), (3, 9, 7), True),
                                          ((1, 1), (3, 1), False)])
def test_attention(rng, run, qs, ks, causal):
    q, k = randn(rng, *qs), randn(rng, *ks)
    v = randn(rng, *ks[:-1], 6)
    got = run(lambda q, k, v: fc.attention(q, k, v, causal=causal), q, k, v)
    assert_close(got, ref.attention(q.astype(float), k, v, causal), reduction=ks[-2])


def test_attention_scale(rng, run):
    q, k, v = randn(rng, 2, 5, 4), randn(rng, 2, 5, 4), randn(rng, 2, 5, 4)
    got = run(lambda q, k, v: fc.attention(q, k, v, scale=0.3), q, k, v)
    assert_close(got, ref.attention(q.astype(float), k, v, scale=0.3))
