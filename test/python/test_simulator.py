"""The simulator: device database, per-kernel model, comparison, plots,
placement (against brute force), CLI."""
import json
import os
import random
import subprocess
import sys

import numpy as np
import pytest

import flashcompile as fc
from flashcompile.sim import placement
from flashcompile.sim.device import Device, load

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

f32 = np.float32


def matmul_ir(m, k, n):
    return f"""func.func @mm(%a: tensor<{m}x{k}xf32>, %b: tensor<{k}x{n}xf32>) -> tensor<{m}x{n}xf32> {{
  %0 = flash.matmul %a, %b : (tensor<{m}x{k}xf32>, tensor<{k}x{n}xf32>) -> tensor<{m}x{n}xf32>
  return %0 : tensor<{m}x{n}xf32>
}}"""


def chain_ir(n):
    t = f"tensor<{n}xf32>"
    return f"""func.func @chain(%x: {t}, %y: {t}) -> {t} {{
  %0 = flash.add %x, %y : ({t}, {t}) -> {t}
  %1 = flash.relu %0 : {t}
  %2 = flash.mul %1, %y : ({t}, {t}) -> {t}
  %3 = flash.exp %2 : {t}
  return %3 : {t}
}}"""


def test_database_has_every_kind_with_sources():
    devs = list(fc.devices)
    assert len(devs) >= 20
    assert {d.kind for d in devs} == {"gpu", "tpu", "cpu", "npu"}
    for d in devs:
        assert d.sources.get("peak"), d.name
        assert d.memory_gbs > 0 and d.peak_tflops, d.name
    for name in ["nvidia-v100", "nvidia-a100-40gb", "nvidia-a100-80gb", "nvidia-h100-sxm",
                 "nvidia-h200", "nvidia-b200", "nvidia-l4", "nvidia-t4", "nvidia-rtx-4090",
                 "amd-mi250x", "amd-mi300x", "google-tpu-v3", "google-tpu-v4", "google-tpu-v5e",
                 "google-tpu-v5p", "google-tpu-v6e", "intel-xeon-8480", "amd-epyc-9654",
                 "apple-m1-gpu", "apple-m2-gpu", "apple-m1-ane", "google-edge-tpu",
                 "aws-inferentia2", "aws-trainium2", "intel-gaudi2", "intel-gaudi3"]:
        assert fc.devices[name].name == name


def test_lookup_by_alias_class_and_errors(tmp_path):
    assert fc.devices["nvidia-a100"] is fc.devices.NvidiaA100()
    assert fc.devices.GoogleTpuV4().systolic == (128, 128)
    with pytest.raises(KeyError, match="no device 'nvidia-a1000'.*nvidia-a100-40gb"):
        fc.devices["nvidia-a1000"]
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nkind = "gpu"\n')
    with pytest.raises(ValueError, match=r"bad\.toml: KeyError"):
        load(str(bad))
    bad.write_text("name = [")
    with pytest.raises(ValueError, match=r"bad\.toml: TOMLDecodeError"):
        load(str(bad))


def test_analysis_counts_flops_and_fuses_chains():
    cost = fc.cost_analysis(fc.compile_mlir(chain_ir(1 << 16)))
    assert len(cost["kernels"]) == 1  # add, relu, mul, exp: one loop
    kernel = cost["kernels"][0]
    assert kernel["bytes_in"] == 2 * 4 << 16 and kernel["bytes_out"] == 4 << 16
    mm = fc.cost_analysis(fc.compile_mlir(matmul_ir(64, 96, 32)))["ops"][0]
    assert mm["flops"] == 2 * 64 * 96 * 32 and (mm["m"], mm["k"], mm["n"]) == (64, 96, 32)


def test_bounds_and_dtypes_on_a_gpu():
    big = fc.simulate(matmul_ir(4096, 4096, 4096), "nvidia-a100-40gb", "bf16")
    assert big.bound == "compute"
    # Large aligned matmul: the MAMF efficiency, not the peak.
    assert 0.75 < big.utilization < 0.87
    fp32 = fc.simulate(matmul_ir(4096, 4096, 4096), "nvidia-a100-40gb", "fp32")
    assert fp32.time_s > 10 * big.time_s  # CUDA cores vs tensor cores
    chain = fc.simulate(chain_ir(1 << 24), "nvidia-a100-40gb")
    assert chain.bound == "memory"
    tiny = fc.simulate(chain_ir(256), "nvidia-a100-40gb")
    assert tiny.bound == "overhead"


def test_wave_and_array_quantization():
    a100 = fc.devices["nvidia-a100-40gb"]
    # Just past a whole number of waves costs a (partly idle) extra wave.
    # 12 x 9 = 108 tiles of 128x128: exactly one wave on 108 SMs.
    one_wave = fc.simulate(matmul_ir(128 * 12, 8192, 128 * 9), a100, "bf16")
    past = fc.simulate(matmul_ir(128 * 12 + 8, 8192, 128 * 9), a100, "bf16")
    assert one_wave.bound == "compute"
    # (the library-style choice among tiles and split-K softens the step)
    assert past.time_s / one_wave.time_s > 1.1
    # A TPU pads N and K to its 128x128 arrays: 513 costs as much as 640.
    v4 = fc.devices["google-tpu-v4"]
    aligned = fc.simulate(matmul_ir(32768, 512, 512), v4, "bf16")
    ragged = fc.simulate(matmul_ir(32768, 513, 513), v4, "bf16")
    assert aligned.bound == "compute"
    assert ragged.time_s / aligned.time_s > 1.3


def test_compare_and_plots(tmp_path):
    results = fc.compare_devices(matmul_ir(1024, 1024, 1024), ["nvidia-h100-sxm", "nvidia-t4",
                                                               "google-tpu-v4"], "bf16")
    assert [r.device.name for r in results][0] == "nvidia-h100-sxm"
    assert results[-1].time_s > results[0].time_s
    png = fc.plot_comparison(results, str(tmp_path / "cmp.png"))
    roof = fc.plot_roofline(results[0], str(tmp_path / "roof.png"))
    for path in (png, roof):
        assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


