"""The reference models, each compiled as one graph (fc.compile / fc.jit),
against NumPy implementations written here from the weights alone."""
import numpy as np
import pytest

import flashcompile as fc
import reference as ref
from conftest import assert_close

f32 = np.float32


def mlp_reference(model, x):
    l1, l2 = model[0], model[2]
    h = np.maximum(x.astype(float) @ l1.weight.T + l1.bias, 0)
    return h @ l2.weight.T + l2.bias


@pytest.mark.parametrize("batch", [1, 7, 64, 256])
def test_mlp(rng, batch):
    model = fc.Sequential([fc.Linear(784, 128, seed=1), fc.ReLU(), fc.Linear(128, 10, seed=2)])
    x = rng.standard_normal((batch, 784)).astype(f32)
    compiled = fc.compile(model, x)
    assert_close(compiled(x), mlp_reference(model, x), reduction=784)
    # The graph is one function: the transposed weights were folded into
    # constants and the three ops became one compiled entry point.
    assert "flash.transpose" not in compiled.ir("graph")
    assert compiled.ir("graph").count("flash.matmul") == 2


def test_matmul_layers(rng):
    model = fc.Sequential([fc.MatMul(784, 128, seed=3), fc.ReLU(), fc.MatMul(128, 10, seed=4)])
    x = rng.standard_normal((5, 784)).astype(f32)
    expected = np.maximum(x.astype(float) @ model[0].weight, 0) @ model[2].weight
    assert_close(fc.jit(model)(x), expected, reduction=784)
    assert_close(model(x), expected, reduction=784)  # eager, op by op


