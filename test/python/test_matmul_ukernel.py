"""The packed sgemm ukernel (lib/Runtime/Ukernels) against NumPy: shapes on
and off its block sizes (register tile 6x32 or 6x16, KC=512, MC=144, NC=3072), the
few-rows path, one and two threads, and the pure-codegen path."""
import numpy as np
import pytest

import flashcompile as fc
import reference as ref
from conftest import assert_close

SHAPES = [
    (6, 256, 16),      # exactly one register tile, one K slice
    (12, 512, 32),     # multiples of everything
    (144, 256, 48),    # one full MC block
    (145, 257, 17),    # one past every block boundary
    (7, 600, 33),      # several K slices with a remainder
    (300, 70, 40),     # several MC blocks
    (5, 300, 3100),    # few rows (streaming path), N > NC
    (1, 1000, 300),    # a matrix-vector product
    (13, 5, 3100),     # N > NC in the packed path
    (250, 250, 250),
    (97, 113, 127),
    (145, 513, 40),    # one past KC: two equal K slices
    (13, 1100, 70),    # three K slices
]


@pytest.mark.parametrize("m,k,n", SHAPES)
def test_ukernel_matmul(rng, threads, m, k, n):
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    assert_close(fc.matmul(a, b), a.astype(np.float64) @ b, reduction=k)


def _matmul_module(m, k, n):
    return f"""
    func.func @mm(%a: tensor<{m}x{k}xf32>, %b: tensor<{k}x{n}xf32>) -> tensor<{m}x{n}xf32> {{
      %0 = flash.matmul %a, %b : (tensor<{m}x{k}xf32>, tensor<{k}x{n}xf32>) -> tensor<{m}x{n}xf32>
      return %0 : tensor<{m}x{n}xf32>
    }}"""


@pytest.mark.parametrize("options", ["", "ukernels=false", "ukernels=true"])
def test_pipeline_options_agree(rng, options):
    m, k, n = 37, 300, 21
    c = fc.compile_mlir(_matmul_module(m, k, n), options=options)
    assert ("flash_matmul_f32" in c.ir("loops")) == (options != "ukernels=false")
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    assert_close(c(a, b), a.astype(np.float64) @ b, reduction=k)


def test_bad_pipeline_options():
    with pytest.raises(ValueError, match="invalid pipeline options 'nonsense=1'"):
        fc.compile_mlir(_matmul_module(2, 2, 2), options="nonsense=1")


def test_num_threads_roundtrip():
    before = fc.get_num_threads()
    try:
        fc.set_num_threads(1)
        assert fc.get_num_threads() == 1
        fc.set_num_threads(3)
        assert fc.get_num_threads() == 3
    finally:
        fc.set_num_threads(before)


def test_own_thread_pool_fallback():
    """Without LLVM's OpenMP runtime (or with FLASH_OWN_THREAD_POOL set) the
    ukernels run on the runtime's own pool: same results."""
    import subprocess
    import sys
    code = ("import numpy as np, flashcompile as fc; fc.set_num_threads(2); "
            "r = np.random.default_rng(0); a = r.random((300, 257), np.float32); "
            "b = r.random((257, 190), np.float32); "
            "np.testing.assert_allclose(fc.matmul(a, b), a.astype(float) @ b, rtol=1e-4); "
            "print('ok')")
    env = dict(__import__("os").environ, FLASH_OWN_THREAD_POOL="1")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


# Every register tile and blocking fc.tune may choose computes the same
# product: shapes on and off each tile (4x24, 8x8, 4x16, the spilling 12x32)
# and blocks smaller than the matrix, on one and two tasks.
TUNED = ["sgemm=0,0,0,0,1", "sgemm=0,0,0,0,2", "sgemm=0,0,0,0,3", "sgemm=0,0,0,0,4",
         "sgemm=50,100,200,1,0", "sgemm=8,16,24,2,1", "sgemm=300,512,4096,2,3",
         # B packed row by row, also in blocks narrower than N; B in place
         "sgemm=0,0,0,0,0,1", "sgemm=18,40,40,2,0,1", "sgemm=0,0,0,0,0,2"]


@pytest.mark.parametrize("options", TUNED)
@pytest.mark.parametrize("m,k,n", [(145, 257, 17), (97, 113, 127), (24, 64, 48), (7, 600, 33)])
def test_tuned_ukernel_parameters(rng, options, m, k, n):
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    compiled = fc.compile_mlir(_matmul_module(m, k, n), options=options)
    assert_close(compiled(a, b), a.astype(np.float64) @ b, reduction=k)


