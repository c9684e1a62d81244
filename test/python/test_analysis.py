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
