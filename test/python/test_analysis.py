"""fc.analyze on purpose-built programs: what the generated code is made of,
where it sits on the roofline, and the findings with their evidence."""
import json

import numpy as np

import flashcompile as fc

f32 = np.float32


def test_memory_bound_chain_is_reported(tmp_path):
    x = np.ones(1 << 22, f32)
    c = fc.compile(lambda x, y: fc.relu(x + y) * y, (x, x))
    report = fc.analyze(c, roofline_png=str(tmp_path / "roof.png"))
    kinds = {k for k, _, _ in report.findings}
    assert "memory-bound" in kinds
    assert report.kernels[0]["intensity"] < 1.0
    # The fused loop is vectorized: packed ops at the host's width.
    assert any(l.mix.get("packed", 0) and (l.mix.get("vector256", 0) or l.mix.get("vector512", 0))
               for l in report.loops)
    assert all("block_rthroughput_cycles" in l.mca for l in report.loops)
    json.loads(report.to_json())
    assert "innermost loops:" in str(report)
    assert open(tmp_path / "roof.png", "rb").read(4) == b"\x89PNG"


def test_matmul_is_a_ukernel_call_and_compute_bound():
    a = np.ones((256, 256), f32)
    report = fc.analyze(fc.compile(lambda a, b: fc.matmul(a, b), (a, a)))
    assert report.kernels[0]["bound"] == "compute"
    assert report.kernels[0]["intensity"] > 10
    assert any(m.get("call", 0) for m in report.functions.values())
    assert not any(k == "memory-bound" for k, _, _ in report.findings)


def test_cli(tmp_path):
    import subprocess
    import sys
    src = tmp_path / "chain.mlir"
    src.write_text("""func.func @chain(%x: tensor<1048576xf32>, %y: tensor<1048576xf32>) -> tensor<1048576xf32> {
  %0 = flash.add %x, %y : (tensor<1048576xf32>, tensor<1048576xf32>) -> tensor<1048576xf32>
  %1 = flash.relu %0 : tensor<1048576xf32>
  return %1 : tensor<1048576xf32>
}""")
    out = subprocess.run([sys.executable, "-m", "flashcompile", "analyze", str(src), "--json"],
                         capture_output=True, text=True, check=True).stdout
    data = json.loads(out)
    assert data["program"] == "chain" and data["kernels"][0]["ops"] == "add+relu"
    assert any(f["kind"] == "memory-bound" for f in data["findings"])


def _chain_source(n=1 << 16):
    x = np.ones((64, n // 64), f32)
    return fc.jit(lambda t: fc.tanh(t) * 2.0 + t).lower(x).source


def test_unvectorized_build_is_reported_with_the_reason():
    """The same chain built with LLVM's vectorizers off (a pipeline knob)."""
    report = fc.analyze(fc.compile_mlir(_chain_source(), options="vectorize=false"))
    found = [(m, e) for k, m, e in report.findings if k == "not-vectorized"]
    assert found, report.findings
    assert "vectorize=false" in found[0][0]
    # And vectorized by default: no such finding, and LLVM says it vectorized.
    default = fc.analyze(fc.compile_mlir(_chain_source(), options="ukernels=true"))
    assert not any(k == "not-vectorized" and "chain" in m for k, m, _ in default.findings)
    assert any("vectorized loop" in r for r in default.remarks), default.remarks


def test_narrow_vector_width_is_reported():
    report = fc.analyze(fc.compile_mlir(_chain_source(), options="vector-width=128"))
    assert any(k == "narrow-vectors" for k, _, _ in report.findings)


def test_spill_heavy_register_tile_is_reported_with_its_spills():
    """The 12x32 register tile keeps 48 accumulators for 16 registers."""
    a = np.ones((200, 300), f32)
    src = fc.lower(fc.matmul, a, a.T.copy()).source
    spilling = fc.analyze(fc.compile_mlir(src, options="sgemm=0,0,0,0,4"))
    spills = [(m, e) for k, m, e in spilling.findings if k == "spills"]
    assert spills and "ukernel_12x32" in spills[0][0], spilling.findings
    hot = [l for l in spilling.loops if l.function == "ukernel_12x32"][0]
    assert hot.mix["fma"] >= 48 and hot.mix["stack"] >= 48
    # The default tile (6x16 AVX2, or 6x32 AVX-512) keeps its 12
    # accumulators in registers.
    default = fc.analyze(fc.compile_mlir(src))
    assert not any(k == "spills" for k, _, _ in default.findings)
    mr, nr = fc.sgemm.TILES[0]
    hot = [l for l in default.loops if l.function == f"ukernel_{mr}x{nr}"][0]
    assert hot.mix["fma"] >= 12 and not hot.mix.get("stack")


def test_call_arguments_on_the_stack_are_not_spills():
    """A loop that calls the ukernel once per image builds the call's memref
    descriptors on the stack: stack operands, but no spills (and LLVM's
    remarks do not name any), so no spills finding for it."""
    x = np.ones((4, 16, 20, 20), f32)
    w = np.ones((24, 16, 3, 3), f32)
    report = fc.analyze(fc.compile_mlir(fc.jit(lambda t: fc.conv2d(t, w)).lower(x).source))
    calling = [l for l in report.loops
               if any(c.startswith(("_mlir_ciface_flash_matmul", "_mlir_ciface_flash_conv"))
                      for c in l.calls)]
    assert calling and any(l.mix.get("stack", 0) >= 2 for l in calling), report.loops
    assert not any(k == "spills" for k, _, _ in report.findings), report.findings


def test_tile_remainder_is_reported_only_when_the_tile_does_not_divide():
    ragged = fc.analyze(fc.compile(lambda a, b: fc.matmul(a, b),
                                   (np.ones((100, 300), f32), np.ones((300, 20), f32))))
    found = [(m, e) for k, m, e in ragged.findings if k == "tile-remainder"]
    mr, nr = fc.sgemm.TILES[0]
    assert found and f"{mr}x{nr}" in found[0][0] and "100x20" in found[0][0], ragged.findings
    assert f"remainder {100 % mr} rows, {20 % nr} columns" in found[0][1]
    even = fc.analyze(fc.compile(lambda a, b: fc.matmul(a, b),
                                 (np.ones((96, 300), f32), np.ones((300, 64), f32))))
    assert not any(k == "tile-remainder" for k, _, _ in even.findings)
    # A grouped convolution runs as generated loops, not register tiles.
    w = np.ones((64, 8, 3, 3), f32)
    grouped = fc.analyze(fc.compile(lambda x: fc.conv2d(x, w, groups=4),
                                    (np.ones((1, 32, 10, 10), f32),)))
    assert not any(k == "tile-remainder" for k, _, _ in grouped.findings)


def test_threads_unused_is_reported():
    """A large elementwise program built with parallel loops switched off."""
    x = np.ones(1 << 22, f32)
    src = fc.jit(lambda x: fc.exp(x) * x + 1.0).lower(x).source
    serial = fc.analyze(fc.compile_mlir(src, options="parallel-min-iterations=0"))
    assert any(k == "threads-unused" for k, _, _ in serial.findings), serial.findings
    parallel = fc.analyze(fc.compile_mlir(src, options="ukernels=true"))
    assert not any(k == "threads-unused" for k, _, _ in parallel.findings)
