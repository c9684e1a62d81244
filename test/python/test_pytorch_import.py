"""fc.from_pytorch, and torch.onnx.export + fc.from_onnx: torch.nn models
with random weights, compared with torch itself and with ONNX Runtime.

Tolerance: rtol 1e-4 with atol 1e-5 (2e-5 for the transformer layer,
whose softmax and layer norms go through FlashCompile's polynomial exp),
against torch's float32 results."""
import warnings

import numpy as np
import onnxruntime as ort
import pytest
import torch
from torch import nn

import flashcompile as fc

torch.manual_seed(0)


def mlp():
    return nn.Sequential(nn.Linear(37, 53), nn.ReLU(), nn.Linear(53, 64), nn.GELU(),
                         nn.Linear(64, 10), nn.Softmax(dim=-1)), torch.randn(5, 37)


def cnn():
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, stride=2), nn.BatchNorm2d(16), nn.ReLU(), nn.AvgPool2d(2),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10))
    # Non-trivial running statistics, as a trained network has.
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
    return model, torch.randn(2, 3, 19, 19)


def transformer():
    layer = nn.TransformerEncoderLayer(64, 4, dim_feedforward=96, dropout=0.1, batch_first=True)
    return layer, torch.randn(2, 13, 64)


def mobilenet_block():
    """Depthwise-separable convolutions (MobileNet's block): grouped convs."""
    model = nn.Sequential(
        nn.Conv2d(3, 16, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(16, 16, 3, padding=1, groups=16), nn.BatchNorm2d(16), nn.ReLU(),
        nn.Conv2d(16, 32, 1), nn.ReLU(),
        nn.Conv2d(32, 32, 3, stride=2, padding=1, groups=4), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10))
    return model, torch.randn(2, 3, 23, 23)


MODELS = {"mlp": (mlp, 1e-5), "cnn": (cnn, 1e-5), "transformer_encoder_layer": (transformer, 2e-5),
          "mobilenet_block": (mobilenet_block, 1e-5)}


def reference(model, x):
    model.eval()
    with torch.no_grad():
        return model(x).numpy()


def run_ort(path, x):
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: x})[0]


@pytest.mark.parametrize("name", MODELS)
def test_from_pytorch_matches_torch_and_onnxruntime(name, tmp_path):
    make, atol = MODELS[name]
    model, x = make()
    expected = reference(model, x)
    imported = fc.from_pytorch(model, (x,))
    ours = imported(x.numpy())
    np.testing.assert_allclose(ours, expected, rtol=1e-4, atol=atol)
    # The same graph, exported to ONNX and run by ONNX Runtime.
    path = tmp_path / f"{name}.onnx"
    fc.export_onnx(imported.compiled, str(path))
    np.testing.assert_allclose(run_ort(path, x.numpy()), ours, rtol=1e-4, atol=atol)
    assert imported.compiled.ir("graph").count("flash.") > 3


@pytest.mark.parametrize("name", MODELS)
def test_torch_onnx_export_then_from_onnx(name, tmp_path):
    make, atol = MODELS[name]
    model, x = make()
    expected = reference(model, x)
    path = tmp_path / f"{name}.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x,), str(path), dynamo=True, opset_version=18,
                          input_names=["x"], output_names=["y"])
    ours = fc.from_onnx(str(path))(x.numpy())
    np.testing.assert_allclose(ours, expected, rtol=1e-4, atol=atol)
    np.testing.assert_allclose(run_ort(path, x.numpy()), ours, rtol=1e-4, atol=atol)


class Mixed(nn.Module):
    """Ops beyond the three models: split/chunk, select and slices, cat,
    tanh-GELU, clamp, causal attention, reductions, 'same' padding and
    adaptive pooling to 2x2."""

    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(24, 72)
        self.conv = nn.Conv2d(2, 4, (3, 5), padding="same")
        self.norm = nn.LayerNorm(24)

    def forward(self, x, img):
        q, k, v = self.proj(x).chunk(3, dim=-1)
        heads = [t.reshape(2, 7, 4, 6).transpose(1, 2) for t in (q, k, v)]
        att = nn.functional.scaled_dot_product_attention(*heads, is_causal=True)
        att = att.transpose(1, 2).reshape(2, 7, 24)
        y = self.norm(x + att)
        first, rest = y[:, 0, :], y[:, 1::2, 3:21]
        z = torch.cat([nn.functional.gelu(first, approximate="tanh"),
                       rest.mean(dim=1).clamp(-0.5, 0.5)], dim=-1)
        pooled = nn.functional.adaptive_avg_pool2d(torch.sigmoid(self.conv(img)), 2)
        return z * 2 - 1, pooled.sum(dim=(2, 3)) / torch.rsqrt(pooled.amax(dim=(2, 3)) + 1)


def test_more_ops_against_torch():
    model = Mixed()
    x, img = torch.randn(2, 7, 24), torch.randn(3, 2, 10, 12)
    expected = [t.numpy() for t in reference_many(model, x, img)]
    imported = fc.from_pytorch(model, (x, img))
    ours = imported(x.numpy(), img.numpy())
    for a, b in zip(ours, expected):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=2e-5)
    assert "flash.slice" in imported.compiled.ir("flash")


