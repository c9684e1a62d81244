"""The second prediction: the kernels FlashCompile's GPU pipeline emitted
(docs/gpu.md), priced one by one, next to the vendor-stack estimate of
sim.model. Each kernel brings its grid, workgroup, theoretical occupancy
(from ptxas's or the code object's register and shared-memory counts) and
its work (FLOPs and bytes, counted by the compiler when it made the
kernel); the device file brings SMs, FP32 peak, bandwidth, launch overhead.

Per kernel:
- waves: the workgroups over SMs x resident workgroups per SM; a partial
  last wave leaves SMs idle (wave efficiency);
- compute: FLOPs at the FP32 SIMT peak (no tensor cores are emitted yet)
  times the wave efficiency, and times occupancy / 0.5 when below half
  (too few warps to hide arithmetic and shared-memory latency);
- memory: bytes at the device's bandwidth, or at what the resident threads
  can keep in flight (each with two 4-byte loads outstanding over a DRAM
  latency of DRAM_LATENCY_S) when that is less: a small kernel is latency-
  bound, not bandwidth-bound;
- shared memory: a kernel that stages tiles in shared memory (the matrix
  products) reads two 4-byte values from it per multiply-add, at
  SHARED_BYTES_PER_CLOCK per SM per clock (32 banks of 4 bytes on NVIDIA,
  the LDS's 128 bytes per clock on CDNA): this, not the FP32 peak, bounds a
  16x16 tile whose threads compute one output each (a quarter of the peak);
- plus the device's launch overhead.
These are stated assumptions of a first model, not yet validated against
measurements of these kernels (no GPU here)."""
from __future__ import annotations

import math

from .model import KernelPrediction

DRAM_LATENCY_S = 600e-9   # order of a DRAM access on recent GPUs (SIM-DATA.md's pointer chases)
BYTES_IN_FLIGHT_PER_THREAD = 8
SHARED_BYTES_PER_CLOCK = 128   # per SM (CU) and clock


def predict_emitted(kernels: list, device) -> list:
    """KernelPrediction per emitted kernel (gpu.Kernel rows with flops,
    bytes, occupancy and blocks_per_sm) on `device`."""
    peak = device.peak("fp32")
    predictions = []
    for i, k in enumerate(kernels):
        if k.flops is None or k.occupancy is None:
            raise ValueError(f"{k.name}: no work or occupancy recorded (compiled for a "
                             f"target without resource counts?)")
        blocks = k.grid[0] * k.grid[1] * k.grid[2]
        per_sm = max(1, k.blocks_per_sm or 1)
        slots = device.compute_units * per_sm
        waves = math.ceil(blocks / slots)
        wave_eff = blocks / (waves * slots)
        hiding = min(1.0, k.occupancy / 0.5)
        compute_s = k.flops / (peak * wave_eff * hiding) if k.flops else 0.0
        shared_s = 0.0
        if k.shared_bytes and k.flops and device.clock_mhz:
            shared_bw = device.compute_units * SHARED_BYTES_PER_CLOCK * device.clock_mhz * 1e6
            shared_s = 4 * k.flops / (shared_bw * wave_eff * hiding)
        resident_threads = min(blocks, slots) * k.threads
        in_flight_bw = resident_threads * BYTES_IN_FLIGHT_PER_THREAD / DRAM_LATENCY_S
        bandwidth = min(device.memory_gbs * 1e9, in_flight_bw)
        memory_s = k.bytes / bandwidth if k.bytes else 0.0
        notes = [f"{blocks} workgroups of {k.threads}, {per_sm} per SM: {waves} wave(s) "
                 f"at {wave_eff:.0%}; occupancy {k.occupancy:.0%} ({k.limited_by})"]
        if shared_s > compute_s:
            notes.append("shared-memory bound: two shared loads per multiply-add")
            compute_s = shared_s
        if in_flight_bw < device.memory_gbs * 1e9:
            notes.append(f"latency-bound memory: {in_flight_bw / 1e9:.0f} GB/s in flight")
        predictions.append(KernelPrediction(
            kernel=i, kind="emitted", ops=[k.name], flops=float(k.flops), bytes=float(k.bytes),
            compute_s=compute_s, memory_s=memory_s,
            overhead_s=device.launch_overhead_us * 1e-6, notes=notes).finish(peak))
    return predictions
