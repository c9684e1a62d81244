"""fc.jit: one trace per input signature, operators, constants, errors."""
import numpy as np
import pytest

import flashcompile as fc
from conftest import assert_close

f32 = np.float32


def test_retrace_only_on_new_signature(rng):
    w = rng.standard_normal((5, 3)).astype(f32)

    @fc.jit
    def f(x):
        return fc.relu(x @ w + 1.0)

    a, b = rng.standard_normal((4, 5)).astype(f32), rng.standard_normal((9, 5)).astype(f32)
    for x in (a, a, b, a, b):
        assert_close(f(x), np.maximum(x.astype(float) @ w + 1, 0), reduction=5)
    info = f.cache_info()
    assert (info.hits, info.misses, info.size) == (3, 2, 2)
    assert info.signatures == ((((4, 5), "<f4"),), (((9, 5), "<f4"),))
    f.cache_clear()
    assert f.cache_info().size == 0


def test_operators_and_ufuncs(rng):
    x, y = rng.standard_normal((3, 4)).astype(f32), rng.standard_normal((4,)).astype(f32)

    @fc.jit
    def f(x, y):
        z = (2 * x - y) / 3.0 + x * y
        z = -z + np.exp(x) + np.maximum(z, 0.0)
        return z.T @ x, z.reshape(4, 3), x.transpose(1, 0)

    a, b, c = f(x, y)
    xd, yd = x.astype(float), y.astype(float)
    z = (2 * xd - yd) / 3 + xd * yd
    z = -z + np.exp(xd) + np.maximum(z, 0)
    assert_close(a, z.T @ xd, reduction=3)
    assert_close(b, z.reshape(4, 3))
    assert_close(c, xd.T)


def test_multiple_results_and_static_args(rng):
    @fc.jit
    def f(x, axis, scale):
        return [fc.softmax(x, axis) * scale, fc.reduce_max(x, axis)]

    x = rng.standard_normal((3, 5)).astype(f32)
    p, m = f(x, 0, 2.0)
    assert_close(p, 2 * np.exp(x) / np.exp(x).sum(0, keepdims=True))
    assert_close(m, x.max(0))
    f(x, 1, 2.0)
    assert f.cache_info().misses == 2  # another axis is another signature


def test_whole_graph_is_one_function(rng):
    f = fc.jit(lambda x: fc.tanh(fc.relu(x) + 1.0) * 2.0)
    c = f.lower(rng.standard_normal((8, 8)).astype(f32))
    assert c.ir("flash").count("func.func") == 1
    # The elementwise chain fuses into one loop nest.
    assert c.ir("linalg").count("linalg.generic") == 1


@pytest.mark.parametrize("body,message", [
    (lambda x: np.asarray(x), r"converting to a NumPy array of a traced value \(float32, shape \(2, 3\)\)"),
    (lambda x: x if x else x, r"data-dependent control flow"),
    (lambda x: np.sin(x), r"np\.sin on a traced value \(shape \(2, 3\)\)"),
])
def test_unsupported_constructs(body, message):
    with pytest.raises(TypeError, match=message):
        fc.jit(body)(np.ones((2, 3), f32))


@pytest.mark.parametrize("index", [
    (0,), (-1, slice(1, None)), (slice(None), slice(None, None, 2)), (Ellipsis, 3),
    (slice(1, 6, 3), Ellipsis, slice(-3, None)), (slice(2, 2),), (slice(-100, 100),),
    (1, 2, 3),
])
def test_basic_indexing_matches_numpy(rng, index):
    x = rng.standard_normal((7, 5, 9)).astype(f32)
    expected = x[index]
    np.testing.assert_array_equal(fc.jit(lambda t: t[index] * 1.0)(x), expected * 1.0)


def test_slice_and_split_match_numpy(rng):
    x = rng.standard_normal((6, 10)).astype(f32)
    np.testing.assert_array_equal(fc.slice(x, [1, -8], [100, -1], steps=[2, 3]),
                                  x[1:100:2, -8:-1:3])
    pieces = fc.jit(lambda t: tuple(fc.split(t, [3, 3, 4], axis=1)))(x)
    for got, want in zip(pieces, np.split(x, [3, 6], axis=1)):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("index,message", [
    (np.array([0, 1]), r"index entry array"), ((slice(None, None, -1),), r"only positive steps"),
    ((5,), r"index 5 is out of range for dimension 0 of shape \(2, 3\)"),
    ((0, 0, 0), r"more entries than shape"), ((None,), r"no arrays or None"),
])
def test_unsupported_indexing_is_an_index_error(index, message):
    with pytest.raises(IndexError, match=message):
        fc.jit(lambda x: x[index])(np.ones((2, 3), f32))


