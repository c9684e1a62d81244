"""The analytical cost model fc.tune ranks candidates with: predicted
seconds of one tunable op for one sgemm configuration on the host.

It follows what Sgemm.cpp does, term by term, with the host's calibrated
numbers (fc.devices.host(): FMA peak per core, cache sizes, bandwidth per
working-set size, call overhead):
  - the microkernel: per k step a tile of mr x nr needs mr*nr/L FMAs on 2
    FMA ports (L lanes: 8 AVX2, 16 AVX-512), nr/L loads of B and mr
    broadcasts of A on 2 load ports, and at least the FMA latency (4
    cycles) per dependent accumulator chain; more live vectors than the
    ISA's registers (16 AVX2, 32 AVX-512) spill (a store and a reload per
    extra vector per k step), against that ISA's measured FMA peak;
  - edge waste: a partial tile costs a whole tile;
  - cache fit: the A and B panels of one kc slice in L1, the mc x kc block
    of A in L2, the kc x nc block of B in L3 (shared by the tasks);
  - packing: A packed once per column block, B once per slice when A has
    more than one block; C read and written once per K slice;
  - tasks: stripes split as the ukernel splits them, plus a fork cost.
Stated constants are below; the model is for ranking, not for absolute
time (the report gives its rank correlation with measurement).
"""
from __future__ import annotations

import math

from .. import sgemm
from ..sim.registry import devices
from .space import TILES, Problem, _round_up, packs_b, runs_batch_in_parallel

FMA_PORTS, LOAD_PORTS, FMA_LATENCY = 2, 2, 4
# Lanes of f32 and vector registers per instruction set of a microkernel.
LANES = {"avx512": 16, "avx2": 8, "generic": 8}
VECTOR_REGISTERS = {"avx512": 32, "avx2": 16, "generic": 16}
FORK_SECONDS = 4e-6          # waking the second core (libomp fork/join), measured ~3-6 us
CALL_SECONDS = 15e-9         # per microkernel call: tile setup and the C store
FIT = 0.75                   # a block "fits" a cache when it uses at most this share
PENALTY = {"l1": 0.80, "l2": 0.85, "l3": 0.90}
# Calibrated on this machine (every candidate of five matmuls, 64x512x256,
# 256^3, 1024^3, 37x300x1000, 500x64x500, measured one by one; the tuning
# benchmark's shapes are others): how far each register tile's code falls
# short of its port-bound rate (the templated tiles: GCC's scheduling and
# the store through a buffer; the hand-scheduled 6x16 is the reference),
# and the speedup of two tasks over one relative to 2x (the second vCPU).
# Keyed by microkernel (sgemm.TILE_KERNELS): the hand-scheduled tiles are the
# reference.
IMPLEMENTATION = {"microkernelAvx512(": 1.0, "microkernelAvx2(": 1.0,
                  "microkernelGeneric(": 1.0, "microkernelTile<4, 3>(": 0.78,
                  "microkernelTile<8, 1>(": 0.61, "microkernelTile<4, 2>(": 0.68,
                  "microkernelTile<12, 4>(": 0.59}
PARALLEL_EFFICIENCY = 0.8
IN_PLACE_EFFICIENCY = 0.97   # microkernel reading B in place (strided rows) vs packed


class HostModel:
    """The host's numbers the model needs, from its calibration."""

    def __init__(self, device=None):
        if device is None:
            device = devices.host()
        data = device.measured or {}
        peak = data.get("peak", {})
        self.cores = int(device.compute_units)
        self.core_flops = float(peak.get("fma_gflops_avx2_1thread", 50.0)) * 1e9
        # Each instruction set's peak: a tile runs at its own ISA's.
        self.isa_flops = {"avx2": self.core_flops, "generic": self.core_flops,
                          "avx512": float(peak.get("fma_gflops_avx512_1thread") or
                                          peak.get("fma_gflops_avx2_1thread", 50.0)) * 1e9}
        caches = {c.name: c.size_mb * 2**20 for c in device.onchip}
        self.l1 = caches.get("L1D", 32 * 1024)
        self.l2 = caches.get("L2", 1 << 20)
        self.l3 = caches.get("L3", 16 << 20)
        triad = peak.get("triad_gbs", {})
        self.bw_l2 = float(triad.get("1024KiB_1thread", 50.0)) * 1e9
        self.bw_l3 = float(triad.get("16384KiB_1thread", 30.0)) * 1e9
        self.bw_dram = float(triad.get("262144KiB_1thread", 15.0)) * 1e9

    def bandwidth(self, nbytes: float) -> float:
        if nbytes <= self.l2:
            return self.bw_l2
        if nbytes <= self.l3:
            return self.bw_l3
        return self.bw_dram