def _devices(rates):
    out = []
    for name, link in rates:
        out.append(Device(name=name, display=name, kind="gpu", vendor="t", compute_units=1,
                          peak_tflops={"fp32": 1.0}, memory_gbs=1.0, memory_gb=1.0,
                          host_link_gbs=link, sources={"peak": "test"}))
    return out


def test_placement_known_optimum():
    # Device a is fast at kernels 0-1, b at kernels 2-3; the link is fast:
    # the optimum runs 0-1 on a, 2-3 on b, with one transfer of 1 MB.
    devs = _devices([("a", 100.0), ("b", 100.0)])
    times = {"a": [1e-3, 1e-3, 5e-3, 5e-3], "b": [5e-3, 5e-3, 1e-3, 1e-3]}
    live = [0, 1e6, 1e6, 1e6, 0]  # 1 MB live across every cut
    p = placement.solve(devs, times, live, [0] * 4, 0.0, {("a", "b"): 1000.0})
    assert p.stages == [(0, 2, "a"), (2, 4, "b")]
    assert p.time_s == pytest.approx(4e-3 + 1e6 / 1e12)
    assert p.speedup == pytest.approx(12e-3 / p.time_s)
    # A slow link makes staying on one device best.
    p = placement.solve(devs, times, live, [0] * 4, 0.0, {("a", "b"): 1e-4})
    assert len(p.stages) == 1 and p.speedup == pytest.approx(1.0)


@pytest.mark.parametrize("seed", range(12))
def test_placement_matches_brute_force(seed):
    rng = random.Random(seed)
    devs = _devices([(n, rng.uniform(1, 50)) for n in "abc"])
    n = rng.randint(1, 6)
    times = {d.name: [rng.uniform(1e-6, 1e-3) for _ in range(n)] for d in devs}
    live = [0.0] + [rng.uniform(0, 1e6) for _ in range(n - 1)] + [0.0]
    inputs = [rng.uniform(0, 1e5) for _ in range(n)]
    links = {("a", "b"): rng.uniform(1, 100), ("b", "c"): rng.uniform(1, 100)}
    p = placement.solve(devs, times, live, inputs, 2e4, links)
    assert p.time_s == pytest.approx(placement.brute_force(devs, times, live, inputs, 2e4, links))
    # The reported timeline adds up to the reported time.
    assert p.timeline[-1][2] == pytest.approx(p.time_s)


def test_place_a_model():
    model = fc.Sequential([fc.Linear(256, 512, seed=0), fc.GELU(), fc.Linear(512, 10, seed=1)])
    c = fc.compile(model, np.ones((32, 256), f32))
    p = fc.place(c, ["nvidia-a100-40gb", "nvidia-t4"], [fc.Link("nvidia-a100-40gb", "nvidia-t4", 25)])
    # An A100 has 8x a T4's fp32 rate and 6x its bandwidth: it is the best
    # single device, and the plan (which may keep everything on it) is no
    # slower; its timeline adds up to its time.
    assert p.best_single[0] == "nvidia-a100-40gb"
    a100 = fc.simulate(c, "nvidia-a100-40gb").time_s
    assert a100 <= p.best_single[1] < fc.simulate(c, "nvidia-t4").time_s
    assert p.time_s <= p.best_single[1] * (1 + 1e-12)
    assert p.speedup == pytest.approx(p.best_single[1] / p.time_s)
    assert p.events[-1][2] == pytest.approx(p.time_s)
    assert set(p.assignment) <= {"nvidia-a100-40gb", "nvidia-t4"}
    assert "nvidia-a100-40gb" in p.table()


def test_cli(tmp_path):
    src = tmp_path / "mm.mlir"
    src.write_text(matmul_ir(512, 512, 512))
    cli = [sys.executable, "-m", "flashcompile"]
    out = subprocess.run(cli + ["devices"], capture_output=True, text=True, check=True).stdout
    assert "nvidia-h100-sxm" in out and "google-edge-tpu" in out
    out = subprocess.run(cli + ["simulate", str(src), "--device", "google-tpu-v5e", "--dtype",
                                "bf16", "--roofline", str(tmp_path / "r.png")],
                         capture_output=True, text=True, check=True).stdout
    assert "Google TPU v5e" in out and os.path.exists(tmp_path / "r.png")
    out = subprocess.run(cli + ["compare", str(src), "--devices", "nvidia-a100-40gb,amd-mi300x"],
                         capture_output=True, text=True, check=True).stdout
    assert "amd-mi300x" in out
    out = subprocess.run(cli + ["place", str(src), "--devices", "nvidia-a100-40gb,nvidia-t4",
                                "--link", "nvidia-a100-40gb:nvidia-t4:16"],
                         capture_output=True, text=True, check=True).stdout
    assert "placement:" in out
    bad = subprocess.run(cli + ["simulate", str(src), "--device", "nope"], capture_output=True,
                         text=True)
    assert bad.returncode == 1 and "no device 'nope'" in bad.stderr