def test_shape_errors_name_op_shapes_and_line():
    def bad(x):
        return fc.matmul(x, x)  # 2x3 @ 2x3

    with pytest.raises(ValueError, match=r"test_tracing\.py:\d+.*flash\.matmul.*tensor<2x3xf32>"):
        fc.jit(bad)(np.ones((2, 3), f32))
    with pytest.raises(ValueError, match=r"flash\.add.*not broadcast-compatible"):
        fc.jit(lambda x: x + np.ones(4, f32))(np.ones((2, 3), f32))
    with pytest.raises(ValueError, match=r"flash\.softmax: axis 2 is out of range"):
        fc.jit(lambda x: fc.softmax(x, 2))(np.ones((2, 3), f32))
    with pytest.raises(ValueError, match=r"flash\.reshape.*cannot reshape"):
        fc.jit(lambda x: fc.reshape(x, (4, 2)))(np.ones((2, 3), f32))


def test_dtype_errors():
    with pytest.raises(TypeError, match=r"argument 0 has dtype float64 and shape \(2,\)"):
        fc.jit(lambda x: x + 1.0)(np.ones(2))
    with pytest.raises(TypeError, match=r"constant of dtype int64"):
        fc.jit(lambda x: x + np.ones(2, np.int64))(np.ones(2, f32))


def test_compile_fixed_signature(rng):
    x = rng.standard_normal((2, 3)).astype(f32)
    c = fc.compile(lambda x: fc.exp(x), x)
    assert_close(c(x), np.exp(x.astype(float)))
    with pytest.raises(ValueError):
        c(np.ones((3, 3), f32))
    assert c.stages[:3] == ["flash", "graph", "linalg"]


# A constant on the left of an operator: Python calls the traced value's
# reflected method (__rsub__, ...), NumPy its __array_ufunc__ with the
# operands in order. Each result against NumPy, so an operand swap fails.
REVERSED = {
    "1.5 - x": (lambda x: 1.5 - x),
    "2 / x": (lambda x: 2.0 / x),
    "2 ** x": (lambda x: 2.0 ** x),
    "3 + x": (lambda x: 3.0 + x),
    "3 * x": (lambda x: 3.0 * x),
    "c - x": (lambda x: np.linspace(-1, 1, 5, dtype=f32) - x),
    "c / x": (lambda x: np.linspace(1, 2, 5, dtype=f32) / x),
    "c ** x": (lambda x: np.linspace(1.5, 3, 5, dtype=f32) ** x),
    "m @ x": (lambda x: np.arange(6, dtype=f32).reshape(2, 3) @ x),
    "x - 1.5": (lambda x: x - 1.5),
    "x / 2": (lambda x: x / 2.0),
    "x ** 2": (lambda x: x ** 2.0),
}


@pytest.mark.parametrize("expr", sorted(REVERSED))
def test_constant_operand_order(expr):
    fn = REVERSED[expr]
    x = np.random.default_rng(5).uniform(0.5, 2.0, (3, 5)).astype(f32)  # > 0: pow's base
    expected = fn(x.astype(np.float64))
    got = fc.jit(fn)(x)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_mutation_survivors_indexing_reshape_linear(rng):
    """Gaps the mutation campaign found (docs/testing.md): an int index of
    -dim, reshape's errors, linear without a bias, a traced 1-D matmul."""
    x = rng.standard_normal((3, 4, 5)).astype(np.float32)
    np.testing.assert_array_equal(fc.jit(lambda t: t[-3, :, -5])(x), x[-3, :, -5])
    np.testing.assert_array_equal(fc.jit(lambda t: t[..., -1])(x), x[..., -1])
    with pytest.raises(ValueError, match="at most one -1"):
        fc.jit(lambda t: fc.reshape(t, (-1, -1, 3)))(x)
    with pytest.raises(ValueError, match="flash.reshape"):
        fc.jit(lambda t: fc.reshape(t, (7, -1)))(x)
    w = rng.standard_normal((6, 5)).astype(np.float32)
    np.testing.assert_allclose(fc.jit(lambda t: fc.linear(t, w))(x), x @ w.T, rtol=1e-5, atol=1e-5)


def test_scalar_constants_keep_a_0d_value_0d():
    """A NumPy scalar (np.float32(6)) met while tracing is a 0-d constant:
    clip or add on a 0-d input stays 0-d (it used to become shape (1,),
    found by PyTorch's OpInfo samples)."""
    x = np.array(-2.5, np.float32)
    for fn, want in [(lambda x: fc.clip(x, -1, 1), -1.0),
                     (lambda x: x + np.float32(1), -1.5),
                     (lambda x: fc.maximum(x, np.float32(0)), 0.0)]:
        got = fc.jit(fn)(x)
        assert got.shape == () and got == np.float32(want)
