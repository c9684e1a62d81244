"""The kernels a GPU compile produced, with what they cost the hardware:
one row per launch (grid, block), and per kernel its registers, spills and
shared memory as the vendor's assembler reports them (NVIDIA: `ptxas -v` on
the PTX; AMD: the HSACO code object's metadata), and the theoretical
occupancy those give on the target's architecture."""
from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass

from . import toolchain
from .occupancy import occupancy


@dataclass
class Kernel:
    name: str               # "<module>::<kernel>"
    grid: tuple             # workgroups (blocks)
    block: tuple            # threads per workgroup
    buffers: int            # memref arguments
    registers: int | None = None       # per thread (AMD: VGPRs)
    sgprs: int | None = None           # AMD scalar registers
    spill_bytes: int | None = None     # NVIDIA: spill stores + loads; AMD: spilled registers
    shared_bytes: int | None = None    # static shared memory (LDS)
    stack_bytes: int | None = None     # local memory (scratch) per thread
    occupancy: float | None = None     # theoretical, 0..1
    limited_by: str | None = None
    blocks_per_sm: int | None = None   # resident workgroups per SM (CU)
    flops: int | None = None           # the kernel's work, as the compiler counted it
    bytes: int | None = None           # bytes read and written, each once

    @property
    def threads(self) -> int:
        return self.block[0] * self.block[1] * self.block[2]


_PTXAS_FUNCTION = re.compile(r"Compiling entry function '(\w+)'")
_PTXAS_USED = re.compile(r"Used (\d+) registers")
_PTXAS_SPILL = re.compile(r"(\d+) bytes stack frame, (\d+) bytes spill stores, "
                          r"(\d+) bytes spill loads")
_PTXAS_SMEM = re.compile(r"(\d+) bytes smem")


def ptxas(ptx: str, chip: str, folder: str) -> tuple[bytes, dict, str]:
    """Assembles PTX for `chip` (e.g. "sm_90") with `ptxas -v -O3`: the
    cubin, each kernel's resources, and ptxas's report."""
    src = os.path.join(folder, "kernel.ptx")
    out = os.path.join(folder, "kernel.cubin")
    with open(src, "w") as f:
        f.write(ptx)
    report = toolchain.run("ptxas", f"-arch={chip}", "-O3", "-v", src, "-o", out)
    resources, current = {}, None
    for line in report.splitlines():
        if m := _PTXAS_FUNCTION.search(line):
            current = resources.setdefault(m.group(1), {})
        elif current is not None:
            if m := _PTXAS_SPILL.search(line):
                current["stack_bytes"] = int(m.group(1))
                current["spill_bytes"] = int(m.group(2)) + int(m.group(3))
            if m := _PTXAS_USED.search(line):
                current["registers"] = int(m.group(1))
                sm = _PTXAS_SMEM.search(line)
                current["shared_bytes"] = int(sm.group(1)) if sm else 0
    with open(out, "rb") as f:
        return f.read(), resources, report


_NOTE_FIELD = re.compile(r"^\s*(?:- )?\.(\w+):\s+(\S+)")


def hsaco_resources(hsaco: bytes) -> dict:
    """Each kernel's registers, spills, LDS and scratch from an AMD code
    object's metadata note (printed by llvm-readelf as YAML)."""
    with tempfile.NamedTemporaryFile(suffix=".hsaco") as f:
        f.write(hsaco)
        f.flush()
        notes = toolchain.run("llvm-readelf", "--notes", f.name)
    kernels, current = {}, {}
    for line in notes.splitlines():
        if m := _NOTE_FIELD.match(line):
            if line.lstrip().startswith("- "):  # a new item of a YAML list
                current = {}
            key, value = m.group(1), m.group(2).strip("'\"")
            current[key] = value
            if key == "name":
                kernels[value] = current
    resources = {}
    for name, fields in kernels.items():
        resources[name] = {
            # On gfx90a and later .vgpr_count is the unified total (AGPRs
            # included), which is what limits waves per SIMD.
            "registers": int(fields.get("vgpr_count", 0)),
            "sgprs": int(fields.get("sgpr_count", 0)),
            "spill_bytes": int(fields.get("vgpr_spill_count", 0)) +
                           int(fields.get("sgpr_spill_count", 0)),
            "shared_bytes": int(fields.get("group_segment_fixed_size", 0)),
            "stack_bytes": int(fields.get("private_segment_fixed_size", 0)),
        }
    return resources


def kernel_table(launches: list, resources: dict, device: str | None) -> list[Kernel]:
    """One Kernel per launch; `resources` maps (module, kernel) to the
    counts above; `device` (a simulator device name) gives occupancy."""
    rows = []
    for launch in launches:
        k = Kernel(f"{launch['module']}::{launch['kernel']}", tuple(launch["grid"]),
                   tuple(launch["block"]), launch["buffers"])
        if launch.get("flops", -1) >= 0:
            k.flops, k.bytes = launch["flops"], launch["bytes"]
        for key, value in resources.get((launch["module"], launch["kernel"]), {}).items():
            setattr(k, key, value)
        if device and k.registers is not None:
            occ = occupancy(device, k.threads, k.registers, k.shared_bytes or 0)
            k.occupancy, k.limited_by = occ.fraction, occ.limited_by
            k.blocks_per_sm = occ.blocks
        rows.append(k)
    return rows


def format_table(kernels: list[Kernel]) -> str:
    """The kernel table as aligned text (what `flashcompile compile` prints)."""
    head = ["kernel", "grid", "block", "regs", "spill B", "smem B", "occupancy"]
    rows = [[k.name, "x".join(map(str, k.grid)), "x".join(map(str, k.block)),
             "-" if k.registers is None else str(k.registers),
             "-" if k.spill_bytes is None else str(k.spill_bytes),
             "-" if k.shared_bytes is None else str(k.shared_bytes),
             "-" if k.occupancy is None else f"{k.occupancy:.0%} ({k.limited_by})"]
            for k in kernels]
    widths = [max(len(r[i]) for r in [head] + rows) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [head] + rows]
    return "\n".join(lines)
