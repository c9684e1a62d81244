"""Per-kernel time predictions, one model per device kind.

Every kernel (a fused group of ops from the shared cost analysis) gets

    time = max(compute, memory) + overhead

with compute = FLOPs / (peak(dtype) x efficiency) and memory = bytes /
(bandwidth x efficiency); the bound is whichever term is largest. What
differs per kind is the efficiency:

- GPU: contractions run as CTA tiles (device.tile) over the SMs: tile
  quantization (padding M and N to the tile), wave quantization (tiles over
  SMs in waves), a K prologue term, and the device's best achieved fraction
  of peak (`max_efficiency`, the published maximum-achievable-matmul
  measurement); fp32 without tensor cores uses the CUDA-core rate. Every
  kernel pays the launch overhead.
- TPU/NPU: contractions on systolic arrays, weights stationary: K and N
  padded to the array, fill and drain (r + c cycles per M-row pass; a
  convolution streams its output pixels), passes spread over the arrays in
  waves, or the vector units when faster (depthwise convolutions).
  Elementwise work runs on the vector units, assumed at 1/8 of the matrix
  rate. Whole-graph devices (the Edge TPU) run the program as one
  invocation from on-chip memory when it fits (sim/simulate.py).
- CPU: contractions as the sgemm ukernel runs them: 6x16 register tile
  padding, parallel stripes only above 2 MFLOP, packing traffic, the
  calibrated (host) or sourced best fraction of peak; elementwise loops
  parallel from the pipeline's parallel-min-iterations, bandwidth of
  the cache level the working set fits in (measured triad on the host).

The constants that are not the device's own numbers are named below and
documented in docs/simulator.md.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from .. import host, sgemm
from .device import Device
from .memory import last_level_cache

DTYPE_BYTES = {"fp32": 4, "tf32": 4, "fp16": 2, "bf16": 2, "fp8": 1, "int8": 1}

# Achieved fraction of the main-memory bandwidth by streaming kernels:
# ~90% on HBM GPUs (Jia et al. 2018/2019 microbenchmarks: V100 ~ 830 of
# 900 GB/s); used for every non-host device.
MEMORY_EFFICIENCY = 0.9
# Strided access (transposes, pooling windows) reaches about half of it.
STRIDED_EFFICIENCY = 0.5
# GPU GEMM K-loop prologue/epilogue, in K elements.
GPU_K_OVERHEAD = 32
# Vector (non-matrix) rate of TPUs/NPUs relative to the matrix peak.
VECTOR_FRACTION = 0.125
PARALLEL_MIN_ITERATIONS = host.PARALLEL_MIN_ITERATIONS  # the pipeline's default
# Host: cost of an OpenMP parallel region (fork + join, 2 cores), seconds.
HOST_PARALLEL_REGION = 3e-6
# Host: fixed cost of a kernel (loop nest setup, ukernel entry), seconds.
HOST_KERNEL_OVERHEAD = 0.3e-6
# CPU: pooling windows, and transposes that move the innermost axis (in
# 8x8 tiles, LinalgToLoops), gather one element per ~1.5 cycles (scalar
# strided loads and stores with index arithmetic), not at streaming
# bandwidth (tiled transposes measure 0.8-2 cycles per element here).
GATHER_CYCLES_PER_ELEMENT = 1.5
# CPU: a copy of contiguous rows (an im2col patch row, a transpose that
# keeps the innermost axes, a concatenation's slabs) costs at least this
# many cycles per row (loop control and index arithmetic): fitted on six
# convolutions outside the validation set whose patches are copied before
# their product (benchmarks/fit_conv_packing.py: 11.9-35.3 per row across
# them; 11.8 on the AMD EPYC of the earlier runs). The host's calibration
# measures its own (`row_copy_cycles`: a transpose of 10-float rows; about
# 8 on a Zen 4 EPYC).
ROW_COPY_CYCLES = 19.1
# CPU: the implicit GEMM's packing (a convolution's patches gathered while
# B's panels are packed): cycles per tap and output row crossed by a panel
# in each K slice (working out where the run reads and its masks), and per
# k row and output row crossed (a masked copy). Fitted on ten six-filter
# convolutions outside the validation set (benchmarks/fit_conv_packing.py,
# results/conv-packing-fit.json: within 0.76-1.14x of each), on an Intel
# Xeon (a Zen 4 EPYC's fit: 45 and 9, with residuals up to 1.4x: the form
# fits it less well; kept, with the measured clock).
IM2COL_TAP_CYCLES = 29.3
# The direct kernel of stems' convolutions (DirectConv.cpp): its
# multiply-adds at the calibrated sgemm rate after its tiles' padding, plus
# cycles per 16-pixel chunk and output channel (its accumulator's start,
# bias, clamp, store and activation; the taps' masks shared by a block).
# Fitted on the four zoo stems (3->16, 3->24, 3->32 3x3/2 and 3->64 7x7/2
# at 224, one thread, Zen 4 EPYC, 2026-12-07: within -5% to +3% of each,
# each the least of 300 calls); the validation's convolutions are not
# among them.
DIRECT_CONV_CHUNK_CYCLES = 12.5
# Winograd's input and output transforms (and their row copies), cycles per
# channel and 4x4 tile: a perf profile of a 64x56x56->64 layer on the Zen 4
# EPYC put 40% of its 1004 us in them, over 196 tiles x 128 channels.
WINOGRAD_TRANSFORM_CYCLES = 58.0
IM2COL_ROW_RUN_CYCLES = 7.72
# The AVX2 packing path (CPUs without AVX-512: per thread, chunk lists of
# 8-float masked loads and plain stores kept per geometry), fitted the same
# way on a Zen 3 EPYC (results/conv-packing-fit-avx2.json): there the
# other form fits better (worst residual 1.67x, the tap form's 2.51x):
# cycles per panel and K slice (finding the panel's list, the rows' set-up)
# and per k row and output row crossed.
IM2COL_AVX2_PANEL_CYCLES = 285.9
IM2COL_AVX2_ROW_RUN_CYCLES = 13.9
# Rows at least this long are copied with vector loads and stores.
VECTOR_ROW = 8
# CPU: FLOPs per cycle per core of the FMA peak (2 FMA pipes x 8 lanes x 2
# on AVX2), to turn the peak into a clock for cycle-counted terms.
FLOPS_PER_CYCLE = {256: 32, 512: 64}


@dataclass
class KernelPrediction:
    kernel: int
    kind: str
    ops: list
    flops: float
    bytes: float
    compute_s: float
    memory_s: float
    overhead_s: float
    time_s: float = 0.0
    bound: str = ""
    utilization: float = 0.0     # achieved FLOP/s / peak
    notes: list = field(default_factory=list)

    def finish(self, peak: float) -> "KernelPrediction":
        self.time_s = max(self.compute_s, self.memory_s) + self.overhead_s
        parts = {"compute": self.compute_s, "memory": self.memory_s, "overhead": self.overhead_s}
        self.bound = max(parts, key=parts.get)
        self.utilization = self.flops / self.time_s / peak if self.time_s > 0 and peak else 0.0
        return self


def _pad(x: int, to: int) -> int:
    return math.ceil(x / to) * to if x > 0 else 0


def _tile_efficiency(m, n, tm, tn):
    return (m * n) / (_pad(m, tm) * _pad(n, tn)) if m and n else 1.0


def _ops(kernel, ops):
    return [ops[i]["op"] for i in kernel["ops"]]


def _constant_panels(kernel, ops) -> dict:
    """Which of a product's operands the compiler packs into the ukernel's
    panels when compiling (MatmulToUkernel's constant-panels), so that no
    call packs them: a 2-D matmul's constant A or B, a convolution's
    constant filter (its A); not a splat (one value), which it leaves."""
    for i in kernel["ops"]:
        op = ops[i]
        sources = op["operands"]
        constant = [s >= 0 and ops[s]["kind"] == "constant" and not ops[s]["splat"]
                    for s in sources]
        if op["op"] == "flash.matmul" and len(sources) > 1:
            return {"a_panels": constant[0], "b_panels": constant[1]}
        if op["op"] == "flash.conv2d" and len(sources) > 1:
            return {"a_panels": constant[1], "b_panels": False}
    return {}


def im2col_panels(pixels: int, ow: int, nr: int) -> tuple:
    """(panels, runs) of an implicit GEMM's packing of one image: its
    `pixels` output pixels in panels of nr, and over all panels the output
    rows (of ow pixels) each crosses -- a panel's copies go run by run."""
    panels = math.ceil(pixels / nr)
    runs = sum((min(p + nr, pixels) - 1) // ow - p // ow + 1 for p in range(0, pixels, nr))
    return panels, runs


def _conv_window(kernel, ops) -> dict:
    """A convolution's taps (KH x KW) and whether the compiler gathers its
    patches while packing (implicit GEMM: a convolution run image by image,
    a grouped one image and group by image and group) or copies them first
    (all images as one product's columns): ConvToIm2col's and
    MatmulToUkernel's rules."""
    for i in kernel["ops"]:
        op = ops[i]
        if op["op"] != "flash.conv2d" or len(op.get("operand_shapes") or []) < 2:
            continue
        x, w = op["operand_shapes"][0], op["operand_shapes"][1]
        columns = kernel["batch"] == 1 and x[0] > 1
        return {"implicit_im2col": not columns, "taps": w[2] * w[3],
                "images": x[0]}
    return {}


def predict(kernel: dict, ops: list, device: Device, dtype: str = "fp32",
            threads: int | None = None, on_chip: bool = False) -> KernelPrediction:
    """One kernel's prediction. `on_chip`: the whole program lives in the
    device's on-chip memory (a whole-graph device whose program fits), so
    the kernel's bytes move at on-chip, not main-memory, bandwidth."""
    dtype = device.run_dtype(dtype)  # e.g. int8 on an int8-only NPU
    scale = DTYPE_BYTES[dtype] / 4  # the analysis counts f32 bytes
    nbytes = (kernel["bytes_in"] + kernel["bytes_out"]) * scale
    flops = float(kernel["flops"])
    names = _ops(kernel, ops)
    if kernel["kind"] == "contraction":
        kernel = dict(kernel, **_constant_panels(kernel, ops), **_conv_window(kernel, ops))
    elif device.kind == "cpu":
        kernel = dict(kernel, loop_work=_loop_work(kernel, ops, device))
    if on_chip and device.kind in ("tpu", "npu"):
        return _systolic(kernel, names, device, dtype, flops, nbytes, threads, on_chip=True)
    model = {"gpu": _gpu, "tpu": _systolic, "npu": _systolic, "cpu": _cpu}[device.kind]
    return model(kernel, names, device, dtype, flops, nbytes, threads)


def _bandwidth(device: Device) -> float:
    return device.memory_gbs * 1e9 * MEMORY_EFFICIENCY


def _gpu(k, names, device, dtype, flops, nbytes, threads):
    notes = []
    strided = STRIDED_EFFICIENCY if k["kind"] in ("layout", "pooling") else 1
    memory = nbytes / (_bandwidth(device) * strided)
    if "memory_bytes" in k:  # split by the cache model (sim/memory.py)
        scale = DTYPE_BYTES[dtype] / 4
        memory = k["memory_bytes"] * scale / (_bandwidth(device) * strided)
        level = last_level_cache(device)
        if level.bandwidth_gbs:  # else assumed not to limit
            memory = max(memory, k["cached_bytes"] * scale / (level.bandwidth_gbs * 1e9 * strided))
        if k["cached_bytes"]:
            notes.append(f"{k['cached_bytes'] * scale / 1e6:.3f} MB through {level.name}")
    if nbytes and device.memory_latency_ns:
        # The first bytes arrive a round trip after the loads issue: what a
        # small kernel's memory time is made of (measured, pointer chase).
        memory += device.memory_latency_ns * 1e-9
    if k["kind"] == "contraction":
        # fp32 matmuls run on CUDA cores unless the program asks for tf32.
        peak = device.peak(dtype)
        eff, note = _best_gpu_tiling(k, device)
        notes.append(note)
        if "flash.conv2d" in names and k.get("copy_row") and \
                not device.stack.get("implicit_gemm"):  # im2col patches: written, read once
            memory += 2 * k["batch"] * k["k"] * k["n"] * DTYPE_BYTES[dtype] / _bandwidth(device)
    else:
        peak = device.peak("fp16" if DTYPE_BYTES[dtype] < 4 else "fp32") \
            if device.peak_tflops.get("fp32") else device.peak(dtype)
        peak = min(peak, device.peak_tflops.get("fp32", peak / 1e12) * 1e12 *
                   (2 if DTYPE_BYTES[dtype] < 4 else 1))
        eff = 0.5  # elementwise: one op per lane, no FMA pairing
    compute = flops / (peak * eff) if flops else 0.0
    return KernelPrediction(k["id"], k["kind"], names, flops, nbytes, compute, memory,
                            device.launch_overhead_us * 1e-6, notes=notes).finish(device.peak(dtype))


# CTA tiles a GEMM library picks from, with their efficiency relative to the
# device's largest tile (smaller tiles re-use less data per load), and the
# split-K factors it may add when there are fewer tiles than SMs.
GPU_TILES = [(1.0, None), (0.85, (128, 128)), (0.65, (64, 64)), (0.4, (32, 32))]
GPU_SPLIT_K = (1, 2, 4, 8, 16)


def _best_gpu_tiling(k, device):
    """The tile and split-K with the best efficiency, as cuBLAS-class
    heuristics choose: tile quantization x wave quantization x K prologue."""
    best = (0.0, "")
    batch, m, n, kk = max(1, k["batch"]), k["m"], k["n"], k["k"]
    for scale, tile in GPU_TILES:
        tm, tn = tile or (device.tile or (128, 128))
        for split in GPU_SPLIT_K:
            if split > 1 and kk // split < 64:
                break
            tiles = batch * math.ceil(m / tm) * math.ceil(n / tn) * split
            waves = math.ceil(tiles / device.compute_units)
            wave_eff = tiles / (waves * device.compute_units)
            tile_eff = _tile_efficiency(m, n, tm, tn)
            kpart = kk / split
            k_eff = kpart / (kpart + GPU_K_OVERHEAD)
            eff = device.max_efficiency * scale * wave_eff * tile_eff * k_eff
            if eff > best[0]:
                best = (eff, f"tile {tm}x{tn} split-K {split}: {tiles} tiles in {waves} wave(s) "
                             f"({wave_eff:.0%} of SMs), padding {tile_eff:.0%}, K {k_eff:.0%}")
    return best


def _systolic(k, names, device, dtype, flops, nbytes, threads, on_chip=False):
    notes = []
    peak = device.peak(dtype)
    strided = STRIDED_EFFICIENCY if k["kind"] == "layout" else 1
    if on_chip:
        # On-chip SRAM: its bandwidth where published, else assumed not to
        # limit (the arrays are fed from it at their rate).
        level_gbs = max((o.bandwidth_gbs or 0 for o in device.onchip), default=0)
        memory = nbytes / (level_gbs * 1e9 * strided) if level_gbs else 0.0
        streamed = k.get("streamed_bytes", 0.0) * DTYPE_BYTES[dtype] / 4
        if streamed:  # parameters that did not fit: fetched every call
            memory = max(memory, streamed / _bandwidth(device))
            notes.append(f"activations on chip; {streamed / 1e6:.3f} MB of weights from memory")
        else:
            notes.append("activations and weights on chip")
    else:
        memory = nbytes / (_bandwidth(device) * strided)
    if k["kind"] == "contraction":
        # Weights stay in the arrays (K x N), activation rows stream
        # through (M). The shared analysis states a convolution as its CPU
        # im2col GEMM, (O) x (C*KH*KW) @ (C*KH*KW) x (OH*OW); on an array
        # the output pixels stream and the O filters are the columns.
        conv = "flash.conv2d" in names
        m, n = (k["n"], k["m"]) if conv else (k["m"], k["n"])
        r, c = device.systolic or (128, 128)
        kk = k["k"]
        passes = max(1, k["batch"]) * math.ceil(kk / r) * math.ceil(n / c)
        waves = math.ceil(passes / device.arrays)
        wave_eff = passes / (waves * device.arrays)
        pad_eff = (kk * n) / (_pad(kk, r) * _pad(n, c))
        fill_eff = m / (m + r + c)
        eff = device.max_efficiency * wave_eff * pad_eff * fill_eff
        on_arrays = flops / (peak * eff) if flops else 0.0
        on_vector = flops / (peak * VECTOR_FRACTION) if flops else 0.0
        # A product that fills the arrays badly (a depthwise convolution:
        # one filter column of 3x3 weights per group) runs faster on the
        # vector units; the device's compiler picks the faster mapping.
        compute = min(on_arrays, on_vector)
        notes.append(f"{r}x{c} arrays: K,N padding {pad_eff:.0%}, fill/drain {fill_eff:.0%}, "
                     f"{passes} passes in {waves} wave(s)"
                     + ("; runs on the vector units (faster)" if on_vector < on_arrays else ""))
    else:
        compute = flops / (peak * VECTOR_FRACTION) if flops else 0.0
    return KernelPrediction(k["id"], k["kind"], names, flops, nbytes, compute, memory,
                            device.launch_overhead_us * 1e-6, notes=notes).finish(peak)


def _host_bandwidth(device: Device, working_set: float, threads: int,
                    stream: str = "triad_gbs") -> float:
    """A measured stream's bandwidth at this working set (host: triad, or
    with `stream` "read_gbs" a read-only sum, interpolated in log size
    between the measured sizes, 64 KiB to 256 MiB; the calibration measures
    past the last cache level too -- at twice a 32 MiB L3 a stream still
    finds part of its data there, called again on the same arrays), or the
    published memory bandwidth."""
    rates = device.measured.get("peak", {}).get(stream) if device.measured else None
    if not rates:
        return _bandwidth(device)
    suffix = "1thread" if threads == 1 else "allthreads"
    sizes = sorted((int(key.split("KiB")[0]) * 1024, v) for key, v in rates.items()
                   if key.endswith(suffix))
    return math.exp(_interpolate(sizes, working_set, math.log)) * 1e9


def _host_traffic_s(device: Device, bytes_in: float, bytes_out: float, threads: int,
                    scale: float = 1.0) -> float:
    """Seconds to move a kernel's bytes at the host's measured rates for
    its working set. With a read-only stream measured beside the triad, a
    read byte costs 1/read and a written byte what the triad's write adds
    to its two reads: (12/triad - 8/read)/4 (whether the core reads a line
    before writing it -- write-allocate -- or not, as some Intel server
    cores avoid for full lines, is in that difference, not assumed).
    Older calibrations (triad only) assume write-allocate: triad counts the
    12 bytes per element it names, but its store first reads the line it
    writes, so 16 move and a kernel takes (in + 2 out) x 3/4 / triad."""
    traffic = bytes_in + bytes_out
    peak = device.measured.get("peak", {}) if device.measured else {}
    if peak.get("read_gbs") and peak.get("triad_gbs"):
        read = _host_bandwidth(device, traffic, threads, "read_gbs") * scale
        triad = _host_bandwidth(device, traffic, threads) * scale
        per_written = max((12 / triad - 8 / read) / 4, 0.0)
        return bytes_in / read + bytes_out * per_written
    bandwidth = _host_bandwidth(device, traffic, threads) * scale
    if peak.get("triad_gbs"):
        traffic = 0.75 * (bytes_in + 2 * bytes_out)
    return traffic / bandwidth


def _cpu(k, names, device, dtype, flops, nbytes, threads):
    notes = []
    scale = DTYPE_BYTES[dtype] / 4  # the analysis counts f32 bytes
    bytes_in, bytes_out = k["bytes_in"] * scale, k["bytes_out"] * scale
    cores = threads or device.compute_units
    peak_all = device.peak(dtype)
    peak_core = peak_all / device.compute_units
    clock = _clock(device, peak_core)  # for cycle counts
    overhead = HOST_KERNEL_OVERHEAD
    transforms = 0.0
    if k["kind"] == "contraction" and k.get("winograd") and k.get("copy_row"):
        # Winograd F(4x4, 3x3) (Winograd.cpp): per image 36 products of
        # O x C times C x tiles in place of the im2col GEMM, and the
        # transforms, priced per channel and tile.
        # (Image by image also where the analysis' GEMM has all images as
        # columns: ConvToIm2col keeps Winograd's convolutions per image.)
        ow = k["copy_row"]
        images = k.get("images") or k["batch"]
        oh = k["batch"] * k["n"] // images // ow
        tiles = math.ceil(oh / 4) * math.ceil(ow / 4)
        channels = k["k"] // 9
        flops += 2.0 * k["m"] * (36 * images * tiles * channels - k["batch"] * k["n"] * k["k"])
        transforms = images * tiles * (channels + k["m"]) * WINOGRAD_TRANSFORM_CYCLES
        k = dict(k, batch=images * 36, k=channels, n=tiles, copy_row=0)
        notes.append(f"Winograd F(4x4, 3x3): 36 products over {tiles} tiles per image")
    if k["kind"] == "contraction":
        lanes = (device.simd_bits or 256) // 32
        mr, nr = sgemm.PANEL_ROWS, 2 * lanes
        m, n, batch = k["m"], k["n"], max(1, k["batch"])
        used = 1
        # A batch of calls each too small to split, or filling the cores,
        # runs the batch itself on all cores (the runtime's rule), each
        # call on one thread.
        batch_parallel = cores > 1 and sgemm.batch_in_parallel(
            batch, 2.0 * m * n * k["k"], cores)
        split = sgemm.split(m, n, k["k"], 0, cores, mr, nr)  # the runtime's stripes
        # A stem's convolution (few input channels) on AVX-512: the direct
        # kernel (DirectConv.cpp), bands of output rows per thread, no
        # packing; its tiles are 16 channels (8 for a short last block) by
        # 16 pixels of a row.
        direct = bool(k.get("direct")) and bool(k.get("copy_row")) and \
            _avx512_kernel_ran(device, "conv_direct")
        if direct:
            ow = k["copy_row"]
            oh = n // ow
            bands = 1 if 2.0 * m * n * k["k"] < sgemm.PARALLEL_FLOPS else min(cores, oh)
            split = sgemm.Split(bands, False, math.ceil(oh / bands), m, n)
        if batch_parallel:
            used = min(cores, batch)
        elif cores > 1:
            used = split.tasks
        # Each thread's share: the most calls of the batch, or the largest
        # stripe (stripes are whole register tiles: 224 columns split as
        # 128 + 96).
        # (A calibration whose scaling includes the imbalance: 1/used.)
        stripes = used > 1 and (not device.measured or device.measured.get(
            "parallel_scaling_against") == "largest stripe")
        share = math.ceil(batch / used) / batch if batch_parallel else \
            (split.stripe / oh if direct else split.task_n / n if split.columns
             else split.task_m / m) if stripes else 1.0 / used
        if used > 1 and not batch_parallel:  # the cores do not run `used`
            # times as fast on one call's stripes (measured by the call's
            # work per thread, host; sourced devices: 1); whole calls of a
            # batch, one per thread, share nothing (LeNet's 16 convolutions
            # of one image: 1.95x on two threads)
            share /= _parallel_efficiency(device, flops * share)
        # Under 6 rows the ukernel streams B's rows through a vectorized
        # loop (sgemmFewRows), and one column over A's compiled panels is a
        # matrix-vector product in full vectors (gemvPanels, SIMD hosts):
        # no register tile to pad.
        tiles = sgemm.tile_efficiency(m, n, mr, nr, _edge_blocks(device),
                                      _edge_riding(device))
        streamed = m < mr or (n == 1 and k.get("a_panels") and (device.simd_bits or 256) >= 256)
        if direct:
            padded_m = 16 * (m // 16) + (0 if m % 16 == 0 else 8 if m % 16 <= 8 else 16)
            tiles, streamed = (m / padded_m) * (ow / (16 * math.ceil(ow / 16))), False
        rate = _ukernel_rate(device, flops / batch, peak_core) * (1.0 if streamed else tiles)
        compute = flops * share / rate
        if direct:  # per 16 pixels and channel: start, bias, clamp, store
            chunks = batch * oh * math.ceil(ow / 16) * padded_m
            compute += chunks * share * DIRECT_CONV_CHUNK_CYCLES / clock
        # Packing (read + write, from cache) as the ukernel does it
        # (Sgemm.cpp): every task packs the rows of A it computes -- all of A
        # for a column stripe -- and, when B is packed, its own columns of
        # B; under 6 rows nothing is packed (B is streamed).
        task_m, task_n = (m, n) if batch_parallel else (split.task_m, split.task_n)
        elements = 0 if m < mr or direct else (0 if k.get("a_panels") else task_m * k["k"]) + (
            k["k"] * task_n if sgemm.packs_b(task_m, n, sgemm.DEFAULT_BLOCKING["mc"], 0)
            and not k.get("b_panels") else 0)
        calls = batch * share if batch_parallel else batch  # each task's
        compute += calls * elements * 8 / _host_bandwidth(device, 1 << 20, 1)
        notes.append(f"{used} thread(s){' over the batch' if batch_parallel else ''}, "
                     + (f"direct kernel, 16 channels x 16 pixels ({tiles:.0%} used)" if direct else
                        f"register tile {mr}x{nr} ({tiles:.0%} used)"))
        memory = _host_traffic_s(device, bytes_in, bytes_out, used)
        if transforms:  # split over the threads as the products are
            compute += transforms / clock / used
        if direct:
            pass  # reads the image in place: nothing gathered or packed
        elif "flash.conv2d" in names and k.get("copy_row") and k.get("implicit_im2col"):
            # Implicit GEMM: each task gathers its own columns' patches
            # while packing B's panels (Im2colPack.cpp): per panel of nr
            # pixels and K slice, the taps' reads and masks, then each k row
            # copied run by run (one run per output row the panel crosses),
            # or as one shifted run where the packing is flat (AVX-512,
            # unit strides, rows as long as the output's: im2colPacksFlat).
            flat = bool(k.get("flat_packing")) and _avx512_kernel_ran(device, "im2col_flat")
            panels, runs = im2col_panels(n, n if flat else k["copy_row"], nr)
            if not batch_parallel and used > 1:  # each task packs its stripe
                panels, runs = math.ceil(panels / used), runs / used
            slices = math.ceil(k["k"] / sgemm.DEFAULT_BLOCKING["kc"])
            calls = batch * share if batch_parallel else batch
            if device.simd_bits >= 512:
                compute += calls * runs * (slices * k["taps"] * IM2COL_TAP_CYCLES +
                                           k["k"] * IM2COL_ROW_RUN_CYCLES) / clock
            else:  # AVX2 (its chunk lists reused: ChunkCache)
                compute += calls * (panels * slices * IM2COL_AVX2_PANEL_CYCLES +
                                    runs * k["k"] * IM2COL_AVX2_ROW_RUN_CYCLES) / clock
            notes.append(f"implicit im2col: {panels} panel(s) of {nr} pixels per call")
        elif "flash.conv2d" in names and k.get("copy_row"):  # im2col patch gather, a parallel loop
            # Its rows are contiguous (stride 1) or strided copies; with
            # LLVM's pre-vectorization unrolling off they are vectorized, so
            # the gather runs as a copy: each patch element read and written
            # once, at the cache bandwidth of the patch matrix's size.
            # Short rows (OW of 5-16) are loop overhead, not bytes: each
            # patch row costs ROW_COPY_CYCLES; the larger of the two.
            elements = batch * k["k"] * n
            workers = cores if elements >= PARALLEL_MIN_ITERATIONS else 1
            compute += _row_copy_s(device, elements, k["copy_row"], clock, workers)
            notes.append(f"im2col gather of {elements} elements")
        if used > 1 and not (device.measured or {}).get("parallel_scaling"):
            overhead += HOST_PARALLEL_REGION  # (else in the measured scaling)
        # One ukernel call per batch element (host: calibrated fixed cost).
        overhead += batch * (device.measured.get("ukernel_call_us", 0.0) if device.measured
                             else 0.0) * 1e-6
    else:
        iterations = max(kernel_elements(k), 1)
        used = cores if loop_iterations(k) >= PARALLEL_MIN_ITERATIONS and cores > 1 else 1
        row = k.get("copy_row") or 0
        row_copy = k["kind"] == "layout" and row >= VECTOR_ROW
        strided = k["kind"] == "pooling" or (k["kind"] == "layout" and not row_copy)
        memory = _host_traffic_s(device, bytes_in, bytes_out, used,
                                 STRIDED_EFFICIENCY if strided else 1)
        measured = device.measured or {}
        # Counted ops per second on one core: measured on the host (a tanh
        # loop), else one op per lane and cycle at the loops' vector width
        # without FMA pairing (half the FMA peak).
        rate = float(measured.get("loop_gops") or 0.0) * 1e9 or \
            _loop_peak(device, peak_core) * float(measured.get("loop_efficiency") or 0.5)
        # How a parallel loop of this size scales (host: measured; any loop
        # kind below runs as one).
        scaling = _interpolate(measured["loop_parallel_scaling"], loop_iterations(k)) \
            if used > 1 and measured.get("loop_parallel_scaling") else 1.0
        work = k.get("loop_work", flops)
        compute = work / (rate * scaling * used) if work else 0.0
        if k["kind"] == "reduction" and measured.get("reduction_ns_per_element"):
            # A row's elements accumulate as the compiled loop does (a max
            # as one dependent chain per row): at least the measured time
            # per reduced element of that reduction.
            kind = "max" if "flash.reduce_max" in names else "sum"
            compute = max(compute, loop_iterations(k) * float(
                measured["reduction_ns_per_element"][kind]) * 1e-9 / (used * scaling))
        if row_copy:  # rows of `row` contiguous elements, vector copies
            compute = _row_copy_s(device, iterations, row, clock, used)
            memory = 0.0  # (in the copy's time)
            notes.append(f"copies rows of {row} elements")
        elif k["kind"] == "layout":  # the innermost axis moves: element by element
            compute = iterations * _gather_s(device, clock) / used
        elif k["kind"] == "pooling":  # every window element read `stride` apart
            per_window = float(measured.get("gather_ns_per_window") or 0.0) * 1e-9
            compute = (flops * _gather_s(device, clock) + iterations * per_window) / used
        if row_copy or k["kind"] in ("layout", "pooling"):
            compute /= scaling
        if used > 1:
            if not measured.get("loop_parallel_scaling"):
                overhead += HOST_PARALLEL_REGION  # (else in the measured scaling)
            notes.append(f"parallel on {used} threads")
    return KernelPrediction(k["id"], k["kind"], names, flops, nbytes, compute, memory,
                            overhead, notes=notes).finish(peak_all)


def _clock(device: Device, peak_core: float) -> float:
    """Cycles per second of one core, for the terms counted in cycles: the
    host's as flash-peak measures it (a chain of dependent adds), else the
    FMA peak over two FMA pipes' FLOPs per cycle (not so on Zen 4, whose
    512-bit FMAs run as two 256-bit halves: half the clock that gives)."""
    measured = ((device.measured or {}).get("peak") or {}).get("clock_ghz_1thread")
    if measured:
        return float(measured) * 1e9
    return peak_core / FLOPS_PER_CYCLE.get(device.simd_bits or 256, 32)


def _loop_work(k: dict, ops: list, device: Device) -> float:
    """A loop kernel's counted ops in tanh units (16 per tanh: what the
    host's loop rate is measured in), each costly elementwise op counted as
    the host's calibration measured it against tanh (`loop_ns_per_element`;
    else the cost analysis's table, measured on one CPU)."""
    ns = (device.measured or {}).get("loop_ns_per_element") or {}
    work = float(k["flops"])
    if not ns.get("flash.tanh"):
        return work
    for i in k["ops"]:
        op = ops[i]
        if op["op"] in ns and op.get("elements"):
            work += op["elements"] * 16 * ns[op["op"]] / ns["flash.tanh"] - op["flops"]
    return work


def _edge_blocks(device: Device) -> list:
    """The column blocks the ukernel's edge tiles run in on `device`: as
    its calibration recorded (none before the edge tiles, 2026-12-06), or
    for a CPU known from its specs, the runtime's rule (edge tiles with
    AVX-512)."""
    if device.measured:
        return device.measured.get("sgemm_edge_column_blocks") or []
    return sgemm.AVX512_EDGE_COLUMN_BLOCKS if device.simd_bits == 512 else []


def _avx512_kernel_ran(device: Device, choice: str) -> bool:
    """Whether `device` runs an AVX-512-only kernel path: as its
    calibration recorded the code's `choice` (absent: a calibration from
    before that path), or for a CPU known from its specs, AVX-512."""
    if device.measured:
        return bool(device.measured.get(choice, False))
    return (device.simd_bits or 0) >= 512


def _edge_riding(device: Device) -> int:
    """Columns that ride on a 16-wide edge block (sgemm.EDGE_RIDING_COLUMNS)
    on `device`: as its calibration recorded (none before 2026-12-07), or
    the runtime's rule for an AVX-512 CPU known from its specs."""
    if device.measured:
        return int(device.measured.get("sgemm_edge_riding_columns") or 0)
    return sgemm.EDGE_RIDING_COLUMNS if device.simd_bits == 512 else 0


def _ukernel_rate(device: Device, call_flops: float, peak_core: float) -> float:
    """FLOP/s of the ukernel on one core for a call of this much work: the
    host's calibration measures it at a few sizes (interpolated in log
    work, clamped at the ends); older calibrations and other devices: one
    core's peak times the measured or sourced `max_efficiency`."""
    points = (device.measured or {}).get("ukernel_gflops_by_size")
    return _interpolate(points, call_flops) * 1e9 if points else peak_core * device.max_efficiency


def _loop_peak(device: Device, peak_core: float) -> float:
    """One core's FMA peak at the compiled loops' vector width: the host's
    loops use 256-bit vectors where its sgemm ukernel uses AVX-512 (LLVM's
    preference on those cores; the calibration records the width)."""
    measured = device.measured or {}
    bits = measured.get("loop_vector_bits")
    if bits == 256 and measured.get("peak", {}).get("fma_gflops_avx2_1thread"):
        return float(measured["peak"]["fma_gflops_avx2_1thread"]) * 1e9
    return peak_core


def _parallel_efficiency(device: Device, flops_per_thread: float) -> float:
    """How far all cores fall short of running a product `cores` times as
    fast as one, for this much work per thread: the host's calibration
    measures it at a few sizes (interpolated in log work, clamped at the
    ends); an older calibration has one number; other devices 1."""
    data = device.measured or {}
    points = data.get("parallel_scaling")
    if not points:
        return float(data.get("parallel_efficiency", 1.0)) if data else 1.0
    return _interpolate(points, flops_per_thread)


def _interpolate(points, x: float, value=lambda y: y) -> float:
    """value(y) at x, interpolated in log x between the measured (x, y)
    points (sorted by x), clamped at the ends."""
    if x <= points[0][0]:
        return value(points[0][1])
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        if x <= x1:
            f = math.log(x / x0) / math.log(x1 / x0)
            return (1 - f) * value(y0) + f * value(y1)
    return value(points[-1][1])


def _row_copy_s(device: Device, elements: float, row: int, clock: float, workers: int) -> float:
    """A copy of `elements` in contiguous rows of `row`: each element read
    and written once at the cache bandwidth of its size, but at least
    ROW_COPY_CYCLES per row."""
    rows = elements / max(1, row)
    per_row = float((device.measured or {}).get("row_copy_cycles") or ROW_COPY_CYCLES)
    return max(_host_traffic_s(device, 4 * elements, 4 * elements, workers),
               rows * per_row / clock / workers)


def implicit_packing_counts(images: int, channels: int, size: int, kernel: int, pad: int,
                            nr: int, kc: int, cached: bool = False,
                            flat: bool = False) -> tuple:
    """(tap entries, row runs) the implicit GEMM's packing of a stride-1
    convolution of square images works through on one thread: per image,
    each panel of nr pixels over ceil(K/kc) slices, its k rows copied once
    per output row it crosses, or once where the packing is `flat`
    (sgemm.im2col_packs_flat, AVX-512) (the two terms IM2COL_TAP_CYCLES and
    IM2COL_ROW_RUN_CYCLES price). `cached`: the AVX2 path, whose tap
    entries (chunk lists) are made once per call and geometry."""
    out = size + 2 * pad - kernel + 1
    kk = channels * kernel * kernel
    _, runs = im2col_panels(out * out, out * out if flat else out, nr)
    taps = kernel * kernel * runs if cached else images * math.ceil(kk / kc) * kernel * kernel * runs
    return taps, images * kk * runs


def kernel_elements(k: dict) -> int:
    """Elements a non-contraction kernel writes."""
    return int(k["bytes_out"] // 4)


def loop_iterations(k: dict) -> int:
    """Iterations of a non-contraction kernel's loop nest, what the
    pipeline's parallel threshold counts (LinalgToLoops: the product of all
    loop ranges): a pooling window's and a reduction's inner loops too."""
    out = kernel_elements(k)
    if k["kind"] == "pooling":
        return max(out, int(k["flops"]))
    if k["kind"] == "reduction":
        return max(out, int(k["bytes_in"] // 4))
    return out


def _gather_s(device: Device, clock: float) -> float:
    """Seconds per element of a strided gather (pooling windows, transposes
    that move the innermost axis): measured on the host (two max pools,
    with a time per window beside it), else GATHER_CYCLES_PER_ELEMENT."""
    measured = (device.measured or {}).get("gather_ns_per_element")
    return float(measured) * 1e-9 if measured else GATHER_CYCLES_PER_ELEMENT / clock
