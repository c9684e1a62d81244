"""The pieces real models need beyond the basic op set: padding, clipping
and the hard activations as compositions of fc ops (checked against NumPy),
and the importers' handling of them, of constant subgraphs (computed at
import time by torch or ONNX's reference implementation), rolls, constant
gathers and ceil-mode pooling (checked against torch and ONNX Runtime)."""
import numpy as np
import pytest

import flashcompile as fc

f32 = np.float32


@pytest.fixture
def rng():
    return np.random.default_rng(11)


@pytest.mark.parametrize("widths", [[(0, 0), (1, 2), (3, 0)], [(2, 1), (0, 0), (0, 0)],
                                    [(0, 0), (-1, 2), (1, -2)]])
def test_pad_matches_numpy_and_crops(rng, widths):
    x = rng.standard_normal((3, 5, 7), dtype=f32)
    crop = tuple(slice(max(0, -b), x.shape[d] - max(0, -a)) for d, (b, a) in enumerate(widths))
    want = np.pad(x[crop], [(max(0, b), max(0, a)) for b, a in widths], constant_values=1.5)
    np.testing.assert_array_equal(fc.pad(x, widths, 1.5), want)
    traced = fc.jit(lambda v: fc.pad(v, widths, 1.5))
    np.testing.assert_array_equal(traced(x), want)


def test_activations_match_their_formulas(rng):
    x = rng.standard_normal((4, 33), dtype=f32) * 4
    y = rng.standard_normal((4, 33), dtype=f32)
    np.testing.assert_allclose(fc.clip(x, -1.0, 2.5), np.clip(x, -1.0, 2.5))
    np.testing.assert_allclose(fc.clip(x, None, 0.5), np.minimum(x, 0.5))
    np.testing.assert_allclose(fc.minimum(x, y), np.minimum(x, y))
    np.testing.assert_allclose(fc.hardsigmoid(x), np.clip(x / 6 + 0.5, 0, 1), rtol=1e-6,
                               atol=1e-7)
    np.testing.assert_allclose(fc.hardswish(x), x * np.clip(x + 3, 0, 6) / 6, rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(fc.silu(x), x / (1 + np.exp(-x)), rtol=1e-5, atol=1e-6)


def test_concat_with_an_empty_piece(rng):
    x = rng.standard_normal((2, 8), dtype=f32)
    empty = np.zeros((2, 0), f32)
    np.testing.assert_array_equal(fc.concat([x, empty], 1), x)
    np.testing.assert_array_equal(fc.jit(lambda v: fc.concat([empty, v, empty], 1))(x), x)


# PyTorch ---------------------------------------------------------------

torch = pytest.importorskip("torch")


class _Window(torch.nn.Module):
    """What Swin-style blocks do: pad, roll, gather rows by a constant
    index, add a bias looked up from a table by an index built with arange."""

    def __init__(self):
        super().__init__()
        self.table = torch.nn.Parameter(torch.randn(15, 4))
        coords = torch.arange(8)
        self.register_buffer("index", (coords[:, None] - coords[None, :] + 7)[:, :4])
        self.register_buffer("rows", torch.tensor([0, 2, 3, 7, 6]))

    def forward(self, x):                       # x: (1, 4, 8, 6)
        x = torch.nn.functional.pad(x, (1, 1, 0, 0))          # W 6 -> 8
        x = torch.roll(x, shifts=(-2, 3), dims=(2, 3))
        bias = self.table[self.index.reshape(-1)].reshape(8, 4, 4).permute(2, 0, 1)
        x = x + bias.unsqueeze(0)[:, :, :, :8].sum(-1, keepdim=True)
        x = torch.index_select(x, 2, self.rows)                # irregular rows
        return torch.index_select(x, 3, torch.arange(0, 8, 2))  # a strided gather


def test_torch_constant_subgraphs_pad_roll_and_gathers():
    torch.manual_seed(0)
    m = _Window().eval()
    x = torch.randn(1, 4, 8, 6)
    model = fc.from_pytorch(m, (x,))
    with torch.no_grad():
        want = m(x).numpy()
    np.testing.assert_allclose(model(x.numpy()), want, rtol=1e-5, atol=1e-5)
    # The index arithmetic was computed at import: no gather of a table at run time.
    assert "flash.constant" in model.compiled.ir("flash")


def test_torch_index_with_a_runtime_index_is_refused():
    class Gather(torch.nn.Module):
        def forward(self, x, i):
            return torch.index_select(x, 0, i.long())

    with pytest.raises((fc.UnsupportedTorch, ValueError, TypeError)):
        fc.from_pytorch(Gather(), (torch.randn(5, 3), torch.tensor([0.0, 2.0])))


@pytest.mark.parametrize("ceil", [False, True])
def test_torch_ceil_mode_pooling_in_a_model(ceil):
    m = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.MaxPool2d(3, 2, ceil_mode=ceil),
                            torch.nn.AvgPool2d(2, 2, ceil_mode=ceil)).eval()
    x = torch.randn(1, 3, 16, 16)
    with torch.no_grad():
        want = m(x).numpy()
    got = fc.from_pytorch(m, (x,))(x.numpy())
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


