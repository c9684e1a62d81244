"""3x3 stride-1 convolutions by Winograd F(4x4, 3x3) (Winograd.cpp, the
filter transformed when compiling in MatmulToUkernel): against float64
NumPy on output sizes that are and are not multiples of the 4x4 tile,
with and without padding (also asymmetric), channel counts around the
6-row panels, several blocks of tile rows, a batch, the fused epilogue
(bias, ReLU, residual add, HardSwish), accumulation into an initial
value, on one and two threads; where the shape rule (convUsesWinograd)
keeps the implicit GEMM; `winograd=false`; the torch module imported.

Tolerance: the transforms multiply inputs by up to 100 (B^T's rows sum
to at most 10 in magnitude, squared) and round U to float32, so the error
grows with the input's magnitude, not the output's: 1e-4 relative plus an
absolute 2e-5 * sqrt(9C) * max|x| * max|w| * 10, measured below 1/3 of
that on these shapes."""
import numpy as np
import pytest

import flashcompile as fc

WINOGRAD = "flash_conv_winograd_f32"


def reference(x, w, b, pad):
    """float64 NCHW convolution, stride 1, `pad` = (top, bottom, left, right)."""
    xd = np.pad(x.astype(np.float64), ((0, 0), (0, 0), pad[:2], pad[2:]))
    n, c, h, wid = xd.shape
    o = w.shape[0]
    oh, ow = h - 2, wid - 2
    ref = np.zeros((n, o, oh, ow))
    if b is not None:
        ref += b[None, :, None, None]
    for i in range(3):
        for j in range(3):
            ref += np.einsum("nchw,oc->nohw", xd[:, :, i:i + oh, j:j + ow],
                             w[:, :, i, j].astype(np.float64))
    return ref


def assert_winograd_close(actual, expected, x, w):
    c = w.shape[1]
    atol = 2e-5 * np.sqrt(9 * c) * np.abs(x).max() * np.abs(w).max() * 10
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=atol)


SHAPES = [
    # n, c, h, w, o, padding (top, bottom, left, right)
    (1, 8, 8, 8, 8, (1, 1, 1, 1)),        # one tile row, one 6-row panel + 2
    (1, 16, 13, 17, 24, (1, 1, 1, 1)),    # sizes not multiples of 4
    (2, 12, 30, 30, 40, (0, 0, 0, 0)),    # unpadded, a batch, 28x28 output
    (1, 64, 56, 56, 64, (1, 1, 1, 1)),    # ResNet's first stage
    (1, 130, 14, 14, 257, (1, 1, 1, 1)),  # O over the A blocks, odd C
    (1, 9, 40, 11, 13, (2, 0, 0, 2)),     # asymmetric padding, tall
    (1, 600, 10, 10, 8, (1, 1, 1, 1)),    # C over a K slice (512)
    (1, 16, 9, 3, 20, (1, 1, 1, 1)),      # narrower than a tile's input: borders only
    (1, 16, 6, 5, 20, (0, 0, 2, 1)),      # two columns of padding on the left, one on the right
    (1, 8, 12, 29, 8, (1, 2, 0, 0)),      # unpadded columns, a ragged last tile
    (1, 16, 8, 10, 20, (0, 0, 5, 3)),     # more left padding than a tile's step
]


@pytest.mark.parametrize("n,c,h,w,o,pad", SHAPES)
def test_winograd_matches_direct_convolution(rng, threads, n, c, h, w, o, pad):
    x = rng.standard_normal((n, c, h, w), dtype=np.float32)
    wt = (rng.standard_normal((o, c, 3, 3)) / np.sqrt(9 * c)).astype(np.float32)
    b = rng.standard_normal((o,), dtype=np.float32)
    padded = np.pad(x, ((0, 0), (0, 0), pad[:2], pad[2:]))
    padding = (pad[0], pad[2], pad[1], pad[3])  # top, left, bottom, right
    source = fc.jit(lambda t: fc.conv2d(t, wt, b, padding=padding)).lower(x).source
    # Every shape by Winograd (winograd=true), whatever the rule says.
    compiled = fc.compile_mlir(source, options="winograd=true")
    assert WINOGRAD in compiled.ir("loops")
    assert_winograd_close(compiled(x), reference(x, wt, b, pad), padded, wt)


@pytest.mark.parametrize("epilogue", ["relu", "residual_relu", "hardswish"])
@pytest.mark.parametrize("n,c,h,o", [(1, 16, 21, 20), (2, 32, 28, 32)])
def test_winograd_fused_epilogue(rng, threads, epilogue, n, c, h, o):
    """The epilogue runs on each block's output rows: one call, no loops."""
    x = rng.standard_normal((n, c, h, h), dtype=np.float32)
    res = rng.standard_normal((n, o, h, h), dtype=np.float32)
    wt = (rng.standard_normal((o, c, 3, 3)) / np.sqrt(9 * c)).astype(np.float32)
    b = rng.standard_normal((o,), dtype=np.float32)

    def f(t, r):
        y = fc.conv2d(t, wt, b, padding=1)
        if epilogue == "relu":
            return fc.relu(y)
        if epilogue == "residual_relu":
            return fc.relu(y + r)
        return fc.hardswish(y)

    compiled = fc.compile_mlir(fc.jit(f).lower(x, res).source, options="winograd=true")
    loops = compiled.ir("loops")
    assert WINOGRAD in loops and "linalg.generic" not in loops
    ref = reference(x, wt, b, (1, 1, 1, 1))
    if epilogue == "relu":
        ref = np.maximum(ref, 0)
    elif epilogue == "residual_relu":
        ref = np.maximum(ref + res, 0)
    else:
        ref = ref * np.clip(ref / 6 + 0.5, 0, 1)
    assert_winograd_close(compiled(x, res), ref, x, wt)


