"""Integer index inputs (token ids), fc.gather/fc.embedding, fc.cast, and
the comparisons and select that build masks: against NumPy, eager and
traced, on shapes that are not multiples of anything, and through the call
boundary's index check, ONNX export (run by ONNX Runtime) and AOT
(flash-run's .npy ids: test/tools/gather-run.mlir)."""
import numpy as np
import pytest

import flashcompile as fc

RNG = np.random.default_rng(7)


@pytest.mark.parametrize("shape,axis,index_shape", [
    ((13, 5), 0, (3, 7)), ((13, 5), 1, (4,)), ((3, 11, 6), 1, (2, 2, 3)),
    ((3, 11, 6), 2, ()), ((1000, 17), 0, (1, 128)), ((7,), 0, (5,)),
])
@pytest.mark.parametrize("dtype", [np.int64, np.int32])
def test_gather_matches_numpy_take(shape, axis, index_shape, dtype):
    x = RNG.standard_normal(shape).astype(np.float32)
    n = shape[axis]
    ids = RNG.integers(-n, n, size=index_shape).astype(dtype)  # negatives count from the end
    want = np.take(x, ids, axis=axis)
    np.testing.assert_array_equal(fc.gather(x, ids, axis), want)  # eager
    traced = fc.jit(lambda x, i: fc.gather(x, i, axis) * 2)(x, ids)
    np.testing.assert_allclose(traced, want * 2, rtol=0, atol=0)


def test_embedding_is_a_row_gather_and_constants_index_too():
    table = RNG.standard_normal((50, 9)).astype(np.float32)
    ids = np.array([[3, 49, 0, 3]])
    np.testing.assert_array_equal(fc.embedding(ids, table), table[ids])
    # Constant (NumPy) indices inside a traced function become a flash.constant.
    f = fc.jit(lambda t: fc.gather(t, np.array([2, 0, 8]), 1))
    np.testing.assert_array_equal(f(table), table[:, [2, 0, 8]])
    assert "dense<[2, 0, 8]> : tensor<3xi64>" in f.lower(table).ir("flash")


def test_out_of_range_indices_are_rejected_at_the_call():
    table = RNG.standard_normal((10, 4)).astype(np.float32)
    f = fc.jit(lambda t, i: fc.embedding(fc.reshape(i, (2, 2)), t))
    ok = np.array([0, 9, -10, -1])
    np.testing.assert_array_equal(f(table, ok), table[ok.reshape(2, 2)])
    for bad in (10, -11, 2**40):
        with pytest.raises(ValueError, match=rf"holds the index {bad} at flat position 2, "
                                             r"outside \[-10, 10\) of the flash.gather"):
            f(table, np.array([0, 1, bad, 3]))
    with pytest.raises(ValueError, match="outside"):
        fc.gather(table, np.array([10]))  # eager
    with pytest.raises(ValueError, match=r"constant indices outside \[-4, 4\)"):
        fc.jit(lambda t: fc.gather(t, np.array([4]), 1))(table)


def test_index_inputs_convert_between_integer_types_but_not_from_floats():
    table = RNG.standard_normal((10, 4)).astype(np.float32)
    f = fc.compile(lambda t, i: fc.gather(t, i), (table, np.zeros(3, np.int64)))
    assert f.input_dtypes == [np.dtype(np.float32), np.dtype(np.int64)]
    np.testing.assert_array_equal(f(table, np.array([1, 2, 3], np.int16)), table[[1, 2, 3]])
    np.testing.assert_array_equal(f(table, [4, 5, 6]), table[[4, 5, 6]])
    with pytest.raises(TypeError, match="integer dtype is required"):
        f(table, np.array([1.0, 2.0, 3.0]))
    with pytest.raises(TypeError, match="float32"):  # an index where a float goes
        f(np.zeros((10, 4), np.int64), np.array([1, 2, 3]))
    with pytest.raises(ValueError, match="outside int32"):
        fc.compile(lambda t, i: fc.gather(t, i), (table, np.zeros(2, np.int32)))(
            table, np.array([0, 2**40]))


