"""The model zoo: the torchvision architectures people use, built randomly
initialised from their constructors (nothing downloaded), imported through
both paths (fc.from_pytorch, and torch.onnx.export + fc.from_onnx) at
batch 1 and compared with torch: max|fc - torch| / max|torch| <= 1e-4.

Inputs are 64x64 (ViT: a 2-layer, width-128 configuration) to keep the
suite's time bounded; every model's graph is the full architecture.
Parameters and batch-norm statistics are re-drawn so that no layer is the
identity and the outputs are not degenerate (torchvision zero-initialises
some heads; a zero output would match anything).
"""
import time

import numpy as np
import pytest

import flashcompile as fc

torch = pytest.importorskip("torch")
tvm = pytest.importorskip("torchvision.models")

RELATIVE_TOLERANCE = 1e-4


def _vit():
    from torchvision.models.vision_transformer import VisionTransformer
    return VisionTransformer(image_size=64, patch_size=16, num_layers=2, num_heads=4,
                             hidden_dim=128, mlp_dim=256)


ZOO = {
    "resnet18": lambda: tvm.resnet18(weights=None),
    "resnet50": lambda: tvm.resnet50(weights=None),
    "mobilenet_v2": lambda: tvm.mobilenet_v2(weights=None),
    "mobilenet_v3_small": lambda: tvm.mobilenet_v3_small(weights=None),
    "mobilenet_v3_large": lambda: tvm.mobilenet_v3_large(weights=None),
    "efficientnet_b0": lambda: tvm.efficientnet_b0(weights=None),
    "squeezenet1_1": lambda: tvm.squeezenet1_1(weights=None),
    "shufflenet_v2_x1_0": lambda: tvm.shufflenet_v2_x1_0(weights=None),
    "regnet_y_400mf": lambda: tvm.regnet_y_400mf(weights=None),
    "convnext_tiny": lambda: tvm.convnext_tiny(weights=None),
    "densenet121": lambda: tvm.densenet121(weights=None),
    "googlenet": lambda: tvm.googlenet(weights=None, aux_logits=False, init_weights=True),
    "vit_b_16_small": _vit,
    "swin_t": lambda: tvm.swin_t(weights=None),
}


def randomized(model, seed: int = 0):
    """`model` in eval mode with batch-norm statistics and affine
    parameters drawn around their typical trained values, and every
    all-zero parameter (zero-initialised heads) drawn small."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
                if m.affine:
                    m.weight.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
                    m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
        for p in model.parameters():
            if p.numel() and not p.abs().max():
                p.copy_(torch.randn(p.shape, generator=g) * 0.05)
    return model.eval()


@pytest.fixture(scope="module")
def zoo_cache():
    return {}


def _model_and_reference(name, cache):
    if name not in cache:
        torch.manual_seed(0)
        model = randomized(ZOO[name]())
        x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(1))
        with torch.no_grad():
            ref = model(x).numpy()
        assert np.ptp(ref) > 1e-3 * np.abs(ref).max() > 0, f"{name}: degenerate output"
        cache[name] = (model, x, ref)
    return cache[name]


def _relative_error(got, ref) -> float:
    return float(np.abs(got - ref).max() / np.abs(ref).max())


@pytest.mark.parametrize("name", list(ZOO))
def test_zoo_from_pytorch(name, zoo_cache):
    model, x, ref = _model_and_reference(name, zoo_cache)
    start = time.perf_counter()
    imported = fc.from_pytorch(model, (x,))
    got = imported(x.numpy())
    print(f"{name}: from_pytorch + first call {time.perf_counter() - start:.1f} s, "
          f"relative error {_relative_error(got, ref):.1e}")
    assert got.shape == ref.shape
    assert _relative_error(got, ref) <= RELATIVE_TOLERANCE


@pytest.mark.parametrize("name", list(ZOO))
def test_zoo_through_onnx(name, zoo_cache, tmp_path):
    pytest.importorskip("onnxscript")
    model, x, ref = _model_and_reference(name, zoo_cache)
    path = str(tmp_path / f"{name}.onnx")
    start = time.perf_counter()
    torch.onnx.export(model, (x,), dynamo=True, verbose=False).save(path)
    exported = time.perf_counter()
    got = fc.from_onnx(path)(x.numpy())
    print(f"{name}: torch.onnx.export {exported - start:.1f} s, from_onnx + first call "
          f"{time.perf_counter() - exported:.1f} s, relative error "
          f"{_relative_error(got, ref):.1e}")
    assert got.shape == ref.shape
    assert _relative_error(got, ref) <= RELATIVE_TOLERANCE