def test_host_calibration_is_measured_and_stored(tmp_path, monkeypatch):
    monkeypatch.setenv("FLASH_CACHE_DIR", str(tmp_path))
    host = fc.devices.host(recalibrate=True)
    assert host.kind == "cpu" and host.name == "host"
    assert host.peak("fp32") > 1e10 and host.memory_gbs > 1
    assert 0.3 < host.max_efficiency <= 1.0
    assert any(name.startswith("L1") for name, _ in host.measured["caches_mb"])
    assert (tmp_path / "host-calibration.json").exists()
    # Reused, not measured again.
    assert fc.devices.host().measured["measured_at"] == host.measured["measured_at"]
    r = fc.simulate(matmul_ir(256, 256, 256), "host")
    assert r.bound == "compute" and r.time_s > 0
    # The core's clock, measured (an add chain): the FMA peak is 16, 32 or
    # 64 FLOPs per cycle of it (AVX2 on one pipe or two, AVX-512 on two;
    # Zen 4's 512-bit FMAs are two halves: 32), not a clock assumed from it.
    peak = host.measured["peak"]
    flops_per_cycle = peak["fma_gflops_avx2_1thread"] / peak["clock_ghz_1thread"]
    assert 0.5 < peak["clock_ghz_1thread"] < 6.0
    assert min(abs(flops_per_cycle / f - 1) for f in (16, 32)) < 0.25, flops_per_cycle
    # The costly elementwise ops, the row copy and the ukernel's edges as
    # this core runs them.
    ns = host.measured["loop_ns_per_element"]
    assert set(ns) >= {"flash.tanh", "flash.exp", "flash.sigmoid", "flash.div"}
    assert all(0 < v < 10 for v in ns.values())
    assert 0.5 < host.measured["row_copy_cycles"] < 100
    from flashcompile import sgemm
    assert host.measured["sgemm_edge_column_blocks"] == sgemm.EDGE_COLUMN_BLOCKS


def _host_like(**measured):
    """A host device from this machine's stored calibration with some
    terms replaced."""
    from flashcompile.sim import calibrate
    data = dict(fc.devices.host().measured)
    peak = dict(data["peak"], **measured.pop("peak", {}))
    return calibrate.host_device(data=dict(data, peak=peak, **measured))


def test_cycle_counted_terms_follow_the_measured_clock():
    """A convolution's im2col gather is counted in cycles: at twice the
    clock it takes half the time (the term the FMA peak over an assumed
    FLOPs per cycle doubled on Zen 4)."""
    conv = fc.jit(lambda x, w: fc.conv2d(x, w, padding=1)).lower(
        np.ones((8, 16, 10, 10), f32), np.ones((6, 16, 3, 3), f32)).source
    slow = _host_like(peak={"clock_ghz_1thread": 1.5}, row_copy_cycles=40.0)
    fast = _host_like(peak={"clock_ghz_1thread": 3.0}, row_copy_cycles=40.0)
    gather = lambda r: [k for k in r.kernels if any("im2col gather" in n for n in k.notes)]  # noqa: E731
    s, f = gather(fc.simulate(conv, slow)), gather(fc.simulate(conv, fast))
    assert s and f and s[0].compute_s > 1.6 * f[0].compute_s


def test_elementwise_work_uses_the_hosts_measured_op_costs():
    """An exp counts as the calibration measured it against tanh: a host
    whose exp costs what its tanh does prices the chain add+relu+mul+exp at
    3 + 16 tanh units per element, not the table's 3 + 22."""
    ns = dict(fc.devices.host().measured["loop_ns_per_element"])
    same = _host_like(loop_ns_per_element=dict(ns, **{"flash.exp": ns["flash.tanh"]}))
    double = _host_like(loop_ns_per_element=dict(ns, **{"flash.exp": 2 * ns["flash.tanh"]}))
    fc.set_num_threads(1)
    try:
        a = fc.simulate(chain_ir(4096), same).kernels[0].compute_s
        b = fc.simulate(chain_ir(4096), double).kernels[0].compute_s
    finally:
        fc.set_num_threads(os.cpu_count())
    assert b / a == pytest.approx((3 + 32) / (3 + 16), rel=1e-6)


def test_edge_tiles_price_only_the_columns_they_run():
    """The AVX-512 tile's edges run in 32/16/8-column blocks and their own
    rows (Sgemm.cpp edgeTile): a 64x49 product uses 49 of 56 columns' work,
    not 64 x 66; whole tiles where edges are off."""
    from flashcompile import sgemm
    assert sgemm.tile_efficiency(64, 49, 6, 32) == pytest.approx(64 * 49 / (66 * 64))
    assert sgemm.tile_efficiency(64, 49, 6, 32, [32, 16, 8]) == pytest.approx(49 / 56)
    assert sgemm.tile_efficiency(64, 64, 6, 32, [32, 16, 8]) == 1.0
    for n, cols in ((1, 8), (9, 16), (17, 24), (25, 32), (40, 40), (44, 48)):
        assert sgemm.tile_efficiency(12, n, 6, 32, [32, 16, 8]) == pytest.approx(n / cols)
    # 17 or 18 columns as the 16-wide block with 1-2 columns riding on it
    # (a 256-bit multiply-add each per k step: 4/3 of a block column).
    assert sgemm.EDGE_RIDING_COLUMNS == 2
    for n, cols in ((49, 32 + 16 + 4 / 3), (18, 16 + 8 / 3), (51, 56), (33, 40), (16, 16)):
        assert sgemm.tile_efficiency(12, n, 6, 32, [32, 16, 8], 2) == pytest.approx(n / cols)


def test_flat_packing_prices_one_run_per_panel():
    """The implicit GEMM's AVX-512 packing copies a panel's k row as one
    shifted run for a unit-stride convolution whose output rows are as
    long as its input's (sgemm.im2col_packs_flat, the analysis's
    `flat_packing`), not one run per output row the panel crosses: on a
    7x7 image five runs per 32-pixel panel become one, and the host
    model's packing price drops; unpadded or strided convolutions keep
    their runs. A calibration without the flag (code before it) prices
    runs as before."""
    import dataclasses
    from flashcompile import sgemm
    assert sgemm.im2col_packs_flat(1, 1, 7, 7)
    assert not sgemm.im2col_packs_flat(1, 1, 9, 7) and not sgemm.im2col_packs_flat(2, 2, 14, 7)
    x = np.ones((1, 128, 7, 7), np.float32)
    w = np.ones((32, 128, 3, 3), np.float32)
    flags = {}
    for pad in (1, 0):
        src = fc.lower(fc.conv2d, x, w, None, stride=1, padding=pad, dilation=1, groups=1)
        kernel = [k for k in fc.cost_analysis(src)["kernels"] if k["kind"] == "contraction"][0]
        flags[pad] = kernel["flat_packing"]
    assert flags == {1: True, 0: False}
    src = fc.jit(lambda t: fc.conv2d(t, w, padding=1)).lower(x).source
    host = fc.devices.host()
    if not (host.measured or {}).get("im2col_flat"):
        pytest.skip("this host's code does not pack flat (no AVX-512)")
    old = dataclasses.replace(host, measured=dict(host.measured, im2col_flat=False))
    flat_s = fc.simulate(src, host).time_s
    runs_s = fc.simulate(src, old).time_s
    assert flat_s < runs_s


