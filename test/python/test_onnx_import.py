"""fc.from_onnx: ONNX's own node tests, whole-model ONNX graphs compared
with ONNX Runtime, and the errors."""
import numpy as np
import pytest

import flashcompile as fc
from onnx_node_suite import pinned, run_suite

onnx = pytest.importorskip("onnx")  # installed by scripts/test.sh: never skipped in CI


def test_onnx_node_suite():
    stats, failures, rejected, passing, defined = run_suite()
    print()
    for op in sorted(stats):
        print(f"  {op:<22} {dict(stats[op])}")
    passed = sum(s["pass"] for s in stats.values())
    print(f"  {passed} cases pass, {len(rejected)} rejected with a reason, {len(failures)} fail")
    assert not failures, failures[:5]
    # Every case pinned as passing, op by op, still passes (a case the
    # installed onnx no longer defines is not counted against us).
    lost = {op: sorted((set(names) & defined) - set(passing.get(op, [])))
            for op, names in pinned().items()}
    lost = {op: names for op, names in lost.items() if names}
    assert not lost, f"cases that passed no longer do (or are now rejected): {lost}"
    new = {op: sorted(set(names) - set(pinned().get(op, []))) for op, names in passing.items()}
    new = {op: names for op, names in new.items() if names}
    if new:
        print(f"  newly passing (re-pin with onnx_node_suite.py --pin): {new}")
    # Every float op we import passes cases of its own.
    for op in ["Add", "Sub", "Mul", "Div", "Pow", "Relu", "Sigmoid", "Tanh", "Gelu", "Erf",
               "Exp", "Sqrt", "Neg", "MatMul", "Gemm", "Softmax", "LayerNormalization",
               "Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "BatchNormalization",
               "Flatten", "Reshape", "Transpose", "Concat", "ReduceMean", "ReduceSum",
               "ReduceMax", "Constant", "Identity", "Squeeze", "Unsqueeze"]:
        assert stats[op]["pass"] > 0, op


def _workload(name):
    import os
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks"))
    import workloads
    return getattr(workloads, name)


@pytest.mark.parametrize("make", ["lenet", "transformer_block", "mlp", "conv_relu"])
def test_model_graphs_against_onnxruntime(make):
    """The benchmark's ONNX graphs (LeNet-5: Conv, MaxPool, AveragePool,
    Flatten, MatMul, Softmax; the transformer block: Reshape with shape
    initializers, Transpose, Softmax, LayerNormalization, Erf-GELU; the MLP;
    a conv layer) imported and compared with ONNX Runtime and NumPy."""
    import onnxruntime as ort
    w = _workload(make)(4) if make in ("lenet", "mlp") else _workload(make)()
    model = w.onnx()
    xs = w.inputs()  # weights scaled by fan-in: no saturated softmax or attention row
    ours = fc.from_onnx(model)(*xs)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    theirs = sess.run(None, dict(zip([i.name for i in sess.get_inputs()], xs)))[0]
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours, w.numpy(*xs), rtol=1e-4, atol=1e-5)


def test_errors_name_the_node_and_reason(tmp_path):
    from onnx import TensorProto, helper
    g = helper.make_graph([helper.make_node("Hardmax", ["x"], ["y"], name="hm")], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    with pytest.raises(fc.UnsupportedOnnx, match=r"node 'hm' \(Hardmax\): op type not supported"):
        fc.from_onnx(m)
    g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3])])
    with pytest.raises(fc.UnsupportedOnnx, match=r"input 'x': dynamic shape \['batch', '?'\]|"
                                                 r"input 'x': dynamic shape"):
        fc.from_onnx(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]))
    bad = tmp_path / "truncated.onnx"
    bad.write_bytes(b"\x08\x07\x12\x04garb")
    with pytest.raises(ValueError, match="cannot read ONNX model|invalid ONNX model"):
        fc.from_onnx(str(bad))
    assert "Conv" in fc.onnx_support() and "Hardmax" not in fc.onnx_support()


def test_inputs_by_name():
    from onnx import TensorProto, helper
    g = helper.make_graph([helper.make_node("Sub", ["a", "b"], ["y"])], "g",
                          [helper.make_tensor_value_info(n, TensorProto.FLOAT, [3])
                           for n in "ab"],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3])])
    m = fc.from_onnx(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]))
    a, b = np.ones(3, np.float32), np.arange(3, dtype=np.float32)
    np.testing.assert_array_equal(m(b=b, a=a), a - b)
    with pytest.raises(TypeError, match=r"unknown ONNX input\(s\) \['c'\]"):
        m(a, c=b)


def _single_node(op, x_shape, y_shape, inputs=(), **attrs):
    """A one-node model: input x (float), further inputs as initializers."""
    from onnx import TensorProto, helper, numpy_helper
    inits = [numpy_helper.from_array(v, n) for n, v in inputs]
    g = helper.make_graph([helper.make_node(op, ["x"] + [n for n, _ in inputs], ["y"], **attrs)],
                          "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, y_shape)], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def _against_onnxruntime(model, x):
    import onnxruntime as ort
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(fc.from_onnx(model)(x), sess.run(None, {"x": x})[0],
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("include", [0, 1])
@pytest.mark.parametrize("kernel,strides,pads", [([3, 3], [2, 2], [1, 1, 1, 1]),
                                                 ([4, 2], [1, 2], [2, 0, 1, 1])])
def test_average_pool_padding_count_include_pad(kernel, strides, pads, include):
    x = np.random.default_rng(6).standard_normal((2, 3, 9, 11)).astype(np.float32)
    oh = (9 + pads[0] + pads[2] - kernel[0]) // strides[0] + 1
    ow = (11 + pads[1] + pads[3] - kernel[1]) // strides[1] + 1
    model = _single_node("AveragePool", x.shape, (2, 3, oh, ow), kernel_shape=kernel,
                         strides=strides, pads=pads, count_include_pad=include)
    _against_onnxruntime(model, x)


@pytest.mark.parametrize("eps", [1e-5, 0.5])
def test_layer_normalization_epsilon(eps):
    """Unit-variance rows, a large epsilon: a lost or scaled one shows."""
    x = np.random.default_rng(7).standard_normal((4, 24)).astype(np.float32)
    g = np.random.default_rng(8).uniform(0.5, 1.5, 24).astype(np.float32)
    model = _single_node("LayerNormalization", x.shape, x.shape,
                         [("g", g), ("b", np.zeros(24, np.float32))], axis=-1, epsilon=eps)
    _against_onnxruntime(model, x)


@pytest.mark.parametrize("kind", ["MaxPool", "AveragePool"])
@pytest.mark.parametrize("size,kernel,strides", [((13, 13), [3, 3], [2, 2]),   # SqueezeNet's
                                                 ((10, 7), [2, 3], [2, 2]),
                                                 ((8, 8), [3, 3], [3, 3])])
def test_pooling_ceil_mode(kind, size, kernel, strides):
    """ceil_mode=1: a last, partial window, as ONNX Runtime counts it."""
    import onnxruntime as ort
    x = np.random.default_rng(9).standard_normal((1, 4, *size)).astype(np.float32)
    oh, ow = (-(-(s - k) // st) + 1 for s, k, st in zip(size, kernel, strides))
    model = _single_node(kind, x.shape, (1, 4, oh, ow), kernel_shape=kernel, strides=strides,
                         ceil_mode=1)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    expected = sess.run(None, {"x": x})[0]
    got = fc.from_onnx(model)(x)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