@pytest.mark.parametrize("c,h,o", [(4, 16, 16), (64, 8, 64), (16, 16, 16), (32, 12, 32)])
def test_shape_rule_keeps_the_implicit_gemm(rng, c, h, o):
    """Few channels, or too few 4x4 tiles for the channels, stay the
    implicit GEMM by default (convUsesWinograd), and stay right."""
    x = rng.standard_normal((1, c, h, h), dtype=np.float32)
    wt = rng.standard_normal((o, c, 3, 3), dtype=np.float32)
    compiled = fc.compile(lambda t: fc.conv2d(t, wt, padding=1), (x,))
    loops = compiled.ir("loops")
    assert WINOGRAD not in loops and "flash_conv_im2col_f32" in loops
    np.testing.assert_allclose(compiled(x), reference(x, wt, None, (1, 1, 1, 1)),
                               rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("c,h,o", [(64, 56, 64), (16, 55, 64), (48, 13, 192), (64, 12, 64)])
def test_shape_rule_takes_winograd(rng, c, h, o):
    """ResNet-, SqueezeNet- and GoogLeNet-like layers run by Winograd by
    default."""
    x = rng.standard_normal((1, c, h, h), dtype=np.float32)
    wt = (rng.standard_normal((o, c, 3, 3)) / np.sqrt(9 * c)).astype(np.float32)
    compiled = fc.compile(lambda t: fc.conv2d(t, wt, padding=1), (x,))
    assert WINOGRAD in compiled.ir("loops")
    assert_winograd_close(compiled(x), reference(x, wt, None, (1, 1, 1, 1)), x, wt)


def test_a_batch_of_small_images_stays_image_by_image_for_winograd(rng):
    """Eight 14x14 images would be one product over all of them
    (convBatchAsColumns); a convolution Winograd takes runs image by image
    instead (ConvToIm2col asks the same rule), and the simulator prices it
    so; with winograd=false the batch is one product again."""
    x = rng.standard_normal((8, 64, 14, 14), dtype=np.float32)
    wt = (rng.standard_normal((64, 64, 3, 3)) / 24).astype(np.float32)
    source = fc.jit(lambda t: fc.conv2d(t, wt, padding=1)).lower(x).source
    default = fc.compile_mlir(source)
    assert WINOGRAD in default.ir("loops")
    assert_winograd_close(default(x), reference(x, wt, None, (1, 1, 1, 1)), x, wt)
    host = fc.simulate(default, "host", threads=1)
    assert any("Winograd" in note for k in host.kernels for note in k.notes)
    off = fc.compile_mlir(source, options="winograd=false").ir("loops")
    assert WINOGRAD not in off and "flash_conv_im2col_f32" not in off


def test_bad_winograd_option_is_a_clear_error():
    x = np.ones((1, 16, 16, 16), np.float32)
    w = np.ones((16, 16, 3, 3), np.float32)
    with pytest.raises(ValueError, match="winograd must be auto, true or false, got 'maybe'"):
        fc.compile(lambda t: fc.conv2d(t, w), (x,), options="winograd=maybe")


def test_winograd_off_and_other_windows(rng):
    """winograd=false, a stride-2 or dilated 3x3, a 5x5 window and a filter
    that is not a constant all run without it, even with winograd=true."""
    x = rng.standard_normal((1, 16, 20, 20), dtype=np.float32)
    w3 = rng.standard_normal((16, 16, 3, 3), dtype=np.float32)
    w5 = rng.standard_normal((16, 16, 5, 5), dtype=np.float32)
    source = fc.jit(lambda t: fc.conv2d(t, w3, padding=1)).lower(x).source
    assert WINOGRAD not in fc.compile_mlir(source, options="winograd=false").ir("loops")
    for f in (lambda t: fc.conv2d(t, w3, stride=2, padding=1),
              lambda t: fc.conv2d(t, w3, dilation=2, padding=2),
              lambda t: fc.conv2d(t, w5, padding=2)):
        source = fc.jit(f).lower(x).source
        assert WINOGRAD not in fc.compile_mlir(source, options="winograd=true").ir("loops")
    variable = fc.compile(lambda t, k: fc.conv2d(t, k, padding=1), (x, w3),
                          options="winograd=true")
    assert WINOGRAD not in variable.ir("loops")
    np.testing.assert_allclose(variable(x, w3), reference(x, w3, None, (1, 1, 1, 1)),
                               rtol=1e-4, atol=1e-4)


def test_torch_conv_imported(rng):
    """A torch 3x3 Conv2d + BatchNorm + ReLU (the batch norm folded into the
    filter first, then transformed) matches torch."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    m = torch.nn.Sequential(torch.nn.Conv2d(32, 48, 3, padding=1), torch.nn.BatchNorm2d(48),
                            torch.nn.ReLU()).eval()
    with torch.no_grad():
        m[1].running_mean.uniform_(-1, 1)
        m[1].running_var.uniform_(0.5, 2)
    x = torch.randn(1, 32, 19, 23)
    imported = fc.from_pytorch(m, (x,))
    assert WINOGRAD in imported.compiled.ir("loops")
    with torch.no_grad():
        expected = m(x).numpy()
    np.testing.assert_allclose(imported(x.numpy()), expected, rtol=1e-4, atol=1e-4)
