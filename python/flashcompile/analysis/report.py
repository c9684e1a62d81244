"""fc.analyze: what the generated code of a compiled program looks like and
why it is as fast as it is.

It reads the real object code the JIT produced (LLVM's disassembler,
llvm-objdump, with relocations so calls are named), finds the loops
(backward branches) and their innermost bodies, counts the instruction mix
of each (scalar vs packed by vector width, FMAs, loads, stores, shuffles,
calls, stack traffic), asks llvm-mca for the throughput of the innermost
bodies on the host CPU, and puts every fused kernel of the program on the
host's roofline with the simulator's model (FLOPs, bytes, arithmetic
intensity, attainable vs predicted). Findings name the evidence that
triggered them.

The sgemm ukernel is precompiled C++ in the runtime, not JIT code: its
microkernel (of the register tile the program's matmuls use) is read from
the runtime archive and analyzed like the JIT's loops. LLVM's own remarks
from the compile (loop vectorizer decisions and reasons, register
allocator spills) are reported and used as evidence.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field

from .. import host as _host
from .. import sgemm as _sgemm
from ..sgemm import TILES as UKERNEL_TILES
from ..sim import cost_analysis, plot_roofline, simulate
from ..sim.calibrate import host_device
from ..sim.simulate import as_compiled

_SHUFFLES = ("vperm", "vshuf", "vunpck", "vbroadcast", "vinsert", "vextract", "vblend",
             "vpshuf", "vpunpck", "vmovsh", "vmovlh", "vmovhl", "vpbroadcast")


def _tool(name: str) -> str:
    return _host.llvm_tool(name, "fc.analyze")


def host_cpu() -> str:
    out = subprocess.run([_tool("llc"), "--version"], capture_output=True, text=True).stdout
    m = re.search(r"Host CPU:\s*(\S+)", out)
    return m.group(1) if m else "native"


@dataclass
class Instr:
    addr: int
    mnemonic: str
    operands: str
    relocs: list = field(default_factory=list)

    @property
    def text(self) -> str:
        return f"{self.mnemonic}\t{self.operands}".strip()


def disassemble(obj: bytes, demangle: bool = False) -> dict:
    """{function name: [Instr]} of an ELF object."""
    with tempfile.NamedTemporaryFile(suffix=".o") as f:
        f.write(obj)
        f.flush()
        args = [_tool("llvm-objdump"), "-dr", "--no-show-raw-insn"] + (["-C"] if demangle else [])
        out = subprocess.run(args + [f.name], capture_output=True, text=True, check=True).stdout
    funcs, current = {}, None
    for line in out.splitlines():
        m = re.match(r"^[0-9a-f]+ <(.+)>:$", line)
        if m:
            current = funcs.setdefault(m.group(1), [])
            continue
        if current is None:
            continue
        m = re.match(r"^\s*[0-9a-f]+:\s+R_X86_64_\w+\s+(\S+)", line)
        if m and current:
            current[-1].relocs.append(m.group(1).split("+")[0])
            continue
        m = re.match(r"^\s*([0-9a-f]+):\s+(\S+)\s*(.*)$", line)
        if m:
            current.append(Instr(int(m.group(1), 16), m.group(2), m.group(3).split("#")[0].strip()))
    return funcs


def _width(ins: Instr) -> int:
    if "%zmm" in ins.operands:
        return 512
    if "%ymm" in ins.operands:
        return 256
    if "%xmm" in ins.operands:
        return 128
    return 0


def classify(ins: Instr) -> set:
    m, ops = ins.mnemonic, ins.operands
    tags = set()
    fp = m.startswith("v") and re.search(r"(ps|pd|ss|sd)$", m)
    if fp:
        tags.add("packed" if m.endswith(("ps", "pd")) else "scalar_fp")
        if m.endswith(("ps", "pd")):
            tags.add(f"vector{_width(ins)}")
    if m.startswith(("vfmadd", "vfmsub", "vfnmadd", "vfnmsub")):
        tags.add("fma")
    if m.startswith(_SHUFFLES):
        tags.add("shuffle")
    if m.startswith("call"):
        tags.add("call")
    if "(" in ops:
        last = ops.split(",")[-1]
        tags.add("store" if "(" in last else "load")
        if "%rsp" in ops or "%rbp" in ops:
            tags.add("stack")
    return tags


def mix(instrs) -> dict:
    counts = {"instructions": len(instrs)}
    for ins in instrs:
        for tag in classify(ins):
            counts[tag] = counts.get(tag, 0) + 1
    return counts


def loops(instrs) -> list:
    """(start index, end index) of every loop: a branch back to an earlier
    address in the same function."""
    index = {ins.addr: i for i, ins in enumerate(instrs)}
    found = []
    for i, ins in enumerate(instrs):
        if ins.mnemonic.startswith("j"):
            m = re.match(r"0x([0-9a-f]+)", ins.operands)
            if m:
                target = int(m.group(1), 16)
                if target <= ins.addr and target in index:
                    found.append((index[target], i))
    return found


def innermost(found) -> list:
    return [l for l in found
            if not any(o != l and l[0] <= o[0] and o[1] <= l[1] for o in found)]


def mca(instrs, cpu: str) -> dict:
    """llvm-mca's estimate for one iteration of a loop body."""
    body = "\n".join(i.text for i in instrs if not i.mnemonic.startswith(("j", "call")))
    out = subprocess.run([_tool("llvm-mca"), f"-mcpu={cpu}", "-iterations=100"],
                         input=body, capture_output=True, text=True)
    if out.returncode != 0:
        return {"error": out.stderr.strip()[:200]}
    get = lambda key: re.search(rf"{key}:\s*([\d.]+)", out.stdout)  # noqa: E731
    return {"block_rthroughput_cycles": float(get("Block RThroughput").group(1)),
            "ipc": float(get("IPC").group(1)), "cpu": cpu}


