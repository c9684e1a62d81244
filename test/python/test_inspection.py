"""Every stage's IR can be printed from Python; compile_mlir runs text IR."""
import numpy as np

import flashcompile as fc

f32 = np.float32


def test_stage_names_in_order():
    assert fc.stage_names() == ["flash", "graph", "linalg", "bufferized", "loops", "llvm", "llvm-ir", "asm"]


def test_every_stage_of_conv2d():
    x, w, b = np.ones((1, 2, 6, 6), f32), np.ones((3, 2, 3, 3), f32), np.ones(3, f32)
    c = fc.lower(fc.conv2d, x, w, b, stride=2, padding=1)
    assert c.stages == fc.stage_names()
    assert "flash.conv2d" in c.ir("flash")
    linalg = c.ir("linalg")
    # By default the convolution becomes im2col + a matrix product (no Flash
    # op is left; the gather carries its window for the implicit GEMM) ...
    assert "tensor.pad" in linalg and "tensor.collapse_shape" in linalg
    assert "flash.im2col = array<i64: 3, 3, 2, 2, 1, 1>" in linalg
    assert "flash." not in linalg.replace("flash.im2col =", "")
    assert "linalg.conv_2d_nchw_fchw" not in linalg
    buf = c.ir("bufferized")
    assert "memref<1x3x3x3xf32>" in buf
    assert "tensor.pad" not in buf and "tensor<1x" not in buf
    loops = c.ir("loops")
    assert "scf.for" in loops and "linalg." not in loops
    # ... run by the sgemm ukernel, which gathers the patches as it packs
    # them (and reads the padding as zeros: no padded copy is left)
    assert "call @flash_conv_im2col_f32" in loops and "memref<1x2x8x8xf32>" not in loops
    llvm = c.ir("llvm")
    assert "llvm.func @conv2d" in llvm and "scf.for" not in llvm
    assert "define void @conv2d(" in c.llvm_ir()
    assert "conv2d:" in c.asm()


def test_dump_writes_every_stage(tmp_path):
    c = fc.lower(fc.matmul, np.ones((2, 3), f32), np.ones((3, 4), f32))
    paths = c.dump(str(tmp_path))
    names = [p.rsplit("/", 1)[1] for p in paths]
    assert names == ["00-flash.mlir", "01-graph.mlir", "02-linalg.mlir", "03-bufferized.mlir",
                     "04-loops.mlir", "05-llvm.mlir", "06-llvm-ir.ll", "07-asm.s"]
    assert "linalg.matmul" in (tmp_path / "02-linalg.mlir").read_text()


def test_compile_mlir_multiple_results(rng):
    src = """
    func.func @layer(%x: tensor<4x8xf32>, %w: tensor<8x5xf32>, %b: tensor<5xf32>)
        -> (tensor<4x5xf32>, tensor<4x5xf32>) {
      %0 = flash.matmul %x, %w : (tensor<4x8xf32>, tensor<8x5xf32>) -> tensor<4x5xf32>
      %1 = flash.add %0, %b : (tensor<4x5xf32>, tensor<5xf32>) -> tensor<4x5xf32>
      %2 = flash.relu %1 : tensor<4x5xf32>
      return %1, %2 : tensor<4x5xf32>, tensor<4x5xf32>
    }"""
    c = fc.compile_mlir(src)
    assert c.input_shapes == [(4, 8), (8, 5), (5,)]
    x, w, b = (rng.standard_normal(s).astype(f32) for s in c.input_shapes)
    pre, post = c(x, w, b)
    ref = x.astype(np.float64) @ w + b
    np.testing.assert_allclose(pre, ref, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(post, np.maximum(ref, 0), rtol=1e-4, atol=1e-5)


def test_constant_folded_into_module(rng):
    src = """
    func.func @f(%x: tensor<2x2xf32>) -> tensor<2x2xf32> {
      %c = flash.constant dense<[[1.0, -2.0], [3.0, -4.0]]> : tensor<2x2xf32>
      %0 = flash.add %x, %c : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
      return %0 : tensor<2x2xf32>
    }"""
    x = rng.standard_normal((2, 2)).astype(f32)
    np.testing.assert_allclose(fc.compile_mlir(src)(x), x + np.array([[1, -2], [3, -4]], f32))


def test_return_input_and_constant_directly():
    src = """
    func.func @f(%x: tensor<3xf32>) -> (tensor<3xf32>, tensor<2xf32>) {
      %c = flash.constant dense<[5.0, 6.0]> : tensor<2xf32>
      return %x, %c : tensor<3xf32>, tensor<2xf32>
    }"""
    x = np.array([1, 2, 3], f32)
    a, c = fc.compile_mlir(src)(x)
    np.testing.assert_array_equal(a, x)
    np.testing.assert_array_equal(c, [5, 6])


def test_generated_vectors_stay_register_sized():
    """Guard against vector IR of the wrong shape (a vector<1024x1024xf32>
    makes LLVM's backend take minutes and gigabytes): after LLVM's own
    vectorizer, no vector in a large fused chain or matmul module is wider
    than one 512-bit register (16 floats)."""
    import re
    n = 1 << 22
    chain = f"""func.func @chain(%x: tensor<{n}xf32>, %y: tensor<{n}xf32>) -> tensor<{n}xf32> {{
      %0 = flash.add %x, %y : (tensor<{n}xf32>, tensor<{n}xf32>) -> tensor<{n}xf32>
      %1 = flash.relu %0 : tensor<{n}xf32>
      return %1 : tensor<{n}xf32>
    }}"""
    for src, options in [(chain, ""), (chain, "parallel-min-iterations=0")]:
        ir = fc.compile_mlir(src, options=options).llvm_ir()
        widths = [int(w) for w in re.findall(r"<(\d+) x float>", ir)]
        assert widths, "expected LLVM to vectorize the elementwise loop"
        assert max(widths) <= 16, max(widths)
    mm = fc.lower(fc.matmul, np.ones((300, 200), f32), np.ones((200, 100), f32))
    widths = [int(w) for w in re.findall(r"<(\d+) x float>", mm.llvm_ir())]
    assert not widths or max(widths) <= 16