def kernel_efficiency(mr: int, nr: int, isa: str = "avx2") -> float:
    """Fraction of its ISA's FMA peak the mr x nr microkernel sustains."""
    vectors = max(1, nr // LANES[isa])
    accumulators = mr * vectors
    fma_cycles = accumulators / FMA_PORTS
    load_cycles = (vectors + mr) / LOAD_PORTS
    live = accumulators + vectors + 1
    spill_cycles = 2 * max(0, live - VECTOR_REGISTERS[isa]) / LOAD_PORTS
    cycles = max(fma_cycles, load_cycles + spill_cycles, FMA_LATENCY)
    return fma_cycles / cycles


def _serial(host: HostModel, m: int, n: int, k: int, config: dict, ldb: int) -> float:
    mr, nr = TILES[config["tile"]]
    mc = min(_round_up(config["mc"], mr), _round_up(m, mr))
    nc = min(_round_up(config["nc"], nr), _round_up(n, nr))
    slices = max(1, math.ceil(k / config["kc"]))
    kc = math.ceil(k / slices)
    isa = sgemm.TILE_ISA[config["tile"]]
    efficiency = kernel_efficiency(mr, nr, isa) * \
        IMPLEMENTATION.get(sgemm.TILE_KERNELS[config["tile"]], 0.6)
    if kc * (mr + nr) * 4 > FIT * host.l1:
        efficiency *= PENALTY["l1"]
    if mc * kc * 4 > FIT * host.l2:
        efficiency *= PENALTY["l2"]
    if kc * nc * 4 > FIT * host.l3 / host.cores:
        efficiency *= PENALTY["l3"]
    padded = 2.0 * _round_up(m, mr) * _round_up(n, nr) * k
    compute = padded / (host.isa_flops[isa] * efficiency)
    column_blocks = math.ceil(n / nc)
    pack_bytes = 8.0 * m * k * column_blocks          # A: read + write per column block
    if packs_b(m, ldb, mc, config.get("packB", 0)):
        pack_bytes += 8.0 * k * n                     # B: packed once per slice
    else:
        compute /= IN_PLACE_EFFICIENCY                # B rows read ldb apart
    c_bytes = 8.0 * m * n * slices                    # C: read + write per slice
    calls = math.ceil(m / mr) * math.ceil(n / nr) * slices
    memory = pack_bytes / host.bandwidth(4.0 * (m * k + k * n)) + \
        c_bytes / host.bandwidth(4.0 * m * n)
    return compute + memory + calls * CALL_SECONDS


def _few_rows(host: HostModel, m: int, n: int, k: int) -> float:
    """The streaming path (m < 6): bound by reading B once per row."""
    return max(2.0 * m * n * k / (0.5 * host.core_flops),
               4.0 * k * n * m / 8 / host.bandwidth(4.0 * k * n))


def predict(p: Problem, config: dict, host: HostModel) -> float:
    """Predicted seconds of the whole op (all its batch GEMMs)."""
    m, n, k = p.m, p.n, p.k
    if runs_batch_in_parallel(p, config.get("batchParallel", 0), host.cores):
        # The batch elements spread over the cores, each call on one thread.
        one = dict(config, threads=1, batchParallel=2)
        per_call = predict(Problem(p.op, p.shapes, p.attrs, 1, m, n, k), one, host)
        rounds = math.ceil(p.batch / host.cores)
        return rounds * per_call / PARALLEL_EFFICIENCY + FORK_SECONDS
    mr, nr = TILES[config["tile"]]
    few = m < sgemm.PANEL_ROWS
    serial = (lambda mm, nn: _few_rows(host, mm, nn, k)) if few else \
        (lambda mm, nn: _serial(host, mm, nn, k, config, n))
    # The runtime's work split (stripes of columns or rows, one per task).
    split = sgemm.split(m, n, k, config["threads"], host.cores, mr, nr)
    if split.tasks > 1:
        time = serial(split.task_m, split.task_n) / PARALLEL_EFFICIENCY + FORK_SECONDS
    else:
        time = serial(m, n)
    return p.batch * time
