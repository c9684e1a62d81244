"""fc.export_onnx: traced graphs written as ONNX, checked by onnx.checker,
run by ONNX Runtime to the outputs FlashCompile computes."""
import numpy as np
import onnxruntime as ort
import pytest

import flashcompile as fc
from test_models import LeNet

f32 = np.float32


def run_ort(model, inputs):
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    feed = {i.name: x for i, x in zip(sess.get_inputs(), inputs)}
    return sess.run(None, feed)


def check(compiled, inputs, tmp_path, atol=1e-5):
    path = tmp_path / "model.onnx"
    model = fc.export_onnx(compiled, str(path))
    assert path.exists()
    ours = compiled(*inputs)
    ours = list(ours) if isinstance(ours, (tuple, list)) else [ours]
    for a, b in zip(run_ort(model, inputs), ours):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=atol)
    return model


def test_mlp(rng, tmp_path):
    model = fc.Sequential([fc.Linear(784, 128, seed=0), fc.ReLU(), fc.Linear(128, 10, seed=1),
                           fc.Softmax()])
    x = rng.standard_normal((8, 784)).astype(f32)
    check(fc.compile(model, x), [x], tmp_path)


def test_lenet(rng, tmp_path):
    x = rng.standard_normal((2, 1, 28, 28)).astype(f32)
    onnx_model = check(fc.compile(LeNet(), x), [x], tmp_path)
    ops = {n.op_type for n in onnx_model.graph.node}
    assert {"Conv", "MaxPool", "AveragePool", "Flatten", "Softmax"} <= ops


def test_transformer_layer(rng, tmp_path):
    layer = fc.TransformerEncoderLayer(64, 4, dim_feedforward=128, seed=3)
    x = rng.standard_normal((2, 16, 64)).astype(f32)
    check(fc.compile(layer, x), [x], tmp_path, atol=1e-4)


def test_every_op_family(rng, tmp_path):
    def fn(x, y, q):
        a = fc.reduce_mean(fc.gelu(x) * y, axis=1, keepdims=True)
        b = fc.reduce_sum(fc.sigmoid(x), axis=0) + fc.reduce_max(fc.tanh(x), axis=0)
        c = fc.attention(q, q, q, causal=True)
        p = fc.avg_pool2d(fc.reshape(x, (1, 2, 6, 4)), 2, count_include_pad=False, padding=1)
        m = fc.max_pool2d(fc.reshape(x, (1, 2, 6, 4)), 3, 1, 1)
        n = fc.batch_norm(fc.reshape(x, (1, 2, 6, 4)), np.ones(2, f32), np.zeros(2, f32),
                          np.full(2, 0.5, f32), np.full(2, 2.0, f32))
        return (fc.concat([a, a], axis=1), fc.sqrt(fc.exp(b)) - fc.erf(b), c,
                fc.flatten(p, 1), m, n, fc.transpose(x, (1, 0)), fc.maximum(x, y) / 2.0)

    x, y = rng.standard_normal((6, 8)).astype(f32), rng.standard_normal((6, 8)).astype(f32)
    q = rng.standard_normal((2, 5, 4)).astype(f32)
    check(fc.jit(fn).lower(x, y, q), [x, y, q], tmp_path, atol=1e-5)


def test_round_trip_from_onnx(tmp_path):
    import os
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks"))
    from workloads import lenet
    w = lenet(2)
    xs = [x * 0.1 for x in w.inputs()]
    imported = fc.from_onnx(w.onnx())
    exported = fc.export_onnx(imported)
    np.testing.assert_allclose(run_ort(exported, xs)[0], imported(*xs), rtol=1e-4, atol=1e-6)


def test_untraced_program_is_an_error():
    c = fc.compile_mlir("""func.func @f(%x: tensor<2xf32>) -> tensor<2xf32> {
  %0 = flash.relu %x : tensor<2xf32>
  return %0 : tensor<2xf32>
}""")
    with pytest.raises(TypeError, match="expected a traced program"):
        fc.export_onnx(c)
