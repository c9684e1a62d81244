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
import os
import sys
import time

import numpy as np
import pytest

import flashcompile as fc

torch = pytest.importorskip("torch")
pytest.importorskip("torchvision")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks"))
import zoo  # noqa: E402  (one definition of the zoo, shared with bench_zoo.py)

RELATIVE_TOLERANCE = 1e-4


ZOO = zoo.NAMES


@pytest.fixture(scope="module")
def zoo_cache():
    return {}


def _model_and_reference(name, cache):
    if name not in cache:
        model, x = zoo.build(name, 64)
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


def test_zoo_names_match_its_builders():
    assert zoo.NAMES == list(zoo.zoo())