def test_memory_footprint_and_capacity():
    """Inputs, weights and the peak of live results, checked against the
    device's capacity."""
    big = fc.simulate(matmul_ir(50000, 50000, 50000), "nvidia-t4")  # 3 x 10 GB in fp32
    assert big.footprint_bytes == pytest.approx(3 * 50000 * 50000 * 4)
    assert not big.fits and any("does not fit" in n for n in big.notes)
    assert "DOES NOT FIT" in big.table()
    assert fc.simulate(matmul_ir(50000, 50000, 50000), "nvidia-a100-80gb").fits
    # bf16 halves it.
    half = fc.simulate(matmul_ir(50000, 50000, 50000), "nvidia-t4", dtype="fp16")
    assert half.footprint_bytes == pytest.approx(big.footprint_bytes / 2)
    # A chain frees what it no longer needs: x, y and two live results at most.
    rng = np.random.default_rng(0)
    w = rng.standard_normal((256, 256), dtype=np.float32)
    x = np.ones((64, 256), np.float32)
    chain = fc.compile(lambda x: fc.relu(fc.relu(x @ w) @ w) @ w, (x,))
    r = fc.simulate(chain, "nvidia-t4")
    weights, act = 256 * 256 * 4, 64 * 256 * 4
    assert weights + act <= r.footprint_bytes <= weights + 4 * act


def _conv_ir(n, c, h, o, k, groups=1, stride=1):
    def fn(x):
        w = np.full((o, c // groups, k, k), 0.01, np.float32)
        return fc.relu(fc.conv2d(x, w, stride=stride, padding=k // 2, groups=groups))
    return fc.jit(fn).lower(np.ones((n, c, h, h), np.float32)).source


def test_convolutions_on_systolic_arrays():
    """Weights stationary: a convolution streams its output pixels through
    the array, its filters are the columns. 128 filters fill a TPU v4
    array's 128 columns; 64 leave half of them idle, so the same FLOPs
    take longer. A depthwise convolution (one filter per group) goes to
    the vector units, which the note says."""
    tpu = fc.devices["google-tpu-v4"]
    full = fc.simulate(_conv_ir(8, 128, 56, 128, 3), tpu, "bf16").kernels[0]
    half = fc.simulate(_conv_ir(16, 128, 56, 64, 3), tpu, "bf16").kernels[0]
    assert full.flops == half.flops
    assert "padding 100%" in full.notes[0] and "padding 50%" in half.notes[0]
    assert half.compute_s == pytest.approx(2 * full.compute_s, rel=0.05)
    depthwise = fc.simulate(_conv_ir(1, 64, 56, 64, 3, groups=64), tpu, "bf16").kernels[0]
    assert "vector units" in depthwise.notes[0]


def test_whole_graph_device_on_chip_or_streamed():
    """The Edge TPU runs a program as one invocation: one launch, inputs
    and outputs over USB in the total; it runs from on-chip memory while
    weights and activations fit in its 8 MB, else streams them."""
    edge = fc.devices["google-edge-tpu"]
    small = fc.simulate(_conv_ir(1, 32, 28, 32, 3), edge, "int8")
    assert small.call_overhead_s == pytest.approx(edge.launch_overhead_us * 1e-6)
    assert all(k.overhead_s == 0 for k in small.kernels)
    assert small.transfer_in_total and small.time_s > sum(k.time_s for k in small.kernels) + \
        small.call_overhead_s
    assert any("fit on chip" in n for n in small.notes)
    big = fc.simulate(_conv_ir(1, 256, 112, 256, 3), edge, "int8")   # 3.2 MB in, 3.2 MB out
    assert big.footprint_bytes > 8 * 2**20
    assert any("streamed from memory" in n for n in big.notes)
    assert max(k.memory_s for k in big.kernels) > 0 and big.bound == "memory"


def test_copies_by_rows_or_elements():
    """The analysis gives each copy its contiguous row: a transpose that
    keeps the innermost axes copies rows of them (the host model: row
    copies at cache bandwidth), one that moves the innermost axis gathers
    element by element; a concatenation copies slabs."""
    x = np.ones((2, 8, 4, 64), np.float32)
    rows = fc.jit(lambda t: fc.transpose(t, (0, 2, 1, 3))).lower(x).source
    elements = fc.jit(lambda t: fc.transpose(t, (0, 1, 3, 2))).lower(x).source
    joined = fc.jit(lambda t: fc.concat([t, t * 2.0], axis=2)).lower(x).source
    row_of = lambda src: [k for k in fc.cost_analysis(src)["kernels"]  # noqa: E731
                          if k["kind"] == "layout"][0]["copy_row"]
    assert row_of(rows) == 64 and row_of(elements) == 1 and row_of(joined) == 4 * 64
    host = fc.devices.host()
    by_rows = fc.simulate(rows, host).kernels[0]
    by_elements = fc.simulate(elements, host).kernels[0]
    assert any("rows of 64" in n for n in by_rows.notes)
    assert by_rows.time_s < by_elements.time_s


def _onnx_mm_relu():
    from onnx import TensorProto, helper, numpy_helper
    w = numpy_helper.from_array(np.full((64, 32), 0.1, np.float32), "w")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"]), helper.make_node("Relu", ["y"], ["z"])],
        "mm_relu", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [16, 64])],
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, [16, 32])], [w])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])