def reference_many(model, *xs):
    model.eval()
    with torch.no_grad():
        return model(*xs)


class NumpyOnWeights(nn.Module):
    """Computes with NumPy on its own weight: torch.export (which sees fake
    tensors) refuses it, make_fx with the real weights takes it."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.randn(4))

    def forward(self, x):
        scale = float(np.abs(self.w.detach().numpy()).max())
        return torch.relu(x * scale + self.w)


def test_falls_back_to_make_fx_with_a_warning():
    model, x = NumpyOnWeights(), torch.randn(3, 4)
    with pytest.warns(UserWarning, match="make_fx"):
        imported = fc.from_pytorch(model, (x,))
    other = torch.randn(3, 4)
    np.testing.assert_allclose(imported(other.numpy()), reference(model, other), rtol=1e-6)


class Branchy(nn.Module):
    def forward(self, x):
        if x.sum() > 0:  # a branch on a run-time value: neither tracer takes it
            return torch.relu(x)
        return torch.tanh(x)


def test_data_dependent_branch_is_reported():
    with pytest.raises(fc.UnsupportedTorch, match=r"neither torch\.export .* nor make_fx .* "
                                                  r"could capture Branchy"):
        fc.from_pytorch(Branchy(), (torch.ones(3, 4),))


def test_errors_name_the_node_op_and_reason():
    class Cumsum(nn.Module):
        def forward(self, x):
            return torch.cumsum(x, dim=0)

    with pytest.raises(fc.UnsupportedTorch, match=r"torch node 'cumsum' \(aten\.cumsum\.default\)"
                                                  r".*not supported"):
        fc.from_pytorch(Cumsum(), (torch.randn(4, 4),))

    transposed = nn.ConvTranspose2d(4, 4, 3)
    with pytest.raises(fc.UnsupportedTorch, match=r"torch node '.*' \(aten\.conv.*\): "):
        fc.from_pytorch(transposed, (torch.randn(1, 4, 8, 8),))

    with pytest.raises(fc.UnsupportedTorch, match="dtype torch.float64"):
        fc.from_pytorch(nn.Identity(), (torch.ones(2, dtype=torch.float64),))
    # int64 inputs are indices: they may index or convert, not be returned.
    with pytest.raises(fc.UnsupportedTorch, match="output '.*' is a int64 tensor"):
        fc.from_pytorch(nn.Identity(), (torch.ones(2, dtype=torch.int64),))

    with pytest.raises(TypeError, match="torch.nn.Module"):
        fc.from_pytorch(lambda x: x, (torch.ones(2),))


def test_inputs_by_name_and_as_tensors():
    model, x = mlp()
    imported = fc.from_pytorch(model, x)
    assert imported.input_names == ["x"] or len(imported.input_names) == 1
    by_position = imported(x)  # a CPU torch tensor is taken as is
    by_name = imported(**{imported.input_names[0]: x.numpy()})
    np.testing.assert_array_equal(by_position, by_name)
    with pytest.raises(TypeError, match="takes 1 input"):
        imported(x, x)


def test_support_list():
    ops = fc.pytorch_support()
    for op in ("aten.linear", "aten.convolution", "aten.scaled_dot_product_attention",
               "aten.native_layer_norm", "aten.max_pool2d_with_indices"):
        assert op in ops


def _against_torch(model, *xs, rtol=1e-5, atol=1e-5):
    expected = reference(model, *xs)
    got = fc.from_pytorch(model, xs)(*[x.numpy() for x in xs])
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol)


@pytest.mark.parametrize("kernel,dilation", [(4, 1), (2, 1), ((2, 3), 1), (3, 2), ((4, 1), (1, 3))])
def test_conv_padding_same_odd_total(kernel, dilation):
    """padding='same' with an odd total padding (even kernels, dilation):
    torch puts the extra row and column at the bottom and right."""
    torch.manual_seed(3)
    model = nn.Conv2d(3, 4, kernel, padding="same", dilation=dilation)
    _against_torch(model, torch.randn(2, 3, 9, 10))


@pytest.mark.parametrize("include", [True, False])
@pytest.mark.parametrize("kernel,stride,padding", [(3, 2, 1), (3, 1, 1), ((4, 2), (2, 1), (2, 1))])
def test_avg_pool_padding_count_include_pad(kernel, stride, padding, include):
    """Padded average pooling both ways: border windows divide by the full
    kernel (count_include_pad=True) or by the elements inside (False)."""
    model = nn.AvgPool2d(kernel, stride, padding, count_include_pad=include)
    _against_torch(model, torch.randn(2, 3, 9, 11))


@pytest.mark.parametrize("eps", [1e-5, 0.1, 1.0])
def test_layer_norm_and_batch_norm_epsilon(eps):
    """Unit-variance inputs and large epsilons: an epsilon lost or scaled
    in the import shows in every output."""
    torch.manual_seed(4)
    _against_torch(nn.LayerNorm(16, eps=eps), torch.randn(3, 5, 16))
    bn = nn.BatchNorm2d(4, eps=eps).eval()
    bn.running_var.uniform_(0.2, 2.0)
    _against_torch(bn, torch.randn(2, 4, 5, 5))


@pytest.mark.parametrize("size,kernel,stride,padding", [
    ((13, 13), 3, 2, 0), ((10, 7), (2, 3), 2, 0), ((9, 9), 3, 2, 1), ((6, 11), 3, 3, 1),
    ((8, 8), 2, 2, 0)])
def test_pooling_ceil_mode_matches_torch(size, kernel, stride, padding):
    """fc.max_pool2d / avg_pool2d with ceil_mode=True against torch, on
    sizes where the last window is partial and where it is not."""
    import torch
    x = np.random.default_rng(3).standard_normal((2, 3, *size)).astype(np.float32)
    t = torch.from_numpy(x)
    want = torch.nn.functional.max_pool2d(t, kernel, stride, padding, ceil_mode=True).numpy()
    got = fc.max_pool2d(x, kernel, stride, padding, ceil_mode=True)
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    include = padding == 0  # with padding, only count_include_pad=False is supported
    want = torch.nn.functional.avg_pool2d(t, kernel, stride, padding, ceil_mode=True,
                                          count_include_pad=include).numpy()
    got = fc.avg_pool2d(x, kernel, stride, padding, count_include_pad=include, ceil_mode=True)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_avg_pool_ceil_mode_with_padding_counted_is_refused():
    x = np.zeros((1, 1, 6, 11), np.float32)
    with pytest.raises(ValueError, match="ceil_mode .* count_include_pad=True"):
        fc.avg_pool2d(x, 3, 3, 1, count_include_pad=True, ceil_mode=True)


class _InPlace(nn.Module):
    """In-place activations as torchvision writes them (inplace=True):
    each writes a fresh tensor nothing else reads."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 3, padding=1)
        self.act = nn.Sequential(nn.Hardswish(inplace=True), nn.SiLU(inplace=True),
                                 nn.ReLU(inplace=True), nn.Dropout(0.5, inplace=True))
        self.gate = nn.Hardsigmoid()

    def forward(self, x):
        y = self.conv(x)
        y += x.mean(dim=1, keepdim=True)  # add_ on the conv's fresh output
        return self.act(y) * self.gate(y.mean(dim=(2, 3), keepdim=True))


