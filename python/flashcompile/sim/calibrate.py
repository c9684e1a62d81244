"""The host as a device, measured: FMA peak per core and for all cores,
triad bandwidth for several working-set sizes (flash-peak), cache sizes
from the OS, and the terms the CPU model cannot derive from specs: the
fixed cost of calling a compiled function, the best fraction of peak the
sgemm ukernel reaches (from one calibration matmul) and how a split call
scales to all cores by its size. Stored as JSON under the cache directory
and reused until the CPU changes.

    python3 -m flashcompile calibrate        # measure again
"""
from __future__ import annotations

import json
import math
import os
import subprocess
import time

import numpy as np

from .. import host, sgemm
from ..compiled import compile_mlir
from ..progress import progress
from .._flashcompile import get_num_threads, set_num_threads
from .device import Device, OnChip



def kernel_peak(peak: dict, isa: str) -> float:
    """One core's FMA peak (GFLOP/s) in the instruction set `isa` of the
    sgemm ukernel's default tile (AVX-512 where the CPU has it): what the
    ukernel's efficiency is measured against."""
    return float(peak.get(f"fma_gflops_{isa}_1thread") or peak["fma_gflops_avx2_1thread"])

def _caches() -> list:
    """(name, size in MB) of the CPU caches, from sysfs."""
    out = []
    base = "/sys/devices/system/cpu/cpu0/cache"
    for index in sorted(os.listdir(base)) if os.path.isdir(base) else []:
        try:
            level = open(f"{base}/{index}/level").read().strip()
            kind = open(f"{base}/{index}/type").read().strip()
            size = open(f"{base}/{index}/size").read().strip()
        except OSError:
            continue
        if kind == "Instruction":
            continue
        mult = {"K": 1 / 1024, "M": 1, "G": 1024}.get(size[-1], 1 / 1024 / 1024)
        out.append((f"L{level}{'D' if kind == 'Data' else ''}", float(size.rstrip("KMG")) * mult))
    return out


def _median_time(fn, reps: int = 50, rounds: int = 3) -> float:
    """The least of `rounds` medians (a shared machine's noise only ever
    adds time)."""
    for _ in range(3):
        fn()
    medians = []
    for _ in range(rounds):
        ts = []
        for _ in range(reps):
            t = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t)
        medians.append(float(np.median(ts)))
    return min(medians)


def _one_and_all(fn, reps: int, threads: int) -> tuple:
    """(seconds on one thread, on `threads`) of `fn`, each the least of two
    measurements taken alternately, so that both see the same phases."""
    one, every = [], []
    for _ in range(2):
        set_num_threads(1)
        one.append(_median_time(fn, reps))
        set_num_threads(threads)
        every.append(_median_time(fn, reps))
    return min(one), min(every)


def _row_copy_cycles(clock_ghz: float, call_us: float, rng) -> dict:
    """Cycles per copied row of ten floats on one core (model.
    ROW_COPY_CYCLES, which an im2col patch row of a small image, a
    transpose that keeps its innermost axis and a concatenation's slabs
    cost at least; fitted on an Intel Xeon's convolutions, 19.1): a
    transpose that moves 32 x 128 rows of 10 contiguous floats, in L2."""
    if not clock_ghz:
        return {}
    a, b, r = 32, 128, 10
    x_ty, y_ty = f"tensor<{a}x{b}x{r}xf32>", f"tensor<{b}x{a}x{r}xf32>"
    copy = compile_mlir(f"""func.func @t(%x: {x_ty}) -> {y_ty} {{
  %0 = flash.transpose %x {{permutation = array<i64: 1, 0, 2>}} : ({x_ty}) -> {y_ty}
  return %0 : {y_ty}
}}""")
    x = rng.random((a, b, r), dtype=np.float32)
    seconds = _median_time(lambda: copy(x), 300) - call_us * 1e-6
    return {"row_copy_cycles": round(max(seconds, 0.0) * clock_ghz * 1e9 / (a * b), 3)}