class LeNet(fc.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = fc.Conv2d(1, 6, 5, padding=2, seed=10)
        self.conv2 = fc.Conv2d(6, 16, 5, seed=11)
        self.fc1 = fc.Linear(16 * 5 * 5, 120, seed=12)
        self.fc2 = fc.Linear(120, 84, seed=13)
        self.fc3 = fc.Linear(84, 10, seed=14)

    def forward(self, x):
        x = fc.max_pool2d(fc.relu(self.conv1(x)), 2)
        x = fc.avg_pool2d(fc.relu(self.conv2(x)), 2)
        x = fc.flatten(x, 1)
        x = fc.relu(self.fc1(x))
        x = fc.relu(self.fc2(x))
        return fc.softmax(self.fc3(x), axis=-1)


def lenet_reference(m, x):
    x = x.astype(float)
    pool = lambda x, mode: ref.pool2d(x, (2, 2), (2, 2), (0, 0, 0, 0), mode)  # noqa: E731
    x = pool(np.maximum(ref.conv2d(x, m.conv1.weight, m.conv1.bias, padding=2), 0), "max")
    x = pool(np.maximum(ref.conv2d(x, m.conv2.weight, m.conv2.bias), 0), "avg")
    x = x.reshape(x.shape[0], -1)
    x = np.maximum(x @ m.fc1.weight.T + m.fc1.bias, 0)
    x = np.maximum(x @ m.fc2.weight.T + m.fc2.bias, 0)
    return ref.softmax(x @ m.fc3.weight.T + m.fc3.bias)


@pytest.mark.parametrize("batch", [1, 3, 16])
def test_lenet(rng, batch):
    model = LeNet()
    x = rng.standard_normal((batch, 1, 28, 28)).astype(f32)
    compiled = fc.compile(model, x)
    assert compiled.output_shapes == [(batch, 10)]
    assert_close(compiled(x), lenet_reference(model, x), reduction=400)


def test_cnn_with_batch_norm_folds(rng):
    bn = fc.BatchNorm2d(4)
    bn.weight = rng.uniform(0.5, 2, 4).astype(f32)
    bn.bias = rng.standard_normal(4).astype(f32)
    bn.running_mean = rng.standard_normal(4).astype(f32)
    bn.running_var = rng.uniform(0.5, 2, 4).astype(f32)
    model = fc.Sequential(fc.Conv2d(3, 4, 3, padding=1, seed=5), bn, fc.ReLU(),
                          fc.MaxPool2d(2), fc.Flatten(), fc.Linear(4 * 4 * 4, 3, seed=6))
    x = rng.standard_normal((2, 3, 8, 8)).astype(f32)
    compiled = fc.compile(model, x)
    conv = model[0]
    h = ref.conv2d(x.astype(float), conv.weight, conv.bias, padding=1)
    h = np.maximum(ref.batch_norm(h, bn.weight, bn.bias, bn.running_mean, bn.running_var), 0)
    h = ref.pool2d(h, (2, 2), (2, 2), (0, 0, 0, 0), "max").reshape(2, -1)
    assert_close(compiled(x), h @ model[5].weight.T + model[5].bias, reduction=64)
    graph = compiled.ir("graph")
    # The statistics folded: no sqrt or division left at run time.
    assert "flash.sqrt" not in graph and "flash.div" not in graph


def transformer_reference(layer, x):
    """Post-norm encoder block: x = LN1(x + MHA(x)); x = LN2(x + W2 gelu(W1 x))."""
    a = layer.self_attn
    e, h = a.embed_dim, a.num_heads
    x = x.astype(float)
    b, s, _ = x.shape
    w, bias = a.in_proj_weight, a.in_proj_bias
    q, k, v = (x @ w[i * e:(i + 1) * e].T + bias[i * e:(i + 1) * e] for i in range(3))
    split = lambda t: t.reshape(b, s, h, e // h).transpose(0, 2, 1, 3)  # noqa: E731
    o = ref.attention(split(q), split(k), split(v)).transpose(0, 2, 1, 3).reshape(b, s, e)
    o = o @ a.out_proj_weight.T + a.out_proj_bias
    x = ref.layer_norm(x + o, layer.norm1.weight, layer.norm1.bias)
    f = ref.gelu(x @ layer.linear1.weight.T + layer.linear1.bias)
    f = f @ layer.linear2.weight.T + layer.linear2.bias
    return ref.layer_norm(x + f, layer.norm2.weight, layer.norm2.bias)


@pytest.mark.parametrize("batch", [1, 2])
def test_transformer_block(rng, batch):
    layer = fc.TransformerEncoderLayer(256, 4, dim_feedforward=1024, seed=7)
    layer.self_attn.in_proj_bias = rng.standard_normal(3 * 256).astype(f32) * 0.1
    layer.norm1.weight = rng.uniform(0.5, 1.5, 256).astype(f32)
    x = rng.standard_normal((batch, 128, 256)).astype(f32)
    compiled = fc.compile(layer, x)
    # Layer-normed outputs are O(1); the reductions run over 256-1024 terms.
    np.testing.assert_allclose(compiled(x), transformer_reference(layer, x), rtol=1e-4, atol=2e-4)


def test_weights_update_recompiles(rng):
    model = fc.Sequential(fc.Linear(8, 4, seed=0), fc.ReLU())
    f = fc.jit(model)
    x = rng.standard_normal((3, 8)).astype(f32)
    first = f(x)
    model[0].weight = -model[0].weight
    second = f(x)
    assert f.cache_info().misses == 2
    assert_close(second, np.maximum(x.astype(float) @ model[0].weight.T + model[0].bias, 0))
    assert not np.allclose(first, second)
    with pytest.raises(ValueError, match=r"Linear\.weight: expected shape \(4, 8\)"):
        model[0].weight = np.zeros((8, 4), f32)


def test_state_dict_round_trip(rng):
    a = fc.Sequential(fc.Linear(6, 5, seed=1), fc.GELU(), fc.Linear(5, 2, seed=2))
    b = fc.Sequential(fc.Linear(6, 5, seed=3), fc.GELU(), fc.Linear(5, 2, seed=4))
    b.load_state_dict(a.state_dict())
    x = rng.standard_normal((4, 6)).astype(f32)
    assert_close(fc.compile(b, x)(x), a(x).astype(float))
    assert sorted(a.state_dict()) == ["0.bias", "0.weight", "2.bias", "2.weight"]