@pytest.mark.parametrize("options", ["vectorize=false", "vector-width=128", "vector-width=512",
                                     "unroll=true", "interleave=false"])
def test_llvm_knobs_keep_results(rng, options):
    x = rng.standard_normal((33, 70), dtype=np.float32)
    src = fc.jit(lambda t: fc.tanh(t) * 2.0 + t).lower(x).source
    compiled = fc.compile_mlir(src, options=options)
    np.testing.assert_allclose(compiled(x), np.tanh(x) * 2 + x, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("options", ["sgemm=0,0,0,0,0,0,1", "sgemm=48,128,512,2,1,1,1",
                                     "sgemm=0,0,0,0,0,0,2", ""])
def test_batch_parallel_products(rng, options):
    """Batched products with the batch loop spread over the cores."""
    a = rng.standard_normal((5, 37, 29), dtype=np.float32)
    b = rng.standard_normal((5, 29, 41), dtype=np.float32)
    bmm = fc.compile_mlir(fc.jit(lambda a, b: fc.batch_matmul(a, b)).lower(a, b).source,
                          options=options)
    assert_close(bmm(a, b), a.astype(np.float64) @ b, reduction=29)
    x = rng.standard_normal((3, 4, 11, 13), dtype=np.float32)
    w = rng.standard_normal((6, 4, 3, 3), dtype=np.float32)
    conv = fc.jit(lambda x: fc.conv2d(x, w, padding=1))
    tuned = fc.compile_mlir(conv.lower(x).source, options=options)
    expected = ref.conv2d(x.astype(np.float64), w.astype(np.float64), padding=1)
    assert_close(tuned(x), expected, reduction=4 * 9)


def test_batch_loop_rule():
    """The runtime's rule for a default batch loop (Ukernels.h): calls too
    small to split spread over the threads when the batch is worth a fork;
    larger calls when the batch fills the threads with at most 1/8 idle."""
    rule = fc._flashcompile.batch_in_parallel
    assert rule(16, 480_000, 2)              # small calls, 7.7 MFLOP in all
    assert not rule(3, 480_000, 2)           # 1.4 MFLOP in all: not worth a fork
    assert rule(8, 2.1e6, 2) and rule(2, 3.4e7, 2)   # batches that fill 2 threads
    assert not rule(3, 3.4e7, 2)             # 2 rounds for 3 calls: a third idle
    assert rule(9, 3.4e7, 2)                 # 5 rounds for 9: a tenth idle
    assert not rule(4, 2.1e6, 8)             # half of 8 threads idle: split each call
    assert not rule(8, 2.1e6, 1) and not rule(1, 1e9, 2)


@pytest.mark.parametrize("batch", [2, 3, 8])
def test_batch_loop_follows_the_thread_count(rng, batch):
    """Default batch loops choose at run time: one compiled program gives
    the same results after fc.set_num_threads changes which loop runs."""
    a = rng.standard_normal((batch, 70, 130), dtype=np.float32)
    b = rng.standard_normal((batch, 130, 150), dtype=np.float32)   # 2.7 MFLOP a call
    bmm = fc.compile_mlir(fc.jit(lambda a, b: fc.batch_matmul(a, b)).lower(a, b).source)
    before = fc.get_num_threads()
    try:
        for threads in (1, 2, before):
            fc.set_num_threads(threads)
            assert_close(bmm(a, b), a.astype(np.float64) @ b, reduction=130)
    finally:
        fc.set_num_threads(before)


@pytest.mark.parametrize("n,c,h,o,k,stride,pad,dil", [
    (3, 4, 11, 6, 3, 1, 1, 1), (8, 5, 13, 7, 3, 2, 1, 1), (2, 3, 12, 5, 2, 1, 0, 2),
    (1, 4, 9, 8, 3, 1, 1, 1), (16, 1, 28, 6, 5, 1, 2, 1), (16, 3, 10, 20, 3, 1, 0, 1)])
def test_conv_batch_as_columns(rng, n, c, h, o, k, stride, pad, dil):
    """A batch of images as one matrix product (conv-batch-as-columns=true)
    gives the per-image lowering's results (=false), and the default (auto)
    takes the one the runtime's rule names, with a bias and a fused relu,
    on shapes the 6x16 tile does not divide."""
    x = rng.standard_normal((n, c, h, h), dtype=np.float32)
    w = rng.standard_normal((o, c, k, k), dtype=np.float32)
    b = rng.standard_normal((o,), dtype=np.float32)
    src = fc.jit(lambda t: fc.relu(fc.conv2d(t, w, b, stride=stride, padding=pad,
                                             dilation=dil))).lower(x).source
    per_image = fc.compile_mlir(src, options="conv-batch-as-columns=false")
    columns = fc.compile_mlir(src, options="conv-batch-as-columns=true")
    default = fc.compile_mlir(src)
    if n > 1:
        assert "linalg.matmul" in columns.ir("linalg") and "linalg.matmul" not in per_image.ir("linalg")
    oh = (h + 2 * pad - dil * (k - 1) - 1) // stride + 1
    one_product = fc._flashcompile.conv_batch_as_columns(n, oh * oh)
    assert one_product == ((n, oh) == (16, 8))  # 16 x 64 pixels: one product
    assert ("linalg.matmul" in default.ir("linalg")) == one_product
    expected = np.maximum(ref.conv2d(x.astype(np.float64), w.astype(np.float64), b, stride, pad,
                                     dil), 0)
    for lowering in (columns, per_image, default):
        assert_close(lowering(x), expected, reduction=c * k * k)


def test_conv_batch_as_columns_bad_value_is_a_clear_error():
    x = np.ones((2, 3, 8, 8), np.float32)
    w = np.ones((4, 3, 3, 3), np.float32)
    with pytest.raises(ValueError, match="batch-as-columns must be auto, true or false, got 'maybe'"):
        fc.compile(lambda t: fc.conv2d(t, w), (x,), options="conv-batch-as-columns=maybe")


@pytest.mark.parametrize("options", ["", "sgemm=18,40,40,2", "sgemm=0,64,0,1", "sgemm=0,0,0,0,1",
                                     "constant-panels=false"])
@pytest.mark.parametrize("m,k,n", [(64, 784, 512), (5, 33, 17), (145, 257, 40), (300, 100, 1000)])
def test_constant_b_in_compiled_panels(rng, options, m, k, n):
    """A constant B (weights) is packed into the ukernel's 16-wide panels
    when compiling: right on ragged N, fewer rows than the tile, several A
    blocks, K slices, NC blocks and column stripes over two threads; a
    non-default register tile (4x24) or constant-panels=false keeps B as
    it is."""
    a = rng.standard_normal((m, k), dtype=np.float32)
    w = rng.standard_normal((k, n), dtype=np.float32)
    compiled = fc.compile_mlir(fc.jit(lambda x: fc.matmul(x, w)).lower(a).source, options=options)
    panels = "flash_matmul_panels_f32" in compiled.ir("loops")
    assert panels == (options not in ("sgemm=0,0,0,0,1", "constant-panels=false"))
    assert_close(compiled(a), a.astype(np.float64) @ w, reduction=k)


@pytest.mark.parametrize("options", ["", "sgemm=0,0,0,2", "sgemm=12,40,40,2", "sgemm=0,0,0,0,1",
                                     "constant-panels=false", "implicit-gemm=false"])
@pytest.mark.parametrize("n,c,h,o", [(2, 5, 9, 13), (1, 8, 4, 130), (16, 3, 8, 7)])
def test_constant_filter_in_compiled_panels(rng, options, n, c, h, o):
    """A convolution's constant filter (the product's A) is packed into
    6-row panels when compiling, per image or as one product over the
    batch: right with O not a multiple of 6, row stripes over two threads
    (O = 130 > OH*OW), A blocks and K slices; tile 1 or constant-panels=false
    keep it as it is."""
    x = rng.standard_normal((n, c, h, h), dtype=np.float32)
    w = rng.standard_normal((o, c, 3, 3), dtype=np.float32)
    b = rng.standard_normal((o,), dtype=np.float32)
    conv = fc.jit(lambda t: fc.conv2d(t, w, b, padding=1))
    compiled = fc.compile_mlir(conv.lower(x).source, options=options)
    # The filter's panels are a global of their own (read by the im2col
    # call, or by the panels call with implicit-gemm=false).
    panels = "_a_panels" in compiled.ir("loops")
    assert panels == (options not in ("sgemm=0,0,0,0,1", "constant-panels=false"))
    xd, wd = x.astype(np.float64), w.astype(np.float64)
    pad = np.pad(xd, ((0, 0), (0, 0), (1, 1), (1, 1)))
    ref = np.zeros((n, o, h, h))
    for i in range(3):
        for j in range(3):
            ref += np.einsum("nchw,oc->nohw", pad[:, :, i:i + h, j:j + h], wd[:, :, i, j])
    ref += b[None, :, None, None]
    assert_close(compiled(x), ref, reduction=c * 9)


def conv_reference(x, w, b, stride, pad, dilation):
    """NumPy float64 convolution (NCHW, FCHW), tap by tap."""
    xd, wd = x.astype(np.float64), w.astype(np.float64)
    n, c, h, wid = x.shape
    o, _, kh, kw = w.shape
    xp = np.pad(xd, ((0, 0), (0, 0), (pad[0], pad[0]), (pad[1], pad[1])))
    oh = (h + 2 * pad[0] - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (wid + 2 * pad[1] - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    ref = np.zeros((n, o, oh, ow)) + b[None, :, None, None]
    for i in range(kh):
        for j in range(kw):
            y0, x0 = i * dilation[0], j * dilation[1]
            patch = xp[:, :, y0:y0 + stride[0] * (oh - 1) + 1:stride[0],
                       x0:x0 + stride[1] * (ow - 1) + 1:stride[1]]
            ref += np.einsum("nchw,oc->nohw", patch, wd[:, :, i, j])
    return ref


@pytest.mark.parametrize("n,c,h,w,o,k,stride,pad,dilation", [
    (1, 8, 10, 10, 16, (3, 3), (1, 1), (1, 1), (1, 1)),     # one panel, tile-aligned O
    (2, 3, 17, 13, 7, (3, 3), (2, 2), (1, 1), (1, 1)),      # stride 2, odd sizes, a batch
    (1, 5, 9, 11, 33, (5, 3), (1, 1), (2, 1), (1, 1)),      # non-square window and padding
    (1, 4, 12, 12, 8, (3, 3), (2, 2), (0, 0), (2, 2)),      # dilated, unpadded
    (1, 6, 8, 8, 6, (1, 3), (3, 3), (1, 1), (1, 1)),        # stride 3 (the portable packer)
    (1, 3, 30, 31, 20, (7, 7), (2, 2), (3, 3), (1, 1)),     # a stem
    (1, 64, 20, 20, 70, (3, 3), (1, 1), (1, 1), (1, 1)),    # several A blocks over O, K slices
    (2, 32, 7, 7, 150, (3, 3), (1, 1), (1, 1), (1, 1)),     # 7-wide rows: many runs per panel
    (1, 17, 70, 70, 19, (3, 3), (2, 2), (1, 1), (1, 1)),    # several NC blocks, column stripes
    # Unit strides with output rows as long as the input's: a panel's k
    # row is one shifted masked load (packPanelFlatAvx512), whatever the
    # row length.
    (1, 6, 5, 3, 10, (3, 3), (1, 1), (1, 1), (1, 1)),       # 3-wide rows: 16 lanes span 6 rows
    (1, 4, 11, 9, 12, (3, 3), (1, 1), (2, 2), (2, 2)),      # dilated, padded to the same size
    (1, 7, 14, 14, 40, (5, 5), (1, 1), (2, 2), (1, 1)),     # 5x5 on 14x14
    (1, 5, 1, 40, 6, (1, 3), (1, 1), (0, 1), (1, 1)),       # one row
    # Patch embeddings (window == stride 16 or 4: a window row's taps
    # packed together by a transpose or permutes):
    (1, 3, 64, 64, 20, (16, 16), (16, 16), (0, 0), (1, 1)),  # ViT's, 16 pixels, a partial panel
    (2, 5, 36, 226, 9, (4, 4), (4, 4), (0, 0), (1, 1)),      # Swin's, 56-wide rows, 2 columns unread
    (1, 20, 48, 50, 8, (16, 16), (16, 16), (0, 0), (1, 1)),  # K = 5120: windows split across K slices
    (1, 3, 30, 30, 12, (4, 4), (4, 4), (1, 1), (1, 1)),      # padded: edge runs tap by tap
])
def test_implicit_gemm_conv(rng, threads, n, c, h, w, o, k, stride, pad, dilation):
    """A convolution's product gathers its patches from the (padded) input
    while packing them (flash_conv_im2col_f32, no im2col buffer): right
    against NumPy on strides 1-3, dilation, uneven windows and padding,
    rows that do not fill a panel, O not a multiple of the tile, on one and
    two threads, with a bias + ReLU epilogue and with a residual add."""
    x = rng.standard_normal((n, c, h, w), dtype=np.float32)
    wt = (rng.standard_normal((o, c) + k) / np.sqrt(c * k[0] * k[1])).astype(np.float32)
    b = rng.standard_normal((o,), dtype=np.float32)
    ref = conv_reference(x, wt, b, stride, pad, dilation)
    res = rng.standard_normal(ref.shape, dtype=np.float32)

    def conv(t):
        return fc.conv2d(t, wt, b, stride=stride, padding=pad, dilation=dilation)

    for fn, args, expect in ((lambda t: fc.relu(conv(t)), (x,), np.maximum(ref, 0)),
                             (lambda t, r: conv(t) + r, (x, res), ref + res)):
        # (3x3 stride-1 layers this size would run by Winograd: not here.)
        compiled = fc.compile_mlir(fc.jit(fn).lower(*args).source, options="winograd=false")
        assert "flash_conv_im2col_f32" in compiled.ir("loops")
        # The zero padding is read as zeros, not copied into a buffer.
        assert "memref.copy" not in compiled.ir("loops") or pad == (0, 0)
        assert_close(compiled(*args), expect, reduction=c * k[0] * k[1])


@pytest.mark.parametrize("n,c,h,w,o,k,stride,pad,dilation", [
    (1, 3, 64, 64, 16, (3, 3), (2, 2), (1, 1), (1, 1)),     # a MobileNetV3 stem: one block
    (1, 3, 96, 96, 32, (3, 3), (2, 2), (1, 1), (1, 1)),     # two blocks, row bands on 2 threads
    (2, 3, 37, 35, 24, (3, 3), (1, 1), (1, 1), (1, 1)),     # stride 1, 16 + 8 channels, 16+16+3 pixels
    (3, 1, 28, 28, 6, (5, 5), (1, 1), (2, 2), (1, 1)),      # LeNet-5's first layer
    (1, 4, 41, 50, 40, (5, 5), (2, 2), (2, 2), (1, 1)),     # 4 channels, 16 + 16 + 8 outputs
    (1, 2, 20, 33, 17, (3, 5), (2, 1), (1, 2), (2, 1)),     # uneven window, row dilation, 16 + 1
    (1, 3, 30, 47, 70, (7, 7), (2, 2), (3, 3), (1, 1)),     # a ResNet stem, ragged everything
    (1, 3, 40, 40, 9, (3, 3), (2, 2), (0, 0), (1, 1)),      # unpadded
    (1, 1, 6, 90, 5, (1, 70), (1, 1), (0, 3), (1, 1)),      # a 70-wide window
])
def test_direct_conv_over_few_channels(rng, threads, n, c, h, w, o, k, stride, pad, dilation):
    """Convolutions over at most four input channels (a network's stem)
    run by the direct kernel on AVX-512 hosts (DirectConv.cpp; the implicit
    GEMM elsewhere and with FLASH_CONV_DIRECT=0): right against NumPy with
    channel counts that fill 16-channel blocks and ones that do not, rows
    that end in a partial vector, padding on every side and none, strides
    1 and 2, on one and two threads; epilogues in registers (bias + ReLU,
    a residual, a clamp) and after the row (hardswish)."""
    from flashcompile import sgemm
    oh = (h + 2 * pad[0] - dilation[0] * (k[0] - 1) - 1) // stride[0] + 1
    ow = (w + 2 * pad[1] - (k[1] - 1) - 1) // stride[1] + 1
    assert sgemm.conv_runs_direct(c, stride[1], dilation[1], ow, True)
    x = rng.standard_normal((n, c, h, w), dtype=np.float32)
    wt = (rng.standard_normal((o, c) + k) / np.sqrt(c * k[0] * k[1])).astype(np.float32)
    b = rng.standard_normal((o,), dtype=np.float32)
    ref = conv_reference(x, wt, b, stride, pad, dilation)
    assert ref.shape == (n, o, oh, ow)
    res = rng.standard_normal(ref.shape, dtype=np.float32)

    def conv(t):
        return fc.conv2d(t, wt, b, stride=stride, padding=pad, dilation=dilation)

    hardswish = ref * np.clip(ref + 3, 0, 6) / 6
    for fn, args, expect in ((lambda t: fc.relu(conv(t)), (x,), np.maximum(ref, 0)),
                             (lambda t, r: conv(t) + r, (x, res), ref + res),
                             (lambda t: fc.clip(conv(t), -0.5, 0.75), (x,), np.clip(ref, -0.5, 0.75)),
                             (lambda t: fc.hardswish(conv(t)), (x,), hardswish)):
        compiled = fc.compile_mlir(fc.jit(fn).lower(*args).source)
        assert "flash_conv_im2col_f32" in compiled.ir("loops")
        assert_close(compiled(*args), expect, reduction=c * k[0] * k[1])


def rerun_with(variable: str, tests: str):
    """This file's `tests` (a -k expression) again in a process of its own
    with the environment variable `variable`=... set (the ukernels read
    their switches once per process): they must all pass there too."""
    import os
    import subprocess
    import sys
    name, value = variable.split("=")
    env = dict(os.environ, **{name: value})
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          __file__, "-k", tests],
                         capture_output=True, text=True, env=env, cwd=os.path.dirname(__file__))
    assert out.returncode == 0 and " passed" in out.stdout and "failed" not in out.stdout, \
        out.stdout[-3000:] + out.stderr[-2000:]


def test_direct_conv_matches_the_implicit_gemm():
    """The same stems by the implicit GEMM (FLASH_CONV_DIRECT=0): right
    against NumPy there too (the two sum the taps in different orders)."""
    rerun_with("FLASH_CONV_DIRECT=0", "test_direct_conv_over_few_channels")


def test_implicit_gemm_conv_and_edge_tiles_on_avx2():
    """The implicit GEMM's AVX2 packing, the AVX2 tile's edge tiles and
    the AVX2 one-column product (CPUs without AVX-512) on the same cases, also where the CPU has
    AVX-512: FLASH_NO_AVX512=1 keeps the ukernels on their AVX2 code (a
    process of its own: the choice is made once per process)."""
    rerun_with("FLASH_NO_AVX512=1",
               "(test_implicit_gemm_conv or test_edge_tiles or test_one_column) and not avx2")


@pytest.mark.parametrize("k", [1, 3, 5])
def test_implicit_gemm_reads_an_input_the_epilogue_overwrites(rng, threads, k):
    """y = relu(conv(x) + x) with x an intermediate: bufferization may write
    the sum in place over x, which the implicit GEMM would still be reading
    for later column blocks; it must then read a copy (the padded one, or
    the patches) instead. Same-size windows (padding k // 2, and none for
    1x1), large enough for several column blocks and stripes."""
    c, h = 24, 40
    t = rng.standard_normal((1, c, h, h), dtype=np.float32)
    wt = (rng.standard_normal((c, c, k, k)) / np.sqrt(k * k * c)).astype(np.float32)
    b = rng.standard_normal((c,), dtype=np.float32)
    x = np.maximum(t, 0)
    pad = (k // 2, k // 2)
    conv = conv_reference(x, wt, b, (1, 1), pad, (1, 1))

    def block(u):
        v = fc.relu(u)
        return fc.relu(fc.conv2d(v, wt, b, padding=pad) + v)
    compiled = fc.compile_mlir(fc.jit(block).lower(t).source)
    assert_close(compiled(t), np.maximum(conv + x, 0), reduction=k * k * c)


@pytest.mark.parametrize("n,c,h,o,groups,k,stride,pad", [
    (1, 48, 20, 48, 6, 3, 2, 1),      # RegNet-like: group width 8, stride 2
    (1, 104, 28, 104, 13, 3, 1, 1),   # 13 groups of 8
    (1, 16, 9, 24, 4, 3, 1, 0),       # unpadded, 6 outputs per group
    (1, 12, 11, 18, 3, 5, 2, 2),      # 5x5 window, odd sizes
    (3, 48, 14, 48, 6, 3, 1, 1),      # several images: filter b mod G
    (8, 24, 7, 24, 3, 3, 1, 1),       # RegNet at batch 8, a 7x7 stage
    (2, 12, 11, 18, 3, 5, 2, 2),
    (5, 16, 9, 24, 4, 3, 1, 0),
    (2, 128, 20, 128, 32, 3, 1, 1),   # ResNeXt's 32 groups of 4: the direct kernel's
    (1, 8, 40, 12, 2, 3, 2, 1),       # 2 groups of 4 channels, stride 2 (direct too)
])
def test_grouped_conv_as_products_per_group(rng, threads, n, c, h, o, groups, k, stride, pad):
    """A grouped convolution with several channels per group runs as a
    batch of products over the images' groups (the filter of group b mod
    G), each gathering its patches as it packs them: right against NumPy,
    per image and group, on one and two threads, with a bias and ReLU."""
    x = rng.standard_normal((n, c, h, h), dtype=np.float32)
    w = (rng.standard_normal((o, c // groups, k, k)) / np.sqrt(k * k * c // groups)).astype(np.float32)
    b = rng.standard_normal((o,), dtype=np.float32)
    cg, og = c // groups, o // groups
    ref = np.concatenate([conv_reference(x[:, i * cg:(i + 1) * cg], w[i * og:(i + 1) * og],
                                         b[i * og:(i + 1) * og], (stride, stride), (pad, pad), (1, 1))
                          for i in range(groups)], axis=1)
    compiled = fc.compile_mlir(fc.jit(lambda t: fc.relu(fc.conv2d(
        t, w, b, stride=stride, padding=pad, groups=groups))).lower(x).source)
    assert "flash_conv_im2col_f32" in compiled.ir("loops")
    assert_close(compiled(x), np.maximum(ref, 0), reduction=k * k * cg)


# Edge tiles of the AVX-512 6x32 tile (Sgemm.cpp: edgeTile): every row
# remainder 1-5 of the 6-row panels and column remainders through each
# width block: 1-2 (microkernelNarrow, alone or after 32), 3-8, 9-16,
# 17-18 (16 + 1 or 2 riding on the 16-wide tile), 19-24 (16 + 8), 25-31
# (32), one past a tile.
EDGE_ROWS = [1, 2, 3, 4, 5, 7, 11, 12 + 5, 32]
EDGE_COLS = [1, 2, 3, 4, 8, 9, 16, 17, 18, 20, 24, 25, 31, 33, 36, 49, 50]


@pytest.mark.parametrize("m", EDGE_ROWS)
def test_edge_tiles_plain_operands(rng, threads, m):
    for n in EDGE_COLS:
        a = rng.standard_normal((m, 70), dtype=np.float32)
        b = rng.standard_normal((70, n), dtype=np.float32)
        assert_close(fc.matmul(a, b), a.astype(np.float64) @ b, reduction=70)


@pytest.mark.parametrize("n", EDGE_COLS)
def test_edge_tiles_with_compiled_panels_and_epilogue(rng, n):
    """Constant B in compiled 16-wide panels (the second 16 columns one
    panel on) with a bias + ReLU epilogue shifted to each column block;
    K = 300 runs as two slices, the epilogue on the last."""
    m, k = 13, 300
    a = rng.standard_normal((m, k), dtype=np.float32)
    w = rng.standard_normal((k, n), dtype=np.float32)
    bias = rng.standard_normal((n,), dtype=np.float32)
    fn = fc.jit(lambda x: fc.relu(fc.add(fc.matmul(x, w), bias)))
    expected = np.maximum(a.astype(np.float64) @ w + bias, 0)
    assert_close(fn(a), expected, reduction=k)


@pytest.mark.parametrize("o,h", [(32, 7), (5, 7), (64, 4), (13, 5)])
def test_edge_tiles_conv_with_residual(rng, threads, o, h):
    """A convolution over a 7x7 image (49 columns: 32 + 16 + 1) with a
    constant filter in 6-row panels, O not a multiple of 6, and bias,
    residual add and ReLU in the epilogue."""
    x = rng.standard_normal((1, 16, h, h), dtype=np.float32)
    w = rng.standard_normal((o, 16, 3, 3), dtype=np.float32)
    b = rng.standard_normal((o,), dtype=np.float32)
    r = rng.standard_normal((1, o, h, h), dtype=np.float32)
    fn = fc.jit(lambda t, res: fc.relu(fc.add(fc.conv2d(t, w, b, padding=1), res)))
    expected = np.maximum(conv_reference(x, w, b, (1, 1), (1, 1), (1, 1)) + r, 0)
    assert_close(fn(x, r), expected, reduction=16 * 9)


@pytest.mark.parametrize("o,c,h", [(64, 16, 56), (50, 20, 37), (13, 7, 17), (25, 5, 23)])
def test_rows_outer_pointwise_conv(rng, threads, o, c, h):
    """Shallow, wide products run their 12-row groups outer (Sgemm.cpp's
    sgemmRowsOuter: more than 12 rows, at least 256 columns, B's block in
    half of L2): 1x1 convolutions with compiled filter panels, O not a
    multiple of 12 (a group of fewer rows, tall and 6-row tiles mixed),
    columns not a multiple of 32, and bias, residual and ReLU applied as
    each tile is stored; and a plain product with B read in place."""
    x = rng.standard_normal((1, c, h, h), dtype=np.float32)
    w = rng.standard_normal((o, c, 1, 1), dtype=np.float32)
    b = rng.standard_normal((o,), dtype=np.float32)
    r = rng.standard_normal((1, o, h, h), dtype=np.float32)
    fn = fc.jit(lambda t, res: fc.relu(fc.add(fc.conv2d(t, w, b), res)))
    expected = np.maximum(conv_reference(x, w, b, (1, 1), (0, 0), (1, 1)) + r, 0)
    assert_close(fn(x, r), expected, reduction=c)
    a = rng.standard_normal((o, c), dtype=np.float32)
    bm = rng.standard_normal((c, h * h), dtype=np.float32)
    assert_close(fc.matmul(a, bm), a.astype(np.float64) @ bm, reduction=c)


@pytest.mark.parametrize("o,c", [(240, 960), (960, 240), (5, 7), (6, 8), (13, 9),
                                 (2, 1), (1, 17), (100, 16), (7, 4), (48, 1152), (12, 3)])
def test_one_column_from_panels(rng, threads, o, c):
    """A product with one column and a constant A (a 1x1 convolution over a
    1x1 image: squeeze-and-excitation's layers) runs Sgemm.cpp's
    gemvPanels over the filter's compiled 6-row panels: O not a multiple
    of 6 (a zero-padded last panel), C not a multiple of the 8 (4 with
    AVX2) k-steps a group of vectors covers, bias, residual and ReLU; and
    a plain constant-weight matrix-vector product."""
    x = rng.standard_normal((1, c, 1, 1), dtype=np.float32)
    w = rng.standard_normal((o, c, 1, 1), dtype=np.float32)
    b = rng.standard_normal((o,), dtype=np.float32)
    r = rng.standard_normal((1, o, 1, 1), dtype=np.float32)
    fn = fc.jit(lambda t, res: fc.relu(fc.add(fc.conv2d(t, w, b), res)))
    compiled = fc.compile_mlir(fn.lower(x, r).source)
    assert "_a_panels" in compiled.ir("loops")
    expected = np.maximum(conv_reference(x, w, b, (1, 1), (0, 0), (1, 1)) + r, 0)
    assert_close(compiled(x, r), expected, reduction=c)
    a = rng.standard_normal((o, c), dtype=np.float32)
    v = rng.standard_normal((c, 1), dtype=np.float32)
    assert_close(fc.jit(lambda t: fc.matmul(a, t))(v), a.astype(np.float64) @ v, reduction=c)


@pytest.mark.parametrize("k", [11, 16, 3])
def test_one_column_from_panels_non_finite(rng, k):
    """An infinite weight reaches its own row only: the vectors over a
    panel's last, partial group of k-steps must not read the next panel's
    values (inf * 0 would be NaN in rows 0-5); and a NaN in the vector
    reaches every row, as in NumPy."""
    a = rng.standard_normal((13, k), dtype=np.float32)
    a[6, 0] = np.inf  # the second panel's first value
    a[12, k - 1] = -np.inf  # the last panel's last value
    v = np.abs(rng.standard_normal((k, 1), dtype=np.float32)) + 0.5
    fn = fc.jit(lambda t: fc.matmul(a, t))
    got = np.asarray(fn(v))
    finite = [r for r in range(13) if r not in (6, 12)]
    assert np.isfinite(got[finite]).all(), got.ravel()
    assert got[6, 0] == np.inf and got[12, 0] == -np.inf
    assert_close(got[finite], a[finite].astype(np.float64) @ v, reduction=k)
    v[k - 1, 0] = np.nan
    assert np.isnan(np.asarray(fn(v))).all()
