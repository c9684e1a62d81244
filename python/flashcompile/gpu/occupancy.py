"""Theoretical occupancy of a kernel from its resource counts and the
architecture's limits in its simulator device file (`[occupancy]`): no tool
computes it offline (NVIDIA's is a spreadsheet and Nsight, which need the
GPU), so this follows the CUDA Occupancy Calculator's arithmetic and, for
AMD, the VGPR rule of the CDNA tuning guides."""
from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass

# Read as data, not through flashcompile.sim (a higher layer).
_DEVICES = os.path.join(os.path.dirname(os.path.dirname(__file__)), "sim", "devices")


@dataclass(frozen=True)
class Occupancy:
    fraction: float   # resident warps (waves) / the most the SM (CU) holds
    blocks: int       # resident blocks per SM (CU)
    limited_by: str   # "warps", "blocks", "registers", "shared memory"


def limits(device: str) -> dict:
    """The `[occupancy]` table of a device file."""
    path = os.path.join(_DEVICES, f"{device}.toml")
    with open(path, "rb") as f:
        table = tomllib.load(f).get("occupancy")
    if not table:
        raise ValueError(f"device file {path} has no [occupancy] table")
    return table


def _ceil_to(value: int, unit: int) -> int:
    return -(-value // unit) * unit


def occupancy(device: str, threads: int, registers: int, shared_bytes: int) -> Occupancy:
    """How full one SM (NVIDIA) or CU (AMD) is with blocks of `threads`
    threads using `registers` registers per thread (VGPRs on AMD) and
    `shared_bytes` of shared memory (LDS) per block."""
    lim = limits(device)
    warps = math.ceil(threads / lim["warp_size"])
    candidates = {}
    if "max_warps" in lim:  # NVIDIA
        total_warps = lim["max_warps"]
        candidates["warps"] = total_warps // warps
        candidates["blocks"] = lim["max_blocks"]
        if registers:
            per_warp = _ceil_to(registers * lim["warp_size"], lim["register_unit"])
            candidates["registers"] = (lim["registers"] // per_warp) // warps
        if shared_bytes:
            per_block = _ceil_to(shared_bytes + lim["shared_reserved_per_block"],
                                 lim["shared_unit"])
            candidates["shared memory"] = lim["shared_kb"] * 1024 // per_block
    else:  # AMD: waves are spread over the CU's SIMDs
        total_warps = lim["simds"] * lim["max_waves_per_simd"]
        per_simd = lim["max_waves_per_simd"]
        if registers:
            per_simd = min(per_simd, lim["vgprs"] // _ceil_to(registers, lim["vgpr_unit"]))
        candidates["warps"] = total_warps // warps
        candidates["registers"] = (per_simd * lim["simds"]) // warps
        if shared_bytes:
            candidates["shared memory"] = lim["shared_kb"] * 1024 // shared_bytes
    limited_by = min(candidates, key=lambda k: candidates[k])
    blocks = max(0, candidates[limited_by])
    return Occupancy(min(1.0, blocks * warps / total_warps), blocks, limited_by)