def _option_tile(options: str) -> int:
    """The register tile of a pipeline-wide `sgemm=mc,kc,nc,threads,tile,...`
    option, else 0."""
    for item in options.split():
        name, _, value = item.partition("=")
        if name == "sgemm":
            parts = [int(v) for v in value.split(",") if v.strip()]
            return parts[4] if len(parts) > 4 else 0
    return 0


def ukernel_tiles(compiled) -> set:
    """The register tiles the program's matmul ukernel calls use (the
    register tiles of Ukernels.h sgemmTiles(); each runs the microkernel
    ukernel_<rows>x<cols> of Sgemm.cpp): each tunable op's flash.sgemm
    parameters as the native analysis reads them, else the sgemm option,
    else 0."""
    default = _option_tile(getattr(compiled, "options", "") or "")
    tiles = set()
    for op in compiled.tunable_ops():
        sgemm = op["sgemm"]
        tiles.add(sgemm[4] if sgemm is not None and len(sgemm) > 4 else default)
    return {t if 0 <= t < len(UKERNEL_TILES) else 0 for t in tiles}


def ukernel_functions(tiles) -> dict:
    """{label: [Instr]} of the microkernels of `tiles`, disassembled from
    the runtime archive the JIT's ukernel calls are linked from (the same
    objects as the Python module's, which is stripped)."""
    archive = os.path.join(_host.RUNTIME, "libflash_ukernels.a")
    if not os.path.exists(archive) or not tiles:
        return {}
    obj = subprocess.run(["ar", "p", archive, "Sgemm.cpp.o"], capture_output=True).stdout
    if not obj:
        return {}
    funcs = disassemble(obj, demangle=True)
    out = {}
    for t in sorted(tiles):
        mr, nr = UKERNEL_TILES[t]
        want = _sgemm.TILE_KERNELS[t]
        for name, instrs in funcs.items():
            if want in name:
                out[f"ukernel_{mr}x{nr}"] = instrs
    return out


@dataclass
class LoopReport:
    function: str
    start: int
    instructions: int
    mix: dict
    calls: list
    mca: dict