# ONNX ------------------------------------------------------------------

def _onnx_model(nodes, x_shape, y_shape, inits=()):
    from onnx import TensorProto, helper, numpy_helper
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                                         x_shape)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, y_shape)],
                              [numpy_helper.from_array(v, n) for n, v in inits])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])


def _check_against_onnxruntime(model, x):
    ort = pytest.importorskip("onnxruntime")
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    want = sess.run(None, {"x": x})[0]
    got = fc.from_onnx(model)(x)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_onnx_pad_clip_and_hard_activations(rng):
    from onnx import helper
    x = rng.standard_normal((1, 3, 5, 6), dtype=f32) * 3
    nodes = [helper.make_node("Pad", ["x", "pads", "v"], ["p"], mode="constant"),
             helper.make_node("Clip", ["p", "lo", "hi"], ["c"]),
             helper.make_node("HardSwish", ["c"], ["h"]),
             helper.make_node("HardSigmoid", ["p"], ["s"], alpha=0.3, beta=0.4),
             helper.make_node("Max", ["h", "s"], ["m"]),
             helper.make_node("Min", ["m", "p"], ["y"])]
    inits = [("pads", np.array([0, 0, 1, -1, 0, 0, 2, 1], np.int64)),
             ("v", np.array(0.25, f32)), ("lo", np.array(-2.0, f32)), ("hi", np.array(6.0, f32))]
    _check_against_onnxruntime(_onnx_model(nodes, x.shape, (1, 3, 8, 6), inits), x)


def test_onnx_constant_subgraphs_are_computed_at_import(rng):
    """Range, ConstantOfShape and Where on constants (ops the importer has
    no run-time handler for) fold through ONNX's reference implementation."""
    from onnx import TensorProto, helper
    x = rng.standard_normal((2, 5), dtype=f32)
    nodes = [helper.make_node("Range", ["start", "limit", "delta"], ["r"]),
             helper.make_node("Cast", ["r"], ["rf"], to=TensorProto.FLOAT),
             helper.make_node("ConstantOfShape", ["shape"], ["ones"],
                              value=helper.make_tensor("v", TensorProto.FLOAT, [1], [2.0])),
             helper.make_node("Greater", ["rf", "two"], ["mask"]),
             helper.make_node("Where", ["mask", "rf", "ones"], ["w"]),
             helper.make_node("Mul", ["x", "w"], ["y"])]
    inits = [("start", np.array(0, np.int64)), ("limit", np.array(5, np.int64)),
             ("delta", np.array(1, np.int64)), ("shape", np.array([5], np.int64)),
             ("two", np.array(2.0, f32))]
    model = _onnx_model(nodes, x.shape, x.shape, inits)
    _check_against_onnxruntime(model, x)
    assert "Range" not in fc.onnx_support()  # computed at import, not supported at run time


def test_torch_clamp_with_tensor_bounds_and_linear_on_a_vector():
    """Two forms PyTorch's own OpInfo samples use that the importer
    refused with the wrong error: clamp bounded by tensors, linear on 1-D."""
    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(7, 5)
            self.register_buffer("lo", torch.linspace(-1, 0, 5))

        def forward(self, v, hi):
            return torch.clamp(self.fc(v), min=self.lo, max=hi)

    torch.manual_seed(0)
    m = M().eval()
    v, hi = torch.randn(7), torch.rand(5)
    with torch.no_grad():
        want = m(v, hi).numpy()
    got = fc.from_pytorch(m, (v, hi))(v.numpy(), hi.numpy())
    assert got.shape == want.shape == (5,)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_linear_on_a_vector_matches_numpy(rng):
    x = rng.standard_normal(9, dtype=f32)
    w = rng.standard_normal((4, 9), dtype=f32)
    b = rng.standard_normal(4, dtype=f32)
    np.testing.assert_allclose(fc.linear(x, w, b), w @ x + b, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(fc.jit(lambda v: fc.linear(v, w))(x), w @ x, rtol=1e-5, atol=1e-5)