def test_imported_models_simulate_and_analyze():
    """An imported model (fc.from_onnx here) is a program like any other
    for fc.simulate, fc.place and fc.analyze."""
    model = fc.from_onnx(_onnx_mm_relu())
    r = fc.simulate(model, "nvidia-a100-40gb")
    assert r.flops == 2 * 16 * 64 * 32 + 16 * 32 and r.time_s > 0
    assert fc.place(model, ["host", "nvidia-t4"]).time_s > 0
    assert fc.analyze(model).kernels
    with pytest.raises(TypeError, match="imported model"):
        fc.simulate(42, "host")


def test_cli_takes_onnx_models(tmp_path):
    """Every CLI command that takes a FILE takes an .onnx model too; a file
    that is not one is a clear error, exit code 1."""
    import onnx
    path = tmp_path / "mm.onnx"
    onnx.save(_onnx_mm_relu(), str(path))
    cli = [sys.executable, "-m", "flashcompile"]
    out = subprocess.run(cli + ["simulate", str(path), "--device", "nvidia-t4"],
                         capture_output=True, text=True, check=True).stdout
    assert "NVIDIA T4" in out and "matmul" in out
    out = subprocess.run(cli + ["stages", str(path)], capture_output=True, text=True,
                         check=True).stdout
    assert out.split()[:2] == ["flash", "graph"]
    bad = tmp_path / "bad.onnx"
    bad.write_text("not a model")
    r = subprocess.run(cli + ["simulate", str(bad)], capture_output=True, text=True)
    assert r.returncode == 1 and "cannot read ONNX model" in r.stderr and "Traceback" not in r.stderr


def test_constant_b_is_not_packed_per_call_on_the_host():
    """A constant B is packed into panels when compiling (constant-panels),
    so the host model charges no B packing to its calls: with several A
    blocks (M > 144) the constant-B product is predicted faster than the
    same product with B as an argument; with one block (B read in place)
    they are predicted the same. (Not a splat B: the compiler packs only
    real constants.)"""
    w = np.random.default_rng(0).standard_normal((256, 512)).astype(np.float32)
    for m, faster in ((300, True), (64, False)):
        a = np.ones((m, 256), np.float32)
        constant = fc.simulate(fc.jit(lambda x: fc.matmul(x, w)).lower(a), "host")
        argument = fc.simulate(fc.jit(lambda x, y: fc.matmul(x, y)).lower(a, w), "host")
        if faster:
            assert constant.time_s < argument.time_s
        else:
            assert constant.time_s == pytest.approx(argument.time_s, rel=1e-9)


def test_constant_filter_is_not_packed_per_call_on_the_host():
    """A convolution's constant filter (its product's A) is packed into
    panels when compiling, so the host model charges its calls no A
    packing: predicted faster than the same convolution with the filter as
    an argument. (A 5x5 window, so that both run as the implicit GEMM and
    differ only there: a 3x3 constant filter would be priced as Winograd.
    Not a splat filter: the compiler packs only real constants.)"""
    x = np.ones((8, 32, 16, 16), np.float32)
    w = np.random.default_rng(0).standard_normal((64, 32, 5, 5)).astype(np.float32)
    constant = fc.simulate(fc.jit(lambda t: fc.conv2d(t, w, padding=2)).lower(x), "host")
    argument = fc.simulate(fc.jit(lambda t, f: fc.conv2d(t, f, padding=2)).lower(x, w), "host")
    assert constant.time_s < argument.time_s


def test_a_splat_constant_is_priced_as_the_compiler_leaves_it():
    """A constant of one value (np.ones weights) is neither packed into
    panels nor Winograd-transformed by the compiler (MatmulToUkernel's
    constantOperand refuses splats): the analysis flags it (`splat`), runs
    a 3x3 convolution with a splat filter as the implicit GEMM, not as
    Winograd, and the host model prices it as the same convolution with
    the filter as an argument; a filter of real values is Winograd."""
    x = np.ones((1, 64, 28, 28), np.float32)
    ones = np.ones((64, 64, 3, 3), np.float32)
    values = np.random.default_rng(0).standard_normal(ones.shape).astype(np.float32)

    def conv_kernel(src):
        cost = fc.cost_analysis(src)
        kernel = [k for k in cost["kernels"] if k["kind"] == "contraction"][0]
        return cost, kernel

    splat = fc.jit(lambda t: fc.conv2d(t, ones, padding=1)).lower(x).source
    real = fc.jit(lambda t: fc.conv2d(t, values, padding=1)).lower(x).source
    argument = fc.jit(lambda t, f: fc.conv2d(t, f, padding=1)).lower(x, ones).source
    cost, kernel = conv_kernel(splat)
    assert [op["splat"] for op in cost["ops"] if op["kind"] == "constant"] == [True]
    assert not kernel["winograd"]
    cost, kernel = conv_kernel(real)
    assert [op["splat"] for op in cost["ops"] if op["kind"] == "constant"] == [False]
    assert kernel["winograd"]
    host = fc.devices.host()
    assert fc.simulate(splat, host).time_s == pytest.approx(
        fc.simulate(argument, host).time_s, rel=1e-9)


def test_one_column_over_constant_panels_uses_full_vectors_on_the_host():
    """One column with a constant A (squeeze-and-excitation's layers) runs
    gemvPanels in full vectors, not a 32-wide register tile with one
    column used: the host model prices it well under the same product with
    two columns (which the tiles run at 2 of 32 lanes), not at the same
    time. (Not a splat A: the compiler packs only real constants.)"""
    w = np.random.default_rng(0).standard_normal((240, 960)).astype(np.float32)
    one = fc.simulate(fc.jit(lambda x: fc.matmul(w, x)).lower(np.ones((960, 1), np.float32)), "host")
    two = fc.simulate(fc.jit(lambda x: fc.matmul(w, x)).lower(np.ones((960, 2), np.float32)), "host")
    assert one.time_s < two.time_s / 2