def measure() -> dict:
    """Runs every measurement (about 10 s)."""
    peak_tool = host.flash_peak()
    if not os.path.exists(peak_tool):
        raise RuntimeError(f"calibration needs flash-peak at {peak_tool} (build the project, "
                           f"or set FLASH_PEAK)")
    peak = json.loads(subprocess.run([peak_tool], capture_output=True, text=True,
                                     check=True).stdout)
    # Fixed cost of one call of a compiled function from Python.
    tiny = compile_mlir("""func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = flash.relu %x : tensor<4xf32>
  return %0 : tensor<4xf32>
}""")
    x4 = np.ones(4, np.float32)
    call_us = _median_time(lambda: tiny(x4), 2000) * 1e6
    # The fixed cost of one ukernel call (packing setup, blocking loops):
    # a matmul too small for its FLOPs to matter, minus the call itself.
    small = compile_mlir("""func.func @mm(%a: tensor<8x8xf32>, %b: tensor<8x8xf32>) -> tensor<8x8xf32> {
  %0 = flash.matmul %a, %b : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
  return %0 : tensor<8x8xf32>
}""")
    x8 = np.ones((8, 8), np.float32)
    ukernel_call_us = max(_median_time(lambda: small(x8, x8), 2000) * 1e6 - call_us, 0.0)
    # The sgemm ukernel's fraction of peak on one thread by the call's size
    # (the validation set uses other shapes), and how a call
    # scales to all threads by its size: square products split into column
    # stripes, one thread against all, alternately (the second core's share
    # and the fork/join of each parallel call weigh more on small calls).
    # The sizes are none of the validation set's (benchmarks/
    # validate_simulator.py), so its products read the scaling between them.
    threads = get_num_threads()
    rng = np.random.default_rng(0)
    scaling, ukernel_eff, by_size = [], 0.0, []
    isa = sgemm.TILE_ISA[0]
    for n in (112, 224, 448, 768):
        mm = compile_mlir(f"""func.func @mm(%a: tensor<{n}x{n}xf32>, %b: tensor<{n}x{n}xf32>) -> tensor<{n}x{n}xf32> {{
  %0 = flash.matmul %a, %b : (tensor<{n}x{n}xf32>, tensor<{n}x{n}xf32>) -> tensor<{n}x{n}xf32>
  return %0 : tensor<{n}x{n}xf32>
}}""")
        a = rng.random((n, n), dtype=np.float32)
        t, t_all = _one_and_all(lambda: mm(a, a), max(5, int(2e8 / n ** 3)), threads)
        if threads > 1:
            # Against the largest stripe's share, not 1/threads: the split's
            # own imbalance (224 columns as 128 + 96) is the model's to
            # price (model._cpu), not the cores'.
            split = sgemm.split(n, n, n, 0, threads, sgemm.PANEL_ROWS, 32 if isa == "avx512" else 16)
            largest = (split.task_n if split.columns else split.task_m) / n
            scaling.append([2 * n ** 3 / threads, round(min(t * largest / t_all, 1.0), 4)])
        # One thread's GFLOP/s at this size, the call's fixed cost and the
        # register tile's padding taken out (the model adds them). A rate,
        # not a fraction of the FMA peak: the best of several calibrations
        # is then the best rate, not a ratio of two noisy measurements.
        mr, nr = sgemm.PANEL_ROWS, 32 if isa == "avx512" else 16
        padding = sgemm.tile_efficiency(n, n, mr, nr, sgemm.EDGE_COLUMN_BLOCKS,
                                        code_choices()["sgemm_edge_riding_columns"])
        rate = 2 * n ** 3 / (t - (call_us + ukernel_call_us) * 1e-6) / 1e9 / padding
        by_size.append([2 * n ** 3, round(rate, 2)])
        if n == 768:
            ukernel_eff = (2 * n ** 3 / t / 1e9) / kernel_peak(peak, sgemm.TILE_ISA[0])
    parallel_eff = scaling[-1][1] if scaling else 1.0
    # Compiled loops: the fraction of the loops' vector FMA peak an
    # elementwise kernel reaches per op the cost analysis counts (tanh: its
    # polynomial), on one thread below the parallel threshold, and how
    # loops above it scale to all threads by their size (the region's fork
    # and join weigh more on short loops; an op and sizes the validation
    # set does not use).
    loop_peak = float(peak["fma_gflops_avx2_1thread"])  # 256-bit loops (model._loop_peak)
    loop_eff, loop_gops, loop_scaling = 0.0, 0.0, []
    for n in (16384, 98304, 786432):
        tanh = compile_mlir(f"""func.func @f(%x: tensor<{n}xf32>, %y: tensor<{n}xf32>) -> tensor<{n}xf32> {{
  %0 = flash.tanh %x : tensor<{n}xf32>
  %1 = flash.mul %0, %y : (tensor<{n}xf32>, tensor<{n}xf32>) -> tensor<{n}xf32>
  return %1 : tensor<{n}xf32>
}}""")
        x = rng.random(n, dtype=np.float32)
        one, every = _one_and_all(lambda: tanh(x, x), max(20, int(4e6 / n)), threads)
        if n == 16384:
            loop_gops = 17 * n / (one - call_us * 1e-6) / 1e9
            loop_eff = loop_gops / loop_peak
        elif threads > 1:
            loop_scaling.append([n, round(min(one / every / threads, 1.0), 4)])
    # What each costly elementwise op costs per element on this core (its
    # compiled loop alone, one thread, the tanh loop's size): the ratios of
    # these to tanh's are the ops' counts in tanh units here, in place of
    # the cost analysis's table (measured on one CPU: exp costs 1.35 tanh
    # on a Xeon, 0.9 on a Zen 4).
    set_num_threads(1)
    xs = rng.random(16384, dtype=np.float32) + 0.5
    loop_ns = {}
    for op, arity in (("tanh", 1), ("exp", 1), ("sigmoid", 1), ("erf", 1), ("gelu", 1),
                      ("sqrt", 1), ("div", 2)):
        # (not pow: a constant exponent compiles to multiplications, any
        # other to a libm call per element; the table's count is the first)
        ty = "tensor<16384xf32>"
        args = ", ".join(f"%a{i}: {ty}" for i in range(arity))
        operands = ", ".join(f"%a{i}" for i in range(arity))
        types = f"({', '.join([ty] * arity)}) -> {ty}" if arity > 1 else ty
        loop = compile_mlir(f"""func.func @f({args}) -> {ty} {{
  %0 = flash.{op} {operands} : {types}
  return %0 : {ty}
}}""")
        seconds = _median_time(lambda: loop(*[xs] * arity), 200) - call_us * 1e-6
        loop_ns[f"flash.{op}"] = round(max(seconds, 1e-9) / 16384 * 1e9, 4)
    set_num_threads(threads)
    # Strided gathers: two max pools on one thread (3x3 and 2x2 windows,
    # stride 2; not the validation set's shapes), solved for the time per
    # window (index arithmetic, the store) and per window element (a load).
    counts, seconds_each = [], []
    for k, c, h in ((3, 16, 64), (2, 32, 32)):
        o = h // 2
        pool = compile_mlir(f"""func.func @p(%x: tensor<1x{c}x{h}x{h}xf32>) -> tensor<1x{c}x{o}x{o}xf32> {{
  %0 = flash.max_pool2d %x {{kernel = array<i64: {k}, {k}>, padding = array<i64: {(k - 1) // 2}, {(k - 1) // 2}, {(k - 1) // 2}, {(k - 1) // 2}>, stride = array<i64: 2, 2>}} : (tensor<1x{c}x{h}x{h}xf32>) -> tensor<1x{c}x{o}x{o}xf32>
  return %0 : tensor<1x{c}x{o}x{o}xf32>
}}""")
        xp = rng.random((1, c, h, h), dtype=np.float32)
        set_num_threads(1)
        seconds = _median_time(lambda: pool(xp), 200) - call_us * 1e-6
        set_num_threads(threads)
        windows = c * o * o
        counts.append([windows, windows * k * k])
        seconds_each.append(seconds)
    # Reductions along the innermost axis (a row's running sum or max):
    # time per reduced element, one thread, on a shape the validation set
    # does not use; a sum and a max apart (the compiled max keeps one
    # dependent chain per row, the sum is vectorized).
    xr = rng.random((256, 320), dtype=np.float32)
    reduction_ns = {}
    set_num_threads(1)
    for kind in ("sum", "max"):
        red = compile_mlir(f"""func.func @r(%x: tensor<256x320xf32>) -> tensor<256x1xf32> {{
  %0 = flash.reduce_{kind} %x {{axes = array<i64: 1>, keepdims = true}} : (tensor<256x320xf32>) -> tensor<256x1xf32>
  return %0 : tensor<256x1xf32>
}}""")
        seconds = _median_time(lambda: red(xr), 200) - call_us * 1e-6
        reduction_ns[kind] = round(max(seconds, 0.0) / (256 * 320) * 1e9, 4)
    row_copy = _row_copy_cycles(float(peak.get("clock_ghz_1thread") or 0.0), call_us, rng)
    set_num_threads(threads)
    per_window, per_element = (float(v) * 1e9 for v in np.linalg.solve(
        np.array(counts, float), np.array(seconds_each)))
    return {"cpu": host.cpu_model(), "cores": peak["cores"], "peak": peak, "caches_mb": _caches(),
            "call_overhead_us": round(call_us, 3), "ukernel_efficiency": round(min(ukernel_eff, 1.0), 4),
            "parallel_efficiency": round(min(parallel_eff, 1.0), 4),
            "parallel_scaling": scaling,
            # What the scaling is measured against (before 2026-12-06 04:00:
            # 1/threads, the split's imbalance included).
            "parallel_scaling_against": "largest stripe",
            "ukernel_gflops_by_size": by_size,
            "ukernel_call_us": round(ukernel_call_us, 3),
            "loop_efficiency": round(min(loop_eff, 1.0), 4),
            "loop_gops": round(loop_gops, 2),  # (what the model uses: a rate)
            "loop_parallel_scaling": loop_scaling,
            "reduction_ns_per_element": reduction_ns,
            "loop_ns_per_element": loop_ns,
            **row_copy,
            "gather_ns_per_window": round(max(per_window, 0.0), 4),
            "gather_ns_per_element": round(max(per_element, 0.0), 4),
            # The default tile's instruction set: the kernel these were
            # measured with (a calibration of another is measured again).
            "sgemm_isa": sgemm.TILE_ISA[0],
            # How its edges run (the padding taken out above, and priced).
            "sgemm_edge_column_blocks": sgemm.EDGE_COLUMN_BLOCKS,
            # Whether stems' convolutions ran by the direct kernel (a stored
            # calibration without it predates that kernel).
            "conv_direct": sgemm.conv_direct_enabled(),
            # Code after 2026-12-07 (a stored calibration without these
            # predates it): 17-18 edge columns as one AVX-512 tile, and
            # "same" unit-stride convolutions packed by one shift per row.
            **code_choices(),
            # The vector width of the compiled loops (LLVM prefers 256-bit
            # vectors on AVX-512 server cores): what elementwise work runs at.
            "loop_vector_bits": host.vector_bits(),
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S")}


def measure_in_subprocess() -> dict:
    """measure() in a fresh process."""
    import sys
    out = subprocess.run([sys.executable, "-m", "flashcompile.sim.calibrate"],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def best_of(results: list) -> dict:
    """The best of each term over several measure() results (least times,
    highest efficiencies and rates): on a shared machine, phases of
    interference last seconds and only ever make things slower."""
    best = dict(results[0])
    if all(r.get("reduction_ns_per_element") for r in results):
        best["reduction_ns_per_element"] = {
            k: min(r["reduction_ns_per_element"][k] for r in results)
            for k in results[0]["reduction_ns_per_element"]}
    if all(r.get("loop_ns_per_element") for r in results):
        best["loop_ns_per_element"] = {
            k: min(r["loop_ns_per_element"][k] for r in results)
            for k in results[0]["loop_ns_per_element"]}
    for key in ("call_overhead_us", "ukernel_call_us", "gather_ns_per_window",
                "gather_ns_per_element", "row_copy_cycles"):
        if key not in results[0]:
            continue
        best[key] = min(r[key] for r in results)
    for key in ("ukernel_efficiency", "parallel_efficiency", "loop_efficiency", "loop_gops"):
        if key not in results[0]:
            continue
        best[key] = max(r[key] for r in results)
    if all(r.get("ukernel_gflops_by_size") for r in results):
        best["ukernel_gflops_by_size"] = [
            [p[0], max(r["ukernel_gflops_by_size"][i][1] for r in results)]
            for i, p in enumerate(results[0]["ukernel_gflops_by_size"])]
    if all(r.get("loop_parallel_scaling") for r in results):
        best["loop_parallel_scaling"] = [
            [p[0], max(r["loop_parallel_scaling"][i][1] for r in results)]
            for i, p in enumerate(results[0]["loop_parallel_scaling"])]
    if all(r.get("parallel_scaling") for r in results):
        best["parallel_scaling"] = [[p[0], max(r["parallel_scaling"][i][1] for r in results)]
                                    for i, p in enumerate(results[0]["parallel_scaling"])]
    peak = dict(best["peak"])
    for key, value in peak.items():
        if key.startswith("fma_") or key == "clock_ghz_1thread":
            peak[key] = max(r["peak"][key] for r in results)
    for stream in ("triad_gbs", "read_gbs"):
        if stream in peak:
            peak[stream] = {k: max(r["peak"][stream][k] for r in results)
                            for k in peak[stream]}
    best["peak"] = peak
    best["runs"] = len(results)
    return best


def measure_robust(runs: int = 3) -> dict:
    """measure() in `runs` fresh processes, the best of each term."""
    results = []
    with progress(runs, "calibrating the host", unit="run") as bar:
        for _ in range(runs):
            results.append(measure_in_subprocess())
            bar.update()
    return best_of(results)


def code_choices() -> dict:
    """What this build's kernels do that changes their prices, recorded
    with a calibration (the code's choice, not a measurement)."""
    avx512 = sgemm.TILE_ISA[0] == "avx512"
    return {"sgemm_edge_riding_columns": sgemm.EDGE_RIDING_COLUMNS if avx512 else 0,
            "im2col_flat": avx512}


def load_or_measure(recalibrate: bool = False) -> dict:
    path = os.path.join(host.cache_folder(), "host-calibration.json")
    if not recalibrate and os.path.exists(path):
        try:
            data = json.load(open(path))
            if data.get("cpu") == host.cpu_model() and \
                    data.get("sgemm_isa", "avx2") == sgemm.TILE_ISA[0]:
                # The code's choice, not a measurement: this process's.
                return dict(data, conv_direct=sgemm.conv_direct_enabled(), **code_choices())
        except (OSError, ValueError):
            pass  # unreadable: measure again
    data = measure_robust()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        json.dump(data, f, indent=1)
    os.replace(tmp, path)
    return data


def host_device(recalibrate: bool = False, data: dict | None = None) -> Device:
    """The host Device from its calibration (`data`: a stored one, e.g. the
    one a validation run used)."""
    data = data or load_or_measure(recalibrate)
    peak = data["peak"]
    # The kernel the calibration measured (AVX2 before 2026-12-05).
    isa = data.get("sgemm_isa", "avx2")
    triad = peak["triad_gbs"]
    dram = triad.get("262144KiB_allthreads") or max(triad.values())
    return Device(
        name="host", display=f"{data['cpu']} ({data['cores']} cores, measured)", kind="cpu",
        vendor=data["cpu"].split()[0], compute_units=int(data["cores"]),
        # One core's peak times the cores: the ukernel's efficiency is
        # measured against one core and its scaling to all cores is in
        # parallel_scaling, so the all-core FMA figure (which swings with the
        # VM's second core: 171-232 GFLOP/s in one day here) would count
        # that shortfall twice.
        peak_tflops={"fp32": kernel_peak(peak, isa) * int(data["cores"]) / 1e3},
        memory_gbs=float(dram), memory_gb=0.0, memory_kind="DRAM (measured triad)",
        launch_overhead_us=float(data["call_overhead_us"]),
        onchip=[OnChip(n, s) for n, s in data["caches_mb"]],
        simd_bits=512 if isa == "avx512" else 256, fma_units=2,
        max_efficiency=float(data["ukernel_efficiency"]), host_link="(itself)",
        sources={"peak": f"measured by flash-peak on {data['measured_at']}",
                 "efficiency": "measured: sgemm ukernel 768^3 on one core / FMA peak"},
        measured=data)


if __name__ == "__main__":
    print(json.dumps(measure()))