@dataclass
class AnalysisReport:
    program: str
    functions: dict               # name -> instruction mix
    loops: list                   # LoopReport of every innermost loop
    kernels: list                 # roofline rows from the host model
    findings: list                # (kind, message, evidence)
    host: dict
    remarks: list = field(default_factory=list)  # LLVM's, from compiling it

    def to_dict(self) -> dict:
        return {"program": self.program, "host": self.host, "functions": self.functions,
                "loops": [vars(l) for l in self.loops], "kernels": self.kernels,
                "findings": [dict(kind=k, message=m, evidence=e) for k, m, e in self.findings],
                "remarks": self.remarks}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)

    def __str__(self) -> str:
        rows = [f"analysis of {self.program} on {self.host['cpu']} "
                f"(peak {self.host['peak_gflops']:.0f} GFLOP/s, {self.host['bandwidth_gbs']:.0f} GB/s)",
                "", "kernels (host roofline):",
                f"  {'ops':<34}{'GFLOP':>9}{'MB':>8}{'FLOP/B':>8}{'attain GF/s':>12}"
                f"{'pred GF/s':>10}  bound"]
        for k in self.kernels:
            rows.append(f"  {k['ops'][:34]:<34}{k['flops'] / 1e9:>9.4f}{k['bytes'] / 1e6:>8.3f}"
                        f"{k['intensity']:>8.2f}{k['attainable_gflops']:>12.1f}"
                        f"{k['predicted_gflops']:>10.1f}  {k['bound']}")
        rows += ["", "innermost loops:"]
        for l in self.loops:
            m = l.mix
            rows.append(f"  {l.function}+{l.start:#x}: {l.instructions} instr, packed "
                        f"{m.get('packed', 0)} (ymm {m.get('vector256', 0)}, xmm {m.get('vector128', 0)}, "
                        f"zmm {m.get('vector512', 0)}), scalar fp {m.get('scalar_fp', 0)}, "
                        f"fma {m.get('fma', 0)}, loads {m.get('load', 0)}, stores {m.get('store', 0)}, "
                        f"shuffles {m.get('shuffle', 0)}, stack {m.get('stack', 0)}, calls "
                        f"{l.calls or 0}; llvm-mca {l.mca.get('block_rthroughput_cycles', '?')} "
                        f"cycles/iter")
        if self.remarks:
            rows += ["", "LLVM remarks (vectorizers, register allocation):"] + \
                [f"  {r}" for r in self.remarks if "instructions in function" not in r][:20]
        rows += ["", "findings:"] + [f"  [{k}] {m}  (evidence: {e})" for k, m, e in self.findings]
        return "\n".join(rows)