def test_a_stem_convolution_is_priced_as_the_direct_kernel_where_it_ran():
    """Three input channels (a stem) on a host whose runtime takes the
    direct kernel (DirectConv.cpp): priced with no packing and that
    kernel's tiles, faster than as the implicit GEMM; with a calibration
    from before the kernel existed (no `conv_direct`), as the implicit GEMM
    its process ran. Sixteen input channels are never direct."""
    from flashcompile.sim import calibrate
    w3 = np.ones((16, 3, 3, 3), np.float32)
    stem = fc.jit(lambda t: fc.conv2d(t, w3, stride=(2, 2), padding=(1, 1))).lower(
        np.ones((1, 3, 224, 224), np.float32))
    # A stored calibration (the Zen 4 host validation run's first case), not
    # one measured now: the two prices are within 10% of each other, and a
    # calibration taken while the machine was busy once reversed them.
    run = json.load(open(os.path.join(ROOT, "benchmarks", "results", "sim-validation-host",
                                      "2026-12-07T1411.json")))
    data = run["cases"][0]["calibration"]
    direct_host = calibrate.host_device(data=dict(data, conv_direct=True))
    older_host = calibrate.host_device(data={k: v for k, v in data.items() if k != "conv_direct"})
    direct, older = fc.simulate(stem, direct_host), fc.simulate(stem, older_host)
    assert any("direct kernel" in n for n in direct.kernels[0].notes), direct.table()
    assert any("implicit im2col" in n for n in older.kernels[0].notes), older.table()
    assert direct.time_s < older.time_s
    w16 = np.ones((16, 16, 3, 3), np.float32)
    wide = fc.jit(lambda t: fc.conv2d(t, w16, stride=(2, 2), padding=(1, 1))).lower(
        np.ones((1, 16, 112, 112), np.float32))
    assert not any("direct kernel" in n for n in fc.simulate(wide, direct_host).kernels[0].notes)


def test_comparison_plot_colours_mean_one_thing_and_the_legend_hides_no_bar(tmp_path):
    """Each bound has one colour, shown once in the legend; every bar has
    one of those colours; the legend box overlaps no bar; and the saved
    image shows each legend swatch in its colour."""
    import matplotlib.image as mpimg
    from matplotlib.colors import to_rgb
    from flashcompile.sim.simulate import comparison_figure
    small = matmul_ir(64, 64, 64)
    results = fc.compare_devices(small, ["nvidia-h100-sxm", "nvidia-t4", "google-tpu-v4", "host"])
    results += fc.compare_devices(matmul_ir(4096, 4096, 4096), ["nvidia-t4", "nvidia-h100-sxm"])
    fig = comparison_figure(results)
    ax = fig.axes[0]
    legend = ax.get_legend()
    swatches = [to_rgb(p.get_facecolor()) for p in legend.get_patches()]
    assert len(set(swatches)) == len(swatches) == len({r.bound for r in results}) >= 2
    bars = [to_rgb(b.get_facecolor()) for b in ax.patches]
    assert len(bars) == len(results) and set(bars) == set(swatches)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    box = legend.get_window_extent(renderer)
    assert not any(box.overlaps(b.get_window_extent(renderer)) for b in ax.patches)
    path = tmp_path / "cmp.png"
    fig.savefig(path)
    image = mpimg.imread(path)
    height = image.shape[0]
    for patch, want in zip(legend.get_patches(), swatches):
        x, y = patch.get_window_extent(renderer).get_points().mean(axis=0)
        got = image[height - 1 - int(y), int(x), :3]
        assert np.allclose(got, want, atol=0.02), (got, want)


def test_roofline_labels_do_not_overlap():
    from flashcompile.sim.simulate import roofline_figure
    model = fc.Sequential([fc.Linear(64, 64, seed=0), fc.ReLU(), fc.Linear(64, 64, seed=1),
                           fc.GELU(), fc.Linear(64, 64, seed=2), fc.Softmax()])
    r = fc.simulate(fc.compile(model, np.ones((4, 64), f32)), "nvidia-a100-40gb")
    fig = roofline_figure(r)
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in fig.axes[0].texts]
    assert len(boxes) >= 3
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])


# ---- device stacks (sim/stacks.toml): the graph as each kind's stack runs it

def attention_ir(b, s, d):
    q, kt, sc = f"tensor<{b}x{s}x{d}xf32>", f"tensor<{b}x{d}x{s}xf32>", f"tensor<{b}x{s}x{s}xf32>"
    return f"""func.func @att(%q: {q}, %kt: {kt}, %v: {q}) -> {q} {{
  %s = flash.batch_matmul %q, %kt : ({q}, {kt}) -> {sc}
  %c = flash.constant dense<0.125> : tensor<f32>
  %t = flash.mul %s, %c : ({sc}, tensor<f32>) -> {sc}
  %p = flash.softmax %t {{axis = 2 : i64}} : {sc}
  %o = flash.batch_matmul %p, %v : ({sc}, {q}) -> {q}
  return %o : {q}
}}"""


