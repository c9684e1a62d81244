"""Fused elementwise chains and folded constants compute what NumPy does,
with fusion on and off, on aligned and unaligned shapes."""
import numpy as np
import pytest

import flashcompile as fc
from conftest import assert_close

CHAIN = """
func.func @chain(%x: tensor<{m}x{n}xf32>, %b: tensor<{n}xf32>, %r: tensor<{m}x1xf32>) -> tensor<{m}x{n}xf32> {{
  %0 = flash.add %x, %b : (tensor<{m}x{n}xf32>, tensor<{n}xf32>) -> tensor<{m}x{n}xf32>
  %1 = flash.relu %0 : tensor<{m}x{n}xf32>
  %2 = flash.add %1, %r : (tensor<{m}x{n}xf32>, tensor<{m}x1xf32>) -> tensor<{m}x{n}xf32>
  %3 = flash.relu %2 : tensor<{m}x{n}xf32>
  return %3 : tensor<{m}x{n}xf32>
}}"""

DENSE = """
func.func @dense(%x: tensor<{m}x{k}xf32>, %w: tensor<{k}x{n}xf32>, %b: tensor<{n}xf32>) -> tensor<{m}x{n}xf32> {{
  %0 = flash.matmul %x, %w : (tensor<{m}x{k}xf32>, tensor<{k}x{n}xf32>) -> tensor<{m}x{n}xf32>
  %1 = flash.add %0, %b : (tensor<{m}x{n}xf32>, tensor<{n}xf32>) -> tensor<{m}x{n}xf32>
  %2 = flash.relu %1 : tensor<{m}x{n}xf32>
  return %2 : tensor<{m}x{n}xf32>
}}"""

OPTIONS = ["", "fuse-elementwise=false", "fuse-elementwise=false ukernels=false"]


@pytest.mark.parametrize("options", OPTIONS)
@pytest.mark.parametrize("m,n", [(1, 1), (8, 16), (7, 13), (64, 128), (33, 1000)])
def test_elementwise_chain(rng, options, m, n):
    c = fc.compile_mlir(CHAIN.format(m=m, n=n), options=options)
    x, b, r = (rng.standard_normal(s).astype(np.float32) for s in c.input_shapes)
    ref = np.maximum(np.maximum(x.astype(np.float64) + b, 0) + r, 0)
    assert_close(c(x, b, r), ref)


@pytest.mark.parametrize("options", OPTIONS)
@pytest.mark.parametrize("m,k,n", [(1, 784, 128), (64, 784, 128), (5, 7, 3), (256, 128, 10)])
def test_dense_relu(rng, options, m, k, n):
    c = fc.compile_mlir(DENSE.format(m=m, k=k, n=n), options=options)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in c.input_shapes)
    assert_close(c(x, w, b), np.maximum(x.astype(np.float64) @ w + b, 0), reduction=k)


def test_folded_constants_match_numpy():
    src = """
    func.func @f(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
      %a = flash.constant dense<[[1.0, -2.0, 3.0], [-4.0, 5.0, -6.0]]> : tensor<2x3xf32>
      %b = flash.constant dense<[[0.5], [-0.5]]> : tensor<2x1xf32>
      %0 = flash.add %a, %b : (tensor<2x3xf32>, tensor<2x1xf32>) -> tensor<2x3xf32>
      %1 = flash.relu %0 : tensor<2x3xf32>
      %2 = flash.add %x, %1 : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
      return %2 : tensor<2x3xf32>
    }"""
    c = fc.compile_mlir(src)
    assert "arith.constant dense<[[1.500000e+00, 0.000000e+00, 3.500000e+00]" in c.ir("linalg")
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    a = np.array([[1, -2, 3], [-4, 5, -6]], np.float32)
    b = np.array([[0.5], [-0.5]], np.float32)
    np.testing.assert_array_equal(c(x), x + np.maximum(a + b, 0))


@pytest.mark.parametrize("options", ["", "parallel-min-iterations=1", "parallel-min-iterations=0"])
@pytest.mark.parametrize("m,n", [(257, 300), (512, 128), (3, 70001)])
def test_parallel_loops(rng, threads, options, m, n):
    """Generated loops run on all cores (OpenMP) above the threshold: same
    results as NumPy on aligned and unaligned sizes, 1 and 2 threads."""
    c = fc.compile_mlir(CHAIN.format(m=m, n=n), options=options)
    if options != "parallel-min-iterations=0":
        assert "omp.wsloop" in c.ir("loops")
    x, b, r = (rng.standard_normal(s).astype(np.float32) for s in c.input_shapes)
    ref = np.maximum(np.maximum(x.astype(np.float64) + b, 0) + r, 0)
    assert_close(c(x, b, r), ref)