def analyze(compiled, roofline_png: str | None = None) -> AnalysisReport:
    """The backend analysis of a compiled program or an imported model (see
    the module doc)."""
    compiled = as_compiled(compiled, "analyze")
    obj = compiled._exe.object_code()
    if not obj:
        raise RuntimeError(f"analyze: no object code for {compiled.entry}")
    funcs = disassemble(obj)
    cpu = host_cpu()
    host = host_device()
    sim = simulate(compiled, host)
    peak = host.peak("fp32") / 1e9
    bw = host.memory_gbs
    kernels = []
    for k in sim.kernels:
        ai = k.flops / k.bytes if k.bytes else float("inf")
        kernels.append({"ops": "+".join(o.replace("flash.", "") for o in k.ops), "flops": k.flops,
                        "bytes": k.bytes, "intensity": ai if ai != float("inf") else 0.0,
                        "attainable_gflops": min(peak, bw * ai) if k.bytes else peak,
                        "predicted_gflops": k.flops / k.time_s / 1e9 if k.time_s else 0.0,
                        "bound": k.bound})
    loop_reports, findings = [], []
    host_width = _host.vector_bits()
    remarks = list(compiled._exe.remarks())
    options = getattr(compiled, "options", "") or ""

    def why_scalar(function: str) -> str:
        """The vectorizer's own reason, from LLVM's remarks."""
        if "vectorize=false" in options.replace(" ", ""):
            return "LLVM's loop and SLP vectorizers are off (pipeline option vectorize=false)"
        said = [r.split(": ", 2)[-1] for r in remarks
                if r.startswith("loop-vectorize") and f": {function}:" in r and "not vectorized" in r]
        return "; ".join(dict.fromkeys(said)) if said else ""

    spill_remarks = [r for r in remarks if r.startswith("regalloc") and "spill" in r]
    kernels_of_ukernel = ukernel_functions(ukernel_tiles(compiled))
    every = dict(funcs) | kernels_of_ukernel

    def hot_loops(name, instrs):
        """The JIT's innermost loops; for a microkernel its FMA loop (the
        k loop, which holds a small copy loop of its own)."""
        found = loops(instrs)
        if name not in kernels_of_ukernel:
            return innermost(found)
        fmas = [(sum(classify(i) >= {"fma"} for i in instrs[a:b + 1]), (a, b)) for a, b in found]
        best = max(fmas, default=(0, None))
        return [best[1]] if best[0] else []

    for name, instrs in every.items():
        for start, end in hot_loops(name, instrs):
            body = instrs[start:end + 1]
            m = mix(body)
            calls = sorted({r for i in body for r in i.relocs if not r.startswith(".")})
            if m.get("call") and not calls:
                calls = [f"{m['call']} indirect call(s)"]
            report = LoopReport(name, body[0].addr, len(body), m, calls, mca(body, cpu))
            loop_reports.append(report)
            where = f"{name}+{body[0].addr:#x}"
            # Mostly scalar FP: not vectorized, even with a few packed ops
            # (scalar code does fabs and copysign with xmm bit operations).
            if m.get("scalar_fp", 0) > m.get("packed", 0):
                reason = why_scalar(name) or (f"calls {', '.join(calls)} per element" if calls
                                              else "scalar FP only")
                findings.append(("not-vectorized", f"loop {where} is not vectorized: {reason}",
                                 f"{m['scalar_fp']} scalar FP, {m.get('packed', 0)} packed instructions"))
            elif m.get("packed", 0) and not m.get("vector256", 0) and not m.get("vector512", 0) \
                    and host_width >= 256:
                findings.append(("narrow-vectors", f"loop {where} uses 128-bit vectors on a "
                                 f"{host_width}-bit machine", f"{m.get('vector128', 0)} xmm ops"))
            said = [r for r in spill_remarks if f": {name}:" in r]
            # A loop that calls out (the sgemm ukernel, a libm function)
            # builds the call's arguments on the stack (memref descriptors
            # are passed by pointer): that is not a spill unless LLVM's own
            # remarks say the function spills.
            if m.get("stack", 0) >= 2 and m.get("packed", 0) and (said or not calls):
                findings.append(("spills", f"loop {where} moves data to and from the stack "
                                 f"({m['stack']} stack accesses): register spills",
                                 f"{m['stack']} (%rsp)/(%rbp) operands in the loop body"
                                 + (f"; LLVM: {said[0]}" if said else "")))
    for k in kernels:
        if k["bound"] == "memory" and k["flops"]:
            findings.append(("memory-bound", f"kernel {k['ops']} is memory-bound: "
                             f"{k['intensity']:.2f} FLOP/B is below the ridge "
                             f"{peak / bw:.1f} FLOP/B; fusing it with its neighbours saves traffic",
                             f"{k['bytes'] / 1e6:.2f} MB for {k['flops'] / 1e6:.2f} MFLOP"))
    # Partial register tiles: the microkernel computes whole tiles, so the
    # part of a tile outside the result is work on padding.
    cost = cost_analysis(compiled)

    def grouped(op) -> bool:  # a grouped conv runs as loops, not the ukernel
        shapes = op["operand_shapes"]  # input NCHW, weight O x C/groups x KH x KW
        return op["op"] == "flash.conv2d" and shapes[0][1] != shapes[1][1]
    for kern in cost["kernels"]:
        if kern["kind"] != "contraction" or kern["m"] < 6 or \
                any(grouped(cost["ops"][i]) for i in kern["ops"]):  # few rows: no tiles
            continue
        m, n = kern["m"], kern["n"]
        for t in sorted(ukernel_tiles(compiled) or {0}):
            mr, nr = UKERNEL_TILES[t]
            tiles_m, tiles_n = -(-m // mr), -(-n // nr)
            waste = 1 - m * n / (tiles_m * mr * tiles_n * nr)
            if waste >= 0.10:
                findings.append(("tile-remainder", f"the {mr}x{nr} register tile does not divide "
                                 f"the {m}x{n} result: {waste:.0%} of the microkernel's work is "
                                 f"padding", f"{tiles_m}x{tiles_n} tiles of {mr}x{nr}; remainder "
                                 f"{m % mr} rows, {n % nr} columns"))
    if not any("omp" in f for f in funcs) and sim.time_s > 1e-4 and host.compute_units > 1 and \
            not any("flash_matmul" in r for i in sum(funcs.values(), []) for r in i.relocs):
        findings.append(("threads-unused", "no parallel loop in a program of "
                         f"{sim.time_s * 1e6:.0f} us: one core of {host.compute_units} works",
                         "no OpenMP outlined function and no ukernel call"))
    report = AnalysisReport(compiled.entry, {n: mix(i) for n, i in every.items()}, loop_reports,
                            kernels, findings,
                            {"cpu": cpu, "peak_gflops": peak, "bandwidth_gbs": bw}, remarks)
    if roofline_png:
        plot_roofline(sim, roofline_png)
    return report