def test_gpu_stack_runs_attention_as_one_kernel_and_the_host_does_not():
    b, s, d = 8, 384, 64
    program = fc.compile_mlir(attention_ir(b, s, d))
    gpu = fc.simulate(program, "nvidia-a100-80gb", dtype="fp16")
    host_grouping = fc.simulate(program, "nvidia-v100", dtype="fp16")  # no fused attention
    assert len(gpu.kernels) == 1, gpu.table()
    fused = gpu.kernels[0]
    assert fused.ops.count("flash.batch_matmul") == 2 and "flash.exp" in fused.ops
    # It reads Q, K^T and V and writes the output: the scores never move.
    # (Plus the two scalars: the scale and the softmax's 1 over its sums.)
    assert fused.bytes == pytest.approx((4 * 4 * b * s * d + 2 * 4) * 2 / 4)  # f32, as fp16
    assert len(host_grouping.kernels) > 3
    assert sum(k.bytes for k in host_grouping.kernels) > 4 * fused.bytes
    assert "fused attention" in gpu.table() and "fused attention" not in host_grouping.table()
    # The same groupings, inspectable without pricing.
    assert len(fc.cost_analysis(program, "nvidia-a100-80gb")["kernels"]) == 1
    assert len(fc.cost_analysis(program, "nvidia-v100")["kernels"]) == len(host_grouping.kernels)
    assert len(fc.cost_analysis(program)["kernels"]) > len(host_grouping.kernels)  # no epilogue
    assert gpu.time_s < host_grouping.time_s * 700 / 125  # faster than V100 by more than peaks


def gelu_linear_ir(m, k, n):
    return f"""func.func @lin(%x: tensor<{m}x{k}xf32>, %w: tensor<{k}x{n}xf32>, %b: tensor<{n}xf32>) -> tensor<{m}x{n}xf32> {{
  %0 = flash.matmul %x, %w : (tensor<{m}x{k}xf32>, tensor<{k}x{n}xf32>) -> tensor<{m}x{n}xf32>
  %1 = flash.add %0, %b : (tensor<{m}x{n}xf32>, tensor<{n}xf32>) -> tensor<{m}x{n}xf32>
  %2 = flash.gelu %1 : tensor<{m}x{n}xf32>
  return %2 : tensor<{m}x{n}xf32>
}}"""


@pytest.mark.parametrize("device", ["nvidia-h100-sxm", "google-tpu-v4", "google-edge-tpu"])
def test_stacks_fuse_any_elementwise_epilogue_the_host_only_bias_and_relu(device):
    program = fc.compile_mlir(gelu_linear_ir(100, 64, 96))
    stack = fc.simulate(program, device)
    host = fc.simulate(program, "host")
    assert [k.ops for k in stack.kernels] == [["flash.matmul", "flash.add", "flash.gelu"]]
    assert [k.ops for k in host.kernels] == [["flash.matmul"], ["flash.add", "flash.gelu"]]


@pytest.mark.parametrize("activation,kernels", [("hardswish", 1), ("silu", 2), ("relu", 1)])
def test_host_prices_a_fused_hardswish_in_the_convolution(rng, activation, kernels):
    """The host's ukernels apply a HardSwish after a convolution (not a
    SiLU): the cost model's kernels say the same, and the compiled code
    has as many kernels outside the call (none, or the SiLU's loop)."""
    x = rng.standard_normal((1, 16, 14, 14), dtype=np.float32)
    w = rng.standard_normal((32, 16, 1, 1), dtype=np.float32)
    b = rng.standard_normal((32,), dtype=np.float32)
    act = getattr(fc, activation)
    program = fc.compile_mlir(fc.jit(lambda t: act(fc.conv2d(t, w, b))).lower(x).source)
    host = fc.simulate(program, "host")
    assert len(host.kernels) == kernels
    assert host.kernels[0].ops[0] == "flash.conv2d"
    assert ("scf.for" in program.ir("loops")) == (kernels == 2)


def test_host_prices_winograd_convolutions_by_the_compilers_rule(rng):
    """A 3x3 stride-1 convolution with a constant filter that the CPU
    pipeline runs by Winograd (convUsesWinograd) is priced as its 36
    products and transforms: the analysis marks it where the compiled code
    calls the Winograd ukernel and nowhere else (a filter passed as an
    argument, a stride of 2, too few channels), and the prediction is below
    the im2col GEMM's by about the multiplies saved."""
    x = rng.standard_normal((1, 64, 56, 56), dtype=np.float32)
    w = (rng.standard_normal((64, 64, 3, 3)) / 24).astype(np.float32)
    cases = {"constant": (lambda t: fc.conv2d(t, w, padding=1), (x,)),
             "stride 2": (lambda t: fc.conv2d(t, w, stride=2, padding=1), (x,)),
             "argument": (lambda t, k: fc.conv2d(t, k, padding=1), (x, w)),
             "few channels": (lambda t: fc.conv2d(t, w[:4, :4], padding=1), (x[:, :4],))}
    predicted = {}
    for name, (f, args) in cases.items():
        program = fc.compile(f, args)
        host = fc.simulate(program, "host", threads=1)
        winograd = "flash_conv_winograd_f32" in program.ir("loops")
        assert winograd == (name == "constant"), name
        assert any("Winograd" in note for k in host.kernels for note in k.notes) == winograd, name
        predicted[name] = host.time_s
    # 2.25x fewer multiplies than the argument's GEMM, less the transforms;
    # more where the GEMM's packing costs more (AVX2: 2.88x measured on a
    # Zen 3, one thread, this layer with a ReLU).
    assert predicted["argument"] / 3.2 < predicted["constant"] < predicted["argument"] / 1.5


def conv_bn_ir():
    """A 3x3 convolution followed by a batch norm with constant statistics."""
    c = "tensor<8xf32>"
    w = "dense<0.05> : tensor<8x4x3x3xf32>"
    return f"""func.func @conv_bn(%x: tensor<2x4x17x17xf32>) -> tensor<2x8x15x15xf32> {{
  %w = flash.constant {w}
  %g = flash.constant dense<1.5> : {c}
  %b = flash.constant dense<0.25> : {c}
  %m = flash.constant dense<0.1> : {c}
  %v = flash.constant dense<2.0> : {c}
  %0 = flash.conv2d %x, %w {{stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>}} : (tensor<2x4x17x17xf32>, tensor<8x4x3x3xf32>) -> tensor<2x8x15x15xf32>
  %1 = flash.batch_norm %0, %g, %b, %m, %v {{epsilon = 1.0e-5 : f32}} : (tensor<2x8x15x15xf32>, {c}, {c}, {c}, {c}) -> tensor<2x8x15x15xf32>
  %2 = flash.relu %1 : tensor<2x8x15x15xf32>
  return %2 : tensor<2x8x15x15xf32>
}}"""


