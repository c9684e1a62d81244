"""Devices as data: one Device per file in devices/*.toml, with its
sources (docs/simulator.md, "Adding a device", lists the fields). The
registry of them all, `fc.devices`, is sim/registry.py; the host's Device
comes from its calibration (sim/calibrate.py). This module is the bottom of
the simulator: it imports nothing else of it.
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field

_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "devices")
KINDS = ("gpu", "tpu", "cpu", "npu")
# How each kind's production stack groups a graph into kernels (stacks.toml).
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "stacks.toml"), "rb") as _f:
    STACKS = tomllib.load(_f)
STACK_RULES = ("elementwise_epilogues", "fused_attention", "implicit_gemm")
DTYPES = ("fp32", "tf32", "fp16", "bf16", "fp8", "int8")


@dataclass
class OnChip:
    name: str
    size_mb: float
    bandwidth_gbs: float | None = None


@dataclass
class Device:
    """One device's published (or, for the host, measured) numbers."""
    name: str
    display: str
    kind: str
    vendor: str
    compute_units: int
    peak_tflops: dict                 # dtype -> dense peak
    memory_gbs: float                 # main-memory bandwidth
    memory_gb: float                  # capacity
    memory_kind: str = ""
    memory_latency_ns: float = 0.0    # a dependent load's round trip to main memory (measured)
    clock_mhz: float | None = None
    launch_overhead_us: float = 0.0
    tdp_w: float | None = None
    onchip: list = field(default_factory=list)
    tile: tuple | None = None         # GPU: the GEMM CTA tile assumed
    systolic: tuple | None = None     # TPU/NPU: matrix-unit geometry
    arrays: int = 1                   # TPU/NPU: number of matrix units
    simd_bits: int | None = None      # CPU
    fma_units: int | None = None      # CPU
    max_efficiency: float = 0.8       # best matmul fraction of peak (sourced)
    whole_graph: bool = False         # the vendor compiler runs the program as one invocation
    arch: str = ""                    # GPU ISA: sm_80, gfx942, ... (which targets build for it)
    host_link: str = ""
    host_link_gbs: float = 0.0
    peer_link: str = ""
    peer_link_gbs: float = 0.0
    sources: dict = field(default_factory=dict)
    measured: dict = field(default_factory=dict)  # host only: calibration
    stack: dict = field(default_factory=dict)     # the kind's stack rules, with overrides

    def __post_init__(self):
        self.stack = {**STACKS[self.kind], **self.stack} if self.kind in STACKS else self.stack

    def stack_summary(self) -> str:
        """The stack and the fusions it applies, for tables and notes."""
        on = [rule.replace("_", " ") for rule in STACK_RULES if self.stack.get(rule)]
        return f"{self.stack.get('stack', '?')}: " + (", ".join(on) if on else "no further fusion")

    def peak(self, dtype: str) -> float:
        """Dense peak in FLOP/s for `dtype`, falling back to the nearest
        supported type (an fp32 program on a bf16-only TPU runs as
        multi-pass bf16, whose rate the file states as fp32)."""
        return self.peak_tflops[self.run_dtype(dtype)] * 1e12

    def run_dtype(self, dtype: str) -> str:
        """The dtype a program of `dtype` runs in here: itself, or the
        nearest the device has (an int8-only NPU runs a quantized model)."""
        order = {"fp32": ["fp32", "tf32", "bf16", "fp16", "int8"], "tf32": ["tf32", "fp32"],
                 "bf16": ["bf16", "fp16", "fp32", "int8"], "fp16": ["fp16", "bf16", "fp32", "int8"],
                 "fp8": ["fp8", "int8", "fp16", "bf16"], "int8": ["int8", "fp8", "fp16", "bf16"]}
        for d in order.get(dtype, [dtype]):
            if self.peak_tflops.get(d):
                return d
        raise ValueError(f"{self.name}: no peak for dtype {dtype!r} "
                         f"(has {sorted(self.peak_tflops)})")

    def __repr__(self):
        return f"<Device {self.name}: {self.display}>"


def load(path: str) -> Device:
    """Reads one device file; a missing or malformed field is a ValueError
    naming the file."""
    try:
        with open(path, "rb") as f:
            d = tomllib.load(f)
        mem, mat, link = d["memory"], d.get("matrix", {}), d.get("link", {})
        device = Device(
            name=d["name"], display=d["display"], kind=d["kind"], vendor=d["vendor"],
            compute_units=int(d["compute_units"]), peak_tflops=dict(d["peak_tflops"]),
            memory_gbs=float(mem["bandwidth_gbs"]), memory_gb=float(mem["capacity_gb"]),
            memory_kind=mem.get("kind", ""), clock_mhz=d.get("clock_mhz"),
            memory_latency_ns=float(mem.get("latency_ns", 0)),
            launch_overhead_us=float(d.get("launch_overhead_us", 0)), tdp_w=d.get("tdp_w"),
            onchip=[OnChip(o["name"], float(o["size_mb"]), o.get("bandwidth_gbs"))
                    for o in d.get("onchip", [])],
            tile=tuple(mat["tile"]) if "tile" in mat else None,
            systolic=tuple(mat["systolic"]) if "systolic" in mat else None,
            arrays=int(mat.get("arrays", 1)), simd_bits=d.get("simd_bits"),
            fma_units=d.get("fma_units"), max_efficiency=float(mat.get("max_efficiency", 0.8)),
            whole_graph=bool(d.get("whole_graph", False)), arch=d.get("arch", ""),
            host_link=link.get("host", ""), host_link_gbs=float(link.get("host_gbs", 0)),
            peer_link=link.get("peer", ""), peer_link_gbs=float(link.get("peer_gbs", 0)),
            sources=dict(d.get("sources", {})), stack=dict(d.get("stack", {})))
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as e:
        raise ValueError(f"device file {path}: {type(e).__name__}: {e}") from None
    if device.kind not in KINDS:
        raise ValueError(f"device file {path}: kind {device.kind!r} is not one of {KINDS}")
    unknown = set(device.stack) - set(STACKS[device.kind])
    if unknown:
        raise ValueError(f"device file {path}: [stack] has unknown rules {sorted(unknown)} "
                         f"(stacks.toml: {', '.join(STACK_RULES)})")
    if not device.sources.get("peak"):
        raise ValueError(f"device file {path}: [sources] needs a `peak` source")
    return device
