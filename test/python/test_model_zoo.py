"""The model zoo: the torchvision architectures people use, built randomly
initialised from their constructors, and Hugging Face BERT, DistilBERT,
GPT-2 and ViT from small configs (4 layers, width 256, 128 token ids;
nothing downloaded), imported through both paths (fc.from_pytorch, and
torch.onnx.export + fc.from_onnx) at batch 1 and compared with torch:
max|fc - torch| / max|torch| <= 1e-4. BERT and DistilBERT are also run
with a run-time attention mask (int64, padding in one sequence).

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
    if name.startswith("hf_"):
        pytest.importorskip("transformers")
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


def _masked_inputs():
    """Two sequences of token ids, the second padded after 90 tokens."""
    g = torch.Generator().manual_seed(5)
    ids = torch.randint(0, 1000, (2, zoo.SEQUENCE), generator=g)
    mask = torch.ones(2, zoo.SEQUENCE, dtype=torch.int64)
    mask[1, 90:] = 0
    return ids, mask


@pytest.mark.parametrize("name", ["hf_bert", "hf_distilbert"])
def test_zoo_attention_mask(name, tmp_path):
    """The attention mask as a run-time input: the importers turn its int64
    -> bool conversion, the mask-building logic and the boolean
    attn_mask into compares, selects and gathers."""
    pytest.importorskip("transformers")
    model, _ = zoo.build(name, 64)
    ids, mask = _masked_inputs()
    with torch.no_grad():
        ref = model(ids, mask).numpy()
    assert not np.allclose(ref[1, :90], model(ids, torch.ones_like(mask)).detach().numpy()[1, :90],
                           atol=1e-3), "the mask must change the output"
    got = fc.from_pytorch(model, (ids, mask))(ids.numpy(), mask.numpy())
    assert _relative_error(got, ref) <= RELATIVE_TOLERANCE
    pytest.importorskip("onnxscript")
    path = str(tmp_path / f"{name}_mask.onnx")
    torch.onnx.export(model, (ids, mask), dynamo=True, verbose=False).save(path)
    imported = fc.from_onnx(path)
    assert _relative_error(imported(ids.numpy(), mask.numpy()), ref) <= RELATIVE_TOLERANCE
    # Another mask through the same compiled model: the mask is data, not a constant.
    other = torch.ones_like(mask)
    other[0, 7:] = 0
    with torch.no_grad():
        ref_other = model(ids, other).numpy()
    assert _relative_error(imported(ids.numpy(), other.numpy()), ref_other) <= RELATIVE_TOLERANCE


def test_zoo_names_match_its_builders():
    assert zoo.NAMES == list(zoo.zoo())