def test_batch_norm_is_folded_or_an_epilogue_on_a_gpu_stack():
    folded = fc.compile_mlir(conv_bn_ir())
    unfolded = fc.compile_mlir(conv_bn_ir(), options="fold-batch-norm=false")
    assert "flash.batch_norm" not in folded.ir("graph")
    for program in (folded, unfolded):
        gpu = fc.simulate(program, "nvidia-l4")
        assert len(gpu.kernels) == 1 and gpu.kernels[0].ops[0] == "flash.conv2d", gpu.table()
    # The host's epilogue takes the folded bias and ReLU only: an unfolded
    # batch norm's scale is a pass of its own there.
    assert len(fc.simulate(folded, "host").kernels) == 1
    assert len(fc.simulate(unfolded, "host").kernels) == 2


def test_implicit_gemm_convolutions_move_no_patch_matrix():
    import dataclasses
    program = fc.compile_mlir(conv_bn_ir())
    l4 = fc.devices["nvidia-l4"]
    im2col = dataclasses.replace(l4, stack=dict(l4.stack, implicit_gemm=False))
    implicit, explicit = fc.simulate(program, l4), fc.simulate(program, im2col)
    k = explicit.kernels[0]
    assert k.memory_s > implicit.kernels[0].memory_s
    assert "implicit gemm" in l4.stack_summary() and "implicit gemm" not in im2col.stack_summary()


def test_device_files_override_stack_rules_by_name(tmp_path):
    assert fc.devices["nvidia-v100"].stack["fused_attention"] is False
    assert fc.devices["nvidia-a100-80gb"].stack["fused_attention"] is True
    assert fc.devices["host"].stack["elementwise_epilogues"] is False
    text = open(os.path.join(os.path.dirname(fc.__file__), "sim", "devices", "nvidia-l4.toml")).read()
    bad = tmp_path / "bad.toml"
    bad.write_text(text + "\n[stack]\nfuse_everything = true\n")
    with pytest.raises(ValueError, match=r"bad.toml.*unknown rules \['fuse_everything'\]"):
        load(str(bad))


# ---- the memory hierarchy (sim/memory.py)

def two_products_ir(m, k, n):
    a, w1, h, w2, y = (f"tensor<{m}x{k}xf32>", f"tensor<{k}x{n}xf32>", f"tensor<{m}x{n}xf32>",
                       f"tensor<{n}x{k}xf32>", f"tensor<{m}x{k}xf32>")
    return f"""func.func @two(%a: {a}, %w1: {w1}, %w2: {w2}) -> {y} {{
  %h = flash.matmul %a, %w1 : ({a}, {w1}) -> {h}
  %y = flash.matmul %h, %w2 : ({h}, {w2}) -> {y}
  return %y : {y}
}}"""


@pytest.mark.parametrize("rows, cached_on", [
    (512, {"nvidia-a100-80gb", "nvidia-t4"}),   # h is 2 MiB: fits both L2s
    (2048, {"nvidia-a100-80gb"}),               # 8 MiB: over T4's 4 MB, under A100's 40
    (16384, set()),                             # 64 MiB: fits neither
])
def test_a_products_intermediate_stays_in_l2_when_it_fits(rows, cached_on):
    program = fc.compile_mlir(two_products_ir(rows, 256, 1024))
    h_bytes = rows * 1024 * 4
    for device in ("nvidia-a100-80gb", "nvidia-t4"):
        first, second = fc.simulate(program, device).kernels
        through = [n for n in second.notes if "through L2" in n]
        if device in cached_on:
            # h is written to and read from L2 only: no DRAM time for it.
            assert through == [f"{h_bytes / 1e6:.3f} MB through L2"]
            assert f"{h_bytes / 1e6:.3f} MB through L2" in first.notes
            assert second.memory_s < second.bytes / (fc.devices[device].memory_gbs * 1e9 * 0.9)
        else:
            assert not through
            d = fc.devices[device]
            assert second.memory_s == pytest.approx(
                second.bytes / (d.memory_gbs * 1e9 * 0.9) + d.memory_latency_ns * 1e-9)


def test_cache_traffic_counts_every_byte_once_in_one_place():
    from flashcompile.sim import memory
    cost = fc.cost_analysis(fc.compile_mlir(two_products_ir(300, 64, 200)))
    for capacity in (0, 1 << 16, 1 << 30):
        split = memory.cache_traffic(cost["ops"], cost["kernels"], capacity)
        for k, s in zip(cost["kernels"], split):
            assert s["cached"] + s["memory"] == k["bytes_in"] + k["bytes_out"]
        assert sum(s["cached"] for s in split) == (0 if capacity == 0 else
                                                   (2 * 300 * 200 * 4 if capacity > 1 << 20 else 0))


def test_small_kernels_pay_a_memory_round_trip_where_it_was_measured():
    small = fc.compile_mlir(chain_ir(1024))          # 12 KB: bandwidth says ~6 ns
    a100 = fc.simulate(small, "nvidia-a100-80gb").kernels[0]
    assert fc.devices["nvidia-a100-80gb"].memory_latency_ns == pytest.approx(572 / 1.41, rel=1e-2)
    assert a100.memory_s == pytest.approx(406e-9 + a100.bytes / (2039e9 * 0.9), rel=1e-2)
    v100 = fc.simulate(small, "nvidia-v100").kernels[0]  # no measured latency: bandwidth only
    assert v100.memory_s < 50e-9