class _SharedWrite(nn.Module):
    """In-place ops whose writes other values see: a view taken before the
    write, and a view written into its base. Read functionally (relu_ as
    relu) both would be wrong; the decomposed graph is right."""

    def forward(self, x):
        y = x * 2
        v = y.view(-1)     # sees the write below
        y.relu_()
        w = x * 3
        w[0].clamp_(min=0)  # writes into w through a view
        return v.view(x.shape) * 3 + w


def test_exported_graph_imported_without_decompositions():
    """torch.export's graph is imported as it is when every op has a
    handler and every in-place write is to a fresh single-use tensor;
    otherwise it is decomposed first. Both match torch."""
    from flashcompile.importers.pytorch import _capture
    for model, decomposed in [(_InPlace().eval(), False), (_SharedWrite(), True)]:
        x = torch.randn(2, 3, 9, 11)
        assert _capture(model, (x,))[3] is decomposed, type(model).__name__
        with torch.no_grad():
            expected = model(x).numpy()
        got = fc.from_pytorch(model, (x,))(x.numpy())
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


class _ShiftedWindowMask(nn.Module):
    """Swin's shifted-window attention mask: slices of x.new_zeros(...)
    filled in place, compared, masked_fill'ed, added to scores of the
    padded input (F.pad); plus a weight, which the import must not write."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.randn(4, 4))

    def forward(self, x):
        mask = x.new_zeros((4, 4))
        count = 0
        for h in (slice(0, 2), slice(2, 3), slice(3, None)):
            for w in (slice(0, 1), slice(1, None)):
                mask[h, w] = count
                count += 1
        diff = mask.reshape(1, 16) - mask.reshape(16, 1)
        diff = diff.masked_fill(diff != 0, -100.0).masked_fill(diff == 0, 0.0)
        padded = nn.functional.pad(x, (0, 1, 0, 1))  # 3x3 -> 4x4
        scores = (padded * self.scale).reshape(x.shape[0], 1, 16)
        return torch.softmax(scores.transpose(1, 2) + diff, -1)


def test_a_mask_built_in_place_on_new_zeros_imports_as_exported():
    """The mask depends on shapes only (new_zeros), so its in-place fills,
    comparisons and masked_fills are computed at import time, in graph
    order, and the graph needs no decompositions; F.pad on the run-time
    input is aten.pad. Matches torch; the model's weight is untouched."""
    from flashcompile.importers.pytorch import _capture
    model = _ShiftedWindowMask().eval()
    before = model.scale.detach().clone()
    x = torch.randn(2, 3, 3)
    assert _capture(model, (x,))[3] is False
    with torch.no_grad():
        expected = model(x).numpy()
    got = fc.from_pytorch(model, (x,))(x.numpy())
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)
    assert torch.equal(model.scale.detach(), before)
    assert {"aten.pad", "aten.masked_fill"} <= set(fc.pytorch_support())
