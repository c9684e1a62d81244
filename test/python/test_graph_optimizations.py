"""Graph-level optimizations on whole models: what each rewrites (seen in
the graph stage's IR), that the result still matches torch on odd shapes
and on one and two threads, and that switching each off (its pipeline
option) gives the same numbers."""
import numpy as np
import pytest

import flashcompile as fc

torch = pytest.importorskip("torch")


def _bn(channels, g):
    bn = torch.nn.BatchNorm2d(channels)
    with torch.no_grad():
        bn.running_mean.copy_(torch.randn(channels, generator=g))
        bn.running_var.copy_(torch.rand(channels, generator=g) + 0.5)
        bn.weight.copy_(torch.rand(channels, generator=g) + 0.5)
        bn.bias.copy_(torch.randn(channels, generator=g))
    return bn


def _conv_bn_block(g):
    """Conv+BN(+ReLU) in the forms CNNs use them: 3x3 with bias, strided
    without bias, depthwise, 1x1, and a BN whose input is also used
    elsewhere (a residual), which must not fold."""
    torch.manual_seed(0)

    class Block(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.c1, self.b1 = torch.nn.Conv2d(3, 7, 3, padding=1), _bn(7, g)
            self.c2, self.b2 = torch.nn.Conv2d(7, 7, 3, stride=2, bias=False), _bn(7, g)
            self.c3, self.b3 = torch.nn.Conv2d(7, 7, 3, padding=1, groups=7, bias=False), _bn(7, g)
            self.c4, self.b4 = torch.nn.Conv2d(7, 5, 1), _bn(5, g)

        def forward(self, x):
            x = torch.relu(self.b1(self.c1(x)))
            x = torch.relu(self.b2(self.c2(x)))
            x = torch.relu(self.b3(self.c3(x))) + x
            return self.b4(self.c4(x))
    return Block().eval()


@pytest.mark.parametrize("threads", [1, 2])
def test_batch_norm_folds_into_convolutions(threads):
    g = torch.Generator().manual_seed(3)
    model = _conv_bn_block(g)
    x = torch.randn(2, 3, 13, 11, generator=g)
    with torch.no_grad():
        want = model(x).numpy()
    before = fc.get_num_threads()
    fc.set_num_threads(threads)
    try:
        folded = fc.from_pytorch(model, (x,))
        plain = fc.from_pytorch(model, (x,), options="fold-batch-norm=false")
        np.testing.assert_allclose(folded(x.numpy()), want, rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(plain(x.numpy()), want, rtol=1e-4, atol=1e-4)
    finally:
        fc.set_num_threads(before)
    graph = folded.compiled.ir("graph")
    # Every batch norm became the convolution's weights: no per-channel
    # multiply is left, and the only adds are the residual's.
    assert graph.count("flash.conv2d") == 4
    assert "flash.mul" not in graph
    assert graph.count("flash.add") == 1
    unfolded = plain.compiled.ir("graph")
    assert unfolded.count("flash.mul") == 4 and unfolded.count("flash.add") == 5


def test_folding_leaves_shared_convolutions_alone():
    """A convolution whose output is also used unnormalized keeps its own
    weights: folding would change the other use."""
    g = torch.Generator().manual_seed(4)

    class Shared(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.bn = torch.nn.Conv2d(3, 4, 3), _bn(4, g)

        def forward(self, x):
            y = self.conv(x)
            return self.bn(y) + y

    model = Shared().eval()
    x = torch.randn(1, 3, 9, 9, generator=g)
    imported = fc.from_pytorch(model, (x,))
    with torch.no_grad():
        np.testing.assert_allclose(imported(x.numpy()), model(x).numpy(), rtol=1e-4, atol=1e-4)
    assert "flash.mul" in imported.compiled.ir("graph")


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("n,c,o,h,w", [(1, 8, 6, 5, 7), (3, 13, 17, 9, 11), (1, 64, 32, 14, 14)])
def test_pointwise_convolution_is_a_plain_product(threads, n, c, o, h, w):
    """A 1x1 convolution runs as a matrix product over the input itself: no
    im2col gather in the IR, none priced by the cost analysis, and the
    numbers of an einsum."""
    rng = np.random.default_rng(n * c + o)
    x = rng.standard_normal((n, c, h, w), dtype=np.float32)
    wt = (rng.standard_normal((o, c, 1, 1), dtype=np.float32) / np.sqrt(c)).astype(np.float32)
    b = rng.standard_normal(o, dtype=np.float32)
    before = fc.get_num_threads()
    fc.set_num_threads(threads)
    try:
        got = fc.conv2d(x, wt, b)
    finally:
        fc.set_num_threads(before)
    want = np.einsum("oc,nchw->nohw", wt[:, :, 0, 0], x) + b[None, :, None, None]
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    compiled = fc.lower(fc.conv2d, x, wt, b, stride=1, padding=0,
                        dilation=1, groups=1)
    kernel = fc.cost_analysis(compiled)["kernels"][0]
    # Image by image nothing is gathered; a batch run as one product over
    # all images still copies them into its columns.
    from flashcompile.sgemm import conv_batch_as_columns
    assert kernel["copy_row"] == (w if n > 1 and conv_batch_as_columns(n, h * w) else 0)
    three = fc.lower(fc.conv2d, x, np.ones((o, c, 3, 3), np.float32), None, stride=1, padding=1,
                     dilation=1, groups=1)
    assert compiled.ir("linalg").count("linalg.generic") < three.ir("linalg").count("linalg.generic")


class _Fire(torch.nn.Module):
    """SqueezeNet's fire module: a 1x1 squeeze, then 1x1 and 3x3 expands
    (bias and ReLU each) concatenated over channels."""

    def __init__(self, c, s, e):
        super().__init__()
        self.squeeze = torch.nn.Conv2d(c, s, 1)
        self.e1, self.e3 = torch.nn.Conv2d(s, e, 1), torch.nn.Conv2d(s, e, 3, padding=1)

    def forward(self, x):
        s = torch.relu(self.squeeze(x))
        return torch.cat([torch.relu(self.e1(s)), torch.relu(self.e3(s))], 1)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("c,s,e,h", [(16, 5, 7, 9), (64, 16, 64, 15), (24, 8, 33, 13)])
def test_concatenated_branches_keep_their_epilogues(threads, c, s, e, h):
    """Each branch of a concatenation runs its bias and ReLU in its
    product's epilogue: no loop nest is left for them, only the copies
    into the concatenation (the pieces' buffers are allocated between
    product and ReLU, and bufferization hands a product's dead buffer to
    the next branch). Matches torch, and the program compiled with
    fuse-epilogue=false."""
    torch.manual_seed(c + e)
    model = _Fire(c, s, e).eval()
    x = torch.randn(1, c, h, h)
    with torch.no_grad():
        want = model(x).numpy()
    before = fc.get_num_threads()
    fc.set_num_threads(threads)
    try:
        m = fc.from_pytorch(model, (x,))
        got = m(x.numpy())
        unfused = fc.compile_mlir(m.compiled.source, options="fuse-epilogue=false")
        plain = unfused(x.numpy())
    finally:
        fc.set_num_threads(before)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(plain, want, rtol=1e-4, atol=1e-4)
    loops = m.compiled.ir("loops")
    # Three products, each in its serial and parallel batch variants, all
    # with their epilogues; the only loop nests left are the two copies.
    calls = [c for c in ("flash_matmul_epilogue_f32", "flash_conv_winograd_f32",
                         "flash_conv_im2col_f32") if f"call @{c}(" in loops]
    assert "flash_matmul_epilogue_f32" in calls and len(calls) == 2
    assert "call @flash_matmul_f32(" not in loops and "call @flash_matmul_panels_f32(" not in loops
    assert loops.count("arith.maximumf") == 0