def test_integer_values_only_index_or_convert():
    ids = np.arange(6).reshape(2, 3)
    with pytest.raises(ValueError, match="'flash.add' op operand #0 must be .*32-bit float"):
        fc.jit(lambda i: i + i)(ids)
    np.testing.assert_array_equal(fc.cast(ids), ids.astype(np.float32))
    big = np.array([2**40 + 1, -3], np.int64)
    np.testing.assert_array_equal(fc.cast(big), big.astype(np.float32))  # rounds as NumPy
    f = fc.jit(lambda i: fc.cast(fc.reshape(i, (3, 2))) + 0.5)
    np.testing.assert_array_equal(f(ids), ids.reshape(3, 2).astype(np.float32) + 0.5)
    assert "int64" in repr(fc.tracing.Trace("t").input((2,), np.int64))


COMPARES = [(fc.equal, np.equal), (fc.not_equal, np.not_equal), (fc.less, np.less),
            (fc.less_equal, np.less_equal), (fc.greater, np.greater),
            (fc.greater_equal, np.greater_equal)]


@pytest.mark.parametrize("ours,numpy_fn", COMPARES, ids=[c[1].__name__ for c in COMPARES])
def test_comparisons_are_0_1_masks_with_numpys_nan_rules(ours, numpy_fn):
    a = RNG.integers(-2, 3, size=(5, 7)).astype(np.float32)
    b = RNG.integers(-2, 3, size=(7,)).astype(np.float32)
    a[1, 2] = b[3] = np.nan
    want = numpy_fn(a, b).astype(np.float32)
    np.testing.assert_array_equal(ours(a, b), want)
    np.testing.assert_array_equal(fc.jit(ours)(a, b), want)


def test_isnan_and_where_broadcast_three_ways():
    x = RNG.standard_normal((4, 1, 6)).astype(np.float32)
    x[0, 0, 1] = np.nan
    cond = (RNG.random((3, 1)) > 0.5).astype(np.float32)
    y = np.float32(-7)
    f = fc.jit(lambda x, c: fc.where(c, fc.where(fc.not_equal(x, x), np.float32(0), x), y))
    want = np.where(cond != 0, np.where(np.isnan(x), 0, x), y)
    got = f(x, cond)
    assert got.shape == (4, 3, 6)
    np.testing.assert_array_equal(got, want)


def test_onnx_export_of_indexing_runs_in_onnx_runtime(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    table = RNG.standard_normal((30, 8)).astype(np.float32)
    ids = RNG.integers(0, 30, size=(2, 5))
    mask = (RNG.random((2, 5)) > 0.3).astype(np.int64)

    def model(t, i, m):
        e = fc.embedding(i, t)                                    # (2, 5, 8)
        keep = fc.reshape(fc.not_equal(fc.cast(m), np.float32(0)), (2, 5, 1))
        return fc.where(keep, e, np.float32(-1)) + fc.less(e, np.float32(0))

    c = fc.compile(model, (table, ids, mask))
    path = str(tmp_path / "indexing.onnx")
    fc.export_onnx(c, path)
    session = ort.InferenceSession(path)
    got = session.run(None, dict(zip([i.name for i in session.get_inputs()], [table, ids, mask])))
    np.testing.assert_allclose(got[0], c(table, ids, mask), rtol=0, atol=0)


def test_aot_header_declares_index_inputs(tmp_path):
    table = np.zeros((10, 4), np.float32)
    c = fc.compile(lambda t, i: fc.embedding(i, t), (table, np.zeros((1, 3), np.int64)))
    text = open(c.export_library(str(tmp_path), name="embed")["header"]).read()
    assert "static inline void embed(const float *in0, const int64_t *in1, float *out0)" in text
    assert "in1: int64[1][3] (indices" in text
